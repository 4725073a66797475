//! The thread executor: a pool of N threads built for the experiment, tasks taken in FIFO
//! order like Python's `ThreadPoolExecutor.map`: every pool thread pulls the next input
//! from one shared queue whenever it is free.
//!
//! Idle threads block, as a `ThreadPoolExecutor`'s do (they sleep in `queue.get()` until
//! work or shutdown comes): a thread that finds the queue empty sleeps until every task has
//! ended, then exits with the others. A rayon pool would not do: its idle threads spin and
//! yield for a while before they sleep, so with more threads than tasks on a busy CPU, the
//! ones that never get a task take turns on it, steal it from the workers and read as
//! waiting for a CPU — a cost Python's pool does not have. (rayon stays where it serves:
//! parsing recorded files in parallel.)
//!
//! The pool is built when the experiment starts and gone when it ends, so its start-up
//! counts in the makespan as the post's `with ThreadPoolExecutor(...)` did. Each thread
//! reports itself (WorkerStarted) as it starts, each task reports its own start and end
//! from the thread that runs it, and each thread has the sampler take its last reading as
//! it exits.

use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, select};

use super::{
    Emitter, ExperimentOutcome, ExperimentRun, TaskQueue, run_task_here, start_worker,
    workers_that_fit,
};
use crate::engine::cancel::CancelToken;
use crate::engine::workload::{Workload, WorkloadRunner};
use crate::model::event::WorkerId;
use crate::model::plan::SchedSettings;

/// How long a cancelled experiment waits for its pool threads to leave their tasks. Every
/// workload stops within microseconds of a cancel (fib checks it, sleep wakes, a request
/// is abandoned), so this bound is only a safety net against a task that cannot be stopped.
const WIND_DOWN: Duration = Duration::from_secs(2);

/// Runs the experiment on a fresh pool. On cancel no new task starts, running tasks stop,
/// and it returns once the pool threads are gone (or after [`WIND_DOWN`] at the most), so
/// a rerun never shares the CPU with an abandoned task.
pub(super) fn run(run: &ExperimentRun<'_>) -> ExperimentOutcome {
    let emitter = Emitter::new(run);
    let workers = workers_that_fit(run, &emitter);
    let pool = Pool {
        emitter,
        inputs: run.plan.inputs.clone(),
        workload: run.workload.clone(),
        sched: run.sched.clone(),
        cancel: run.cancel.clone(),
    };
    let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
    // The pool lives on a thread of its own, so a cancel can stop waiting for it.
    let pool_thread = std::thread::Builder::new()
        .name("poolscope-threads".into())
        .spawn(move || {
            pool.run(workers);
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

/// What the pool's threads share, owned, so the pool can outlive a cancelled experiment's
/// wait for it.
struct Pool {
    emitter: Emitter,
    inputs: Vec<u64>,
    workload: Workload,
    sched: SchedSettings,
    cancel: CancelToken,
}

impl Pool {
    /// Starts `workers` threads and returns once they have all exited.
    fn run(&self, workers: usize) {
        let queue = TaskQueue::new(&self.inputs, &self.cancel);
        // Every thread holds a sender while it may still run a task; once the last one
        // drops its own, the receiver disconnects and wakes every idle thread at once.
        let (busy_tx, busy_rx) = crossbeam_channel::bounded::<()>(0);
        // Threads started one by one would start computing one by one, each a scheduler
        // tick after the last on a busy machine while the thread starting them waits for a
        // CPU: the pool is built first, its threads asleep at the gate, then let go at once.
        let (go_tx, go_rx) = crossbeam_channel::bounded::<()>(0);
        std::thread::scope(|scope| {
            for index in 0..workers {
                let (queue, busy_tx, busy_rx) = (&queue, busy_tx.clone(), busy_rx.clone());
                let go = go_rx.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("poolscope-worker-{index}"))
                    .spawn_scoped(scope, move || {
                        self.worker(index, &go, queue, busy_tx, &busy_rx)
                    });
                if let Err(e) = spawned {
                    // The threads that did start take this one's tasks; with none, fail them.
                    if index == 0 {
                        let error = format!("could not start a pool thread: {e}");
                        queue.fail_rest(&self.emitter, WorkerId::this_thread(0), &error);
                    }
                    break;
                }
            }
            drop(busy_tx);
            drop(go_tx);
        });
    }

    /// One pool thread: reports itself, waits at the gate, takes tasks until the queue is
    /// empty, then sleeps until every task has ended (or the run is cancelled), as an idle
    /// `ThreadPoolExecutor` thread sleeps in its queue until shutdown.
    fn worker(
        &self,
        index: usize,
        go: &Receiver<()>,
        queue: &TaskQueue<'_>,
        busy: Sender<()>,
        idle: &Receiver<()>,
    ) {
        let me = start_worker(&self.emitter, &self.sched, index);
        let runner = WorkloadRunner::new(self.workload.clone());
        // The gate opens (its sender is dropped) once every thread is started.
        let _ = go.recv();
        while let Some((task, input)) = queue.take() {
            run_task_here(&self.emitter, &self.cancel, index, (task, input), || {
                runner.run(input, &self.cancel)
            });
        }
        drop(busy);
        select! {
            recv(idle) -> _ => {}
            recv(self.cancel.receiver()) -> _ => {}
        }
        self.emitter.worker_ending(me);
    }
}
