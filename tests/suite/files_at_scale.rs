//! Files at scale and hostile files: traces as real writers write them (`{}` terminators,
//! phases poolscope does not draw, a byte-order mark), worker numbers and thread ids of any
//! size, a hundred thousand lanes, twenty thousand experiments, twenty thousand bad events
//! skipped, and proptests of the importers over huge numbers, many lanes and many
//! experiments. How fast and how small is measured by `cargo bench --bench import_million`
//! (no timed assertion here); these tests prove the answers are right at that scale, and
//! would not finish if a path were quadratic again.

use crate::common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::*;
use poolscope::formats::{self, Progress};
use poolscope::model::timeline::{Experiment, TaskState};
use proptest::prelude::*;

const OWN_HEADER: &str = "tag,start_time,end_time,elapsed,result,experiment,executor,workload,input,worker,pid,tid,cpu_time,status,error";
const BOM: &str = "\u{feff}";

/// A poolscope CSV row of experiment `experiment`: task `index` on `worker`, from `start`
/// for `length` seconds.
fn own_row(experiment: &str, index: usize, worker: u64, start: f64, length: f64) -> String {
    format!(
        "{experiment}-{index},{start:.6},{:.6},{length:.6},1,{experiment},threads,fib,30,{worker},1,2,0.001,ok,\n",
        start + length
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn load(files: &[PathBuf], lenient: bool) -> formats::Recording {
    formats::load(files, lenient, &Progress::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Every lane's tasks follow one another.
fn assert_lanes_never_overlap(e: &Experiment) {
    for lane in &e.lanes {
        for pair in lane.spans().windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "lane {} overlaps",
                lane.worker
            );
        }
    }
}

#[test]
fn traces_as_real_writers_write_them_are_read_with_one_note() {
    let dir = tempfile::tempdir().unwrap();
    // A `{}` to end the array, an instant, a flow, an event without a phase, among tasks.
    let trace = r#"{"traceEvents": [
        {"ph": "X", "name": "a", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
        {"ph": "i", "name": "mark", "pid": 1, "tid": 1, "ts": 5},
        {"ph": "s", "name": "flow", "pid": 1, "tid": 1, "ts": 6, "id": 1},
        {"name": "no phase", "pid": 1, "tid": 1, "ts": 7},
        {"ph": "X", "name": "b", "pid": 1, "tid": 2, "ts": 3, "dur": 4},
        {}
    ]}"#;
    let file = write(dir.path(), "writer.json", trace);
    let recording = load(std::slice::from_ref(&file), false);
    let e = &recording.timeline.experiments()[0];
    assert_eq!(e.tasks_held(), 2);
    assert_eq!(
        recording
            .notes
            .iter()
            .filter(|n| n.contains("left out"))
            .collect::<Vec<_>>(),
        [&format!(
            "{}: left out 4 events that are not tasks (1 empty ({{}}), 1 \"i\", 1 \"s\", 1 without \"ph\")",
            file.display()
        )],
        "one note counting each kind"
    );
    // The same through the binary, without --lenient.
    let output = poolscope_in(dir.path())
        .args(["view", "writer.json", "--print"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("left out").count(), 1, "{stderr}");
}

#[test]
fn a_byte_order_mark_is_accepted_by_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "process-fibo.csv",
            format!("{BOM}tag,start_time,end_time,elapsed,result\nprocess-fibo-0,1.0,2.0,1.0,5\n"),
        ),
        (
            "own.csv",
            format!("{BOM}{OWN_HEADER}\n{}", own_row("t", 0, 0, 1.0, 1.0)),
        ),
        (
            "trace.json",
            format!("{BOM}[{{\"ph\": \"X\", \"pid\": 1, \"tid\": 1, \"ts\": 1, \"dur\": 2}}]"),
        ),
    ];
    for (name, text) in files {
        let file = write(dir.path(), name, &text);
        let read = formats::read_file(&file, text.as_bytes(), false, &Progress::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(read.experiments[0].tasks.len(), 1, "{name}");
        let recording = load(&[file], false);
        let task = recording.timeline.experiments()[0].task(0).unwrap();
        assert!(matches!(task.state, TaskState::Succeeded { .. }), "{name}");
    }
}

