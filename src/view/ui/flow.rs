//! Text laid out in lines of a given width: words wrap, whole figures (`Fibonacci
//! 45.29%`) stay on one line, continued lines are indented. The verdict, the summary's
//! notes and the plan editor's command line are laid out with it, so their line counts are
//! known before they are drawn (the layout gives them exactly the rows they take).

use ratatui::text::{Line, Span};

use crate::model::display;

/// Lays atoms (words, whole figures) out in lines of `width` columns: a separator goes
/// between two atoms on one line and is dropped at a line's start; continued lines are
/// indented; an atom wider than a whole line is split, never dropped.
pub struct Flow {
    width: usize,
    lines: Vec<Line<'static>>,
    current: Vec<Span<'static>>,
    used: usize,
}

/// How far lines that continue one are indented.
const INDENT: usize = 2;

impl Flow {
    /// An empty flow of `width` columns.
    pub fn new(width: usize) -> Self {
        Flow {
            width,
            lines: Vec::new(),
            current: Vec::new(),
            used: 0,
        }
    }

    /// Ends the line under way, if any: what follows starts a line of its own.
    pub fn break_line(&mut self) {
        if !self.current.is_empty() {
            self.lines
                .push(Line::from(std::mem::take(&mut self.current)));
        }
        self.used = 0;
    }

    /// Starts a continued line.
    fn wrap(&mut self) {
        self.break_line();
        let indent = INDENT.min(self.width.saturating_sub(1));
        self.current.push(Span::raw(" ".repeat(indent)));
        self.used = indent;
    }

    /// Adds `atom` after `sep`, on this line if it fits, else on the next.
    pub fn push(&mut self, sep: &str, atom: Vec<Span<'static>>) {
        let atom_width: usize = atom.iter().map(Span::width).sum();
        if atom_width == 0 {
            return;
        }
        let at_start = self.current.is_empty();
        let sep_width = display::width(sep);
        if !at_start && self.used + sep_width + atom_width <= self.width {
            self.current.push(Span::raw(sep.to_string()));
            self.used += sep_width;
        } else if !at_start {
            self.wrap();
        }
        if self.used + atom_width <= self.width {
            self.used += atom_width;
            self.current.extend(atom);
            return;
        }
        // Wider than a line: character by character, over as many lines as it takes.
        for span in atom {
            for c in span.content.chars() {
                let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
                if self.used + w > self.width && self.used > 0 {
                    self.break_line();
                }
                self.current.push(Span::styled(c.to_string(), span.style));
                self.used += w;
            }
        }
    }

    /// The lines laid out.
    pub fn finish(mut self) -> Vec<Line<'static>> {
        self.break_line();
        self.lines
    }
}
