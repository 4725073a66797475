//! Recorded experiments → the events a live run would have streamed → a [`Timeline`].
//!
//! Going through [`Event`]s (rather than filling a timeline by hand) keeps the timeline
//! blind to where events come from: a file replays through the same `apply` as a run.
//!
//! Lanes: a lane holds tasks that follow one another. Where a file's thread (or the whole
//! file, for the post's CSVs) has tasks that overlap, they are packed greedily by start time
//! into the fewest lanes, each task into the lowest-numbered lane free at its start (the
//! classic interval partitioning, which is optimal: the lanes used equal the most tasks
//! running at once). For a trace's nested calls, sorted by start and the longer first, that
//! puts each call one lane below the call that made it: lane k of a thread is its call
//! stack's level k, which the plan records so charts can fold the deep levels.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashSet};

use super::{FileContents, RecordedExperiment, RecordedTasks};
use crate::model::clock::Timestamp;
use crate::model::event::{Event, RunOutcome, TaskEvent, TaskEventKind, WorkerId};
use crate::model::plan::{
    ExperimentPlan, HttpSettings, LaneLevels, LaneNames, NameTable, Plan, SchedSettings, TaskLabels,
};
use crate::model::timeline::Timeline;

/// Every file's experiments, one panel each, as a plan and a timeline.
pub fn recording(files: Vec<FileContents>) -> (Plan, Timeline) {
    let cores = files.iter().find_map(|f| f.cores).unwrap_or(0);
    // The runs' own bounds, where their files say (the earliest start, the latest end).
    let run_start = files.iter().filter_map(|f| f.run_bounds).map(|b| b.0).min();
    let run_end = files
        .iter()
        .filter_map(|f| f.run_bounds.and_then(|b| b.1))
        .max();
    let mut experiments: Vec<RecordedExperiment> =
        files.into_iter().flat_map(|f| f.experiments).collect();
    in_run_order(&mut experiments);
    unique_names(&mut experiments);
    // The run starts at its own start where a file says, else at its first experiment's
    // or first task's (a run cancelled before any task started has only the former).
    let first = experiments
        .iter()
        .flat_map(|e| e.tasks.as_slice().iter().filter_map(|t| t.start()))
        .chain(experiments.iter().filter_map(|e| e.bounds.map(|b| b.0)))
        .chain(run_start)
        .min()
        .unwrap_or(0);
    let mut timeline = Timeline::new();
    timeline.apply(&Event::RunStarted {
        at: Timestamp(first),
        cores,
        experiments: experiments.len(),
    });
    let mut last = first;
    let mut complete = true;
    // Each experiment's rows are dropped as soon as it is replayed.
    for (index, experiment) in experiments.into_iter().enumerate() {
        let replayed = replay(index, experiment, &mut timeline);
        last = last.max(replayed.end);
        complete &= replayed.complete;
    }
    timeline.apply(&Event::RunFinished {
        // The run's own end, unless a task ran past it (an edited file).
        at: Timestamp(run_end.map_or(last, |end| last.max(end))),
        outcome: if complete {
            RunOutcome::Completed
        } else {
            RunOutcome::Cancelled
        },
    });
    // The plan is copied from the timeline once the rows are gone, so a million inputs are
    // never held three times at once.
    let plan = Plan {
        experiments: timeline
            .experiments()
            .iter()
            .map(|e| e.plan.clone())
            .collect(),
        http: HttpSettings::default(),
        sched: SchedSettings::default(),
    };
    (plan, timeline)
}

/// Experiments of one run (one source) in the order the run ran them, where it said (its
/// `summary.json`), whatever order the files came in (`view DIR/*.csv` lists them
/// alphabetically); runs stay in the order their first file came.
fn in_run_order(experiments: &mut [RecordedExperiment]) {
    let mut sources: Vec<String> = Vec::new();
    for e in experiments.iter() {
        if !sources.contains(&e.source) {
            sources.push(e.source.clone());
        }
    }
    // A stable sort: experiments the run did not place keep the order they came in.
    experiments.sort_by_key(|e| {
        (
            sources.iter().position(|s| *s == e.source),
            e.position.unwrap_or(usize::MAX),
        )
    });
}

