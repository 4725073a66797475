//! What to run: the experiments of a run, their inputs and worker counts, and the seed's
//! defaults.
//!
//! A [`Plan`] is a plain value: the CLI builds one from flags, the live view can rerun it,
//! and later a plan editor can change it. Nothing here runs anything.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How tasks are spread over workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ExecutorKind {
    /// N child processes of this binary, fed over pipes (Python's ProcessPoolExecutor).
    Processes,
    /// A rayon pool of N threads, tasks taken in FIFO order (ThreadPoolExecutor).
    Threads,
    /// One worker running the tasks one after another (the post's plain loop).
    Sequential,
    /// N threads that must hold one global lock to run Python-like work: CPython's thread
    /// pool, GIL included (the engine's `executor::gil`).
    Gil,
    /// Read from a file (`poolscope view`): how the tasks were scheduled is not known, and
    /// nothing can run it again.
    Recorded,
    /// A process of a program `poolscope watch` watched: its lanes are its threads, its
    /// tasks its pools' tasks, and nothing can run it again.
    Watched,
}

impl ExecutorKind {
    /// Every executor, in the order `--executor` lists them.
    pub const ALL: [ExecutorKind; 4] = [
        ExecutorKind::Processes,
        ExecutorKind::Threads,
        ExecutorKind::Sequential,
        ExecutorKind::Gil,
    ];

    /// The name used on the command line and in the CSV `executor` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::Processes => "processes",
            ExecutorKind::Threads => "threads",
            ExecutorKind::Sequential => "sequential",
            ExecutorKind::Gil => "gil",
            ExecutorKind::Recorded => "recorded",
            ExecutorKind::Watched => "watched",
        }
    }

    /// The first part of an experiment name (`process-fibo`), as the post named its files.
    pub fn tag_prefix(self) -> &'static str {
        match self {
            ExecutorKind::Processes => "process",
            ExecutorKind::Threads => "thread",
            ExecutorKind::Sequential => "sequential",
            ExecutorKind::Gil => "gil",
            ExecutorKind::Recorded => "recorded",
            ExecutorKind::Watched => "watched",
        }
    }

    /// The name in the "Run experiment ProcessPool: …" line.
    pub fn pool_name(self) -> &'static str {
        match self {
            ExecutorKind::Processes => "ProcessPool",
            ExecutorKind::Threads => "ThreadPool",
            ExecutorKind::Sequential => "Sequential",
            ExecutorKind::Gil => "GilThreadPool",
            ExecutorKind::Recorded => "Recorded",
            ExecutorKind::Watched => "Watched",
        }
    }

    /// Parses a command-line name (`processes`, `threads`, `sequential`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ExecutorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one task does with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum WorkloadKind {
    /// Recursive Fibonacci of the input (CPU-bound).
    Fib,
    /// An HTTP GET that the server answers after the input in milliseconds (waits on I/O).
    Http,
    /// The worker sleeps for the input in milliseconds (waits without I/O).
    Sleep,
    /// The post's variable-isolation demo: one worker reads a global X three times while
    /// poolscope's main side sets it to 1, 2, 3 (the engine's
    /// `executor::isolation`).
    Isolation,
    /// Read from a file (`poolscope view`): tasks are known by their labels, not by an input
    /// poolscope could run.
    Recorded,
    /// A watched program's own work (`poolscope watch`): tasks are its pools' calls, known
    /// by their arguments.
    Watched,
}

impl WorkloadKind {
    /// Every workload, in the order `--workload` lists them.
    pub const ALL: [WorkloadKind; 4] = [
        WorkloadKind::Fib,
        WorkloadKind::Http,
        WorkloadKind::Sleep,
        WorkloadKind::Isolation,
    ];

