//! Text from outside poolscope is shown, never obeyed: names, fields and file names that
//! carry terminal escape sequences or Unicode bidi controls reach the screen, `--print`,
//! stderr, the SVG and the trace's display names as visible text, and the files poolscope
//! writes keep the data as it was.

use crate::common;

use std::time::Duration;

use common::*;
use poolscope::chart::paint;
use poolscope::formats;
use poolscope::model::clock::Timestamp;
use poolscope::model::display::{self, is_unsafe};
use poolscope::model::event::{Event, RunOutcome, TaskEvent, TaskEventKind, WorkerId};
use poolscope::model::plan::{
    ExecutorKind, ExperimentPlan, LaneNames, Plan, TaskLabels, WorkloadKind,
};
use poolscope::model::timeline::Timeline;
use poolscope::view::app::{App, Msg};
use proptest::prelude::*;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

/// Sets the window title (OSC 0), the ESC that starts it and the BEL that ends it.
const TITLE: &str = "\x1b]0;PWNED\x07";
/// Clears the screen (CSI 2 J).
const CLEAR: &str = "clear\x1b[2Jme";
/// Writes the clipboard (OSC 52).
const CLIPBOARD: &str = "\x1b]52;c;cHduZWQ=\x07";
/// Reverses the text after it ("Trojan Source").
const BIDI: &str = "abc\u{202e}fed\u{2066}";
/// A C1 CSI (one character that starts a control sequence on some terminals).
const C1: &str = "c1\u{9b}31m";

/// A Chrome trace whose process, thread and event names carry all of the above.
fn hostile_trace() -> String {
    let mut events = vec![
        serde_json::json!({"ph": "M", "name": "process_name", "pid": 1, "args": {"name": format!("proc {TITLE}")}}),
        serde_json::json!({"ph": "M", "name": "thread_name", "pid": 1, "tid": 7, "args": {"name": format!("thr {CLEAR}")}}),
        serde_json::json!({"ph": "M", "name": "thread_name", "pid": 1, "tid": 8, "args": {"name": format!("名前 {BIDI}")}}),
    ];
    for (i, name) in [
        CLIPBOARD,
        BIDI,
        C1,
        "宽字符宽字符宽字符",
        "e\u{301}e\u{301}e\u{301}",
    ]
    .iter()
    .enumerate()
    {
        let tid = 7 + (i % 2);
        events.push(serde_json::json!({
            "ph": "X", "name": format!("task {name}"), "pid": 1, "tid": tid,
            "ts": 1000 * i as u64, "dur": 900, "args": {"result": TITLE},
        }));
    }
    serde_json::json!({ "traceEvents": events }).to_string()
}

/// No byte sequence of `hostile` that a terminal would obey is in `output`.
fn assert_not_obeyed(output: &[u8], context: &str) {
    let text = String::from_utf8_lossy(output);
    for needle in [
        "\x1b]0;PWNED",
        "\x1b]52;",
        "clear\x1b[2J",
        "\u{202e}",
        "\u{2066}",
        "\u{9b}",
    ] {
        assert!(
            !text.contains(needle),
            "{context}: {needle:?} reached the terminal as it was"
        );
    }
}

/// No control or bidi character in `text`, but the line feeds between its lines.
fn assert_all_safe(text: &str, context: &str) {
    if let Some(c) = text.chars().find(|&c| c != '\n' && is_unsafe(c)) {
        panic!("{context}: {c:?} is in the output:\n{text}");
    }
}

#[test]
fn the_view_shows_hostile_names_and_is_not_driven_by_them() {
    let dir = tempfile::tempdir().unwrap();
    // The file's own name carries a title sequence too.
    let file = format!("trace{TITLE}.json");
    std::fs::write(dir.path().join(&file), hostile_trace()).unwrap();
    let mut pty = pty::Pty::spawn(&["view", &file], dir.path(), 120, 40);
    let screen = pty.wait_for("proc ␛]0;PWNED␇", Duration::from_secs(20));
    assert!(screen.contains("viewing trace␛]0;PWNED␇.json"), "{screen}");
    // The frame is whole: header on the first line, footer on the last, and the panel's
    // box closed on both sides of every row it takes.
    let lines: Vec<&str> = screen.lines().collect();
    assert!(lines[0].starts_with("poolscope "), "{screen}");
    assert!(
        screen.lines().any(|l| l.contains("q quit")),
        "the footer is there: {screen}"
    );
    assert_not_obeyed(&pty.raw_output(), "the view");
    pty.press("q");
    let status = pty.wait_exit(Duration::from_secs(20));
    assert_eq!(status.exit_code(), 0);
    pty.assert_restored();
    // What is left on the terminal after the view (the summary, notes) is safe too.
    assert_not_obeyed(&pty.raw_output(), "the view and what it left behind");
    assert!(pty.screen().contains("proc ␛]0;PWNED␇"), "{}", pty.screen());
}

