//! The terminal-free model of a run: experiments, worker lanes, task spans and their
//! statistics, built by applying events one at a time.
//!
//! The timeline does not know where events come from (a live run, a file, a test), never
//! touches a terminal, and never panics on odd input: events for unknown experiments or
//! tasks are ignored, repeated events are harmless. Counters are kept up to date as events
//! arrive, so statistics cost the same for ten tasks or a hundred thousand.

use std::time::Duration;

use crate::model::clock::Timestamp;
use crate::model::event::{
    Event, GilEvent, GilEventKind, RunOutcome, SampleEvent, SamplerNotice, TaskEvent,
    TaskEventKind, WorkerId,
};
use crate::model::plan::{ExecutorKind, ExperimentPlan, WorkloadKind};

/// Everything known about a run so far.
#[derive(Debug, Clone)]
pub struct Timeline {
    cores: Option<usize>,
    started_at: Option<Timestamp>,
    finished: Option<(Timestamp, RunOutcome)>,
    planned_experiments: usize,
    experiments: Vec<Experiment>,
    latest: Option<Timestamp>,
    revision: u64,
    sampler: Option<SamplerNotice>,
    notices: Vec<String>,
}

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
    running: usize,
    succeeded: usize,
    failed: usize,
    cpu_time: Duration,
    /// Ended tasks whose CPU time was measured.
    cpu_measured: usize,
    /// Moments marked on the time axis (the isolation demo's writes), in arrival order.
    pub marks: Vec<(Timestamp, String)>,
    /// What the scheduler sampler saw, summed over the experiment's workers.
    pub sched: SchedTotals,
    /// Total time workers spent waiting for the simulated GIL (closed waits).
    gil_wait: Duration,
    /// Tasks whose events were dropped (see [`Timeline::drop_task_events`]).
    dropped_tasks: usize,
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

/// A worker's lane: its identity and the tasks it ran, in start order.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// The worker's index in its pool.
    pub worker: usize,
    /// Its latest process id (a replaced worker process gets a new one).
    pub pid: u32,
    /// Its latest thread id.
    pub tid: u32,
    /// When the worker became ready, if it said so.
    pub ready_at: Option<Timestamp>,
    /// The worker's tasks in the order they started, one compact entry each, so finding
    /// the tasks under a screen cell touches a few cache lines, not scattered task records.
    /// A worker runs one task at a time, so entries are sorted by start and by end.
    spans: Vec<LaneSpan>,
    /// How many of the lane's tasks failed.
    failed: u32,
    /// Scheduler samples of the worker's thread, in time order.
    samples: Vec<LaneSample>,
    /// CPU time sampled on this lane so far, and its value when the open task started (so
    /// a running task's CPU so far is their difference).
    sampled_cpu: Duration,
    sampled_cpu_at_task_start: Duration,
    /// Simulated-GIL waits and holds, in time order; the last may be open.
    gil: Vec<GilSpan>,
}

/// One sampling interval of a lane, in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneSample {
    /// Start of the interval.
    pub from: u64,
    /// End of the interval.
    pub to: u64,
    /// Share on a CPU.
    pub running: f32,
    /// Share waiting for a CPU.
    pub runnable: f32,
    /// Share blocked (the rest).
    pub blocked: f32,
}

/// A stretch in which a lane waited for, or held, the simulated GIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GilSpan {
    /// When it began (µs since the epoch).
    pub from: u64,
    /// When it ended, or [`LaneSpan::OPEN`].
    pub to: u64,
    /// Holding (true) or waiting (false).
    pub holding: bool,
}

/// What a worker was doing over a stretch of time: the shares of it spent in each state
/// (each 0..=1; the scheduler's three add up to the sampled share of the stretch).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StateShare {
    /// On a CPU.
    pub running: f32,
    /// Ready, waiting for a CPU.
    pub runnable: f32,
    /// Neither (sleeping, I/O, a lock).
    pub blocked: f32,
    /// Waiting for the simulated GIL (part of `blocked`, when the GIL was recorded).
    pub gil_wait: f32,
    /// Holding the simulated GIL.
    pub gil_held: f32,
}

impl StateShare {
    /// Whether any sample or GIL record covers the stretch.
    pub fn is_known(&self) -> bool {
        self.running + self.runnable + self.blocked + self.gil_wait + self.gil_held > 0.0
    }
}

