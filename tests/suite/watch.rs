//! `poolscope watch`, the built binary: a program of our own whose threads are busy,
//! asleep, reading a pipe and waiting on a lock, each shaded as it is; real CPython pools
//! (threads taking turns with the GIL, a process pool's tasks on its processes); child
//! processes with panels of their own; exit statuses, errors, an attached pid never
//! signalled, the files and their reopening, and the live view in a pseudo-terminal that
//! the program's output never reaches.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::pty::Pty;
use crate::common::*;

/// The environment variable that turns the helper test below into the program watched.
const HELPER: &str = "POOLSCOPE_WATCH_HELPER";

/// Not a test: the program the tests watch (this test binary, run with `--ignored --exact`
/// and [`HELPER`] set). Four named threads: one busy, one sleeping, one reading a pipe
/// nobody writes, one waiting on a lock the main thread holds; then it waits a minute.
#[test]
#[ignore = "the program watched by the other tests, not a test"]
fn helper_program_with_four_kinds_of_thread() {
    if std::env::var_os(HELPER).is_none() {
        return;
    }
    let lock = Arc::new(Mutex::new(()));
    let held = lock.lock().unwrap();
    let spawn = |name: &str, body: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(name.into())
            .spawn(body)
            .unwrap();
    };
    spawn(
        "busy",
        Box::new(|| {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }),
    );
    spawn(
        "sleeper",
        Box::new(|| {
            loop {
                std::thread::sleep(Duration::from_millis(200));
            }
        }),
    );
    let mut fds = [0; 2];
    // SAFETY: pipe fills the two descriptors we own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let read_end = fds[0];
    spawn(
        "reader",
        Box::new(move || {
            let mut byte = [0u8; 1];
            // SAFETY: a read into our own buffer from our own pipe; nobody ever writes.
            unsafe { libc::read(read_end, byte.as_mut_ptr().cast(), 1) };
        }),
    );
    let waiter = Arc::clone(&lock);
    spawn(
        "locked",
        Box::new(move || {
            let _never = waiter.lock();
        }),
    );
    println!("helper ready");
    std::thread::sleep(Duration::from_secs(60));
    drop(held);
}

/// The helper program's command line.
fn helper() -> Vec<String> {
    vec![
        std::env::current_exe().unwrap().display().to_string(),
        "--exact".into(),
        "watch::helper_program_with_four_kinds_of_thread".into(),
        "--ignored".into(),
        "--nocapture".into(),
        "--test-threads".into(),
        "1".into(),
    ]
}

fn python3() -> bool {
    let there = Command::new("python3").arg("--version").output().is_ok();
    if !there {
        eprintln!("skipped: python3 is not installed here");
    }
    there
}

