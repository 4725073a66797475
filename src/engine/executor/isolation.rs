//! The main side of the post's variable-isolation demo (`--workload isolation`).
//!
//! The post's snippet shows that a thread shares its process's globals while a process
//! has its own copy: the main thread sets X to 1, 2, 3 while a worker reads X three times.
//! (The snippet never calls `start()`; this runs it properly.) Here a writer thread in
//! poolscope's own process sets [`ISOLATION_X`] half a pause before each of the worker's
//! reads, and marks each write on the experiment's time axis; the worker's reads are the
//! experiment's tasks, each waiting a pause then reading X in its own process. A thread
//! (threads, gil, sequential) sees 1, 2, 3; a worker process sees its own X, still 0.

use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use super::ExperimentRun;
use crate::engine::workload::ISOLATION_X;
use crate::model::clock::Timestamp;
use crate::model::event::Event;
use crate::model::plan::ISOLATION_READS;

/// How long the worker waits before each read. The writes fall half-way between reads,
/// so a worker process that starts tens of milliseconds late still reads in between.
pub const ISOLATION_PAUSE: Duration = Duration::from_millis(200);

/// Starts the main side: X back to 0, then X = 1, 2, 3 at ½, 1½, 2½ pauses from now, each
/// marked with an [`Event::Mark`]. Stops early if the run is cancelled.
pub(super) fn start_writer(run: &ExperimentRun<'_>) -> Option<JoinHandle<()>> {
    ISOLATION_X.store(0, Ordering::SeqCst);
    let (events, cancel, experiment) = (run.events.clone(), run.cancel.clone(), run.experiment);
    std::thread::Builder::new()
        .name("poolscope-main-x".into())
        .spawn(move || {
            let start = std::time::Instant::now();
            for (i, x) in ISOLATION_READS.into_iter().enumerate() {
                let due = ISOLATION_PAUSE * (2 * i as u32 + 1) / 2;
                if cancel.sleep(due.saturating_sub(start.elapsed())) {
                    return;
                }
                ISOLATION_X.store(x, Ordering::SeqCst);
                let _ = events.send(Event::Mark {
                    experiment,
                    at: Timestamp::now(),
                    label: format!("X to {x}"),
                });
            }
        })
        .ok()
}
