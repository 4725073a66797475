//! The live view's widgets: they draw an [`App`] into a buffer and do nothing else (no
//! channels, no clock, no I/O), so a test can render any state and compare the screen.
//!
//! ```text
//! poolscope · fib 34–41 · http 1000–1700 ms · processes vs threads    ▶ thread-fibo 2/4 · 1.3 s
//! ╭ 1 process-fibo ────────────── ✓ 0.62 s ╮╭ 2 thread-fibo ──────────── ▶ 3/8 0.40 s ╮
//! │ axis, one lane per worker               ││                                         │
//! ╰─────────────────────────────────────────╯╰─────────────────────────────────────────╯
//! ╭ 3 process-get ────────────── waiting ──╮╭ 4 thread-get ──────────────── waiting ──╮
//! ╰─────────────────────────────────────────╯╰─────────────────────────────────────────╯
//! ╭ summary ─────────────────────────────────────────────────────────────────────────╮
//! │ # experiment  state  makespan  cpu time  efficiency  failed; the post's speed-ups │
//! ╰───────────────────────────────────────────────────────────────────────────────────╯
//!  exported to poolscope-runs/…  e export  r rerun  tab panel  …  ? help  q quit
//! ```
//!
//! Panels form a grid: one row per workload, one column per executor, so the processes and
//! threads runs of a workload sit side by side on the same time scale.

pub mod compare;
pub mod gantt;
pub mod summary;

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use ratatui::style::Style;

use crate::chart::axis::{self, human};
use crate::chart::theme::Theme;
use crate::model::clock::Timestamp;
use crate::model::event::RunOutcome;
use crate::model::plan::{ExecutorKind, WorkloadKind};
use crate::model::timeline::TaskState;
use crate::view::app::{App, LaneOrder};
use gantt::GanttPanel;
use summary::Summary;

/// The smallest screen the full layout needs; below it a notice is shown instead.
pub const MIN_WIDTH: u16 = 40;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 10;

/// The keys, as the help overlay and the footer list them.
pub const KEYS: &[(&str, &str)] = &[
    ("e", "export CSV + summary.json"),
    ("t", "export a Chrome trace (Perfetto, chrome://tracing)"),
    ("g", "export an SVG picture of the chart"),
    ("r", "rerun the plan (live runs; earlier runs are kept)"),
    ("p", "edit the plan (every setting), then run it"),
    ("w / W", "halve / double the workers and rerun"),
    ("[ / ]", "step through the runs kept (run N/M)"),
    ("c", "compare two runs side by side"),
    ("E", "export every run kept, a folder each, + stats.json"),
    ("tab / 1-9", "select a panel (shift-tab: back)"),
    ("z / enter", "maximize the selected panel"),
    ("s", "rows: by worker / by task start"),
    (
        "↑↓ PgUp PgDn Home End",
        "scroll the lanes (mouse wheel too)",
    ),
    ("+ / -", "zoom the time axis (about the inspected task)"),
    ("← / →", "pan (h / l too)"),
    ("0", "fit the whole run"),
    ("f", "follow the live edge"),
    ("space", "freeze the display (collection goes on)"),
    (
        "i / click",
        "inspect a task (↑↓ lanes, ←→ tasks, esc leaves)",
    ),
    ("?", "this help"),
    ("q / esc / ctrl-c", "quit (stops the run, kills workers)"),
];

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = Theme { color: self.color };
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let text = format!(
                "terminal too small ({}×{}); poolscope needs {MIN_WIDTH}×{MIN_HEIGHT}",
                area.width, area.height
            );
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .render(area, buf);
            return;
        }
        let header = Rect { height: 1, ..area };
        let footer = Rect {
            y: area.bottom() - 1,
            height: 1,
            ..area
        };
        let body = body_of(area);
        render_header(self, header, buf, theme);
        render_footer(self, footer, buf, theme);

        if let Some(fraction) = self.loading {
            let text = format!("reading the files… {:.0} %", fraction * 100.0);
            let y = body.y + body.height / 2;
            let x = body.x + body.width.saturating_sub(text.chars().count() as u16) / 2;
            buf.set_stringn(x, y, text, body.width as usize, theme.busy());
        }
        if let Some(pair) = self.compared() {
            compare::render(self, pair, body, buf, theme);
            if self.show_help {
                render_help(area, buf, theme, self.help_scroll);
            }
            return;
        }
        let layout = Layout::of(self, body);
        for &(plan_index, area) in &layout.panels {
            gantt_panel(self, plan_index).render(area, buf);
        }
        if let Some(area) = layout.summary {
            Summary { app: self }.render(area, buf);
        }
        if let Some(cursor) = self.inspect {
            // Over the panels when they leave it room, else over the summary too.
            let room = if layout.panels_area.height >= 12 {
                layout.panels_area
            } else {
                body
            };
            render_inspector(self, cursor.task, room, buf, theme);
        }
        if let Some(editor) = &self.editor {
            render_editor(editor, area, buf, theme);
        }
        if self.show_help {
            render_help(area, buf, theme, self.help_scroll);
        }
    }
}

