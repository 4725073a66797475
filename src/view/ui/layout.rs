//! Where everything goes on the screen: the grid of panels (a row per workload, a column per
//! executor), how the height is shared between rows and the summary, and the body between
//! header and footer.
//!
//! Every lane is shown when it can be, then the summary: on a short screen panels go
//! compact (a title line for a box) and the summary folds to the verdict, which is always
//! whole; on a tall one, lanes grow taller rather than leave rows blank.

use ratatui::layout::Rect;

use super::summary::Summary;
use super::verdict::Verdict;
use crate::chart::fold::Rows;
use crate::model::plan::{ExecutorKind, WorkloadKind};
use crate::view::app::{App, LaneOrder, SummaryFold};

/// Which panel goes where: rows are workloads, columns executors, in plan order. Recorded
/// files add a row per source (a folder of CSVs, a trace), and an experiment whose executor
/// is not known (a trace's process) gets a row of its own, full width.
pub struct Grid {
    /// Each row's panels: plan index and column (`None`: the whole row).
    pub rows: Vec<Vec<(usize, Option<usize>)>>,
    pub columns: usize,
    /// Whether the panels are a watched program's processes.
    pub watched: bool,
}

impl Grid {
    pub fn of(app: &App) -> Self {
        type Key<'a> = (WorkloadKind, Option<&'a str>, Option<usize>);
        let plans = &app.plan().experiments;
        if !plans.is_empty() && plans.iter().all(|e| e.is_watched()) {
            return Grid::watched(plans.len());
        }
        let mut columns: Vec<ExecutorKind> = Vec::new();
        for e in plans {
            if e.executor != ExecutorKind::Recorded && !columns.contains(&e.executor) {
                columns.push(e.executor);
            }
        }
        let mut keys: Vec<Key> = Vec::new();
        let mut rows: Vec<Vec<(usize, Option<usize>)>> = Vec::new();
        for (i, e) in plans.iter().enumerate() {
            let column = columns.iter().position(|&c| c == e.executor);
            let mut key: Key = (
                e.workload,
                e.recorded_from.as_deref(),
                column.is_none().then_some(i),
            );
            let row = keys.iter().position(|k| *k == key);
            // Two of one kind from one source (it happens with files): a row of its own.
            if let Some(row) = row
                && rows[row].iter().any(|&(_, c)| c == column)
            {
                key.2 = Some(i);
            }
            let row = match keys.iter().position(|k| *k == key) {
                Some(row) => row,
                None => {
                    keys.push(key);
                    rows.push(Vec::new());
                    rows.len() - 1
                }
            };
            let column = if key.2.is_some() { None } else { column };
            rows[row].push((i, column));
        }
        Grid {
            rows,
            columns: columns.len().max(1),
            watched: false,
        }
    }
}

impl Grid {
    /// A watched program's processes: the first (the program) across the whole width, the
    /// rest (its children: pool workers, helpers) side by side, three a row, more where
    /// there are many.
    fn watched(processes: usize) -> Self {
        let mut rows = vec![vec![(0, None)]];
        let children: Vec<usize> = (1..processes).collect();
        let columns = match children.len() {
            0..=6 => children.len().clamp(1, 3),
            7..=12 => 4,
            _ => 5,
        };
        for chunk in children.chunks(columns) {
            rows.push(
                chunk
                    .iter()
                    .enumerate()
                    .map(|(c, &i)| (i, Some(c)))
                    .collect(),
            );
        }
        Grid {
            rows,
            columns,
            watched: true,
        }
    }
}

/// Where everything below the header goes: each panel's area, the summary's or the
/// verdict's, and how panels are drawn.
pub struct Layout {
    /// (plan index, area) of every panel drawn.
    pub panels: Vec<(usize, Rect)>,
    /// The area the panels take.
    pub panels_area: Rect,
    /// The summary's area, if it is shown in full.
    pub summary: Option<Rect>,
    /// The verdict's area when the summary is folded to it.
    pub verdict: Option<Rect>,
    /// Whether the summary is folded to the verdict.
    pub folded: bool,
    /// Panels drawn compact: a title line instead of a box.
    pub compact: bool,
    /// The rows a lane takes: more than one where every lane fits with room to spare.
    pub lane_height: u16,
}

/// Rows a panel takes besides its lanes: boxed (borders and axis), compact (title and axis).
pub const fn overhead(compact: bool) -> u16 {
    if compact { 2 } else { 3 }
}

