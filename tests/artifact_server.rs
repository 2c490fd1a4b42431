//! The artifact server over real HTTP on 127.0.0.2 (a loopback address other than 127.0.0.1,
//! standing for another host): whole files, HEAD, ranges, validators, 404s for anything not
//! registered, digests against the system `sha256sum`, settings errors, and the CLI.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use offerpack::artifact::{ArtifactError, ArtifactServer, ArtifactSettings, Artifacts, RunningServer};
use reqwest::header::{
    HeaderMap, ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RANGE,
};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("offerpack-artifacts-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `len` bytes of a pattern that does not repeat at power-of-two strides.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) % 253) as u8).collect()
}

fn bind() -> SocketAddr {
    "127.0.0.2:0".parse().unwrap()
}

async fn serve(files: &[(&str, &Path)]) -> RunningServer {
    // The tests' reqwest clients need a crypto provider (reqwest has none of its own here).
    offerpack::tls::install_default_provider();
    let mut artifacts = Artifacts::new();
    for (name, path) in files {
        artifacts.add_file(name, path).unwrap();
    }
    ArtifactServer::start(ArtifactSettings::new(bind(), None), artifacts).await.unwrap()
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Sends `path` exactly as given (no URL normalisation) and returns the status and body.
async fn raw_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or(String::new(), |(_, body)| body.to_owned());
    (status, body)
}

#[tokio::test]
async fn artifact_server_get_returns_whole_file() {
    let dir = TempDir::new("get");
    let content = pattern(100_000);
    let path = dir.file("exec.bin", &content);
    let server = serve(&[("exec", &path)]).await;
    assert_eq!(server.local_addr().ip().to_string(), "127.0.0.2");
    let url = server.url_for("exec").unwrap();
    assert_eq!(url.as_str(), format!("http://{}/artifacts/exec", server.local_addr()));
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(header(&headers, CONTENT_LENGTH), Some("100000"));
    assert_eq!(header(&headers, CONTENT_TYPE), Some("application/octet-stream"));
    assert_eq!(header(&headers, ACCEPT_RANGES), Some("bytes"));
    let sha = server.artifacts().sha256_hex("exec").unwrap().to_owned();
    assert_eq!(header(&headers, ETAG), Some(format!("\"{sha}\"").as_str()));
    assert_eq!(response.bytes().await.unwrap().as_ref(), content.as_slice());
    server.shutdown().await;
}

#[tokio::test]
async fn artifact_server_head_has_headers_and_no_body() {
    let dir = TempDir::new("head");
    let path = dir.file("a", &pattern(4321));
    let server = serve(&[("a", &path)]).await;
    let client = reqwest::Client::new();
    let response = client.head(server.url_for("a").unwrap()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(response.headers(), CONTENT_LENGTH), Some("4321"));
    assert!(header(response.headers(), ETAG).is_some());
    assert!(response.bytes().await.unwrap().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn artifact_server_serves_byte_ranges() {
    let dir = TempDir::new("ranges");
    let content = pattern(300_000);
    let path = dir.file("r", &content);
    let server = serve(&[("r", &path)]).await;
    let client = reqwest::Client::new();
    let url = server.url_for("r").unwrap();
    let cases: [(&str, usize, usize); 4] = [
        ("bytes=10-19", 10, 20),
        ("bytes=70000-200000", 70_000, 200_001),
        ("bytes=299990-", 299_990, 300_000),
        ("bytes=-65537", 300_000 - 65_537, 300_000),
    ];
    for (range, from, to) in cases {
        let response = client.get(url.clone()).header(RANGE, range).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        let expected_range = format!("bytes {from}-{}/300000", to - 1);
        assert_eq!(header(response.headers(), CONTENT_RANGE), Some(expected_range.as_str()), "{range}");
        assert_eq!(header(response.headers(), CONTENT_LENGTH), Some((to - from).to_string().as_str()));
        assert_eq!(response.bytes().await.unwrap().as_ref(), &content[from..to], "{range}");
    }
    let response = client.get(url).header(RANGE, "bytes=300000-").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(response.headers(), CONTENT_RANGE), Some("bytes */300000"));
    server.shutdown().await;
}

#[tokio::test]
async fn artifact_server_if_none_match_is_304() {
    let dir = TempDir::new("etag");
    let path = dir.file("e", b"hello");
    let server = serve(&[("e", &path)]).await;
    let client = reqwest::Client::new();
    let url = server.url_for("e").unwrap();
    let first = client.get(url.clone()).send().await.unwrap();
    let etag = header(first.headers(), ETAG).unwrap().to_owned();
    let again = client.get(url.clone()).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());
    let other = client.get(url).header(IF_NONE_MATCH, "\"0000\"").send().await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(other.bytes().await.unwrap().as_ref(), b"hello");
    server.shutdown().await;
}

