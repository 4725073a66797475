//! The verdict: what the run found, in lines of its own, wrapped to any width and never
//! cut. After one run, the post's speed-ups (processes vs threads and vs GIL threads, per
//! workload); after several runs of one plan, each ratio with its spread, naming both
//! executors and which way it runs.
//!
//! ```text
//! Process vs Threads speed-up:     Fibonacci 11.39% · HTTP Get -0.41%   1 run, too few to tell
//! Process vs GIL threads speed-up: Fibonacci 45.29% · HTTP Get -0.32%
//! ```
//!
//! Narrower, the same as a small table with its notes on the left (80 columns), then as
//! flowing text whose figures (`Fibonacci 45.29%`) are never split across lines.

use ratatui::text::{Line, Span};

use super::flow::Flow;
use crate::chart::theme::Theme;
use crate::model::display;
use crate::model::plan::{ExecutorKind, Plan, WorkloadKind};
use crate::model::stats::{self, Verdict as Judged};
use crate::model::timeline::{Speedup, Timeline};
use crate::view::app::App;

/// What the run looked at found, ready to be laid out at any width.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// What the figures are (`Process speed-up`, `Over 3 runs`).
    title: String,
    /// Whether each row's long head already says the title (`Process vs Threads
    /// speed-up:`), so the widest form leaves the title out.
    heads_say_title: bool,
    /// What qualifies the figures, a line each (`1 run, too few to tell`, the busy machine).
    caveats: Vec<Span<'static>>,
    /// The caveats in one line, for the table with the notes on the left.
    caveat: Span<'static>,
    /// One comparison a row.
    rows: Vec<Row>,
}

/// One row of the verdict: a comparison and its figures.
#[derive(Debug, Clone)]
struct Row {
    /// `Process vs Threads speed-up:` (the post's words).
    long: String,
    /// `vs Threads:`.
    short: String,
    /// The figures, each whole (`Fibonacci 11.39%`).
    items: Vec<Vec<Span<'static>>>,
}

impl Verdict {
    /// The verdict on the run looked at: the ratios over the completed runs of its plan
    /// when there are two or more and it has ended, else its own speed-ups (with a
    /// placeholder for each comparison the plan will make but has not yet). `None` when the
    /// plan compares nothing.
    pub fn of(app: &App) -> Option<Verdict> {
        let theme = Theme { color: app.color };
        let timeline = app.shown_timeline();
        let busy = timeline
            .experiments()
            .iter()
            .any(|e| e.busy_note(timeline.cores()).is_some());
        let runs = app.comparable_runs();
        if runs.len() > 1 && timeline.outcome().is_some() {
            let verdict = Self::of_runs(&runs, busy, theme);
            if verdict.is_some() {
                return verdict;
            }
        }
        if timeline.is_watch() {
            return Self::of_watch(timeline, theme);
        }
        let planned = (*app.source() == crate::view::app::Source::Live).then(|| app.plan());
        Self::of_run(timeline, planned, busy, theme)
    }

    /// A watched program's pools: per pool its tasks, makespan, CPU and GIL wait (the
    /// post's figures, from the real program), and how the program ended. `None` before a
    /// pool ran a task.
    pub fn of_watch(timeline: &Timeline, theme: Theme) -> Option<Verdict> {
        use crate::chart::axis::human;
        let pools = crate::formats::watch::pool_figures_of(timeline);
        if pools.is_empty() {
            return None;
        }
        let rows = pools
            .into_iter()
            .map(|p| {
                let mut items = vec![vec![
                    Span::raw(format!(
                        "{} task{} ",
                        p.tasks,
                        if p.tasks == 1 { "" } else { "s" }
                    )),
                    Span::styled(p.makespan.map_or("…".to_string(), human), theme.heading()),
                ]];
                if let Some(cpu) = p.cpu_time {
                    items.push(vec![Span::raw(format!("cpu {}", human(cpu)))]);
                }
                if !p.gil_wait.is_zero() {
                    items.push(vec![
                        Span::raw("GIL wait "),
                        Span::styled(human(p.gil_wait), theme.heading()),
                    ]);
                }
                if p.failed > 0 {
                    items.push(vec![Span::styled(
                        format!("{} failed", p.failed),
                        theme.bad(),
                    )]);
                }
                let name = display::safe(&p.name).into_owned();
                Row {
                    long: format!("{name}:"),
                    short: format!("{name}:"),
                    items,
                }
            })
            .collect();
        let ended = timeline
            .program_exit()
            .map_or("running".to_string(), |x| x.describe());
        let caveat = Span::styled(format!("the program: {ended}"), theme.dim());
        Some(Verdict {
            title: "Pools".into(),
            heads_say_title: false,
            caveats: vec![caveat.clone()],
            caveat,
            rows,
        })
    }

