//! The sequential executor: one worker, the calling thread, one task after another — the
//! post's plain `for f in files: some_function(f)` loop, the baseline pools are measured
//! against. With `--cpus`, the calling thread is confined like any worker (and so are the
//! threads it starts for later experiments, to the same CPUs).

use super::{Emitter, ExperimentOutcome, ExperimentRun, TaskQueue, run_task_here, start_worker};
use crate::engine::workload::WorkloadRunner;

/// Runs every task in order on the calling thread; stops between tasks when cancelled.
pub(super) fn run(run: &ExperimentRun<'_>) -> ExperimentOutcome {
    let emitter = Emitter::new(run);
    let runner = WorkloadRunner::new(run.workload.clone());
    let me = start_worker(&emitter, run.sched, 0);
    let queue = TaskQueue::new(&run.plan.inputs, run.cancel);
    while let Some((task, input)) = queue.take() {
        run_task_here(&emitter, run.cancel, 0, (task, input), || {
            runner.run(input, run.cancel)
        });
    }
    emitter.worker_ending(me);
    if run.cancel.is_cancelled() {
        ExperimentOutcome::Cancelled
    } else {
        ExperimentOutcome::Completed
    }
}
