//! `offerpack demo`: solve a generated workload in memory and explain what did not fit.
//!
//! Until the driver and the simulated master land, the demo runs the engine alone.

use offerpack::workload::{generate, ConstraintMix, GenOptions, Shapes};
use offerpack::{Reason, ReasonCount, Strategy, Unplaced};

use super::solve::{solve, summary};
use super::CliError;

/// How many unplaced tasks the demo explains.
const SHOWN: usize = 5;

/// Generates 1,000 agents and 5,000 unique-host tasks, solves them and prints the outcome.
pub fn run() -> Result<(), CliError> {
    let options = GenOptions {
        agents: 1_000,
        tasks: 5_000,
        seed: 1,
        constraints: ConstraintMix::UniqueHostPerGroup { group_size: 10 },
        shapes: Shapes::Uniform,
        ..GenOptions::default()
    };
    let workload = generate(&options).map_err(|e| CliError::Failed(e.to_string()))?;
    println!(
        "demo: {} agents, {} tasks in groups of 10, one task per host per group, spread over {} zones",
        options.agents, options.tasks, options.zones
    );
    let solved = solve(&workload, Strategy::Indexed, 1)?;
    println!("{}", summary(&solved));
    let unplaced = &solved.plan.unplaced;
    if unplaced.is_empty() {
        println!("every task was placed");
    }
    for task in unplaced.iter().take(SHOWN) {
        println!("{}", explain(task));
    }
    if unplaced.len() > SHOWN {
        println!("... and {} more unplaced", unplaced.len() - SHOWN);
    }
    Ok(())
}

fn explain(task: &Unplaced) -> String {
    let reasons: Vec<String> = task.reasons.iter().map(reason).collect();
    format!("  {} not placed ({} agents): {}", task.task_id, task.agents_considered, reasons.join("; "))
}

fn reason(r: &ReasonCount) -> String {
    let why = match &r.reason {
        Reason::Shortfall { resource, asked, best_available } => {
            format!("short of {resource} (asked {asked}, best {best_available})")
        }
        Reason::Ports { asked, best_available } => format!("too few ports (asked {asked}, best {best_available})"),
        Reason::PortTaken { port } => format!("port {port} taken"),
        Reason::ClaimedByOtherGroup => "held by another group".to_owned(),
        Reason::Constraint { name, .. } => format!("failed {name}"),
        other => format!("{other:?}"),
    };
    format!("{} agents {why}", r.agents)
}
