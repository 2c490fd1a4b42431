//! This driver's part of the autoscaling gauges: agents to add per class, agents to let go.

use rustc_hash::FxHashMap;

use super::metrics::{ClassLabel, FrameworkMetrics};
use crate::session::ScaleHintsUpdate;

/// What this driver added to the autoscaling gauges.
#[derive(Debug, Default)]
pub(crate) struct ScaleGauges {
    /// Its part of `offerpack_autoscale_scale_up`, per class.
    up: FxHashMap<String, i64>,
    /// Its part of `offerpack_autoscale_scale_down`.
    down: i64,
}

impl ScaleGauges {
    /// Makes this driver's part the hints' figures (classes missing are zero).
    pub(crate) fn set(&mut self, m: &FrameworkMetrics, hints: &ScaleHintsUpdate) {
        let mut next: FxHashMap<String, i64> =
            hints.scale_up.iter().map(|(class, n)| (class.to_string(), i64::from(*n))).collect();
        for (class, mine) in &mut self.up {
            let value = next.remove(class).unwrap_or(0);
            let label: ClassLabel = [("class", class.clone())];
            super::record::adjust(&m.autoscale_scale_up.get_or_create(&label), mine, value);
        }
        for (class, value) in next {
            let mut mine = 0;
            let label: ClassLabel = [("class", class.clone())];
            super::record::adjust(&m.autoscale_scale_up.get_or_create(&label), &mut mine, value);
            self.up.insert(class, mine);
        }
        self.up.retain(|_, mine| *mine != 0);
        let down = i64::try_from(hints.scale_down.len()).unwrap_or(i64::MAX);
        super::record::adjust(&m.autoscale_scale_down, &mut self.down, down);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::session::ScaleHintsUpdate;
    use crate::telemetry::{FrameworkMetrics, Recorder};

    fn hints(up: &[(&str, u32)], down: &[&str]) -> ScaleHintsUpdate {
        ScaleHintsUpdate {
            scale_up: up.iter().map(|(c, n)| (Arc::from(*c), *n)).collect(),
            scale_down: down.iter().map(|a| (*a).into()).collect(),
        }
    }

    #[test]
    fn scale_gauges_follow_the_latest_hints_per_class_and_add_up_between_drivers() {
        let metrics = FrameworkMetrics::new();
        let (mut a, mut b) = (Recorder::new(metrics.clone()), Recorder::new(metrics.clone()));
        let up = |class: &str| metrics.autoscale_scale_up.get_or_create(&[("class", class.to_owned())]).get();
        a.scale_hints(&hints(&[("c4", 3), ("gpu", 1)], &["g1", "g2"]));
        b.scale_hints(&hints(&[("c4", 2)], &[]));
        assert_eq!((up("c4"), up("gpu"), metrics.autoscale_scale_down.get()), (5, 1, 2));
        a.scale_hints(&hints(&[("gpu", 4)], &["g1"]));
        assert_eq!((up("c4"), up("gpu"), metrics.autoscale_scale_down.get()), (2, 4, 1));
        a.stopped();
        b.stopped();
        assert_eq!((up("c4"), up("gpu"), metrics.autoscale_scale_down.get()), (0, 0, 0));
    }
}