/// Two files named alike (`a/process-fibo.csv`, `b/process-fibo.csv`) get `-2`, `-3`, …
fn unique_names(experiments: &mut [RecordedExperiment]) {
    let mut seen: HashSet<String> = HashSet::new();
    for e in experiments.iter_mut() {
        let mut name = e.name.clone();
        let mut n = 2;
        while seen.contains(&name) {
            name = format!("{}-{n}", e.name);
            n += 1;
        }
        if name != e.name {
            e.name = name.clone();
            e.tags = false; // the tags said the old name
            if let Some(plan) = &mut e.plan {
                plan.name = name.clone();
            }
        }
        seen.insert(name);
    }
}

struct Replayed {
    end: u64,
    complete: bool,
}

/// The plan of a recorded experiment: its inputs and labels by task position, its lanes'
/// names.
fn plan_of(experiment: &mut RecordedExperiment, lanes: &Lanes) -> ExperimentPlan {
    let tasks = experiment.tasks.as_slice();
    let count = tasks
        .iter()
        .map(|t| t.index as usize + 1)
        .max()
        .unwrap_or(0)
        .max(experiment.plan.as_ref().map_or(0, |p| p.inputs.len()));
    let mut inputs = vec![0u64; count];
    let any_label = tasks.iter().any(|t| t.has_label());
    let mut of_task = if any_label {
        vec![NameTable::NONE; count]
    } else {
        Vec::new()
    };
    for task in tasks {
        inputs[task.index as usize] = task.input;
        if any_label {
            of_task[task.index as usize] =
                RecordedTasks::label_number(task).unwrap_or(NameTable::NONE);
        }
    }
    let plan = match experiment.plan.take() {
        Some(mut plan) => {
            if plan.inputs.len() < count {
                plan.inputs = inputs;
            }
            plan.workers = plan.workers.max(lanes.workers.len());
            plan
        }
        None => ExperimentPlan {
            name: experiment.name.clone(),
            executor: experiment.executor,
            workload: experiment.workload,
            inputs,
            // Workers that never got a task have no rows: the run's own count, if it said.
            // A thread of nested calls is one worker, however many levels it has.
            workers: (lanes.workers.len() - lanes.levels.len())
                .max(experiment.workers.unwrap_or(0))
                .max(1),
            task_labels: if any_label {
                TaskLabels::Table(NameTable {
                    names: experiment
                        .tasks
                        .labels()
                        .iter()
                        .map(|l| l.to_string())
                        .collect(),
                    of_task,
                })
            } else if experiment.tags {
                TaskLabels::Tags
            } else {
                TaskLabels::Inputs
            },
            lane_names: LaneNames::from_pairs(lanes.names.iter().cloned()),
            lane_levels: LaneLevels::from_pairs(lanes.levels.iter().copied()),
            recorded_from: None,
        },
    };
    ExperimentPlan {
        recorded_from: Some(experiment.source.clone()),
        ..plan
    }
}

