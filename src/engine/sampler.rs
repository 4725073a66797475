//! The scheduler sampler: what every worker thread was really doing, from the kernel's own
//! accounting, so a gap in a bar has a reason.
//!
//! While an experiment runs, one thread reads each worker thread's
//! `/proc/<pid>/task/<tid>/schedstat` (nanoseconds on a CPU, nanoseconds waiting on a run
//! queue) every interval, and its context-switch counts from `status` every fifth
//! interval (that file costs several times more to generate). The differences become
//! [`Event::Sample`]s on the run's channel: per worker and interval, the shares running,
//! runnable (ready but waiting for a CPU) and blocked (neither: sleeping, I/O, a lock).
//!
//! It costs little: files are opened once and re-read in place, and the sampler measures
//! its own CPU time; above 1 % of a core (many workers) it doubles its interval and says so
//! ([`SamplerNotice::Interval`]). It sleeps on a condition variable whenever no experiment
//! runs. Where `/proc` cannot be read (another OS, a locked-down container) it says why
//! once ([`SamplerNotice::Unavailable`]) and nothing else changes.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;

use crate::model::clock::{self, Timestamp};
use crate::model::event::{Event, SampleEvent, SamplerNotice, WorkerId};

/// The most of one core the sampler may spend on itself.
pub const MAX_COST: f64 = 0.01;
/// The widest it widens its interval to.
const MAX_INTERVAL: Duration = Duration::from_secs(1);
/// Context switches are read every this many intervals: `status` costs ~7 µs to read
/// against ~1 µs for `schedstat`, so reading it every fifth interval keeps the sampler well
/// under 1 % of a core at 8 workers and 10 ms (`cargo bench --bench sampler_cost`).
const SWITCHES_EVERY: u32 = 5;

/// The sampler of one run: its thread, and the handle executors register workers with.
#[derive(Debug)]
pub struct Sampler {
    handle: SamplerHandle,
    thread: Option<JoinHandle<()>>,
}

