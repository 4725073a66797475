//! What poolscope's instrumentation costs, measured side by side in one run.
//!
//! `cargo bench --bench engine_overhead` (rounds: `POOLSCOPE_BENCH_ROUNDS`, default 21)
//!
//! 1. fib 34..=41, 8 workers: a plain `std::thread` program (one thread per input, no events)
//!    against poolscope's thread executor and process executor. Rounds interleave the three
//!    (rotating which goes first) so machine noise hits them alike; printed are the median
//!    makespans, the median and quartiles of each round's ratio to plain, and the CPU
//!    poolscope spent outside the tasks (rusage of the process and its reaped children minus
//!    the tasks' own CPU time): the instrumentation's cost without the scheduling noise.
//! 2. http delays 1000..1800:100 ms, 8 workers, against the embedded server: makespan beyond
//!    the longest delay (1.7 s), worker start included, for threads and processes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use poolscope::engine::runner::{self, RunOptions};
use poolscope::model::event::Event;
use poolscope::model::plan::{ExecutorKind, HttpSettings, Plan, WorkloadKind};
use poolscope::model::timeline::Timeline;

mod support;

const FIB: [u64; 8] = [34, 35, 36, 37, 38, 39, 40, 41];

/// The plain program's own copy of the kernel, compiled here as a program's own function:
/// the ratio to it measures the pool, not how the library's copy was compiled.
fn fib(n: u64) -> u64 {
    match n {
        0 | 1 => 0,
        2 => 1,
        _ => fib(n - 1) + fib(n - 2),
    }
}

fn plain_threads() -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = FIB
        .iter()
        .map(|&n| std::thread::spawn(move || std::hint::black_box(fib(std::hint::black_box(n)))))
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    start.elapsed()
}

/// CPU used by this process and its reaped children so far.
fn rusage_cpu() -> Duration {
    support::cpu_used(libc::RUSAGE_SELF) + support::cpu_used(libc::RUSAGE_CHILDREN)
}

/// One poolscope run of a one-experiment plan.
struct Measured {
    makespan: Duration,
    /// CPU spent outside tasks: pool and process start, event plumbing, the delay server.
    outside_tasks: Duration,
    task_cpu: Duration,
}

fn poolscope(plan: &Plan) -> Measured {
    let options = RunOptions {
        worker_exe: PathBuf::from(env!("CARGO_BIN_EXE_poolscope")),
    };
    let cpu_before = rusage_cpu();
    let handle = runner::start(plan, &options).unwrap();
    let mut timeline = Timeline::new();
    for event in handle.events.iter() {
        timeline.apply(&event);
        if matches!(event, Event::RunFinished { .. }) {
            break;
        }
    }
    handle.join();
    let total = rusage_cpu() - cpu_before;
    assert_eq!(timeline.failed_tasks(), 0);
    let experiment = &timeline.experiments()[0];
    Measured {
        makespan: experiment.makespan().unwrap(),
        outside_tasks: total.saturating_sub(experiment.cpu_time()),
        task_cpu: experiment.cpu_time(),
    }
}

fn plan(workload: WorkloadKind, executor: ExecutorKind) -> Plan {
    let delays: Vec<u64> = (1000..1800).step_by(100).collect();
    Plan::from_parts(
        &[workload],
        &[executor],
        &FIB,
        &delays,
        Some(8),
        HttpSettings::default(),
    )
}

fn outside(runs: &[Measured]) -> String {
    let outside: Duration = runs.iter().map(|m| m.outside_tasks).sum();
    let tasks: Duration = runs.iter().map(|m| m.task_cpu).sum();
    format!(
        "CPU outside tasks {:.1} ms per run = {:.2} % of task CPU",
        outside.as_secs_f64() * 1e3 / runs.len() as f64,
        outside.as_secs_f64() / tasks.as_secs_f64() * 100.0
    )
}

fn secs(xs: &[Duration]) -> Vec<f64> {
    xs.iter().map(Duration::as_secs_f64).collect()
}

fn main() {
    let rounds = support::rounds(21);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("engine_overhead: {rounds} rounds, {cores} cores");

    let fib_threads = plan(WorkloadKind::Fib, ExecutorKind::Threads);
    let fib_processes = plan(WorkloadKind::Fib, ExecutorKind::Processes);
    let (mut plain, mut threads, mut processes) = (Vec::new(), Vec::new(), Vec::new());
    plain_threads(); // warm-up
    for round in 0..rounds {
        // Rotate which mode goes first, so none always runs on a machine just woken up.
        for slot in 0..3 {
            match (round + slot) % 3 {
                0 => plain.push(plain_threads()),
                1 => threads.push(poolscope(&fib_threads)),
                _ => processes.push(poolscope(&fib_processes)),
            }
        }
    }
    let makespans = |runs: &[Measured]| {
        runs.iter()
            .map(|m| m.makespan.as_secs_f64())
            .collect::<Vec<_>>()
    };
    let (plain, t, p) = (secs(&plain), makespans(&threads), makespans(&processes));
    println!("fib 34..=41, 8 workers, median makespan (change vs plain, per round):");
    println!("  plain std::thread     {}", support::median_ms(&plain));
    println!(
        "  poolscope threads     {}  ({})",
        support::median_ms(&t),
        support::paired_change(&t, &plain)
    );
    println!("                        {}", outside(&threads));
    println!(
        "  poolscope processes   {}  ({})",
        support::median_ms(&p),
        support::paired_change(&p, &plain)
    );
    println!("                        {}", outside(&processes));

    let longest = Duration::from_millis(1700);
    let get_threads = plan(WorkloadKind::Http, ExecutorKind::Threads);
    let get_processes = plan(WorkloadKind::Http, ExecutorKind::Processes);
    let (mut http_threads, mut http_processes) = (Vec::new(), Vec::new());
    for _ in 0..rounds.min(7) {
        http_threads.push(poolscope(&get_threads).makespan.saturating_sub(longest));
        http_processes.push(poolscope(&get_processes).makespan.saturating_sub(longest));
    }
    println!("http 1000..1800:100 ms, 8 workers, median makespan beyond the longest delay:");
    println!(
        "  poolscope threads     {}",
        support::median_ms(&secs(&http_threads))
    );
    println!(
        "  poolscope processes   {}",
        support::median_ms(&secs(&http_processes))
    );
}