    /// The name used on the command line and in the CSV `workload` column.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Fib => "fib",
            WorkloadKind::Http => "http",
            WorkloadKind::Sleep => "sleep",
            WorkloadKind::Isolation => "isolation",
            WorkloadKind::Recorded => "recorded",
            WorkloadKind::Watched => "watched",
        }
    }

    /// The last part of an experiment name (`process-fibo`, `thread-get`), as the post named
    /// its files.
    pub fn tag_suffix(self) -> &'static str {
        match self {
            WorkloadKind::Fib => "fibo",
            WorkloadKind::Http => "get",
            WorkloadKind::Sleep => "sleep",
            WorkloadKind::Isolation => "isolation",
            WorkloadKind::Recorded => "recorded",
            WorkloadKind::Watched => "watched",
        }
    }

    /// The words in the post's speed-up line ("Process vs Threads Fibonacci tasks speed-up").
    pub fn speedup_label(self) -> &'static str {
        match self {
            WorkloadKind::Fib => "Fibonacci",
            WorkloadKind::Http => "HTTP Get",
            WorkloadKind::Sleep => "Sleep",
            WorkloadKind::Isolation => "Isolation",
            WorkloadKind::Recorded => "Recorded",
            WorkloadKind::Watched => "Watched",
        }
    }

    /// How an input of this workload reads on screen: `fib 41`, `1300 ms`.
    pub fn describe_input(self, input: u64) -> String {
        match self {
            WorkloadKind::Fib => format!("fib {input}"),
            WorkloadKind::Http | WorkloadKind::Sleep => format!("{input} ms"),
            WorkloadKind::Isolation => format!("read {input}"),
            WorkloadKind::Recorded | WorkloadKind::Watched => format!("task {input}"),
        }
    }

    /// Parses a command-line name (`fib`, `http`, `sleep`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the http workload sends its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpTarget {
    /// The embedded delay server on 127.0.0.1, started for the run (no network needed).
    Embedded,
    /// A URL template containing `{ms}`, replaced by each task's delay.
    Template(String),
}

/// Settings shared by every http experiment of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Where requests go.
    pub target: HttpTarget,
    /// Connect and overall timeout of one request.
    pub timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            target: HttpTarget::Embedded,
            timeout: Duration::from_secs(30),
        }
    }
}

/// One experiment: a workload over inputs, on an executor with a number of workers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExperimentPlan {
    /// The name files and panels use: `process-fibo`, `thread-get`, …
    pub name: String,
    /// How tasks are spread over workers.
    pub executor: ExecutorKind,
    /// What each task does.
    pub workload: WorkloadKind,
    /// One task per input, in this order (fib n, or a delay in ms).
    pub inputs: Vec<u64>,
    /// How many workers run the tasks (always 1 for sequential).
    pub workers: usize,
    /// What each task is called: its input, for runs; what a recording called it, for
    /// experiments read from files.
    #[serde(default, skip_serializing_if = "TaskLabels::is_inputs")]
    pub task_labels: TaskLabels,
    /// What each lane is called, by worker index, when a recording named them (a trace's
    /// `thread_name`). Empty for runs: lanes are named by pid and tid.
    #[serde(default, skip_serializing_if = "LaneNames::is_empty")]
    pub lane_names: LaneNames,
    /// How deep in its thread's call stack each lane is, where a recording nests slices in
    /// one another (a trace's thread: a lane per level). Empty for runs and flat files.
    #[serde(default, skip_serializing_if = "LaneLevels::is_empty")]
    pub lane_levels: LaneLevels,
    /// The file it was read from (`poolscope view`); `None` for runs. Experiments compare
    /// (speed-ups, a shared time scale) only with others from the same source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_from: Option<String>,
}

impl ExperimentPlan {
    /// An experiment named as the post named its files (`{executor}-{workload}`).
    pub fn new(
        executor: ExecutorKind,
        workload: WorkloadKind,
        inputs: Vec<u64>,
        workers: usize,
    ) -> Self {
        let workers = match executor {
            ExecutorKind::Sequential => 1,
            _ => workers.max(1),
        };
        ExperimentPlan {
            name: format!("{}-{}", executor.tag_prefix(), workload.tag_suffix()),
            executor,
            workload,
            inputs,
            workers,
            task_labels: TaskLabels::Inputs,
            lane_names: LaneNames::default(),
            lane_levels: LaneLevels::default(),
            recorded_from: None,
        }
    }

    /// How task `index` reads on screen: its recorded label, else its input described by
    /// the workload (`fib 41`, `1300 ms`).
    pub fn task_label(&self, index: usize, input: u64) -> String {
        match &self.task_labels {
            TaskLabels::Tags => format!("{}-{input}", self.name),
            TaskLabels::Each(labels) if index < labels.len() => labels[index].clone(),
            TaskLabels::Table(table) => match table.get(index) {
                Some(name) => name.to_string(),
                None => self.workload.describe_input(input),
            },
            _ => self.workload.describe_input(input),
        }
    }

    /// Task `index`'s own name, if a recording gave it one (a trace event's name, the CSV
    /// `label` column): never made up from its input or position.
    pub fn task_name(&self, index: usize) -> Option<&str> {
        match &self.task_labels {
            TaskLabels::Each(labels) => labels.get(index).map(String::as_str),
            TaskLabels::Table(table) => table.get(index),
            TaskLabels::Inputs | TaskLabels::Tags => None,
        }
    }