    /// One run's speed-ups, with `…` for those still to come (and `not run` or `failed`
    /// for those the run ended without) when the plan it ran is given.
    pub fn of_run(
        timeline: &Timeline,
        planned: Option<&Plan>,
        busy: bool,
        theme: Theme,
    ) -> Option<Verdict> {
        let speedups = timeline.speedups();
        let mut rows = Vec::new();
        for baseline in [ExecutorKind::Threads, ExecutorKind::Gil] {
            let words = Speedup::baseline_words(baseline);
            let mut workloads: Vec<WorkloadKind> = Vec::new();
            if let Some(plan) = planned {
                let has = |w: WorkloadKind, x: ExecutorKind| {
                    plan.experiments
                        .iter()
                        .any(|e| e.workload == w && e.executor == x)
                };
                for e in &plan.experiments {
                    let w = e.workload;
                    if !workloads.contains(&w)
                        && !matches!(w, WorkloadKind::Isolation | WorkloadKind::Recorded)
                        && has(w, ExecutorKind::Processes)
                        && has(w, baseline)
                    {
                        workloads.push(w);
                    }
                }
            }
            let found: Vec<&Speedup> = speedups.iter().filter(|s| s.baseline == baseline).collect();
            for s in &found {
                if !workloads.contains(&s.workload) {
                    workloads.push(s.workload);
                }
            }
            let mut items = Vec::new();
            for workload in workloads {
                let label = workload.speedup_label();
                let figures: Vec<&&Speedup> =
                    found.iter().filter(|s| s.workload == workload).collect();
                if figures.is_empty() {
                    // Still to come; or why there is none: a pool that never ran it, or
                    // one whose every task failed.
                    let ran = |x: ExecutorKind| {
                        timeline
                            .experiments()
                            .iter()
                            .any(|e| e.plan.workload == workload && e.plan.executor == x)
                    };
                    let mark = if timeline.outcome().is_none() {
                        "…"
                    } else if ran(ExecutorKind::Processes) && ran(baseline) {
                        "failed"
                    } else {
                        "not run"
                    };
                    items.push(vec![
                        Span::raw(format!("{label} ")),
                        Span::styled(mark, theme.dim()),
                    ]);
                }
                // Recordings compare within each source: one figure per source.
                for s in figures {
                    items.push(vec![
                        Span::raw(format!("{label} ")),
                        Span::styled(format!("{:.2}%", s.percent), theme.heading()),
                    ]);
                }
            }
            if !items.is_empty() {
                rows.push(Row {
                    long: format!("Process vs {words} speed-up:"),
                    short: format!("vs {words}:"),
                    items,
                });
            }
        }
        if rows.is_empty() {
            return None;
        }
        // One run has no spread: said beside the figures, never left out.
        let mut caveats = vec![Span::styled("1 run, too few to tell", theme.dim())];
        let caveat = if busy {
            caveats.push(Span::styled("⚠ busy machine: figures skewed", theme.bad()));
            Span::styled("⚠ 1 run, busy machine", theme.bad())
        } else {
            caveats[0].clone()
        };
        Some(Verdict {
            title: "Process speed-up".into(),
            heads_say_title: true,
            caveats,
            caveat,
            rows,
        })
    }

