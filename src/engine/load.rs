//! How busy the machine was apart from poolscope, per experiment: the CPU time every
//! process used on the run's CPUs (`/proc/stat`), minus what poolscope and its worker
//! processes used themselves (`getrusage`), over the experiment's wall time. A makespan
//! measured while other programs took half the CPUs says little about the pools, and the
//! summary says so rather than let a speed-up mislead.
//!
//! `/proc/stat` counts in clock ticks (10 ms) per CPU, so a reading is good to about
//! ±(2 ticks × CPUs) / wall time: ±0.08 CPU over half a second on 2 CPUs. Below
//! [`SHORTEST`] that is too coarse to tell anything, and no figure is given.

use std::time::{Duration, Instant};

/// Experiments shorter than this get no figure: the counters' ticks would be most of it.
pub const SHORTEST: Duration = Duration::from_millis(100);

/// One reading at the start of an experiment.
#[derive(Debug, Clone)]
pub struct LoadMeter {
    cpus: Vec<usize>,
    at: Instant,
    busy: Duration,
    own: Duration,
}

impl LoadMeter {
    /// Reads the counters now, for the CPUs `cpus` (the ones the run's workers may use);
    /// `None` where `/proc/stat` cannot be read.
    pub fn start(cpus: &[usize]) -> Option<LoadMeter> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        Some(LoadMeter {
            cpus: cpus.to_vec(),
            busy: busy_time(&stat, cpus)?,
            own: own_cpu(),
            at: Instant::now(),
        })
    }

    /// CPUs other processes used since [`LoadMeter::start`], averaged over the wall time;
    /// `None` if too little time passed to tell, or the counters cannot be read.
    pub fn others_cpu(&self) -> Option<f64> {
        let wall = self.at.elapsed();
        if wall < SHORTEST {
            return None;
        }
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let busy = busy_time(&stat, &self.cpus)?.saturating_sub(self.busy);
        let own = own_cpu().saturating_sub(self.own);
        Some(others(busy, own, wall))
    }
}

/// CPUs used by others: the busy time of the CPUs less poolscope's own, over `wall`, at
/// least 0 (the two clocks round differently).
pub fn others(busy: Duration, own: Duration, wall: Duration) -> f64 {
    (busy.as_secs_f64() - own.as_secs_f64()).max(0.0) / wall.as_secs_f64().max(1e-9)
}

/// Busy time (user, nice, system, irq, softirq: everything but idle, I/O wait and time a
/// hypervisor stole) of `cpus`, from `/proc/stat`'s text; `None` if a CPU is missing.
pub fn busy_time(stat: &str, cpus: &[usize]) -> Option<Duration> {
    let tick = clock_tick();
    let mut ticks = 0u64;
    for &cpu in cpus {
        let name = format!("cpu{cpu}");
        let line = stat
            .lines()
            .find(|l| l.split_ascii_whitespace().next() == Some(name.as_str()))?;
        let fields: Vec<u64> = line
            .split_ascii_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let field = |i: usize| fields.get(i).copied().unwrap_or(0);
        ticks += field(0) + field(1) + field(2) + field(5) + field(6);
    }
    Some(tick * u32::try_from(ticks).unwrap_or(u32::MAX))
}

/// One clock tick of `/proc/stat` (USER_HZ, 10 ms nearly everywhere).
fn clock_tick() -> Duration {
    // SAFETY: sysconf reads a constant of the system and touches no memory.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        Duration::from_secs(1) / hz as u32
    } else {
        Duration::from_millis(10)
    }
}

/// CPU time of poolscope and its reaped children (worker processes end, and are reaped,
/// within the experiment that started them).
fn own_cpu() -> Duration {
    let used = |who: libc::c_int| {
        // SAFETY: getrusage only fills the zeroed struct we own.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(who, &mut usage) } != 0 {
            return Duration::ZERO;
        }
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        tv(usage.ru_utime) + tv(usage.ru_stime)
    };
    used(libc::RUSAGE_SELF) + used(libc::RUSAGE_CHILDREN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  900 0 300 5000 10 0 5 7 0 0
cpu0 400 0 100 2500 5 0 2 3 0 0
cpu1 500 0 200 2500 5 0 3 4 0 0
intr 1 2 3
";

    #[test]
    fn busy_time_adds_the_busy_fields_of_the_cpus_asked() {
        let tick = clock_tick();
        assert_eq!(busy_time(STAT, &[0]), Some(tick * 502));
        assert_eq!(busy_time(STAT, &[0, 1]), Some(tick * (502 + 703)));
        assert_eq!(busy_time(STAT, &[2]), None, "no such CPU");
    }

    #[test]
    fn others_are_the_busy_time_less_ours_over_the_wall_time() {
        let s = Duration::from_secs;
        assert_eq!(others(s(3), s(1), s(2)), 1.0);
        assert_eq!(others(s(1), s(2), s(2)), 0.0, "never below zero");
    }
}
