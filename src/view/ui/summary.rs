//! The summary table: per experiment its state, makespan, CPU time, parallel efficiency and
//! failures; in its bottom border, the post's speed-ups once both executors of a workload
//! finished.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

use crate::chart::axis::human;
use crate::chart::theme::{Look, Theme};
use crate::model::display;
use crate::model::event::SamplerNotice;
use crate::model::plan::ExecutorKind;
use crate::model::timeline::{Experiment, Speedup};
use crate::view::app::{App, ExperimentState};

/// The summary panel, borrowing the app.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a> {
    /// What to summarise.
    pub app: &'a App,
}

impl Summary<'_> {
    /// How many rows the summary wants (borders included): a row per experiment, and one
    /// per experiment that ran on a busy machine, saying so.
    pub fn height(app: &App) -> u16 {
        (app.plan().experiments.len() + 1 + 2 + busy_notes(app).len()) as u16
    }

    fn lines(&self, width: u16) -> Vec<Line<'static>> {
        let app = self.app;
        let theme = Theme { color: app.color };
        let timeline = app.shown_timeline();
        let cores = timeline.cores();
        // Columns give way by importance when the panel is narrow: what the sampler saw
        // (GIL wait, switches, CPU wait), then cpu time, then efficiency.
        let show_cpu = width >= 75;
        let show_efficiency = width >= 64;
        // The sampler's columns appear once something was sampled; GIL wait with a gil plan.
        let sampled = timeline
            .experiments()
            .iter()
            .any(|e| e.cpu_wait().is_some() || e.switches().is_some());
        let has_gil = app
            .plan()
            .experiments
            .iter()
            .any(|e| e.executor == ExecutorKind::Gil);
        let show_cpu_wait = sampled && width >= 84;
        let show_switches = sampled && width >= 98;
        let show_gil_wait = has_gil && width >= 108;
        let optional = |cpu: &str, efficiency: &str| {
            let mut text = String::new();
            if show_cpu {
                text.push_str(&format!("{cpu:>9} "));
            }
            if show_efficiency {
                text.push_str(&format!("{efficiency:>10} "));
            }
            text
        };
        let sched = |cpu_wait: &str, switches: &str, gil_wait: &str| {
            let mut text = String::new();
            if show_cpu_wait {
                text.push_str(&format!(" {cpu_wait:>9}"));
            }
            if show_switches {
                text.push_str(&format!(" {switches:>13}"));
            }
            if show_gil_wait {
                text.push_str(&format!(" {gil_wait:>9}"));
            }
            text
        };
        let mut lines = vec![Line::styled(
            format!(
                "{:<2} {:<17} {:<14} {:>9} {}{:>6}{}",
                "#",
                "experiment",
                "state",
                "makespan",
                optional("cpu time", "efficiency"),
                "failed",
                sched("cpu wait", "switches v/i", "gil wait"),
            ),
            theme.dim(),
        )];
        for (index, plan) in app.plan().experiments.iter().enumerate() {
            let state = app.experiment_state(index);
            let experiment = timeline.experiment(index);
            let progress = experiment.map_or(String::new(), |e| {
                format!(" {}/{}", e.ended(), e.task_count())
            });
            let (state_text, state_style) = match state {
                ExperimentState::Waiting => ("waiting".to_string(), theme.dim()),
                ExperimentState::NotRun => ("not run".to_string(), theme.dim()),
                // What the numbers count, said: tasks ended of all.
                ExperimentState::Running(_) => (
                    experiment.map_or("running".to_string(), |e| {
                        format!("▶ {}/{} done", e.ended(), e.task_count())
                    }),
                    theme.busy(),
                ),
                ExperimentState::Done(_) => (format!("done{progress}"), theme.good()),
                ExperimentState::Stopped(_) => (format!("stopped{progress}"), theme.bad()),
            };
            let dash = || "-".to_string();
            let (makespan, cpu, efficiency, failed) = match (experiment, state.elapsed()) {
                (Some(e), Some(elapsed)) => (
                    match state {
                        ExperimentState::Running(_) => crate::chart::axis::ticking(elapsed),
                        _ => human(elapsed),
                    },
                    if e.cpu_measured() {
                        human(e.cpu_time())
                    } else {
                        dash()
                    },
                    cores
                        .and_then(|c| e.efficiency(c, elapsed))
                        .map_or_else(dash, |x| format!("{:.1} %", x * 100.0)),
                    e.failed().to_string(),
                ),
                _ => (dash(), dash(), dash(), dash()),
            };
            let cpu_wait = experiment
                .and_then(Experiment::cpu_wait)
                .map_or_else(dash, human);
            let switches = experiment
                .and_then(Experiment::switches)
                .map_or_else(dash, |(v, i)| format!("{v}/{i}"));
            let gil_wait = experiment
                .filter(|e| e.plan.executor == ExecutorKind::Gil)
                .and_then(Experiment::gil_wait)
                .map_or_else(dash, human);
            let selected = index == app.selected;
            let marker = if selected { "▸" } else { " " };
            let failed_style = if failed != "0" && failed != "-" {
                theme.bad()
            } else {
                theme.dim()
            };
            let name_style = if selected {
                theme.heading()
            } else {
                ratatui::style::Style::new()
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{marker}{:<1} ", index + 1), name_style),
                Span::styled(
                    format!("{} ", display::pad(&display::shorten(&plan.name, 17), 17)),
                    name_style,
                ),
                Span::styled(format!("{state_text:<14} "), state_style),
                Span::raw(format!("{makespan:>9} {}", optional(&cpu, &efficiency))),
                Span::styled(format!("{failed:>6}"), failed_style),
                Span::raw(sched(&cpu_wait, &switches, &gil_wait)),
            ]));
        }
        for note in busy_notes(app) {
            lines.push(Line::styled(format!("⚠ {note}"), theme.bad()));
        }
        lines
    }

    /// The post's speed-ups, for the bottom border (`width` wide): always visible while the
    /// summary is.
    fn speedups(&self, theme: Theme, width: u16) -> Line<'static> {
        // Several runs of this plan: every comparison with its spread.
        let runs = self.app.comparable_runs();
        if runs.len() > 1 && self.app.shown_timeline().outcome().is_some() {
            let ratios = crate::model::stats::ratios(&runs);
            if !ratios.is_empty() {
                let mut spans = vec![Span::raw(format!(" {} runs: ", runs.len()))];
                for (i, r) in ratios.iter().enumerate() {
                    if i > 0 {
                        spans.push(Span::raw(" · "));
                    }
                    spans.push(Span::styled(r.short(), theme.heading()));
                }
                spans.push(Span::raw(" "));
                return self.busy_first(Line::from(spans), theme, width);
            }
        }
        let speedups = self.app.shown_timeline().speedups();
        if speedups.is_empty() {
            return Line::default();
        }
        let mut spans = Vec::new();
        for (i, s) in speedups.iter().enumerate() {
            let first_of_baseline = i == 0 || speedups[i - 1].baseline != s.baseline;
            if first_of_baseline {
                let words = Speedup::baseline_words(s.baseline);
                spans.push(Span::raw(if i == 0 {
                    format!(" Process vs {words} speed-up: ")
                } else {
                    format!(" │ vs {words}: ")
                }));
            } else {
                spans.push(Span::raw(" · "));
            }
            spans.push(Span::raw(format!("{} ", s.workload.speedup_label())));
            spans.push(Span::styled(format!("{:.2}%", s.percent), theme.heading()));
        }
        // One run has no spread: say so first, where it cannot be cut off; and before
        // that, that the machine was busy, if it was.
        spans.insert(0, Span::styled(" 1 run, too few to tell:", theme.dim()));
        spans.push(Span::raw(" "));
        self.busy_first(Line::from(spans), theme, width)
    }

    /// `line`, led by a warning that the machine was busy (so the speed-ups are skewed)
    /// where that fits in `width` (the table's own lines say it in full regardless).
    fn busy_first(&self, mut line: Line<'static>, theme: Theme, width: u16) -> Line<'static> {
        let warning = Span::styled(" ⚠ busy machine:", theme.bad());
        if !busy_notes(self.app).is_empty() && line.width() + warning.width() + 2 <= width as usize
        {
            line.spans.insert(0, warning);
        }
        line
    }
}

