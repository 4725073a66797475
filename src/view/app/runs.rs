//! The runs the view keeps: every run since poolscope started, as values (a plan and all
//! its events), the one looked at, the plan the next run will use, and where each was last
//! exported.
//!
//! A new run (a rerun, `w`/`W`, the editor, `--runs N`) is appended; earlier ones stay, so
//! they can be stepped through (`[` `]`), compared (`c`) and exported together (`E`). Past
//! a bound on the records kept in all (tasks, scheduler samples, GIL spans), the oldest
//! runs lose their task-level events and keep their summaries.

use std::path::PathBuf;
use std::sync::Arc;

use crate::model::event::{Event, RunOutcome};
use crate::model::plan::{ExecutorKind, Plan, WorkloadKind};
use crate::model::timeline::Timeline;

/// The most records (tasks, scheduler samples, GIL spans) the kept runs may hold together
/// before the oldest runs' events are dropped (their summaries stay): some 100 MB of
/// timeline (a task costs 32 bytes and its span 24, a sample 32, a GIL span 24, plus texts).
pub const MAX_KEPT_RECORDS: usize = 1_000_000;

/// One run the view keeps: its plan and everything that happened (a run is a value, not
/// state of the view), and where it was last exported.
#[derive(Debug, Clone)]
pub struct Run {
    /// What ran.
    pub plan: Plan,
    /// The plan in one line (computed once).
    description: String,
    /// Its events, applied. Shared, so an export takes it without copying; the live run's
    /// is copied only if an export still holds it when the next event arrives.
    pub timeline: Arc<Timeline>,
    /// The timeline revision and folder of its last successful CSV export.
    last_export: Option<(u64, PathBuf)>,
    /// Whether its task-level events were dropped to bound memory (its summary is kept).
    pub compacted: bool,
    /// Whether it is a watched program (`poolscope watch`): its plan grows as processes
    /// appear, and nothing runs it again.
    pub watch: bool,
}

impl Run {
    fn new(plan: Plan) -> Self {
        Run {
            description: plan.describe(),
            plan,
            timeline: Arc::new(Timeline::new()),
            last_export: None,
            compacted: false,
            watch: false,
        }
    }

    /// The plan in one line.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Where this state of the run was exported, if it was (an export of an earlier state,
    /// mid-run, does not count: rows have changed since).
    fn saved_to(&self) -> Option<&PathBuf> {
        self.last_export
            .as_ref()
            .filter(|(revision, _)| *revision == self.timeline.revision())
            .map(|(_, dir)| dir)
    }

    fn records(&self) -> usize {
        self.timeline.records_held()
    }
}

/// Every run kept, oldest first; the last one is the live one (where events go).
#[derive(Debug, Clone)]
pub struct Runs {
    runs: Vec<Run>,
    /// The run being looked at (an index into `runs`).
    viewing: usize,
    /// The plan the next run (rerun, `w`/`W`, the editor) will use, when it differs.
    next_plan: Option<Plan>,
    /// Runs still to start by themselves, one after another (`--runs N`, the editor's runs).
    pub left: usize,
    /// Whether a new run waits for the current one to stop.
    restarting: bool,
    /// Whether that new run starts by itself (`--runs N`), not at the user's asking.
    scheduled: bool,
}

impl Runs {
    /// One run of `plan`, not started yet.
    pub fn new(plan: Plan) -> Self {
        Runs {
            runs: vec![Run::new(plan)],
            viewing: 0,
            next_plan: None,
            left: 0,
            restarting: false,
            scheduled: false,
        }
    }

    /// Sets the one-line description of the run looked at (recorded files say which).
    pub fn describe_as(&mut self, description: String) {
        self.runs[self.viewing].description = description;
    }

    /// Makes the first run a watched program's, described as `description`; the next run
    /// (`p`) is poolscope's own default plan, to compare with.
    pub fn start_watch(&mut self, description: String) {
        self.runs[0].watch = true;
        self.runs[0].description = description;
        self.next_plan = Some(Plan::default());
    }

    /// Replaces everything with one recorded run of `plan` whose events are `timeline`.
    pub fn replace_with_recording(&mut self, plan: Plan, timeline: Timeline) {
        let description = std::mem::take(&mut self.runs[self.viewing].description);
        self.runs = vec![Run {
            description,
            timeline: Arc::new(timeline),
            ..Run::new(plan)
        }];
        self.viewing = 0;
    }

    /// Every run kept, oldest first.
    pub fn all(&self) -> &[Run] {
        &self.runs
    }

    /// The run looked at.
    pub fn viewed(&self) -> &Run {
        &self.runs[self.viewing]
    }

    /// The index of the run looked at.
    pub fn viewed_index(&self) -> usize {
        self.viewing
    }

