//! A long-lived [`Scheduler`] whose framework names a new group per job: the groups and value
//! counters of ended tasks are compacted away, so the compiled state stays bounded by the live
//! work however many groups came and went (the soak found it growing by one group per job).

use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::constraints::Unique;
use offerpack::{Engine, EngineConfig, Offer, Scheduler, TaskSpec};

const AGENTS: usize = 8;
const JOBS: usize = 20_000;

#[test]
fn scheduler_compacts_the_groups_of_ended_jobs() {
    let engine = Engine::new(EngineConfig::default()).expect("default engine");
    let mut scheduler = Scheduler::new(engine, Duration::from_secs(3600));
    let one_per_host = Arc::new(Unique::new("hostname"));
    let (mut most, mut serial) = (0, 0);
    for job in 0..JOBS {
        let now = Duration::from_millis(job as u64);
        for agent in 0..AGENTS {
            let id = format!("a{agent}");
            if !scheduler.pool().agents_at(now).any(|a| a.id().as_str() == id) {
                serial += 1;
                let offer = Offer::new(format!("o{serial}"), id, &format!("h{agent}"))
                    .with_scalar("cpus", 4.0)
                    .and_then(|o| o.with_scalar("mem", 4096.0))
                    .expect("valid offer");
                scheduler.add_offer(offer, now).expect("offer added");
            }
        }
        // Two tasks of the job, one per host; one of an earlier job keeps running for a while.
        let tasks: Vec<TaskSpec> = (0..2)
            .map(|i| {
                TaskSpec::builder(format!("job{job}-{i}"), format!("job{job}"))
                    .scalar("cpus", 1.0)
                    .hard(one_per_host.clone())
                    .build()
                    .expect("valid task")
            })
            .collect();
        let plan = scheduler.schedule(&tasks, now).expect("a plan");
        assert_eq!(plan.launches.len(), 2, "job {job}: {:?}", plan.unplaced);
        assert_ne!(plan.launches[0].agent_id, plan.launches[1].agent_id, "job {job} broke hostname:UNIQUE");
        assert!(scheduler.task_ended(&format!("job{job}-0").into()));
        if job > 0 {
            assert!(scheduler.task_ended(&format!("job{}-1", job - 1).into()));
        }
        most = most.max(scheduler.compiled_groups());
    }
    assert!(scheduler.compiled_groups() >= 1);
    // At most 4,096 dead groups plus twice the live ones, far below one per job.
    assert!(most <= 4_096 + 2 * 4, "the compiled state kept {most} groups over {JOBS} jobs");
}
