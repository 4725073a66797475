//! One experiment's Gantt panel: a time axis, one lane per worker (or one row per task, the
//! post's order), one bar per task.
//!
//! ```text
//! ╭ 1 process-fibo · ProcessPool · fib · 8 workers ─────────────── 0.62 s done ╮
//! │              0         0.1s      0.2s      0.3s      0.4s      0.5s       │
//! │w0 pid 48213  ╌███fib 34██                                                 │
//! │w1 pid 48214  ╌▓▓▓▓▓fib 35▓▓▓▓▓▓                                            │
//! │w7 pid 48220  ╌██████████████████████fib 41████████████████████████████████│
//! ╰───────────────────────────────────────────────────────────────────────────╯
//! ```
//!
//! The cells, labels, painting and the folding of nested calls come from [`crate::chart`],
//! which `--print` and the SVG picture share; this widget adds the box, the title, the axis
//! line, scrolling, and says in its bottom border how many nested lanes are folded.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Widget};

use crate::chart::axis::{self, human};
use crate::chart::cells::{CellContent, CellState, lane_states, task_cells};
use crate::chart::fold::{Depth, Rows as LaneRows, row_cells, row_label, row_note, row_states};
use crate::chart::labels::{fit, name_parts};
use crate::chart::paint::{draw_cells, draw_note, highlight};
use crate::chart::span::{TimeGrid, TimeSpan};
use crate::chart::theme::Theme;
use crate::model::clock::Timestamp;
use crate::model::display;
use crate::model::plan::{ExecutorKind, ExperimentPlan};
use crate::model::timeline::Experiment;
use crate::view::app::{ExperimentState, LaneOrder};

/// A Gantt panel for one experiment of the plan.
#[derive(Debug, Clone)]
pub struct GanttPanel<'a> {
    /// The experiment as planned (known before it starts).
    pub plan: &'a ExperimentPlan,
    /// What happened so far, once it started.
    pub experiment: Option<&'a Experiment>,
    /// 1-based number, the key that selects it.
    pub number: usize,
    /// The stretch of time shown.
    pub span: Option<TimeSpan>,
    /// Where running bars end.
    pub now: Timestamp,
    /// Rows by worker or by task start.
    pub order: LaneOrder,
    /// Whether the panel has the focus.
    pub selected: bool,
    /// What the title says about progress.
    pub state: ExperimentState,
    /// Styles.
    pub theme: Theme,
    /// The task under the inspector's cursor, drawn highlighted.
    pub highlight: Option<usize>,
    /// The first row shown (the panel scrolls when its rows do not fit).
    pub scroll: usize,
    /// How many rows of nesting a thread shows (see [`crate::chart::fold`]).
    pub depth: Depth,
}

