//! `offerpack solve` on the README's autoscaling example: the plan carries the hints.
#![cfg(feature = "cli")]

use std::process::Command;

use serde_json::Value;

/// The JSON block of the README's "Autoscaling hints" section.
fn readme_example() -> String {
    let readme = include_str!("../README.md");
    let section = &readme[readme.find("### Autoscaling hints").expect("the section")..];
    let start = section.find("```json\n").expect("a JSON block") + "```json\n".len();
    let end = start + section[start..].find("```").expect("the block's end");
    section[start..end].to_owned()
}

#[test]
fn cli_autoscale_readme_example_gives_its_hints() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-autoscale");
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("workload.json"), dir.join("plan.json"));
    std::fs::write(&input, readme_example()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_offerpack"))
        .args(["solve", input.to_str().unwrap(), "--out", output.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(plan["launches"].as_array().unwrap().len(), 2);
    assert_eq!(plan["scale_up"], serde_json::json!({"c4": 3}));
    assert_eq!(plan["scale_down"], serde_json::json!(["g2", "g3"]));
}

#[test]
fn cli_autoscale_bad_rules_name_the_place() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-autoscale");
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("bad.json");
    std::fs::write(
        &input,
        r#"{"autoscale": {"attribute": "class", "classes": {"c": {"min_idle": 3, "max_idle": 1}}}}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_offerpack")).args(["solve", input.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("autoscale"), "{}", String::from_utf8_lossy(&out.stderr));
}