    /// A process of a watched program, named `name` (its pid and command line): no tasks
    /// and no lanes yet; both arrive as the program runs ([`crate::model::event::Event::LaneAdded`],
    /// [`crate::model::event::Event::TaskAdded`]).
    pub fn watched(name: String) -> Self {
        ExperimentPlan {
            name,
            executor: ExecutorKind::Watched,
            workload: WorkloadKind::Watched,
            inputs: Vec::new(),
            workers: 0,
            task_labels: TaskLabels::Table(NameTable::default()),
            lane_names: LaneNames::default(),
            lane_levels: LaneLevels::default(),
            recorded_from: None,
        }
    }

    /// Whether this is a process of a watched program.
    pub fn is_watched(&self) -> bool {
        self.executor == ExecutorKind::Watched
    }

    /// Adds task `index` called `label` (a watched program's task, known as it starts); the
    /// tasks between the last and it, if any, get no name.
    pub fn add_task(&mut self, index: usize, label: &str) {
        if index >= self.inputs.len() {
            let from = self.inputs.len() as u64;
            self.inputs.extend(from..=index as u64);
        }
        if let TaskLabels::Table(table) = &mut self.task_labels {
            table.set(index, label);
        }
    }

    /// Task `index`'s recorded name, if a recording gave it one (the CSV `label` column).
    pub fn recorded_label(&self, index: usize, input: u64) -> Option<String> {
        match &self.task_labels {
            TaskLabels::Inputs => None,
            TaskLabels::Table(table) => table.get(index).map(str::to_string),
            _ => Some(self.task_label(index, input)),
        }
    }
}

/// What a plan's tasks are called.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskLabels {
    /// By their input, described by the workload (`fib 41`, `1300 ms`): tasks poolscope runs.
    #[default]
    Inputs,
    /// By the post's tag, `{experiment}-{input}`, the input being the task's position (the
    /// post's CSVs: a million labels cost nothing to keep).
    Tags,
    /// One label each, by input position (what earlier versions wrote; read, not made).
    Each(Vec<String>),
    /// One label each, by input position, each distinct name kept once (a trace's million
    /// events share a few names).
    Table(NameTable),
}

impl TaskLabels {
    fn is_inputs(&self) -> bool {
        matches!(self, TaskLabels::Inputs)
    }
}

/// Labels by task position, each distinct name stored once: 4 bytes a task.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NameTable {
    /// The distinct names.
    pub names: Vec<String>,
    /// Each task's name, an index into `names` ([`NameTable::NONE`]: none).
    pub of_task: Vec<u32>,
}

impl NameTable {
    /// A task without a name.
    pub const NONE: u32 = u32::MAX;

    /// Names task `index` `name`, storing the name once.
    pub fn set(&mut self, index: usize, name: &str) {
        // Watched tasks' names (their arguments) mostly differ: a look at the last few is
        // enough to share the ones that repeat (the same argument again and again).
        let last = self.names.iter().rev().take(64).position(|n| n == name);
        let at = match last {
            Some(back) => (self.names.len() - 1 - back) as u32,
            None => {
                self.names.push(name.to_string());
                (self.names.len() - 1) as u32
            }
        };
        if self.of_task.len() <= index {
            self.of_task.resize(index + 1, Self::NONE);
        }
        self.of_task[index] = at;
    }

    /// Task `index`'s name, if it has one.
    pub fn get(&self, index: usize) -> Option<&str> {
        let name = *self.of_task.get(index)?;
        self.names.get(name as usize).map(String::as_str)
    }
}

/// Lane names by worker index, kept only for the workers named: a recording's worker
/// numbers may be anything (`18446744073709551615`), and names are never stored by position
/// up to the largest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct LaneNames(Vec<(usize, String)>);

impl LaneNames {
    /// Names from `(worker, name)` pairs in any order (empty names left out; the last name
    /// given to a worker wins).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (usize, String)>) -> Self {
        let mut names: Vec<(usize, String)> =
            pairs.into_iter().filter(|(_, n)| !n.is_empty()).collect();
        names.reverse();
        names.sort_by_key(|(w, _)| *w);
        names.dedup_by_key(|(w, _)| *w);
        LaneNames(names)
    }

    /// Worker `worker`'s name, if it has one.
    pub fn get(&self, worker: usize) -> Option<&str> {
        let i = self.0.binary_search_by_key(&worker, |(w, _)| *w).ok()?;
        Some(&self.0[i].1)
    }

    /// Names worker `worker`'s lane `name` (replacing its earlier name).
    pub fn set(&mut self, worker: usize, name: String) {
        match self.0.binary_search_by_key(&worker, |(w, _)| *w) {
            Ok(i) => self.0[i].1 = name,
            Err(i) => self.0.insert(i, (worker, name)),
        }
    }

    /// Whether no lane is named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names in worker order.
    pub fn in_order(&self) -> Vec<&str> {
        self.0.iter().map(|(_, n)| n.as_str()).collect()
    }
}