impl GanttPanel<'_> {
    /// The title: number and name always; pool, workers and pid while they fit beside the
    /// state on the right.
    fn title(&self, width: u16) -> (Line<'static>, Line<'static>) {
        let theme = self.theme;
        let plan = self.plan;
        let failed = self.experiment.map_or(0, Experiment::failed);
        // Narrow panels get the short forms, so the experiment's name keeps its room.
        let narrow = width < 50;
        let mut right = Vec::new();
        if failed > 0 {
            let text = if narrow {
                format!(" ✗{failed} ")
            } else {
                format!(" ✗ {failed} failed ")
            };
            right.push(Span::styled(text, theme.bad()));
        }
        right.push(match self.state {
            ExperimentState::Waiting => Span::styled(" waiting ".to_string(), theme.dim()),
            ExperimentState::NotRun => Span::styled(" not run ".to_string(), theme.dim()),
            ExperimentState::Running(d) => {
                let e = self.experiment.filter(|_| !narrow);
                let progress = e.map_or(String::new(), |e| {
                    format!("{}/{} done ", e.ended(), e.tasks_held())
                });
                Span::styled(format!(" ▶ {progress}{} ", axis::ticking(d)), theme.busy())
            }
            // No ✓ beside failures: the time alone, after them.
            ExperimentState::Done(d) if failed > 0 => {
                Span::styled(format!("· {} ", human(d)), theme.bad())
            }
            ExperimentState::Done(d) => Span::styled(format!(" ✓ {} ", human(d)), theme.good()),
            ExperimentState::Stopped(d) if narrow => {
                Span::styled(format!(" ■ {} ", human(d)), theme.bad())
            }
            ExperimentState::Stopped(d) => {
                Span::styled(format!(" ■ stopped at {} ", human(d)), theme.bad())
            }
        });
        let right = Line::from(right).right_aligned();

        let mut left = vec![Span::styled(
            format!(" {} {} ", self.number, display::safe(&plan.name)),
            theme.heading(),
        )];
        let workers = match self.experiment {
            // Lanes of nested calls are levels of a few threads: count the threads.
            Some(e) if !plan.lane_levels.is_empty() => {
                let threads = e
                    .lanes
                    .iter()
                    .filter(|l| plan.lane_levels.get(l.worker) == 0)
                    .count();
                display::count(threads, "thread")
            }
            _ => format!(
                "{} worker{}",
                self.experiment
                    .map_or_else(|| plan.workers.to_string(), |e| e.workers_text()),
                if plan.workers == 1 { "" } else { "s" }
            ),
        };
        // By priority: the pid of a thread pool (its lanes show only tids), the worker count,
        // then the pool's name (the experiment's name already says it).
        let mut extras = Vec::new();
        let lanes = self.experiment.map_or(&[][..], |e| &e.lanes[..]);
        if let (ExecutorKind::Threads | ExecutorKind::Sequential | ExecutorKind::Gil, Some(lane)) =
            (plan.executor, lanes.first().filter(|l| l.pid != 0))
        {
            extras.push(format!("· pid {} ", lane.pid));
        }
        extras.push(format!("· {workers} "));
        extras.push(format!("· {} ", plan.executor.pool_name()));
        // Two corners and a gap of one between the titles.
        let mut room = (width as usize).saturating_sub(right.width() + 3 + left[0].width());
        let mut fitting = Vec::new();
        for extra in extras {
            let w = extra.chars().count();
            if w > room {
                break;
            }
            room -= w;
            fitting.push(extra);
        }
        // Shown in reading order: pool, workers, pid.
        fitting.reverse();
        left.extend(
            fitting
                .into_iter()
                .map(|extra| Span::styled(extra, theme.dim())),
        );
        (Line::from(left), right)
    }

    /// The task whose bar is drawn at (`x`, `y`) when the panel fills `area`, if any.
    pub fn task_at(&self, area: Rect, x: u16, y: u16) -> Option<usize> {
        let (experiment, span) = (self.experiment?, self.span?);
        let inner = Rect {
            x: area.x + 1,
            y: area.y + 1,
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(2),
        };
        let label_width = self.label_width(inner.width);
        let bars_x = inner.x + label_width;
        let columns = inner.width.saturating_sub(label_width);
        let height = inner.height.saturating_sub(1);
        if x < bars_x || x >= bars_x + columns || y <= inner.y || y > inner.y + height {
            return None;
        }
        let row = (y - inner.y - 1) as usize;
        let rows = self.rows(experiment, span, height, label_width, columns);
        match rows.rows.get(row)?.1.get((x - bars_x) as usize)? {
            CellContent::Task(index) => Some(*index),
            _ => None,
        }
    }

    /// The label column: as wide as the longest lane label needs (plus a gap), at most a
    /// third of the panel; labels that still do not fit are shortened visibly (see
    /// [`lane_label`]).
    fn label_width(&self, inner_width: u16) -> u16 {
        if inner_width < 24 {
            return 0;
        }
        let wanted = match (self.order, self.experiment) {
            (LaneOrder::ByWorker, Some(e)) if !e.lanes.is_empty() => {
                let rows = LaneRows::of(e, self.depth);
                (0..rows.len())
                    .filter_map(|i| rows.get(i))
                    .map(|row| display::width(&row_label(e, &row, usize::MAX)))
                    .max()
                    .unwrap_or(0) as u16
                    + 1
            }
            _ => 13,
        };
        wanted.clamp(4, (inner_width / 3).max(4))
    }
}

