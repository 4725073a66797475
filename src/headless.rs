//! Headless mode: run the plan, print a line per experiment as the post did, the post's
//! speed-up lines and a summary table, and write the CSVs.
//!
//! It consumes the same event stream and the same [`Timeline`] as the live view, so its
//! files are exactly what the view's export writes. Progress goes to stderr, only when
//! stderr is a terminal; results go to stdout. Ctrl-C (or SIGTERM/SIGHUP) stops the run,
//! writes what finished (the rest as `cancelled`) and exits 128 + the signal (130 for
//! Ctrl-C); a second signal stops waiting for the run to wind down and writes at once.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, select};

use crate::chart::axis::human;
use crate::cli::{OutDir, Outputs, RunConfig};
use crate::engine::runner::{self, RunOptions};
use crate::engine::signals;
use crate::formats::export;
use crate::model::clock::Timestamp;
use crate::model::display;
use crate::model::event::{Event, RunOutcome, SamplerNotice, TaskEvent, TaskEventKind};
use crate::model::plan::{ExecutorKind, WorkloadKind};
use crate::model::timeline::{Experiment, TaskState, Timeline, efficiency_formula};

pub mod watch;

/// How often the progress line on stderr is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Runs `config` headless (`--runs N` times); returns the exit status (0, 1 if a task
/// failed or a file could not be written, 128+signal if stopped).
///
/// With several runs, each run's files go to `run-1/`, `run-2/`, … of the output folder, and
/// `stats.json` beside them; the statistics are printed after the last run.
pub fn run(config: &RunConfig, options: &RunOptions) -> anyhow::Result<ExitCode> {
    let base = prepare_out_dir(&config.out)?;
    let signals = route_signals()?;
    let mut stdout = std::io::stdout();
    let mut timelines: Vec<Timeline> = Vec::new();
    let mut stopped = None;
    for i in 0..config.runs {
        let dir = if config.runs > 1 {
            let _ = writeln!(
                stdout,
                "{}Run {}/{}",
                if i > 0 { "\n" } else { "" },
                i + 1,
                config.runs
            );
            base.join(format!("run-{}", i + 1))
        } else {
            base.clone()
        };
        let (timeline, stopped_by) = run_once(config, options, &dir, &signals)?;
        timelines.push(timeline);
        keep_for_statistics(&mut timelines);
        if stopped_by.is_some() {
            stopped = stopped_by;
            break;
        }
    }
    if timelines.len() > 1 {
        let refs: Vec<&Timeline> = timelines.iter().collect();
        let _ = write!(stdout, "{}", crate::model::stats::report(&refs));
        let file = base.join(export::STATS_FILE);
        export::write_atomically(&file, &crate::model::stats::stats_json(&refs))?;
        let _ = writeln!(
            stdout,
            "Wrote {}",
            display::safe(&file.display().to_string())
        );
    } else if let Some(timeline) = timelines.first()
        && !timeline.speedups().is_empty()
    {
        let _ = writeln!(stdout, "{}", one_run_note());
    }
    let Some(last) = timelines.last() else {
        return Ok(ExitCode::SUCCESS);
    };
    if config.outputs.print.is_some() {
        let _ = writeln!(stdout);
    }
    let _ = stdout.flush();
    // The chart (`--print`) after the summary, and the trace and picture, of the last run.
    match write_outputs(last, &config.outputs) {
        Ok(lines) => {
            for line in lines {
                let _ = writeln!(stdout, "{}", display::safe(&line));
            }
        }
        Err(e) => {
            say(&format!("poolscope: error: {e:#}"));
            return Ok(ExitCode::from(1));
        }
    }
    if let Some(signal) = stopped {
        say(&format!(
            "poolscope: stopped by signal {signal}; unfinished tasks are marked cancelled"
        ));
        return Ok(ExitCode::from((128 + signal.clamp(1, 127)) as u8));
    }
    Ok(if timelines.iter().any(|t| t.failed_tasks() > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Once a run is written, what the statistics over the runs need of it is its figures
/// (makespans, counts, CPU and scheduler totals): every run but the last (whose chart,
/// trace and picture may still be asked for) drops its task-level events, so `--runs 10`
/// holds about what one run does.
fn keep_for_statistics(timelines: &mut [Timeline]) {
    if let Some((_, written)) = timelines.split_last_mut() {
        for timeline in written {
            if timeline.records_held() > 0 {
                timeline.drop_task_events();
            }
        }
    }
}

/// Writes what `outputs` asks for from `timeline`: the text chart on stdout (as wide as the
/// terminal, else 100 columns; coloured on a terminal unless `NO_COLOR`), the trace and the
/// picture to their files (atomically). Returns a line per file written, for the user.
pub fn write_outputs(timeline: &Timeline, outputs: &Outputs) -> anyhow::Result<Vec<String>> {
    let mut written = Vec::new();
    if let Some(width) = outputs.print {
        let stdout = std::io::stdout();
        let terminal = stdout.is_terminal();
        let color = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let width = width.unwrap_or_else(|| {
            terminal
                .then(|| crossterm::terminal::size().ok().map(|(w, _)| w))
                .flatten()
                .unwrap_or(100)
        });
        let chart = crate::formats::text::chart(timeline, width, color, outputs.depth);
        let mut out = stdout.lock();
        // A closed stdout (`| head`) is not an error worth more than stopping.
        let _ = out.write_all(chart.as_bytes()).and_then(|()| out.flush());
    }
    if let Some(file) = &outputs.trace {
        export::write_trace(timeline, file)?;
        written.push(format!(
            "Wrote the Chrome trace to {} (open it in ui.perfetto.dev or chrome://tracing)",
            file.display()
        ));
    }
    if let Some(file) = &outputs.svg {
        export::write_svg(timeline, file, outputs.depth)?;
        written.push(format!("Wrote the chart to {}", file.display()));
    }
    Ok(written)
}

/// One run of the plan into `dir`: its lines, summary and files. Returns its timeline and
/// the signal that stopped it, if one did.
fn run_once(
    config: &RunConfig,
    options: &RunOptions,
    dir: &std::path::Path,
    signals: &Receiver<i32>,
) -> anyhow::Result<(Timeline, Option<i32>)> {
    let handle = runner::start(&config.plan, options)?;

    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let mut stdout = std::io::stdout();
    let mut timeline = Timeline::new();
    let mut stopped_by = None;
    let ticks = crossbeam_channel::tick(PROGRESS_EVERY);
    let mut events = handle.events.clone();
    loop {
        select! {
            recv(events) -> event => match event {
                Ok(event) => {
                    timeline.apply(&event);
                    match event {
                        Event::ExperimentFinished { experiment, .. } => {
                            if let Some(e) = timeline.experiment(experiment) {
                                progress.clear();
                                let _ = writeln!(stdout, "{}", experiment_line(e));
                            }
                        }
                        Event::Mark { label, .. } => {
                            // The isolation demo's main side, as the post printed it.
                            progress.clear();
                            let _ = writeln!(stdout, "Main-{} sets {label}", std::process::id());
                        }
                        Event::Task(task) => {
                            if let Some(line) = isolation_line(&timeline, &task) {
                                progress.clear();
                                let _ = writeln!(stdout, "{line}");
                            }
                        }
                        Event::Notice { text, .. } => {
                            progress.clear();
                            say(&format!("poolscope: note: {text}"));
                        }
                        Event::Sampler(notice) => {
                            progress.clear();
                            say(&format!("poolscope: {}", describe_sampler(&notice)));
                        }
                        Event::RunFinished { .. } => break,
                        _ => {}
                    }
                }
                Err(_) => events = crossbeam_channel::never(),
            },
            recv(signals) -> signal => {
                let Ok(signal) = signal else { continue };
                progress.clear();
                if stopped_by.is_none() {
                    stopped_by = Some(signal);
                    handle.cancel();
                    say("");
                    say("poolscope: stopping (press Ctrl-C again to stop waiting)…");
                } else {
                    // Stop waiting for the run to wind down; what finished is written below.
                    say("poolscope: not waiting any longer; writing what finished…");
                    timeline.apply(&Event::RunFinished {
                        at: Timestamp::now(),
                        outcome: RunOutcome::Cancelled,
                    });
                    break;
                }
            }
            recv(ticks) -> _ => {}
        }
        progress.show(&timeline);
    }
    progress.clear();

    let cancelled = timeline.outcome() != Some(RunOutcome::Completed);
    let written = export::write_run(dir, &timeline)?;
    let _ = write!(stdout, "{}", results(&timeline));
    let _ = writeln!(
        stdout,
        "\n{}",
        display::safe(&export::describe_written(&written, dir))
    );
    let _ = stdout.flush();
    if cancelled {
        return Ok((
            timeline,
            Some(stopped_by.unwrap_or(signal_hook::consts::SIGINT)),
        ));
    }
    handle.join();
    Ok((timeline, None))
}

/// A run's results as headless prints them after it: the post's speed-up lines (of the
/// workloads that finished, even when the run was stopped first), a blank line, the
/// summary table, and a line for each experiment that ran on a busy machine. `view
/// --print` ends with the same text for a reopened run, line for line, since both read the
/// same figures.
pub fn results(timeline: &Timeline) -> String {
    if timeline.is_watch() {
        return watch::results(timeline);
    }
    let mut out = String::new();
    for line in speedup_lines(timeline) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&summary_table(timeline));
    for note in busy_notes(timeline) {
        out.push_str(&note);
        out.push('\n');
    }
    out
}

/// A line for each experiment that ran on a busy machine (other programs used a quarter
/// of a CPU or more), for the printouts that follow a run.
pub fn busy_notes(timeline: &Timeline) -> Vec<String> {
    timeline
        .experiments()
        .iter()
        .filter_map(|e| e.busy_note(timeline.cores()))
        .collect()
}

/// What follows the post's speed-up lines after a single run: one run has no spread.
pub fn one_run_note() -> String {
    format!(
        "(one run: a speed-up measured once is as much noise as difference; --runs {} gives each its spread)",
        crate::model::stats::ENOUGH_RUNS.max(5)
    )
}

/// A line on stderr that never panics: a closed stderr (`poolscope --headless |& head`)
/// must not kill whoever is saying it.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{}", display::safe(line));
}

/// The folder files will go to: `--out DIR` (checked writable before the run, in `main`),
/// or a new folder under the default one, made now so a bad path fails before the run.
fn prepare_out_dir(out: &OutDir) -> anyhow::Result<PathBuf> {
    match out {
        OutDir::Fixed(dir) => Ok(dir.clone()),
        OutDir::NewUnder(base) => export::new_run_dir(base),
    }
}

/// SIGINT, SIGTERM and SIGHUP, as they arrive, for the collector loop to act on. The signal
/// thread only forwards: it never writes, so nothing can kill it.
fn route_signals() -> anyhow::Result<Receiver<i32>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    signals::on_stop_signals(move |signal| tx.send(signal).is_ok())?;
    Ok(rx)
}

