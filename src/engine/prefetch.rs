//! A hint to start loading memory that is needed soon.

/// Asks the processor to start loading the cache line at `p` without waiting for it.
///
/// Launches bump the reference counts of task ids and groups that a large pass last touched long
/// ago. A plain read of them stalls the pass for the whole miss; a prefetch lets the misses of
/// tasks coming next overlap with the work on this one. Elsewhere than x86-64 this does nothing.
#[inline(always)]
pub(crate) fn prefetch<T: ?Sized>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults and changes no memory, whatever the
    // address; SSE, which it needs, is part of every x86-64 processor.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
