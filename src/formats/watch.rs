//! A watched program's files, out and back in: per pool the post's CSV
//! (`<thread|process>-<function>.csv`: the post's five columns, then `pid`, `tid` and
//! poolscope's own), `watch-samples.csv` (every thread's samples with what it waited for),
//! and a `summary.json` per process and thread (CPU, waits) and per pool (tasks, makespan,
//! CPU, GIL wait). `poolscope view DIR` reads the folder back into the very events the
//! watch streamed, so it reads as it did.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::csv_rows::epoch_micros;
use super::{ImportError, Problem, Recording};
use crate::model::clock::Timestamp;
use crate::model::event::{
    Event, PoolInfo, PoolTask, RunOutcome, SampleEvent, SamplerNotice, TaskEvent, TaskEventKind,
    WaitShares, WorkerId,
};
use crate::model::plan::{ExecutorKind, ExperimentPlan, Plan};
use crate::model::timeline::{Experiment, Lane, TaskState, Timeline};

/// The samples file of a watch.
pub const SAMPLES_FILE: &str = "watch-samples.csv";
/// Its header.
pub const SAMPLES_HEADER: &str = "pid,tid,comm,t_start,t_end,running,runnable,blocked,io,sleep,lock,gil,voluntary_switches,involuntary_switches";
/// A pool CSV's header: the post's five columns, `pid`, `tid`, then poolscope's own.
pub const POOL_HEADER: &str = "tag,start_time,end_time,elapsed,result,pid,tid,pool,executor,function,input,worker,cpu_time,status,error";
/// What `summary.json`'s `kind` says for a watch.
pub const KIND: &str = "watch";

/// One row of a pool's CSV.
#[derive(Debug, Serialize, Deserialize)]
struct PoolRow {
    tag: String,
    start_time: Option<String>,
    end_time: Option<String>,
    elapsed: Option<String>,
    result: String,
    pid: u32,
    tid: u32,
    pool: String,
    executor: String,
    function: String,
    input: String,
    worker: usize,
    cpu_time: Option<String>,
    status: String,
    error: String,
}

/// A pool's task, found in the timeline: its number in the pool, its experiment and index.
struct PoolMember<'a> {
    number: u64,
    experiment: &'a Experiment,
    index: usize,
}

/// Every pool's tasks, in submit order.
fn pool_members(timeline: &Timeline) -> Vec<Vec<PoolMember<'_>>> {
    let mut pools: Vec<Vec<PoolMember<'_>>> = timeline.pools().iter().map(|_| Vec::new()).collect();
    for e in timeline.experiments() {
        for index in 0..e.tasks_held() {
            if let Some(PoolTask { pool, number }) = e.pool_of(index)
                && let Some(members) = pools.get_mut(pool)
            {
                members.push(PoolMember {
                    number,
                    experiment: e,
                    index,
                });
            }
        }
    }
    for members in &mut pools {
        members.sort_by_key(|m| m.number);
    }
    pools
}

fn seconds(d: Duration) -> String {
    format!("{:.6}", d.as_secs_f64())
}

/// Each pool's file name: `thread-fib.csv`, made a plain file name (`file_stem`), with
/// `-2`, `-3` where two would share one.
fn pool_files(timeline: &Timeline) -> Vec<String> {
    let csv = |stem: &str| format!("{stem}.csv");
    super::files::unique_stems(
        timeline.pools().iter().map(|p| p.name.as_str()),
        |stem| vec![csv(stem)],
        &[SAMPLES_FILE],
    )
    .iter()
    .map(|stem| csv(stem))
    .collect()
}

