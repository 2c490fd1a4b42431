//! `offerpack solve`: read a workload, time the pass, write the plan (and its report).

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use offerpack::optimum::{packing_problem, round, solve_pattern_lp, units_used, Limits};
use offerpack::report::{Capacity, PlanReport, Share};
use offerpack::workload::{write_plan_waiting, Timing, Workload};
use offerpack::{Engine, EngineConfig, Plan, PreemptionInput, QueueConfig, QueueInput, QueuePlace, PATTERN_BUDGET};

use super::args::SolveArgs;
use super::{write_output, CliError};

/// A plan and how long making it took.
#[derive(Debug)]
pub struct Solved {
    /// The plan of the first run (every run gives the same plan).
    pub plan: Plan,
    /// The median pass time.
    pub timing: Timing,
}

/// Reads, solves, writes the plan (and the report) and prints the summary.
pub fn run(args: &SolveArgs) -> Result<(), CliError> {
    let text = read_input(&args.input)?;
    let workload =
        Workload::from_json(&text).map_err(|e| CliError::Failed(format!("{}: {e}", args.input.display())))?;
    drop(text);
    // Tasks waiting for others are not pending in this one pass: listed, not placed.
    let (workload, waiting) = super::deps::hold_back(workload);
    let solved = solve(&workload, args)?;
    write_output(args.out.as_deref(), |out| write_plan_waiting(out, &solved.plan, solved.timing, &waiting))?;
    if !waiting.is_empty() {
        note!("{} task(s) wait for others to finish and were not placed (see \"waiting\")", waiting.len());
    }
    note!("{}", summary(&solved));
    let figures =
        (args.bound || args.report.is_some()).then(|| capacity(&workload, &solved.plan, args.report.is_some()));
    if let (true, Some(figures)) = (args.bound, &figures) {
        note!("{}", bound_summary(figures));
    }
    if let Some(path) = &args.report {
        let mut report = PlanReport::new(&workload.fresh_pool(), &workload.running, &solved.plan, Duration::ZERO);
        report.capacity = figures.unwrap_or_else(|| Err("not computed".to_owned()));
        report.buckets = bucket_shares(&solved.plan);
        let html = report.render();
        write_output(Some(path), |out| out.write_all(html.as_bytes()))?;
    }
    Ok(())
}

/// Each bucket's dominant share after a pass in queue order, labelled with its tier when the
/// plan has several tiers (none for a pass without a queue).
fn bucket_shares(plan: &Plan) -> Vec<Share> {
    let tiers = plan.stats.buckets.iter().any(|b| b.tier > 0);
    let label = |b: &offerpack::BucketStats| match tiers {
        true => format!("{} (tier {})", b.bucket, b.tier),
        false => b.bucket.to_string(),
    };
    plan.stats.buckets.iter().map(|b| Share { label: label(b), share: b.dominant_share, fair: None }).collect()
}

/// `capacity: U units used, lower bound L (pattern LP), X % over`, or why there is no bound.
fn bound_summary(figures: &Result<Capacity, String>) -> String {
    match figures {
        Ok(c) => {
            let proven = if c.proven { "LP optimum" } else { "LP not converged, proven bound" };
            format!(
                "capacity: {:.0} units used, lower bound {:.1} ({proven}), {:.2} % over",
                c.used,
                c.lower_bound,
                (c.used / c.lower_bound - 1.0) * 100.0
            )
        }
        Err(e) => format!("capacity: no lower bound ({e})"),
    }
}

/// The capacity units the plan uses against the packing bound of the workload (as
/// [`packing_bound`](offerpack::optimum::packing_bound) computes it); with `optimum`, also
/// rounds the LP to an integer packing and reports its cost as the optimum when it meets the
/// bound rounded up (every agent costing whole units). `Err` says why there is no bound.
pub fn capacity(workload: &Workload, plan: &Plan, optimum: bool) -> Result<Capacity, String> {
    let pool = workload.fresh_pool();
    let limits = Limits::default();
    let problem = packing_problem(&pool, &workload.tasks, Duration::ZERO);
    let lp = solve_pattern_lp(&problem.instance, &limits).map_err(|e| e.to_string())?;
    let used = units_used(&pool, plan, &problem.unit);
    let whole = problem.instance.bins.iter().all(|b| (b.cost - b.cost.round()).abs() < 1e-9);
    let optimum = (optimum && whole)
        .then(|| round(&problem.instance, &lp, &limits))
        .filter(|packing| packing.unplaced.is_empty() && packing.cost <= (lp.lower_bound - 1e-6).ceil() + 1e-9)
        .map(|packing| packing.cost);
    Ok(Capacity { used, lower_bound: lp.lower_bound, proven: lp.proven, optimum })
}

