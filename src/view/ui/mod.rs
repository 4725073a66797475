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
//! │ # experiment  state  makespan  cpu time  efficiency  failed  cpu wait …            │
//! │ Process vs Threads speed-up: Fibonacci 11.39% · HTTP Get -0.41%  (the verdict)    │
//! ╰───────────────────────────────────────────────────────────────────────────────────╯
//!  exported to poolscope-runs/…  e export  r rerun  tab panel  …  ? help  q quit
//! ```
//!
//! Panels form a grid: one row per workload, one column per executor, so the processes and
//! threads runs of a workload sit side by side on the same time scale. On a short screen
//! panels go compact and the summary folds to the verdict ([`layout`]).

pub mod bars;
pub mod compare;
pub mod editor;
pub mod flow;
pub mod gantt;
pub mod help;
pub mod inspector;
pub mod layout;
pub mod summary;
pub mod verdict;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::chart::theme::Theme;
use crate::view::app::App;
use gantt::GanttPanel;
pub use help::KEYS;
use layout::{Layout, body_of};
use summary::Summary;
use verdict::Verdict;

/// The smallest screen the full layout needs; below it a notice is shown instead.
pub const MIN_WIDTH: u16 = 40;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 10;

impl Widget for &App {
    /// Draws the screen, then makes sure no cell holds a control or bidi character (text
    /// from files is shown, never obeyed: see [`crate::model::display`]).
    fn render(self, area: Rect, buf: &mut Buffer) {
        draw(self, area, buf);
        crate::chart::paint::sweep(buf, area);
    }
}

/// Everything on the screen: header, panels or the comparison, summary, footer, and the
/// boxes over them (inspector, editor, help).
fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = Theme { color: app.color };
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
    bars::render_header(app, header, buf, theme);

    if let Some(fraction) = app.loading {
        let text = format!("reading the files… {:.0} %", fraction * 100.0);
        let y = body.y + body.height / 2;
        let x = body.x + body.width.saturating_sub(text.chars().count() as u16) / 2;
        buf.set_stringn(x, y, text, body.width as usize, theme.busy());
    }
    if let Some(pair) = app.compared() {
        bars::render_footer(app, footer, buf, theme, false);
        compare::render(app, pair, body, buf, theme);
        if app.show_help {
            help::render(area, buf, theme, app.help_scroll);
        }
        return;
    }
    let layout = Layout::of(app, body);
    bars::render_footer(app, footer, buf, theme, layout.folded);
    for &(plan_index, area) in &layout.panels {
        gantt_panel(app, plan_index, &layout, area).render(area, buf);
    }
    if let Some(area) = layout.summary {
        Summary { app }.render(area, buf);
    }
    if let Some(area) = layout.verdict
        && let Some(verdict) = Verdict::of(app)
    {
        Paragraph::new(verdict.lines(area.width)).render(area, buf);
    }
    if let Some(cursor) = app.inspect {
        // Over the panels when they leave it room, else over the summary too.
        let room = if layout.panels_area.height >= 12 {
            layout.panels_area
        } else {
            body
        };
        inspector::render(app, cursor.task, room, buf, theme);
    }
    if let Some(editor) = &app.editor {
        editor::render(editor, area, buf, theme);
    }
    if app.show_help {
        help::render(area, buf, theme, app.help_scroll);
    }
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
    let layout = Layout::of(app, body);
    layout
        .panels
        .iter()
        // Borders (or the title line) and the axis line, then lanes of their height.
        .map(|&(i, r)| {
            let lanes = r.height.saturating_sub(layout::overhead(layout.compact));
            (i, lanes / layout.lane_height.max(1))
        })
        .collect()
}

/// Whether the summary is folded to the verdict on a screen of `area` (what `v` turns).
pub fn summary_folded(app: &App, area: Rect) -> bool {
    area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT && Layout::of(app, body_of(area)).folded
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
        gantt_panel(app, plan_index, &layout, panel_area).task_at(panel_area, x, y),
    ))
}

/// The panel of experiment `plan_index` as the app is now, drawn as `layout` says in
/// `area`.
fn gantt_panel<'a>(app: &'a App, plan_index: usize, layout: &Layout, area: Rect) -> GanttPanel<'a> {
    let timeline = app.shown_timeline();
    let experiment = timeline.experiment(plan_index);
    // The experiment's own plan once it started: a watched process's lanes and tasks are
    // named as they appear.
    let plan = experiment.map_or(&app.plan().experiments[plan_index], |e| &e.plan);
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
        depth: app.view.depth,
        compact: layout.compact,
        beside: area.x > layout.panels_area.x,
        lane_height: layout.lane_height,
    }
}
