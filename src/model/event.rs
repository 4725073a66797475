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

use crate::model::clock::Timestamp;
use crate::model::plan::ExperimentPlan;

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
            tid: crate::model::clock::current_tid(),
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
    /// The workers an experiment's tasks ran on, known before any task (a recording read
    /// from a file): their lanes exist at once, in order, instead of appearing one by one
    /// as tasks arrive, which for a hundred thousand workers arriving out of order would
    /// cost a hundred thousand insertions into the middle. Says nothing about when they
    /// became ready.
    WorkersKnown {
        /// Index of the experiment in the run.
        experiment: usize,
        /// The workers, in any order.
        workers: Vec<WorkerId>,
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
    /// What a worker's thread was doing over a short interval, from the scheduler's own
    /// accounting (the engine's `sampler`).
    Sample(SampleEvent),
    /// A simulated-GIL worker began waiting for, took, or released the lock.
    Gil(GilEvent),
    /// Whole-experiment figures from outside the task and sample events.
    Figures(ExperimentFigures),
    /// Something about the scheduler sampler itself, said once (it cannot run here, or it
    /// widened its interval to stay cheap).
    Sampler(SamplerNotice),
    /// A moment worth marking on an experiment's time axis (the isolation demo's main
    /// thread setting X, say).
    Mark {
        /// Index of the experiment in the run.
        experiment: usize,
        /// When.
        at: Timestamp,
        /// What happened, short ("X = 2").
        label: String,
    },
    /// Something the user should know about how the run went, said once ("process-fibo
    /// runs with 80 of 400 workers: …").
    Notice {
        /// When.
        at: Timestamp,
        /// One line.
        text: String,
    },
    /// A thread of a watched process appeared (`poolscope watch`): its lane exists from now
    /// on, named as the thread calls itself (its `comm`). Unlike a pool's workers, a watched
    /// program's threads are not known in advance.
    LaneAdded {
        /// Index of the experiment (the watched process) in the run.
        experiment: usize,
        /// The thread, as a lane: `index` is its place among the process's threads.
        worker: WorkerId,
        /// What the thread calls itself.
        name: String,
        /// When it was first seen.
        at: Timestamp,
    },
    /// A watched process now runs another program (it called `exec`): its experiment's new
    /// name.
    ExperimentRenamed {
        /// Index of the experiment in the run.
        experiment: usize,
        /// The new name (pid and command line).
        name: String,
    },
    /// A task that was not in the experiment's plan: a watched program's pool task, known
    /// once it starts. Its [`TaskEvent`]s follow with this index.
    TaskAdded {
        /// Index of the experiment in the run.
        experiment: usize,
        /// The task's index in the experiment (the next one: tasks are added in order).
        task: usize,
        /// What the task reads as on its bar (the argument's `repr`).
        label: String,
        /// The pool it belongs to, and its number there, when it came from one.
        pool: Option<PoolTask>,
    },
    /// A pool of a watched program ran its first task: its tasks ([`Event::TaskAdded`]) may
    /// run in several processes (a process pool's workers).
    PoolAdded {
        /// The pool's index in the run, from 0.
        pool: usize,
        /// What it is.
        info: PoolInfo,
    },
    /// The program `poolscope watch` started has exited: the run goes on until its last
    /// process is gone, then ends.
    ProgramExited {
        /// When.
        at: Timestamp,
        /// Its exit code, if it exited.
        code: Option<i32>,
        /// The signal that killed it, if one did.
        signal: Option<i32>,
    },
    /// The run ended, completely or because it was cancelled.
    RunFinished {
        /// When it ended.
        at: Timestamp,
        /// Whether every experiment ran.
        outcome: RunOutcome,
    },
}

/// One sampling interval of one worker thread: the shares of the interval it spent on a
/// CPU, waiting for a CPU (runnable), and neither (blocked: sleeping, waiting on I/O or a
/// lock). The shares add up to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleEvent {
    /// Index of the experiment in the run.
    pub experiment: usize,
    /// The worker sampled.
    pub worker: WorkerId,
    /// Start of the interval.
    pub from: Timestamp,
    /// End of the interval.
    pub to: Timestamp,
    /// Share on a CPU, 0..=1.
    pub running: f32,
    /// Share ready to run but waiting for a CPU, 0..=1.
    pub runnable: f32,
    /// Share neither running nor runnable, 0..=1.
    pub blocked: f32,
    /// Voluntary context switches in the interval (the thread blocked), when counted.
    pub voluntary_switches: Option<u32>,
    /// Involuntary context switches in the interval (the scheduler took the CPU away), when
    /// counted.
    pub involuntary_switches: Option<u32>,
    /// Shares of the interval spent waiting for and holding the simulated GIL, where a
    /// recording gives them per interval (poolscope's samples CSV) rather than as hand-offs
    /// ([`Event::Gil`]); `None` from a live run, whose GIL is in its hand-offs.
    pub gil: Option<GilShares>,
    /// What the thread waited for while blocked, where that was read (`poolscope watch`):
    /// parts of `blocked`.
    pub waits: Option<WaitShares>,
}

