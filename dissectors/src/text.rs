//! Allocation-free writers for the numbers and addresses of Info columns and summary lines.
//!
//! `write!` goes through `core::fmt`'s dynamic machinery (a `Formatter`, padding logic, one
//! virtual call per piece): for the few integers and addresses of every frame's Info text that
//! costs more than parsing the headers did. These append the same text directly.

/// Appends the decimal text of `v` (any primitive integer).
#[inline]
pub fn push_int<I: itoa::Integer>(out: &mut String, v: I) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends `a` as a dotted quad.
#[inline]
pub fn push_ipv4(out: &mut String, a: [u8; 4]) {
    let mut buf = [0u8; 15];
    let n = ipv4_bytes(a, &mut buf);
    out.push_str(std::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or(""));
}

/// Writes `a` as a dotted quad into `buf`; returns the length (at most 15).
#[inline]
pub fn ipv4_bytes(a: [u8; 4], buf: &mut [u8; 15]) -> usize {
    let mut n = 0;
    for (i, octet) in a.into_iter().enumerate() {
        if i > 0 {
            if let Some(b) = buf.get_mut(n) {
                *b = b'.';
            }
            n += 1;
        }
        // Up to three digits, without leading zeros.
        let digits: [u8; 3] = [
            b'0' + octet / 100,
            b'0' + octet / 10 % 10,
            b'0' + octet % 10,
        ];
        let skip = if octet >= 100 {
            0
        } else if octet >= 10 {
            1
        } else {
            2
        };
        for d in digits.iter().skip(skip) {
            if let Some(b) = buf.get_mut(n) {
                *b = *d;
            }
            n += 1;
        }
    }
    n
}

/// Appends `a` as RFC 5952 text.
pub fn push_ipv6(out: &mut String, a: [u8; 16]) {
    use std::fmt::Write as _;
    let _ = write!(out, "{}", std::net::Ipv6Addr::from(a));
}

/// Appends `m` as `aa:bb:cc:dd:ee:ff`.
pub fn push_ether(out: &mut String, m: [u8; 6]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in m.into_iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from(
            DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
        ));
        out.push(char::from(
            DIGITS.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_as_display() {
        let mut s = String::new();
        for a in [
            [0, 0, 0, 0],
            [10, 0, 0, 1],
            [255, 255, 255, 255],
            [1, 22, 100, 9],
        ] {
            s.clear();
            push_ipv4(&mut s, a);
            assert_eq!(s, std::net::Ipv4Addr::from(a).to_string());
        }
        s.clear();
        push_int(&mut s, u64::MAX);
        push_int(&mut s, -5i32);
        push_int(&mut s, 0u8);
        assert_eq!(s, "18446744073709551615-50");
        s.clear();
        push_ether(&mut s, [2, 0x10, 0, 0, 0, 0xff]);
        assert_eq!(s, "02:10:00:00:00:ff");
        s.clear();
        push_ipv6(
            &mut s,
            [0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        );
        assert_eq!(s, "fd00:10::1");
    }
}
