//! What poolscope promises about stopping, signals and saved data, each proved here (the
//! README's "What poolscope guarantees" names these tests).
//!
//! Timing bounds are deliberately generous (seconds, where the promise is milliseconds):
//! CI machines are small and busy. Each bound is still far below what the broken
//! behaviour takes (a fib(60) runs for hours, a delayed request for a minute), so a
//! regression fails. The promptness itself is measured by the README's stop-latency
//! command, not asserted here.

use crate::common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::pty::Pty;
use common::*;
use poolscope::engine::protocol::{self, Reply};
use poolscope::engine::runner::{self, RunOptions};
use poolscope::model::clock::ClockAnchor;
use poolscope::model::event::{Event, RunOutcome, TaskEventKind};
use poolscope::model::plan::{ExecutorKind, HttpSettings, Plan, WorkloadKind};

/// A run that never ends by itself: fib(60) takes hours.
const ENDLESS_FIB: &[&str] = &["--workload", "fib", "--fib", "60,60", "--workers", "2"];

fn options() -> RunOptions {
    RunOptions {
        worker_exe: PathBuf::from(bin()),
    }
}

/// Starts `plan`, waits for its first task to start, cancels, and returns how long the
/// run took to end completely (its threads joined, its workers reaped).
fn stop_after_first_task(plan: &Plan) -> Duration {
    let handle = runner::start(plan, &options()).unwrap();
    loop {
        match handle.events.recv_timeout(Duration::from_secs(60)).unwrap() {
            Event::Task(t) if t.kind == TaskEventKind::Started => break,
            _ => {}
        }
    }
    std::thread::sleep(Duration::from_millis(100)); // well inside the task
    let start = Instant::now();
    handle.cancel();
    let events = handle.events.clone();
    handle.join();
    let took = start.elapsed();
    let last = events.try_iter().last();
    assert!(
        matches!(
            last,
            Some(Event::RunFinished {
                outcome: RunOutcome::Cancelled,
                ..
            })
        ),
        "{last:?}"
    );
    took
}

fn fib_plan(executor: ExecutorKind) -> Plan {
    Plan::from_parts(
        &[WorkloadKind::Fib],
        &[executor],
        &[60, 60],
        &[1],
        Some(2),
        HttpSettings::default(),
    )
}

/// A cancel stops a running fib on every executor: the run ends, threads joined and
/// workers reaped, instead of computing fib(60) for hours (or, under threads, burning a
/// CPU under the next run's measurements).
#[test]
fn cancel_stops_a_running_fib_on_every_executor() {
    for executor in [
        ExecutorKind::Sequential,
        ExecutorKind::Threads,
        ExecutorKind::Processes,
    ] {
        let took = stop_after_first_task(&fib_plan(executor));
        eprintln!("{executor}: fib stopped and the run ended {took:?} after the cancel");
        assert!(took < Duration::from_secs(10), "{executor}: {took:?}");
    }
}

/// An HTTP request in flight is abandoned at the cancel, not waited for until the server
/// answers (here a minute) or the timeout passes.
#[test]
fn cancel_abandons_an_http_request_in_flight() {
    for executor in [ExecutorKind::Sequential, ExecutorKind::Threads] {
        let plan = Plan::from_parts(
            &[WorkloadKind::Http],
            &[executor],
            &[1],
            &[60_000, 60_000],
            Some(2),
            HttpSettings::default(),
        );
        let took = stop_after_first_task(&plan);
        eprintln!("{executor}: http abandoned {took:?} after the cancel");
        assert!(took < Duration::from_secs(10), "{executor}: {took:?}");
    }
}

/// The sequential executor, whose task runs on the runner thread, reruns on `r` and quits
/// on `q` at once, and leaves the terminal as it was; the view says nothing was saved.
#[test]
fn q_quits_a_sequential_fib_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = ENDLESS_FIB.to_vec();
    args.extend(["--executor", "sequential"]);
    let mut pty = Pty::spawn(&args, dir.path(), 100, 30);
    pty.wait_for("fib 60", Duration::from_secs(60));
    pty.press("r");
    pty.wait_for("restarted the plan", Duration::from_secs(10));
    pty.wait_for("fib 60", Duration::from_secs(10));
    pty.press("q");
    assert!(pty.wait_exit(Duration::from_secs(10)).success());
    pty.assert_restored();
    let screen = pty.wait_for("Nothing was saved", Duration::from_secs(5));
    assert!(
        screen.contains("sequential-fibo"),
        "summary left behind:\n{screen}"
    );
    assert!(
        !dir.path().join("poolscope-runs").exists(),
        "nothing is created unless something is saved"
    );
}

