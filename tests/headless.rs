//! The headless mode as a user runs it: the binary, its flags, its files and exit codes.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use poolscope::engine::delay_server::DelayServer;
use poolscope::engine::workload::fib;
use predicates::prelude::*;

const SMALL: &[&str] = &[
    "--headless",
    "--executor",
    "processes,threads",
    "--fib",
    "20..=23",
    "--delays",
    "50..=200:50",
];

#[test]
fn a_small_run_writes_the_posts_four_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let assert = poolscope_in(dir.path())
        .args(SMALL)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        // On a busy machine the last worker process may still be starting when the four short
        // tasks are done; the line then says truthfully how many started ("3 of 4").
        .stdout(
            predicate::str::is_match(
                r"Run experiment ProcessPool: running fib over \[20, 21, 22, 23\] among ([1-3] of )?4 workers … done in",
            )
            .unwrap(),
        )
        .stdout(predicate::str::contains("Run experiment ThreadPool: running http over [50, 100, 150, 200] among 4 workers"))
        .stdout(predicate::str::contains("Process vs Threads Fibonacci tasks speed-up = "))
        .stdout(predicate::str::contains("Process vs Threads HTTP Get tasks speed-up = "));
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    for name in ["process-fibo", "thread-fibo", "process-get", "thread-get"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(name)),
            "summary row for {name}:\n{stdout}"
        );
    }

    let mut thread_pids = HashSet::new();
    let mut process_pids = HashSet::new();
    for name in ["process-fibo", "thread-fibo", "process-get", "thread-get"] {
        let path = out.join(format!("{name}.csv"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next(), Some(HEADER), "{name}");
        let (_, rows) = read_csv(&path);
        assert_eq!(rows.len(), 4, "{name}");
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row["tag"], format!("{name}-{i}"));
            assert_eq!(row["status"], "ok", "{name}: {row:?}");
            let start: f64 = row["start_time"].parse().unwrap();
            let end: f64 = row["end_time"].parse().unwrap();
            let elapsed: f64 = row["elapsed"].parse().unwrap();
            assert!(
                row["start_time"].split('.').nth(1).unwrap().len() == 6,
                "microseconds"
            );
            assert!(end >= start && (end - start - elapsed).abs() < 1e-5);
            let pid: u32 = row["pid"].parse().unwrap();
            if name.starts_with("process") {
                process_pids.insert(pid);
            } else {
                thread_pids.insert((pid, row["tid"].clone()));
            }
            if name.ends_with("fibo") {
                let n: u64 = row["input"].parse().unwrap();
                assert_eq!(row["result"], fib(n).to_string());
            } else {
                let delay_ms: f64 = row["input"].parse().unwrap();
                assert!(
                    elapsed >= delay_ms / 1000.0,
                    "{row:?} answered before its delay"
                );
                assert_eq!(row["result"], "HTTP 200 · 6 bytes: 200 OK");
            }
        }
    }
    let own: HashSet<u32> = thread_pids.iter().map(|(pid, _)| *pid).collect();
    assert_eq!(own.len(), 1, "thread rows all carry poolscope's own pid");
    let own = *own.iter().next().unwrap();
    assert!(
        !process_pids.contains(&own),
        "process rows carry child pids"
    );
    assert!(
        process_pids.len() >= 2,
        "several worker processes: {process_pids:?}"
    );
    let tids: HashSet<_> = thread_pids.iter().map(|(_, tid)| tid).collect();
    assert!(tids.len() >= 2, "several pool threads: {tids:?}");

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let names: Vec<_> = summary["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["process-fibo", "thread-fibo", "process-get", "thread-get"]
    );
    for e in summary["experiments"].as_array().unwrap() {
        for field in [
            "executor",
            "workload",
            "workers",
            "tasks",
            "failed",
            "started_at",
            "finished_at",
            "makespan_s",
            "cpu_time_s",
            "efficiency",
        ] {
            assert!(!e[field].is_null(), "summary.json lacks {field}: {e}");
        }
    }
    assert_eq!(summary["speedups"].as_array().unwrap().len(), 2);
}

#[test]
fn without_out_each_run_gets_a_new_folder() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        poolscope_in(dir.path())
            .args([
                "--headless",
                "--workload",
                "sleep",
                "--executor",
                "threads",
                "--delays",
                "1,2",
            ])
            .assert()
            .success()
            // (", 1 samples file" too, if the sampler caught the 2 ms experiment)
            .stdout(
                predicate::str::is_match(
                    r"Wrote 1 CSV file(, 1 samples file)? and summary\.json to poolscope-runs/",
                )
                .unwrap(),
            );
    }
    let runs: Vec<_> = std::fs::read_dir(dir.path().join("poolscope-runs"))
        .unwrap()
        .collect();
    assert_eq!(runs.len(), 2, "no run overwrites another");
    for run in runs {
        assert!(run.unwrap().path().join("thread-sleep.csv").is_file());
    }
}

