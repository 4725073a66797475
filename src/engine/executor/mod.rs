//! Run one experiment's tasks on workers and emit a timing event for every task start and
//! end, as it happens.
//!
//! Three executors share one contract ([`run_experiment`]): take the tasks in input order,
//! give each to a free worker, send [`Event`]s into the run's channel from wherever the
//! work happens, and return once every task has ended or the run was cancelled.
//!
//! - [`threads`]: a pool of N threads built for the experiment, FIFO like
//!   `ThreadPoolExecutor.map`, whose idle threads block as Python's do;
//! - [`processes`]: child processes of this binary fed over pipes ([`worker`] is the child);
//! - [`sequential`]: one worker, one task after another (the post's plain loop).
//!
//! This module and the live view's input thread are the only places that start threads or
//! processes.

pub mod gil;
pub mod isolation;
pub mod processes;
pub mod sequential;
pub mod threads;
pub mod worker;

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::Sender;

use crate::engine::cancel::CancelToken;
use crate::engine::sampler::SamplerHandle;
use crate::engine::workload::Workload;
use crate::model::clock::{self, Timestamp};
use crate::model::event::{Event, GilEvent, GilEventKind, TaskEvent, TaskEventKind, WorkerId};
use crate::model::plan::{ExecutorKind, ExperimentPlan, SchedSettings};

/// Everything an executor needs to run one experiment.
#[derive(Debug, Clone)]
pub struct ExperimentRun<'a> {
    /// Index of the experiment in its run (carried by every event).
    pub experiment: usize,
    /// What to run: inputs, worker count, executor kind.
    pub plan: &'a ExperimentPlan,
    /// The workload, with its settings resolved (the embedded server's URL, say).
    pub workload: &'a Workload,
    /// Where events go. Send errors are ignored: a consumer that left does not stop a run.
    pub events: &'a Sender<Event>,
    /// Stops dispatching; process workers are killed.
    pub cancel: &'a CancelToken,
    /// The binary started as a worker process (normally this very program).
    pub worker_exe: &'a PathBuf,
    /// The switch interval of a simulated GIL, the CPUs workers are confined to.
    pub sched: &'a SchedSettings,
    /// Where workers are registered for scheduler sampling as they start.
    pub sampler: &'a SamplerHandle,
}

/// How an experiment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExperimentOutcome {
    /// Every task ended (some may have failed).
    Completed,
    /// Cancelled: tasks that had not ended are abandoned.
    Cancelled,
}

/// Runs every task of `run.plan` on its executor, streaming events; blocks until done.
pub fn run_experiment(run: &ExperimentRun<'_>) -> ExperimentOutcome {
    install_quiet_task_panics();
    // The isolation demo's main side writes X while the workers read it.
    let writer = matches!(run.workload, Workload::Isolation { .. })
        .then(|| isolation::start_writer(run))
        .flatten();
    let outcome = match run.plan.executor {
        ExecutorKind::Threads => threads::run(run),
        ExecutorKind::Processes => processes::run(run),
        ExecutorKind::Sequential => sequential::run(run),
        ExecutorKind::Gil => gil::run(run),
        // Nothing to run: the runner refuses plans read from files or watched.
        ExecutorKind::Recorded | ExecutorKind::Watched => ExperimentOutcome::Completed,
    };
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    outcome
}

/// Sends the events of one experiment, stamping each with the experiment's index.
#[derive(Debug, Clone)]
pub(crate) struct Emitter {
    experiment: usize,
    events: Sender<Event>,
    sampler: SamplerHandle,
}

impl Emitter {
    pub(crate) fn new(run: &ExperimentRun<'_>) -> Self {
        Emitter {
            experiment: run.experiment,
            events: run.events.clone(),
            sampler: run.sampler.clone(),
        }
    }

    /// Reports a worker ready to take tasks, and has the scheduler sampler watch its thread.
    pub(crate) fn worker_started(&self, worker: WorkerId, at: Timestamp) {
        self.sampler.track(self.experiment, worker);
        let _ = self.events.send(Event::WorkerStarted {
            experiment: self.experiment,
            worker,
            at,
        });
    }

    /// Reports a worker about to end (its thread exits, its process is let go): the
    /// sampler takes its last reading of it now, while it can.
    pub(crate) fn worker_ending(&self, worker: WorkerId) {
        self.sampler.finish(self.experiment, worker.index);
    }