/// The plan editor's box: a line per setting, the refusal if any, the command line.
fn render_editor(editor: &crate::view::editor::Editor, area: Rect, buf: &mut Buffer, theme: Theme) {
    use crate::view::editor::FieldKind;
    let mut lines: Vec<Line> = Vec::new();
    for (i, field) in editor.fields.iter().enumerate() {
        let here = i == editor.cursor;
        let mut spans = vec![
            Span::styled(if here { "▸ " } else { "  " }, theme.key()),
            Span::styled(format!("{:<21}", field.label), theme.dim()),
        ];
        match field.kind {
            FieldKind::Choices(names) => {
                for (j, name) in names.iter().enumerate() {
                    let on = field.value.split(',').any(|v| v.trim() == *name);
                    let text = format!("[{}] {name}", if on { 'x' } else { ' ' });
                    let style = if here && j == editor.choice {
                        theme
                            .selected_border()
                            .add_modifier(ratatui::style::Modifier::REVERSED)
                    } else {
                        Style::new()
                    };
                    spans.push(Span::styled(text, style));
                    spans.push(Span::raw(" "));
                }
            }
            FieldKind::Text if field.value.is_empty() => {
                spans.push(Span::styled(format!("({})", field.default), theme.dim()));
                if here {
                    spans.push(Span::styled("▏", theme.key()));
                }
            }
            FieldKind::Text => {
                spans.push(Span::raw(field.value.clone()));
                if here {
                    spans.push(Span::styled("▏", theme.key()));
                }
            }
        }
        lines.push(Line::from(spans));
        if let Some((_, message)) = editor.error.as_ref().filter(|(f, _)| *f == i) {
            lines.push(Line::styled(format!("    ✗ {message}"), theme.bad()));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "↑↓ field · type to edit · ←→ space toggle · enter runs · esc leaves",
        theme.dim(),
    ));
    lines.push(Line::styled(editor.command_line(), theme.heading()));
    let width = area.width.min(110);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    // The cursor's line stays in view on short screens.
    let inner_height = height.saturating_sub(2) as usize;
    let cursor_line = editor.cursor
        + usize::from(
            editor
                .error
                .as_ref()
                .is_some_and(|(f, _)| *f < editor.cursor),
        );
    let scroll = cursor_line.saturating_sub(inner_height.saturating_sub(3)) as u16;
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title_top(Span::styled(" plan: the next run ", theme.heading())),
        )
        .render(popup, buf);
}

/// Which panel goes where: rows are workloads, columns executors, in plan order. Recorded
/// files add a row per source (a folder of CSVs, a trace), and an experiment whose executor
/// is not known (a trace's process) gets a row of its own, full width.
struct Grid {
    /// Each row's panels: plan index and column (`None`: the whole row).
    rows: Vec<Vec<(usize, Option<usize>)>>,
    columns: usize,
}