#[test]
fn worker_numbers_of_any_size_get_lanes_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    for worker in [u64::MAX, 10_000_000_000, 100_000_000] {
        // Two tasks that overlap on that worker: a second lane is needed beside it.
        let text = format!(
            "{OWN_HEADER}\n{}{}{}",
            own_row("t", 0, worker, 1.0, 1.0),
            own_row("t", 1, worker, 1.5, 1.0),
            own_row("t", 2, 3, 1.0, 0.5),
        );
        let file = write(dir.path(), "huge.csv", &text);
        let recording = load(std::slice::from_ref(&file), false);
        let e = &recording.timeline.experiments()[0];
        assert_eq!(e.lanes.len(), 3, "worker {worker}");
        assert_eq!(
            e.plan.workers, 3,
            "the lanes that ran, not the largest number"
        );
        assert_lanes_never_overlap(e);
        let workers: Vec<u64> = e.tasks().map(|t| t.worker.unwrap().index as u64).collect();
        assert_eq!(workers[0], worker, "the file's number is kept");
        assert_eq!(workers[2], 3);
        // Written back, the numbers read again.
        let csv = formats::export::experiment_csv(&recording.timeline, e).unwrap();
        let again = formats::read_file(&file, &csv, false, &Progress::default()).unwrap();
        let groups: Vec<Option<usize>> = again.experiments[0]
            .groups
            .iter()
            .map(|g| g.worker)
            .collect();
        assert!(groups.contains(&Some(worker as usize)), "{groups:?}");
        let output = poolscope_in(dir.path())
            .args(["view", "huge.csv", "--print", "--width", "100"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains(&format!("w{worker}")));
    }
}

#[test]
fn a_trace_of_a_hundred_thousand_threads_gets_a_lane_each() {
    let dir = tempfile::tempdir().unwrap();
    let threads = 100_000u64;
    let mut text = String::from("[");
    // Thread ids scattered and large, the events in no order of them.
    for i in 0..threads {
        let tid = (i * 7_919) % threads * 1_000_003;
        let _ = write!(
            text,
            "{}{{\"ph\": \"X\", \"name\": \"t\", \"pid\": 1, \"tid\": {tid}, \"ts\": {i}, \"dur\": 1}}",
            if i == 0 { "" } else { ",\n" }
        );
    }
    text.push(']');
    let file = write(dir.path(), "threads.json", &text);
    let recording = load(&[file], false);
    let e = &recording.timeline.experiments()[0];
    assert_eq!(e.lanes.len(), threads as usize);
    assert_eq!(e.tasks_held(), threads as usize);
    assert!(e.lanes.windows(2).all(|w| w[0].worker < w[1].worker));
    assert_eq!(e.plan.lane_names.get(e.lanes[0].worker), Some("tid 0"));
}

#[test]
fn a_hundred_thousand_workers_and_twenty_thousand_experiments_read() {
    let dir = tempfile::tempdir().unwrap();
    let workers = 100_000u64;
    let mut text = format!("{OWN_HEADER}\n");
    for i in 0..workers {
        // Workers met in a scattered order, each once.
        let worker = (i * 7_919) % workers;
        text.push_str(&own_row(
            "t",
            i as usize,
            worker,
            1.0 + i as f64 * 1e-5,
            1e-3,
        ));
    }
    let file = write(dir.path(), "workers.csv", &text);
    let recording = load(&[file], false);
    let e = &recording.timeline.experiments()[0];
    assert_eq!(e.lanes.len(), workers as usize);
    assert_eq!(e.ended(), workers as usize);

    let experiments = 20_000;
    let mut text = format!("{OWN_HEADER}\n");
    for i in 0..experiments {
        text.push_str(&own_row(
            &format!("e{i}"),
            0,
            0,
            1.0 + i as f64 * 1e-3,
            5e-4,
        ));
    }
    let file = write(dir.path(), "experiments.csv", &text);
    let recording = load(&[file], false);
    assert_eq!(recording.timeline.experiments().len(), experiments);
    assert!(
        recording
            .timeline
            .experiments()
            .iter()
            .all(|e| e.ended() == 1)
    );
    let chart = formats::text::chart(
        &recording.timeline,
        80,
        false,
        poolscope::chart::fold::Depth::DEFAULT,
    );
    assert!(chart.contains("e19999"));
}

