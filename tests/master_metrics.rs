//! `GET /metrics/snapshot` of `offerpack master`: Mesos' names, one flat JSON object of
//! doubles with sorted keys, figures that follow what the master did.
#![cfg(feature = "cli")]

mod cli_support;

use std::io::{Read, Write};
use std::net::TcpStream;

use cli_support::{bin, start_master};

fn snapshot(base: &str) -> (String, serde_json::Map<String, serde_json::Value>) {
    let address = base.trim_start_matches("http://");
    let mut tcp = TcpStream::connect(address).unwrap();
    write!(tcp, "GET /metrics/snapshot HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    let body = answer[answer.find("\r\n\r\n").expect("a body") + 4..].to_owned();
    let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    (body, value.as_object().expect("one flat object").clone())
}

#[test]
fn master_metrics_snapshot_follows_the_tasks() {
    let (_master, url) = start_master(&["--agents", "2", "--cpus", "4", "--task-duration-ms", "50"]);
    let base = url.trim_end_matches("/api/v1/scheduler").to_owned();
    let (_, before) = snapshot(&base);
    assert_eq!(before["master/elected"], 1.0);
    assert_eq!(before["master/slaves_active"], 2.0);
    assert_eq!(before["master/cpus_total"], 8.0);
    assert_eq!(before["master/tasks_finished"], 0.0);
    let out = bin().args(["run", "--master", &base, "--tasks", "5"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (body, after) = snapshot(&base);
    assert_eq!(after["master/tasks_finished"], 5.0, "{body}");
    assert_eq!(after["master/tasks_running"], 0.0, "{body}");
    assert_eq!(after["master/cpus_used"], 0.0, "{body}");
    assert!(after["master/uptime_secs"].as_f64().unwrap() > before["master/uptime_secs"].as_f64().unwrap());
    // In the body as written (the parsed map sorts by itself).
    let keys: Vec<&str> = body.trim_matches(['{', '}']).split(',').filter_map(|f| f.split(':').next()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys.len(), after.len());
    assert_eq!(keys, sorted, "keys in sorted order");
    assert!(after.values().all(serde_json::Value::is_f64), "every value a double: {body}");
}
