//! The plan editor's box (`p`): a line per setting, the refusal if any, and the command
//! line the plan amounts to.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use crate::chart::theme::Theme;
use crate::view::editor::{Editor, FieldKind};

/// The plan editor's box: a line per setting, the refusal if any, the command line.
pub fn render(editor: &Editor, area: Rect, buf: &mut Buffer, theme: Theme) {
    let mut lines: Vec<Line> = Vec::new();
    for (i, field) in editor.fields.iter().enumerate() {
        let here = i == editor.cursor;
        let mut spans = vec![
            Span::styled(if here { "▸ " } else { "  " }, theme.key()),
            Span::styled(format!("{:<21}", field.label), theme.dim()),
        ];
        match field.kind {
            FieldKind::Choices(names) => {
                for (j, name) in names.iter().enumerate() {
                    let on = field.value.split(',').any(|v| v.trim() == *name);
                    let text = format!("[{}] {name}", if on { 'x' } else { ' ' });
                    let style = if here && j == editor.choice {
                        theme
                            .selected_border()
                            .add_modifier(ratatui::style::Modifier::REVERSED)
                    } else {
                        Style::new()
                    };
                    spans.push(Span::styled(text, style));
                    spans.push(Span::raw(" "));
                }
            }
            FieldKind::Text if field.value.is_empty() => {
                spans.push(Span::styled(format!("({})", field.default), theme.dim()));
                if here {
                    spans.push(Span::styled("▏", theme.key()));
                }
            }
            FieldKind::Text => {
                spans.push(Span::raw(field.value.clone()));
                if here {
                    spans.push(Span::styled("▏", theme.key()));
                }
            }
        }
        lines.push(Line::from(spans));
        if let Some((_, message)) = editor.error.as_ref().filter(|(f, _)| *f == i) {
            lines.push(Line::styled(format!("    ✗ {message}"), theme.bad()));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "↑↓ field · type to edit · ←→ space toggle · enter runs · esc leaves",
        theme.dim(),
    ));
    lines.push(Line::styled(editor.command_line(), theme.heading()));
    let width = area.width.min(110);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    // The cursor's line stays in view on short screens.
    let inner_height = height.saturating_sub(2) as usize;
    let cursor_line = editor.cursor
        + usize::from(
            editor
                .error
                .as_ref()
                .is_some_and(|(f, _)| *f < editor.cursor),
        );
    let scroll = cursor_line.saturating_sub(inner_height.saturating_sub(3)) as u16;
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title_top(Span::styled(" plan: the next run ", theme.heading())),
        )
        .render(popup, buf);
}
