//! The only module that touches the terminal: enter and restore it, read keys and signals,
//! and run the frame loop that feeds [`App`] and draws it.
//!
//! One loop owns everything. Keys (from an input thread), signals (SIGTERM, SIGHUP, SIGINT,
//! from a signal thread) and the run's timing events arrive over channels; each pass drains
//! every pending event, then draws at most 10 frames a second while something runs, and only frames that differ. When
//! nothing runs and nothing is pressed, it blocks on the channels with no timeout: no busy
//! polling once the run is done.
//!
//! The terminal is restored on every way out: the quit keys, a signal, an error (the
//! [`TerminalGuard`]'s `Drop`), and a panic on any thread (the panic hook restores first,
//! then prints the message). Panics inside tasks are not crashes: they become failed tasks.

use std::io::{self, Stdout, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use crossbeam_channel::{Receiver, Sender, select};
use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event as TermEvent, MouseButton, MouseEventKind,
};
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::cli::{OutDir, RunConfig, ViewConfig, WatchConfig};
use crate::engine::executor;
use crate::engine::runner::{self, RunHandle, RunOptions};
use crate::engine::signals;
use crate::formats::export;
use crate::headless;
use crate::model::clock::Timestamp;
use crate::model::display;
use crate::model::event::Event;
use crate::model::timeline::Timeline;
use crate::view::app::{App, Effect, ExportKind, Msg, Status};

/// The longest gap between frames while bars grow (10 fps; fewer when nothing visible
/// changes).
const FRAME: Duration = Duration::from_millis(100);
/// The longest the loop spends applying events between two looks at the keyboard: under
/// a flood of tiny tasks on a busy machine, a count alone could take seconds.
const MAX_DRAIN: Duration = Duration::from_millis(10);
/// Events applied between two looks at the clock while draining.
const DRAIN_CHUNK: usize = 256;

/// What the loop waits for besides the run's events.
#[derive(Debug)]
enum Input {
    Terminal(TermEvent),
    Signal(i32),
    /// An export thread finished (what it wrote, the timeline revision, the revision of
    /// every run written for `E`, and the outcome).
    Exported(ExportKind, u64, Vec<u64>, Result<PathBuf, String>),
    /// Recorded files are being read: the share read so far.
    Loading(f64),
    /// Recorded files were read, or one was bad.
    Loaded(Box<Result<crate::formats::Recording, crate::formats::ImportError>>),
}

/// Runs the plan in the live view until the user quits. Returns the exit status: 0 after
/// a quit key, 130 after Ctrl-C, 128 + N after signal N, 1 if the run could not be saved to
/// `--out`.
///
/// When the view closes, the summary and the speed-ups are printed on the restored
/// terminal, and the run is saved into `--out` unless its last state was exported already;
/// without `--out`, one line says that nothing was saved and how to save.
pub fn run(config: &RunConfig, options: &RunOptions) -> anyhow::Result<ExitCode> {
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut app = App::new(config.plan.clone(), color);
    if let Some(warning) = config.warnings.first() {
        app.status = Some(Status {
            text: format!("warning: {warning}"),
            is_error: true,
        });
    }
    app.set_runs_left(config.runs.saturating_sub(1));
    let mut run = Some(runner::start(&config.plan, options)?);
    let (mut terminal, input_tx, input_rx) = enter_view()?;
    panic_on_request_for_tests();
    let mut exports = Exports::default();
    let outcome = event_loop(
        &mut terminal,
        &mut app,
        &mut run,
        (&input_tx, &input_rx),
        &mut exports,
        &config.out,
        Some(options),
    );
    // Stop the run first (kills and reaps the workers), then give the terminal back.
    stop_and_settle(run, &mut app, &mut exports);
    drop(terminal);
    let saved = leave_results_behind(&app, &config.out);
    // `--print`, `--trace`, `--svg` of a live run: written once the view has closed.
    after_the_view(app.live_timeline(), &config.outputs, outcome?, saved)
}

