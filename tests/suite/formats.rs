//! Replay and interchange: `poolscope view` over the post's CSVs, poolscope's own CSVs and
//! Chrome traces; round trips run → CSV → view and run → trace → view; every bad input
//! named with its file and line (exit 2) or skipped with `--lenient`; importers that never
//! panic; `--print`, `--trace` and `--svg`.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use poolscope::formats::{self, Progress};
use poolscope::model::event::Event;
use poolscope::model::plan::{ExecutorKind, ExperimentPlan, HttpSettings, Plan, WorkloadKind};
use poolscope::model::timeline::{Experiment, TaskState, Timeline};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

const POST_FILES: [&str; 4] = [
    "process-fibo.csv",
    "thread-fibo.csv",
    "process-get.csv",
    "thread-get.csv",
];

fn load(files: &[PathBuf]) -> formats::Recording {
    formats::load(files, false, &Progress::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Every lane's tasks follow one another: none overlaps the next.
fn assert_lanes_never_overlap(e: &Experiment) {
    for lane in &e.lanes {
        for pair in lane.spans().windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "{}: lane {} overlaps",
                e.plan.name,
                lane.worker
            );
        }
    }
}

/// The most rows of `csv` running at one moment (the fewest lanes that can hold them).
fn most_at_once(csv: &Path) -> usize {
    let (_, rows) = read_csv(csv);
    let times: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| {
            (
                r["start_time"].parse().unwrap(),
                r["end_time"].parse().unwrap(),
            )
        })
        .collect();
    times
        .iter()
        .map(|&(s, _)| times.iter().filter(|&&(a, b)| a <= s && s < b).count())
        .max()
        .unwrap()
}

#[test]
fn the_posts_csvs_open_with_lanes_packed_and_the_posts_speedups() {
    let files: Vec<PathBuf> = POST_FILES.iter().map(|f| fixture(f)).collect();
    let recording = load(&files);
    let timeline = &recording.timeline;
    let names: Vec<&str> = timeline
        .experiments()
        .iter()
        .map(|e| e.plan.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["process-fibo", "thread-fibo", "process-get", "thread-get"]
    );
    for (e, file) in timeline.experiments().iter().zip(&files) {
        assert_eq!(e.tasks_held(), 8);
        assert_eq!(e.ended(), 8);
        assert_eq!(
            e.lanes.len(),
            most_at_once(file),
            "{}: fewest lanes",
            e.plan.name
        );
        assert_lanes_never_overlap(e);
        // Rows ordered by start, as the post's chart.
        let starts: Vec<_> = e
            .by_start
            .iter()
            .map(|&i| e.task(i as usize).unwrap().started_at.unwrap())
            .collect();
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
        assert!(!e.cpu_measured(), "the post's CSVs hold no CPU times");
        assert_eq!(
            e.plan.task_label(3, e.task(3).unwrap().input),
            format!("{}-3", e.plan.name)
        );
    }
    let get = &timeline.experiments()[2];
    assert_eq!(
        (get.plan.executor, get.plan.workload),
        (ExecutorKind::Processes, WorkloadKind::Http)
    );
    assert!(
        matches!(get.task(0).unwrap().state, TaskState::Succeeded { result, .. } if result == "b'200 OK'")
    );
    let lines = poolscope::headless::speedup_lines(timeline);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Process vs Threads Fibonacci tasks speed-up = ")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Process vs Threads HTTP Get tasks speed-up = ")),
        "{lines:?}"
    );
}

/// A small run of every kind of pool that finishes quickly.
fn small_run() -> Timeline {
    let mut plan = Plan::from_parts(
        &[WorkloadKind::Fib, WorkloadKind::Sleep],
        &[
            ExecutorKind::Processes,
            ExecutorKind::Threads,
            ExecutorKind::Gil,
        ],
        &[18, 20, 22, 24],
        &[20, 40, 60],
        Some(2),
        HttpSettings::default(),
    );
    plan.sched.sample_interval = Duration::from_millis(5);
    let events = collect_events(&plan, |_| {});
    Timeline::from_events(&events)
}

