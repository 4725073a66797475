//! Turns a timeline into files: one CSV per experiment (the seed's columns first) and a
//! `summary.json`, each written atomically.
//!
//! Export reads only the [`Timeline`], so the live view's `e` key and the headless mode
//! write byte-for-byte the same files for the same events. Functions that build bytes are
//! separate from the one that writes them, so tests check the text itself.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::files::stage;
pub use super::files::{plain_stem, write_set};
pub use super::names::{SAMPLES_SUFFIX, STATS_FILE, SUMMARY_FILE, SVG_FILE, TRACE_FILE};
use crate::chart::fold::Depth;
use crate::model::clock::Timestamp;
use crate::model::plan::ExecutorKind;
use crate::model::timeline::{Experiment, TaskState, Timeline};

/// One CSV row. Field order is the column order: the seed's five columns
/// (`tag,start_time,end_time,elapsed,result`), then poolscope's; `label` is a recorded
/// task's own name (from `poolscope view`), empty for tasks poolscope ran.
#[derive(Debug, Serialize)]
struct CsvRow<'a> {
    tag: String,
    start_time: Option<String>,
    end_time: Option<String>,
    elapsed: Option<String>,
    result: &'a str,
    experiment: &'a str,
    executor: &'a str,
    workload: &'a str,
    input: u64,
    worker: Option<usize>,
    pid: Option<u32>,
    tid: Option<u32>,
    cpu_time: Option<String>,
    status: &'a str,
    error: &'a str,
    label: &'a str,
}

/// The CSV header line, as scripts can rely on it.
pub const CSV_HEADER: &str = "tag,start_time,end_time,elapsed,result,experiment,executor,workload,input,worker,pid,tid,cpu_time,status,error,label";

fn seconds(d: std::time::Duration) -> String {
    // Rounded to the microsecond in integers: `{:.6}` of an f64 rounds a time that ends in
    // exactly half a microsecond down or up as the binary fraction falls.
    let micros = (d.as_nanos() + 500) / 1000;
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// The CSV of one experiment: a row per task in input order, tagged `{experiment}-{i}`.
///
/// Times are epoch seconds with microsecond precision; durations are seconds. A task that
/// has not ended has an empty end time and its status says why (`running`, `pending`,
/// `cancelled`).
pub fn experiment_csv(timeline: &Timeline, experiment: &Experiment) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let plan = &experiment.plan;
    for (i, task) in experiment.tasks().enumerate() {
        let (result, error) = match task.state {
            TaskState::Succeeded { result, .. } => (result, ""),
            TaskState::Failed { error, .. } => ("", error),
            TaskState::Pending | TaskState::Running => ("", ""),
        };
        let elapsed = task
            .ended_at
            .and_then(|end| Some(end.since(task.started_at?)));
        writer.serialize(CsvRow {
            tag: format!("{}-{i}", plan.name),
            start_time: task.started_at.map(Timestamp::to_epoch_string),
            end_time: task.ended_at.map(Timestamp::to_epoch_string),
            elapsed: elapsed.map(seconds),
            result,
            experiment: &plan.name,
            executor: plan.executor.as_str(),
            workload: plan.workload.as_str(),
            input: task.input,
            worker: task.worker.map(|w| w.index),
            pid: task.worker.map(|w| w.pid),
            tid: task.worker.map(|w| w.tid),
            cpu_time: task.cpu_time().map(seconds),
            status: timeline.status_of(&task).as_str(),
            error,
            label: plan.recorded_label(i, task.input).as_deref().unwrap_or(""),
        })?;
    }
    if experiment.tasks_held() == 0 {
        // serde writes the header with the first row; an experiment without tasks still
        // gets a well-formed file.
        return Ok(format!("{CSV_HEADER}\n").into_bytes());
    }
    writer.into_inner().context("flushing CSV")
}

/// The samples CSV's header: one row per scheduler sample of a worker thread. The first
/// eight columns are the first version's; a reopened run needs the rest (switch counts,
/// and the GIL's shares where the experiment ran under one), empty where not known.
pub const SAMPLES_HEADER: &str = "worker,pid,tid,t_start,t_end,running,runnable,blocked,voluntary_switches,involuntary_switches,gil_wait,gil_held";