/// One task in a worker's lane: which task, and when it ran, in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneSpan {
    /// Index into [`Experiment::tasks`].
    pub task: usize,
    /// When the task started.
    pub start: u64,
    /// When it ended, or [`LaneSpan::OPEN`] while it runs.
    pub end: u64,
    /// How many of the lane's earlier tasks had failed when this one started.
    failed_before: u32,
}

impl LaneSpan {
    /// The `end` of a task still running.
    pub const OPEN: u64 = u64::MAX;

    /// When it ended, if it has.
    pub fn ended(&self) -> Option<u64> {
        (self.end != Self::OPEN).then_some(self.end)
    }
}

impl Lane {
    /// The lane's tasks, in start order.
    pub fn spans(&self) -> &[LaneSpan] {
        &self.spans
    }

    /// How many of `spans()[range]` failed, in constant time: the difference of two
    /// running counts (a task still running has not failed).
    pub fn failed_in(&self, range: std::ops::Range<usize>) -> u32 {
        let failed_before = |i: usize| self.spans.get(i).map_or(self.failed, |s| s.failed_before);
        failed_before(range.end).saturating_sub(failed_before(range.start))
    }

    /// The scheduler samples of this lane, in time order.
    pub fn samples(&self) -> &[LaneSample] {
        &self.samples
    }

    /// The lane's GIL waits and holds, in time order.
    pub fn gil_spans(&self) -> &[GilSpan] {
        &self.gil
    }

    /// The shares of `[t0, t1)` (µs) the worker spent in each state, from the samples and
    /// GIL records that overlap it; an open GIL span lasts until `now`. All zero where
    /// nothing was recorded. Costs two binary searches and the records inside the stretch.
    pub fn state_in(&self, t0: u64, t1: u64, now: u64) -> StateShare {
        let length = t1.saturating_sub(t0).max(1) as f32;
        let overlap = |from: u64, to: u64| to.min(t1).saturating_sub(from.max(t0)) as f32 / length;
        let mut share = StateShare::default();
        let first = self.samples.partition_point(|s| s.to <= t0);
        for s in self.samples[first..].iter().take_while(|s| s.from < t1) {
            let part = overlap(s.from, s.to);
            share.running += part * s.running;
            share.runnable += part * s.runnable;
            share.blocked += part * s.blocked;
        }
        let first = self
            .gil
            .partition_point(|g| g.to != LaneSpan::OPEN && g.to <= t0);
        for g in self.gil[first..].iter().take_while(|g| g.from < t1) {
            let to = if g.to == LaneSpan::OPEN { now } else { g.to };
            let part = overlap(g.from, to);
            if g.holding {
                share.gil_held += part;
            } else {
                share.gil_wait += part;
            }
        }
        share
    }

    /// CPU time of the task running on this lane so far, as sampled (zero when no task
    /// runs or nothing was sampled).
    pub fn open_task_cpu(&self) -> Duration {
        match self.spans.last() {
            Some(span) if span.ended().is_none() => self
                .sampled_cpu
                .saturating_sub(self.sampled_cpu_at_task_start),
            _ => Duration::ZERO,
        }
    }
}

/// "efficiency = cpu time / (2 cores × makespan)" ("1 core" with `--cpus 0`): how
/// [`Experiment::efficiency`] is computed, in words for a table's foot.
pub fn efficiency_formula(cores: usize) -> String {
    if cores == 0 {
        return "efficiency needs the cores and CPU times, which the files do not record".into();
    }
    let noun = if cores == 1 { "core" } else { "cores" };
    format!("efficiency = cpu time / ({cores} {noun} × makespan)")
}

/// The post's comparison for one workload: (threads − processes) / threads × 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Speedup {
    /// The workload compared.
    pub workload: WorkloadKind,
    /// The thread pool processes are compared with: threads, or gil.
    pub baseline: ExecutorKind,
    /// Percent by which processes beat the threads (negative: the threads were faster).
    pub percent: f64,
}

impl Speedup {
    /// "Process vs Threads Fibonacci tasks speed-up", "Process vs GIL threads HTTP Get tasks
    /// speed-up": the post's words, the GIL's in the same form.
    pub fn label(&self) -> String {
        format!(
            "Process vs {} {} tasks speed-up",
            Self::baseline_words(self.baseline),
            self.workload.speedup_label()
        )
    }

