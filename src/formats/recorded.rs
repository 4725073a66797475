//! What a file recorded, before it becomes a timeline: experiments, their threads, and
//! their tasks as compact rows.
//!
//! A million-row file holds a million of these while its timeline is built, so a task is
//! 56 bytes with no heap allocation of its own: its result or error lives in one text
//! buffer per batch of tasks, and its label (a trace event's name, repeated by thousands of
//! events) is stored once and referred to by number.

use std::collections::HashMap;
use std::time::Duration;

use super::Problem;
use crate::model::event::{GilEvent, SampleEvent, WorkerId};
use crate::model::plan::{ExecutorKind, ExperimentPlan, WorkloadKind};

/// One task as a file recorded it. Times and CPU use `u64::MAX` for "not recorded" inside;
/// the accessors give `Option`s. Its texts are in the [`RecordedTasks`] holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedTask {
    /// The task's position in its experiment (its input's place in the plan).
    pub index: u32,
    /// Which lane group it ran in (an index into [`RecordedExperiment::groups`]).
    pub group: u32,
    /// Its input (fib n, a delay in ms), or its position when the file has none.
    pub input: u64,
    /// Epoch µs, or [`NOT_RECORDED`] (a trace's reader keeps its own scale here until it
    /// knows the earliest time).
    pub(super) start: u64,
    pub(super) end: u64,
    cpu_ns: u64,
    /// Its result or error, in the texts of its batch.
    text_start: u32,
    text_len: u32,
    /// Its label, an index into the batch's labels, or [`NO_LABEL`].
    label: u32,
    failed: bool,
    /// Whether `input` came from the file (a trace's events may not say).
    pub(super) has_input: bool,
}

/// A time or CPU time not recorded.
pub(super) const NOT_RECORDED: u64 = u64::MAX;
/// A task without a label of its own.
const NO_LABEL: u32 = u32::MAX;

impl RecordedTask {
    /// A task at position `index`: started at `start` (epoch µs; `None`: never started),
    /// ended at `end` (`None`: not ended when the file was written), that failed or not,
    /// with its CPU time. Its texts are given to [`RecordedTasks::push`].
    pub fn new(
        index: usize,
        input: u64,
        group: usize,
        (start, end): (Option<u64>, Option<u64>),
        failed: bool,
        cpu_time: Option<Duration>,
    ) -> Self {
        RecordedTask {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            group: u32::try_from(group).unwrap_or(u32::MAX),
            input,
            start: start.map_or(NOT_RECORDED, |s| s.min(NOT_RECORDED - 1)),
            end: end.map_or(NOT_RECORDED, |e| e.min(NOT_RECORDED - 1)),
            cpu_ns: cpu_time.map_or(NOT_RECORDED, |c| {
                u64::try_from(c.as_nanos()).unwrap_or(NOT_RECORDED - 1)
            }),
            text_start: 0,
            text_len: 0,
            label: NO_LABEL,
            failed,
            has_input: true,
        }
    }

    /// When it started (epoch µs), if it did.
    pub fn start(&self) -> Option<u64> {
        (self.start != NOT_RECORDED).then_some(self.start)
    }

    /// When it ended (epoch µs), if it did.
    pub fn end(&self) -> Option<u64> {
        (self.end != NOT_RECORDED).then_some(self.end)
    }

    /// The CPU time it took, if recorded.
    pub fn cpu_time(&self) -> Option<Duration> {
        (self.cpu_ns != NOT_RECORDED).then(|| Duration::from_nanos(self.cpu_ns))
    }

    /// Whether it failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Whether it has a label of its own.
    pub fn has_label(&self) -> bool {
        self.label != NO_LABEL
    }
}

/// Tasks and the texts they point into: their results and errors end to end in one buffer,
/// their labels each stored once.
#[derive(Debug, Clone, Default)]
pub struct RecordedTasks {
    tasks: Vec<RecordedTask>,
    texts: String,
    labels: Vec<Box<str>>,
    label_ids: HashMap<Box<str>, u32>,
}

impl RecordedTasks {
    /// Adds `task` with its result or error and its label.
    pub fn push(
        &mut self,
        mut task: RecordedTask,
        outcome: &str,
        label: Option<&str>,
    ) -> Result<(), Problem> {
        if self.texts.len() + outcome.len() > u32::MAX as usize {
            return Err(Problem::whole(
                "more than 4 GiB of results and errors in one experiment: split the file",
            ));
        }
        task.text_start = self.texts.len() as u32;
        task.text_len = outcome.len() as u32;
        self.texts.push_str(outcome);
        task.label = label.map_or(NO_LABEL, |l| self.label_id(l));
        self.tasks.push(task);
        Ok(())
    }

