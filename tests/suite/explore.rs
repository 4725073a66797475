//! Exploring: runs kept and stepped through, the plan editor and `w`/`W`, comparing runs,
//! scrolling to every lane, the default 80×24 terminal, and the chart read right
//! (neighbours alternate, no ✓ beside failures, zoom about the inspected task). App-level
//! tests drive `App` with synthetic events and draw it into a `TestBackend`; one test runs
//! the real binary in a pseudo-terminal.

use crate::common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use poolscope::model::clock::Timestamp;
use poolscope::model::event::{Event, RunOutcome, TaskEvent, TaskEventKind, WorkerId};
use poolscope::model::plan::{ExecutorKind, HttpSettings, Plan, WorkloadKind};
use poolscope::view::app::{App, Effect, Msg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const T0: u64 = 1_700_000_000_000_000;
const MS: u64 = 1_000;

fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            (0..width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

fn plan(workers: usize, tasks: usize) -> Plan {
    Plan::from_parts(
        &[WorkloadKind::Sleep],
        &[ExecutorKind::Processes, ExecutorKind::Threads],
        &[],
        &vec![10; tasks],
        Some(workers),
        HttpSettings::default(),
    )
}

/// A whole run of `plan`: every experiment's tasks round-robin over its workers, each
/// `task_ms` long, lanes back to back; processes take `slow` times as long.
fn run(app: &mut App, plan: &Plan, task_ms: u64, slow: u64, failing: Option<usize>) {
    app.update(Msg::Event(Event::RunStarted {
        at: Timestamp(T0),
        cores: 2,
        experiments: plan.experiments.len(),
    }));
    let mut at = T0;
    for (x, e) in plan.experiments.iter().enumerate() {
        app.update(Msg::Event(Event::ExperimentStarted {
            experiment: x,
            plan: e.clone(),
            at: Timestamp(at),
        }));
        let ms = if e.executor == ExecutorKind::Processes {
            task_ms * slow
        } else {
            task_ms
        };
        let mut end = at;
        for i in 0..e.inputs.len() {
            let w = i % e.workers;
            let slot = (i / e.workers) as u64;
            let worker = WorkerId {
                index: w,
                pid: 5000 + x as u32,
                tid: 14_590 + w as u32,
            };
            let start = at + slot * ms * MS;
            let stop = start + ms * MS;
            end = end.max(stop);
            for (t, kind) in [
                (start, TaskEventKind::Started),
                (
                    stop,
                    if failing == Some(i) {
                        TaskEventKind::Failed {
                            error: "boom".into(),
                            cpu_time: None,
                        }
                    } else {
                        TaskEventKind::Finished {
                            result: "slept".into(),
                            cpu_time: Some(Duration::from_millis(1)),
                        }
                    },
                ),
            ] {
                app.update(Msg::Event(Event::Task(TaskEvent {
                    experiment: x,
                    task: i,
                    input: 10,
                    worker,
                    at: Timestamp(t),
                    kind,
                })));
            }
        }
        app.update(Msg::Event(Event::ExperimentFinished {
            experiment: x,
            at: Timestamp(end),
        }));
        at = end;
    }
    app.update(Msg::Event(Event::RunFinished {
        at: Timestamp(at),
        outcome: RunOutcome::Completed,
    }));
    app.set_now(Timestamp(at + 1_000 * MS));
}

#[test]
fn runs_are_kept_and_stepped_through_with_run_n_of_m() {
    let first = plan(8, 16);
    let mut app = App::new(first.clone(), false);
    run(&mut app, &first, 10, 2, None);
    // w halves the workers and asks for a rerun with that plan.
    assert_eq!(press(&mut app, KeyCode::Char('w')), Some(Effect::Rerun));
    assert!(app.next_plan().experiments.iter().all(|e| e.workers == 4));
    app.update(Msg::RunRestarted);
    let second = app.next_plan().clone();
    run(&mut app, &second, 10, 2, None);
    assert_eq!(app.runs().len(), 2);
    assert_eq!(app.viewed_run(), 1);
    assert!(screen(&app, 120, 40).contains("run 2/2"));
    assert_eq!(app.timeline().experiments()[0].lanes.len(), 4);

    press(&mut app, KeyCode::Char('['));
    assert_eq!(app.viewed_run(), 0);
    let text = screen(&app, 120, 40);
    assert!(text.contains("run 1/2"), "{text}");
    assert_eq!(
        app.timeline().experiments()[0].lanes.len(),
        8,
        "the first run, whole"
    );
    assert!(app.status.as_ref().unwrap().text.starts_with("run 1/2"));
    press(&mut app, KeyCode::Char('['));
    assert_eq!(app.viewed_run(), 0, "no run before the first");
    press(&mut app, KeyCode::Char(']'));
    assert_eq!(app.viewed_run(), 1);
    // Exports write the run looked at; E every run, and then every run is saved.
    assert_eq!(press(&mut app, KeyCode::Char('E')), Some(Effect::ExportAll));
    assert!(app.live_saved_to().is_none());
    app.update(Msg::Exported {
        kind: poolscope::view::app::ExportKind::AllRuns,
        revision: app.timeline().revision(),
        written: app.runs().iter().map(|r| r.timeline.revision()).collect(),
        result: Ok("all".into()),
    });
    assert_eq!(
        app.live_saved_to(),
        Some(&std::path::PathBuf::from("all/run-2"))
    );
    // W doubles back.
    assert_eq!(press(&mut app, KeyCode::Char('W')), Some(Effect::Rerun));
    assert!(app.next_plan().experiments.iter().all(|e| e.workers == 8));
}

#[test]
fn the_editor_opens_with_p_refuses_bad_values_and_runs_the_edited_plan() {
    let first = plan(8, 16);
    let mut app = App::new(first.clone(), false);
    run(&mut app, &first, 10, 2, None);
    assert_eq!(press(&mut app, KeyCode::Char('p')), None);
    let text = screen(&app, 120, 40);
    assert!(text.contains("plan: the next run"), "{text}");
    assert!(
        text.contains("--workload sleep"),
        "the command line:\n{text}"
    );
    // Go to workers, type 0: refused with the CLI's message.
    let editor = app.editor.as_ref().unwrap();
    let workers = editor
        .fields
        .iter()
        .position(|f| f.flag == "--workers")
        .unwrap();
    for _ in 0..workers {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Delete);
    press(&mut app, KeyCode::Char('0'));
    assert_eq!(press(&mut app, KeyCode::Enter), None, "nothing starts");
    let text = screen(&app, 120, 40);
    assert!(
        text.contains("--workers '0': expected a whole number from 1 to 1024"),
        "{text}"
    );
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Char('2'));
    assert_eq!(press(&mut app, KeyCode::Enter), Some(Effect::Rerun));
    assert!(app.editor.is_none());
    app.update(Msg::RunRestarted);
    assert!(app.plan().experiments.iter().all(|e| e.workers == 2));
    // Esc leaves the plan as it is.
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert!(app.editor.is_none());
    assert!(app.plan().experiments.iter().all(|e| e.workers == 2));
}

#[test]
fn compare_shows_both_runs_figures_and_their_difference() {
    let first = plan(2, 4);
    let mut app = App::new(first.clone(), false);
    run(&mut app, &first, 100, 2, None);
    press(&mut app, KeyCode::Char('c'));
    assert!(app.compared().is_none(), "one run: nothing to compare");
    assert!(app.status.as_ref().unwrap().text.contains("only one run"));
    app.update(Msg::RunRestarted);
    run(&mut app, &first, 150, 2, None);
    press(&mut app, KeyCode::Char('c'));
    assert_eq!(app.compared(), Some((0, 1)));
    let text = screen(&app, 120, 40);
    assert!(text.contains("compare: run 1"), "{text}");
    // process-sleep: 2 rounds × 200 ms = 400 ms, then 2 × 300 ms = 600 ms: +50 %.
    let row = text
        .lines()
        .find(|l| l.contains("process-sleep "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        row.contains("400 ms") && row.contains("600 ms") && row.contains("+50.0 %"),
        "{row}"
    );
    assert!(text.contains("process-sleep · run 1") && text.contains("process-sleep · run 2"));
    assert!(
        text.contains("Δ 2 vs 1"),
        "Δ says which way it runs:\n{text}"
    );
    assert!(
        text.contains("▸2") && text.contains("◂1") && text.contains("▸ looked at"),
        "the markers and what they mean:\n{text}"
    );
    // Looking at run 1 and comparing with run 2: the same columns, the same Δ.
    press(&mut app, KeyCode::Char('['));
    press(&mut app, KeyCode::Down);
    assert_eq!(app.compared(), Some((1, 0)));
    let text = screen(&app, 120, 40);
    let row = text
        .lines()
        .find(|l| l.contains("process-sleep "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        row.find("400 ms") < row.find("600 ms") && row.contains("+50.0 %"),
        "{row}"
    );
    assert!(text.contains("▸1") && text.contains("◂2"), "{text}");
    press(&mut app, KeyCode::Char(']'));
    press(&mut app, KeyCode::Char('c'));
    assert!(app.compared().is_none());
    // Two runs of one plan: the verdict gives the speed-up with its spread, which way it
    // runs, and that two runs are too few to tell.
    let text = screen(&app, 140, 40);
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Over 2 runs")
            && words.contains("Sleep: threads 2.00 ± 0.00× faster than processes")
            && words.contains("too few to tell"),
        "{text}"
    );
}

#[test]
fn every_lane_of_64_is_reachable() {
    let plan = plan(64, 128);
    let mut app = App::new(plan.clone(), false);
    run(&mut app, &plan, 10, 1, None);
    for z in [false, true] {
        if z {
            press(&mut app, KeyCode::Char('z'));
        }
        let text = screen(&app, 120, 40);
        assert!(!text.contains("w63 "), "not all fit at 120×40");
        assert!(text.contains("of 64 lanes"), "a position marker:\n{text}");
        app.set_page_rows(&poolscope::view::ui::rows_per_panel(
            &app,
            ratatui::layout::Rect::new(0, 0, 120, 40),
        ));
        press(&mut app, KeyCode::End);
        let text = screen(&app, 120, 40);
        assert!(text.contains("w63 "), "End reaches the last lane:\n{text}");
        assert!(
            text.contains("of 64 lanes ┛") || text.contains("of 64 lanes"),
            "{text}"
        );
        press(&mut app, KeyCode::Home);
        assert!(screen(&app, 120, 40).contains("w0 "));
        press(&mut app, KeyCode::PageDown);
        assert!(app.scroll_of(0) > 0);
        press(&mut app, KeyCode::Up);
        let before = app.scroll_of(0);
        press(&mut app, KeyCode::Down);
        assert_eq!(app.scroll_of(0), before + 1);
        press(&mut app, KeyCode::Home);
    }
    // The wheel scrolls the panel it is over.
    app.update(Msg::Scroll {
        experiment: 0,
        rows: 3,
    });
    assert_eq!(app.scroll_of(0), 3);
}

/// At 80×24 the summary is folded to the verdict (every lane shows); the footer keeps
/// help, quit and the key that unfolds it (what `v` then shows: `render`
/// `at_80x24_every_lane_and_the_verdict_then_v_unfolds_the_summary`).
#[test]
fn at_80x24_the_footer_keeps_help_quit_and_the_key_to_the_summary() {
    let plan = Plan::default();
    let mut app = App::new(plan.clone(), false);
    // Run the default plan's six experiments quickly (sleep-like tasks are fine here).
    run(&mut app, &plan, 10, 2, None);
    let text = screen(&app, 80, 24);
    let footer = text.lines().last().unwrap();
    assert!(
        footer.contains("? help") && footer.contains("q quit") && footer.contains("v summary"),
        "{footer}"
    );
}

#[test]
fn neighbours_in_a_lane_alternate_and_no_tick_sits_beside_failures() {
    // Two workers, eight tasks each of the same input: with shading by input they all
    // looked alike.
    let plan = plan(2, 16);
    let mut app = App::new(plan.clone(), false);
    run(&mut app, &plan, 100, 1, Some(5));
    press(&mut app, KeyCode::Char('z')); // process-sleep alone, wide
    let text = screen(&app, 120, 30);
    let lane = text
        .lines()
        .find(|l| l.contains("w0 pid"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(lane.contains('█') && lane.contains('▓'), "{lane}");
    assert!(
        !lane.contains('▚'),
        "a boundary is not 'several tasks': {lane}"
    );
    // Runs of one glyph alternate: █…▓…█…
    let glyphs: Vec<char> = lane.chars().filter(|c| *c == '█' || *c == '▓').collect();
    let switches = glyphs.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(switches >= 4, "{lane}");
    // Task 5 failed: no ✓ in its panel's title or in the header.
    let title = text.lines().nth(1).unwrap();
    assert!(
        title.contains("✗ 1 failed") && !title.contains('✓'),
        "{title}"
    );
    let header = text.lines().next().unwrap();
    assert!(
        header.contains("✗ done, 2 failed") && !header.contains('✓'),
        "{header}"
    );
}

#[test]
fn zoom_centres_on_the_inspected_task_and_following_ends_with_the_run() {
    let plan = plan(2, 16);
    let mut app = App::new(plan.clone(), false);
    run(&mut app, &plan, 100, 1, None);
    press(&mut app, KeyCode::Char('i'));
    let task = app.inspect.unwrap().task;
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('+'));
    }
    let e = app.shown_timeline().experiments()[0].clone();
    let span = app.time_span(&e);
    let t = e.task(task).unwrap();
    let (start, end) = (t.started_at.unwrap(), t.ended_at.unwrap());
    assert!(
        span.start <= start && end <= span.start.plus(span.length),
        "the inspected task stays in the zoomed window"
    );
    assert!(
        !screen(&app, 120, 30).contains("not following"),
        "the run is over"
    );
}

#[test]
fn pressing_e_while_frozen_says_it_exports_the_live_data() {
    let plan = plan(2, 4);
    let mut app = App::new(plan.clone(), false);
    app.update(Msg::Event(Event::RunStarted {
        at: Timestamp(T0),
        cores: 2,
        experiments: 2,
    }));
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(press(&mut app, KeyCode::Char('e')), Some(Effect::Export));
    assert!(app.status.as_ref().unwrap().text.contains("live data"));
}

/// The acceptance test of the issue, on the real binary: defaults, the editor, workers 2,
/// run, two lanes per panel; `[` back to the first run, eight.
#[test]
fn the_editor_in_a_terminal_runs_two_workers_and_the_first_run_stays() {
    let dir = tempfile::tempdir().unwrap();
    // The default plan, fast: small fib and short delays (still eight workers each).
    let args = ["--fib", "20..=27", "--delays", "10..=80:10"];
    let mut pty = common::pty::Pty::spawn(&args, dir.path(), 120, 60);
    pty.wait_for("✓ done", Duration::from_secs(60));
    assert!(
        pty.screen().contains("w7 "),
        "eight lanes:\n{}",
        pty.screen()
    );
    pty.press("p");
    pty.wait_for("plan: the next run", Duration::from_secs(10));
    // workers is the fifth field.
    pty.press("\x1b[B\x1b[B\x1b[B\x1b[B");
    pty.press("\x7f\x7f2\r");
    let screen = pty.wait_for("run 2/2", Duration::from_secs(30));
    let screen = if screen.contains("✓ done") {
        screen
    } else {
        pty.wait_for("✓ done", Duration::from_secs(60))
    };
    assert!(
        screen.contains("w1 ") && !screen.contains("w2 "),
        "two lanes:\n{screen}"
    );
    pty.press("[");
    pty.wait_for("run 1/2", Duration::from_secs(10));
    // The frame may be read half drawn (its header first): wait for the eighth lane.
    let screen = pty.wait_for("w7 ", Duration::from_secs(10));
    assert!(
        screen.contains("w7 "),
        "the first run, eight lanes:\n{screen}"
    );
    pty.press("q");
    assert!(pty.wait_exit(Duration::from_secs(20)).success());
    pty.assert_restored();
}

#[test]
fn headless_runs_n_times_with_a_folder_each_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::poolscope_in(dir.path())
        .args([
            "--headless",
            "--workload",
            "sleep",
            "--executor",
            "threads,sequential",
            "--delays",
            "10,20",
            "--runs",
            "3",
            "--out",
            "out",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for n in 1..=3 {
        assert!(text.contains(&format!("Run {n}/3")), "{text}");
        assert!(
            dir.path()
                .join(format!("out/run-{n}/thread-sleep.csv"))
                .exists()
        );
    }
    assert!(text.contains("Over 3 runs:"), "{text}");
    assert!(text.contains("thread-sleep"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("Sleep: ")
            && l.contains("threads")
            && l.contains("sequential")
            && l.contains("(3 runs; 95 % interval ")),
        "a ratio with its spread and the interval of its mean:\n{text}"
    );
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/stats.json")).unwrap()).unwrap();
    assert_eq!(stats["runs"], 3);
    assert_eq!(stats["experiments"][0]["makespan_s"]["n"], 3);
    assert_eq!(stats["speedups"][0]["ratio"]["n"], 3);
    assert!(stats["speedups"][0]["standard_error"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        stats["speedups"][0]["interval"].as_array().unwrap().len(),
        2
    );

    let output = common::poolscope_in(dir.path())
        .args(["--headless", "--runs", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--runs '0': expected a whole number of runs from 1 to 1000")
    );
}

/// Every quit key, mid-run and after the run: exit 0 (130 for Ctrl-C, as an interrupted
/// program exits and as headless does), the terminal restored, no worker process left
/// behind.
#[test]
fn every_quit_key_mid_run_and_after_exits_as_shells_expect_and_leaves_no_process() {
    let long = common::sleep_run("processes", "2", "60000,60000");
    let short = common::sleep_run("processes", "2", "10,20");
    for (key, name, code) in [("q", "q", 0), ("\x1b", "Esc", 0), ("\x03", "Ctrl-C", 130)] {
        for (args, mid_run) in [(&long, true), (&short, false)] {
            let dir = tempfile::tempdir().unwrap();
            let mut pty = common::pty::Pty::spawn(args, dir.path(), 100, 30);
            let workers = if mid_run {
                pty.wait_for("w1 pid", Duration::from_secs(60));
                common::wait_for_children(pty.pid(), 2)
            } else {
                pty.wait_for("✓ done", Duration::from_secs(60));
                Vec::new()
            };
            pty.press(key);
            let status = pty.wait_exit(Duration::from_secs(30));
            assert_eq!(
                status.exit_code(),
                code,
                "{name} (mid-run: {mid_run}): {status:?}"
            );
            pty.assert_restored();
            common::assert_all_gone(&workers);
        }
    }
}

#[test]
fn past_the_limit_the_oldest_runs_keep_only_their_summaries() {
    let plan = plan(2, 40);
    let mut app = App::new(plan.clone(), false);
    app.max_kept_records = 100;
    run(&mut app, &plan, 10, 1, None);
    for _ in 0..2 {
        app.update(Msg::RunRestarted);
        run(&mut app, &plan, 10, 1, None);
    }
    // 3 runs × 80 tasks: the first two are over the limit of 100 together with the last.
    let runs = app.runs();
    assert!(runs[0].compacted && runs[1].compacted && !runs[2].compacted);
    let first = &runs[0].timeline.experiments()[0];
    assert!(first.tasks_held() == 0 && first.events_dropped());
    assert_eq!(first.task_count(), 40, "the summary keeps the count");
    assert_eq!(first.ended(), 40);
    assert!(first.makespan().is_some());
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .contains("to keep memory bounded")
    );
    press(&mut app, KeyCode::Char('['));
    press(&mut app, KeyCode::Char('['));
    let text = screen(&app, 120, 40);
    assert!(text.contains("done 40/40"), "the summary stays:\n{text}");
}

#[test]
fn a_single_run_says_its_speed_up_is_too_few_to_tell() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::poolscope_in(dir.path())
        .args([
            "--headless",
            "--workload",
            "sleep",
            "--executor",
            "processes,threads",
            "--delays",
            "10,20",
            "--out",
            "out",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let post = text
        .lines()
        .position(|l| l.starts_with("Process vs Threads Sleep tasks speed-up = "))
        .unwrap_or_else(|| panic!("the post's line, unchanged:\n{text}"));
    assert!(
        text.lines().skip(post).any(|l| l.starts_with("(one run: ")),
        "{text}"
    );
}

/// `--runs 2` in the view: the second run starts by itself, both are kept, and the summary
/// gives the speed-up with its spread.
#[test]
fn runs_in_the_view_follow_one_another_and_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = common::sleep_run("processes,threads", "2", "10,20").to_vec();
    args.extend(["--runs", "2"]);
    let mut pty = common::pty::Pty::spawn(&args, dir.path(), 140, 40);
    // From the first run on, the header counts the runs to come.
    pty.wait_for("run 1/2", Duration::from_secs(60));
    let screen = pty.wait_for("run 2/2 started (--runs", Duration::from_secs(60));
    assert!(!screen.contains("restarted the plan"), "{screen}");
    let screen = pty.wait_for("Over 2 runs", Duration::from_secs(60));
    assert!(screen.contains("✓ done"), "{screen}");
    pty.press("[");
    pty.wait_for("run 1/2", Duration::from_secs(10));
    pty.press("q");
    assert!(pty.wait_exit(Duration::from_secs(20)).success());
    pty.assert_restored();
    let screen = pty.wait_for("Over 2 runs:", Duration::from_secs(5));
    assert!(screen.contains("process-sleep"), "{screen}");
}

/// `q` mid-run: what is left on the terminal says per experiment `done` or `cancelled` with
/// how many of its tasks ended, counts the experiments that never started, and gives the
/// speed-ups of the workloads that did finish.
#[test]
fn quitting_mid_run_leaves_an_honest_summary() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--workload",
        "sleep,fib",
        "--executor",
        "processes,threads",
        "--workers",
        "2",
        "--delays",
        "10,20",
        "--fib",
        "60,20",
    ];
    let mut pty = common::pty::Pty::spawn(&args, dir.path(), 120, 40);
    // fib(20) ends at once, fib(60) never: process-fibo is running with 1 of 2 done.
    pty.wait_for("▶ process-fibo", Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500));
    pty.press("q");
    assert_eq!(pty.wait_exit(Duration::from_secs(30)).exit_code(), 0);
    pty.assert_restored();
    let screen = pty.screen();
    let row = |name: &str| {
        screen
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row:\n{screen}"))
            .to_string()
    };
    assert!(row("process-sleep").contains(" done "), "{screen}");
    assert!(
        row("process-fibo").contains("cancelled, 1/2 done"),
        "{screen}"
    );
    assert!(
        screen.contains("(1 experiment of 4 did not start: the run was stopped first)"),
        "{screen}"
    );
    assert!(
        screen.contains("Process vs Threads Sleep tasks speed-up = "),
        "the finished workload's speed-up:\n{screen}"
    );
    assert!(!screen.contains("Fibonacci tasks speed-up"), "{screen}");
}
