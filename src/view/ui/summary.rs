//! The summary: per experiment its state, makespan, CPU time, parallel efficiency, failures
//! and what the sampler saw, a note when the machine was busy, and the verdict (the post's
//! speed-ups, see [`super::verdict`]) in lines of its own, whole at any width.
//!
//! Columns give way by importance where the box is narrow, the least telling first: CPU
//! time (the efficiency says it against the cores), a `failed` column of zeros, the
//! efficiency; what the sampler saw stays at 80 columns.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

use super::flow::Flow;
use super::verdict::Verdict;
use crate::chart::axis::human;
use crate::chart::theme::{Look, Theme};
use crate::model::display;
use crate::model::event::SamplerNotice;
use crate::model::plan::ExecutorKind;
use crate::model::timeline::{BUSY_MACHINE, Experiment};
use crate::view::app::{App, ExperimentState};

/// The summary panel, borrowing the app.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a> {
    /// What to summarise.
    pub app: &'a App,
}

/// One column of the table: its heading, its cells, how it aligns and how much it matters.
struct Column {
    heading: &'static str,
    cells: Vec<(String, Style)>,
    right: bool,
    /// Lower gives way first.
    rank: u8,
}

impl Column {
    fn width(&self) -> usize {
        self.cells
            .iter()
            .map(|(text, _)| display::width(text))
            .chain([self.heading.len()])
            .max()
            .unwrap_or(0)
    }
}

