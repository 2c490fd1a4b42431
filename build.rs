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

/// Compiles `proto/mesos/v1/{mesos,scheduler,master,executor}.proto` into
/// `OUT_DIR/mesos.v1{,.scheduler,.master,.executor}.rs` and the private agent API
/// `proto/offerpack/agent.proto` into `OUT_DIR/offerpack.agent.rs`,
/// and writes the encoded descriptors to `OUT_DIR/mesos_v1_descriptors.bin` (read at run time
/// by `mesos::json`, which maps JSON to and from these messages by their proto field names).
#[cfg(feature = "mesos")]
fn mesos_protos() -> Result<(), Box<dyn std::error::Error>> {
    use protox::prost::Message as _;
    const PROTOS: [&str; 5] = [
        "proto/mesos/v1/mesos.proto",
        "proto/mesos/v1/scheduler.proto",
        "proto/mesos/v1/master.proto",
        "proto/mesos/v1/executor.proto",
        "proto/offerpack/agent.proto",
    ];
    let fds = protox::compile(PROTOS, ["proto"])?;
    let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    std::fs::write(out_dir.join("mesos_v1_descriptors.bin"), fds.encode_to_vec())?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
