//! The live view in a real pseudo-terminal: the built binary runs in a pty of a set size,
//! its output goes through a terminal emulator (vt100), and the test reads the screen,
//! presses keys, and checks what a user would: the picture, the exported files, a clean
//! exit that leaves the alternate screen and raw mode, and no worker process left behind.

use crate::common;

use std::time::Duration;

use common::pty::Pty;
use common::*;

/// Two process workers sleeping a minute each: a run that is surely still going.
const LONG_SLEEPS: [&str; 8] = sleep_run("processes", "2", "60000,60000");

const SMALL_PLAN: &[&str] = &[
    "--executor",
    "processes,threads",
    "--fib",
    "20..=24",
    "--delays",
    "50..=150:50",
    "--workers",
    "3",
];

#[test]
fn live_view_runs_exports_and_quits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(SMALL_PLAN, dir.path(), 120, 40);
    // Read before poolscope started: by the first look it may be raw already.
    assert_eq!(
        pty.discipline_at_start,
        (true, true),
        "a fresh pty is cooked"
    );

    pty.wait_for("✓ done", Duration::from_secs(60));
    // The header comes first in a frame, which may be read half drawn: wait for the verdict.
    let screen = pty.wait_for("Process vs Threads speed-up", Duration::from_secs(10));
    assert_eq!(
        pty.line_discipline(),
        (false, false),
        "raw mode while the view runs"
    );
    assert!(pty.alternate_screen());
    for name in [
        "process-fibo",
        "thread-fibo",
        "process-get",
        "thread-get",
        "summary",
    ] {
        assert!(screen.contains(name), "{name} missing:\n{screen}");
    }
    // (Worker processes take tasks as soon as they are ready, so on tasks this small the
    // first ones may finish everything before the last slot's process starts.)
    assert!(screen.contains("w0 pid "), "process lanes:\n{screen}");
    assert!(
        screen.contains("w0 tid ") && screen.contains("w2 tid "),
        "thread lanes:\n{screen}"
    );
    assert!(
        screen.contains('█') || screen.contains('▓'),
        "bars:\n{screen}"
    );
    assert!(
        screen.contains("Process vs Threads speed-up"),
        "speed-ups:\n{screen}"
    );

    // Export: the same files as headless, into a new folder under ./poolscope-runs/.
    pty.press("e");
    let screen = pty.wait_for("exported to poolscope-runs/", Duration::from_secs(30));
    let runs: Vec<_> = std::fs::read_dir(dir.path().join("poolscope-runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{screen}");
    let mut worker_pids = Vec::new();
    for (name, tasks) in [
        ("process-fibo", 5),
        ("thread-fibo", 5),
        ("process-get", 3),
        ("thread-get", 3),
    ] {
        let path = runs[0].join(format!("{name}.csv"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().lines().next(),
            Some(HEADER)
        );
        let (_, rows) = read_csv(&path);
        assert_eq!(rows.len(), tasks, "{name}");
        assert!(rows.iter().all(|r| r["status"] == "ok"), "{name}: {rows:?}");
        if name.starts_with("process") {
            worker_pids.extend(rows.iter().map(|r| r["pid"].parse::<u32>().unwrap()));
        }
    }
    assert!(runs[0].join("summary.json").is_file());

    // Resizing at any moment: too small shows a notice, back to normal redraws the view.
    pty.resize(24, 6);
    pty.wait_for("too small", Duration::from_secs(10));
    pty.resize(100, 30);
    pty.wait_for("process-fibo", Duration::from_secs(10));

    pty.press("q");
    let status = pty.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    pty.assert_restored();
    assert_all_gone(&worker_pids);
}

/// SIGTERM in the middle of a run: workers killed, terminal restored, exit 128 + 15.
#[test]
fn sigterm_mid_run_restores_the_terminal_and_kills_workers() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&LONG_SLEEPS, dir.path(), 100, 30);
    pty.wait_for("w1 pid", Duration::from_secs(60));
    let pid = pty.pid();
    let workers = wait_for_children(pid, 2);

    // Export mid-run: the tasks still running are rows with status `running`.
    pty.press("e");
    pty.wait_for("exported to", Duration::from_secs(30));
    let run = std::fs::read_dir(dir.path().join("poolscope-runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (_, rows) = read_csv(&run.join("process-sleep.csv"));
    let statuses: Vec<_> = rows.iter().map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses, ["running", "running"]);
    assert!(
        rows.iter()
            .all(|r| !r["start_time"].is_empty() && r["end_time"].is_empty())
    );

    send_signal(pid, libc::SIGTERM);
    assert_eq!(pty.wait_exit(Duration::from_secs(30)).exit_code(), 143);
    pty.assert_restored();
    assert_all_gone(&workers);
}

/// Keys work while the run goes on: select, reorder, zoom, freeze, help, rerun.
#[test]
fn keys_change_the_view_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let args = sleep_run("threads,processes", "3", "300..=900:300");
    let mut pty = Pty::spawn(&args, dir.path(), 120, 40);
    pty.wait_for("w0 tid", Duration::from_secs(60));
    pty.press(" ");
    pty.wait_for("FROZEN", Duration::from_secs(10));
    pty.press(" +");
    pty.wait_for("zoom ×2", Duration::from_secs(10));
    pty.press("0s");
    pty.wait_for("#0 300 ms", Duration::from_secs(10));
    pty.press("?");
    pty.wait_for("any key closes", Duration::from_secs(10));
    pty.press("x");
    pty.press("2");
    pty.wait_for("✓ done", Duration::from_secs(60));
    pty.press("r");
    pty.wait_for("restarted the plan", Duration::from_secs(30));
    pty.wait_for("✓ done", Duration::from_secs(60));
    pty.press("\x03"); // Ctrl-C quits too, as an interrupted program: 130
    assert_eq!(pty.wait_exit(Duration::from_secs(30)).exit_code(), 130);
}

/// A panic outside any task, on a background thread: the terminal is restored first, the
/// message is printed on the normal screen, poolscope exits 101 and its workers die too.
#[test]
fn a_panic_restores_the_terminal_then_reports() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("NO_COLOR", "1"), ("POOLSCOPE_TEST_PANIC_AFTER_MS", "1500")];
    let mut pty = Pty::spawn_with(&LONG_SLEEPS, dir.path(), 100, 30, &env);
    pty.wait_for("w1 pid", Duration::from_secs(60));
    let workers = wait_for_children(pty.pid(), 2);
    assert_eq!(pty.wait_exit(Duration::from_secs(30)).exit_code(), 101);
    pty.assert_restored();
    pty.wait_for("test panic requested", Duration::from_secs(10));
    assert_all_gone(&workers);
}