impl<'de> Deserialize<'de> for LaneNames {
    /// `[[worker, name], …]`, or the list by worker index earlier versions wrote.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Pairs(Vec<(usize, String)>),
            List(Vec<String>),
        }
        Ok(match Form::deserialize(deserializer)? {
            Form::Pairs(pairs) => LaneNames::from_pairs(pairs),
            Form::List(list) => LaneNames::from_pairs(list.into_iter().enumerate()),
        })
    }
}

/// The nesting level of each lane that is not a thread's outermost, by worker index: level
/// 1 holds the calls made from level 0's, and so on. A thread's lanes are consecutive,
/// level 0 first; lanes not listed are level 0 (a thread of their own, or a worker).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LaneLevels(Vec<(usize, u32)>);

impl LaneLevels {
    /// Levels from `(worker, level)` pairs in any order (level 0 left out).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (usize, u32)>) -> Self {
        let mut levels: Vec<(usize, u32)> = pairs.into_iter().filter(|&(_, l)| l > 0).collect();
        levels.sort_unstable();
        levels.dedup_by_key(|(w, _)| *w);
        LaneLevels(levels)
    }

    /// Worker `worker`'s level: 0 unless listed.
    pub fn get(&self, worker: usize) -> u32 {
        self.0
            .binary_search_by_key(&worker, |&(w, _)| w)
            .map_or(0, |i| self.0[i].1)
    }

    /// Whether no lane is nested (nothing to fold).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The most levels any thread has (1 when nothing is nested).
    pub fn deepest(&self) -> u32 {
        self.0.iter().map(|&(_, l)| l + 1).max().unwrap_or(1)
    }
}

/// The default executors: the post's two pools plus Rust's own threads.
pub const DEFAULT_EXECUTORS: [ExecutorKind; 3] = [
    ExecutorKind::Processes,
    ExecutorKind::Threads,
    ExecutorKind::Gil,
];

/// The isolation demo's tasks: the worker's first, second and third read of X.
pub const ISOLATION_READS: [u64; 3] = [1, 2, 3];

/// The seed's Fibonacci inputs: `range(34, 42)`.
pub const DEFAULT_FIB_INPUTS: std::ops::RangeInclusive<u64> = 34..=41;
/// The seed's HTTP delays in ms: `range(1000, 1800, 100)`.
pub const DEFAULT_DELAYS_MS: (u64, u64, u64) = (1000, 1800, 100);

/// How workers are scheduled and watched, for every experiment of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedSettings {
    /// How often the scheduler sampler reads each worker thread (`--sample-ms`).
    pub sample_interval: Duration,
    /// How long a simulated-GIL holder keeps the lock once another thread asked for it
    /// (`--switch-interval-ms`; CPython's `sys.getswitchinterval()`, 5 ms).
    pub switch_interval: Duration,
    /// The CPUs every worker is confined to (`--cpus`); `None`: all the process may use.
    pub cpus: Option<Vec<usize>>,
}

impl Default for SchedSettings {
    fn default() -> Self {
        SchedSettings {
            sample_interval: Duration::from_millis(10),
            switch_interval: Duration::from_millis(5),
            cpus: None,
        }
    }
}

/// A whole run: experiments executed one after another, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The experiments, in the order they run.
    pub experiments: Vec<ExperimentPlan>,
    /// Where and how the http workload makes its requests.
    pub http: HttpSettings,
    /// Sampling, the simulated GIL's switch interval, CPU confinement.
    pub sched: SchedSettings,
}

impl Plan {
    /// Builds the cross product in the post's order: for each workload, each executor.
    ///
    /// `workers: None` gives each experiment one worker per input, as the post did.
    pub fn from_parts(
        workloads: &[WorkloadKind],
        executors: &[ExecutorKind],
        fib_inputs: &[u64],
        delays: &[u64],
        workers: Option<usize>,
        http: HttpSettings,
    ) -> Plan {
        let mut experiments = Vec::new();
        for &workload in workloads {
            let inputs = match workload {
                WorkloadKind::Fib => fib_inputs,
                WorkloadKind::Http | WorkloadKind::Sleep => delays,
                WorkloadKind::Isolation => &ISOLATION_READS,
                WorkloadKind::Recorded | WorkloadKind::Watched => &[],
            };
            for &executor in executors {
                // The demo is one worker reading X, as the post's single thread or process.
                let n = match workload {
                    WorkloadKind::Isolation => 1,
                    _ => workers.unwrap_or(inputs.len()),
                };
                experiments.push(ExperimentPlan::new(executor, workload, inputs.to_vec(), n));
            }
        }
        Plan {
            experiments,
            http,
            sched: SchedSettings::default(),
        }
    }