    /// "Threads", "GIL threads".
    pub fn baseline_words(baseline: ExecutorKind) -> &'static str {
        match baseline {
            ExecutorKind::Gil => "GIL threads",
            _ => "Threads",
        }
    }
}

impl Default for Timeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Self {
        // Revisions of different timelines never meet: each starts in its own 2^32 block,
        // so an export of one run cannot pass for the state of the next.
        static BLOCKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let block = BLOCKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Timeline {
            cores: None,
            started_at: None,
            finished: None,
            planned_experiments: 0,
            experiments: Vec::new(),
            latest: None,
            revision: block << 32,
            sampler: None,
            notices: Vec::new(),
        }
    }

    /// Builds a timeline from a sequence of events.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut timeline = Timeline::new();
        for event in events {
            timeline.apply(event);
        }
        timeline
    }

    /// Takes one event into account.
    pub fn apply(&mut self, event: &Event) {
        self.revision += 1;
        match event {
            Event::RunStarted {
                at,
                cores,
                experiments,
            } => {
                self.started_at = Some(*at);
                self.cores = Some(*cores);
                self.planned_experiments = *experiments;
                self.see(*at);
            }
            Event::ExperimentStarted {
                experiment,
                plan,
                at,
            } => {
                self.see(*at);
                let fresh = Experiment::new(*experiment, plan.clone(), *at);
                match self.position(*experiment) {
                    Some(i) => self.experiments[i] = fresh,
                    None => self.experiments.push(fresh),
                }
            }
            Event::WorkerStarted {
                experiment,
                worker,
                at,
            } => {
                self.see(*at);
                if let Some(e) = self.experiment_mut(*experiment) {
                    let lane = e.lane_mut(*worker);
                    lane.ready_at.get_or_insert(*at);
                }
            }
            Event::Task(task) => {
                self.see(task.at);
                if let Some(e) = self.experiment_mut(task.experiment) {
                    e.apply(task);
                }
            }
            Event::ExperimentFinished { experiment, at } => {
                self.see(*at);
                if let Some(e) = self.experiment_mut(*experiment) {
                    e.finished_at = Some(*at);
                }
            }
            Event::Sample(sample) => {
                self.see(sample.to);
                if let Some(e) = self.experiment_mut(sample.experiment) {
                    e.apply_sample(sample);
                }
            }
            Event::Gil(gil) => {
                self.see(gil.at);
                if let Some(e) = self.experiment_mut(gil.experiment) {
                    e.apply_gil(gil);
                }
            }
            Event::Sampler(notice) => {
                // "Unavailable" stays: nothing later makes sampling possible in this run.
                if !matches!(self.sampler, Some(SamplerNotice::Unavailable(_))) {
                    self.sampler = Some(notice.clone());
                }
            }
            Event::Notice { at, text } => {
                self.see(*at);
                self.notices.push(text.clone());
            }
            Event::Mark {
                experiment,
                at,
                label,
            } => {
                self.see(*at);
                if let Some(e) = self.experiment_mut(*experiment) {
                    e.marks.push((*at, label.clone()));
                }
            }
            Event::RunFinished { at, outcome } => {
                self.see(*at);
                self.finished = Some((*at, *outcome));
            }
        }
    }

    /// Forgets every task's own record, every span and sample, keeping each experiment's
    /// figures (makespan, CPU time, counts, scheduler totals): what a kept run needs for its
    /// summary when memory must be bounded. Its charts are empty after this.
    pub fn drop_task_events(&mut self) {
        self.revision += 1;
        for e in &mut self.experiments {
            e.dropped_tasks = e.tasks.len();
            e.tasks = Vec::new();
            e.by_start = Vec::new();
            for lane in &mut e.lanes {
                lane.spans = Vec::new();
                lane.samples = Vec::new();
                lane.gil = Vec::new();
            }
        }
    }

    /// What the run said the user should know, in order.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// What the scheduler sampler said about itself, if anything (unavailable here, or
    /// sampling at a widened interval).
    pub fn sampler_notice(&self) -> Option<&SamplerNotice> {
        self.sampler.as_ref()
    }

    fn see(&mut self, at: Timestamp) {
        self.latest = Some(self.latest.map_or(at, |l| l.max(at)));
    }

    fn position(&self, experiment: usize) -> Option<usize> {
        self.experiments.iter().position(|e| e.index == experiment)
    }

    /// The experiment with this index in the run, once it has started.
    pub fn experiment(&self, experiment: usize) -> Option<&Experiment> {
        Some(&self.experiments[self.position(experiment)?])
    }

    fn experiment_mut(&mut self, experiment: usize) -> Option<&mut Experiment> {
        let i = self.position(experiment)?;
        Some(&mut self.experiments[i])
    }

    /// The experiments seen so far, in the order they started.
    pub fn experiments(&self) -> &[Experiment] {
        &self.experiments
    }

    /// Which state this is: it grows with every event applied, and no two timelines share
    /// a revision, so equal revisions are the same state of the same run (so the view knows whether what it exported is still all there is).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// CPUs the run had, if it said.
    pub fn cores(&self) -> Option<usize> {
        self.cores
    }

    /// When the run started.
    pub fn started_at(&self) -> Option<Timestamp> {
        self.started_at
    }

    /// How many experiments the run announced.
    pub fn planned_experiments(&self) -> usize {
        self.planned_experiments.max(self.experiments.len())
    }

    /// How the run ended, once it has.
    pub fn outcome(&self) -> Option<RunOutcome> {
        self.finished.map(|(_, o)| o)
    }

    /// When the run ended, once it has.
    pub fn finished_at(&self) -> Option<Timestamp> {
        self.finished.map(|(at, _)| at)
    }

    /// The latest timestamp any event carried (the "now" of a recording).
    pub fn latest(&self) -> Option<Timestamp> {
        self.latest
    }

    /// The experiment currently running (started, not finished), if any.
    pub fn running_experiment(&self) -> Option<&Experiment> {
        if self.finished.is_some() {
            return None;
        }
        self.experiments
            .iter()
            .rev()
            .find(|e| e.finished_at.is_none())
    }

    /// A task's status as exported, given how far the run got.
    pub fn status_of(&self, task: &Task) -> TaskStatus {
        match (&task.state, self.finished.is_some()) {
            (TaskState::Succeeded { .. }, _) => TaskStatus::Ok,
            (TaskState::Failed { .. }, _) => TaskStatus::Error,
            (TaskState::Running | TaskState::Pending, true) => TaskStatus::Cancelled,
            (TaskState::Running, false) => TaskStatus::Running,
            (TaskState::Pending, false) => TaskStatus::Pending,
        }
    }

    /// Total failed tasks over all experiments.
    pub fn failed_tasks(&self) -> usize {
        self.experiments.iter().map(|e| e.failed).sum()
    }

    /// The post's speed-ups: for each workload run on processes and on a thread pool (both
    /// finished, each with at least one task that succeeded), the percent by which
    /// processes beat the threads, against Rust's threads first, then against GIL threads;
    /// workloads in order of appearance within each.
    pub fn speedups(&self) -> Vec<Speedup> {
        let mut speedups = Vec::new();
        for baseline in [ExecutorKind::Threads, ExecutorKind::Gil] {
            // Recordings compare within one source (a folder of CSVs, a trace file).
            let mut workloads: Vec<(WorkloadKind, Option<&str>)> = Vec::new();
            for e in &self.experiments {
                let key = (e.plan.workload, e.plan.recorded_from.as_deref());
                // The isolation demo measures no speed, only what each side sees.
                if !workloads.contains(&key)
                    && !matches!(
                        e.plan.workload,
                        WorkloadKind::Isolation | WorkloadKind::Recorded
                    )
                {
                    workloads.push(key);
                }
            }
            for (workload, source) in workloads {
                // An experiment whose every task failed measured nothing worth comparing.
                let makespan_of = |kind: ExecutorKind| {
                    self.experiments
                        .iter()
                        .find(|x| {
                            x.plan.workload == workload
                                && x.plan.executor == kind
                                && x.plan.recorded_from.as_deref() == source
                        })
                        .filter(|x| x.succeeded() > 0)
                        .and_then(Experiment::makespan)
                };
                let (Some(p), Some(t)) =
                    (makespan_of(ExecutorKind::Processes), makespan_of(baseline))
                else {
                    continue;
                };
                if t.is_zero() {
                    continue;
                }
                let percent = (t.as_secs_f64() - p.as_secs_f64()) / t.as_secs_f64() * 100.0;
                speedups.push(Speedup {
                    workload,
                    baseline,
                    percent,
                });
            }
        }
        speedups
    }
}

