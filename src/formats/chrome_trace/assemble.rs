//! From a trace's events, in file order, to experiments: each event goes straight into a
//! compact task row of its process's panel (a `B` at once, its `E` closing it later), the
//! threads and names are kept by number, and once the whole trace is read the rows are
//! put in order, numbered, and given their lanes.
//!
//! poolscope's own traces carry their plans in `otherData`, which its writer puts after
//! the events, so nothing here may depend on knowing the trace is poolscope's until the
//! end: what only its own traces use (a task's number, counter tracks, GIL tracks) is kept
//! for every trace and used, or counted as left out, in [`Collector::finish`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::value::RawValue;

use super::events::{Args, RawEvent, text};
use super::left_out::{EMPTY, LeftOut, NO_PHASE};
use super::pyspy;
use super::{GIL_HELD, GIL_TID_BASE, Id, OwnData};
use crate::formats::recorded::NOT_RECORDED;
use crate::formats::{
    FileContents, LaneGroup, Problem, RecordedExperiment, RecordedTask, RecordedTasks, Skipped,
};
use crate::model::clock::Timestamp;
use crate::model::event::{GilEvent, GilEventKind, SampleEvent, WorkerId};
use crate::model::plan::{ExecutorKind, WorkloadKind};

/// A time in µs (any sign, any fraction) as a row keeps it until the earliest is known:
/// rounded, and mapped so that the order of the numbers is the order of the times.
fn encode(t: f64) -> u64 {
    let rounded = t.round().clamp(-9.0e18, 9.0e18) as i64;
    (rounded as u64) ^ (1 << 63)
}

fn decode(encoded: u64) -> i64 {
    (encoded ^ (1 << 63)) as i64
}

/// A `B` waiting for its `E`: where its row is, and its own args for the `E` to complete.
struct Open {
    pid: u32,
    position: usize,
    start: f64,
    status: Option<String>,
    result: Option<String>,
    error: Option<String>,
    input: Option<u64>,
    task: Option<u64>,
    cpu: Option<f64>,
}

/// One value of a counter track (only poolscope's own `sched` tracks are read): a state
/// track's shares, or a switches track's counts.
struct Counter {
    pid: u32,
    name: u32,
    ts: f64,
    shares: [f32; 3],
    switches: Option<(u32, u32)>,
}

/// A process's rows, and the task numbers its events gave (by row position).
#[derive(Default)]
struct PidTasks {
    tasks: RecordedTasks,
    task_args: Vec<(u32, u64)>,
}

/// What a task's args say of how it ended: failed or not, and its text.
fn outcome<'a>(
    status: Option<&str>,
    result: Option<Cow<'a, str>>,
    error: Option<Cow<'a, str>>,
) -> (bool, Cow<'a, str>) {
    let failed =
        matches!(status, Some("error" | "failed")) || error.as_ref().is_some_and(|e| !e.is_empty());
    if failed {
        (true, error.unwrap_or(Cow::Borrowed("failed")))
    } else {
        (false, result.unwrap_or_default())
    }
}

fn cpu_of(seconds: Option<f64>) -> Option<Duration> {
    seconds
        .filter(|c| c.is_finite() && *c >= 0.0 && *c < 1e12)
        .map(Duration::from_secs_f64)
}

/// Everything read from a trace so far.
pub(super) struct Collector {
    lenient: bool,
    skipped: Skipped,
    left_out: LeftOut,
    pids: HashMap<Id, u32>,
    pid_ids: Vec<Id>,
    threads: HashMap<(u32, Id), u32>,
    thread_keys: Vec<(u32, Id)>,
    process_names: HashMap<u32, String>,
    process_order: HashMap<u32, i64>,
    thread_names: HashMap<u32, String>,
    thread_order: HashMap<u32, i64>,
    thread_os: HashMap<u32, (u32, u32)>,
    thread_ready: HashMap<u32, f64>,
    per_pid: Vec<PidTasks>,
    open: HashMap<u32, Vec<Open>>,
    /// py-spy's `B`s open, by thread id across processes (see [`pyspy`]).
    pyspy: pyspy::Stacks,
    counters: Vec<Counter>,
    counter_names: HashMap<String, u32>,
}

