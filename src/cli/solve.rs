//! `offerpack solve`: read a workload, time the pass, write the plan.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use offerpack::optimum::{packing_bound, Limits};
use offerpack::workload::{write_plan, Timing, Workload};
use offerpack::{Engine, EngineConfig, Plan, PATTERN_BUDGET};

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

/// Reads, solves, writes the plan and prints the summary.
pub fn run(args: &SolveArgs) -> Result<(), CliError> {
    let text = read_input(&args.input)?;
    let workload =
        Workload::from_json(&text).map_err(|e| CliError::Failed(format!("{}: {e}", args.input.display())))?;
    drop(text);
    let solved = solve(&workload, args)?;
    write_output(args.out.as_deref(), |out| write_plan(out, &solved.plan, solved.timing))?;
    eprintln!("{}", summary(&solved));
    if args.bound {
        eprintln!("{}", bound_summary(&workload, &solved.plan));
    }
    Ok(())
}

/// `capacity: U units used, lower bound L (pattern LP), X % over`, or why there is no bound.
fn bound_summary(workload: &Workload, plan: &Plan) -> String {
    let pool = workload.fresh_pool();
    match packing_bound(&pool, &workload.tasks, Duration::ZERO, &Limits::default()) {
        Ok(bound) => {
            let used = bound.units_used(&pool, plan);
            let proven = if bound.proven { "LP optimum" } else { "LP not converged, proven bound" };
            format!(
                "capacity: {used:.0} units used, lower bound {:.1} ({proven}), {:.2} % over",
                bound.lower_bound,
                (used / bound.lower_bound - 1.0) * 100.0
            )
        }
        Err(e) => format!("capacity: no lower bound ({e})"),
    }
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
    for run in 0..repeat.max(1) {
        let pool = workload.fresh_pool();
        let start = Instant::now();
        let plan = engine.plan(&pool, &workload.tasks, &workload.running, Duration::ZERO);
        times.push(start.elapsed());
        let plan = plan.map_err(|e| CliError::Failed(e.to_string()))?;
        match &first {
            None => first = Some(plan),
            Some(p) if *p != plan => eprintln!("warning: run {} gave a different plan than run 1", run + 1),
            Some(_) => {}
        }
    }
    let plan = first.unwrap_or_default();
    Ok(Solved { plan, timing: Timing::median(&times) })
}

/// `placed X of Y tasks on Z agents (W agents offered) in M ms (median of N)`.
pub fn summary(solved: &Solved) -> String {
    let s = &solved.plan.stats;
    format!(
        "placed {} of {} tasks on {} agents ({} agents offered) in {:.2} ms (median of {})",
        s.tasks_placed,
        s.tasks_placed + s.tasks_unplaced,
        s.agents_used,
        s.agents_considered,
        solved.timing.schedule_ms,
        solved.timing.runs
    )
}