impl Grid {
    fn of(app: &App) -> Self {
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
struct Layout {
    /// (plan index, area) of every panel drawn.
    panels: Vec<(usize, Rect)>,
    /// The area the panels take.
    panels_area: Rect,
    /// The summary's area, if there is room for it.
    summary: Option<Rect>,
}

impl Layout {
    /// The summary keeps every row when each row of panels can still show a lane (panels
    /// scroll; a summary cut short hides experiments); panels take the rest, up to what they
    /// want. Where even that does not fit, panels come first and the summary is left out.
    fn of(app: &App, body: Rect) -> Layout {
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
fn panel_areas(app: &App, grid: &Grid, area: Rect) -> Vec<(usize, Rect)> {
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

/// A summary of what a frame over `area` would show that changes by itself while a run
/// goes on: the tasks started and ended, the lanes and experiments that appeared, and the
/// time, counted in the steps at which a running bar grows by a cell or the clock's
/// tenths move. Equal keys draw equal frames (keys, resizes and messages are drawn
/// anyway), so the loop redraws only when this changes.
pub fn frame_key(app: &App, area: Rect) -> [u64; 4] {
    let timeline = app.shown_timeline();
    let (mut started, mut ended, mut lanes) = (0u64, 0u64, 0u64);
    for e in timeline.experiments() {
        started += (e.ended() + e.running()) as u64;
        ended += e.ended() as u64;
        lanes += e.lanes.len() as u64;
    }
    // The widest panel's bar area has the shortest cells: a bar there grows one cell every
    // full length / columns.
    let columns = if area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT {
        let body = body_of(area);
        Layout::of(app, body)
            .panels
            .iter()
            .map(|(_, r)| r.width.saturating_sub(2 + 13))
            .max()
            .unwrap_or(1)
    } else {
        1
    }
    .max(1);
    let cell = timeline
        .running_experiment()
        .map(|e| app.full_length(e).as_micros() as u64 / u64::from(columns))
        .unwrap_or(100_000);
    let tick = cell.clamp(1_000, 100_000);
    let now = app.now().as_micros();
    [
        started << 20 | ended.min(0xF_FFFF),
        lanes << 16 | timeline.experiments().len() as u64,
        now / tick,
        u64::from(timeline.outcome().is_some()),
    ]
}

/// How many rows each drawn panel shows on a screen of `area` (plan index, rows): what a
/// page is for `PgUp` / `PgDn`, and how far a panel can scroll.
pub fn rows_per_panel(app: &App, area: Rect) -> Vec<(usize, u16)> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return Vec::new();
    }
    let body = body_of(area);
    Layout::of(app, body)
        .panels
        .iter()
        // Borders and the axis line.
        .map(|&(i, r)| (i, r.height.saturating_sub(3)))
        .collect()
}

/// The screen below the header and above the footer: where panels and summary go.
fn body_of(area: Rect) -> Rect {
    Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    }
}

/// What a mouse click at (`x`, `y`) on a screen of `area` hits: the experiment whose panel
/// is there, and the task under the pointer if the click is on a bar. Uses the very layout
/// and rows the screen was drawn with.
pub fn hit(app: &App, area: Rect, x: u16, y: u16) -> Option<(usize, Option<usize>)> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT || app.show_help {
        return None;
    }
    let body = body_of(area);
    let layout = Layout::of(app, body);
    let &(plan_index, panel_area) = layout
        .panels
        .iter()
        .find(|(_, r)| r.contains(ratatui::layout::Position { x, y }))?;
    Some((
        plan_index,
        gantt_panel(app, plan_index).task_at(panel_area, x, y),
    ))
}

/// The height each row of panels would like: its tallest panel's lanes (or tasks), plus
/// the axis and the borders.
fn panels_wanted(app: &App, grid: &Grid) -> Vec<u16> {
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
                    let rows = match app.view.lane_order {
                        LaneOrder::ByWorker => e.map_or(0, |e| e.lanes.len()).max(p.workers),
                        LaneOrder::ByStart => p.inputs.len(),
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
fn share(wanted: &[u16], total: u16) -> Vec<u16> {
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

/// The panel of experiment `plan_index` as the app is now.
fn gantt_panel(app: &App, plan_index: usize) -> GanttPanel<'_> {
    let timeline = app.shown_timeline();
    let plan = &app.plan().experiments[plan_index];
    let experiment = timeline.experiment(plan_index);
    let selected = plan_index == app.selected;
    GanttPanel {
        plan,
        experiment,
        number: plan_index + 1,
        span: experiment.map(|e| app.time_span(e)),
        now: app.now(),
        order: app.view.lane_order,
        selected,
        state: app.experiment_state(plan_index),
        theme: Theme { color: app.color },
        highlight: app.inspect.filter(|_| selected).map(|c| c.task),
        scroll: app.scroll_of(plan_index),
    }
}

/// The inspector's box: everything known about the task under the cursor, at the bottom
/// right of the panel area, over the panels.
fn render_inspector(app: &App, task: usize, area: Rect, buf: &mut Buffer, theme: Theme) {
    let Some(experiment) = app.shown_timeline().experiment(app.selected) else {
        return;
    };
    let Some(t) = experiment.tasks.get(task) else {
        return;
    };
    let now = app.now();
    let detail = experiment.task_detail(task, now);
    let plan = &experiment.plan;
    let at = |stamp: Option<Timestamp>| {
        stamp.map_or("-".to_string(), |s| {
            format!("{:.3} s", s.since(experiment.started_at).as_secs_f64())
        })
    };
    let label = |text: &str| Span::styled(format!("{text:<9}"), theme.dim());
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("task {task} · {}", plan.task_label(task, t.input)),
            theme.heading(),
        ),
        Span::styled(format!(" · {}", plan.name), theme.dim()),
    ])];
    if let Some(w) = t.worker {
        lines.push(Line::from(vec![
            label("worker"),
            Span::raw(format!("w{} · pid {} · tid {}", w.index, w.pid, w.tid)),
        ]));
    }
    lines.push(Line::from(vec![
        label("start"),
        Span::raw(format!("{:<11}", at(t.started_at))),
        Span::styled("end ", theme.dim()),
        Span::raw(if t.ended_at.is_some() {
            at(t.ended_at)
        } else {
            "running".to_string()
        }),
    ]));
    if let Some(d) = detail {
        lines.push(Line::from(vec![
            label("elapsed"),
            Span::raw(human(d.elapsed)),
        ]));
        let cpu = d.cpu_time.map_or("-".to_string(), |cpu| {
            let share = cpu.as_secs_f64() / d.elapsed.as_secs_f64().max(1e-9) * 100.0;
            format!("{} ({share:.0} % of its wall time)", human(cpu))
        });
        lines.push(Line::from(vec![label("CPU"), Span::raw(cpu)]));
        match d
            .states
            .filter(|s| s.running + s.runnable + s.blocked > 0.0)
        {
            Some(s) => lines.push(Line::from(vec![
                label("state"),
                Span::raw(format!(
                    "running {:.0} % · waiting for a CPU {:.0} % · blocked {:.0} %",
                    s.running * 100.0,
                    s.runnable * 100.0,
                    s.blocked * 100.0
                )),
            ])),
            None => lines.push(Line::from(vec![
                label("state"),
                Span::styled("not sampled", theme.dim()),
            ])),
        }
        if let Some((held, waited)) = d.gil {
            lines.push(Line::from(vec![
                label("GIL"),
                Span::raw(format!("held {} · waited {}", human(held), human(waited))),
            ]));
        }
    }
    let (word, text, style) = match &t.state {
        TaskState::Succeeded { result, .. } => ("result", result.clone(), Style::new()),
        TaskState::Failed { error, .. } => ("error", error.clone(), theme.bad()),
        TaskState::Running => ("result", "(running)".to_string(), theme.dim()),
        TaskState::Pending => ("result", "(pending)".to_string(), theme.dim()),
    };
    lines.push(Line::from(vec![label(word), Span::styled(text, style)]));
    let width = (lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 2)
        .min(area.width)
        .max(20.min(area.width));
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.right().saturating_sub(width),
        y: area.bottom().saturating_sub(height),
        width,
        height,
    };
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(theme.selected_border())
                .title_top(Span::styled(" inspect ", theme.heading()))
                .title_bottom(
                    Line::styled(" ↑↓ lanes  ←→ tasks  esc leaves ", theme.dim())
                        .alignment(Alignment::Right),
                ),
        )
        .render(popup, buf);
}

