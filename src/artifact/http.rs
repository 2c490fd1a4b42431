//! Sans-IO HTTP decisions: a request's method, path and validator headers in, a status,
//! headers and what body to send out. The shell only moves bytes.
//!
//! - `GET` and `HEAD` only; anything else is 405 with `Allow: GET, HEAD`.
//! - `/artifacts/<name>` only, the name matched as sent (no percent-decoding: a valid name never
//!   needs encoding, so `%2e%2e` and the like are simply unknown paths); everything else,
//!   `/` and `/artifacts/` included, is 404 with a short text body. Nothing is ever listed.
//! - `ETag: "<sha256>"`; `If-None-Match` naming it (or `*`) is 304.
//! - One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) is 206 with `Content-Range`; a range
//!   starting past the end is 416 with `Content-Range: bytes */len`. Several ranges, another
//!   unit or a malformed header are ignored and the whole artifact is sent (200), which HTTP
//!   allows. `If-Range` not naming the current ETag also means the whole artifact.
//! - `Content-Length` is always set (for `HEAD` and 304, the length a `GET` would send).

use super::registry::{valid_name, Artifacts};

/// The parts of a request that matter here.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Request<'a> {
    /// The method, e.g. `GET`.
    pub method: &'a str,
    /// The path as sent (without the query).
    pub path: &'a str,
    /// `If-None-Match`, if present.
    pub if_none_match: Option<&'a str>,
    /// `If-Range`, if present.
    pub if_range: Option<&'a str>,
    /// `Range`, if present.
    pub range: Option<&'a str>,
}

/// What to send back as the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// Nothing (HEAD, 304).
    Empty,
    /// A short `text/plain` message.
    Text(String),
    /// `len` bytes of artifact `name` from offset `start`.
    Artifact { name: String, start: u64, len: u64 },
}

/// The decision: status, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values.
    pub headers: Vec<(&'static str, String)>,
    /// The body to send.
    pub body: Body,
}

impl Response {
    /// The value of header `name`, if set.
    #[cfg(test)]
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// A text response with its length and type.
    pub(crate) fn text(status: u16, text: String) -> Response {
        let headers =
            vec![("content-type", "text/plain; charset=utf-8".to_owned()), ("content-length", text.len().to_string())];
        Response { status, headers, body: Body::Text(text) }
    }
}

/// The path prefix artifacts are served under.
pub(crate) const PREFIX: &str = "/artifacts/";

/// What a single-range `Range` header asks for, against a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeAsk {
    /// Not a single byte range we serve: send the whole artifact.
    Ignore,
    /// Bytes `start .. start + len`.
    Part { start: u64, len: u64 },
    /// Starts past the end (or asks for nothing).
    Unsatisfiable,
}

/// Decides the response to `request`.
pub(crate) fn respond(artifacts: &Artifacts, request: &Request<'_>) -> Response {
    let head = match request.method {
        "GET" => false,
        "HEAD" => true,
        _ => {
            let mut response = Response::text(405, "method not allowed: use GET or HEAD\n".to_owned());
            response.headers.push(("allow", "GET, HEAD".to_owned()));
            return response;
        }
    };
    let Some(name) = request.path.strip_prefix(PREFIX).filter(|name| valid_name(name)) else {
        return Response::text(404, "not found: artifacts are served at /artifacts/<name>\n".to_owned());
    };
    let Some(artifact) = artifacts.get(name) else {
        return Response::text(404, format!("no artifact named {name:?}\n"));
    };
    let total = artifact.len();
    let etag = format!("\"{}\"", artifact.sha256_hex());
    let mut headers = vec![("etag", etag.clone()), ("accept-ranges", "bytes".to_owned())];
    if request.if_none_match.is_some_and(|value| etag_listed(value, &etag)) {
        headers.push(("content-length", total.to_string()));
        return Response { status: 304, headers, body: Body::Empty };
    }
    let ask = match request.range {
        Some(range) if request.if_range.is_none_or(|value| value.trim() == etag) => parse_range(range, total),
        _ => RangeAsk::Ignore,
    };
    let (status, start, len) = match ask {
        RangeAsk::Ignore => (200, 0, total),
        RangeAsk::Part { start, len } => {
            headers.push(("content-range", format!("bytes {start}-{}/{total}", start + len - 1)));
            (206, start, len)
        }
        RangeAsk::Unsatisfiable => {
            let mut response = Response::text(416, format!("range not satisfiable: the artifact has {total} bytes\n"));
            response.headers.extend(headers);
            response.headers.push(("content-range", format!("bytes */{total}")));
            return response;
        }
    };
    headers.push(("content-type", "application/octet-stream".to_owned()));
    headers.push(("content-length", len.to_string()));
    let body = if head || len == 0 { Body::Empty } else { Body::Artifact { name: name.to_owned(), start, len } };
    Response { status, headers, body }
}

/// True when the `If-None-Match` value lists `etag` (weakly compared) or is `*`.
fn etag_listed(value: &str, etag: &str) -> bool {
    value.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Reads a `Range` header against an artifact of `total` bytes.
fn parse_range(value: &str, total: u64) -> RangeAsk {
    let value = value.trim();
    let Some(spec) = value.get(..6).filter(|unit| unit.eq_ignore_ascii_case("bytes=")).map(|_| &value[6..]) else {
        return RangeAsk::Ignore;
    };
    if spec.contains(',') {
        return RangeAsk::Ignore;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeAsk::Ignore;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return match digits(last) {
            None => RangeAsk::Ignore,
            Some(0) => RangeAsk::Unsatisfiable,
            Some(_) if total == 0 => RangeAsk::Unsatisfiable,
            Some(n) => {
                let start = total.saturating_sub(n);
                RangeAsk::Part { start, len: total - start }
            }
        };
    }
    let Some(start) = digits(first) else {
        return RangeAsk::Ignore;
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match digits(last) {
            Some(end) if end >= start => end,
            _ => return RangeAsk::Ignore,
        }
    };
    if start >= total {
        return RangeAsk::Unsatisfiable;
    }
    let end = end.min(total - 1);
    RangeAsk::Part { start, len: end - start + 1 }
}

/// A non-empty run of ASCII digits as a number, saturating at `u64::MAX`.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0u64, |n, b| n.saturating_mul(10).saturating_add(u64::from(b - b'0'))))
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