    /// The number of label `text`, stored now if new.
    fn label_id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.label_ids.get(text) {
            return id;
        }
        let id = self.labels.len() as u32;
        self.labels.push(text.into());
        self.label_ids.insert(text.into(), id);
        id
    }

    /// Moves every task of `other` (a batch read in parallel) here, after these, their
    /// indices shifted by `index_offset`.
    pub fn append(&mut self, other: RecordedTasks, index_offset: u32) -> Result<(), Problem> {
        if self.texts.len() + other.texts.len() > u32::MAX as usize {
            return Err(Problem::whole(
                "more than 4 GiB of results and errors in one experiment: split the file",
            ));
        }
        let text_offset = self.texts.len() as u32;
        self.texts.push_str(&other.texts);
        let ids: Vec<u32> = other.labels.iter().map(|l| self.label_id(l)).collect();
        self.tasks.reserve(other.tasks.len());
        for mut task in other.tasks {
            task.index = task.index.saturating_add(index_offset);
            task.text_start += text_offset;
            if task.label != NO_LABEL {
                task.label = ids[task.label as usize];
            }
            self.tasks.push(task);
        }
        Ok(())
    }

    /// The tasks.
    pub fn as_slice(&self) -> &[RecordedTask] {
        &self.tasks
    }

    /// The tasks, to change their numbers and order (their texts stay theirs).
    pub fn as_mut_slice(&mut self) -> &mut [RecordedTask] {
        &mut self.tasks
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// What `task` returned (`Ok`) or why it failed (`Err`).
    pub fn outcome(&self, task: &RecordedTask) -> Result<&str, &str> {
        let start = task.text_start as usize;
        let text = self
            .texts
            .get(start..start + task.text_len as usize)
            .unwrap_or_default();
        if task.failed { Err(text) } else { Ok(text) }
    }

    /// `task`'s own label, if it has one.
    pub fn label(&self, task: &RecordedTask) -> Option<&str> {
        self.labels.get(task.label as usize).map(|l| &**l)
    }

    /// The distinct labels, by number, and each task's number: what the plan keeps.
    pub fn labels(&self) -> &[Box<str>] {
        &self.labels
    }

    /// The number of `task`'s label, if it has one.
    pub fn label_number(task: &RecordedTask) -> Option<u32> {
        (task.label != NO_LABEL).then_some(task.label)
    }

    /// Gives `task` the label `text`.
    pub fn set_label(&mut self, index_in_batch: usize, text: &str) {
        let id = self.label_id(text);
        if let Some(task) = self.tasks.get_mut(index_in_batch) {
            task.label = id;
        }
    }

    /// Sorts the tasks latest start first (never started at the front of the end, so they
    /// are popped first) and keeps only those that started: the order
    /// [`super::build`] replays them in, popping the earliest off the end. Tasks that start
    /// together go by their number, lowest first (a trace numbers a call before the calls
    /// it makes, so each is packed into the lane above theirs).
    pub fn sort_latest_first_dropping_unstarted(&mut self) {
        self.tasks
            .sort_unstable_by_key(|t| std::cmp::Reverse((t.start().map_or(0, |s| s + 1), t.index)));
        let started = self.tasks.partition_point(|t| t.start().is_some());
        self.tasks.truncate(started);
    }

    /// Takes the task started earliest (after [`Self::sort_latest_first_dropping_unstarted`]),
    /// handing back the memory of those taken as it goes.
    pub fn pop(&mut self) -> Option<RecordedTask> {
        let task = self.tasks.pop()?;
        // A big allocation shrinks in place (the allocator remaps it): no copy, and a
        // million rows never sit in memory beside the timeline they became.
        if self.tasks.capacity() > 4096 && self.tasks.len() < self.tasks.capacity() / 4 * 3 {
            self.tasks.shrink_to_fit();
        }
        Some(task)
    }

    /// Gives the task at `position` a new end, outcome and CPU time (a trace's `E`
    /// closing its `B`); its old text stays behind unused.
    pub(super) fn close(
        &mut self,
        position: usize,
        end: Option<u64>,
        outcome: Result<&str, &str>,
        cpu_time: Option<Duration>,
    ) -> Result<(), Problem> {
        let (failed, text) = match outcome {
            Ok(text) => (false, text),
            Err(text) => (true, text),
        };
        if self.texts.len() + text.len() > u32::MAX as usize {
            return Err(Problem::whole(
                "more than 4 GiB of results and errors in one experiment: split the file",
            ));
        }
        let text_start = self.texts.len() as u32;
        self.texts.push_str(text);
        if let Some(task) = self.tasks.get_mut(position) {
            task.end = end.map_or(NOT_RECORDED, |e| e.min(NOT_RECORDED - 1));
            task.failed = failed;
            task.text_start = text_start;
            task.text_len = text.len() as u32;
            task.cpu_ns = cpu_time.map_or(NOT_RECORDED, |c| {
                u64::try_from(c.as_nanos()).unwrap_or(NOT_RECORDED - 1)
            });
        }
        Ok(())
    }

    /// Keeps only the tasks `keep` says yes to (their texts stay behind).
    pub fn retain(&mut self, keep: impl FnMut(&RecordedTask) -> bool) {
        self.tasks.retain(keep);
    }

    /// Forgets the label table's index (the labels stay): what the build no longer needs.
    pub fn forget_label_index(&mut self) {
        self.label_ids = HashMap::new();
    }
}

