//! HTTP Basic authentication between `offerpack run` and `offerpack master --credentials`, and
//! the master's answers on the wire (401 with the realm, 400 on a principal mismatch).
#![cfg(feature = "cli")]

mod cli_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use cli_support::{bin, start_master};

const SECRET: &str = "s3cret-do-not-print";

/// A file with `content`, unique to this test process.
fn file(name: &str, content: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn master() -> (cli_support::KillOnDrop, String) {
    let credentials =
        file("credentials.json", &format!(r#"{{"credentials":[{{"principal":"sched","secret":"{SECRET}"}}]}}"#));
    let (child, url) =
        start_master(&["--agents", "2", "--task-duration-ms", "100", "--credentials", credentials.to_str().unwrap()]);
    (child, url.trim_end_matches("/api/v1/scheduler").to_owned())
}

/// The status line and headers of a JSON SUBSCRIBE with `authorization` and `principal`.
fn subscribe(base: &str, authorization: Option<&str>, principal: Option<&str>) -> String {
    let address = base.trim_start_matches("http://");
    let principal = principal.map(|p| format!(r#","principal":"{p}""#)).unwrap_or_default();
    let body =
        format!(r#"{{"type":"SUBSCRIBE","subscribe":{{"framework_info":{{"user":"u","name":"n"{principal}}}}}}}"#);
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let mut tcp = TcpStream::connect(address).unwrap();
    write!(
        tcp,
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut buffer = vec![0u8; 4096];
    let n = tcp.read(&mut buffer).unwrap();
    String::from_utf8_lossy(&buffer[..n]).into_owned()
}

/// `Basic base64(principal:secret)`, written out for the test.
fn basic(principal: &str, secret: &str) -> String {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{principal}:{secret}").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { TABLE[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    format!("Basic {out}")
}

#[test]
fn cli_auth_master_answers_like_mesos() {
    let (_master, base) = master();
    let none = subscribe(&base, None, None);
    assert!(none.starts_with("HTTP/1.1 401"), "{none}");
    assert!(none.to_lowercase().contains("www-authenticate: basic realm=\"mesos-master-scheduler\""), "{none}");
    let wrong = subscribe(&base, Some(&basic("sched", "nope")), None);
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let mismatch = subscribe(&base, Some(&basic("sched", SECRET)), Some("someone-else"));
    assert!(mismatch.starts_with("HTTP/1.1 400") && mismatch.contains("does not match principal"), "{mismatch}");
    let ok = subscribe(&base, Some(&basic("sched", SECRET)), None);
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
}

#[test]
fn cli_auth_run_with_the_secret_file_finishes_and_never_prints_it() {
    let (_master, base) = master();
    let secret = file("secret", &format!("{SECRET}\n"));
    let out = bin()
        .args(["run", "--master", &base, "--tasks", "3", "--principal", "sched"])
        .args(["--secret-file", secret.to_str().unwrap(), "--capability", "GPU_RESOURCES"])
        .output()
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(all.contains("every task finished"), "{all}");
    assert!(!all.contains(SECRET), "{all}");
}

#[test]
fn cli_auth_wrong_secret_fails_at_once_with_401() {
    let (_master, base) = master();
    let secret = file("wrong", "not-the-secret\n");
    let out = bin()
        .args(["run", "--master", &base, "--tasks", "1", "--principal", "sched", "--connect-timeout", "30"])
        .args(["--secret-file", secret.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("rejected"), "a rejection, not a connect timeout: {err}");
    assert!(!err.contains("not-the-secret"), "{err}");
}
