//! Workload and plan JSON formats, and a synthetic workload generator (feature `workload`).
//!
//! A **workload** is the input of one scheduling pass:
//!
//! ```json
//! {"offers": [{"id": "o1", "agent_id": "a1", "hostname": "host-1",
//!              "resources": {"cpus": 16, "mem": 65536, "ports": [[31000, 32000]]},
//!              "reserved": {"web-role": {"cpus": 4}},
//!              "attributes": {"zone": "a", "gen": 3}}],
//!  "tasks": [{"id": "t1", "group": "web", "resources": {"cpus": 1, "mem": 1024},
//!             "ports": 1, "roles": ["web-role", "*"], "priority": 0,
//!             "constraints": [["hostname", "UNIQUE"]],
//!             "soft_constraints": [["zone", "GROUP_BY", "3", 2.0]],
//!             "tier": 0, "bucket": "batch"}],
//!  "running": [{"id": "r1", "group": "web", "agent_id": "a1", "resources": {"cpus": 1}}],
//!  "fitness": {"cpu_mem_binpack": 3, "balanced": 1},
//!  "hold_seconds": 60,
//!  "buckets": {"batch": {"weight": 2, "guarantee": {"cpus": 100}, "limit": {"cpus": 500}}},
//!  "tiers": [{"capacity": {"cpus": 4000}}]}
//! ```
//!
//! - `resources` maps names to amounts (finite, not negative); `ports` holds `[begin, end]`
//!   ranges. `reserved` maps a role to resources of the same shape.
//! - A task's `ports` is a count, or `{"count": n, "specific": [8080]}`. Without `roles` a task
//!   accepts every role. Constraints are `[attribute, operator, value?]`; soft ones may add a
//!   fourth element, the weight (default 1). Identical triples share one constraint object, so
//!   identical tasks form one class in the engine.
//! - `running` tasks may give `hostname` and `attributes` for agents without an offer.
//! - A task (pending or running) without `group` is a group of its own, named by its id.
//! - Queue (see [`crate::queue`]): a task may give `"tier"` (default 0) and `"bucket"` (default
//!   `"default"`); the optional top-level `buckets` map names to `weight` (positive, default 1),
//!   `guarantee` and `limit` (scalar resources), and `tiers` lists each tier's optional
//!   `capacity`. They are read into [`Workload::queue`] and, per task, [`Workload::task_queues`].
//! - Dependencies: a task may give `"after": ["id", ...]`, pending tasks of the workload that
//!   must finish first ([`Workload::after`]); an unknown id or a cycle is an error. `solve`
//!   places only tasks without `after` and lists the others under the plan's `waiting`.
//! - Autoscaling hints (see [`crate::autoscale`]): the optional top-level `autoscale` names the
//!   class attribute and a rule per class, `{"attribute": "instance_type", "classes":
//!   {"m5.large": {"min_idle": 0, "max_idle": 2, "min_size": 1, "max_size": 40,
//!   "cooldown_seconds": 300, "balance_by": "zone"}}}` (every limit optional), read into
//!   [`Workload::autoscale`].
//! - Preemption (see [`crate::preempt`]): running tasks may give `"priority"` and `"tier"` of
//!   their request, and a top-level `groups` map sets disruption budgets, e.g.
//!   `"groups": {"low": {"max_unavailable": 0.5}}` (below 1 a share of the group's running
//!   tasks, from 1 a count). A workload with either is planned with preemption: the plan then
//!   lists `"preemptions": [{"task_id", "group", "agent_id", "victims", "why"}]`, and such a task
//!   is in neither `launches` nor `unplaced`. Refusals add reasons `preemption_no_lower_priority`,
//!   `preemption_budget` (with the `group`) and `preemption_not_allowed` to unplaced tasks.
//! - A task may give `"labels": {"key": "value"}` ([`Workload::labels`]), which a live run puts
//!   in its `TaskInfo`; planning ignores them.
//! - `fitness` is a built-in's name or a weighted mix (default `cpu_mem_binpack`);
//!   `hold_seconds` defaults to 60.
//!
//! Objects reject unknown fields, maps reject repeated keys, and validation names the place of
//! the first problem ([`WorkloadError`]): offer and task ids must be unique (pending and running
//! tasks share one id space), and a task may not ask for a scalar resource no offer provides.
//!
//! A **plan** is written as `{"launches": [...], "unplaced": [...], "declined_offer_ids": [...],
//! "expired_offer_ids": [...], "stats": {...}}`, with `"scale_up": {class: count}` and
//! `"scale_down": [agent ids]` when they are not empty; see [`write_plan`]. Each unplaced task lists
//! reasons tagged `shortfall`, `ports`, `port_taken`, `claimed_by_other_group` or `constraint`,
//! with the number of agents each rejected.
//!
//! [`generate`] and [`generate_json`] build synthetic workloads from a seed.

mod after;
mod autoscale;
mod gangs;
mod gen;
mod input;
mod output;
mod queues;
mod schema;
mod shapes;
mod stream;
mod stream_gen;
mod waiting;

pub use gen::{
    generate, generate_json, write_generated, ConstraintMix, GenOptions, GroupShapes, Shapes, DEFAULT_BIG_EVERY,
    DEFAULT_GROUP_SIZE, MAX_SHAPE_COUNT,
};
pub use input::{Problem, Workload, WorkloadError, DEFAULT_HOLD};
pub use output::{plan_to_json, write_plan, Timing};
pub use queues::TaskQueue;
pub use stream::{Stream, StreamError, StreamEvent};
pub use stream_gen::{generate_stream, write_stream, StreamOptions};
pub use waiting::write_plan_waiting;

#[cfg(test)]
mod tests;
