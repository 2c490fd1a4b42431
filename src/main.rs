//! The `offerpack` command line: `solve`, `gen`, `replay`, `master`, `demo`, `run`, `artifacts`,
//! `agent`, `executor`, `completions` and `help`; see `offerpack --help` and
//! `offerpack <command> --help`.

mod cli;

use std::process::ExitCode;

use cli::args::Command;

fn main() -> ExitCode {
    let (format, command) = match cli::args::parse_from(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(e) => return cli::refuse(&e, cli::flags::log_format_of(std::env::args_os())),
    };
    cli::logs::init(format);
    let result = match command {
        Command::Solve(args) => cli::solve::run(&args),
        Command::Gen(args) => cli::gen::run(&args),
        Command::Replay(args) => cli::replay::run(&args),
        Command::Master(args) => cli::master::run(&args),
        Command::Demo(args) if args.multinode => cli::multinode::run(&cli::multinode::MultinodeArgs {
            agents: args.agents,
            tasks: args.tasks,
            deadline: args.deadline,
            retry: args.retry,
        }),
        Command::Demo(args) => cli::demo::run(&args),
        Command::Soak(args) => cli::soak::run(&args),
        Command::Run(args) => cli::run::run(&args),
        Command::Artifacts(args) => cli::artifacts::run(&args),
        Command::Agent(args) => cli::agent::run(&args),
        Command::Executor => cli::executor::run(),
        Command::Completions(shell) => cli::completions(shell),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::report(&e),
    }
}