/// `poolscope watch --headless --out DIR ARGS…` in `dir`, with `env`; its output.
fn watch(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(bin());
    command
        .current_dir(dir)
        .args(["watch", "--headless", "--out", "out"])
        .args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// Per thread name, seconds spent in each of: on a CPU or wanting one, I/O, sleep, lock,
/// GIL, other blocked (from `watch-samples.csv`).
fn time_by_thread(dir: &Path) -> HashMap<String, [f64; 6]> {
    let (_, rows) = read_csv(&dir.join("watch-samples.csv"));
    let mut by: HashMap<String, [f64; 6]> = HashMap::new();
    for r in rows {
        let f = |k: &str| r[k].parse::<f64>().unwrap_or(0.0);
        let length = f("t_end") - f("t_start");
        let t = by.entry(r["comm"].clone()).or_default();
        let blocked = f("blocked");
        let (io, sleep, lock, gil) = (f("io"), f("sleep"), f("lock"), f("gil"));
        t[0] += (f("running") + f("runnable")) * length;
        t[1] += io * length;
        t[2] += sleep * length;
        t[3] += lock * length;
        t[4] += gil * length;
        t[5] += (blocked - io - sleep - lock - gil).max(0.0) * length;
    }
    by
}

/// Which of the six the thread spent most of its time in.
fn mostly(t: &[f64; 6]) -> &'static str {
    let names = ["cpu", "io", "sleep", "lock", "gil", "other"];
    let (i, _) = t
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    names[i]
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_programs_threads_are_shaded_by_what_they_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--duration", "3", "--"];
    let helper = helper();
    args.extend(helper.iter().map(String::as_str));
    let output = watch(dir.path(), &args, &[(HELPER, "1")]);
    let out = dir.path().join("out");
    let by = time_by_thread(&out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for (thread, expected) in [
        ("busy", "cpu"),
        ("sleeper", "sleep"),
        ("reader", "io"),
        ("locked", "lock"),
    ] {
        let t = by
            .get(thread)
            .unwrap_or_else(|| panic!("no lane {thread}: {by:?}\n{stderr}"));
        assert_eq!(mostly(t), expected, "{thread}: {t:?}");
        // Mostly, not barely: over three seconds, at least 60 % of the sampled time.
        let total: f64 = t.iter().sum();
        assert!(
            t.iter().cloned().fold(0.0, f64::max) >= 0.6 * total,
            "{thread}: {t:?}"
        );
    }
    // Stopped at --duration like a quit: SIGTERM (the helper dies of it).
    assert_eq!(output.status.code(), Some(128 + libc::SIGTERM), "{stderr}");
    let json = summary(&out);
    assert_eq!(json["exit"]["signal"], libc::SIGTERM);
    // What sampling cost is said once, with the results (stdout), not among the progress.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.matches("sampling cost").count(), 1, "{stdout}");
    assert!(!stderr.contains("sampling cost"), "{stderr}");
    // The program's output went to its log, and its last lines were printed after.
    assert!(
        std::fs::read_to_string(out.join("watch.log"))
            .unwrap()
            .contains("helper ready")
    );
    assert!(stderr.contains("helper ready"), "{stderr}");
}

#[test]
fn without_syscall_waits_are_told_from_wchan_and_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--duration", "2", "--"];
    let helper = helper();
    args.extend(helper.iter().map(String::as_str));
    watch(
        dir.path(),
        &args,
        &[(HELPER, "1"), ("POOLSCOPE_TEST_NO_SYSCALL", "1")],
    );
    let out = dir.path().join("out");
    let by = time_by_thread(&out);
    for (thread, expected) in [("sleeper", "sleep"), ("reader", "io"), ("locked", "lock")] {
        assert_eq!(mostly(&by[thread]), expected, "{thread}: {:?}", by[thread]);
    }
    let notices = summary(&out)["notices"].to_string();
    assert!(
        notices.contains("wchan") && notices.contains("GIL cannot be told"),
        "{notices}"
    );
}

#[test]
fn a_python_thread_pool_runs_one_thread_at_a_time_and_the_others_wait_for_the_gil() {
    if !python3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pool.py"),
        r#"
from concurrent.futures import ThreadPoolExecutor
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
with ThreadPoolExecutor(max_workers=4) as pool:
    print(list(pool.map(fib, [28] * 8)))
"#,
    )
    .unwrap();
    let output = watch(dir.path(), &["--", "python3", "pool.py"], &[]);
    assert!(output.status.success(), "{output:?}");
    let out = dir.path().join("out");
    let (header, rows) = read_csv(&out.join("thread-fib.csv"));
    assert_eq!(
        header[..7],
        [
            "tag",
            "start_time",
            "end_time",
            "elapsed",
            "result",
            "pid",
            "tid"
        ]
    );
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r["result"] == "317811"), "{rows:?}");
    let pool = &summary(&out)["pools"][0];
    assert_eq!(pool["executor"], "threads");
    let makespan = pool["makespan_s"].as_f64().unwrap();
    // The pool's threads, over the pool's time: about one runs at a time (their CPU time
    // is at most about the makespan, not four times it on two cores), and the others wait
    // for the GIL: three waiting while one runs, so longer than the CPU time (the machine's
    // other load, the rest of the suite, makes every thread also wait for a CPU, the
    // holder too, so not three times).
    let cpu = pool["cpu_time_s"].as_f64().unwrap();
    let gil = pool["gil_wait_s"].as_f64().unwrap();
    assert!(cpu <= 1.3 * makespan, "cpu {cpu} s over {makespan} s");
    assert!(
        gil >= cpu,
        "GIL wait {gil} s against {cpu} s on a CPU over {makespan} s (4 threads, one runs); the process: {}",
        summary(&out)["processes"][0]
    );
    // Python's own thread names for the lanes.
    let threads = summary(&out)["processes"][0]["threads"].to_string();
    assert!(threads.contains("ThreadPoolExecutor-0_"), "{threads}");
}