/// Once the view has closed: `--print`, `--trace` and `--svg` of `timeline`, then the exit
/// status: 0 after a quit key (1 if the run could not be saved), 2 for bad input, 128 + N
/// after signal N, 1 if an output could not be written.
fn after_the_view(
    timeline: &Timeline,
    outputs: &crate::cli::Outputs,
    outcome: Exit,
    saved: bool,
) -> anyhow::Result<ExitCode> {
    match headless::write_outputs(timeline, outputs) {
        Ok(lines) => {
            for line in lines {
                let _ = writeln!(io::stdout(), "{}", display::safe(&line));
            }
        }
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "{}",
                shown(&format!("poolscope: error: {e:#}"))
            );
            return Ok(ExitCode::from(1));
        }
    }
    match outcome {
        Exit::BadInput(_) => Ok(ExitCode::from(2)),
        Exit::Quit if !saved => Ok(ExitCode::from(1)),
        Exit::Quit => Ok(ExitCode::SUCCESS),
        Exit::Signal(signal) => Ok(ExitCode::from((128 + signal.clamp(1, 127)) as u8)),
    }
}

/// Watches a program in the live view until the user quits (`poolscope watch`): one panel
/// per process as they appear, one lane per thread. The program's output goes to its log,
/// never to the screen. When it exits the view stays, with its exit status; `q` stops a
/// command poolscope started (SIGTERM, SIGKILL 2 s later), never an attached pid. On the
/// way out the watch is saved into its folder (unless exported as it is), its results and
/// the program's last output lines printed. Exit status: 0 after a quit key, 2 if the
/// watch could not begin, 128 + N after signal N.
pub fn watch(config: &WatchConfig) -> anyhow::Result<ExitCode> {
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let dir = headless::watch::watch_dir(&config.out)?;
    let options = headless::watch::options(config, &dir);
    let started = match crate::engine::watch::start(&options) {
        Ok(started) => started,
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "{}",
                shown(&format!("poolscope: error: watch: {e}"))
            );
            return Ok(ExitCode::from(2));
        }
    };
    let description = match &config.target {
        crate::engine::watch::Target::Command(argv) => format!(
            "watch {}",
            argv.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        crate::engine::watch::Target::Pid(pid) => format!("watch --pid {pid}"),
    };
    let mut app = App::watching(description, color);
    if let Some(note) = started.notes.first().or(config.warnings.first()) {
        app.status = Some(Status {
            text: note.clone(),
            is_error: true,
        });
    }
    let log = started.log.clone();
    let mut run = Some(started.run);
    let out = OutDir::Fixed(dir.clone());
    let entered = enter_view();
    let (mut terminal, input_tx, input_rx) = match entered {
        Ok(entered) => entered,
        Err(e) => {
            if let Some(run) = run {
                run.cancel();
                run.join();
            }
            return Err(e);
        }
    };
    panic_on_request_for_tests();
    let mut exports = Exports::default();
    // `p` runs poolscope's own plan beside the watch once it has ended.
    let rerun = RunOptions::current_exe().ok();
    let outcome = event_loop(
        &mut terminal,
        &mut app,
        &mut run,
        (&input_tx, &input_rx),
        &mut exports,
        &out,
        rerun.as_ref(),
    );
    // Stop what still runs (a started command: SIGTERM, then SIGKILL), then give the
    // terminal back.
    stop_and_settle(run, &mut app, &mut exports);
    drop(terminal);
    let watched = app.runs()[0].timeline.clone();
    let mut stdout = io::stdout().lock();
    let _ = write!(stdout, "{}", headless::results(&watched));
    let saved = match app.run_saved_to(0) {
        Some(dir) => {
            let _ = writeln!(
                stdout,
                "{}",
                shown(&format!("Exported to {}", dir.display()))
            );
            true
        }
        None => match export::write_run(&dir, &watched) {
            Ok(written) => {
                let _ = writeln!(
                    stdout,
                    "{}",
                    shown(&headless::watch::describe_written(&written, &dir))
                );
                true
            }
            Err(e) => {
                let line = format!("poolscope: error: saving the watch: {e:#}");
                let _ = writeln!(io::stderr(), "{}", shown(&line));
                false
            }
        },
    };
    let _ = stdout.flush();
    drop(stdout);
    if let Some(log) = &log {
        headless::watch::print_log_tail(log);
    }
    after_the_view(&watched, &config.outputs, outcome?, saved)
}

