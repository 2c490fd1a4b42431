//! The binary's logs and metrics: `RUST_LOG` and `--log-format json` turn logs on (one JSON
//! object per line on standard error, the command's own lines included), the default prints what
//! it always printed, a secret from `--secret-file` never shows, even at `trace`, and `run
//! --metrics-listen` serves `GET /metrics` while it runs.
#![cfg(feature = "cli")]

mod cli_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cli_support::{bin, start_master, KillOnDrop};
use serde_json::Value;

const SECRET: &str = "s3cret-never-logged";

/// `offerpack demo` on 3 agents with 3 tasks, with `RUST_LOG` set to `rust_log` (unset for
/// `None`) and `extra` arguments.
fn demo(rust_log: Option<&str>, extra: &[&str]) -> Output {
    let mut command = bin();
    command.args(["demo", "--agents", "3", "--tasks", "3", "--deadline", "60"]).args(extra);
    match rust_log {
        Some(filter) => command.env("RUST_LOG", filter),
        None => command.env_remove("RUST_LOG"),
    };
    let output = command.output().expect("the demo runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes).lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// Every line as a JSON object with a level, a target and fields; panics naming the first
/// line that is not.
fn json_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            let ok = value["level"].is_string() && value["target"].is_string() && value["fields"].is_object();
            assert!(ok, "no level, target or fields: {line}");
            value
        })
        .collect()
}

fn field<'a>(event: &'a Value, name: &str) -> Option<&'a str> {
    event["fields"][name].as_str()
}

#[test]
fn cli_logs_json_lines_carry_the_subscription() {
    let output = demo(Some("offerpack=debug"), &["--log-format", "json"]);
    let events = json_lines(&lines(&output.stderr));
    // The command's own line names the framework id; the driver's `subscribed` event carries it.
    let said = events
        .iter()
        .filter(|e| e["target"] == "offerpack::output")
        .find_map(|e| field(e, "message")?.split(" as framework ").nth(1))
        .expect("the subscribed line, as a JSON event");
    let subscribed = events.iter().find(|e| field(e, "message") == Some("subscribed")).expect("a subscribed event");
    assert_eq!(subscribed["level"], "INFO");
    assert_eq!(field(subscribed, "framework_id"), Some(said));
    assert!(field(subscribed, "master").is_some_and(|m| m.starts_with("http://127.0.0.1:")), "{subscribed}");
    assert_eq!(subscribed["span"]["framework_id"].as_str(), Some(said), "{subscribed}");
    let debug_driver =
        |e: &&Value| e["level"] == "DEBUG" && e["target"].as_str().is_some_and(|t| t.starts_with("offerpack::driver"));
    assert!(events.iter().any(|e| debug_driver(&e)), "no driver debug event");
    assert!(events.iter().any(|e| field(e, "message") == Some("scheduling pass") && e["span"]["pass"].is_u64()));
    // Standard output is the report, as ever.
    let stdout = lines(&output.stdout);
    assert!(stdout.iter().any(|l| l == "every task finished"), "{stdout:?}");
    assert!(stdout.iter().all(|l| !l.starts_with('{')), "{stdout:?}");
}

/// Whether a line looks like one of `tracing_subscriber`'s text lines
/// (`2026-01-01T00:00:00.000000Z  INFO target: message`).
fn is_log_line(line: &str) -> bool {
    let level = line.split_whitespace().nth(1).unwrap_or_default();
    line.starts_with(|c: char| c.is_ascii_digit()) && ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level)
}

#[test]
fn cli_logs_json_usage_error_is_one_json_event() {
    let out = bin().args(["demo", "--log-format", "json", "--fast"]).output().expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    let events = json_lines(&lines(&out.stderr));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0]["level"].as_str(), events[0]["target"].as_str()), (Some("ERROR"), Some("offerpack::output")));
    let message = field(&events[0], "message").unwrap_or_default();
    assert!(message.starts_with("error: unexpected argument '--fast'"), "{message}");
    // Without the flag the same error is plain text.
    let out = bin().args(["demo", "--fast"]).output().expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: unexpected argument '--fast'"));
}

