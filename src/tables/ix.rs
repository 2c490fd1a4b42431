//! Typed dense indices: an agent, a group, an attribute key or value, a resource dimension or a
//! role of the tables, so that one cannot be taken for another.
//!
//! The indices that can be absent from a table ([`AgentIx`], [`GroupIx`], [`KeyIx`],
//! [`ValueIx`]) hold the bitwise NOT of the index in a [`NonZeroU32`](std::num::NonZeroU32): `Option` of one is four
//! bytes, as a bare `u32` with a sentinel was, and `None` is all zero bits, so a table of them
//! starts as zeroed memory (`vec![None; n]`). Indices go up to `u32::MAX - 1`. They order by
//! index. Dimensions and roles are never absent and stay `u16`.

/// A dense index type: made from and read as a `usize`.
pub(crate) trait Ix: Copy + Eq {
    /// The index `i`.
    fn new(i: usize) -> Self;
    /// The index as a `usize`.
    fn get(self) -> usize;
}

/// Defines an index type stored as the bitwise NOT of the index in a `NonZeroU32`.
macro_rules! nonzero_index {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(transparent)]
        pub(crate) struct $name(::std::num::NonZeroU32);

        impl $name {
            /// The index `i` (below `u32::MAX`).
            #[inline]
            pub(crate) const fn new(i: usize) -> $name {
                assert!(i < u32::MAX as usize, "index out of range");
                match ::std::num::NonZeroU32::new(!(i as u32)) {
                    Some(n) => $name(n),
                    None => unreachable!(),
                }
            }

            /// The index as a `usize`.
            #[inline]
            pub(crate) const fn get(self) -> usize {
                !self.0.get() as usize
            }
        }

        impl $crate::tables::Ix for $name {
            #[inline]
            fn new(i: usize) -> $name {
                $name::new(i)
            }

            #[inline]
            fn get(self) -> usize {
                $name::get(self)
            }
        }

        impl Ord for $name {
            #[inline]
            fn cmp(&self, other: &$name) -> std::cmp::Ordering {
                // NOT reverses the order of the stored bits.
                other.0.cmp(&self.0)
            }
        }

        impl PartialOrd for $name {
            #[inline]
            fn partial_cmp(&self, other: &$name) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.get())
            }
        }
    };
}

pub(crate) use nonzero_index;

nonzero_index! {
    /// An agent of the tables.
    AgentIx
}

nonzero_index! {
    /// A group of tasks, as the tables number it.
    GroupIx
}

nonzero_index! {
    /// An attribute key (`hostname` is key 0).
    KeyIx
}

nonzero_index! {
    /// An interned attribute value (of one key).
    ValueIx
}

impl AgentIx {
    /// The agents `0..n`.
    #[inline]
    pub(crate) fn all(n: usize) -> impl DoubleEndedIterator<Item = AgentIx> + ExactSizeIterator + Clone {
        (0..n).map(AgentIx::new)
    }
}

impl ValueIx {
    /// The bits of an optional value (zero for `None`), to hash many at once as plain
    /// numbers: equal bits, equal values.
    #[inline]
    pub(crate) fn bits(value: Option<ValueIx>) -> u32 {
        value.map_or(0, |v| v.0.get())
    }
}

impl KeyIx {
    /// The `hostname` pseudo-attribute.
    pub(crate) const HOSTNAME: KeyIx = KeyIx::new(0);
}

/// A resource dimension of the pass (cpus, mem, ... or a named scalar).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dim(pub(crate) u16);

impl Dim {
    /// `cpus`.
    pub const CPUS: Dim = Dim(0);
    /// `mem`.
    pub const MEM: Dim = Dim(1);
    /// `disk`.
    pub const DISK: Dim = Dim(2);
    /// `network`.
    pub const NETWORK: Dim = Dim(3);
    /// `gpus`.
    pub const GPUS: Dim = Dim(4);

    /// The dimension as a `usize`.
    #[inline]
    pub(crate) const fn get(self) -> usize {
        self.0 as usize
    }

    /// The dimensions `0..n`.
    #[inline]
    pub(crate) fn all(n: usize) -> impl Iterator<Item = Dim> + Clone {
        (0..n).map(<Dim as Ix>::new)
    }
}

impl Ix for Dim {
    #[inline]
    fn new(i: usize) -> Dim {
        debug_assert!(i <= usize::from(u16::MAX));
        Dim(i as u16)
    }

    #[inline]
    fn get(self) -> usize {
        self.0 as usize
    }
}

/// A role of the tables (`*` is role 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RoleIx(u16);

impl RoleIx {
    /// The unreserved role `*`.
    pub(crate) const UNRESERVED: RoleIx = RoleIx(0);

    /// The role as a `usize`.
    #[inline]
    pub(crate) const fn get(self) -> usize {
        self.0 as usize
    }
}

impl Ix for RoleIx {
    #[inline]
    fn new(i: usize) -> RoleIx {
        debug_assert!(i <= usize::from(u16::MAX));
        RoleIx(i as u16)
    }

    #[inline]
    fn get(self) -> usize {
        self.0 as usize
    }
}

/// Plain numbers as indices, for unit tests of containers generic over [`Ix`].
#[cfg(test)]
impl Ix for u32 {
    fn new(i: usize) -> u32 {
        u32::try_from(i).expect("test index fits u32")
    }

    fn get(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ix_round_trips_and_orders_by_index() {
        for i in [0usize, 1, 2, 1000, u32::MAX as usize - 1] {
            assert_eq!(AgentIx::new(i).get(), i);
        }
        assert!(AgentIx::new(1) < AgentIx::new(2));
        assert!(GroupIx::new(7) > GroupIx::new(0));
        let mut v = [ValueIx::new(3), ValueIx::new(0), ValueIx::new(9)];
        v.sort();
        assert_eq!(v.iter().map(|x| x.get()).collect::<Vec<_>>(), [0, 3, 9]);
    }

    #[test]
    fn ix_option_is_four_bytes() {
        // The niche of `NonZeroU32` (zero) holds `None`.
        assert_eq!(std::mem::size_of::<Option<AgentIx>>(), 4);
        assert_eq!(std::mem::size_of::<Option<ValueIx>>(), 4);
        assert_eq!(std::mem::size_of::<Option<GroupIx>>(), 4);
    }

    #[test]
    fn ix_value_bits_tell_values_apart() {
        let bits: Vec<u32> = [None, Some(0), Some(1), Some(7)].map(|v| ValueIx::bits(v.map(ValueIx::new))).to_vec();
        assert_eq!(bits[0], 0);
        let mut unique = bits.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), bits.len());
    }

    #[test]
    #[should_panic(expected = "index out of range")]
    fn ix_rejects_the_reserved_index() {
        let _ = AgentIx::new(u32::MAX as usize);
    }
}