/// Headless Ctrl-C stops a sequential fib, writes the rows (cancelled) and exits 130.
#[test]
fn ctrl_c_stops_a_sequential_fib_headless() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = ENDLESS_FIB.to_vec();
    args.extend(["--executor", "sequential"]);
    let mut child = spawn_headless(dir.path(), &args);
    std::thread::sleep(Duration::from_millis(800));
    send_signal(child.id(), libc::SIGINT);
    assert_eq!(wait_for(&mut child, Duration::from_secs(10)), Some(130));
    let (_, rows) = read_csv(&dir.path().join("o/sequential-fibo.csv"));
    let statuses: Vec<_> = rows.iter().map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses, ["cancelled", "cancelled"]);
}

/// Two Ctrl-C in a row: still exit 130 with the files written, and no temporary file left.
#[test]
fn a_second_ctrl_c_still_writes_the_files_and_leaves_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_headless(dir.path(), &sleep_run("processes", "2", "60000,60000"));
    wait_for_children(child.id(), 2);
    send_signal(child.id(), libc::SIGINT);
    send_signal(child.id(), libc::SIGINT);
    assert_eq!(wait_for(&mut child, Duration::from_secs(10)), Some(130));
    let out = dir.path().join("o");
    assert!(out.join("process-sleep.csv").is_file());
    assert!(out.join("summary.json").is_file());
    assert_eq!(temporaries(&out), Vec::<String>::new());
}

/// A closed stderr (`poolscope --headless |& head`) never kills the signal thread: Ctrl-C
/// still stops the run. (It used to panic there, and every later signal was swallowed.)
#[test]
fn a_closed_stderr_never_swallows_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin())
        .current_dir(dir.path())
        .args(["--headless", "--out", "o"])
        .args(sleep_run("processes", "2", "60000,60000"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // the reading end is gone: writes fail with EPIPE
    wait_for_children(child.id(), 2);
    send_signal(child.id(), libc::SIGINT);
    assert_eq!(wait_for(&mut child, Duration::from_secs(10)), Some(130));
    assert!(dir.path().join("o/process-sleep.csv").is_file());
}

/// SIGHUP once the run is done, SIGTERM with the help open, SIGTERM during an export:
/// exit 128+N, terminal restored, no worker left, and the export under way completes.
#[test]
fn signals_reach_the_view_in_every_state() {
    let small = ["--workload", "sleep", "--delays", "10,20", "--workers", "2"];
    let dir = tempfile::tempdir().unwrap();

    let mut pty = Pty::spawn(&small, dir.path(), 100, 30);
    pty.wait_for("✓ done", Duration::from_secs(60));
    send_signal(pty.pid(), libc::SIGHUP);
    assert_eq!(pty.wait_exit(Duration::from_secs(10)).exit_code(), 129);
    pty.assert_restored();

    let mut pty = Pty::spawn(
        &sleep_run("processes", "2", "60000,60000"),
        dir.path(),
        100,
        30,
    );
    pty.wait_for("w1 pid", Duration::from_secs(60));
    let workers = wait_for_children(pty.pid(), 2);
    pty.press("?");
    pty.wait_for("any key closes", Duration::from_secs(10));
    send_signal(pty.pid(), libc::SIGTERM);
    assert_eq!(pty.wait_exit(Duration::from_secs(10)).exit_code(), 143);
    pty.assert_restored();
    assert_all_gone(&workers);

    let env = [
        ("NO_COLOR", "1"),
        ("POOLSCOPE_TEST_EXPORT_DELAY_MS", "1500"),
    ];
    let out = dir.path().join("slow");
    let mut args = small.to_vec();
    args.extend(["--out", out.to_str().unwrap()]);
    let mut pty = Pty::spawn_with(&args, dir.path(), 100, 30, &env);
    pty.wait_for("✓ done", Duration::from_secs(60));
    pty.press("e");
    pty.wait_for("exporting", Duration::from_secs(10));
    send_signal(pty.pid(), libc::SIGTERM);
    assert_eq!(pty.wait_exit(Duration::from_secs(20)).exit_code(), 143);
    pty.assert_restored();
    assert!(out.join("thread-sleep.csv").is_file() && out.join("summary.json").is_file());
    assert_eq!(temporaries(&out), Vec::<String>::new());
}

/// Dragging the window down to 1×1 and back, many times, leaves the view alive; `q` exits 0.
#[test]
fn a_resize_storm_leaves_the_view_alive() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&sleep_run("threads", "2", "300,600"), dir.path(), 120, 40);
    pty.wait_for("w0 tid", Duration::from_secs(60));
    for round in 0..3 {
        for (cols, rows) in [
            (1, 1),
            (2, 1),
            (10, 3),
            (40, 10),
            (200, 60),
            (1, 40),
            (120, 1),
        ] {
            pty.resize(cols + round, rows);
            std::thread::sleep(Duration::from_millis(15));
        }
    }
    pty.resize(120, 40);
    pty.wait_for("thread-sleep", Duration::from_secs(10));
    pty.press("q");
    assert!(pty.wait_exit(Duration::from_secs(10)).success());
    pty.assert_restored();
}

