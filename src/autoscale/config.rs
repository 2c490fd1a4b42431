//! Autoscaling rules: which attribute names an agent's class, and the limits of each class.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The scaling rule of one agent class, as Fenzo's `AutoScaleRule` has it, with `min_idle`
/// allowed to be zero.
///
/// ```
/// use offerpack::autoscale::ClassRule;
/// let rule = ClassRule::new("m5.large").max_idle(2).max_size(40);
/// assert_eq!(rule.min_idle, 0);
/// assert_eq!(&*rule.class, "m5.large");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassRule {
    /// The class: the value of the config's class attribute on its agents.
    pub class: Arc<str>,
    /// Idle agents to keep at least: fewer asks for more (`scale_up`), zero allowed.
    pub min_idle: u32,
    /// Idle agents to keep at most: more are offered for scale-down.
    pub max_idle: u32,
    /// The class never shrinks below this many agents.
    pub min_size: u32,
    /// The class never grows beyond this many agents.
    pub max_size: u32,
    /// After the class was last scaled (up or down), no scale-down for this long.
    pub cooldown: Duration,
    /// Scale down evenly across the values of this attribute (such as `zone`).
    pub balance_by: Option<Arc<str>>,
}

impl ClassRule {
    /// A rule for `class` keeping no idle agent, sizes 0 to `u32::MAX`, no cooldown, no
    /// balancing; the setters below change one limit each.
    pub fn new(class: &str) -> ClassRule {
        ClassRule {
            class: Arc::from(class),
            min_idle: 0,
            max_idle: 0,
            min_size: 0,
            max_size: u32::MAX,
            cooldown: Duration::ZERO,
            balance_by: None,
        }
    }

    /// Sets [`min_idle`](Self::min_idle).
    pub fn min_idle(mut self, n: u32) -> ClassRule {
        self.min_idle = n;
        self
    }

    /// Sets [`max_idle`](Self::max_idle).
    pub fn max_idle(mut self, n: u32) -> ClassRule {
        self.max_idle = n;
        self
    }

    /// Sets [`min_size`](Self::min_size).
    pub fn min_size(mut self, n: u32) -> ClassRule {
        self.min_size = n;
        self
    }

    /// Sets [`max_size`](Self::max_size).
    pub fn max_size(mut self, n: u32) -> ClassRule {
        self.max_size = n;
        self
    }

    /// Sets [`cooldown`](Self::cooldown).
    pub fn cooldown(mut self, cooldown: Duration) -> ClassRule {
        self.cooldown = cooldown;
        self
    }

    /// Sets [`balance_by`](Self::balance_by).
    pub fn balance_by(mut self, attribute: &str) -> ClassRule {
        self.balance_by = Some(Arc::from(attribute));
        self
    }
}

/// Rules that cannot work.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AutoscaleConfigError {
    /// The class attribute's name is empty.
    EmptyAttribute,
    /// Two rules name the same class.
    DuplicateClass(Arc<str>),
    /// A rule's `min_idle` is above its `max_idle`.
    IdleBounds(Arc<str>),
    /// A rule's `min_size` is above its `max_size`.
    SizeBounds(Arc<str>),
}

impl fmt::Display for AutoscaleConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyAttribute => f.write_str("the class attribute's name is empty"),
            Self::DuplicateClass(c) => write!(f, "class {c} has two rules"),
            Self::IdleBounds(c) => write!(f, "class {c}: min_idle is above max_idle"),
            Self::SizeBounds(c) => write!(f, "class {c}: min_size is above max_size"),
        }
    }
}

impl std::error::Error for AutoscaleConfigError {}

/// Autoscaling hints' settings: the attribute whose value names an agent's class (Fenzo's
/// `autoScaleByAttributeName`) and one rule per class. Agents of classes without a rule are
/// neither cloned nor offered for scale-down.
///
/// ```
/// use offerpack::autoscale::{AutoscaleConfig, ClassRule};
/// let config = AutoscaleConfig::new("instance_type", [ClassRule::new("small"), ClassRule::new("large")]).unwrap();
/// assert_eq!(config.rules().map(|r| &*r.class).collect::<Vec<_>>(), ["large", "small"]);
/// assert!(AutoscaleConfig::new("instance_type", [ClassRule::new("a").min_idle(2)]).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoscaleConfig {
    attribute: Arc<str>,
    rules: BTreeMap<Arc<str>, ClassRule>,
}

impl AutoscaleConfig {
    /// Validated settings: a non-empty attribute name, one rule per class, `min_idle ≤
    /// max_idle` and `min_size ≤ max_size` in each.
    pub fn new(
        attribute: &str,
        rules: impl IntoIterator<Item = ClassRule>,
    ) -> Result<AutoscaleConfig, AutoscaleConfigError> {
        if attribute.is_empty() {
            return Err(AutoscaleConfigError::EmptyAttribute);
        }
        let mut by_class = BTreeMap::new();
        for rule in rules {
            if rule.min_idle > rule.max_idle {
                return Err(AutoscaleConfigError::IdleBounds(rule.class));
            }
            if rule.min_size > rule.max_size {
                return Err(AutoscaleConfigError::SizeBounds(rule.class));
            }
            if by_class.contains_key(&rule.class) {
                return Err(AutoscaleConfigError::DuplicateClass(rule.class));
            }
            by_class.insert(rule.class.clone(), rule);
        }
        Ok(AutoscaleConfig { attribute: Arc::from(attribute), rules: by_class })
    }

    /// The attribute whose value names an agent's class.
    pub fn attribute(&self) -> &str {
        &self.attribute
    }

    /// The rules, sorted by class.
    pub fn rules(&self) -> impl Iterator<Item = &ClassRule> {
        self.rules.values()
    }

    /// The rule of one class.
    pub fn rule(&self, class: &str) -> Option<&ClassRule> {
        self.rules.get(class)
    }
}