    /// Two runs' verdicts ([`Verdict::of_run`]) side by side, for comparing them: each
    /// figure as run `na`'s → run `nb`'s (`Fibonacci 11.39% → 12.01%`), `–` where a run has
    /// none.
    pub fn compared(
        first: Option<Verdict>,
        second: Option<Verdict>,
        (na, nb): (usize, usize),
        theme: Theme,
    ) -> Option<Verdict> {
        let (first, second) = match (first, second) {
            (None, None) => return None,
            (a, b) => (a.map_or_else(Vec::new, |v| v.rows), b),
        };
        let busy = second.as_ref().is_some_and(|v| v.caveats.len() > 1);
        let second = second.map_or_else(Vec::new, |v| v.rows);
        let mut heads: Vec<(&str, &str)> = Vec::new();
        for row in first.iter().chain(&second) {
            if !heads.iter().any(|(long, _)| *long == row.long) {
                heads.push((&row.long, &row.short));
            }
        }
        let label = |item: &[Span<'static>]| {
            item.first()
                .map_or(String::new(), |s| s.content.to_string())
        };
        let value = |row: Option<&Row>, wanted: &str| {
            row.and_then(|r| r.items.iter().find(|i| label(i) == wanted))
                .and_then(|i| i.get(1).cloned())
                .unwrap_or_else(|| Span::styled("–", theme.dim()))
        };
        let rows = heads
            .iter()
            .map(|&(long, short)| {
                let (a, b) = (
                    first.iter().find(|r| r.long == long),
                    second.iter().find(|r| r.long == long),
                );
                let mut labels: Vec<String> = Vec::new();
                for item in a.iter().chain(&b).flat_map(|r| &r.items) {
                    if !labels.contains(&label(item)) {
                        labels.push(label(item));
                    }
                }
                let items = labels
                    .iter()
                    .map(|l| {
                        vec![
                            Span::raw(l.clone()),
                            value(a, l),
                            Span::raw(" → "),
                            value(b, l),
                        ]
                    })
                    .collect();
                Row {
                    long: long.to_string(),
                    short: short.to_string(),
                    items,
                }
            })
            .collect();
        let mut caveats = vec![Span::styled("1 run each, too few to tell", theme.dim())];
        let caveat = if busy {
            caveats.push(Span::styled(
                format!("⚠ busy machine during run {nb}: figures skewed"),
                theme.bad(),
            ));
            Span::styled("⚠ 1 run each, busy machine", theme.bad())
        } else {
            caveats[0].clone()
        };
        Some(Verdict {
            title: format!("Process speed-up, run {na} → run {nb}"),
            heads_say_title: false,
            caveats,
            caveat,
            rows,
        })
    }

    /// The ratios over several runs of one plan, a row per workload.
    fn of_runs(runs: &[&Timeline], busy: bool, theme: Theme) -> Option<Verdict> {
        let ratios = stats::ratios(runs);
        let mut rows: Vec<Row> = Vec::new();
        for r in &ratios {
            let head = format!("{}:", r.workload.speedup_label());
            let item = vec![Span::styled(r.words(), theme.heading())];
            match rows.iter_mut().find(|row| row.long == head) {
                Some(row) => row.items.push(item),
                None => rows.push(Row {
                    long: head.clone(),
                    short: head,
                    items: vec![item],
                }),
            }
        }
        if rows.is_empty() {
            return None;
        }
        let too_few = ratios
            .iter()
            .filter(|r| r.verdict == Judged::TooFewRuns)
            .map(|r| r.ratio.n)
            .min();
        let mut caveats = Vec::new();
        if too_few.is_some() {
            caveats.push(Span::styled(
                format!("too few to tell (--runs {} or more)", stats::ENOUGH_RUNS),
                theme.dim(),
            ));
        }
        if busy {
            caveats.push(Span::styled("⚠ busy machine: figures skewed", theme.bad()));
        }
        let caveat = match (too_few.is_some(), busy) {
            (true, true) => Span::styled("too few to tell · ⚠ busy machine", theme.bad()),
            (false, true) => Span::styled("⚠ busy machine", theme.bad()),
            (true, false) => Span::styled("too few to tell", theme.dim()),
            (false, false) => Span::raw(""),
        };
        Some(Verdict {
            title: format!("Over {} runs", runs.len()),
            heads_say_title: false,
            caveats,
            caveat,
            rows,
        })
    }

