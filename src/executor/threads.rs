//! The thread executor: a rayon pool of N threads built for the experiment, tasks taken in
//! FIFO order like Python's `ThreadPoolExecutor.map`: every pool thread pulls the next input
//! from one shared queue whenever it is free.
//!
//! The pool is built when the experiment starts and dropped when it ends, so its start-up
//! counts in the makespan as the post's `with ThreadPoolExecutor(...)` did. Each pool thread
//! reports itself (WorkerStarted) from rayon's start handler, and each task reports its own
//! start and end from the thread that runs it.

use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::select;
use rayon::ThreadPoolBuilder;

use super::{Emitter, ExperimentOutcome, ExperimentRun, TaskEnd, run_task_here};
use crate::clock::{self, Timestamp};
use crate::event::{TaskEventKind, WorkerId};
use crate::workload::WorkloadRunner;

/// Runs the experiment on a fresh pool; returns at once if the run is cancelled, leaving
/// tasks already running to finish on their own (no new task starts).
pub(super) fn run(run: &ExperimentRun<'_>) -> ExperimentOutcome {
    let emitter = Emitter::new(run);
    let start_emitter = emitter.clone();
    let pool = ThreadPoolBuilder::new()
        .num_threads(run.plan.workers)
        .thread_name(|i| format!("poolscope-worker-{i}"))
        .start_handler(move |index| {
            let worker = WorkerId {
                index,
                pid: std::process::id(),
                tid: clock::current_tid(),
            };
            start_emitter.worker_started(worker, Timestamp::now());
        })
        // Tasks catch their own panics; this only keeps rayon from aborting the process if
        // something outside a task ever panics on a pool thread.
        .panic_handler(|_| {})
        .build();
    let pool = match pool {
        Ok(pool) => pool,
        Err(e) => {
            fail_all(
                run,
                &emitter,
                &format!("could not start the thread pool: {e}"),
            );
            return ExperimentOutcome::Completed;
        }
    };

    let runner = WorkloadRunner::new(run.workload.clone());
    let inputs = run.plan.inputs.clone();
    let next_task = AtomicUsize::new(0);
    let cancel = run.cancel.clone();
    let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
    let scope_thread = std::thread::Builder::new()
        .name("poolscope-threads".into())
        .spawn(move || {
            // Every pool thread pulls the next task from one shared FIFO queue (an index into
            // the inputs), as ThreadPoolExecutor's threads pull from its work queue. A
            // broadcast wakes all threads at once; jobs pushed one by one would wake them one
            // after another, a scheduler tick apart on a busy machine.
            pool.broadcast(|ctx| {
                while !cancel.is_cancelled() {
                    let task = next_task.fetch_add(1, Ordering::SeqCst);
                    let Some(&input) = inputs.get(task) else {
                        break;
                    };
                    run_task_here(&emitter, &runner, &cancel, ctx.index(), task, input);
                }
            });
            drop(pool);
            drop(done_tx);
        });
    if let Err(e) = scope_thread {
        fail_all(
            run,
            &Emitter::new(run),
            &format!("could not start a thread: {e}"),
        );
        return ExperimentOutcome::Completed;
    }
    select! {
        recv(done_rx) -> _ => ExperimentOutcome::Completed,
        recv(run.cancel.receiver()) -> _ => ExperimentOutcome::Cancelled,
    }
}

/// Reports every task as failed with `error` (the pool itself could not start).
fn fail_all(run: &ExperimentRun<'_>, emitter: &Emitter, error: &str) {
    let worker = WorkerId {
        index: 0,
        pid: std::process::id(),
        tid: clock::current_tid(),
    };
    for (task, &input) in run.plan.inputs.iter().enumerate() {
        let at = Timestamp::now();
        emitter.task(task, input, worker, at, TaskEventKind::Started);
        let end = TaskEnd {
            at,
            cpu_time: Default::default(),
            result: Err(error.to_string()),
        };
        emitter.task_ended(task, input, worker, end);
    }
}
