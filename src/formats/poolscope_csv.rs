//! poolscope's own CSVs, read back: every column it writes (worker, pid, tid, CPU time,
//! status, error, label), and the `<experiment>-samples.csv` beside it, when there is one,
//! so the state shading, switches and GIL waits replay too. A `summary.json` in the same
//! folder gives back the cores, the panel order, each experiment's bounds (so makespans are
//! the run's, not recomputed from rounded rows) and its figures.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::csv_rows::{self, Row};
use super::{
    FileContents, ImportError, LaneGroup, Problem, Progress, RecordedExperiment, RecordedTask,
    RecordedTasks,
};
use crate::model::event::{SampleEvent, WorkerId};
use crate::model::plan::{ExecutorKind, WorkloadKind};

/// The columns every poolscope CSV starts with (later versions may add more after them).
pub const REQUIRED_HEADER: &str = "tag,start_time,end_time,elapsed,result,experiment,executor,workload,input,worker,pid,tid,cpu_time,status,error";

/// What one chunk of rows held: its experiments in the order met, each with its tasks and
/// the workers they ran on (found by hash, so neither many experiments nor many workers
/// make a row cost more).
#[derive(Default)]
struct Chunk {
    experiments: Vec<ChunkExperiment>,
    by_name: HashMap<String, usize>,
}

struct ChunkExperiment {
    name: String,
    executor: ExecutorKind,
    workload: WorkloadKind,
    tasks: RecordedTasks,
    /// The workers met, by the group number the tasks carry.
    workers: Vec<(usize, u32, u32)>,
    group_of: HashMap<usize, u32>,
}

/// The experiments read so far, with the same lookups as a chunk's.
#[derive(Default)]
struct Experiments {
    list: Vec<RecordedExperiment>,
    by_name: HashMap<String, usize>,
    group_of: Vec<HashMap<usize, u32>>,
}

impl Experiments {
    /// Takes a chunk's rows, after those read before.
    fn take(&mut self, chunk: Chunk) -> Result<(), Problem> {
        for mut part in chunk.experiments {
            let position = match self.by_name.get(&part.name) {
                Some(&i) => i,
                None => {
                    let mut e = RecordedExperiment::named(&part.name);
                    e.executor = part.executor;
                    e.workload = part.workload;
                    self.by_name.insert(part.name.clone(), self.list.len());
                    self.list.push(e);
                    self.group_of.push(HashMap::new());
                    self.list.len() - 1
                }
            };
            let experiment = &mut self.list[position];
            let group_of = &mut self.group_of[position];
            let groups: Vec<u32> = part
                .workers
                .iter()
                .map(|&(worker, pid, tid)| {
                    *group_of.entry(worker).or_insert_with(|| {
                        experiment.groups.push(LaneGroup {
                            worker: Some(worker),
                            pid,
                            tid,
                            name: None,
                        });
                        (experiment.groups.len() - 1) as u32
                    })
                })
                .collect();
            for task in part.tasks.as_mut_slice() {
                if let Some(&group) = groups.get(task.group as usize) {
                    task.group = group;
                }
            }
            let offset = experiment.tasks.len() as u32;
            experiment.tasks.append(part.tasks, offset)?;
        }
        Ok(())
    }
}

/// Reads a poolscope CSV (its header already recognised), its samples file and its
/// folder's `summary.json` if present.
pub fn read(
    file: &Path,
    source: &mut dyn Read,
    lenient: bool,
    progress: &Progress,
) -> Result<FileContents, ImportError> {
    let in_file = |p: Problem| p.in_file(file);
    let mut read = Experiments::default();
    let skipped = csv_rows::parse_rows(source, 15..=16, lenient, progress, parse_row, |chunk| {
        read.take(chunk)
    })
    .map_err(in_file)?;
    let mut experiments = read.list;
    for experiment in &mut experiments {
        experiment.tasks.forget_label_index();
    }
    let mut notes = Vec::new();
    if let [experiment] = experiments.as_mut_slice() {
        let samples_file = samples_path(file);
        if let Ok(bytes) = std::fs::read(&samples_file) {
            let (samples, samples_skipped) =
                read_samples(&bytes, lenient).map_err(|p| p.in_file(&samples_file))?;
            experiment.samples = samples;
            if samples_skipped.count > 0 {
                notes.push(format!(
                    "skipped {} bad sample rows in {}",
                    samples_skipped.count,
                    samples_file.display()
                ));
            }
        }
    }
    // The run's own summary: its cores, and each experiment's place, bounds and figures,
    // so the reopened run reads as the run did.
    let saved = super::saved::beside(file);
    for experiment in &mut experiments {
        let Some(entry) = saved.as_ref().and_then(|s| s.experiment(&experiment.name)) else {
            continue;
        };
        experiment.position = Some(entry.position);
        experiment.workers = entry.workers;
        experiment.figures = Some(entry.figures.clone());
        if let Some(start) = entry.started_at {
            experiment.bounds = Some(super::saved::bounds(start, entry.finished_at));
        }
    }
    // The run's bounds only for a file the summary lists (not a stranger in its folder).
    let listed = experiments.iter().any(|e| {
        saved
            .as_ref()
            .is_some_and(|s| s.experiment(&e.name).is_some())
    });
    let (cores, run_bounds) = saved.map_or((None, None), |s| {
        (s.cores, if listed { s.bounds } else { None })
    });
    Ok(FileContents {
        experiments,
        cores,
        run_bounds,
        skipped,
        notes,
    })
}