/// A thread (or worker) that ran tasks. Tasks of one group that overlap in time are spread
/// over several lanes, so every lane's tasks follow one another, as the Gantt draws them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneGroup {
    /// The lane number to give its first lane, when the file says (poolscope's `worker`).
    pub worker: Option<usize>,
    /// Process id, 0 if unknown.
    pub pid: u32,
    /// Thread id, 0 if unknown.
    pub tid: u32,
    /// Its name in the file (a trace's `thread_name`).
    pub name: Option<String>,
}

/// One experiment as a file recorded it: one panel of `poolscope view`.
#[derive(Debug, Clone)]
pub struct RecordedExperiment {
    /// Its name (`process-fibo`, a trace's process name).
    pub name: String,
    /// The executor, when the file says or its name tells (`process-…`).
    pub executor: ExecutorKind,
    /// The workload, likewise (`…-fibo`).
    pub workload: WorkloadKind,
    /// How its tasks are called when they have no label of their own.
    pub tags: bool,
    /// The threads that ran its tasks.
    pub groups: Vec<LaneGroup>,
    /// Its tasks, in any order.
    pub tasks: RecordedTasks,
    /// Scheduler samples of its workers, when recorded (experiment field ignored).
    pub samples: Vec<SampleEvent>,
    /// GIL hand-offs, when recorded (experiment field ignored).
    pub gil: Vec<GilEvent>,
    /// Where it came from, for grouping: the folder of a CSV, the path of a trace.
    pub source: String,
    /// Its plan exactly, when the file carried it (poolscope's own trace).
    pub plan: Option<ExperimentPlan>,
    /// When it started and ended (before its first task, after its last), when recorded.
    pub bounds: Option<(u64, Option<u64>)>,
    /// When each worker became ready, when recorded (lanes that ran nothing show too).
    pub ready: Vec<(WorkerId, u64)>,
    /// Its place in its run, when the run said (its `summary.json`): panels follow it.
    pub position: Option<usize>,
    /// Its pool's size, when the run said (workers that never got a task have no rows).
    pub workers: Option<usize>,
    /// The figures the run itself computed, when it saved them.
    pub figures: Option<crate::model::event::ExperimentFigures>,
    /// Whether a thread's overlapping tasks are calls nested in one another (a trace's
    /// slices), so its extra lanes are levels of one call stack, which a chart may fold;
    /// otherwise they are tasks that ran at once (the post's CSVs), each lane as good as
    /// any other.
    pub nested: bool,
}

impl RecordedExperiment {
    /// An experiment with no tasks yet; executor and workload guessed from a name in the
    /// post's form (`process-fibo`, `thread-get`), else [`ExecutorKind::Recorded`].
    pub fn named(name: &str) -> Self {
        let (executor, workload) = kinds_from_name(name);
        RecordedExperiment {
            name: name.to_string(),
            executor,
            workload,
            tags: false,
            groups: Vec::new(),
            tasks: RecordedTasks::default(),
            samples: Vec::new(),
            gil: Vec::new(),
            source: String::new(),
            plan: None,
            bounds: None,
            ready: Vec::new(),
            position: None,
            workers: None,
            figures: None,
            nested: false,
        }
    }
}

/// `process-fibo` → processes, fib, as the post named its files; anything else is recorded.
pub fn kinds_from_name(name: &str) -> (ExecutorKind, WorkloadKind) {
    let found = name.split_once('-').and_then(|(prefix, suffix)| {
        let executor = ExecutorKind::ALL
            .into_iter()
            .find(|k| k.tag_prefix() == prefix)?;
        let workload = WorkloadKind::ALL
            .into_iter()
            .find(|k| k.tag_suffix() == suffix)?;
        Some((executor, workload))
    });
    found.unwrap_or((ExecutorKind::Recorded, WorkloadKind::Recorded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_task_is_56_bytes_with_nothing_on_the_heap() {
        assert_eq!(std::mem::size_of::<RecordedTask>(), 56);
    }

    #[test]
    fn batches_append_with_their_texts_and_labels_renumbered() {
        let task = |i| RecordedTask::new(i, i as u64, 0, (Some(1), Some(2)), false, None);
        let mut a = RecordedTasks::default();
        a.push(task(0), "one", Some("fib")).unwrap();
        let mut b = RecordedTasks::default();
        b.push(task(0), "two", Some("sleep")).unwrap();
        b.push(task(1), "three", Some("fib")).unwrap();
        b.push(task(2), "four", None).unwrap();
        a.append(b, 1).unwrap();
        let read: Vec<_> = a
            .as_slice()
            .iter()
            .map(|t| (t.index, a.outcome(t).unwrap(), a.label(t)))
            .collect();
        assert_eq!(
            read,
            [
                (0, "one", Some("fib")),
                (1, "two", Some("sleep")),
                (2, "three", Some("fib")),
                (3, "four", None)
            ]
        );
        assert_eq!(a.labels().len(), 2, "each label once");
    }
}
