//! [`Recorder`]: one driver's updates of a [`FrameworkMetrics`] it may share with other drivers.
//! Gauges move by this driver's own changes (never `set`), so that drivers sharing a set add
//! up, and a stopped driver takes its part of them back.

use std::time::Duration;

use rustc_hash::FxHashMap;

use super::labels::{call_label, outcome_label, primary_reason, state_label, REASON_CODES};
use super::{BucketLabels, FrameworkMetrics};
use crate::session::{CallKind, CallOutcome, PassReport, TaskState};

/// One driver's writer of shared metrics.
#[derive(Debug)]
pub(crate) struct Recorder {
    metrics: FrameworkMetrics,
    /// This driver's part of `offers_held`.
    held: i64,
    /// This driver's part of `subscribed`.
    subscribed: i64,
    /// This driver's part of `pass_unplaced`, by reason code position.
    unplaced: [i64; REASON_CODES.len()],
    /// This driver's part of `queue_depth`, per bucket.
    depth: FxHashMap<BucketLabels, i64>,
    /// This driver's part of the autoscaling gauges.
    scale: super::scale::ScaleGauges,
}

/// Moves a shared gauge by the change of this driver's part.
pub(super) fn adjust(gauge: &prometheus_client::metrics::gauge::Gauge, mine: &mut i64, value: i64) {
    if value != *mine {
        gauge.inc_by(value - *mine);
        *mine = value;
    }
}

impl Recorder {
    /// A writer of `metrics`.
    pub(crate) fn new(metrics: FrameworkMetrics) -> Recorder {
        Recorder {
            metrics,
            held: 0,
            subscribed: 0,
            unplaced: [0; REASON_CODES.len()],
            depth: FxHashMap::default(),
            scale: Default::default(),
        }
    }

    /// A scheduling pass that took `elapsed`.
    pub(crate) fn pass(&mut self, report: &PassReport, elapsed: Duration) {
        let m = &self.metrics;
        m.pass_duration.observe(elapsed.as_secs_f64());
        m.tasks_placed.inc_by(u64::from(report.stats.tasks_placed));
        m.offers_accepted.inc_by(u64::from(report.offers_accepted));
        m.offers_declined.inc_by(u64::from(report.offers_declined));
        let mut by_reason = [0i64; REASON_CODES.len()];
        for kind in &report.unplaced {
            let code = primary_reason(&kind.reasons, kind.agents_considered);
            if let Some(i) = REASON_CODES.iter().position(|c| *c == code) {
                by_reason[i] += i64::from(kind.tasks);
            }
        }
        for (i, code) in REASON_CODES.iter().enumerate() {
            let label = [("reason", *code)];
            if by_reason[i] > 0 {
                m.tasks_unplaced.get_or_create(&label).inc_by(by_reason[i].unsigned_abs());
            }
            if by_reason[i] != self.unplaced[i] {
                adjust(&m.pass_unplaced.get_or_create(&label), &mut self.unplaced[i], by_reason[i]);
            }
        }
        let mut depth: FxHashMap<BucketLabels, i64> = FxHashMap::default();
        for bucket in &report.stats.buckets {
            let labels = [("tier", bucket.tier.to_string()), ("bucket", bucket.bucket.to_string())];
            *depth.entry(labels).or_default() += i64::from(bucket.unplaced);
        }
        self.set_depth(depth);
    }

    /// Makes this driver's part of the queue depth `depth` (buckets missing are zero).
    fn set_depth(&mut self, mut depth: FxHashMap<BucketLabels, i64>) {
        let m = &self.metrics;
        for (labels, mine) in &mut self.depth {
            let value = depth.remove(labels).unwrap_or(0);
            adjust(&m.queue_depth.get_or_create(labels), mine, value);
        }
        for (labels, value) in depth {
            let mut mine = 0;
            adjust(&m.queue_depth.get_or_create(&labels), &mut mine, value);
            self.depth.insert(labels, mine);
        }
        self.depth.retain(|_, mine| *mine != 0);
    }

    /// A task moved from `old` (none: new to this driver) to `new`.
    pub(crate) fn task(&mut self, old: Option<TaskState>, new: TaskState) {
        if let Some(old) = old {
            self.metrics.tasks.get_or_create(&[("state", state_label(old))]).dec();
        }
        self.metrics.tasks.get_or_create(&[("state", state_label(new))]).inc();
    }

    /// `count` offers arrived.
    pub(crate) fn offers(&mut self, count: usize) {
        self.metrics.offers_received.inc_by(count as u64);
    }

    /// An offer was rescinded.
    pub(crate) fn rescinded(&mut self) {
        self.metrics.offers_rescinded.inc();
    }

    /// The session holds `held` offers now.
    pub(crate) fn held(&mut self, held: usize) {
        adjust(&self.metrics.offers_held, &mut self.held, i64::try_from(held).unwrap_or(i64::MAX));
    }

    /// A call of `kind` was answered with `outcome`.
    pub(crate) fn call(&mut self, kind: CallKind, outcome: &CallOutcome) {
        let labels = [("call", call_label(kind)), ("outcome", outcome_label(outcome))];
        self.metrics.calls.get_or_create(&labels).inc();
        if kind == CallKind::Acknowledge && *outcome == CallOutcome::Accepted {
            self.metrics.acknowledgements.inc();
        }
    }

    /// A SUBSCRIBE request goes out.
    pub(crate) fn subscribing(&mut self) {
        self.metrics.subscribe_attempts.inc();
    }

