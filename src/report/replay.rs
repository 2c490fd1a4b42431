//! The replay page: placement latency, engine time, queue depth and bucket shares over stream
//! time (`offerpack replay … --report replay.html`).

use super::lines::{line_chart, LineChart, Series};
use super::page::Page;
use crate::replay::ReplaySummary;

/// The page of one replay, from its summary and per-pass series.
///
/// ```
/// use offerpack::replay::ReplaySummary;
/// let html = offerpack::report::replay_page(&ReplaySummary::default());
/// assert!(html.contains("Placement latency"));
/// ```
pub fn replay_page(summary: &ReplaySummary) -> String {
    let mut page = Page::new(&format!("offerpack replay ({})", summary.mode));
    page.facts("summary", &facts(summary));
    let seconds = |t_ms: f64| t_ms / 1e3;
    let series = |label: &str, value: fn(&crate::replay::PassPoint) -> f64| Series {
        label: label.to_owned(),
        points: summary.series.iter().map(|p| (seconds(p.t_ms), value(p))).collect(),
        dashed: false,
    };
    page.heading("Placement latency");
    let latency = LineChart {
        title: "placement latency of the tasks each pass placed".to_owned(),
        x_label: "stream time (s)".to_owned(),
        y_label: "latency (ms)".to_owned(),
        series: vec![series("p50", |p| p.latency_p50_ms), series("p99", |p| p.latency_p99_ms)],
    };
    let caption = "Arrival to placement in stream time, per pass: median and 99th percentile of the tasks \
                   the pass placed (0 where it placed none).";
    page.figure("latency", &line_chart(&latency), caption);
    page.heading("Engine time per pass");
    let engine = LineChart {
        title: "engine time per pass".to_owned(),
        x_label: "stream time (s)".to_owned(),
        y_label: "engine time (ms)".to_owned(),
        series: vec![series("engine", |p| p.engine_ms)],
    };
    page.figure("engine", &line_chart(&engine), "Measured around each pass by the replay's stopwatch.");
    page.heading("Queue depth");
    let depth = LineChart {
        title: "tasks waiting after each pass".to_owned(),
        x_label: "stream time (s)".to_owned(),
        y_label: "tasks".to_owned(),
        series: vec![series("waiting", |p| p.pending as f64), series("placed", |p| p.placed as f64)],
    };
    page.figure("depth", &line_chart(&depth), "Tasks still waiting after each pass, and tasks it placed.");
    page.heading("Bucket shares");
    let shares = LineChart {
        title: "weighted dominant share per bucket".to_owned(),
        x_label: "stream time (s)".to_owned(),
        y_label: "weighted share".to_owned(),
        series: share_series(summary),
    };
    let caption = "Each bucket's dominant share of the cluster divided by its weight, after each pass; \
                   dashed, the fair level (the mean of the weighted shares of the buckets that held anything). Weighted DRF keeps \
                   the buckets that wait for capacity within one task's share of each other.";
    page.figure("shares", &line_chart(&shares), caption);
    page.finish()
}

fn facts(s: &ReplaySummary) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("stream", format!("{} s, a pass every {} ms", s.stream_seconds, s.pass_every_ms)),
        ("passes", s.passes.to_string()),
        ("tasks arrived", s.arrived.to_string()),
        ("tasks placed", s.placed.to_string()),
        ("waiting at the end", s.pending_at_end.to_string()),
        ("latency p50 / p99 / max (ms)", format!("{} / {} / {}", s.latency_ms.p50, s.latency_ms.p99, s.latency_ms.max)),
        (
            "engine per pass p50 / p99 / max (ms)",
            format!("{:.3} / {:.3} / {:.3}", s.engine_ms.p50, s.engine_ms.p99, s.engine_ms.max),
        ),
        ("placements per engine second", format!("{:.0}", s.placements_per_engine_second)),
        (
            "offers made / declined / held at most",
            format!("{} / {} / {}", s.offers.made, s.offers.declined, s.offers.held_max),
        ),
        ("launches a master would refuse", s.refused_launches.to_string()),
    ];
    if let Some(f) = &s.fairness {
        rows.push(("largest gap between waiting buckets", format!("{:.4}", f.max_spread)));
        rows.push(("largest one-task share", format!("{:.4}", f.largest_task_share)));
    }
    rows
}

fn share_series(s: &ReplaySummary) -> Vec<Series> {
    let held = |b: usize| s.series.iter().any(|p| p.shares.get(b).is_some_and(|&x| x > 0.0));
    let used: Vec<usize> = (0..s.bucket_names.len()).filter(|&b| held(b)).collect();
    let mut out: Vec<Series> = used
        .iter()
        .map(|&b| Series {
            label: s.bucket_names[b].to_string(),
            points: s.series.iter().filter_map(|p| Some((p.t_ms / 1e3, *p.shares.get(b)?))).collect(),
            dashed: false,
        })
        .collect();
    if !out.is_empty() {
        let level = |shares: &[f64]| used.iter().filter_map(|&b| shares.get(b)).sum::<f64>() / used.len() as f64;
        let fair = s.series.iter().filter(|p| !p.shares.is_empty()).map(|p| (p.t_ms / 1e3, level(&p.shares))).collect();
        out.push(Series { label: "fair level".to_owned(), points: fair, dashed: true });
    }
    out
}
