//! Scales, ticks, colours and the text styles the charts share.

use super::svg::{num, Svg};

/// Colours for series and categories, told apart also in print and by most colour-blind readers.
pub const PALETTE: [&str; 8] = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d"];

/// Colour of axes and grid lines.
pub(crate) const AXIS: &str = "#888888";
/// Colour of light grid lines.
pub(crate) const GRID: &str = "#e4e4e4";
/// Colour of text.
pub(crate) const INK: &str = "#222222";
/// Font size of labels.
pub(crate) const SMALL: f64 = 11.0;
/// Width of one character at [`SMALL`], roughly, for laying out labels.
pub(crate) const CHAR_WIDTH: f64 = 6.2;

/// A linear map from data `[lo, hi]` to pixels `[start, end]` (`end` may be below `start`, as
/// for a y axis drawn upwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// Smallest data value.
    pub lo: f64,
    /// Largest data value.
    pub hi: f64,
    /// Pixel of `lo`.
    pub start: f64,
    /// Pixel of `hi`.
    pub end: f64,
}

impl Scale {
    /// The pixel of `x` (clamped to the range, `start` for NaN or an empty domain).
    pub fn at(&self, x: f64) -> f64 {
        let span = self.hi - self.lo;
        if span.is_nan() || span <= 0.0 || !x.is_finite() {
            return self.start;
        }
        let t = ((x - self.lo) / span).clamp(0.0, 1.0);
        self.start + t * (self.end - self.start)
    }
}

/// A "nice" upper end for an axis from 0 holding `max` (1, 2 or 5 times a power of ten), and
/// its tick step (about five ticks). `max` ≤ 0 or not finite gives `(1, 0.2)`.
///
/// ```
/// use offerpack::report::nice_max;
/// assert_eq!(nice_max(7.3), (8.0, 2.0));
/// assert_eq!(nice_max(0.0), (1.0, 0.2));
/// ```
pub fn nice_max(max: f64) -> (f64, f64) {
    if !(max.is_finite() && max > 0.0) {
        return (1.0, 0.2);
    }
    let raw = max / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(10.0 * power);
    ((max / step).ceil() * step, step)
}

/// Tick values `0, step, …, max` (at most 50 of them).
pub(crate) fn ticks(max: f64, step: f64) -> Vec<f64> {
    if !(step > 0.0 && max.is_finite()) {
        return vec![0.0];
    }
    (0..=50).map(|i| f64::from(i) * step).take_while(|v| *v <= max * (1.0 + 1e-9)).collect()
}

/// A tick label: integers without decimals, others with up to two.
pub(crate) fn tick_label(v: f64) -> String {
    if v.abs() >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v.abs() >= 1e4 {
        format!("{}k", num(v / 1e3))
    } else {
        num(v)
    }
}

/// Writes a text label at `(x, y)`: `anchor` is `start`, `middle` or `end`.
pub(crate) fn label(svg: &mut Svg, x: f64, y: f64, anchor: &'static str, size: f64, text: &str) {
    svg.text(
        "text",
        &[
            ("x", x.into()),
            ("y", y.into()),
            ("text-anchor", anchor.into()),
            ("font-size", size.into()),
            ("fill", INK.into()),
        ],
        text,
    );
}

/// Writes a line from `(x1, y1)` to `(x2, y2)`.
pub(crate) fn line(svg: &mut Svg, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str) {
    svg.leaf(
        "line",
        &[
            ("x1", x1.into()),
            ("y1", y1.into()),
            ("x2", x2.into()),
            ("y2", y2.into()),
            ("stroke", stroke.to_owned().into()),
            ("stroke-width", 1.0.into()),
        ],
    );
}

/// Shortens `text` to at most `max` characters, ending in `…` when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_max_rounds_up_to_one_two_five() {
        assert_eq!(nice_max(1.0), (1.0, 0.2));
        assert_eq!(nice_max(93.0), (100.0, 20.0));
        assert_eq!(nice_max(1234.0), (1500.0, 500.0));
        let (max, step) = nice_max(0.037);
        assert!((max - 0.04).abs() < 1e-12 && (step - 0.01).abs() < 1e-12, "{max} {step}");
    }

    #[test]
    fn scale_clamps_and_flips() {
        let y = Scale { lo: 0.0, hi: 10.0, start: 100.0, end: 0.0 };
        assert_eq!((y.at(0.0), y.at(5.0), y.at(20.0), y.at(f64::NAN)), (100.0, 50.0, 0.0, 100.0));
    }

    #[test]
    fn ticks_and_shorten_stay_bounded() {
        assert_eq!(ticks(1.0, 0.25), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(tick_label(25_000.0), "25k");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
