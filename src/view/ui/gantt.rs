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
//! Drawing costs in proportion to the panel, not to the number of tasks: a lane's tasks
//! never overlap and are sorted by start (one worker runs one task at a time), so the tasks
//! under a cell are found by two binary searches, and failures among them by a prefix count
//! the timeline keeps. A hundred thousand tasks draw as fast as a hundred.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Widget};

use crate::chart::axis::{self, human};
use crate::chart::theme::{Look, Theme};
use crate::model::clock::Timestamp;
use crate::model::plan::{ExecutorKind, ExperimentPlan, WorkloadKind};
use crate::model::timeline::{Experiment, Lane, LaneSpan, StateShare, TaskState};
use crate::view::app::{ExperimentState, LaneOrder, TimeSpan};

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
}

/// What one cell of a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellContent {
    /// Nothing (the worker was idle, or the time is outside the experiment).
    Empty,
    /// The worker was starting (before it could take tasks).
    Starting,
    /// One task, by index into the experiment's tasks.
    Task(usize),
    /// Several tasks too short to draw apart.
    Dense {
        /// Whether one of them failed.
        failed: bool,
        /// Whether one of them is running.
        running: bool,
    },
}

/// What a worker was mostly doing during one cell, from the scheduler samples and the
/// simulated GIL's records (`None` where neither covers the cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellState {
    /// On a CPU (or holding the GIL, where nothing was sampled).
    OnCpu,
    /// Ready to run, waiting for a CPU.
    Runnable,
    /// Neither: sleeping, waiting on I/O or a lock.
    Blocked,
    /// Waiting for the simulated GIL.
    GilWait,
}

/// The dominant state of `share`, if anything was recorded.
pub fn dominant_state(share: StateShare) -> Option<CellState> {
    if !share.is_known() {
        return None;
    }
    let sampled = share.running + share.runnable + share.blocked > 0.0;
    let on_cpu = if sampled {
        share.running
    } else {
        share.gil_held
    };
    let blocked = if sampled {
        (share.blocked - share.gil_wait).max(0.0)
    } else {
        0.0
    };
    [
        (CellState::OnCpu, on_cpu),
        (CellState::Runnable, share.runnable),
        (CellState::GilWait, share.gil_wait),
        (CellState::Blocked, blocked),
    ]
    .into_iter()
    .fold(
        None,
        |best: Option<(CellState, f32)>, (state, value)| match best {
            Some((_, top)) if top >= value => best,
            _ if value > 0.0 => Some((state, value)),
            _ => best,
        },
    )
    .map(|(state, _)| state)
}

/// The state of `lane`'s worker in each of `columns` cells of `span`.
pub fn lane_states(
    lane: &Lane,
    span: TimeSpan,
    now: Timestamp,
    columns: u16,
) -> Vec<Option<CellState>> {
    if lane.samples().is_empty() && lane.gil_spans().is_empty() {
        return vec![None; columns as usize];
    }
    let grid = TimeGrid::new(span, columns);
    let now = now.as_micros();
    (0..columns)
        .map(|column| {
            let (t0, t1) = (grid.time_at(column), grid.time_at(column + 1));
            dominant_state(lane.state_in(t0, t1, now))
        })
        .collect()
}

/// The window of time a row is drawn over, in whole microseconds.
#[derive(Debug, Clone, Copy)]
struct TimeGrid {
    start: u64,
    length: u64,
    columns: u16,
}

impl TimeGrid {
    fn new(span: TimeSpan, columns: u16) -> Self {
        TimeGrid {
            start: span.start.as_micros(),
            length: (span.length.as_micros() as u64).max(1),
            columns,
        }
    }

    /// The time at the left edge of `column`.
    fn time_at(&self, column: u16) -> u64 {
        self.start
            + (u128::from(self.length) * u128::from(column) / u128::from(self.columns)) as u64
    }
}

/// Where a bar ends: at its task's end, or at `now` while the task runs; at least 1 µs
/// after its start, so even an instant failure shows.
fn bar_end(start: u64, ended: Option<u64>, now: u64) -> u64 {
    ended.unwrap_or(now).max(start + 1)
}

