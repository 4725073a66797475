//! The scheduler sampler: what every worker thread was really doing, from the kernel's own
//! accounting, so a gap in a bar has a reason.
//!
//! While an experiment runs, one thread reads each worker thread's
//! `/proc/<pid>/task/<tid>/schedstat` (nanoseconds on a CPU, nanoseconds waiting on a run
//! queue) and `status` (its state, and its voluntary and involuntary context switches)
//! every interval, and once more as the worker ends ([`SamplerHandle::finish`]), so no
//! stretch of a worker's life goes unsampled. The differences become [`Event::Sample`]s on
//! the run's channel: per worker and interval, the shares running, runnable (ready but
//! waiting for a CPU) and blocked (neither: sleeping, I/O, a lock), and the switches.
//!
//! The kernel adds a wait to `schedstat` only when it ends, so the thread's state decides
//! what a stretch off the CPU was: see [`split`].
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
pub const MAX_INTERVAL: Duration = Duration::from_secs(1);
/// How long the cost meter measures over before it judges.
const WINDOW: Duration = Duration::from_secs(1);

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
    /// The run's channel: the sampler thread's samples, and the last ones taken as workers
    /// end (on their own threads, under the lock, so a thread's samples stay in order).
    events: Sender<Event>,
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
    probe: Probe,
}

/// One thread's counters, read in place interval after interval and turned into split
/// intervals: what the run's sampler keeps per worker thread, and `poolscope watch`'s
/// sampler per thread of the watched tree. `N` is what the caller notes about each
/// interval as it is read (what the thread waited for, say), carried with it when the
/// interval is held back.
#[derive(Debug)]
pub struct Probe<N = ()> {
    schedstat: File,
    status: Option<File>,
    last: Reading,
    /// How much of the kernel's counters the samples sent so far account for.
    done: Attributed,
    /// An interval held back until the kernel reports the wait it may hide (see
    /// [`settle`]).
    held: Option<Held<N>>,
}

/// An interval held back: its span, its split, its note, and how many readings it has
/// waited.
#[derive(Debug)]
struct Held<N> {
    from: Timestamp,
    to: Timestamp,
    split: Split,
    note: N,
    readings: u32,
}

/// One interval of a thread, ready to send: its span, its split, and what the caller noted.
#[derive(Debug, Clone, Copy)]
pub struct Interval<N> {
    /// Start.
    pub from: Timestamp,
    /// End.
    pub to: Timestamp,
    /// How it was spent.
    pub split: Split,
    /// The caller's note ([`Probe::sample`]).
    pub note: N,
}

impl<N: Copy> Probe<N> {
    /// Opens `/proc/<pid>/task/<tid>`'s counters and takes a first reading; `None` if the
    /// thread is gone (or not readable).
    pub fn open(pid: u32, tid: u32) -> Option<Self> {
        let task = format!("/proc/{pid}/task/{tid}");
        let schedstat = File::open(format!("{task}/schedstat")).ok()?;
        let status = File::open(format!("{task}/status")).ok();
        let last = read(&schedstat, status.as_ref(), None)?;
        Some(Probe {
            schedstat,
            status,
            done: Attributed::from(&last),
            last,
            held: None,
        })
    }

    /// The latest reading.
    pub fn last(&self) -> &Reading {
        &self.last
    }