/// Quitting the view with `--out` after the run saves it there (it was never exported)
/// and leaves the summary and speed-ups on the terminal.
#[test]
fn quitting_with_out_saves_the_run_and_prints_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--workload",
        "fib",
        "--fib",
        "20..=23",
        "--workers",
        "2",
        "--out",
        "kept",
    ];
    let mut pty = Pty::spawn(&args, dir.path(), 120, 40);
    pty.wait_for("✓ done", Duration::from_secs(60));
    pty.press("q");
    assert!(pty.wait_exit(Duration::from_secs(10)).success());
    pty.assert_restored();
    // (samples files are counted too, when the sampler caught these short experiments)
    let screen = pty.wait_for("and summary.json to kept", Duration::from_secs(5));
    assert!(screen.contains("Wrote 3 CSV files"), "{screen}");
    assert!(
        screen.contains("experiment") && screen.contains("efficiency"),
        "{screen}"
    );
    assert!(
        screen.contains("Process vs Threads Fibonacci tasks speed-up"),
        "{screen}"
    );
    let (_, rows) = read_csv(&dir.path().join("kept/process-fibo.csv"));
    assert_eq!(rows.len(), 4);
}

/// `E` pressed mid-run writes every run as it was then; the run ends while the files are
/// written (a slow disk, simulated); quitting with `--out` still saves its final state,
/// since what `E` wrote was not it.
#[test]
fn an_export_of_all_runs_mid_run_leaves_the_final_state_to_be_saved() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("NO_COLOR", "1"),
        ("POOLSCOPE_TEST_EXPORT_DELAY_MS", "4000"),
    ];
    let args = [
        "--workload",
        "sleep",
        "--executor",
        "threads",
        "--delays",
        "2000",
        "--out",
        "E1",
    ];
    let mut pty = Pty::spawn_with(&args, dir.path(), 120, 40, &env);
    pty.wait_for("▶", Duration::from_secs(30));
    pty.press("E");
    pty.wait_for("✓ done", Duration::from_secs(60));
    pty.wait_for("exported 1 run to E1", Duration::from_secs(30));
    pty.press("q");
    assert!(pty.wait_exit(Duration::from_secs(10)).success());
    let status_of = |file: &str| {
        let (_, rows) = read_csv(&dir.path().join(file));
        rows.iter().map(|r| r["status"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        status_of("E1/run-1/thread-sleep.csv"),
        ["running"],
        "E wrote the run mid-way"
    );
    assert_eq!(
        status_of("E1/thread-sleep.csv"),
        ["ok"],
        "quitting saved its end"
    );
}

/// A failed export (the hidden switch fails it midway, after one file) shows the error in
/// the footer, changes nothing on disk, and the next `e` succeeds.
#[test]
fn a_failed_export_in_the_view_can_be_retried() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("NO_COLOR", "1"), ("POOLSCOPE_TEST_FAIL_EXPORTS", "1")];
    let args = [
        "--workload",
        "fib",
        "--fib",
        "20,21",
        "--workers",
        "2",
        "--out",
        "o",
    ];
    let mut pty = Pty::spawn_with(&args, dir.path(), 120, 40, &env);
    pty.wait_for("✓ done", Duration::from_secs(60));
    pty.press("e");
    pty.wait_for("export failed", Duration::from_secs(10));
    let out = dir.path().join("o");
    assert!(
        !out.join("process-fibo.csv").exists(),
        "nothing half-written"
    );
    assert_eq!(temporaries(&out), Vec::<String>::new());
    pty.press("e");
    pty.wait_for("exported to o", Duration::from_secs(10));
    assert!(out.join("process-fibo.csv").is_file() && out.join("summary.json").is_file());
    pty.press("q");
    assert!(pty.wait_exit(Duration::from_secs(10)).success());
    pty.wait_for("Exported to o", Duration::from_secs(5));
}