/// The cells of one worker lane over `columns` columns of `span`.
///
/// Each cell's tasks are found by binary search in the lane's compact span array, starting
/// where the previous cell's search ended (columns only move forward in time).
pub fn lane_cells(
    experiment: &Experiment,
    lane: &Lane,
    span: TimeSpan,
    now: Timestamp,
    columns: u16,
) -> Vec<CellContent> {
    let grid = TimeGrid::new(span, columns);
    let now = now.as_micros();
    let spans = lane.spans();
    let end_of = |s: &LaneSpan| bar_end(s.start, s.ended(), now);
    let origin = experiment.started_at.as_micros();
    let ready = lane.ready_at.map(Timestamp::as_micros);
    let mut from = 0;
    (0..columns)
        .map(|column| {
            let (t0, t1) = (grid.time_at(column), grid.time_at(column + 1));
            let first = from + gallop(&spans[from..], |s| end_of(s) <= t0);
            let end = first + gallop(&spans[first..], |s| s.start < t1);
            from = first;
            match end - first {
                0 => match ready {
                    Some(ready) if t0 < ready && t1 > origin => CellContent::Starting,
                    _ => CellContent::Empty,
                },
                1 => CellContent::Task(spans[first].task),
                // Where one task ends and the next begins, the cell shows the one that
                // covers more of it (a failure is never hidden that way).
                2 if lane.failed_in(first..end) == 0 => {
                    let cover = |s: &LaneSpan| end_of(s).min(t1).saturating_sub(s.start.max(t0));
                    let (a, b) = (&spans[first], &spans[first + 1]);
                    CellContent::Task(if cover(a) >= cover(b) { a.task } else { b.task })
                }
                _ => CellContent::Dense {
                    failed: lane.failed_in(first..end) > 0,
                    running: spans[end - 1].ended().is_none(),
                },
            }
        })
        .collect()
}

/// `partition_point` that looks near the front first (1, 2, 4, … ahead), then binary
/// searches the last stretch: O(log k) for an answer k places in, however long the slice.
fn gallop<T>(slice: &[T], is_before: impl Fn(&T) -> bool) -> usize {
    let mut bound = 1;
    while bound <= slice.len() && is_before(&slice[bound - 1]) {
        bound *= 2;
    }
    let low = bound / 2;
    let high = bound.min(slice.len());
    low + slice[low..high].partition_point(is_before)
}

/// The cells of a row holding the single task `index`.
pub fn task_cells(
    experiment: &Experiment,
    index: usize,
    span: TimeSpan,
    now: Timestamp,
    columns: u16,
) -> Vec<CellContent> {
    let grid = TimeGrid::new(span, columns);
    let task = experiment.tasks.get(index);
    let Some(start) = task.and_then(|t| t.started_at).map(Timestamp::as_micros) else {
        return vec![CellContent::Empty; columns as usize];
    };
    let ended = task.and_then(|t| t.ended_at).map(Timestamp::as_micros);
    let end = bar_end(start, ended, now.as_micros());
    (0..columns)
        .map(|column| {
            let (t0, t1) = (grid.time_at(column), grid.time_at(column + 1));
            if start < t1 && end > t0 {
                CellContent::Task(index)
            } else {
                CellContent::Empty
            }
        })
        .collect()
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
                    format!("{}/{} ", e.ended(), e.tasks.len())
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
            format!(" {} {} ", self.number, plan.name),
            theme.heading(),
        )];
        let workers = format!(
            "{} worker{}",
            plan.workers,
            if plan.workers == 1 { "" } else { "s" }
        );
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
                e.lanes
                    .iter()
                    .map(|lane| lane_label(lane, self.plan, usize::MAX).chars().count())
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
            let at = at.as_micros();
            if at < grid.start || at >= grid.start + grid.length {
                continue;
            }
            let column = ((u128::from(at - grid.start) * u128::from(columns))
                / u128::from(grid.length)) as u16;
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
        for (row, (label, cells, states)) in shown.iter().enumerate() {
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
            if let Some(task) = self.highlight {
                highlight(buf, bars_x, y, cells, task);
            }
        }
    }
}

/// One row of a panel: its label, what each cell holds, and the worker's state there.
type Row = (String, Vec<CellContent>, Vec<Option<CellState>>);