/// The columns every samples CSV starts with (files of earlier versions have only these).
pub const SAMPLES_HEADER_V1: &str = "worker,pid,tid,t_start,t_end,running,runnable,blocked";

/// `<experiment>-samples.csv`: every scheduler sample of the experiment's workers, lane by
/// lane in time order; times in the CSVs' clock (epoch seconds), shares 0..1, the context
/// switches in the interval, and for a GIL experiment the shares of the interval its worker
/// waited for and held the GIL. `None` when nothing was sampled.
pub fn samples_csv(timeline: &Timeline, experiment: &Experiment) -> Option<Vec<u8>> {
    if experiment.sched.samples == 0 {
        return None;
    }
    let now = timeline.latest().map_or(0, Timestamp::as_micros);
    let mut out = format!("{SAMPLES_HEADER}\n");
    for lane in &experiment.lanes {
        for s in lane.samples() {
            let (voluntary, involuntary) =
                s.switches.map_or((String::new(), String::new()), |(v, i)| {
                    (v.to_string(), i.to_string())
                });
            let (gil_wait, gil_held) = if experiment.gil_recorded {
                let share = lane.state_in(s.from, s.to, now);
                (
                    format!("{:.4}", share.gil_wait.clamp(0.0, 1.0)),
                    format!("{:.4}", share.gil_held.clamp(0.0, 1.0)),
                )
            } else {
                (String::new(), String::new())
            };
            out.push_str(&format!(
                "{},{},{},{},{},{:.4},{:.4},{:.4},{voluntary},{involuntary},{gil_wait},{gil_held}\n",
                lane.worker,
                lane.pid,
                lane.tid,
                Timestamp(s.from).to_epoch_string(),
                Timestamp(s.to).to_epoch_string(),
                s.running,
                s.runnable,
                s.blocked
            ));
        }
    }
    Some(out.into_bytes())
}

/// "Wrote 4 CSV files and summary.json to DIR" (samples files counted apart).
pub fn describe_written(written: &[PathBuf], dir: &Path) -> String {
    let is_samples = |p: &&PathBuf| p.to_string_lossy().ends_with(SAMPLES_SUFFIX);
    let samples = written.iter().filter(is_samples).count();
    let csvs = written.len().saturating_sub(1 + samples);
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let samples = match samples {
        0 => String::new(),
        n => format!(", {n} samples file{}", plural(n)),
    };
    format!(
        "Wrote {csvs} CSV file{}{samples} and summary.json to {}",
        plural(csvs),
        dir.display()
    )
}

/// `summary.json`'s shape.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    poolscope_version: &'static str,
    cores: Option<usize>,
    status: &'static str,
    started_at: Option<f64>,
    finished_at: Option<f64>,
    experiments: Vec<ExperimentSummary<'a>>,
    speedups: Vec<SpeedupSummary>,
    /// What the run said the user should know (a pool that ran with fewer workers, …).
    notices: &'a [String],
}

#[derive(Debug, Serialize)]
struct ExperimentSummary<'a> {
    name: &'a str,
    /// The experiment's CSV in this folder (its name made a plain file name).
    file: String,
    executor: &'a str,
    workload: &'a str,
    /// The workers that started (fewer than planned where the system refused some).
    workers: usize,
    /// The workers the plan asked for.
    workers_planned: usize,
    tasks: usize,
    failed: usize,
    started_at: f64,
    finished_at: Option<f64>,
    makespan_s: Option<f64>,
    cpu_time_s: Option<f64>,
    efficiency: Option<f64>,
    /// Time the tasks waited for a CPU (from the scheduler sampler), if sampled.
    cpu_wait_s: Option<f64>,
    /// Time the workers waited for a CPU outside tasks (starting, between tasks).
    cpu_wait_outside_tasks_s: Option<f64>,
    /// Context switches of the workers, if counted.
    voluntary_switches: Option<u64>,
    involuntary_switches: Option<u64>,
    /// Time the workers waited for the simulated GIL (gil executor only).
    gil_wait_s: Option<f64>,
    /// CPUs other processes used during the experiment, averaged over it, if measured.
    others_cpu: Option<f64>,
}

#[derive(Debug, Serialize)]
struct SpeedupSummary {
    workload: &'static str,
    against: &'static str,
    label: String,
    percent: f64,
}