#[test]
fn print_shows_hostile_names_safe_and_keeps_to_the_width() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.json"), hostile_trace()).unwrap();
    for width in ["40", "100"] {
        let output = poolscope_in(dir.path())
            .args(["view", "t.json", "--print", "--width", width])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_all_safe(&stdout, "--print");
        assert!(stdout.contains("␛]0;PWNED␇"), "{stdout}");
        let width: usize = width.parse().unwrap();
        // The chart keeps to the width; the results after it (the speed-ups and the summary
        // table, as headless prints them) are as wide as headless's.
        let chart = stdout
            .lines()
            .take_while(|l| !l.starts_with("Process vs ") && !l.starts_with("experiment "));
        for line in chart {
            assert!(
                display::width(line) <= width,
                "{line:?} is wider than {width}"
            );
        }
        assert_all_safe(&String::from_utf8_lossy(&output.stderr), "stderr");
    }
}

#[test]
fn an_error_quoting_a_hostile_field_or_file_name_is_printed_safe() {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("bad{CLEAR}.csv");
    std::fs::write(
        dir.path().join(&file),
        format!("tag,start_time,end_time,elapsed,result\nx,1,{TITLE},1,ok\n"),
    )
    .unwrap();
    let output = poolscope_in(dir.path())
        .args(["view", &file, "--print"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_all_safe(&stderr, "the error");
    assert!(
        stderr.contains("bad clear␛[2Jme.csv:2: column end_time")
            || stderr.contains("clear␛[2Jme.csv:2"),
        "{stderr}"
    );
    assert!(stderr.contains("␛]0;PWNED␇"), "{stderr}");
}

#[test]
fn files_keep_the_data_and_names_never_choose_where_files_go() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut plan = ExperimentPlan::new(ExecutorKind::Recorded, WorkloadKind::Recorded, vec![0], 1);
    plan.name = format!("../../escape{TITLE}");
    plan.task_labels = TaskLabels::Each(vec![format!("label {BIDI}")]);
    let mut other = plan.clone();
    other.name = "/tmp/absolute".into();
    let timeline = run_of(&[plan, other], "result \x1b[31mred");
    let written = formats::export::write_run(&out, &timeline).unwrap();
    for path in &written {
        assert_eq!(
            path.parent(),
            Some(out.as_path()),
            "{path:?} is outside {out:?}"
        );
    }
    assert!(!dir.path().join("escape").exists());
    // The CSV carries the original bytes, quoted as CSV quotes them.
    let csv = written
        .iter()
        .find(|p| p.to_string_lossy().contains("escape"))
        .unwrap();
    let (_, rows) = read_csv(csv);
    assert_eq!(rows[0]["experiment"], format!("../../escape{TITLE}"));
    assert_eq!(rows[0]["label"], format!("label {BIDI}"));
    assert_eq!(rows[0]["result"], "result \x1b[31mred");
    // The summary names the file each experiment went to.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    for e in summary["experiments"].as_array().unwrap() {
        let file = e["file"].as_str().unwrap();
        assert!(out.join(file).is_file(), "{file}");
        assert!(!file.contains('/') && !file.starts_with('.'), "{file}");
    }
    // The trace's display names are safe; its args and the plan it carries are as they were.
    let trace = String::from_utf8(formats::chrome_trace::export(&timeline)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&trace).unwrap();
    for event in json["traceEvents"].as_array().unwrap() {
        assert_all_safe(event["name"].as_str().unwrap_or(""), "a trace event's name");
        if event["ph"] == "M" {
            assert_all_safe(&event["args"]["name"].to_string(), "a display name");
        }
    }
    assert!(
        trace.contains("result \\u001b[31mred"),
        "the result as it was"
    );
    // The SVG holds no control character (XML forbids them) and shows the names.
    let svg = String::from_utf8(formats::svg::export(
        &timeline,
        poolscope::chart::fold::Depth::DEFAULT,
    ))
    .unwrap();
    assert_all_safe(&svg, "the SVG");
    assert!(svg.contains("escape␛]0;PWNED␇"), "{svg}");
}

