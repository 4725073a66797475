//! The plan editor's box (`p`): a line per setting, the refusal if any, and the command
//! line the plan amounts to.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget};

use super::flow::Flow;
use crate::chart::theme::Theme;
use crate::view::editor::{Editor, FieldKind};

/// The plan editor's box: a line per setting, the refusal if any, the command line.
pub fn render(editor: &Editor, area: Rect, buf: &mut Buffer, theme: Theme) {
    let width = area.width.min(110);
    let inner = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    // The caret, and a selected value: reversed, visible with or without colour.
    let caret_style = theme.key().add_modifier(ratatui::style::Modifier::REVERSED);
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
                    spans.push(Span::styled(" ", caret_style));
                }
            }
            // The whole value selected: what is typed replaces it.
            FieldKind::Text if here && editor.selected => {
                spans.push(Span::styled(field.value.clone(), caret_style));
            }
            FieldKind::Text if here => {
                let chars: Vec<char> = field.value.chars().collect();
                let caret = editor.caret.min(chars.len());
                spans.push(Span::raw(chars[..caret].iter().collect::<String>()));
                let under = chars.get(caret).map_or(" ".to_string(), char::to_string);
                spans.push(Span::styled(under, caret_style));
                if caret < chars.len() {
                    spans.push(Span::raw(chars[caret + 1..].iter().collect::<String>()));
                }
            }
            FieldKind::Text => spans.push(Span::raw(field.value.clone())),
        }
        // A setting the plan makes no use of says so, and why (the command line's words,
        // to the first pause).
        if let Some(why) = editor.unused_why(i) {
            for span in spans.iter_mut().skip(2) {
                span.style = span.style.patch(theme.dim());
            }
            let short = why.split([',', '(']).next().unwrap_or(why).trim_end();
            let used: usize = spans.iter().map(Span::width).sum();
            let note = format!("  not used: {short}");
            let note = if used + note.chars().count() <= inner {
                note
            } else {
                "  not used".to_string()
            };
            spans.push(Span::styled(note, theme.dim()));
        }
        lines.push(Line::from(spans));
        if let Some((_, message)) = editor.error.as_ref().filter(|(f, _)| *f == i) {
            lines.extend(wrapped(&format!("✗ {message}"), inner, theme.bad(), 4));
        }
    }
    // Pinned under the fields, whole at any width: the keys, and the command line.
    let mut bottom = vec![Line::raw("")];
    let keys = [
        "↑↓ field · typing replaces · ←→ Home End Backspace Delete edit · space ticks · enter runs",
        "↑↓ field · typing replaces · ←→ Home End Backspace Delete edit · enter runs",
    ];
    let keys = keys
        .iter()
        .find(|k| k.chars().count() <= inner)
        .unwrap_or(&keys[1]);
    bottom.extend(wrapped(keys, inner, theme.dim(), 0));
    bottom.extend(wrapped(&editor.command_line(), inner, theme.heading(), 0));
    let height = (lines.len() + bottom.len() + 2).min(area.height as usize) as u16;
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title_top(Span::styled(" plan: the next run ", theme.heading()))
        .title_top(Line::styled(" esc leaves ", theme.dim()).right_aligned());
    let inside = block.inner(popup);
    block.render(popup, buf);
    let bottom_height = (bottom.len() as u16).min(inside.height.saturating_sub(1));
    let fields_area = Rect {
        height: inside.height - bottom_height,
        ..inside
    };
    // The cursor's line stays in view on short screens.
    let cursor_line = editor.cursor
        + editor
            .error
            .as_ref()
            .filter(|(f, _)| *f < editor.cursor)
            .map_or(0, |(_, m)| {
                wrapped(&format!("✗ {m}"), inner, theme.bad(), 4).len()
            });
    let scroll = cursor_line.saturating_sub(fields_area.height.saturating_sub(1) as usize) as u16;
    Paragraph::new(lines)
        .scroll((scroll, 0))
        .render(fields_area, buf);
    let skip = bottom.len() - bottom_height as usize;
    Paragraph::new(bottom.split_off(skip)).render(
        Rect {
            y: fields_area.bottom(),
            height: bottom_height,
            ..inside
        },
        buf,
    );
}

/// `text` in lines of `width` columns, words kept whole where they fit, indented `indent`.
fn wrapped(text: &str, width: usize, style: Style, indent: usize) -> Vec<Line<'static>> {
    let mut flow = Flow::new(width.saturating_sub(indent).max(1));
    for word in text.split(' ') {
        flow.push(" ", vec![Span::styled(word.to_string(), style)]);
    }
    flow.finish()
        .into_iter()
        .map(|mut line| {
            line.spans.insert(0, Span::raw(" ".repeat(indent)));
            line
        })
        .collect()
}