impl Widget for GanttPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let (left, right) = self.title(area.width);
        let mut block = Block::bordered()
            .border_type(if self.selected {
                BorderType::Thick
            } else {
                BorderType::Rounded
            })
            .title_top(left)
            .title_top(right);
        block = block.border_style(if self.selected {
            theme.selected_border()
        } else {
            theme.dim()
        });
        let inner = block.inner(area);
        // The rows, computed once: drawn below, and placed on the bottom border.
        let label_width = self.label_width(inner.width);
        let computed = match (self.experiment, self.span) {
            (Some(experiment), Some(span)) if inner.width > 0 => Some(self.rows(
                experiment,
                span,
                inner.height.saturating_sub(1),
                label_width,
                inner.width.saturating_sub(label_width),
            )),
            _ => None,
        };
        if let Some(rows) = computed.as_ref().filter(|r| r.hidden > 0) {
            let (first, shown) = (rows.first, rows.rows.len());
            let total = shown + rows.hidden;
            let arrows = format!(
                "{}{}",
                if first > 0 { "▲" } else { "" },
                if first + shown < total { "▼" } else { "" }
            );
            let long = format!(
                " {arrows} {}–{} of {total} {} ",
                first + 1,
                first + shown,
                rows.what
            );
            // Narrow panels: the short form, which still says where and that more is.
            let marker = if long.chars().count() + 4 <= area.width as usize {
                long
            } else {
                format!("{}–{}/{total}{arrows}", first + 1, first + shown)
            };
            block = block.title_bottom(Line::styled(marker, theme.busy()).right_aligned());
        }
        if let Some(rows) = computed.as_ref().filter(|r| r.folded > 0) {
            // How much is folded, and how to see it: on the left, the scroll marker right.
            let long = format!(
                " {} folded · d/D depth {} ",
                display::count(rows.folded, "nested lane"),
                self.depth
            );
            let marker = if long.chars().count() + 24 <= area.width as usize {
                long
            } else {
                format!(" {} folded ", rows.folded)
            };
            block = block.title_bottom(Line::styled(marker, theme.dim()).left_aligned());
        }
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.height == 0 || inner.width == 0 {
            return;
        }
        let (Some(experiment), Some(span)) = (self.experiment, self.span) else {
            let text = "waiting to start";
            buf.set_stringn(inner.x, inner.y, text, inner.width as usize, theme.dim());
            return;
        };
        let bars_x = inner.x + label_width;
        let columns = inner.width - label_width;

        // The axis: seconds since the experiment started.
        let offset = span.start.since(span.origin);
        let heading = match self.order {
            LaneOrder::ByWorker => "worker",
            LaneOrder::ByStart => "task",
        };
        if label_width as usize > heading.len() {
            buf.set_string(inner.x, inner.y, heading, theme.dim());
        }
        for tick in axis::ticks(offset, span.length, columns) {
            let text = format!("╵{}", tick.label);
            // A label cut by the edge reads wrong ("0.8" for "0.85s"): draw it whole or not.
            if tick.column as usize + text.chars().count() <= columns as usize {
                buf.set_string(bars_x + tick.column, inner.y, text, theme.dim());
            }
        }
        // Marked moments (the isolation demo's writes) over the axis: ▾ and what happened.
        let grid = TimeGrid::new(span, columns);
        for (at, label) in &experiment.marks {
            let Some(column) = grid.column_of(at.as_micros()) else {
                continue;
            };
            let room = (columns - column) as usize;
            let text = format!("▾{label}");
            let text: String = if text.chars().count() <= room {
                text
            } else {
                "▾".to_string()
            };
            buf.set_stringn(bars_x + column, inner.y, text, room, theme.busy());
        }

        let rows = inner.height.saturating_sub(1);
        let row_y = |row: u16| inner.y + 1 + row;
        if self.order == LaneOrder::ByWorker && experiment.lanes.is_empty() {
            if rows > 0 {
                buf.set_stringn(
                    bars_x,
                    row_y(0),
                    "starting workers…",
                    columns as usize,
                    theme.dim(),
                );
            }
            return;
        }
        let Some(Rows { rows: shown, .. }) = computed else {
            return;
        };
        for (row, (label, cells, states, note)) in shown.iter().enumerate() {
            let y = row_y(row as u16);
            buf.set_stringn(
                inner.x,
                y,
                label,
                label_width.saturating_sub(1) as usize,
                theme.dim(),
            );
            draw_cells(
                buf,
                bars_x,
                y,
                (cells, states),
                experiment,
                self.plan,
                theme,
            );
            if let Some(note) = note {
                draw_note(buf, bars_x, y, cells, note, theme);
            }
            if let Some(task) = self.highlight {
                highlight(buf, bars_x, y, cells, task);
            }
        }
    }
}