    /// Reads the thread now and hands `emit` the intervals that are ready (none, one, or
    /// a held one and this one): `note` is called with the previous and the new reading
    /// and this interval's split, as soon as it is read, and what it returns travels with
    /// the interval. An interval that may hide a wait under way as it ended is held back
    /// until the kernel reports that wait, which it does when the thread next gets a CPU
    /// (see [`settle`]); `last` (the thread ends, or stops being sampled) sends everything.
    /// Returns false once the thread has ended (nothing more to send).
    pub fn sample(
        &mut self,
        last: bool,
        note: impl FnOnce(&Reading, &Reading, &Split) -> N,
        mut emit: impl FnMut(Interval<N>),
    ) -> bool {
        let Some(now) = read(&self.schedstat, self.status.as_ref(), Some(&self.last)) else {
            if let Some(held) = self.held.take() {
                emit(held.interval());
            }
            return false;
        };
        // Every wait so far has ended, and the kernel has reported it, once the thread is
        // on a CPU or asleep (it ran to fall asleep).
        let all_reported = now.on_cpu == Some(true) || !now.status.is_some_and(|s| s.runnable);
        if let Some(mut held) = self.held.take() {
            held.readings += 1;
            // Settled before this interval is split, so the wait the held one hides is
            // counted there first; an interval whose thread slept takes its waits from the
            // kernel's report, which would otherwise count it here.
            if all_reported || !never_slept(&self.last, &now) || last || held.readings >= MAX_HOLD {
                settle(&mut held.split, &now, &mut self.done);
                emit(held.interval());
            } else {
                self.held = Some(held);
            }
        }
        let split = split(&self.last, &now, &mut self.done);
        let note = note(&self.last, &now, &split);
        let may_hide_a_wait = split.reported_only && split.blocked_ns() > 0 && !all_reported;
        if may_hide_a_wait && !last {
            if let Some(older) = self.held.take() {
                emit(older.interval());
            }
            self.held = Some(Held {
                from: self.last.at,
                to: now.at,
                split,
                note,
                readings: 0,
            });
        } else if split.wall_ns > 0 {
            emit(Interval {
                from: self.last.at,
                to: now.at,
                split,
                note,
            });
        }
        self.last = now;
        true
    }
}

impl<N: Copy> Held<N> {
    fn interval(&self) -> Interval<N> {
        Interval {
            from: self.from,
            to: self.to,
            split: self.split,
            note: self.note,
        }
    }
}

/// The most readings an interval is held back for (a second at the default interval): a
/// thread that long on a run queue is settled with what is known by then.
const MAX_HOLD: u32 = 100;

/// One reading of a thread's counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// When it was read.
    pub at: Timestamp,
    /// Nanoseconds on a CPU (schedstat's first field).
    pub on_cpu_ns: u64,
    /// Nanoseconds waiting on a run queue, as far as the kernel has added them up: it adds
    /// a wait only when the thread gets a CPU, so a wait under way is not in it yet.
    pub waiting_ns: u64,
    /// How many times the thread has been switched in (schedstat's third field).
    pub switched_in: Option<u64>,
    /// The thread's state and switch counts from `status`, when it could be read.
    pub status: Option<Status>,
    /// Whether the thread is on a CPU right now (not on a run queue, not asleep), when
    /// that can be told: it has been switched in (schedstat's third field) once more than
    /// it has been switched out (its voluntary and involuntary switches).
    pub on_cpu: Option<bool>,
}

/// What `/proc/<pid>/task/<tid>/status` says about a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// State `R`: on a CPU or on a run queue waiting for one (not sleeping).
    pub runnable: bool,
    /// Voluntary context switches so far: each is the thread going to sleep.
    pub voluntary: u64,
    /// Involuntary ones: the scheduler took the CPU away.
    pub involuntary: u64,
}

/// The kernel's CPU and wait counters as far as the samples sent so far account for them.
/// Samples account for time the kernel has not reported yet (a wait under way), and the
/// kernel reports time later than it happened (a running thread's CPU time at scheduler
/// ticks, a wait when it ends), so the two are kept apart and reconciled interval by
/// interval: nothing is counted twice and nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attributed {
    /// CPU time accounted for.
    pub on_cpu_ns: u64,
    /// Waiting time accounted for (it may run ahead of the kernel's count).
    pub waiting_ns: u64,
}

impl Attributed {
    /// Nothing accounted for beyond `reading`: where sampling a thread begins.
    pub fn from(reading: &Reading) -> Self {
        Attributed {
            on_cpu_ns: reading.on_cpu_ns,
            waiting_ns: reading.waiting_ns,
        }
    }
}