/// A finished run of `plans`, one task each on one worker, with `result`.
fn run_of(plans: &[ExperimentPlan], result: &str) -> Timeline {
    let mut events = vec![Event::RunStarted {
        at: Timestamp(1_000_000),
        cores: 2,
        experiments: plans.len(),
    }];
    for (i, plan) in plans.iter().enumerate() {
        let at = 1_000_000 + i as u64 * 10_000;
        let worker = WorkerId {
            index: 0,
            pid: 10,
            tid: 11,
        };
        events.push(Event::ExperimentStarted {
            experiment: i,
            plan: plan.clone(),
            at: Timestamp(at),
        });
        for (task, kind) in [
            (0, TaskEventKind::Started),
            (
                0,
                TaskEventKind::Finished {
                    result: result.into(),
                    cpu_time: None,
                },
            ),
        ] {
            let offset = if matches!(kind, TaskEventKind::Started) {
                0
            } else {
                5_000
            };
            events.push(Event::Task(TaskEvent {
                experiment: i,
                task,
                input: 0,
                worker,
                at: Timestamp(at + offset),
                kind,
            }));
        }
        events.push(Event::ExperimentFinished {
            experiment: i,
            at: Timestamp(at + 6_000),
        });
    }
    events.push(Event::RunFinished {
        at: Timestamp(1_000_000 + plans.len() as u64 * 10_000),
        outcome: RunOutcome::Completed,
    });
    Timeline::from_events(&events)
}

/// A recording of one experiment named `name`, its lanes `lanes`, its tasks `labels`.
fn recording(name: &str, lanes: &[String], labels: &[String]) -> formats::Recording {
    let mut plan = ExperimentPlan::new(
        ExecutorKind::Recorded,
        WorkloadKind::Recorded,
        vec![0; labels.len()],
        lanes.len().max(1),
    );
    plan.name = name.to_string();
    plan.lane_names = LaneNames::from_pairs(lanes.iter().cloned().enumerate());
    plan.task_labels = TaskLabels::Each(labels.to_vec());
    let mut events = vec![
        Event::RunStarted {
            at: Timestamp(0),
            cores: 2,
            experiments: 1,
        },
        Event::ExperimentStarted {
            experiment: 0,
            plan: plan.clone(),
            at: Timestamp(0),
        },
    ];
    for (task, _) in labels.iter().enumerate() {
        let worker = WorkerId {
            index: task % lanes.len().max(1),
            pid: 0,
            tid: 0,
        };
        let at = (task as u64 / lanes.len().max(1) as u64) * 20_000;
        for (kind, offset) in [
            (TaskEventKind::Started, 0),
            (
                TaskEventKind::Finished {
                    result: labels[task].clone(),
                    cpu_time: None,
                },
                18_000,
            ),
        ] {
            events.push(Event::Task(TaskEvent {
                experiment: 0,
                task,
                input: 0,
                worker,
                at: Timestamp(at + offset),
                kind,
            }));
        }
    }
    let end = Timestamp(labels.len().div_ceil(lanes.len().max(1)) as u64 * 20_000);
    events.push(Event::ExperimentFinished {
        experiment: 0,
        at: end,
    });
    events.push(Event::RunFinished {
        at: end,
        outcome: RunOutcome::Completed,
    });
    formats::Recording {
        plan: Plan {
            experiments: vec![plan],
            ..Plan::default()
        },
        timeline: Timeline::from_events(&events),
        notes: vec![format!(
            "a note quoting {}",
            labels.first().map_or("", String::as_str)
        )],
    }
}

/// The row `y` of `buf` as a terminal shows it: a wide character's second column is its own.
/// Panics if something was drawn in a column a wide character covers (a terminal would
/// hide it: a cut label, a lost border).
fn shown_row(buf: &Buffer, y: u16) -> String {
    let mut row = String::new();
    let mut covered = 0;
    for x in 0..buf.area.width {
        if covered > 0 {
            covered -= 1;
            let hidden = buf[(x, y)].symbol();
            assert!(
                hidden == " " || hidden.is_empty(),
                "{hidden:?} at column {x} of row {y} is hidden under a wide character"
            );
            continue;
        }
        let symbol = buf[(x, y)].symbol();
        covered = display::width(symbol).saturating_sub(1);
        row.push_str(symbol);
    }
    row
}

