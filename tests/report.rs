//! `offerpack solve --report`: the page parses as XML, holds nothing fetched, and its figures are
//! the plan's (checked against the plan's JSON and the `--bound` line); a headless browser draws
//! it (when `chromium` is on the PATH).
#![cfg(feature = "cli")]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use roxmltree::{Document, Node, ParsingOptions};
use serde_json::{json, Value};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_offerpack")).args(args).output().expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A scratch file path unique to this test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Names with every character that needs escaping.
const TRICKY: &str = "x<&\"'>y";

/// 12 agents of 8 cpus / 32 GB over two zones (the attribute named with [`TRICKY`]), four of
/// them with 2 units of a `TRICKY` resource; one task running on `a00`; tasks that fit, tasks
/// too big for any agent, tasks asking too much of the tricky resource and a group of five
/// unique per zone (three left over). Task ids carry the tricky characters too.
fn tricky_workload() -> Value {
    let offers: Vec<Value> = (0..12)
        .map(|a| {
            let mut resources = json!({"cpus": 8, "mem": 32768});
            if a % 3 == 0 {
                resources[TRICKY] = json!(2);
            }
            json!({"id": format!("o{a:02}"), "agent_id": format!("a{a:02}"), "hostname": format!("h{a:02}"),
                   "resources": resources, "attributes": {TRICKY: format!("z{}", a % 2)}})
        })
        .collect();
    let mut tasks = Vec::new();
    for t in 0..20 {
        tasks.push(json!({"id": format!("fit-{t}{TRICKY}"), "group": "fit",
                          "resources": {"cpus": 1 + t % 3, "mem": 1024 * (1 + t % 5)}}));
    }
    for t in 0..3 {
        tasks.push(json!({"id": format!("big-{t}{TRICKY}"), "group": "big", "resources": {"cpus": 64}}));
    }
    for t in 0..2 {
        tasks.push(json!({"id": format!("odd-{t}"), "group": "odd", "resources": {"cpus": 1, TRICKY: 5}}));
    }
    for t in 0..5 {
        tasks.push(json!({"id": format!("uniq-{t}"), "group": "uniq", "resources": {"cpus": 1},
                          "constraints": [[TRICKY, "UNIQUE"]]}));
    }
    let running = [json!({"id": "r0", "group": "old", "agent_id": "a00", "resources": {"cpus": 2, "mem": 4096}})];
    json!({"offers": offers, "tasks": tasks, "running": running})
}