#[tokio::test]
async fn artifact_server_unknown_name_is_404() {
    let dir = TempDir::new("unknown");
    let path = dir.file("k", b"k");
    let server = serve(&[("k", &path)]).await;
    let url = server.base_url().join("artifacts/missing").unwrap();
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("missing"));
    assert!(server.url_for("missing").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn artifact_server_traversal_and_listing_are_404() {
    let dir = TempDir::new("traversal");
    let path = dir.file("served", b"public");
    dir.file("secret", b"do not serve");
    let server = serve(&[("served", &path)]).await;
    let addr = server.local_addr();
    let attempts = [
        "/",
        "/artifacts",
        "/artifacts/",
        "/artifacts/../secret",
        "/artifacts/..",
        "/artifacts/%2e%2e/secret",
        "/artifacts/%2E%2E%2Fsecret",
        "/artifacts/..%2fsecret",
        "/artifacts/served/../secret",
        "/artifacts/secret",
        "/secret",
        "/artifacts//served",
    ];
    for attempt in attempts {
        let (status, body) = raw_get(addr, attempt).await;
        assert_eq!(status, 404, "{attempt}");
        assert!(!body.contains("do not serve") && !body.contains("served\n"), "{attempt}: {body}");
    }
    assert_eq!(raw_get(addr, "/artifacts/served").await, (200, "public".to_owned()));
    let mut artifacts = Artifacts::new();
    assert!(matches!(artifacts.add_file("dir", &dir.0), Err(ArtifactError::Read { .. })));
    server.shutdown().await;
}

#[tokio::test]
async fn artifact_server_sha256_matches_system_sha256sum() {
    let dir = TempDir::new("sha");
    let path = dir.file("s", &pattern(1_000_003));
    let mut artifacts = Artifacts::new();
    artifacts.add_file("s", &path).unwrap();
    let ours = artifacts.sha256_hex("s").unwrap();
    assert_eq!(ours.len(), 64);
    match Command::new("sha256sum").arg(&path).output() {
        Ok(output) if output.status.success() => {
            let text = String::from_utf8(output.stdout).unwrap();
            assert_eq!(text.split_whitespace().next(), Some(ours));
        }
        _ => println!("note: no sha256sum on PATH; digest not compared with it"),
    }
}

#[tokio::test]
async fn artifact_server_serves_five_megabytes() {
    let dir = TempDir::new("big");
    let content = pattern(5 * 1024 * 1024 + 17);
    let path = dir.file("big", &content);
    let server = serve(&[("big", &path)]).await;
    let body = reqwest::get(server.url_for("big").unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(body.len(), content.len());
    assert!(body.as_ref() == content.as_slice());
    server.shutdown().await;
}

#[tokio::test]
async fn artifact_server_refuses_file_changed_since_registration() {
    let dir = TempDir::new("changed");
    let path = dir.file("c", b"original");
    let server = serve(&[("c", &path)]).await;
    std::fs::write(&path, b"replaced with more bytes").unwrap();
    let response = reqwest::get(server.url_for("c").unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.text().await.unwrap().contains("changed since registration"));
    server.shutdown().await;
}

#[tokio::test]
async fn artifact_settings_errors_name_the_settings() {
    let wildcard = ArtifactSettings::new("0.0.0.0:0".parse().unwrap(), None);
    let text = ArtifactServer::start(wildcard, Artifacts::new()).await.unwrap_err().to_string();
    assert!(text.contains("--artifact-advertise"), "{text}");
    let loopback = ArtifactSettings::new(bind(), Some(Url::parse("http://127.0.0.2:8080/").unwrap()));
    let master = Url::parse("http://10.20.30.40:5050/").unwrap();
    let text = loopback.validate(&master).unwrap_err().to_string();
    assert!(text.contains("--artifact-advertise") && text.contains("http://10.20.30.40:5050/"), "{text}");
    loopback.validate(&Url::parse("http://127.0.0.1:5050/").unwrap()).unwrap();
}

/// Kills the child on drop, so a failed assertion leaves no server running.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn cli_artifacts_prints_line_and_serves() {
    offerpack::tls::install_default_provider();
    let dir = TempDir::new("cli");
    let content = pattern(70_000);
    let path = dir.file("tool", &content);
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_offerpack"))
            .args(["artifacts", "--bind", "127.0.0.2:0", "--master", "http://127.0.0.1:5050"])
            .arg(format!("tool={}", path.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.len(), 5, "{line}");
    assert_eq!(fields[0], "tool");
    assert!(fields[1].starts_with("http://127.0.0.2:") && fields[1].ends_with("/artifacts/tool"), "{line}");
    let mut artifacts = Artifacts::new();
    artifacts.add_file("tool", &path).unwrap();
    assert_eq!(fields[2], format!("sha256={}", artifacts.sha256_hex("tool").unwrap()));
    assert_eq!(fields[3..], ["70000", "bytes"]);
    let body = reqwest::get(fields[1]).await.unwrap().bytes().await.unwrap();
    assert!(body.as_ref() == content.as_slice());
}

#[test]
fn cli_artifacts_loopback_advertise_with_remote_master_fails() {
    let dir = TempDir::new("cli-fail");
    let path = dir.file("t", b"t");
    let output = Command::new(env!("CARGO_BIN_EXE_offerpack"))
        .args(["artifacts", "--bind", "0.0.0.0:0", "--advertise", "http://localhost:9/"])
        .args(["--master", "http://mesos.example:5050"])
        .arg(format!("t={}", path.display()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("--artifact-advertise") && text.contains("http://mesos.example:5050/"), "{text}");
}
