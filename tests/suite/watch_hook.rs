//! poolscope's Python hook, in real CPython: task records from thread pools and process
//! pools under every start method, a shadowed `sitecustomize` still run, descriptor numbers
//! reused without harm, and a program that never notices the hook.

use std::collections::HashSet;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use poolscope::engine::watch::python::{HookEvent, HookMessage, HookRecord, PoolKind, PythonHook};

/// Runs `script` under python3 with the hook (and `extra_path` after it on PYTHONPATH);
/// returns its stdout, stderr and the records the hook sent. `None` without python3.
fn run_python(
    script: &str,
    extra_path: Option<&std::path::Path>,
) -> Option<(String, String, Vec<HookRecord>)> {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 is not installed here");
        return None;
    }
    let hook = PythonHook::install().unwrap();
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    hook.spawn_readers(move |record| tx.lock().unwrap().send(record).is_ok())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prog.py"), script).unwrap();
    let mut command = Command::new("python3");
    command.arg("prog.py").current_dir(dir.path());
    for (key, value) in hook.environment(extra_path.map(|p| p.as_os_str())) {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    // Every process has exited and closed its connection: what it sent is in the readers,
    // which hand it over within moments.
    let mut records = Vec::new();
    let mut closed = HashSet::new();
    while let Ok(message) = rx.recv_timeout(Duration::from_secs(2)) {
        match message {
            // (A process may connect again after its program closed the descriptor.)
            HookMessage::Record(record) => records.push(*record),
            HookMessage::Closed { pid } => {
                closed.extend(pid);
            }
        }
    }
    // Every process that reported has its connection's close said.
    for r in &records {
        assert!(closed.contains(&r.pid), "no close for {}", r.pid);
    }
    Some((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        records,
    ))
}

const POOLS: &str = r#"
import multiprocessing, os, sys
from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def boom(n):
    raise ValueError("no %d" % n)

if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    with ThreadPoolExecutor(max_workers=2) as pool:
        print(list(pool.map(fib, [10, 11, 12])))
        try:
            pool.submit(boom, 3).result()
        except ValueError:
            print("caught")
    for method in ["spawn", "fork", "forkserver"]:
        ctx = multiprocessing.get_context(method)
        with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
            print(method, list(pool.map(fib, [15, 16])))
    print("pid", os.getpid())
"#;

#[test]
fn thread_and_process_pools_report_their_tasks_under_every_start_method() {
    let Some((stdout, stderr, records)) = run_python(POOLS, None) else {
        return;
    };
    assert!(
        stdout.contains("[55, 89, 144]"),
        "the program ran as ever: {stdout}{stderr}"
    );
    assert!(stdout.contains("caught"), "{stdout}");
    for method in ["spawn", "fork", "forkserver"] {
        assert!(
            stdout.contains(&format!("{method} [610, 987]")),
            "{stdout}{stderr}"
        );
    }
    assert!(
        !stderr.contains("poolscope hook"),
        "the hook never disabled: {stderr}"
    );
    let main_pid: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("pid "))
        .unwrap()
        .parse()
        .unwrap();
    // Thread pool: 4 tasks, started and ended in the main process on pool threads.
    let thread: Vec<&HookRecord> = records
        .iter()
        .filter(|r| r.kind == PoolKind::Thread)
        .collect();
    let submits = thread
        .iter()
        .filter(|r| r.event == HookEvent::Submit)
        .count();
    assert_eq!(submits, 4, "{thread:#?}");
    for r in &thread {
        assert_eq!(r.pid, main_pid);
    }
    let fib_submit = thread
        .iter()
        .find(|r| r.event == HookEvent::Submit && r.arg.as_deref() == Some("10"))
        .unwrap();
    assert_eq!(fib_submit.func.as_deref(), Some("fib"));
    let ends: Vec<&&HookRecord> = thread
        .iter()
        .filter(|r| r.event == HookEvent::End)
        .collect();
    assert_eq!(ends.len(), 4);
    assert!(ends.iter().any(|r| r.result.as_deref() == Some("144")));
    assert!(
        ends.iter()
            .any(|r| r.error.as_deref() == Some("ValueError('no 3')"))
    );
    // Process pools: each of the three ran 2 tasks, started and ended in worker processes
    // (pids other than the main one), submitted from the main one, named by the user's
    // function and argument (not map's chunks).
    let process: Vec<&HookRecord> = records
        .iter()
        .filter(|r| r.kind == PoolKind::Process)
        .collect();
    let pools: HashSet<&str> = process.iter().map(|r| r.pool.as_str()).collect();
    assert_eq!(pools.len(), 3, "{process:#?}");
    for r in &process {
        match r.event {
            HookEvent::Submit => {
                assert_eq!(r.pid, main_pid);
                assert_eq!(r.func.as_deref(), Some("fib"));
                assert!(matches!(r.arg.as_deref(), Some("15" | "16")), "{r:?}");
            }
            HookEvent::Start | HookEvent::End => assert_ne!(r.pid, main_pid, "{r:?}"),
        }
    }
    let starts = process
        .iter()
        .filter(|r| r.event == HookEvent::Start)
        .count();
    let ends: Vec<_> = process
        .iter()
        .filter(|r| r.event == HookEvent::End)
        .collect();
    assert_eq!(starts, 6);
    assert_eq!(ends.len(), 6);
    assert!(
        ends.iter().any(|r| r.result.as_deref() == Some("987")),
        "{ends:?}"
    );
    // Times run forwards on one clock across processes.
    for r in &records {
        assert!(r.monotonic_ns > 0);
    }
}