/// Any text, with a good share of the characters that matter here.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(String::from),
        Just("\x1b]0;T\x07".to_string()),
        Just("\x1b[2J".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{2067}".to_string()),
        Just("\u{9b}".to_string()),
        Just("\x7f\r\n\t".to_string()),
        Just("名前".to_string()),
        Just("👩‍👩‍👧".to_string()),
        Just("e\u{301}".to_string()),
        "[a-z0-9 ]{1,6}",
    ];
    prop::collection::vec(pieces, 0..6).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_names_render_safe_and_in_their_columns(
        name in hostile_text(),
        lanes in prop::collection::vec(hostile_text(), 1..4),
        labels in prop::collection::vec(hostile_text(), 1..6),
    ) {
        let recording = recording(&name, &lanes, &labels);
        for (width, height) in [(120u16, 40u16), (80, 24), (40, 12)] {
            let mut app = App::viewing(vec![format!("{name}.json")], false);
            app.update(Msg::Loaded(Box::new(recording.clone())));

            for inspect in [false, true] {
                if inspect {
                    app.update(Msg::Select { experiment: 0, task: Some(0) });
                }
                let area = Rect::new(0, 0, width, height);
                let mut buf = Buffer::empty(area);
                (&app).render(area, &mut buf);
                for y in 0..height {
                    let row = shown_row(&buf, y);
                    prop_assert!(!row.chars().any(is_unsafe), "row {y}: {row:?}");
                    prop_assert_eq!(display::width(&row), width as usize, "row {}: {:?}", y, row);
                }
            }
        }
        for width in [20u16, 45, 120] {
            let text = formats::text::chart(&recording.timeline, width, false, poolscope::chart::fold::Depth::DEFAULT);
            for line in text.lines() {
                prop_assert!(!line.chars().any(is_unsafe), "{line:?}");
                prop_assert!(display::width(line) <= width as usize, "{line:?} wider than {width}");
            }
        }
    }
}

#[test]
fn wide_and_combining_labels_keep_their_columns() {
    let labels = vec!["名前".to_string(), "e\u{301}t\u{301}e\u{301}".to_string()];
    let recording = recording("宽字符", &["线程".to_string()], &labels);
    let mut app = App::viewing(vec!["w.json".into()], false);
    app.update(Msg::Loaded(Box::new(recording.clone())));
    let area = Rect::new(0, 0, 100, 30);
    let mut buf = Buffer::empty(area);
    (&app).render(area, &mut buf);
    let rows: Vec<String> = (0..area.height).map(|y| shown_row(&buf, y)).collect();
    let screen = rows.join("\n");
    for row in &rows {
        assert_eq!(display::width(row), 100, "{row:?}");
    }
    for label in &labels {
        assert!(
            screen.contains(label.as_str()),
            "{label:?} whole on a bar:\n{screen}"
        );
    }
    assert!(screen.contains("宽字符"), "{screen}");
    let text = formats::text::chart(
        &recording.timeline,
        60,
        false,
        poolscope::chart::fold::Depth::DEFAULT,
    );
    for label in &labels {
        assert!(
            text.contains(label.as_str()),
            "{label:?} in --print:\n{text}"
        );
    }
    for line in text.lines() {
        assert!(display::width(line) <= 60, "{line:?}");
    }
}

#[test]
fn the_sweep_leaves_no_control_in_a_painted_buffer() {
    let area = Rect::new(0, 0, 4, 1);
    let mut buf = Buffer::empty(area);
    buf[(0, 0)].set_symbol("\x1b");
    buf[(1, 0)].set_symbol("\u{202e}");
    buf[(2, 0)].set_symbol("a");
    paint::sweep(&mut buf, area);
    assert_eq!(shown_row(&buf, 0), "␛�a ");
    // A wide character over a border, and one at the edge: cut, the border kept.
    let area = Rect::new(0, 0, 5, 1);
    let mut buf = Buffer::empty(area);
    buf[(0, 0)].set_symbol("名");
    buf[(1, 0)].set_symbol("│");
    buf[(2, 0)].set_symbol("前");
    buf[(4, 0)].set_symbol("宽");
    paint::sweep(&mut buf, area);
    assert_eq!(shown_row(&buf, 0), "…│前…");
}