/// `dir/process-fibo.csv` → `dir/process-fibo-samples.csv`.
fn samples_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}{}", crate::formats::export::SAMPLES_SUFFIX))
}

fn parse_row(row: &Row<'_>, chunk: &mut Chunk) -> Result<(), Problem> {
    let line = row.line;
    let name = |kind: &str, text: &str, known: &str| {
        Problem::at(
            line,
            Some(kind),
            format!(
                "unknown {kind} '{}': expected one of {known}",
                crate::model::display::shorten(text, 40)
            ),
        )
    };
    let executor_text = row.text(6, "executor")?;
    let executor = match executor_text {
        "recorded" => ExecutorKind::Recorded,
        text => ExecutorKind::parse(text).ok_or_else(|| {
            name(
                "executor",
                text,
                "processes, threads, sequential, gil, recorded",
            )
        })?,
    };
    let workload_text = row.text(7, "workload")?;
    let workload = match workload_text {
        "recorded" => WorkloadKind::Recorded,
        text => WorkloadKind::parse(text)
            .ok_or_else(|| name("workload", text, "fib, http, sleep, isolation, recorded"))?,
    };
    let start = optional_time(row.text(1, "start_time")?, line, "start_time")?;
    let end = optional_time(row.text(2, "end_time")?, line, "end_time")?;
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        return Err(Problem::at(
            line,
            Some("end_time"),
            format!(
                "the end ({}) is before the start ({}): expected end_time ≥ start_time",
                row.text(2, "end_time")?,
                row.text(1, "start_time")?
            ),
        ));
    }
    if end.is_some() && start.is_none() {
        return Err(Problem::at(
            line,
            Some("start_time"),
            "empty, but the task has an end_time: expected a start_time",
        ));
    }
    let elapsed = row.text(3, "elapsed")?;
    csv_rows::seconds(elapsed, line, "elapsed")?;
    let input =
        csv_rows::whole_number::<u64>(row.text(8, "input")?, line, "input")?.ok_or_else(|| {
            Problem::at(
                line,
                Some("input"),
                "empty: expected the task's input, like 41",
            )
        })?;
    let worker = csv_rows::whole_number::<usize>(row.text(9, "worker")?, line, "worker")?;
    let pid = csv_rows::whole_number::<u32>(row.text(10, "pid")?, line, "pid")?;
    let tid = csv_rows::whole_number::<u32>(row.text(11, "tid")?, line, "tid")?;
    let cpu_time = csv_rows::seconds(row.text(12, "cpu_time")?, line, "cpu_time")?;
    let status = row.text(13, "status")?;
    let (failed, outcome) = match status {
        "ok" => (false, row.text(4, "result")?),
        "error" => (true, row.text(14, "error")?),
        "running" | "pending" | "cancelled" => (false, ""),
        other => {
            return Err(name(
                "status",
                other,
                "ok, error, running, pending, cancelled",
            ));
        }
    };
    if matches!(status, "ok" | "error") && end.is_none() {
        return Err(Problem::at(
            line,
            Some("end_time"),
            format!("empty, but the status is '{status}': expected the time the task ended"),
        ));
    }
    if start.is_some() && worker.is_none() {
        return Err(Problem::at(
            line,
            Some("worker"),
            "empty, but the task started: expected the worker that ran it, like 0",
        ));
    }
    let label = match row.record.len() {
        16 => Some(row.text(15, "label")?).filter(|l| !l.is_empty()),
        _ => None,
    };
    let name = row.text(5, "experiment")?;
    let at = match chunk.by_name.get(name) {
        Some(&i) => i,
        None => {
            chunk
                .by_name
                .insert(name.to_string(), chunk.experiments.len());
            chunk.experiments.push(ChunkExperiment {
                name: name.to_string(),
                executor,
                workload,
                tasks: RecordedTasks::default(),
                workers: Vec::new(),
                group_of: HashMap::new(),
            });
            chunk.experiments.len() - 1
        }
    };
    let experiment = &mut chunk.experiments[at];
    let group = match worker {
        None => u32::MAX,
        Some(worker) => *experiment.group_of.entry(worker).or_insert_with(|| {
            experiment
                .workers
                .push((worker, pid.unwrap_or(0), tid.unwrap_or(0)));
            (experiment.workers.len() - 1) as u32
        }),
    };
    let task = RecordedTask::new(
        experiment.tasks.len(),
        input,
        group as usize,
        (start, end),
        failed,
        cpu_time,
    );
    experiment.tasks.push(task, outcome, label)
}

