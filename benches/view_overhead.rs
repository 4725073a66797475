//! What the live view costs the experiment it shows: fib makespans with the view open
//! against headless, side by side in one run.
//!
//! `cargo bench --bench view_overhead` (rounds: `POOLSCOPE_BENCH_ROUNDS`, default 11)
//!
//! Each round runs `poolscope --workload fib` (fib 34..=41, 8 workers, processes then
//! threads) twice, in rotating order: headless, and in the live view inside a 120×40
//! pseudo-terminal whose output a terminal emulator (vt100) parses, as a user's terminal
//! would. The view run waits for `done`, presses `e` to export and `q` to quit. Both write
//! `summary.json`; printed are the median makespans, the median and quartiles of each
//! round's view/headless ratio, and the CPU poolscope spent outside the tasks (rusage of
//! the reaped poolscope and its workers minus the tasks' own CPU time): what drawing costs.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const BIN: &str = env!("CARGO_BIN_EXE_poolscope");

/// CPU seconds used by reaped children so far (poolscope and, through it, its workers).
fn children_cpu() -> f64 {
    // SAFETY: getrusage only fills the zeroed struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// One run: the two makespans and the CPU poolscope spent outside tasks, in seconds.
struct Measured {
    makespans: [f64; 2],
    outside_tasks: f64,
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
    Measured {
        makespans: makespans(&json),
        outside_tasks: total - tasks,
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
        let status = Command::new(BIN)
            .args(["--headless", "--workload", "fib", "--out"])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    })
}

fn live_view(dir: &Path) -> Measured {
    measure(dir, || drive_live_view(dir))
}

fn drive_live_view(dir: &Path) {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(BIN);
    cmd.args(["--workload", "fib", "--out"]);
    cmd.arg(dir);
    cmd.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    let size = |n| std::num::NonZeroU16::new(n).unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(size(40), size(120), 0)));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let sink = Arc::clone(&parser);
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().process(&buf[..n]);
        }
    });
    let mut writer = pair.master.take_writer().unwrap();
    let wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !parser.lock().unwrap().screen().contents().contains(text) {
            assert!(Instant::now() < deadline, "no {text:?} on screen");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for("✓ done");
    writer.write_all(b"e").unwrap();
    wait_for("exported to");
    writer.write_all(b"q").unwrap();
    assert!(child.wait().unwrap().success());
}

fn quartiles(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    let at = |q: usize| xs[(xs.len() - 1) * q / 4];
    (at(1), at(2), at(3))
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let rounds: usize = std::env::var("POOLSCOPE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if benching { 11 } else { 1 });
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
        let ratios: Vec<f64> = view
            .iter()
            .zip(&plain)
            .map(|(v, h)| v.makespans[i] / h.makespans[i])
            .collect();
        let (_, v, _) = quartiles(view.iter().map(|m| m.makespans[i]).collect());
        let (_, h, _) = quartiles(plain.iter().map(|m| m.makespans[i]).collect());
        let (q1, median, q3) = quartiles(ratios);
        println!(
            "  {name:<13} headless {:.1} ms, live view {:.1} ms: {:+.1} % (quartiles {:+.1} % .. {:+.1} %)",
            h * 1e3,
            v * 1e3,
            (median - 1.0) * 100.0,
            (q1 - 1.0) * 100.0,
            (q3 - 1.0) * 100.0
        );
    }
    let (_, view_cpu, _) = quartiles(view.iter().map(|m| m.outside_tasks).collect());
    let (_, plain_cpu, _) = quartiles(plain.iter().map(|m| m.outside_tasks).collect());
    println!(
        "  CPU outside tasks per run (median): headless {:.1} ms, live view {:.1} ms",
        plain_cpu * 1e3,
        view_cpu * 1e3
    );
}
