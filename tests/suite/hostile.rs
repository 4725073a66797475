//! Worker processes that misbehave (a hidden switch makes a real worker hostile): the
//! parent cuts them off, fails only their task, and keeps its memory and its nerve.

use crate::common;

use std::time::{Duration, Instant};

use common::*;

/// Runs two fib tasks on one worker process that misbehaves as `how`; the rows.
fn run_hostile(
    how: &str,
) -> (
    Option<i32>,
    Vec<std::collections::HashMap<String, String>>,
    Duration,
) {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let output = std::process::Command::new(bin())
        .current_dir(dir.path())
        .env("POOLSCOPE_TEST_WORKER_MISBEHAVE", how)
        .args([
            "--headless",
            "--out",
            "o",
            "--workload",
            "fib",
            "--executor",
            "processes",
        ])
        .args(["--fib", "20,21", "--workers", "1"])
        .output()
        .unwrap();
    let took = start.elapsed();
    let (_, rows) = read_csv(&dir.path().join("o/process-fibo.csv"));
    (output.status.code(), rows, took)
}

#[test]
fn a_worker_writing_garbage_fails_its_task_and_is_replaced() {
    let (code, rows, _) = run_hostile("garbage");
    assert_eq!(code, Some(1));
    for row in &rows {
        assert_eq!(row["status"], "error", "{row:?}");
        assert!(row["error"].contains("broke the protocol"), "{row:?}");
    }
    let pids: std::collections::HashSet<&String> = rows.iter().map(|r| &r["pid"]).collect();
    assert_eq!(
        pids.len(),
        2,
        "a fresh worker for the second task: {rows:?}"
    );
}

/// An endless line is cut at 1 MiB: the worker is killed, its task failed, in bounded time
/// (with no cap the parent would buffer forever).
#[test]
fn an_endless_line_is_cut_off_at_the_cap() {
    let (code, rows, took) = run_hostile("endless");
    assert_eq!(code, Some(1));
    assert!(
        rows.iter()
            .all(|r| r["error"].contains("a line over 1 MiB")),
        "{rows:?}"
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
}

/// 256 KiB on stderr (more than a pipe holds) is drained while the worker runs: no
/// deadlock, every task succeeds.
#[test]
fn a_flood_on_stderr_does_not_block_the_worker() {
    let (code, rows, _) = run_hostile("stderr");
    assert_eq!(code, Some(0));
    assert!(rows.iter().all(|r| r["status"] == "ok"), "{rows:?}");
}
