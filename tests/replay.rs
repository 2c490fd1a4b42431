//! Timed streams and their replay: the format's errors, the generator's steady state, and the
//! replay's accounting against hand-worked streams and seeded families.

use std::time::Duration;

use offerpack::replay::{replay, ReplayOptions, ReplaySummary, Stopwatch};
use offerpack::workload::{generate_stream, ConstraintMix, GenOptions, Shapes, Stream, StreamEvent, StreamOptions};

/// A stopwatch that says every pass took 1 ms: summaries become fully reproducible.
struct OneMilli;

impl Stopwatch for OneMilli {
    fn start(&mut self) {}

    fn stop(&mut self) -> Duration {
        Duration::from_millis(1)
    }
}

fn run(text: &str, opts: &ReplayOptions) -> ReplaySummary {
    let stream = Stream::from_json_lines(text).unwrap();
    replay(&stream, opts, &mut OneMilli).unwrap()
}

const HEADER: &str = r#"{"stream": {"seconds": 1}}"#;

fn lines(body: &[&str]) -> String {
    std::iter::once(HEADER).chain(body.iter().copied()).collect::<Vec<_>>().join("\n")
}

const AGENT: &str =
    r#"{"t_ms": 0, "agent": {"agent_id": "a1", "hostname": "h1", "resources": {"cpus": 4, "mem": 1000}}}"#;

