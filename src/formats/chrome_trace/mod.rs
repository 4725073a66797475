//! Chrome Trace Event JSON, in and out: what `ray timeline`, viztracer and many profilers
//! write, and what Perfetto's UI and `chrome://tracing` load.
//!
//! In: an object with `traceEvents` or a bare array. Complete events (`X`, `ts` + `dur`)
//! and `B`/`E` pairs become tasks, in µs; `pid` → one panel each, `tid` → a lane (more where
//! a thread's events overlap: nested calls stack like a flame graph), named from
//! `process_name` / `thread_name` metadata when present; event names are the task labels.
//! Other phases (instants, counters, flows, async) are counted and left out. Events are
//! found as raw slices of the file first, then parsed in parallel, so a bad one is reported
//! with its line and column in the file.
//!
//! Out: one pid per experiment (`process_name`), one tid per worker from 1 (`thread_name`),
//! an `X` per task with its input, result, CPU time and status in `args`; scheduler samples
//! as counter (`C`) tracks and GIL hand-offs as slices on a track per worker. The plans ride
//! along in `otherData.poolscope`, so poolscope reads its own traces back exactly.

use std::collections::HashMap;
use std::time::Duration;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::{
    FileContents, LaneGroup, Problem, Progress, RecordedExperiment, RecordedTask, Skipped,
};
mod write;

pub use write::export;

use crate::model::clock::Timestamp;
use crate::model::event::{GilEvent, GilEventKind, SampleEvent, WorkerId};
use crate::model::plan::{ExecutorKind, ExperimentPlan, WorkloadKind};

/// GIL tracks of worker `w` are on tid `GIL_TID_BASE + w`.
const GIL_TID_BASE: i64 = 100_000;

/// A pid or tid: traces use numbers or strings (`ray timeline`: "Node 10.0.0.1").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(untagged)]
enum Id {
    Number(i64),
    Text(String),
}

impl Id {
    fn number(&self) -> Option<i64> {
        match self {
            Id::Number(n) => Some(*n),
            Id::Text(t) => t.parse().ok(),
        }
    }

    fn os_id(&self) -> u32 {
        self.number()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    }

    fn describe(&self) -> String {
        match self {
            Id::Number(n) => n.to_string(),
            Id::Text(t) => t.clone(),
        }
    }
}

/// One trace event, as far as poolscope reads it.
#[derive(Debug, Deserialize)]
struct RawEvent {
    ph: Option<String>,
    name: Option<String>,
    cat: Option<String>,
    pid: Option<Id>,
    tid: Option<Id>,
    ts: Option<f64>,
    dur: Option<f64>,
    args: Option<serde_json::Map<String, Value>>,
}

#[derive(Deserialize)]
struct TraceObject<'a> {
    #[serde(rename = "traceEvents", borrow)]
    trace_events: Option<Vec<&'a RawValue>>,
    #[serde(rename = "otherData")]
    other_data: Option<Value>,
}

/// Where in the text a byte offset is: 1-based line and column.
fn line_column(text: &[u8], offset: usize) -> (u64, u64) {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
    (line, column)
}

fn problem_at(text: &[u8], offset: usize, message: String) -> Problem {
    let (line, column) = line_column(text, offset);
    Problem {
        line: Some(line),
        column: Some(column.to_string()),
        message,
    }
}

/// A task being put together: its pid, tid, times, name and args.
struct Slice {
    pid: Id,
    tid: Id,
    start: f64,
    end: Option<f64>,
    name: String,
    args: serde_json::Map<String, Value>,
}

