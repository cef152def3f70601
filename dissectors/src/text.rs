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

/// The number of decimal digits of `v` (1 for 0).
#[inline]
pub fn decimal_len(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// `00` to `99`, two bytes each: the digit pairs [`write_decimal`] copies.
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated when compiling: an index out of range fails the build, not a run"
)]
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        // `as u8`: each digit is below 10.
        pairs[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    pairs
};

/// Fills `slots` with the last `slots.len()` decimal digits of `v`, zero-padded (sized by
/// [`decimal_len`], that is `v`'s decimal text). Two digits per division, as `itoa` does, but
/// in place: no buffer to copy out of with a `memcpy` call of a length known only when run.
#[inline]
pub fn write_decimal(slots: &mut [u8], mut v: u64) {
    let mut rest = slots;
    while let [head @ .., a, b] = rest {
        let [hi, lo] = DIGIT_PAIRS
            .get((v % 100) as usize)
            .copied()
            .unwrap_or_default();
        (*a, *b) = (hi, lo);
        v /= 100;
        rest = head;
    }
    if let [digit] = rest {
        *digit = b'0' + (v % 10) as u8;
    }
}

/// Appends `a` as a dotted quad.
#[inline]
pub fn push_ipv4(out: &mut String, a: [u8; 4]) {
    // Digit by digit: cheaper than formatting into a buffer and validating it as UTF-8.
    for (i, octet) in a.into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
}

/// Each octet's decimal text, left-aligned in three bytes, and its length.
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated when compiling: an index out of range fails the build, not a run"
)]
const OCTET_TEXT: [([u8; 3], u8); 256] = {
    let mut table = [([0u8; 3], 0u8); 256];
    let mut octet = 0;
    while octet < 256 {
        let (hundreds, tens, ones) = (octet / 100, octet / 10 % 10, octet % 10);
        // `as u8`: each is below 10.
        table[octet] = if octet >= 100 {
            (
                [b'0' + hundreds as u8, b'0' + tens as u8, b'0' + ones as u8],
                3,
            )
        } else if octet >= 10 {
            ([b'0' + tens as u8, b'0' + ones as u8, 0], 2)
        } else {
            ([b'0' + ones as u8, 0, 0], 1)
        };
        octet += 1;
    }
    table
};

/// Writes `a` as a dotted quad into `buf`; returns the length (at most 15). The bytes of
/// `buf` past it are scratch.
#[inline]
pub fn ipv4_bytes(a: [u8; 4], buf: &mut [u8; 16]) -> usize {
    // Each octet's three table bytes are copied whole (a fixed-size move) and the position
    // advances by its length; the dot or the next octet overwrites what is left over. With
    // at most 12 bytes before the last octet, its three bytes always fit.
    let mut n = 0;
    for octet in a {
        let (digits, len) = OCTET_TEXT
            .get(usize::from(octet))
            .copied()
            .unwrap_or_default();
        if let Some(dst) = buf.get_mut(n..n + 3) {
            dst.copy_from_slice(&digits);
        }
        n += usize::from(len);
        if let Some(dot) = buf.get_mut(n) {
            *dot = b'.';
        }
        n += 1;
    }
    // No dot after the last octet.
    n - 1
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

/// The list of a reassembly item's title: `#3(1480), #4(1480), #5(1048)` for (frame, bytes)
/// pieces, stopping once `out` is longer than `limit` bytes (the caller cuts the label there).
pub fn push_frame_list(out: &mut String, pieces: impl Iterator<Item = (u64, u64)>, limit: usize) {
    for (i, (frame, n)) in pieces.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('#');
        push_int(out, frame);
        out.push('(');
        push_int(out, n);
        out.push(')');
        if out.len() > limit {
            break;
        }
    }
}

/// Cuts `label` to at most `max` bytes at a character boundary, unmarked (how Wireshark cuts
/// a reassembly item's list of frames at its longest label).
pub fn cut_label(label: &mut String, max: usize) {
    if label.len() > max {
        let mut cut = max;
        while !label.is_char_boundary(cut) {
            cut -= 1;
        }
        label.truncate(cut);
    }
}

/// One piece of a reassembly item: `Frame: 3, payload: 0-1479 (1480 bytes)`.
pub fn push_frame_piece(out: &mut String, frame: u64, from: u64, n: u64) {
    out.push_str("Frame: ");
    push_int(out, frame);
    out.push_str(", payload: ");
    push_int(out, from);
    out.push('-');
    push_int(out, (from + n).saturating_sub(1));
    out.push_str(" (");
    push_int(out, n);
    out.push_str(if n == 1 { " byte)" } else { " bytes)" });
}

/// GLib's `g_unichar_isprint` (what Wireshark shows as it is), but for code points Unicode has
/// not assigned (GLib knows them from its tables; netsniff has none): not a control character, not a
/// format character (Unicode 15.0's Cf), not a noncharacter.
pub fn printable(c: char) -> bool {
    const FORMAT: &[(u32, u32)] = &[
        (0x00ad, 0x00ad),
        (0x0600, 0x0605),
        (0x061c, 0x061c),
        (0x06dd, 0x06dd),
        (0x070f, 0x070f),
        (0x0890, 0x0891),
        (0x08e2, 0x08e2),
        (0x180e, 0x180e),
        (0x200b, 0x200f),
        (0x202a, 0x202e),
        (0x2060, 0x2064),
        (0x2066, 0x206f),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
    ];
    let u = u32::from(c);
    let noncharacter = (0xfdd0..=0xfdef).contains(&u) || u & 0xfffe == 0xfffe;
    !c.is_control() && !noncharacter && !FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembly_texts() {
        let mut t = String::new();
        push_frame_list(
            &mut t,
            [(3, 1480), (4, 1480), (5, 1048)].into_iter(),
            usize::MAX,
        );
        assert_eq!(t, "#3(1480), #4(1480), #5(1048)");
        t.clear();
        push_frame_list(&mut t, [(3, 1480), (4, 1480)].into_iter(), 3);
        assert_eq!(t, "#3(1480)");
        t.clear();
        push_frame_piece(&mut t, 4, 1480, 1480);
        assert_eq!(t, "Frame: 4, payload: 1480-2959 (1480 bytes)");
        t.clear();
        push_frame_piece(&mut t, 9, 0, 1);
        assert_eq!(t, "Frame: 9, payload: 0-0 (1 byte)");
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
            let mut buf = [0; 16];
            let n = ipv4_bytes(a, &mut buf);
            assert_eq!(buf.get(..n), Some(s.as_bytes()));
        }
        for octet in 0..=255 {
            let a = [octet, 0, 255 - octet, 7];
            let mut buf = [0; 16];
            let n = ipv4_bytes(a, &mut buf);
            let text = std::net::Ipv4Addr::from(a).to_string();
            assert_eq!(buf.get(..n), Some(text.as_bytes()));
        }
        s.clear();
        for v in [0, 7, 10, 99, 100, 12345, 1 << 32, u64::MAX] {
            let mut buf = [0; 20];
            let n = decimal_len(v);
            write_decimal(&mut buf[..n], v);
            assert_eq!(&buf[..n], v.to_string().as_bytes());
        }
        let mut buf = *b"xxxxxx";
        write_decimal(&mut buf[1..5], 42);
        assert_eq!(&buf, b"x0042x");
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