/// The rows a panel draws: a label and cells each, and how many did not fit.
struct Rows {
    rows: Vec<Row>,
    /// The index of the first row shown.
    first: usize,
    /// Rows not shown (above and below).
    hidden: usize,
    what: &'static str,
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
                let lanes = &experiment.lanes;
                let shown = lanes.len().min(height as usize);
                let first = self.scroll.min(lanes.len() - shown);
                let rows = lanes[first..first + shown]
                    .iter()
                    .map(|lane| {
                        let label =
                            lane_label(lane, self.plan, label_width.saturating_sub(1) as usize);
                        let cells = lane_cells(experiment, lane, span, self.now, columns);
                        let states = lane_states(lane, span, self.now, columns);
                        (label, cells, states)
                    })
                    .collect();
                Rows {
                    rows,
                    first,
                    hidden: lanes.len() - shown,
                    what: "lanes",
                }
            }
            LaneOrder::ByStart => {
                let order = &experiment.by_start;
                let shown = order.len().min(height as usize);
                // The first row: the first task started inside the window, shifted back so
                // the panel stays full at the end of the run.
                let first_in_window = order.partition_point(|&i| {
                    experiment.tasks[i]
                        .started_at
                        .is_some_and(|s| s < span.start)
                });
                let first = (first_in_window + self.scroll).min(order.len() - shown);
                let rows = order[first..first + shown]
                    .iter()
                    .map(|&index| {
                        let input = experiment.tasks[index].input;
                        let room = label_width.saturating_sub(1) as usize;
                        let label = fit(
                            &[
                                format!("#{index} {}", self.plan.task_label(index, input)),
                                format!("#{index}"),
                            ],
                            room,
                        );
                        let cells = task_cells(experiment, index, span, self.now, columns);
                        // The task's own stretch of its worker's states.
                        let states = experiment.tasks[index]
                            .worker
                            .and_then(|w| experiment.lanes.iter().find(|l| l.worker == w.index))
                            .map_or_else(
                                || vec![None; columns as usize],
                                |lane| lane_states(lane, span, self.now, columns),
                            )
                            .into_iter()
                            .zip(&cells)
                            .map(|(state, cell)| state.filter(|_| *cell != CellContent::Empty))
                            .collect();
                        (label, cells, states)
                    })
                    .collect();
                Rows {
                    rows,
                    first,
                    hidden: order.len() - shown,
                    what: "tasks",
                }
            }
        }
    }
}

/// `w0 pid 48213` for a process, `w0 tid 48219` for a thread (the pid is in the title); a
/// recording's own name for the lane (a trace's thread name), or `lane 2` where it has none.
///
/// In `room` characters: words go first (`w0 14599`, then `w0`), and what is still too long
/// is cut with `…`, so a number is never shown cut short as if whole.
pub fn lane_label(lane: &Lane, plan: &ExperimentPlan, room: usize) -> String {
    let w = lane.worker;
    let forms = if let Some(name) = plan.lane_names.get(w).filter(|n| !n.is_empty()) {
        vec![name.clone()]
    } else if lane.pid == 0 && lane.tid == 0 {
        vec![format!("lane {w}"), format!("{w}")]
    } else {
        let (word, id) = match plan.executor {
            ExecutorKind::Processes => ("pid", lane.pid),
            _ => ("tid", lane.tid),
        };
        vec![
            format!("w{w} {word} {id}"),
            format!("w{w} {id}"),
            format!("w{w}"),
        ]
    };
    fit(&forms, room)
}

/// The first of `forms` (longest first) that fits in `room` characters, else the last cut
/// with `…`.
fn fit(forms: &[String], room: usize) -> String {
    if let Some(form) = forms.iter().find(|f| f.chars().count() <= room) {
        return form.clone();
    }
    match room {
        0 => String::new(),
        _ => {
            let last = forms.last().map_or("", String::as_str);
            let mut cut: String = last.chars().take(room - 1).collect();
            cut.push('…');
            cut
        }
    }
}