/// What a user compares between two timelines: every task's input, times, lane, status
/// and result, per experiment by name.
fn assert_same_tasks(original: &Timeline, replayed: &Timeline, what: &str) {
    assert_eq!(
        original.experiments().len(),
        replayed.experiments().len(),
        "{what}"
    );
    for e in original.experiments() {
        let r = replayed
            .experiments()
            .iter()
            .find(|r| r.plan.name == e.plan.name)
            .unwrap_or_else(|| panic!("{what}: {} missing", e.plan.name));
        assert_eq!(r.plan.executor, e.plan.executor, "{what}");
        assert_eq!(r.plan.workload, e.plan.workload, "{what}");
        assert_eq!(r.tasks_held(), e.tasks_held(), "{what}: {}", e.plan.name);
        for (i, (a, b)) in e.tasks().zip(r.tasks()).enumerate() {
            let context = format!("{what}: {} task {i}", e.plan.name);
            assert_eq!(a.input, b.input, "{context}");
            assert_eq!(a.started_at, b.started_at, "{context}");
            assert_eq!(a.ended_at, b.ended_at, "{context}");
            assert_eq!(
                a.worker.map(|w| (w.index, w.pid, w.tid)),
                b.worker.map(|w| (w.index, w.pid, w.tid)),
                "{context}"
            );
            assert_eq!(original.status_of(&a), replayed.status_of(&b), "{context}");
            // CSVs hold CPU times to the microsecond.
            let micros = |t: &poolscope::model::timeline::Task| {
                t.cpu_time().map(|c| (c.as_nanos() + 500) / 1000)
            };
            assert_eq!(micros(&a), micros(&b), "{context}");
            match (a.state, b.state) {
                (
                    TaskState::Succeeded { result: x, .. },
                    TaskState::Succeeded { result: y, .. },
                ) => {
                    assert_eq!(x, y, "{context}")
                }
                (TaskState::Failed { error: x, .. }, TaskState::Failed { error: y, .. }) => {
                    assert_eq!(x, y, "{context}")
                }
                (x, y) => assert_eq!(x, y, "{context}"),
            }
        }
        assert_eq!(
            r.sched.samples, e.sched.samples,
            "{what}: {} samples",
            e.plan.name
        );
        assert_eq!(r.failed(), e.failed(), "{what}");
    }
    assert_eq!(
        poolscope::headless::speedup_lines(original).len(),
        poolscope::headless::speedup_lines(replayed).len(),
        "{what}: speed-ups"
    );
}

#[test]
fn a_run_round_trips_through_csv_and_through_a_trace() {
    let original = small_run();
    let dir = tempfile::tempdir().unwrap();

    poolscope::formats::export::write_run(dir.path(), &original).unwrap();
    let csvs: Vec<PathBuf> = original
        .experiments()
        .iter()
        .map(|e| dir.path().join(format!("{}.csv", e.plan.name)))
        .collect();
    let from_csv = load(&csvs);
    assert_same_tasks(&original, &from_csv.timeline, "run → CSV → view");
    assert_eq!(
        from_csv.timeline.cores(),
        original.cores(),
        "cores from summary.json"
    );

    let trace = dir.path().join("trace.json");
    std::fs::write(&trace, formats::chrome_trace::export(&original)).unwrap();
    let from_trace = load(std::slice::from_ref(&trace));
    assert_same_tasks(&original, &from_trace.timeline, "run → trace → view");
    // The GIL's hand-offs come back too.
    let gil = |t: &Timeline| -> usize {
        t.experiments()
            .iter()
            .flat_map(|e| e.lanes.iter().map(|l| l.gil_spans().len()))
            .sum()
    };
    assert!(gil(&original) > 0);
    assert_eq!(gil(&from_trace.timeline), gil(&original));
}

#[test]
fn the_exported_trace_is_what_perfetto_reads() {
    let original = small_run();
    let trace: serde_json::Value =
        serde_json::from_slice(&formats::chrome_trace::export(&original)).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let named = |what: &str| {
        events
            .iter()
            .filter(|e| e["ph"] == "M" && e["name"] == what)
            .count()
    };
    assert_eq!(named("process_name"), original.experiments().len());
    let lanes: usize = original.experiments().iter().map(|e| e.lanes.len()).sum();
    assert!(named("thread_name") >= lanes);
    let tasks: Vec<&serde_json::Value> = events.iter().filter(|e| e["cat"] == "task").collect();
    let total: usize = original.experiments().iter().map(|e| e.tasks_held()).sum();
    assert_eq!(tasks.len(), total);
    for task in tasks {
        assert_eq!(task["ph"], "X");
        assert!(task["ts"].is_u64() && task["dur"].is_u64(), "{task}");
        assert!(task["tid"].as_u64().unwrap() >= 1, "tids from 1");
        for key in ["input", "result", "cpu_time_s", "status"] {
            assert!(!task["args"][key].is_null(), "{key} in {task}");
        }
    }
    assert!(
        events.iter().any(|e| e["ph"] == "C"),
        "sampler states as counters"
    );
    assert!(
        events.iter().any(|e| e["cat"] == "gil"),
        "GIL hand-offs as slices"
    );
}

