//! Showing why: the simulated GIL, CPU confinement, what the sampler and the view report.
//! (The sampler's own three states are checked in `tests/sampler.rs`, alone, so no other
//! test competes for the CPUs while it measures.)

use crate::common;

use std::time::Duration;

use common::pty::Pty;
use common::*;
use poolscope::model::event::{Event, GilEventKind, TaskEventKind};
use poolscope::model::plan::{ExecutorKind, HttpSettings, Plan, WorkloadKind};
use poolscope::model::timeline::Timeline;
use predicates::prelude::*;

fn plan(
    workload: WorkloadKind,
    executors: &[ExecutorKind],
    inputs: &[u64],
    workers: usize,
) -> Plan {
    Plan::from_parts(
        &[workload],
        executors,
        inputs,
        inputs,
        Some(workers),
        HttpSettings::default(),
    )
}

/// Four GIL threads on fib: the hand-offs never show two holders at once, every task runs
/// while its thread holds the lock, and the makespan is about the sum of the tasks' CPU
/// times (one thread computes at a time), where real threads on two cores take about half.
#[test]
fn the_gil_has_one_holder_and_serialises_fib() {
    let events = collect_events(
        &plan(
            WorkloadKind::Fib,
            &[ExecutorKind::Gil],
            &[32, 33, 34, 35],
            4,
        ),
        |_| {},
    );
    let mut holder = None;
    // Workers with a task under way, and how often one let go of the lock mid-task.
    let mut running = std::collections::HashSet::new();
    let mut released_mid_task = 0;
    for event in &events {
        match event {
            Event::Gil(g) => match g.kind {
                GilEventKind::Acquired => {
                    assert_eq!(holder, None, "two holders at once: {g:?}");
                    holder = Some(g.worker.index);
                }
                GilEventKind::Released => {
                    assert_eq!(holder, Some(g.worker.index), "released by a non-holder");
                    holder = None;
                    released_mid_task += usize::from(running.contains(&g.worker.index));
                }
                GilEventKind::Waiting => {
                    assert_ne!(holder, Some(g.worker.index), "the holder waits for itself")
                }
            },
            Event::Task(t) if t.kind == TaskEventKind::Started => {
                assert_eq!(holder, Some(t.worker.index), "a task starts under the lock");
                running.insert(t.worker.index);
            }
            Event::Task(t) => {
                assert_eq!(holder, Some(t.worker.index), "a task ends under the lock");
                running.remove(&t.worker.index);
            }
            _ => {}
        }
    }
    assert_eq!(holder, None, "released at the end");
    // A fib in progress was made to hand the lock over (the switch interval at work),
    // not only finished tasks letting go.
    assert!(
        released_mid_task >= 3,
        "the lock changed hands mid-task {released_mid_task} times"
    );
    let timeline = Timeline::from_events(&events);
    let e = &timeline.experiments()[0];
    let (makespan, cpu) = (e.makespan().unwrap(), e.cpu_time());
    assert!(e.gil_wait().unwrap() > Duration::ZERO);
    assert!(
        makespan.as_secs_f64() > 0.75 * cpu.as_secs_f64(),
        "makespan {makespan:?} vs the tasks' CPU {cpu:?}: threads ran in parallel"
    );
}

/// http under the GIL: requests wait with the lock released, so they overlap and the run
/// takes about the longest delay, like real threads, not the sum of the delays.
#[test]
fn http_under_the_gil_waits_in_parallel() {
    let events = collect_events(
        &plan(
            WorkloadKind::Http,
            &[ExecutorKind::Gil],
            &[300, 300, 300, 300],
            4,
        ),
        |_| {},
    );
    let timeline = Timeline::from_events(&events);
    let e = &timeline.experiments()[0];
    assert_eq!(e.succeeded(), 4);
    let makespan = e.makespan().unwrap();
    assert!(
        makespan < Duration::from_millis(900),
        "{makespan:?} (sum: 1.2 s)"
    );
}