    /// The verdict laid out in `width` columns: the widest form that fits, else flowing
    /// text. Every figure is there, whole, at any width.
    pub fn lines(&self, width: u16) -> Vec<Line<'static>> {
        let width = width as usize;
        if width == 0 {
            return Vec::new();
        }
        self.table(width, true)
            .or_else(|| self.table(width, false))
            .unwrap_or_else(|| self.flow(width))
    }

    /// A table, if it fits in `width`: wide, each row's long head, its figures, and the
    /// caveats on the right; narrow, the title and caveats on the left, short heads.
    fn table(&self, width: usize, wide: bool) -> Option<Vec<Line<'static>>> {
        let notes: Vec<Span<'static>> = if wide {
            let mut notes = Vec::new();
            if !self.heads_say_title {
                notes.push(Span::raw(self.title.clone()));
            }
            notes.extend(self.caveats.iter().cloned());
            notes
        } else {
            let mut notes = vec![Span::raw(self.title.clone())];
            if !self.caveat.content.is_empty() {
                notes.push(self.caveat.clone());
            }
            notes
        };
        let head_width = self
            .rows
            .iter()
            .map(|r| display::width(row_head(r, wide)))
            .max()
            .unwrap_or(0);
        let note_width = notes.iter().map(Span::width).max().unwrap_or(0);
        let items_of = |row: &Row| -> Vec<Span<'static>> {
            let mut spans = Vec::new();
            for (i, item) in row.items.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw(" · "));
                }
                spans.extend(item.iter().cloned());
            }
            spans
        };
        let items_width = self
            .rows
            .iter()
            .map(|r| items_of(r).iter().map(Span::width).sum::<usize>())
            .max()
            .unwrap_or(0);
        let gap = 2;
        let total =
            head_width + 1 + items_width + if note_width > 0 { gap + note_width } else { 0 };
        if total > width {
            return None;
        }
        let count = self.rows.len().max(notes.len());
        let mut lines = Vec::new();
        for i in 0..count {
            let mut spans: Vec<Span<'static>> = Vec::new();
            let note = notes.get(i).cloned().unwrap_or_default();
            let pad_note = |note: Span<'static>| {
                let fill = note_width.saturating_sub(note.width()) + gap;
                [note, Span::raw(" ".repeat(fill))]
            };
            if !wide && note_width > 0 {
                spans.extend(pad_note(note.clone()));
            }
            match self.rows.get(i) {
                Some(row) => {
                    spans.push(Span::raw(display::pad(row_head(row, wide), head_width + 1)));
                    let items = items_of(row);
                    let used: usize = items.iter().map(Span::width).sum();
                    spans.extend(items);
                    if wide && note_width > 0 {
                        spans.push(Span::raw(" ".repeat(items_width - used + gap)));
                        spans.push(note);
                    }
                }
                None if wide => {
                    spans.push(Span::raw(" ".repeat(head_width + 1 + items_width + gap)));
                    spans.push(note);
                }
                None => {}
            }
            lines.push(trimmed(Line::from(spans)));
        }
        Some(lines)
    }

    /// Flowing text: the title and the caveats' one-line form, then each row on a line of its own where it
    /// fits on one, words wrapped, figures kept whole.
    fn flow(&self, width: usize) -> Vec<Line<'static>> {
        let mut flow = Flow::new(width);
        for word in self.title.split(' ') {
            flow.push(" ", vec![Span::raw(word.to_string())]);
        }
        // The caveats in their one-line form: narrow screens have no lines to spare.
        for (i, word) in self.caveat.content.split(' ').enumerate() {
            let sep = if i == 0 { ": " } else { " " };
            flow.push(sep, vec![Span::styled(word.to_string(), self.caveat.style)]);
        }
        for row in &self.rows {
            let whole = display::width(&row.short)
                + row
                    .items
                    .iter()
                    .map(|item| item.iter().map(Span::width).sum::<usize>() + 3)
                    .sum::<usize>()
                - 2;
            // A row of its own where it fits on one line, or where lines are long
            // enough that a break costs little.
            if whole <= width || width >= ROW_LINES_FROM {
                flow.break_line();
            }
            for (i, word) in row.short.split(' ').enumerate() {
                flow.push(
                    if i == 0 { "; " } else { " " },
                    vec![Span::raw(word.to_string())],
                );
            }
            for (i, item) in row.items.iter().enumerate() {
                flow.push(if i == 0 { " " } else { " · " }, item.clone());
            }
        }
        flow.finish()
    }
}

