//! A run reopened reads as it did: exported (headless, a trace), then opened with
//! `poolscope view DIR`, `view DIR/*.csv` or `view trace.json`, it has the run's panel order,
//! makespans and figures, its GIL waits and switches, and `--print` ends with the very lines
//! headless printed; a folder of runs says which to open.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use poolscope::formats::{self, Progress};
use poolscope::model::timeline::Timeline;

fn load(files: &[PathBuf]) -> formats::Recording {
    formats::load(files, false, &Progress::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The lines from the post's speed-ups (or the table, when there are none) through the
/// end of the summary (and any busy-machine lines): what headless prints after a run, and
/// what `view … --print` must end with.
fn results_block(stdout: &str) -> Vec<String> {
    let lines: Vec<&str> = stdout.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.starts_with("Process vs "))
        .or_else(|| lines.iter().position(|l| l.starts_with("experiment ")))
        .expect("a summary table");
    let end = lines
        .iter()
        .position(|l| l.starts_with("Wrote "))
        .unwrap_or(lines.len());
    let mut block: Vec<String> = lines[first..end].iter().map(|l| l.to_string()).collect();
    while block.last().is_some_and(|l| l.is_empty()) {
        block.pop();
    }
    block
}

/// Exported, then reopened with `poolscope view`, a run reads as it did: `view DIR`, `view
/// DIR/*.csv` (listed alphabetically, samples files among them) and `view trace.json` all
/// end their `--print` with the very speed-up lines and summary table headless printed,
/// line for line; panels come in the run's order; GIL waits come back as GIL waits,
/// switches as switches.
#[test]
fn a_reopened_run_reads_as_it_did() {
    let _alone = crate::common::measuring();
    let dir = tempfile::tempdir().unwrap();
    let run = poolscope_in(dir.path())
        .args(["--headless", "--out", "run", "--trace", "run/trace.json"])
        .args([
            "--workload",
            "fib,sleep",
            "--executor",
            "processes,threads,gil",
        ])
        .args([
            "--fib",
            // Tasks of a few ms each, so the GIL threads certainly wait for the lock.
            "26..=29",
            "--delays",
            "20..=60:20",
            "--workers",
            "3",
        ])
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let headless = results_block(&String::from_utf8_lossy(&run.stdout));
    assert!(
        headless.iter().any(|l| l.starts_with("gil-fibo ")),
        "{headless:?}"
    );

    let out = dir.path().join("run");
    let mut listed: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    listed.sort();
    assert!(
        listed.iter().any(|n| n.ends_with("-samples.csv")),
        "{listed:?}"
    );
    let view = |args: &[String]| {
        let output = poolscope_in(dir.path())
            .arg("view")
            .args(args)
            .args(["--print", "--width", "80"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        results_block(&String::from_utf8_lossy(&output.stdout))
    };
    let glob: Vec<String> = listed.iter().map(|n| format!("run/{n}")).collect();
    for args in [
        vec!["run".to_string()],
        glob,
        vec!["run/trace.json".to_string()],
    ] {
        assert_eq!(view(&args), headless, "view {args:?}");
    }

    // The timelines themselves: the GIL's waits and the switches came back.
    let original = load(&[out.join("trace.json")]).timeline;
    let reopened = load(std::slice::from_ref(&out)).timeline;
    let names = |t: &Timeline| -> Vec<String> {
        t.experiments()
            .iter()
            .map(|e| e.plan.name.clone())
            .collect()
    };
    assert_eq!(
        names(&reopened),
        [
            "process-fibo",
            "thread-fibo",
            "gil-fibo",
            "process-sleep",
            "thread-sleep",
            "gil-sleep"
        ],
        "the run's order, not the alphabet's"
    );
    let gil = reopened
        .experiments()
        .iter()
        .find(|e| e.plan.name == "gil-fibo")
        .unwrap();
    assert!(gil.gil_wait().unwrap() > Duration::ZERO);
    // Lanes of the CSVs' reopened GIL run are shaded by the GIL's share, not blocked.
    let waited_for_the_gil = gil
        .lanes
        .iter()
        .any(|lane| lane.samples().iter().any(|s| s.gil_wait > 0.5));
    assert!(
        waited_for_the_gil,
        "GIL waits come back from the samples CSV"
    );
    for (a, b) in original.experiments().iter().zip(reopened.experiments()) {
        assert_eq!(a.switches(), b.switches(), "{}", a.plan.name);
        assert_eq!(a.makespan(), b.makespan(), "{}", a.plan.name);
        assert!(b.switches().is_some(), "{}", b.plan.name);
    }
    // The run's own bounds (it starts before its first task: the pools are built first).
    assert_eq!(original.started_at(), reopened.started_at());
    assert_eq!(original.finished_at(), reopened.finished_at());

    // Exported again, the reopened run writes the summary the run wrote, to the number.
    let summary = |dir: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
    };
    for (reopened, again) in [(&reopened, "again"), (&original, "again-from-trace")] {
        let again = dir.path().join(again);
        poolscope::formats::export::write_run(&again, reopened).unwrap();
        assert_eq!(summary(&again), summary(&out), "{}", again.display());
        for name in &listed {
            assert_eq!(
                std::fs::read_to_string(again.join(name)).unwrap(),
                std::fs::read_to_string(out.join(name)).unwrap(),
                "{name} exported again from {}",
                again.display()
            );
        }
    }
}

/// `view` of an `E` export's folder (a run per `run-N`) says which runs it holds and how to
/// open one; a `run-N` folder opens.
#[test]
fn a_folder_of_runs_says_which_to_open() {
    let _alone = crate::common::measuring();
    let dir = tempfile::tempdir().unwrap();
    let run = poolscope_in(dir.path())
        .args(["--headless", "--out", "runs", "--runs", "2"])
        .args([
            "--workload",
            "sleep",
            "--executor",
            "threads",
            "--delays",
            "10",
        ])
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let output = poolscope_in(dir.path())
        .args(["view", "runs", "--print"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "this folder holds 2 runs (run-1, run-2): open one, like poolscope view runs/run-1"
        ),
        "{stderr}"
    );
    let output = poolscope_in(dir.path())
        .args(["view", "runs/run-2", "--print"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("thread-sleep · ThreadPool"));
}
