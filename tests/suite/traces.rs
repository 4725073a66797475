//! Traces written by other tools, as their authors meant them: viztracer's, py-spy's and
//! Ray's own files (`tests/fixtures/traces/`, whose README gives the tools' versions and
//! commands). Every slice in them counted, nested calls in their right levels, bars
//! labelled by their names and never by a number the file does not hold, deep stacks
//! folded (`--depth`, `d` / `D`, the inspector's stack).

use crate::common;

use std::collections::HashSet;
use std::path::PathBuf;

use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use poolscope::chart::cells::{CellContent, lane_cells};
use poolscope::chart::fold::{Depth, Rows, row_cells, thread_of};
use poolscope::chart::labels::name_parts;
use poolscope::chart::span::{TimeGrid, TimeSpan};
use poolscope::formats::{self, Progress, Recording};
use poolscope::model::timeline::Experiment;
use poolscope::view::app::{App, Msg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const TRACES: [&str; 3] = ["viztracer.json", "pyspy.json", "ray-timeline.json"];

fn trace(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/traces")
        .join(name)
}

fn load(name: &str) -> Recording {
    formats::load(&[trace(name)], false, &Progress::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The trace's events, read with serde_json (not poolscope's reader).
fn events(name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(trace(name)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    match json {
        serde_json::Value::Array(events) => events,
        object => object["traceEvents"].as_array().unwrap().clone(),
    }
}

/// Every event name's head: what a bar may show of it.
fn heads(name: &str) -> HashSet<String> {
    events(name)
        .iter()
        .filter_map(|e| e["name"].as_str())
        .map(|n| name_parts(n).0.to_string())
        .collect()
}

/// Each lane of a nested thread holds only calls made inside a call of the lane above:
/// lane k of a thread is its call stack's level k.
fn assert_properly_nested(e: &Experiment) {
    for lane in 0..e.lanes.len() {
        let thread = thread_of(e, lane);
        if lane == thread.start {
            continue;
        }
        let above = e.lanes[lane - 1].spans();
        for span in e.lanes[lane].spans() {
            assert!(
                above
                    .iter()
                    .any(|p| p.start <= span.start && span.end <= p.end),
                "{}: lane {lane}'s task {} is in no call of the lane above",
                e.plan.name,
                span.task
            );
        }
    }
}

#[test]
fn every_slice_of_the_tools_traces_is_counted_at_its_level() {
    // (file, X events, B/E pairs), as the README beside the fixtures says.
    for (name, complete, pairs) in [
        ("viztracer.json", 1315, 0),
        ("pyspy.json", 0, 286),
        ("ray-timeline.json", 20, 0),
    ] {
        let events = events(name);
        let count = |ph: &str| events.iter().filter(|e| e["ph"] == ph).count();
        assert_eq!(
            (count("X"), count("B"), count("E")),
            (complete, pairs, pairs),
            "{name}"
        );
        let recording = load(name);
        assert!(recording.notes.is_empty(), "{name}: {:?}", recording.notes);
        let experiments = recording.timeline.experiments();
        let held: usize = experiments.iter().map(Experiment::tasks_held).sum();
        let ended: usize = experiments.iter().map(Experiment::ended).sum();
        assert_eq!(held, complete + pairs, "{name}: every slice a task");
        assert_eq!(ended, held, "{name}: every B ended by its E");
        for e in experiments {
            assert_properly_nested(e);
        }
    }
    // Each of viztracer's processes is a panel, named as the trace names it; its pool
    // threads' slices nest 14 deep.
    let viz = load("viztracer.json");
    let names: Vec<&str> = viz
        .timeline
        .experiments()
        .iter()
        .map(|e| e.plan.name.as_str())
        .collect();
    assert_eq!(names, ["MainProcess", "ForkProcess-1", "ForkProcess-2"]);
    assert_eq!(viz.timeline.experiments()[0].plan.lane_levels.deepest(), 14);
    // py-spy's forked workers share their parent's thread id; each keeps its own slices.
    let pyspy = load("pyspy.json");
    let tasks: Vec<usize> = pyspy
        .timeline
        .experiments()
        .iter()
        .map(Experiment::tasks_held)
        .collect();
    assert_eq!(tasks, [89, 75, 122]);
}

/// The texts written over bars in a `--print` chart of `recording` at `depth`: what lies
/// between bar glyphs in the bar columns of each row.
fn bar_texts(recording: &Recording, width: u16, depth: Depth) -> Vec<String> {
    let chart = formats::text::chart(&recording.timeline, width, false, depth);
    let lines: Vec<&str> = chart.lines().collect();
    let mut texts = Vec::new();
    let mut at = 0;
    for e in recording.timeline.experiments() {
        // A title, the axis (whose first tick marks where bars begin), a line per row.
        let axis = lines[at + 1];
        let bars_from = axis.chars().position(|c| c == '╵').unwrap();
        let rows = Rows::of(e, depth).len();
        for line in &lines[at + 2..at + 2 + rows] {
            let bars: String = line.chars().skip(bars_from).collect();
            texts.extend(
                bars.split(['█', '▓', '▒', '╳', '▚', '╌', '┅', '░', '·'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            );
        }
        at += 2 + rows;
    }
    texts
}

#[test]
fn bars_show_their_names_head_cut_never_a_number() {
    for name in TRACES {
        let recording = load(name);
        let heads = heads(name);
        for width in [60, 120, 200] {
            for depth in [Depth::DEFAULT, Depth::levels(2), Depth::ALL] {
                let texts = bar_texts(&recording, width, depth);
                assert!(!texts.is_empty(), "{name} at {width}: no labels at all");
                for text in texts {
                    assert!(
                        !text.chars().all(|c| c.is_ascii_digit()),
                        "{name} at {width}, depth {depth}: a bar reads '{text}'"
                    );
                    match text.strip_suffix('…') {
                        Some(cut) => assert!(
                            !cut.is_empty() && heads.iter().any(|h| h.starts_with(cut)),
                            "{name} at {width}: '{text}' cuts no name"
                        ),
                        None => assert!(
                            heads.contains(&text),
                            "{name} at {width}: '{text}' is no name's head"
                        ),
                    }
                }
            }
        }
    }
    // The examples: functions, not files and lines, not indices.
    let viz = bar_texts(&load("viztracer.json"), 200, Depth::ALL);
    for function in ["Thread.run", "_worker", "_WorkItem.run", "timed", "fib"] {
        assert!(viz.iter().any(|t| t == function), "{function}: {viz:?}");
    }
    assert!(!viz.iter().any(|t| t.contains("threading.py")), "{viz:?}");
    let pyspy = bar_texts(&load("pyspy.json"), 120, Depth::DEFAULT);
    for function in ["process 13809", "Thread._bootstrap", "fib"] {
        assert!(pyspy.iter().any(|t| t == function), "{function}: {pyspy:?}");
    }
}

#[test]
fn deep_stacks_fold_into_four_lanes_a_thread() {
    let recording = load("pyspy.json");
    let timeline = &recording.timeline;
    let now = timeline.latest().unwrap();
    for e in timeline.experiments() {
        let rows = Rows::of(e, Depth::DEFAULT);
        let all = Rows::of(e, Depth::ALL);
        assert_eq!(
            (all.len(), all.folded),
            (e.lanes.len(), 0),
            "{}",
            e.plan.name
        );
        assert_eq!(rows.len() + rows.folded, e.lanes.len());
        assert!(rows.folded > 0, "{}: nothing folded", e.plan.name);
        let rows: Vec<_> = (0..rows.len()).filter_map(|i| rows.get(i)).collect();
        for row in &rows {
            let of_thread = rows.iter().filter(|r| r.thread == row.thread).count();
            assert!(of_thread <= 4, "{}: {of_thread} rows", e.plan.name);
        }
        // Each folded cell shows the deepest slice covering at least half of it, else
        // what the shallowest level has there: checked against every slice.
        let span = TimeSpan::from_start(e, now.since(e.started_at));
        let columns = 150;
        let grid = TimeGrid::new(span, columns);
        for row in rows.iter().filter(|r| r.is_folded()) {
            let cells = row_cells(e, row, span, now, columns);
            let lanes: Vec<Vec<CellContent>> = row
                .lanes
                .clone()
                .map(|l| lane_cells(e, &e.lanes[l], span, now, columns))
                .collect();
            for column in 0..columns {
                let (t0, t1) = (grid.time_at(column), grid.time_at(column + 1));
                let covering = row.lanes.clone().rev().find_map(|l| {
                    e.lanes[l].spans().iter().find(|s| {
                        let end = s.ended().unwrap_or(now.as_micros()).max(s.start + 1);
                        2 * end.min(t1).saturating_sub(s.start.max(t0)) >= (t1 - t0).max(1)
                    })
                });
                let expected = match covering {
                    Some(s) => CellContent::Task(s.task as usize),
                    None => lanes
                        .iter()
                        .map(|cells| cells[column as usize])
                        .find(|c| *c != CellContent::Empty)
                        .unwrap_or(CellContent::Empty),
                };
                assert_eq!(
                    cells[column as usize], expected,
                    "{} column {column}",
                    e.plan.name
                );
            }
        }
    }
    // The parent's three threads: 65 lanes become 12 rows, 4 each.
    let parent = &timeline.experiments()[0];
    let rows = Rows::of(parent, Depth::DEFAULT);
    assert_eq!((rows.len(), rows.folded), (12, 53));
}

fn view(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![
        "view".to_string(),
        trace("pyspy.json").display().to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    poolscope_in(dir.path()).args(&all).output().unwrap()
}

#[test]
fn depth_sets_how_many_lanes_a_thread_shows_in_print_and_svg() {
    let title_of_parent = |args: &[&str]| {
        let output = view(args);
        assert!(output.status.success(), "{args:?}: {output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        text.lines()
            .find(|l| l.starts_with("pid 13809 · "))
            .unwrap()
            .to_string()
    };
    let default = title_of_parent(&["--print", "--width", "120"]);
    assert!(default.contains("12 lanes (53 more folded)"), "{default}");
    let two = title_of_parent(&["--print", "--width", "120", "--depth", "2"]);
    assert!(two.contains("6 lanes (59 more folded)"), "{two}");
    let all = title_of_parent(&["--print", "--width", "120", "--depth", "all"]);
    assert!(all.contains("65 lanes ·"), "{all}");
    // The chart explains a folded row by an example of its own.
    let output = view(&["--print", "--width", "100"]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("tid 140692337280704 (4–29)"), "{text}");
    assert!(text.contains("folded into one row"), "{text}");
    // The chart keeps to the width (the results after it are as wide as headless's).
    let chart = text.split("\n\n").next().unwrap();
    assert!(chart.lines().all(|l| l.chars().count() <= 100), "{text}");
    // A thread of nested calls is one worker, not one per level.
    let parent = text.lines().rfind(|l| l.starts_with("pid 13809 ")).unwrap();
    assert_eq!(parent.split_whitespace().nth(2), Some("3"), "{parent}");

    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("pyspy.svg");
    let output = view(&["--svg", svg.to_str().unwrap(), "--depth", "3"]);
    assert!(output.status.success(), "{output:?}");
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.contains("9 lanes (56 more folded)"), "{picture}");

    for (args, expected) in [
        (
            &["--depth", "0"][..],
            "--depth '0': expected how many lanes",
        ),
        (
            &["--depth", "deep"][..],
            "--depth 'deep': expected how many lanes",
        ),
        (
            &["--depth", "3", "--trace", "t.json"][..],
            "--depth '3': sets how deep the charts show nested calls",
        ),
    ] {
        let output = view(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
            line + "\n"
        })
        .collect()
}

fn press(app: &mut App, c: char) {
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )));
}

fn viewing(name: &str) -> App {
    let mut app = App::viewing(vec![trace(name).display().to_string()], false);
    app.update(Msg::Loaded(Box::new(load(name))));
    app
}

#[test]
fn the_view_folds_with_d_and_shift_d_and_says_how_much() {
    let mut app = viewing("pyspy.json");
    let at_4 = screen(&app, 120, 40);
    assert!(
        at_4.contains("53 nested lanes folded · d/D depth 4"),
        "{at_4}"
    );
    assert!(at_4.contains("tid 140692337280704 (4–29)"), "{at_4}");
    assert!(
        at_4.contains("3 threads"),
        "a thread per panel line, not a worker per level: {at_4}"
    );
    assert!(at_4.contains("d/D depth"), "the footer: {at_4}");
    press(&mut app, 'D');
    let at_5 = screen(&app, 120, 40);
    assert!(
        at_5.contains("50 nested lanes folded · d/D depth 5"),
        "{at_5}"
    );
    assert!(at_5.contains("depth 5: a thread shows 5 lanes"), "{at_5}");
    for _ in 0..3 {
        press(&mut app, 'd');
    }
    let at_2 = screen(&app, 120, 40);
    assert!(
        at_2.contains("59 nested lanes folded · d/D depth 2"),
        "{at_2}"
    );
    for _ in 0..40 {
        press(&mut app, 'D');
    }
    let all = screen(&app, 120, 40);
    assert!(!all.contains("nested lanes folded"), "{all}");
    assert!(all.contains("depth all"), "{all}");
    // The key is in the help, and at 80×24 the view still says what is folded.
    press(&mut app, '?');
    assert!(screen(&app, 120, 40).contains("fewer / more lanes of nested calls"));
    press(&mut app, '?');
    let small = screen(&viewing("pyspy.json"), 80, 24);
    assert!(small.contains("53 nested lanes folded"), "{small}");

    // A file with nothing nested has nothing to fold, and says so.
    let mut flat = App::viewing(vec![], false);
    let post = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/thread-fibo.csv");
    flat.update(Msg::Loaded(Box::new(
        formats::load(&[post], false, &Progress::default()).unwrap(),
    )));
    press(&mut flat, 'd');
    assert!(screen(&flat, 120, 40).contains("nothing to fold"));
}

#[test]
fn the_inspector_lists_the_stack_on_a_folded_row_and_the_place_of_a_call() {
    let mut app = viewing("pyspy.json");
    let e = &app.shown_timeline().experiments()[0];
    // A call deep in a folded row: a fib at level 12 of the first pool thread.
    let rows = Rows::of(e, Depth::DEFAULT);
    let folded = rows.get(3).unwrap();
    assert!(folded.is_folded());
    let lane = folded.lanes.start + 8;
    let task = e.lanes[lane].spans()[0].task as usize;
    app.update(Msg::Select {
        experiment: 0,
        task: Some(task),
    });
    let text = screen(&app, 120, 40);
    assert!(text.contains("stack    at "), "{text}");
    assert!(text.contains("this row folds 4–28"), "{text}");
    for level in [
        "   1 process 13809",
        "   2 Thread._bootstrap",
        "   3 Thread._bootstrap_inner",
    ] {
        assert!(text.contains(level), "{level}: {text}");
    }
    assert!(
        text.contains("▸  12 fib"),
        "the task's own level marked: {text}"
    );
    assert!(text.contains("level 12 of 28"), "{text}");

    // viztracer's names: the function on top, its file and line on a line of their own.
    let mut app = viewing("viztracer.json");
    let e = &app.shown_timeline().experiments()[0];
    let task = (0..e.tasks_held())
        .find(|&i| {
            e.plan
                .task_name(i)
                .is_some_and(|n| n.starts_with("Thread.run ("))
        })
        .unwrap();
    app.update(Msg::Select {
        experiment: 0,
        task: Some(task),
    });
    let text = screen(&app, 120, 40);
    assert!(
        text.contains(&format!("task {task} · Thread.run · MainProcess")),
        "{text}"
    );
    assert!(
        text.contains("where    /root/.pyenv/versions/3.11.7/lib/python3.11/threading.py:971"),
        "{text}"
    );
}
