//! Equality of short texts without a library call.

/// Whether `a` and `b` hold the same bytes. Identifiers and resource names are mostly 4 to 16
/// bytes: those are compared with two overlapping word loads each, inline, where `==` on `str`
/// calls the C library's `memcmp` (measurable when a pass compares tens of thousands of ids);
/// longer texts are left to it.
///
/// ```
/// use offerpack::util::same_text;
/// assert!(same_text("agent-00042", "agent-00042"));
/// assert!(!same_text("agent-00042", "agent-00043"));
/// assert!(!same_text("cpus", "cpu"));
/// ```
#[inline]
pub fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => a == b,
    }
}

/// The four bytes of `s` from `at` (within bounds by the caller's match).
#[inline]
fn word4(s: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&s[at..at + 4]);
    u32::from_ne_bytes(word)
}

/// The eight bytes of `s` from `at` (within bounds by the caller's match).
#[inline]
fn word8(s: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&s[at..at + 8]);
    u64::from_ne_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::same_text;

    /// Every pair of texts up to 20 bytes that differ in one byte, or in length, or not at all.
    #[test]
    fn same_text_agrees_with_str_equality() {
        for n in 0..=20usize {
            let base: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            assert!(same_text(&base, &base.clone()));
            for at in 0..n {
                let mut other = base.clone().into_bytes();
                other[at] = b'Z';
                let other = String::from_utf8(other).unwrap();
                assert!(!same_text(&base, &other), "{base} {other}");
            }
            let longer = format!("{base}x");
            assert!(!same_text(&base, &longer));
        }
    }
}