/// Opens recorded files in the view until the user quits: the screen comes up at once and
/// shows progress while the files are read in the background. Exit status: 0 after a quit
/// key, 2 if a file is bad (the terminal restored first, then the error), 128 + N after
/// signal N.
pub fn view(config: &ViewConfig) -> anyhow::Result<ExitCode> {
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let files: Vec<String> = config
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    let mut app = App::viewing(files, color);
    app.view.depth = config.outputs.depth;
    let (mut terminal, input_tx, input_rx) = enter_view()?;
    spawn_loader(config, input_tx.clone())?;
    let mut exports = Exports::default();
    let mut run = None;
    let outcome = event_loop(
        &mut terminal,
        &mut app,
        &mut run,
        (&input_tx, &input_rx),
        &mut exports,
        &config.out,
        None,
    );
    exports.finish(&mut app);
    drop(terminal);
    let exit = match outcome? {
        Exit::Quit => ExitCode::SUCCESS,
        Exit::Signal(signal) => ExitCode::from((128 + signal.clamp(1, 127)) as u8),
        Exit::BadInput(error) => {
            let _ = writeln!(
                io::stderr(),
                "{}",
                shown(&format!("poolscope: error: {error}"))
            );
            return Ok(ExitCode::from(2));
        }
    };
    for note in &app.notes {
        let _ = writeln!(
            io::stderr(),
            "{}",
            shown(&format!("poolscope: note: {note}"))
        );
    }
    let timeline = app.timeline();
    if !timeline.experiments().is_empty() {
        let mut stdout = io::stdout().lock();
        let _ = write!(stdout, "{}", headless::summary_table(timeline));
        let lines = headless::speedup_lines(timeline);
        for line in &lines {
            let _ = writeln!(stdout, "{line}");
        }
        if !lines.is_empty() {
            let _ = writeln!(
                stdout,
                "(each recording is one run: its speed-ups have no spread to tell noise from a difference)"
            );
        }
        if let Some(dir) = app.latest_export() {
            let _ = writeln!(
                stdout,
                "{}",
                shown(&format!("Exported to {}", dir.display()))
            );
        }
    }
    Ok(exit)
}

/// Takes the terminal for the view: stop signals and keys routed into one channel (SIGTERM,
/// SIGHUP and SIGINT then quit the loop cleanly), the screen entered.
fn enter_view() -> anyhow::Result<(TerminalGuard, Sender<Input>, Receiver<Input>)> {
    let (input_tx, input_rx) = crossbeam_channel::unbounded();
    let signal_tx = input_tx.clone();
    signals::on_stop_signals(move |signal| signal_tx.send(Input::Signal(signal)).is_ok())?;
    let terminal = TerminalGuard::enter()?;
    spawn_input_thread(input_tx.clone())?;
    Ok((terminal, input_tx, input_rx))
}

/// Reads the files on a thread of its own, reporting progress every 50 ms.
fn spawn_loader(config: &ViewConfig, tx: Sender<Input>) -> anyhow::Result<()> {
    let (files, lenient) = (config.files.clone(), config.lenient);
    std::thread::Builder::new()
        .name("poolscope-loader".into())
        .spawn(move || {
            let progress = std::sync::Arc::new(crate::formats::Progress::default());
            let done = std::sync::Arc::new(AtomicBool::new(false));
            let reporter = {
                let (progress, done, tx) = (progress.clone(), done.clone(), tx.clone());
                std::thread::spawn(move || {
                    while !done.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(50));
                        if tx.send(Input::Loading(progress.fraction())).is_err() {
                            break;
                        }
                    }
                })
            };
            let loaded = crate::formats::load(&files, lenient, &progress);
            done.store(true, Ordering::Relaxed);
            let _ = reporter.join();
            let _ = tx.send(Input::Loaded(Box::new(loaded)));
        })
        .context("spawning the loader thread")?;
    Ok(())
}

