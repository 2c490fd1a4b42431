//! Horizontal bar charts: values by label, and shares against a fair share.

use super::axis::{label, line, nice_max, shorten, tick_label, ticks, Scale, AXIS, CHAR_WIDTH, GRID, PALETTE, SMALL};
use super::svg::{num, Figure, Svg};

/// One bar: a label, a value and a tooltip.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// What the bar counts (shown left of it; shortened when long, whole in the tooltip).
    pub label: String,
    /// Its length (negative or non-finite values draw as zero).
    pub value: f64,
    /// More words for the tooltip (may be empty).
    pub note: String,
}

/// One row of a share chart: a bucket (or any series) and its share of the cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    /// Name of the bucket.
    pub label: String,
    /// Its share, from 0 to 1 (e.g. its dominant resource share after a pass).
    pub share: f64,
    /// The share it is entitled to, drawn as a tick across the bar when known.
    pub fair: Option<f64>,
}

/// Width of every bar chart.
const WIDTH: f64 = 640.0;
/// Height of one bar row.
const ROW: f64 = 22.0;
/// Longest label shown in full.
const LABEL_CHARS: usize = 36;
/// Room above the first row for the axis labels.
const TOP: f64 = 22.0;

/// A horizontal bar chart of `bars`, in order, on an axis from 0; `empty` is written instead
/// when there are no bars. Each bar is a `rect` of class `bar` with `data-label` and
/// `data-value` (the value unrounded), so tests and scripts can read the figures back.
pub fn bar_chart(title: &str, bars: &[Bar], empty: &str) -> Figure {
    let rows: Vec<Row<'_>> =
        bars.iter().map(|b| Row { label: &b.label, value: b.value, note: &b.note, mark: None }).collect();
    let max = rows.iter().map(|r| clean(r.value)).fold(0.0, f64::max);
    hbars(title, &rows, nice_max(max), empty, &tick_label)
}

/// Shares as horizontal bars from 0 to 100 %, the fair share a dark tick across each bar:
/// today's plans have no buckets, so an empty list draws a chart saying `no buckets`.
/// Bars are `rect`s of class `bar` (`data-value` the share), ticks `line`s of class `fair`.
pub fn share_chart(title: &str, shares: &[Share]) -> Figure {
    let notes: Vec<String> = shares
        .iter()
        .map(|s| match s.fair {
            Some(fair) => format!("{}: share {} %, fair share {} %", s.label, num(s.share * 100.0), num(fair * 100.0)),
            None => format!("{}: share {} %", s.label, num(s.share * 100.0)),
        })
        .collect();
    let rows: Vec<Row<'_>> = shares
        .iter()
        .zip(&notes)
        .map(|(s, note)| Row { label: &s.label, value: s.share, note, mark: s.fair })
        .collect();
    let top = rows.iter().map(|r| clean(r.value).max(r.mark.map_or(0.0, clean))).fold(1.0, f64::max);
    let percent = |v: f64| format!("{} %", num(v * 100.0));
    hbars(title, &rows, nice_share_max(top), "no buckets", &percent)
}

/// The axis of a share chart: 0 to 1 in steps of 0.25, or further when a share is above 1.
fn nice_share_max(top: f64) -> (f64, f64) {
    if top <= 1.0 {
        (1.0, 0.25)
    } else {
        nice_max(top)
    }
}

struct Row<'a> {
    label: &'a str,
    value: f64,
    note: &'a str,
    mark: Option<f64>,
}

fn clean(v: f64) -> f64 {
    if v.is_finite() {
        v.max(0.0)
    } else {
        0.0
    }
}

fn hbars(title: &str, rows: &[Row<'_>], (max, step): (f64, f64), empty: &str, fmt: &dyn Fn(f64) -> String) -> Figure {
    let longest = rows.iter().map(|r| r.label.chars().count().min(LABEL_CHARS)).max().unwrap_or(0);
    let left = 12.0 + longest as f64 * CHAR_WIDTH;
    let height = TOP + ROW * rows.len().max(1) as f64 + 8.0;
    let mut svg = Svg::new(WIDTH, height, title);
    if rows.is_empty() {
        label(&mut svg, WIDTH / 2.0, TOP + ROW * 0.6, "middle", SMALL, empty);
        return svg.finish();
    }
    let x = Scale { lo: 0.0, hi: max, start: left, end: WIDTH - 70.0 };
    let bottom = height - 8.0;
    for t in ticks(max, step) {
        line(&mut svg, (x.at(t), TOP - 4.0), (x.at(t), bottom), GRID);
        label(&mut svg, x.at(t), TOP - 8.0, "middle", SMALL - 1.0, &fmt(t));
    }
    line(&mut svg, (left, TOP - 4.0), (left, bottom), AXIS);
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let value = clean(row.value);
        label(&mut svg, left - 6.0, y + ROW * 0.68, "end", SMALL, &shorten(row.label, LABEL_CHARS));
        let tooltip = if row.note.is_empty() { row.label.to_owned() } else { row.note.to_owned() };
        svg.with_title(
            "rect",
            &[
                ("class", "bar".into()),
                ("data-label", row.label.into()),
                ("data-value", format!("{value}").into()),
                ("x", left.into()),
                ("y", (y + 3.0).into()),
                ("width", (x.at(value) - left).max(0.5).into()),
                ("height", (ROW - 6.0).into()),
                ("fill", PALETTE[0].into()),
            ],
            &tooltip,
        );
        label(&mut svg, x.at(value) + 4.0, y + ROW * 0.68, "start", SMALL, &fmt(value));
        if let Some(mark) = row.mark {
            let at = x.at(clean(mark));
            svg.leaf(
                "line",
                &[
                    ("class", "fair".into()),
                    ("data-value", format!("{}", clean(mark)).into()),
                    ("x1", at.into()),
                    ("y1", (y + 1.0).into()),
                    ("x2", at.into()),
                    ("y2", (y + ROW - 1.0).into()),
                    ("stroke", "#111111".into()),
                    ("stroke-width", 2.0.into()),
                ],
            );
        }
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: f64) -> Bar {
        Bar { label: label.to_owned(), value, note: String::new() }
    }

    #[test]
    fn bar_chart_writes_one_rect_per_bar_with_its_value() {
        let markup = bar_chart("t", &[bar("a", 3.0), bar("b<c", 12.5)], "none").into_string();
        assert_eq!(markup.matches("class=\"bar\"").count(), 2, "{markup}");
        assert!(markup.contains("data-label=\"b&lt;c\" data-value=\"12.5\""), "{markup}");
        assert!(!markup.contains("none"), "{markup}");
    }

    #[test]
    fn bar_chart_says_empty_when_no_bars() {
        let markup = bar_chart("t", &[], "every task placed").into_string();
        assert!(markup.contains(">every task placed</text>") && !markup.contains("class=\"bar\""), "{markup}");
    }

    #[test]
    fn share_chart_draws_fair_ticks_or_no_buckets() {
        let shares = [
            Share { label: "batch".into(), share: 0.4, fair: Some(0.5) },
            Share { label: "web".into(), share: 0.2, fair: None },
        ];
        let markup = share_chart("s", &shares).into_string();
        assert_eq!(markup.matches("class=\"bar\"").count(), 2, "{markup}");
        assert_eq!(markup.matches("class=\"fair\" data-value=\"0.5\"").count(), 1, "{markup}");
        assert!(share_chart("s", &[]).into_string().contains(">no buckets</text>"));
    }
}