/// One experiment's entry of `summary.json`; its CSV is `stem`.csv.
fn experiment_summary<'a>(
    cores: Option<usize>,
    e: &'a Experiment,
    stem: &str,
) -> ExperimentSummary<'a> {
    let makespan = e.makespan();
    ExperimentSummary {
        name: &e.plan.name,
        file: csv_file_name(stem),
        executor: e.plan.executor.as_str(),
        workload: e.plan.workload.as_str(),
        workers: e.workers_started(),
        workers_planned: e.plan.workers,
        tasks: e.task_count(),
        failed: e.failed(),
        started_at: e.started_at.as_secs_f64(),
        finished_at: e.finished_at.map(Timestamp::as_secs_f64),
        makespan_s: makespan.map(|m| m.as_secs_f64()),
        cpu_time_s: e.cpu_measured().then(|| e.cpu_time().as_secs_f64()),
        efficiency: cores.zip(makespan).and_then(|(c, m)| e.efficiency(c, m)),
        cpu_wait_s: e.cpu_wait().map(|d| d.as_secs_f64()),
        cpu_wait_outside_tasks_s: e.cpu_wait_outside_tasks().map(|d| d.as_secs_f64()),
        voluntary_switches: e.switches().map(|(v, _)| v),
        involuntary_switches: e.switches().map(|(_, i)| i),
        gil_wait_s: e
            .gil_wait()
            .filter(|_| e.plan.executor == ExecutorKind::Gil)
            .map(|d| d.as_secs_f64()),
        others_cpu: e.others_cpu(),
    }
}

/// Each experiment's entry of `summary.json`, as JSON values (a trace carries them too, so
/// it reopens with the run's own figures).
pub fn experiment_summaries(timeline: &Timeline) -> Vec<serde_json::Value> {
    timeline
        .experiments()
        .iter()
        .zip(file_stems(timeline))
        .map(|(e, stem)| {
            serde_json::to_value(experiment_summary(timeline.cores(), e, &stem)).unwrap_or_default()
        })
        .collect()
}

/// `summary.json`: per experiment its figures, and the post's speed-ups.
pub fn summary_json(timeline: &Timeline) -> Vec<u8> {
    let cores = timeline.cores();
    let status = match timeline.outcome() {
        Some(crate::model::event::RunOutcome::Completed) => "completed",
        Some(crate::model::event::RunOutcome::Cancelled) => "cancelled",
        None => "running",
    };
    let experiments = timeline
        .experiments()
        .iter()
        .zip(file_stems(timeline))
        .map(|(e, stem)| experiment_summary(cores, e, &stem))
        .collect();
    let speedups = timeline
        .speedups()
        .into_iter()
        .map(|s| SpeedupSummary {
            workload: s.workload.as_str(),
            against: s.baseline.as_str(),
            label: s.label(),
            percent: s.percent,
        })
        .collect();
    let summary = Summary {
        poolscope_version: env!("CARGO_PKG_VERSION"),
        cores,
        status,
        started_at: timeline.started_at().map(Timestamp::as_secs_f64),
        finished_at: timeline.finished_at().map(Timestamp::as_secs_f64),
        experiments,
        speedups,
        notices: timeline.notices(),
    };
    let mut json = serde_json::to_vec_pretty(&summary).expect("summary serializes");
    json.push(b'\n');
    json
}

