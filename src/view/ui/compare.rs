//! The comparison of two runs (`c`): a table of both runs' figures per experiment with
//! their differences, both runs' speed-ups, and the selected experiment's charts of both
//! runs stacked on one time scale.
//!
//! ```text
//! ╭ compare: run 1 (8 workers) with run 2 (2 workers) ─── ↑↓ other run · [ ] this run · c leaves ╮
//! │experiment        makespan 1  makespan 2    Δ 2 vs 1    cpu 1    cpu 2   eff 1   eff 2        │
//! │process-fibo          0.32 s      0.61 s     +90.6 %   0.55 s   0.56 s  86.8 %  45.9 %        │
//! │runs: ◂1 8 workers  ▸2 2 workers  (▸ looked at, [ ] · ◂ compared with, ↑↓)                     │
//! ╰─────────────────────────────────────────────────────────────────────────────────────────────────╯
//! ╭ 1 process-fibo · run 1 ─╮   (the chart of run 1)
//! ╭ 1 process-fibo · run 2 ─╮   (the chart of run 2, same scale)
//! ```

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

use super::gantt::GanttPanel;
use super::verdict::Verdict;
use crate::chart::axis::human;
use crate::chart::span::TimeSpan;
use crate::chart::theme::Theme;
use crate::model::display;
use crate::model::timeline::{Experiment, Timeline};
use crate::view::app::{App, ExperimentState};