/// Writes `workload`, solves it with `--bound --report`; the page, the plan JSON and stderr.
fn solve_with_report(name: &str, workload: &Value) -> (String, Value, String) {
    let (input, plan, html) =
        (scratch(&format!("{name}.json")), scratch(&format!("{name}.plan.json")), scratch(&format!("{name}.html")));
    std::fs::write(&input, workload.to_string()).unwrap();
    let out = run(&["solve", path(&input), "--bound", "--out", path(&plan), "--report", path(&html)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    (std::fs::read_to_string(&html).unwrap(), plan, stderr(&out))
}

fn parse(html: &str) -> Document<'_> {
    let options = ParsingOptions { allow_dtd: true, ..ParsingOptions::default() };
    Document::parse_with_options(html, options).unwrap_or_else(|e| panic!("not well-formed: {e}"))
}

fn has_class(node: &Node<'_, '_>, class: &str) -> bool {
    node.attribute("class") == Some(class)
}

/// The `<figure id=...>` of the page.
fn figure<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Node<'a, 'i> {
    doc.descendants().find(|n| n.has_tag_name("figure") && n.attribute("id") == Some(id)).expect("the figure")
}

/// The text of the `<td>` beside the `<th>` reading `what` in the summary table.
fn fact(doc: &Document<'_>, what: &str) -> String {
    let th = doc.descendants().find(|n| n.has_tag_name("th") && n.text() == Some(what)).expect(what);
    th.next_sibling_element().and_then(|td| td.text()).expect("a value").to_owned()
}

/// The chart label of a reason in the plan's JSON.
fn label_of(reason: &Value) -> String {
    let field = |k: &str| reason[k].to_string().trim_matches('"').to_owned();
    match reason["reason"].as_str().unwrap() {
        "shortfall" => format!("short of {}", reason["resource"].as_str().unwrap()),
        "ports" => "too few free ports".to_owned(),
        "port_taken" => format!("port {} taken", field("port")),
        "claimed_by_other_group" => "agent held by another group".to_owned(),
        "blocked_at_its_turn" => "blocked at its turn".to_owned(),
        "constraint" => format!("constraint {}", reason["name"].as_str().unwrap()),
        other => panic!("unknown reason {other}"),
    }
}

/// Unplaced tasks per main reason (most agents, first on ties), from the plan's JSON.
fn expected_reasons(plan: &Value) -> BTreeMap<String, f64> {
    let mut counts = BTreeMap::new();
    for task in plan["unplaced"].as_array().unwrap() {
        let mut best: Option<&Value> = None;
        for r in task["reasons"].as_array().unwrap() {
            if best.is_none_or(|b| r["agents"].as_u64() > b["agents"].as_u64()) {
                best = Some(r);
            }
        }
        let label = match best {
            Some(r) => label_of(r),
            None if task["agents_considered"] == 0 => "no agent had an offer".to_owned(),
            None => "no reason recorded".to_owned(),
        };
        *counts.entry(label).or_insert(0.0) += 1.0;
    }
    counts
}

/// The number after `key` in `text`, e.g. `lower bound 12.5` → 12.5.
fn number_after(text: &str, key: &str) -> f64 {
    let at = text.find(key).unwrap_or_else(|| panic!("{key:?} in {text}")) + key.len();
    let word: String = text[at..].trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    word.parse().unwrap_or_else(|_| panic!("a number after {key:?} in {text}"))
}

#[test]
fn report_page_parses_and_fetches_nothing() {
    let (html, _, _) = solve_with_report("tricky-xml", &tricky_workload());
    let doc = parse(&html);
    assert_eq!(doc.root_element().tag_name().name(), "html");
    for node in doc.descendants().filter(Node::is_element) {
        assert!(!node.has_tag_name("script") && !node.has_tag_name("img") && !node.has_tag_name("link"), "{node:?}");
        for attr in node.attributes() {
            assert!(!matches!(attr.name(), "href" | "src") && !attr.name().starts_with("on"), "{node:?}");
        }
    }
    let style = doc.descendants().find(|n| n.has_tag_name("style")).and_then(|n| n.text()).unwrap();
    assert!(!style.contains("url(") && !style.contains("@import") && !style.contains("@font-face"), "{style}");
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("svg")).count(), 4, "one chart per section");
}

#[test]
fn report_escapes_every_text_from_the_workload() {
    let (html, _, _) = solve_with_report("tricky-escape", &tricky_workload());
    assert!(!html.contains(TRICKY), "the raw characters reached the page");
    let doc = parse(&html);
    let unplaced = figure(&doc, "unplaced");
    let labels: HashSet<&str> = unplaced.descendants().filter_map(|n| n.attribute("data-label")).collect();
    assert!(labels.contains(format!("short of {TRICKY}").as_str()), "{labels:?}");
    assert!(labels.contains(format!("constraint {TRICKY}:UNIQUE").as_str()), "{labels:?}");
    let titles: Vec<&str> =
        unplaced.descendants().filter(|n| n.has_tag_name("title")).filter_map(|n| n.text()).collect();
    assert!(titles.iter().any(|t| t.contains(&format!("e.g. big-0{TRICKY}"))), "{titles:?}");
}

