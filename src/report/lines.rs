//! Line charts over time with several series (latency percentiles, engine time per pass, queue
//! depth, a bucket's share against its fair share).

use super::axis::{label, line, nice_max, tick_label, ticks, Scale, AXIS, GRID, PALETTE, SMALL};
use super::svg::{num, Figure, Svg};

/// One line: a name for the legend and `(x, y)` points in increasing `x` (points with a
/// non-finite coordinate are skipped).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// Draw dashed (e.g. a fair share beside the share it bounds).
    pub dashed: bool,
}

/// A line chart: a title, axis names and the series (coloured from [`PALETTE`] in order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineChart {
    /// Title (also the accessible name).
    pub title: String,
    /// What x is, with its unit (e.g. `stream time (s)`).
    pub x_label: String,
    /// What y is, with its unit (e.g. `latency (ms)`).
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// Draws the chart: y from 0 to a nice maximum, x over the points' range, legend on the right.
/// Each series is a `polyline` of class `series` with `data-label`; a series with more points
/// than the plot has pixel columns keeps each column's first, lowest, highest and last point,
/// so spikes survive and the file stays small. No points at all draws `no data`.
pub fn line_chart(chart: &LineChart) -> Figure {
    let mut svg = Svg::new(WIDTH, HEIGHT, &chart.title);
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let all = || chart.series.iter().flat_map(|s| s.points.iter().filter(finite));
    let (x_lo, x_hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    if x_lo > x_hi || x_lo.is_nan() || x_hi.is_nan() {
        label(&mut svg, WIDTH / 2.0, HEIGHT / 2.0, "middle", SMALL, "no data");
        return svg.finish();
    }
    let (y_max, y_step) = nice_max(all().map(|p| p.1).fold(0.0, f64::max));
    let plot_right = WIDTH - RIGHT;
    let x = Scale { lo: x_lo, hi: x_hi.max(x_lo + f64::EPSILON), start: LEFT, end: plot_right };
    let y = Scale { lo: 0.0, hi: y_max, start: HEIGHT - BOTTOM, end: TOP };
    for t in ticks(y_max, y_step) {
        line(&mut svg, (LEFT, y.at(t)), (plot_right, y.at(t)), GRID);
        label(&mut svg, LEFT - 4.0, y.at(t) + 4.0, "end", SMALL - 1.0, &tick_label(t));
    }
    let (x_max, x_step) = nice_max(x_hi - x_lo);
    for t in ticks(x_max, x_step).into_iter().map(|t| t + x_lo).filter(|t| *t <= x_hi * (1.0 + 1e-9) + 1e-12) {
        label(&mut svg, x.at(t), HEIGHT - BOTTOM + 14.0, "middle", SMALL - 1.0, &tick_label(t));
    }
    line(&mut svg, (LEFT, TOP), (LEFT, HEIGHT - BOTTOM), AXIS);
    line(&mut svg, (LEFT, HEIGHT - BOTTOM), (plot_right, HEIGHT - BOTTOM), AXIS);
    label(&mut svg, (LEFT + plot_right) / 2.0, HEIGHT - 6.0, "middle", SMALL, &chart.x_label);
    svg.text(
        "text",
        &[
            ("transform", format!("translate(12 {}) rotate(-90)", num((TOP + HEIGHT - BOTTOM) / 2.0)).into()),
            ("text-anchor", "middle".into()),
            ("font-size", SMALL.into()),
        ],
        &chart.y_label,
    );
    let columns = (plot_right - LEFT) as usize;
    for (i, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let kept = decimate(series.points.iter().copied().filter(|p| finite(&p)), x_lo, x_hi, columns);
        let points: Vec<String> = kept.iter().map(|&(px, py)| format!("{},{}", num(x.at(px)), num(y.at(py)))).collect();
        let mut attrs = vec![
            ("class", "series".into()),
            ("data-label", series.label.as_str().into()),
            ("points", points.join(" ").into()),
            ("fill", "none".into()),
            ("stroke", colour.into()),
            ("stroke-width", 1.5.into()),
        ];
        if series.dashed {
            attrs.push(("stroke-dasharray", "5 3".into()));
        }
        svg.leaf("polyline", &attrs);
        let ly = TOP + 8.0 + 18.0 * i as f64;
        let mut key = vec![
            ("x1", (plot_right + 12.0).into()),
            ("y1", ly.into()),
            ("x2", (plot_right + 32.0).into()),
            ("y2", ly.into()),
            ("stroke", colour.into()),
            ("stroke-width", 2.0.into()),
        ];
        if series.dashed {
            key.push(("stroke-dasharray", "5 3".into()));
        }
        svg.leaf("line", &key);
        label(&mut svg, plot_right + 36.0, ly + 4.0, "start", SMALL, &series.label);
    }
    svg.finish()
}

/// Keeps, per pixel column of `x` in `[lo, hi]`, the first, lowest, highest and last point,
/// in their original order (all points when there are at most four per column on average).
fn decimate(points: impl Iterator<Item = (f64, f64)>, lo: f64, hi: f64, columns: usize) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = points.collect();
    if points.len() <= columns.max(1) * 4 {
        return points;
    }
    let width = (hi - lo) / columns.max(1) as f64;
    let column = |x: f64| if width > 0.0 { ((x - lo) / width) as usize } else { 0 };
    let mut kept = Vec::with_capacity(columns * 4);
    let mut start = 0;
    while start < points.len() {
        let c = column(points[start].0);
        let end = start + points[start..].iter().take_while(|p| column(p.0) == c).count().max(1);
        let run = &points[start..end];
        let lowest = (0..run.len()).min_by(|&a, &b| run[a].1.total_cmp(&run[b].1)).unwrap_or(0);
        let highest = (0..run.len()).max_by(|&a, &b| run[a].1.total_cmp(&run[b].1)).unwrap_or(0);
        let mut picks = [0, lowest, highest, run.len() - 1];
        picks.sort_unstable();
        let mut last = usize::MAX;
        for p in picks {
            if p != last {
                kept.push(run[p]);
                last = p;
            }
        }
        start = end;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, points: Vec<(f64, f64)>) -> Series {
        Series { label: label.to_owned(), points, dashed: false }
    }

    #[test]
    fn line_chart_draws_one_polyline_per_series() {
        let chart = LineChart {
            title: "latency".into(),
            x_label: "stream time (s)".into(),
            y_label: "ms".into(),
            series: vec![series("p50", vec![(0.0, 1.0), (1.0, 2.0)]), series("p99 <&>", vec![(0.0, 3.0), (1.0, 9.0)])],
        };
        let markup = line_chart(&chart).into_string();
        assert_eq!(markup.matches("<polyline class=\"series\"").count(), 2, "{markup}");
        assert!(markup.contains("data-label=\"p99 &lt;&amp;&gt;\""), "{markup}");
        // y axis to 10: the point (1, 9) is at 9/10 of the plot height above its bottom.
        let y9 = HEIGHT - BOTTOM - 0.9 * (HEIGHT - BOTTOM - TOP);
        assert!(markup.contains(&format!("{},{}", num(WIDTH - RIGHT), num(y9))), "{markup}");
    }

    #[test]
    fn line_chart_without_points_says_no_data() {
        let chart = LineChart { series: vec![series("a", vec![(f64::NAN, 1.0)])], ..LineChart::default() };
        assert!(line_chart(&chart).into_string().contains(">no data</text>"));
    }

    #[test]
    fn decimate_keeps_extremes_and_bounds_the_size() {
        let points: Vec<(f64, f64)> =
            (0..100_000).map(|i| (f64::from(i), if i == 50_001 { 1e6 } else { 1.0 })).collect();
        let kept = decimate(points.into_iter(), 0.0, 99_999.0, 100);
        assert!(kept.len() <= 400, "{}", kept.len());
        assert!(kept.contains(&(50_001.0, 1e6)), "the spike was lost");
        assert_eq!(kept.last(), Some(&(99_999.0, 1.0)));
    }
}
