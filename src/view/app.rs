//! The live view's state and how it changes: `update(msg)` for every key press, timing
//! event and finished export, with no terminal I/O.
//!
//! The terminal loop ([`crate::tui`]) feeds messages in and carries out the [`Effect`]s that
//! come back (export files, start a new run, quit); the widgets ([`crate::view::ui`]) only read the
//! state. Because the clock is passed in too ([`App::set_now`]), a test can build an `App`
//! from synthetic events and get the same screen every time.

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::chart::span::{TimeSpan, row_length};
use crate::model::clock::Timestamp;
use crate::model::event::Event;
use crate::model::plan::Plan;
use crate::model::timeline::{Experiment, Timeline};

/// Something that happened, for [`App::update`].
#[derive(Debug, Clone)]
pub enum Msg {
    /// A timing event of the current run.
    Event(Event),
    /// A key press.
    Key(KeyEvent),
    /// An export of the timeline at `revision` finished: where the files went, or why it
    /// failed.
    Exported {
        /// What was exported.
        kind: ExportKind,
        /// [`Timeline::revision`] of the exported copy.
        revision: u64,
        /// The folder written, or the error.
        result: Result<PathBuf, String>,
    },
    /// A new run of the plan started (after `r`): forget the old one.
    RunRestarted,
    /// Recorded files are being read: the share read so far, 0..=1.
    Loading(f64),
    /// Recorded files were read: show them.
    Loaded(Box<crate::formats::Recording>),
    /// A rerun could not start (why): keep showing the last run.
    RerunFailed(String),
    /// The mouse wheel turned over a panel: scroll its rows.
    Scroll {
        /// The experiment whose panel it was over.
        experiment: usize,
        /// Rows (negative: up).
        rows: isize,
    },
    /// A mouse click landed on a panel (the UI worked out where): select the panel, and the
    /// task under the pointer if there is one.
    Select {
        /// The experiment whose panel was clicked.
        experiment: usize,
        /// The task clicked, if the click was on a bar.
        task: Option<usize>,
    },
}

/// The inspector's cursor: a task of the selected experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspect {
    /// The task under the cursor (an index into the experiment's tasks).
    pub task: usize,
}

/// What an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The CSVs and summary.json (`e`): the run, saved.
    Csv,
    /// A Chrome trace, `trace.json` (`t`).
    Trace,
    /// An SVG picture of the chart, `gantt.svg` (`g`).
    Svg,
    /// Every run kept, a folder each, and their statistics (`E`).
    AllRuns,
}

/// Where the shown timeline came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A run of the plan, live (it can be rerun).
    Live,
    /// Recorded files (`poolscope view`): nothing to rerun.
    Files(Vec<String>),
}

/// Work the terminal loop must do on the app's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Write the current timeline's CSVs and summary.json.
    Export,
    /// Write the current timeline as a Chrome trace.
    ExportTrace,
    /// Write the current chart as an SVG picture.
    ExportSvg,
    /// Write every run kept, one folder each.
    ExportAll,
    /// Stop the current run and start the plan again.
    Rerun,
    /// Stop the run, restore the terminal, exit.
    Quit,
}

/// How a panel's rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneOrder {
    /// One lane per worker, by worker index: what each worker did.
    ByWorker,
    /// One row per task, by start time: the post's Gantt chart.
    ByStart,
}

/// The visible stretch of time, shared by every panel.
///
/// Each row of panels (one workload) has its own full length: the longest elapsed time of
/// its experiments, so the processes and threads runs of a workload share one scale and
/// compare at a glance. Zoom and pan are relative to that length, so all panels move
/// together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewWindow {
    /// 1 shows the whole run; 2 half of it; …
    pub zoom: f64,
    /// Where the window starts, as a fraction of the full length (when not following).
    pub pan: f64,
    /// Keep the live edge (the latest time) in view.
    pub follow: bool,
}

/// The most a user can zoom in.
pub const MAX_ZOOM: f64 = 4096.0;

impl Default for ViewWindow {
    fn default() -> Self {
        ViewWindow {
            zoom: 1.0,
            pan: 0.0,
            follow: true,
        }
    }
}

impl ViewWindow {
    fn width(&self) -> f64 {
        1.0 / self.zoom
    }

    fn max_pan(&self) -> f64 {
        (1.0 - self.width()).max(0.0)
    }

    /// The window's start as a fraction of the full length.
    pub fn start_fraction(&self) -> f64 {
        if self.follow {
            self.max_pan()
        } else {
            self.pan.clamp(0.0, self.max_pan())
        }
    }

    fn zoom_by(&mut self, factor: f64) {
        let center = self.start_fraction() + self.width() / 2.0;
        self.zoom_about(center, factor);
    }

    /// Zooms keeping `center` (a fraction of the full length) in the middle of the window.
    fn zoom_about(&mut self, center: f64, factor: f64) {
        self.zoom = (self.zoom * factor).clamp(1.0, MAX_ZOOM);
        self.pan = (center - self.width() / 2.0).clamp(0.0, self.max_pan());
    }

    fn pan_by(&mut self, windows: f64) {
        self.pan = (self.start_fraction() + windows * self.width()).clamp(0.0, self.max_pan());
        self.follow = false;
    }
}

/// Where one experiment of the plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExperimentState {
    /// Not started yet.
    Waiting,
    /// Running for this long.
    Running(Duration),
    /// Finished after this long.
    Done(Duration),
    /// Stopped (the run was cancelled) after this long.
    Stopped(Duration),
    /// Never started: the run ended first.
    NotRun,
}

impl ExperimentState {
    /// How long it ran, or has been running.
    pub fn elapsed(self) -> Option<Duration> {
        match self {
            Self::Running(d) | Self::Done(d) | Self::Stopped(d) => Some(d),
            Self::Waiting | Self::NotRun => None,
        }
    }
}