fn optional_time(text: &str, line: u64, column: &str) -> Result<Option<u64>, Problem> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        csv_rows::epoch_micros(text, line, column).map(Some)
    }
}

/// Reads a samples CSV: `worker,pid,tid,t_start,t_end,running,runnable,blocked`, then (since
/// they were added) `voluntary_switches,involuntary_switches,gil_wait,gil_held`, each
/// empty where not known.
fn read_samples(
    bytes: &[u8],
    lenient: bool,
) -> Result<(Vec<SampleEvent>, super::Skipped), Problem> {
    use crate::formats::export::{SAMPLES_HEADER, SAMPLES_HEADER_V1};
    let header = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .split(|&b| b == b'\n')
        .next()
        .map(|h| h.strip_suffix(b"\r").unwrap_or(h))
        .unwrap_or_default();
    let columns = if header == SAMPLES_HEADER.as_bytes() {
        12
    } else if header == SAMPLES_HEADER_V1.as_bytes() {
        8
    } else {
        return Err(Problem::at(
            1,
            None,
            format!("expected the header {SAMPLES_HEADER} (or its first eight columns)"),
        ));
    };
    let sample = |row: &Row<'_>| -> Result<Option<SampleEvent>, Problem> {
        let line = row.line;
        let number = |i: usize, name: &str| -> Result<u64, Problem> {
            csv_rows::whole_number::<u64>(row.text(i, name)?, line, name)?
                .ok_or_else(|| Problem::at(line, Some(name), "empty: expected a number"))
        };
        let share_text = |i: usize, name: &str| -> Result<Option<f32>, Problem> {
            let text = row.text(i, name)?.trim();
            if text.is_empty() {
                return Ok(None);
            }
            match text.parse::<f32>() {
                Ok(v) if (0.0..=1.0).contains(&v) => Ok(Some(v)),
                _ => Err(Problem::at(
                    line,
                    Some(name),
                    "expected a share from 0 to 1, like 0.75",
                )),
            }
        };
        let share = |i: usize, name: &str| -> Result<f32, Problem> {
            share_text(i, name)?
                .ok_or_else(|| Problem::at(line, Some(name), "empty: expected a share from 0 to 1"))
        };
        let count = |i: usize, name: &str| -> Result<Option<u32>, Problem> {
            if columns <= i {
                return Ok(None);
            }
            csv_rows::whole_number::<u32>(row.text(i, name)?, line, name)
        };
        let gil = |i: usize, name: &str| -> Result<Option<f32>, Problem> {
            if columns <= i {
                return Ok(None);
            }
            share_text(i, name)
        };
        let from = csv_rows::epoch_micros(row.text(3, "t_start")?, line, "t_start")?;
        let to = csv_rows::epoch_micros(row.text(4, "t_end")?, line, "t_end")?;
        let voluntary = count(8, "voluntary_switches")?;
        let involuntary = count(9, "involuntary_switches")?;
        let gil = match (gil(10, "gil_wait")?, gil(11, "gil_held")?) {
            (None, None) => None,
            (wait, held) => Some(crate::model::event::GilShares {
                wait: wait.unwrap_or(0.0),
                held: held.unwrap_or(0.0),
            }),
        };
        Ok(Some(SampleEvent {
            experiment: 0,
            worker: WorkerId {
                index: number(0, "worker")? as usize,
                pid: number(1, "pid")? as u32,
                tid: number(2, "tid")? as u32,
            },
            from: crate::model::clock::Timestamp(from),
            to: crate::model::clock::Timestamp(to.max(from)),
            running: share(5, "running")?,
            runnable: share(6, "runnable")?,
            blocked: share(7, "blocked")?,
            voluntary_switches: voluntary.zip(involuntary).map(|(v, _)| v),
            involuntary_switches: voluntary.zip(involuntary).map(|(_, i)| i),
            gil,
            waits: None,
        }))
    };
    let mut samples = Vec::new();
    let skipped = csv_rows::parse_rows(
        &mut &bytes[..],
        columns..=columns,
        lenient,
        &Progress::default(),
        |row, chunk: &mut Vec<SampleEvent>| {
            chunk.extend(sample(row)?);
            Ok(())
        },
        |chunk| {
            samples.extend(chunk);
            Ok(())
        },
    )?;
    Ok((samples, skipped))
}