/// Pool `pool`'s CSV.
fn pool_csv(
    timeline: &Timeline,
    pool: &PoolInfo,
    members: &[PoolMember<'_>],
) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer.write_record(POOL_HEADER.split(','))?;
    for m in members {
        let Some(task) = m.experiment.task(m.index) else {
            continue;
        };
        let (result, error) = match task.state {
            TaskState::Succeeded { result, .. } => (result, ""),
            TaskState::Failed { error, .. } => ("", error),
            TaskState::Pending | TaskState::Running => ("", ""),
        };
        let worker = task.worker.unwrap_or(WorkerId {
            index: 0,
            pid: 0,
            tid: 0,
        });
        let elapsed = task
            .ended_at
            .and_then(|end| Some(end.since(task.started_at?)));
        writer.serialize(PoolRow {
            tag: format!("{}-{}", pool.name, m.number),
            start_time: task.started_at.map(Timestamp::to_epoch_string),
            end_time: task.ended_at.map(Timestamp::to_epoch_string),
            elapsed: elapsed.map(seconds),
            result: result.to_string(),
            pid: worker.pid,
            tid: worker.tid,
            pool: pool.name.clone(),
            executor: pool.executor.as_str().to_string(),
            function: pool.function.clone(),
            input: m.experiment.plan.task_label(m.index, task.input),
            worker: worker.index,
            cpu_time: task.cpu_time().map(seconds),
            status: timeline.status_of(&task).as_str().to_string(),
            error: error.to_string(),
        })?;
    }
    writer.into_inner().context("flushing CSV")
}

/// `watch-samples.csv`: every sample of every thread, process by process, lane by lane.
fn samples_csv(timeline: &Timeline) -> Vec<u8> {
    let mut out = format!("{SAMPLES_HEADER}\n");
    for e in timeline.experiments() {
        for lane in &e.lanes {
            let comm = e.plan.lane_names.get(lane.worker).unwrap_or("");
            let comm = csv_field(comm);
            for s in lane.samples() {
                let (voluntary, involuntary) =
                    s.switches.map_or((String::new(), String::new()), |(v, i)| {
                        (v.to_string(), i.to_string())
                    });
                let why = |x: f32| {
                    if s.why {
                        format!("{x:.4}")
                    } else {
                        String::new()
                    }
                };
                out.push_str(&format!(
                    "{},{},{comm},{},{},{:.4},{:.4},{:.4},{},{},{},{},{voluntary},{involuntary}\n",
                    lane.pid,
                    lane.tid,
                    Timestamp(s.from).to_epoch_string(),
                    Timestamp(s.to).to_epoch_string(),
                    s.running,
                    s.runnable,
                    s.blocked,
                    why(s.io),
                    why(s.sleep),
                    why(s.lock),
                    why(s.gil_wait),
                ));
            }
        }
    }
    out.into_bytes()
}

/// A CSV field, quoted where it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Time a lane spent in each state, over all its samples.
#[derive(Debug, Default, Clone, Copy)]
struct LaneTotals {
    /// Whether any sample was read: without one, every figure is unknown, not zero.
    sampled: bool,
    cpu: f64,
    cpu_wait: f64,
    blocked: f64,
    io: f64,
    sleep: f64,
    lock: f64,
    gil: f64,
}

impl LaneTotals {
    fn of(lane: &Lane) -> Self {
        let mut t = LaneTotals::default();
        for s in lane.samples() {
            t.sampled = true;
            let length = (s.to.saturating_sub(s.from)) as f64 / 1e6;
            t.cpu += f64::from(s.running) * length;
            t.cpu_wait += f64::from(s.runnable) * length;
            t.blocked += f64::from(s.blocked) * length;
            t.io += f64::from(s.io) * length;
            t.sleep += f64::from(s.sleep) * length;
            t.lock += f64::from(s.lock) * length;
            t.gil += f64::from(s.gil_wait) * length;
        }
        t
    }

