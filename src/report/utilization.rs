//! The utilization map: each agent's cpu share used against its memory share used, coloured by
//! how much of it is stranded.

use super::axis::{label, line, Scale, AXIS, GRID, SMALL};
use super::svg::{num, Figure, Svg};

/// An agent is *nearly full* in a resource when this share or more of it is used.
pub const NEARLY_FULL: f64 = 0.9;

/// Above this many agents the map bins agents on a grid with counts instead of one mark each.
pub const MAX_MARKS: usize = 1000;

/// Cells per side of the grid used above [`MAX_MARKS`] agents.
pub const GRID_CELLS: usize = 20;

/// Colours of the stranded classes, from none stranded to most.
pub const STRANDED_COLOURS: [&str; 5] = ["#3b6fb6", "#9cc3e4", "#f6d47a", "#f08a4b", "#c62d28"];

/// Upper ends of the stranded classes (a share below `STRANDED_CLASSES[i]` is class `i`; the
/// last class holds the rest).
const STRANDED_CLASSES: [f64; 4] = [0.05, 0.25, 0.5, 0.75];

/// One agent's cpus and memory: its total and what is used after the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentUse {
    /// The agent's id (in the mark's tooltip).
    pub id: String,
    /// Cpus used (running tasks plus the plan's launches).
    pub cpus_used: f64,
    /// Cpus in all (used plus offered and left).
    pub cpus_total: f64,
    /// Memory used, MB.
    pub mem_used: f64,
    /// Memory in all, MB.
    pub mem_total: f64,
}

impl AgentUse {
    /// The share of the cpus used, from 0 to 1 (0 when the agent has none).
    pub fn cpu_share(&self) -> f64 {
        share(self.cpus_used, self.cpus_total)
    }

    /// The share of the memory used, from 0 to 1 (0 when the agent has none).
    pub fn mem_share(&self) -> f64 {
        share(self.mem_used, self.mem_total)
    }

    /// The share of the agent that is **stranded**: when one of cpus and memory is nearly full
    /// (at least [`NEARLY_FULL`] used), the free share of the other, less-used one, which few
    /// tasks can use any more; 0 otherwise. An agent at 95 % cpus and 30 % memory strands 0.7
    /// (70 % of its memory); one at 50 % and 60 %, or one full in both, strands nothing.
    ///
    /// ```
    /// use offerpack::report::AgentUse;
    /// let a = AgentUse { id: "a".into(), cpus_used: 15.2, cpus_total: 16.0, mem_used: 19.2, mem_total: 64.0 };
    /// assert!((a.stranded() - 0.7).abs() < 1e-9);
    /// ```
    pub fn stranded(&self) -> f64 {
        stranded(self.cpu_share(), self.mem_share())
    }
}