#[test]
fn a_process_pool_under_spawn_runs_its_tasks_on_its_worker_processes() {
    if !python3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pool.py"),
        r#"
import multiprocessing, os
from concurrent.futures import ProcessPoolExecutor
def square(n):
    return n * n
if __name__ == "__main__":
    print("main", os.getpid())
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        print(list(pool.map(square, [1, 2, 3, 4])))
"#,
    )
    .unwrap();
    let output = watch(dir.path(), &["--", "python3", "pool.py"], &[]);
    assert!(output.status.success(), "{output:?}");
    let out = dir.path().join("out");
    let json = summary(&out);
    let pids: Vec<u64> = json["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    let main = pids[0];
    let (_, rows) = read_csv(&out.join("process-square.csv"));
    assert_eq!(rows.len(), 4);
    for r in &rows {
        let pid: u64 = r["pid"].parse().unwrap();
        assert_ne!(pid, main, "a worker ran it: {r:?}");
        assert!(
            pids.contains(&pid),
            "its process has a panel: {r:?} {pids:?}"
        );
        assert_eq!(r["tid"], r["pid"], "on the worker's main thread: {r:?}");
        assert_eq!(r["status"], "ok");
    }
    // Each worker process's panel holds the tasks it ran.
    let tasks: u64 = json["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["pid"] != main)
        .map(|p| p["tasks"].as_u64().unwrap())
        .sum();
    assert_eq!(tasks, 4);
}

/// A pool's worker processes can start, run their tasks and exit before poolscope reads a
/// record of theirs (a loaded machine, a slow round): their tasks are still drawn, on
/// panels named from what the hook said of them. Made certain here by stopping poolscope
/// (SIGSTOP from the program) for as long as the pool lives.
#[test]
fn a_worker_that_exited_before_its_records_were_read_keeps_its_tasks() {
    if !python3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pool.py"),
        r#"
import multiprocessing, os, signal, time
from concurrent.futures import ProcessPoolExecutor
def square(n):
    return n * n
def watcher():
    # python3 may be a shim (pyenv's bash) between poolscope and us: go up to poolscope.
    pid = os.getppid()
    while pid > 1:
        with open("/proc/%d/comm" % pid) as f:
            if f.read().strip() == "poolscope":
                return pid
        with open("/proc/%d/stat" % pid) as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    raise SystemExit("poolscope is not an ancestor")
if __name__ == "__main__":
    watcher = watcher()
    os.kill(watcher, signal.SIGSTOP)
    try:
        with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
            workers = list(pool._processes)
            print(list(pool.map(square, [1, 2, 3, 4])))
        for pid in workers:  # joined by the pool's shutdown: gone from /proc
            assert not os.path.exists("/proc/%d" % pid), pid
    finally:
        print("resumed", time.time(), flush=True)
        os.kill(watcher, signal.SIGCONT)
    time.sleep(0.3)
"#,
    )
    .unwrap();
    let output = watch(dir.path(), &["--", "python3", "pool.py"], &[]);
    assert!(output.status.success(), "{output:?}");
    let out = dir.path().join("out");
    let json = summary(&out);
    let processes = json["processes"].as_array().unwrap();
    let main = processes[0]["pid"].as_u64().unwrap();
    let (_, rows) = read_csv(&out.join("process-square.csv"));
    assert_eq!(rows.len(), 4, "{rows:?}");
    for r in &rows {
        assert_eq!(r["status"], "ok", "{r:?}");
        assert_ne!(
            r["pid"].parse::<u64>().unwrap(),
            main,
            "a worker ran it: {r:?}"
        );
    }
    let workers: Vec<_> = processes.iter().filter(|p| p["pid"] != main).collect();
    let tasks: u64 = workers.iter().map(|p| p["tasks"].as_u64().unwrap()).sum();
    assert_eq!(tasks, 4, "{workers:?}");
    let log = std::fs::read_to_string(out.join("watch.log")).unwrap();
    let resumed: f64 = log
        .lines()
        .find_map(|l| l.strip_prefix("resumed "))
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("{log}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for p in workers.iter().filter(|p| p["tasks"].as_u64() > Some(0)) {
        // Named from the hook's argv: multiprocessing's spawn_main.
        let name = p["name"].as_str().unwrap_or_default();
        assert!(name.contains("spawn_main"), "{p}");
        // Never sampled: what it did with its time is unknown, not zero.
        assert!(p["cpu_time_s"].is_null(), "{p}");
        // Its panel ends at its last record: after its tasks, before poolscope resumed.
        let finished = p["finished_at"].as_f64().unwrap();
        let last_end = rows
            .iter()
            .filter(|r| r["pid"].parse::<u64>().ok() == p["pid"].as_u64())
            .map(|r| r["end_time"].parse::<f64>().unwrap())
            .fold(0.0, f64::max);
        assert!(
            finished >= last_end - 1e-6 && finished <= resumed,
            "ended at {finished}, its last task at {last_end}, resumed at {resumed}: {p}"
        );
        // Printed so too: when it ended is known, what it did with its time is '-'.
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{} ", p["pid"])))
            .unwrap_or_else(|| panic!("{stdout}"));
        let words: Vec<&str> = row.split_whitespace().collect();
        let (ended, figures) = words.split_at(words.len() - 7);
        assert!(figures.iter().all(|w| *w == "-"), "{row}");
        assert!(["ms", "s"].contains(ended.last().unwrap()), "{row}");
    }
}