impl Collector {
    pub(super) fn new(lenient: bool) -> Self {
        Collector {
            lenient,
            skipped: Skipped::default(),
            left_out: LeftOut::default(),
            pids: HashMap::new(),
            pid_ids: Vec::new(),
            threads: HashMap::new(),
            thread_keys: Vec::new(),
            process_names: HashMap::new(),
            process_order: HashMap::new(),
            thread_names: HashMap::new(),
            thread_order: HashMap::new(),
            thread_os: HashMap::new(),
            thread_ready: HashMap::new(),
            per_pid: Vec::new(),
            open: HashMap::new(),
            pyspy: pyspy::Stacks::default(),
            counters: Vec::new(),
            counter_names: HashMap::new(),
        }
    }

    /// Skips the event with `problem` (lenient) or stops with it.
    pub(super) fn skip(&mut self, problem: Problem) -> Result<(), Problem> {
        self.skipped.skip_or_fail(self.lenient, problem)
    }

    fn pid(&mut self, id: Option<Id>) -> u32 {
        let id = id.unwrap_or(Id::Number(0));
        if let Some(&n) = self.pids.get(&id) {
            return n;
        }
        let n = self.pid_ids.len() as u32;
        self.pid_ids.push(id.clone());
        self.pids.insert(id, n);
        self.per_pid.push(PidTasks::default());
        n
    }

    fn thread(&mut self, pid: u32, tid: Option<Id>) -> u32 {
        let key = (pid, tid.unwrap_or(Id::Number(0)));
        if let Some(&n) = self.threads.get(&key) {
            return n;
        }
        let n = self.thread_keys.len() as u32;
        self.thread_keys.push(key.clone());
        self.threads.insert(key, n);
        n
    }

