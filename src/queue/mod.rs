//! The task queue: tiers, buckets, weighted DRF, guarantees, limits, aging and anti-starvation.
//!
//! Sans-IO and deterministic: no clock, no randomness; pass numbers and the cluster total come
//! in as arguments, and the same calls give the same order.
//!
//! # Serving rules
//! - **Tiers** are served strictly: every entry of tier 0 is handed out before any of tier 1.
//! - **Buckets** within a tier (a bucket in a tier is the unit of accounting, and what
//!   [`BucketStats`] reports) are served by weighted dominant resource fairness with progressive
//!   filling: [`Queue::next`] picks the bucket with the lowest *weighted dominant share* —
//!   the largest, over every scalar resource the pass's total has, of usage ÷ total, divided by
//!   the bucket's weight — ties broken by bucket name. Usage is the bucket's running tasks
//!   ([`Queue::add_running`]) plus the entries placed ([`Queue::placed`]); each placement
//!   re-evaluates the bucket's share at once.
//! - **Entries** within a bucket: higher priority first, then arrival (FIFO), with **aging**:
//!   with `aging_passes = n`, an entry of priority `p` queued at pass `e` has the effective
//!   priority `p + (now − e)/n` — it rises by one every `n` passes waited, so a low-priority
//!   entry overtakes a newer higher-priority one after `n` passes per level. As the `now/n` term
//!   is common to every entry, the order is fixed at push time (rank `p·n − e`), so nothing is
//!   re-sorted as passes go by.
//! - **No head-of-line blocking**: an entry reported [`unplaced`](Queue::unplaced) waits for the
//!   next pass, and the entries behind it are handed out in this one.
//!
//! # Admission ([`Queue::admit`])
//! Per resource the entry asks for, in this order:
//! 1. the bucket's `limit` is never exceeded, counting running tasks
//!    ([`QueueReason::LimitReached`]);
//! 2. the tier's `capacity` is a hard cap on what its buckets use together, guarantees included
//!    ([`QueueReason::TierCapacity`]; keep a tier's capacity at or above its buckets'
//!    guarantees); and the part of the ask beyond what the bucket's guarantee still covers must
//!    fit in the tier's shared remainder, `capacity − Σ over the tier's buckets of
//!    max(usage, guarantee)` (a guarantee counts only while its bucket has pending entries), or
//!    the reason is [`QueueReason::NoGuaranteedCapacity`]. A tier without a capacity for the
//!    resource skips this step, and a bucket without a guarantee is admitted like any other
//!    (unlike Fenzo, a configured capacity never turns away buckets without one);
//! 3. across the cluster total, the same sum over every bucket must leave room for the ask's
//!    part beyond its own guarantee — unused guarantees of other buckets with demand are held
//!    for them ([`QueueReason::NoGuaranteedCapacity`]). When the ask does not fit the total at
//!    all, the queue lets it through: the engine will report it fits no agent.
//!
//! Against a tier's capacity, a bucket holds its guarantee in each tier where it has pending
//! entries; across the cluster it holds it once, over all its tiers.
//!
//! # Anti-starvation
//! An entry whose bucket's head needs a large agent can be passed over forever by small tasks
//! of the same tier filling every freed space. The queue counts, per entry, the consecutive
//! passes it was reported [`UnplacedCause::NoFit`] (a queue reason resets the count). When a
//! pass begins, each bucket head (per tier) whose count has reached
//! [`QueuePolicy::starving_after`] is **starving** and is listed by [`Queue::starving`], in tier
//! then bucket order — at most one per bucket and tier.
//!
//! # Contract with the engine
//! Each pass:
//! 1. [`Queue::begin_pass`]`(pass, total)` with a pass number that grows by one each pass and
//!    the cluster total (offered plus running) per scalar resource; keep running usage current
//!    with [`Queue::add_running`] / [`Queue::remove_running`] (every bucket's running tasks must
//!    be in, or guarantees and limits are reckoned short).
//! 2. Read [`Queue::starving`] and give each starving entry `s`, in the listed order, **one
//!    reserved agent** no other starving entry holds: the agent it held in the last pass if
//!    that agent is still there and its total resources cover `s`'s ask; otherwise, among the
//!    agents whose total resources cover the ask, the one with the most free capacity for it
//!    (ties by agent id); none when no agent could ever hold it. While the reservation stands,
//!    no entry of `s`'s tier or a higher-numbered tier other than `s` may be placed on that
//!    agent (lower-numbered tiers may); tasks running there end as they do, so the agent drains
//!    toward `s`'s ask. `s` may still be placed on any agent. Drop the reservation as soon as
//!    `s` is no longer listed: it was placed or removed (it leaves the list at once) or the
//!    queue held it back (an admission reason resets its count).
//! 3. Loop: `id = next()`; `admit(id)` — on `Err(reason)` report
//!    `unplaced(id, UnplacedCause::Queue(reason))`; otherwise try agents (honouring the
//!    reservations above; a starving entry may use its reserved agent or any other) and report
//!    `placed(id)` or `unplaced(id, UnplacedCause::NoFit)`. Stop when `next()` gives `None` (or
//!    when no offer is left; untried entries simply wait).
//! 4. [`Queue::stats`] gives the per-bucket figures for the plan.
//!
//! The engine's `Scheduler` follows this contract with three differences, stated where it
//! reserves (`engine::queued::reserve`): it reserves only for a starving head whose bucket has
//! the lowest weighted share of its tier's waiting buckets (in a full cluster every head
//! waits, and reserving for all of them would override the fair order), it chooses the agent
//! afresh each pass (the one closest to having room among those big enough and held by
//! nobody), and the reserved agent is held from every other group, lower-numbered tiers
//! included.

mod amounts;
mod config;
mod core;
mod entry;
mod place;
mod reason;
mod report;
mod serve;
mod stats;

pub use self::core::Queue;
pub use amounts::ResourceAmounts;
pub use config::{BucketConfig, QueueConfig, QueueConfigError, QueuePolicy, TierConfig, DEFAULT_BUCKET};
pub use entry::{EntryId, EntryInfo, QueuedTask};
pub use place::QueuePlace;
pub use reason::{QueueError, QueueReason, UnplacedCause};
pub use stats::BucketStats;

#[cfg(test)]
mod tests;
