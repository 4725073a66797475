//! The terminal-free model of a run: experiments, worker lanes, task spans and their
//! statistics, built by applying events one at a time.
//!
//! The timeline does not know where events come from (a live run, a file, a test), never
//! touches a terminal, and never panics on odd input: events for unknown experiments or
//! tasks are ignored, repeated events are harmless. Counters are kept up to date as events
//! arrive, so statistics cost the same for ten tasks or a hundred thousand.
//!
//! In parts: `experiment` (experiments and their tasks), `lane` (a worker's tasks,
//! samples and GIL records, and what it was doing over any stretch), `figures` (what is
//! computed from them: speed-ups, efficiency, a task's detail) and `memory` (dropping a
//! kept run's task-level events, keeping its figures).

mod experiment;
mod figures;
mod lane;
mod memory;
mod texts;

pub use experiment::{Experiment, SchedTotals, Task, TaskState, TaskStatus, WaitTotals};

/// The most tasks a watched process may add ([`Event::TaskAdded`]): as many as a plan may
/// have; later ones are not drawn.
pub const MAX_ADDED_TASKS: usize = 1_000_000;
pub use figures::{BUSY_MACHINE, Speedup, TaskDetail, efficiency_formula};
pub use lane::{GilSpan, Lane, LaneSample, LaneSpan, StateShare, StateTime};

use crate::model::clock::Timestamp;
use crate::model::event::{Event, PoolInfo, RunOutcome, SamplerNotice};

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
    pools: Vec<PoolInfo>,
    program_exit: Option<ProgramExit>,
    sampler_cost: Option<SamplerNotice>,
}

/// How a watched program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramExit {
    /// When.
    pub at: Timestamp,
    /// Its exit code, if it exited.
    pub code: Option<i32>,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
}

impl ProgramExit {
    /// `exit 0`, `exit 3`, `killed by signal 9`.
    pub fn describe(&self) -> String {
        match (self.code, self.signal) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "ended".to_string(),
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
            pools: Vec::new(),
            program_exit: None,
            sampler_cost: None,
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
            Event::WorkersKnown {
                experiment,
                workers,
            } => {
                if let Some(e) = self.experiment_mut(*experiment) {
                    e.add_lanes(workers);
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
            Event::Figures(figures) => {
                if let Some(e) = self.experiment_mut(figures.experiment) {
                    e.apply_figures(figures);
                }
            }
            Event::Sampler(cost @ SamplerNotice::Cost { .. }) => {
                self.sampler_cost = Some(cost.clone());
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
            Event::LaneAdded {
                experiment,
                worker,
                name,
                at,
            } => {
                self.see(*at);
                if let Some(e) = self.experiment_mut(*experiment) {
                    e.appeared_at = Some(e.appeared_at.map_or(*at, |seen| seen.min(*at)));
                    e.lane_mut(*worker).lifetime_only = true;
                    e.plan.lane_names.set(worker.index, name.clone());
                }
            }
            Event::ExperimentRenamed { experiment, name } => {
                if let Some(e) = self.experiment_mut(*experiment) {
                    e.plan.name = name.clone();
                }
            }
            Event::TaskAdded {
                experiment,
                task,
                label,
                pool,
            } => {
                if let Some(e) = self.experiment_mut(*experiment) {
                    e.add_task(*task, label, *pool);
                }
            }
            Event::PoolAdded { pool, info } => {
                if *pool < MAX_ADDED_TASKS {
                    if self.pools.len() <= *pool {
                        self.pools.resize(*pool + 1, PoolInfo::default());
                    }
                    self.pools[*pool] = info.clone();
                }
            }
            Event::ProgramExited { at, code, signal } => {
                self.see(*at);
                self.program_exit = Some(ProgramExit {
                    at: *at,
                    code: *code,
                    signal: *signal,
                });
            }
            Event::RunFinished { at, outcome } => {
                self.see(*at);
                self.finished = Some((*at, *outcome));
            }
        }
    }
    /// The pools of a watched program, by index (empty for a plan's run).
    pub fn pools(&self) -> &[PoolInfo] {
        &self.pools
    }

    /// What sampling cost, if the run said ([`SamplerNotice::Cost`]).
    pub fn sampler_cost(&self) -> Option<&SamplerNotice> {
        self.sampler_cost.as_ref()
    }

    /// How the watched program ended, once it has.
    pub fn program_exit(&self) -> Option<ProgramExit> {
        self.program_exit
    }

    /// Whether this is a watched program's run (`poolscope watch`).
    pub fn is_watch(&self) -> bool {
        self.experiments
            .first()
            .is_some_and(|e| e.plan.is_watched())
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
        // Experiments start in index order, so experiment i is nearly always at i: no
        // search per event, however many experiments (a file may hold twenty thousand).
        match self.experiments.get(experiment) {
            Some(e) if e.index == experiment => Some(experiment),
            _ => self.experiments.iter().position(|e| e.index == experiment),
        }
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
}

#[cfg(test)]
pub(crate) mod tests;