/// Prints the summary table and speed-ups on the restored terminal (as hyperfine leaves its
/// results behind) and makes sure the run is not lost silently: with `--out`, writes it
/// there unless its last state was exported; otherwise says where it was exported, or that
/// nothing was saved and how to save. Returns false if writing into `--out` failed. Writes
/// never panic: after SIGHUP there is no terminal to print to.
fn leave_results_behind(app: &App, out: &OutDir) -> bool {
    let timeline = app.live_timeline();
    let mut stdout = io::stdout().lock();
    if timeline.experiments().is_empty() {
        return true; // quit before anything ran: nothing to report or save
    }
    let _ = write!(stdout, "{}", headless::summary_table(timeline));
    for note in headless::busy_notes(timeline) {
        let _ = writeln!(stdout, "{}", shown(&note));
    }
    // The speed-ups of the workloads whose experiments finished, even if the run was
    // stopped before the rest (summary.json has them too).
    let lines = headless::speedup_lines(timeline);
    for line in &lines {
        let _ = writeln!(stdout, "{line}");
    }
    if !lines.is_empty() && app.completed_runs_of(app.live_plan()).len() <= 1 {
        let _ = writeln!(stdout, "{}", headless::one_run_note());
    }
    // Several completed runs of the live plan: their statistics, hyperfine-style.
    let same = app.completed_runs_of(app.live_plan());
    if same.len() > 1 {
        let _ = write!(stdout, "{}", crate::model::stats::report(&same));
    }
    let saved = match (app.live_saved_to(), out) {
        (Some(dir), _) => {
            let _ = writeln!(
                stdout,
                "{}",
                shown(&format!("Exported to {}", dir.display()))
            );
            true
        }
        (None, OutDir::Fixed(dir)) => match export::write_run(dir, timeline) {
            Ok(written) => {
                let _ = writeln!(
                    stdout,
                    "{}",
                    shown(&export::describe_written(&written, dir))
                );
                true
            }
            Err(e) => {
                let line = format!("poolscope: error: saving the run: {e:#}");
                let _ = writeln!(io::stderr(), "{}", shown(&line));
                false
            }
        },
        (None, OutDir::NewUnder(_)) => {
            let _ = match app.latest_export() {
                Some(dir) => writeln!(
                    stdout,
                    "The last state was not saved (the latest export, of an earlier state, is in \
                     {}): press e in the view to export, or pass --out DIR.",
                    shown(&dir.display().to_string())
                ),
                None => writeln!(
                    stdout,
                    "Nothing was saved: press e in the view to export, or pass --out DIR."
                ),
            };
            true
        }
    };
    let _ = stdout.flush();
    saved
}

/// A line left on the terminal after the view: paths and errors can hold text from
/// outside, shown safe (see [`display::safe`]).
fn shown(line: &str) -> std::borrow::Cow<'_, str> {
    display::safe(line)
}

enum Exit {
    Quit,
    Signal(i32),
    /// A recorded file could not be read.
    BadInput(crate::formats::ImportError),
}

/// The export threads started by `e`, so the loop can wait for them before it exits.
#[derive(Default)]
struct Exports {
    running: Vec<std::thread::JoinHandle<ExportDone>>,
}

/// What an export thread did: what it wrote, the timeline revision, every run's revision
/// written (`E`), where or why not.
type ExportDone = (ExportKind, u64, Vec<u64>, Result<PathBuf, String>);

