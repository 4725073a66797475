//! The live view's state and how it changes: `update(msg)` for every key press, timing
//! event and finished export, with no terminal I/O.
//!
//! The terminal loop ([`crate::tui`]) feeds messages in and carries out the [`Effect`]s that
//! come back (export files, start a new run, quit); the widgets ([`crate::view::ui`]) only
//! read the state. Because the clock is passed in too ([`App::set_now`]), a test can build an
//! `App` from synthetic events and get the same screen every time.
//!
//! The state is held in parts, each with its own state and update, so a change to one does
//! not touch the others; `App` routes messages to them and holds what they share (the
//! selected panel, the footer's message):
//!
//! - [`runs`]: the runs kept, the one looked at, the next plan;
//! - [`viewport`]: zoom, pan, follow, freeze, row order and scrolling;
//! - [`inspector`]: the cursor on a task;
//! - [`exports`]: what each export key asks for and where exports went;
//! - the plan editor ([`crate::view::editor`]), while open.

pub mod exports;
pub mod inspector;
pub mod messages;
pub mod runs;
pub mod viewport;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::chart::fold::Rows;
use crate::chart::span::{TimeSpan, row_length};
use crate::model::clock::Timestamp;
use crate::model::event::Event;
use crate::model::plan::Plan;
use crate::model::timeline::{Experiment, Timeline};
use crate::view::editor::{Editor, EditorOutcome};

pub use inspector::Inspect;
pub use messages::{Effect, ExportKind, Msg, Status};
pub use runs::{MAX_KEPT_RECORDS, Run};
pub use viewport::{LaneOrder, MAX_ZOOM, SummaryFold, Viewport};

use exports::Exports;
use inspector::InspectKey;
use runs::Runs;

/// Where the shown timeline came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A run of the plan, live (it can be rerun).
    Live,
    /// Recorded files (`poolscope view`): nothing to rerun.
    Files(Vec<String>),
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