/// The post's speed-up lines ("Process vs Threads Fibonacci tasks speed-up = 12.51%"), then
/// the same against GIL threads.
pub fn speedup_lines(timeline: &Timeline) -> Vec<String> {
    timeline
        .speedups()
        .into_iter()
        .map(|s| format!("{} = {:.2}%", s.label(), s.percent))
        .collect()
}

/// "Run experiment ProcessPool: running fib over [34, 35, …, 41] among 8 workers … done in 480 ms",
/// and where tasks failed, how many and the first one's error ("(2 failed: HTTP 503 …)").
/// Durations read as the view writes them.
pub fn experiment_line(e: &Experiment) -> String {
    let plan = &e.plan;
    let makespan = human(e.makespan().unwrap_or_default());
    let first_error = e.tasks().find_map(|t| match t.state {
        TaskState::Failed { error, .. } => Some(error),
        _ => None,
    });
    let failed = match (e.failed(), first_error) {
        (0, _) => String::new(),
        (n, Some(error)) => format!(" ({n} failed: {})", display::shorten(error, 80)),
        (n, None) => format!(" ({n} failed)"),
    };
    format!(
        "Run experiment {}: running {} over {} among {} worker{} … done in {makespan}{failed}",
        plan.executor.pool_name(),
        plan.workload,
        abbreviate(&plan.inputs),
        e.workers_text(),
        plural(plan.workers),
    )
}

