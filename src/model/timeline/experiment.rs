//! One experiment of a run: its plan, its tasks in input order, a lane per worker, and the
//! counters kept up to date as task, sample and GIL events arrive.

use std::time::Duration;

use super::lane::{GilSpan, Lane, LaneSample, LaneSpan};
use crate::model::clock::Timestamp;
use crate::model::event::{
    GilEvent, GilEventKind, SampleEvent, TaskEvent, TaskEventKind, WorkerId,
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
    /// One entry per input, in input order.
    pub tasks: Vec<Task>,
    /// One lane per worker that appeared, ordered by worker index.
    pub lanes: Vec<Lane>,
    /// Indices of started tasks, sorted by start time (the post's chart order).
    pub by_start: Vec<usize>,
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
    /// Total time workers spent waiting for the simulated GIL (closed waits).
    pub(super) gil_wait: Duration,
    /// Tasks whose events were dropped (see [`Timeline::drop_task_events`]).
    pub(super) dropped_tasks: usize,
}

/// What the scheduler sampler saw of one experiment, summed over its workers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SchedTotals {
    /// How many samples arrived.
    pub samples: usize,
    /// Time the workers were ready to run but had no CPU.
    pub cpu_wait: Duration,
    /// Time the workers were on a CPU, as sampled.
    pub on_cpu: Duration,
    /// Context switches where a worker blocked by itself.
    pub voluntary_switches: u64,
    /// Context switches where the scheduler took a worker's CPU away.
    pub involuntary_switches: u64,
}

/// One task: which worker ran it, when, and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The task's input.
    pub input: u64,
    /// The worker that ran it, once it started.
    pub worker: Option<WorkerId>,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Where it is in its life.
    pub state: TaskState,
}

