//! Reading the queue parts of a workload: top-level `buckets` and `tiers`, and each task's
//! `tier` and `bucket`.

use std::collections::HashMap;
use std::sync::Arc;

use super::input::{item, quantity, Problem, WorkloadError};
use super::schema::{BucketDoc, Map, ResourcesDoc, TaskDoc, TierDoc};
use crate::queue::{BucketConfig, QueueConfig, QueueConfigError, ResourceAmounts, TierConfig, DEFAULT_BUCKET};

/// The queue place of one pending task (beside [`Workload::tasks`](super::Workload::tasks),
/// index for index).
pub type TaskQueue = crate::queue::QueuePlace;

/// The queue configuration, when the workload gives `buckets` or `tiers`.
pub(super) fn config(
    buckets: &Map<BucketDoc>,
    tiers: Option<&[TierDoc]>,
) -> Result<Option<QueueConfig>, WorkloadError> {
    if buckets.is_empty() && tiers.is_none() {
        return Ok(None);
    }
    let mut config = QueueConfig::default();
    for (name, doc) in &buckets.0 {
        let place = format!("buckets.{name}");
        if name.is_empty() {
            return Err(WorkloadError::at("buckets", Problem::Queue(QueueConfigError::EmptyBucketName)));
        }
        config.buckets.insert(name.clone(), bucket(name, doc, &place)?);
    }
    for (i, doc) in tiers.unwrap_or_default().iter().enumerate() {
        let capacity = match &doc.capacity {
            Some(c) => Some(amounts(c, &format!("tiers[{i}]: capacity"))?),
            None => None,
        };
        config.tiers.push(TierConfig { capacity });
    }
    config.validate().map_err(|e| WorkloadError::at("buckets", Problem::Queue(e)))?;
    Ok(Some(config))
}

fn bucket(name: &str, doc: &BucketDoc, place: &str) -> Result<BucketConfig, WorkloadError> {
    let weight = doc.weight.unwrap_or(1.0);
    if !(weight.is_finite() && weight > 0.0) {
        let problem = Problem::Queue(QueueConfigError::BadWeight { bucket: name.to_owned(), weight });
        return Err(WorkloadError::at(format!("{place}: weight"), problem));
    }
    let guarantee = match &doc.guarantee {
        Some(g) => amounts(g, &format!("{place}: guarantee"))?,
        None => ResourceAmounts::new(),
    };
    let limit = match &doc.limit {
        Some(l) => amounts(l, &format!("{place}: limit"))?,
        None => ResourceAmounts::new(),
    };
    for (resource, guaranteed) in guarantee.iter() {
        if limit.get(resource).is_some_and(|cap| guaranteed > cap) {
            let problem =
                QueueConfigError::GuaranteeAboveLimit { bucket: name.to_owned(), resource: resource.to_owned() };
            return Err(WorkloadError::at(format!("{place}: guarantee.{resource}"), Problem::Queue(problem)));
        }
    }
    Ok(BucketConfig { weight, guarantee, limit })
}

fn amounts(doc: &ResourcesDoc, place: &str) -> Result<ResourceAmounts, WorkloadError> {
    if doc.ports.is_some() {
        return Err(WorkloadError::at(format!("{place}.ports"), Problem::PortsNotScalar));
    }
    let mut out = ResourceAmounts::new();
    for (name, amount) in &doc.scalars {
        out.set(name, quantity(&|| format!("{place}.{name}"), *amount)?);
    }
    Ok(out)
}

/// Each task's tier and bucket, in task order; bucket names are shared between tasks.
pub(super) fn task_queues(docs: &[TaskDoc]) -> Result<Vec<TaskQueue>, WorkloadError> {
    let mut names: HashMap<&str, Arc<str>> = HashMap::new();
    let mut out = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let name = doc.bucket.as_deref().unwrap_or(DEFAULT_BUCKET);
        if name.is_empty() {
            let place = format!("{}: bucket", item("tasks", i, &doc.id));
            return Err(WorkloadError::at(place, Problem::Queue(QueueConfigError::EmptyBucketName)));
        }
        let bucket = names.entry(name).or_insert_with(|| Arc::from(name)).clone();
        out.push(TaskQueue { tier: doc.tier, bucket });
    }
    Ok(out)
}