/// Writes every experiment's CSV and `summary.json` into `dir` (created if missing), as one
/// consistent set: every file is written to a temporary file in `dir` and synced first, and
/// only once all of them are complete are they renamed over the final names; CSVs that an
/// earlier export to `dir` wrote for experiments not in this run are removed, and the
/// folder itself is synced. A failure before the renames leaves `dir` as it was (the
/// temporary files are removed). Files get mode 0644 less the umask. Returns the paths
/// written.
pub fn write_run(dir: &Path, timeline: &Timeline) -> anyhow::Result<Vec<PathBuf>> {
    if timeline.is_watch() {
        // A watched program's files: per pool, the samples, its own summary.
        return super::watch::write(dir, timeline);
    }
    let stems = file_stems(timeline);
    // Files an earlier export wrote here, removed unless this one writes them again: CSVs
    // of experiments no longer in the run, samples of experiments no longer sampled.
    let mut stale: Vec<PathBuf> = Vec::new();
    let earlier = super::files::listed_csv_stems(&dir.join(SUMMARY_FILE), "experiments", true);
    for stem in stems.iter().chain(&earlier) {
        stale.push(dir.join(csv_file_name(stem)));
        stale.push(dir.join(samples_file_name(stem)));
    }
    // Each experiment's files made as they are staged, never all held at once.
    let files = timeline
        .experiments()
        .iter()
        .zip(&stems)
        .flat_map(|(experiment, stem)| {
            let csv =
                experiment_csv(timeline, experiment).map(|bytes| (csv_file_name(stem), bytes));
            let samples =
                samples_csv(timeline, experiment).map(|bytes| Ok((samples_file_name(stem), bytes)));
            std::iter::once(csv).chain(samples)
        })
        .chain(std::iter::once(Ok((
            SUMMARY_FILE.to_string(),
            summary_json(timeline),
        ))));
    super::files::write_set(dir, files, stale)
}

/// `process-fibo.csv` for the file stem `process-fibo`.
fn csv_file_name(stem: &str) -> String {
    format!("{stem}.csv")
}

/// Each experiment's file stem in `timeline`, in order ([`file_stem`]), with `-2`, `-3`, …
/// where two would share a CSV or a samples file.
fn file_stems(timeline: &Timeline) -> Vec<String> {
    super::files::unique_stems(
        timeline.experiments().iter().map(|e| e.plan.name.as_str()),
        |stem| vec![csv_file_name(stem), samples_file_name(stem)],
        &[],
    )
}

/// `process-fibo-samples.csv` for the file stem `process-fibo`.
fn samples_file_name(stem: &str) -> String {
    format!("{stem}{SAMPLES_SUFFIX}")
}

/// Writes `bytes` to `path` so that readers see the old file or the new one, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let (file, path) = stage(path, bytes)?;
    file.persist(&path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

/// Checks, before a run, that files can be written into `dir` (created if missing): a
/// probe file is created there and removed, so `--out /sys/kernel` fails at once instead
/// of after the run.
pub fn check_writable(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the output directory {}", dir.display()))?;
    tempfile::Builder::new()
        .prefix(".poolscope-probe-")
        .tempfile_in(dir)
        .map(drop)
        .with_context(|| format!("the output directory {} is not writable", dir.display()))
}

/// A new, not yet existing folder for a run's files: `base/YYYYMMDD-HHMMSS`, with `-2`,
/// `-3`, … appended if that name is taken, so no earlier run is ever overwritten.
pub fn new_run_dir(base: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(base)
        .with_context(|| format!("creating the output directory {}", base.display()))?;
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
    for attempt in 1..1000 {
        let name = if attempt == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{attempt}")
        };
        let dir = base.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("creating {}", dir.display()));
            }
        }
    }
    anyhow::bail!("could not find a free folder name under {}", base.display())
}

/// Writes `timeline` as a Chrome trace to `file`, atomically, making its folder if missing.
pub fn write_trace(timeline: &Timeline, file: &Path) -> anyhow::Result<()> {
    write_file(file, &super::chrome_trace::export(timeline))
        .with_context(|| format!("writing the trace to {}", file.display()))
}

/// Writes the chart of `timeline` as an SVG picture to `file`, likewise, a thread's nested
/// calls `depth` rows deep.
pub fn write_svg(timeline: &Timeline, file: &Path, depth: Depth) -> anyhow::Result<()> {
    write_file(file, &super::svg::export(timeline, depth))
        .with_context(|| format!("writing the picture to {}", file.display()))
}

/// Writes every run of `runs` that started into `dir/run-N/` (N from 1, in order), and
/// `stats.json` over `comparable` (the completed runs of one plan) beside them.
pub fn write_runs(dir: &Path, runs: &[&Timeline], comparable: &[&Timeline]) -> anyhow::Result<()> {
    for (i, run) in runs.iter().enumerate() {
        if run.experiments().is_empty() {
            continue;
        }
        write_run(&dir.join(format!("run-{}", i + 1)), run)?;
    }
    write_atomically(
        &dir.join(STATS_FILE),
        &crate::model::stats::stats_json(comparable),
    )
}