#[test]
fn a_shadowed_sitecustomize_still_runs_and_reused_descriptors_do_no_harm() {
    let shadowed = tempfile::tempdir().unwrap();
    std::fs::write(
        shadowed.path().join("sitecustomize.py"),
        "import builtins\nbuiltins.SHADOWED_RAN = True\n",
    )
    .unwrap();
    let script = r#"
import builtins, os, multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

def square(n):
    return n * n

if __name__ == "__main__":
    print("shadowed", getattr(builtins, "SHADOWED_RAN", False))
    # A first task opens the hook's socket in this process...
    with ThreadPoolExecutor(max_workers=1) as pool:
        print(pool.submit(square, 2).result())
    # Close every inherited descriptor and take the numbers for files of our own: the hook
    # reports by path, so nothing it holds is lost or written to the wrong file.
    os.closerange(3, 256)
    written = open("mine.txt", "w")  # the lowest number: the hook's socket's old one
    held = [open(os.devnull) for _ in range(20)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        print(list(pool.map(square, [3, 4])))
    # The hook neither wrote into the program's files nor closed them.
    for f in held:
        f.read()
    written.write("mine")
    written.close()
    print("held", open("mine.txt").read())
"#;
    let Some((stdout, stderr, records)) = run_python(script, Some(shadowed.path())) else {
        return;
    };
    assert!(stdout.contains("shadowed True"), "{stdout}{stderr}");
    assert!(stdout.contains("[9, 16]"), "{stdout}{stderr}");
    assert!(stdout.contains("held mine\n"), "{stdout}{stderr}");
    // ...and after its descriptor was closed and its number reused, the rest still arrive.
    let ends = records.iter().filter(|r| r.event == HookEvent::End).count();
    assert_eq!(ends, 3, "{records:#?}\n{stderr}");
    assert!(records.iter().all(|r| r.dropped == 0), "{records:#?}");
}

/// A CPython program with three busy threads (two of them always waiting for the GIL), one
/// blocked on a `Lock`, one sleeping and one reading a pipe: each waiting thread's syscall
/// says what it waits for, the GIL told from the lock by the interpreter's `_PyRuntime`.
#[test]
fn python_threads_wait_for_the_gil_a_lock_a_sleep_and_a_pipe() {
    use poolscope::engine::watch::syscall::{self, Wait};
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 is not installed here");
        return;
    }
    let script = r#"
import os, threading, time
def busy():
    x = 0
    while True:
        x += 1
lock = threading.Lock(); lock.acquire()
r, w = os.pipe()
workers = [("busy", busy)] * 3 + [
    ("locked", lock.acquire),
    ("sleeper", lambda: time.sleep(100)),
    ("reader", lambda: os.read(r, 1)),
]
for name, target in workers:
    threading.Thread(target=target, name=name, daemon=True).start()
print(os.getpid(), flush=True)
time.sleep(100)
"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gil.py"), script).unwrap();
    let mut child = Command::new("python3")
        .arg("gil.py")
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let pid: u32 = line.trim().parse().unwrap();
    let runtime = syscall::python_runtime(pid).expect("CPython's _PyRuntime found");
    // Over a second, every thread's wait as its syscall tells it, most often.
    let mut seen: std::collections::HashMap<u32, std::collections::HashMap<Wait, u32>> =
        Default::default();
    for _ in 0..50 {
        for entry in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
            let tid: u32 = entry
                .unwrap()
                .file_name()
                .to_string_lossy()
                .parse()
                .unwrap();
            let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/syscall"))
            else {
                continue;
            };
            if let Some((nr, args)) = syscall::parse(&text) {
                *seen
                    .entry(tid)
                    .or_default()
                    .entry(syscall::classify(nr, args, Some(&runtime)))
                    .or_default() += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mostly = |wait: Wait| {
        seen.values()
            .filter(|counts| counts.iter().max_by_key(|(_, n)| **n).map(|(w, _)| *w) == Some(wait))
            .count()
    };
    assert!(
        mostly(Wait::Gil) >= 2,
        "two busy threads wait for the GIL: {seen:?}"
    );
    assert_eq!(mostly(Wait::Lock), 1, "the Lock: {seen:?}");
    assert_eq!(
        mostly(Wait::Sleep),
        2,
        "the sleeper and the main thread: {seen:?}"
    );
    assert_eq!(mostly(Wait::Io), 1, "the pipe reader: {seen:?}");
}

/// Each process says who it is with its first record (its parent and command line, which
/// poolscope needs if the process exits before its records are read); a command line that
/// is not UTF-8 comes as valid text, never losing the record.
#[test]
fn each_thread_introduces_its_process_once_even_with_a_command_line_that_is_not_utf8() {
    let Some((_, stderr, records)) = run_python(
        r#"
import os, sys
from concurrent.futures import ThreadPoolExecutor
sys.orig_argv.append("caf\udce9.txt")
sys.orig_argv.append("x" * 100000)
sys.orig_argv.append("\ud800")
with ThreadPoolExecutor(max_workers=1) as pool:
    print(list(pool.map(abs, [-1, -2])))
"#,
        None,
    ) else {
        return;
    };
    assert!(!stderr.contains("poolscope hook"), "{stderr}");
    // A connection per thread (no thread waits for another's send): each thread's first
    // record introduces the process, and no other record does.
    let threads: HashSet<u32> = records.iter().map(|r| r.tid).collect();
    assert_eq!(
        threads.len(),
        2,
        "the main thread and the pool's: {records:?}"
    );
    for tid in threads {
        let own: Vec<&HookRecord> = records.iter().filter(|r| r.tid == tid).collect();
        assert!(own[0].argv.is_some(), "{own:?}");
        assert!(own[1..].iter().all(|r| r.argv.is_none()), "{own:?}");
    }
    let first = &records[0];
    let argv = first.argv.as_ref().unwrap();
    assert!(argv.iter().any(|a| a.ends_with("prog.py")), "{argv:?}");
    assert!(argv.contains(&"caf\u{fffd}.txt".to_string()), "{argv:?}");
    assert!(argv.iter().all(|a| a.chars().count() <= 200), "cut");
    assert_eq!(
        argv.last().map(String::as_str),
        Some("?"),
        "a word no bytes stand for"
    );
    assert!(first.ppid.is_some_and(|p| p > 0));
    assert_eq!(records.len(), 2 * 3, "submit, start and end of both tasks");
}
