//! Port ranges: what an agent offers and what a task is given.

use std::fmt;

use smallvec::SmallVec;

/// An inclusive range of port numbers, `begin..=end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    /// First port in the range.
    pub begin: u16,
    /// Last port in the range (inclusive).
    pub end: u16,
}

impl PortRange {
    /// A range `begin..=end`; `None` when `begin > end`.
    pub fn new(begin: u16, end: u16) -> Option<PortRange> {
        (begin <= end).then_some(PortRange { begin, end })
    }

    /// Number of ports in the range (at least one).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(self) -> u32 {
        u32::from(self.end) - u32::from(self.begin) + 1
    }
}

/// A set of ports kept as sorted, disjoint, non-adjacent ranges.
///
/// ```
/// use offerpack::{PortRange, PortSet};
/// let mut free = PortSet::from_ranges([PortRange::new(31000, 31002).unwrap()]);
/// let given = free.take_lowest(2).unwrap();
/// assert_eq!(given, vec![31000, 31001]);
/// assert_eq!(free.count(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortSet {
    /// Sorted, disjoint; agents offer one or two ranges, kept inline.
    ranges: SmallVec<[PortRange; 2]>,
}

impl PortSet {
    /// The empty set.
    pub const fn new() -> PortSet {
        PortSet { ranges: SmallVec::new_const() }
    }

    /// A set from ranges in any order, merging overlaps.
    pub fn from_ranges(ranges: impl IntoIterator<Item = PortRange>) -> PortSet {
        let mut set = PortSet::new();
        for range in ranges {
            set.insert(range);
        }
        set
    }

    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[PortRange] {
        &self.ranges
    }

    /// Number of ports in the set.
    pub fn count(&self) -> u32 {
        self.ranges.iter().map(|r| r.len()).sum()
    }

    /// Whether the set has no ports.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        let idx = self.ranges.partition_point(|r| r.end < port);
        self.ranges.get(idx).is_some_and(|r| r.begin <= port)
    }

    /// Adds a range, merging it with overlapping or adjacent ones.
    pub fn insert(&mut self, range: PortRange) {
        let mut merged = range;
        // First range that could touch `range` (ends at or after begin - 1).
        let start = self.ranges.partition_point(|r| u32::from(r.end) + 1 < u32::from(range.begin));
        let mut stop = start;
        while let Some(r) = self.ranges.get(stop) {
            if u32::from(r.begin) > u32::from(merged.end) + 1 {
                break;
            }
            merged.begin = merged.begin.min(r.begin);
            merged.end = merged.end.max(r.end);
            stop += 1;
        }
        self.ranges.drain(start..stop);
        self.ranges.insert(start, merged);
    }

    /// Removes one port; returns whether it was present.
    pub fn remove(&mut self, port: u16) -> bool {
        let idx = self.ranges.partition_point(|r| r.end < port);
        let Some(range) = self.ranges.get(idx).copied() else {
            return false;
        };
        if range.begin > port {
            return false;
        }
        match (range.begin == port, range.end == port) {
            (true, true) => {
                self.ranges.remove(idx);
            }
            (true, false) => self.ranges[idx].begin = port + 1,
            (false, true) => self.ranges[idx].end = port - 1,
            (false, false) => {
                self.ranges[idx].end = port - 1;
                self.ranges.insert(idx + 1, PortRange { begin: port + 1, end: range.end });
            }
        }
        true
    }

    /// Takes the `n` lowest ports out of the set; `None` (and no change) when fewer are free.
    pub fn take_lowest(&mut self, n: u32) -> Option<Vec<u16>> {
        let mut taken = Vec::with_capacity(n.min(self.count()) as usize);
        self.take_lowest_with(n, |port| taken.push(port)).then_some(taken)
    }

    /// Takes the `n` lowest ports out of the set, handing each to `take` in ascending order;
    /// returns `false` (and changes nothing) when fewer than `n` are free.
    pub fn take_lowest_with(&mut self, n: u32, mut take: impl FnMut(u16)) -> bool {
        if self.count() < n {
            return false;
        }
        let mut left = n;
        while left > 0 {
            let first = self.ranges[0];
            if first.len() <= left {
                (first.begin..=first.end).for_each(&mut take);
                left -= first.len();
                self.ranges.remove(0);
            } else {
                let last = first.begin + (left - 1) as u16;
                (first.begin..=last).for_each(&mut take);
                self.ranges[0].begin = last + 1;
                left = 0;
            }
        }
        true
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "[{}-{}]", r.begin, r.end)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ranges: &[(u16, u16)]) -> PortSet {
        PortSet::from_ranges(ranges.iter().map(|&(b, e)| PortRange::new(b, e).unwrap()))
    }

    #[test]
    fn port_set_merges_overlapping_and_adjacent() {
        let s = set(&[(10, 20), (21, 25), (5, 12), (40, 41)]);
        assert_eq!(s.ranges(), set(&[(5, 25), (40, 41)]).ranges());
        assert_eq!(s.count(), 23);
    }

    #[test]
    fn port_set_remove_splits_ranges() {
        let mut s = set(&[(10, 14)]);
        assert!(s.remove(12));
        assert!(!s.remove(12));
        assert_eq!(s.ranges(), set(&[(10, 11), (13, 14)]).ranges());
        assert!(s.remove(10) && s.remove(14));
        assert_eq!(s.count(), 2);
        assert!(!s.contains(10) && s.contains(11));
    }

    #[test]
    fn port_set_take_lowest_spans_ranges() {
        let mut s = set(&[(1, 2), (5, 6)]);
        assert_eq!(s.take_lowest(3).unwrap(), vec![1, 2, 5]);
        assert_eq!(s.take_lowest(2), None);
        assert_eq!(s.count(), 1);
    }

    #[test]
    fn port_set_handles_edges_of_u16() {
        let mut s = set(&[(0, 0), (65535, 65535)]);
        assert!(s.remove(0) && s.remove(65535));
        assert!(s.is_empty());
    }
}