/// Where executors register the worker threads to sample. Cheap to clone; a disabled one
/// (no `/proc`) ignores everything.
#[derive(Debug, Clone, Default)]
pub struct SamplerHandle {
    shared: Option<Arc<Shared>>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct State {
    tracked: Vec<Tracked>,
    stop: bool,
}

/// One worker thread being sampled.
#[derive(Debug)]
struct Tracked {
    experiment: usize,
    worker: WorkerId,
    schedstat: File,
    status: Option<File>,
    last: Reading,
    /// Switch counts at the last `status` read.
    switches: Option<(u64, u64)>,
}

/// One reading of a thread's counters.
#[derive(Debug, Clone, Copy)]
struct Reading {
    at: Timestamp,
    on_cpu_ns: u64,
    waiting_ns: u64,
}

impl Sampler {
    /// Starts sampling every `interval` into `events`; if this system cannot be sampled,
    /// says why on `events` once and returns a sampler that does nothing.
    pub fn start(interval: Duration, events: Sender<Event>) -> Sampler {
        if let Err(reason) = check_available() {
            let _ = events.send(Event::Sampler(SamplerNotice::Unavailable(reason)));
            return Sampler {
                handle: SamplerHandle::default(),
                thread: None,
            };
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("poolscope-sampler".into())
            .spawn(move || sample_loop(&for_thread, interval, &events));
        match thread {
            Ok(thread) => Sampler {
                handle: SamplerHandle {
                    shared: Some(shared),
                },
                thread: Some(thread),
            },
            Err(_) => Sampler {
                handle: SamplerHandle::default(),
                thread: None,
            },
        }
    }

    /// The handle executors register workers with.
    pub fn handle(&self) -> &SamplerHandle {
        &self.handle
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        if let Some(shared) = &self.handle.shared {
            lock(shared).stop = true;
            shared.wake.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl SamplerHandle {
    /// Starts sampling `worker`'s thread for `experiment` (replacing an earlier thread of
    /// the same worker slot: a worker process that was replaced).
    ///
    /// The sampler keeps two files open per thread and never takes more than half the
    /// open-files limit, so it cannot starve the workers' own sockets and pipes: past that,
    /// further threads go unsampled (their bars stay plain).
    pub fn track(&self, experiment: usize, worker: WorkerId) {
        let Some(shared) = &self.shared else { return };
        let tracked = lock(shared).tracked.len() as u64;
        let limit = crate::engine::limits::open_files_limit().unwrap_or(u64::MAX);
        if (tracked + 1) * 2 > limit / 2 {
            return;
        }
        let path = format!("/proc/{}/task/{}/schedstat", worker.pid, worker.tid);
        let Ok(schedstat) = File::open(&path) else {
            return; // the thread is already gone
        };
        let Some(last) = read_schedstat(&schedstat) else {
            return;
        };
        let status = File::open(format!("/proc/{}/task/{}/status", worker.pid, worker.tid)).ok();
        let switches = status.as_ref().and_then(read_switches);
        let mut state = lock(shared);
        state
            .tracked
            .retain(|t| !(t.experiment == experiment && t.worker.index == worker.index));
        state.tracked.push(Tracked {
            experiment,
            worker,
            schedstat,
            status,
            last,
            switches,
        });
        drop(state);
        shared.wake.notify_all();
    }

    /// Stops sampling the workers of `experiment` (it ended); the sampler sleeps if no
    /// other experiment is tracked.
    pub fn forget(&self, experiment: usize) {
        if let Some(shared) = &self.shared {
            lock(shared).tracked.retain(|t| t.experiment != experiment);
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether this system exposes per-thread scheduler statistics; why not, if it does not.
/// The hidden test switch `POOLSCOPE_TEST_NO_SCHEDSTAT` plays a system without them.
fn check_available() -> Result<(), String> {
    if std::env::var_os("POOLSCOPE_TEST_NO_SCHEDSTAT").is_some() {
        return Err("per-thread schedstat hidden by POOLSCOPE_TEST_NO_SCHEDSTAT".into());
    }
    let path = format!(
        "/proc/{}/task/{}/schedstat",
        std::process::id(),
        clock::current_tid()
    );
    let file = File::open(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    read_schedstat(&file)
        .map(drop)
        .ok_or_else(|| format!("{path} does not hold the scheduler's counters"))
}

/// Reads "on-CPU-ns waiting-ns timeslices" from an open schedstat file, from its start.
fn read_schedstat(file: &File) -> Option<Reading> {
    let mut buf = [0u8; 96];
    let n = file.read_at(&mut buf, 0).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    let mut fields = text.split_ascii_whitespace().map(|f| f.parse::<u64>().ok());
    Some(Reading {
        at: Timestamp::now(),
        on_cpu_ns: fields.next()??,
        waiting_ns: fields.next()??,
    })
}

/// (voluntary, involuntary) context switches from an open `status` file.
fn read_switches(file: &File) -> Option<(u64, u64)> {
    let mut buf = [0u8; 4096];
    let n = file.read_at(&mut buf, 0).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some((
        field("voluntary_ctxt_switches:")?,
        field("nonvoluntary_ctxt_switches:")?,
    ))
}

/// The shares of an interval of `wall_ns` spent on a CPU and waiting for one, from counter
/// differences; each clamped to 0..=1 and their sum to 1 (the counters and the clock are
/// read a few microseconds apart).
pub fn shares(on_cpu_ns: u64, waiting_ns: u64, wall_ns: u64) -> (f32, f32, f32) {
    if wall_ns == 0 {
        return (0.0, 0.0, 1.0);
    }
    let running = (on_cpu_ns as f64 / wall_ns as f64).min(1.0);
    let runnable = (waiting_ns as f64 / wall_ns as f64).min(1.0 - running);
    let blocked = (1.0 - running - runnable).max(0.0);
    (running as f32, runnable as f32, blocked as f32)
}

fn sample_loop(shared: &Shared, asked: Duration, events: &Sender<Event>) {
    let mut interval = asked;
    let mut tick: u32 = 0;
    // The sampler's own cost over the current one-second window.
    let mut window_start = Timestamp::now();
    let mut window_cpu = clock::thread_cpu_time();
    // Windows over budget in a row; the first window (start-up: files opened, pages
    // touched) does not count, and one noisy window does not widen the interval for good.
    let mut windows = 0u32;
    let mut over_budget = 0u32;
    let mut state = lock(shared);
    loop {
        while state.tracked.is_empty() && !state.stop {
            state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if state.stop {
            return;
        }
        // A whole interval, whatever wakes the condition variable meanwhile (a worker
        // being tracked), so every sample spans about the same time.
        let deadline = std::time::Instant::now() + interval;
        while !state.stop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            state = shared
                .wake
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if state.stop {
            return;
        }
        tick = tick.wrapping_add(1);
        let count_switches = tick.is_multiple_of(SWITCHES_EVERY);
        state.tracked.retain_mut(|t| {
            let Some(now) = read_schedstat(&t.schedstat) else {
                return false; // the thread ended
            };
            let (mut voluntary, mut involuntary) = (0, 0);
            if count_switches && let Some((v, i)) = t.status.as_ref().and_then(read_switches) {
                if let Some((v0, i0)) = t.switches {
                    voluntary = v.saturating_sub(v0);
                    involuntary = i.saturating_sub(i0);
                }
                t.switches = Some((v, i));
            }
            let wall_ns = now.at.since(t.last.at).as_nanos() as u64;
            // The kernel adds a running thread's time at scheduler ticks, so one interval
            // can see less than it ran and the next more than its length: what does not
            // fit in this interval is carried into the next, not lost to a clamp.
            let on_cpu = now.on_cpu_ns.saturating_sub(t.last.on_cpu_ns).min(wall_ns);
            let waiting = now
                .waiting_ns
                .saturating_sub(t.last.waiting_ns)
                .min(wall_ns - on_cpu);
            let (running, runnable, blocked) = shares(on_cpu, waiting, wall_ns);
            let _ = events.send(Event::Sample(SampleEvent {
                experiment: t.experiment,
                worker: t.worker,
                from: t.last.at,
                to: now.at,
                running,
                runnable,
                blocked,
                voluntary_switches: voluntary as u32,
                involuntary_switches: involuntary as u32,
            }));
            t.last = Reading {
                at: now.at,
                on_cpu_ns: t.last.on_cpu_ns + on_cpu,
                waiting_ns: t.last.waiting_ns + waiting,
            };
            true
        });
        let now = Timestamp::now();
        let wall = now.since(window_start);
        if wall >= Duration::from_secs(1) {
            let cpu = clock::thread_cpu_time();
            let cost = cpu.saturating_sub(window_cpu).as_secs_f64() / wall.as_secs_f64();
            windows += 1;
            over_budget = if cost > MAX_COST && windows > 1 {
                over_budget + 1
            } else {
                0
            };
            if over_budget >= 2 && interval < MAX_INTERVAL {
                over_budget = 0;
                interval = (interval * 2).min(MAX_INTERVAL);
                let _ = events.send(Event::Sampler(SamplerNotice::Interval {
                    interval_ms: interval.as_millis() as u64,
                    widened: true,
                }));
            }
            window_start = now;
            window_cpu = cpu;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_one() {
        assert_eq!(shares(5, 3, 10), (0.5, 0.3, 0.2));
        let (r, q, b) = shares(12, 5, 10);
        assert_eq!((r, q, b), (1.0, 0.0, 0.0), "counters read after the clock");
        assert_eq!(shares(0, 0, 0), (0.0, 0.0, 1.0));
    }

    #[test]
    fn reads_this_threads_counters() {
        if check_available().is_err() {
            return; // not Linux with schedstats: nothing to read
        }
        let path = format!(
            "/proc/{}/task/{}/schedstat",
            std::process::id(),
            clock::current_tid()
        );
        let file = File::open(path).unwrap();
        let before = read_schedstat(&file).unwrap();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
        let after = read_schedstat(&file).unwrap();
        assert!(after.on_cpu_ns > before.on_cpu_ns, "re-read in place");
        let status = File::open(format!("/proc/self/task/{}/status", clock::current_tid()));
        assert!(read_switches(&status.unwrap()).is_some());
    }
}
