//! Build script: with the `mesos` feature, compiles the hand-written Mesos v1 protos under
//! `proto/` into Rust (prost) without a system `protoc`: `protox` parses them into a
//! `FileDescriptorSet`, `prost-build` generates the code into `OUT_DIR`. Without the feature
//! it does nothing.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=proto");
    if std::env::var_os("CARGO_FEATURE_MESOS").is_none() {
        return Ok(());
    }
    #[cfg(feature = "mesos")]
    mesos_protos()?;
    Ok(())
}

/// Compiles `proto/mesos/v1/{mesos,scheduler}.proto` into `OUT_DIR/mesos.v1{,.scheduler}.rs`.
#[cfg(feature = "mesos")]
fn mesos_protos() -> Result<(), Box<dyn std::error::Error>> {
    const PROTOS: [&str; 2] = ["proto/mesos/v1/mesos.proto", "proto/mesos/v1/scheduler.proto"];
    let fds = protox::compile(PROTOS, ["proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