fn render_header(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let timeline = app.shown_timeline();
    let elapsed = timeline
        .started_at()
        .map(|s| app.now().since(s))
        .unwrap_or_default();
    // Badges by priority: the run's state, then frozen, zoom, not following.
    let mut badges: Vec<Span> = Vec::new();
    let recorded = *app.source() != crate::view::app::Source::Live;
    badges.push(if app.is_restarting() {
        Span::styled(" ↻ restarting… ", theme.busy())
    } else if app.loading.is_some() {
        Span::styled(" reading… ", theme.busy())
    } else if recorded {
        let n = timeline.experiments().len();
        Span::styled(
            format!(
                " recorded · {n} experiment{} ",
                if n == 1 { "" } else { "s" }
            ),
            theme.good(),
        )
    } else {
        match timeline.outcome() {
            Some(RunOutcome::Completed) if timeline.failed_tasks() > 0 => Span::styled(
                format!(
                    " ✗ done, {} failed · {} ",
                    timeline.failed_tasks(),
                    human(elapsed)
                ),
                theme.bad(),
            ),
            Some(RunOutcome::Completed) => {
                Span::styled(format!(" ✓ done · {} ", human(elapsed)), theme.good())
            }
            Some(RunOutcome::Cancelled) => {
                Span::styled(format!(" ■ cancelled · {} ", human(elapsed)), theme.bad())
            }
            None => {
                let running = timeline
                    .running_experiment()
                    .map_or("starting".to_string(), |e| {
                        format!(
                            "{} {}/{}",
                            e.plan.name,
                            e.index + 1,
                            timeline.planned_experiments()
                        )
                    });
                Span::styled(
                    format!(" ▶ {running} · {} ", axis::ticking(elapsed)),
                    theme.busy(),
                )
            }
        }
    });
    if !recorded {
        badges.push(Span::styled(
            format!(" run {}/{} ", app.viewed_run() + 1, app.runs().len()),
            if app.viewing_live() {
                theme.dim()
            } else {
                theme.busy()
            },
        ));
    }
    if app.is_frozen() && app.viewing_live() {
        badges.push(Span::styled(" ‖ FROZEN ", theme.bad()));
    }
    if app.view.zoom > 1.0 {
        badges.push(Span::styled(
            format!(" zoom ×{} ", app.view.zoom),
            theme.dim(),
        ));
    }
    // Following matters only while the bars still grow.
    if !app.view.follow && timeline.outcome().is_none() {
        badges.push(Span::styled(" not following (f) ", theme.dim()));
    }
    let name = "poolscope ";
    let mut room = (area.width as usize).saturating_sub(name.len());
    let mut shown = Vec::new();
    for badge in badges {
        if badge.width() > room {
            break;
        }
        room -= badge.width();
        shown.push(badge);
    }
    shown.reverse(); // the state goes rightmost
    let right = Line::from(shown);
    let right_width = right.width() as u16;
    let left_width = area.width.saturating_sub(right_width + 1);
    // While the plan is edited, the header gives the equivalent command line to copy.
    let mut plan = match &app.editor {
        Some(editor) => editor
            .command_line()
            .trim_start_matches("poolscope ")
            .to_string(),
        None => app.plan_description().to_string(),
    };
    let room = (left_width as usize).saturating_sub(name.len());
    if plan.chars().count() > room {
        plan = plan
            .chars()
            .take(room.saturating_sub(1))
            .chain(['…'])
            .collect();
    }
    let left = Line::from(vec![
        Span::styled(name, theme.heading()),
        Span::styled(plan, theme.dim()),
    ]);
    buf.set_line(area.x, area.y, &left, left_width);
    buf.set_line(
        area.right().saturating_sub(right_width),
        area.y,
        &right,
        right_width.min(area.width),
    );
}

