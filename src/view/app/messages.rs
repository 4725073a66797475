//! What flows in and out of the app: the messages it takes, the effects it asks of the
//! terminal loop (the exports among them), and the footer's message.

use std::path::PathBuf;

use crossterm::event::KeyEvent;

use crate::model::event::Event;

/// Something that happened, for [`super::App::update`].
#[derive(Debug, Clone)]
pub enum Msg {
    /// A timing event of the current run.
    Event(Event),
    /// A key press.
    Key(KeyEvent),
    /// An export of the timeline at `revision` finished: where the files went, or why it
    /// failed.
    Exported {
        /// What was exported.
        kind: ExportKind,
        /// [`crate::model::timeline::Timeline::revision`] of the exported copy.
        revision: u64,
        /// For `E`: the revision of every run written, in run order (each run is saved as
        /// it was when written, not as it is when the export ends).
        written: Vec<u64>,
        /// The folder written, or the error.
        result: Result<PathBuf, String>,
    },
    /// A new run of the plan started (after `r`): forget the old one.
    RunRestarted,
    /// Recorded files are being read: the share read so far, 0..=1.
    Loading(f64),
    /// Recorded files were read: show them.
    Loaded(Box<crate::formats::Recording>),
    /// A rerun could not start (why): keep showing the last run.
    RerunFailed(String),
    /// The mouse wheel turned over a panel: scroll its rows.
    Scroll {
        /// The experiment whose panel it was over.
        experiment: usize,
        /// Rows (negative: up).
        rows: isize,
    },
    /// A mouse click landed on a panel (the UI worked out where): select the panel, and the
    /// task under the pointer if there is one.
    Select {
        /// The experiment whose panel was clicked.
        experiment: usize,
        /// The task clicked, if the click was on a bar.
        task: Option<usize>,
    },
}

/// Work the terminal loop must do on the app's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Write the current timeline's CSVs and summary.json.
    Export,
    /// Write the current timeline as a Chrome trace.
    ExportTrace,
    /// Write the current chart as an SVG picture.
    ExportSvg,
    /// Write every run kept, one folder each.
    ExportAll,
    /// Stop the current run and start the plan again.
    Rerun,
    /// Stop the run, restore the terminal, exit.
    Quit,
    /// Ctrl-C: like [`Effect::Quit`], but exit as an interrupted program does (130), as
    /// headless does and as shells expect.
    Interrupt,
}

/// A message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// What to say.
    pub text: String,
    /// Whether it reports a failure.
    pub is_error: bool,
}

impl Status {
    /// A message that reports no failure.
    pub fn info(text: impl Into<String>) -> Self {
        Status {
            text: text.into(),
            is_error: false,
        }
    }

    /// A message that reports a failure.
    pub fn error(text: impl Into<String>) -> Self {
        Status {
            text: text.into(),
            is_error: true,
        }
    }
}

/// What an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The CSVs and summary.json (`e`): the run, saved.
    Csv,
    /// A Chrome trace, `trace.json` (`t`).
    Trace,
    /// An SVG picture of the chart, `gantt.svg` (`g`).
    Svg,
    /// Every run kept, a folder each, and their statistics (`E`).
    AllRuns,
}

impl ExportKind {
    /// The export a key asks for, if it is an export key.
    pub fn of_key(key: char) -> Option<ExportKind> {
        match key {
            'e' => Some(ExportKind::Csv),
            't' => Some(ExportKind::Trace),
            'g' => Some(ExportKind::Svg),
            'E' => Some(ExportKind::AllRuns),
            _ => None,
        }
    }

    /// What the loop must do for it.
    pub fn effect(self) -> Effect {
        match self {
            ExportKind::Csv => Effect::Export,
            ExportKind::Trace => Effect::ExportTrace,
            ExportKind::Svg => Effect::ExportSvg,
            ExportKind::AllRuns => Effect::ExportAll,
        }
    }
}
