//! The thread executor: a rayon pool of N threads built for the experiment, tasks taken in
//! FIFO order like Python's `ThreadPoolExecutor.map`: every pool thread pulls the next input
//! from one shared queue whenever it is free.
//!
//! The pool is built when the experiment starts and dropped when it ends, so its start-up
//! counts in the makespan as the post's `with ThreadPoolExecutor(...)` did. Each pool thread
//! reports itself (WorkerStarted) from rayon's start handler, and each task reports its own
//! start and end from the thread that runs it.

use std::time::Duration;

use crossbeam_channel::select;
use rayon::ThreadPoolBuilder;

use super::{
    Emitter, ExperimentOutcome, ExperimentRun, TaskQueue, run_task_here, start_worker,
    workers_that_fit,
};
use crate::engine::workload::WorkloadRunner;
use crate::model::event::WorkerId;

/// How long a cancelled experiment waits for its pool threads to leave their tasks. Every
/// workload stops within microseconds of a cancel (fib checks it, sleep wakes, a request
/// is abandoned), so this bound is only a safety net against a task that cannot be stopped.
const WIND_DOWN: Duration = Duration::from_secs(2);

/// Runs the experiment on a fresh pool. On cancel no new task starts, running tasks stop,
/// and it returns once the pool threads are gone (or after [`WIND_DOWN`] at the most), so
/// a rerun never shares the CPU with an abandoned task.
pub(super) fn run(run: &ExperimentRun<'_>) -> ExperimentOutcome {
    let emitter = Emitter::new(run);
    let (start_emitter, sched) = (emitter.clone(), run.sched.clone());
    let workers = workers_that_fit(run, &emitter);
    let pool = ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("poolscope-worker-{i}"))
        .start_handler(move |index| {
            start_worker(&start_emitter, &sched, index);
        })
        // Tasks catch their own panics; this only keeps rayon from aborting the process if
        // something outside a task ever panics on a pool thread.
        .panic_handler(|_| {})
        .build();
    let pool = match pool {
        Ok(pool) => pool,
        Err(e) => {
            let error = format!("could not start the thread pool: {e}");
            TaskQueue::new(&run.plan.inputs, run.cancel).fail_rest(
                &emitter,
                WorkerId::this_thread(0),
                &error,
            );
            return ExperimentOutcome::Completed;
        }
    };

    let runner = WorkloadRunner::new(run.workload.clone());
    let inputs = run.plan.inputs.clone();
    let cancel = run.cancel.clone();
    let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
    let pool_thread = std::thread::Builder::new()
        .name("poolscope-threads".into())
        .spawn(move || {
            // A broadcast wakes every pool thread at once, and each then pulls from the
            // queue; jobs pushed one by one would wake them one after another, a scheduler
            // tick apart on a busy machine.
            let queue = TaskQueue::new(&inputs, &cancel);
            pool.broadcast(|ctx| {
                while let Some((task, input)) = queue.take() {
                    run_task_here(&emitter, &cancel, ctx.index(), (task, input), || {
                        runner.run(input, &cancel)
                    });
                }
            });
            drop(pool);
            drop(done_tx);
        });
    if let Err(e) = pool_thread {
        let error = format!("could not start a thread: {e}");
        TaskQueue::new(&run.plan.inputs, run.cancel).fail_rest(
            &Emitter::new(run),
            WorkerId::this_thread(0),
            &error,
        );
        return ExperimentOutcome::Completed;
    }
    select! {
        recv(done_rx) -> _ => ExperimentOutcome::Completed,
        recv(run.cancel.receiver()) -> _ => {
            let _ = done_rx.recv_timeout(WIND_DOWN);
            ExperimentOutcome::Cancelled
        }
    }
}
