//! The Gantt chart as an SVG picture (key `g`, `--svg FILE`), drawn with the `svg` crate:
//! one section per experiment, a lane per worker, each task a bar coloured by its state,
//! and where the scheduler was sampled, the stretches a worker waited for a CPU or was
//! blocked shaded apart, as in the view.
//!
//! Bars come from the same cell computation as the screen, at one cell per 2 px, and runs of
//! cells showing the same thing become one rectangle: the file's size follows the picture,
//! not the number of tasks (a hundred thousand tasks make no more rectangles than a
//! hundred cells per lane).

use svg::Document;
use svg::node::element::{Group, Line, Rectangle, Text, Title};

use crate::chart::axis::{self, human};
use crate::chart::cells::{CellContent, CellState, task_runs};
use crate::chart::fold::{Depth, Rows, row_cells, row_label, row_note, row_states};
use crate::chart::paint::bar_label;
use crate::chart::span::{TimeSpan, row_lengths};
use crate::model::clock::Timestamp;
use crate::model::display;
use crate::model::timeline::{Experiment, TaskState, Timeline};

/// Width of the whole picture, px.
const WIDTH: u32 = 1200;
/// Width of the lane labels, px.
const LABEL_WIDTH: u32 = 150;
/// Height of one lane, px.
const LANE: u32 = 18;
/// Pixels per cell.
const CELL: u32 = 2;
const FONT: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";

/// What a stretch of a lane shows, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paint {
    Task {
        index: usize,
        state: Option<CellState>,
    },
    Dense {
        failed: bool,
    },
    Starting,
}

/// The picture of every experiment in `timeline`, a thread's nested calls `depth` rows deep
/// (see [`crate::chart::fold`]).
pub fn picture(timeline: &Timeline, depth: Depth) -> Document {
    let now = timeline.latest().unwrap_or(Timestamp(0));
    let columns = ((WIDTH - LABEL_WIDTH - 10) / CELL) as u16;
    let mut y = 10u32;
    let mut body = Group::new().set("font-family", FONT).set("font-size", 11);
    let lengths = row_lengths(timeline, now);
    for (experiment, length) in timeline.experiments().iter().zip(lengths) {
        let (group, height) = section(experiment, (now, length), columns, (y, depth));
        body = body.add(group);
        y += height + 16;
    }
    let legend = legend(y);
    y += 24;
    Document::new()
        .set("viewBox", (0, 0, WIDTH, y))
        .set("width", WIDTH)
        .set("height", y)
        .add(
            Rectangle::new()
                .set("width", "100%")
                .set("height", "100%")
                .set("fill", "#ffffff"),
        )
        .add(body)
        .add(legend)
}

/// The picture as SVG text.
pub fn export(timeline: &Timeline, depth: Depth) -> Vec<u8> {
    picture(timeline, depth).to_string().into_bytes()
}

