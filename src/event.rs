//! The timing events a run streams while it goes on.
//!
//! Executors send [`Event`]s into one channel; the timeline model, the headless collector
//! and the live view consume them and never poll workers. Events are plain values that say
//! everything about what happened (which experiment, which task and input, which worker,
//! when), so a consumer cannot tell a live run from events read back from a file.
//!
//! Both enums are `#[non_exhaustive]`: later kinds (scheduler samples, simulated-GIL hand
//! offs) are added without breaking consumers, which must ignore kinds they do not know.

use std::time::Duration;

use crate::clock::Timestamp;
use crate::plan::ExperimentPlan;

/// Who ran a task: the worker's index in its pool and the OS identity of the thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkerId {
    /// 0-based index of the worker in its experiment's pool (a Gantt lane).
    pub index: usize,
    /// Process id: poolscope's own for threads, a child's for processes.
    pub pid: u32,
    /// Kernel thread id of the thread that ran the task.
    pub tid: u32,
}

impl WorkerId {
    /// The calling thread of this process, as worker `index`.
    pub fn this_thread(index: usize) -> Self {
        WorkerId {
            index,
            pid: std::process::id(),
            tid: crate::clock::current_tid(),
        }
    }
}

/// One thing that happened during a run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The run began; `cores` is what parallel efficiency is measured against.
    RunStarted {
        /// When the run began.
        at: Timestamp,
        /// CPUs available to the run.
        cores: usize,
        /// How many experiments will follow, in order.
        experiments: usize,
    },
    /// An experiment began: its clock starts before any worker is created.
    ExperimentStarted {
        /// Index of the experiment in the run.
        experiment: usize,
        /// What the experiment runs.
        plan: ExperimentPlan,
        /// When it began.
        at: Timestamp,
    },
    /// A worker is ready to take tasks (a pool thread started, a child process answered).
    WorkerStarted {
        /// Index of the experiment in the run.
        experiment: usize,
        /// The worker.
        worker: WorkerId,
        /// When it became ready.
        at: Timestamp,
    },
    /// A task started, finished or failed.
    Task(TaskEvent),
    /// Every task of an experiment ended and its workers are gone.
    ExperimentFinished {
        /// Index of the experiment in the run.
        experiment: usize,
        /// When it ended.
        at: Timestamp,
    },
    /// The run ended, completely or because it was cancelled.
    RunFinished {
        /// When it ended.
        at: Timestamp,
        /// Whether every experiment ran.
        outcome: RunOutcome,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every experiment ran to the end (tasks may still have failed).
    Completed,
    /// Stopped early (Ctrl-C, quit, rerun); unfinished tasks count as cancelled.
    Cancelled,
}

/// A change in one task's life.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEvent {
    /// Index of the experiment in the run.
    pub experiment: usize,
    /// Index of the task in its experiment (the position of its input).
    pub task: usize,
    /// The task's input (fib n, or a delay in ms).
    pub input: u64,
    /// The worker that ran it.
    pub worker: WorkerId,
    /// When it happened, on the wall clock shared by all processes.
    pub at: Timestamp,
    /// What happened.
    pub kind: TaskEventKind,
}

/// What happened to a task.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TaskEventKind {
    /// The worker began the task.
    Started,
    /// The task returned a result.
    Finished {
        /// The workload's result (a Fibonacci number, an HTTP status and body, …).
        result: String,
        /// CPU time the worker thread spent on the task.
        cpu_time: Duration,
    },
    /// The task failed: an error, a panic, a timeout, or its worker process died.
    Failed {
        /// What went wrong, for the CSV `error` column and the view.
        error: String,
        /// CPU time spent, when the worker could still measure it.
        cpu_time: Option<Duration>,
    },
}

impl Event {
    /// The experiment this event belongs to, if it belongs to one.
    pub fn experiment(&self) -> Option<usize> {
        match self {
            Event::ExperimentStarted { experiment, .. }
            | Event::WorkerStarted { experiment, .. }
            | Event::ExperimentFinished { experiment, .. } => Some(*experiment),
            Event::Task(t) => Some(t.experiment),
            Event::RunStarted { .. } | Event::RunFinished { .. } => None,
        }
    }
}
