//! The Gantt chart as text (`--print`): for CI logs, READMEs and remote shells.
//!
//! ```text
//! process-fibo · ProcessPool · 8 workers · 8 tasks · 0.62 s
//!               0         0.1s      0.2s      0.3s      0.4s      0.5s
//! w0 pid 48213  ███fib 34██
//! w7 pid 48220  ██████████████████████fib 41██████████████████████████████████
//! ```
//!
//! Rows are drawn by the live view's own row painter into a ratatui buffer, then written
//! out cell by cell: with ANSI colours when asked (stdout a terminal, `NO_COLOR` unset),
//! else with the glyph-only look, so the text reads the same as the `NO_COLOR` screen.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use unicode_width::UnicodeWidthStr;

use crate::chart::axis::{self, human};
use crate::chart::cells::note_forms;
use crate::chart::fold::{Depth, Rows, row_cells, row_label, row_note, row_states};
use crate::chart::paint::{self, draw_cells, draw_note};
use crate::chart::span::{TimeSpan, row_lengths};
use crate::chart::theme::Theme;
use crate::chart::{MAX_WIDTH, MIN_WIDTH};
use crate::model::clock::Timestamp;
use crate::model::display::{self, shorten};
use crate::model::timeline::{Experiment, Timeline};

/// The chart of every experiment in `timeline`, `width` columns wide, a thread's nested
/// calls shown `depth` rows deep (see [`crate::chart::fold`]).
pub fn chart(timeline: &Timeline, width: u16, color: bool, depth: Depth) -> String {
    let width = width.clamp(MIN_WIDTH, MAX_WIDTH);
    let theme = Theme { color };
    let now = timeline.latest().unwrap_or(Timestamp(0));
    let mut out = String::new();
    let lengths = row_lengths(timeline, now);
    // The levels of the first folded row, to explain folding by example.
    let mut folded: Option<(u32, u32)> = None;
    for (experiment, length) in timeline.experiments().iter().zip(lengths) {
        let length = length.max(std::time::Duration::from_micros(1));
        let span = TimeSpan::from_start(experiment, length);
        let rows = Rows::of(experiment, depth);
        folded = folded.or_else(|| {
            (0..rows.len())
                .filter_map(|i| rows.get(i))
                .find(|row| row.is_folded())
                .map(|row| (row.level + 1, row.level + row.lanes.len() as u32))
        });
        out.push_str(&paint(
            &shorten(&title(timeline, experiment, now, &rows), width as usize),
            Style::new().add_modifier(Modifier::BOLD),
            color,
        ));
        out.push('\n');
        let labels: Vec<String> = (0..rows.len())
            .filter_map(|i| rows.get(i))
            .map(|row| row_label(experiment, &row, usize::MAX))
            .collect();
        let longest = labels.iter().map(|l| display::width(l)).max().unwrap_or(0);
        let label_width = (longest as u16 + 2).min(width / 3).max(4);
        let columns = width - label_width;
        // The axis: seconds from the experiment's start.
        let mut axis_line = " ".repeat(label_width as usize);
        let mut used = 0usize;
        for tick in axis::ticks(std::time::Duration::ZERO, length, columns) {
            let text = format!("╵{}", tick.label);
            let at = tick.column as usize;
            if at < used || at + text.chars().count() > columns as usize {
                continue;
            }
            axis_line.push_str(&" ".repeat(at - used));
            axis_line.push_str(&text);
            used = at + text.chars().count();
        }
        out.push_str(&paint(axis_line.trim_end(), theme.dim(), color));
        out.push('\n');
        for row in (0..rows.len()).filter_map(|i| rows.get(i)) {
            let area = Rect::new(0, 0, width, 1);
            let mut buf = Buffer::empty(area);
            // Shortened as on screen: words first, then a visible cut, never a wrong number.
            let label = row_label(experiment, &row, label_width as usize - 2);
            buf.set_string(0, 0, label, theme.dim());
            let cells = row_cells(experiment, &row, span, now, columns);
            let states = row_states(experiment, &row, &cells, span, now);
            draw_cells(
                &mut buf,
                label_width,
                0,
                (&cells, &states),
                experiment,
                &experiment.plan,
                theme,
            );
            if let Some(note) = row_note(experiment, &row) {
                draw_note(&mut buf, label_width, 0, &cells, &note_forms(note), theme);
            }
            paint::sweep(&mut buf, area);
            out.push_str(&buffer_line(&buf, color));
            out.push('\n');
        }
    }
    if let Some((first, last)) = folded {
        let note = format!(
            "({first}–{last}): a thread's calls nested {first} to {last} deep, folded into one row; \
             each cell shows the deepest covering most of it (--depth {depth}; a larger N or \
             all shows more)"
        );
        for line in wrap(&note, width as usize) {
            out.push_str(&paint(&line, theme.dim(), color));
            out.push('\n');
        }
    }
    out.push_str(&legend(theme, width));
    out
}