#[test]
fn sequential_and_sleep_are_named_like_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    poolscope_in(dir.path())
        .args([
            "--headless",
            "--workload",
            "sleep",
            "--executor",
            "sequential",
            "--delays",
            "10..=30:10",
            "--out",
            "o",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Run experiment Sequential: running sleep over [10, 20, 30] among 1 worker …",
        ));
    let (_, rows) = read_csv(&dir.path().join("o/sequential-sleep.csv"));
    let ends: Vec<f64> = rows
        .iter()
        .map(|r| r["end_time"].parse().unwrap())
        .collect();
    let starts: Vec<f64> = rows
        .iter()
        .map(|r| r["start_time"].parse().unwrap())
        .collect();
    assert!(
        starts[1] >= ends[0] && starts[2] >= ends[1],
        "one after another"
    );
}

#[test]
fn an_unreachable_url_gives_error_rows_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/200?sleep={{ms}}", closed_port());
    poolscope_in(dir.path())
        .args([
            "--headless",
            "--workload",
            "http",
            "--delays",
            "10,20",
            "--out",
            "o",
            "--url",
            &url,
            "--http-timeout",
            "5",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("(2 failed: GET http://127.0.0.1:"));
    for name in ["process-get", "thread-get"] {
        let (_, rows) = read_csv(&dir.path().join(format!("o/{name}.csv")));
        assert_eq!(rows.len(), 2);
        for row in rows {
            assert_eq!(row["status"], "error");
            assert!(row["error"].contains("GET http://127.0.0.1:"), "{row:?}");
            assert_eq!(row["result"], "");
        }
    }
}

#[test]
fn a_server_error_fails_only_its_own_tasks() {
    let server = DelayServer::start(0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Delays below 100 ms ask for a 503, the rest for a 200, through one template.
    let url = format!("http://{}/{{ms}}", server.addr());
    let output = poolscope_in(dir.path())
        .args([
            "--headless",
            "--workload",
            "http",
            "--executor",
            "threads",
            "--delays",
            "200,503,204",
            "--out",
            "o",
            "--url",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    // The experiment's line names its failures and the first one's error.
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("(1 failed: GET http://127.0.0.1:")
            && stdout.contains("HTTP 503 · 23 bytes: 503 Service Unavailable)"),
        "{stdout}"
    );
    let (_, rows) = read_csv(&dir.path().join("o/thread-get.csv"));
    let statuses: Vec<_> = rows.iter().map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses, ["ok", "error", "ok"]);
    assert!(
        rows[1]["error"].contains("HTTP 503 · 23 bytes: 503 Service Unavailable"),
        "{:?}",
        rows[1]
    );
    assert_eq!(rows[2]["result"], "HTTP 204 · 0 bytes");
}

#[test]
fn bad_flags_exit_2_with_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--fib", "42..34"], "--fib '42..34': the range is empty"),
        (&["--fib", "34..34"], "--fib '34..34': the range is empty"),
        (&["--fib", "0..=3"], "fib(0) is out of range"),
        (&["--fib", "90..=94"], "fib(94) is out of range"),
        (&["--workers", "0"], "--workers '0'"),
        (
            &["--workload", "gpu"],
            "--workload 'gpu': unknown name 'gpu'",
        ),
        (
            &["--executor", "fibers"],
            "--executor 'fibers': unknown name",
        ),
        (
            &["--url", "http://127.0.0.1/200"],
            "--url 'http://127.0.0.1/200': has no {ms} placeholder",
        ),
        (
            &["--delays", "1800..1000:100"],
            "--delays '1800..1000:100': the range is empty",
        ),
        (&["--http-timeout", "-1"], "--http-timeout '-1'"),
        (
            &["--executor", "threads,threads"],
            "'threads' is listed twice",
        ),
        (&["--cpus", "0,0"], "--cpus '0,0': CPU 0 is listed twice"),
    ];
    for (args, message) in cases {
        let output = poolscope_in(dir.path())
            .arg("--headless")
            .args(*args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
    poolscope_in(dir.path())
        .arg("--no-such-flag")
        .assert()
        .code(2);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn help_shows_examples() {
    poolscope_in(std::env::temp_dir().as_path())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("poolscope --headless"))
        .stdout(predicate::str::contains("--delays <RANGE[:STEP]>"));
}

/// A worker process that dies mid-task fails that task; the others still run, the files are
/// written and the exit code is 1.
#[test]
fn a_killed_worker_process_becomes_a_failed_task() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_headless(
        dir.path(),
        &sleep_run("processes", "2", "20000,100,100,100"),
    );
    // Both workers start; the one with the short tasks finishes them and exits, leaving the
    // one still running the long first task.
    wait_for_children(child.id(), 2);
    let busy = wait_for_children(child.id(), 1);
    send_signal(busy[0], libc::SIGKILL);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let (_, rows) = read_csv(&dir.path().join("o/process-sleep.csv"));
    let statuses: Vec<_> = rows.iter().map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses, ["error", "ok", "ok", "ok"], "{rows:?}");
    assert!(
        rows[0]["error"].contains("killed by signal 9 (SIGKILL)"),
        "{:?}",
        rows[0]
    );
}

