//! The sequential executor: one worker, the calling thread, one task after another — the
//! post's plain `for f in files: some_function(f)` loop, the baseline pools are measured
//! against.

use super::{Emitter, ExperimentOutcome, ExperimentRun, TaskQueue, run_task_here};
use crate::clock::Timestamp;
use crate::event::WorkerId;
use crate::workload::WorkloadRunner;

/// Runs every task in order on the calling thread; stops between tasks when cancelled.
pub(super) fn run(run: &ExperimentRun<'_>) -> ExperimentOutcome {
    let emitter = Emitter::new(run);
    let runner = WorkloadRunner::new(run.workload.clone());
    let worker = WorkerId::this_thread(0);
    emitter.worker_started(worker, Timestamp::now());
    let queue = TaskQueue::new(&run.plan.inputs, run.cancel);
    while let Some((task, input)) = queue.take() {
        run_task_here(&emitter, &runner, run.cancel, 0, task, input);
    }
    if run.cancel.is_cancelled() {
        ExperimentOutcome::Cancelled
    } else {
        ExperimentOutcome::Completed
    }
}