/// A program that runs another under the same name (pyenv's `python3` shim is a bash
/// script that ends in the real `python3`) is renamed when it does: told by its program
/// (`/proc/<pid>/exe`) changing, not only its name.
#[test]
fn an_exec_under_the_same_name_renames_the_panel() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let sleep = ["/bin/sleep", "/usr/bin/sleep"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap();
    std::os::unix::fs::symlink(sleep, bin.join("napper")).unwrap();
    let script = dir.path().join("napper");
    std::fs::write(
        &script,
        "#!/bin/sh\n# Past the first scans, then the real napper, under the same name.\nsleep 1.5\nexec \"$(dirname \"$0\")/bin/napper\" 0.6\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let output = watch(dir.path(), &["--", "./napper"], &[]);
    assert!(output.status.success(), "{output:?}");
    let json = summary(&dir.path().join("out"));
    let root = &json["processes"][0];
    let name = root["name"].as_str().unwrap();
    assert!(name.ends_with(" napper 0.6"), "{root}");
}

/// A command that ends at once is not judged on what sampling cost: under two seconds,
/// start-up is most of what the meter saw (it read 99 % of a core for `true`).
#[test]
fn a_watch_under_a_second_does_not_judge_the_sampling_cost() {
    let dir = tempfile::tempdir().unwrap();
    let output = watch(dir.path(), &["--", "true"], &[]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("sampling cost not judged: the watch lasted under two seconds"),
        "{stdout}"
    );
    assert!(!stdout.contains("% of a core"), "{stdout}");
    let json = summary(&dir.path().join("out"));
    assert!(
        json["sampler"].is_null() || json["sampler"]["cpu_share"].is_null(),
        "{json}"
    );
}

/// A program close to its descriptor limit does not run out because it is watched: past
/// a few threads with a connection of their own, a process's threads share one (200 pool
/// threads each holding a file under `ulimit -n 256` failed with EMFILE before), and every
/// task is still recorded.
#[test]
fn a_program_near_its_descriptor_limit_still_runs_watched() {
    if !python3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fds.py"),
        r#"
import time
from concurrent.futures import ThreadPoolExecutor
def hold(x):
    with open(__file__) as f:
        time.sleep(0.3)
        return len(f.read(1))
with ThreadPoolExecutor(200) as pool:
    print(sum(pool.map(hold, range(200))))
"#,
    )
    .unwrap();
    let output = watch(
        dir.path(),
        &[
            "--python",
            "--",
            "sh",
            "-c",
            "ulimit -n 256 && exec python3 fds.py",
        ],
        &[],
    );
    let log = std::fs::read_to_string(dir.path().join("out/watch.log")).unwrap_or_default();
    assert!(output.status.success(), "{output:?}\n{log}");
    assert!(log.contains("200"), "{log}");
    let (_, rows) = read_csv(&dir.path().join("out/thread-hold.csv"));
    assert_eq!(rows.len(), 200);
}