/// `--cpus 0`: every worker of every executor runs confined to CPU 0 (read back from
/// /proc/PID/task/TID/status while it is alive), and efficiency counts one core.
#[test]
fn cpus_0_confines_every_worker() {
    let mut plan = plan(
        WorkloadKind::Sleep,
        &[
            ExecutorKind::Threads,
            ExecutorKind::Gil,
            ExecutorKind::Processes,
            ExecutorKind::Sequential,
        ],
        &[300, 300],
        2,
    );
    plan.sched.cpus = Some(vec![0]);
    let mut checked = 0;
    let events = collect_events(&plan, |event| {
        if let Event::WorkerStarted { worker, .. } = event {
            let status =
                std::fs::read_to_string(format!("/proc/{}/task/{}/status", worker.pid, worker.tid))
                    .unwrap();
            let allowed = status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .unwrap()
                .trim()
                .to_string();
            assert_eq!(allowed, "0", "worker {worker:?}");
            checked += 1;
        }
    });
    assert_eq!(checked, 2 + 2 + 2 + 1, "every worker was checked");
    assert!(matches!(events[0], Event::RunStarted { cores: 1, .. }));
}

/// Headless on the default executors: the post's lines, the GIL's speed-up line, the
/// GIL files, samples beside every CSV, and summary.json's new fields.
#[test]
fn headless_runs_the_gil_pool_and_writes_samples() {
    let dir = tempfile::tempdir().unwrap();
    poolscope_in(dir.path())
        .args([
            "--headless",
            "--out",
            "o",
            "--fib",
            "33..=36",
            "--delays",
            "100..=200:100",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Run experiment GilThreadPool: running fib over")
                .and(predicate::str::contains(
                    "Process vs Threads Fibonacci tasks speed-up = ",
                ))
                .and(predicate::str::contains(
                    "Process vs GIL threads Fibonacci tasks speed-up = ",
                ))
                .and(predicate::str::contains(
                    "Process vs GIL threads HTTP Get tasks speed-up = ",
                ))
                .and(predicate::str::contains("gil wait")),
        );
    let out = dir.path().join("o");
    let (_, rows) = read_csv(&out.join("gil-fibo.csv"));
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter()
            .all(|r| r["executor"] == "gil" && r["status"] == "ok")
    );
    // Experiments long enough for several 10 ms samples.
    for name in ["gil-fibo", "process-get", "thread-get", "gil-get"] {
        let path = out.join(format!("{name}-samples.csv"));
        let samples = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            let files: Vec<_> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            panic!("{}: {e}; the folder holds {files:?}", path.display())
        });
        let mut lines = samples.lines();
        assert_eq!(
            lines.next(),
            Some(
                "worker,pid,tid,t_start,t_end,running,runnable,blocked,\
                 voluntary_switches,involuntary_switches,gil_wait,gil_held"
            )
        );
        for line in lines {
            let f: Vec<&str> = line.split(',').collect();
            let shares: Vec<f64> = f[5..8].iter().map(|x| x.parse().unwrap()).collect();
            // Switches are counted every interval; GIL shares only under the GIL.
            assert!(
                f[8].parse::<u32>().is_ok() && f[9].parse::<u32>().is_ok(),
                "{line}"
            );
            assert_eq!(
                f[10].is_empty(),
                !name.starts_with("gil-"),
                "{name}: {line}"
            );
            let sum: f64 = shares.iter().sum();
            assert!((sum - 1.0).abs() < 0.01, "{name}: {line}");
            assert!(f[3].parse::<f64>().unwrap() < f[4].parse::<f64>().unwrap());
        }
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let gil = &summary["experiments"][2];
    assert_eq!(gil["name"], "gil-fibo");
    assert!(gil["gil_wait_s"].as_f64().unwrap() > 0.0);
    assert!(gil["cpu_wait_s"].is_number());
    let labels: Vec<&str> = summary["speedups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"Process vs GIL threads Fibonacci tasks speed-up"));
}

/// The live view of the default plan: the GIL panels beside processes and threads, and
/// the legend saying what the shades mean.
#[test]
fn the_default_view_shows_gil_panels_and_the_legend() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--fib",
        "27..=30",
        "--delays",
        "50..=100:50",
        "--workers",
        "4",
    ];
    let mut pty = Pty::spawn(&args, dir.path(), 130, 40);
    let screen = pty.wait_for("✓ done", Duration::from_secs(60));
    for text in [
        "gil-fibo",
        "gil-get",
        "on a CPU",
        "waiting for a CPU",
        "blocked",
        "waiting for the GIL",
        "vs GIL threads",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    pty.press("q");
    assert!(pty.wait_exit(Duration::from_secs(10)).success());
}