    pub(crate) fn task(
        &self,
        task: usize,
        input: u64,
        worker: WorkerId,
        at: Timestamp,
        kind: TaskEventKind,
    ) {
        let _ = self.events.send(Event::Task(TaskEvent {
            experiment: self.experiment,
            task,
            input,
            worker,
            at,
            kind,
        }));
    }

    /// Sends the end of a task from its outcome.
    pub(crate) fn task_ended(&self, task: usize, input: u64, worker: WorkerId, end: TaskEnd) {
        let kind = match end.result {
            Ok(result) => TaskEventKind::Finished {
                result,
                cpu_time: Some(end.cpu_time),
            },
            Err(error) => TaskEventKind::Failed {
                error,
                cpu_time: Some(end.cpu_time),
            },
        };
        self.task(task, input, worker, end.at, kind);
    }
}

impl Emitter {
    /// Tells the user something about how the run goes (once: callers see to that).
    pub(crate) fn notice(&self, text: String) {
        let _ = self.events.send(Event::Notice {
            at: Timestamp::now(),
            text,
        });
    }

    /// Reports a simulated-GIL hand-off by `worker`.
    pub(crate) fn gil(&self, worker: WorkerId, kind: GilEventKind) {
        let _ = self.events.send(Event::Gil(GilEvent {
            experiment: self.experiment,
            worker,
            at: Timestamp::now(),
            kind,
        }));
    }

    /// Reports a task that never reached a worker (it could not start) as failed.
    pub(crate) fn fail_unstarted(&self, task: usize, input: u64, worker: WorkerId, error: String) {
        let at = Timestamp::now();
        self.task(task, input, worker, at, TaskEventKind::Started);
        let failed = TaskEventKind::Failed {
            error,
            cpu_time: None,
        };
        self.task(task, input, worker, at, failed);
    }
}

/// How many of the plan's workers fit under the open-files limit: all of them, or as many
/// as fit (at least one), said once in a notice. Worker processes cost their pipes; thread
/// workers only matter for http, whose connections cost descriptors.
pub(crate) fn workers_that_fit(run: &ExperimentRun<'_>, emitter: &Emitter) -> usize {
    use crate::engine::limits;
    let (per_worker, what) = match (run.plan.executor, run.workload) {
        (ExecutorKind::Processes, Workload::Http(_)) => (
            limits::DESCRIPTORS_PER_WORKER_PROCESS + limits::DESCRIPTORS_PER_HTTP_PROCESS,
            "worker processes",
        ),
        (ExecutorKind::Processes, _) => {
            (limits::DESCRIPTORS_PER_WORKER_PROCESS, "worker processes")
        }
        (_, Workload::Http(_)) => (limits::DESCRIPTORS_PER_HTTP_THREAD, "http threads"),
        _ => return run.plan.workers,
    };
    match limits::worker_budget(per_worker) {
        Some(budget) if budget < run.plan.workers => {
            let fit = budget.max(1);
            let limit = limits::open_files_limit().unwrap_or_default();
            emitter.notice(format!(
                "{} runs with {fit} of {} {what}: each needs {per_worker} file descriptors and \
                 the open-files limit is {limit} (raise it with ulimit -n)",
                run.plan.name, run.plan.workers
            ));
            fit
        }
        _ => run.plan.workers,
    }
}

/// Starts an in-process worker on the calling thread: confines it to the plan's CPUs
/// (`--cpus`), and reports it ready. Returns its identity.
pub(crate) fn start_worker(emitter: &Emitter, sched: &SchedSettings, index: usize) -> WorkerId {
    if let Some(cpus) = &sched.cpus {
        // The CPUs were checked against the allowed set when the plan was made; should the
        // kernel still refuse, the worker runs unconfined rather than not at all.
        let _ = crate::engine::cpus::confine_this_thread(cpus);
    }
    let worker = WorkerId::this_thread(index);
    emitter.worker_started(worker, Timestamp::now());
    worker
}

/// An experiment's tasks, handed out one at a time in input order to whichever worker asks
/// first: the one FIFO queue every executor pulls from, as the workers of Python's pools
/// pull from their work queue. Once the run is cancelled it hands out nothing more.
#[derive(Debug)]
pub(crate) struct TaskQueue<'a> {
    inputs: &'a [u64],
    next: AtomicUsize,
    cancel: &'a CancelToken,
}

impl<'a> TaskQueue<'a> {
    pub(crate) fn new(inputs: &'a [u64], cancel: &'a CancelToken) -> Self {
        TaskQueue {
            inputs,
            next: AtomicUsize::new(0),
            cancel,
        }
    }