/// Headless with a failed export: exit 1 with the error on stderr, and the folder holds no
/// partial set and no temporary file.
#[test]
fn a_failed_headless_export_exits_1_and_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    poolscope_in(dir.path())
        .env("POOLSCOPE_TEST_FAIL_EXPORTS", "1")
        .args([
            "--headless",
            "--out",
            "o",
            "--workload",
            "fib",
            "--fib",
            "20,21",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("failed midway"));
    assert_eq!(std::fs::read_dir(dir.path().join("o")).unwrap().count(), 0);
}

/// Files are 0644 less the umask, like any file the user writes, and replacing a 0644 file
/// keeps it 0644 (tempfile's own 0600 used to leak through).
#[test]
fn exported_files_take_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let run = |umask: &str| {
        let status = Command::new("sh")
            .current_dir(dir.path())
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" --headless --out o --workload sleep --executor threads --delays 1 >/dev/null"
            ))
            .arg(bin())
            .status()
            .unwrap();
        assert!(status.success());
    };
    let mode = |name: &str| {
        let path = dir.path().join("o").join(name);
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    };
    run("027");
    assert_eq!(mode("thread-sleep.csv"), 0o640);
    assert_eq!(mode("summary.json"), 0o640);
    run("022");
    assert_eq!(mode("thread-sleep.csv"), 0o644);
}

/// One export is one consistent set: exporting a smaller plan into the same `--out`
/// removes the CSVs of experiments the new summary.json does not list, and nothing else.
#[test]
fn an_export_replaces_the_whole_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("mine.csv"), "not poolscope's").unwrap();
    let run = |executors: &str| {
        poolscope_in(dir.path())
            .args([
                "--headless",
                "--out",
                "o",
                "--workload",
                "sleep",
                "--delays",
                "1",
            ])
            .args(["--executor", executors])
            .assert()
            .success();
    };
    run("processes,threads");
    assert!(out.join("process-sleep.csv").is_file());
    run("threads");
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // Every worker is sampled to its end, so even a 1 ms experiment has its samples file.
    assert_eq!(
        names,
        [
            "mine.csv",
            "summary.json",
            "thread-sleep-samples.csv",
            "thread-sleep.csv"
        ]
    );
}

/// `--out` is checked before the run: an unwritable folder is a usage error at once, not
/// a failure after the whole experiment.
#[test]
fn an_unwritable_out_fails_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    poolscope_in(dir.path())
        .args(["--headless", "--out", "/sys/kernel"])
        .args(ENDLESS_FIB)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--out").and(predicates::str::contains("not writable")));
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "it did not run first"
    );
    // A file where the default folder should be: the same, before the run.
    std::fs::write(dir.path().join("poolscope-runs"), "a file").unwrap();
    poolscope_in(dir.path())
        .args(["--headless"])
        .args(ENDLESS_FIB)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("poolscope-runs"));
}