#[test]
fn a_child_process_gets_a_panel_of_its_own_and_the_status_is_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let output = watch(
        dir.path(),
        &["--", "sh", "-c", "sleep 0.7 & wait; exit 7"],
        &[],
    );
    assert_eq!(output.status.code(), Some(7), "{output:?}");
    let json = summary(&dir.path().join("out"));
    let names: Vec<String> = json["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names[0].contains("sh -c"), "{names:?}");
    assert!(
        names.iter().skip(1).any(|n| n.contains("sleep 0.7")),
        "{names:?}"
    );
    assert_eq!(json["exit"]["code"], 7);
    // The watch ends when its processes did, not after the wait for the hook's last
    // records (200 ms of quiet): the header's time is the panels' time.
    let last_process = json["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["finished_at"].as_f64())
        .fold(0.0, f64::max);
    let ended = json["finished_at"].as_f64().unwrap();
    assert!(
        ended >= last_process && ended - last_process < 0.2,
        "the watch ended {} s after its last process",
        ended - last_process
    );
    // Killed by a signal: 128 + it, as a shell says.
    let output = watch(dir.path(), &["--", "sh", "-c", "kill -9 $$"], &[]);
    assert_eq!(output.status.code(), Some(128 + 9), "{output:?}");
}

#[test]
fn a_command_that_ignores_sigterm_is_killed_two_seconds_later() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let output = watch(
        dir.path(),
        &[
            "--duration",
            "0.5",
            "--",
            "sh",
            "-c",
            "trap '' TERM; sleep 30",
        ],
        &[],
    );
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(128 + 9), "{output:?}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert!(
        took >= Duration::from_millis(2400),
        "SIGKILL only after 2 s: {took:?}"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (vec!["--pid", "999999999"], "no process 999999999"),
        (
            vec!["--", "/no/such/program-here"],
            "cannot start /no/such/program-here: no such program",
        ),
        (vec![], "nothing to watch"),
        (vec!["--pid", "abc"], "--pid 'abc'"),
        (vec!["--pid", "1", "--", "true"], "not both"),
        (vec!["--pid", "1", "--serve"], "--serve"),
        (vec!["--duration", "0", "--", "true"], "--duration '0'"),
    ] {
        let output = watch(dir.path(), &args, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.contains("error")).count(),
            1,
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn an_attached_pid_is_never_signalled() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("signalled");
    let script = format!(
        "trap 'echo TERM >> {m}' TERM; trap 'echo INT >> {m}' INT; trap 'echo HUP >> {m}' HUP; \
         while :; do sleep 0.1; done",
        m = marker.display()
    );
    let mut target = Command::new("sh").args(["-c", &script]).spawn().unwrap();
    let pid = target.id().to_string();
    // Watched until --duration ends it.
    let output = watch(dir.path(), &["--pid", &pid, "--duration", "1"], &[]);
    assert!(output.status.success(), "{output:?}");
    // Stopped by a signal to poolscope itself: the watch ends, the process goes on.
    let mut watcher = Command::new(bin())
        .current_dir(dir.path())
        .args(["watch", "--headless", "--out", "out2", "--pid", &pid])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    send_signal(watcher.id(), libc::SIGTERM);
    let status = watcher.wait().unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM));
    assert!(is_alive(target.id()), "the attached process lives on");
    assert!(!marker.exists(), "and was never signalled");
    let json = summary(&dir.path().join("out"));
    assert!(json["exit"].is_null(), "poolscope did not start it");
    assert!(!json["processes"].as_array().unwrap().is_empty());
    let _ = target.kill();
    let _ = target.wait();
}