#[test]
fn report_figures_match_the_plan_json() {
    let workload = tricky_workload();
    let (html, plan, stderr) = solve_with_report("tricky-figures", &workload);
    let doc = parse(&html);
    // (a) one mark per offered agent, at its cpu share used after the plan.
    let marks: Vec<Node<'_, '_>> =
        figure(&doc, "utilization").descendants().filter(|n| has_class(n, "agent")).collect();
    assert_eq!(marks.len() as u64, plan["stats"]["agents_considered"].as_u64().unwrap());
    assert_eq!(marks.len(), 12);
    let mut cpus_used: HashMap<String, f64> = HashMap::from([("a00".to_owned(), 2.0)]);
    for launch in plan["launches"].as_array().unwrap() {
        let cpus: f64 = launch["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == "cpus")
            .map(|r| r["amount"].as_f64().unwrap())
            .sum();
        *cpus_used.entry(launch["agent_id"].as_str().unwrap().to_owned()).or_default() += cpus;
    }
    for mark in &marks {
        let tooltip = mark.first_element_child().and_then(|t| t.text()).unwrap();
        let agent = tooltip.split(':').next().unwrap();
        let total = if agent == "a00" { 10.0 } else { 8.0 };
        let expected = cpus_used.get(agent).copied().unwrap_or(0.0) / total * 100.0;
        assert!((number_after(tooltip, "cpus") - expected).abs() < 0.01, "{tooltip}: expected {expected}");
    }
    // (b) the bound and the units used, as `--bound` prints them.
    let doc_bound: f64 = fact(&doc, "lower bound (units)").parse().unwrap();
    assert_eq!(doc_bound, number_after(&stderr, "lower bound"), "{stderr}");
    let used: f64 = fact(&doc, "capacity used (units)").parse().unwrap();
    assert_eq!(used, number_after(&stderr, "capacity:"), "{stderr}");
    let bars: HashMap<&str, f64> = figure(&doc, "capacity")
        .descendants()
        .filter(|n| has_class(n, "bar"))
        .map(|n| (n.attribute("data-label").unwrap(), n.attribute("data-value").unwrap().parse().unwrap()))
        .collect();
    assert!((bars["lower bound"] - doc_bound).abs() <= 0.05, "{bars:?}");
    // (c) unplaced tasks per reason.
    let got: BTreeMap<String, f64> = figure(&doc, "unplaced")
        .descendants()
        .filter(|n| has_class(n, "bar"))
        .map(|n| (n.attribute("data-label").unwrap().to_owned(), n.attribute("data-value").unwrap().parse().unwrap()))
        .collect();
    let expected = expected_reasons(&plan);
    assert_eq!(got, expected);
    assert_eq!(got.values().sum::<f64>(), plan["stats"]["tasks_unplaced"].as_f64().unwrap());
    assert!(expected.len() >= 3, "the workload leaves tasks unplaced for three reasons: {expected:?}");
    // (d) no buckets yet.
    let buckets = figure(&doc, "buckets");
    assert!(buckets.descendants().any(|n| n.text() == Some("no buckets")));
}

#[test]
fn report_draws_the_plans_bucket_shares() {
    let mut workload = tricky_workload();
    workload["buckets"] = json!({"web": {"weight": 2}, "batch": {}});
    for (i, task) in workload["tasks"].as_array_mut().unwrap().iter_mut().enumerate() {
        task["bucket"] = json!(if i % 2 == 0 { "web" } else { "batch" });
    }
    let (html, plan, _) = solve_with_report("buckets", &workload);
    let doc = parse(&html);
    let chart = figure(&doc, "buckets");
    let bars: BTreeMap<String, f64> = chart
        .descendants()
        .filter(|n| has_class(n, "bar"))
        .map(|n| (n.attribute("data-label").unwrap().to_owned(), n.attribute("data-value").unwrap().parse().unwrap()))
        .collect();
    let expected: BTreeMap<String, f64> = plan["stats"]["buckets"]
        .as_array()
        .expect("a queued pass reports its buckets")
        .iter()
        .map(|b| (b["bucket"].as_str().unwrap().to_owned(), b["dominant_share"].as_f64().unwrap()))
        .collect();
    assert_eq!(bars.len(), 2);
    for (bucket, share) in &expected {
        assert!((bars[bucket] - share).abs() < 1e-9, "{bucket}: {bars:?} against {expected:?}");
    }
}

#[test]
fn report_bins_thousands_of_agents_with_counts_that_add_up() {
    let (input, html) = (scratch("many.json"), scratch("many.html"));
    let gen = run(&["gen", "--agents", "3000", "--tasks", "9000", "--shapes", "random", "--out", path(&input)]);
    assert!(gen.status.success(), "{}", stderr(&gen));
    let out = run(&["solve", path(&input), "--out", path(&scratch("many.plan.json")), "--report", path(&html)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.len() < 100_000, "{} bytes", text.len());
    let doc = parse(&text);
    let map = figure(&doc, "utilization");
    assert_eq!(map.descendants().filter(|n| has_class(n, "agent")).count(), 0);
    let counts: Vec<u64> =
        map.descendants().filter_map(|n| n.attribute("data-count")).map(|c| c.parse().unwrap()).collect();
    assert!(counts.len() > 1, "{counts:?}");
    assert_eq!(counts.iter().sum::<u64>(), 3000);
}

mod screenshot {
    //! A real headless browser draws the page; the picture is checked not to be blank.

    use super::*;

    /// Whether `chromium` is on the PATH.
    fn chromium() -> Option<PathBuf> {
        let paths = std::env::var_os("PATH")?;
        std::env::split_paths(&paths).map(|dir| dir.join("chromium")).find(|p| p.is_file())
    }

    /// The RGB(A) pixels of an 8-bit non-interlaced truecolour PNG: `(width, channels, pixels)`.
    fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        let (mut at, mut data, mut header) = (8, Vec::new(), None);
        while at + 8 <= bytes.len() {
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let (kind, body) = (&bytes[at + 4..at + 8], &bytes[at + 8..at + 8 + len]);
            match kind {
                b"IHDR" => {
                    header =
                        Some((u32::from_be_bytes(body[..4].try_into().unwrap()) as usize, body[8], body[9], body[12]))
                }
                b"IDAT" => data.extend_from_slice(body),
                _ => {}
            }
            at += 12 + len;
        }
        let (width, depth, colour, interlace) = header.expect("an IHDR chunk");
        assert_eq!((depth, interlace), (8, 0), "only 8-bit, non-interlaced pictures are checked");
        let channels = match colour {
            2 => 3,
            6 => 4,
            other => panic!("colour type {other}"),
        };
        let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&data).expect("the pixels inflate");
        (width, channels, unfilter(&raw, width * channels, channels))
    }

    /// Undoes the per-row filters of PNG.
    fn unfilter(raw: &[u8], stride: usize, bpp: usize) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::with_capacity(raw.len());
        for row in raw.chunks(stride + 1) {
            let (filter, line) = (row[0], &row[1..]);
            let start = out.len();
            for (i, &x) in line.iter().enumerate() {
                let a = if i >= bpp { out[start + i - bpp] } else { 0 };
                let b = if start >= stride { out[start - stride + i] } else { 0 };
                let c = if start >= stride && i >= bpp { out[start - stride + i - bpp] } else { 0 };
                let predicted = match filter {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                    4 => paeth(a, b, c),
                    other => panic!("filter {other}"),
                };
                out.push(x.wrapping_add(predicted));
            }
        }
        out
    }

    fn paeth(a: u8, b: u8, c: u8) -> u8 {
        let p = i16::from(a) + i16::from(b) - i16::from(c);
        let (pa, pb, pc) = ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
        if pa <= pb && pa <= pc {
            a
        } else if pb <= pc {
            b
        } else {
            c
        }
    }

    #[test]
    fn report_screenshot_in_headless_chromium_is_not_blank() {
        let Some(chromium) = chromium() else {
            println!("skipped: no `chromium` on the PATH (apt-get install chromium to run this test)");
            return;
        };
        let (_, _, _) = solve_with_report("screenshot", &tricky_workload());
        let (html, png) = (scratch("screenshot.html"), scratch("screenshot.png"));
        let _ = std::fs::remove_file(&png);
        let out = Command::new(chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=760,1400"])
            .arg(format!("--screenshot={}", path(&png)))
            .arg(format!("file://{}", path(&html)))
            .output()
            .expect("chromium runs");
        assert!(png.is_file(), "no screenshot: {}", stderr(&out));
        let (width, channels, pixels) = decode_png(&std::fs::read(&png).unwrap());
        assert_eq!(width, 760);
        let colours: HashSet<&[u8]> = pixels.chunks(channels).map(|p| &p[..3]).collect();
        assert!(colours.len() > 50, "{} colours", colours.len());
        // Chart colours (the bars' and the stranded classes') are on the page, not only text on white.
        let bluish = pixels.chunks(channels).filter(|p| p[2] > 150 && p[0] < 120).count();
        assert!(bluish > 2000, "{bluish} bluish pixels");
    }
}