/// Everything the live view shows.
#[derive(Debug, Clone)]
pub struct App {
    /// The runs kept.
    runs: Runs,
    /// What part of the run the panels show.
    pub view: Viewport,
    /// The inspector's cursor, while a task is being inspected (`i`).
    pub inspect: Option<Inspect>,
    /// Where exports went.
    exports: Exports,
    /// The plan editor, while open (`p`).
    pub editor: Option<Editor>,
    /// While comparing (`c`): the run compared with the one looked at.
    pub compare: Option<usize>,
    /// How many records (tasks, samples, GIL spans) the kept runs may hold before the
    /// oldest lose their charts.
    pub max_kept_records: usize,
    source: Source,
    /// While files are read: the share read so far.
    pub loading: Option<f64>,
    /// What reading the files had to say (rows skipped, events left out).
    pub notes: Vec<String>,
    now: Timestamp,
    /// The selected experiment panel (an index into the timeline's experiments).
    pub selected: usize,
    /// Whether the key help is shown.
    pub show_help: bool,
    /// How far the help is scrolled (lines), on screens too short for it.
    pub help_scroll: u16,
    /// How far the help can scroll on the screen as last drawn (set by the loop).
    pub help_limit: u16,
    /// The footer's message.
    pub status: Option<Status>,
    /// Whether colours may be used (`NO_COLOR` unset).
    pub color: bool,
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
            runs: Runs::new(plan),
            view: Viewport::default(),
            inspect: None,
            exports: Exports::default(),
            editor: None,
            compare: None,
            max_kept_records: MAX_KEPT_RECORDS,
            source: Source::Live,
            loading: None,
            notes: Vec::new(),
            now: Timestamp(0),
            selected: 0,
            show_help: false,
            help_scroll: 0,
            help_limit: 200,
            status: None,
            color,
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
        app.runs.describe_as(files_description(&files));
        app.source = Source::Files(files);
        app.loading = Some(0.0);
        app
    }

    /// A view of a watched program (`poolscope watch`), described as `description`: its
    /// processes become panels as they appear. `p` runs poolscope's own plan beside it once
    /// it has ended, so `c` compares the two.
    pub fn watching(description: String, color: bool) -> Self {
        let mut app = App::new(
            Plan {
                experiments: Vec::new(),
                ..Plan::default()
            },
            color,
        );
        app.runs.start_watch(description);
        app
    }

    /// Whether the live run is a watched program's.
    pub fn watching_live(&self) -> bool {
        self.runs.live().watch
    }

    /// Where the current state of run `index` was exported, if it was.
    pub fn run_saved_to(&self, index: usize) -> Option<&PathBuf> {
        self.runs.saved_to(index)
    }

    /// Runs still to start by themselves after this one (`--runs N` gives N − 1).
    pub fn set_runs_left(&mut self, runs: usize) {
        self.runs.left = runs;
    }

    /// Where the timeline came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Whether the shown runs are a live run of a plan (not recorded files).
    fn is_live(&self) -> bool {
        self.source == Source::Live
    }

    /// The folder of the latest export, even of an earlier state or an earlier run (so a
    /// user who quits after a rerun hears where the last export went).
    pub fn latest_export(&self) -> Option<&PathBuf> {
        self.exports.latest()
    }

    /// Where the current state of the run looked at was exported, if it was (an export of
    /// an earlier state, mid-run, does not count: rows have changed since).
    pub fn saved_to(&self) -> Option<&PathBuf> {
        self.runs.saved_to(self.runs.viewed_index())
    }

    /// Whether the live run's last state was exported (what quitting checks).
    pub fn live_saved_to(&self) -> Option<&PathBuf> {
        self.runs.saved_to(self.runs.all().len() - 1)
    }

    /// The plan of the run being looked at.
    pub fn plan(&self) -> &Plan {
        &self.runs.viewed().plan
    }

    /// The plan the next run will use: the one edited, else the live run's.
    pub fn next_plan(&self) -> &Plan {
        self.runs.next_plan()
    }

    /// The viewed run's plan in one line.
    pub fn plan_description(&self) -> &str {
        self.runs.viewed().description()
    }

    /// The collected timeline of the run being looked at (always complete, even when the
    /// display is frozen): what export writes.
    pub fn timeline(&self) -> &Timeline {
        &self.runs.viewed().timeline
    }

    /// The same, shared: what an export thread takes, without copying it.
    pub fn shared_timeline(&self) -> Arc<Timeline> {
        self.runs.viewed().timeline.clone()
    }

    /// The live run's timeline (the last run: where events go).
    pub fn live_timeline(&self) -> &Timeline {
        &self.runs.live().timeline
    }

    /// Every run kept, oldest first.
    pub fn runs(&self) -> &[Run] {
        self.runs.all()
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
        self.runs.completed_of(plan)
    }

    /// The live run's plan.
    pub fn live_plan(&self) -> &Plan {
        &self.runs.live().plan
    }

    /// How many runs there will be as far as is known: those kept, and those still to start
    /// by themselves (`--runs`).
    pub fn planned_runs(&self) -> usize {
        self.runs.planned()
    }

    /// The index of the run being looked at.
    pub fn viewed_run(&self) -> usize {
        self.runs.viewed_index()
    }

    /// Whether the run looked at is the live one.
    pub fn viewing_live(&self) -> bool {
        self.runs.viewing_live()
    }

    /// The timeline to draw: the frozen one while frozen (live run), else the viewed one.
    pub fn shown_timeline(&self) -> &Timeline {
        match self.view.frozen() {
            Some(frozen) if self.viewing_live() => &frozen.timeline,
            _ => self.timeline(),
        }
    }

    /// The time the display is at: the clock, or the moment of freezing while frozen, or
    /// the run's end once it ended (a stopped run's bars and times stop there too).
    pub fn now(&self) -> Timestamp {
        let now = self.view.frozen().map_or(self.now, |f| f.now);
        self.shown_timeline().finished_at().unwrap_or(now)
    }

    /// Sets the current time (the loop does so before drawing).
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = now;
    }

    /// Whether the display is frozen.
    pub fn is_frozen(&self) -> bool {
        self.view.frozen().is_some()
    }

    /// Whether a rerun is waiting for the old run to stop.
    pub fn is_restarting(&self) -> bool {
        self.runs.is_restarting()
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
                    self.status = Some(Status::error(text.clone()));
                }
                let dropped = self.runs.apply(&event, self.max_kept_records);
                if !dropped.is_empty() {
                    let runs: Vec<String> = dropped.iter().map(usize::to_string).collect();
                    self.status = Some(Status::info(format!(
                        "to keep memory bounded, the charts of run {} were dropped (their summaries stay)",
                        runs.join(", ")
                    )));
                }
            }
            Msg::Key(key) => return self.key(key),
            Msg::Exported {
                kind,
                revision,
                written,
                result,
            } => {
                let status =
                    self.exports
                        .finished(kind, (revision, &written), result, &mut self.runs);
                self.status = Some(status);
            }
            Msg::RerunFailed(error) => {
                self.runs.rerun_failed();
                self.status = Some(Status::error(format!("rerun failed: {error}")));
            }
            Msg::Select { experiment, task } => {
                if experiment < self.plan().experiments.len() {
                    self.selected = experiment;
                    self.inspect = task.map(|task| Inspect { task });
                }
            }
            Msg::Scroll { experiment, rows } => self.scroll_by(experiment, rows),
            Msg::Loading(fraction) => self.loading = Some(fraction),
            Msg::Loaded(recording) => {
                let recording = *recording;
                self.loading = None;
                self.runs
                    .replace_with_recording(recording.plan, recording.timeline);
                self.selected = 0;
                self.status = recording.notes.first().map(|note| {
                    Status::error(match recording.notes.len() {
                        1 => note.clone(),
                        n => format!("{note} (and {} more notes, printed on quit)", n - 1),
                    })
                });
                self.notes = recording.notes;
            }
            Msg::RunRestarted => {
                self.inspect = None;
                let (number, scheduled) = self.runs.start_next();
                self.view.new_run();
                self.status = Some(Status::info(if scheduled {
                    format!(
                        "run {number}/{} started (--runs; [ and ] step through the runs)",
                        self.runs.planned()
                    )
                } else {
                    format!(
                        "restarted the plan: run {number} (earlier runs are kept: [ and ] step through them)"
                    )
                }));
            }
        }
        None
    }

    /// Routes a key: to the editor while it is open, to the help while shown, to the
    /// comparison and the inspector while they are on, then to the view.
    fn key(&mut self, key: KeyEvent) -> Option<Effect> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            self.show_help = false;
            return Some(Effect::Interrupt);
        }
        if let Some(editor) = &mut self.editor {
            return match editor.key(key.code) {
                EditorOutcome::Editing => None,
                EditorOutcome::Cancelled => {
                    self.editor = None;
                    self.status = Some(Status::info("plan unchanged"));
                    None
                }
                EditorOutcome::Run(plan, runs) => {
                    self.editor = None;
                    self.runs.left = runs;
                    // The edited plan replaces any other asked for, even mid-restart.
                    self.runs.request_rerun(Some(*plan));
                    self.status = Some(Status::info(
                        "running the edited plan: stopping the current run…",
                    ));
                    Some(Effect::Rerun)
                }
            };
        }
        if self.show_help {
            return self.help_key(key.code);
        }
        if self.compare.is_some() && self.compare_key(key.code) {
            return None;
        }
        if let Some(cursor) = self.inspect
            && self.inspect_key(cursor, key.code)
        {
            return None;
        }
        let selected_before = self.selected;
        let effect = self.view_key(key.code);
        if self.selected != selected_before {
            self.inspect = None; // the cursor belongs to the panel it was put on
        }
        effect
    }

    /// ↑/↓ scroll a help taller than the screen; any other key closes it; quitting keys
    /// still quit.
    fn help_key(&mut self, code: KeyCode) -> Option<Effect> {
        match code {
            KeyCode::Up | KeyCode::Char('k') => {
                self.help_scroll = self.help_scroll.saturating_sub(1);
                return None;
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.help_scroll = self.help_scroll.saturating_add(1).min(self.help_limit);
                return None;
            }
            _ => {}
        }
        self.show_help = false;
        self.help_scroll = 0;
        (code == KeyCode::Char('q')).then_some(Effect::Quit)
    }

    fn view_key(&mut self, code: KeyCode) -> Option<Effect> {
        let panels = self.plan().experiments.len().max(1);
        let selected = self.selected;
        match code {
            // Esc first dismisses a message (reading one and quitting a watched program
            // by the same key is a trap); q always quits.
            KeyCode::Esc if self.status.is_some() => {
                self.status = None;
                return None;
            }
            KeyCode::Char('q') | KeyCode::Esc => return Some(Effect::Quit),
            KeyCode::Char(c) if ExportKind::of_key(c).is_some() => {
                let kind = ExportKind::of_key(c)?;
                let frozen_live = self.is_frozen() && self.viewing_live();
                self.status = Some(Exports::started(kind, frozen_live, self.runs().len()));
                return Some(kind.effect());
            }
            KeyCode::Up | KeyCode::Char('k') => self.scroll_by(selected, -1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll_by(selected, 1),
            KeyCode::PageUp => self.scroll_by(selected, -self.view.page_of(selected)),
            KeyCode::PageDown => self.scroll_by(selected, self.view.page_of(selected)),
            KeyCode::Home => self.scroll_by(selected, isize::MIN / 2),
            KeyCode::End => self.scroll_by(selected, isize::MAX / 2),
            KeyCode::Char('r' | 'w' | 'W') if self.watching_live() => {
                self.status = Some(Status::error(
                    "r, w and W run a plan of poolscope's again; this is a watched program: \
                     p runs poolscope's own plan beside it (once it has ended), c compares",
                ));
            }
            KeyCode::Char('p') if self.watching_live() && self.is_running() => {
                self.status = Some(Status::error(
                    "the watched program still runs: q stops it (SIGTERM, SIGKILL 2 s later; \
                     an attached --pid is never signalled); p runs poolscope's own plan once it has ended",
                ));
            }
            KeyCode::Char('r' | 'w' | 'W' | 'p') if !self.is_live() => {
                self.status = Some(Status::error(
                    "r, w, W and p run a plan; these are recorded files (run poolscope itself to run one)",
                ));
            }
            KeyCode::Char('p') => {
                let runs = self.runs.left.max(1);
                self.editor = Some(Editor::of(self.next_plan(), runs));
            }
            KeyCode::Char('c') => self.start_comparing(),
            KeyCode::Char('[') => self.step_run(-1),
            KeyCode::Char(']') => self.step_run(1),
            KeyCode::Char(c @ ('w' | 'W')) => {
                return self.rerun_with_workers(if c == 'w' { 0.5 } else { 2.0 });
            }
            KeyCode::Char('r') => return self.rerun(None, "rerun: stopping the current run…"),
            KeyCode::Char('i') => self.start_inspecting(),
            KeyCode::Tab => self.selected = (selected + 1) % panels,
            KeyCode::BackTab => self.selected = (selected + panels - 1) % panels,
            KeyCode::Char(c @ '1'..='9') => {
                let index = c as usize - '1' as usize;
                if index < self.plan().experiments.len() {
                    self.selected = index;
                }
            }
            KeyCode::Char('s') => self.view.toggle_order(),
            KeyCode::Char('d') => self.change_depth(false),
            KeyCode::Char('D') => self.change_depth(true),
            KeyCode::Char('v') => self.view.toggle_summary(),
            KeyCode::Char('+') | KeyCode::Char('=') => self.zoom(2.0),
            KeyCode::Char('-') | KeyCode::Char('_') => self.zoom(0.5),
            KeyCode::Left | KeyCode::Char('h') => self.view.pan_by(-0.25),
            KeyCode::Right | KeyCode::Char('l') => self.view.pan_by(0.25),
            KeyCode::Char('0') => self.view.fit(),
            KeyCode::Char('f') => self.view.follow = true,
            KeyCode::Char(' ') => {
                let live = self.runs.live().timeline.clone();
                self.view.toggle_freeze(live, self.now);
            }
            KeyCode::Char('?') => self.show_help = true,
            KeyCode::Enter | KeyCode::Char('z') => self.view.maximized = !self.view.maximized,
            _ => {}
        }
        None
    }

    /// Asks for a new run of `plan` (or the next plan) once the current one stops, saying
    /// `text` meanwhile; nothing while one is already asked for.
    fn rerun(&mut self, plan: Option<Plan>, text: &str) -> Option<Effect> {
        if !self.runs.request_rerun(plan) {
            return None;
        }
        self.status = Some(Status::info(text));
        Some(Effect::Rerun)
    }

    /// The first row panel `experiment` shows.
    pub fn scroll_of(&self, experiment: usize) -> usize {
        self.view.scroll_of(experiment)
    }

    /// Tells the app how many rows each panel showed when last drawn (plan index, rows).
    pub fn set_page_rows(&mut self, rows: &[(usize, u16)]) {
        self.view.set_page_rows(rows);
    }

    /// How many rows panel `experiment` has to show (lanes, nested calls folded as deep as
    /// the view shows them; or tasks by start).
    fn rows_of(&self, experiment: usize) -> usize {
        self.shown_timeline()
            .experiment(experiment)
            .map_or(0, |e| match self.view.lane_order {
                LaneOrder::ByWorker => Rows::of(e, self.view.depth).len(),
                LaneOrder::ByStart => e.by_start.len(),
            })
    }

    /// `d` / `D`: one lane of nesting fewer or more per thread, up to every level; says
    /// what changed, or that nothing here nests.
    fn change_depth(&mut self, more: bool) {
        let deepest = self
            .shown_timeline()
            .experiments()
            .iter()
            .map(|e| e.plan.lane_levels.deepest())
            .max()
            .unwrap_or(1);
        if deepest <= 1 {
            self.status = Some(Status::info(
                "nothing to fold: no thread here has nested calls (d / D fold the call stacks of traces, viztracer's or py-spy's)",
            ));
            return;
        }
        let depth = &mut self.view.depth;
        *depth = if more {
            depth.more(deepest)
        } else {
            depth.fewer(deepest)
        };
        self.status = Some(Status::info(match depth.rows() {
            None => format!(
                "depth all: each of up to {deepest} levels of nested calls has its own lane (d folds them)"
            ),
            Some(n) => format!(
                "depth {n}: a thread shows {}, deeper calls folded into the last (d fewer, D more, up to {deepest})",
                crate::model::display::count(n as usize, "lane")
            ),
        }));
    }

    /// Scrolls panel `experiment` by `rows` (negative: up), within its rows.
    pub fn scroll_by(&mut self, experiment: usize, rows: isize) {
        let total = self.rows_of(experiment);
        self.view.scroll_by(experiment, total, rows);
    }

    /// Starts the plan's next run by itself (`--runs N`): true if one is due, the live run
    /// having completed with runs left to start.
    pub fn due_for_another_run(&mut self) -> bool {
        self.runs.due_for_another()
    }

    /// A key while comparing: ↑/↓ choose the other run, `[`/`]` the one looked at, `c` or
    /// Esc leave. Returns whether the key was used.
    fn compare_key(&mut self, code: KeyCode) -> bool {
        let Some(other) = self.compare else {
            return false;
        };
        let last = self.runs().len() - 1;
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
        if self.runs().len() < 2 {
            self.status = Some(Status::error(
                "only one run so far: r, w/W or p make another to compare with",
            ));
            return;
        }
        self.inspect = None;
        let viewing = self.viewed_run();
        self.compare = Some(if viewing > 0 { viewing - 1 } else { 1 });
    }

    /// The two runs being compared: (the other, the one looked at).
    pub fn compared(&self) -> Option<(usize, usize)> {
        self.compare
            .filter(|&o| o < self.runs().len())
            .map(|o| (o, self.viewed_run()))
    }

    /// `+` / `-`: about the inspected task, else about the window's centre; the live edge
    /// stays in view only while the run goes on and the view follows it.
    fn zoom(&mut self, factor: f64) {
        let inspected = self.inspect.and_then(|cursor| {
            let e = self.shown_timeline().experiment(self.selected)?;
            cursor.center(e, self.full_length(e), self.now())
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
        if self.runs.step(step) {
            self.inspect = None;
            self.view.reset_scroll();
            self.selected = self
                .selected
                .min(self.plan().experiments.len().saturating_sub(1));
        }
        let run = self.runs.viewed();
        let mut text = format!(
            "run {}/{}: {}",
            self.viewed_run() + 1,
            self.planned_runs(),
            run.description()
        );
        if run.compacted {
            text.push_str(" (its chart was dropped to bound memory; the summary stays)");
        }
        self.status = Some(Status::info(text));
    }

    /// `w` / `W`: the live plan with every pool's workers halved or doubled, run now.
    fn rerun_with_workers(&mut self, factor: f64) -> Option<Effect> {
        if self.is_restarting() {
            return None;
        }
        match self.runs.scaled_workers(factor, crate::cli::MAX_WORKERS) {
            Ok((plan, from, to)) => self.rerun(
                Some(plan),
                &format!("workers {from} → {to}: stopping the current run…"),
            ),
            Err(why) => {
                self.status = Some(Status::error(why));
                None
            }
        }
    }

    /// Puts the inspector's cursor on the selected experiment.
    fn start_inspecting(&mut self) {
        let first = self
            .shown_timeline()
            .experiment(self.selected)
            .and_then(Inspect::start);
        match first {
            Some(cursor) => self.inspect = Some(cursor),
            None => {
                let timeline = self.shown_timeline();
                let watched = timeline
                    .experiment(self.selected)
                    .is_some_and(|e| e.plan.is_watched());
                let ended = timeline.outcome().is_some();
                self.status = Some(Status::info(match (watched, ended) {
                    (true, true) => "nothing to inspect: no pool task ran in this process",
                    (true, false) => {
                        "nothing to inspect yet: no pool task has started in this process"
                    }
                    (false, true) => "nothing to inspect: no task of this experiment started",
                    (false, false) => {
                        "nothing to inspect yet: no task of this experiment has started"
                    }
                }))
            }
        }
    }

    /// A key while inspecting. Returns whether the key was used.
    fn inspect_key(&mut self, cursor: Inspect, code: KeyCode) -> bool {
        let Some(experiment) = self.shown_timeline().experiment(self.selected) else {
            self.inspect = None;
            return false;
        };
        let outcome = cursor.key(code, experiment);
        let rows = Rows::of(experiment, self.view.depth);
        // Each row's place as the panel draws them (idle workers last where the rows do not
        // all fit).
        let order = rows.order(experiment, self.view.page_of(self.selected) as usize);
        match outcome {
            InspectKey::NotMine => false,
            InspectKey::Leave => {
                self.inspect = None;
                true
            }
            InspectKey::LeaveAndPass => {
                self.inspect = None;
                false
            }
            InspectKey::Moved(None) => true,
            InspectKey::Moved(Some((cursor, lane))) => {
                self.inspect = Some(cursor);
                if self.view.lane_order == LaneOrder::ByWorker {
                    let row = rows.row_of_lane(lane);
                    let shown = order.iter().position(|&r| r == row).unwrap_or(row);
                    self.view.reveal(self.selected, rows.len(), shown);
                }
                true
            }
        }
    }

    /// Where the plan's experiment `index` is, as its panel and the summary show it.
    pub fn experiment_state(&self, index: usize) -> ExperimentState {
        let timeline = self.shown_timeline();
        match timeline.experiment(index) {
            None if timeline.outcome().is_some() => ExperimentState::NotRun,
            None => ExperimentState::Waiting,
            Some(e) if e.finished_at.is_some() => {
                ExperimentState::Done(e.elapsed_shown(self.now()))
            }
            Some(e) if timeline.outcome().is_some() => {
                ExperimentState::Stopped(e.elapsed_shown(self.now()))
            }
            Some(e) => ExperimentState::Running(e.elapsed_shown(self.now())),
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
mod tests;
