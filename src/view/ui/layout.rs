//! Where everything goes on the screen: the grid of panels (a row per workload, a column per
//! executor), how the height is shared between rows and the summary, and the body between
//! header and footer.

use ratatui::layout::Rect;

use super::summary::Summary;
use crate::chart::fold::Rows;
use crate::model::plan::{ExecutorKind, WorkloadKind};
use crate::view::app::{App, LaneOrder};

/// Which panel goes where: rows are workloads, columns executors, in plan order. Recorded
/// files add a row per source (a folder of CSVs, a trace), and an experiment whose executor
/// is not known (a trace's process) gets a row of its own, full width.
pub struct Grid {
    /// Each row's panels: plan index and column (`None`: the whole row).
    pub rows: Vec<Vec<(usize, Option<usize>)>>,
    pub columns: usize,
}

impl Grid {
    pub fn of(app: &App) -> Self {
        type Key<'a> = (WorkloadKind, Option<&'a str>, Option<usize>);
        let plans = &app.plan().experiments;
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
        }
    }
}

/// Where everything below the header goes: each panel's area, the summary's.
pub struct Layout {
    /// (plan index, area) of every panel drawn.
    pub panels: Vec<(usize, Rect)>,
    /// The area the panels take.
    pub panels_area: Rect,
    /// The summary's area, if there is room for it.
    pub summary: Option<Rect>,
}

impl Layout {
    /// The summary keeps every row when each row of panels can still show a lane (panels
    /// scroll; a summary cut short hides experiments); panels take the rest, up to what they
    /// want. Where even that does not fit, panels come first and the summary is left out.
    pub fn of(app: &App, body: Rect) -> Layout {
        let grid = Grid::of(app);
        let wanted: u16 = panels_wanted(app, &grid).iter().sum();
        // Borders, axis and one lane per row of panels.
        let least = (grid.rows.len() as u16).saturating_mul(4);
        let summary_full = Summary::height(app);
        let panels_claim = if body.height >= least + summary_full {
            wanted.min(body.height - summary_full).max(least)
        } else {
            wanted.min(body.height * 3 / 4)
        };
        let summary_height = summary_full.min(body.height - panels_claim.min(body.height));
        let summary_height = if summary_height < 4 {
            0
        } else {
            summary_height
        };
        let panels_area = Rect {
            height: body.height - summary_height,
            ..body
        };
        let panels = panel_areas(app, &grid, panels_area);
        let used = panels
            .iter()
            .map(|(_, r)| r.bottom())
            .max()
            .map_or(0, |bottom| bottom - panels_area.y);
        // Right under the panels; spare rows stay at the bottom, above the footer.
        let summary = (summary_height > 0).then_some(Rect {
            y: panels_area.y + used,
            height: summary_height,
            ..body
        });
        Layout {
            panels,
            panels_area: Rect {
                height: used,
                ..panels_area
            },
            summary,
        }
    }
}

/// Where each panel of the grid goes (or the selected one alone, maximized).
pub fn panel_areas(app: &App, grid: &Grid, area: Rect) -> Vec<(usize, Rect)> {
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
    let heights = share(&panels_wanted(app, grid), area.height);
    let mut areas = Vec::new();
    let mut y = area.y;
    for (row, members) in grid.rows.iter().enumerate() {
        let height = heights[row];
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
}