fn render_footer(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let mut spans = Vec::new();
    if let Some(status) = &app.status {
        let style = if status.is_error {
            theme.bad()
        } else {
            theme.good()
        };
        spans.push(Span::styled(format!("{} ", status.text), style));
        spans.push(Span::styled("│ ", theme.dim()));
    }
    // Keys in the order shown, each with its priority (lower stays longer): where the line
    // is short, the least needed give way first; help and quit always stay.
    const FOOTER: [(&str, &str, u8); 18] = [
        ("e", "export", 2),
        ("t", "trace", 8),
        ("g", "svg", 9),
        ("r", "rerun", 3),
        ("p", "plan", 4),
        ("[ ]", "runs", 6),
        ("c", "compare", 7),
        ("tab", "panel", 4),
        ("s", "order", 7),
        ("+/-", "zoom", 6),
        ("←→", "pan", 8),
        ("0", "fit", 9),
        ("f", "follow", 10),
        ("space", "freeze", 5),
        ("z", "maximize", 5),
        ("i", "inspect", 3),
        ("?", "help", 0),
        ("q", "quit", 0),
    ];
    let width_of = |(key, what, _): &(&str, &str, u8)| key.chars().count() + what.len() + 3;
    let status_width: usize = spans.iter().map(|s| s.width()).sum();
    let live = *app.source() == crate::view::app::Source::Live;
    let mut shown: Vec<_> = FOOTER
        .iter()
        .copied()
        .filter(|(key, _, _)| live || !matches!(*key, "r" | "p" | "[ ]" | "c"))
        .collect();
    while status_width + shown.iter().map(width_of).sum::<usize>() > area.width as usize {
        let Some(least) = shown
            .iter()
            .enumerate()
            .filter(|(_, k)| k.2 > 0)
            .max_by_key(|(_, k)| k.2)
            .map(|(i, _)| i)
        else {
            break;
        };
        shown.remove(least);
    }
    for (key, what, _) in shown {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(format!(" {what}  "), theme.dim()));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

fn render_help(area: Rect, buf: &mut Buffer, theme: Theme, scroll: u16) {
    // Narrow screens: keys above what they do, so lines wrap under the text, not the key.
    let narrow = area.width < 70;
    let mut lines: Vec<Line> = Vec::new();
    for (key, what) in KEYS {
        if narrow {
            lines.push(Line::styled(format!(" {key}"), theme.key()));
            lines.push(Line::raw(format!("    {what}")));
        } else {
            lines.push(Line::from(vec![
                Span::styled(format!("{key:>18}  "), theme.key()),
                Span::raw(*what),
            ]));
        }
    }
    let legend = [
        (theme.done(false), "finished task"),
        (theme.running(), "running task"),
        (theme.failed(), "failed task (✗)"),
        (theme.dense(false, false), "several short tasks in one cell"),
        (
            theme.starting(),
            "worker starting (process spawn, pool start)",
        ),
        (theme.runnable(), "waiting for a CPU (ready, none free)"),
        (
            theme.blocked(theme.done(false)),
            "blocked (sleep, I/O, a lock)",
        ),
        (
            theme.gil_wait(theme.done(false)),
            "waiting for the simulated GIL",
        ),
    ];
    lines.push(Line::raw(""));
    for (look, what) in legend {
        lines.push(Line::from(vec![
            Span::raw(" ".repeat(14)),
            Span::styled(look.glyph.to_string().repeat(2), look.style),
            Span::raw(format!("  {what}")),
        ]));
    }
    let width = (lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 4).min(area.width);
    // Wrapped at this width, how tall is it?
    let inner_width = width.saturating_sub(2).max(1) as usize;
    let wrapped: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_width))
        .sum();
    let height = (wrapped as u16 + 2).min(area.height);
    let scroll = scroll.min((wrapped as u16).saturating_sub(height.saturating_sub(2)));
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let hint = if (wrapped as u16) > height.saturating_sub(2) {
        " ↑↓ scroll · any key closes "
    } else {
        " any key closes "
    };
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title_top(Span::styled(" keys ", theme.heading()))
                .title_bottom(Line::styled(hint, theme.dim()).alignment(Alignment::Right)),
        )
        .render(popup, buf);
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