/// `experiment`'s part of the picture at `now`, its row `length` long.
fn section(
    experiment: &Experiment,
    (now, length): (Timestamp, std::time::Duration),
    columns: u16,
    (top, depth): (u32, Depth),
) -> (Group, u32) {
    let plan = &experiment.plan;
    let length = length.max(std::time::Duration::from_micros(1));
    let span = TimeSpan::from_start(experiment, length);
    let rows = Rows::of(experiment, depth);
    let mut group = Group::new();
    let folded = match rows.folded {
        0 => String::new(),
        n => format!(" ({n} more folded)"),
    };
    let mut title = format!(
        "{} · {} lanes{folded} · {} tasks · {}",
        display::safe(&plan.name),
        rows.len(),
        experiment.tasks_held(),
        human(experiment.elapsed_shown(now))
    );
    if experiment.failed() > 0 {
        title.push_str(&format!(" · {} failed", experiment.failed()));
    }
    group = group.add(
        Text::new(title)
            .set("x", 10)
            .set("y", top + 12)
            .set("font-weight", "bold")
            .set("font-size", 13),
    );
    // The axis.
    let axis_y = top + 30;
    for tick in axis::ticks(std::time::Duration::ZERO, length, columns) {
        let x = LABEL_WIDTH + u32::from(tick.column) * CELL;
        group = group
            .add(
                Line::new()
                    .set("x1", x)
                    .set("x2", x)
                    .set("y1", axis_y + 2)
                    .set("y2", axis_y + 6 + LANE * rows.len() as u32)
                    .set("stroke", "#dddddd"),
            )
            .add(
                Text::new(tick.label)
                    .set("x", x + 2)
                    .set("y", axis_y)
                    .set("fill", "#666666"),
            );
    }
    let mut y = axis_y + 6;
    for row in (0..rows.len()).filter_map(|i| rows.get(i)) {
        let label = row_label(experiment, &row, 20);
        group = group.add(
            Text::new(label)
                .set("x", 10)
                .set("y", y + LANE - 5)
                .set("fill", "#444444"),
        );
        let cells = row_cells(experiment, &row, span, now, columns);
        let states = row_states(experiment, &row, &cells, span, now);
        let paints: Vec<Option<Paint>> = cells
            .iter()
            .zip(&states)
            .map(|(cell, state)| match *cell {
                CellContent::Empty => None,
                CellContent::Starting => Some(Paint::Starting),
                CellContent::Task(index) => Some(Paint::Task {
                    index,
                    state: *state,
                }),
                CellContent::Dense { failed, .. } => Some(Paint::Dense { failed }),
            })
            .collect();
        let mut column = 0;
        while column < paints.len() {
            let Some(paint) = paints[column] else {
                column += 1;
                continue;
            };
            let run = paints[column..]
                .iter()
                .take_while(|p| **p == Some(paint))
                .count();
            let x = LABEL_WIDTH + column as u32 * CELL;
            let width = run as u32 * CELL;
            let (fill, opacity, tip) = look(experiment, paint);
            let mut rect = Rectangle::new()
                .set("x", x)
                .set("y", y + 2)
                .set("width", width)
                .set("height", LANE - 4)
                .set("fill", fill);
            if opacity < 1.0 {
                rect = rect.set("fill-opacity", opacity);
            }
            if let Some(tip) = tip {
                rect = rect.add(Title::new(tip));
            }
            group = group.add(rect);
            column += run;
        }
        if let Some(note) = row_note(experiment, &row) {
            let from = cells
                .iter()
                .rposition(|c| *c != CellContent::Empty)
                .map_or(0, |i| i + 2) as u32;
            group = group.add(
                Text::new(note)
                    .set("x", LABEL_WIDTH + from * CELL + 3)
                    .set("y", y + LANE - 5)
                    .set("fill", "#888888")
                    .set("font-style", "italic"),
            );
        }
        // Task labels over bars wide enough for them, in the colour that reads best on what
        // lies under them (a halo where the bar under one label is both dark and light).
        for (column, run, index) in task_runs(&cells) {
            // The same label as on screen, in the characters that fit the bar (7 px each,
            // with room to spare): a name cut with …, never a number it does not hold.
            let room = (run as u32 * CELL).saturating_sub(7) / 7;
            let Some(task) = experiment.task(index) else {
                continue;
            };
            let Some(text) = bar_label(plan, index, &task, false, room as usize + 1) else {
                continue;
            };
            let text_width = display::width(&text) as u32 * 7;
            if text_width + 6 < run as u32 * CELL {
                let covered = (text_width / CELL + 2) as usize;
                let under: Vec<Rgb> = paints[column..(column + covered).min(paints.len())]
                    .iter()
                    .flatten()
                    .map(|&paint| {
                        let (fill, opacity, _) = look(experiment, paint);
                        Rgb::parse(fill).over_white(opacity)
                    })
                    .collect();
                let (fill, halo) = label_colors(&under);
                let mut label = Text::new(text)
                    .set("x", LABEL_WIDTH + column as u32 * CELL + 3)
                    .set("y", y + LANE - 5)
                    .set("fill", fill.hex());
                if let Some(halo) = halo {
                    label = label
                        .set("stroke", halo.hex())
                        .set("stroke-width", 3)
                        .set("paint-order", "stroke");
                }
                group = group.add(label);
            }
        }
        y += LANE;
    }
    (group, y - top)
}