    /// The live run (the last: where events go).
    pub fn live(&self) -> &Run {
        &self.runs[self.runs.len() - 1]
    }

    /// Whether the run looked at is the live one.
    pub fn viewing_live(&self) -> bool {
        self.viewing + 1 == self.runs.len()
    }

    /// The plan the next run will use: the one edited, else the live run's.
    pub fn next_plan(&self) -> &Plan {
        self.next_plan.as_ref().unwrap_or(&self.live().plan)
    }

    /// Whether a new run waits for the current one to stop.
    pub fn is_restarting(&self) -> bool {
        self.restarting
    }

    /// Asks for a new run of `plan` (or of the next plan, if `None`) once the current one
    /// stops: false if one was asked for already (a `plan` given replaces its plan).
    pub fn request_rerun(&mut self, plan: Option<Plan>) -> bool {
        if plan.is_some() {
            self.next_plan = plan;
        }
        !std::mem::replace(&mut self.restarting, true)
    }

    /// The rerun could not start: the last run stays live.
    pub fn rerun_failed(&mut self) {
        self.restarting = false;
        self.scheduled = false;
    }

    /// How many runs there will be, as far as is known: those kept and those still to start
    /// by themselves (`--runs 3` reads `run 1/3` from the first).
    pub fn planned(&self) -> usize {
        self.runs.len() + self.left
    }

    /// A new run of the next plan started: it becomes the live run and the one looked at.
    /// Returns its number (1-based) and whether it started by itself (`--runs N`).
    pub fn start_next(&mut self) -> (usize, bool) {
        let scheduled = std::mem::take(&mut self.scheduled);
        self.left = self.left.saturating_sub(1);
        let plan = self
            .next_plan
            .take()
            .unwrap_or_else(|| self.live().plan.clone());
        self.runs.push(Run::new(plan));
        self.viewing = self.runs.len() - 1;
        self.restarting = false;
        (self.runs.len(), scheduled)
    }

    /// Whether the plan's next run is due by itself (`--runs N`): the live run completed
    /// with runs left to start. If so, it is asked for.
    pub fn due_for_another(&mut self) -> bool {
        let due = !self.restarting
            && self.left > 0
            && self.live().timeline.outcome() == Some(RunOutcome::Completed);
        if due {
            self.restarting = true;
            self.scheduled = true;
        }
        due
    }

    /// Applies a timing event to the live run; once a run finishes, bounds the memory of
    /// the runs kept to `max_records` records. Returns the runs whose charts were dropped
    /// for it (1-based), if any.
    pub fn apply(&mut self, event: &Event, max_records: usize) -> Vec<usize> {
        let live = self.runs.len() - 1;
        // A watched program's processes appear as it runs: the run's plan takes each.
        if let Event::ExperimentStarted {
            experiment, plan, ..
        } = event
            && *experiment == self.runs[live].plan.experiments.len()
            && plan.is_watched()
        {
            self.runs[live].plan.experiments.push(plan.clone());
        }
        if let Event::ExperimentRenamed { experiment, name } = event
            && let Some(plan) = self.runs[live].plan.experiments.get_mut(*experiment)
        {
            plan.name = name.clone();
        }
        Arc::make_mut(&mut self.runs[live].timeline).apply(event);
        if matches!(event, Event::RunFinished { .. }) {
            self.bound_memory(max_records)
        } else {
            Vec::new()
        }
    }

    /// Drops the task-level events of the oldest runs (keeping their summaries) while the
    /// kept runs hold more than `max_records` records together; returns which (1-based).
    fn bound_memory(&mut self, max_records: usize) -> Vec<usize> {
        let mut total: usize = self.runs.iter().map(Run::records).sum();
        let mut dropped = Vec::new();
        for i in 0..self.runs.len().saturating_sub(1) {
            if total <= max_records {
                break;
            }
            if self.runs[i].compacted {
                continue;
            }
            total -= self.runs[i].records();
            Arc::make_mut(&mut self.runs[i].timeline).drop_task_events();
            self.runs[i].compacted = true;
            dropped.push(i + 1);
        }
        dropped
    }

    /// Looks at the run `step` before or after the one looked at (within the runs kept);
    /// returns whether that changed which.
    pub fn step(&mut self, step: isize) -> bool {
        let last = self.runs.len() as isize - 1;
        let to = (self.viewing as isize + step).clamp(0, last) as usize;
        let changed = to != self.viewing;
        self.viewing = to;
        changed
    }

    /// Where the current state of run `index` was exported, if it was.
    pub fn saved_to(&self, index: usize) -> Option<&PathBuf> {
        self.runs.get(index).and_then(Run::saved_to)
    }

