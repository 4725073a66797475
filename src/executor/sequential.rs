//! The sequential executor: one worker, the calling thread, one task after another — the
//! post's plain `for f in files: some_function(f)` loop, the baseline pools are measured
//! against.

use super::{Emitter, ExperimentOutcome, ExperimentRun, run_task_here};
use crate::clock::{self, Timestamp};
use crate::event::WorkerId;
use crate::workload::WorkloadRunner;

/// Runs every task in order on the calling thread; stops between tasks when cancelled.
pub(super) fn run(run: &ExperimentRun<'_>) -> ExperimentOutcome {
    let emitter = Emitter::new(run);
    let runner = WorkloadRunner::new(run.workload.clone());
    let worker = WorkerId {
        index: 0,
        pid: std::process::id(),
        tid: clock::current_tid(),
    };
    emitter.worker_started(worker, Timestamp::now());
    for (task, &input) in run.plan.inputs.iter().enumerate() {
        if run.cancel.is_cancelled() {
            return ExperimentOutcome::Cancelled;
        }
        run_task_here(&emitter, &runner, run.cancel, 0, task, input);
    }
    if run.cancel.is_cancelled() {
        ExperimentOutcome::Cancelled
    } else {
        ExperimentOutcome::Completed
    }
}