    /// The next task and its input, unless none is left or the run is cancelled.
    pub(crate) fn take(&self) -> Option<(usize, u64)> {
        if self.cancel.is_cancelled() {
            return None;
        }
        let task = self.next.fetch_add(1, Ordering::SeqCst);
        self.inputs.get(task).map(|&input| (task, input))
    }

    /// Whether every task has been handed out.
    pub(crate) fn is_drained(&self) -> bool {
        self.next.load(Ordering::SeqCst) >= self.inputs.len()
    }

    /// Fails every task not handed out yet with `error` (their workers could not start).
    pub(crate) fn fail_rest(&self, emitter: &Emitter, worker: WorkerId, error: &str) {
        while let Some((task, input)) = self.take() {
            emitter.fail_unstarted(task, input, worker, error.to_string());
        }
    }
}

/// How a task ended, measured on the thread that ran it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskEnd {
    /// When it ended.
    pub at: Timestamp,
    /// CPU time of the running thread during the task.
    pub cpu_time: Duration,
    /// The result, or the error (a panic's message included).
    pub result: Result<String, String>,
}

/// Runs `work` on this thread, measuring its CPU time (with what helper threads spent on it)
/// and turning a panic into an error.
pub(crate) fn timed(work: impl FnOnce() -> Result<String, String>) -> TaskEnd {
    let cpu_before = clock::thread_cpu_time();
    crate::engine::workload::take_helper_cpu_time(); // nothing left over from another task
    IN_TASK.with(|t| t.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(work));
    IN_TASK.with(|t| t.set(false));
    // The work's own CPU, and what helper threads spent on it (an HTTP body's download).
    let cpu_time = clock::thread_cpu_time().saturating_sub(cpu_before)
        + crate::engine::workload::take_helper_cpu_time();
    let result =
        result.unwrap_or_else(|payload| Err(format!("panicked: {}", panic_message(&*payload))));
    TaskEnd {
        at: Timestamp::now(),
        cpu_time,
        result,
    }
}

/// Runs one task in this process on the calling thread: Started, `work`, then Finished or
/// Failed. Shared by the in-process executors (threads, sequential, gil).
pub(crate) fn run_task_here(
    emitter: &Emitter,
    cancel: &CancelToken,
    worker_index: usize,
    (task, input): (usize, u64),
    work: impl FnOnce() -> Result<String, String>,
) {
    let worker = WorkerId::this_thread(worker_index);
    emitter.task(
        task,
        input,
        worker,
        Timestamp::now(),
        TaskEventKind::Started,
    );
    let end = timed(work);
    if end.result.is_err() && cancel.is_cancelled() {
        // Interrupted by the cancellation itself (a sleep cut short): the task did not
        // fail, it was cancelled, which consumers infer from the missing end.
        return;
    }
    emitter.task_ended(task, input, worker, end);
}

/// The text of a panic payload (`panic!("…")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-text panic payload".to_string()
    }
}

thread_local! {
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is running a task right now.
///
/// A panic there is caught and becomes a failed task, so panic hooks (the live view's
/// terminal restore, the default message) should leave it alone.
pub fn is_running_task() -> bool {
    IN_TASK.with(|t| t.get())
}

/// Installs, once, a panic hook that stays silent for panics inside tasks (they are
/// reported as failed tasks) and defers to the previous hook for every other panic.
pub fn install_quiet_task_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !is_running_task() {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_a_task_becomes_an_error() {
        install_quiet_task_panics();
        let end = timed(|| panic!("boom at {}", 42));
        assert_eq!(end.result, Err("panicked: boom at 42".to_string()));
        assert!(!is_running_task());
    }

    #[test]
    fn the_queue_hands_out_tasks_in_input_order_until_cancelled() {
        let canceller = crate::engine::cancel::Canceller::new();
        let token = canceller.token();
        let queue = TaskQueue::new(&[7, 8, 9], &token);
        assert_eq!(queue.take(), Some((0, 7)));
        assert_eq!(queue.take(), Some((1, 8)));
        assert!(!queue.is_drained());
        canceller.cancel();
        assert_eq!(queue.take(), None, "nothing after a cancel");
    }

    #[test]
    fn timed_measures_cpu_time() {
        let end = timed(|| Ok(crate::engine::workload::fib(27).to_string()));
        assert_eq!(end.result, Ok("121393".to_string()));
        assert!(end.cpu_time > Duration::ZERO);
    }
}