/// Draws a row of cells, each shaded by what its worker was doing there (on a CPU, waiting
/// for one, blocked, waiting for the GIL), then writes each task's input over its bar where
/// it fits, cell by cell in that cell's own style. (The text and SVG charts draw their
/// rows with it too.)
pub fn draw_cells(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    (cells, states): (&[CellContent], &[Option<CellState>]),
    experiment: &Experiment,
    plan: &ExperimentPlan,
    theme: Theme,
) {
    let look_of = |index: usize| -> Look {
        match experiment.tasks[index].state {
            TaskState::Failed { .. } => theme.failed(),
            TaskState::Running | TaskState::Pending => theme.running(),
            // Neighbours in a lane alternate, whatever their inputs.
            TaskState::Succeeded { .. } => theme.done(
                experiment
                    .position_in_lane(index)
                    .map_or(index % 2 == 1, |p| p % 2 == 1),
            ),
        }
    };
    let looks: Vec<Option<Look>> = cells
        .iter()
        .zip(states.iter().chain(std::iter::repeat(&None)))
        .map(|(cell, state)| match (*cell, *state) {
            (CellContent::Empty, Some(CellState::Runnable)) => Some(theme.runnable()),
            (CellContent::Empty, Some(CellState::GilWait)) => Some(theme.gil_wait(theme.running())),
            (CellContent::Empty, _) => None,
            (CellContent::Starting, _) => Some(theme.starting()),
            (CellContent::Task(index), state) => {
                let task = look_of(index);
                Some(match state {
                    Some(CellState::Runnable) => theme.runnable(),
                    Some(CellState::Blocked) => theme.blocked(task),
                    Some(CellState::GilWait) => theme.gil_wait(task),
                    Some(CellState::OnCpu) | None => task,
                })
            }
            (CellContent::Dense { failed, running }, _) => Some(theme.dense(failed, running)),
        })
        .collect();
    for (column, look) in looks.iter().enumerate() {
        if let Some(look) = look {
            put(buf, x + column as u16, y, look.glyph, look.style);
        }
    }
    // Labels: over each run of cells that belong to one task, if the text fits.
    for (column, run, index) in task_runs(cells) {
        let task = &experiment.tasks[index];
        let failed = matches!(task.state, TaskState::Failed { .. });
        let mark = if failed { "✗ " } else { "" };
        let mut candidates = vec![
            format!("{mark}{}", plan.task_label(index, task.input)),
            format!("{mark}{}", task.input),
        ];
        // The isolation demo's point is what each read saw: say it on the bar.
        if let (WorkloadKind::Isolation, TaskState::Succeeded { result, .. }) =
            (plan.workload, &task.state)
        {
            candidates.insert(0, format!("read {}: X is {result}", task.input));
            candidates.insert(1, format!("X is {result}"));
        }
        if let Some(text) = candidates.iter().find(|t| t.chars().count() < run) {
            let start = column + usize::from(run > text.chars().count() + 1);
            for (offset, ch) in text.chars().enumerate() {
                let at = start + offset;
                let style = looks[at].map_or(look_of(index).label, |l| l.label);
                put(buf, x + at as u16, y, ch, style);
            }
        } else if failed {
            // Too short for text: the mark alone still says it failed.
            put(buf, x + column as u16, y, '✗', theme.failed().label);
        }
    }
}

/// Each stretch of cells that shows one task: its first column, its length, the task.
pub fn task_runs(cells: &[CellContent]) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let mut column = 0;
    std::iter::from_fn(move || {
        while column < cells.len() {
            let start = column;
            let CellContent::Task(index) = cells[start] else {
                column += 1;
                continue;
            };
            let run = cells[start..]
                .iter()
                .take_while(|&&c| c == CellContent::Task(index))
                .count();
            column += run;
            return Some((start, run, index));
        }
        None
    })
}

/// Marks the cells of `task` in a drawn row (reversed and bold: visible with or without
/// colour).
fn highlight(buf: &mut Buffer, x: u16, y: u16, cells: &[CellContent], task: usize) {
    for (column, cell) in cells.iter().enumerate() {
        if *cell == CellContent::Task(task)
            && let Some(cell) = buf.cell_mut((x + column as u16, y))
        {
            cell.modifier
                .insert(ratatui::style::Modifier::REVERSED | ratatui::style::Modifier::BOLD);
        }
    }
}

