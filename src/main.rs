//! The `offerpack` command line: `solve`, `gen`, `replay`, `master`, `demo`, `run`, `artifacts`,
//! `agent`, `executor` and `help`; see `offerpack help`.

mod cli;

use std::process::ExitCode;

use cli::args::Command;

fn main() -> ExitCode {
    let (format, args) = match cli::logs::take_log_format(std::env::args_os().skip(1).collect()) {
        Ok(split) => split,
        Err(e) => return cli::report(&e),
    };
    cli::logs::init(format);
    let result = match cli::args::parse_from(args) {
        Ok(Command::Solve(args)) => cli::solve::run(&args),
        Ok(Command::Gen(args)) => cli::gen::run(&args),
        Ok(Command::Replay(args)) => cli::replay::run(&args),
        Ok(Command::Master(args)) => cli::master::run(&args),
        Ok(Command::Demo(args)) if args.multinode => cli::multinode::run(&cli::multinode::MultinodeArgs {
            agents: args.agents,
            tasks: args.tasks,
            deadline: args.deadline,
            retry: args.retry,
        }),
        Ok(Command::Demo(args)) => cli::demo::run(&args),
        Ok(Command::Soak(args)) => cli::soak::run(&args),
        Ok(Command::Run(args)) => cli::run::run(&args),
        Ok(Command::Artifacts(args)) => cli::artifacts::run(&args),
        Ok(Command::Agent(args)) => cli::agent::run(&args),
        Ok(Command::Executor) => cli::executor::run(),
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            Ok(())
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::report(&e),
    }
}
