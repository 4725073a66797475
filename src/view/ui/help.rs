//! The key help and the legend of shades (`?`).

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget};

use super::flow::Flow;
use crate::chart::theme::Theme;
use crate::model::display;

/// The keys, as the help overlay and the footer list them.
pub const KEYS: &[(&str, &str)] = &[
    ("e", "export CSV + summary.json"),
    ("t", "export a Chrome trace (Perfetto, chrome://tracing)"),
    ("g", "export an SVG picture of the chart"),
    ("r", "rerun the plan (live runs; earlier runs are kept)"),
    ("p", "edit the plan (every setting), then run it"),
    ("w / W", "halve / double the workers and rerun"),
    ("[ / ]", "step through the runs kept (run N/M)"),
    ("c", "compare two runs side by side"),
    ("E", "export every run kept, a folder each, + stats.json"),
    ("tab / 1-9", "select a panel (shift-tab: back)"),
    ("z / enter", "maximize the selected panel"),
    ("s", "rows: by worker / by task start"),
    ("v", "the summary in full / folded to the verdict"),
    (
        "d / D",
        "fewer / more lanes of nested calls (deeper ones fold)",
    ),
    (
        "↑↓ PgUp PgDn Home End",
        "scroll the lanes (mouse wheel too)",
    ),
    ("+ / -", "zoom the time axis (about the inspected task)"),
    ("← / →", "pan (h / l too)"),
    ("0", "fit the whole run"),
    ("f", "follow the live edge"),
    ("space", "freeze the display (collection goes on)"),
    (
        "i / click",
        "inspect a task (↑↓ lanes, ←→ tasks, esc leaves)",
    ),
    ("?", "this help"),
    (
        "q / esc / ctrl-c",
        "quit (stops the run, kills workers); esc first dismisses a message",
    ),
    (
        "watch",
        "q stops a command it started (SIGTERM, SIGKILL 2 s later), never a --pid; p then runs poolscope's own plan beside it, c compares",
    ),
];

/// How far the help can scroll on a screen of `area` (its lines past the box's height).
pub fn max_scroll(area: Rect) -> u16 {
    let (lines, _) = laid_out(area, Theme { color: false });
    let inner = area.height.saturating_sub(2);
    (lines.len() as u16).saturating_sub(inner)
}

/// The help box over `area`, scrolled by `scroll` lines.
pub fn render(area: Rect, buf: &mut Buffer, theme: Theme, scroll: u16) {
    let (lines, width) = laid_out(area, theme);
    let wrapped = lines.len();
    let height = (wrapped as u16 + 2).min(area.height);
    let scroll = scroll.min((wrapped as u16).saturating_sub(height.saturating_sub(2)));
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let hint = if (wrapped as u16) > height.saturating_sub(2) {
        " ↑↓ scroll · any key closes "
    } else {
        " any key closes "
    };
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .scroll((scroll, 0))
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title_top(Span::styled(" keys ", theme.heading()))
                .title_bottom(Line::styled(hint, theme.dim()).alignment(Alignment::Right)),
        )
        .render(popup, buf);
}

/// The help's lines, wrapped for `area`, and the box's width.
fn laid_out(area: Rect, theme: Theme) -> (Vec<Line<'static>>, u16) {
    // Narrow screens: keys above what they do, so lines wrap under the text, not the key.
    let narrow = area.width < 70;
    // Each entry: what leads it (a key, a shade), then words that wrap under themselves.
    let mut entries: Vec<(Vec<Span<'static>>, &str)> = Vec::new();
    for (key, what) in KEYS {
        if narrow {
            entries.push((vec![Span::styled(format!(" {key}"), theme.key())], ""));
            entries.push((vec![Span::raw("    ")], what));
        } else {
            entries.push((
                vec![Span::styled(format!("{key:>18}  "), theme.key())],
                what,
            ));
        }
    }
    entries.push((Vec::new(), ""));
    let margin = if narrow { 1 } else { 14 };
    for (look, what) in theme.legend() {
        entries.push((
            vec![
                Span::raw(" ".repeat(margin)),
                Span::styled(look.glyph.to_string().repeat(2), look.style),
                Span::raw("  "),
            ],
            what,
        ));
    }
    entries.push((
        vec![
            Span::raw(" ".repeat(margin.min(8))),
            Span::styled("never got a task", theme.note()),
            Span::raw("  "),
        ],
        "a worker that ran nothing (idle, blocked)",
    ));
    let natural = entries
        .iter()
        .map(|(lead, what)| lead.iter().map(Span::width).sum::<usize>() + display::width(what))
        .max()
        .unwrap_or(0);
    let width = (natural as u16 + 4).min(area.width);
    let inner_width = width.saturating_sub(2).max(1) as usize;
    let lines: Vec<Line<'static>> = entries
        .into_iter()
        .flat_map(|(lead, what)| hanging(lead, what, inner_width))
        .collect();
    (lines, width)
}

/// `lead` then `text`'s words, wrapped to `width` columns under the text's first column
/// (never back under the key or the shade), a word wider than the room split.
fn hanging(lead: Vec<Span<'static>>, text: &str, width: usize) -> Vec<Line<'static>> {
    let indent: usize = lead.iter().map(Span::width).sum();
    let room = width.saturating_sub(indent);
    if text.is_empty() || (room < 8 && indent > 2) {
        // No room beside the lead: the text goes under it, wrapped to the whole width.
        let mut lines = vec![Line::from(lead)];
        if !text.is_empty() {
            lines.extend(hanging(vec![Span::raw("  ")], text, width));
        }
        return lines;
    }
    let room = room.max(1);
    let mut flow = Flow::new(room);
    for word in text.split(' ') {
        flow.push(" ", vec![Span::raw(word.to_string())]);
    }
    flow.finish()
        .into_iter()
        .enumerate()
        .map(|(i, mut line)| {
            let head = if i == 0 {
                lead.clone()
            } else {
                vec![Span::raw(" ".repeat(indent))]
            };
            line.spans.splice(0..0, head);
            line
        })
        .collect()
}