/// From this width on, each row of flowing text starts a line of its own.
const ROW_LINES_FROM: usize = 60;

/// A row's head in the wide or the narrow table.
fn row_head(row: &Row, wide: bool) -> &str {
    if wide { &row.long } else { &row.short }
}

/// `line` without trailing blanks.
fn trimmed(mut line: Line<'static>) -> Line<'static> {
    while let Some(last) = line.spans.last_mut() {
        let kept = last.content.trim_end().to_string();
        if kept.is_empty() {
            line.spans.pop();
        } else {
            last.content = kept.into();
            break;
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict() -> Verdict {
        let figure = |label: &str, percent: &str| {
            vec![
                Span::raw(format!("{label} ")),
                Span::raw(percent.to_string()),
            ]
        };
        Verdict {
            title: "Process speed-up".into(),
            heads_say_title: true,
            caveats: vec![Span::raw("1 run, too few to tell")],
            caveat: Span::raw("1 run, too few to tell"),
            rows: vec![
                Row {
                    long: "Process vs Threads speed-up:".into(),
                    short: "vs Threads:".into(),
                    items: vec![figure("Fibonacci", "11.39%"), figure("HTTP Get", "-0.41%")],
                },
                Row {
                    long: "Process vs GIL threads speed-up:".into(),
                    short: "vs GIL threads:".into(),
                    items: vec![figure("Fibonacci", "45.29%"), figure("HTTP Get", "-0.32%")],
                },
            ],
        }
    }

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    /// At every width from 20 to 200 columns, every figure is on one line, whole, and no
    /// line is wider than the width.
    #[test]
    fn every_figure_is_whole_at_every_width() {
        let v = verdict();
        for width in 20..=200u16 {
            let lines = text(&v.lines(width));
            for line in &lines {
                assert!(
                    display::width(line) <= width as usize,
                    "{width}: {line:?} in {lines:#?}"
                );
            }
            for figure in [
                "Fibonacci 11.39%",
                "HTTP Get -0.41%",
                "Fibonacci 45.29%",
                "HTTP Get -0.32%",
            ] {
                assert!(
                    lines.iter().any(|l| l.contains(figure)),
                    "{width}: {figure} in {lines:#?}"
                );
            }
            let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
            assert!(words.join(" ").contains("too few to tell"), "{lines:#?}");
        }
    }

    #[test]
    fn forms_by_width() {
        let v = verdict();
        assert_eq!(
            text(&v.lines(118)),
            [
                "Process vs Threads speed-up:     Fibonacci 11.39% · HTTP Get -0.41%  1 run, too few to tell",
                "Process vs GIL threads speed-up: Fibonacci 45.29% · HTTP Get -0.32%",
            ]
        );
        assert_eq!(
            text(&v.lines(80)),
            [
                "Process speed-up        vs Threads:     Fibonacci 11.39% · HTTP Get -0.41%",
                "1 run, too few to tell  vs GIL threads: Fibonacci 45.29% · HTTP Get -0.32%",
            ]
        );
        assert_eq!(
            text(&v.lines(40)),
            [
                "Process speed-up: 1 run, too few to tell",
                "  vs Threads: Fibonacci 11.39%",
                "  HTTP Get -0.41%; vs GIL threads:",
                "  Fibonacci 45.29% · HTTP Get -0.32%",
            ]
        );
    }
}
