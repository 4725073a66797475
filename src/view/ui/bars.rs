//! The header (the plan, the run's state, badges for frozen, zoom, following) and the
//! footer (the latest message and the keys that fit).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::chart::axis::{self, human};
use crate::chart::theme::Theme;
use crate::model::display;
use crate::model::event::RunOutcome;
use crate::view::app::{App, Source};

/// The top line.
pub fn render_header(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let timeline = app.shown_timeline();
    let elapsed = timeline
        .started_at()
        .map(|s| app.now().since(s))
        .unwrap_or_default();
    // Badges by priority: the run's state, then frozen, zoom, not following.
    let mut badges: Vec<Span> = Vec::new();
    let recorded = *app.source() != Source::Live;
    badges.push(if app.is_restarting() {
        Span::styled(" ↻ restarting… ", theme.busy())
    } else if app.loading.is_some() {
        Span::styled(" reading… ", theme.busy())
    } else if timeline.is_watch() {
        watch_badge(timeline, elapsed, theme)
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
                            display::safe(&e.plan.name),
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
            format!(" run {}/{} ", app.viewed_run() + 1, app.planned_runs()),
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
    let plan = match &app.editor {
        Some(editor) => {
            let line = editor.command_line();
            match line.strip_prefix("poolscope").map(str::trim_start) {
                Some("") => "(the default plan: no flags)".to_string(),
                Some(args) => args.to_string(),
                None => line,
            }
        }
        None => app.plan_description().to_string(),
    };
    // File names and URLs come from outside: shown safe, cut by the columns they take.
    let plan = display::shorten(&plan, (left_width as usize).saturating_sub(name.len()));
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

/// The state of a watched program: how many processes are watched while it runs, then its
/// exit status (or that the watch of an attached pid ended).
fn watch_badge(
    timeline: &crate::model::timeline::Timeline,
    elapsed: std::time::Duration,
    theme: Theme,
) -> Span<'static> {
    match (timeline.outcome(), timeline.program_exit()) {
        (None, exit) => {
            let alive = timeline
                .experiments()
                .iter()
                .filter(|e| e.finished_at.is_none())
                .count();
            let exited = exit.map_or(String::new(), |x| format!("{} · ", x.describe()));
            Span::styled(
                format!(
                    " ▶ {exited}watching {} · {} ",
                    display::count(alive, "process").replace("processs", "processes"),
                    axis::ticking(elapsed)
                ),
                theme.busy(),
            )
        }
        (Some(_), Some(exit)) if exit.code == Some(0) => Span::styled(
            format!(" ✓ {} · {} ", exit.describe(), human(elapsed)),
            theme.good(),
        ),
        (Some(_), Some(exit)) => Span::styled(
            format!(" ✗ {} · {} ", exit.describe(), human(elapsed)),
            theme.bad(),
        ),
        (Some(RunOutcome::Cancelled), None) => Span::styled(
            format!(" ■ stopped watching · {} ", human(elapsed)),
            theme.busy(),
        ),
        (Some(_), None) => Span::styled(format!(" ✓ ended · {} ", human(elapsed)), theme.good()),
    }
}

/// The bottom line; `folded`: whether the summary is folded to the verdict (`v` unfolds
/// it).
pub fn render_footer(app: &App, area: Rect, buf: &mut Buffer, theme: Theme, folded: bool) {
    let mut spans = Vec::new();
    if let Some(status) = &app.status {
        let style = if status.is_error {
            theme.bad()
        } else {
            theme.good()
        };
        // Cut with '…' where it would push out help and quit (which always stay).
        let room = (area.width as usize).saturating_sub(display::width("│ ? help  q quit  ") + 1);
        spans.push(Span::styled(
            format!("{} ", display::shorten(&status.text, room)),
            style,
        ));
        spans.push(Span::styled("│ ", theme.dim()));
    }
    // Keys in the order shown, each with its priority (lower stays longer): where the line
    // is short, the least needed give way first; help and quit always stay.
    // `v` unfolds a folded summary: said early, since the table is then out of sight.
    let (fold, fold_priority) = if folded {
        ("summary", 1)
    } else {
        ("fold summary", 11)
    };
    let footer: [(&str, &str, u8); 20] = [
        ("e", "export", 2),
        ("t", "trace", 8),
        ("g", "svg", 9),
        ("r", "rerun", 3),
        ("p", "plan", 4),
        ("[ ]", "runs", 6),
        ("c", "compare", 7),
        ("tab", "panel", 4),
        ("s", "order", 7),
        ("d/D", "depth", 8),
        ("+/-", "zoom", 6),
        ("←→", "pan", 8),
        ("0", "fit", 9),
        ("f", "follow", 10),
        ("space", "freeze", 5),
        ("z", "maximize", 5),
        ("i", "inspect", 3),
        ("v", fold, fold_priority),
        ("?", "help", 0),
        ("q", "quit", 0),
    ];
    let width_of = |(key, what, _): &(&str, &str, u8)| key.chars().count() + what.len() + 3;
    let status_width: usize = spans.iter().map(|s| s.width()).sum();
    let live = *app.source() == Source::Live;
    // Depth only where some thread has nested calls to fold.
    let nested = app
        .shown_timeline()
        .experiments()
        .iter()
        .any(|e| !e.plan.lane_levels.is_empty());
    let mut shown: Vec<_> = footer
        .iter()
        .copied()
        .filter(|(key, _, _)| live || !matches!(*key, "r" | "p" | "[ ]" | "c"))
        .filter(|(key, _, _)| nested || *key != "d/D")
        .filter(|(key, _, _)| !app.watching_live() || *key != "r")
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