/// Applies one experiment's events to `timeline`.
///
/// Rows are sorted by start, latest first, and popped: the rows' memory is handed back as
/// the timeline grows, so a million rows never sit in memory twice.
fn replay(index: usize, mut experiment: RecordedExperiment, timeline: &mut Timeline) -> Replayed {
    let tasks = experiment.tasks.as_slice();
    let count = tasks
        .iter()
        .map(|t| t.index as usize + 1)
        .max()
        .unwrap_or(0)
        .max(experiment.plan.as_ref().map_or(0, |p| p.inputs.len()));
    let started = tasks.iter().filter(|t| t.start().is_some()).count();
    let first_start = tasks.iter().filter_map(|t| t.start()).min();
    let last_end = tasks.iter().filter_map(|t| t.end().or(t.start())).max();
    experiment.tasks.sort_latest_first_dropping_unstarted();
    let lanes = assign_lanes(&experiment);
    let plan = plan_of(&mut experiment, &lanes);
    let begin = match (experiment.bounds, first_start) {
        (Some((begin, _)), Some(first)) => begin.min(first),
        (Some((begin, _)), None) => begin,
        (None, Some(first)) => first,
        (None, None) => timeline.started_at().map_or(0, Timestamp::as_micros),
    };
    let last_end = last_end.unwrap_or(begin);
    let end = match experiment.bounds {
        Some((_, Some(finished))) => finished.max(last_end),
        _ => last_end,
    };
    timeline.apply(&Event::ExperimentStarted {
        experiment: index,
        plan,
        at: Timestamp(begin),
    });
    // Every lane made at once, in order: however many workers, and whatever their order.
    let mut known = lanes.workers.clone();
    known.extend(experiment.ready.iter().map(|&(worker, _)| worker));
    timeline.apply(&Event::WorkersKnown {
        experiment: index,
        workers: known,
    });
    for &(worker, at) in &experiment.ready {
        timeline.apply(&Event::WorkerStarted {
            experiment: index,
            worker,
            at: Timestamp(at),
        });
    }
    let mut complete = started == count;
    let mut lane_of = lanes.of_task;
    while let Some(task) = experiment.tasks.pop() {
        let lane = lane_of.pop().unwrap_or_default();
        if lane_of.capacity() > 4096 && lane_of.len() < lane_of.capacity() / 4 * 3 {
            lane_of.shrink_to_fit();
        }
        let Some(start) = task.start() else { continue };
        let worker = lanes.workers[lane as usize];
        let (position, input) = (task.index as usize, task.input);
        let event = |at: u64, kind| {
            Event::Task(TaskEvent {
                experiment: index,
                task: position,
                input,
                worker,
                at: Timestamp(at),
                kind,
            })
        };
        timeline.apply(&event(start, TaskEventKind::Started));
        match task.end() {
            None => complete = false,
            Some(end) => {
                let cpu_time = task.cpu_time();
                let kind = match experiment.tasks.outcome(&task) {
                    Ok(result) => TaskEventKind::Finished {
                        result: result.to_string(),
                        cpu_time,
                    },
                    Err(error) => TaskEventKind::Failed {
                        error: error.to_string(),
                        cpu_time,
                    },
                };
                timeline.apply(&event(end, kind));
            }
        }
    }
    for mut sample in std::mem::take(&mut experiment.samples) {
        sample.experiment = index;
        timeline.apply(&Event::Sample(sample));
    }
    for mut gil in std::mem::take(&mut experiment.gil) {
        gil.experiment = index;
        timeline.apply(&Event::Gil(gil));
    }
    if let Some(mut figures) = experiment.figures.take() {
        figures.experiment = index;
        timeline.apply(&Event::Figures(figures));
    }
    timeline.apply(&Event::ExperimentFinished {
        experiment: index,
        at: Timestamp(end),
    });
    Replayed { end, complete }
}

/// Which lane each task goes to, and each lane's name.
struct Lanes {
    /// By task position in `experiment.tasks`: an index into `workers`.
    of_task: Vec<u32>,
    /// The lanes: their worker identity.
    workers: Vec<WorkerId>,
    /// The lanes' names, by worker index, for those that have one.
    names: Vec<(usize, String)>,
    /// The nesting level of each lane past a thread's first, by worker index, where the
    /// experiment's overlapping tasks are nested calls.
    levels: Vec<(usize, u32)>,
}

/// Worker numbers for lanes a file did not number (overlapping tasks of one thread, the
/// threads of a trace): the lowest above every number the file used, skipping any taken.
/// A file's own numbers may be anything up to `u64::MAX`, so this never overflows and
/// never sizes anything by them.
struct FreshNumbers {
    next: usize,
    taken: HashSet<usize>,
}

impl FreshNumbers {
    fn new(taken: HashSet<usize>) -> Self {
        let next = taken
            .iter()
            .max()
            .map_or(0, |&highest| highest.wrapping_add(1));
        FreshNumbers { next, taken }
    }

    fn take(&mut self) -> usize {
        loop {
            let number = self.next;
            self.next = self.next.wrapping_add(1);
            if self.taken.insert(number) {
                return number;
            }
        }
    }
}