/// A message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// What to say.
    pub text: String,
    /// Whether it reports a failure.
    pub is_error: bool,
}

/// The displayed state, frozen by `space` while collection goes on.
#[derive(Debug, Clone)]
struct Frozen {
    timeline: std::sync::Arc<Timeline>,
    now: Timestamp,
}

/// One run the view keeps: its plan and everything that happened (a run is a value, not
/// state of the view), and where it was last exported.
#[derive(Debug, Clone)]
pub struct Run {
    /// What ran.
    pub plan: Plan,
    /// The plan in one line (computed once).
    description: String,
    /// Its events, applied. Shared, so an export takes it without copying; the live run's
    /// is copied only if an export still holds it when the next event arrives.
    pub timeline: std::sync::Arc<Timeline>,
    /// The timeline revision and folder of its last successful CSV export.
    last_export: Option<(u64, PathBuf)>,
    /// Whether its task-level events were dropped to bound memory (its summary is kept).
    pub compacted: bool,
}

impl Run {
    fn new(plan: Plan) -> Self {
        Run {
            description: plan.describe(),
            plan,
            timeline: std::sync::Arc::new(Timeline::new()),
            last_export: None,
            compacted: false,
        }
    }
}

/// The most tasks the kept runs may hold together before the oldest runs' events are
/// dropped (their summaries stay): ~200 MB of timeline.
pub const MAX_KEPT_TASKS: usize = 1_000_000;

/// Everything the live view shows.
#[derive(Debug, Clone)]
pub struct App {
    /// Every run since poolscope started, oldest first; the last one is the live one.
    runs: Vec<Run>,
    /// The run being looked at (an index into `runs`).
    viewing: usize,
    /// The plan the next run (rerun, `w`/`W`, the editor) will use, when it differs.
    next_plan: Option<Plan>,
    /// Runs still to start by themselves, one after another (`--runs N`, the editor's runs).
    pub runs_left: usize,
    /// The plan editor, while open (`p`).
    pub editor: Option<crate::view::editor::Editor>,
    /// How many tasks the kept runs may hold before the oldest lose their charts.
    pub max_kept_tasks: usize,
    /// While comparing (`c`): the run compared with the one looked at.
    pub compare: Option<usize>,
    /// Per panel (plan index): the first row shown.
    scroll: Vec<usize>,
    /// Per panel (plan index): how many rows it shows, as last drawn (set by the loop).
    page_rows: Vec<u16>,
    source: Source,
    /// While files are read: the share read so far.
    pub loading: Option<f64>,
    /// What reading the files had to say (rows skipped, events left out).
    pub notes: Vec<String>,
    frozen: Option<Frozen>,
    now: Timestamp,
    /// The selected experiment panel (an index into the timeline's experiments).
    pub selected: usize,
    /// How panels order their rows.
    pub lane_order: LaneOrder,
    /// The visible stretch of time.
    pub view: ViewWindow,
    /// Whether the selected panel fills the whole panel area.
    pub maximized: bool,
    /// Whether the key help is shown.
    pub show_help: bool,
    /// How far the help is scrolled (lines), on screens too short for it.
    pub help_scroll: u16,
    /// The inspector's cursor, while a task is being inspected (`i`).
    pub inspect: Option<Inspect>,
    /// The footer's message.
    pub status: Option<Status>,
    /// Whether colours may be used (`NO_COLOR` unset).
    pub color: bool,
    restarting: bool,
    /// The folder of the latest successful export of anything, this run or an earlier one.
    latest_export: Option<PathBuf>,
}