/// Ctrl-C stops dispatching, kills and reaps the workers, writes what finished (the rest
/// as cancelled) and exits 130.
#[test]
fn ctrl_c_writes_what_finished_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_headless(
        dir.path(),
        &sleep_run("processes,threads", "2", "50,60000,60000,60000"),
    );
    let workers = wait_for_children(child.id(), 2);
    std::thread::sleep(Duration::from_millis(1000));
    send_signal(child.id(), libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        workers.iter().all(|&pid| !is_alive(pid)),
        "workers are reaped"
    );
    let (_, rows) = read_csv(&dir.path().join("o/process-sleep.csv"));
    let statuses: Vec<_> = rows.iter().map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses, ["ok", "cancelled", "cancelled", "cancelled"]);
    assert!(
        !dir.path().join("o/thread-sleep.csv").exists(),
        "thread-sleep never started"
    );
    assert!(dir.path().join("o/summary.json").exists());
}

/// Even SIGKILL, which poolscope cannot catch, leaves no worker behind: the kernel kills
/// them (PR_SET_PDEATHSIG).
#[test]
fn no_worker_outlives_a_sigkilled_poolscope() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_headless(
        dir.path(),
        &sleep_run("processes", "3", "60000,60000,60000"),
    );
    let workers = wait_for_children(child.id(), 3);
    send_signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    assert_all_gone(&workers);
}

#[test]
fn serve_answers_like_httpstat() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut server = Command::new(bin())
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first.trim().rsplit("http://").next().unwrap().to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /200?sleep=20 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200 OK") && response.ends_with("200 OK"),
        "{response}"
    );
}

/// Without --headless but with stdout piped (not a terminal), poolscope runs headless and
/// says so.
#[test]
fn a_pipe_instead_of_a_terminal_means_headless() {
    let dir = tempfile::tempdir().unwrap();
    poolscope_in(dir.path())
        .args([
            "--workload",
            "sleep",
            "--executor",
            "threads",
            "--delays",
            "5",
            "--out",
            "o",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "stdout is not a terminal; running headless",
        ))
        .stdout(predicate::str::contains(
            "Run experiment ThreadPool: running sleep over [5] among 1 worker",
        ));
    assert!(dir.path().join("o/thread-sleep.csv").is_file());
}