/// Reads a trace (its first byte `{` or `[`) into one experiment per pid.
pub fn read(
    stem: &str,
    bytes: &[u8],
    lenient: bool,
    progress: &Progress,
) -> Result<FileContents, Problem> {
    let json_error = |e: serde_json::Error, what: &str| {
        // serde's message ends with its own "at line L column C": ours says it first.
        let text = e.to_string();
        let text = text
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string();
        Problem {
            line: Some(e.line() as u64),
            column: Some(e.column().to_string()),
            message: format!("{what}: {text}"),
        }
    };
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let (raw, other_data): (Vec<&RawValue>, Option<Value>) = if bytes[start] == b'[' {
        let raw = match serde_json::from_slice(bytes) {
            Ok(raw) => raw,
            // The array form may lack its closing bracket (a trace cut short is still a
            // trace, the format says): close it and read what is there.
            Err(e) if e.is_eof() => {
                let end = bytes
                    .iter()
                    .rposition(|b| !b.is_ascii_whitespace() && *b != b',')
                    .map_or(0, |i| i + 1);
                let mended = [&bytes[..end], b"]"].concat();
                let raw: Vec<&RawValue> = serde_json::from_slice(&mended).map_err(|_| {
                    json_error(e, "not valid JSON (expected an array of trace events)")
                })?;
                let note = "the trace has no closing ']' (cut short): read what is there";
                // Offsets are into the mended copy, which starts as the file does.
                let mut contents = finish(stem, &mended, raw, None, lenient, progress)?;
                contents.notes.push(note.to_string());
                return Ok(contents);
            }
            Err(e) => {
                return Err(json_error(
                    e,
                    "not valid JSON (expected an array of trace events)",
                ));
            }
        };
        (raw, None)
    } else {
        let object: TraceObject = serde_json::from_slice(bytes).map_err(|e| {
            json_error(
                e,
                "not valid JSON (expected an object with \"traceEvents\")",
            )
        })?;
        let Some(events) = object.trace_events else {
            return Err(Problem::at(
                1,
                None,
                "a JSON object without \"traceEvents\": expected a Chrome trace",
            ));
        };
        (events, object.other_data)
    };
    finish(stem, bytes, raw, other_data, lenient, progress)
}

