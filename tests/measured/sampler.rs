//! The scheduler sampler against threads whose behaviour is known: a busy thread is mostly
//! running, a sleeping one mostly blocked, and two busy threads confined to one CPU wait
//! for it a large share of the time.
//!
//! One test in its own binary, so no other test of the suite competes for the CPUs while
//! it measures; bounds are still generous, for busy CI machines.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use poolscope::engine::sampler::Sampler;
use poolscope::model::clock;
use poolscope::model::event::{Event, SamplerNotice, WorkerId};

#[derive(Clone, Copy)]
enum Kind {
    Busy,
    Sleeping,
}

/// Mean (running, runnable, blocked) of each thread, sampled every 10 ms for `length`.
fn sample(threads: &[(Kind, Option<usize>)], length: Duration) -> Option<Vec<(f32, f32, f32)>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let sampler = Sampler::start(Duration::from_millis(10), tx);
    if let Ok(Event::Sampler(SamplerNotice::Unavailable(why))) = rx.try_recv() {
        eprintln!("skipped: the sampler cannot run here ({why})");
        return None;
    }
    let workers = Workers::spawn_tracked(&sampler, threads);
    std::thread::sleep(length);
    drop(sampler);
    workers.stop();
    let mut sums = vec![(0.0f32, 0.0f32, 0.0f32, 0u32); threads.len()];
    for event in rx.try_iter() {
        if let Event::Sample(s) = event {
            let sum = &mut sums[s.worker.index];
            *sum = (
                sum.0 + s.running,
                sum.1 + s.runnable,
                sum.2 + s.blocked,
                sum.3 + 1,
            );
        }
    }
    Some(
        sums.into_iter()
            .map(|(r, q, b, n)| {
                assert!(n >= 10, "too few samples: {n}");
                let n = n as f32;
                (r / n, q / n, b / n)
            })
            .collect(),
    )
}

#[test]
fn the_sampler_tells_running_waiting_and_blocked_apart() {
    let _alone = crate::common::measuring();
    let length = Duration::from_millis(800);
    let Some(shares) = sample(&[(Kind::Busy, None), (Kind::Sleeping, None)], length) else {
        return;
    };
    let (busy, sleeping) = (shares[0], shares[1]);
    eprintln!("busy {busy:?}, sleeping {sleeping:?}");
    // A busy thread runs or waits for a CPU, never sleeps; how it splits the two depends on
    // what else the machine runs (on a quiet one it mostly runs).
    assert!(
        busy.2 < 0.05 && busy.0 > 0.2,
        "a busy thread runs or waits to run, and is never blocked: {busy:?}"
    );
    assert!(
        sleeping.2 > 0.8,
        "a sleeping thread is mostly blocked: {sleeping:?}"
    );

    // Two busy threads on one CPU: each waits for it about half the time.
    let cpu = poolscope::engine::cpus::allowed()[0];
    let Some(shares) = sample(&[(Kind::Busy, Some(cpu)), (Kind::Busy, Some(cpu))], length) else {
        return;
    };
    eprintln!("two on one CPU: {shares:?}");
    for share in shares {
        assert!(share.1 > 0.25, "a large runnable share: {share:?}");
        assert!(share.0 < 0.75, "they share the CPU: {share:?}");
    }

    // Too many threads for the interval: the sampler widens it and says so.
    assert!(
        widens_when_too_costly(),
        "300 threads every 1 ms cost more than 1 %"
    );
}

/// Samples 300 sleeping threads every millisecond for up to 8 s; whether the sampler
/// announced a wider interval.
fn widens_when_too_costly() -> bool {
    let (tx, rx) = crossbeam_channel::unbounded();
    let sampler = Sampler::start(Duration::from_millis(1), tx);
    let workers = Workers::spawn_tracked(&sampler, &[(Kind::Sleeping, None); 300]);
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    let mut widened = false;
    while !widened && std::time::Instant::now() < deadline {
        widened = rx.recv_timeout(Duration::from_millis(100)).is_ok_and(|e| {
            matches!(
                e,
                Event::Sampler(SamplerNotice::Interval { widened: true, .. })
            )
        });
    }
    drop(sampler);
    workers.stop();
    widened
}

/// Threads doing known things, each tracked by a sampler as worker 0, 1, …
struct Workers {
    stop: Arc<AtomicBool>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Workers {
    /// One thread per `(kind, cpu)`: busy or sleeping, confined to `cpu` if given.
    fn spawn_tracked(sampler: &Sampler, threads: &[(Kind, Option<usize>)]) -> Workers {
        let stop = Arc::new(AtomicBool::new(false));
        let (tid_tx, tid_rx) = crossbeam_channel::unbounded();
        let handles = threads
            .iter()
            .enumerate()
            .map(|(index, &(kind, cpu))| {
                let (stop, tid_tx) = (Arc::clone(&stop), tid_tx.clone());
                std::thread::spawn(move || {
                    if let Some(cpu) = cpu {
                        poolscope::engine::cpus::confine_this_thread(&[cpu]).unwrap();
                    }
                    tid_tx.send((index, clock::current_tid())).unwrap();
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        match kind {
                            Kind::Busy => {
                                for i in 0..10_000u64 {
                                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                                }
                            }
                            Kind::Sleeping => std::thread::sleep(Duration::from_millis(20)),
                        }
                    }
                })
            })
            .collect();
        // Threads report in whatever order they start; each says which one it is.
        for _ in 0..threads.len() {
            let (index, tid) = tid_rx.recv().unwrap();
            let worker = WorkerId {
                index,
                pid: std::process::id(),
                tid,
            };
            sampler.handle().track(0, worker);
        }
        Workers { stop, handles }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.handles {
            h.join().unwrap();
        }
    }
}
