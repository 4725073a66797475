//! The inspector's box (`i`, a click on a bar): everything known about the task under the
//! cursor; a recorded name's file and line; and on a row of folded nested calls, the whole
//! call stack there.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use crate::chart::axis::human;
use crate::chart::fold::{Rows, stack_at, thread_of};
use crate::chart::labels::name_parts;
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
    // A recorded name reads by its head; where it ran gets a line of its own.
    let (name, place) = match plan.task_name(task) {
        Some(name) => name_parts(name),
        None => (&*plan.task_label(task, t.input), None),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("task {task} · {}", display::safe(name)),
            theme.heading(),
        ),
        Span::styled(format!(" · {}", display::safe(&plan.name)), theme.dim()),
    ])];
    if let Some(place) = place {
        lines.push(Line::from(vec![
            label("where"),
            Span::raw(display::safe(place).into_owned()),
        ]));
    }
    if let Some(pool) = experiment.pool_of(task)
        && let Some(info) = app.shown_timeline().pools().get(pool.pool)
    {
        lines.push(Line::from(vec![
            label("pool"),
            Span::raw(format!(
                "{} · task {} · {}",
                display::safe(&info.name),
                pool.number,
                display::safe(&info.function)
            )),
        ]));
    }
    if let Some(w) = t.worker {
        lines.push(match recorded_thread(experiment, w.index) {
            // A recording's thread by its name (its lanes are numbered by poolscope), and
            // how deep in its calls this one is.
            Some(thread) => Line::from(vec![
                label("thread"),
                Span::raw(if w.pid == 0 {
                    thread
                } else if plan.is_watched() {
                    // A watched program's thread: the kernel's ids, both.
                    format!("{thread} · pid {} · tid {}", w.pid, w.tid)
                } else {
                    format!("{thread} · pid {}", w.pid)
                }),
            ]),
            None => Line::from(vec![
                label("worker"),
                Span::raw(format!("w{} · pid {} · tid {}", w.index, w.pid, w.tid)),
            ]),
        });
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
                // Waiting for the GIL is part of `blocked` in the samples; it is drawn with
                // a shade of its own, so it is said apart here, as the chart shows it.
                let mut text = format!(
                    "running {:.0} % · waiting for a CPU {:.0} %",
                    s.running * 100.0,
                    s.runnable * 100.0,
                );
                if s.gil_wait >= 0.005 {
                    text.push_str(&format!(
                        " · waiting for the GIL {:.0} %",
                        s.gil_wait * 100.0
                    ));
                }
                text.push_str(&format!(
                    " · blocked {:.0} %",
                    (s.blocked - s.gil_wait).max(0.0) * 100.0
                ));
                // What blocked threads waited for, where it was read (watch).
                let why: Vec<String> = [("I/O", s.io), ("sleep", s.sleep), ("lock", s.lock)]
                    .into_iter()
                    .filter(|(_, x)| plan.is_watched() && *x >= 0.005)
                    .map(|(what, x)| format!("{what} {:.0} %", x * 100.0))
                    .collect();
                if !why.is_empty() {
                    text.push_str(&format!(" ({})", why.join(", ")));
                }
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
            // CPython's GIL is seen only as waits: who holds it is not read.
            let text = if plan.is_watched() {
                format!("waited {}", human(waited))
            } else {
                format!("held {} · waited {}", human(held), human(waited))
            };
            lines.push(Line::from(vec![label("GIL"), Span::raw(text)]));
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
    // A recording's slice that says nothing of how it ended gets no empty line for it.
    if !(text.is_empty() && plan.task_name(task).is_some()) {
        lines.push(Line::from(vec![label(word), Span::styled(text, style)]));
    }
    // On a row of folded calls, the stack there: every level, this task's marked.
    let room = area.height.saturating_sub(2) as usize;
    lines.extend(folded_stack(
        app,
        task,
        room.saturating_sub(lines.len()),
        theme,
    ));
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

/// The thread of worker `worker` as a recording named it, with the level of nesting of
/// that lane where its thread nests calls: `MainThread · level 3 of 14`. `None` for lanes
/// a recording did not name (poolscope's own workers).
fn recorded_thread(
    experiment: &crate::model::timeline::Experiment,
    worker: usize,
) -> Option<String> {
    let plan = &experiment.plan;
    plan.lane_names.get(worker)?;
    let lane = experiment.lanes.iter().position(|l| l.worker == worker)?;
    let thread = thread_of(experiment, lane);
    let first = experiment.lanes.get(thread.start)?;
    let name = display::safe(plan.lane_names.get(first.worker).unwrap_or_default()).into_owned();
    Some(if thread.len() > 1 {
        format!(
            "{name} · level {} of {}",
            lane - thread.start + 1,
            thread.len()
        )
    } else {
        name
    })
}

/// The call stack at the middle of `task`, when its lane is folded into another's row: a
/// heading line, then a line per level from the outermost, the task's own marked `▸`; in
/// `room` lines, the levels around the task's kept where they do not all fit. Nothing for a
/// task whose lane has a row of its own.
fn folded_stack(app: &App, task: usize, room: usize, theme: Theme) -> Vec<Line<'static>> {
    let Some(experiment) = app.shown_timeline().experiment(app.selected) else {
        return Vec::new();
    };
    let Some(lane) = experiment
        .lane_of(task)
        .and_then(|l| experiment.lanes.iter().position(|x| x.worker == l.worker))
    else {
        return Vec::new();
    };
    let rows = Rows::of(experiment, app.view.depth);
    let Some(row) = rows.get(rows.row_of_lane(lane)).filter(|r| r.is_folded()) else {
        return Vec::new();
    };
    let Some(t) = experiment.task(task) else {
        return Vec::new();
    };
    let (Some(start), now) = (t.started_at, app.now()) else {
        return Vec::new();
    };
    let end = t.ended_at.unwrap_or(now).max(start);
    let at = start.as_micros() + (end.as_micros() - start.as_micros()) / 2;
    let stack = stack_at(experiment, lane, at, now.as_micros());
    let plan = &experiment.plan;
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{:<9}", "stack"), theme.dim()),
        Span::styled(
            format!(
                "at {:.3} s · {} levels; this row folds {}–{}",
                at.saturating_sub(experiment.started_at.as_micros()) as f64 / 1e6,
                stack.len(),
                row.level + 1,
                row.level + row.lanes.len() as u32
            ),
            theme.dim(),
        ),
    ])];
    let mine = stack.iter().position(|&(_, t)| t == task).unwrap_or(0);
    let (from, to) = window(stack.len(), mine, room.saturating_sub(1));
    if from > 0 {
        lines.push(Line::styled(
            format!("   ⋮ {from} outer levels"),
            theme.dim(),
        ));
    }
    let thread = row.thread;
    for &(lane, index) in &stack[from..to] {
        let name = match plan.task_name(index) {
            Some(name) => name_parts(name).0.to_string(),
            None => {
                let input = experiment.task(index).map_or(0, |t| t.input);
                plan.task_label(index, input)
            }
        };
        let text = format!("{:>4} {}", lane - thread + 1, display::safe(&name));
        lines.push(if index == task {
            Line::from(vec![
                Span::styled("▸", theme.heading()),
                Span::styled(text, theme.heading()),
            ])
        } else {
            Line::raw(format!(" {text}"))
        });
    }
    if to < stack.len() {
        lines.push(Line::styled(
            format!("   ⋮ {} deeper levels", stack.len() - to),
            theme.dim(),
        ));
    }
    lines
}

/// Which of `len` lines to show in `room` lines (at least 3), `selected` among them,
/// leaving a line for each `⋮` that says how many are left out above or below.
fn window(len: usize, selected: usize, room: usize) -> (usize, usize) {
    if len <= room {
        return (0, len);
    }
    let room = room.max(3);
    if selected < room - 1 {
        return (0, room - 1);
    }
    if selected >= len - (room - 1) {
        return (len - (room - 1), len);
    }
    let shown = room - 2;
    let from = (selected - shown / 2).clamp(1, len - shown - 1);
    (from, from + shown)
}

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn the_stack_window_keeps_the_task_and_fits() {
        assert_eq!(window(5, 2, 10), (0, 5));
        for len in 1..40 {
            for selected in 0..len {
                for room in 3..20 {
                    let (from, to) = window(len, selected, room);
                    let lines = (to - from) + usize::from(from > 0) + usize::from(to < len);
                    assert!(lines <= room, "{len} {selected} {room}: {from}..{to}");
                    assert!(
                        (from..to).contains(&selected),
                        "{len} {selected} {room}: {from}..{to}"
                    );
                }
            }
        }
    }
}