impl Experiment {
    fn new(index: usize, plan: ExperimentPlan, started_at: Timestamp) -> Self {
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

    fn apply_sample(&mut self, sample: &SampleEvent) {
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

    fn apply_gil(&mut self, gil: &GilEvent) {
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

    fn lane_mut(&mut self, worker: WorkerId) -> &mut Lane {
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

    fn apply(&mut self, event: &TaskEvent) {
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

    /// Parallel efficiency: CPU time / (cores × wall time), over `elapsed`.
    ///
    /// 100 % means every core was busy with tasks for the whole experiment.
    pub fn efficiency(&self, cores: usize, elapsed: Duration) -> Option<f64> {
        let denominator = cores as f64 * elapsed.as_secs_f64();
        (denominator > 0.0 && self.cpu_measured())
            .then(|| self.cpu_time().as_secs_f64() / denominator)
    }
}

/// What one task's worker was doing while the task ran, for the inspector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskDetail {
    /// Wall time, start to end (or to now).
    pub elapsed: Duration,
    /// CPU time: measured at the end, or sampled so far while it runs.
    pub cpu_time: Option<Duration>,
    /// Shares of the task's time running / waiting for a CPU / blocked, and the GIL's, if
    /// anything was recorded.
    pub states: Option<StateShare>,
    /// Time holding and waiting for the simulated GIL (gil executor only).
    pub gil: Option<(Duration, Duration)>,
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

    /// What the inspector shows about task `index` at `now`.
    pub fn task_detail(&self, index: usize, now: Timestamp) -> Option<TaskDetail> {
        let task = self.tasks.get(index)?;
        let start = task.started_at?;
        let end = task.ended_at.unwrap_or(now).max(start);
        let elapsed = end.since(start);
        let lane = self.lane_of(index);
        let share = lane
            .map(|l| {
                l.state_in(
                    start.as_micros(),
                    end.as_micros().max(start.as_micros() + 1),
                    now.as_micros(),
                )
            })
            .filter(StateShare::is_known);
        let cpu_time = task.cpu_time().or_else(|| {
            let open = lane?.open_task_cpu();
            (task.ended_at.is_none() && !open.is_zero()).then_some(open)
        });
        let gil = (self.plan.executor == ExecutorKind::Gil)
            .then(|| share.map(|s| (elapsed.mul_f32(s.gil_held), elapsed.mul_f32(s.gil_wait))))
            .flatten();
        Some(TaskDetail {
            elapsed,
            cpu_time,
            states: share,
            gil,
        })
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::plan::ExperimentPlan;

    fn tasks_of(lane: &Lane) -> Vec<usize> {
        lane.spans().iter().map(|s| s.task).collect()
    }

    pub(crate) fn worker(index: usize) -> WorkerId {
        WorkerId {
            index,
            pid: 100,
            tid: 200 + index as u32,
        }
    }

    pub(crate) fn task(
        experiment: usize,
        task: usize,
        worker_index: usize,
        at: u64,
        kind: TaskEventKind,
    ) -> Event {
        Event::Task(TaskEvent {
            experiment,
            task,
            input: 30 + task as u64,
            worker: worker(worker_index),
            at: Timestamp(at),
            kind,
        })
    }

    pub(crate) fn finished(cpu_us: u64) -> TaskEventKind {
        TaskEventKind::Finished {
            result: "ok".into(),
            cpu_time: Some(Duration::from_micros(cpu_us)),
        }
    }

    pub(crate) fn started_experiment(experiment: usize, executor: ExecutorKind, at: u64) -> Event {
        Event::ExperimentStarted {
            experiment,
            plan: ExperimentPlan::new(executor, WorkloadKind::Fib, vec![30, 31, 32], 2),
            at: Timestamp(at),
        }
    }

    #[test]
    fn tasks_move_from_pending_to_running_to_ended() {
        let mut t = Timeline::new();
        t.apply(&started_experiment(0, ExecutorKind::Threads, 1_000));
        t.apply(&task(0, 1, 0, 1_100, TaskEventKind::Started));
        let e = &t.experiments()[0];
        assert_eq!(e.running(), 1);
        assert_eq!(t.status_of(&e.tasks[1]), TaskStatus::Running);
        assert_eq!(t.status_of(&e.tasks[0]), TaskStatus::Pending);

        t.apply(&task(0, 1, 0, 1_600, finished(400)));
        let e = &t.experiments()[0];
        assert_eq!((e.running(), e.succeeded()), (0, 1));
        assert_eq!(
            e.tasks[1].elapsed(Timestamp(0)),
            Some(Duration::from_micros(500))
        );
        assert_eq!(e.lanes.len(), 1);
        assert_eq!(tasks_of(&e.lanes[0]), [1]);
        assert_eq!(e.cpu_time(), Duration::from_micros(400));
    }

    #[test]
    fn unfinished_tasks_are_cancelled_once_the_run_ends() {
        let mut t = Timeline::new();
        t.apply(&started_experiment(0, ExecutorKind::Processes, 0));
        t.apply(&task(0, 0, 0, 10, TaskEventKind::Started));
        t.apply(&Event::RunFinished {
            at: Timestamp(20),
            outcome: RunOutcome::Cancelled,
        });
        let e = &t.experiments()[0];
        assert_eq!(t.status_of(&e.tasks[0]), TaskStatus::Cancelled);
        assert_eq!(t.status_of(&e.tasks[1]), TaskStatus::Cancelled);
    }

    #[test]
    fn odd_events_are_ignored_not_fatal() {
        let mut t = Timeline::new();
        t.apply(&task(7, 0, 0, 10, TaskEventKind::Started)); // unknown experiment
        t.apply(&started_experiment(0, ExecutorKind::Threads, 0));
        t.apply(&task(0, 99, 0, 10, TaskEventKind::Started)); // unknown task
        t.apply(&task(0, 0, 0, 10, finished(5))); // end without a start
        t.apply(&task(0, 0, 0, 11, finished(5))); // repeated end
        t.apply(&task(0, 0, 0, 12, TaskEventKind::Started)); // start after the end
        let e = &t.experiments()[0];
        assert_eq!((e.succeeded(), e.running()), (1, 0));
        assert_eq!(e.tasks[0].started_at, Some(Timestamp(10)));
        assert_eq!(tasks_of(&e.lanes[0]), [0]);
    }

    #[test]
    fn lanes_are_ordered_by_worker_index() {
        let mut t = Timeline::new();
        t.apply(&started_experiment(0, ExecutorKind::Threads, 0));
        t.apply(&task(0, 0, 1, 10, TaskEventKind::Started));
        t.apply(&task(0, 1, 0, 11, TaskEventKind::Started));
        t.apply(&task(0, 2, 1, 12, TaskEventKind::Started));
        let lanes = &t.experiments()[0].lanes;
        assert_eq!(lanes.iter().map(|l| l.worker).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(tasks_of(&lanes[1]), [0, 2]);
    }

    #[test]
    fn lanes_count_failures_by_stretch() {
        let mut t = Timeline::new();
        t.apply(&started_experiment(0, ExecutorKind::Threads, 0));
        let failed = || TaskEventKind::Failed {
            error: "x".into(),
            cpu_time: None,
        };
        t.apply(&task(0, 0, 0, 1, TaskEventKind::Started));
        t.apply(&task(0, 0, 0, 2, finished(1)));
        t.apply(&task(0, 1, 0, 3, TaskEventKind::Started));
        t.apply(&task(0, 1, 0, 4, failed()));
        t.apply(&task(0, 2, 0, 5, TaskEventKind::Started));
        let lane = &t.experiments()[0].lanes[0];
        assert_eq!(lane.failed_in(0..1), 0);
        assert_eq!(lane.failed_in(0..2), 1);
        assert_eq!(
            lane.failed_in(1..3),
            1,
            "the running task counts as not failed"
        );
        assert_eq!(lane.failed_in(2..3), 0);
    }

    #[test]
    fn by_start_is_sorted_even_when_starts_arrive_out_of_order() {
        let mut t = Timeline::new();
        t.apply(&started_experiment(0, ExecutorKind::Processes, 0));
        t.apply(&task(0, 0, 0, 30, TaskEventKind::Started));
        t.apply(&task(0, 1, 1, 10, TaskEventKind::Started));
        t.apply(&task(0, 2, 2, 20, TaskEventKind::Started));
        assert_eq!(t.experiments()[0].by_start, [1, 2, 0]);
    }

    /// Experiment `index` on `executor`, from `start` to `end` (µs), with one task that
    /// succeeded or failed.
    fn one_task_experiment(
        t: &mut Timeline,
        index: usize,
        executor: ExecutorKind,
        (start, end): (u64, u64),
        succeeded: bool,
    ) {
        t.apply(&started_experiment(index, executor, start));
        t.apply(&task(index, 0, 0, start, TaskEventKind::Started));
        let ended = if succeeded {
            finished(10)
        } else {
            TaskEventKind::Failed {
                error: "refused".into(),
                cpu_time: None,
            }
        };
        t.apply(&task(index, 0, 0, end, ended));
        t.apply(&Event::ExperimentFinished {
            experiment: index,
            at: Timestamp(end),
        });
    }

    #[test]
    fn speedup_is_the_posts_formula() {
        let mut t = Timeline::new();
        one_task_experiment(&mut t, 0, ExecutorKind::Processes, (0, 1_000_000), true);
        assert!(t.speedups().is_empty(), "threads have not run yet");
        let threads = (1_000_000, 5_000_000);
        one_task_experiment(&mut t, 1, ExecutorKind::Threads, threads, true);
        let s = t.speedups();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].workload, WorkloadKind::Fib);
        assert_eq!(s[0].label(), "Process vs Threads Fibonacci tasks speed-up");
        one_task_experiment(&mut t, 2, ExecutorKind::Gil, (5_000_000, 7_000_000), true);
        let s = t.speedups();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1].label(),
            "Process vs GIL threads Fibonacci tasks speed-up"
        );
        assert!((s[1].percent - 50.0).abs() < 1e-9, "(2 - 1) / 2");
        assert!(
            (s[0].percent - 75.0).abs() < 1e-9,
            "(4 - 1) / 4 = 75 %, got {}",
            s[0].percent
        );
    }

    #[test]
    fn no_speedup_from_an_experiment_whose_tasks_all_failed() {
        let mut t = Timeline::new();
        one_task_experiment(&mut t, 0, ExecutorKind::Processes, (0, 1_000), false);
        one_task_experiment(&mut t, 1, ExecutorKind::Threads, (1_000, 9_000), true);
        assert!(t.speedups().is_empty(), "{:?}", t.speedups());
    }

    #[test]
    fn a_running_tasks_sampled_cpu_counts_so_far() {
        let mut t = Timeline::new();
        t.apply(&started_experiment(0, ExecutorKind::Processes, 0));
        t.apply(&task(0, 0, 0, 0, TaskEventKind::Started));
        for ms in 0..10u64 {
            t.apply(&Event::Sample(SampleEvent {
                experiment: 0,
                worker: worker(0),
                from: Timestamp(ms * 10_000),
                to: Timestamp((ms + 1) * 10_000),
                running: 0.5,
                runnable: 0.5,
                blocked: 0.0,
                voluntary_switches: 0,
                involuntary_switches: 3,
            }));
        }
        let e = &t.experiments()[0];
        assert_eq!(
            e.cpu_time(),
            Duration::from_millis(50),
            "half of 100 ms, so far"
        );
        assert_eq!(e.sched.cpu_wait, Duration::from_millis(50));
        assert_eq!(e.sched.involuntary_switches, 30);
        t.apply(&task(0, 0, 0, 100_000, finished(60_000)));
        assert_eq!(
            t.experiments()[0].cpu_time(),
            Duration::from_millis(60),
            "once ended, the task's own measurement"
        );
    }

    #[test]
    fn efficiency_is_cpu_over_cores_times_wall() {
        let mut t = Timeline::new();
        t.apply(&started_experiment(0, ExecutorKind::Threads, 0));
        t.apply(&task(0, 0, 0, 0, TaskEventKind::Started));
        t.apply(&task(0, 0, 0, 1_000_000, finished(1_000_000)));
        let e = &t.experiments()[0];
        let eff = e.efficiency(2, Duration::from_secs(1)).unwrap();
        assert!((eff - 0.5).abs() < 1e-9);
    }
}