impl Summary<'_> {
    /// How many rows the summary wants `width` columns wide (borders included): the
    /// table's heading and a row per experiment, the busy machine's note, the verdict.
    pub fn height(app: &App, width: u16) -> u16 {
        let inner = width.saturating_sub(2);
        let verdict = Verdict::of(app).map_or(0, |v| v.lines(inner).len());
        (app.plan().experiments.len() + 1 + 2 + busy_lines(app, inner).len() + verdict) as u16
    }

    /// The table in `width` columns: the heading line, then a line per experiment.
    fn table(&self, width: u16) -> Vec<Line<'static>> {
        let app = self.app;
        let theme = Theme { color: app.color };
        let timeline = app.shown_timeline();
        let cores = timeline.cores();
        let dash = || ("-".to_string(), theme.dim());
        let plans = &app.plan().experiments;
        let experiments: Vec<Option<&Experiment>> =
            (0..plans.len()).map(|i| timeline.experiment(i)).collect();
        let states: Vec<ExperimentState> =
            (0..plans.len()).map(|i| app.experiment_state(i)).collect();
        let column = |heading, right, rank, cell: &dyn Fn(usize) -> (String, Style)| Column {
            heading,
            cells: (0..plans.len()).map(cell).collect(),
            right,
            rank,
        };
        let plain = |text: String| (text, Style::new());
        let mut columns = vec![
            column("#", false, 255, &|i| {
                let marker = if i == app.selected { "▸" } else { " " };
                (format!("{marker}{}", i + 1), name_style(app, i, theme))
            }),
            column("experiment", false, 255, &|i| {
                (
                    display::safe(&plans[i].name).into_owned(),
                    name_style(app, i, theme),
                )
            }),
            column("state", false, 255, &|i| {
                // A watched process with no pool task has no count to give ("0/0").
                let e = experiments[i].filter(|e| e.task_count() > 0 || !e.plan.is_watched());
                let progress = e.map_or(String::new(), |e| {
                    format!(" {}/{}", e.ended(), e.task_count())
                });
                match states[i] {
                    ExperimentState::Waiting => ("waiting".into(), theme.dim()),
                    ExperimentState::NotRun => ("not run".into(), theme.dim()),
                    // What the numbers count, said: tasks ended of all.
                    ExperimentState::Running(_) => (
                        e.map_or("running".to_string(), |e| {
                            format!("▶ {}/{} done", e.ended(), e.task_count())
                        }),
                        theme.busy(),
                    ),
                    ExperimentState::Done(_) => (format!("done{progress}"), theme.good()),
                    ExperimentState::Stopped(_) => (format!("stopped{progress}"), theme.bad()),
                }
            }),
            column(
                "makespan",
                true,
                254,
                &|i| match (experiments[i], states[i]) {
                    (Some(_), ExperimentState::Running(d)) => plain(crate::chart::axis::ticking(d)),
                    (Some(_), state) => state.elapsed().map_or_else(dash, |d| plain(human(d))),
                    _ => dash(),
                },
            ),
        ];
        columns.push(column(
            "cpu time",
            true,
            10,
            &|i| match (experiments[i], states[i].elapsed()) {
                (Some(e), Some(_)) if e.cpu_measured() => plain(human(e.cpu_time())),
                _ => dash(),
            },
        ));
        columns.push(column(
            "efficiency",
            true,
            30,
            &|i| match (experiments[i], states[i].elapsed()) {
                (Some(e), Some(elapsed)) => cores
                    .and_then(|c| e.efficiency(c, elapsed))
                    .map_or_else(dash, |x| plain(format!("{:.1} %", x * 100.0))),
                _ => dash(),
            },
        ));
        let any_failed = experiments.iter().flatten().any(|e| e.failed() > 0);
        columns.push(column(
            "failed",
            true,
            if any_failed { 250 } else { 20 },
            &|i| match (experiments[i], states[i].elapsed()) {
                (Some(e), Some(_)) if e.failed() > 0 => (e.failed().to_string(), theme.bad()),
                (Some(e), Some(_)) => (e.failed().to_string(), theme.dim()),
                _ => dash(),
            },
        ));
        // The sampler's columns appear once something was sampled; GIL wait with a gil plan.
        let sampled = timeline
            .experiments()
            .iter()
            .any(|e| e.cpu_wait().is_some() || e.switches().is_some());
        if sampled {
            columns.push(column("cpu wait", true, 100, &|i| {
                experiments[i]
                    .and_then(Experiment::cpu_wait)
                    .map_or_else(dash, |d| plain(human(d)))
            }));
            columns.push(column("switches v/i", true, 80, &|i| {
                experiments[i]
                    .and_then(Experiment::switches)
                    .map_or_else(dash, |(v, i)| plain(format!("{v}/{i}")))
            }));
        }
        if plans
            .iter()
            .any(|e| e.executor == ExecutorKind::Gil || e.is_watched())
        {
            columns.push(column("gil wait", true, 90, &|i| {
                experiments[i]
                    .filter(|e| e.plan.executor == ExecutorKind::Gil || e.plan.is_watched())
                    .and_then(Experiment::gil_wait)
                    .map_or_else(dash, |d| plain(human(d)))
            }));
        }
        fit_columns(&mut columns, width as usize);
        let widths: Vec<usize> = columns.iter().map(Column::width).collect();
        // Columns two apart where the room allows, else one.
        let used: usize = widths.iter().sum();
        let gap = if used + 2 * widths.len().saturating_sub(1) <= width as usize {
            "  "
        } else {
            " "
        };
        let cell = |text: &str, width: usize, right: bool| {
            let text = display::shorten(text, width);
            let fill = " ".repeat(width - display::width(&text));
            if right {
                format!("{fill}{text}")
            } else {
                format!("{text}{fill}")
            }
        };
        let mut lines = vec![Line::styled(
            columns
                .iter()
                .zip(&widths)
                .map(|(c, &w)| cell(c.heading, w, c.right))
                .collect::<Vec<_>>()
                .join(gap),
            theme.dim(),
        )];
        for row in 0..plans.len() {
            let mut spans = Vec::new();
            for (k, (c, &w)) in columns.iter().zip(&widths).enumerate() {
                if k > 0 {
                    spans.push(Span::raw(gap));
                }
                let (text, style) = &c.cells[row];
                spans.push(Span::styled(cell(text, w, c.right), *style));
            }
            lines.push(Line::from(spans));
        }
        lines
    }
}

/// The selected experiment's name stands out.
fn name_style(app: &App, index: usize, theme: Theme) -> Style {
    if index == app.selected {
        theme.heading()
    } else {
        Style::new()
    }
}