/// An HTTP task reads the whole answer, as the post's `urlopen(url).read()` did, in flat
/// memory: 100 MiB served to a thread and to a worker process, each counted to the byte,
/// while poolscope's peak resident memory (and its workers', which it reaps) stays under
/// 50 MB.
#[test]
fn a_100_mb_answer_is_read_whole_in_flat_memory() {
    use std::io::{BufRead, BufReader};
    const LEN: u64 = 100 * 1024 * 1024;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    line.clear();
                }
                let mut stream = stream;
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {LEN}\r\n\r\n");
                stream.write_all(head.as_bytes()).unwrap();
                let piece = vec![b'b'; 256 * 1024];
                for _ in 0..LEN / piece.len() as u64 {
                    if stream.write_all(&piece).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/big.bin?{{ms}}");
    // Reaped by wait4 below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(bin())
        .current_dir(dir.path())
        .args([
            "--headless",
            "--workload",
            "http",
            "--executor",
            "threads,processes",
        ])
        .args([
            "--delays",
            "0",
            "--out",
            "o",
            "--http-timeout",
            "100",
            "--url",
            &url,
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (status, peak_kib) = wait_with_peak_memory(child.id());
    assert_eq!(status, 0, "poolscope's exit status");
    for name in ["thread-get", "process-get"] {
        let (_, rows) = read_csv(&dir.path().join(format!("o/{name}.csv")));
        assert!(
            rows[0]["result"].starts_with("HTTP 200 · 100 MiB (104857600 bytes): bbbb"),
            "{name}: {:?}",
            rows[0]
        );
    }
    eprintln!("peak resident memory: {} MiB", peak_kib / 1024);
    assert!(peak_kib < 50 * 1024, "peak {peak_kib} KiB");
}

/// Waits for `pid` and returns its exit status and the peak resident set, in KiB, of it
/// and of every child it reaped (what `/usr/bin/time` reports as "Maximum resident set").
fn wait_with_peak_memory(pid: u32) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes only into the two locals it is given.
    let waited = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid as i32, "wait4");
    assert!(
        libc::WIFEXITED(status),
        "poolscope did not exit: {status:#x}"
    );
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

/// `poolscope completions SHELL` prints a script for each shell that clap_complete knows;
/// bash's is valid bash and really completes poolscope's flags and subcommands. A shell
/// it does not know is a usage error naming those it does.
#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = Command::new(bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8(output.stdout).unwrap();
        // fish spells a long flag `-l workload`; the others `--workload`.
        for word in [
            "poolscope",
            "workload",
            "http-timeout",
            "view",
            "completions",
        ] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
        assert!(
            !script.contains("parent-pid"),
            "{shell}: the hidden worker's flags"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("poolscope.bash");
    let output = Command::new(bin())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    std::fs::write(&script, &output.stdout).unwrap();
    // What bash offers after `poolscope --ex<TAB>` and after `poolscope <TAB>`.
    let complete = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        let program = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _poolscope poolscope '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let output = Command::new("bash")
            .args(["--norc", "-c", &program])
            .output()
            .unwrap();
        assert!(output.status.success(), "{line}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let offered = complete("poolscope --ex");
    assert_eq!(offered.trim(), "--executor", "{offered}");
    let offered = complete("poolscope ");
    for sub in ["view", "serve", "completions", "man"] {
        assert!(offered.lines().any(|l| l == sub), "{sub} in {offered}");
    }
    assert!(
        !offered.lines().any(|l| l == "worker"),
        "the hidden worker: {offered}"
    );
    // Where a folder or file is expected, zsh offers folders or files.
    let zsh = Command::new(bin())
        .args(["completions", "zsh"])
        .output()
        .unwrap();
    let zsh = String::from_utf8(zsh.stdout).unwrap();
    assert!(
        zsh.contains(":DIR:_files -/'"),
        "--out completes folders:\n{zsh}"
    );
    assert!(
        zsh.contains(":FILE:_files'"),
        "--trace completes files:\n{zsh}"
    );

    poolscope_in(dir.path())
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tcsh"))
        .stderr(predicate::str::contains(
            "bash, elvish, fish, powershell, zsh",
        ));
}

/// `poolscope man` prints poolscope(1): every flag and subcommand, the examples, the exit
/// status; `man` renders it without a warning. A reader that closes the pipe early is no
/// error.
#[test]
fn man_prints_a_manual_page_that_man_reads() {
    let output = Command::new(bin()).arg("man").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(
        page.lines().any(|l| l.starts_with(".TH poolscope 1 ")),
        "{page}"
    );
    for needle in [
        ".SH SYNOPSIS",
        "\\-\\-workload",
        "\\-\\-http\\-timeout",
        ".SH \"POOLSCOPE VIEW\"",
        "\\-\\-lenient",
        ".SH \"POOLSCOPE COMPLETIONS\"",
        ".SH EXAMPLES",
        ".SH \"EXIT STATUS\"",
    ] {
        assert!(page.contains(needle), "the page lacks {needle}:\n{page}");
    }
    assert!(!page.contains("parent\\-pid"), "the hidden worker's flags");

    // groff, which man uses, reads it without a warning (-ww: every warning).
    let mut groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff (man's formatter) is installed");
    groff
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let rendered = groff.wait_with_output().unwrap();
    assert!(rendered.status.success(), "{rendered:?}");
    assert_eq!(
        String::from_utf8_lossy(&rendered.stderr),
        "",
        "groff's warnings"
    );

    // `poolscope man | head -0`: the pipe is closed before poolscope writes.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = Command::new(bin())
        .arg("man")
        .stdout(writer)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "a closed pipe is the reader's choice: {status:?}"
    );
}

/// Busy loops in processes of their own, killed and reaped when dropped.
struct BusyLoops(Vec<std::process::Child>);

impl BusyLoops {
    fn start(count: usize) -> Self {
        BusyLoops(
            (0..count)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .unwrap()
                })
                .collect(),
        )
    }
}

impl Drop for BusyLoops {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Other programs busy on every CPU while an experiment runs: summary.json says how many
/// CPUs they used (`others_cpu`), and the printout says the machine was busy and the
/// figures skewed.
#[test]
fn a_busy_machine_is_measured_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let cpus = poolscope::engine::cpus::allowed().len();
    let busy = BusyLoops::start(cpus);
    let output = poolscope_in(dir.path())
        .args(["--headless", "--out", "o"])
        .args(sleep_run("threads", "1", "400"))
        .output()
        .unwrap();
    drop(busy);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("o/summary.json")).unwrap()).unwrap();
    let others = summary["experiments"][0]["others_cpu"].as_f64().unwrap();
    assert!(others >= 0.5, "others used {others} CPUs");
    assert!(
        stdout.contains("the machine was busy: other processes used ")
            && stdout.contains(" during thread-sleep; its figures are skewed"),
        "{stdout}"
    );
}