    /// Notes a CSV export of the timeline at `revision` into `dir`: revisions are unique to
    /// a timeline, so the export belongs to that run.
    pub fn exported(&mut self, revision: u64, dir: PathBuf) {
        if let Some(run) = self
            .runs
            .iter_mut()
            .find(|r| r.timeline.revision() >> 32 == revision >> 32)
        {
            run.last_export = Some((revision, dir));
        }
    }

    /// Notes an export of every run into `dir` (`run-1/`, `run-2/`, …), each at the
    /// revision it was written at (`written`, in run order): a run that went on while it was
    /// written is saved as it was then, which its later events outdate.
    pub fn all_exported(&mut self, dir: &std::path::Path, written: &[u64]) {
        for (i, (run, &revision)) in self.runs.iter_mut().zip(written).enumerate() {
            // Revisions are unique to a timeline: a run that is not the one written (the
            // view's runs replaced meanwhile) is left alone.
            if revision >> 32 == run.timeline.revision() >> 32 {
                let folder = dir.join(format!("run-{}", i + 1));
                run.last_export = Some((revision, folder));
            }
        }
    }

    /// The kept runs of `plan` that completed: what statistics may be computed over.
    pub fn completed_of<'a>(&'a self, plan: &'a Plan) -> impl Iterator<Item = &'a Run> + 'a {
        self.runs
            .iter()
            .filter(move |r| r.plan == *plan && r.timeline.outcome() == Some(RunOutcome::Completed))
    }

    /// The next plan with every pool's workers scaled by `factor` (within 1..=`max`), and
    /// the counts before and after: what `w` / `W` run. An error says why nothing changes.
    pub fn scaled_workers(&self, factor: f64, max: usize) -> Result<(Plan, usize, usize), String> {
        let mut plan = self.next_plan().clone();
        let mut from = None;
        let mut to = None;
        for e in &mut plan.experiments {
            if e.executor == ExecutorKind::Sequential || e.workload == WorkloadKind::Isolation {
                continue;
            }
            let workers = ((e.workers as f64 * factor).round() as usize).clamp(1, max);
            from.get_or_insert(e.workers);
            to.get_or_insert(workers);
            e.workers = workers;
        }
        let (Some(from), Some(to)) = (from, to) else {
            return Err("no pool in this plan has workers to change".into());
        };
        if from == to {
            return Err(format!("workers stay at {to} (the limits are 1 and {max})"));
        }
        Ok((plan, from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::clock::Timestamp;
    use crate::model::event::{SampleEvent, TaskEvent, TaskEventKind, WorkerId};
    use crate::model::plan::ExperimentPlan;

    /// One run of a single task, sampled `samples` times: few tasks, many records.
    fn sampled_run(runs: &mut Runs, samples: u64, max_records: usize) -> Vec<usize> {
        let plan = ExperimentPlan::new(ExecutorKind::Threads, WorkloadKind::Fib, vec![30], 1);
        let worker = WorkerId {
            index: 0,
            pid: 1,
            tid: 2,
        };
        let mut events = vec![
            Event::ExperimentStarted {
                experiment: 0,
                plan,
                at: Timestamp(0),
            },
            Event::Task(TaskEvent {
                experiment: 0,
                task: 0,
                input: 30,
                worker,
                at: Timestamp(0),
                kind: TaskEventKind::Started,
            }),
        ];
        for i in 0..samples {
            events.push(Event::Sample(SampleEvent {
                experiment: 0,
                worker,
                from: Timestamp(i * 10),
                to: Timestamp(i * 10 + 10),
                running: 1.0,
                runnable: 0.0,
                blocked: 0.0,
                voluntary_switches: Some(0),
                involuntary_switches: Some(0),
                gil: None,
                waits: None,
            }));
        }
        events.push(Event::RunFinished {
            at: Timestamp(samples * 10),
            outcome: RunOutcome::Completed,
        });
        let mut dropped = Vec::new();
        for event in &events {
            dropped.extend(runs.apply(event, max_records));
        }
        dropped
    }

    #[test]
    fn the_bound_counts_samples_not_only_tasks() {
        let mut runs = Runs::new(Plan::default());
        assert!(sampled_run(&mut runs, 600, 1000).is_empty());
        assert_eq!(runs.live().timeline.records_held(), 601);
        runs.start_next();
        // One task each, but 1202 records together: the first run gives up its samples.
        assert_eq!(sampled_run(&mut runs, 600, 1000), [1]);
        assert!(runs.all()[0].compacted);
        assert_eq!(runs.all()[0].timeline.records_held(), 0);
        let first = &runs.all()[0].timeline.experiments()[0];
        assert_eq!(first.sched.samples, 600, "the summary keeps its totals");
    }
}