    /// Takes one event found at `line`, `column`.
    pub(super) fn add(
        &mut self,
        event: RawEvent<'_>,
        line: u64,
        column: u64,
    ) -> Result<(), Problem> {
        let bad = |message: String| Problem {
            line: Some(line),
            column: Some(column.to_string()),
            message,
        };
        // `{}` ends many writers' arrays; events without a phase, or of phases poolscope
        // does not draw, are skipped as Perfetto skips them, and counted.
        if event.empty {
            self.left_out.add(EMPTY, 1);
            return Ok(());
        }
        let Some(ph) = event.ph.as_deref() else {
            self.left_out.add(NO_PHASE, 1);
            return Ok(());
        };
        let ts = match event.ts {
            Some(ts) if ts.is_finite() => Some(ts),
            Some(_) => return self.skip(bad("\"ts\" is not a finite number".into())),
            None => None,
        };
        let needs_ts = matches!(ph, "X" | "B" | "E");
        let ts = match ts {
            Some(ts) => ts,
            None if needs_ts => {
                return self.skip(bad(format!(
                    "a \"{ph}\" event without \"ts\": expected its time in µs"
                )));
            }
            None => f64::NAN,
        };
        match ph {
            "M" => {
                self.meta(event);
                Ok(())
            }
            "X" => self.complete(event, ts, bad),
            "B" => self.begin(event, ts),
            "E" => self.end(event, ts, bad),
            "C" if event.cat.as_deref() == Some("sched") && ts.is_finite() => {
                let pid = self.pid(event.pid);
                let names = self.counter_names.len() as u32;
                let name = *self
                    .counter_names
                    .entry(event.name.unwrap_or_default().0.into_owned())
                    .or_insert(names);
                let args = event.args.unwrap_or_default();
                let share = |s: &Option<super::events::Scalar<'_>>| {
                    s.as_ref().and_then(|s| s.as_f64()).unwrap_or(0.0) as f32
                };
                let count = |s: &Option<super::events::Scalar<'_>>| {
                    s.as_ref()
                        .and_then(|s| s.as_f64())
                        .filter(|x| x.is_finite() && *x >= 0.0 && *x <= f64::from(u32::MAX))
                        .map(|x| x as u32)
                };
                self.counters.push(Counter {
                    pid,
                    name,
                    ts,
                    shares: [
                        share(&args.running),
                        share(&args.runnable),
                        share(&args.blocked),
                    ],
                    switches: count(&args.voluntary).zip(count(&args.involuntary)),
                });
                Ok(())
            }
            other => {
                self.left_out.add(other, 1);
                Ok(())
            }
        }
    }

    fn meta(&mut self, event: RawEvent<'_>) {
        let pid = self.pid(event.pid);
        let args = event.args.unwrap_or_default();
        let name = args
            .name
            .as_ref()
            .and_then(|n| n.as_str())
            .map(str::to_string);
        let sort = args.sort_index.as_ref().and_then(|s| s.as_i64());
        match (event.name.as_deref(), name, sort) {
            (Some("process_name"), Some(name), _) => {
                self.process_names.insert(pid, name);
            }
            (Some("thread_name"), Some(name), _) => {
                let thread = self.thread(pid, event.tid);
                let os =
                    |s: &Option<super::events::Scalar<'_>>| s.as_ref().and_then(|s| s.as_u64());
                if let (Some(p), Some(t)) = (os(&args.os_pid), os(&args.os_tid)) {
                    self.thread_os.insert(thread, (p as u32, t as u32));
                }
                if let Some(ready) = args.ready_ts.as_ref().and_then(|r| r.as_f64())
                    && ready.is_finite()
                {
                    self.thread_ready.insert(thread, ready);
                }
                self.thread_names.insert(thread, name);
            }
            (Some("process_sort_index"), _, Some(sort)) => {
                self.process_order.insert(pid, sort);
            }
            (Some("thread_sort_index"), _, Some(sort)) => {
                let thread = self.thread(pid, event.tid);
                self.thread_order.insert(thread, sort);
            }
            _ => {}
        }
    }

    /// Adds a row for a task of `pid` on `thread`; returns its position.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        pid: u32,
        thread: u32,
        (start, end): (f64, Option<f64>),
        args: &Args<'_>,
        name: &str,
        cancelled: bool,
        (failed, text): (bool, &str),
    ) -> Result<usize, Problem> {
        let input = args.input.as_ref().and_then(|i| i.as_u64());
        let tasks = &mut self.per_pid[pid as usize].tasks;
        let position = tasks.len();
        let mut task = RecordedTask::new(
            position,
            input.unwrap_or(0),
            thread as usize,
            (Some(encode(start)), end.filter(|_| !cancelled).map(encode)),
            failed,
            cpu_of(args.cpu_time_s.as_ref().and_then(|c| c.as_f64())),
        );
        task.has_input = input.is_some();
        tasks.push(task, text, Some(name))?;
        Ok(position)
    }

    fn complete(
        &mut self,
        event: RawEvent<'_>,
        ts: f64,
        bad: impl Fn(String) -> Problem,
    ) -> Result<(), Problem> {
        let dur = match event.dur {
            Some(d) if d.is_finite() && d >= 0.0 => d,
            Some(d) => {
                return self.skip(bad(format!(
                    "\"dur\" is {d}: the end is before the start; expected a duration ≥ 0 in µs"
                )));
            }
            None => {
                return self.skip(bad(
                    "an \"X\" event without \"dur\": expected its duration in µs".into(),
                ));
            }
        };
        let pid = self.pid(event.pid);
        let thread = self.thread(pid, event.tid);
        let args = event.args.unwrap_or_default();
        let status = text(args.status);
        let cancelled = matches!(status.as_deref(), Some("cancelled" | "running"));
        let (failed, outcome) = outcome(status.as_deref(), text(args.result), text(args.error));
        let position = self.push(
            pid,
            thread,
            (ts, Some(ts + dur)),
            &args,
            event.name.as_deref().unwrap_or_default(),
            cancelled,
            (failed, &outcome),
        )?;
        if let Some(task) = args.task.as_ref().and_then(|t| t.as_u64()) {
            self.per_pid[pid as usize]
                .task_args
                .push((position as u32, task));
        }
        Ok(())
    }

    fn begin(&mut self, event: RawEvent<'_>, ts: f64) -> Result<(), Problem> {
        let pid = self.pid(event.pid);
        let thread = self.thread(pid, event.tid);
        let from_pyspy = event.cat.as_deref() == Some(pyspy::CATEGORY);
        let args = event.args.unwrap_or_default();
        let own = |raw: Option<&RawValue>| text(raw).map(Cow::into_owned);
        let (status, result, error) = (own(args.status), own(args.result), own(args.error));
        let (failed, outcome) = outcome(
            status.as_deref(),
            result.as_deref().map(Cow::Borrowed),
            error.as_deref().map(Cow::Borrowed),
        );
        let position = self.push(
            pid,
            thread,
            (ts, None),
            &args,
            event.name.as_deref().unwrap_or_default(),
            false,
            (failed, &outcome),
        )?;
        // Only a slice that was kept is on py-spy's stack, so its ends stay in step.
        if from_pyspy {
            self.pyspy
                .opened(&self.thread_keys[thread as usize].1, thread);
        }
        self.open.entry(thread).or_default().push(Open {
            pid,
            position,
            start: ts,
            status,
            result,
            error,
            input: args.input.as_ref().and_then(|i| i.as_u64()),
            task: args.task.as_ref().and_then(|t| t.as_u64()),
            cpu: args.cpu_time_s.as_ref().and_then(|c| c.as_f64()),
        });
        Ok(())
    }

    fn end(
        &mut self,
        event: RawEvent<'_>,
        ts: f64,
        bad: impl Fn(String) -> Problem,
    ) -> Result<(), Problem> {
        let pid = self.pid(event.pid.clone());
        let mut thread = self.thread(pid, event.tid.clone());
        // py-spy's ends go by thread id alone, whatever their pid says.
        if event.cat.as_deref() == Some(pyspy::CATEGORY) {
            thread = self
                .pyspy
                .closing(&self.thread_keys[thread as usize].1)
                .unwrap_or(thread);
        }
        let Some(open) = self.open.get_mut(&thread).and_then(Vec::pop) else {
            let describe = |id: &Option<Id>| id.as_ref().map_or("0".to_string(), Id::describe);
            return self.skip(bad(format!(
                "an \"E\" (end) event with no \"B\" (begin) open on pid {} tid {}: expected a B before it",
                crate::model::display::shorten(&describe(&event.pid), 40),
                crate::model::display::shorten(&describe(&event.tid), 40),
            )));
        };
        let tasks = &mut self.per_pid[open.pid as usize].tasks;
        if ts < open.start {
            // The pair is left out, its begin with it.
            if let Some(task) = tasks.as_mut_slice().get_mut(open.position) {
                task.start = NOT_RECORDED;
            }
            return self.skip(bad(format!(
                "this \"E\" at ts {ts} ends before its \"B\" at ts {}: expected an end at or after the begin",
                open.start
            )));
        }
        // The end's args complete (and override) the begin's.
        let args = event.args.unwrap_or_default();
        let status = text(args.status).or(open.status.as_deref().map(Cow::Borrowed));
        let result = text(args.result).or(open.result.as_deref().map(Cow::Borrowed));
        let error = text(args.error).or(open.error.as_deref().map(Cow::Borrowed));
        let cancelled = matches!(status.as_deref(), Some("cancelled" | "running"));
        let (failed, text) = outcome(status.as_deref(), result, error);
        let cpu = cpu_of(
            args.cpu_time_s
                .as_ref()
                .and_then(|c| c.as_f64())
                .or(open.cpu),
        );
        let end = (!cancelled).then(|| encode(ts));
        tasks.close(
            open.position,
            end,
            if failed { Err(&text) } else { Ok(&text) },
            cpu,
        )?;
        if let Some(input) = args.input.as_ref().and_then(|i| i.as_u64()).or(open.input)
            && let Some(task) = tasks.as_mut_slice().get_mut(open.position)
        {
            task.input = input;
            task.has_input = true;
        }
        let task = args.task.as_ref().and_then(|t| t.as_u64()).or(open.task);
        if let Some(task) = task {
            self.per_pid[open.pid as usize]
                .task_args
                .push((open.position as u32, task));
        }
        Ok(())
    }

    /// The experiments: one per process with tasks, in order (sort index, then pid), their
    /// rows numbered and given lanes; with `own` (poolscope's own trace), its plans, GIL
    /// tracks, counter tracks and ready times too.
    pub(super) fn finish(mut self, stem: &str, own: Option<OwnData>) -> FileContents {
        // Begins never ended: the trace was cut while they ran. Their numbers still count.
        for (_, stack) in std::mem::take(&mut self.open) {
            for open in stack {
                if let Some(task) = open.task {
                    self.per_pid[open.pid as usize]
                        .task_args
                        .push((open.position as u32, task));
                }
            }
        }
        if own.is_none() {
            self.left_out.add("C", self.counters.len());
        }
        // Times: µs, shifted so none is negative.
        let earliest = self
            .per_pid
            .iter()
            .flat_map(|p| p.tasks.as_slice().iter())
            .filter(|t| t.start != NOT_RECORDED)
            .map(|t| decode(t.start))
            .chain(self.thread_ready.values().map(|&r| r.round() as i64))
            .fold(0i64, i64::min);
        let micros = |t: f64| ((t.round() as i64).saturating_sub(earliest)).max(0) as u64;
        // Panels: by process sort index, then pid.
        let mut pids: Vec<u32> = (0..self.per_pid.len() as u32)
            .filter(|&p| !self.per_pid[p as usize].tasks.is_empty())
            .collect();
        pids.sort_by_key(|p| {
            (
                self.process_order.get(p).copied().unwrap_or(0),
                self.pid_ids[*p as usize].clone(),
            )
        });
        let single = pids.len() == 1;
        let mut experiments = Vec::with_capacity(pids.len());
        for pid in pids {
            let tasks = std::mem::take(&mut self.per_pid[pid as usize]);
            experiments.push(self.experiment(
                pid,
                tasks,
                (stem, single),
                own.as_ref(),
                earliest,
                &micros,
            ));
        }
        let mut notes = Vec::new();
        notes.extend(self.left_out.note());
        FileContents {
            experiments,
            cores: own.as_ref().and_then(|o| o.cores).filter(|&c| c > 0),
            run_bounds: own.and_then(|o| o.run).and_then(|run| {
                let start = run.get(0)?.as_u64()?;
                let end = run.get(1).and_then(serde_json::Value::as_u64);
                Some(crate::formats::saved::bounds(start, end))
            }),
            skipped: self.skipped,
            notes,
        }
    }

    /// The experiment of process `pid` from its rows.
    fn experiment(
        &self,
        pid: u32,
        PidTasks {
            mut tasks,
            mut task_args,
        }: PidTasks,
        (stem, single): (&str, bool),
        own: Option<&OwnData>,
        earliest: i64,
        micros: &impl Fn(f64) -> u64,
    ) -> RecordedExperiment {
        let pid_id = &self.pid_ids[pid as usize];
        let own_plan = own.and_then(|own| {
            let index = usize::try_from(pid_id.number()? - 1).ok()?;
            own.experiments.get(index).cloned()
        });
        let name = match (&own_plan, self.process_names.get(&pid)) {
            (Some(plan), _) => plan.name.clone(),
            (None, Some(name)) => name.clone(),
            (None, None) if single => stem.to_string(),
            (None, None) => match pid_id {
                Id::Number(n) => format!("pid {n}"),
                Id::Text(text) => text.clone(),
            },
        };
        let mut experiment = RecordedExperiment::named(&name);
        // A thread's slices that overlap are calls within calls (poolscope's own tasks
        // never overlap on a worker).
        experiment.nested = own_plan.is_none();
        if own_plan.is_none() && experiment.executor != ExecutorKind::Recorded {
            // A trace process named `process-fibo` is not poolscope's processes pool.
            experiment.executor = ExecutorKind::Recorded;
            experiment.workload = WorkloadKind::Recorded;
        }
        tasks.retain(|t| t.start != NOT_RECORDED);
        let tid_of = |thread: u32| &self.thread_keys[thread as usize].1;
        // Times on the file's scale from here on.
        for task in tasks.as_mut_slice() {
            task.start = (decode(task.start) - earliest) as u64;
            if task.end != NOT_RECORDED {
                task.end = ((decode(task.end) - earliest) as u64).max(task.start);
            }
        }
        if own_plan.is_some() {
            // GIL tracks are hand-offs, not tasks.
            for task in tasks.as_slice() {
                let Some(tid) = tid_of(task.group).number().filter(|&t| t >= GIL_TID_BASE) else {
                    continue;
                };
                let worker = self.worker(pid, (tid - GIL_TID_BASE).max(0) as usize);
                let held = tasks.label(task) == Some(GIL_HELD);
                let start = task.start().unwrap_or(0);
                experiment.gil.push(GilEvent {
                    experiment: 0,
                    worker,
                    at: Timestamp(start),
                    kind: if held {
                        GilEventKind::Acquired
                    } else {
                        GilEventKind::Waiting
                    },
                });
                // A wait ends where the hold begins.
                if let (true, Some(end)) = (held, task.end()) {
                    experiment.gil.push(GilEvent {
                        experiment: 0,
                        worker,
                        at: Timestamp(end),
                        kind: GilEventKind::Released,
                    });
                }
            }
            tasks.retain(|t| tid_of(t.group).number().is_none_or(|t| t < GIL_TID_BASE));
            experiment.gil.sort_by_key(|g| g.at);
        }
        // Lanes: by thread sort index, then tid; found by hash, however many threads.
        let threads: HashSet<u32> = tasks.as_slice().iter().map(|t| t.group).collect();
        let mut threads: Vec<u32> = threads.into_iter().collect();
        threads.sort_by_cached_key(|&t| {
            (
                self.thread_order.get(&t).copied().unwrap_or(0),
                tid_of(t).clone(),
            )
        });
        let group_of: HashMap<u32, u32> = threads
            .iter()
            .enumerate()
            .map(|(g, &t)| (t, g as u32))
            .collect();
        for &thread in &threads {
            let tid = tid_of(thread);
            let (os_pid, os_tid) = self
                .thread_os
                .get(&thread)
                .copied()
                .unwrap_or((pid_id.os_id(), tid.os_id()));
            experiment.groups.push(LaneGroup {
                worker: own_plan
                    .as_ref()
                    .and_then(|_| usize::try_from(tid.number()? - 1).ok()),
                pid: os_pid,
                tid: os_tid,
                name: match &own_plan {
                    Some(_) => None,
                    None => Some(self.thread_names.get(&thread).cloned().unwrap_or_else(
                        || match tid {
                            Id::Number(n) => format!("tid {n}"),
                            Id::Text(text) => text.clone(),
                        },
                    )),
                },
            });
        }
        // Tasks by start, the longer first where two start together (a call before the
        // calls it makes, whichever the writer put first: viztracer writes a call when it
        // returns), then in file order; poolscope's own keep their number, others are
        // numbered so.
        task_args.sort_unstable_by_key(|&(position, _)| position);
        let task_arg = |position: u32| {
            let at = task_args.partition_point(|&(p, _)| p <= position);
            at.checked_sub(1)
                .map(|i| task_args[i])
                .filter(|&(p, _)| p == position)
                .map(|(_, task)| task)
        };
        let mut number_of = Vec::new();
        let mut used = vec![false; own_plan.as_ref().map_or(0, |p| p.inputs.len())];
        {
            let rows = tasks.as_mut_slice();
            rows.sort_unstable_by_key(|t| (t.start, std::cmp::Reverse(t.end), t.index));
            for (position, task) in rows.iter_mut().enumerate() {
                let index = match task_arg(task.index) {
                    Some(t)
                        if own_plan.is_some() && (t as usize) < used.len() && !used[t as usize] =>
                    {
                        t as usize
                    }
                    _ if own_plan.is_some() => usize::MAX,
                    _ => position,
                };
                if let Some(slot) = used.get_mut(index) {
                    *slot = true;
                }
                number_of.push(index);
                task.group = group_of.get(&task.group).copied().unwrap_or(0);
            }
            for (task, &index) in rows.iter_mut().zip(&number_of) {
                task.index = u32::try_from(index).unwrap_or(u32::MAX);
                if !task.has_input {
                    task.input = index as u64;
                }
            }
        }
        tasks.retain(|t| t.index != u32::MAX);
        tasks.forget_label_index();
        experiment.tasks = tasks;
        if let Some(plan) = own_plan {
            self.own_extras(pid, &mut experiment, own, micros);
            // The figures the run reported, as its summary.json gave them.
            let index = self.pid_ids[pid as usize]
                .number()
                .map_or(0, |p| (p - 1).max(0) as usize);
            if let Some(entry) = own
                .and_then(|o| o.figures.get(index))
                .and_then(|f| super::super::saved::experiment(index, f))
                .filter(|entry| entry.name == plan.name)
            {
                experiment.position = Some(entry.position);
                experiment.workers = entry.workers;
                experiment.figures = Some(entry.figures);
            }
            experiment.executor = plan.executor;
            experiment.workload = plan.workload;
            experiment.plan = Some(plan);
        }
        experiment
    }

    /// Worker `index` of process `pid` (poolscope's tid `index + 1`) with its OS ids.
    fn worker(&self, pid: u32, index: usize) -> WorkerId {
        let (os_pid, os_tid) = self
            .threads
            .get(&(pid, Id::Number(index as i64 + 1)))
            .and_then(|t| self.thread_os.get(t))
            .copied()
            .unwrap_or((0, 0));
        WorkerId {
            index,
            pid: os_pid,
            tid: os_tid,
        }
    }

    /// What poolscope's own trace adds: the experiment's bounds, its workers' ready times,
    /// and its counter tracks back to samples.
    fn own_extras(
        &self,
        pid: u32,
        experiment: &mut RecordedExperiment,
        own: Option<&OwnData>,
        micros: &impl Fn(f64) -> u64,
    ) {
        let pid_id = &self.pid_ids[pid as usize];
        let index = pid_id.number().map_or(0, |p| (p - 1).max(0) as usize);
        experiment.bounds = own
            .and_then(|o| o.spans.get(index).copied())
            .map(|(begin, end)| (micros(begin as f64), end.map(|e| micros(e as f64))));
        for (&thread, &ready) in &self.thread_ready {
            let (rpid, tid) = &self.thread_keys[thread as usize];
            let Some(worker) = (*rpid == pid)
                .then(|| tid.number().and_then(|t| usize::try_from(t - 1).ok()))
                .flatten()
            else {
                continue;
            };
            experiment
                .ready
                .push((self.worker(pid, worker), micros(ready)));
        }
        experiment.ready.sort_by_key(|(w, _)| w.index);
        // Counter tracks back to samples: each value lasts until the next.
        let mut by_name: HashMap<u32, Vec<&Counter>> = HashMap::new();
        for counter in self.counters.iter().filter(|c| c.pid == pid) {
            by_name.entry(counter.name).or_default().push(counter);
        }
        let names: HashMap<u32, &str> = self
            .counter_names
            .iter()
            .map(|(name, &n)| (n, name.as_str()))
            .collect();
        let mut names_in_order: Vec<u32> = by_name.keys().copied().collect();
        names_in_order.sort_unstable();
        // Switch counts per interval, by worker and the interval's start.
        let mut switches: HashMap<(usize, u64), (u32, u32)> = HashMap::new();
        for name in &names_in_order {
            let Some(worker) = names
                .get(name)
                .and_then(|n| n.strip_prefix('w'))
                .and_then(|n| n.strip_suffix(" switches"))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            for point in by_name.get(name).into_iter().flatten() {
                if let Some(counts) = point.switches {
                    switches.insert((worker, micros(point.ts)), counts);
                }
            }
        }
        for name in names_in_order {
            let Some(worker) = names
                .get(&name)
                .and_then(|n| n.strip_prefix('w'))
                .and_then(|n| n.strip_suffix(" state"))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            let index = worker;
            let worker = self.worker(pid, worker);
            let points = by_name
                .get_mut(&name)
                .map(std::mem::take)
                .unwrap_or_default();
            let mut points = points;
            points.sort_by(|a, b| a.ts.total_cmp(&b.ts));
            for pair in points.windows(2) {
                let [running, runnable, blocked] = pair[0].shares.map(|x| x.clamp(0.0, 1.0));
                if running + runnable + blocked == 0.0 {
                    continue; // the track dropped to zero: a gap, not a sample
                }
                let from = micros(pair[0].ts);
                let counted = switches.get(&(index, from));
                experiment.samples.push(SampleEvent {
                    experiment: 0,
                    worker,
                    from: Timestamp(from),
                    to: Timestamp(micros(pair[1].ts)),
                    running,
                    runnable,
                    blocked,
                    voluntary_switches: counted.map(|c| c.0),
                    involuntary_switches: counted.map(|c| c.1),
                    gil: None,
                    waits: None,
                });
            }
        }
    }
}