    /// `SUBSCRIBED` arrived; `again` when an earlier subscription of this driver completed.
    pub(crate) fn subscribed(&mut self, again: bool) {
        if again {
            self.metrics.resubscriptions.inc();
        }
        adjust(&self.metrics.subscribed, &mut self.subscribed, 1);
    }

    /// The subscription was lost.
    pub(crate) fn disconnected(&mut self) {
        self.metrics.disconnections.inc();
        adjust(&self.metrics.subscribed, &mut self.subscribed, 0);
    }

    /// The detector reported a leader (or none).
    pub(crate) fn leader_changed(&mut self) {
        self.metrics.leader_changes.inc();
    }

    /// The driver stopped: its parts of the gauges that describe a live framework go.
    pub(crate) fn stopped(&mut self) {
        let m = &self.metrics;
        adjust(&m.subscribed, &mut self.subscribed, 0);
        adjust(&m.offers_held, &mut self.held, 0);
        for (i, code) in REASON_CODES.iter().enumerate() {
            if self.unplaced[i] != 0 {
                adjust(&m.pass_unplaced.get_or_create(&[("reason", *code)]), &mut self.unplaced[i], 0);
            }
        }
        self.set_depth(FxHashMap::default());
        self.scale.set(&self.metrics, &crate::session::ScaleHintsUpdate::default());
    }

    /// The autoscaling hints changed.
    pub(crate) fn scale_hints(&mut self, hints: &crate::session::ScaleHintsUpdate) {
        self.scale.set(&self.metrics, hints);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::plan::{Reason, ReasonCount};
    use crate::queue::BucketStats;
    use crate::session::UnplacedSummary;

    fn kind(tasks: u32, reason: Option<Reason>) -> UnplacedSummary {
        UnplacedSummary {
            group: crate::model::GroupId::new("g"),
            tasks,
            example: crate::model::TaskId::new("t"),
            agents_considered: 3,
            reasons: reason.map(|reason| vec![ReasonCount { reason, agents: 3 }]).unwrap_or_default().into(),
        }
    }

    fn bucket(name: &str, unplaced: u32) -> BucketStats {
        BucketStats {
            tier: 0,
            bucket: Arc::from(name),
            placed: 0,
            unplaced,
            allocated: crate::queue::ResourceAmounts::new(),
            dominant_share: 0.0,
            weighted_share: 0.0,
        }
    }

    #[test]
    fn recorder_shares_gauges_between_drivers_and_takes_its_part_back() {
        let metrics = FrameworkMetrics::new();
        let (mut a, mut b) = (Recorder::new(metrics.clone()), Recorder::new(metrics.clone()));
        a.held(5);
        b.held(2);
        a.held(1);
        assert_eq!(metrics.offers_held.get(), 3);
        a.subscribed(false);
        b.subscribed(true);
        assert_eq!((metrics.subscribed.get(), metrics.resubscriptions.get()), (2, 1));
        a.stopped();
        assert_eq!((metrics.offers_held.get(), metrics.subscribed.get()), (2, 1));
    }

    #[test]
    fn recorder_pass_counts_reasons_and_queue_depth() {
        let metrics = FrameworkMetrics::new();
        let mut r = Recorder::new(metrics.clone());
        let mut report = PassReport::default();
        report.stats.tasks_placed = 4;
        report.unplaced = vec![kind(2, Some(Reason::ClaimedByOtherGroup)), kind(1, None)];
        report.stats.buckets = vec![bucket("web", 2), bucket("batch", 1)];
        r.pass(&report, Duration::from_millis(3));
        let gauge = |reason: &'static str| metrics.pass_unplaced.get_or_create(&[("reason", reason)]).get();
        assert_eq!((gauge("claimed_by_other_group"), gauge("unexplained")), (2, 1));
        let depth =
            |name: &str| metrics.queue_depth.get_or_create(&[("tier", "0".into()), ("bucket", name.into())]).get();
        assert_eq!((depth("web"), depth("batch")), (2, 1));
        report.unplaced = vec![kind(1, Some(Reason::ClaimedByOtherGroup))];
        report.stats.buckets = vec![bucket("web", 1)];
        r.pass(&report, Duration::from_millis(1));
        assert_eq!((gauge("claimed_by_other_group"), gauge("unexplained")), (1, 0));
        assert_eq!((depth("web"), depth("batch")), (1, 0));
        let total = metrics.tasks_unplaced.get_or_create(&[("reason", "claimed_by_other_group")]).get();
        assert_eq!((total, metrics.tasks_placed.get()), (3, 8));
        r.stopped();
        assert_eq!((gauge("claimed_by_other_group"), depth("web")), (0, 0));
    }

    #[test]
    fn recorder_counts_acknowledgements_only_when_accepted() {
        let metrics = FrameworkMetrics::new();
        let mut r = Recorder::new(metrics.clone());
        r.call(CallKind::Acknowledge, &CallOutcome::Accepted);
        r.call(CallKind::Acknowledge, &CallOutcome::Unavailable("503".into()));
        r.call(CallKind::Decline, &CallOutcome::Accepted);
        assert_eq!(metrics.acknowledgements.get(), 1);
        let acks = metrics.calls.get_or_create(&[("call", "acknowledge"), ("outcome", "unavailable")]).get();
        assert_eq!(acks, 1);
        r.task(None, TaskState::Pending);
        r.task(Some(TaskState::Pending), TaskState::Running);
        let tasks = |s: &'static str| metrics.tasks.get_or_create(&[("state", s)]).get();
        assert_eq!((tasks("pending"), tasks("running")), (0, 1));
    }
}