impl Exports {
    /// Writes a copy of the current timeline on a thread of its own (into `--out`, files
    /// replaced, or a new folder per export), so a slow disk never stalls the view; the
    /// result comes back through the loop's input channel.
    fn start(
        &mut self,
        kind: ExportKind,
        app: &App,
        out: &OutDir,
        done: &Sender<Input>,
    ) -> anyhow::Result<()> {
        self.running.retain(|t| !t.is_finished());
        // Shared, not copied: a past run never changes, and the live one is copied only if
        // an event arrives while the export still reads it.
        let timeline = app.shared_timeline();
        // The picture as the screen shows it: nested calls as deep as the view folds them.
        let depth = app.view.depth;
        // `E`: every run kept, one folder each (run-1, run-2, …), and the statistics of the
        // completed runs of the plan looked at (runs of other plans do not compare).
        let (all, same): (Vec<_>, Vec<_>) = match kind {
            ExportKind::AllRuns => (
                app.runs().iter().map(|r| r.timeline.clone()).collect(),
                app.completed_of(app.plan())
                    .map(|r| r.timeline.clone())
                    .collect(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        // Each run as it is now is what gets written, and what counts as saved.
        let written: Vec<u64> = all.iter().map(|t| t.revision()).collect();
        // Beside a watched program, poolscope's own runs export into folders of their own
        // inside the watch's, never over its files.
        let out = match out {
            OutDir::Fixed(dir)
                if app.runs().first().is_some_and(|r| r.watch)
                    && !app.runs()[app.viewed_run()].watch =>
            {
                OutDir::NewUnder(dir.clone())
            }
            out => out.clone(),
        };
        let done = done.clone();
        // A trace or picture of a run just exported goes beside its CSVs, not in a folder
        // of its own.
        let beside = match kind {
            ExportKind::Trace | ExportKind::Svg => app.saved_to().cloned(),
            ExportKind::Csv | ExportKind::AllRuns => None,
        };
        let thread = std::thread::Builder::new()
            .name("poolscope-export".into())
            .spawn(move || {
                let dir = match (&out, beside) {
                    (_, Some(dir)) => Ok(dir),
                    (OutDir::Fixed(dir), None) => Ok(dir.clone()),
                    (OutDir::NewUnder(base), None) => export::new_run_dir(base),
                };
                let result = dir
                    .and_then(|dir| match kind {
                        ExportKind::Csv => export::write_run(&dir, &timeline).map(|_| dir),
                        ExportKind::Trace => {
                            let file = dir.join(export::TRACE_FILE);
                            export::write_trace(&timeline, &file).map(|()| file)
                        }
                        ExportKind::Svg => {
                            let file = dir.join(export::SVG_FILE);
                            export::write_svg(&timeline, &file, depth).map(|()| file)
                        }
                        ExportKind::AllRuns => {
                            let runs: Vec<&Timeline> = all.iter().map(|t| &**t).collect();
                            let same: Vec<&Timeline> = same.iter().map(|t| &**t).collect();
                            export::write_runs(&dir, &runs, &same).map(|()| dir)
                        }
                    })
                    .map_err(|e| format!("{e:#}"));
                let _ = done.send(Input::Exported(
                    kind,
                    timeline.revision(),
                    written.clone(),
                    result.clone(),
                ));
                (kind, timeline.revision(), written, result)
            })
            .context("spawning the export thread")?;
        self.running.push(thread);
        Ok(())
    }

    /// Waits for every export still under way and tells the app how each went, so an
    /// export never leaves half a folder behind when poolscope exits.
    fn finish(&mut self, app: &mut App) {
        for (kind, revision, written, result) in self.wait_all() {
            app.update(Msg::Exported {
                kind,
                revision,
                written,
                result,
            });
        }
    }

    /// Waits for every export still under way; returns what each did.
    fn wait_all(&mut self) -> Vec<ExportDone> {
        self.running
            .drain(..)
            .filter_map(|t| t.join().ok())
            .collect()
    }
}

/// The loop of the view, over a live run (`run`; `rerun`: the options to start the app's
/// next plan with) or over recorded files (no run; they arrive as [`Input::Loaded`]).
fn event_loop(
    terminal: &mut TerminalGuard,
    app: &mut App,
    run: &mut Option<RunHandle>,
    (input_tx, input): (&Sender<Input>, &Receiver<Input>),
    exports: &mut Exports,
    out: &OutDir,
    rerun: Option<&RunOptions>,
) -> anyhow::Result<Exit> {
    let mut events = run
        .as_ref()
        .map_or_else(crossbeam_channel::never, |run| run.events.clone());
    // Whether every sender of the run's channel is gone: the run and its threads ended.
    let mut run_closed = false;
    let mut needs_draw = true;
    // A key's answer is drawn at once; only animation waits for the frame rate.
    let mut answer_now = false;
    let mut last_draw: Option<Instant> = None;
    let mut last_key: Option<[u64; 4]> = None;
    loop {
        let animating = (app.is_running() && !app.is_frozen()) || app.loading.is_some();
        let due = answer_now || last_draw.is_none_or(|t| t.elapsed() >= FRAME);
        answer_now = false;
        if (needs_draw || animating) && due {
            app.set_now(Timestamp::now());
            // While bars grow on their own, a frame is drawn only when it would differ.
            let key = terminal.frame_key(app);
            if needs_draw || last_key != Some(key) {
                terminal.draw(app)?;
                let rows = terminal.rows_per_panel(app);
                app.set_page_rows(&rows);
                app.view.summary_folded = terminal.summary_folded(app);
                app.help_limit = terminal.help_limit();
                last_key = Some(key);
            }
            last_draw = Some(Instant::now());
            needs_draw = false;
        }
        let wait = if needs_draw || animating {
            Some(last_draw.map_or(Duration::ZERO, |t| FRAME.saturating_sub(t.elapsed())))
        } else {
            None // nothing to animate: sleep until a key, a signal or an event
        };
        let timeout = wait.map_or_else(crossbeam_channel::never, crossbeam_channel::after);

        select! {
            recv(input) -> message => {
                let Ok(message) = message else { return Ok(Exit::Quit) };
                needs_draw = true;
                answer_now = match &message {
                    Input::Terminal(TermEvent::Key(_)) => true,
                    Input::Terminal(TermEvent::Mouse(m)) => matches!(m.kind, MouseEventKind::Down(_)),
                    _ => false,
                };
                match message {
                    Input::Signal(signal) => return Ok(Exit::Signal(signal)),
                    Input::Terminal(TermEvent::Key(key)) => match app.update(Msg::Key(key)) {
                        Some(Effect::Quit) => return Ok(Exit::Quit),
                        // Ctrl-C arrives as a key in raw mode: it ends the view as SIGINT
                        // would (130), while `q` stays a plain quit (0).
                        Some(Effect::Interrupt) => return Ok(Exit::Signal(libc::SIGINT)),
                        Some(Effect::Export) => exports.start(ExportKind::Csv, app, out, input_tx)?,
                        Some(Effect::ExportTrace) => {
                            exports.start(ExportKind::Trace, app, out, input_tx)?;
                        }
                        Some(Effect::ExportSvg) => exports.start(ExportKind::Svg, app, out, input_tx)?,
                        Some(Effect::ExportAll) => {
                            exports.start(ExportKind::AllRuns, app, out, input_tx)?;
                        }
                        Some(Effect::Rerun) => {
                            if let Some(run) = run {
                                run.cancel();
                            }
                        }
                        None => {}
                    },
                    Input::Exported(kind, revision, written, result) => {
                        app.update(Msg::Exported { kind, revision, written, result });
                    }
                    Input::Loading(fraction) => {
                        app.update(Msg::Loading(fraction));
                    }
                    Input::Loaded(loaded) => match *loaded {
                        Ok(recording) => {
                            app.update(Msg::Loaded(Box::new(recording)));
                        }
                        Err(error) => return Ok(Exit::BadInput(error)),
                    },
                    Input::Terminal(TermEvent::Mouse(mouse)) => match mouse.kind {
                        MouseEventKind::Down(MouseButton::Left) => {
                            if let Some((experiment, task)) =
                                terminal.hit(app, mouse.column, mouse.row)
                            {
                                app.update(Msg::Select { experiment, task });
                            }
                        }
                        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                            if let Some((experiment, _)) = terminal.hit(app, mouse.column, mouse.row) {
                                let rows = if mouse.kind == MouseEventKind::ScrollUp { -3 } else { 3 };
                                app.update(Msg::Scroll { experiment, rows });
                                answer_now = true;
                            }
                        }
                        _ => {}
                    },
                    Input::Terminal(_) => {} // resize and the like: just redraw
                }
            }
            recv(events) -> event => match event {
                Ok(event) => {
                    // Drawn at the next frame if it changed what is shown (the frame key).
                    let notice = matches!(event, Event::Notice { .. } | Event::RunFinished { .. });
                    app.update(Msg::Event(event));
                    drain(&events, app);
                    needs_draw |= notice || !app.is_running();
                }
                Err(_) => {
                    run_closed = true;
                    events = crossbeam_channel::never();
                }
            },
            recv(timeout) -> _ => {}
        }

        // A rerun starts once the old run has fully stopped (its abandoned thread tasks
        // included), so it does not share the CPU with the leftovers.
        // `--runs N`: the next run starts once the last one has completed and wound down.
        if run_closed && rerun.is_some() {
            app.due_for_another_run();
        }
        // The plan comes from the app: the one edited, or the last one run.
        if let (true, true, Some(options)) = (app.is_restarting(), run_closed, rerun) {
            needs_draw = true;
            match runner::start(app.next_plan(), options) {
                Ok(new) => {
                    if let Some(old) = run.replace(new) {
                        old.join();
                    }
                    events = run
                        .as_ref()
                        .map_or_else(crossbeam_channel::never, |run| run.events.clone());
                    run_closed = false;
                    app.update(Msg::RunRestarted);
                }
                // The view stays, with the last run's picture and the reason in the footer.
                Err(e) => {
                    app.update(Msg::RerunFailed(format!("{e:#}")));
                }
            }
        }
    }
}

/// Before the view closes: cancels what still runs (killing and reaping its workers or the
/// watched command), applies its last events, and lets an export under way finish, so it
/// never leaves half a folder.
fn stop_and_settle(run: Option<RunHandle>, app: &mut App, exports: &mut Exports) {
    if let Some(run) = run {
        run.cancel();
        let events = run.events.clone();
        run.join();
        for event in events.try_iter() {
            app.update(Msg::Event(event));
        }
    }
    exports.finish(app);
}

/// Applies pending events for at most [`MAX_DRAIN`]; the rest wait for the next pass.
fn drain(events: &Receiver<Event>, app: &mut App) {
    let start = Instant::now();
    while start.elapsed() < MAX_DRAIN {
        let mut applied = 0;
        for event in events.try_iter().take(DRAIN_CHUNK) {
            app.update(Msg::Event(event));
            applied += 1;
        }
        if applied < DRAIN_CHUNK {
            break;
        }
    }
}

fn spawn_input_thread(tx: Sender<Input>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("poolscope-input".into())
        .spawn(move || {
            while let Ok(event) = crossterm::event::read() {
                if tx.send(Input::Terminal(event)).is_err() {
                    break;
                }
            }
        })
        .context("spawning the input thread")?;
    Ok(())
}

/// Test hook: with `POOLSCOPE_TEST_PANIC_AFTER_MS=N`, a background thread panics N ms in,
/// so the real-terminal tests can check that a panic on any thread restores the terminal.
/// Nothing in poolscope panics on purpose otherwise.
fn panic_on_request_for_tests() {
    let Some(ms) = std::env::var("POOLSCOPE_TEST_PANIC_AFTER_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("poolscope-test-panic".into())
        .spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            panic!("test panic requested by POOLSCOPE_TEST_PANIC_AFTER_MS");
        });
}

/// Whether the terminal is in raw mode on the alternate screen (so restoring is needed).
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Held while a frame is written, so a panic on another thread restores the terminal
/// between frames, never in the middle of one (and no frame is drawn after it).
static DRAWING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The terminal in raw mode on the alternate screen; dropping it restores the terminal.
pub struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, and installs the panic hook that restores
    /// them.
    pub fn enter() -> anyhow::Result<Self> {
        install_panic_hook();
        terminal::enable_raw_mode().context("switching the terminal to raw mode")?;
        ENTERED.store(true, Ordering::SeqCst);
        let mut stdout = io::stdout();
        if let Err(e) = execute!(
            stdout,
            terminal::EnterAlternateScreen,
            cursor::Hide,
            EnableMouseCapture
        ) {
            restore();
            return Err(e).context("entering the alternate screen");
        }
        let terminal = match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e).context("setting up the terminal");
            }
        };
        Ok(TerminalGuard { terminal })
    }

    fn draw(&mut self, app: &App) -> anyhow::Result<()> {
        let _drawing = DRAWING.lock().unwrap_or_else(|e| e.into_inner());
        if !ENTERED.load(Ordering::SeqCst) {
            return Ok(()); // restored by a panic on another thread: the screen is not ours
        }
        self.terminal
            .draw(|frame| frame.render_widget(app, frame.area()))
            .context("drawing")?;
        Ok(())
    }
}

