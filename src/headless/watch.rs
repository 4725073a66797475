//! `poolscope watch --headless` (or stdout not a terminal): watch a program with no screen,
//! then write its files, print a table per process and per pool, the last lines of its
//! output, and exit with its status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crossbeam_channel::select;

use super::{describe_sampler, prepare_out_dir, route_signals, say, write_outputs};
use crate::chart::axis::human;
use crate::cli::{OutDir, WatchConfig};
use crate::engine::watch::{self, WatchOptions};
use crate::formats::export;
use crate::model::display;
use crate::model::event::{Event, RunOutcome, SamplerNotice};
use crate::model::timeline::Timeline;

/// How many of the command's last output lines are printed when the watch ends.
pub const LOG_TAIL_LINES: usize = 10;

/// The folder a watch's files and log go to, made now: `--out DIR`, or a new folder under
/// `./poolscope-runs/`.
pub fn watch_dir(out: &OutDir) -> anyhow::Result<PathBuf> {
    let dir = prepare_out_dir(out)?;
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The engine's options for `config`, its log in `dir` unless `--log` says where.
pub fn options(config: &WatchConfig, dir: &Path) -> WatchOptions {
    WatchOptions {
        target: config.target.clone(),
        python: config.python,
        serve: config.serve,
        log: config.log.clone().unwrap_or_else(|| dir.join("watch.log")),
        sample_interval: config.sample_interval,
        duration: config.duration,
    }
}

/// Watches with no screen; returns the exit status: the command's (128 + N if a signal
/// ended it), 0 for `--pid`, 2 if the watch could not begin, 1 if the files could not be
/// written (when the command itself succeeded).
pub fn run(config: &WatchConfig) -> anyhow::Result<ExitCode> {
    let dir = watch_dir(&config.out)?;
    let signals = route_signals()?;
    let started = match watch::start(&options(config, &dir)) {
        Ok(started) => started,
        Err(e) => {
            say(&format!("poolscope: error: watch: {e}"));
            return Ok(ExitCode::from(2));
        }
    };
    for note in &started.notes {
        say(&format!("poolscope: note: {note}"));
    }
    let mut timeline = Timeline::new();
    let events = started.run.events.clone();
    let mut stopped_by = None;
    loop {
        select! {
            recv(events) -> event => match event {
                Ok(event) => {
                    timeline.apply(&event);
                    match &event {
                        Event::ExperimentStarted { plan, .. } => {
                            say(&format!("poolscope: watching {}", plan.name));
                        }
                        Event::ExperimentRenamed { name, .. } => {
                            say(&format!("poolscope: watching {name} (its command line changed)"));
                        }
                        Event::Notice { text, .. } => say(&format!("poolscope: note: {text}")),
                        // The cost is in the results, on stdout.
                        Event::Sampler(SamplerNotice::Cost { .. }) => {}
                        Event::Sampler(notice) => {
                            say(&format!("poolscope: {}", describe_sampler(notice)));
                        }
                        Event::ProgramExited { .. } => {
                            if let Some(exit) = timeline.program_exit() {
                                say(&format!("poolscope: the program ended ({})", exit.describe()));
                            }
                        }
                        Event::RunFinished { .. } => break,
                        _ => {}
                    }
                }
                Err(_) => break,
            },
            recv(signals) -> signal => {
                let Ok(signal) = signal else { continue };
                if stopped_by.is_none() {
                    stopped_by = Some(signal);
                    say("poolscope: stopping the watch…");
                    started.stop_with(signal);
                } else {
                    started.stop_with(libc::SIGKILL);
                }
            }
        }
    }
    let log = started.log.clone();
    started.run.join();
    let mut stdout = std::io::stdout();
    let saved = export::write_run(&dir, &timeline);
    let _ = write!(stdout, "{}", results(&timeline));
    match &saved {
        Ok(written) => {
            let _ = writeln!(
                stdout,
                "{}",
                display::safe(&describe_written(written, &dir))
            );
        }
        Err(e) => say(&format!("poolscope: error: {e:#}")),
    }
    if let Some(log) = &log {
        print_log_tail(log);
    }
    let _ = stdout.flush();
    let mut failed = saved.is_err();
    match write_outputs(&timeline, &config.outputs) {
        Ok(lines) => {
            for line in lines {
                let _ = writeln!(stdout, "{}", display::safe(&line));
            }
        }
        Err(e) => {
            say(&format!("poolscope: error: {e:#}"));
            failed = true;
        }
    }
    let status = exit_status(&timeline, stopped_by);
    Ok(ExitCode::from(if failed && status == 0 {
        1
    } else {
        status
    }))
}

/// The command's status as poolscope's: its code, 128 + the signal that ended it; for an
/// attached pid, 0 (or 128 + the signal that stopped the watch).
fn exit_status(timeline: &Timeline, stopped_by: Option<i32>) -> u8 {
    match timeline.program_exit() {
        Some(exit) => match (exit.code, exit.signal) {
            (Some(code), _) => code.clamp(0, 255) as u8,
            (None, Some(signal)) => (128 + signal.clamp(1, 127)) as u8,
            (None, None) => 1,
        },
        None => stopped_by.map_or(0, |s| (128 + s.clamp(1, 127)) as u8),
    }
}

/// "Wrote 2 CSV files (one per pool), watch-samples.csv and summary.json to DIR", or,
/// where no pool ran a task, "Wrote watch-samples.csv and summary.json to DIR (no pool
/// task was seen)".
pub fn describe_written(written: &[PathBuf], dir: &Path) -> String {
    let pools = written.len().saturating_sub(2);
    let samples = crate::formats::watch::SAMPLES_FILE;
    match pools {
        0 => format!(
            "Wrote {samples} and summary.json to {} (no pool task was seen)",
            dir.display()
        ),
        n => format!(
            "Wrote {n} CSV file{} (one per pool), {samples} and summary.json to {}",
            if n == 1 { "" } else { "s" },
            dir.display()
        ),
    }
}

/// The last lines of the command's output, on stderr, each shown safe.
pub fn print_log_tail(log: &Path) {
    let lines = watch::log_tail(log, LOG_TAIL_LINES);
    if lines.is_empty() {
        return;
    }
    say(&format!(
        "poolscope: the program's last output ({}):",
        log.display()
    ));
    for line in lines {
        // Tabs are harmless: a space each, not a control picture.
        say(&format!("  {}", line.replace('\t', " ")));
    }
}

/// A watch's results: a row per process (threads, tasks, when it ended, CPU, and what its
/// threads waited for), a row per pool (the post's figures), how the program ended, and
/// what sampling cost.
pub fn results(timeline: &Timeline) -> String {
    let mut out = String::new();
    let name_width = timeline
        .experiments()
        .iter()
        .map(|e| display::width(&e.plan.name))
        .max()
        .unwrap_or(0)
        .clamp(10, 32);
    out.push_str(&format!(
        "{} {:>7} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
        display::pad("process", name_width),
        "threads",
        "tasks",
        "ended at",
        "cpu time",
        "cpu wait",
        "io",
        "sleep",
        "lock",
        "gil wait",
        "other"
    ));
    for e in timeline.experiments() {
        let w = e.sched.waits;
        // Never sampled (gone before a scan found it): its figures are unknown.
        let time = |d: std::time::Duration| {
            if e.sched.samples > 0 {
                human(d)
            } else {
                "-".to_string()
            }
        };
        let ended = e.makespan().map_or("running".to_string(), human);
        out.push_str(&format!(
            "{} {:>7} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
            display::pad(&display::shorten(&e.plan.name, name_width), name_width),
            e.lanes.len(),
            e.task_count(),
            ended,
            time(e.cpu_time()),
            time(e.sched.cpu_wait),
            time(w.io),
            time(w.sleep),
            time(w.lock),
            time(w.gil),
            time(w.other()),
        ));
    }
    let pools = pool_rows(timeline);
    if !pools.is_empty() {
        out.push('\n');
        out.push_str(&format!(
            "{:<28} {:>9} {:>6} {:>6} {:>10} {:>10} {:>10}\n",
            "pool", "executor", "tasks", "failed", "makespan", "cpu time", "gil wait"
        ));
        for row in pools {
            out.push_str(&row);
            out.push('\n');
        }
    }
    if let Some(exit) = timeline.program_exit() {
        let program = timeline
            .experiments()
            .first()
            .map_or(String::new(), |e| display::safe(&e.plan.name).into_owned());
        out.push_str(&format!("\n{program}: {}\n", exit.describe()));
    } else if timeline.outcome() == Some(RunOutcome::Cancelled) {
        out.push_str("\n(stopped watching; the process was not signalled)\n");
    }
    match timeline.sampler_cost() {
        Some(cost) => out.push_str(&format!("{}\n", describe_sampler(cost))),
        None if timeline.outcome().is_some() => out.push_str(
            "sampling cost not judged: the watch lasted under two seconds (start-up is most of what it would measure)\n",
        ),
        None => {}
    }
    out
}

/// One line per pool: name, executor, tasks, failures, makespan, CPU time, GIL wait.
fn pool_rows(timeline: &Timeline) -> Vec<String> {
    let time = |d: Option<std::time::Duration>| d.map_or("-".to_string(), human);
    crate::formats::watch::pool_figures_of(timeline)
        .into_iter()
        .map(|p| {
            format!(
                "{} {:>9} {:>6} {:>6} {:>10} {:>10} {:>10}",
                display::pad(&display::shorten(&p.name, 28), 28),
                p.executor,
                p.tasks,
                p.failed,
                time(p.makespan),
                time(p.cpu_time),
                human(p.gil_wait),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_written_is_said_without_a_zero_count() {
        let dir = Path::new("out");
        let files = |names: &[&str]| names.iter().map(PathBuf::from).collect::<Vec<_>>();
        assert_eq!(
            describe_written(&files(&["watch-samples.csv", "summary.json"]), dir),
            "Wrote watch-samples.csv and summary.json to out (no pool task was seen)"
        );
        assert_eq!(
            describe_written(&files(&["a.csv", "watch-samples.csv", "summary.json"]), dir),
            "Wrote 1 CSV file (one per pool), watch-samples.csv and summary.json to out"
        );
    }
}
