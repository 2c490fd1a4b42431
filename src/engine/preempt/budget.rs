//! Disruption budgets: how many running tasks of a group may be down at once.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::GroupId;

/// The most tasks of a group that may be unavailable (being killed) at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaxUnavailable {
    /// At most this many tasks.
    Count(u32),
    /// At most this share of the group's running tasks, in `[0, 1)`, rounded down (a share
    /// never allows more than it says).
    Share(f64),
}

impl MaxUnavailable {
    /// Reads a number as the workload format does: below 1 a share of the group's running
    /// tasks, from 1 a count (which must then be a whole number).
    ///
    /// ```
    /// use offerpack::preempt::MaxUnavailable;
    /// assert_eq!(MaxUnavailable::from_number(0.5).unwrap(), MaxUnavailable::Share(0.5));
    /// assert_eq!(MaxUnavailable::from_number(3.0).unwrap(), MaxUnavailable::Count(3));
    /// assert!(MaxUnavailable::from_number(1.5).is_err());
    /// assert!(MaxUnavailable::from_number(-0.1).is_err());
    /// ```
    pub fn from_number(value: f64) -> Result<MaxUnavailable, BudgetError> {
        if !value.is_finite() || value < 0.0 {
            return Err(BudgetError(value));
        }
        if value < 1.0 {
            return Ok(MaxUnavailable::Share(value));
        }
        if value.fract() != 0.0 || value > f64::from(u32::MAX) {
            return Err(BudgetError(value));
        }
        Ok(MaxUnavailable::Count(value as u32))
    }

    /// How many of `running` tasks may be unavailable.
    ///
    /// ```
    /// use offerpack::preempt::MaxUnavailable;
    /// assert_eq!(MaxUnavailable::Share(0.5).allowed(5), 2);
    /// assert_eq!(MaxUnavailable::Count(2).allowed(1), 2);
    /// ```
    pub fn allowed(&self, running: u32) -> u32 {
        match *self {
            MaxUnavailable::Count(n) => n,
            // A share below 1 of a u32 stays within u32.
            MaxUnavailable::Share(share) => (share * f64::from(running)).floor() as u32,
        }
    }
}

/// A budget that is not a share in `[0, 1)` nor a whole count from 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetError(f64);

impl BudgetError {
    /// The number given.
    pub fn value(&self) -> f64 {
        self.0
    }
}

impl fmt::Display for BudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "max_unavailable {} is neither a share below 1 nor a whole count", self.0)
    }
}

impl std::error::Error for BudgetError {}

/// Disruption budgets per group; groups without one may lose any number of tasks.
///
/// ```
/// use offerpack::preempt::{DisruptionBudgets, MaxUnavailable};
/// let mut budgets = DisruptionBudgets::new();
/// budgets.set("low", MaxUnavailable::Share(0.5));
/// assert_eq!(budgets.get(&"low".into()), Some(MaxUnavailable::Share(0.5)));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DisruptionBudgets {
    budgets: BTreeMap<GroupId, MaxUnavailable>,
}

impl DisruptionBudgets {
    /// No budgets.
    pub fn new() -> DisruptionBudgets {
        DisruptionBudgets::default()
    }

    /// Sets the budget of `group`.
    pub fn set(&mut self, group: impl Into<GroupId>, max: MaxUnavailable) {
        self.budgets.insert(group.into(), max);
    }

    /// The budget of `group`, if any.
    pub fn get(&self, group: &GroupId) -> Option<MaxUnavailable> {
        self.budgets.get(group).copied()
    }

    /// Whether no group has a budget.
    pub fn is_empty(&self) -> bool {
        self.budgets.is_empty()
    }

    /// Every budget, by group.
    pub fn iter(&self) -> impl Iterator<Item = (&GroupId, MaxUnavailable)> {
        self.budgets.iter().map(|(g, m)| (g, *m))
    }
}

/// A pass's accounting of the budgets: per budgeted group (a slot), how many tasks may be down
/// and how many are (dying, or chosen as victims earlier in the pass).
#[derive(Debug, Default)]
pub(crate) struct Ledger<'a> {
    groups: Vec<&'a GroupId>,
    allowed: Vec<u32>,
    used: Vec<u32>,
}

impl<'a> Ledger<'a> {
    /// Slots for every group of `budgets`, with nothing counted yet.
    pub fn new(budgets: &'a DisruptionBudgets) -> Ledger<'a> {
        let mut ledger = Ledger::default();
        for (group, _) in budgets.iter() {
            ledger.groups.push(group);
        }
        ledger.allowed = vec![0; ledger.groups.len()];
        ledger.used = vec![0; ledger.groups.len()];
        ledger
    }

    /// Sets every slot's allowance from its group's running count (`running[slot]`).
    pub fn settle_allowances(&mut self, budgets: &DisruptionBudgets, running: &[u32]) {
        for (slot, group) in self.groups.iter().enumerate() {
            let max = budgets.get(group).unwrap_or(MaxUnavailable::Count(u32::MAX));
            self.allowed[slot] = max.allowed(running[slot]);
        }
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// One more task of the slot's group is down.
    pub fn charge(&mut self, slot: u32) {
        self.used[slot as usize] += 1;
    }

    /// How many more tasks of the slot's group may go down.
    #[inline]
    pub fn room(&self, slot: u32) -> u32 {
        self.allowed[slot as usize].saturating_sub(self.used[slot as usize])
    }

    /// The group of a slot.
    pub fn group(&self, slot: u32) -> &'a GroupId {
        self.groups[slot as usize]
    }
}