/// Leaves the columns that fit in `width`, the most telling first (kept in their order);
/// names are shortened (to 8 columns at least) before an essential column goes.
fn fit_columns(columns: &mut Vec<Column>, width: usize) {
    // Names longer than 17 columns are shortened anyway.
    if let Some(names) = columns.iter_mut().find(|c| c.heading == "experiment") {
        for (text, _) in &mut names.cells {
            *text = display::shorten(text, 17);
        }
    }
    let total = |columns: &[Column]| -> usize {
        columns
            .iter()
            .map(|c| c.width() + 1)
            .sum::<usize>()
            .saturating_sub(1)
    };
    // `switches v/i` says `switches` where room is short (the cells still read v/i).
    if total(columns) > width
        && let Some(switches) = columns.iter_mut().find(|c| c.heading == "switches v/i")
    {
        switches.heading = "switches";
    }
    let mut ranks: Vec<u8> = columns.iter().map(|c| c.rank).collect();
    ranks.sort_unstable();
    ranks.dedup();
    // Drop the least telling until what is left fits, then put back any that fits after.
    let mut kept: Vec<bool> = vec![true; columns.len()];
    let width_of = |kept: &[bool], columns: &[Column]| -> usize {
        columns
            .iter()
            .zip(kept)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c.width() + 1)
            .sum::<usize>()
            .saturating_sub(1)
    };
    let mut order: Vec<usize> = (0..columns.len()).collect();
    order.sort_by_key(|&i| columns[i].rank);
    for &i in &order {
        if width_of(&kept, columns) <= width || columns[i].rank == 255 {
            break;
        }
        kept[i] = false;
    }
    for &i in order.iter().rev() {
        if !kept[i] {
            kept[i] = true;
            if width_of(&kept, columns) > width {
                kept[i] = false;
            }
        }
    }
    let mut k = kept.into_iter();
    columns.retain(|_| k.next().unwrap_or(false));
    // Still too wide: the names give way, down to 8 columns.
    let over = total(columns).saturating_sub(width);
    if over > 0
        && let Some(names) = columns.iter_mut().find(|c| c.heading == "experiment")
    {
        let room = names.width().saturating_sub(over).max(8);
        for (text, _) in &mut names.cells {
            *text = display::shorten(text, room);
        }
    }
}

/// That the machine was busy while the run shown ran, so its figures are skewed: one note
/// naming every experiment concerned, wrapped to `width`.
fn busy_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let theme = Theme { color: app.color };
    let timeline = app.shown_timeline();
    let busy: Vec<&Experiment> = timeline
        .experiments()
        .iter()
        .filter(|e| e.busy_note(timeline.cores()).is_some())
        .collect();
    let text = match busy.as_slice() {
        [] => return Vec::new(),
        [one] => one.busy_note(timeline.cores()).unwrap_or_default(),
        many => {
            let of = timeline.cores().map_or(String::new(), |c| {
                format!(" of {c} CPU{}", if c == 1 { "" } else { "s" })
            });
            let during: Vec<String> = many
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    format!(
                        "{:.1}{} during {}",
                        e.others_cpu().unwrap_or(BUSY_MACHINE),
                        if i == 0 { of.as_str() } else { "" },
                        display::safe(&e.plan.name)
                    )
                })
                .collect();
            format!(
                "the machine was busy: other processes used {}; their figures are skewed",
                during.join(", ")
            )
        }
    };
    let mut flow = Flow::new(width as usize);
    flow.push("", vec![Span::styled("⚠", theme.bad())]);
    for word in text.split(' ') {
        flow.push(" ", vec![Span::styled(word.to_string(), theme.bad())]);
    }
    flow.finish()
}