/// One row of a panel: its label, what each cell holds, the worker's state there, and a
/// note written across it (a worker that never got a task).
type Row = (
    String,
    Vec<CellContent>,
    Vec<Option<CellState>>,
    Option<&'static str>,
);

/// The rows a panel draws: a label and cells each, and how many did not fit.
struct Rows {
    rows: Vec<Row>,
    /// The index of the first row shown.
    first: usize,
    /// Rows not shown (above and below).
    hidden: usize,
    what: &'static str,
    /// Lanes of nested calls folded into another's row.
    folded: usize,
}

impl GanttPanel<'_> {
    /// One row per worker lane, or one per task in start order (the post's chart), as many
    /// as fit in `height`.
    fn rows(
        &self,
        experiment: &Experiment,
        span: TimeSpan,
        height: u16,
        label_width: u16,
        columns: u16,
    ) -> Rows {
        match self.order {
            LaneOrder::ByWorker => {
                let lanes = LaneRows::of(experiment, self.depth);
                let shown = lanes.len().min(height as usize);
                let first = self.scroll.min(lanes.len() - shown);
                let rows = (first..first + shown)
                    .filter_map(|i| lanes.get(i))
                    .map(|row| {
                        let room = label_width.saturating_sub(1) as usize;
                        let label = row_label(experiment, &row, room);
                        let cells = row_cells(experiment, &row, span, self.now, columns);
                        let states = row_states(experiment, &row, &cells, span, self.now);
                        (label, cells, states, row_note(experiment, &row))
                    })
                    .collect();
                Rows {
                    rows,
                    first,
                    hidden: lanes.len() - shown,
                    what: "lanes",
                    folded: lanes.folded,
                }
            }
            LaneOrder::ByStart => {
                let order = &experiment.by_start;
                let shown = order.len().min(height as usize);
                // The first row: the first task started inside the window, shifted back so
                // the panel stays full at the end of the run.
                let first_in_window = order.partition_point(|&i| {
                    experiment
                        .task(i as usize)
                        .and_then(|t| t.started_at)
                        .is_some_and(|s| s < span.start)
                });
                let first = (first_in_window + self.scroll).min(order.len() - shown);
                let rows = order[first..first + shown]
                    .iter()
                    .map(|&index| {
                        let index = index as usize;
                        let input = self.plan.inputs.get(index).copied().unwrap_or_default();
                        let room = label_width.saturating_sub(1) as usize;
                        // A recorded name by its readable head (`#12 Thread.run`).
                        let name = match self.plan.task_name(index) {
                            Some(name) => name_parts(name).0.to_string(),
                            None => self.plan.task_label(index, input),
                        };
                        let label = fit(&[format!("#{index} {name}"), format!("#{index}")], room);
                        let cells = task_cells(experiment, index, span, self.now, columns);
                        // The task's own stretch of its worker's states.
                        let states = experiment
                            .lane_of(index)
                            .map_or_else(
                                || vec![None; columns as usize],
                                |lane| lane_states(experiment, lane, &cells, span, self.now),
                            )
                            .into_iter()
                            .zip(&cells)
                            .map(|(state, cell)| state.filter(|_| *cell != CellContent::Empty))
                            .collect();
                        (label, cells, states, None)
                    })
                    .collect();
                Rows {
                    rows,
                    first,
                    hidden: order.len() - shown,
                    what: "tasks",
                    folded: 0,
                }
            }
        }
    }
}
