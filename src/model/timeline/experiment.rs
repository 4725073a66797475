//! One experiment of a run: its plan, its tasks in input order, a lane per worker, and the
//! counters kept up to date as task, sample and GIL events arrive.

use std::time::Duration;

use super::lane::{GilSpan, Lane, LaneSample, LaneSpan, StateTime};
use super::texts::{TextRef, Texts};
use crate::model::clock::Timestamp;
use crate::model::event::{
    ExperimentFigures, GilEvent, GilEventKind, PoolTask, SampleEvent, TaskEvent, TaskEventKind,
    WorkerId,
};
use crate::model::plan::ExperimentPlan;

/// One experiment: its plan, its tasks in input order, and a lane per worker.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// Index of the experiment in its run.
    pub index: usize,
    /// What it runs.
    pub plan: ExperimentPlan,
    /// When it started (before any worker existed).
    pub started_at: Timestamp,
    /// When every task had ended and the workers were gone.
    pub finished_at: Option<Timestamp>,
    /// When its first lane was added (a watched process: when it was first seen; every
    /// watched panel starts at the watch's start, for one time axis).
    pub appeared_at: Option<Timestamp>,
    /// One compact record per task that has started, in input order (tasks past the end
    /// are pending): read them with [`Experiment::task`].
    records: Vec<TaskRecord>,
    /// The tasks' result and error texts.
    texts: Texts,
    /// One lane per worker that appeared, ordered by worker index.
    pub lanes: Vec<Lane>,
    /// Indices of started tasks, sorted by start time (the post's chart order).
    pub by_start: Vec<u32>,
    pub(super) running: usize,
    pub(super) succeeded: usize,
    pub(super) failed: usize,
    pub(super) cpu_time: Duration,
    /// Ended tasks whose CPU time was measured.
    pub(super) cpu_measured: usize,
    /// Moments marked on the time axis (the isolation demo's writes), in arrival order.
    pub marks: Vec<(Timestamp, String)>,
    /// What the scheduler sampler saw, summed over the experiment's workers.
    pub sched: SchedTotals,
    /// Total time workers spent waiting for the simulated GIL (closed waits, and waits
    /// given as shares of samples).
    pub(super) gil_wait: Duration,
    /// Whether any GIL hand-off or GIL share was recorded.
    pub gil_recorded: bool,
    /// Figures from outside the task and sample events (see [`ExperimentFigures`]).
    pub(super) figures: ExperimentFigures,
    /// Tasks whose events were dropped (see [`Timeline::drop_task_events`]).
    pub(super) dropped_tasks: usize,
    /// Whether they were (an experiment of no tasks has none to drop, but is dropped).
    dropped: bool,
    /// Each added task's pool and number there ([`Experiment::add_task`]), by task index.
    pools: Vec<Option<PoolTask>>,
}

/// What the scheduler sampler saw of one experiment, summed over its workers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SchedTotals {
    /// How many samples arrived.
    pub samples: usize,
    /// Time the workers were ready to run but had no CPU, in tasks or not.
    pub cpu_wait: Duration,
    /// Time the workers were on a CPU, as sampled.
    pub on_cpu: Duration,
    /// Context switches where a worker blocked by itself.
    pub voluntary_switches: u64,
    /// Context switches where the scheduler took a worker's CPU away.
    pub involuntary_switches: u64,
    /// Samples that counted their switches.
    pub switches_counted: usize,
    /// The states inside tasks: each sample's shares over the part of it a task of its
    /// lane covers, kept exact as tasks start and end and samples arrive in any order.
    pub in_tasks: StateTime,
    /// What blocked threads waited for, where that was read (`poolscope watch`).
    pub waits: WaitTotals,
}

/// Time blocked threads spent waiting on each kind of thing, summed over their samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitTotals {
    /// Blocked in all, over the samples that said what they waited for.
    pub blocked: Duration,
    /// On I/O.
    pub io: Duration,
    /// In a timed sleep.
    pub sleep: Duration,
    /// On a lock.
    pub lock: Duration,
    /// For CPython's GIL.
    pub gil: Duration,
}

impl WaitTotals {
    /// Blocked on something else (a child, a page fault, not known).
    pub fn other(&self) -> Duration {
        self.blocked
            .saturating_sub(self.io)
            .saturating_sub(self.sleep)
            .saturating_sub(self.lock)
            .saturating_sub(self.gil)
    }
}

