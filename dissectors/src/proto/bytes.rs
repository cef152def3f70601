//! Big-endian readers that cannot panic: after a layer's `check_len`, they always find their
//! bytes; before it, a short buffer reads as zero instead of panicking.

/// The byte at `at`, or 0.
#[inline]
pub fn u8_at(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

/// The big-endian u16 at `at`, or 0.
#[inline]
pub fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at.wrapping_add(2)) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

/// The big-endian u32 at `at`, or 0.
#[inline]
pub fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.wrapping_add(4)) {
        Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
        _ => 0,
    }
}

/// The `N` bytes at `at`, or zeros.
#[inline]
pub fn array<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    b.get(at..at.wrapping_add(N))
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .unwrap_or([0; N])
}

/// `b[from..]`, or empty.
#[inline]
pub fn tail(b: &[u8], from: usize) -> &[u8] {
    b.get(from..).unwrap_or(&[])
}

/// `b[from..to]` clamped to the buffer.
#[inline]
pub fn slice(b: &[u8], from: usize, to: usize) -> &[u8] {
    let to = to.min(b.len());
    b.get(from.min(to)..to).unwrap_or(&[])
}