fn share(used: f64, total: f64) -> f64 {
    if total > 0.0 && used.is_finite() {
        (used / total).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn stranded(cpu: f64, mem: f64) -> f64 {
    if cpu.max(mem) >= NEARLY_FULL {
        1.0 - cpu.min(mem)
    } else {
        0.0
    }
}

/// The colour class of a stranded share: an index into [`STRANDED_COLOURS`].
pub fn stranded_class(stranded: f64) -> usize {
    STRANDED_CLASSES.iter().position(|&upper| stranded < upper).unwrap_or(STRANDED_CLASSES.len())
}

/// Width of a digit of a cell's count (7 px font), to write only counts that fit their square.
const COUNT_CHAR_WIDTH: f64 = 4.0;

const SIDE: f64 = 360.0;
const LEFT: f64 = 56.0;
const TOP: f64 = 14.0;
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = SIDE + TOP + 44.0;

/// Draws the map: x the cpu share used, y the memory share used, both 0–100 %, a dashed
/// diagonal where the two are equal and a legend of the stranded classes.
///
/// Up to [`MAX_MARKS`] agents, one `circle` of class `agent` each (tooltip: id, shares,
/// stranded share). Above that, a [`GRID_CELLS`]² grid: one `rect` of class `cell` per
/// non-empty cell with `data-count` (its agents; the counts sum to the number of agents), its
/// area growing with the count, coloured by the cell's mean stranded share and labelled with
/// the count when it fits.
pub fn utilization_map(title: &str, agents: &[AgentUse]) -> Figure {
    let mut svg = Svg::new(WIDTH, HEIGHT, title);
    let x = Scale { lo: 0.0, hi: 1.0, start: LEFT, end: LEFT + SIDE };
    let y = Scale { lo: 0.0, hi: 1.0, start: TOP + SIDE, end: TOP };
    frame(&mut svg, x, y);
    if agents.is_empty() {
        label(&mut svg, LEFT + SIDE / 2.0, TOP + SIDE / 2.0, "middle", SMALL, "no agents offered");
    } else if agents.len() <= MAX_MARKS {
        marks(&mut svg, x, y, agents);
    } else {
        grid(&mut svg, x, y, agents);
    }
    legend(&mut svg, agents.len());
    svg.finish()
}

fn frame(svg: &mut Svg, x: Scale, y: Scale) {
    for i in 0..=4 {
        let t = f64::from(i) / 4.0;
        line(svg, (x.at(t), y.at(0.0)), (x.at(t), y.at(1.0)), GRID);
        line(svg, (x.at(0.0), y.at(t)), (x.at(1.0), y.at(t)), GRID);
        let pct = format!("{} %", i * 25);
        label(svg, x.at(t), y.at(0.0) + 14.0, "middle", SMALL - 1.0, &pct);
        label(svg, x.at(0.0) - 4.0, y.at(t) + 4.0, "end", SMALL - 1.0, &pct);
    }
    svg.leaf(
        "line",
        &[
            ("x1", x.at(0.0).into()),
            ("y1", y.at(0.0).into()),
            ("x2", x.at(1.0).into()),
            ("y2", y.at(1.0).into()),
            ("stroke", AXIS.into()),
            ("stroke-dasharray", "4 4".into()),
        ],
    );
    line(svg, (x.at(0.0), y.at(0.0)), (x.at(1.0), y.at(0.0)), AXIS);
    line(svg, (x.at(0.0), y.at(0.0)), (x.at(0.0), y.at(1.0)), AXIS);
    label(svg, LEFT + SIDE / 2.0, TOP + SIDE + 32.0, "middle", SMALL, "cpus used (share of the agent)");
    svg.text(
        "text",
        &[
            ("transform", format!("translate(14 {}) rotate(-90)", num(TOP + SIDE / 2.0)).into()),
            ("text-anchor", "middle".into()),
            ("font-size", SMALL.into()),
        ],
        "memory used (share of the agent)",
    );
}

fn marks(svg: &mut Svg, x: Scale, y: Scale, agents: &[AgentUse]) {
    for a in agents {
        let (cpu, mem, stranded) = (a.cpu_share(), a.mem_share(), a.stranded());
        let tooltip = format!(
            "{}: cpus {} %, memory {} %, stranded {} %",
            a.id,
            num(cpu * 100.0),
            num(mem * 100.0),
            num(stranded * 100.0)
        );
        svg.with_title(
            "circle",
            &[
                ("class", "agent".into()),
                ("cx", x.at(cpu).into()),
                ("cy", y.at(mem).into()),
                ("r", 3.5.into()),
                ("fill", STRANDED_COLOURS[stranded_class(stranded)].into()),
                ("fill-opacity", 0.75.into()),
            ],
            &tooltip,
        );
    }
}

/// Agents and summed stranded share per grid cell.
fn bin(agents: &[AgentUse]) -> Vec<(u32, f64)> {
    let mut cells = vec![(0u32, 0.0f64); GRID_CELLS * GRID_CELLS];
    let index = |share: f64| ((share * GRID_CELLS as f64) as usize).min(GRID_CELLS - 1);
    for a in agents {
        let cell = &mut cells[index(a.mem_share()) * GRID_CELLS + index(a.cpu_share())];
        cell.0 += 1;
        cell.1 += a.stranded();
    }
    cells
}

fn grid(svg: &mut Svg, x: Scale, y: Scale, agents: &[AgentUse]) {
    let cells = bin(agents);
    let most = cells.iter().map(|c| c.0).max().unwrap_or(1).max(1);
    let size = SIDE / GRID_CELLS as f64;
    for (i, &(count, stranded_sum)) in cells.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let (col, row) = ((i % GRID_CELLS) as f64, (i / GRID_CELLS) as f64);
        let (cx, cy) = (x.at((col + 0.5) / GRID_CELLS as f64), y.at((row + 0.5) / GRID_CELLS as f64));
        let side = size * (0.5 + 0.5 * (f64::from(count) / f64::from(most)).sqrt());
        let mean = stranded_sum / f64::from(count);
        let tooltip = format!(
            "{count} agent{} at cpus {}–{} %, memory {}–{} %, mean stranded {} %",
            if count == 1 { "" } else { "s" },
            num(col * 100.0 / GRID_CELLS as f64),
            num((col + 1.0) * 100.0 / GRID_CELLS as f64),
            num(row * 100.0 / GRID_CELLS as f64),
            num((row + 1.0) * 100.0 / GRID_CELLS as f64),
            num(mean * 100.0)
        );
        svg.with_title(
            "rect",
            &[
                ("class", "cell".into()),
                ("data-count", count.into()),
                ("x", (cx - side / 2.0).into()),
                ("y", (cy - side / 2.0).into()),
                ("width", side.into()),
                ("height", side.into()),
                ("fill", STRANDED_COLOURS[stranded_class(mean)].into()),
            ],
            &tooltip,
        );
        let text = count.to_string();
        if text.len() as f64 * COUNT_CHAR_WIDTH + 1.0 <= side {
            svg.text(
                "text",
                &[
                    ("x", cx.into()),
                    ("y", (cy + 3.0).into()),
                    ("text-anchor", "middle".into()),
                    ("font-size", 7.0.into()),
                    ("fill", "#111111".into()),
                ],
                &text,
            );
        }
    }
}

fn legend(svg: &mut Svg, agents: usize) {
    let lx = LEFT + SIDE + 24.0;
    label(svg, lx, TOP + 10.0, "start", SMALL, "stranded share");
    let bounds = ["0 %", "5 %", "25 %", "50 %", "75 %", "100 %"];
    for (i, colour) in STRANDED_COLOURS.iter().enumerate() {
        let ly = TOP + 22.0 + 20.0 * i as f64;
        svg.leaf(
            "rect",
            &[
                ("x", lx.into()),
                ("y", ly.into()),
                ("width", 14.0.into()),
                ("height", 14.0.into()),
                ("fill", (*colour).into()),
            ],
        );
        let range = format!("{} – {}", bounds[i], bounds[i + 1]);
        label(svg, lx + 20.0, ly + 11.0, "start", SMALL, &range);
    }
    let how = if agents > MAX_MARKS {
        format!("{agents} agents, binned: square size and number = agents in the cell")
    } else {
        format!("{agents} agents, one mark each")
    };
    let ly = TOP + 22.0 + 20.0 * STRANDED_COLOURS.len() as f64 + 12.0;
    for (i, part) in wrap(&how, 30).iter().enumerate() {
        label(svg, lx, ly + 14.0 * i as f64, "start", SMALL - 1.0, part);
    }
}

/// Splits `text` at spaces into lines of at most about `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(last) if last.chars().count() + 1 + word.chars().count() <= width => {
                last.push(' ');
                last.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(cpu: f64, mem: f64) -> AgentUse {
        AgentUse {
            id: format!("a{cpu}-{mem}"),
            cpus_used: cpu * 16.0,
            cpus_total: 16.0,
            mem_used: mem * 64.0,
            mem_total: 64.0,
        }
    }

    #[test]
    fn stranded_counts_only_when_one_resource_is_nearly_full() {
        assert!((agent(0.95, 0.3).stranded() - 0.7).abs() < 1e-9);
        assert!((agent(0.2, 0.9).stranded() - 0.8).abs() < 1e-9);
        assert_eq!(agent(0.5, 0.6).stranded(), 0.0);
        assert_eq!(agent(1.0, 1.0).stranded(), 0.0);
        let none = AgentUse { id: "z".into(), cpus_used: 1.0, cpus_total: 0.0, mem_used: 0.0, mem_total: 0.0 };
        assert_eq!((none.cpu_share(), none.stranded()), (0.0, 0.0));
    }

    #[test]
    fn stranded_class_splits_at_the_legend_bounds() {
        assert_eq!([0.0, 0.049, 0.05, 0.3, 0.6, 0.99].map(stranded_class), [0, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn utilization_map_draws_a_mark_per_agent_up_to_the_limit() {
        let agents: Vec<AgentUse> = (0..10).map(|i| agent(f64::from(i) / 10.0, 0.5)).collect();
        let markup = utilization_map("u", &agents).into_string();
        assert_eq!(markup.matches("class=\"agent\"").count(), 10);
        assert!(!markup.contains("class=\"cell\""));
    }

    #[test]
    fn utilization_map_bins_many_agents_and_the_counts_add_up() {
        let agents: Vec<AgentUse> =
            (0..MAX_MARKS + 7).map(|i| agent((i % 97) as f64 / 97.0, (i % 13) as f64 / 13.0)).collect();
        let markup = utilization_map("u", &agents).into_string();
        assert!(!markup.contains("class=\"agent\""));
        let total: u32 = markup
            .split("data-count=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].parse::<u32>().unwrap())
            .sum();
        assert_eq!(total as usize, agents.len());
        assert!(markup.len() < 120_000, "{}", markup.len());
    }
}