/// One task as read from its experiment ([`Experiment::task`]): which worker ran it,
/// when, and how it ended. A view over the compact records, borrowing the texts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Task<'a> {
    /// The task's input.
    pub input: u64,
    /// The worker that ran it, once it started.
    pub worker: Option<WorkerId>,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Where it is in its life.
    pub state: TaskState<'a>,
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskState<'a> {
    /// Not started yet.
    Pending,
    /// Started, not ended.
    Running,
    /// Returned a result.
    Succeeded {
        /// The result text.
        result: &'a str,
        /// CPU time spent, if it was measured.
        cpu_time: Option<Duration>,
    },
    /// Failed.
    Failed {
        /// What went wrong.
        error: &'a str,
        /// CPU time spent, if it could be measured.
        cpu_time: Option<Duration>,
    },
}

/// One task's record, 32 bytes (a task of the old, field-per-fact form took 112 and a heap
/// allocation): where it ran (its lane and its place there, where its times are), how it
/// ended, its CPU time and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TaskRecord {
    /// The worker index of its lane.
    worker: usize,
    /// Its place in the lane's spans, or [`TaskRecord::PENDING`].
    span: u32,
    status: Status,
    /// Its result or error.
    text: TextRef,
    /// CPU time in ns, or [`TaskRecord::NO_CPU`].
    cpu_ns: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl TaskRecord {
    const PENDING_SPAN: u32 = u32::MAX;
    const NO_CPU: u64 = u64::MAX;
    const PENDING: TaskRecord = TaskRecord {
        worker: 0,
        span: Self::PENDING_SPAN,
        status: Status::Pending,
        text: TextRef::EMPTY,
        cpu_ns: Self::NO_CPU,
    };

    fn cpu_time(&self) -> Option<Duration> {
        (self.cpu_ns != Self::NO_CPU).then(|| Duration::from_nanos(self.cpu_ns))
    }
}

/// A task's status as the CSV `status` column spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// Finished with a result.
    Ok,
    /// Failed.
    Error,
    /// Started and still going (the run is live).
    Running,
    /// Not started, the run is live.
    Pending,
    /// Never ended because the run was stopped.
    Cancelled,
}

impl TaskStatus {
    /// `ok`, `error`, `running`, `pending`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Ok => "ok",
            TaskStatus::Error => "error",
            TaskStatus::Running => "running",
            TaskStatus::Pending => "pending",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

impl Experiment {
    pub(super) fn new(index: usize, plan: ExperimentPlan, started_at: Timestamp) -> Self {
        Experiment {
            index,
            plan,
            started_at,
            finished_at: None,
            appeared_at: None,
            // Grown as tasks start: a million pending tasks cost nothing until they do.
            records: Vec::new(),
            texts: Texts::default(),
            lanes: Vec::new(),
            by_start: Vec::new(),
            running: 0,
            succeeded: 0,
            failed: 0,
            cpu_time: Duration::ZERO,
            cpu_measured: 0,
            marks: Vec::new(),
            sched: SchedTotals::default(),
            gil_wait: Duration::ZERO,
            gil_recorded: false,
            figures: ExperimentFigures {
                experiment: index,
                ..ExperimentFigures::default()
            },
            dropped_tasks: 0,
            dropped: false,
            pools: Vec::new(),
        }
    }

    /// Adds task `index` called `label`, of `pool` if it came from one: a watched
    /// program's task, known only as it starts (a plan's tasks are known from the start).
    pub(super) fn add_task(&mut self, index: usize, label: &str, pool: Option<PoolTask>) {
        if self.dropped || index >= crate::model::timeline::MAX_ADDED_TASKS {
            return;
        }
        self.plan.add_task(index, label);
        if pool.is_some() || !self.pools.is_empty() {
            if self.pools.len() <= index {
                self.pools.resize(index + 1, None);
            }
            self.pools[index] = pool;
        }
    }

    /// The pool task `index` came from, and its number there, if it came from one.
    pub fn pool_of(&self, index: usize) -> Option<PoolTask> {
        self.pools.get(index).copied().flatten()
    }