/// A mouse click on a bar opens the inspector on that task; the terminal's mouse mode is
/// off again after quitting.
#[test]
fn clicking_a_bar_inspects_its_task() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--workload",
        "fib",
        "--executor",
        "threads",
        "--fib",
        "30..=33",
        "--workers",
        "2",
    ];
    let mut pty = Pty::spawn(&args, dir.path(), 120, 30);
    let screen = pty.wait_for("✓ done", Duration::from_secs(60));
    let (row, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("w1 tid"))
        .expect("a lane w1");
    // On a task's label, which is drawn over its bar (wherever the bar starts).
    let at = line.find("fib 3").expect("a labelled bar on w1");
    let column = line[..at].chars().count() + 1;
    // An SGR mouse press and release at (column, row), 1-based.
    pty.press(&format!(
        "\x1b[<0;{};{}M\x1b[<0;{};{}m",
        column + 1,
        row + 1,
        column + 1,
        row + 1
    ));
    let screen = pty.wait_for("esc leaves", Duration::from_secs(10));
    assert!(
        screen.contains("thread-fibo") && screen.contains("result"),
        "{screen}"
    );
    pty.press("\x1b"); // Esc leaves the inspector
    pty.press("q");
    assert!(pty.wait_exit(Duration::from_secs(10)).success());
    pty.assert_restored();
}

/// The isolation demo, headless: the post's lines, in order; the thread shares poolscope's
/// pid and sees every write, the process has its own pid and sees 0; the reads are tasks
/// with the value seen as their result.
#[test]
fn the_isolation_demo_shows_threads_share_and_processes_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(bin())
        .current_dir(dir.path())
        .args(["--headless", "--out", "o", "--workload", "isolation"])
        .args(["--executor", "threads,processes"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let main_pid = lines
        .iter()
        .find_map(|l| l.strip_prefix("Main-")?.split(' ').next())
        .expect("a Main line")
        .to_string();
    let expected_thread: Vec<String> = (1..=3)
        .flat_map(|x| {
            [
                format!("Main-{main_pid} sets X to {x}"),
                format!("Thread-{main_pid} thinks X is {x}"),
            ]
        })
        .collect();
    assert_eq!(lines[..6], expected_thread[..], "{stdout}");
    let process_reads: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("Process-"))
        .copied()
        .collect();
    assert_eq!(process_reads.len(), 3, "{stdout}");
    for line in &process_reads {
        assert!(line.ends_with("thinks X is 0"), "{line}");
        assert!(
            !line.starts_with(&format!("Process-{main_pid} ")),
            "own pid: {line}"
        );
    }
    let out = dir.path().join("o");
    let results = |name: &str| -> Vec<String> {
        read_csv(&out.join(name))
            .1
            .iter()
            .map(|r| r["result"].clone())
            .collect()
    };
    assert_eq!(results("thread-isolation.csv"), ["1", "2", "3"]);
    assert_eq!(results("process-isolation.csv"), ["0", "0", "0"]);
    assert!(!stdout.contains("speed-up"), "no speed-up from the demo");
}

/// Where the scheduler cannot be sampled, one line says why and nothing else changes:
/// the run completes and writes its CSVs, without samples files.
#[test]
fn without_schedstat_one_line_says_why() {
    let dir = tempfile::tempdir().unwrap();
    poolscope_in(dir.path())
        .env("POOLSCOPE_TEST_NO_SCHEDSTAT", "1")
        .args([
            "--headless",
            "--out",
            "o",
            "--workload",
            "sleep",
            "--delays",
            "50",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("scheduler sampling is off").count(1));
    let files: Vec<String> = std::fs::read_dir(dir.path().join("o"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(files.contains(&"thread-sleep.csv".to_string()), "{files:?}");
    assert!(
        !files.iter().any(|f| f.ends_with("-samples.csv")),
        "{files:?}"
    );
}
