//! One self-contained page: XHTML-well-formed HTML with inline SVG figures, an inline style and
//! nothing else (no scripts, no fonts or images fetched from anywhere).

use std::fmt::Write as _;

use super::svg::{escape, Figure};

/// The page's style: system fonts only.
const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#222;background:#fff;max-width:700px;\
margin:24px auto;padding:0 12px}h1{font-size:22px}h2{font-size:17px;margin-top:28px}\
p,li,td,th{font-size:14px;line-height:1.45}figure{margin:8px 0 16px}\
figcaption{font-size:12.5px;color:#555;max-width:640px}table{border-collapse:collapse}\
td,th{text-align:left;padding:2px 14px 2px 0}td.n{text-align:right;font-variant-numeric:tabular-nums}";

/// A page being written: headings, paragraphs, tables of facts and figures, in order.
#[derive(Debug)]
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    /// A page titled `title` (also its first heading).
    pub fn new(title: &str) -> Page {
        let mut page = Page { title: title.to_owned(), body: String::with_capacity(16 * 1024) };
        let _ = write!(page.body, "<h1>{}</h1>", escape(title));
        page
    }

    /// A section heading.
    pub fn heading(&mut self, text: &str) {
        let _ = write!(self.body, "<h2>{}</h2>", escape(text));
    }

    /// A paragraph of text.
    pub fn paragraph(&mut self, text: &str) {
        let _ = write!(self.body, "<p>{}</p>", escape(text));
    }

    /// A two-column table of `(what, figure)` rows; `id` names the table (e.g. for tests).
    pub fn facts(&mut self, id: &str, rows: &[(&str, String)]) {
        let _ = write!(self.body, "<table id=\"{}\">", escape(id));
        for (what, value) in rows {
            let _ = write!(self.body, "<tr><th>{}</th><td class=\"n\">{}</td></tr>", escape(what), escape(value));
        }
        self.body.push_str("</table>");
    }

    /// A figure with a caption below it; `id` names it.
    pub fn figure(&mut self, id: &str, figure: &Figure, caption: &str) {
        let _ = write!(self.body, "<figure id=\"{}\">", escape(id));
        self.body.push_str(figure.as_str());
        let _ = write!(self.body, "<figcaption>{}</figcaption></figure>", escape(caption));
    }

    /// The whole page.
    pub fn finish(self) -> String {
        let mut html = String::with_capacity(self.body.len() + 1024);
        html.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head>");
        html.push_str("<meta charset=\"utf-8\"/>");
        html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>");
        let _ = write!(html, "<title>{}</title><style>{STYLE}</style></head><body>", escape(&self.title));
        html.push_str(&self.body);
        html.push_str("</body></html>\n");
        html
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::svg::Svg;

    #[test]
    fn page_escapes_text_and_embeds_figures() {
        let mut page = Page::new("plan <1>");
        page.heading("a & b");
        page.paragraph("'quoted'");
        page.facts("f", &[("tasks", "3 < 4".to_owned())]);
        page.figure("fig", &Svg::new(1.0, 1.0, "x").finish(), "cap \"c\"");
        let html = page.finish();
        assert!(html.contains("<title>plan &lt;1&gt;</title>"), "{html}");
        assert!(html.contains("<h2>a &amp; b</h2><p>&apos;quoted&apos;</p>"), "{html}");
        assert!(html.contains("<td class=\"n\">3 &lt; 4</td>"), "{html}");
        assert!(html.contains("<figure id=\"fig\"><svg xmlns="), "{html}");
        assert!(html.contains("<figcaption>cap &quot;c&quot;</figcaption>"), "{html}");
        assert!(!html.contains("<script") && !html.contains("url("), "{html}");
    }
}