    /// Runs every experiment's inputs `n` times over, in order (`--repeat`); worker counts
    /// stay as they are. The isolation demo keeps its three reads.
    pub fn repeat(&mut self, n: usize) {
        for e in &mut self.experiments {
            if e.workload != WorkloadKind::Isolation && n > 1 {
                e.inputs = e.inputs.repeat(n);
            }
        }
    }

    /// One line for the live view's header:
    /// `fib 34–41 · http 1000–1700 ms · processes vs threads · 8 workers`.
    pub fn describe(&self) -> String {
        let plans = &self.experiments;
        let mut parts: Vec<String> = Vec::new();
        let mut seen = Vec::new();
        for p in plans {
            if seen.contains(&p.workload) {
                continue;
            }
            seen.push(p.workload);
            let (min, max) = (p.inputs.iter().min(), p.inputs.iter().max());
            let range = match (min, max) {
                (Some(a), Some(b)) if a == b => format!("{a}"),
                (Some(a), Some(b)) => format!("{a}–{b}"),
                _ => String::new(),
            };
            parts.push(match p.workload {
                WorkloadKind::Fib => format!("fib {range}"),
                WorkloadKind::Isolation => format!("isolation ({} reads of X)", p.inputs.len()),
                workload => format!("{workload} {range} ms"),
            });
        }
        let mut executors: Vec<&str> = Vec::new();
        for p in plans {
            if !executors.contains(&p.executor.as_str()) {
                executors.push(p.executor.as_str());
            }
        }
        parts.push(executors.join(" vs "));
        let workers: Vec<usize> = plans
            .iter()
            .filter(|p| p.executor != ExecutorKind::Sequential)
            .map(|p| p.workers)
            .collect();
        if let Some(&first) = workers
            .first()
            .filter(|&&first| workers.iter().all(|&w| w == first))
        {
            parts.push(format!(
                "{first} worker{}",
                if first == 1 { "" } else { "s" }
            ));
        }
        parts.join(" · ")
    }

    /// Whether any experiment makes HTTP requests.
    pub fn uses_http(&self) -> bool {
        self.experiments
            .iter()
            .any(|e| e.workload == WorkloadKind::Http)
    }
}

impl Default for Plan {
    /// The seed's experiment, plus Rust's own threads beside a simulated-GIL pool: fib then
    /// http, each on processes (ProcessPoolExecutor), threads (Rust, no GIL) and gil
    /// (ThreadPoolExecutor with CPython's GIL).
    fn default() -> Self {
        let fib: Vec<u64> = DEFAULT_FIB_INPUTS.collect();
        let (start, end, step) = DEFAULT_DELAYS_MS;
        let delays: Vec<u64> = (start..end).step_by(step as usize).collect();
        Plan::from_parts(
            &[WorkloadKind::Fib, WorkloadKind::Http],
            &DEFAULT_EXECUTORS,
            &fib,
            &delays,
            None,
            HttpSettings::default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_plan_is_the_posts_experiment_in_the_posts_order() {
        let plan = Plan::default();
        let names: Vec<_> = plan.experiments.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "process-fibo",
                "thread-fibo",
                "gil-fibo",
                "process-get",
                "thread-get",
                "gil-get"
            ]
        );
        assert_eq!(plan.experiments[0].inputs, (34..=41).collect::<Vec<_>>());
        assert_eq!(
            plan.experiments[3].inputs,
            [1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700]
        );
        assert!(plan.experiments.iter().all(|e| e.workers == 8));
    }

    #[test]
    fn the_plan_reads_in_one_line() {
        assert_eq!(
            Plan::default().describe(),
            "fib 34–41 · http 1000–1700 ms · processes vs threads vs gil · 8 workers"
        );
    }

    #[test]
    fn sequential_always_has_one_worker() {
        let e = ExperimentPlan::new(ExecutorKind::Sequential, WorkloadKind::Sleep, vec![1, 2], 8);
        assert_eq!(e.workers, 1);
        assert_eq!(e.name, "sequential-sleep");
    }
}