fn put(buf: &mut Buffer, x: u16, y: u16, glyph: char, style: Style) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_char(glyph).set_style(style);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{Event, TaskEventKind};
    use crate::model::plan::ExecutorKind;
    use crate::model::timeline::Timeline;
    use crate::model::timeline::tests::{finished, started_experiment, task};
    use std::time::Duration;

    fn span(start: u64, length_us: u64) -> TimeSpan {
        TimeSpan {
            start: Timestamp(start),
            length: Duration::from_micros(length_us),
            origin: Timestamp(0),
        }
    }

    #[test]
    fn cells_show_tasks_dense_stretches_and_failures() {
        let mut events = vec![started_experiment(0, ExecutorKind::Threads, 0)];
        // Worker 0: task 0 over 0..50, then tasks 1 and 2 squeezed into 60..70 (2 failed).
        events.push(task(0, 0, 0, 0, TaskEventKind::Started));
        events.push(task(0, 0, 0, 50, finished(1)));
        events.push(task(0, 1, 0, 60, TaskEventKind::Started));
        events.push(task(0, 1, 0, 63, finished(1)));
        events.push(task(0, 2, 0, 64, TaskEventKind::Started));
        events.push(task(
            0,
            2,
            0,
            66,
            TaskEventKind::Failed {
                error: "x".into(),
                cpu_time: None,
            },
        ));
        let t = Timeline::from_events(&events);
        let e = &t.experiments()[0];
        let cells = lane_cells(e, &e.lanes[0], span(0, 100), Timestamp(100), 10);
        use CellContent::*;
        assert_eq!(
            cells,
            [
                Task(0),
                Task(0),
                Task(0),
                Task(0),
                Task(0),
                Empty,
                Dense {
                    failed: true,
                    running: false
                },
                Empty,
                Empty,
                Empty
            ]
        );
    }

    #[test]
    fn running_bars_grow_to_now() {
        let t = Timeline::from_events(&[
            started_experiment(0, ExecutorKind::Processes, 0),
            task(0, 0, 0, 20, TaskEventKind::Started),
        ]);
        let e = &t.experiments()[0];
        let count = |now| {
            lane_cells(e, &e.lanes[0], span(0, 100), Timestamp(now), 10)
                .iter()
                .filter(|c| **c == CellContent::Task(0))
                .count()
        };
        assert_eq!(count(40), 2);
        assert_eq!(count(80), 6);
    }

    #[test]
    fn the_worker_start_shows_before_its_first_task() {
        let mut t = Timeline::from_events(&[started_experiment(0, ExecutorKind::Processes, 0)]);
        t.apply(&Event::WorkerStarted {
            experiment: 0,
            worker: crate::model::timeline::tests::worker(0),
            at: Timestamp(30),
        });
        t.apply(&task(0, 0, 0, 30, TaskEventKind::Started));
        let e = &t.experiments()[0];
        let cells = lane_cells(e, &e.lanes[0], span(0, 100), Timestamp(50), 10);
        assert_eq!(
            &cells[..4],
            [
                CellContent::Starting,
                CellContent::Starting,
                CellContent::Starting,
                CellContent::Task(0)
            ]
        );
    }

    #[test]
    fn gallop_agrees_with_partition_point() {
        for len in 0..70usize {
            let v: Vec<usize> = (0..len).collect();
            for cut in 0..=len {
                assert_eq!(
                    gallop(&v, |&x| x < cut),
                    v.partition_point(|&x| x < cut),
                    "len {len} cut {cut}"
                );
            }
        }
    }

    #[test]
    fn a_hundred_thousand_tasks_cost_a_search_per_cell() {
        let mut events = vec![Event::ExperimentStarted {
            experiment: 0,
            plan: ExperimentPlan::new(
                ExecutorKind::Threads,
                crate::model::plan::WorkloadKind::Sleep,
                vec![1; 100_000],
                1,
            ),
            at: Timestamp(0),
        }];
        for i in 0..100_000u64 {
            events.push(task(0, i as usize, 0, i * 10, TaskEventKind::Started));
            events.push(task(0, i as usize, 0, i * 10 + 5, finished(1)));
        }
        let t = Timeline::from_events(&events);
        let e = &t.experiments()[0];
        let cells = lane_cells(
            e,
            &e.lanes[0],
            span(0, 1_000_000),
            Timestamp(1_000_000),
            100,
        );
        assert!(cells.iter().all(|c| matches!(
            c,
            CellContent::Dense {
                failed: false,
                running: false
            }
        )));
    }
}