/// `[34, 35, …, 41]` for long lists, every item for short ones.
fn abbreviate(inputs: &[u64]) -> String {
    match inputs {
        [first, second, .., last] if inputs.len() > 4 => format!("[{first}, {second}, …, {last}]"),
        _ => format!("{inputs:?}"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// "Thread-4242 thinks X is 2": an isolation demo's read, as the post printed it (Process
/// for a worker process, Main for the sequential executor, which reads on the main side).
fn isolation_line(timeline: &Timeline, task: &TaskEvent) -> Option<String> {
    let plan = &timeline.experiment(task.experiment)?.plan;
    let TaskEventKind::Finished { result, .. } = &task.kind else {
        return None;
    };
    if plan.workload != WorkloadKind::Isolation {
        return None;
    }
    let tag = match plan.executor {
        ExecutorKind::Processes => "Process",
        ExecutorKind::Sequential => "Main",
        _ => "Thread",
    };
    Some(format!(
        "{tag}-{} thinks X is {}",
        task.worker.pid,
        display::safe(result)
    ))
}

/// What the scheduler sampler said about itself, in one line for people.
pub fn describe_sampler(notice: &SamplerNotice) -> String {
    match notice {
        SamplerNotice::Unavailable(why) => {
            format!("scheduler sampling is off ({why}); bars are not shaded by state")
        }
        SamplerNotice::Interval { interval_ms, .. } => format!(
            "scheduler sampling widened to every {interval_ms} ms to keep its cost under 1 % of a core"
        ),
        SamplerNotice::Cost {
            share,
            threads,
            interval_ms,
            asked_ms,
        } => {
            let widened = if interval_ms != asked_ms {
                format!(" (widened from {asked_ms} ms)")
            } else {
                String::new()
            };
            format!(
                "sampling cost {:.2} % of a core: up to {threads} thread{} read every {interval_ms} ms{widened}",
                share * 100.0,
                if *threads == 1 { "" } else { "s" }
            )
        }
    }
}

/// The summary table: experiment, workers, tasks, makespan, CPU time, efficiency, failures,
/// and what the scheduler sampler saw (time waiting for a CPU, context switches voluntary /
/// involuntary) and time waiting for a simulated GIL. When the run was stopped before it
/// completed, a `state` column says per experiment `done`, or `cancelled` with how many of
/// its tasks ended, and a line counts the experiments that never started.
/// Workers are those that started, with the planned count beside them (`6/64`) where
/// fewer did.
pub fn summary_table(timeline: &Timeline) -> String {
    if timeline.is_watch() {
        return watch::results(timeline);
    }
    let cores = timeline.cores();
    let stopped = timeline.outcome() != Some(RunOutcome::Completed);
    // As wide as the longest name (names from files can be long), within reason.
    let name_width = timeline
        .experiments()
        .iter()
        .map(|e| display::width(&e.plan.name))
        .max()
        .unwrap_or(0)
        .clamp(18, 48);
    let state_of = |e: &Experiment| match e.finished_at {
        Some(_) => "done".to_string(),
        None => format!("cancelled, {}/{} done", e.ended(), e.task_count()),
    };
    let state_width = if stopped {
        timeline
            .experiments()
            .iter()
            .map(|e| state_of(e).len())
            .max()
            .unwrap_or(0)
            .max("state".len())
    } else {
        0
    };
    let state = |text: &str| {
        if stopped {
            format!("{text:<state_width$} ")
        } else {
            String::new()
        }
    };
    let mut out = format!(
        "{} {}{:>7} {:>6} {:>10} {:>10} {:>10} {:>6} {:>10} {:>15} {:>10}\n",
        display::pad("experiment", name_width),
        state("state"),
        "workers",
        "tasks",
        "makespan",
        "cpu time",
        "efficiency",
        "failed",
        "cpu wait",
        "switches v/i",
        "gil wait"
    );
    let mut short_of_plan = false;
    for e in timeline.experiments() {
        let makespan = e.makespan().map_or("-".to_string(), human);
        let efficiency = cores
            .zip(e.makespan())
            .and_then(|(c, m)| e.efficiency(c, m))
            .map_or("-".to_string(), |x| format!("{:.1} %", x * 100.0));
        let cpu_wait = e.cpu_wait().map_or("-".to_string(), human);
        let switches = e
            .switches()
            .map_or("-".to_string(), |(v, i)| format!("{v}/{i}"));
        let gil_wait = e
            .gil_wait()
            .filter(|_| e.plan.executor == ExecutorKind::Gil)
            .map_or("-".to_string(), human);
        let workers = match (e.workers_started(), e.plan.workers) {
            (started, planned) if e.finished_at.is_some() && started != planned => {
                short_of_plan = true;
                format!("{started}/{planned}")
            }
            (_, planned) => planned.to_string(),
        };
        out.push_str(&format!(
            "{} {}{:>7} {:>6} {:>10} {:>10} {:>10} {:>6} {:>10} {:>15} {:>10}\n",
            display::pad(&display::shorten(&e.plan.name, name_width), name_width),
            state(&state_of(e)),
            workers,
            e.task_count(),
            makespan,
            if e.cpu_measured() {
                human(e.cpu_time())
            } else {
                "-".to_string()
            },
            efficiency,
            e.failed(),
            cpu_wait,
            switches,
            gil_wait
        ));
    }
    let not_started = timeline
        .planned_experiments()
        .saturating_sub(timeline.experiments().len());
    if stopped && not_started > 0 {
        out.push_str(&format!(
            "({} of {} did not start: the run was stopped first)\n",
            display::count(not_started, "experiment"),
            timeline.planned_experiments()
        ));
    }
    if let Some(cores) = cores {
        out.push_str(&format!("{}\n", efficiency_formula(cores)));
    }
    if short_of_plan {
        out.push_str(
            "workers: started/planned where fewer started than the plan asked for \
             (refused by the system, or not ready before the tasks ran out)\n",
        );
    }
    out
}

/// A one-line progress display on stderr, redrawn in place.
struct Progress {
    enabled: bool,
    shown: bool,
    last: Option<Instant>,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            shown: false,
            last: None,
        }
    }

    fn show(&mut self, timeline: &Timeline) {
        if !self.enabled || self.last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        let Some(e) = timeline.running_experiment() else {
            return;
        };
        let elapsed = e.elapsed(Timestamp::now()).as_secs_f64();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K  {} ({}/{}): {}/{} tasks done, {} running, {elapsed:.1} s",
            display::safe(&e.plan.name),
            e.index + 1,
            timeline.planned_experiments(),
            e.ended(),
            e.task_count(),
            e.running(),
        );
        let _ = err.flush();
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::plan::ExecutorKind;
    use crate::model::timeline::tests::started_experiment;

    #[test]
    fn written_runs_keep_only_what_the_statistics_need() {
        use crate::model::timeline::tests::{finished, task};
        let run = |ms: u64| {
            let mut events = Vec::new();
            for (i, executor) in [ExecutorKind::Processes, ExecutorKind::Threads]
                .into_iter()
                .enumerate()
            {
                events.push(started_experiment(i, executor, 0));
                for t in 0..3 {
                    events.push(task(i, t, t, 0, TaskEventKind::Started));
                    events.push(task(i, t, t, ms * (i as u64 + 1), finished(5)));
                }
                events.push(Event::ExperimentFinished {
                    experiment: i,
                    at: Timestamp(ms * 1000 * (i as u64 + 1)),
                });
            }
            events.push(Event::RunFinished {
                at: Timestamp(ms * 3000),
                outcome: RunOutcome::Completed,
            });
            Timeline::from_events(&events)
        };
        let mut timelines = vec![run(100), run(120), run(90)];
        let before = {
            let refs: Vec<&Timeline> = timelines.iter().collect();
            (
                crate::model::stats::report(&refs),
                crate::model::stats::stats_json(&refs),
            )
        };
        keep_for_statistics(&mut timelines);
        assert_eq!(timelines[0].records_held(), 0);
        assert_eq!(timelines[1].records_held(), 0);
        assert_eq!(timelines[2].records_held(), 6, "the last keeps its chart");
        let refs: Vec<&Timeline> = timelines.iter().collect();
        assert_eq!(crate::model::stats::report(&refs), before.0);
        assert_eq!(crate::model::stats::stats_json(&refs), before.1);
        assert_eq!(
            summary_table(&timelines[0])
                .lines()
                .nth(1)
                .unwrap()
                .split_whitespace()
                .nth(2),
            Some("3")
        );
    }

    /// A pool that started 2 of its 4 workers (the system refused the rest) says 2, with
    /// the 4 planned beside it, in the line, the table and summary.json.
    #[test]
    fn the_workers_reported_are_those_that_started() {
        use crate::model::timeline::tests::{finished, task};
        let mut events = vec![Event::ExperimentStarted {
            experiment: 0,
            plan: crate::model::plan::ExperimentPlan::new(
                ExecutorKind::Processes,
                WorkloadKind::Fib,
                vec![30, 31],
                4,
            ),
            at: Timestamp(0),
        }];
        for t in 0..2 {
            events.push(task(0, t, t, 0, TaskEventKind::Started));
            events.push(task(0, t, t, 1_000, finished(5)));
        }
        let mut timeline = Timeline::from_events(&events);
        assert_eq!(
            timeline.experiments()[0].workers_text(),
            "4",
            "still starting"
        );
        timeline.apply(&Event::ExperimentFinished {
            experiment: 0,
            at: Timestamp(2_000),
        });
        timeline.apply(&Event::RunFinished {
            at: Timestamp(2_000),
            outcome: RunOutcome::Completed,
        });
        let e = &timeline.experiments()[0];
        assert!(
            experiment_line(e).contains("among 2 of 4 workers"),
            "{}",
            experiment_line(e)
        );
        let table = summary_table(&timeline);
        let row = table.lines().nth(1).unwrap();
        assert_eq!(row.split_whitespace().nth(1), Some("2/4"), "{table}");
        assert!(table.contains("workers: started/planned"), "{table}");
        let json: serde_json::Value =
            serde_json::from_slice(&export::summary_json(&timeline)).unwrap();
        assert_eq!(json["experiments"][0]["workers"], 2);
        assert_eq!(json["experiments"][0]["workers_planned"], 4);
    }

    #[test]
    fn the_experiment_line_reads_like_the_posts() {
        let ready = |index| Event::WorkerStarted {
            experiment: 0,
            worker: crate::model::timeline::tests::worker(index),
            at: Timestamp(1_000),
        };
        let timeline = Timeline::from_events(&[
            started_experiment(0, ExecutorKind::Processes, 0),
            ready(0),
            ready(1),
            Event::ExperimentFinished {
                experiment: 0,
                at: Timestamp(480_000),
            },
        ]);
        assert_eq!(
            experiment_line(&timeline.experiments()[0]),
            "Run experiment ProcessPool: running fib over [30, 31, 32] among 2 workers … done in 480 ms"
        );
        assert_eq!(
            abbreviate(&(34..=41).collect::<Vec<_>>()),
            "[34, 35, …, 41]"
        );
    }
}