/// How tall lanes may grow where the screen has room to spare.
const MAX_LANE_HEIGHT: u16 = 3;

impl Layout {
    /// Every lane of every panel is shown when it can be: with boxes and the summary in
    /// full if they fit, else compact panels, else the summary folded to the verdict (its
    /// lines always whole). Where lanes cannot all fit, panels scroll: the summary stays in
    /// full while each row of panels keeps a useful number of lanes, and panels stay boxed
    /// (their border says which lanes show) while they keep two. `v` overrides the fold.
    pub fn of(app: &App, body: Rect) -> Layout {
        let grid = Grid::of(app);
        let lanes: Vec<u16> = if app.view.maximized {
            let wanted = panels_wanted(app, &grid);
            let row = grid
                .rows
                .iter()
                .position(|r| r.iter().any(|&(i, _)| i == app.selected));
            vec![row.map_or(0, |r| wanted[r] - 3)]
        } else {
            panels_wanted(app, &grid).iter().map(|w| w - 3).collect()
        };
        let rows = lanes.len() as u16;
        let all_lanes: u16 = lanes.iter().fold(0u16, |a, &l| a.saturating_add(l));
        let need = |compact: bool| all_lanes.saturating_add(rows * overhead(compact));
        // Each row of panels keeping up to `keep` lanes.
        let keeping = |keep: u16, compact: bool| -> u16 {
            lanes.iter().map(|&l| l.min(keep) + overhead(compact)).sum()
        };
        let height = body.height;
        let summary_full = Summary::height(app, body.width);
        let verdict = Verdict::of(app).map_or(0, |v| v.lines(body.width).len() as u16);
        let fits = |panels: u16, below: u16| panels.saturating_add(below) <= height;
        // (compact, folded)
        let candidates: &[(bool, bool)] = match app.view.summary {
            SummaryFold::Auto => &[(false, false), (true, false), (false, true), (true, true)],
            SummaryFold::Open => &[(false, false), (true, false)],
            SummaryFold::Folded => &[(false, true), (true, true)],
        };
        let below = |folded: bool| if folded { verdict } else { summary_full };
        let everything = candidates
            .iter()
            .copied()
            .find(|&(compact, folded)| fits(need(compact), below(folded)));
        let (compact, folded) = everything.unwrap_or_else(|| {
            let folded = match app.view.summary {
                SummaryFold::Open => false,
                SummaryFold::Folded => true,
                SummaryFold::Auto => !fits(keeping(8, false), summary_full),
            };
            (!fits(keeping(2, false), below(folded)), folded)
        });
        let below_height = below(folded).min(height);
        let panels_height = height - below_height;
        let lane_height = match everything {
            Some(_) if !compact && all_lanes > 0 => {
                (1 + (panels_height - need(false)) / all_lanes).min(MAX_LANE_HEIGHT)
            }
            _ => 1,
        };
        let panels_area = Rect {
            height: panels_height,
            ..body
        };
        let panels = panel_areas(app, &grid, panels_area, (compact, lane_height));
        let used = panels
            .iter()
            .map(|(_, r)| r.bottom())
            .max()
            .map_or(0, |bottom| bottom - panels_area.y);
        // Right under the panels; spare rows stay at the bottom, above the footer.
        let under = Rect {
            y: panels_area.y + used,
            height: below_height,
            ..body
        };
        Layout {
            panels,
            panels_area: Rect {
                height: used,
                ..panels_area
            },
            summary: (!folded && below_height > 0).then_some(under),
            verdict: (folded && below_height > 0).then_some(under),
            folded,
            compact,
            lane_height,
        }
    }
}

/// Where each panel of the grid goes (or the selected one alone, maximized), drawn
/// `compact` or boxed with lanes `lane_height` rows tall.
pub fn panel_areas(
    app: &App,
    grid: &Grid,
    area: Rect,
    (compact, lane_height): (bool, u16),
) -> Vec<(usize, Rect)> {
    let plans = &app.plan().experiments;
    if plans.is_empty() || area.height == 0 {
        return Vec::new();
    }
    if app.view.maximized {
        return if app.selected < plans.len() {
            vec![(app.selected, area)]
        } else {
            Vec::new()
        };
    }
    let wanted: Vec<u16> = panels_wanted(app, grid)
        .iter()
        .map(|w| (w - 3).saturating_mul(lane_height) + overhead(compact))
        .collect();
    let heights = if grid.watched {
        share_watched(&wanted, area.height)
    } else {
        share(&wanted, area.height)
    };
    let mut areas = Vec::new();
    let mut y = area.y;
    for (row, members) in grid.rows.iter().enumerate() {
        let height = heights[row];
        if height == 0 {
            continue; // no room: reached with Tab or a number, shown whole with z
        }
        for &(plan_index, column) in members {
            let (column, columns) = match column {
                Some(column) => (column as u16, grid.columns as u16),
                None => (0, 1),
            };
            let x = area.x + area.width * column / columns;
            let width = area.x + area.width * (column + 1) / columns - x;
            areas.push((
                plan_index,
                Rect {
                    x,
                    y,
                    width,
                    height,
                },
            ));
        }
        y += height;
    }
    areas
}