#[test]
fn ray_and_viztracer_traces_open_with_names_pairs_and_overlaps() {
    let ray = load(&[fixture("ray-timeline.json")]);
    let names: Vec<&str> = ray
        .timeline
        .experiments()
        .iter()
        .map(|e| e.plan.name.as_str())
        .collect();
    assert_eq!(names, ["Node 10.0.0.1", "Node 10.0.0.2"], "a panel per pid");
    let node1 = &ray.timeline.experiments()[0];
    assert_eq!(
        node1.plan.lane_names.in_order(),
        ["worker:1a2b", "worker:3c4d"]
    );
    assert_eq!(
        node1.plan.task_label(0, node1.task(0).unwrap().input),
        "fetch"
    );
    let node2 = &ray.timeline.experiments()[1];
    assert!(
        matches!(node2.task(0).unwrap().state, TaskState::Failed { error, .. } if error == "OOM: killed")
    );
    assert!(
        ray.notes
            .iter()
            .any(|n| n.contains("left out 1 event") && n.contains("\"i\"")),
        "{:?}",
        ray.notes
    );

    let viz = load(&[fixture("viztracer.json")]);
    let e = &viz.timeline.experiments()[0];
    assert_eq!(e.plan.name, "python3 crunch.py");
    // Nested calls on MainThread stack into lanes; the pool thread has its own.
    assert_eq!(
        e.plan.lane_names.in_order(),
        [
            "MainThread",
            "MainThread (2)",
            "MainThread (3)",
            "ThreadPoolExecutor-0_0"
        ]
    );
    assert_lanes_never_overlap(e);
    let fetch = e
        .tasks()
        .enumerate()
        .find(|(i, t)| {
            e.plan.task_label(*i, t.input) == "http_fetch (crunch.py:20)" && t.ended_at.is_some()
        })
        .unwrap()
        .1;
    assert!(matches!(fetch.state, TaskState::Succeeded { result, .. } if result == "b'200 OK'"));
    assert_eq!(
        fetch.ended_at.unwrap().since(fetch.started_at.unwrap()),
        Duration::from_micros(700)
    );
    assert_eq!(e.tasks_held(), 5);
    assert_eq!(e.ended(), 4, "the last B never ended");
}

#[test]
fn print_draws_a_title_per_experiment_and_a_line_per_lane() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["view".to_string()];
    args.extend(POST_FILES.iter().map(|f| fixture(f).display().to_string()));
    args.extend(["--print".into(), "--width".into(), "72".into()]);
    let output = poolscope_in(dir.path()).args(&args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is no terminal"
    );
    for name in ["process-fibo", "thread-fibo", "process-get", "thread-get"] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{name} · "))),
            "{name}:\n{text}"
        );
    }
    // The chart is as wide as asked; the results after it are headless's, line for line.
    let chart: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Process vs "))
        .collect();
    assert!(chart.iter().all(|l| l.chars().count() <= 72), "{text}");
    assert!(
        text.contains("Process vs Threads Fibonacci tasks speed-up = ")
            && text.contains("experiment         workers  tasks   makespan"),
        "the speed-ups and the summary table follow the chart:\n{text}"
    );
    let lanes = text.lines().filter(|l| l.starts_with("lane ")).count();
    assert!(lanes >= 4 * 7, "{text}");
    assert!(text.contains('█') || text.contains('▓'), "{text}");
}

