//! Clocks the engine reads: wall-clock timestamps comparable across processes, the calling
//! thread's CPU clock, and the OS thread id.
//!
//! Timings are taken inside the worker that does the work (a pool thread or a child
//! process), so every reading here must be cheap and must mean the same thing in every
//! process: the wall clock is `CLOCK_REALTIME` (microseconds since the Unix epoch), which
//! all processes on the machine share.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A wall-clock instant: microseconds since the Unix epoch.
///
/// Microseconds are what the seed's CSV files can hold (epoch seconds with six decimals),
/// and they compare across processes because every process reads the same system clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Timestamp(since_epoch.as_micros() as u64)
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