/// One interval of one thread, split: nanoseconds on a CPU, waiting for one, and neither
/// (blocked), adding up to the interval's length; and the context switches in it, when
/// both ends could read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// The interval's length.
    pub wall_ns: u64,
    /// On a CPU.
    pub running_ns: u64,
    /// Ready to run, waiting for a CPU.
    pub runnable_ns: u64,
    /// (voluntary, involuntary) switches in the interval.
    pub switches: Option<(u64, u64)>,
    /// Whether the wait is only what the kernel reported (the thread slept in the
    /// interval, or its state could not be read): then a wait still under way as the
    /// interval ended, if the thread was runnable then, is not in it yet.
    pub reported_only: bool,
}

impl Split {
    /// Neither running nor waiting.
    pub fn blocked_ns(&self) -> u64 {
        self.wall_ns
            .saturating_sub(self.running_ns)
            .saturating_sub(self.runnable_ns)
    }
}

/// Settles an interval held back: it ended with its thread on a run queue but its wait only
/// as far as the kernel had reported, so the wait under way as it ended (the thread woke,
/// ran, was preempted and queued, say) reads as blocked. Once the thread is on a CPU again
/// (or asleep) every wait has ended and been reported: whatever the kernel reports beyond
/// what the samples account for (the intervals since counted their own waiting already),
/// up to the held interval's blocked time, was that wait, and is counted there. Never more:
/// what the samples counted ahead of the kernel is taken off first.
pub fn settle(held: &mut Split, now: &Reading, done: &mut Attributed) {
    let unaccounted = now.waiting_ns.saturating_sub(done.waiting_ns);
    let moved = unaccounted.min(held.blocked_ns());
    held.runnable_ns += moved;
    done.waiting_ns += moved;
}

/// Whether the thread never slept between `prev` and `now`: it was runnable at `prev` and
/// made no voluntary switch since (each sleep is one).
fn never_slept(prev: &Reading, now: &Reading) -> bool {
    match (prev.status, now.status) {
        (Some(a), Some(b)) => a.runnable && b.voluntary == a.voluntary,
        _ => false,
    }
}

