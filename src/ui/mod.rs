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

pub mod axis;
pub mod gantt;
pub mod summary;
pub mod theme;

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use crate::app::{App, LaneOrder};
use crate::event::RunOutcome;
use crate::plan::{ExecutorKind, WorkloadKind};
use axis::human;
use gantt::GanttPanel;
use summary::Summary;
use theme::Theme;

/// The smallest screen the full layout needs; below it a notice is shown instead.
pub const MIN_WIDTH: u16 = 40;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 10;

/// The keys, as the help overlay and the footer list them.
pub const KEYS: &[(&str, &str)] = &[
    ("e", "export CSV + summary.json"),
    ("r", "rerun the plan"),
    ("tab / 1-9", "select a panel (shift-tab: back)"),
    ("z / enter", "maximize the selected panel"),
    ("s", "rows: by worker / by task start"),
    ("+ / -", "zoom the time axis"),
    ("← / →", "pan (h / l too)"),
    ("0", "fit the whole run"),
    ("f", "follow the live edge"),
    ("space", "freeze the display (collection goes on)"),
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
        let body = Rect {
            y: area.y + 1,
            height: area.height - 2,
            ..area
        };
        render_header(self, header, buf, theme);
        render_footer(self, footer, buf, theme);

        let grid = Grid::of(self);
        // Panels come first: they may claim up to three quarters of the body; the summary
        // takes what is left, and is left out if that is too little to read.
        let panels_claim = panels_wanted(self, &grid)
            .iter()
            .sum::<u16>()
            .min(body.height * 3 / 4);
        let summary_height = Summary::height(self).min(body.height - panels_claim);
        let summary_height = if summary_height < 4 {
            0
        } else {
            summary_height
        };
        let panels = Rect {
            height: body.height - summary_height,
            ..body
        };
        let used = render_panels(self, &grid, panels, buf, theme);
        if summary_height > 0 {
            // Right under the panels; spare rows stay at the bottom, above the footer.
            let area = Rect {
                y: panels.y + used,
                height: summary_height,
                ..body
            };
            Summary { app: self }.render(area, buf);
        }
        if self.show_help {
            render_help(area, buf, theme);
        }
    }
}

/// Which panel goes where: rows are workloads, columns executors, in plan order.
struct Grid {
    rows: Vec<WorkloadKind>,
    columns: Vec<ExecutorKind>,
}

impl Grid {
    fn of(app: &App) -> Self {
        let mut rows = Vec::new();
        let mut columns = Vec::new();
        for e in &app.plan().experiments {
            if !rows.contains(&e.workload) {
                rows.push(e.workload);
            }
            if !columns.contains(&e.executor) {
                columns.push(e.executor);
            }
        }
        Grid { rows, columns }
    }
}

/// Draws the panel grid; returns how many rows it used.
fn render_panels(app: &App, grid: &Grid, area: Rect, buf: &mut Buffer, theme: Theme) -> u16 {
    let plans = &app.plan().experiments;
    if plans.is_empty() || area.height == 0 {
        return 0;
    }
    if app.maximized {
        if app.selected < plans.len() {
            panel(app, app.selected, area, buf, theme);
        }
        return area.height;
    }
    let heights = share(&panels_wanted(app, grid), area.height);
    let mut y = area.y;
    for (row, &workload) in grid.rows.iter().enumerate() {
        let height = heights[row];
        let columns = grid.columns.len() as u16;
        for (column, &executor) in grid.columns.iter().enumerate() {
            let Some(plan_index) = plans
                .iter()
                .position(|p| p.workload == workload && p.executor == executor)
            else {
                continue;
            };
            let column = column as u16;
            let x = area.x + area.width * column / columns;
            let width = area.x + area.width * (column + 1) / columns - x;
            panel(
                app,
                plan_index,
                Rect {
                    x,
                    y,
                    width,
                    height,
                },
                buf,
                theme,
            );
        }
        y += height;
    }
    y - area.y
}

/// The height each row of panels would like: its tallest panel's lanes (or tasks), plus
/// the axis and the borders.
fn panels_wanted(app: &App, grid: &Grid) -> Vec<u16> {
    let plans = &app.plan().experiments;
    let timeline = app.shown_timeline();
    grid.rows
        .iter()
        .map(|&workload| {
            plans
                .iter()
                .enumerate()
                .filter(|(_, p)| p.workload == workload)
                .map(|(i, p)| {
                    let e = timeline.experiment(i);
                    let rows = match app.lane_order {
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

fn panel(app: &App, plan_index: usize, area: Rect, buf: &mut Buffer, theme: Theme) {
    let timeline = app.shown_timeline();
    let plan = &app.plan().experiments[plan_index];
    let experiment = timeline.experiment(plan_index);
    GanttPanel {
        plan,
        experiment,
        number: plan_index + 1,
        span: experiment.map(|e| app.time_span(e)),
        now: app.now(),
        order: app.lane_order,
        selected: plan_index == app.selected,
        state: app.experiment_state(plan_index),
        theme,
    }
    .render(area, buf);
}

fn render_header(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let timeline = app.shown_timeline();
    let elapsed = timeline
        .started_at()
        .map(|s| app.now().since(s))
        .unwrap_or_default();
    // Badges by priority: the run's state, then frozen, zoom, not following.
    let mut badges: Vec<Span> = Vec::new();
    badges.push(if app.is_restarting() {
        Span::styled(" ↻ restarting… ", theme.busy())
    } else {
        match timeline.outcome() {
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
                Span::styled(format!(" ▶ {running} · {} ", human(elapsed)), theme.busy())
            }
        }
    });
    if app.is_frozen() {
        badges.push(Span::styled(" ‖ FROZEN ", theme.bad()));
    }
    if app.view.zoom > 1.0 {
        badges.push(Span::styled(
            format!(" zoom ×{} ", app.view.zoom),
            theme.dim(),
        ));
    }
    if !app.view.follow {
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
    let mut plan = app.plan_description().to_string();
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
    for (key, what) in [
        ("e", "export"),
        ("r", "rerun"),
        ("tab", "panel"),
        ("s", "order"),
        ("+/-", "zoom"),
        ("←→", "pan"),
        ("0", "fit"),
        ("f", "follow"),
        ("space", "freeze"),
        ("z", "maximize"),
        ("?", "help"),
        ("q", "quit"),
    ] {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(format!(" {what}  "), theme.dim()));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

fn render_help(area: Rect, buf: &mut Buffer, theme: Theme) {
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:>16}  "), theme.key()),
                Span::raw(*what),
            ])
        })
        .collect();
    let legend = [
        (theme.done(false), "finished task"),
        (theme.running(), "running task"),
        (theme.failed(), "failed task (✗)"),
        (theme.dense(false, false), "several short tasks in one cell"),
        (
            theme.starting(),
            "worker starting (process spawn, pool start)",
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
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title_top(Span::styled(" keys ", theme.heading()))
                .title_bottom(
                    Line::styled(" any key closes ", theme.dim()).alignment(Alignment::Right),
                ),
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
