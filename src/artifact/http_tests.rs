//! Unit tests of the HTTP decisions, without sockets.

use bytes::Bytes;

use super::*;

/// Ten bytes `0123456789` as `digits`, and an empty artifact `empty`.
fn artifacts() -> Artifacts {
    let mut artifacts = Artifacts::new();
    artifacts.add_bytes("digits", Bytes::from_static(b"0123456789")).unwrap();
    artifacts.add_bytes("empty", Bytes::new()).unwrap();
    artifacts
}

fn get(path: &str) -> Request<'_> {
    Request { method: "GET", path, ..Request::default() }
}

fn ranged(range: &str) -> Response {
    respond(&artifacts(), &Request { range: Some(range), ..get("/artifacts/digits") })
}

fn etag(artifacts: &Artifacts, name: &str) -> String {
    format!("\"{}\"", artifacts.sha256_hex(name).unwrap())
}

#[test]
fn respond_get_sends_whole_artifact_with_headers() {
    let artifacts = artifacts();
    let response = respond(&artifacts, &get("/artifacts/digits"));
    assert_eq!(response.status, 200);
    assert_eq!(response.body, Body::Artifact { name: "digits".into(), start: 0, len: 10 });
    assert_eq!(response.header("content-length"), Some("10"));
    assert_eq!(response.header("content-type"), Some("application/octet-stream"));
    assert_eq!(response.header("accept-ranges"), Some("bytes"));
    assert_eq!(response.header("etag"), Some(etag(&artifacts, "digits").as_str()));
    assert_eq!(response.header("content-range"), None);
}

#[test]
fn respond_head_sends_headers_without_body() {
    let response = respond(&artifacts(), &Request { method: "HEAD", ..get("/artifacts/digits") });
    assert_eq!(response.status, 200);
    assert_eq!(response.body, Body::Empty);
    assert_eq!(response.header("content-length"), Some("10"));
}

#[test]
fn respond_empty_artifact_has_zero_length() {
    let response = respond(&artifacts(), &get("/artifacts/empty"));
    assert_eq!(response.status, 200);
    assert_eq!(response.body, Body::Empty);
    assert_eq!(response.header("content-length"), Some("0"));
}

#[test]
fn respond_other_methods_are_405_with_allow() {
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "get", "TRACE"] {
        let response = respond(&artifacts(), &Request { method, ..get("/artifacts/digits") });
        assert_eq!(response.status, 405, "{method}");
        assert_eq!(response.header("allow"), Some("GET, HEAD"), "{method}");
    }
}

#[test]
fn respond_paths_outside_registered_names_are_404() {
    let paths = [
        "/",
        "",
        "/artifacts",
        "/artifacts/",
        "/artifacts/../digits",
        "/artifacts/..",
        "/artifacts/%2e%2e/digits",
        "/artifacts/%2E%2E%2Fdigits",
        "/artifacts/digits/",
        "/artifacts/digits/x",
        "/artifacts//digits",
        "/Artifacts/digits",
        "/digits",
        "/artifacts/dig%69ts",
        "/artifacts/nope",
        "/etc/passwd",
        "/artifacts/..%2f..%2fetc%2fpasswd",
    ];
    for path in paths {
        let response = respond(&artifacts(), &get(path));
        assert_eq!(response.status, 404, "{path}");
        let Body::Text(text) = &response.body else { panic!("{path}: {:?}", response.body) };
        assert_eq!(response.header("content-length"), Some(text.len().to_string().as_str()), "{path}");
        assert!(text.starts_with("not found") || path == "/artifacts/nope", "{path}: {text}");
    }
}

#[test]
fn respond_unknown_name_says_which() {
    let response = respond(&artifacts(), &get("/artifacts/nope"));
    assert_eq!(response.status, 404);
    assert_eq!(response.body, Body::Text("no artifact named \"nope\"\n".into()));
}