#[test]
fn cli_logs_default_prints_no_log_lines() {
    let quiet = demo(None, &[]);
    let stderr = lines(&quiet.stderr);
    assert!(stderr.iter().all(|l| !is_log_line(l) && !l.starts_with('{')), "{stderr:#?}");
    assert!(stderr.iter().any(|l| l.starts_with("subscribed to http://127.0.0.1:")), "{stderr:#?}");
    // The same run with RUST_LOG shows log lines: the check above can fail.
    let loud = demo(Some("offerpack=info"), &[]);
    let stderr = lines(&loud.stderr);
    assert!(stderr.iter().any(|l| is_log_line(l) && l.contains("subscribed")), "{stderr:#?}");
}

#[test]
fn cli_logs_never_show_the_secret() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let credentials = dir.join("credentials.json");
    std::fs::write(&credentials, format!(r#"{{"credentials":[{{"principal":"sched","secret":"{SECRET}"}}]}}"#))
        .unwrap();
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let (_master, url) =
        start_master(&["--agents", "2", "--task-duration-ms", "100", "--credentials", credentials.to_str().unwrap()]);
    let output = bin()
        .args(["run", "--master", &url, "--tasks", "2", "--deadline", "60", "--log-format", "json"])
        .args(["--principal", "sched", "--secret-file", secret_file.to_str().unwrap()])
        .env("RUST_LOG", "trace")
        .output()
        .expect("the run runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    let events = json_lines(&lines(&output.stderr));
    assert!(events.iter().any(|e| field(e, "message") == Some("subscribed")), "authenticated and subscribed");
    assert!(events.iter().any(|e| e["level"] == "TRACE"), "trace events are on");
    // Neither the secret nor its Basic encoding (`sched:SECRET` in base64) appears anywhere.
    let basic = "c2NoZWQ6czNjcmV0LW5ldmVyLWxvZ2dlZA";
    for text in [&stdout, &stderr] {
        assert!(!text.contains(SECRET) && !text.contains(basic), "the secret leaked");
    }
}

/// The body of `GET /metrics` at `url` (`http://ADDR/metrics`).
fn scrape(url: &str) -> String {
    let addr = url.trim_start_matches("http://").trim_end_matches("/metrics");
    let mut tcp = TcpStream::connect(addr).expect("connect to the metrics server");
    write!(tcp, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

/// The value of the unlabelled sample `name` in a scrape.
fn sample(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn cli_logs_run_serves_metrics_while_it_runs() {
    let (_master, url) = start_master(&["--agents", "2", "--task-duration-ms", "1500"]);
    let mut child = bin()
        .args(["run", "--master", &url, "--tasks", "2", "--deadline", "60", "--metrics-listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the run starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut child = KillOnDrop(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait = Duration::from_secs(20);
    let metrics = rx.recv_timeout(wait).expect("a first line");
    let metrics = metrics.strip_prefix("metrics: ").expect("the metrics URL first").to_owned();
    let subscribed = rx.recv_timeout(wait).expect("a second line");
    assert!(subscribed.starts_with("subscribed to "), "{subscribed}");
    // Subscribed and offered while the tasks run (1.5 s each); the framework reports both.
    let give_up = Instant::now() + wait;
    let body = loop {
        let body = scrape(&metrics);
        if sample(&body, "offerpack_offers_received_total").is_some_and(|n| n >= 1.0) {
            break body;
        }
        assert!(Instant::now() < give_up, "no offer counted: {body}");
        // The pace of polling a condition, not a wait for it.
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(sample(&body, "offerpack_subscribed"), Some(1.0), "{body}");
    let status = child.0.wait().expect("the run ends");
    assert!(status.success());
}
