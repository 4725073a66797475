//! Unit tests of the app: keys become effects, parts keep their own state.
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
    // The export's message shows: Esc dismisses it, then quits.
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert_eq!(press(&mut app, KeyCode::Esc), Some(Effect::Quit));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.update(Msg::Key(ctrl_c)), Some(Effect::Interrupt));
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
        written: Vec::new(),
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
        written: Vec::new(),
        result: Ok(dir.clone()),
    });
    assert_eq!(
        app.saved_to(),
        None,
        "an old run's export is not this run's"
    );
    assert_eq!(app.latest_export(), Some(&dir));
}

/// `E` pressed while a run goes on writes every run as it is then: that state, not the one
/// the run reaches while the files are written, is what counts as saved.
#[test]
fn an_all_runs_export_saves_each_run_as_it_was_written() {
    let mut app = app();
    app.update(Msg::Event(Event::RunFinished {
        at: Timestamp(3_000_000),
        outcome: crate::model::event::RunOutcome::Completed,
    }));
    press(&mut app, KeyCode::Char('r'));
    app.update(Msg::RunRestarted);
    app.update(Msg::Event(started_experiment(
        0,
        ExecutorKind::Processes,
        0,
    )));
    assert_eq!(press(&mut app, KeyCode::Char('E')), Some(Effect::ExportAll));
    // What the export thread takes when E is pressed.
    let written: Vec<u64> = app.runs().iter().map(|r| r.timeline.revision()).collect();
    let revision = app.timeline().revision();
    // The live run ends while the files are written.
    app.update(Msg::Event(Event::RunFinished {
        at: Timestamp(4_000_000),
        outcome: crate::model::event::RunOutcome::Completed,
    }));
    app.update(Msg::Exported {
        kind: ExportKind::AllRuns,
        revision,
        written,
        result: Ok(PathBuf::from("all")),
    });
    assert_eq!(
        app.runs.saved_to(0),
        Some(&PathBuf::from("all/run-1")),
        "the run that had ended is saved"
    );
    assert_eq!(
        app.live_saved_to(),
        None,
        "the live run's final state was not written: quitting with --out saves it"
    );
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
    press(&mut app, KeyCode::Left);
    assert!(!app.view.follow);
    press(&mut app, KeyCode::Char('0'));
    assert_eq!(app.time_span(&e).length, Duration::from_secs(2));
    assert!(app.view.follow, "the whole run, followed again");
    press(&mut app, KeyCode::Char('+'));
    press(&mut app, KeyCode::Left);
    app.update(Msg::RunRestarted);
    assert!(app.view.follow, "a new run is followed");
    press(&mut app, KeyCode::Char('0'));
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
fn esc_dismisses_a_message_before_it_quits() {
    let mut app = app();
    app.status = Some(Status::info("nothing to inspect yet"));
    assert_eq!(
        press(&mut app, KeyCode::Esc),
        None,
        "the message goes first"
    );
    assert!(app.status.is_none());
    assert_eq!(press(&mut app, KeyCode::Esc), Some(Effect::Quit));
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
    assert_eq!(app.view.lane_order, LaneOrder::ByStart);
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.view.lane_order, LaneOrder::ByWorker);
}
