//! Helpers shared by the integration tests: the binary, CSV reading, and process lookups
//! through /proc (to check that no worker outlives poolscope).

#![allow(dead_code)]

pub mod pty;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The poolscope binary built for these tests.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_poolscope")
}

/// `poolscope` as an assert_cmd command, run in `dir`.
pub fn poolscope_in(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(bin());
    cmd.current_dir(dir).timeout(Duration::from_secs(120));
    cmd
}

/// Runs `plan` through the library with this build's binary as the worker, calling `each`
/// on every event as it arrives (while the run goes on); returns them all, through
/// `RunFinished`, once the run's threads are joined.
pub fn collect_events(
    plan: &poolscope::model::plan::Plan,
    mut each: impl FnMut(&poolscope::model::event::Event),
) -> Vec<poolscope::model::event::Event> {
    let options = poolscope::engine::runner::RunOptions {
        worker_exe: std::path::PathBuf::from(bin()),
    };
    let handle = poolscope::engine::runner::start(plan, &options).unwrap();
    let mut events = Vec::new();
    while let Ok(event) = handle.events.recv_timeout(Duration::from_secs(60)) {
        each(&event);
        let last = matches!(event, poolscope::model::event::Event::RunFinished { .. });
        events.push(event);
        if last {
            break;
        }
    }
    handle.join();
    events
}

/// A CSV file as rows of column → value.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

/// The header every CSV starts with.
pub const HEADER: &str = "tag,start_time,end_time,elapsed,result,experiment,executor,workload,input,worker,pid,tid,cpu_time,status,error,label";

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `(pid, ppid, state)` of a process from /proc/PID/stat.
fn stat(pid: u32) -> Option<(u32, char)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: parse after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

/// Live (not zombie) children of `parent`.
pub fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| matches!(stat(pid), Some((ppid, state)) if ppid == parent && state != 'Z'))
        .collect()
}

/// Whether `pid` is a running process (a zombie counts as gone: it runs nothing).
pub fn is_alive(pid: u32) -> bool {
    matches!(stat(pid), Some((_, state)) if state != 'Z' && state != 'X')
}

/// Sends `signal` to `pid`.
pub fn send_signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) with a pid and a signal number touches no memory.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Flags for a run of the sleep workload on an `executor` pool of `workers`, one task per
/// delay in `delays` (ms, comma-separated): long sleeps keep a run going while a test
/// signals or kills something.
pub const fn sleep_run<'a>(executor: &'a str, workers: &'a str, delays: &'a str) -> [&'a str; 8] {
    [
        "--workload",
        "sleep",
        "--executor",
        executor,
        "--workers",
        workers,
        "--delays",
        delays,
    ]
}

/// Starts poolscope headless in `dir` with `args`, files into `dir/o`, output discarded,
/// for tests that signal or kill it.
pub fn spawn_headless(dir: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(bin())
        .current_dir(dir)
        .args(["--headless", "--out", "o"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `parent` has exactly `count` live children (its workers); returns them.
pub fn wait_for_children(parent: u32, count: usize) -> Vec<u32> {
    let mut children = Vec::new();
    let found = wait_until(Duration::from_secs(30), || {
        children = children_of(parent);
        children.len() == count
    });
    assert!(
        found,
        "expected {count} workers of {parent}, saw {children:?}"
    );
    children
}

/// Asserts every process in `pids` is gone within a few seconds.
pub fn assert_all_gone(pids: &[u32]) {
    let gone = wait_until(Duration::from_secs(10), || {
        pids.iter().all(|&pid| !is_alive(pid))
    });
    assert!(
        gone,
        "still alive: {:?}",
        pids.iter().filter(|&&p| is_alive(p)).collect::<Vec<_>>()
    );
}

/// One measuring test at a time in the `measured` binary: the tests that judge the
/// scheduler's figures, a server's lateness or a machine's load take this lock, so none of
/// them runs beside another (tests of one binary run two at a time on a 2-core machine).
pub fn measuring() -> std::sync::MutexGuard<'static, ()> {
    static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    MEASURING.lock().unwrap_or_else(|e| e.into_inner())
}