/// Where a task is in its life.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    /// Not started yet.
    Pending,
    /// Started, not ended.
    Running,
    /// Returned a result.
    Succeeded {
        /// The result text.
        result: String,
        /// CPU time spent, if it was measured.
        cpu_time: Option<Duration>,
    },
    /// Failed.
    Failed {
        /// What went wrong.
        error: String,
        /// CPU time spent, if it could be measured.
        cpu_time: Option<Duration>,
    },
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
        let tasks = plan
            .inputs
            .iter()
            .map(|&input| Task {
                input,
                worker: None,
                started_at: None,
                ended_at: None,
                state: TaskState::Pending,
            })
            .collect();
        Experiment {
            index,
            plan,
            started_at,
            finished_at: None,
            tasks,
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
            dropped_tasks: 0,
        }
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
        self.sched.voluntary_switches += u64::from(sample.voluntary_switches);
        self.sched.involuntary_switches += u64::from(sample.involuntary_switches);
        let lane = self.lane_mut(sample.worker);
        lane.sampled_cpu += on_cpu;
        let record = LaneSample {
            from,
            to,
            running,
            runnable,
            blocked,
        };
        // Samples of one thread arrive in order; an odd one out is put in its place.
        let at = lane.samples.partition_point(|s| s.from <= from);
        lane.samples.insert(at, record);
    }

    pub(super) fn apply_gil(&mut self, gil: &GilEvent) {
        let at = gil.at.as_micros();
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

    /// Total time the workers waited for the simulated GIL (zero for other executors).
    pub fn gil_wait(&self) -> Duration {
        self.gil_wait
    }

    pub(super) fn lane_mut(&mut self, worker: WorkerId) -> &mut Lane {
        let i = match self.lanes.binary_search_by_key(&worker.index, |l| l.worker) {
            Ok(i) => i,
            Err(i) => {
                self.lanes.insert(
                    i,
                    Lane {
                        worker: worker.index,
                        pid: worker.pid,
                        tid: worker.tid,
                        ready_at: None,
                        spans: Vec::new(),
                        failed: 0,
                        samples: Vec::new(),
                        sampled_cpu: Duration::ZERO,
                        sampled_cpu_at_task_start: Duration::ZERO,
                        gil: Vec::new(),
                    },
                );
                i
            }
        };
        let lane = &mut self.lanes[i];
        lane.pid = worker.pid;
        lane.tid = worker.tid;
        lane
    }

    pub(super) fn apply(&mut self, event: &TaskEvent) {
        let Some(task) = self.tasks.get(event.task) else {
            return;
        };
        let was_started = task.started_at.is_some();
        let was_ended = task.ended_at.is_some();
        if was_ended {
            return; // a task ends once; later repeats change nothing
        }
        if !was_started {
            let lane = self.lane_mut(event.worker);
            let failed_before = lane.failed;
            lane.sampled_cpu_at_task_start = lane.sampled_cpu;
            lane.spans.push(LaneSpan {
                task: event.task,
                start: event.at.as_micros(),
                end: LaneSpan::OPEN,
                failed_before,
            });
            // Starts arrive nearly in time order (processes report with a little skew), so
            // the insertion point is found from the end in a step or two.
            let tasks = &self.tasks;
            let at = event.at;
            let position = self.by_start.len()
                - self
                    .by_start
                    .iter()
                    .rev()
                    .take_while(|&&i| tasks[i].started_at.is_some_and(|s| s > at))
                    .count();
            self.by_start.insert(position, event.task);
        }
        let task = &mut self.tasks[event.task];
        task.worker = Some(event.worker);
        if !was_started {
            task.started_at = Some(event.at);
        }
        let was_running = matches!(task.state, TaskState::Running);
        match &event.kind {
            TaskEventKind::Started => {
                if !was_running {
                    task.state = TaskState::Running;
                    self.running += 1;
                }
            }
            TaskEventKind::Finished { result, cpu_time } => {
                task.ended_at = Some(event.at);
                task.state = TaskState::Succeeded {
                    result: result.clone(),
                    cpu_time: *cpu_time,
                };
                self.succeeded += 1;
                self.cpu_measured += usize::from(cpu_time.is_some());
                self.cpu_time += cpu_time.unwrap_or_default();
                self.running -= usize::from(was_running);
            }
            TaskEventKind::Failed { error, cpu_time } => {
                task.ended_at = Some(event.at);
                task.state = TaskState::Failed {
                    error: error.clone(),
                    cpu_time: *cpu_time,
                };
                self.failed += 1;
                self.cpu_measured += usize::from(cpu_time.is_some());
                self.cpu_time += cpu_time.unwrap_or_default();
                self.running -= usize::from(was_running);
            }
        }
        if let Some(end) = self.tasks[event.task].ended_at {
            let failed = matches!(self.tasks[event.task].state, TaskState::Failed { .. });
            let lane = self.lane_mut(event.worker);
            // The task that ends is the lane's last one, unless events came out of order.
            if let Some(span) = lane.spans.iter_mut().rev().find(|s| s.task == event.task) {
                span.end = end.as_micros().max(span.start);
                lane.failed += u32::from(failed);
            }
        }
    }

    /// Start to finish, once finished.
    pub fn makespan(&self) -> Option<Duration> {
        Some(self.finished_at?.since(self.started_at))
    }

    /// Start to finish, or to `now` while it runs.
    pub fn elapsed(&self, now: Timestamp) -> Duration {
        self.finished_at.unwrap_or(now).since(self.started_at)
    }

    /// CPU time of the tasks: what ended tasks measured, plus what the scheduler sampler
    /// saw running tasks spend so far (so a busy experiment does not read idle mid-run).
    pub fn cpu_time(&self) -> Duration {
        self.cpu_time + self.lanes.iter().map(Lane::open_task_cpu).sum::<Duration>()
    }

    /// Whether anything measured the tasks' CPU time (a recording without CPU times has
    /// none: its CPU and efficiency are unknown, not zero).
    pub fn cpu_measured(&self) -> bool {
        self.cpu_measured > 0 || self.sched.samples > 0
    }

    /// How many tasks it has (also after their events were dropped).
    pub fn task_count(&self) -> usize {
        self.tasks.len().max(self.dropped_tasks)
    }

    /// Whether its task-level events were dropped to bound memory.
    pub fn events_dropped(&self) -> bool {
        self.dropped_tasks > 0
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
        let worker = self.tasks.get(index)?.worker?;
        self.lanes
            .binary_search_by_key(&worker.index, |l| l.worker)
            .ok()
            .map(|i| &self.lanes[i])
    }

    /// Task `index`'s place among its lane's tasks (0 for the first the worker ran), so
    /// neighbours in a lane can be told apart.
    pub fn position_in_lane(&self, index: usize) -> Option<usize> {
        let lane = self.lane_of(index)?;
        let start = self.tasks[index].started_at?.as_micros();
        let spans = lane.spans();
        let from = spans.partition_point(|s| s.start < start);
        (from..spans.len())
            .take_while(|&i| spans[i].start == start)
            .find(|&i| spans[i].task == index)
    }
}

impl Task {
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
