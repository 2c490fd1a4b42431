//! Reading the workload's top-level `autoscale` object into an
//! [`AutoscaleConfig`](crate::autoscale::AutoscaleConfig).
//!
//! ```json
//! "autoscale": {"attribute": "instance_type",
//!               "classes": {"m5.large": {"min_idle": 0, "max_idle": 2, "min_size": 1,
//!                                         "max_size": 40, "cooldown_seconds": 300,
//!                                         "balance_by": "zone"}}}
//! ```
//!
//! Every limit is optional (defaults: no idle agents kept, `max_idle` as `min_idle`, sizes 0
//! to unbounded, no cooldown, no balancing).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::input::{Problem, WorkloadError};
use super::schema::Map;
use crate::autoscale::{AutoscaleConfig, ClassRule};

/// The `autoscale` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AutoscaleDoc {
    /// The attribute naming an agent's class.
    pub attribute: String,
    /// Rules by class.
    #[serde(default)]
    pub classes: Map<ClassDoc>,
}

/// One class's rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_idle: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_idle: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_by: Option<String>,
}

/// The validated configuration, when the workload gives one.
pub(super) fn config(doc: Option<&AutoscaleDoc>) -> Result<Option<AutoscaleConfig>, WorkloadError> {
    let Some(doc) = doc else { return Ok(None) };
    let rules = doc.classes.0.iter().map(|(class, c)| {
        let mut rule = ClassRule::new(class);
        rule.min_idle = c.min_idle.unwrap_or(0);
        rule.max_idle = c.max_idle.unwrap_or(rule.min_idle);
        rule.min_size = c.min_size.unwrap_or(0);
        rule.max_size = c.max_size.unwrap_or(u32::MAX);
        rule.cooldown = Duration::from_secs(u64::from(c.cooldown_seconds.unwrap_or(0)));
        rule.balance_by = c.balance_by.as_deref().map(Into::into);
        rule
    });
    AutoscaleConfig::new(&doc.attribute, rules)
        .map(Some)
        .map_err(|e| WorkloadError::at("autoscale", Problem::Autoscale(e)))
}

#[cfg(test)]
mod tests {
    use crate::autoscale::AutoscaleConfigError;
    use crate::workload::{Problem, Workload, WorkloadError};

    fn read(autoscale: &str) -> Result<Workload, WorkloadError> {
        Workload::from_json(&format!(r#"{{"offers": [], "tasks": [], "autoscale": {autoscale}}}"#))
    }

    #[test]
    fn workload_autoscale_reads_rules_with_defaults() {
        let w = read(r#"{"attribute": "class", "classes": {"big": {"max_idle": 2, "cooldown_seconds": 60, "balance_by": "zone"}, "small": {}}}"#).unwrap();
        let config = w.autoscale.unwrap();
        assert_eq!(config.attribute(), "class");
        let big = config.rule("big").unwrap();
        assert_eq!((big.min_idle, big.max_idle, big.max_size), (0, 2, u32::MAX));
        assert_eq!(big.cooldown.as_secs(), 60);
        assert_eq!(big.balance_by.as_deref(), Some("zone"));
        assert_eq!(config.rule("small").unwrap().max_idle, 0);
    }

    #[test]
    fn workload_autoscale_rejects_bad_rules() {
        let err = read(r#"{"attribute": "class", "classes": {"c": {"min_size": 5, "max_size": 2}}}"#).unwrap_err();
        assert!(
            matches!(
                err,
                WorkloadError::Invalid { problem: Problem::Autoscale(AutoscaleConfigError::SizeBounds(_)), .. }
            ),
            "{err:?}"
        );
        assert!(read(r#"{"attribute": "class", "classes": {"c": {"max_idle": -1}}}"#).is_err());
        assert!(read(r#"{"attribute": "class", "classes": {"c": {}, "c": {}}}"#).is_err());
        assert!(read(r#"{"attribute": "", "classes": {}}"#).is_err());
        assert!(read(r#"{"attribute": "class", "rules": {}}"#).is_err());
    }
}