    fn plus(self, o: LaneTotals) -> Self {
        LaneTotals {
            sampled: self.sampled || o.sampled,
            cpu: self.cpu + o.cpu,
            cpu_wait: self.cpu_wait + o.cpu_wait,
            blocked: self.blocked + o.blocked,
            io: self.io + o.io,
            sleep: self.sleep + o.sleep,
            lock: self.lock + o.lock,
            gil: self.gil + o.gil,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct WatchSummary {
    poolscope_version: String,
    kind: String,
    /// The watched program: the first process's pid and command line.
    command: String,
    cores: Option<usize>,
    status: String,
    started_at: Option<f64>,
    finished_at: Option<f64>,
    exit: Option<ExitSummary>,
    sampler: Option<SamplerSummary>,
    processes: Vec<ProcessSummary>,
    pools: Vec<PoolSummary>,
    samples_file: String,
    notices: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ExitSummary {
    at: f64,
    code: Option<i32>,
    signal: Option<i32>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SamplerSummary {
    interval_ms: u64,
    asked_ms: u64,
    threads: usize,
    cpu_share: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Waits {
    cpu_time_s: Option<f64>,
    cpu_wait_s: Option<f64>,
    blocked_s: Option<f64>,
    io_s: Option<f64>,
    sleep_s: Option<f64>,
    lock_s: Option<f64>,
    gil_wait_s: Option<f64>,
}

impl From<LaneTotals> for Waits {
    /// A thread or process never sampled (gone before poolscope saw it, or past the
    /// open-files budget) has `null` figures: unknown, not zero.
    fn from(t: LaneTotals) -> Self {
        let known = |v: f64| t.sampled.then_some(v);
        Waits {
            cpu_time_s: known(t.cpu),
            cpu_wait_s: known(t.cpu_wait),
            blocked_s: known(t.blocked),
            io_s: known(t.io),
            sleep_s: known(t.sleep),
            lock_s: known(t.lock),
            gil_wait_s: known(t.gil),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ProcessSummary {
    pid: u32,
    name: String,
    started_at: f64,
    /// When it was first seen (`started_at` is the watch's start, for one time axis).
    #[serde(default)]
    seen_at: Option<f64>,
    finished_at: Option<f64>,
    tasks: usize,
    #[serde(flatten)]
    waits: Waits,
    voluntary_switches: Option<u64>,
    involuntary_switches: Option<u64>,
    threads: Vec<ThreadSummary>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ThreadSummary {
    tid: u32,
    name: String,
    tasks: usize,
    #[serde(flatten)]
    waits: Waits,
}

#[derive(Debug, Serialize, Deserialize)]
struct PoolSummary {
    name: String,
    file: String,
    executor: String,
    function: String,
    pid: u32,
    tasks: usize,
    failed: usize,
    makespan_s: Option<f64>,
    cpu_time_s: Option<f64>,
    gil_wait_s: f64,
}

/// A pool's figures: (makespan, CPU time of its tasks, their GIL wait, failures).
fn pool_figures(
    timeline: &Timeline,
    members: &[PoolMember<'_>],
) -> (Option<Duration>, Option<Duration>, Duration, usize) {
    let now = timeline.latest().unwrap_or(Timestamp(0));
    let mut first: Option<Timestamp> = None;
    let mut last: Option<Timestamp> = None;
    let mut cpu: Option<Duration> = None;
    let mut gil = Duration::ZERO;
    let mut failed = 0;
    for m in members {
        let Some(task) = m.experiment.task(m.index) else {
            continue;
        };
        if let Some(start) = task.started_at {
            first = Some(first.map_or(start, |f| f.min(start)));
        }
        if let Some(end) = task.ended_at {
            last = Some(last.map_or(end, |l| l.max(end)));
        }
        if let Some(c) = task.cpu_time() {
            cpu = Some(cpu.unwrap_or_default() + c);
        }
        failed += usize::from(matches!(task.state, TaskState::Failed { .. }));
        if let Some(detail) = m.experiment.task_detail(m.index, now)
            && let Some((_, waited)) = detail.gil
        {
            gil += waited;
        }
    }
    let makespan = first.zip(last).map(|(a, b)| b.since(a));
    (makespan, cpu, gil, failed)
}

/// One pool's figures, as `summary.json` and the results table give them.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolFigures {
    /// Its name (`thread-fib`).
    pub name: String,
    /// `threads` or `processes`.
    pub executor: &'static str,
    /// Its tasks (started).
    pub tasks: usize,
    /// Those that raised.
    pub failed: usize,
    /// First start to last end.
    pub makespan: Option<Duration>,
    /// Its tasks' CPU time.
    pub cpu_time: Option<Duration>,
    /// Time its tasks waited for the GIL.
    pub gil_wait: Duration,
}

/// Every pool's figures, in order.
pub fn pool_figures_of(timeline: &Timeline) -> Vec<PoolFigures> {
    timeline
        .pools()
        .iter()
        .zip(pool_members(timeline))
        .map(|(pool, members)| {
            let (makespan, cpu_time, gil_wait, failed) = pool_figures(timeline, &members);
            PoolFigures {
                name: pool.name.clone(),
                executor: pool.executor.as_str(),
                tasks: members.len(),
                failed,
                makespan,
                cpu_time,
                gil_wait,
            }
        })
        .collect()
}

/// The watch's `summary.json`.
fn summary_json(timeline: &Timeline, files: &[String]) -> Vec<u8> {
    let status = match timeline.outcome() {
        Some(RunOutcome::Completed) => "completed",
        Some(RunOutcome::Cancelled) => "cancelled",
        None => "running",
    };
    let processes = timeline
        .experiments()
        .iter()
        .map(|e| {
            let mut total = LaneTotals::default();
            let threads = e
                .lanes
                .iter()
                .map(|lane| {
                    let t = LaneTotals::of(lane);
                    total = total.plus(t);
                    ThreadSummary {
                        tid: lane.tid,
                        name: e.plan.lane_names.get(lane.worker).unwrap_or("").to_string(),
                        tasks: lane.spans().len(),
                        waits: t.into(),
                    }
                })
                .collect();
            ProcessSummary {
                pid: e.lanes.first().map_or(0, |l| l.pid),
                name: e.plan.name.clone(),
                started_at: e.started_at.as_secs_f64(),
                seen_at: e.appeared_at.map(Timestamp::as_secs_f64),
                finished_at: e.finished_at.map(Timestamp::as_secs_f64),
                tasks: e.task_count(),
                waits: total.into(),
                voluntary_switches: e.switches().map(|(v, _)| v),
                involuntary_switches: e.switches().map(|(_, i)| i),
                threads,
            }
        })
        .collect();
    let members = pool_members(timeline);
    let pools = timeline
        .pools()
        .iter()
        .zip(&members)
        .zip(files)
        .map(|((pool, members), file)| {
            let (makespan, cpu, gil, failed) = pool_figures(timeline, members);
            PoolSummary {
                name: pool.name.clone(),
                file: file.clone(),
                executor: pool.executor.as_str().to_string(),
                function: pool.function.clone(),
                pid: pool.owner_pid,
                tasks: members.len(),
                failed,
                makespan_s: makespan.map(|d| d.as_secs_f64()),
                cpu_time_s: cpu.map(|d| d.as_secs_f64()),
                gil_wait_s: gil.as_secs_f64(),
            }
        })
        .collect();
    let sampler = match timeline.sampler_cost() {
        Some(SamplerNotice::Cost {
            share,
            threads,
            interval_ms,
            asked_ms,
        }) => Some(SamplerSummary {
            interval_ms: *interval_ms,
            asked_ms: *asked_ms,
            threads: *threads,
            cpu_share: *share,
        }),
        _ => None,
    };
    let summary = WatchSummary {
        poolscope_version: env!("CARGO_PKG_VERSION").to_string(),
        kind: KIND.to_string(),
        command: timeline
            .experiments()
            .first()
            .map(|e| e.plan.name.clone())
            .unwrap_or_default(),
        cores: timeline.cores(),
        status: status.to_string(),
        started_at: timeline.started_at().map(Timestamp::as_secs_f64),
        finished_at: timeline.finished_at().map(Timestamp::as_secs_f64),
        exit: timeline.program_exit().map(|x| ExitSummary {
            at: x.at.as_secs_f64(),
            code: x.code,
            signal: x.signal,
        }),
        sampler,
        processes,
        pools,
        samples_file: SAMPLES_FILE.to_string(),
        notices: timeline.notices().to_vec(),
    };
    let mut json = serde_json::to_vec_pretty(&summary).expect("summary serializes");
    json.push(b'\n');
    json
}

/// Every file of a watch, by name, as bytes: one CSV per pool, the samples, the summary.
pub fn files(timeline: &Timeline) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let names = pool_files(timeline);
    let members = pool_members(timeline);
    let mut out = Vec::new();
    for ((pool, members), name) in timeline.pools().iter().zip(&members).zip(&names) {
        out.push((name.clone(), pool_csv(timeline, pool, members)?));
    }
    out.push((SAMPLES_FILE.to_string(), samples_csv(timeline)));
    out.push((
        super::names::SUMMARY_FILE.to_string(),
        summary_json(timeline, &names),
    ));
    Ok(out)
}

/// Whether `dir` holds a watch's files (its `summary.json` says so).
pub fn is_watch_folder(dir: &Path) -> bool {
    super::files::read_json(&dir.join(super::names::SUMMARY_FILE))
        .is_some_and(|j| j["kind"] == KIND)
}

/// Reads a watch's folder back into the events it streamed.
pub fn read_folder(dir: &Path) -> Result<Recording, ImportError> {
    let summary_path = dir.join(super::names::SUMMARY_FILE);
    let bytes = std::fs::read(&summary_path)
        .map_err(|e| Problem::whole(format!("cannot read it: {e}")).in_file(&summary_path))?;
    let summary: WatchSummary = serde_json::from_slice(&bytes).map_err(|e| {
        Problem::whole(format!("not a watch's summary.json: {e}")).in_file(&summary_path)
    })?;
    let micros = |s: f64| Timestamp((s * 1e6).round().max(0.0) as u64);
    let started = summary.started_at.map(micros).unwrap_or(Timestamp(0));
    let mut events = vec![Event::RunStarted {
        at: started,
        cores: summary.cores.unwrap_or(1),
        experiments: summary.processes.len(),
    }];
    // Processes and their threads, as the summary lists them.
    let mut lanes: HashMap<(u32, u32), (usize, WorkerId)> = HashMap::new();
    for (experiment, p) in summary.processes.iter().enumerate() {
        events.push(Event::ExperimentStarted {
            experiment,
            plan: ExperimentPlan::watched(p.name.clone()),
            at: micros(p.started_at),
        });
        for (index, t) in p.threads.iter().enumerate() {
            let worker = WorkerId {
                index,
                pid: p.pid,
                tid: t.tid,
            };
            lanes.insert((p.pid, t.tid), (experiment, worker));
            events.push(Event::LaneAdded {
                experiment,
                worker,
                name: t.name.clone(),
                at: micros(p.seen_at.unwrap_or(p.started_at)),
            });
        }
    }
    let mut lane_of = |pid: u32, tid: u32, name: &str, events: &mut Vec<Event>| {
        if let Some(&found) = lanes.get(&(pid, tid)) {
            return Some(found);
        }
        let experiment = summary.processes.iter().position(|p| p.pid == pid)?;
        let index = lanes.values().filter(|(e, _)| *e == experiment).count();
        let worker = WorkerId { index, pid, tid };
        lanes.insert((pid, tid), (experiment, worker));
        events.push(Event::LaneAdded {
            experiment,
            worker,
            name: name.to_string(),
            at: started,
        });
        Some((experiment, worker))
    };
    // Pools and their tasks.
    let mut task_events = Vec::new();
    let mut tasks_of: Vec<usize> = vec![0; summary.processes.len()];
    for (pool, p) in summary.pools.iter().enumerate() {
        let executor = if p.executor == ExecutorKind::Processes.as_str() {
            ExecutorKind::Processes
        } else {
            ExecutorKind::Threads
        };
        events.push(Event::PoolAdded {
            pool,
            info: PoolInfo {
                name: p.name.clone(),
                executor,
                function: p.function.clone(),
                owner_pid: p.pid,
            },
        });
        if !p.file.ends_with(".csv") || !super::files::is_plain(&p.file) {
            continue; // never a path reaching outside the folder
        }
        let path = dir.join(&p.file);
        let mut reader = csv::Reader::from_path(&path)
            .map_err(|e| Problem::whole(format!("cannot read it: {e}")).in_file(&path))?;
        for (line, row) in reader.deserialize::<PoolRow>().enumerate() {
            let line = line as u64 + 2;
            let row = row.map_err(|e| Problem::at(line, None, e.to_string()).in_file(&path))?;
            let Some(start) = row.start_time.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            let start = epoch_micros(start, line, "start_time").map_err(|p| p.in_file(&path))?;
            let Some((experiment, worker)) = lane_of(row.pid, row.tid, "?", &mut events) else {
                continue;
            };
            let number = row
                .tag
                .rsplit_once('-')
                .and_then(|(_, n)| n.parse().ok())
                .unwrap_or(0);
            let task = tasks_of[experiment];
            tasks_of[experiment] += 1;
            task_events.push((
                start,
                Event::TaskAdded {
                    experiment,
                    task,
                    label: row.input.clone(),
                    pool: Some(PoolTask { pool, number }),
                },
            ));
            let event = |at: u64, kind| {
                Event::Task(TaskEvent {
                    experiment,
                    task,
                    input: number,
                    worker,
                    at: Timestamp(at),
                    kind,
                })
            };
            task_events.push((start, event(start, TaskEventKind::Started)));
            if let Some(end) = row.end_time.as_deref().filter(|s| !s.is_empty()) {
                let end = epoch_micros(end, line, "end_time").map_err(|p| p.in_file(&path))?;
                let cpu_time = row
                    .cpu_time
                    .as_deref()
                    .and_then(|c| c.parse::<f64>().ok())
                    .filter(|c| c.is_finite() && *c >= 0.0)
                    .map(Duration::from_secs_f64);
                let kind = if row.status == "error" {
                    TaskEventKind::Failed {
                        error: row.error.clone(),
                        cpu_time,
                    }
                } else {
                    TaskEventKind::Finished {
                        result: row.result.clone(),
                        cpu_time,
                    }
                };
                task_events.push((end, event(end, kind)));
            }
        }
    }
    // Samples.
    let samples_path = dir.join(SAMPLES_FILE);
    let mut samples = Vec::new();
    if let Ok(mut reader) = csv::Reader::from_path(&samples_path) {
        for (line, record) in reader.records().enumerate() {
            let line = line as u64 + 2;
            let bad = |why: String| Problem::at(line, None, why).in_file(&samples_path);
            let record = record.map_err(|e| bad(e.to_string()))?;
            let field = |i: usize| record.get(i).unwrap_or("");
            let number = |i: usize| {
                field(i)
                    .parse::<u32>()
                    .map_err(|_| bad(format!("column {} is not a number", i + 1)))
            };
            let share = |i: usize| field(i).parse::<f32>().ok().filter(|x| x.is_finite());
            let (pid, tid) = (number(0)?, number(1)?);
            let from =
                epoch_micros(field(3), line, "t_start").map_err(|p| p.in_file(&samples_path))?;
            let to = epoch_micros(field(4), line, "t_end").map_err(|p| p.in_file(&samples_path))?;
            let Some((experiment, worker)) = lane_of(pid, tid, field(2), &mut events) else {
                continue;
            };
            let waits = match (share(8), share(9), share(10), share(11)) {
                (Some(io), Some(sleep), Some(lock), Some(gil)) => Some(WaitShares {
                    io,
                    sleep,
                    lock,
                    gil,
                }),
                _ => None,
            };
            samples.push((
                from,
                Event::Sample(SampleEvent {
                    experiment,
                    worker,
                    from: Timestamp(from),
                    to: Timestamp(to),
                    running: share(5).unwrap_or(0.0),
                    runnable: share(6).unwrap_or(0.0),
                    blocked: share(7).unwrap_or(0.0),
                    voluntary_switches: field(12).parse().ok(),
                    involuntary_switches: field(13).parse().ok(),
                    gil: None,
                    waits,
                }),
            ));
        }
    }
    task_events.sort_by_key(|(at, _)| *at);
    events.extend(task_events.into_iter().map(|(_, e)| e));
    events.extend(samples.into_iter().map(|(_, e)| e));
    for (experiment, p) in summary.processes.iter().enumerate() {
        if let Some(finished) = p.finished_at {
            events.push(Event::ExperimentFinished {
                experiment,
                at: micros(finished),
            });
        }
    }
    if let Some(exit) = &summary.exit {
        events.push(Event::ProgramExited {
            at: micros(exit.at),
            code: exit.code,
            signal: exit.signal,
        });
    }
    if let Some(s) = &summary.sampler {
        events.push(Event::Sampler(SamplerNotice::Cost {
            share: s.cpu_share,
            threads: s.threads,
            interval_ms: s.interval_ms,
            asked_ms: s.asked_ms,
        }));
    }
    for text in &summary.notices {
        events.push(Event::Notice {
            at: started,
            text: text.clone(),
        });
    }
    events.push(Event::RunFinished {
        at: summary.finished_at.map(micros).unwrap_or_else(|| {
            events
                .iter()
                .filter_map(event_time)
                .max()
                .unwrap_or(started)
        }),
        outcome: if summary.status == "cancelled" {
            RunOutcome::Cancelled
        } else {
            RunOutcome::Completed
        },
    });
    let timeline = Timeline::from_events(&events);
    let plan = Plan {
        experiments: timeline
            .experiments()
            .iter()
            .map(|e| e.plan.clone())
            .collect(),
        ..Plan::default()
    };
    Ok(Recording {
        plan,
        timeline,
        notes: Vec::new(),
    })
}

/// When an event happened, if it says.
fn event_time(event: &Event) -> Option<Timestamp> {
    match event {
        Event::Task(t) => Some(t.at),
        Event::Sample(s) => Some(s.to),
        Event::ExperimentFinished { at, .. } => Some(*at),
        _ => None,
    }
}

/// Writes a watch's files into `dir` (created if missing), atomically as a set, removing
/// the pool files of an earlier export there that this one does not write. Returns the
/// paths written.
pub fn write(dir: &Path, timeline: &Timeline) -> anyhow::Result<Vec<PathBuf>> {
    let files = files(timeline)?;
    // The pool files an earlier watch export there lists: removed unless written again.
    let earlier =
        super::files::listed_csv_stems(&dir.join(super::names::SUMMARY_FILE), "pools", false)
            .into_iter()
            .map(|stem| dir.join(format!("{stem}.csv")))
            .collect();
    super::files::write_set(dir, files.into_iter().map(Ok), earlier)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{Event, WorkerId};

    /// A watch of one process with two threads, a thread pool of two tasks, and samples.
    pub(crate) fn watched() -> Timeline {
        let base = 1_700_000_000_000_000;
        let worker = |index: usize, tid: u32| WorkerId {
            index,
            pid: 10,
            tid,
        };
        let mut events = vec![
            Event::RunStarted {
                at: Timestamp(base),
                cores: 2,
                experiments: 0,
            },
            Event::ExperimentStarted {
                experiment: 0,
                plan: ExperimentPlan::watched("10 python3 x.py".into()),
                at: Timestamp(base),
            },
            Event::LaneAdded {
                experiment: 0,
                worker: worker(0, 10),
                name: "python3".into(),
                at: Timestamp(base),
            },
            Event::LaneAdded {
                experiment: 0,
                worker: worker(1, 11),
                name: "worker, \"a\"".into(),
                at: Timestamp(base),
            },
            Event::PoolAdded {
                pool: 0,
                info: PoolInfo {
                    name: "thread-fib".into(),
                    executor: ExecutorKind::Threads,
                    function: "fib".into(),
                    owner_pid: 10,
                },
            },
        ];
        for (task, (start, end)) in [(0u64, 1000u64), (1000, 3000)].into_iter().enumerate() {
            events.push(Event::TaskAdded {
                experiment: 0,
                task,
                label: format!("{}", 20 + task),
                pool: Some(PoolTask {
                    pool: 0,
                    number: task as u64,
                }),
            });
            events.push(Event::Task(TaskEvent {
                experiment: 0,
                task,
                input: task as u64,
                worker: worker(1, 11),
                at: Timestamp(base + start),
                kind: TaskEventKind::Started,
            }));
            events.push(Event::Task(TaskEvent {
                experiment: 0,
                task,
                input: task as u64,
                worker: worker(1, 11),
                at: Timestamp(base + end),
                kind: TaskEventKind::Finished {
                    result: format!("{}", 6765 * (task + 1)),
                    cpu_time: Some(Duration::from_micros(500)),
                },
            }));
        }
        for i in 0..3u64 {
            events.push(Event::Sample(SampleEvent {
                experiment: 0,
                worker: worker(1, 11),
                from: Timestamp(base + i * 1000),
                to: Timestamp(base + i * 1000 + 1000),
                running: 0.5,
                runnable: 0.0,
                blocked: 0.5,
                voluntary_switches: Some(1),
                involuntary_switches: Some(0),
                gil: None,
                waits: Some(WaitShares {
                    gil: 0.5,
                    ..WaitShares::default()
                }),
            }));
        }
        events.push(Event::ExperimentFinished {
            experiment: 0,
            at: Timestamp(base + 4000),
        });
        events.push(Event::ProgramExited {
            at: Timestamp(base + 4000),
            code: Some(3),
            signal: None,
        });
        events.push(Event::RunFinished {
            at: Timestamp(base + 4000),
            outcome: RunOutcome::Completed,
        });
        Timeline::from_events(&events)
    }

    #[test]
    fn pool_csvs_have_the_posts_columns_then_pid_and_tid() {
        let t = watched();
        let files = files(&t).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["thread-fib.csv", SAMPLES_FILE, "summary.json"]);
        let csv = String::from_utf8(files[0].1.clone()).unwrap();
        insta::assert_snapshot!(csv, @r"
        tag,start_time,end_time,elapsed,result,pid,tid,pool,executor,function,input,worker,cpu_time,status,error
        thread-fib-0,1700000000.000000,1700000000.001000,0.001000,6765,10,11,thread-fib,threads,fib,20,1,0.000500,ok,
        thread-fib-1,1700000000.001000,1700000000.003000,0.002000,13530,10,11,thread-fib,threads,fib,21,1,0.000500,ok,
        ");
        let samples = String::from_utf8(files[1].1.clone()).unwrap();
        assert!(samples.starts_with(SAMPLES_HEADER));
        assert!(
            samples.contains(r#"10,11,"worker, ""a""",1700000000.000000"#),
            "{samples}"
        );
        let json: serde_json::Value = serde_json::from_slice(&files[2].1).unwrap();
        assert_eq!(json["kind"], "watch");
        assert_eq!(json["exit"]["code"], 3);
        let pool = &json["pools"][0];
        assert_eq!(pool["name"], "thread-fib");
        assert_eq!(pool["executor"], "threads");
        assert_eq!(pool["tasks"], 2);
        assert_eq!(pool["makespan_s"], 0.003);
        assert_eq!(pool["cpu_time_s"], 0.001);
        let thread = &json["processes"][0]["threads"][1];
        assert_eq!(thread["tid"], 11);
        assert!(
            (thread["gil_wait_s"].as_f64().unwrap() - 0.0015).abs() < 1e-9,
            "{thread}"
        );
    }

    #[test]
    fn a_process_seen_late_reads_back_with_its_own_lifetime() {
        let base = 1_700_000_000_000_000;
        let worker = WorkerId {
            index: 0,
            pid: 20,
            tid: 20,
        };
        let t = Timeline::from_events(&[
            Event::RunStarted {
                at: Timestamp(base),
                cores: 2,
                experiments: 0,
            },
            Event::ExperimentStarted {
                experiment: 0,
                plan: ExperimentPlan::watched("20 python3 -c …spawn_main…".into()),
                at: Timestamp(base),
            },
            Event::LaneAdded {
                experiment: 0,
                worker,
                name: "python3".into(),
                at: Timestamp(base + 2_000_000),
            },
            Event::ExperimentFinished {
                experiment: 0,
                at: Timestamp(base + 2_100_000),
            },
            Event::RunFinished {
                at: Timestamp(base + 3_000_000),
                outcome: RunOutcome::Completed,
            },
        ]);
        let lived = Duration::from_millis(100);
        let e = &t.experiments()[0];
        assert_eq!(
            e.elapsed_shown(Timestamp(base)),
            lived,
            "from when it was seen"
        );
        assert_eq!(e.elapsed(Timestamp(base)), Duration::from_millis(2100));
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &t).unwrap();
        let back = read_folder(dir.path()).unwrap().timeline;
        let b = &back.experiments()[0];
        assert_eq!(b.appeared_at, e.appeared_at);
        assert_eq!(b.elapsed_shown(Timestamp(base)), lived);
        assert_eq!(b.started_at, e.started_at, "one time axis still");
        // --print's panel title says the same.
        let text = crate::formats::text::chart(&back, 100, false, Default::default());
        let title = text.lines().find(|l| l.contains("spawn_main")).unwrap();
        assert!(title.ends_with("· 100 ms"), "{title}");
    }

    #[test]
    fn a_watch_folder_reads_back_as_it_was() {
        let t = watched();
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &t).unwrap();
        assert!(is_watch_folder(dir.path()));
        let back = read_folder(dir.path()).unwrap().timeline;
        let (a, b) = (&t.experiments()[0], &back.experiments()[0]);
        assert_eq!(a.plan.name, b.plan.name);
        assert_eq!(a.lanes.len(), b.lanes.len());
        assert_eq!(b.plan.lane_names.get(1), Some("worker, \"a\""));
        assert_eq!(a.task_count(), b.task_count());
        assert_eq!(b.pool_of(1).map(|p| p.number), Some(1));
        assert_eq!(back.pools()[0].name, "thread-fib");
        assert_eq!(a.sched.samples, b.sched.samples);
        assert_eq!(back.program_exit().unwrap().code, Some(3));
        assert_eq!(a.gil_wait(), b.gil_wait());
        // Written again from what was read, the files are the same.
        let again = files(&back).unwrap();
        for ((name, bytes), (_, before)) in again.iter().zip(files(&t).unwrap()) {
            if name != "summary.json" {
                assert_eq!(
                    String::from_utf8_lossy(bytes),
                    String::from_utf8_lossy(&before)
                );
            }
        }
    }
}