/// Reads a text file, or standard input when `path` is `-`.
pub fn read_input(path: &Path) -> Result<String, CliError> {
    let fail = |e: std::io::Error| CliError::Failed(format!("cannot read {}: {e}", path.display()));
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(fail)?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(fail)
}

/// Plans `args.repeat` times, each on a fresh pool, timing only [`Engine::plan`].
pub fn solve(workload: &Workload, args: &SolveArgs) -> Result<Solved, CliError> {
    let SolveArgs { strategy, packing, threads, repeat, patterns, .. } = *args;
    let pattern_budget = if patterns { Some(PATTERN_BUDGET) } else { None };
    let config = EngineConfig {
        fitness: workload.fitness.clone(),
        strategy,
        packing,
        threads,
        pattern_budget,
        ..EngineConfig::default()
    };
    let engine = Engine::new(config).map_err(|e| CliError::Failed(e.to_string()))?;
    let mut times: Vec<Duration> = Vec::with_capacity(repeat.min(1024) as usize);
    let mut first: Option<Plan> = None;
    // Tasks with a tier or bucket, or a workload with `buckets` or `tiers`, go in queue order.
    let queued = workload.queue.clone().or_else(|| {
        let placed = workload.task_queues.iter().any(|p| *p != QueuePlace::default());
        placed.then(QueueConfig::default)
    });
    for run in 0..repeat.max(1) {
        let pool = workload.fresh_pool();
        let start = Instant::now();
        let queue = queued.as_ref().map(|config| QueueInput { config, pending: &workload.task_queues, running: &[] });
        let (tasks, running) = (&workload.tasks, &workload.running);
        let plan = match (queue, &workload.preemption) {
            (queue, Some(budgets)) => {
                let input = PreemptionInput::new(budgets);
                engine.plan_preempting(&pool, tasks, running, queue, input, Duration::ZERO)
            }
            (Some(queue), None) => engine.plan_queued(&pool, tasks, running, queue, Duration::ZERO),
            (None, None) => engine.plan(&pool, tasks, running, Duration::ZERO),
        };
        times.push(start.elapsed());
        let plan = plan.map_err(|e| CliError::Failed(e.to_string()))?;
        match &first {
            None => first = Some(plan),
            Some(p) if *p != plan => note!("warning: run {} gave a different plan than run 1", run + 1),
            Some(_) => {}
        }
    }
    let mut plan = first.unwrap_or_default();
    if let Some(config) = &workload.autoscale {
        // After the timed runs: the hints are a second, dry pass, not part of the pass's time.
        let last_scaled = std::collections::BTreeMap::new();
        let input = offerpack::autoscale::AutoscaleInput { config, last_scaled: &last_scaled };
        let (pool, now) = (workload.fresh_pool(), Duration::ZERO);
        let hints = offerpack::autoscale::hints(&engine, input, &pool, &workload.tasks, &workload.running, &plan, now)
            .map_err(|e| CliError::Failed(e.to_string()))?;
        plan.scale_up = hints.scale_up;
        plan.scale_down = hints.scale_down;
    }
    Ok(Solved { plan, timing: Timing::median(&times) })
}

/// `placed X of Y tasks on Z agents (W agents offered) in M ms (median of N)`.
pub fn summary(solved: &Solved) -> String {
    let s = &solved.plan.stats;
    let preempting = solved.plan.preemptions.len() as u32;
    let preempted = match preempting {
        0 => String::new(),
        n => format!(", {n} by preemption"),
    };
    format!(
        "placed {} of {} tasks on {} agents{preempted} ({} agents offered) in {:.2} ms (median of {})",
        s.tasks_placed,
        s.tasks_placed + s.tasks_unplaced + preempting,
        s.agents_used,
        s.agents_considered,
        solved.timing.schedule_ms,
        solved.timing.runs
    )
}