/// Draws the comparison of runs `other` and `viewed` (indices into the app's runs: the one
/// compared with, the one looked at) over `area`. Columns go by run number, whichever is
/// looked at, and Δ says which way it runs (`Δ 2 vs 1`: run 2's makespan against run 1's).
pub fn render(
    app: &App,
    (other, viewed): (usize, usize),
    area: Rect,
    buf: &mut Buffer,
    theme: Theme,
) {
    let (a, b) = (other.min(viewed), other.max(viewed));
    let runs = app.runs();
    let (ra, rb) = (&runs[a], &runs[b]);
    let (ta, tb) = (&ra.timeline, &rb.timeline);
    let names: Vec<&str> = {
        let mut names: Vec<&str> = Vec::new();
        for e in ta.experiments().iter().chain(tb.experiments()) {
            if !names.contains(&e.plan.name.as_str()) {
                names.push(&e.plan.name);
            }
        }
        names
    };
    let (na, nb) = (a + 1, b + 1);
    // The table's cells, row by row; columns give way in pairs where the box is narrow
    // (efficiencies, then CPU times), and names are shortened before makespans go.
    let mut cells: Vec<Vec<String>> = vec![vec![
        "experiment".to_string(),
        format!("makespan {na}"),
        format!("makespan {nb}"),
        format!("Δ {nb} vs {na}"),
        format!("cpu {na}"),
        format!("cpu {nb}"),
        format!("eff {na}"),
        format!("eff {nb}"),
    ]];
    let find = |t: &'_ Timeline, name: &str| -> Option<Experiment> {
        t.experiments()
            .iter()
            .find(|e| e.plan.name == name)
            .cloned()
    };
    for name in &names {
        let (ea, eb) = (find(ta, name), find(tb, name));
        let makespan = |e: &Option<Experiment>| e.as_ref().and_then(Experiment::makespan);
        let (ma, mb) = (makespan(&ea), makespan(&eb));
        let text = |d: Option<Duration>| d.map_or("-".to_string(), human);
        let delta = match (ma, mb) {
            (Some(x), Some(y)) if !x.is_zero() => {
                format!(
                    "{:+.1} %",
                    (y.as_secs_f64() / x.as_secs_f64() - 1.0) * 100.0
                )
            }
            _ => "-".into(),
        };
        let cpu = |e: &Option<Experiment>| {
            e.as_ref()
                .filter(|e| e.cpu_measured())
                .map_or("-".to_string(), |e| human(e.cpu_time()))
        };
        let eff = |e: &Option<Experiment>, t: &Timeline| {
            e.as_ref()
                .and_then(|e| e.efficiency(t.cores()?, e.makespan()?))
                .map_or("-".to_string(), |x| format!("{:.1} %", x * 100.0))
        };
        cells.push(vec![
            display::safe(name).into_owned(),
            text(ma),
            text(mb),
            delta,
            cpu(&ea),
            cpu(&eb),
            eff(&ea, ta),
            eff(&eb, tb),
        ]);
    }
    let lines = table_lines(&cells, area.width.saturating_sub(2) as usize, theme);
    // Both runs' speed-ups, whole: their lines go under the table, which gives way first.
    let verdict_of = |run: &crate::view::app::Run| {
        let t = &run.timeline;
        let busy = t
            .experiments()
            .iter()
            .any(|e| e.busy_note(t.cores()).is_some());
        Verdict::of_run(t, Some(&run.plan), busy, theme)
    };
    let mut tail: Vec<Line<'static>> =
        Verdict::compared(verdict_of(ra), verdict_of(rb), (na, nb), theme)
            .map_or_else(Vec::new, |v| v.lines(area.width.saturating_sub(2)));
    // Which runs there are, to choose from.
    let mut list = vec![Span::styled("runs: ", theme.dim())];
    for (i, run) in runs.iter().enumerate() {
        let marker = match i {
            i if i == viewed => "▸",
            i if i == other => "◂",
            _ => " ",
        };
        let style = if i == a || i == b {
            theme.heading()
        } else {
            theme.dim()
        };
        list.push(Span::styled(
            format!("{marker}{} {}  ", i + 1, workers_of(&run.plan)),
            style,
        ));
    }
    list.push(Span::styled(
        "(▸ looked at, [ ] · ◂ compared with, ↑↓)",
        theme.dim(),
    ));
    tail.push(Line::from(list));

    // The box takes what it needs, the charts the rest (when 6 rows or more); rows of the
    // table give way to the verdicts where the box is short.
    let wanted = (lines.len() + tail.len()) as u16 + 2;
    let table_height = wanted.min(area.height);
    let table = Rect {
        height: table_height,
        ..area
    };
    let room = table_height.saturating_sub(2) as usize;
    let mut lines = lines;
    lines.truncate(room.saturating_sub(tail.len()).max(1));
    lines.extend(tail);
    // The title says which runs; the keys' hint in the longest form that leaves it whole.
    let title = format!(
        " compare: run {na} ({}) with run {nb} ({}) ",
        workers_of(&ra.plan),
        workers_of(&rb.plan)
    );
    let title_room = (table.width as usize).saturating_sub(2 + display::width(&title));
    let hint = [
        " ↑↓ other run · [ ] this run · tab experiment · c leaves ",
        " ↑↓ other run · c leaves ",
        "",
    ]
    .into_iter()
    .find(|h| h.chars().count() < title_room || h.is_empty())
    .unwrap_or_default();
    Paragraph::new(lines)
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(theme.selected_border())
                .title_top(Span::styled(
                    display::shorten(&title, (table.width as usize).saturating_sub(2)),
                    theme.heading(),
                ))
                .title_top(Line::styled(hint, theme.dim()).right_aligned()),
        )
        .render(table, buf);

    // The selected experiment of both runs, one above the other, on one time scale.
    let charts = Rect {
        y: area.y + table.height,
        height: area.height - table.height,
        ..area
    };
    if charts.height < 6 {
        return;
    }
    let name = app
        .plan()
        .experiments
        .get(app.selected)
        .map(|e| e.name.as_str())
        .or_else(|| names.first().copied());
    let Some(name) = name else { return };
    let (ea, eb) = (
        find(ta, name).or_else(|| counterpart(ta, tb)),
        find(tb, name).or_else(|| counterpart(tb, ta)),
    );
    let now = |t: &Timeline| {
        t.finished_at()
            .or(t.latest())
            .unwrap_or(crate::model::clock::Timestamp(0))
    };
    let length = [(&ea, ta), (&eb, tb)]
        .iter()
        .filter_map(|(e, t)| e.as_ref().map(|e| e.elapsed(now(t))))
        .max()
        .unwrap_or_default()
        .max(Duration::from_millis(1));
    let half = charts.height / 2;
    for (k, (run, e, t)) in [(na, &ea, ta), (nb, &eb, tb)].into_iter().enumerate() {
        let rect = Rect {
            y: charts.y + half * k as u16,
            height: if k == 0 { half } else { charts.height - half },
            ..charts
        };
        let Some(e) = e else {
            Paragraph::new(format!("run {run} has no {name}"))
                .block(Block::bordered().border_type(BorderType::Rounded))
                .render(rect, buf);
            continue;
        };
        let mut plan = e.plan.clone();
        plan.name = format!("{} · run {run}", e.plan.name);
        let state = match e.finished_at {
            Some(_) => ExperimentState::Done(e.elapsed(now(t))),
            None => ExperimentState::Stopped(e.elapsed(now(t))),
        };
        GanttPanel {
            plan: &plan,
            experiment: Some(e),
            number: app.selected + 1,
            span: Some(TimeSpan::from_start(e, length)),
            now: now(t),
            order: app.view.lane_order,
            selected: false,
            state,
            theme,
            highlight: None,
            scroll: app.scroll_of(app.selected),
            depth: app.view.depth,
            compact: false,
            beside: false,
            lane_height: 1,
        }
        .render(rect, buf);
    }
}

