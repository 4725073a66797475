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
use ratatui::widgets::{Block, BorderType, Borders, Widget};

use crate::chart::axis::{self, human};
use crate::chart::cells::{CellContent, CellState, lane_states, note_forms, task_cells};
use crate::chart::fold::{Depth, Rows as LaneRows, row_cells, row_label, row_note, row_states};
use crate::chart::labels::{fit, name_parts};
use crate::chart::paint::{draw_cells, draw_fill, draw_note, highlight};
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
    /// Drawn compact: a title line instead of a box, for short screens.
    pub compact: bool,
    /// Whether another panel is to the left (a compact panel draws a rule between).
    pub beside: bool,
    /// Rows each lane takes (more than one where the screen has room to spare).
    pub lane_height: u16,
}

impl GanttPanel<'_> {
    /// The title in `room` columns (the box's corners left out): number and name always,
    /// the name cut with `…` before it is dropped; the state in the shortest form that
    /// leaves the name its room; then, while they fit, how many workers ran tasks (compact
    /// panels: a box says it in its bottom border), pid, workers and pool.
    fn title(&self, room: u16) -> (Line<'static>, Line<'static>) {
        let theme = self.theme;
        let plan = self.plan;
        let failed = self.experiment.map_or(0, Experiment::failed);
        let room = room as usize;
        // A compact panel has no border to thicken: `▸` marks the selected one.
        let mark = if self.compact && self.selected {
            '▸'
        } else {
            ' '
        };
        let number = format!("{mark}{} ", self.number);
        let name = display::safe(&plan.name).into_owned();
        // The name keeps at least this much (a longer one is cut with `…`).
        let least_name = display::width(&name).min(8);
        let mut right = None;
        for form in self.state_forms(failed, room < 50) {
            let w: usize = form.iter().map(Span::width).sum();
            // The name keeps `least_name` columns and its trailing blank.
            if w.saturating_sub(1) + display::width(&number) + least_name < room || form.is_empty()
            {
                right = Some(Line::from(form).right_aligned());
                break;
            }
        }
        let right = right.unwrap_or_default();
        // The left title ends with a blank and the right starts with one: they may share
        // it (the right is drawn over the left).
        let name_room = room
            .saturating_sub(right.width().saturating_sub(1) + display::width(&number) + 1)
            .max(1);
        let mut left = vec![Span::styled(
            format!("{number}{} ", display::shorten(&name, name_room)),
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
        // By priority: (compact) who ran tasks, the pid of a thread pool (its lanes show
        // only tids), the worker count, then the pool's name (the experiment's name already
        // says it).
        // Each extra in its forms, longest first.
        let mut extras: Vec<Vec<String>> = Vec::new();
        if self.compact {
            // No bottom border: how many nested lanes are folded, else who ran tasks.
            let folded = self
                .experiment
                .map_or(0, |e| LaneRows::of(e, self.depth).folded);
            if folded > 0 {
                extras.push(vec![
                    format!(
                        "· {} folded · d/D depth {} ",
                        display::count(folded, "nested lane"),
                        self.depth
                    ),
                    format!("· {folded} folded "),
                ]);
            } else if let Some(count) = self.worker_count() {
                extras.push(count[1..].iter().map(|c| format!("· {c} ")).collect());
            }
        }
        let lanes = self.experiment.map_or(&[][..], |e| &e.lanes[..]);
        if plan.is_watched() {
            // A watched process: its name holds its pid; its lanes are its threads.
            extras.push(vec![format!(
                "· {} ",
                display::count(lanes.len(), "thread")
            )]);
        } else {
            if let (
                ExecutorKind::Threads | ExecutorKind::Sequential | ExecutorKind::Gil,
                Some(lane),
            ) = (plan.executor, lanes.first().filter(|l| l.pid != 0))
            {
                extras.push(vec![format!("· pid {} ", lane.pid)]);
            }
            extras.push(vec![format!("· {workers} ")]);
            extras.push(vec![format!("· {} ", plan.executor.pool_name())]);
        }
        // A rule of one at least between the titles.
        let mut room = room.saturating_sub(right.width() + left[0].width() + 1);
        let mut fitting = Vec::new();
        for forms in extras {
            let Some(extra) = forms.into_iter().find(|f| f.chars().count() <= room) else {
                break;
            };
            room -= extra.chars().count();
            fitting.push(extra);
        }
        // Shown in reading order: pool, workers, pid, who ran tasks.
        fitting.reverse();
        left.extend(
            fitting
                .into_iter()
                .map(|extra| Span::styled(extra, theme.dim())),
        );
        (Line::from(left), right)
    }

    /// The state for the title, longest form first, the last empty: `✓ 537 ms`, then `✓`.
    fn state_forms(&self, failed: usize, narrow: bool) -> Vec<Vec<Span<'static>>> {
        let theme = self.theme;
        let failures = |short: bool| {
            (failed > 0).then(|| {
                let text = if short || narrow {
                    format!(" ✗{failed} ")
                } else {
                    format!(" ✗ {failed} failed ")
                };
                Span::styled(text, theme.bad())
            })
        };
        let state = match self.state {
            ExperimentState::Waiting => Span::styled(" waiting ".to_string(), theme.dim()),
            ExperimentState::NotRun => Span::styled(" not run ".to_string(), theme.dim()),
            ExperimentState::Running(d) => {
                // A watched process with no pool task has no count to give ("0/0").
                let e = self
                    .experiment
                    .filter(|e| !narrow && (e.tasks_held() > 0 || !e.plan.is_watched()));
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
        };
        let mark = match self.state {
            ExperimentState::Waiting | ExperimentState::NotRun => None,
            ExperimentState::Running(_) => Some(Span::styled(" ▶ ", theme.busy())),
            ExperimentState::Done(_) if failed > 0 => None,
            ExperimentState::Done(_) => Some(Span::styled(" ✓ ", theme.good())),
            ExperimentState::Stopped(_) => Some(Span::styled(" ■ ", theme.bad())),
        };
        let mut forms = vec![failures(false).into_iter().chain([state]).collect()];
        forms.push(failures(true).into_iter().chain(mark).collect());
        forms.push(Vec::new());
        forms
    }

    /// How many workers ran tasks and how many never got one, longest form first, once
    /// some never got one (settled: see [`row_note`]).
    fn worker_count(&self) -> Option<[String; 4]> {
        let e = self.experiment.filter(|e| e.plan.lane_levels.is_empty())?;
        let rows = LaneRows::of(e, self.depth);
        let idle = (0..rows.len())
            .filter_map(|i| rows.get(i))
            .filter(|row| row_note(e, row).is_some())
            .count();
        if idle == 0 {
            return None;
        }
        let ran = e.lanes.iter().filter(|l| !l.spans().is_empty()).count();
        Some([
            format!("{ran} ran tasks · {idle} never got one"),
            format!("{ran} ran tasks · {idle} got none"),
            format!("{ran} ran · {idle} none"),
            format!("{ran}/{} ran", e.lanes.len()),
        ])
    }

    /// The area inside the box (or under the title line) of a panel filling `area`.
    fn inner(&self, area: Rect) -> Rect {
        if self.compact {
            let left = u16::from(self.beside).min(area.width);
            Rect {
                x: area.x + left,
                y: area.y + 1.min(area.height),
                width: area.width - left,
                height: area.height.saturating_sub(1),
            }
        } else {
            Block::bordered().inner(area)
        }
    }

    /// How many lanes (or tasks) fit in an inner area `height` rows tall (one is the axis).
    fn lanes_fitting(&self, height: u16) -> u16 {
        height.saturating_sub(1) / self.lane_height.max(1)
    }

    /// The task whose bar is drawn at (`x`, `y`) when the panel fills `area`, if any.
    pub fn task_at(&self, area: Rect, x: u16, y: u16) -> Option<usize> {
        let (experiment, span) = (self.experiment?, self.span?);
        let inner = self.inner(area);
        let label_width = self.label_width(inner.width);
        let bars_x = inner.x + label_width;
        let columns = inner.width.saturating_sub(label_width);
        let fitting = self.lanes_fitting(inner.height);
        let height = fitting * self.lane_height.max(1);
        if x < bars_x || x >= bars_x + columns || y <= inner.y || y > inner.y + height {
            return None;
        }
        let row = ((y - inner.y - 1) / self.lane_height.max(1)) as usize;
        let rows = self.rows(experiment, span, fitting, label_width, columns);
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
        let border_type = if self.selected {
            BorderType::Thick
        } else {
            BorderType::Rounded
        };
        let border_style = if self.selected {
            theme.selected_border()
        } else {
            theme.dim()
        };
        // The titles' room: all but a box's corners, or a compact panel's rule.
        let corners = if self.compact {
            u16::from(self.beside)
        } else {
            2
        };
        let (left, right) = self.title(area.width.saturating_sub(corners));
        let mut block = if self.compact {
            let borders = if self.beside {
                Borders::TOP | Borders::LEFT
            } else {
                Borders::TOP
            };
            Block::new().borders(borders)
        } else {
            Block::bordered()
        }
        .border_type(border_type)
        .border_style(border_style)
        .title_top(left)
        .title_top(right);
        let inner = self.inner(area);
        // The rows, computed once: drawn below, and placed on the bottom border.
        let label_width = self.label_width(inner.width);
        let fitting = self.lanes_fitting(inner.height);
        let computed = match (self.experiment, self.span) {
            (Some(experiment), Some(span)) if inner.width > 0 => Some(self.rows(
                experiment,
                span,
                fitting,
                label_width,
                inner.width.saturating_sub(label_width),
            )),
            _ => None,
        };
        let marker = computed
            .as_ref()
            .filter(|r| r.hidden > 0 && !r.rows.is_empty())
            .map(|rows| rows.marker());
        if !self.compact {
            // The bottom border: who ran tasks on the left, which lanes show on the right,
            // each in the longest form that leaves the other its room.
            let room = area.width.saturating_sub(2) as usize;
            // On the left, how many nested lanes are folded (and how to see them), else who
            // ran tasks.
            let counts = match computed.as_ref().filter(|r| r.folded > 0) {
                Some(rows) => {
                    let long = format!(
                        "{} folded · d/D depth {}",
                        display::count(rows.folded, "nested lane"),
                        self.depth
                    );
                    let short = format!("{} folded", rows.folded);
                    Some([long.clone(), long, short.clone(), short])
                }
                None => self.worker_count(),
            };
            let count = |form: usize| {
                counts
                    .as_ref()
                    .map_or(String::new(), |c| format!(" {} ", c[form]))
            };
            let (long, short) = marker
                .clone()
                .map_or((String::new(), String::new()), |(l, s)| {
                    (format!(" {l} "), s)
                });
            let spaced = if short.is_empty() {
                String::new()
            } else {
                format!(" {short} ")
            };
            // By preference; a rule of one between the two, but for the tight marker's.
            let candidates = [
                (count(0), &long, 1),
                (count(1), &long, 1),
                (count(0), &spaced, 1),
                (count(1), &spaced, 1),
                (count(2), &spaced, 1),
                (count(2), &short, 0),
                (count(3), &spaced, 1),
                (count(3), &short, 0),
                (String::new(), &short, 0),
            ];
            let chosen = candidates.iter().find(|(c, m, gap)| {
                let gap = if c.is_empty() || m.is_empty() {
                    0
                } else {
                    *gap
                };
                c.chars().count() + m.chars().count() + gap <= room
            });
            if let Some((c, m, _)) = chosen {
                if !c.is_empty() {
                    block = block.title_bottom(Line::styled(c.clone(), theme.dim()));
                }
                if !m.is_empty() {
                    block = block
                        .title_bottom(Line::styled((*m).clone(), theme.busy()).right_aligned());
                }
            }
        }
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
        // Compact panels have no bottom border: which lanes show is said on the axis line,
        // in the label column where it fits, else at its right end.
        if let (true, Some((_, short))) = (self.compact, &marker) {
            let w = short.chars().count() as u16;
            let x = if label_width > w {
                buf.set_string(
                    inner.x,
                    inner.y,
                    " ".repeat(label_width as usize),
                    theme.dim(),
                );
                inner.x
            } else {
                inner.right().saturating_sub(w + 1)
            };
            if w < inner.width {
                buf.set_string(x, inner.y, format!("{short} "), theme.busy());
            }
        }

        let rows = inner.height.saturating_sub(1);
        let lane_height = self.lane_height.max(1);
        let row_y = |row: u16| inner.y + 1 + row * lane_height;
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
            for extra in 1..lane_height {
                draw_fill(buf, bars_x, y + extra, (cells, states), experiment, theme);
            }
            if let Some(note) = note {
                draw_note(buf, bars_x, y, cells, &note_forms(note), theme);
            }
            if let Some(task) = self.highlight {
                for extra in 0..lane_height {
                    highlight(buf, bars_x, y + extra, cells, task);
                }
            }
        }
    }
}

impl Rows {
    /// Which rows show, long and short: `▲▼ 9–16 of 64 lanes`, `9–16/64▲▼`.
    fn marker(&self) -> (String, String) {
        let (first, shown) = (self.first, self.rows.len());
        let total = shown + self.hidden;
        let arrows = format!(
            "{}{}",
            if first > 0 { "▲" } else { "" },
            if first + shown < total { "▼" } else { "" }
        );
        (
            format!(
                "{arrows} {}–{} of {total} {}",
                first + 1,
                first + shown,
                self.what
            ),
            format!("{}–{}/{total}{arrows}", first + 1, first + shown),
        )
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
                let order = lanes.order(experiment, height as usize);
                let rows = order[first..first + shown]
                    .iter()
                    .filter_map(|&i| lanes.get(i))
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