    /// Takes whole-experiment figures into account: each one given replaces the last.
    pub(super) fn apply_figures(&mut self, figures: &ExperimentFigures) {
        let f = &mut self.figures;
        f.others_cpu = figures
            .others_cpu
            .filter(|x| x.is_finite())
            .or(f.others_cpu);
        f.cpu_time = figures.cpu_time.or(f.cpu_time);
        f.cpu_wait = figures.cpu_wait.or(f.cpu_wait);
        f.cpu_wait_outside_tasks = figures.cpu_wait_outside_tasks.or(f.cpu_wait_outside_tasks);
        f.voluntary_switches = figures.voluntary_switches.or(f.voluntary_switches);
        f.involuntary_switches = figures.involuntary_switches.or(f.involuntary_switches);
        f.gil_wait = figures.gil_wait.or(f.gil_wait);
    }

    pub(super) fn apply_sample(&mut self, sample: &SampleEvent) {
        let (from, to) = (sample.from.as_micros(), sample.to.as_micros());
        if to <= from {
            return;
        }
        let length = Duration::from_micros(to - from);
        let clamp = |x: f32| {
            if x.is_finite() {
                x.clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        let (running, runnable, blocked) = (
            clamp(sample.running),
            clamp(sample.runnable),
            clamp(sample.blocked),
        );
        let on_cpu = length.mul_f32(running);
        self.sched.samples += 1;
        self.sched.on_cpu += on_cpu;
        self.sched.cpu_wait += length.mul_f32(runnable);
        if let (Some(v), Some(i)) = (sample.voluntary_switches, sample.involuntary_switches) {
            self.sched.switches_counted += 1;
            self.sched.voluntary_switches += u64::from(v);
            self.sched.involuntary_switches += u64::from(i);
        }
        let gil = sample.gil.unwrap_or_default();
        let (gil_wait, gil_held) = (clamp(gil.wait), clamp(gil.held));
        if sample.gil.is_some() {
            self.gil_recorded = true;
            self.gil_wait += length.mul_f32(gil_wait);
        }
        let waits = sample.waits.map(|w| {
            // Parts of blocked, whatever a sender says.
            let mut left = blocked;
            let mut take = |x: f32| {
                let x = clamp(x).min(left);
                left -= x;
                x
            };
            (take(w.gil), take(w.io), take(w.sleep), take(w.lock))
        });
        let (gil_wait, io, sleep, lock) = match waits {
            Some((gil, io, sleep, lock)) => {
                self.gil_recorded |= gil > 0.0;
                self.gil_wait += length.mul_f32(gil);
                let w = &mut self.sched.waits;
                w.io += length.mul_f32(io);
                w.sleep += length.mul_f32(sleep);
                w.lock += length.mul_f32(lock);
                w.gil += length.mul_f32(gil);
                w.blocked += length.mul_f32(blocked);
                (gil, io, sleep, lock)
            }
            None => (gil_wait, 0.0, 0.0, 0.0),
        };
        let lane = self.lane_mut(sample.worker);
        lane.sampled_cpu += on_cpu;
        let record = LaneSample {
            from,
            to,
            running,
            runnable,
            blocked,
            gil_wait,
            gil_held,
            switches: sample.voluntary_switches.zip(sample.involuntary_switches),
            why: waits.is_some(),
            io,
            sleep,
            lock,
        };
        let in_tasks = lane.time_in_tasks(&record);
        // Samples of one thread arrive in order; an odd one out is put in its place.
        let at = lane.samples.partition_point(|s| s.from <= from);
        lane.samples.insert(at, record);
        self.sched.in_tasks = self.sched.in_tasks.plus(in_tasks, 1.0);
    }

    pub(super) fn apply_gil(&mut self, gil: &GilEvent) {
        let at = gil.at.as_micros();
        self.gil_recorded = true;
        let lane = self.lane_mut(gil.worker);
        let mut closed_wait = None;
        if let Some(open) = lane.gil.last_mut().filter(|g| g.to == LaneSpan::OPEN) {
            open.to = at.max(open.from);
            if !open.holding {
                closed_wait = Some(Duration::from_micros(open.to - open.from));
            }
        }
        match gil.kind {
            GilEventKind::Waiting => lane.gil.push(GilSpan {
                from: at,
                to: LaneSpan::OPEN,
                holding: false,
            }),
            GilEventKind::Acquired => lane.gil.push(GilSpan {
                from: at,
                to: LaneSpan::OPEN,
                holding: true,
            }),
            GilEventKind::Released => {}
        }
        self.gil_wait += closed_wait.unwrap_or_default();
    }

    /// Total time the workers waited for the simulated GIL, if known: as recorded in the
    /// run's figures, or from its hand-offs (none for other executors).
    pub fn gil_wait(&self) -> Option<Duration> {
        self.figures
            .gil_wait
            .or_else(|| self.gil_recorded.then_some(self.gil_wait))
    }

    /// Time the tasks waited for a CPU, if known: the samples' runnable share over the
    /// part of each sample its lane's tasks cover (or the run's own figure, reopened).
    /// Waits outside tasks (a worker starting, between tasks) are apart:
    /// [`Experiment::cpu_wait_outside_tasks`]. For a watched process, all its threads'
    /// waiting (they are the program's threads, not a pool's idle workers).
    pub fn cpu_wait(&self) -> Option<Duration> {
        self.figures.cpu_wait.or_else(|| {
            (self.sched.samples > 0).then(|| {
                if self.plan.is_watched() {
                    // A watched process's threads are the program's, not a pool's idle
                    // workers: all their waiting is its own (as `watch --headless` says).
                    self.sched.cpu_wait
                } else {
                    StateTime::duration(self.sched.in_tasks.runnable)
                }
            })
        })
    }

    /// Time the workers waited for a CPU outside tasks, if known.
    pub fn cpu_wait_outside_tasks(&self) -> Option<Duration> {
        self.figures.cpu_wait_outside_tasks.or_else(|| {
            (self.sched.samples > 0).then(|| {
                self.sched
                    .cpu_wait
                    .saturating_sub(StateTime::duration(self.sched.in_tasks.runnable))
            })
        })
    }

    /// The workers' (voluntary, involuntary) context switches, if counted.
    pub fn switches(&self) -> Option<(u64, u64)> {
        match (
            self.figures.voluntary_switches,
            self.figures.involuntary_switches,
        ) {
            (Some(v), Some(i)) => Some((v, i)),
            _ => (self.sched.switches_counted > 0).then_some((
                self.sched.voluntary_switches,
                self.sched.involuntary_switches,
            )),
        }
    }

    /// CPUs other processes used during the experiment, averaged, if measured.
    pub fn others_cpu(&self) -> Option<f64> {
        self.figures.others_cpu
    }

    pub(super) fn lane_mut(&mut self, worker: WorkerId) -> &mut Lane {
        let i = match self.lanes.binary_search_by_key(&worker.index, |l| l.worker) {
            Ok(i) => i,
            Err(i) => {
                self.lanes.insert(i, Lane::new(worker));
                i
            }
        };
        let lane = &mut self.lanes[i];
        lane.pid = worker.pid;
        lane.tid = worker.tid;
        lane
    }

    /// Lanes for `workers` (those not there yet), made in one go and sorted once.
    pub(super) fn add_lanes(&mut self, workers: &[WorkerId]) {
        let before = self.lanes.len();
        for worker in workers {
            if self
                .lanes
                .binary_search_by_key(&worker.index, |l| l.worker)
                .is_err()
            {
                self.lanes.push(Lane::new(*worker));
            }
        }
        if self.lanes.len() > before {
            self.lanes.sort_by_key(|l| l.worker);
            self.lanes.dedup_by_key(|l| l.worker);
        }
    }

    /// The lane of worker `index`, if it appeared.
    fn lane_by_worker(&self, index: usize) -> Option<&Lane> {
        self.lanes
            .binary_search_by_key(&index, |l| l.worker)
            .ok()
            .map(|i| &self.lanes[i])
    }

    /// When task `index` started, if it did.
    fn start_of(&self, index: usize) -> Option<u64> {
        let record = self.records.get(index)?;
        let lane = self.lane_by_worker(record.worker)?;
        lane.spans.get(record.span as usize).map(|s| s.start)
    }

    pub(super) fn apply(&mut self, event: &TaskEvent) {
        if event.task >= self.tasks_held() {
            return;
        }
        if self.records.len() <= event.task {
            self.records.resize(event.task + 1, TaskRecord::PENDING);
        }
        let record = self.records[event.task];
        if matches!(record.status, Status::Succeeded | Status::Failed) {
            return; // a task ends once; later repeats change nothing
        }
        let at = event.at.as_micros();
        if record.span == TaskRecord::PENDING_SPAN {
            let lane = self.lane_mut(event.worker);
            let failed_before = lane.failed;
            lane.sampled_cpu_at_task_start = lane.sampled_cpu;
            let span = lane.spans.len();
            let (pid, tid) = (event.worker.pid, event.worker.tid);
            if lane
                .identities
                .last()
                .is_none_or(|i| (i.pid, i.tid) != (pid, tid))
            {
                lane.identities.push(super::lane::Identity {
                    from: span as u32,
                    pid,
                    tid,
                });
            }
            // Samples that arrived before the start (they cover it) count inside from it
            // on: their split between inside and outside changes.
            let before = lane.task_time_from(at);
            lane.spans.push(LaneSpan {
                task: event.task as u32,
                failed_before,
                start: at,
                end: LaneSpan::OPEN,
            });
            let after = lane.task_time_from(at);
            self.sched.in_tasks = self.sched.in_tasks.plus(after, 1.0).plus(before, -1.0);
            let record = &mut self.records[event.task];
            record.worker = event.worker.index;
            record.span = span as u32;
            // Starts arrive nearly in time order (processes report with a little skew), so
            // the insertion point is found from the end in a step or two.
            let later = self
                .by_start
                .iter()
                .rev()
                .take_while(|&&i| self.start_of(i as usize).is_some_and(|s| s > at))
                .count();
            let position = self.by_start.len() - later;
            self.by_start.insert(position, event.task as u32);
        }
        let was_running = record.status == Status::Running;
        let (status, text, cpu_time) = match &event.kind {
            TaskEventKind::Started => {
                if !was_running {
                    self.records[event.task].status = Status::Running;
                    self.running += 1;
                }
                return;
            }
            TaskEventKind::Finished { result, cpu_time } => {
                self.succeeded += 1;
                (Status::Succeeded, result, *cpu_time)
            }
            TaskEventKind::Failed { error, cpu_time } => {
                self.failed += 1;
                (Status::Failed, error, *cpu_time)
            }
        };
        self.cpu_measured += usize::from(cpu_time.is_some());
        self.cpu_time += cpu_time.unwrap_or_default();
        self.running -= usize::from(was_running);
        let text = self.texts.add(text);
        let record = &mut self.records[event.task];
        record.status = status;
        record.text = text;
        record.cpu_ns = cpu_time.map_or(TaskRecord::NO_CPU, |c| {
            u64::try_from(c.as_nanos()).unwrap_or(TaskRecord::NO_CPU - 1)
        });
        let (worker, span) = (record.worker, record.span as usize);
        if let Ok(i) = self.lanes.binary_search_by_key(&worker, |l| l.worker) {
            let lane = &mut self.lanes[i];
            if let Some(start) = lane.spans.get(span).map(|s| s.start) {
                // Samples counted inside from its start on no longer count past its end:
                // their split between inside and outside changes.
                let end = at.max(start);
                let before = lane.task_time_from(end);
                lane.spans[span].end = end;
                let after = lane.task_time_from(end);
                self.sched.in_tasks = self.sched.in_tasks.plus(after, 1.0).plus(before, -1.0);
            }
            lane.failed += u32::from(status == Status::Failed);
        }
    }

    /// Task `index` (its input's place in the plan), while its records are kept.
    pub fn task(&self, index: usize) -> Option<Task<'_>> {
        if index >= self.tasks_held() {
            return None;
        }
        let input = self.plan.inputs[index];
        let pending = Task {
            input,
            worker: None,
            started_at: None,
            ended_at: None,
            state: TaskState::Pending,
        };
        let Some(record) = self
            .records
            .get(index)
            .filter(|r| r.span != TaskRecord::PENDING_SPAN)
        else {
            return Some(pending);
        };
        let Some((lane, span)) = self
            .lane_by_worker(record.worker)
            .and_then(|l| Some((l, *l.spans.get(record.span as usize)?)))
        else {
            return Some(pending);
        };
        let (pid, tid) = lane.identity_at(record.span as usize);
        let cpu_time = record.cpu_time();
        Some(Task {
            input,
            worker: Some(WorkerId {
                index: record.worker,
                pid,
                tid,
            }),
            started_at: Some(Timestamp(span.start)),
            ended_at: span.ended().map(Timestamp),
            state: match record.status {
                Status::Pending => TaskState::Pending,
                Status::Running => TaskState::Running,
                Status::Succeeded => TaskState::Succeeded {
                    result: self.texts.get(record.text),
                    cpu_time,
                },
                Status::Failed => TaskState::Failed {
                    error: self.texts.get(record.text),
                    cpu_time,
                },
            },
        })
    }

    /// Every task whose records are kept, in input order.
    pub fn tasks(&self) -> impl ExactSizeIterator<Item = Task<'_>> + '_ {
        (0..self.tasks_held()).map(|i| {
            self.task(i).unwrap_or(Task {
                input: 0,
                worker: None,
                started_at: None,
                ended_at: None,
                state: TaskState::Pending,
            })
        })
    }

    /// How many tasks' records are kept: every task of the plan, none once dropped
    /// ([`Experiment::task_count`] counts them all the same).
    pub fn tasks_held(&self) -> usize {
        if self.dropped {
            0
        } else {
            self.plan.inputs.len()
        }
    }

    /// Forgets every task's record and text (see [`super::Timeline::drop_task_events`]).
    pub(super) fn drop_tasks(&mut self) {
        self.dropped_tasks = self.task_count();
        self.dropped = true;
        self.records = Vec::new();
        self.texts = Texts::default();
        self.by_start = Vec::new();
        self.pools = Vec::new();
    }

    /// Start to finish, once finished.
    pub fn makespan(&self) -> Option<Duration> {
        Some(self.finished_at?.since(self.started_at))
    }

    /// Start to finish, or to `now` while it runs.
    pub fn elapsed(&self, now: Timestamp) -> Duration {
        self.finished_at.unwrap_or(now).since(self.started_at)
    }

    /// The time its panel and summary row give: [`Experiment::elapsed`], but for a watched
    /// process from when it was first seen (a pool worker that lived 0.1 s late in a watch
    /// did not last the whole watch).
    pub fn elapsed_shown(&self, now: Timestamp) -> Duration {
        match self.appeared_at.filter(|_| self.plan.is_watched()) {
            Some(seen) => self.finished_at.unwrap_or(now).since(seen),
            None => self.elapsed(now),
        }
    }

    /// CPU time of the tasks: what ended tasks measured, plus what the scheduler sampler
    /// saw running tasks spend so far (so a busy experiment does not read idle mid-run);
    /// for a reopened run, the figure it computed.
    pub fn cpu_time(&self) -> Duration {
        if self.plan.is_watched() && self.figures.cpu_time.is_none() {
            // A watched process: every thread's CPU, not only its pools' tasks'.
            return self.sched.on_cpu;
        }
        self.figures.cpu_time.unwrap_or_else(|| {
            self.cpu_time + self.lanes.iter().map(Lane::open_task_cpu).sum::<Duration>()
        })
    }

    /// Whether anything measured the tasks' CPU time (a recording without CPU times has
    /// none: its CPU and efficiency are unknown, not zero).
    pub fn cpu_measured(&self) -> bool {
        self.cpu_measured > 0 || self.sched.samples > 0 || self.figures.cpu_time.is_some()
    }

    /// How many tasks it has (also after their events were dropped).
    pub fn task_count(&self) -> usize {
        self.tasks_held().max(self.dropped_tasks)
    }

    /// Whether its task-level events were dropped to bound memory.
    pub fn events_dropped(&self) -> bool {
        self.dropped
    }

    /// How many workers started (a lane each, once ready or once it ran a task; a
    /// recording's thread of nested calls, one for all its levels): fewer than the plan
    /// asked for where the system refused some (out of descriptors, say) or the tasks ran
    /// out before the rest were ready.
    pub fn workers_started(&self) -> usize {
        let levels = &self.plan.lane_levels;
        if levels.is_empty() {
            return self.lanes.len();
        }
        // A recording's thread of nested calls is one worker, however many levels it has.
        self.lanes
            .iter()
            .filter(|l| levels.get(l.worker) == 0)
            .count()
    }

    /// `8`, or `6 of 64` where fewer workers started than planned and the experiment has
    /// ended (while it runs, workers are still starting).
    pub fn workers_text(&self) -> String {
        let (started, planned) = (self.workers_started(), self.plan.workers);
        if self.finished_at.is_some() && started != planned {
            format!("{started} of {planned}")
        } else {
            planned.to_string()
        }
    }

    /// Tasks that failed.
    pub fn failed(&self) -> usize {
        self.failed
    }

    /// Tasks that returned a result.
    pub fn succeeded(&self) -> usize {
        self.succeeded
    }

    /// Tasks started and not yet ended.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Tasks ended either way.
    pub fn ended(&self) -> usize {
        self.succeeded + self.failed
    }
}

impl Experiment {
    /// The lane of the worker that ran task `index`, once it started.
    pub fn lane_of(&self, index: usize) -> Option<&Lane> {
        let record = self
            .records
            .get(index)
            .filter(|r| r.span != TaskRecord::PENDING_SPAN)?;
        self.lane_by_worker(record.worker)
    }