/// Reads the events found in `bytes` (the raw slices `raw`) into experiments.
fn finish(
    stem: &str,
    bytes: &[u8],
    raw: Vec<&RawValue>,
    other_data: Option<Value>,
    lenient: bool,
    progress: &Progress,
) -> Result<FileContents, Problem> {
    let offset_of = |raw: &RawValue| raw.get().as_ptr() as usize - bytes.as_ptr() as usize;
    let parsed: Vec<(usize, Result<RawEvent, String>)> = raw
        .par_iter()
        .map(|raw| {
            let event = serde_json::from_str::<RawEvent>(raw.get()).map_err(|e| {
                format!(
                    "not a trace event ({e}): expected {{\"ph\", \"name\", \"pid\", \"tid\", \"ts\", …}}"
                )
            });
            progress.advance(raw.get().len());
            (offset_of(raw), event)
        })
        .collect();
    drop(raw);
    let own = other_data
        .as_ref()
        .and_then(|d| d.get("poolscope"))
        .and_then(|p| serde_json::from_value::<OwnData>(p.clone()).ok());

    let mut skipped = Skipped::default();
    let mut process_names: HashMap<Id, String> = HashMap::new();
    let mut process_order: HashMap<Id, i64> = HashMap::new();
    let mut thread_names: HashMap<(Id, Id), String> = HashMap::new();
    let mut thread_order: HashMap<(Id, Id), i64> = HashMap::new();
    let mut thread_os: HashMap<(Id, Id), (u32, u32)> = HashMap::new();
    let mut thread_ready: HashMap<(Id, Id), f64> = HashMap::new();
    let mut slices: Vec<Slice> = Vec::new();
    let mut open: HashMap<(Id, Id), Vec<Slice>> = HashMap::new();
    let mut counters: Vec<(Id, String, f64, serde_json::Map<String, Value>)> = Vec::new();
    let mut ignored: HashMap<String, usize> = HashMap::new();
    for (offset, event) in parsed {
        let bad = |message: String| problem_at(bytes, offset, message);
        let event = match event {
            Ok(event) => event,
            Err(message) => {
                skipped.skip_or_fail(lenient, bad(message))?;
                continue;
            }
        };
        let Some(ph) = event.ph.as_deref() else {
            skipped.skip_or_fail(
                lenient,
                bad("an event without \"ph\": expected its phase, like \"X\"".into()),
            )?;
            continue;
        };
        let pid = event.pid.clone().unwrap_or(Id::Number(0));
        let tid = event.tid.clone().unwrap_or(Id::Number(0));
        let ts = match event.ts {
            Some(ts) if ts.is_finite() => Some(ts),
            Some(_) => {
                skipped.skip_or_fail(lenient, bad("\"ts\" is not a finite number".into()))?;
                continue;
            }
            None => None,
        };
        let need_ts = |skipped: &mut Skipped| -> Result<Option<f64>, Problem> {
            if ts.is_none() {
                skipped.skip_or_fail(
                    lenient,
                    bad(format!(
                        "a \"{ph}\" event without \"ts\": expected its time in µs"
                    )),
                )?;
            }
            Ok(ts)
        };
        match ph {
            "M" => {
                let args = event.args.unwrap_or_default();
                let name = args.get("name").and_then(Value::as_str).map(str::to_string);
                let sort = args.get("sort_index").and_then(Value::as_i64);
                match (event.name.as_deref(), name, sort) {
                    (Some("process_name"), Some(name), _) => {
                        process_names.insert(pid, name);
                    }
                    (Some("thread_name"), Some(name), _) => {
                        let key = (pid, tid);
                        if let (Some(p), Some(t)) = (
                            args.get("os_pid").and_then(Value::as_u64),
                            args.get("os_tid").and_then(Value::as_u64),
                        ) {
                            thread_os.insert(key.clone(), (p as u32, t as u32));
                        }
                        if let Some(ready) = args.get("ready_ts").and_then(Value::as_f64) {
                            thread_ready.insert(key.clone(), ready);
                        }
                        thread_names.insert(key, name);
                    }
                    (Some("process_sort_index"), _, Some(sort)) => {
                        process_order.insert(pid, sort);
                    }
                    (Some("thread_sort_index"), _, Some(sort)) => {
                        thread_order.insert((pid, tid), sort);
                    }
                    _ => {}
                }
            }
            "X" => {
                let Some(ts) = need_ts(&mut skipped)? else {
                    continue;
                };
                let dur = match event.dur {
                    Some(d) if d.is_finite() && d >= 0.0 => d,
                    Some(d) => {
                        skipped.skip_or_fail(
                            lenient,
                            bad(format!(
                                "\"dur\" is {d}: the end is before the start; expected a duration ≥ 0 in µs"
                            )),
                        )?;
                        continue;
                    }
                    None => {
                        skipped.skip_or_fail(
                            lenient,
                            bad(
                                "an \"X\" event without \"dur\": expected its duration in µs"
                                    .into(),
                            ),
                        )?;
                        continue;
                    }
                };
                slices.push(Slice {
                    pid,
                    tid,
                    start: ts,
                    end: Some(ts + dur),
                    name: event.name.unwrap_or_default(),
                    args: event.args.unwrap_or_default(),
                });
            }
            "B" => {
                let Some(ts) = need_ts(&mut skipped)? else {
                    continue;
                };
                open.entry((pid.clone(), tid.clone()))
                    .or_default()
                    .push(Slice {
                        pid,
                        tid,
                        start: ts,
                        end: None,
                        name: event.name.unwrap_or_default(),
                        args: event.args.unwrap_or_default(),
                    });
            }
            "E" => {
                let Some(ts) = need_ts(&mut skipped)? else {
                    continue;
                };
                let key = (pid.clone(), tid.clone());
                let Some(mut slice) = open.get_mut(&key).and_then(Vec::pop) else {
                    skipped.skip_or_fail(
                        lenient,
                        bad(format!(
                            "an \"E\" (end) event with no \"B\" (begin) open on pid {} tid {}: expected a B before it",
                            pid.describe(),
                            tid.describe()
                        )),
                    )?;
                    continue;
                };
                if ts < slice.start {
                    skipped.skip_or_fail(
                        lenient,
                        bad(format!(
                            "this \"E\" at ts {ts} ends before its \"B\" at ts {}: expected an end at or after the begin",
                            slice.start
                        )),
                    )?;
                    continue;
                }
                slice.end = Some(ts);
                if let Some(args) = event.args {
                    slice.args.extend(args);
                }
                slices.push(slice);
            }
            "C" if own.is_some() && event.cat.as_deref() == Some("sched") => {
                if let Some(ts) = ts {
                    counters.push((
                        pid,
                        event.name.unwrap_or_default(),
                        ts,
                        event.args.unwrap_or_default(),
                    ));
                }
            }
            other => *ignored.entry(other.to_string()).or_default() += 1,
        }
    }
    // Begins never ended: the trace was cut while they ran.
    for (_, stack) in open {
        slices.extend(stack);
    }
    let mut notes = Vec::new();
    if !ignored.is_empty() {
        let mut kinds: Vec<_> = ignored.into_iter().collect();
        kinds.sort();
        let total: usize = kinds.iter().map(|(_, n)| n).sum();
        let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} \"{k}\"")).collect();
        notes.push(format!(
            "left out {total} event{} that are not tasks ({})",
            if total == 1 { "" } else { "s" },
            list.join(", ")
        ));
    }

    // Times: µs, shifted so none is negative.
    let earliest = slices
        .iter()
        .map(|s| s.start)
        .chain(thread_ready.values().copied())
        .fold(0.0f64, f64::min);
    let micros = |t: f64| ((t - earliest).round().max(0.0)) as u64;

    // Panels: by process sort index, then pid.
    let mut pids: Vec<Id> = slices.iter().map(|s| s.pid.clone()).collect();
    pids.sort();
    pids.dedup();
    pids.sort_by_key(|p| (process_order.get(p).copied().unwrap_or(0), p.clone()));
    let single = pids.len() == 1;
    let mut experiments: Vec<RecordedExperiment> = Vec::new();
    let mut by_pid: HashMap<Id, Vec<Slice>> = HashMap::new();
    for slice in slices {
        by_pid.entry(slice.pid.clone()).or_default().push(slice);
    }
    for pid in pids {
        let mut slices = by_pid.remove(&pid).unwrap_or_default();
        let own_plan = own.as_ref().and_then(|own| {
            let index = usize::try_from(pid.number()? - 1).ok()?;
            own.experiments.get(index).cloned()
        });
        let name = match (&own_plan, process_names.get(&pid)) {
            (Some(plan), _) => plan.name.clone(),
            (None, Some(name)) => name.clone(),
            (None, None) if single => stem.to_string(),
            (None, None) => match &pid {
                Id::Number(n) => format!("pid {n}"),
                Id::Text(text) => text.clone(),
            },
        };
        let mut experiment = RecordedExperiment::named(&name);
        if own_plan.is_none() && experiment.executor != ExecutorKind::Recorded {
            // A trace process named `process-fibo` is not poolscope's processes pool.
            experiment.executor = ExecutorKind::Recorded;
            experiment.workload = WorkloadKind::Recorded;
        }
        if own_plan.is_some() {
            // GIL tracks are hand-offs, not tasks.
            let (gil, tasks): (Vec<Slice>, Vec<Slice>) = slices
                .into_iter()
                .partition(|s| s.tid.number().is_some_and(|t| t >= GIL_TID_BASE));
            slices = tasks;
            for s in gil {
                let worker = worker_of(&s.pid, &s.tid, &thread_os, GIL_TID_BASE);
                let (first, second) = if s.name == GIL_HELD {
                    (GilEventKind::Acquired, GilEventKind::Released)
                } else {
                    (GilEventKind::Waiting, GilEventKind::Released)
                };
                experiment.gil.push(GilEvent {
                    experiment: 0,
                    worker,
                    at: Timestamp(micros(s.start)),
                    kind: first,
                });
                if s.name != GIL_HELD {
                    continue; // a wait ends where the hold begins
                }
                if let Some(end) = s.end {
                    experiment.gil.push(GilEvent {
                        experiment: 0,
                        worker,
                        at: Timestamp(micros(end)),
                        kind: second,
                    });
                }
            }
            experiment.gil.sort_by_key(|g| g.at);
        }
        // Lanes: by thread sort index, then tid.
        let mut tids: Vec<Id> = slices.iter().map(|s| s.tid.clone()).collect();
        tids.sort();
        tids.dedup();
        tids.sort_by_key(|t| {
            (
                thread_order
                    .get(&(pid.clone(), t.clone()))
                    .copied()
                    .unwrap_or(0),
                t.clone(),
            )
        });
        for tid in &tids {
            let key = (pid.clone(), tid.clone());
            let (os_pid, os_tid) = thread_os
                .get(&key)
                .copied()
                .unwrap_or((pid.os_id(), tid.os_id()));
            experiment.groups.push(LaneGroup {
                worker: own_plan
                    .as_ref()
                    .and_then(|_| usize::try_from(tid.number()? - 1).ok()),
                pid: os_pid,
                tid: os_tid,
                name: match &own_plan {
                    Some(_) => None,
                    None => Some(
                        thread_names
                            .get(&key)
                            .cloned()
                            .unwrap_or_else(|| match tid {
                                Id::Number(n) => format!("tid {n}"),
                                Id::Text(text) => text.clone(),
                            }),
                    ),
                },
            });
        }
        slices.sort_by(|a, b| a.start.total_cmp(&b.start));
        let mut used = vec![false; own_plan.as_ref().map_or(0, |p| p.inputs.len())];
        for (position, slice) in slices.into_iter().enumerate() {
            let group = tids.iter().position(|t| *t == slice.tid).unwrap_or(0);
            let arg_u64 = |key: &str| slice.args.get(key).and_then(Value::as_u64);
            // poolscope's own tasks keep their index; others are numbered by start.
            let index = match arg_u64("task").map(|t| t as usize) {
                Some(t) if own_plan.is_some() && t < used.len() && !used[t] => t,
                _ if own_plan.is_some() => continue,
                _ => position,
            };
            if let Some(slot) = used.get_mut(index) {
                *slot = true;
            }
            let text = |key: &str| {
                slice.args.get(key).map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            };
            let status = text("status");
            let error = text("error");
            let failed = matches!(status.as_deref(), Some("error" | "failed"))
                || error.as_ref().is_some_and(|e| !e.is_empty());
            let outcome = if failed {
                Err(error.unwrap_or_else(|| "failed".to_string()))
            } else {
                Ok(text("result").unwrap_or_default())
            };
            let cpu_time = slice
                .args
                .get("cpu_time_s")
                .and_then(Value::as_f64)
                .filter(|c| c.is_finite() && *c >= 0.0 && *c < 1e12)
                .map(Duration::from_secs_f64);
            let cancelled = matches!(status.as_deref(), Some("cancelled" | "running"));
            experiment.tasks.push(RecordedTask::new(
                index,
                arg_u64("input").unwrap_or(index as u64),
                group,
                Some(micros(slice.start)),
                slice.end.filter(|_| !cancelled).map(&micros),
                outcome,
                cpu_time,
                own_plan.is_none().then(|| slice.name.clone()),
            ));
        }
        if let Some(plan) = &own_plan {
            let index = pid.number().map_or(0, |p| (p - 1).max(0) as usize);
            experiment.bounds = own
                .as_ref()
                .and_then(|o| o.spans.get(index).copied())
                .map(|(begin, end)| (micros(begin as f64), end.map(|e| micros(e as f64))));
            for ((rpid, rtid), ready) in &thread_ready {
                if *rpid != pid {
                    continue;
                }
                let Some(worker) = rtid.number().and_then(|t| usize::try_from(t - 1).ok()) else {
                    continue;
                };
                let (os_pid, os_tid) = thread_os
                    .get(&(rpid.clone(), rtid.clone()))
                    .copied()
                    .unwrap_or((0, 0));
                experiment.ready.push((
                    WorkerId {
                        index: worker,
                        pid: os_pid,
                        tid: os_tid,
                    },
                    micros(*ready),
                ));
            }
            experiment.ready.sort_by_key(|(w, _)| w.index);
            // Counter tracks back to samples: each value lasts until the next.
            let mut by_name: HashMap<&str, Vec<CounterPoint<'_>>> = HashMap::new();
            for (cpid, name, ts, args) in &counters {
                if *cpid == pid {
                    by_name.entry(name.as_str()).or_default().push((*ts, args));
                }
            }
            for (name, mut points) in by_name {
                let Some(worker) = name
                    .strip_prefix('w')
                    .and_then(|n| n.strip_suffix(" state"))
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                let tid = Id::Number(worker as i64 + 1);
                let (os_pid, os_tid) = thread_os
                    .get(&(pid.clone(), tid))
                    .copied()
                    .unwrap_or((0, 0));
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                for pair in points.windows(2) {
                    let share =
                        |k: &str| pair[0].1.get(k).and_then(Value::as_f64).unwrap_or(0.0) as f32;
                    experiment.samples.push(SampleEvent {
                        experiment: 0,
                        worker: WorkerId {
                            index: worker,
                            pid: os_pid,
                            tid: os_tid,
                        },
                        from: Timestamp(micros(pair[0].0)),
                        to: Timestamp(micros(pair[1].0)),
                        running: share("running"),
                        runnable: share("runnable"),
                        blocked: share("blocked"),
                        voluntary_switches: 0,
                        involuntary_switches: 0,
                    });
                }
            }
            experiment.executor = plan.executor;
            experiment.workload = plan.workload;
            experiment.plan = Some(plan.clone());
        }
        experiments.push(experiment);
    }
    Ok(FileContents {
        experiments,
        cores: own.and_then(|o| o.cores).filter(|&c| c > 0),
        skipped,
        notes,
    })
}

/// The lane of a GIL track's events.
fn worker_of(pid: &Id, tid: &Id, thread_os: &HashMap<(Id, Id), (u32, u32)>, base: i64) -> WorkerId {
    let index = tid.number().map_or(0, |t| (t - base).max(0) as usize);
    let (os_pid, os_tid) = thread_os
        .get(&(pid.clone(), Id::Number(index as i64 + 1)))
        .copied()
        .unwrap_or((0, 0));
    WorkerId {
        index,
        pid: os_pid,
        tid: os_tid,
    }
}

/// One value of a counter track: its time and its args.
type CounterPoint<'a> = (f64, &'a serde_json::Map<String, Value>);

/// What poolscope puts in `otherData.poolscope`.
#[derive(Debug, Serialize, Deserialize)]
struct OwnData {
    version: String,
    cores: Option<usize>,
    experiments: Vec<ExperimentPlan>,
    /// Each experiment's start and end (µs), which its tasks alone do not tell.
    #[serde(default)]
    spans: Vec<(u64, Option<u64>)>,
}

const GIL_HELD: &str = "GIL held";
const GIL_WAIT: &str = "GIL wait";
