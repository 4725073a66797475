//! What the scheduler sampler costs: its own thread's CPU time per second of wall time,
//! sampling 8 worker threads every 10 ms (the defaults), with the workers sleeping and with
//! them busy on both cores (a fib run). Target: under 1 % of one core.
//!
//! `cargo bench --bench sampler_cost` (POOLSCOPE_BENCH_SECONDS sets each scenario's length,
//! default 5)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use poolscope::engine::sampler::Sampler;
use poolscope::model::clock;
use poolscope::model::event::{Event, SamplerNotice, WorkerId};

const WORKERS: usize = 8;

fn main() {
    let seconds: u64 = std::env::var("POOLSCOPE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    for busy in [false, true] {
        let (cost, samples, widened) = measure(busy, Duration::from_secs(seconds));
        println!(
            "sampler, {WORKERS} {} workers, 10 ms: {:.3} % of one core ({samples} samples{})",
            if busy { "busy" } else { "sleeping" },
            cost * 100.0,
            if widened {
                ", widened its interval"
            } else {
                ""
            }
        );
    }
}

/// Runs the sampler over 8 threads for `length`; returns its CPU share, the samples sent
/// and whether it widened its interval.
fn measure(busy: bool, length: Duration) -> (f64, usize, bool) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let stop = Arc::new(AtomicBool::new(false));
    let (tid_tx, tid_rx) = crossbeam_channel::unbounded();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (stop, tid_tx) = (Arc::clone(&stop), tid_tx.clone());
            std::thread::spawn(move || {
                tid_tx.send(clock::current_tid()).unwrap();
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if busy {
                        for i in 0..100_000u64 {
                            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                        }
                    } else {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            })
        })
        .collect();
    let sampler = Sampler::start(Duration::from_millis(10), tx);
    for index in 0..WORKERS {
        let tid = tid_rx.recv().unwrap();
        let worker = WorkerId {
            index,
            pid: std::process::id(),
            tid,
        };
        sampler.handle().track(0, worker);
    }
    let sampler_tid = find_thread("poolscope-sampl").expect("the sampler thread");
    let (cpu0, t0) = (thread_cpu_ns(sampler_tid), Instant::now());
    std::thread::sleep(length);
    let (cpu1, wall) = (thread_cpu_ns(sampler_tid), t0.elapsed());
    drop(sampler);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let events: Vec<Event> = rx.try_iter().collect();
    let samples = events
        .iter()
        .filter(|e| matches!(e, Event::Sample(_)))
        .count();
    let widened = events.iter().any(|e| {
        matches!(
            e,
            Event::Sampler(SamplerNotice::Interval { widened: true, .. })
        )
    });
    let cost = (cpu1 - cpu0) as f64 / wall.as_nanos() as f64;
    (cost, samples, widened)
}

fn find_thread(name: &str) -> Option<u32> {
    std::fs::read_dir("/proc/self/task")
        .ok()?
        .find_map(|entry| {
            let entry = entry.ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            (comm.trim() == name)
                .then(|| entry.file_name().to_str()?.parse().ok())
                .flatten()
        })
}

fn thread_cpu_ns(tid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