#[test]
fn the_files_have_their_columns_and_view_reopens_the_folder() {
    if !python3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pools.py"),
        r#"
from concurrent.futures import ThreadPoolExecutor
def timed(n):
    return n * 2
def boom(n):
    raise ValueError(n)
with ThreadPoolExecutor(max_workers=2) as pool:
    print(list(pool.map(timed, [1, 2, 3])))
with ThreadPoolExecutor(max_workers=2) as pool:
    print(list(pool.map(timed, [4])))
    try:
        pool.submit(boom, 5).result()
    except ValueError:
        pass
"#,
    )
    .unwrap();
    let output = watch(
        dir.path(),
        &[
            "--trace", "t.json", "--svg", "g.svg", "--", "python3", "pools.py",
        ],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    let out = dir.path().join("out");
    // Per pool, the post's CSV; a second pool of the same kind and function is -2.
    let (header, rows) = read_csv(&out.join("thread-timed.csv"));
    assert_eq!(
        header,
        "tag,start_time,end_time,elapsed,result,pid,tid,pool,executor,function,input,worker,cpu_time,status,error"
            .split(',')
            .collect::<Vec<_>>()
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["tag"], "thread-timed-0");
    assert_eq!(rows[0]["input"], "1");
    assert_eq!(rows[0]["result"], "2");
    // The second pool (named by the first function it ran) also ran the one that raised.
    let (_, rows) = read_csv(&out.join("thread-timed-2.csv"));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["status"], "error");
    assert_eq!(rows[1]["error"], "ValueError(5)");
    let (header, _) = read_csv(&out.join("watch-samples.csv"));
    assert_eq!(
        header[..12],
        [
            "pid", "tid", "comm", "t_start", "t_end", "running", "runnable", "blocked", "io",
            "sleep", "lock", "gil"
        ]
    );
    let json = summary(&out);
    for key in [
        "cpu_time_s",
        "cpu_wait_s",
        "io_s",
        "sleep_s",
        "lock_s",
        "gil_wait_s",
    ] {
        assert!(json["processes"][0][key].is_number(), "{key}: {json}");
        assert!(json["processes"][0]["threads"][0][key].is_number(), "{key}");
    }
    let pool = &json["pools"][0];
    for key in [
        "name",
        "executor",
        "tasks",
        "makespan_s",
        "cpu_time_s",
        "gil_wait_s",
    ] {
        assert!(!pool[key].is_null(), "{key}: {pool}");
    }
    assert!(dir.path().join("t.json").is_file() && dir.path().join("g.svg").is_file());
    // The folder opens again, as it was.
    let view = Command::new(bin())
        .current_dir(dir.path())
        .args(["view", "out", "--print", "--width", "120"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&view.stdout);
    assert!(view.status.success(), "{view:?}");
    assert!(text.contains("python3 pools.py"), "{text}");
    assert!(text.contains("thread-timed-2"), "the pools' table: {text}");
    assert!(text.contains("exit 0"), "{text}");
}

#[test]
fn python_run_with_minus_i_loads_no_hook_and_poolscope_says_so() {
    if !python3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = watch(
        dir.path(),
        &["--", "python3", "-I", "-c", "import time; time.sleep(0.3)"],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("-I (isolated mode"), "{stderr}");
}

#[test]
fn the_live_view_keeps_the_programs_output_off_the_screen_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("stopped");
    // Spelled so that the command line itself (shown in the header) holds no marker.
    let script = format!(
        "trap 'echo TERM > {}; exit 0' TERM; X=GAR; while :; do echo ${{X}}BLE-OUT; \
         echo ${{X}}BLE-ERR >&2; printf '\\033[2J\\033]0;%sBLE-TITLE\\007' $X; sleep 0.05; done",
        marker.display()
    );
    let args = ["watch", "--out", "out", "--", "sh", "-c", script.as_str()];
    let mut pty = Pty::spawn(&args, dir.path(), 100, 30);
    let screen = pty.wait_for("watching", Duration::from_secs(30));
    assert!(screen.contains("sh -c"), "{screen}");
    std::thread::sleep(Duration::from_millis(700));
    let raw = String::from_utf8_lossy(&pty.raw_output()).into_owned();
    assert!(
        !raw.contains("GARBLE"),
        "the program's output reached the screen"
    );
    pty.press("q");
    let status = pty.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    pty.assert_restored();
    assert!(marker.exists(), "q sent SIGTERM to the command it started");
    let log = std::fs::read_to_string(dir.path().join("out/watch.log")).unwrap();
    assert!(log.contains("GARBLE-OUT") && log.contains("GARBLE-ERR"));
    // After the view: its last lines, control characters shown, never obeyed.
    let after = pty.wait_for("last output", Duration::from_secs(10));
    assert!(after.contains("GARBLE"), "{after}");
    assert!(
        dir.path().join("out/summary.json").is_file(),
        "saved on the way out"
    );
}
