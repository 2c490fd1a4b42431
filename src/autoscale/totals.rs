//! The census's scalar totals: one row per agent, one column per (name, role), in one flat
//! table, so that summing what an agent offers and what its tasks hold allocates nothing per
//! agent and compares names by pointer first.

use std::sync::Arc;

use super::classes::Scalars;
use crate::model::Role;
use crate::resources::Quantity;
use crate::util::same_text;

/// A cell no offer or task has named: told apart from a total of zero (amounts are never
/// negative).
const ABSENT: i64 = -1;

/// Totals per agent row and (name, role) column.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    /// The columns, in the order first seen.
    columns: Vec<(Arc<str>, Role)>,
    /// Rows of `columns.len()` cells (milli-units, or [`ABSENT`]).
    cells: Vec<i64>,
    rows: u32,
}

impl Totals {
    /// A new row with every cell absent; returns its index.
    pub fn push_row(&mut self) -> u32 {
        self.cells.extend(std::iter::repeat_n(ABSENT, self.columns.len()));
        self.rows += 1;
        self.rows - 1
    }

    /// Adds `q` to the cell of (`name`, `role`) in `row`.
    pub fn add(&mut self, row: u32, name: &Arc<str>, role: &Role, q: Quantity) {
        let column =
            match self.columns.iter().position(|(n, r)| (Arc::ptr_eq(n, name) || same_text(n, name)) && r == role) {
                Some(c) => c,
                None => self.add_column(name, role),
            };
        let cell = &mut self.cells[row as usize * self.columns.len() + column];
        *cell = if *cell == ABSENT { q.milli() } else { cell.saturating_add(q.milli()) };
    }

    /// A new column, every row's cell absent (the rows are widened: new names are few).
    fn add_column(&mut self, name: &Arc<str>, role: &Role) -> usize {
        let (width, rows) = (self.columns.len(), self.rows as usize);
        let mut cells = Vec::with_capacity(rows * (width + 1));
        for r in 0..rows {
            cells.extend_from_slice(&self.cells[r * width..(r + 1) * width]);
            cells.push(ABSENT);
        }
        self.cells = cells;
        self.columns.push((name.clone(), role.clone()));
        width
    }

    /// The cells of `row`: equal rows are equal totals.
    pub fn row(&self, row: u32) -> &[i64] {
        let width = self.columns.len();
        &self.cells[row as usize * width..(row as usize + 1) * width]
    }

    /// The totals of `row` as (name, role, amount), sorted by name then role, absent cells
    /// left out.
    pub fn scalars(&self, row: u32) -> Scalars {
        let mut out: Scalars = self
            .columns
            .iter()
            .zip(self.row(row))
            .filter(|(_, &cell)| cell != ABSENT)
            .map(|((name, role), &cell)| (name.clone(), role.clone(), Quantity::from_milli(cell.unsigned_abs())))
            .collect();
        out.sort_by(|(n1, r1, _), (n2, r2, _)| (&**n1, r1.as_str()).cmp(&(&**n2, r2.as_str())));
        out
    }
}