/// A colour, as the SVG writes it (`#rrggbb`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb(u8, u8, u8);

impl Rgb {
    const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
    const INK: Rgb = Rgb(0x11, 0x11, 0x11);

    /// `#2f5fc4` → the colour (black for anything else: the palette here is ours).
    fn parse(hex: &str) -> Rgb {
        let channel = |i: usize| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .unwrap_or(0)
        };
        Rgb(channel(1), channel(3), channel(5))
    }

    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// This colour at `opacity` over the picture's white background.
    fn over_white(self, opacity: f32) -> Rgb {
        let blend = |c: u8| (f32::from(c) * opacity + 255.0 * (1.0 - opacity)).round() as u8;
        Rgb(blend(self.0), blend(self.1), blend(self.2))
    }

    /// Relative luminance (WCAG 2).
    fn luminance(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    /// The WCAG contrast ratio of two colours (1 to 21).
    fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }
}

/// The most readable WCAG contrast for text, at least 4.5:1 (AA).
const READABLE: f64 = 4.5;

/// The text colour for a label over `under` (the colours beneath it), white or near-black,
/// whichever reads best on all of them; if even that is under 4.5:1 somewhere (a bar dark in
/// one place and light in another), a halo of the other colour around the letters.
fn label_colors(under: &[Rgb]) -> (Rgb, Option<Rgb>) {
    let worst = |text: Rgb| {
        under
            .iter()
            .map(|&bg| text.contrast(bg))
            .fold(f64::INFINITY, f64::min)
    };
    let (white, ink) = (worst(Rgb::WHITE), worst(Rgb::INK));
    let (fill, halo) = if white >= ink {
        (Rgb::WHITE, Rgb::INK)
    } else {
        (Rgb::INK, Rgb::WHITE)
    };
    let readable = white.max(ink) >= READABLE;
    (fill, (!readable).then_some(halo))
}

/// Fill colour, opacity and tooltip of a stretch.
fn look(experiment: &Experiment, paint: Paint) -> (&'static str, f32, Option<String>) {
    match paint {
        Paint::Starting => ("#cccccc", 1.0, Some("starting".into())),
        Paint::Dense { failed: true } => (
            "#d04040",
            0.8,
            Some("several short tasks, one failed".into()),
        ),
        Paint::Dense { failed: false } => ("#555555", 1.0, Some("several short tasks".into())),
        Paint::Task { index, state } => {
            let Some(task) = experiment.task(index) else {
                return ("#555555", 0.8, None);
            };
            let tip = Some(format!(
                "#{index} {}",
                display::safe(&experiment.plan.task_label(index, task.input))
            ));
            let base = match task.state {
                TaskState::Failed { .. } => "#d04040",
                TaskState::Running | TaskState::Pending => "#e0a020",
                TaskState::Succeeded { .. }
                    if experiment.position_in_lane(index).unwrap_or(index) % 2 == 1 =>
                {
                    "#2aa1c4"
                }
                TaskState::Succeeded { .. } => "#2f5fc4",
            };
            match state {
                Some(CellState::Runnable) => ("#a032b4", 1.0, tip),
                Some(CellState::Blocked) => (base, 0.4, tip),
                Some(CellState::Io) => ("#2e9e5b", 0.6, tip.map(|t| format!("{t} (I/O)"))),
                Some(CellState::Sleep) => ("#bbbbbb", 0.6, tip.map(|t| format!("{t} (sleep)"))),
                Some(CellState::Lock) => ("#c47a2f", 0.6, tip.map(|t| format!("{t} (lock)"))),
                Some(CellState::GilWait) => ("#999999", 0.7, tip),
                Some(CellState::Unknown) => {
                    ("#d8d8d8", 1.0, tip.map(|t| format!("{t} (not sampled)")))
                }
                Some(CellState::OnCpu) | None => (base, 1.0, tip),
            }
        }
    }
}

