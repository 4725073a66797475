//! The key help and the legend of shades (`?`).

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use crate::chart::theme::Theme;

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
    ("q / esc / ctrl-c", "quit (stops the run, kills workers)"),
    (
        "watch",
        "q stops a command it started (SIGTERM, SIGKILL 2 s later), never a --pid; p then runs poolscope's own plan beside it, c compares",
    ),
];

/// The help box over `area`, scrolled by `scroll` lines.
pub fn render(area: Rect, buf: &mut Buffer, theme: Theme, scroll: u16) {
    // Narrow screens: keys above what they do, so lines wrap under the text, not the key.
    let narrow = area.width < 70;
    let mut lines: Vec<Line> = Vec::new();
    for (key, what) in KEYS {
        if narrow {
            lines.push(Line::styled(format!(" {key}"), theme.key()));
            lines.push(Line::raw(format!("    {what}")));
        } else {
            lines.push(Line::from(vec![
                Span::styled(format!("{key:>18}  "), theme.key()),
                Span::raw(*what),
            ]));
        }
    }
    let legend = theme.legend();
    lines.push(Line::raw(""));
    for (look, what) in legend {
        lines.push(Line::from(vec![
            Span::raw(" ".repeat(14)),
            Span::styled(look.glyph.to_string().repeat(2), look.style),
            Span::raw(format!("  {what}")),
        ]));
    }
    lines.push(Line::from(vec![
        Span::raw(" ".repeat(8)),
        Span::styled("never got a task", theme.note()),
        Span::raw("  a worker that ran nothing (idle, blocked)"),
    ]));
    let width = (lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 4).min(area.width);
    // Wrapped at this width, how tall is it?
    let inner_width = width.saturating_sub(2).max(1) as usize;
    let wrapped: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_width))
        .sum();
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
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title_top(Span::styled(" keys ", theme.heading()))
                .title_bottom(Line::styled(hint, theme.dim()).alignment(Alignment::Right)),
        )
        .render(popup, buf);
}
