//! Styles and glyphs for the live view, with and without colour (`NO_COLOR`).
//!
//! Without colour, states are told apart by glyph alone (solid, shaded, crossed), so every
//! screen stays readable on a monochrome terminal and in text captures.

use ratatui::style::{Color, Modifier, Style};

/// How one kind of cell looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// The glyph drawn where no label is.
    pub glyph: char,
    /// The glyph's style.
    pub style: Style,
    /// The style of label text written over the bar.
    pub label: Style,
}

/// Every style the widgets use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Whether colours are on.
    pub color: bool,
}

impl Theme {
    /// A finished task; `alternate` for every other task so neighbours stay apart.
    pub fn done(self, alternate: bool) -> Look {
        if self.color {
            let bg = if alternate { Color::Cyan } else { Color::Blue };
            let fg = if alternate {
                Color::Black
            } else {
                Color::White
            };
            Look {
                glyph: ' ',
                style: Style::new().bg(bg),
                label: Style::new().bg(bg).fg(fg),
            }
        } else {
            Look {
                glyph: if alternate { '▓' } else { '█' },
                style: Style::new(),
                label: Style::new().add_modifier(Modifier::REVERSED),
            }
        }
    }

    /// A task still running (its bar grows).
    pub fn running(self) -> Look {
        if self.color {
            Look {
                glyph: ' ',
                style: Style::new().bg(Color::Yellow),
                label: Style::new().bg(Color::Yellow).fg(Color::Black),
            }
        } else {
            Look {
                glyph: '▒',
                style: Style::new(),
                label: Style::new().add_modifier(Modifier::REVERSED),
            }
        }
    }

    /// A failed task.
    pub fn failed(self) -> Look {
        if self.color {
            Look {
                glyph: ' ',
                style: Style::new().bg(Color::Red),
                label: Style::new()
                    .bg(Color::Red)
                    .fg(Color::White)
                    .add_modifier(Modifier::BOLD),
            }
        } else {
            Look {
                glyph: '╳',
                style: Style::new(),
                label: Style::new().add_modifier(Modifier::BOLD),
            }
        }
    }

    /// A cell holding several tasks (too short to draw one by one).
    pub fn dense(self, any_failed: bool, any_running: bool) -> Look {
        let fg = if any_failed {
            Color::Red
        } else if any_running {
            Color::Yellow
        } else {
            Color::Cyan
        };
        Look {
            glyph: if any_failed && !self.color {
                '╳'
            } else {
                '▚'
            },
            style: self.fg(fg),
            label: self.fg(fg),
        }
    }

    /// A worker being started (before it could take a task).
    pub fn starting(self) -> Look {
        Look {
            glyph: '╌',
            style: self.fg(Color::DarkGray),
            label: self.fg(Color::DarkGray),
        }
    }

    /// A worker that was ready to run but had no CPU (a runnable thread on the run queue):
    /// inside a bar or in the gap between two.
    pub fn runnable(self) -> Look {
        if self.color {
            Look {
                glyph: ' ',
                style: Style::new().bg(Color::Magenta),
                label: Style::new().bg(Color::Magenta).fg(Color::White),
            }
        } else {
            Look {
                glyph: '┅',
                style: Style::new(),
                label: Style::new().add_modifier(Modifier::REVERSED),
            }
        }
    }

    /// Part of a task's bar where its thread was blocked (sleeping, waiting on I/O or a
    /// lock): a light shade of the task's own look.
    pub fn blocked(self, task: Look) -> Look {
        self.thin('░', task)
    }

    /// Part of a bar where the thread waited for the simulated GIL.
    pub fn gil_wait(self, task: Look) -> Look {
        self.thin('·', task)
    }

    /// Part of a bar where the thread was blocked on I/O (a watched program's thread).
    pub fn io(self, task: Look) -> Look {
        self.thin('≈', task)
    }

    /// Part of a bar where the thread slept (a timed sleep).
    pub fn sleep(self, task: Look) -> Look {
        self.thin('z', task)
    }

    /// Part of a bar where the thread waited on a lock (not the GIL).
    pub fn lock(self, task: Look) -> Look {
        self.thin('#', task)
    }

    /// A watched thread on a CPU outside any task (a program's own work, not a pool's):
    /// apart from tasks' bars in both colour and glyph.
    pub fn thread_running(self) -> Look {
        if self.color {
            Look {
                glyph: ' ',
                style: Style::new().bg(Color::Green),
                label: Style::new().bg(Color::Green).fg(Color::Black),
            }
        } else {
            Look {
                glyph: '▄',
                style: Style::new(),
                label: Style::new().add_modifier(Modifier::REVERSED),
            }
        }
    }

    /// The look a watched thread's own shades take outside tasks (grey).
    pub fn thread(self) -> Look {
        Look {
            glyph: ' ',
            style: Style::new(),
            label: Style::new(),
        }
    }

    /// Part of a bar no sample covers: what the worker did there is not known (never drawn
    /// as if it ran).
    pub fn unknown(self, task: Look) -> Look {
        self.thin('?', task)
    }

    /// A note written across a lane (`never got a task`).
    pub fn note(self) -> Style {
        self.fg(Color::DarkGray).add_modifier(Modifier::ITALIC)
    }

    /// `glyph` in the colour of `task`'s bar, on no background.
    fn thin(self, glyph: char, task: Look) -> Look {
        let color = task.style.bg.unwrap_or(Color::Gray);
        Look {
            glyph,
            style: self.fg(color),
            label: if self.color {
                Style::new().fg(color).add_modifier(Modifier::BOLD)
            } else {
                Style::new().add_modifier(Modifier::REVERSED)
            },
        }
    }

    /// Every look a chart cell can have, with what it means: the help's legend and the one
    /// under `--print`.
    pub fn legend(self) -> [(Look, &'static str); 14] {
        [
            (self.done(false), "finished task"),
            (
                self.done(true),
                "finished task after another on its lane (told apart)",
            ),
            (self.running(), "running task"),
            (self.failed(), "failed task (✗)"),
            (self.dense(false, false), "several short tasks in one cell"),
            (
                self.starting(),
                "worker starting (process spawn, pool start)",
            ),
            (self.runnable(), "waiting for a CPU (ready, none free)"),
            (
                self.blocked(self.done(false)),
                "blocked (sleep, I/O, a lock)",
            ),
            (
                self.gil_wait(self.done(false)),
                "waiting for the GIL (simulated, or CPython's in watch)",
            ),
            (
                self.io(self.done(false)),
                "watch: blocked on I/O (read, recv, poll…)",
            ),
            (self.sleep(self.done(false)), "watch: in a timed sleep"),
            (
                self.lock(self.done(false)),
                "watch: waiting on a lock (futex, not the GIL)",
            ),
            (
                self.thread_running(),
                "watch: a thread on a CPU outside any pool task",
            ),
            (
                self.unknown(self.done(false)),
                "not sampled: unknown (never drawn as running)",
            ),
        ]
    }

    /// Text that matters less (labels, axis).
    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// A heading.
    pub fn heading(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// The selected panel's border.
    pub fn selected_border(self) -> Style {
        if self.color {
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// Good news (done, exported).
    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }

    /// Bad news (failures, errors).
    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Something in progress.
    pub fn busy(self) -> Style {
        self.fg(Color::Yellow)
    }

    /// A key name in hints and help.
    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }
}