/// What the shades mean (once anything was sampled or a GIL recorded), or why bars are not
/// shaded (the sampler cannot run here), and whether the sampler widened its interval.
fn legend(app: &App, theme: Theme, width: u16) -> Vec<Span<'static>> {
    let timeline = app.shown_timeline();
    let mut spans = Vec::new();
    match timeline.sampler_notice() {
        Some(SamplerNotice::Unavailable(why)) => {
            spans.push(Span::styled(
                format!(" bars not shaded: scheduler sampling is off ({why}) "),
                theme.dim(),
            ));
            return spans;
        }
        Some(SamplerNotice::Interval { interval_ms, .. }) => spans.push(Span::styled(
            format!(" sampled every {interval_ms} ms (widened: cost) "),
            theme.dim(),
        )),
        Some(SamplerNotice::Cost { .. }) | None => {}
    }
    let experiments = timeline.experiments();
    let sampled = experiments.iter().any(|e| e.sched.samples > 0);
    let gil = experiments.iter().any(|e| {
        (e.plan.executor == ExecutorKind::Gil && !e.lanes.is_empty())
            || (e.plan.is_watched() && e.gil_recorded)
    });
    let watched = experiments.iter().any(|e| e.plan.is_watched());
    if !sampled && !gil {
        return spans;
    }
    let task = theme.done(false);
    let mut entries: Vec<(Look, &'static str, &'static str)> = vec![(task, "on a CPU", "CPU")];
    if watched {
        entries.push((theme.thread_running(), "thread on a CPU", "thread CPU"));
    }
    if sampled {
        entries.push((theme.runnable(), "waiting for a CPU", "wants CPU"));
    }
    if watched {
        entries.push((theme.io(task), "I/O", "I/O"));
        entries.push((theme.sleep(task), "sleep", "sleep"));
        entries.push((theme.lock(task), "lock", "lock"));
    }
    if sampled {
        entries.push((
            theme.blocked(task),
            if watched { "blocked, other" } else { "blocked" },
            if watched { "other" } else { "blocked" },
        ));
    }
    if gil {
        entries.push((theme.gil_wait(task), "waiting for the GIL", "wants GIL"));
    }
    if sampled {
        entries.push((theme.unknown(task), "not sampled", "unknown"));
    }
    // Long words where they fit on the border (beside " summary " and the corners), else
    // short ones, else as many as fit and a pointer to the whole legend: never a word cut.
    let room = (width as usize).saturating_sub(2 + " summary ".len() + spans_width(&spans));
    let cost = |words: fn(&(Look, &'static str, &'static str)) -> &'static str| {
        entries
            .iter()
            .map(|e| display::width(words(e)) + 4)
            .sum::<usize>()
    };
    let long = cost(|e| e.1) <= room;
    let fits_all = long || cost(|e| e.2) <= room;
    const MORE: &str = "… ? all ";
    let mut used = 0;
    for (look, long_words, brief) in &entries {
        let words = if long { long_words } else { brief };
        let needed = display::width(words) + 4;
        if !fits_all && used + needed + display::width(MORE) > room {
            spans.push(Span::styled(MORE, theme.dim()));
            break;
        }
        used += needed;
        spans.push(Span::styled(look.glyph.to_string(), look.style));
        spans.push(Span::styled(format!(" {words}  "), theme.dim()));
    }
    spans
}

fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(Span::width).sum()
}

impl Widget for Summary<'_> {
    /// The table at the top (scrolled to keep the selected experiment in view when rows
    /// are short), the verdict at the bottom, whole.
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = Theme {
            color: self.app.color,
        };
        let legend = legend(self.app, theme, area.width);
        // The efficiency formula gives way to the legend where both do not fit.
        let taken = 2 + " summary ".len() + spans_width(&legend);
        let cores = self
            .app
            .shown_timeline()
            .cores()
            .map(|c| format!(" {} ", crate::model::timeline::efficiency_formula(c)))
            .filter(|formula| taken + display::width(formula) < area.width as usize)
            .unwrap_or_default();
        let mut title = vec![Span::styled(" summary ", theme.heading())];
        title.extend(legend);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.dim())
            .title_top(Line::from(title))
            .title_top(Line::styled(cores, theme.dim()).right_aligned());
        let inner = block.inner(area);
        block.render(area, buf);
        let verdict = Verdict::of(self.app).map_or_else(Vec::new, |v| v.lines(inner.width));
        let verdict_height = (verdict.len() as u16).min(inner.height);
        let verdict_area = Rect {
            y: inner.bottom() - verdict_height,
            height: verdict_height,
            ..inner
        };
        Paragraph::new(verdict).render(verdict_area, buf);
        let mut lines = self.table(inner.width);
        lines.extend(busy_lines(self.app, inner.width));
        let table_area = Rect {
            height: inner.height - verdict_height,
            ..inner
        };
        // When rows are short, scroll so the selected experiment stays in view.
        let visible = table_area.height.saturating_sub(1) as usize;
        let selected_row = self.app.selected;
        if visible > 0 && selected_row >= visible {
            lines.drain(1..=selected_row + 1 - visible);
        }
        Paragraph::new(lines).render(table_area, buf);
    }
}