#[test]
fn respond_if_none_match_is_304() {
    let artifacts = artifacts();
    let tag = etag(&artifacts, "digits");
    for value in [tag.clone(), format!("W/{tag}"), format!("\"x\", {tag}"), "*".to_owned()] {
        let response = respond(&artifacts, &Request { if_none_match: Some(&value), ..get("/artifacts/digits") });
        assert_eq!(response.status, 304, "{value}");
        assert_eq!(response.body, Body::Empty);
        assert_eq!(response.header("etag"), Some(tag.as_str()));
    }
    let response = respond(&artifacts, &Request { if_none_match: Some("\"other\""), ..get("/artifacts/digits") });
    assert_eq!(response.status, 200);
}

#[test]
fn respond_range_first_last_is_206() {
    let response = ranged("bytes=2-5");
    assert_eq!(response.status, 206);
    assert_eq!(response.body, Body::Artifact { name: "digits".into(), start: 2, len: 4 });
    assert_eq!(response.header("content-range"), Some("bytes 2-5/10"));
    assert_eq!(response.header("content-length"), Some("4"));
}

#[test]
fn respond_range_open_end_runs_to_the_end() {
    let response = ranged("bytes=7-");
    assert_eq!(response.status, 206);
    assert_eq!(response.body, Body::Artifact { name: "digits".into(), start: 7, len: 3 });
    assert_eq!(response.header("content-range"), Some("bytes 7-9/10"));
}

#[test]
fn respond_range_last_past_end_is_clamped() {
    let response = ranged("bytes=8-1000");
    assert_eq!(response.header("content-range"), Some("bytes 8-9/10"));
    let response = ranged("bytes=0-99999999999999999999999");
    assert_eq!(response.header("content-range"), Some("bytes 0-9/10"));
}

#[test]
fn respond_range_suffix_is_the_tail() {
    let response = ranged("bytes=-3");
    assert_eq!(response.status, 206);
    assert_eq!(response.body, Body::Artifact { name: "digits".into(), start: 7, len: 3 });
    assert_eq!(response.header("content-range"), Some("bytes 7-9/10"));
    let response = ranged("bytes=-50");
    assert_eq!(response.header("content-range"), Some("bytes 0-9/10"));
}

#[test]
fn respond_range_unsatisfiable_is_416() {
    for range in ["bytes=10-", "bytes=10-20", "bytes=-0", "bytes=99999999999999999999999-"] {
        let response = ranged(range);
        assert_eq!(response.status, 416, "{range}");
        assert_eq!(response.header("content-range"), Some("bytes */10"), "{range}");
        assert!(matches!(response.body, Body::Text(_)), "{range}");
    }
    let response = respond(&artifacts(), &Request { range: Some("bytes=0-"), ..get("/artifacts/empty") });
    assert_eq!(response.status, 416);
    assert_eq!(response.header("content-range"), Some("bytes */0"));
}

#[test]
fn respond_range_malformed_or_multiple_sends_whole() {
    for range in ["bytes=0-1,3-4", "items=0-1", "bytes=5-2", "bytes=a-b", "bytes=", "bytes=-", "0-1", "bytes=1"] {
        let response = ranged(range);
        assert_eq!(response.status, 200, "{range}");
        assert_eq!(response.body, Body::Artifact { name: "digits".into(), start: 0, len: 10 }, "{range}");
    }
}

#[test]
fn respond_range_unit_is_case_insensitive() {
    assert_eq!(ranged("Bytes=0-0").status, 206);
    assert_eq!(ranged(" bytes=0-0 ").status, 206);
}

#[test]
fn respond_if_range_mismatch_sends_whole() {
    let artifacts = artifacts();
    let tag = etag(&artifacts, "digits");
    let ask = |if_range| Request { range: Some("bytes=0-1"), if_range: Some(if_range), ..get("/artifacts/digits") };
    assert_eq!(respond(&artifacts, &ask(&tag)).status, 206);
    assert_eq!(respond(&artifacts, &ask("\"stale\"")).status, 200);
}

#[test]
fn respond_head_range_has_range_headers_and_no_body() {
    let response =
        respond(&artifacts(), &Request { method: "HEAD", range: Some("bytes=1-2"), ..get("/artifacts/digits") });
    assert_eq!(response.status, 206);
    assert_eq!(response.body, Body::Empty);
    assert_eq!(response.header("content-length"), Some("2"));
    assert_eq!(response.header("content-range"), Some("bytes 1-2/10"));
}
