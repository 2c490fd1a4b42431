//! Named scalar amounts (a guarantee, a limit, a capacity, an ask, a usage).

use std::sync::Arc;

use crate::resources::Quantity;

/// Scalar amounts by resource name, sorted by name, each name at most once.
///
/// The same shape as [`TaskSpec::resources`](crate::TaskSpec::resources), so a task's ask is
/// borrowed as a slice without copying. A name given with zero is kept: a limit of zero means
/// "none of it".
///
/// ```
/// use offerpack::queue::ResourceAmounts;
/// use offerpack::Quantity;
/// let a = ResourceAmounts::new().with("mem", Quantity::from_units(4)).with("cpus", Quantity::from_units(1));
/// assert_eq!(a.amount("cpus"), Quantity::from_units(1));
/// assert_eq!(a.get("gpus"), None);
/// assert_eq!(a.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["cpus", "mem"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceAmounts(Vec<(Arc<str>, Quantity)>);

impl ResourceAmounts {
    /// No amounts.
    pub fn new() -> ResourceAmounts {
        ResourceAmounts::default()
    }

    /// Sets `name` to `amount` (replacing an earlier amount of the same name).
    pub fn set(&mut self, name: &str, amount: Quantity) {
        match self.0.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(i) => self.0[i].1 = amount,
            Err(i) => self.0.insert(i, (crate::resources::shared_name(name), amount)),
        }
    }

    /// `self` with `name` set to `amount`.
    pub fn with(mut self, name: &str, amount: Quantity) -> ResourceAmounts {
        self.set(name, amount);
        self
    }

    /// The amount given for `name`, if any.
    pub fn get(&self, name: &str) -> Option<Quantity> {
        self.0.binary_search_by(|(n, _)| (**n).cmp(name)).ok().map(|i| self.0[i].1)
    }

    /// The amount for `name`, zero when not given.
    pub fn amount(&self, name: &str) -> Quantity {
        self.get(name).unwrap_or(Quantity::ZERO)
    }

    /// Adds `amount` to `name`.
    pub fn add(&mut self, name: &str, amount: Quantity) {
        let now = self.amount(name);
        self.set(name, now + amount);
    }

    /// Adds what a task holds, or takes it back (`add` false; saturating at zero).
    pub fn change(&mut self, held: &[(Arc<str>, Quantity)], add: bool) {
        for (name, q) in held {
            let now = self.amount(name);
            self.set(name, if add { now + *q } else { now.saturating_sub(*q) });
        }
    }

    /// The amounts in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Quantity)> + '_ {
        self.0.iter().map(|(n, q)| (&**n, *q))
    }

    /// The amounts as a sorted slice (the shape of [`TaskSpec::resources`](crate::TaskSpec::resources)).
    pub fn as_slice(&self) -> &[(Arc<str>, Quantity)] {
        &self.0
    }

    /// How many names are given.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no name is given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: AsRef<str>> FromIterator<(S, Quantity)> for ResourceAmounts {
    /// Collects pairs; a name given twice keeps its last amount.
    fn from_iter<I: IntoIterator<Item = (S, Quantity)>>(iter: I) -> ResourceAmounts {
        let mut out = ResourceAmounts::new();
        for (name, amount) in iter {
            out.set(name.as_ref(), amount);
        }
        out
    }
}

#[cfg(feature = "workload")]
impl serde::Serialize for ResourceAmounts {
    /// An object `{name: amount}` with amounts as decimal numbers.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, amount) in &self.0 {
            map.serialize_entry(&**name, &amount.as_f64())?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_names_sorted_and_unique() {
        let q = Quantity::from_units;
        let a: ResourceAmounts = [("mem", q(1)), ("cpus", q(2)), ("mem", q(3))].into_iter().collect();
        assert_eq!(a.len(), 2);
        assert_eq!(a.as_slice()[0].0.as_ref(), "cpus");
        assert_eq!(a.amount("mem"), q(3));
        let mut b = a.clone();
        b.add("mem", q(1));
        b.add("gpus", q(1));
        assert_eq!((b.amount("mem"), b.amount("gpus"), b.len()), (q(4), q(1), 3));
    }
}