#[test]
fn headless_prints_the_chart_and_writes_trace_and_picture() {
    let dir = tempfile::tempdir().unwrap();
    let output = poolscope_in(dir.path())
        .args([
            "--headless",
            "--workload",
            "sleep",
            "--executor",
            "threads",
            "--delays",
            "10,20",
            "--out",
            "run",
            "--print",
            "--width",
            "60",
            "--trace",
            "out/trace.json",
            "--svg",
            "out/gantt.svg",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("thread-sleep · ThreadPool · 2 lanes")),
        "{text}"
    );
    assert!(text.contains("w0 tid "), "{text}");
    let trace = dir.path().join("out/trace.json");
    let replayed = load(&[trace]);
    assert_eq!(replayed.timeline.experiments()[0].ended(), 2);
    let svg = std::fs::read_to_string(dir.path().join("out/gantt.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("thread-sleep"));
    assert!(svg.contains("<rect"));
}

#[test]
fn a_picture_costs_the_same_for_many_tasks_as_for_few() {
    // 20 000 tiny tasks over 2 lanes draw no more rectangles than the cells of 2 lanes.
    let plan = ExperimentPlan::new(
        ExecutorKind::Threads,
        WorkloadKind::Sleep,
        vec![0; 20_000],
        2,
    );
    let mut events = vec![Event::ExperimentStarted {
        experiment: 0,
        plan: plan.clone(),
        at: poolscope::model::clock::Timestamp(1_000_000),
    }];
    for i in 0..20_000u64 {
        let worker = poolscope::model::event::WorkerId {
            index: (i % 2) as usize,
            pid: 1,
            tid: 2 + (i % 2) as u32,
        };
        for (at, kind) in [
            (
                1_000_000 + i * 50,
                poolscope::model::event::TaskEventKind::Started,
            ),
            (
                1_000_000 + i * 50 + 40,
                poolscope::model::event::TaskEventKind::Finished {
                    result: "ok".into(),
                    cpu_time: None,
                },
            ),
        ] {
            events.push(Event::Task(poolscope::model::event::TaskEvent {
                experiment: 0,
                task: i as usize,
                input: 0,
                worker,
                at: poolscope::model::clock::Timestamp(at),
                kind,
            }));
        }
    }
    let timeline = Timeline::from_events(&events);
    let svg = String::from_utf8(formats::svg::export(
        &timeline,
        poolscope::chart::fold::Depth::DEFAULT,
    ))
    .unwrap();
    let rects = svg.matches("<rect").count();
    assert!(rects < 2 * 600, "{rects} rectangles");
}

/// Runs `poolscope view FILE --print` on `bytes` written to `name`; returns the exit code
/// and stderr.
fn view_bad(name: &str, bytes: &[u8], extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    let output = poolscope_in(dir.path())
        .args(["view", name, "--print"])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const POST_HEADER: &str = "tag,start_time,end_time,elapsed,result\n";

#[test]
fn every_bad_file_is_named_with_its_line_and_exits_2() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", vec![], "empty.csv: the file is empty: expected a poolscope CSV"),
        (
            "blank.csv",
            b"\n  \n".to_vec(),
            "blank.csv: the file is empty",
        ),
        (
            "header-only.csv",
            POST_HEADER.as_bytes().to_vec(),
            "header-only.csv: no rows under the header",
        ),
        (
            "kind.txt",
            b"hello world\n1,2\n".to_vec(),
            "kind.txt:1: unknown header 'hello world': expected a poolscope CSV",
        ),
        (
            "header.csv",
            b"tag,start,end,elapsed,result\nx-0,1,2,1,ok\n".to_vec(),
            "header.csv:1: unknown header 'tag,start,end,elapsed,result'",
        ),
        (
            "number.csv",
            format!("{POST_HEADER}x-0,1.5,2.5,1.0,ok\nx-1,1.5,soon,1.0,ok\n").into_bytes(),
            "number.csv:3: column end_time: 'soon' is not a number: expected seconds since the epoch",
        ),
        (
            "backwards.csv",
            format!("{POST_HEADER}x-0,5.0,4.0,-1.0,ok\n").into_bytes(),
            "backwards.csv:2: column end_time: the end (4.0) is before the start (5.0)",
        ),
        (
            "utf8.csv",
            [POST_HEADER.as_bytes(), b"x-0,1.0,2.0,1.0,b'\xff\xfe'\n"].concat(),
            "utf8.csv:2: column result: invalid UTF-8",
        ),
        (
            "fields.csv",
            format!("{POST_HEADER}x-0,1.0,2.0\n").into_bytes(),
            "fields.csv:2: 3 fields where the header has 5",
        ),
        (
            "own.csv",
            format!(
                "{}\nt-0,1.0,2.0,1.0,ok,t,threads,fib,30,0,1,2,0.1,maybe,,\n",
                poolscope::formats::export::CSV_HEADER
            )
            .into_bytes(),
            "own.csv:2: column status: unknown status 'maybe': expected one of ok, error",
        ),
        (
            "trace.json",
            b"{\"traceEvents\": [\n {\"ph\": \"X\", \"ts\": 1, \"dur\": 2},\n {\"ph\": \"X\", \"ts\": 5, \"dur\": -2}\n]}".to_vec(),
            "trace.json:3: column 2: \"dur\" is -2: the end is before the start",
        ),
        (
            "pairs.json",
            b"[\n{\"ph\": \"E\", \"pid\": 1, \"tid\": 7, \"ts\": 3}\n]".to_vec(),
            "pairs.json:2: column 1: an \"E\" (end) event with no \"B\" (begin) open on pid 1 tid 7",
        ),
        (
            "broken.json",
            b"{\"traceEvents\": [\n {\"ph\": \"X\",, }\n]}".to_vec(),
            "broken.json:2: column 13: not valid JSON",
        ),
        (
            "notrace.json",
            b"{\"events\": []}".to_vec(),
            "notrace.json:1: a JSON object without \"traceEvents\"",
        ),
        (
            "notasks.json",
            b"[{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": 1, \"args\": {\"name\": \"x\"}}]"
                .to_vec(),
            "notasks.json: no tasks in it",
        ),
    ];
    for (name, bytes, expected) in cases {
        let (code, stderr) = view_bad(name, &bytes, &[]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("poolscope: error: {expected}")),
            "{name}: expected '{expected}' in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    let dir = tempfile::tempdir().unwrap();
    let output = poolscope_in(dir.path())
        .args(["view", "missing.csv", "--print"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.csv: no such file"));
    let output = poolscope_in(dir.path())
        .args(["view", ".", "--print"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no recorded files in this folder"),
        "{output:?}"
    );
}

#[test]
fn an_unreadable_file_is_named() {
    // root reads anything: nothing to test there.
    if unsafe { libc::geteuid() } == 0 {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.csv");
    std::fs::write(&file, POST_HEADER).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let output = poolscope_in(dir.path())
        .args(["view", "secret.csv", "--print"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("secret.csv: permission denied"));
}

#[test]
fn lenient_skips_bad_rows_and_says_how_many_and_where() {
    let body = format!(
        "{POST_HEADER}x-0,1.0,2.0,1.0,ok\nx-1,1.0,nope,1.0,ok\nx-2,3.0,4.0,1.0,ok\nx-3,9.0,8.0,-1,ok\n"
    );
    let (code, stderr) = view_bad("some-bad.csv", body.as_bytes(), &["--lenient"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(
            "some-bad.csv: skipped 2 bad rows; the first: some-bad.csv:3: column end_time"
        ),
        "{stderr}"
    );
    let (code, _) = view_bad("some-bad.csv", body.as_bytes(), &[]);
    assert_eq!(code, 2);
}

#[test]
fn bad_output_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["--headless", "--width", "60"],
            "--width '60': sets the width of --print's chart: add --print",
        ),
        (
            vec!["--headless", "--print", "--width", "5"],
            "--width '5': expected a number of columns from 20 to 1000",
        ),
        (
            vec!["--headless", "--trace", "."],
            "--trace '.': is a directory",
        ),
    ] {
        let output = poolscope_in(dir.path()).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the bytes after a valid start, no importer panics: a file reads or is an
    /// error with a place.
    #[test]
    fn importers_never_panic(
        prefix in 0usize..5,
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        lenient in any::<bool>(),
    ) {
        let start: &[u8] = match prefix {
            0 => b"",
            1 => POST_HEADER.as_bytes(),
            2 => b"tag,start_time,end_time,elapsed,result,experiment,executor,workload,input,worker,pid,tid,cpu_time,status,error\n",
            3 => b"{\"traceEvents\":[",
            _ => b"[{\"ph\":\"B\",\"ts\":1},",
        };
        let data = [start, &bytes].concat();
        let _ = formats::read_file(Path::new("fuzz"), &data, lenient, &Progress::default());
    }

    /// Rows of plausible values in any mix still never panic, and those that read keep
    /// their order.
    #[test]
    fn post_rows_of_any_numbers_never_panic(
        rows in proptest::collection::vec((any::<f64>(), any::<f64>(), "[a-z0-9 '\"]{0,8}"), 1..30),
    ) {
        let mut text = POST_HEADER.to_string();
        for (i, (start, end, result)) in rows.iter().enumerate() {
            text.push_str(&format!("fuzz-{i},{start},{end},{},\"{}\"\n", end - start, result.replace('"', "\"\"")));
        }
        if let Ok(contents) = formats::read_file(Path::new("fuzz.csv"), text.as_bytes(), true, &Progress::default()) {
            let tasks = &contents.experiments[0].tasks;
            prop_assert!(tasks.as_slice().windows(2).all(|w| w[0].index < w[1].index));
        }
    }
}

#[test]
fn the_view_opens_files_exports_a_trace_and_refuses_to_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["view".into()];
    args.extend(POST_FILES.iter().map(|f| fixture(f).display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut pty = pty::Pty::spawn(&args, dir.path(), 120, 40);
    let screen = pty.wait_for("recorded · 4 experiments", Duration::from_secs(30));
    for name in [
        "process-fibo",
        "thread-fibo",
        "process-get",
        "thread-get",
        "summary",
    ] {
        assert!(screen.contains(name), "{name}:\n{screen}");
    }
    assert!(screen.contains("lane 0"), "{screen}");
    pty.press("t");
    let screen = pty.wait_for("trace.json", Duration::from_secs(30));
    assert!(screen.contains("exported to poolscope-runs/"), "{screen}");
    pty.press("g");
    pty.wait_for("gantt.svg", Duration::from_secs(30));
    // `e` writes the recorded run as poolscope's own CSVs, which open again.
    pty.press("e");
    pty.wait_for("exported to poolscope-runs/2", Duration::from_secs(30));
    assert!(
        wait_until(Duration::from_secs(10), || std::fs::read_dir(
            dir.path().join("poolscope-runs")
        )
        .unwrap()
        .any(|d| d.unwrap().path().join("summary.json").exists())),
        "summary.json of the re-export"
    );
    // A trace of the run just exported goes beside its CSVs.
    pty.press("t");
    assert!(
        wait_until(Duration::from_secs(10), || std::fs::read_dir(
            dir.path().join("poolscope-runs")
        )
        .unwrap()
        .map(|d| d.unwrap().path())
        .any(
            |d| d.join("summary.json").exists() && d.join("trace.json").exists()
        )),
        "trace.json beside the CSVs"
    );
    pty.press("r");
    pty.wait_for("these are recorded files", Duration::from_secs(10));
    pty.press("q");
    let status = pty.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    pty.assert_restored();
    let exported: Vec<PathBuf> = std::fs::read_dir(dir.path().join("poolscope-runs"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .collect();
    let trace = exported
        .iter()
        .find(|p| p.ends_with("trace.json"))
        .expect("trace.json written");
    let exported: Vec<PathBuf> = exported
        .iter()
        .filter(|p| !p.ends_with("trace.json"))
        .cloned()
        .collect();
    let replayed = load(std::slice::from_ref(trace));
    assert_eq!(replayed.timeline.experiments().len(), 4);
    assert!(exported.iter().any(|p| p.ends_with("gantt.svg")));
    let csvs: Vec<PathBuf> = exported
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .cloned()
        .collect();
    assert_eq!(csvs.len(), 4, "{exported:?}");
    let again = load(&csvs);
    let originals = load(&POST_FILES.map(fixture));
    for a in originals.timeline.experiments() {
        let b = again
            .timeline
            .experiments()
            .iter()
            .find(|b| b.plan.name == a.plan.name)
            .unwrap_or_else(|| panic!("{} re-exported", a.plan.name));
        let times =
            |e: &Experiment| -> Vec<_> { e.tasks().map(|t| (t.started_at, t.ended_at)).collect() };
        assert_eq!(times(a), times(b), "{}: re-exported times", a.plan.name);
        assert_eq!(a.lanes.len(), b.lanes.len());
    }
}

#[test]
fn a_bad_file_in_the_view_restores_the_terminal_then_says_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.csv"),
        format!("{POST_HEADER}x,1,zz,1,ok\n"),
    )
    .unwrap();
    let mut pty = pty::Pty::spawn(&["view", "bad.csv"], dir.path(), 100, 30);
    let status = pty.wait_exit(Duration::from_secs(20));
    assert_eq!(status.exit_code(), 2);
    pty.assert_restored();
    // The last bytes may still be on their way through the pty when the exit is seen.
    pty.wait_for("bad.csv:2: column end_time", Duration::from_secs(10));
}
