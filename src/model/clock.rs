//! Clocks the engine reads: wall-clock timestamps comparable across processes, the calling
//! thread's CPU clock, and the OS thread id.
//!
//! Timings are taken inside the worker that does the work (a pool thread or a child
//! process), so every reading here must be cheap and must mean the same thing in every
//! process. A [`Timestamp`] is epoch microseconds, but it is not read from the wall clock
//! each time: the wall clock is read once, at a [`ClockAnchor`], together with
//! `CLOCK_MONOTONIC`, and every later instant is the anchor plus the monotonic time since.
//! `CLOCK_MONOTONIC` is one clock for every process on the machine and never steps, so a
//! wall-clock step (NTP, a resumed VM) cannot make a makespan negative or put an end before
//! its start; worker processes are handed poolscope's anchor, so all agree.
//!
//! Each run takes its own anchor when it starts ([`ClockAnchor::for_new_run`]): a rerun an
//! hour later reads the wall clock afresh rather than counting on from the first run's
//! reading. While a run goes on, a run started beside it (tests do that) keeps the same
//! anchor, so the two stay on one scale.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A wall-clock instant: microseconds since the Unix epoch.
///
/// Microseconds are what the seed's CSV files can hold (epoch seconds with six decimals),
/// and they compare across processes because every process reads the same system clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub u64);

/// Where this process's timestamps are anchored: one wall-clock reading and the monotonic
/// clock at the same moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockAnchor {
    /// Microseconds since the Unix epoch, read once.
    pub epoch_us: u64,
    /// `CLOCK_MONOTONIC` at that moment, in microseconds.
    pub monotonic_us: u64,
}

/// An anchor that many threads read on every timestamp and that is replaced at most once
/// per run: a sequence lock (readers retry while a replacement is half written, and never
/// wait for each other).
struct AnchorCell {
    /// Even: settled; odd: being replaced. 0: never set.
    sequence: AtomicU64,
    epoch_us: AtomicU64,
    monotonic_us: AtomicU64,
    /// Replacements, one at a time.
    writer: Mutex<()>,
}

impl AnchorCell {
    const fn new() -> Self {
        AnchorCell {
            sequence: AtomicU64::new(0),
            epoch_us: AtomicU64::new(0),
            monotonic_us: AtomicU64::new(0),
            writer: Mutex::new(()),
        }
    }

    /// The anchor, if one was set.
    fn get(&self) -> Option<ClockAnchor> {
        loop {
            let before = self.sequence.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let anchor = ClockAnchor {
                epoch_us: self.epoch_us.load(Ordering::Acquire),
                monotonic_us: self.monotonic_us.load(Ordering::Acquire),
            };
            if self.sequence.load(Ordering::Acquire) == before {
                return Some(anchor);
            }
        }
    }

    /// Sets `anchor` (only if none was set, with `only_if_unset`); whether it did.
    fn set(&self, anchor: ClockAnchor, only_if_unset: bool) -> bool {
        let _one_writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let sequence = self.sequence.load(Ordering::Acquire);
        if only_if_unset && sequence != 0 {
            return false;
        }
        self.sequence.store(sequence + 1, Ordering::Release);
        self.epoch_us.store(anchor.epoch_us, Ordering::Release);
        self.monotonic_us
            .store(anchor.monotonic_us, Ordering::Release);
        self.sequence.store(sequence + 2, Ordering::Release);
        true
    }
}

static ANCHOR: AnchorCell = AnchorCell::new();
/// Runs of this process going on now (see [`ClockAnchor::for_new_run`]).
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// A run's hold on the clock: while it lives, runs started beside it share its anchor.
#[derive(Debug)]
pub struct RunClock(());

impl Drop for RunClock {
    fn drop(&mut self) {
        RUNS.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ClockAnchor {
    /// An anchor taken now.
    pub fn now() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        ClockAnchor {
            epoch_us: since_epoch.as_micros() as u64,
            monotonic_us: monotonic_us(),
        }
    }

    /// This process's anchor (taken at its first use, unless [`ClockAnchor::install`] came
    /// first; renewed by each run).
    pub fn current() -> Self {
        if let Some(anchor) = ANCHOR.get() {
            return anchor;
        }
        ANCHOR.set(ClockAnchor::now(), true);
        ANCHOR.get().unwrap_or_else(ClockAnchor::now)
    }

    /// Makes `self` this process's anchor (a worker takes its parent's); false if the
    /// process had already read its clock.
    pub fn install(self) -> bool {
        ANCHOR.set(self, true)
    }

    /// A run starts: it takes a fresh anchor (the wall clock read now), unless another run
    /// of this process is still going, whose times this one's must stay comparable with.
    /// The anchor is the run's until the returned hold is dropped (when the run has ended).
    pub fn for_new_run() -> RunClock {
        if RUNS.fetch_add(1, Ordering::AcqRel) == 0 {
            ANCHOR.set(ClockAnchor::now(), false);
        }
        RunClock(())
    }

    /// Now, on this anchor's scale.
    pub fn now_on(self) -> Timestamp {
        self.at(monotonic_us())
    }

    /// `EPOCH_US:MONOTONIC_US`, as a worker's `--clock-anchor` takes it.
    pub fn to_arg(self) -> String {
        format!("{}:{}", self.epoch_us, self.monotonic_us)
    }

    /// Reads [`ClockAnchor::to_arg`]'s form.
    pub fn parse_arg(text: &str) -> Option<Self> {
        let (epoch, monotonic) = text.split_once(':')?;
        Some(ClockAnchor {
            epoch_us: epoch.parse().ok()?,
            monotonic_us: monotonic.parse().ok()?,
        })
    }

    /// The instant `monotonic_us` on this anchor's scale.
    fn at(self, monotonic_us: u64) -> Timestamp {
        let since = monotonic_us.saturating_sub(self.monotonic_us);
        Timestamp(self.epoch_us.saturating_add(since))
    }
}

/// `CLOCK_MONOTONIC` in microseconds: shared by every process on the machine, never steps.
fn monotonic_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}

