//! Memory of this process: resident size from `/proc/self/status` (Linux), and the bytes the
//! allocator has handed out and not had back (glibc's `mallinfo2`), which tells a leak (both
//! grow) from a heap that only keeps the high-water mark of its arenas (resident grows alone).

/// `VmRSS` in bytes.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// Bytes allocated and not freed (glibc: `uordblks + hblkhd` over every arena); `None` with
/// other C libraries.
pub fn heap_in_use() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's statistics and returns them by value.
        let info = unsafe { libc::mallinfo2() };
        Some((info.uordblks + info.hblkhd) as u64)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// Median of the samples (the lower one of an even count); `None` when empty.
pub fn median(samples: &[u64]) -> Option<u64> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_reads_a_resident_size_and_takes_medians() {
        if cfg!(target_os = "linux") {
            assert!(resident_bytes().is_some_and(|b| b > 1 << 20));
            let before = heap_in_use().unwrap_or(0);
            let block = vec![1u8; 64 << 20];
            let during = heap_in_use().unwrap_or(0);
            std::hint::black_box(&block);
            // The heap is the process's: tests on other threads free a little meanwhile.
            let slack = 4 << 20;
            assert!(during + slack >= before + (64 << 20) || cfg!(not(target_env = "gnu")), "{before} -> {during}");
            drop(block);
        }
        assert_eq!(median(&[5, 1, 3]), Some(3));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2));
        assert_eq!(median(&[]), None);
    }
}