/// `3 files: process-fibo.csv, thread-fibo.csv, trace.json`.
fn files_description(files: &[String]) -> String {
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            std::path::Path::new(f)
                .file_name()
                .map_or_else(|| f.clone(), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    match names.len() {
        1 => format!("viewing {}", names[0]),
        n => format!("viewing {n} files: {}", names.join(", ")),
    }
}

/// The shortest full length of a panel, so a run that just began is not drawn at an
/// absurd zoom.
const MIN_FULL_LENGTH: Duration = Duration::from_millis(50);

impl App {
    /// A fresh view of a run of `plan`.
    pub fn new(plan: Plan, color: bool) -> Self {
        App {
            runs: vec![Run::new(plan)],
            viewing: 0,
            next_plan: None,
            runs_left: 0,
            editor: None,
            max_kept_tasks: MAX_KEPT_TASKS,
            compare: None,
            scroll: Vec::new(),
            page_rows: Vec::new(),
            source: Source::Live,
            loading: None,
            notes: Vec::new(),
            frozen: None,
            now: Timestamp(0),
            selected: 0,
            lane_order: LaneOrder::ByWorker,
            view: ViewWindow::default(),
            maximized: false,
            show_help: false,
            help_scroll: 0,
            inspect: None,
            status: None,
            color,
            restarting: false,
            latest_export: None,
        }
    }

    /// A view of recorded `files`, empty until [`Msg::Loaded`] brings them.
    pub fn viewing(files: Vec<String>, color: bool) -> Self {
        let mut app = App::new(
            Plan {
                experiments: Vec::new(),
                ..Plan::default()
            },
            color,
        );
        app.runs[0].description = files_description(&files);
        app.source = Source::Files(files);
        app.loading = Some(0.0);
        app
    }

    /// Where the timeline came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The folder of the latest export, even of an earlier state or an earlier run (so a
    /// user who quits after a rerun hears where the last export went).
    pub fn latest_export(&self) -> Option<&PathBuf> {
        self.latest_export.as_ref()
    }

    /// Where the current state of the run was exported, if it was (an export of an earlier
    /// state, mid-run, does not count: rows have changed since).
    pub fn saved_to(&self) -> Option<&PathBuf> {
        self.saved_run(self.viewing)
    }

    fn saved_run(&self, index: usize) -> Option<&PathBuf> {
        let run = &self.runs[index];
        run.last_export
            .as_ref()
            .filter(|(revision, _)| *revision == run.timeline.revision())
            .map(|(_, dir)| dir)
    }

    /// Whether the live run's last state was exported (what quitting checks).
    pub fn live_saved_to(&self) -> Option<&PathBuf> {
        self.saved_run(self.runs.len() - 1)
    }

    /// The plan of the run being looked at.
    pub fn plan(&self) -> &Plan {
        &self.runs[self.viewing].plan
    }

    /// The plan the next run will use: the one edited, else the live run's.
    pub fn next_plan(&self) -> &Plan {
        self.next_plan
            .as_ref()
            .unwrap_or(&self.runs[self.runs.len() - 1].plan)
    }

    /// The viewed run's plan in one line.
    pub fn plan_description(&self) -> &str {
        &self.runs[self.viewing].description
    }

    /// The collected timeline of the run being looked at (always complete, even when the
    /// display is frozen): what export writes.
    pub fn timeline(&self) -> &Timeline {
        &self.runs[self.viewing].timeline
    }

    /// The same, shared: what an export thread takes, without copying it.
    pub fn shared_timeline(&self) -> std::sync::Arc<Timeline> {
        self.runs[self.viewing].timeline.clone()
    }

    /// The live run's timeline (the last run: where events go).
    pub fn live_timeline(&self) -> &Timeline {
        &self.runs[self.runs.len() - 1].timeline
    }

    /// Every run kept, oldest first.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// The completed runs of the same plan as the one looked at (what statistics are
    /// computed over), oldest first.
    pub fn comparable_runs(&self) -> Vec<&Timeline> {
        self.completed_runs_of(self.plan())
    }

    /// The completed runs of `plan`, oldest first.
    pub fn completed_runs_of<'a>(&'a self, plan: &'a Plan) -> Vec<&'a Timeline> {
        self.completed_of(plan).map(|r| &*r.timeline).collect()
    }

    /// The kept runs of `plan` that completed: what statistics may be computed over.
    pub fn completed_of<'a>(&'a self, plan: &'a Plan) -> impl Iterator<Item = &'a Run> + 'a {
        self.runs.iter().filter(move |r| {
            r.plan == *plan
                && r.timeline.outcome() == Some(crate::model::event::RunOutcome::Completed)
        })
    }

    /// The live run's plan.
    pub fn live_plan(&self) -> &Plan {
        &self.runs[self.runs.len() - 1].plan
    }

    /// The index of the run being looked at.
    pub fn viewed_run(&self) -> usize {
        self.viewing
    }

    /// Whether the run looked at is the live one.
    pub fn viewing_live(&self) -> bool {
        self.viewing + 1 == self.runs.len()
    }

    /// The timeline to draw: the frozen one while frozen (live run), else the viewed one.
    pub fn shown_timeline(&self) -> &Timeline {
        match &self.frozen {
            Some(frozen) if self.viewing_live() => &frozen.timeline,
            _ => self.timeline(),
        }
    }

    /// The time the display is at: the clock, or the moment of freezing while frozen, or
    /// the run's end once it ended (a stopped run's bars and times stop there too).
    pub fn now(&self) -> Timestamp {
        let now = self.frozen.as_ref().map_or(self.now, |f| f.now);
        self.shown_timeline().finished_at().unwrap_or(now)
    }

    /// Sets the current time (the loop does so before drawing).
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = now;
    }

    /// Whether the display is frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen.is_some()
    }

    /// Whether a rerun is waiting for the old run to stop.
    pub fn is_restarting(&self) -> bool {
        self.restarting
    }

    /// Whether the run is still going (frames are needed to grow the bars).
    pub fn is_running(&self) -> bool {
        self.live_timeline().outcome().is_none()
    }

    /// Takes a message; returns what the loop must do, if anything.
    pub fn update(&mut self, msg: Msg) -> Option<Effect> {
        match msg {
            Msg::Event(event) => {
                if let Event::Notice { text, .. } = &event {
                    self.status = Some(Status {
                        text: text.clone(),
                        is_error: true,
                    });
                }
                let live = self.runs.len() - 1;
                std::sync::Arc::make_mut(&mut self.runs[live].timeline).apply(&event);
                if matches!(event, Event::RunFinished { .. }) {
                    self.bound_memory();
                }
                None
            }
            Msg::Key(key) => self.key(key),
            Msg::Exported {
                kind: ExportKind::Trace | ExportKind::Svg,
                result: Ok(file),
                ..
            } => {
                self.status = Some(Status {
                    text: format!("exported to {}", file.display()),
                    is_error: false,
                });
                None
            }
            Msg::Exported {
                kind: ExportKind::AllRuns,
                result: Ok(dir),
                ..
            } => {
                // Every run that has ended is saved, each in its own folder (a run still
                // going was saved as it was then, which its later events outdate).
                for (i, run) in self.runs.iter_mut().enumerate() {
                    if run.timeline.outcome().is_some() {
                        let folder = dir.join(format!("run-{}", i + 1));
                        run.last_export = Some((run.timeline.revision(), folder));
                    }
                }
                self.status = Some(Status {
                    text: format!("exported {} runs to {}", self.runs.len(), dir.display()),
                    is_error: false,
                });
                self.latest_export = Some(dir);
                None
            }
            Msg::Exported {
                kind: ExportKind::Csv,
                revision,
                result: Ok(dir),
            } => {
                self.status = Some(Status {
                    text: format!("exported to {}", dir.display()),
                    is_error: false,
                });
                self.latest_export = Some(dir.clone());
                // Revisions are unique to a timeline: the export belongs to that run.
                if let Some(run) = self
                    .runs
                    .iter_mut()
                    .find(|r| r.timeline.revision() >> 32 == revision >> 32)
                {
                    run.last_export = Some((revision, dir));
                }
                None
            }
            Msg::Exported {
                result: Err(error), ..
            } => {
                self.status = Some(Status {
                    text: format!("export failed: {error}"),
                    is_error: true,
                });
                None
            }
            Msg::RerunFailed(error) => {
                self.restarting = false;
                self.status = Some(Status {
                    text: format!("rerun failed: {error}"),
                    is_error: true,
                });
                None
            }
            Msg::Select { experiment, task } => {
                if experiment < self.plan().experiments.len() {
                    self.selected = experiment;
                    self.inspect = task.map(|task| Inspect { task });
                }
                None
            }
            Msg::Scroll { experiment, rows } => {
                self.scroll_by(experiment, rows);
                None
            }
            Msg::Loading(fraction) => {
                self.loading = Some(fraction);
                None
            }
            Msg::Loaded(recording) => {
                let recording = *recording;
                self.loading = None;
                let description = std::mem::take(&mut self.runs[0].description);
                self.runs = vec![Run {
                    description,
                    ..Run::new(recording.plan)
                }];
                self.runs[0].timeline = std::sync::Arc::new(recording.timeline);
                self.viewing = 0;
                self.selected = 0;
                self.status = recording.notes.first().map(|note| Status {
                    text: match recording.notes.len() {
                        1 => note.clone(),
                        n => format!("{note} (and {} more notes, printed on quit)", n - 1),
                    },
                    is_error: true,
                });
                self.notes = recording.notes;
                None
            }
            Msg::RunRestarted => {
                self.inspect = None;
                self.runs_left = self.runs_left.saturating_sub(1);
                let plan = self
                    .next_plan
                    .take()
                    .unwrap_or_else(|| self.next_plan().clone());
                self.runs.push(Run::new(plan));
                self.viewing = self.runs.len() - 1;
                self.frozen = None;
                self.restarting = false;
                self.status = Some(Status {
                    text: format!(
                        "restarted the plan: run {} (earlier runs are kept: [ and ] step through them)",
                        self.runs.len()
                    ),
                    is_error: false,
                });
                None
            }
        }
    }

    fn key(&mut self, key: KeyEvent) -> Option<Effect> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some(editor) = &mut self.editor {
            if ctrl && key.code == KeyCode::Char('c') {
                return Some(Effect::Quit);
            }
            return match editor.key(key.code) {
                crate::view::editor::EditorOutcome::Editing => None,
                crate::view::editor::EditorOutcome::Cancelled => {
                    self.editor = None;
                    self.status = Some(Status {
                        text: "plan unchanged".into(),
                        is_error: false,
                    });
                    None
                }
                crate::view::editor::EditorOutcome::Run(plan, runs) => {
                    self.editor = None;
                    self.next_plan = Some(*plan);
                    self.runs_left = runs;
                    self.restarting = true;
                    self.status = Some(Status {
                        text: "running the edited plan: stopping the current run…".into(),
                        is_error: false,
                    });
                    Some(Effect::Rerun)
                }
            };
        }
        if self.show_help {
            // ↑/↓ scroll a help taller than the screen; any other key closes it; quitting
            // keys still quit.
            match key.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    self.help_scroll = self.help_scroll.saturating_sub(1);
                    return None;
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    self.help_scroll = self.help_scroll.saturating_add(1).min(60);
                    return None;
                }
                _ => {}
            }
            self.show_help = false;
            self.help_scroll = 0;
            return match key.code {
                KeyCode::Char('c') if ctrl => Some(Effect::Quit),
                KeyCode::Char('q') => Some(Effect::Quit),
                _ => None,
            };
        }
        let panels = self.plan().experiments.len().max(1);
        if self.compare.is_some() && self.compare_key(key.code) {
            return None;
        }
        if self.inspect.is_some() && self.inspect_key(key.code) {
            return None;
        }
        let selected_before = self.selected;
        let effect = self.view_key(key, panels);
        if self.selected != selected_before {
            self.inspect = None; // the cursor belongs to the panel it was put on
        }
        effect
    }

    fn view_key(&mut self, key: KeyEvent, panels: usize) -> Option<Effect> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => return Some(Effect::Quit),
            KeyCode::Char('q') | KeyCode::Esc => return Some(Effect::Quit),
            KeyCode::Char('e') => {
                self.status = Some(Status {
                    text: if self.is_frozen() && self.viewing_live() {
                        "exporting the live data (everything collected, not the frozen picture)…"
                            .into()
                    } else {
                        "exporting…".into()
                    },
                    is_error: false,
                });
                return Some(Effect::Export);
            }
            KeyCode::Char('t') => {
                self.status = Some(Status {
                    text: "writing the Chrome trace…".into(),
                    is_error: false,
                });
                return Some(Effect::ExportTrace);
            }
            KeyCode::Char('g') => {
                self.status = Some(Status {
                    text: "drawing the SVG picture…".into(),
                    is_error: false,
                });
                return Some(Effect::ExportSvg);
            }
            KeyCode::Char('E') => {
                self.status = Some(Status {
                    text: format!("exporting all {} runs…", self.runs.len()),
                    is_error: false,
                });
                return Some(Effect::ExportAll);
            }
            KeyCode::Up | KeyCode::Char('k') => self.scroll_by(self.selected, -1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll_by(self.selected, 1),
            KeyCode::PageUp => self.scroll_by(self.selected, -self.page_of(self.selected)),
            KeyCode::PageDown => self.scroll_by(self.selected, self.page_of(self.selected)),
            KeyCode::Home => self.scroll_by(self.selected, isize::MIN / 2),
            KeyCode::End => self.scroll_by(self.selected, isize::MAX / 2),
            KeyCode::Char('p') if self.source == Source::Live => {
                let runs = self.runs_left.max(1);
                self.editor = Some(crate::view::editor::Editor::of(self.next_plan(), runs));
            }
            KeyCode::Char('c') => self.start_comparing(),
            KeyCode::Char('[') => self.step_run(-1),
            KeyCode::Char(']') => self.step_run(1),
            KeyCode::Char(c @ ('w' | 'W')) if self.source == Source::Live => {
                return self.rerun_with_workers(if c == 'w' { 0.5 } else { 2.0 });
            }
            KeyCode::Char('r' | 'w' | 'W' | 'p') if self.source != Source::Live => {
                self.status = Some(Status {
                    text: "r, w, W and p run a plan; these are recorded files (run poolscope itself to run one)".into(),
                    is_error: true,
                });
            }
            KeyCode::Char('r') => {
                if self.restarting {
                    return None;
                }
                self.restarting = true;
                self.status = Some(Status {
                    text: "rerun: stopping the current run…".into(),
                    is_error: false,
                });
                return Some(Effect::Rerun);
            }
            KeyCode::Char('i') => self.start_inspecting(),
            KeyCode::Tab => self.selected = (self.selected + 1) % panels,
            KeyCode::BackTab => self.selected = (self.selected + panels - 1) % panels,
            KeyCode::Char(c @ '1'..='9') => {
                let index = c as usize - '1' as usize;
                if index < self.plan().experiments.len() {
                    self.selected = index;
                }
            }
            KeyCode::Char('s') => {
                self.lane_order = match self.lane_order {
                    LaneOrder::ByWorker => LaneOrder::ByStart,
                    LaneOrder::ByStart => LaneOrder::ByWorker,
                }
            }
            KeyCode::Char('+') | KeyCode::Char('=') => self.zoom(2.0),
            KeyCode::Char('-') | KeyCode::Char('_') => self.zoom(0.5),
            KeyCode::Left | KeyCode::Char('h') => self.view.pan_by(-0.25),
            KeyCode::Right | KeyCode::Char('l') => self.view.pan_by(0.25),
            KeyCode::Char('0') => {
                self.view.zoom = 1.0;
                self.view.pan = 0.0;
            }
            KeyCode::Char('f') => self.view.follow = true,
            KeyCode::Char(' ') => {
                self.frozen = match self.frozen.take() {
                    Some(_) => None,
                    None => Some(Frozen {
                        timeline: self.runs[self.runs.len() - 1].timeline.clone(),
                        now: self.now,
                    }),
                }
            }
            KeyCode::Char('?') => self.show_help = true,
            KeyCode::Enter | KeyCode::Char('z') => self.maximized = !self.maximized,
            _ => {}
        }
        None
    }

    /// The first row panel `experiment` shows.
    pub fn scroll_of(&self, experiment: usize) -> usize {
        self.scroll.get(experiment).copied().unwrap_or(0)
    }

    /// Tells the app how many rows each panel showed when last drawn (plan index, rows).
    pub fn set_page_rows(&mut self, rows: &[(usize, u16)]) {
        for &(i, n) in rows {
            if self.page_rows.len() <= i {
                self.page_rows.resize(i + 1, 0);
            }
            self.page_rows[i] = n;
        }
    }

    /// How many rows panel `experiment` has to show (lanes, or tasks by start).
    fn rows_of(&self, experiment: usize) -> usize {
        self.shown_timeline()
            .experiment(experiment)
            .map_or(0, |e| match self.lane_order {
                LaneOrder::ByWorker => e.lanes.len(),
                LaneOrder::ByStart => e.by_start.len(),
            })
    }

    /// Scrolls panel `experiment` by `rows` (negative: up), within its rows.
    pub fn scroll_by(&mut self, experiment: usize, rows: isize) {
        let page = self.page_rows.get(experiment).copied().unwrap_or(1).max(1) as usize;
        let last = self.rows_of(experiment).saturating_sub(page);
        if self.scroll.len() <= experiment {
            self.scroll.resize(experiment + 1, 0);
        }
        let now = self.scroll[experiment].min(last) as isize;
        self.scroll[experiment] = (now + rows).clamp(0, last as isize) as usize;
    }

    /// One page of panel `experiment`'s rows.
    fn page_of(&self, experiment: usize) -> isize {
        self.page_rows.get(experiment).copied().unwrap_or(1).max(1) as isize
    }

    /// Keeps lane `lane` (an index into the experiment's lanes) of the selected panel in view.
    fn reveal_lane(&mut self, lane: usize) {
        let experiment = self.selected;
        let page = self.page_of(experiment) as usize;
        let first = self.scroll_of(experiment);
        if lane < first {
            self.scroll_by(experiment, lane as isize - first as isize);
        } else if lane >= first + page {
            self.scroll_by(experiment, (lane + 1 - page) as isize - first as isize);
        }
    }

    /// Starts the plan's next run by itself (`--runs N`): true if one is due, the live run
    /// having completed with runs left to start.
    pub fn due_for_another_run(&mut self) -> bool {
        let due = !self.restarting
            && self.runs_left > 0
            && self.live_timeline().outcome() == Some(crate::model::event::RunOutcome::Completed);
        if due {
            self.restarting = true;
        }
        due
    }

    /// A key while comparing: ↑/↓ choose the other run, `[`/`]` the one looked at, `c` or
    /// Esc leave. Returns whether the key was used.
    fn compare_key(&mut self, code: KeyCode) -> bool {
        let Some(other) = self.compare else {
            return false;
        };
        let last = self.runs.len() - 1;
        match code {
            KeyCode::Esc | KeyCode::Char('c') => self.compare = None,
            KeyCode::Up | KeyCode::Char('k') => self.compare = Some(other.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') => self.compare = Some((other + 1).min(last)),
            _ => return false,
        }
        true
    }

    /// `c`: compares the run looked at with the one before it (or after, for the first).
    fn start_comparing(&mut self) {
        if self.runs.len() < 2 {
            self.status = Some(Status {
                text: "only one run so far: r, w/W or p make another to compare with".into(),
                is_error: true,
            });
            return;
        }
        self.inspect = None;
        self.compare = Some(if self.viewing > 0 {
            self.viewing - 1
        } else {
            1
        });
    }

    /// The two runs being compared: (the other, the one looked at).
    pub fn compared(&self) -> Option<(usize, usize)> {
        self.compare
            .filter(|&o| o < self.runs.len())
            .map(|o| (o, self.viewing))
    }

    /// `+` / `-`: about the inspected task, else about the window's centre; the live edge
    /// stays in view only while the run goes on and the view follows it.
    fn zoom(&mut self, factor: f64) {
        let inspected = self.inspect.and_then(|cursor| {
            let e = self.shown_timeline().experiment(self.selected)?;
            let task = e.tasks.get(cursor.task)?;
            let start = task.started_at?;
            let end = task.ended_at.unwrap_or(self.now());
            let full = self.full_length(e).as_secs_f64();
            let middle = (start.since(e.started_at) + end.since(start) / 2).as_secs_f64();
            Some((middle / full).clamp(0.0, 1.0))
        });
        let live = self.shown_timeline().outcome().is_none() && self.view.follow;
        match inspected {
            Some(center) => {
                self.view.follow = false;
                self.view.zoom_about(center, factor);
            }
            None if live => self.view.zoom_by(factor),
            None => {
                let center = self.view.start_fraction() + self.view.width() / 2.0;
                self.view.follow = false;
                self.view.zoom_about(center, factor);
            }
        }
    }

    /// Looks at the run `step` before or after the one looked at.
    fn step_run(&mut self, step: isize) {
        let last = self.runs.len() as isize - 1;
        let to = (self.viewing as isize + step).clamp(0, last) as usize;
        if to != self.viewing {
            self.viewing = to;
            self.inspect = None;
            self.scroll.clear();
            self.selected = self
                .selected
                .min(self.plan().experiments.len().saturating_sub(1));
        }
        let run = &self.runs[self.viewing];
        let mut text = format!(
            "run {}/{}: {}",
            self.viewing + 1,
            self.runs.len(),
            run.description
        );
        if run.compacted {
            text.push_str(" (its chart was dropped to bound memory; the summary stays)");
        }
        self.status = Some(Status {
            text,
            is_error: false,
        });
    }

    /// `w` / `W`: the live plan with every pool's workers halved or doubled, run now.
    fn rerun_with_workers(&mut self, factor: f64) -> Option<Effect> {
        if self.restarting {
            return None;
        }
        let mut plan = self.next_plan().clone();
        let mut from = None;
        let mut to = None;
        for e in &mut plan.experiments {
            if e.executor == crate::model::plan::ExecutorKind::Sequential
                || e.workload == crate::model::plan::WorkloadKind::Isolation
            {
                continue;
            }
            let workers =
                ((e.workers as f64 * factor).round() as usize).clamp(1, crate::cli::MAX_WORKERS);
            from.get_or_insert(e.workers);
            to.get_or_insert(workers);
            e.workers = workers;
        }
        let (Some(from), Some(to)) = (from, to) else {
            self.status = Some(Status {
                text: "no pool in this plan has workers to change".into(),
                is_error: true,
            });
            return None;
        };
        if from == to {
            self.status = Some(Status {
                text: format!(
                    "workers stay at {to} (the limits are 1 and {})",
                    crate::cli::MAX_WORKERS
                ),
                is_error: true,
            });
            return None;
        }
        self.next_plan = Some(plan);
        self.restarting = true;
        self.status = Some(Status {
            text: format!("workers {from} → {to}: stopping the current run…"),
            is_error: false,
        });
        Some(Effect::Rerun)
    }

    /// Drops the task-level events of the oldest runs (keeping their summaries) while the
    /// kept runs hold more than `max_kept_tasks` (default [`MAX_KEPT_TASKS`]) tasks together;
    /// says so once.
    fn bound_memory(&mut self) {
        let tasks = |run: &Run| -> usize {
            run.timeline
                .experiments()
                .iter()
                .map(|e| e.tasks.len())
                .sum()
        };
        let mut total: usize = self.runs.iter().map(tasks).sum();
        let mut dropped = Vec::new();
        for i in 0..self.runs.len().saturating_sub(1) {
            if total <= self.max_kept_tasks {
                break;
            }
            if self.runs[i].compacted {
                continue;
            }
            total -= tasks(&self.runs[i]);
            std::sync::Arc::make_mut(&mut self.runs[i].timeline).drop_task_events();
            self.runs[i].compacted = true;
            dropped.push((i + 1).to_string());
        }
        if !dropped.is_empty() {
            self.status = Some(Status {
                text: format!(
                    "to keep memory bounded, the charts of run {} were dropped (their summaries stay)",
                    dropped.join(", ")
                ),
                is_error: false,
            });
        }
    }

    /// Puts the inspector's cursor on the selected experiment: the latest task of its first
    /// lane that ran one.
    fn start_inspecting(&mut self) {
        let first = self
            .shown_timeline()
            .experiment(self.selected)
            .and_then(|e| {
                e.lanes
                    .iter()
                    .find_map(|l| l.spans().last().map(|s| s.task))
            });
        match first {
            Some(task) => self.inspect = Some(Inspect { task }),
            None => {
                self.status = Some(Status {
                    text: "nothing to inspect yet: no task of this experiment has started".into(),
                    is_error: false,
                })
            }
        }
    }

    /// A key while inspecting: ↑/↓ move between lanes, ←/→ between a lane's tasks, `i` or
    /// Esc leave, and Tab leaves along with the panel. Returns whether the key was used.
    fn inspect_key(&mut self, code: KeyCode) -> bool {
        let Some(cursor) = self.inspect else {
            return false;
        };
        let timeline = self.shown_timeline();
        let Some(experiment) = timeline.experiment(self.selected) else {
            self.inspect = None;
            return false;
        };
        let lanes = &experiment.lanes;
        let lane_index = experiment
            .lane_of(cursor.task)
            .and_then(|lane| lanes.iter().position(|l| l.worker == lane.worker))
            .unwrap_or(0);
        let spans = |lane: usize| lanes.get(lane).map_or(&[][..], |l| l.spans());
        let position = spans(lane_index).iter().position(|s| s.task == cursor.task);
        // The task of another lane that was running at the same moment (or the nearest).
        let at = experiment.tasks[cursor.task]
            .started_at
            .map_or(0, |t| t.as_micros());
        let nearest_in = |lane: usize| {
            let spans = spans(lane);
            let after = spans.partition_point(|s| s.start <= at);
            spans
                .get(after.saturating_sub(1))
                .or(spans.first())
                .map(|s| s.task)
        };
        let moved = match code {
            KeyCode::Esc | KeyCode::Char('i') => {
                self.inspect = None;
                return true;
            }
            KeyCode::Tab | KeyCode::BackTab => {
                self.inspect = None;
                return false;
            }
            KeyCode::Up | KeyCode::Char('k') => (0..lane_index).rev().find_map(nearest_in),
            KeyCode::Down | KeyCode::Char('j') => {
                (lane_index + 1..lanes.len()).find_map(nearest_in)
            }
            KeyCode::Left | KeyCode::Char('h') => position
                .and_then(|p| p.checked_sub(1))
                .map(|p| spans(lane_index)[p].task),
            KeyCode::Right | KeyCode::Char('l') => position
                .map(|p| p + 1)
                .and_then(|p| spans(lane_index).get(p))
                .map(|s| s.task),
            _ => return false,
        };
        if let Some(task) = moved {
            self.inspect = Some(Inspect { task });
            let lane = self
                .shown_timeline()
                .experiment(self.selected)
                .and_then(|e| {
                    let worker = e.lane_of(task)?.worker;
                    e.lanes.iter().position(|l| l.worker == worker)
                });
            if let (Some(lane), LaneOrder::ByWorker) = (lane, self.lane_order) {
                self.reveal_lane(lane);
            }
        }
        true
    }

    /// Where the plan's experiment `index` is, as its panel and the summary show it.
    pub fn experiment_state(&self, index: usize) -> ExperimentState {
        let timeline = self.shown_timeline();
        match timeline.experiment(index) {
            None if timeline.outcome().is_some() => ExperimentState::NotRun,
            None => ExperimentState::Waiting,
            Some(e) if e.finished_at.is_some() => ExperimentState::Done(e.elapsed(self.now())),
            Some(e) if timeline.outcome().is_some() => {
                ExperimentState::Stopped(e.elapsed(self.now()))
            }
            Some(e) => ExperimentState::Running(e.elapsed(self.now())),
        }
    }

    /// The full length of the panel row `experiment` belongs to: the longest elapsed time
    /// among the experiments of the same workload.
    pub fn full_length(&self, experiment: &Experiment) -> Duration {
        row_length(self.shown_timeline(), experiment, self.now()).max(MIN_FULL_LENGTH)
    }

    /// The stretch of time `experiment`'s panel shows.
    pub fn time_span(&self, experiment: &Experiment) -> TimeSpan {
        let full = self.full_length(experiment).as_secs_f64();
        let start = full * self.view.start_fraction();
        let length = (full / self.view.zoom).max(1e-6);
        TimeSpan {
            start: experiment.started_at.plus(Duration::from_secs_f64(start)),
            length: Duration::from_secs_f64(length),
            origin: experiment.started_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::plan::ExecutorKind;
    use crate::model::timeline::tests::started_experiment;

    fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn app() -> App {
        let mut app = App::new(Plan::default(), true);
        app.update(Msg::Event(started_experiment(
            0,
            ExecutorKind::Processes,
            0,
        )));
        app.update(Msg::Event(started_experiment(
            1,
            ExecutorKind::Threads,
            1_000_000,
        )));
        app.set_now(Timestamp(2_000_000));
        app
    }

    #[test]
    fn quit_export_rerun_are_effects() {
        let mut app = app();
        assert_eq!(press(&mut app, KeyCode::Char('e')), Some(Effect::Export));
        assert_eq!(press(&mut app, KeyCode::Char('q')), Some(Effect::Quit));
        assert_eq!(press(&mut app, KeyCode::Esc), Some(Effect::Quit));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(app.update(Msg::Key(ctrl_c)), Some(Effect::Quit));
        assert_eq!(press(&mut app, KeyCode::Char('r')), Some(Effect::Rerun));
        assert_eq!(
            press(&mut app, KeyCode::Char('r')),
            None,
            "one rerun at a time"
        );
        app.update(Msg::RerunFailed("port in use".into()));
        assert!(!app.is_restarting());
        assert_eq!(
            app.timeline().experiments().len(),
            2,
            "the last run stays on screen"
        );
        assert!(
            app.status
                .as_ref()
                .is_some_and(|s| s.is_error && s.text.contains("port in use"))
        );
        assert_eq!(
            press(&mut app, KeyCode::Char('r')),
            Some(Effect::Rerun),
            "and can be retried"
        );
        app.update(Msg::RunRestarted);
        assert!(app.timeline().experiments().is_empty());
        assert!(!app.is_restarting());
    }

    #[test]
    fn an_export_counts_for_its_own_state_only() {
        let mut app = app();
        let revision = app.timeline().revision();
        let dir = PathBuf::from("runs/1");
        app.update(Msg::Exported {
            kind: ExportKind::Csv,
            revision,
            result: Ok(dir.clone()),
        });
        assert_eq!(app.saved_to(), Some(&dir));
        app.update(Msg::Event(started_experiment(2, ExecutorKind::Threads, 3)));
        assert_eq!(app.saved_to(), None, "rows changed since the export");
        // A rerun replaying the same events reaches a different revision.
        app.update(Msg::RunRestarted);
        for event in [
            started_experiment(0, ExecutorKind::Processes, 0),
            started_experiment(1, ExecutorKind::Threads, 1_000_000),
        ] {
            app.update(Msg::Event(event));
        }
        app.update(Msg::Exported {
            kind: ExportKind::Csv,
            revision,
            result: Ok(dir.clone()),
        });
        assert_eq!(
            app.saved_to(),
            None,
            "an old run's export is not this run's"
        );
        assert_eq!(app.latest_export(), Some(&dir));
    }

    #[test]
    fn panels_are_selected_by_tab_and_number() {
        let mut app = app();
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.selected, 1);
        for _ in 0..5 {
            press(&mut app, KeyCode::Tab);
        }
        assert_eq!(app.selected, 0, "wraps around the plan's 6 panels");
        press(&mut app, KeyCode::BackTab);
        assert_eq!(app.selected, 5);
        press(&mut app, KeyCode::Char('1'));
        assert_eq!(app.selected, 0);
        press(&mut app, KeyCode::Char('9'));
        assert_eq!(app.selected, 0, "no 9th experiment");
    }

    #[test]
    fn zoom_pan_fit_follow() {
        let mut app = app();
        let e = app.timeline().experiments()[0].clone();
        // Full length: the longest of the row = experiment 0, 2 s so far.
        assert_eq!(app.time_span(&e).length, Duration::from_secs(2));
        press(&mut app, KeyCode::Char('+'));
        let span = app.time_span(&e);
        assert_eq!(span.length, Duration::from_secs(1));
        assert_eq!(
            span.start,
            Timestamp(1_000_000),
            "following: the live edge in view"
        );
        press(&mut app, KeyCode::Left);
        assert!(!app.view.follow);
        assert_eq!(app.time_span(&e).start, Timestamp(750_000));
        press(&mut app, KeyCode::Char('f'));
        assert_eq!(app.time_span(&e).start, Timestamp(1_000_000));
        press(&mut app, KeyCode::Char('0'));
        assert_eq!(app.time_span(&e).length, Duration::from_secs(2));
        for _ in 0..40 {
            press(&mut app, KeyCode::Char('+'));
        }
        assert_eq!(app.view.zoom, MAX_ZOOM);
        for _ in 0..40 {
            press(&mut app, KeyCode::Char('-'));
        }
        assert_eq!(app.view.zoom, 1.0);
    }

    #[test]
    fn freeze_keeps_the_display_while_collection_goes_on() {
        let mut app = app();
        press(&mut app, KeyCode::Char(' '));
        assert!(app.is_frozen());
        app.update(Msg::Event(started_experiment(
            2,
            ExecutorKind::Processes,
            2_000_000,
        )));
        app.set_now(Timestamp(9_000_000));
        assert_eq!(app.shown_timeline().experiments().len(), 2);
        assert_eq!(app.timeline().experiments().len(), 3, "still collecting");
        assert_eq!(app.now(), Timestamp(2_000_000));
        press(&mut app, KeyCode::Char(' '));
        assert_eq!(app.shown_timeline().experiments().len(), 3);
    }

    #[test]
    fn a_stopped_run_stops_the_clock_for_every_experiment() {
        let mut app = app();
        assert_eq!(
            app.experiment_state(0),
            ExperimentState::Running(Duration::from_secs(2))
        );
        assert_eq!(app.experiment_state(2), ExperimentState::Waiting);
        app.update(Msg::Event(Event::RunFinished {
            at: Timestamp(3_000_000),
            outcome: crate::model::event::RunOutcome::Cancelled,
        }));
        app.set_now(Timestamp(60_000_000));
        assert_eq!(
            app.now(),
            Timestamp(3_000_000),
            "bars end where the run ended"
        );
        assert_eq!(
            app.experiment_state(0),
            ExperimentState::Stopped(Duration::from_secs(3))
        );
        assert_eq!(
            app.experiment_state(1),
            ExperimentState::Stopped(Duration::from_secs(2))
        );
        assert_eq!(app.experiment_state(2), ExperimentState::NotRun);
    }

    #[test]
    fn help_closes_on_any_key() {
        let mut app = app();
        press(&mut app, KeyCode::Char('?'));
        assert!(app.show_help);
        assert_eq!(
            press(&mut app, KeyCode::Esc),
            None,
            "Esc closes the help first"
        );
        assert!(!app.show_help);
    }

    #[test]
    fn lane_order_toggles() {
        let mut app = app();
        press(&mut app, KeyCode::Char('s'));
        assert_eq!(app.lane_order, LaneOrder::ByStart);
        press(&mut app, KeyCode::Char('s'));
        assert_eq!(app.lane_order, LaneOrder::ByWorker);
    }
}