/// The screen below the header and above the footer: where panels and summary go.
pub fn body_of(area: Rect) -> Rect {
    Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    }
}

/// The height each row of panels would like: its tallest panel's lanes (or tasks), plus
/// the axis and the borders.
pub fn panels_wanted(app: &App, grid: &Grid) -> Vec<u16> {
    let plans = &app.plan().experiments;
    let timeline = app.shown_timeline();
    grid.rows
        .iter()
        .map(|members| {
            members
                .iter()
                .map(|&(i, _)| (i, &plans[i]))
                .map(|(i, p)| {
                    let e = timeline.experiment(i);
                    let rows = match (app.view.lane_order, e) {
                        // Nested calls: as many rows as the folding leaves.
                        (LaneOrder::ByWorker, Some(e)) if !e.plan.lane_levels.is_empty() => {
                            Rows::of(e, app.view.depth).len()
                        }
                        (LaneOrder::ByWorker, _) => e.map_or(0, |e| e.lanes.len()).max(p.workers),
                        (LaneOrder::ByStart, _) => p.inputs.len(),
                    };
                    (rows.min(u16::MAX as usize - 3) as u16) + 3
                })
                .max()
                .unwrap_or(3)
        })
        .collect()
}

/// A watched program's rows: the program's own panel (the first) keeps at least half the
/// height where it wants it; its children's rows follow in order, each whole or not at
/// all; what is left goes back to the first.
pub fn share_watched(wanted: &[u16], total: u16) -> Vec<u16> {
    let mut given = vec![0u16; wanted.len()];
    let Some((&first, rest)) = wanted.split_first() else {
        return given;
    };
    let rest_wanted: u16 = rest.iter().sum();
    // The root's panel keeps at least half, and whatever the others do not want.
    let first_floor = first.min(total.saturating_sub(rest_wanted).max(total / 2));
    let mut left = total.saturating_sub(first_floor);
    for (i, &w) in rest.iter().enumerate() {
        if w <= left {
            given[i + 1] = w;
            left -= w;
        } else {
            break;
        }
    }
    given[0] = first_floor + left.min(first.saturating_sub(first_floor));
    given
}

/// Splits `total` rows among parts wanting `wanted` each: everyone gets an equal share or
/// what they want if less; leftovers go to those still wanting more.
pub fn share(wanted: &[u16], total: u16) -> Vec<u16> {
    let mut given = vec![0u16; wanted.len()];
    let mut left = total;
    loop {
        let hungry: Vec<usize> = (0..wanted.len())
            .filter(|&i| given[i] < wanted[i])
            .collect();
        if hungry.is_empty() || left == 0 {
            break;
        }
        let each = (left / hungry.len() as u16).max(1);
        for i in hungry {
            let extra = each.min(wanted[i] - given[i]).min(left);
            given[i] += extra;
            left -= extra;
        }
    }
    given
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_share_the_height_fairly() {
        assert_eq!(share(&[11, 11], 30), [11, 11]);
        assert_eq!(share(&[20, 20], 30), [15, 15]);
        assert_eq!(share(&[4, 40], 30), [4, 26]);
        assert_eq!(share(&[10, 10, 10], 0), [0, 0, 0]);
    }

    #[test]
    fn a_watched_programs_panel_keeps_half_and_children_come_whole() {
        assert_eq!(share_watched(&[20, 4, 4], 30), [20, 4, 4]);
        assert_eq!(share_watched(&[20, 4, 4, 4, 4], 16), [8, 4, 4, 0, 0]);
        assert_eq!(share_watched(&[5, 4, 4], 30), [5, 4, 4]);
        assert_eq!(share_watched(&[], 30), Vec::<u16>::new());
    }
}