/// `text` in lines of at most `width` columns, broken between words (a word longer than a
/// line cut with `…`).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let word = shorten(word, width);
        if !line.is_empty() && display::width(&line) + 1 + display::width(&word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// What the glyphs (or colours) mean, wrapped to `width`: the chart printed without the view
/// must explain itself, as the view's help does.
fn legend(theme: Theme, width: u16) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut used = 0;
    for (look, what) in theme.legend() {
        let what = display::shorten(what, (width as usize).saturating_sub(3));
        let what = what.as_str();
        let swatch = paint(&look.glyph.to_string().repeat(2), look.style, theme.color);
        let item_width = 2 + 1 + display::width(what);
        let gap = if used == 0 { 0 } else { 2 };
        if used > 0 && used + gap + item_width > width as usize {
            out.push_str(&line);
            out.push('\n');
            line.clear();
            used = 0;
        }
        if used > 0 {
            line.push_str("  ");
            used += 2;
        }
        line.push_str(&swatch);
        line.push(' ');
        line.push_str(what);
        used += item_width;
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `process-fibo · ProcessPool · 8 workers · 8 tasks · 0.62 s` (and lanes of nested calls
/// folded, failures, and a run that was cut short).
fn title(timeline: &Timeline, e: &Experiment, now: Timestamp, rows: &Rows) -> String {
    let plan = &e.plan;
    let lanes = rows.len();
    let mut parts = vec![plan.name.clone()];
    if plan.executor != crate::model::plan::ExecutorKind::Recorded {
        parts.push(plan.executor.pool_name().to_string());
    }
    let mut lanes_text = format!("{lanes} lane{}", if lanes == 1 { "" } else { "s" });
    if rows.folded > 0 {
        lanes_text.push_str(&format!(" ({} more folded)", rows.folded));
    }
    parts.push(lanes_text);
    parts.push(format!(
        "{} task{}",
        e.tasks_held(),
        if e.tasks_held() == 1 { "" } else { "s" }
    ));
    parts.push(human(e.elapsed_shown(now)));
    if e.failed() > 0 {
        parts.push(format!("✗ {} failed", e.failed()));
    }
    let unended = e.tasks_held().saturating_sub(e.ended());
    if unended > 0 && timeline.outcome().is_some() {
        parts.push(format!("{unended} did not end"));
    }
    parts.join(" · ")
}

/// One buffer row as text, trailing blanks cut, with SGR codes when `color`.
fn buffer_line(buf: &Buffer, color: bool) -> String {
    let mut line = String::new();
    let mut current = Style::new();
    let width = buf.area.width;
    let last = (0..width)
        .rev()
        .find(|&x| {
            let cell = &buf[(x, 0)];
            cell.symbol() != " " || (color && cell.bg != Color::Reset)
        })
        .map_or(0, |x| x + 1);
    let mut covered = 0;
    for x in 0..last {
        // A wide character's second column is drawn by the character itself.
        if covered > 0 {
            covered -= 1;
            continue;
        }
        let cell = &buf[(x, 0)];
        covered = cell.symbol().width().saturating_sub(1);
        let style = Style::new()
            .fg(cell.fg)
            .bg(cell.bg)
            .add_modifier(cell.modifier);
        if color && style != current {
            line.push_str(&sgr(style));
            current = style;
        }
        line.push_str(cell.symbol());
    }
    if color && current != Style::new() {
        line.push_str("\x1b[0m");
    }
    line
}

fn paint(text: &str, style: Style, color: bool) -> String {
    if color {
        format!("{}{text}\x1b[0m", sgr(style))
    } else {
        text.to_string()
    }
}

/// The escape sequence that sets `style` from scratch.
fn sgr(style: Style) -> String {
    let mut codes = vec!["0".to_string()];
    let modifier = style.add_modifier;
    for (m, code) in [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::REVERSED, "7"),
    ] {
        if modifier.contains(m) {
            codes.push(code.to_string());
        }
    }
    if let Some(fg) = style.fg.and_then(|c| color_code(c, false)) {
        codes.push(fg);
    }
    if let Some(bg) = style.bg.and_then(|c| color_code(c, true)) {
        codes.push(bg);
    }
    let mut out = String::from("\x1b[");
    let _ = write!(out, "{}m", codes.join(";"));
    out
}

fn color_code(color: Color, background: bool) -> Option<String> {
    let base = if background { 40 } else { 30 };
    let bright = if background { 100 } else { 90 };
    let named = |n: u8, light: bool| Some(format!("{}", if light { bright } else { base } + n));
    match color {
        Color::Reset => None,
        Color::Black => named(0, false),
        Color::Red => named(1, false),
        Color::Green => named(2, false),
        Color::Yellow => named(3, false),
        Color::Blue => named(4, false),
        Color::Magenta => named(5, false),
        Color::Cyan => named(6, false),
        Color::Gray => named(7, false),
        Color::DarkGray => named(0, true),
        Color::LightRed => named(1, true),
        Color::LightGreen => named(2, true),
        Color::LightYellow => named(3, true),
        Color::LightBlue => named(4, true),
        Color::LightMagenta => named(5, true),
        Color::LightCyan => named(6, true),
        Color::White => named(7, true),
        Color::Indexed(i) => Some(format!("{};5;{i}", base + 8)),
        Color::Rgb(r, g, b) => Some(format!("{};2;{r};{g};{b}", base + 8)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::TaskEventKind;
    use crate::model::plan::ExecutorKind;
    use crate::model::timeline::tests::{finished, started_experiment, task};

    fn timeline() -> Timeline {
        Timeline::from_events(&[
            started_experiment(0, ExecutorKind::Threads, 0),
            task(0, 0, 0, 0, TaskEventKind::Started),
            task(0, 0, 0, 500_000, finished(400_000)),
        ])
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = chart(&timeline(), 60, false, Depth::DEFAULT);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(
            plain.lines().next().unwrap().starts_with("thread-"),
            "{plain}"
        );
        let coloured = chart(&timeline(), 60, true, Depth::DEFAULT);
        assert!(coloured.contains("\x1b["), "{coloured}");
        assert!(
            coloured
                .lines()
                // No colour leaks past a line: its last escape is a reset.
                .all(|l| l
                    .rfind('\x1b')
                    .is_none_or(|i| l[i..].starts_with("\x1b[0m")))
        );
    }

    #[test]
    fn the_chart_ends_with_its_legend() {
        let plain = chart(&timeline(), 100, false, Depth::DEFAULT);
        for (look, what) in (Theme { color: false }).legend() {
            assert!(
                plain.contains(&format!("{}{} {what}", look.glyph, look.glyph)),
                "{plain}"
            );
        }
    }

    #[test]
    fn lines_keep_to_the_width() {
        for width in [20, 45, 200] {
            let text = chart(&timeline(), width, false, Depth::DEFAULT);
            assert!(
                text.lines().all(|l| l.chars().count() <= width as usize),
                "{text}"
            );
        }
    }
}
