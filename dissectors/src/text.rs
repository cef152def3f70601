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

/// `00` to `99`, for writing two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
      0001020304050607080910111213141516171819\
      2021222324252627282930313233343536373839\
      4041424344454647484950515253545556575859\
      6061626364656667686970717273747576777879\
      8081828384858687888990919293949596979899";

/// Bytes a [`Pieces`] line holds before it hands them on.
const PIECES_LEN: usize = 192;

/// Builds text from many short pieces on the stack and appends it to a `String` in one copy.
/// Each `String::push_str` of a few bytes is a call into libc's `memmove`; the TCP Info text
/// has about fifteen pieces per frame, which made those calls the largest cost of `-P`. Here a
/// literal piece is copied with inline moves and an integer's digits are written in place.
/// Text that does not fit is handed on early, so nothing is ever cut. The text is appended
/// when the value is dropped.
pub struct Pieces<'a> {
    out: &'a mut String,
    buf: [u8; PIECES_LEN],
    len: usize,
}

impl<'a> Pieces<'a> {
    #[inline]
    pub fn new(out: &'a mut String) -> Self {
        Pieces {
            out,
            buf: [0; PIECES_LEN],
            len: 0,
        }
    }

    /// Appends `s`.
    #[inline]
    pub fn push(&mut self, s: &str) {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(d) => {
                d.copy_from_slice(s.as_bytes());
                self.len = end;
            }
            None => {
                self.hand_on();
                self.out.push_str(s);
            }
        }
    }

    /// Appends the decimal text of `v`: its digits are written in place, two at a time.
    #[inline]
    pub fn int(&mut self, v: impl Into<u64>) {
        let mut v: u64 = v.into();
        let digits = v.checked_ilog10().unwrap_or(0) as usize + 1;
        let end = self.len + digits;
        match self.buf.get_mut(self.len..end) {
            Some(d) => {
                let mut at = d.len();
                while at >= 2 {
                    let i = (v % 100) as usize * 2;
                    if let (Some(pair), Some(two)) =
                        (d.get_mut(at - 2..at), DIGIT_PAIRS.get(i..i + 2))
                    {
                        pair.copy_from_slice(two);
                    }
                    v /= 100;
                    at -= 2;
                }
                if at == 1 {
                    if let Some(first) = d.first_mut() {
                        *first = b'0' + (v % 10) as u8;
                    }
                }
                self.len = end;
            }
            None => {
                self.hand_on();
                push_int(self.out, v);
            }
        }
    }

    /// Appends what is held to the `String`.
    fn hand_on(&mut self) {
        // Only whole `&str`s and ASCII digits were written: always valid UTF-8.
        if let Some(Ok(s)) = self.buf.get(..self.len).map(std::str::from_utf8) {
            self.out.push_str(s);
        }
        self.len = 0;
    }
}

impl Drop for Pieces<'_> {
    fn drop(&mut self) {
        self.hand_on();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_same_text_as_push_str() {
        let mut want = String::from("x");
        let mut got = String::from("x");
        {
            let mut p = Pieces::new(&mut got);
            for i in 0..200u64 {
                let v = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (i % 64);
                p.push(" → ");
                p.int(v);
                want.push_str(" → ");
                push_int(&mut want, v);
            }
            p.int(0u8);
            p.int(u64::MAX);
            push_int(&mut want, 0u8);
            push_int(&mut want, u64::MAX);
        }
        assert_eq!(got, want);
    }

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