#[test]
fn twenty_thousand_bad_events_are_skipped_in_one_pass_each_placed() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("{\"traceEvents\": [\n");
    for i in 0..40_000 {
        let dur = if i % 2 == 1 { -1 } else { 1 };
        let _ = writeln!(
            text,
            "{{\"ph\": \"X\", \"pid\": 1, \"tid\": 1, \"ts\": {i}, \"dur\": {dur}}}{}",
            if i + 1 < 40_000 { "," } else { "" }
        );
    }
    text.push_str("]}\n");
    let file = write(dir.path(), "bad.json", &text);
    let recording = load(std::slice::from_ref(&file), true);
    assert_eq!(recording.timeline.experiments()[0].tasks_held(), 20_000);
    let note = &recording.notes[0];
    assert!(
        note.contains("skipped 20000 bad rows; the first:")
            && note.contains("bad.json:3: column 1: \"dur\" is -1"),
        "{note}"
    );
    let error = formats::load(&[file], false, &Progress::default()).unwrap_err();
    assert_eq!((error.line, error.column.as_deref()), (Some(3), Some("1")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// poolscope CSVs with worker numbers of any size, many workers and many experiments:
    /// every row is read into its experiment, on a lane of its own worker number where
    /// the tasks allow, and no lane's tasks overlap.
    #[test]
    fn own_csvs_of_any_worker_numbers_and_experiments_read(
        rows in proptest::collection::vec(
            (0usize..50, prop_oneof![any::<u64>(), 0u64..8, Just(u64::MAX)], 0.0f64..10.0, 0.0f64..2.0),
            1..200,
        ),
    ) {
        let mut text = format!("{OWN_HEADER}\n");
        for (i, (experiment, worker, start, length)) in rows.iter().enumerate() {
            text.push_str(&own_row(&format!("e{experiment}"), i, *worker, 1.0 + start, *length));
        }
        let read = formats::read_file(Path::new("fuzz.csv"), text.as_bytes(), false, &Progress::default());
        let read = read.map_err(|e| TestCaseError::fail(e.to_string()))?;
        let total: usize = read.experiments.iter().map(|e| e.tasks.len()).sum();
        prop_assert_eq!(total, rows.len());
        let (_, timeline) = formats::build::recording(vec![read]);
        for e in timeline.experiments() {
            assert_lanes_never_overlap(e);
            prop_assert_eq!(e.ended(), e.tasks_held());
            // Every worker number of the file is a lane's, however large.
            for (experiment, worker, _, _) in &rows {
                if e.plan.name == format!("e{experiment}") {
                    prop_assert!(
                        e.lanes.iter().any(|l| l.worker as u64 == *worker),
                        "worker {} has no lane", worker
                    );
                }
            }
        }
    }

    /// Traces of any pids and tids (numbers of any size, text), phases known and not, and
    /// `{}` among the events: they read, or fail with a place, and never panic.
    #[test]
    fn traces_of_any_ids_and_phases_never_panic(
        events in proptest::collection::vec(
            (
                prop_oneof![any::<i64>().prop_map(|n| n.to_string()), "[a-z ]{0,6}".prop_map(|s| format!("\"{s}\""))],
                prop_oneof![any::<i64>().prop_map(|n| n.to_string()), Just("\"main\"".to_string())],
                prop_oneof![Just("X"), Just("B"), Just("E"), Just("i"), Just("M"), Just("C"), Just(""), Just("zz")],
                -1e6f64..1e6,
                -5.0f64..100.0,
                any::<bool>(),
            ),
            1..60,
        ),
        lenient in any::<bool>(),
    ) {
        let mut text = String::from("{\"traceEvents\": [");
        for (i, (pid, tid, ph, ts, dur, empty)) in events.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            if *empty {
                text.push_str("{}");
            } else {
                let _ = write!(text, "{{\"ph\": \"{ph}\", \"name\": \"n\", \"pid\": {pid}, \"tid\": {tid}, \"ts\": {ts}, \"dur\": {dur}}}");
            }
        }
        text.push_str("]}");
        if let Ok(read) = formats::read_file(Path::new("fuzz.json"), text.as_bytes(), lenient, &Progress::default()) {
            let (_, timeline) = formats::build::recording(vec![read]);
            for e in timeline.experiments() {
                assert_lanes_never_overlap(e);
            }
        }
    }
}