/// Splits the interval from `prev` to `now`, updating `done`.
///
/// The kernel's `run_delay` grows only when a waiting thread gets a CPU, so a thread that
/// spends a whole interval on the run queue shows no wait in it. The thread's state tells
/// the two apart: a thread that was runnable (`R`) when the interval began and made no
/// voluntary switch in it never slept, so whatever of the interval it was not on a CPU it
/// spent waiting for one — counted now, and not again when the kernel reports it. A thread
/// that slept is waiting only for what the kernel reported, and blocked for the rest.
///
/// CPU time is taken as the kernel reports it, at most the interval's length; what does
/// not fit (a running thread's counter catching up at a tick) is accounted in the next
/// interval. Time a hypervisor took from the VM is, for a thread that never slept, time it
/// wanted a CPU and had none: waiting.
pub fn split(prev: &Reading, now: &Reading, done: &mut Attributed) -> Split {
    let wall_ns = now.at.since(prev.at).as_nanos() as u64;
    let switches = match (prev.status, now.status) {
        (Some(a), Some(b)) => Some((
            b.voluntary.saturating_sub(a.voluntary),
            b.involuntary.saturating_sub(a.involuntary),
        )),
        _ => None,
    };
    let running_ns = now.on_cpu_ns.saturating_sub(done.on_cpu_ns).min(wall_ns);
    let never_slept = never_slept(prev, now);
    let runnable_ns = if never_slept {
        wall_ns - running_ns
    } else {
        now.waiting_ns
            .saturating_sub(done.waiting_ns)
            .min(wall_ns - running_ns)
    };
    done.on_cpu_ns += running_ns;
    done.waiting_ns += runnable_ns;
    Split {
        wall_ns,
        running_ns,
        runnable_ns,
        switches,
        reported_only: !never_slept,
    }
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
            events,
        });
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("poolscope-sampler".into())
            .spawn(move || sample_loop(&for_thread, interval));
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
        let Some(probe) = Probe::open(worker.pid, worker.tid) else {
            return; // the thread is already gone
        };
        let mut state = lock(shared);
        state
            .tracked
            .retain(|t| !(t.experiment == experiment && t.worker.index == worker.index));
        state.tracked.push(Tracked {
            experiment,
            worker,
            probe,
        });
        drop(state);
        shared.wake.notify_all();
    }

    /// Takes a last reading of worker `index` of `experiment` and stops sampling it: called
    /// as the worker ends (a pool thread about to exit, a worker process about to be let
    /// go), so the stretch since the last tick is sampled too instead of left unknown.
    pub fn finish(&self, experiment: usize, index: usize) {
        let Some(shared) = &self.shared else { return };
        let mut state = lock(shared);
        if let Some(i) = state
            .tracked
            .iter()
            .position(|t| t.experiment == experiment && t.worker.index == index)
        {
            let mut tracked = state.tracked.swap_remove(i);
            sample_once(&mut tracked, &shared.events, true);
        }
    }

    /// Stops sampling the workers of `experiment` (it ended), with a last reading of each
    /// still tracked; the sampler sleeps if no other experiment is tracked.
    pub fn forget(&self, experiment: usize) {
        if let Some(shared) = &self.shared {
            let mut state = lock(shared);
            let mut kept = Vec::with_capacity(state.tracked.len());
            for mut tracked in std::mem::take(&mut state.tracked) {
                if tracked.experiment == experiment {
                    sample_once(&mut tracked, &shared.events, true);
                } else {
                    kept.push(tracked);
                }
            }
            state.tracked = kept;
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether this system exposes per-thread scheduler statistics; why not, if it does not.
/// The hidden test switch `POOLSCOPE_TEST_NO_SCHEDSTAT` plays a system without them.
pub fn check_available() -> Result<(), String> {
    if std::env::var_os("POOLSCOPE_TEST_NO_SCHEDSTAT").is_some() {
        return Err("per-thread schedstat hidden by POOLSCOPE_TEST_NO_SCHEDSTAT".into());
    }
    let path = format!(
        "/proc/{}/task/{}/schedstat",
        std::process::id(),
        clock::current_tid()
    );
    let file = File::open(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    read(&file, None, None)
        .map(drop)
        .ok_or_else(|| format!("{path} does not hold the scheduler's counters"))
}

/// Reads a thread's counters: "on-CPU-ns waiting-ns timeslices" from its open schedstat
/// file, and its state and switch counts from its open `status` file (if that fails, the
/// reading has no status, and the interval is split from the counters alone). `None` once
/// the thread has ended.
///
/// `status` costs ten times `schedstat` to read, so it is skipped where it cannot have
/// changed: a thread asleep at the `prev` reading that has not been switched in since
/// (schedstat unchanged) has made no switch, so its counts are the same, and it is taken as
/// still asleep (if it woke and is queued, not yet run, its wait is reported, and counted,
/// when it runs). Sleeping workers, the common case of I/O, then cost a `schedstat` read.
fn read(schedstat: &File, status: Option<&File>, prev: Option<&Reading>) -> Option<Reading> {
    let mut buf = [0u8; 96];
    let n = schedstat.read_at(&mut buf, 0).ok()?;
    let at = Timestamp::now();
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    let mut fields = text.split_ascii_whitespace().map(|f| f.parse::<u64>().ok());
    let on_cpu_ns = fields.next()??;
    let waiting_ns = fields.next()??;
    let switched_in = fields.next().flatten();
    let unchanged = prev.filter(|p| {
        p.status.is_some_and(|s| !s.runnable)
            && (p.on_cpu_ns, p.waiting_ns, p.switched_in) == (on_cpu_ns, waiting_ns, switched_in)
            && switched_in.is_some()
    });
    let status = match unchanged {
        Some(p) => p.status,
        None => status.and_then(read_status),
    };
    // Read a few microseconds apart, the two files may straddle a switch: a difference
    // other than 0 or 1 tells nothing.
    let on_cpu = switched_in.zip(status).and_then(|(arrived, s)| {
        match arrived.checked_sub(s.voluntary + s.involuntary) {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        }
    });
    Some(Reading {
        at,
        on_cpu_ns,
        waiting_ns,
        switched_in,
        status,
        on_cpu,
    })
}

/// The state and (voluntary, involuntary) switch counts from an open `status` file.
fn read_status(file: &File) -> Option<Status> {
    let mut buf = [0u8; 4096];
    let n = file.read_at(&mut buf, 0).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    // The state is near the top and the switch counts are the last lines: look for each
    // from its end of the file (this runs every tick for every worker).
    let state = text
        .lines()
        .take(8)
        .find_map(|l| l.strip_prefix("State:"))?;
    let count = |name: &str| {
        text.lines()
            .rev()
            .take(8)
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some(Status {
        runnable: state.trim_start().starts_with('R'),
        voluntary: count("voluntary_ctxt_switches:")?,
        involuntary: count("nonvoluntary_ctxt_switches:")?,
    })
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

/// Reads `t` now and sends what is ready as samples; false once the thread has ended
/// (see [`Probe::sample`]).
fn sample_once(t: &mut Tracked, events: &Sender<Event>, last: bool) -> bool {
    let (experiment, worker) = (t.experiment, t.worker);
    t.probe.sample(
        last,
        |_, _, _| (),
        |i| send(experiment, worker, events, i.from, i.to, &i.split),
    )
}

/// Sends `split`, the interval `from`..`to` of `worker`, as a sample.
fn send(
    experiment: usize,
    worker: WorkerId,
    events: &Sender<Event>,
    from: Timestamp,
    to: Timestamp,
    split: &Split,
) {
    let _ = events.send(Event::Sample(sample_event(
        experiment, worker, from, to, split,
    )));
}

/// The sample of `worker`'s interval `from`..`to`, split as `split` says (no GIL, no
/// waits: a caller that knows them adds them).
pub fn sample_event(
    experiment: usize,
    worker: WorkerId,
    from: Timestamp,
    to: Timestamp,
    split: &Split,
) -> SampleEvent {
    let (running, runnable, blocked) = shares(split.running_ns, split.runnable_ns, split.wall_ns);
    let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    SampleEvent {
        experiment,
        worker,
        from,
        to,
        running,
        runnable,
        blocked,
        voluntary_switches: split.switches.map(|(v, _)| count(v)),
        involuntary_switches: split.switches.map(|(_, i)| count(i)),
        gil: None,
        waits: None,
    }
}

/// A sampler's watch on its own cost: its thread's CPU time over one-second windows. Two
/// windows in a row above [`MAX_COST`] of a core double the interval (up to a second); the
/// first window (start-up: files opened, pages touched) does not count, and one noisy
/// window does not widen the interval for good. Call it from the sampling thread.
#[derive(Debug)]
pub struct CostMeter {
    interval: Duration,
    window_start: Timestamp,
    window_cpu: Duration,
    windows: u32,
    over_budget: u32,
    /// Since the start: (wall, the thread's CPU).
    started: (Timestamp, Duration),
    /// The cost of the last full window.
    last_cost: Option<f64>,
    /// Where the current interval's measure starts: (wall, the thread's CPU).
    settled: (Timestamp, Duration),
}

impl CostMeter {
    /// Starts measuring, at `interval`.
    pub fn new(interval: Duration) -> Self {
        let (now, cpu) = (Timestamp::now(), clock::thread_cpu_time());
        CostMeter {
            interval,
            window_start: now,
            window_cpu: cpu,
            windows: 0,
            over_budget: 0,
            started: (now, cpu),
            last_cost: None,
            settled: (now, cpu),
        }
    }

    /// The interval now.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// After a round of readings: the new interval, if it was just widened.
    pub fn after_round(&mut self) -> Option<Duration> {
        let now = Timestamp::now();
        let wall = now.since(self.window_start);
        if wall < WINDOW {
            return None;
        }
        let cpu = clock::thread_cpu_time();
        let cost = cpu.saturating_sub(self.window_cpu).as_secs_f64() / wall.as_secs_f64();
        self.windows += 1;
        if self.windows > 1 {
            self.last_cost = Some(cost);
        } else {
            self.settled = (now, cpu);
        }
        self.over_budget = if cost > MAX_COST && self.windows > 1 {
            self.over_budget + 1
        } else {
            0
        };
        self.window_start = now;
        self.window_cpu = cpu;
        if self.over_budget >= 2 && self.interval < MAX_INTERVAL {
            self.over_budget = 0;
            self.interval = (self.interval * 2).min(MAX_INTERVAL);
            // That window was at the old interval: not this one's cost.
            self.last_cost = None;
            self.settled = (now, cpu);
            return Some(self.interval);
        }
        None
    }

    /// The share of a core the thread used at the interval it settled on: since the last
    /// time it widened (after its first window, which opens files and touches pages), or
    /// since it started if less than a window has passed since then (a run that ended
    /// just after a window closed would otherwise be judged on the last moments' work:
    /// its final readings over a few milliseconds read as most of a core).
    pub fn settled_cost(&self) -> f64 {
        self.settled_cost_at(Timestamp::now(), clock::thread_cpu_time())
    }

    /// [`CostMeter::settled_cost`] at wall time `now`, the thread having used `cpu`.
    fn settled_cost_at(&self, now: Timestamp, cpu: Duration) -> f64 {
        let (at, settled_cpu) = self.settled;
        let wall = now.since(at);
        if wall >= WINDOW {
            cpu.saturating_sub(settled_cpu).as_secs_f64() / wall.as_secs_f64()
        } else {
            // The last whole window at this interval (none right after a widening), else
            // the whole run.
            self.last_cost
                .unwrap_or_else(|| self.cost_so_far_at(now, cpu))
        }
    }

    /// Whether it has measured a whole window past the first: before, start-up (files opened,
    /// pages touched, an interpreter's runtime looked for) is most of what it saw, and a
    /// share of a core says nothing of what sampling costs.
    pub fn measured_a_window(&self) -> bool {
        // The first window is start-up's: one more past it.
        self.windows > 1
    }

    /// The share of a core the thread used since it started measuring.
    pub fn cost_so_far(&self) -> f64 {
        self.cost_so_far_at(Timestamp::now(), clock::thread_cpu_time())
    }

    fn cost_so_far_at(&self, now: Timestamp, cpu: Duration) -> f64 {
        let wall = now.since(self.started.0).as_secs_f64();
        let used = cpu.saturating_sub(self.started.1);
        if wall > 0.0 {
            used.as_secs_f64() / wall
        } else {
            0.0
        }
    }

    /// The share of a core of the last full window (after the first), if there was one.
    pub fn last_cost(&self) -> Option<f64> {
        self.last_cost
    }
}

fn sample_loop(shared: &Shared, asked: Duration) {
    let events = &shared.events;
    let mut meter = CostMeter::new(asked);
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
        let deadline = std::time::Instant::now() + meter.interval();
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
        state.tracked.retain_mut(|t| sample_once(t, events, false));
        if let Some(interval) = meter.after_round() {
            let _ = events.send(Event::Sampler(SamplerNotice::Interval {
                interval_ms: interval.as_millis() as u64,
                widened: true,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// A run that ends 5 ms after its first window closed is judged on the whole run, not
    /// on those 5 ms of final readings (which read as most of a core).
    #[test]
    fn the_cost_is_never_judged_on_a_sliver_after_a_window() {
        let ms = |n: u64| Duration::from_millis(n);
        let mut meter = CostMeter::new(ms(10));
        meter.started = (Timestamp(0), ms(0));
        // The first window closed at 1 s, the thread having used 10 ms.
        meter.settled = (Timestamp(1_000_000), ms(10));
        // 5 ms later, 4.5 ms more: the final readings.
        let cost = meter.settled_cost_at(Timestamp(1_005_000), Duration::from_micros(14_500));
        assert!((cost - 0.0145 / 1.005).abs() < 1e-9, "{cost}");
        // Two seconds after it settled: the settled stretch alone.
        let cost = meter.settled_cost_at(Timestamp(3_000_000), ms(30));
        assert!((cost - 0.01).abs() < 1e-9, "{cost}");
    }

    /// A reading at `at_ms`, with the counters in ms, runnable or asleep, and switches.
    fn reading(at_ms: u64, on_ms: u64, waited_ms: u64, runnable: bool, sw: (u64, u64)) -> Reading {
        Reading {
            at: Timestamp(at_ms * 1000),
            on_cpu_ns: on_ms * MS,
            waiting_ns: waited_ms * MS,
            status: Some(Status {
                runnable,
                voluntary: sw.0,
                involuntary: sw.1,
            }),
            switched_in: None,
            on_cpu: None,
        }
    }

    /// (running, runnable) in ms.
    fn ms(split: Split) -> (u64, u64) {
        (split.running_ns / MS, split.runnable_ns / MS)
    }

    #[test]
    fn shares_add_up_to_one() {
        assert_eq!(shares(5, 3, 10), (0.5, 0.3, 0.2));
        let (r, q, b) = shares(12, 5, 10);
        assert_eq!((r, q, b), (1.0, 0.0, 0.0), "counters read after the clock");
        assert_eq!(shares(0, 0, 0), (0.0, 0.0, 1.0));
    }

    #[test]
    fn a_whole_interval_on_the_run_queue_is_waiting_not_blocked() {
        // The kernel has not added the wait yet (it does when the thread gets a CPU): the
        // thread was runnable and never slept, so it waited.
        let a = reading(0, 0, 0, true, (0, 0));
        let b = reading(10, 0, 0, true, (0, 0));
        let mut done = Attributed::from(&a);
        assert_eq!(ms(split(&a, &b, &mut done)), (0, 10));
        // It gets the CPU for 4 ms and the kernel reports the 16 ms it waited: the 10 ms
        // already counted are not counted again.
        let c = reading(20, 4, 16, true, (0, 1));
        assert_eq!(ms(split(&b, &c, &mut done)), (4, 6));
        // Then it sleeps 10 ms (a voluntary switch): blocked, nothing more waited.
        let d = reading(30, 4, 16, false, (1, 1));
        let e = reading(40, 4, 16, false, (1, 1));
        assert_eq!(ms(split(&c, &d, &mut done)), (0, 0));
        assert_eq!(ms(split(&d, &e, &mut done)), (0, 0));
    }

    #[test]
    fn a_thread_that_slept_waits_only_for_what_the_kernel_reported() {
        // Runnable at the start, then it ran 3 ms, slept, woke, waited 2 ms, ran, slept.
        let a = reading(0, 0, 0, true, (0, 0));
        let b = reading(10, 3, 2, false, (2, 0));
        let mut done = Attributed::from(&a);
        let s = split(&a, &b, &mut done);
        assert_eq!(ms(s), (3, 2));
        assert_eq!(s.switches, Some((2, 0)));
        // Asleep at the start and at the end, nothing ran: blocked throughout.
        let c = reading(20, 3, 2, false, (2, 0));
        assert_eq!(ms(split(&b, &c, &mut done)), (0, 0));
    }

    #[test]
    fn a_wait_under_way_as_a_thread_woke_is_settled_by_the_next_reading() {
        // Asleep when the interval began; it woke after 3 ms and queued for a CPU until the
        // end, a wait the kernel has not added yet: it reads as blocked, and is held back.
        let a = reading(0, 0, 0, false, (0, 0));
        let b = reading(10, 0, 0, true, (0, 0));
        let mut done = Attributed::from(&a);
        let mut held = split(&a, &b, &mut done);
        assert!(held.reported_only);
        assert_eq!((ms(held), held.blocked_ns() / MS), ((0, 0), 10));
        // It got the CPU 2 ms into the next interval: the kernel reports the 9 ms it waited.
        let c = reading(20, 8, 9, true, (0, 0));
        assert_eq!(ms(split(&b, &c, &mut done)), (8, 2));
        settle(&mut held, &c, &mut done);
        assert_eq!(
            ms(held),
            (0, 7),
            "the 7 ms before the interval ended were waiting"
        );
        assert_eq!(held.blocked_ns() / MS, 3, "the 3 ms asleep stay blocked");
        assert_eq!(done.waiting_ns, 9 * MS, "nothing counted twice");
        // A thread that really slept is not made to wait: nothing more was reported.
        let mut asleep = split(&a, &reading(10, 0, 0, false, (0, 0)), &mut done);
        settle(&mut asleep, &c, &mut done);
        assert_eq!(ms(asleep), (0, 0));
    }

    #[test]
    fn cpu_time_reported_late_is_carried_and_spurious_waits_stay_bounded() {
        // A thread alone on its CPU, running throughout; its counter advances at 4 ms ticks,
        // so each reading lags by up to a tick. Whatever the lags, the waits it is given
        // add up to at most one tick over the whole run, not one per interval.
        let lags = [3u64, 1, 0, 2, 3, 0, 1, 3, 2, 0, 3, 3, 1, 0, 2];
        let first = reading(0, 0, 0, true, (0, 0));
        let mut done = Attributed::from(&first);
        let (mut prev, mut waited, mut ran) = (first, 0, 0);
        for (i, lag) in lags.iter().enumerate() {
            let at = (i as u64 + 1) * 10;
            let now = reading(at, at - lag, 0, true, (0, i as u64));
            let s = split(&prev, &now, &mut done);
            assert_eq!(s.running_ns + s.runnable_ns, 10 * MS, "never blocked");
            waited += s.runnable_ns;
            ran += s.running_ns;
            prev = now;
        }
        assert!(waited <= 4 * MS, "{waited} ns of spurious waiting");
        assert_eq!(ran + waited, lags.len() as u64 * 10 * MS);
    }

    #[test]
    fn without_a_status_the_counters_alone_decide() {
        let a = Reading {
            status: None,
            ..reading(0, 0, 0, true, (0, 0))
        };
        let b = Reading {
            status: None,
            ..reading(10, 2, 3, true, (0, 0))
        };
        let mut done = Attributed::from(&a);
        let s = split(&a, &b, &mut done);
        assert_eq!(ms(s), (2, 3));
        assert_eq!(s.switches, None, "not counted");
    }

    #[test]
    fn reads_this_threads_counters_and_state() {
        if check_available().is_err() {
            return; // not Linux with schedstats: nothing to read
        }
        let dir = format!("/proc/self/task/{}", clock::current_tid());
        let schedstat = File::open(format!("{dir}/schedstat")).unwrap();
        let status = File::open(format!("{dir}/status")).unwrap();
        let before = read(&schedstat, Some(&status), None).unwrap();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
        let after = read(&schedstat, Some(&status), Some(&before)).unwrap();
        assert!(after.on_cpu_ns > before.on_cpu_ns, "re-read in place");
        let state = after.status.expect("the status file reads");
        assert!(state.runnable, "this thread is running as it reads");
        assert_eq!(after.on_cpu, Some(true), "switched in once more than out");
    }
}
