//! What the live view costs the experiment it shows: fib makespans with the view open
//! against headless, side by side in one run.
//!
//! `cargo bench --bench view_overhead` (rounds: `POOLSCOPE_BENCH_ROUNDS`, default 11)
//!
//! Each round runs `poolscope --workload fib` (fib 34..=41, 8 workers, processes, threads
//! then gil) twice, in rotating order: headless, and in the live view inside a 120×40
//! pseudo-terminal whose output a terminal emulator (vt100) parses, as a user's terminal
//! would. The view run waits for `done`, presses `e` to export and `q` to quit. Both write
//! `summary.json`; printed are the median makespans, the median and quartiles of each
//! round's view/headless ratio, and the CPU poolscope spent outside the tasks (rusage of
//! the reaped poolscope and its workers minus the tasks' own CPU time): what drawing costs,
//! also per round as a share of one core over the run (view minus headless, over its span).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use common::pty::Pty;

/// CPU seconds used by reaped children so far (poolscope and, through it, its workers);
/// the bench's own terminal emulator is left out.
fn children_cpu() -> f64 {
    support::cpu_used(libc::RUSAGE_CHILDREN).as_secs_f64()
}

/// One run: the two makespans and the CPU poolscope spent outside tasks, in seconds.
struct Measured {
    makespans: [f64; 2],
    outside_tasks: f64,
    /// From the first experiment's start to the last one's end, in seconds.
    span: f64,
}

/// Runs `run`, then reads its summary.json.
fn measure(dir: &Path, run: impl FnOnce()) -> Measured {
    let before = children_cpu();
    run();
    let total = children_cpu() - before;
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let tasks: f64 = json["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cpu_time_s"].as_f64().unwrap())
        .sum();
    let experiments = json["experiments"].as_array().unwrap();
    let first = experiments[0]["started_at"].as_f64().unwrap();
    let last = experiments
        .iter()
        .filter_map(|e| e["finished_at"].as_f64())
        .fold(first, f64::max);
    Measured {
        makespans: makespans(&json),
        outside_tasks: total - tasks,
        span: last - first,
    }
}

/// Makespans of process-fibo and thread-fibo from a run's summary.json, in seconds.
fn makespans(json: &serde_json::Value) -> [f64; 2] {
    let of = |name: &str| {
        json["experiments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["makespan_s"].as_f64())
            .unwrap()
    };
    [of("process-fibo"), of("thread-fibo")]
}

fn headless(dir: &Path) -> Measured {
    measure(dir, || {
        let status = Command::new(common::bin())
            .args(["--headless", "--workload", "fib", "--out"])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    })
}

/// The live view in a 120×40 terminal, in colour as a user sees it: wait for `done`,
/// export, quit.
fn live_view(dir: &Path) -> Measured {
    measure(dir, || {
        let out = dir.to_str().expect("a UTF-8 temporary path");
        let cwd = dir
            .parent()
            .expect("a run folder inside the scratch folder");
        let mut pty = Pty::spawn_with(&["--workload", "fib", "--out", out], cwd, 120, 40, &[]);
        pty.wait_for("✓ done", Duration::from_secs(120));
        pty.press("e");
        pty.wait_for("exported to", Duration::from_secs(60));
        pty.press("q");
        assert!(pty.wait_exit(Duration::from_secs(60)).success());
    })
}

fn main() {
    let rounds = support::rounds(11);
    println!("view_overhead: {rounds} rounds; fib 34..=41, 8 workers");
    let scratch = tempfile::tempdir().unwrap();
    let (mut view, mut plain) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let v = scratch.path().join(format!("view-{round}"));
        let h = scratch.path().join(format!("headless-{round}"));
        if round % 2 == 0 {
            view.push(live_view(&v));
            plain.push(headless(&h));
        } else {
            plain.push(headless(&h));
            view.push(live_view(&v));
        }
    }
    for (i, name) in ["process-fibo", "thread-fibo"].iter().enumerate() {
        let of = |runs: &[Measured]| runs.iter().map(|m| m.makespans[i]).collect::<Vec<_>>();
        let (v, h) = (of(&view), of(&plain));
        println!(
            "  {name:<13} headless {}, live view {}: {}",
            support::median_ms(&h),
            support::median_ms(&v),
            support::paired_change(&v, &h)
        );
    }
    let outside = |runs: &[Measured]| runs.iter().map(|m| m.outside_tasks).collect::<Vec<_>>();
    println!(
        "  CPU outside tasks per run (median): headless {}, live view {}: {}",
        support::median_ms(&outside(&plain)),
        support::median_ms(&outside(&view)),
        support::paired_change(&outside(&view), &outside(&plain))
    );
    // What the view costs, as a share of one core over the run: per round, the view's CPU
    // outside tasks minus headless's, over the view run's span.
    let share: Vec<f64> = view
        .iter()
        .zip(&plain)
        .map(|(v, h)| (v.outside_tasks - h.outside_tasks) / v.span * 100.0)
        .collect();
    let spans: Vec<f64> = view.iter().map(|m| m.span).collect();
    let (q1, median, q3) = support::quartiles(share);
    println!(
        "  the view's cost, per round: {median:.2} % of one core (quartiles {q1:.2} % .. {q3:.2} %) over runs of {} (median)",
        support::median_ms(&spans)
    );
}