/// Lanes for tasks sorted latest first (all started).
fn assign_lanes(experiment: &RecordedExperiment) -> Lanes {
    let tasks = experiment.tasks.as_slice();
    let groups = experiment.groups.len().max(1);
    // Each group's tasks, by start time (the rows are latest first).
    let mut by_group: Vec<Vec<u32>> = vec![Vec::new(); groups];
    for i in (0..tasks.len()).rev() {
        by_group[(tasks[i].group as usize).min(groups - 1)].push(i as u32);
    }
    let mut fresh = FreshNumbers::new(experiment.groups.iter().filter_map(|g| g.worker).collect());
    let mut of_task = vec![0u32; tasks.len()];
    let mut workers: Vec<WorkerId> = Vec::new();
    let mut names: Vec<(usize, String)> = Vec::new();
    let mut levels: Vec<(usize, u32)> = Vec::new();
    for (g, members) in by_group.into_iter().enumerate() {
        if members.is_empty() {
            continue;
        }
        let group = experiment.groups.get(g).cloned().unwrap_or_default();
        let first_lane = workers.len();
        let sub_lanes = pack(members.iter().map(|&i| {
            let task = &tasks[i as usize];
            let start = task.start().unwrap_or(0);
            (start, task.end().unwrap_or(u64::MAX).max(start))
        }));
        let mut lanes_used = 0;
        for (&i, sub) in members.iter().zip(sub_lanes) {
            of_task[i as usize] = (first_lane + sub) as u32;
            lanes_used = lanes_used.max(sub + 1);
        }
        for sub in 0..lanes_used {
            let index = match (sub, group.worker) {
                (0, Some(worker)) => worker,
                _ => fresh.take(),
            };
            workers.push(WorkerId {
                index,
                pid: group.pid,
                tid: group.tid,
            });
            if experiment.nested && sub > 0 {
                levels.push((index, sub as u32));
            }
            let name = match (&group.name, sub) {
                (Some(name), 0) => name.clone(),
                (Some(name), _) => format!("{name} ({})", sub + 1),
                (None, 0) => String::new(),
                (None, _) if group.worker.is_some() || group.tid != 0 => {
                    format!("w{} overlap {}", group.worker.unwrap_or(g), sub + 1)
                }
                (None, _) => String::new(),
            };
            if !name.is_empty() {
                names.push((index, name));
            }
        }
    }
    Lanes {
        of_task,
        workers,
        names,
        levels,
    }
}

/// Greedy interval partitioning: for intervals sorted by start, the lane of each, lowest
/// free lane first.
pub fn pack(intervals: impl Iterator<Item = (u64, u64)>) -> Vec<usize> {
    let mut busy: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut free: BTreeSet<usize> = BTreeSet::new();
    let mut lanes = 0;
    let mut out = Vec::new();
    for (start, end) in intervals {
        while let Some(&Reverse((busy_until, lane))) = busy.peek() {
            if busy_until > start {
                break;
            }
            busy.pop();
            free.insert(lane);
        }
        let lane = match free.pop_first() {
            Some(lane) => lane,
            None => {
                lanes += 1;
                lanes - 1
            }
        };
        busy.push(Reverse((end, lane)));
        out.push(lane);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_keeps_its_own_bounds_even_with_no_task() {
        let mut cancelled = RecordedExperiment::named("process-fibo");
        cancelled.bounds = Some((1_000_500, Some(1_002_000)));
        let (_, timeline) = recording(vec![FileContents {
            experiments: vec![cancelled],
            run_bounds: Some((1_000_000, Some(1_003_000))),
            ..FileContents::default()
        }]);
        assert_eq!(timeline.started_at(), Some(Timestamp(1_000_000)));
        assert_eq!(timeline.finished_at(), Some(Timestamp(1_003_000)));
        // Without the run's own: its first experiment's start, never the epoch.
        let mut cancelled = RecordedExperiment::named("process-fibo");
        cancelled.bounds = Some((1_000_500, None));
        let (_, timeline) = recording(vec![FileContents {
            experiments: vec![cancelled],
            ..FileContents::default()
        }]);
        assert_eq!(timeline.started_at(), Some(Timestamp(1_000_500)));
    }

    #[test]
    fn packing_uses_the_fewest_lanes_lowest_first() {
        // 0-10, 2-5, 5-8, 10-12: two lanes; the third task reuses lane 1, the last lane 0.
        let lanes = pack([(0, 10), (2, 5), (5, 8), (10, 12)].into_iter());
        assert_eq!(lanes, [0, 1, 1, 0]);
        // Nested calls stack up like a flame graph.
        assert_eq!(pack([(0, 100), (10, 90), (20, 30)].into_iter()), [0, 1, 2]);
        // An unended task keeps its lane.
        assert_eq!(pack([(0, u64::MAX), (5, 6), (7, 8)].into_iter()), [0, 1, 1]);
    }
}