    /// Task `index`'s place among its lane's tasks (0 for the first the worker ran), so
    /// neighbours in a lane can be told apart.
    pub fn position_in_lane(&self, index: usize) -> Option<usize> {
        self.lane_of(index)?;
        Some(self.records[index].span as usize)
    }
}

impl Task<'_> {
    /// Wall time from start to end (or to `now` while it runs).
    pub fn elapsed(&self, now: Timestamp) -> Option<Duration> {
        Some(self.ended_at.unwrap_or(now).since(self.started_at?))
    }

    /// CPU time, once ended and measured.
    pub fn cpu_time(&self) -> Option<Duration> {
        match &self.state {
            TaskState::Succeeded { cpu_time, .. } => *cpu_time,
            TaskState::Failed { cpu_time, .. } => *cpu_time,
            TaskState::Pending | TaskState::Running => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Event;
    use crate::model::timeline::Timeline;
    use crate::model::timeline::tests::{finished, started_experiment, task};

    #[test]
    fn a_task_costs_32_bytes_and_its_span_24() {
        assert_eq!(std::mem::size_of::<TaskRecord>(), 32);
        assert_eq!(std::mem::size_of::<LaneSpan>(), 24);
    }

    #[test]
    fn each_task_keeps_the_ids_of_the_worker_process_that_ran_it() {
        let mut t = Timeline::new();
        t.apply(&started_experiment(
            0,
            crate::model::plan::ExecutorKind::Processes,
            0,
        ));
        let run = |t: &mut Timeline, index: usize, pid: u32, at: u64| {
            for (at, kind) in [(at, TaskEventKind::Started), (at + 5, finished(1))] {
                t.apply(&Event::Task(TaskEvent {
                    experiment: 0,
                    task: index,
                    input: 30,
                    worker: WorkerId {
                        index: 0,
                        pid,
                        tid: pid + 1,
                    },
                    at: Timestamp(at),
                    kind,
                }));
            }
        };
        run(&mut t, 0, 100, 10);
        run(&mut t, 1, 100, 20);
        // The worker process died and was replaced: a new pid for the same lane.
        run(&mut t, 2, 300, 30);
        let e = &t.experiments()[0];
        let pids: Vec<u32> = e.tasks().map(|t| t.worker.unwrap().pid).collect();
        assert_eq!(pids, [100, 100, 300]);
        assert_eq!(e.lanes.len(), 1);
        assert_eq!(e.lanes[0].identities.len(), 2, "one entry per change only");
    }

    #[test]
    fn pending_tasks_cost_nothing_until_they_start() {
        let mut t = Timeline::new();
        t.apply(&Event::ExperimentStarted {
            experiment: 0,
            plan: ExperimentPlan::new(
                crate::model::plan::ExecutorKind::Threads,
                crate::model::plan::WorkloadKind::Sleep,
                vec![0; 1_000_000],
                4,
            ),
            at: Timestamp(0),
        });
        t.apply(&task(0, 3, 0, 10, TaskEventKind::Started));
        let e = &t.experiments()[0];
        assert_eq!(e.records.capacity(), 4, "records up to the task started");
        assert_eq!(e.tasks_held(), 1_000_000);
        assert_eq!(e.task(999_999).unwrap().state, TaskState::Pending);
        assert_eq!(e.task(3).unwrap().state, TaskState::Running);
        assert!(e.task(1_000_000).is_none());
    }
}
