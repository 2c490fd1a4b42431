//! A small SVG writer: elements by name, attribute values and text always escaped.
//!
//! Element and attribute names are `&'static str` written by this crate; every value and every
//! text node goes through [`escape`], so text taken from a workload (task ids, resource or
//! constraint names) can never break the markup. A finished drawing is a [`Figure`], which only
//! this writer makes: a page built from figures is well-formed XML by construction.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The SVG namespace, set on every root element.
const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// Escapes text for an XML attribute value or text node: `&`, `<`, `>`, `"` and `'` become
/// entities, and characters XML 1.0 forbids (most control characters, U+FFFE, U+FFFF) become
/// U+FFFD. Borrows when nothing needs escaping.
///
/// ```
/// use offerpack::report::escape;
/// assert_eq!(escape(r#"a<&"'>b"#), "a&lt;&amp;&quot;&apos;&gt;b");
/// assert_eq!(escape("plain"), "plain");
/// ```
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if forbidden_in_xml(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'') || forbidden_in_xml(c)
}

/// Characters outside XML 1.0's `Char` production.
fn forbidden_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Formats a number for SVG: at most two decimals, no trailing zeros, no `-0`, and `0` for
/// NaN or infinities (so a bad figure cannot make the markup invalid).
///
/// ```
/// use offerpack::report::svg::num;
/// assert_eq!((num(1.0), num(2.345), num(-0.001), num(f64::NAN)), ("1".into(), "2.35".into(), "0".into(), "0".into()));
/// ```
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_owned();
    }
    let text = format!("{x:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" || text.is_empty() {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// An attribute value: a number (formatted by [`num`]) or text (escaped).
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// A number.
    Num(f64),
    /// Text, escaped when written.
    Text(Cow<'a, str>),
}

impl From<f64> for Value<'_> {
    fn from(x: f64) -> Self {
        Value::Num(x)
    }
}

impl From<u32> for Value<'_> {
    fn from(x: u32) -> Self {
        Value::Num(f64::from(x))
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::Text(Cow::Owned(s))
    }
}

/// Attributes of one element, as `(name, value)` pairs.
pub type Attrs<'a> = [(&'static str, Value<'a>)];

/// A finished SVG drawing (or a piece of markup made by this writer): safe to embed as is.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    markup: String,
}

impl Figure {
    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.markup
    }

    /// The markup, owned.
    pub fn into_string(self) -> String {
        self.markup
    }
}

/// Writes one SVG element tree: open, write leaves and text, close; [`Svg::finish`] closes what
/// is still open.
#[derive(Debug)]
pub struct Svg {
    out: String,
    open: Vec<&'static str>,
}

impl Svg {
    /// An `<svg>` root of `width` × `height` user units, with `label` as its accessible name
    /// (`aria-label`) and a `<title>`.
    pub fn new(width: f64, height: f64, label: &str) -> Svg {
        let mut svg = Svg { out: String::with_capacity(4096), open: Vec::new() };
        let view_box = format!("0 0 {} {}", num(width), num(height));
        svg.open(
            "svg",
            &[
                ("xmlns", SVG_NS.into()),
                ("width", width.into()),
                ("height", height.into()),
                ("viewBox", view_box.into()),
                ("role", "img".into()),
                ("aria-label", label.into()),
            ],
        );
        svg.text("title", &[], label);
        svg
    }

    /// Opens an element; close it with [`Svg::close`].
    pub fn open(&mut self, tag: &'static str, attrs: &Attrs<'_>) {
        self.start_tag(tag, attrs);
        self.out.push('>');
        self.open.push(tag);
    }

    /// Closes the innermost open element (nothing when none is open).
    pub fn close(&mut self) {
        if let Some(tag) = self.open.pop() {
            let _ = write!(self.out, "</{tag}>");
        }
    }

    /// Writes an element without content, such as `<rect .../>`.
    pub fn leaf(&mut self, tag: &'static str, attrs: &Attrs<'_>) {
        self.start_tag(tag, attrs);
        self.out.push_str("/>");
    }

    /// Writes an element holding escaped `text`, such as `<text ...>label</text>`.
    pub fn text(&mut self, tag: &'static str, attrs: &Attrs<'_>, text: &str) {
        self.start_tag(tag, attrs);
        self.out.push('>');
        self.out.push_str(&escape(text));
        let _ = write!(self.out, "</{tag}>");
    }

    /// Writes an element with content (such as a mark with a `<title>` tooltip): `leaf` when
    /// `title` is empty.
    pub fn with_title(&mut self, tag: &'static str, attrs: &Attrs<'_>, title: &str) {
        if title.is_empty() {
            return self.leaf(tag, attrs);
        }
        self.start_tag(tag, attrs);
        self.out.push_str("><title>");
        self.out.push_str(&escape(title));
        let _ = write!(self.out, "</title></{tag}>");
    }

    /// Embeds another figure (a nested `<svg>` or a `<g>` made by this writer).
    pub fn embed(&mut self, figure: &Figure) {
        self.out.push_str(figure.as_str());
    }

    /// Closes every open element and returns the drawing.
    pub fn finish(mut self) -> Figure {
        while !self.open.is_empty() {
            self.close();
        }
        Figure { markup: self.out }
    }

    fn start_tag(&mut self, tag: &'static str, attrs: &Attrs<'_>) {
        let _ = write!(self.out, "<{tag}");
        for (name, value) in attrs {
            let _ = match value {
                Value::Num(x) => write!(self.out, " {name}=\"{}\"", num(*x)),
                Value::Text(s) => write!(self.out, " {name}=\"{}\"", escape(s)),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_markup_and_forbidden_characters() {
        assert_eq!(escape("t<1>&\"2\"'"), "t&lt;1&gt;&amp;&quot;2&quot;&apos;");
        assert_eq!(escape("a\u{0}b\u{1F}c\td"), "a\u{FFFD}b\u{FFFD}c\td");
        assert!(matches!(escape("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn num_rounds_and_never_writes_bad_numbers() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(0.126), "0.13");
        assert_eq!(num(-3.5), "-3.5");
        assert_eq!(num(f64::INFINITY), "0");
        assert_eq!(num(-0.0), "0");
    }

    #[test]
    fn svg_escapes_attributes_and_text_and_closes_everything() {
        let mut svg = Svg::new(10.0, 20.0, "a&b");
        svg.open("g", &[("class", "x\"y".into())]);
        svg.leaf("rect", &[("width", 3.0.into())]);
        svg.text("text", &[], "<t>");
        svg.with_title("circle", &[("r", 1.0.into())], "it's");
        let markup = svg.finish().into_string();
        assert!(markup.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"20\""), "{markup}");
        assert!(markup.contains("aria-label=\"a&amp;b\""), "{markup}");
        assert!(markup.contains("<g class=\"x&quot;y\"><rect width=\"3\"/><text>&lt;t&gt;</text>"), "{markup}");
        assert!(markup.contains("<circle r=\"1\"><title>it&apos;s</title></circle>"), "{markup}");
        assert!(markup.ends_with("</g></svg>"), "{markup}");
    }
}