fn write_file(file: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the folder {}", dir.display()))?;
    }
    write_atomically(file, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{Event, RunOutcome, TaskEventKind};
    use crate::model::plan::ExecutorKind;
    use crate::model::timeline::tests::{finished, started_experiment, task};

    #[test]
    fn times_are_written_rounded_to_the_microsecond_as_integers_round() {
        use std::time::Duration;
        for (nanos, text) in [
            (0, "0.000000"),
            (1_234_500, "0.001235"),
            (1_234_499, "0.001234"),
            (2_000_000_000, "2.000000"),
            (999_999_500, "1.000000"),
            (7_015_000_500, "7.015001"),
        ] {
            assert_eq!(seconds(Duration::from_nanos(nanos)), text, "{nanos} ns");
        }
    }

    fn sample() -> Timeline {
        let base = 1_700_000_000_000_000;
        Timeline::from_events(&[
            Event::RunStarted {
                at: Timestamp(base),
                cores: 2,
                experiments: 1,
            },
            started_experiment(0, ExecutorKind::Threads, base),
            task(0, 0, 0, base + 10, TaskEventKind::Started),
            task(0, 1, 1, base + 20, TaskEventKind::Started),
            task(0, 0, 0, base + 1_500_010, finished(1_400_000)),
            task(0, 2, 0, base + 1_500_020, TaskEventKind::Started),
            task(
                0,
                1,
                1,
                base + 500_020,
                TaskEventKind::Failed {
                    error: "GET x: HTTP 503, \"busy\"".into(),
                    cpu_time: None,
                },
            ),
        ])
    }

    #[test]
    fn csv_has_the_seeds_columns_first_and_a_row_per_task() {
        let timeline = sample();
        let csv = String::from_utf8(experiment_csv(&timeline, &timeline.experiments()[0]).unwrap())
            .unwrap();
        insta::assert_snapshot!(csv, @r#"
        tag,start_time,end_time,elapsed,result,experiment,executor,workload,input,worker,pid,tid,cpu_time,status,error,label
        thread-fibo-0,1700000000.000010,1700000001.500010,1.500000,ok,thread-fibo,threads,fib,30,0,100,200,1.400000,ok,,
        thread-fibo-1,1700000000.000020,1700000000.500020,0.500000,,thread-fibo,threads,fib,31,1,100,201,,error,"GET x: HTTP 503, ""busy""",
        thread-fibo-2,1700000001.500020,,,,thread-fibo,threads,fib,32,0,100,200,,running,,
        "#);
        assert!(csv.starts_with(CSV_HEADER));
    }

    #[test]
    fn unfinished_rows_say_cancelled_after_a_cancelled_run() {
        let mut timeline = sample();
        timeline.apply(&Event::RunFinished {
            at: Timestamp(1),
            outcome: RunOutcome::Cancelled,
        });
        let csv = String::from_utf8(experiment_csv(&timeline, &timeline.experiments()[0]).unwrap())
            .unwrap();
        assert!(
            csv.lines().last().unwrap().ends_with(",cancelled,,"),
            "{csv}"
        );
    }

    #[test]
    fn summary_lists_experiments_and_figures() {
        let mut timeline = sample();
        timeline.apply(&Event::ExperimentFinished {
            experiment: 0,
            at: Timestamp(1_700_000_002_000_000),
        });
        let json: serde_json::Value = serde_json::from_slice(&summary_json(&timeline)).unwrap();
        let e = &json["experiments"][0];
        assert_eq!(e["name"], "thread-fibo");
        assert_eq!(e["workers"], 2);
        assert_eq!(e["tasks"], 3);
        assert_eq!(e["failed"], 1);
        assert_eq!(e["makespan_s"], 2.0);
        assert!((e["cpu_time_s"].as_f64().unwrap() - 1.4).abs() < 1e-9);
        assert!((e["efficiency"].as_f64().unwrap() - 0.35).abs() < 1e-9);
        assert_eq!(json["status"], "running");
    }

    #[test]
    fn run_dirs_never_collide() {
        let base = tempfile::tempdir().unwrap();
        let a = new_run_dir(base.path()).unwrap();
        let b = new_run_dir(base.path()).unwrap();
        assert_ne!(a, b);
        assert!(a.is_dir() && b.is_dir());
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