/// Shares of an interval a blocked thread spent waiting on each kind of thing, from the
/// system call it slept in; each is part of the sample's `blocked` share, and what the
/// four leave of it was something else (waiting for a child, a page fault, not known).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WaitShares {
    /// Reading, writing, polling: a file, a pipe, a socket.
    pub io: f32,
    /// A timed sleep.
    pub sleep: f32,
    /// A lock, a condition, a join.
    pub lock: f32,
    /// CPython's GIL.
    pub gil: f32,
}

impl WaitShares {
    /// The four added up.
    pub fn total(&self) -> f32 {
        self.io + self.sleep + self.lock + self.gil
    }
}

/// A task's pool and its number there (from 0, in submit order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolTask {
    /// The pool's index in the run ([`Event::PoolAdded`]).
    pub pool: usize,
    /// The task's number in its pool.
    pub number: u64,
}

/// A pool of a watched program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    /// Its name in files: `thread-fib`, `process-fib-2` (kind, then the function it ran
    /// first; `-2`, `-3` for a second pool of the same kind and function).
    pub name: String,
    /// [`ExecutorKind::Threads`] or [`ExecutorKind::Processes`].
    ///
    /// [`ExecutorKind::Threads`]: crate::model::plan::ExecutorKind::Threads
    /// [`ExecutorKind::Processes`]: crate::model::plan::ExecutorKind::Processes
    pub executor: crate::model::plan::ExecutorKind,
    /// The function its first task ran.
    pub function: String,
    /// The process that made it.
    pub owner_pid: u32,
}

impl Default for PoolInfo {
    fn default() -> Self {
        PoolInfo {
            name: String::new(),
            executor: crate::model::plan::ExecutorKind::Threads,
            function: String::new(),
            owner_pid: 0,
        }
    }
}

/// Shares of an interval spent waiting for and holding the simulated GIL (the wait is part
/// of the interval's blocked share).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GilShares {
    /// Waiting for the lock, 0..=1.
    pub wait: f32,
    /// Holding it, 0..=1.
    pub held: f32,
}

/// Figures of a whole experiment that its task and sample events do not carry, or carry
/// only approximately: the CPU other processes used meanwhile (a live run measures it as
/// the experiment ends), or, for a run read back from its files, the figures the run itself
/// computed (its `summary.json`), so a reopened run reads as it did. Each is optional; one
/// that is known is what the timeline reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExperimentFigures {
    /// Index of the experiment in the run.
    pub experiment: usize,
    /// CPUs other processes used, averaged over the experiment (0.0 on a quiet machine).
    pub others_cpu: Option<f64>,
    /// The tasks' CPU time.
    pub cpu_time: Option<Duration>,
    /// Time the tasks waited for a CPU.
    pub cpu_wait: Option<Duration>,
    /// Time the workers waited for a CPU outside tasks (starting, between tasks).
    pub cpu_wait_outside_tasks: Option<Duration>,
    /// The workers' voluntary context switches.
    pub voluntary_switches: Option<u64>,
    /// The workers' involuntary context switches.
    pub involuntary_switches: Option<u64>,
    /// Time the workers waited for the simulated GIL.
    pub gil_wait: Option<Duration>,
}

/// A change in who holds a simulated GIL.
#[derive(Debug, Clone, PartialEq)]
pub struct GilEvent {
    /// Index of the experiment in the run.
    pub experiment: usize,
    /// The worker concerned.
    pub worker: WorkerId,
    /// When.
    pub at: Timestamp,
    /// What it did.
    pub kind: GilEventKind,
}

/// What a worker did with the simulated GIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GilEventKind {
    /// It asked for the lock and is waiting.
    Waiting,
    /// It holds the lock now.
    Acquired,
    /// It let go of the lock.
    Released,
}

/// Something the scheduler sampler reports about itself.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SamplerNotice {
    /// It cannot sample here; bars stay plain. Says why.
    Unavailable(String),
    /// It samples every `interval_ms`; `widened` if it lengthened its own interval to keep
    /// its cost under 1 % of a core (many workers).
    Interval {
        /// The interval now, in milliseconds.
        interval_ms: u64,
        /// Whether it was widened from the one asked for.
        widened: bool,
    },
    /// What sampling cost, said at the end of a watch: the sampler thread's CPU time over
    /// wall time, at the interval it settled on (since it last widened, its first second
    /// of start-up left out).
    Cost {
        /// Share of one core, 0..
        share: f64,
        /// The most threads sampled at once.
        threads: usize,
        /// The interval at the end, in milliseconds.
        interval_ms: u64,
        /// The interval asked for.
        asked_ms: u64,
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
        /// CPU time the worker thread spent on the task, when it was measured (a recording
        /// may not say).
        cpu_time: Option<Duration>,
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
            | Event::WorkersKnown { experiment, .. }
            | Event::ExperimentFinished { experiment, .. } => Some(*experiment),
            Event::Task(t) => Some(t.experiment),
            Event::Sample(s) => Some(s.experiment),
            Event::Gil(g) => Some(g.experiment),
            Event::Figures(f) => Some(f.experiment),
            Event::Mark { experiment, .. }
            | Event::LaneAdded { experiment, .. }
            | Event::ExperimentRenamed { experiment, .. }
            | Event::TaskAdded { experiment, .. } => Some(*experiment),
            Event::RunStarted { .. }
            | Event::PoolAdded { .. }
            | Event::ProgramExited { .. }
            | Event::RunFinished { .. }
            | Event::Sampler(_)
            | Event::Notice { .. } => None,
        }
    }
}
