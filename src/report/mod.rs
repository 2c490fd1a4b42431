//! Pictures of what the engine did: self-contained HTML pages with inline SVG charts.
//!
//! A page is built from data (a [`Plan`](crate::Plan), the pool it came from, bound figures),
//! never by parsing JSON, and holds no script, no font and nothing fetched: it opens the same
//! anywhere, offline. The pieces are meant to be reused by other pages (the replay report):
//!
//! - [`svg`]: the writer. Every attribute value and text node is escaped ([`escape`]), and a
//!   finished drawing is a [`Figure`], which only the writer makes, so pages are well-formed
//!   XML by construction (they parse as XHTML).
//! - Chart primitives, each returning a [`Figure`]: [`bar_chart`] (values by label),
//!   [`share_chart`] (shares against a fair share; "no buckets" when empty), [`line_chart`]
//!   (several series over time, thinned per pixel column), [`utilization_map`] (agents' cpu
//!   against memory use coloured by stranded share, binned on a grid with counts above
//!   [`MAX_MARKS`] agents).
//! - [`Page`]: headings, paragraphs, tables of facts and figures, assembled into one page.
//! - [`PlanReport`]: the page of one plan (`offerpack solve --report plan.html`).
//! - `replay_page`: the page of one replay (`offerpack replay STREAM --report replay.html`),
//!   with the `workload` feature.
//!
//! Sans-IO like the core: everything here returns strings; writing files is the caller's.

mod axis;
mod bars;
mod lines;
mod page;
mod plan;
#[cfg(feature = "workload")]
mod replay;
pub mod svg;
mod utilization;

pub use axis::{nice_max, Scale, PALETTE};
pub use bars::{bar_chart, share_chart, Bar, Share};
pub use lines::{line_chart, LineChart, Series};
pub use page::Page;
pub use plan::{agent_use, main_reason, reason_label, unplaced_by_reason, Capacity, PlanReport, MAX_REASON_BARS};
#[cfg(feature = "workload")]
pub use replay::replay_page;
pub use svg::{escape, Figure, Svg};
pub use utilization::{
    stranded_class, utilization_map, AgentUse, GRID_CELLS, MAX_MARKS, NEARLY_FULL, STRANDED_COLOURS,
};