#[test]
fn stream_errors_name_the_line() {
    let cases: [(&[&str], &str); 6] = [
        (&[AGENT, "{not json"], "line 3"),
        (&[r#"{"t_ms": 0, "rescind": "a1", "agent_lost": "a1"}"#], "exactly one"),
        (&[r#"{"t_ms": 0, "task": {"id": "t", "resources": {"cpus": 1}}}"#], "duration_ms"),
        (&[AGENT, r#"{"t_ms": 5, "rescind": "a1"}"#, r#"{"t_ms": 4, "rescind": "a1"}"#], "line 4: t_ms 4 goes back"),
        (&[r#"{"t_ms": 0, "rescind": "a1", "color": 3}"#], "unknown field"),
        (&[AGENT, r#"{"t_ms": 1, "task": {"id": "t", "ports": 1}, "duration_ms": 5}"#], "no ports"),
    ];
    for (body, expected) in cases {
        let err = Stream::from_json_lines(&lines(body)).unwrap_err().to_string();
        assert!(err.contains(expected), "{err:?} lacks {expected:?}");
    }
    assert!(Stream::from_json_lines("").unwrap_err().to_string().contains("no header"));
    for seconds in ["-1", "1e12"] {
        let header = format!(r#"{{"stream": {{"seconds": {seconds}}}}}"#);
        assert!(Stream::from_json_lines(&header).unwrap_err().to_string().contains("a week"), "{seconds}");
    }
    let nan = lines(&[AGENT, r#"{"t_ms": 1, "task": {"id": "t", "resources": {"cpus": -1}}, "duration_ms": 5}"#]);
    assert!(Stream::from_json_lines(&nan).unwrap_err().to_string().contains("\"t\""));
}

#[test]
fn stream_keeps_events_in_order_with_their_times() {
    let text = lines(&[
        AGENT,
        r#"{"t_ms": 0, "running": {"id": "r", "agent_id": "a1", "resources": {"cpus": 1}}, "duration_ms": 300}"#,
        r#"{"t_ms": 20, "task": {"id": "t", "group": "g", "resources": {"cpus": 1}}, "duration_ms": 100}"#,
        r#"{"t_ms": 30, "rescind": "a1"}"#,
        r#"{"t_ms": 40, "agent_lost": "a1"}"#,
    ]);
    let stream = Stream::from_json_lines(&text).unwrap();
    let kinds: Vec<(u128, &str)> = stream
        .events
        .iter()
        .map(|(at, e)| {
            let kind = match e {
                StreamEvent::Agent(_) => "agent",
                StreamEvent::Running(_, d) if *d == Duration::from_millis(300) => "running",
                StreamEvent::Task(t, _, d) if t.group.as_str() == "g" && *d == Duration::from_millis(100) => "task",
                StreamEvent::Rescind(_) => "rescind",
                StreamEvent::AgentLost(_) => "lost",
                _ => "wrong",
            };
            (at.as_millis(), kind)
        })
        .collect();
    assert_eq!(kinds, [(0, "agent"), (0, "running"), (20, "task"), (30, "rescind"), (40, "lost")]);
}

#[test]
fn replay_measures_latency_in_stream_time() {
    // A task arriving at 10 ms is placed by the pass at 50 ms; one at 120 ms by the pass at 150.
    let text = lines(&[
        AGENT,
        r#"{"t_ms": 10, "task": {"id": "t1", "resources": {"cpus": 1}}, "duration_ms": 1000}"#,
        r#"{"t_ms": 120, "task": {"id": "t2", "resources": {"cpus": 1}}, "duration_ms": 1000}"#,
    ]);
    let s = run(&text, &ReplayOptions::default());
    assert_eq!((s.arrived, s.placed, s.pending_at_end), (2, 2, 0));
    assert_eq!((s.latency_ms.p50, s.latency_ms.max), (30.0, 40.0));
    assert_eq!(s.passes, 21, "passes at 0, 50, ..., 1000 ms");
    assert_eq!(s.refused_launches, 0);
}

#[test]
fn replay_frees_resources_when_tasks_end_and_loses_tasks_with_their_agent() {
    // Each task takes the whole agent: t1 starts with the pass at 0 ms and t2 waits for it to
    // end at 100 ms; then the agent
    // goes, taking t2 with it, and t3 finds nowhere to run.
    let text = lines(&[
        AGENT,
        r#"{"t_ms": 0, "task": {"id": "t1", "resources": {"cpus": 4}}, "duration_ms": 100}"#,
        r#"{"t_ms": 1, "task": {"id": "t2", "resources": {"cpus": 4}}, "duration_ms": 5000}"#,
        r#"{"t_ms": 400, "agent_lost": "a1"}"#,
        r#"{"t_ms": 401, "task": {"id": "t3", "resources": {"cpus": 1}}, "duration_ms": 10}"#,
    ]);
    for full_replan in [false, true] {
        let s = run(&text, &ReplayOptions { full_replan, ..ReplayOptions::default() });
        assert_eq!((s.placed, s.finished, s.lost, s.pending_at_end), (2, 1, 1, 1), "full {full_replan}");
        assert_eq!(s.latency_ms.max, 99.0, "t2 arrived at 1 ms and started at 100 ms");
        assert_eq!(s.refused_launches, 0);
    }
}

#[test]
fn replay_rescind_takes_the_offer_back_until_the_next_allocation() {
    // t0 fits nowhere, so offers keep coming (nothing pending would suppress them).
    let text = lines(&[
        AGENT,
        r#"{"t_ms": 0, "task": {"id": "t0", "resources": {"cpus": 5}}, "duration_ms": 100}"#,
        r#"{"t_ms": 60, "rescind": "a1"}"#,
        r#"{"t_ms": 70, "task": {"id": "t1", "resources": {"cpus": 1}}, "duration_ms": 100}"#,
    ]);
    let s = run(&text, &ReplayOptions::default());
    assert_eq!(s.offers.rescinded, 1);
    assert_eq!((s.placed, s.pending_at_end), (1, 1));
    assert!(s.offers.made >= 2, "the agent is offered again: {:?}", s.offers);
}

fn family(seed: u64) -> StreamOptions {
    let constraints = [ConstraintMix::None, ConstraintMix::UniqueHostPerGroup { group_size: 5 }, ConstraintMix::Mixed]
        [seed as usize % 3];
    let shapes = [Shapes::Uniform, Shapes::Irregular, Shapes::Random { count: 6 }][seed as usize / 3 % 3];
    StreamOptions {
        cluster: GenOptions { agents: 60, seed, constraints, shapes, ..GenOptions::default() },
        seconds: 4.0,
        running: 150,
        rate: 60.0 + 20.0 * (seed % 4) as f64,
        agent_churn: 6.0,
        rescinds: 2.0,
        ..StreamOptions::default()
    }
}

#[test]
fn replay_families_never_launch_what_a_master_would_refuse() {
    for seed in 0..12 {
        let text = generate_stream(&family(seed));
        for full_replan in [false, true] {
            let s = run(&text, &ReplayOptions { full_replan, ..ReplayOptions::default() });
            assert_eq!(s.refused_launches, 0, "seed {seed} full {full_replan}: {s:?}");
            assert!(s.placed + s.pending_at_end <= s.arrived, "seed {seed}: {s:?}");
            assert!(s.placed > 0, "seed {seed}: {s:?}");
        }
    }
}

#[test]
fn replay_same_stream_same_summary() {
    let text = generate_stream(&family(7));
    let opts = ReplayOptions::default();
    assert_eq!(run(&text, &opts), run(&text, &opts));
}

#[test]
fn stream_generator_is_seeded_and_holds_its_steady_state() {
    let opts = StreamOptions { seconds: 5.0, ..StreamOptions::default() };
    let text = generate_stream(&opts);
    assert_eq!(text, generate_stream(&opts.clone()));
    let other = StreamOptions { cluster: GenOptions { seed: 1, ..opts.cluster.clone() }, ..opts.clone() };
    assert_ne!(text, generate_stream(&other));
    let stream = Stream::from_json_lines(&text).unwrap();
    let count = |f: fn(&StreamEvent) -> bool| stream.events.iter().filter(|(_, e)| f(e)).count() as f64;
    assert_eq!(count(|e| matches!(e, StreamEvent::Running(..))), f64::from(opts.running));
    let arrivals = count(|e| matches!(e, StreamEvent::Task(..)));
    let expected = opts.rate * opts.seconds;
    assert!((arrivals - expected).abs() < 4.0 * expected.sqrt(), "{arrivals} arrivals for {expected}");
    // Arrivals match departures: the cluster ends about as busy as it began.
    let s = replay(&stream, &ReplayOptions::default(), &mut OneMilli).unwrap();
    let running_at_end = f64::from(opts.running) + s.placed as f64 - s.finished as f64 - s.lost as f64;
    let drift = (running_at_end - f64::from(opts.running)).abs() / f64::from(opts.running);
    assert!(drift < 0.35, "{running_at_end} running at the end of {}", opts.running);
}

#[test]
fn replay_report_draws_every_bucket_that_held_resources() {
    let opts = StreamOptions { buckets: 3, seconds: 2.0, ..family(4) };
    let stream = Stream::from_json_lines(&generate_stream(&opts)).unwrap();
    let summary = replay(&stream, &ReplayOptions::default(), &mut OneMilli).unwrap();
    assert_eq!(summary.series.len() as u64, summary.passes);
    let placed: u64 = summary.series.iter().map(|p| p.placed).sum();
    assert_eq!(placed, summary.placed);
    let html = offerpack::report::replay_page(&summary);
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..roxmltree::ParsingOptions::default() };
    let doc = roxmltree::Document::parse_with_options(&html, options).expect("the page is well-formed XML");
    let figures = doc.descendants().filter(|n| n.has_tag_name("figure")).count();
    assert_eq!(figures, 4);
    let shares = doc.descendants().find(|n| n.attribute("id") == Some("shares")).unwrap();
    let mut lines: Vec<&str> =
        shares.descendants().filter(|n| n.has_tag_name("polyline")).filter_map(|n| n.attribute("data-label")).collect();
    lines.sort();
    assert_eq!(lines, ["b1", "b2", "b3", "fair level"]);
}

#[test]
fn replay_queue_keeps_weighted_drf_and_ignoring_it_does_not() {
    // One task shape, three buckets of weights 1, 2, 3, demand far above capacity from the start.
    let opts = StreamOptions {
        cluster: GenOptions { agents: 40, shapes: Shapes::Random { count: 1 }, seed: 3, ..GenOptions::default() },
        seconds: 3.0,
        running: 0,
        rate: 400.0,
        mean_duration: Some(30.0),
        agent_churn: 0.0,
        rescinds: 0.0,
        buckets: 3,
    };
    let stream = Stream::from_json_lines(&generate_stream(&opts)).unwrap();
    let fairness = |queue: bool| {
        let s = replay(&stream, &ReplayOptions { queue, ..ReplayOptions::default() }, &mut OneMilli).unwrap();
        assert_eq!(s.refused_launches, 0);
        s.fairness.expect("the stream has buckets")
    };
    let drf = fairness(true);
    assert!(drf.contended_passes > 10, "{drf:?}");
    assert!(drf.max_deviation <= drf.largest_task_share + 1e-9, "{drf:?}");
    let plain = fairness(false);
    assert!(plain.max_deviation > 10.0 * plain.largest_task_share, "{plain:?}");
}