/// "the machine was busy: …" for each experiment of the run shown that ran while other
/// processes used a quarter of a CPU or more.
fn busy_notes(app: &App) -> Vec<String> {
    let timeline = app.shown_timeline();
    timeline
        .experiments()
        .iter()
        .filter_map(|e| e.busy_note(timeline.cores()))
        .collect()
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
        None => {}
    }
    let experiments = timeline.experiments();
    let sampled = experiments.iter().any(|e| e.sched.samples > 0);
    let gil = experiments
        .iter()
        .any(|e| e.plan.executor == ExecutorKind::Gil && !e.lanes.is_empty());
    if !sampled && !gil {
        return spans;
    }
    let task = theme.done(false);
    // Short words where the border is short.
    let short = width < 110;
    let mut swatch = |look: Look, long: &'static str, brief: &'static str| {
        spans.push(Span::styled(look.glyph.to_string(), look.style));
        let words = if short { brief } else { long };
        spans.push(Span::styled(format!(" {words}  "), theme.dim()));
    };
    swatch(task, "on a CPU", "CPU");
    if sampled {
        swatch(theme.runnable(), "waiting for a CPU", "wants CPU");
        swatch(theme.blocked(task), "blocked", "blocked");
    }
    if gil {
        swatch(theme.gil_wait(task), "waiting for the GIL", "wants GIL");
    }
    if sampled {
        swatch(theme.unknown(task), "not sampled", "unknown");
    }
    spans
}

impl Widget for Summary<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = Theme {
            color: self.app.color,
        };
        let legend = legend(self.app, theme, area.width);
        // The efficiency formula gives way to the legend where both do not fit.
        let formula_from = if legend.is_empty() { 66 } else { 150 };
        let cores = self
            .app
            .shown_timeline()
            .cores()
            .filter(|_| area.width >= formula_from)
            .map_or(String::new(), |c| {
                format!(" {} ", crate::model::timeline::efficiency_formula(c))
            });
        let mut title = vec![Span::styled(" summary ", theme.heading())];
        title.extend(legend);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.dim())
            .title_top(Line::from(title))
            .title_top(Line::styled(cores, theme.dim()).right_aligned())
            .title_bottom(self.speedups(theme, area.width));
        let mut lines = self.lines(area.width.saturating_sub(2));
        // When rows are short, scroll so the selected experiment stays in view.
        let visible = area.height.saturating_sub(3) as usize;
        let selected_row = self.app.selected;
        if visible > 0 && selected_row >= visible {
            lines.drain(1..=selected_row + 1 - visible);
        }
        Paragraph::new(lines).block(block).render(area, buf);
    }
}
