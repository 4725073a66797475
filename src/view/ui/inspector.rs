//! The inspector's box (`i`, a click on a bar): everything known about the task under the
//! cursor.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use crate::chart::axis::human;
use crate::chart::theme::Theme;
use crate::model::clock::Timestamp;
use crate::model::display;
use crate::model::timeline::TaskState;
use crate::view::app::App;

/// The inspector's box: everything known about the task under the cursor, at the bottom
/// right of the panel area, over the panels.
pub fn render(app: &App, task: usize, area: Rect, buf: &mut Buffer, theme: Theme) {
    let Some(experiment) = app.shown_timeline().experiment(app.selected) else {
        return;
    };
    let Some(t) = experiment.task(task) else {
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
            format!(
                "task {task} · {}",
                display::safe(&plan.task_label(task, t.input))
            ),
            theme.heading(),
        ),
        Span::styled(format!(" · {}", display::safe(&plan.name)), theme.dim()),
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
            Some(s) => {
                let mut text = format!(
                    "running {:.0} % · waiting for a CPU {:.0} % · blocked {:.0} %",
                    s.running * 100.0,
                    s.runnable * 100.0,
                    s.blocked * 100.0
                );
                // What no sample covers yet (a running task's last stretch) is said apart.
                if s.unknown >= 0.005 {
                    text.push_str(&format!(" · not sampled {:.0} %", s.unknown * 100.0));
                }
                lines.push(Line::from(vec![label("state"), Span::raw(text)]));
            }
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
    let (word, text, style) = match t.state {
        TaskState::Succeeded { result, .. } => {
            ("result", display::safe(result).into_owned(), Style::new())
        }
        TaskState::Failed { error, .. } => {
            ("error", display::safe(error).into_owned(), theme.bad())
        }
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
