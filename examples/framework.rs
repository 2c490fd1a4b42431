//! A complete Mesos framework: runs N sleep tasks and prints every update until they finish.
//! `cargo run --features driver --example framework -- http://MASTER:5050 [N]`

#[cfg(feature = "driver")]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use offerpack::driver::{Framework, FrameworkConfig};
    use offerpack::session::{CommandSpec, StopMode, TaskRequest, Update};
    use offerpack::TaskSpec;

    let mut args = std::env::args().skip(1);
    let master = args.next().ok_or("usage: framework MASTER_URL [TASKS]")?;
    let count: usize = args.next().map_or(Ok(3), |n| n.parse())?;
    let (handle, mut updates) = Framework::start(FrameworkConfig::new("sleepers", "root", [master]))?;
    for i in 0..count {
        let spec =
            TaskSpec::builder(format!("sleep-{i}"), "sleepers").scalar("cpus", 0.1).scalar("mem", 32.0).build()?;
        handle.submit(TaskRequest::command(spec, CommandSpec::shell("sleep 5"))).await?;
    }
    let mut finished = 0;
    while let Some(update) = updates.recv().await {
        println!("{update:?}");
        if let Update::Task(task) = update {
            finished += usize::from(task.state.is_terminal());
            if finished == count {
                handle.stop(StopMode::Teardown);
            }
        }
    }
    Ok(())
}

#[cfg(not(feature = "driver"))]
fn main() {
    eprintln!("this example needs `--features driver`");
}