impl TerminalGuard {
    /// What a click at (`x`, `y`) hits on the current screen.
    fn hit(&self, app: &App, x: u16, y: u16) -> Option<(usize, Option<usize>)> {
        let size = self.terminal.size().ok()?;
        crate::view::ui::hit(
            app,
            ratatui::layout::Rect::new(0, 0, size.width, size.height),
            x,
            y,
        )
    }

    /// What the next frame would show that changes by itself ([`crate::view::ui::frame_key`]).
    fn frame_key(&self, app: &App) -> [u64; 4] {
        self.terminal.size().ok().map_or([0; 4], |size| {
            crate::view::ui::frame_key(
                app,
                ratatui::layout::Rect::new(0, 0, size.width, size.height),
            )
        })
    }

    /// Whether the summary is folded to the verdict on the current screen.
    fn summary_folded(&self, app: &App) -> bool {
        self.terminal.size().ok().is_some_and(|size| {
            crate::view::ui::summary_folded(
                app,
                ratatui::layout::Rect::new(0, 0, size.width, size.height),
            )
        })
    }

    /// How far the help can scroll on the current screen.
    fn help_limit(&self) -> u16 {
        self.terminal.size().ok().map_or(0, |size| {
            crate::view::ui::help::max_scroll(ratatui::layout::Rect::new(
                0,
                0,
                size.width,
                size.height,
            ))
        })
    }