/// Workers start from the running binary itself (/proc/self/exe): deleting the binary
/// mid-run fails nothing.
#[test]
fn deleting_the_binary_mid_run_fails_no_task() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("poolscope-copy");
    std::fs::copy(bin(), &copy).unwrap();
    let mut child = Command::new(&copy)
        .current_dir(dir.path())
        .args([
            "--headless",
            "--out",
            "o",
            "--workload",
            "sleep,fib",
            "--executor",
            "processes",
        ])
        .args(["--delays", "1500", "--fib", "20", "--workers", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_children(child.id(), 1);
    std::fs::remove_file(&copy).unwrap();
    assert_eq!(wait_for(&mut child, Duration::from_secs(60)), Some(0));
    for name in ["process-sleep.csv", "process-fibo.csv"] {
        let (_, rows) = read_csv(&dir.path().join("o").join(name));
        assert!(rows.iter().all(|r| r["status"] == "ok"), "{name}: {rows:?}");
    }
}

/// No speed-up is printed from an experiment whose tasks all failed.
#[test]
fn no_speedup_from_all_failed_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/200?sleep={{ms}}", closed_port());
    poolscope_in(dir.path())
        .args([
            "--headless",
            "--out",
            "o",
            "--workload",
            "http",
            "--delays",
            "1,2",
        ])
        .args(["--url", &url, "--http-timeout", "5"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("speed-up").not());
}

/// A worker's timestamps are on its parent's anchored clock, not its own wall clock: given
/// an anchor of epoch second 1, it reports times just after second 1.
#[test]
fn workers_take_the_parents_clock_anchor() {
    // One reading of the anchor (runs of other tests may renew it meanwhile).
    let ours = ClockAnchor::current();
    let anchor = ClockAnchor {
        epoch_us: 1_000_000,
        monotonic_us: ours.monotonic_us,
    };
    let since_ours = ours
        .now_on()
        .since(poolscope::model::clock::Timestamp(ours.epoch_us));
    let mut child = Command::new(bin())
        .args(["worker", "--parent-pid", &std::process::id().to_string()])
        .args([
            "--workload",
            r#"{"kind":"fib"}"#,
            "--clock-anchor",
            &anchor.to_arg(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = Vec::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_until(b'\n', &mut line)
        .unwrap();
    drop(child.stdin.take());
    let _ = child.wait();
    let Reply::Ready { at, .. } = protocol::decode(&line).unwrap() else {
        panic!("expected Ready: {}", String::from_utf8_lossy(&line));
    };
    let offset = at.as_micros() - 1_000_000;
    assert!(
        offset >= since_ours.as_micros() as u64 && offset < 120_000_000,
        "{at:?}"
    );
}

/// Flags are never silently ignored: a flag the plan does not use warns, a name listed
/// twice is a usage error.
#[test]
fn flags_are_never_silently_ignored() {
    let dir = tempfile::tempdir().unwrap();
    poolscope_in(dir.path())
        .args([
            "--headless",
            "--out",
            "o",
            "--workload",
            "fib",
            "--fib",
            "20",
        ])
        .args(["--url", "http://127.0.0.1:1/{ms}", "--delays", "5"])
        .assert()
        .success()
        .stderr(
            predicates::str::contains("warning: --url is ignored")
                .and(predicates::str::contains("warning: --delays is ignored")),
        );
    poolscope_in(dir.path())
        .args(["--headless", "--executor", "processes,processes"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("'processes' is listed twice"));
}

/// Waits up to `timeout` for `child` to exit; its exit code (None if it did not exit or
/// died by a signal).
fn wait_for(child: &mut std::process::Child, timeout: Duration) -> Option<i32> {
    let mut code = None;
    let exited = wait_until(timeout, || match child.try_wait().unwrap() {
        Some(status) => {
            code = status.code();
            true
        }
        None => false,
    });
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
        panic!("poolscope did not exit within {timeout:?}");
    }
    code
}

/// Names of poolscope's temporary files left in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| name.ends_with(".tmp") || name.contains("probe"))
                .collect()
        })
        .unwrap_or_default()
}

use predicates::prelude::PredicateBooleanExt;