/// The comparison table in `width` columns: the heading (dim) and a line per experiment.
fn table_lines(cells: &[Vec<String>], width: usize, theme: Theme) -> Vec<Line<'static>> {
    const WIDTHS: [usize; 8] = [18, 11, 11, 11, 9, 9, 7, 7];
    let total = |columns: usize, name: usize| {
        name + WIDTHS[1..columns].iter().map(|w| w + 1).sum::<usize>()
    };
    // Columns kept: all, then without efficiencies, then without CPU times.
    let columns = [8, 6, 4]
        .into_iter()
        .find(|&c| total(c, 18) <= width)
        .unwrap_or(4);
    let name = 18usize
        .saturating_sub(total(columns, 18).saturating_sub(width))
        .max(8);
    cells
        .iter()
        .enumerate()
        .map(|(row, cells)| {
            let mut text = display::pad(&display::shorten(&cells[0], name), name);
            for (cell, w) in cells.iter().zip(WIDTHS).take(columns).skip(1) {
                text.push_str(&format!(" {cell:>w$}"));
            }
            if row == 0 {
                Line::styled(text, theme.dim())
            } else {
                Line::raw(text)
            }
        })
        .collect()
}

/// The chart of `t` to show beside a run of another kind (`other`), when none has the
/// selected experiment's name: a watched program's main process (where its thread pools
/// run) beside a plan, and a plan's simulated-GIL pool (else its first) beside a watched
/// program: real CPython next to the simulated GIL.
fn counterpart(t: &Timeline, other: &Timeline) -> Option<Experiment> {
    if t.is_watch() == other.is_watch() {
        return None;
    }
    let experiments = t.experiments();
    let pick = if t.is_watch() {
        experiments.first()
    } else {
        experiments
            .iter()
            .find(|e| e.plan.executor == crate::model::plan::ExecutorKind::Gil)
            .or(experiments.first())
    };
    pick.cloned()
}

/// `8 workers`, or `2–8 workers` where the experiments differ; `watched program` for a
/// watch.
fn workers_of(plan: &crate::model::plan::Plan) -> String {
    if !plan.experiments.is_empty() && plan.experiments.iter().all(|e| e.is_watched()) {
        return "watched program".into();
    }
    let counts: Vec<usize> = plan
        .experiments
        .iter()
        .filter(|e| e.executor != crate::model::plan::ExecutorKind::Sequential)
        .map(|e| e.workers)
        .collect();
    match (counts.iter().min(), counts.iter().max()) {
        (Some(a), Some(b)) if a == b => format!("{a} workers"),
        (Some(a), Some(b)) => format!("{a}–{b} workers"),
        _ => "1 worker".into(),
    }
}