    /// How many rows each panel shows on the current screen.
    fn rows_per_panel(&self, app: &App) -> Vec<(usize, u16)> {
        self.terminal.size().ok().map_or_else(Vec::new, |size| {
            crate::view::ui::rows_per_panel(
                app,
                ratatui::layout::Rect::new(0, 0, size.width, size.height),
            )
        })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen and raw mode and shows the cursor; safe to call twice and
/// from any thread.
fn restore() {
    if ENTERED.swap(false, Ordering::SeqCst) {
        let mut stdout = io::stdout();
        let _ = execute!(
            stdout,
            DisableMouseCapture,
            terminal::LeaveAlternateScreen,
            cursor::Show
        );
        let _ = terminal::disable_raw_mode();
        let _ = stdout.flush();
    }
}

/// On a panic anywhere but inside a task: restore the terminal, print the message (the
/// previous hook), and exit, since a half-dead live view helps nobody. Workers die with
/// us (PR_SET_PDEATHSIG).
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if executor::is_running_task() {
                return; // a failed task, reported as such
            }
            // Wait for a frame being drawn to finish; if this very thread was drawing (its
            // lock is held by the panicking frame), go on after a moment anyway.
            let deadline = std::time::Instant::now() + Duration::from_millis(200);
            let _no_more_frames = loop {
                match DRAWING.try_lock() {
                    Ok(guard) => break Some(guard),
                    Err(std::sync::TryLockError::Poisoned(e)) => break Some(e.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock)
                        if std::time::Instant::now() < deadline =>
                    {
                        std::thread::sleep(Duration::from_millis(1))
                    }
                    Err(std::sync::TryLockError::WouldBlock) => break None,
                }
            };
            let was_entered = ENTERED.load(Ordering::SeqCst);
            restore();
            previous(info);
            if was_entered {
                std::process::exit(101);
            }
        }));
    });
}
