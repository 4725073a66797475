//! Exports asked for from the view (`e`, `t`, `g`, `E`): what each key asks the loop to
//! write, and what the view notes once it is written (where the latest went, which run's
//! state is saved).
//!
//! The writing itself happens on the loop's threads ([`crate::tui`]); this part only says
//! what to write and takes the outcome back, so it stays free of I/O.

use std::path::PathBuf;

use super::messages::{ExportKind, Status};
use super::runs::Runs;

/// The view's record of its exports.
#[derive(Debug, Clone, Default)]
pub struct Exports {
    /// The folder of the latest successful export of anything, this run or an earlier one.
    latest: Option<PathBuf>,
}

impl Exports {
    /// The folder of the latest export, even of an earlier state or an earlier run.
    pub fn latest(&self) -> Option<&PathBuf> {
        self.latest.as_ref()
    }

    /// What the footer says while `kind` is written (`frozen_live`: the live run is shown
    /// frozen, so `e` writes more than the picture; `runs`: how many runs are kept).
    pub fn started(kind: ExportKind, frozen_live: bool, runs: usize) -> Status {
        let text = match kind {
            ExportKind::Csv if frozen_live => {
                "exporting the live data (everything collected, not the frozen picture)…".into()
            }
            ExportKind::Csv => "exporting…".into(),
            ExportKind::Trace => "writing the Chrome trace…".into(),
            ExportKind::Svg => "drawing the SVG picture…".into(),
            ExportKind::AllRuns => {
                format!("exporting {}…", crate::model::display::count(runs, "run"))
            }
        };
        Status {
            text,
            is_error: false,
        }
    }

    /// An export of the timeline at `revision` (for `E`, of every run at the revisions
    /// `written`) finished with `result` (the folder or file written, or why not): notes it
    /// in `runs` and returns what the footer says.
    pub fn finished(
        &mut self,
        kind: ExportKind,
        (revision, written): (u64, &[u64]),
        result: Result<PathBuf, String>,
        runs: &mut Runs,
    ) -> Status {
        let written_to = match result {
            Ok(written_to) => written_to,
            Err(error) => {
                return Status {
                    text: format!("export failed: {error}"),
                    is_error: true,
                };
            }
        };
        let text = match kind {
            ExportKind::Trace | ExportKind::Svg => {
                return Status {
                    text: format!("exported to {}", written_to.display()),
                    is_error: false,
                };
            }
            ExportKind::AllRuns => {
                runs.all_exported(&written_to, written);
                format!(
                    "exported {} to {}",
                    crate::model::display::count(runs.all().len(), "run"),
                    written_to.display()
                )
            }
            ExportKind::Csv => {
                runs.exported(revision, written_to.clone());
                format!("exported to {}", written_to.display())
            }
        };
        self.latest = Some(written_to);
        Status {
            text,
            is_error: false,
        }
    }
}