impl Timestamp {
    /// Now, on this process's anchored clock (see the module's notes).
    pub fn now() -> Self {
        ClockAnchor::current().at(monotonic_us())
    }

    /// The instant another process read as `monotonic_ns` on `CLOCK_MONOTONIC` (Python's
    /// `time.monotonic_ns()`), on this process's anchored clock: the clock is the machine's,
    /// so the two agree.
    pub fn from_monotonic_ns(monotonic_ns: u64) -> Self {
        ClockAnchor::current().at(monotonic_ns / 1_000)
    }

    /// Microseconds since the Unix epoch.
    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds since the Unix epoch, as a float (for JSON and arithmetic).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// The time from `earlier` to `self`; zero if `earlier` is later (clock steps).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// This instant moved forward by `d`.
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.as_micros() as u64))
    }

    /// Epoch seconds with exactly six decimals, as the CSV columns hold them.
    pub fn to_epoch_string(self) -> String {
        format!("{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// CPU time consumed so far by the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
///
/// Read before and after a task on the thread that runs it, the difference is the task's
/// CPU time: near its wall time for fib, near zero for a request that waits on a server.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The kernel's id for the calling thread (what `top -H` and `/proc/PID/task/` show).
pub fn current_tid() -> u32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid takes no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_gettid) as u32 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// How many CPUs this process may run on (the "cores" in parallel efficiency).
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_string_has_six_decimals() {
        assert_eq!(
            Timestamp(1_700_000_000_000_042).to_epoch_string(),
            "1700000000.000042"
        );
        assert_eq!(Timestamp(5).to_epoch_string(), "0.000005");
    }

    #[test]
    fn since_saturates_when_the_clock_steps_back() {
        assert_eq!(Timestamp(10).since(Timestamp(20)), Duration::ZERO);
        assert_eq!(
            Timestamp(20).since(Timestamp(10)),
            Duration::from_micros(10)
        );
    }

    #[test]
    fn anchored_time_follows_the_monotonic_clock_not_the_wall() {
        let anchor = ClockAnchor {
            epoch_us: 1_000_000,
            monotonic_us: 500,
        };
        assert_eq!(anchor.at(500), Timestamp(1_000_000));
        assert_eq!(anchor.at(2_500), Timestamp(1_002_000));
        assert_eq!(
            anchor.at(100),
            Timestamp(1_000_000),
            "never before the anchor"
        );
        assert_eq!(ClockAnchor::parse_arg(&anchor.to_arg()), Some(anchor));
        assert_eq!(ClockAnchor::parse_arg("1:x"), None);
        let (a, b) = (Timestamp::now(), Timestamp::now());
        assert!(b >= a, "monotonic");
    }

    #[test]
    fn an_anchor_is_replaced_whole_and_install_only_sets_a_first() {
        let cell = AnchorCell::new();
        assert_eq!(cell.get(), None);
        let first = ClockAnchor {
            epoch_us: 10,
            monotonic_us: 20,
        };
        assert!(cell.set(first, true));
        assert!(
            !cell.set(ClockAnchor::now(), true),
            "a worker's install comes first or not at all"
        );
        assert_eq!(cell.get(), Some(first));
        // Readers on other threads see one anchor or the other, never half of each.
        let cell = std::sync::Arc::new(cell);
        let reader = {
            let cell = cell.clone();
            std::thread::spawn(move || {
                for _ in 0..100_000 {
                    let a = cell.get().unwrap();
                    assert_eq!(a.monotonic_us, a.epoch_us * 2, "{a:?}");
                }
            })
        };
        for i in 1..20_000u64 {
            cell.set(
                ClockAnchor {
                    epoch_us: i,
                    monotonic_us: i * 2,
                },
                false,
            );
        }
        reader.join().unwrap();
    }

    /// Each run reads the wall clock afresh, unless another run is still going.
    #[test]
    fn each_run_takes_its_own_anchor_unless_one_is_going() {
        // Other tests of this binary may hold runs: only the effect of ours is checked.
        let held = ClockAnchor::for_new_run();
        let during = ClockAnchor::current();
        {
            let _beside = ClockAnchor::for_new_run();
            assert_eq!(
                ClockAnchor::current(),
                during,
                "a run beside another shares its anchor"
            );
        }
        drop(held);
        std::thread::sleep(Duration::from_millis(2));
        if RUNS.load(Ordering::Acquire) == 0 {
            let _next = ClockAnchor::for_new_run();
            let renewed = ClockAnchor::current();
            assert!(
                renewed.monotonic_us > during.monotonic_us,
                "{renewed:?} after {during:?}"
            );
        }
    }

    #[test]
    fn thread_cpu_time_grows_with_work() {
        let before = thread_cpu_time();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
        assert!(thread_cpu_time() > before);
    }
}