fn legend(y: u32) -> Group {
    let items = [
        (
            "#2f5fc4",
            1.0,
            "task on a CPU (plain where nothing was sampled)",
        ),
        ("#d8d8d8", 1.0, "not sampled: unknown"),
        ("#a032b4", 1.0, "waiting for a CPU"),
        ("#2f5fc4", 0.4, "blocked (sleep, I/O, lock)"),
        ("#999999", 0.7, "waiting for the GIL"),
        ("#2e9e5b", 0.6, "I/O"),
        ("#bbbbbb", 0.6, "sleep"),
        ("#c47a2f", 0.6, "lock"),
        ("#d04040", 1.0, "failed"),
    ];
    let mut group = Group::new().set("font-family", FONT).set("font-size", 11);
    let mut x = 10;
    for (fill, opacity, text) in items {
        group = group
            .add(
                Rectangle::new()
                    .set("x", x)
                    .set("y", y)
                    .set("width", 14)
                    .set("height", 10)
                    .set("fill", fill)
                    .set("fill-opacity", opacity),
            )
            .add(
                Text::new(text)
                    .set("x", x + 18)
                    .set("y", y + 9)
                    .set("fill", "#444444"),
            );
        x += 24 + 7 * text.len() as u32;
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every colour a bar can take, as it shows over the white page: each paint of `look`,
    /// for tasks that succeeded (both shades of neighbours), failed and still run.
    fn palette() -> Vec<Rgb> {
        use crate::model::event::TaskEventKind;
        use crate::model::plan::ExecutorKind;
        use crate::model::timeline::tests::{finished, task};
        let mut events = vec![crate::model::event::Event::ExperimentStarted {
            experiment: 0,
            plan: crate::model::plan::ExperimentPlan::new(
                ExecutorKind::Threads,
                crate::model::plan::WorkloadKind::Fib,
                vec![30; 4],
                2,
            ),
            at: Timestamp(0),
        }];
        events.push(task(0, 3, 1, 20, TaskEventKind::Started));
        for (t, at) in [(0, 0), (1, 10)] {
            events.push(task(0, t, 0, at, TaskEventKind::Started));
            events.push(task(0, t, 0, at + 5, finished(1)));
        }
        events.push(task(0, 2, 1, 0, TaskEventKind::Started));
        events.push(task(
            0,
            2,
            1,
            5,
            TaskEventKind::Failed {
                error: "x".into(),
                cpu_time: None,
            },
        ));
        let timeline = Timeline::from_events(&events);
        let e = &timeline.experiments()[0];
        let mut paints = vec![
            Paint::Starting,
            Paint::Dense { failed: true },
            Paint::Dense { failed: false },
        ];
        for index in 0..e.tasks_held() {
            for state in [
                None,
                Some(CellState::OnCpu),
                Some(CellState::Runnable),
                Some(CellState::Blocked),
                Some(CellState::GilWait),
            ] {
                paints.push(Paint::Task { index, state });
            }
        }
        paints
            .into_iter()
            .map(|paint| {
                let (fill, opacity, _) = look(e, paint);
                Rgb::parse(fill).over_white(opacity)
            })
            .collect()
    }

    #[test]
    fn labels_read_on_every_bar_colour() {
        for bg in palette() {
            let (fill, halo) = label_colors(&[bg]);
            assert!(
                halo.is_none(),
                "one colour under a label needs no halo: {bg:?}"
            );
            assert!(
                fill.contrast(bg) >= READABLE,
                "{} on {}: {:.2}",
                fill.hex(),
                bg.hex(),
                fill.contrast(bg)
            );
        }
    }

    #[test]
    fn a_label_over_dark_and_light_gets_a_halo() {
        let under = [Rgb::parse("#2f5fc4"), Rgb::parse("#2f5fc4").over_white(0.4)];
        let (fill, halo) = label_colors(&under);
        let halo = halo.expect("no single colour reads on both");
        assert!(fill.contrast(halo) >= READABLE);
    }

    #[test]
    fn contrast_is_wcags() {
        assert!((Rgb::WHITE.contrast(Rgb(0, 0, 0)) - 21.0).abs() < 1e-9);
        assert!((Rgb::parse("#777777").contrast(Rgb::WHITE) - 4.48).abs() < 0.01);
    }
}
