//! A worker's lane: the tasks it ran in start order, its scheduler samples and GIL
//! records, and what it was doing over any stretch of time.

use std::time::Duration;

use crate::model::clock::Timestamp;

/// A worker's lane: its identity and the tasks it ran, in start order.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// The worker's index in its pool.
    pub worker: usize,
    /// Its latest process id (a replaced worker process gets a new one).
    pub pid: u32,
    /// Its latest thread id.
    pub tid: u32,
    /// When the worker became ready, if it said so.
    pub ready_at: Option<Timestamp>,
    /// The worker's tasks in the order they started, one compact entry each, so finding
    /// the tasks under a screen cell touches a few cache lines, not scattered task records.
    /// A worker runs one task at a time, so entries are sorted by start and by end.
    pub(super) spans: Vec<LaneSpan>,
    /// How many of the lane's tasks failed.
    pub(super) failed: u32,
    /// Scheduler samples of the worker's thread, in time order.
    pub(super) samples: Vec<LaneSample>,
    /// CPU time sampled on this lane so far, and its value when the open task started (so
    /// a running task's CPU so far is their difference).
    pub(super) sampled_cpu: Duration,
    pub(super) sampled_cpu_at_task_start: Duration,
    /// Simulated-GIL waits and holds, in time order; the last may be open.
    pub(super) gil: Vec<GilSpan>,
    /// The worker's process and thread ids from a span on: a new entry only when they
    /// change (a replaced worker process), so tasks need not carry them.
    pub(super) identities: Vec<Identity>,
    /// Whether what no sample covers is unknown only between the first sample and the
    /// last: a watched program's thread exists only in between (before it started and
    /// after it ended there is nothing to know).
    pub(super) lifetime_only: bool,
}

/// From span `from` on, the lane's worker had these ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Identity {
    pub(super) from: u32,
    pub(super) pid: u32,
    pub(super) tid: u32,
}

/// One sampling interval of a lane, in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneSample {
    /// Start of the interval.
    pub from: u64,
    /// End of the interval.
    pub to: u64,
    /// Share on a CPU.
    pub running: f32,
    /// Share waiting for a CPU.
    pub runnable: f32,
    /// Share blocked (the rest).
    pub blocked: f32,
    /// Shares waiting for and holding the simulated GIL, where a recording gave them per
    /// interval instead of as hand-offs (both 0 otherwise).
    pub gil_wait: f32,
    /// See `gil_wait`.
    pub gil_held: f32,
    /// (voluntary, involuntary) context switches in the interval, when counted.
    pub switches: Option<(u32, u32)>,
    /// Whether what the thread waited for was read (`poolscope watch`): then `io`,
    /// `sleep`, `lock` and `gil_wait` split `blocked`, and are shown as `blocked` is.
    pub why: bool,
    /// Share blocked on I/O (part of `blocked`).
    pub io: f32,
    /// Share in a timed sleep (part of `blocked`).
    pub sleep: f32,
    /// Share waiting on a lock (part of `blocked`).
    pub lock: f32,
}

/// Time in each of the scheduler's states, in microseconds (fractional: shares of
/// intervals), over some stretch of a lane: what its tasks spent, say.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StateTime {
    /// On a CPU.
    pub running: f64,
    /// Ready, waiting for a CPU.
    pub runnable: f64,
    /// Neither.
    pub blocked: f64,
}

impl StateTime {
    /// `self` + `sign` × `other`.
    pub fn plus(self, other: StateTime, sign: f64) -> StateTime {
        StateTime {
            running: self.running + sign * other.running,
            runnable: self.runnable + sign * other.runnable,
            blocked: self.blocked + sign * other.blocked,
        }
    }

    /// All three, in µs.
    pub fn total(&self) -> f64 {
        self.running + self.runnable + self.blocked
    }

    /// A µs figure as a duration (what incremental sums leave below zero is zero).
    pub fn duration(us: f64) -> Duration {
        Duration::from_secs_f64(us.max(0.0) / 1e6)
    }
}

/// A stretch in which a lane waited for, or held, the simulated GIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GilSpan {
    /// When it began (µs since the epoch).
    pub from: u64,
    /// When it ended, or [`LaneSpan::OPEN`].
    pub to: u64,
    /// Holding (true) or waiting (false).
    pub holding: bool,
}

/// What a worker was doing over a stretch of time: the shares of it spent in each state
/// (each 0..=1; the scheduler's three add up to the sampled share of the stretch).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StateShare {
    /// On a CPU.
    pub running: f32,
    /// Ready, waiting for a CPU.
    pub runnable: f32,
    /// Neither (sleeping, I/O, a lock).
    pub blocked: f32,
    /// Waiting for the simulated GIL (part of `blocked`, when the GIL was recorded).
    pub gil_wait: f32,
    /// Holding the simulated GIL.
    pub gil_held: f32,
    /// Blocked on I/O (part of `blocked`, where what threads waited for was read).
    pub io: f32,
    /// In a timed sleep (likewise).
    pub sleep: f32,
    /// Waiting on a lock (likewise).
    pub lock: f32,
    /// Not covered by any sample, on a lane whose worker was sampled (0 where nothing was:
    /// then the bars are plain, not unknown).
    pub unknown: f32,
}

impl StateShare {
    /// Whether any sample or GIL record covers the stretch, or it is known to be unsampled.
    pub fn is_known(&self) -> bool {
        self.running + self.runnable + self.blocked + self.gil_wait + self.gil_held + self.unknown
            > 0.0
    }
}

/// One task in a worker's lane: which task, and when it ran, in microseconds since the epoch.
///
/// 24 bytes: a million tasks' spans fit in 24 MB, and the tasks under a screen cell are a
/// few cache lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneSpan {
    /// The task's index in its experiment ([`super::Experiment::task`]).
    pub task: u32,
    /// How many of the lane's earlier tasks had failed when this one started.
    pub(super) failed_before: u32,
    /// When the task started.
    pub start: u64,
    /// When it ended, or [`LaneSpan::OPEN`] while it runs.
    pub end: u64,
}

impl LaneSpan {
    /// The `end` of a task still running.
    pub const OPEN: u64 = u64::MAX;

    /// When it ended, if it has.
    pub fn ended(&self) -> Option<u64> {
        (self.end != Self::OPEN).then_some(self.end)
    }
}

impl Lane {
    /// An empty lane for `worker`.
    pub(super) fn new(worker: crate::model::event::WorkerId) -> Self {
        Lane {
            worker: worker.index,
            pid: worker.pid,
            tid: worker.tid,
            ready_at: None,
            spans: Vec::new(),
            failed: 0,
            samples: Vec::new(),
            sampled_cpu: Duration::ZERO,
            sampled_cpu_at_task_start: Duration::ZERO,
            gil: Vec::new(),
            identities: Vec::new(),
            lifetime_only: false,
        }
    }

    /// The lane's tasks, in start order.
    pub fn spans(&self) -> &[LaneSpan] {
        &self.spans
    }

    /// How many of `spans()[range]` failed, in constant time: the difference of two
    /// running counts (a task still running has not failed).
    pub fn failed_in(&self, range: std::ops::Range<usize>) -> u32 {
        let failed_before = |i: usize| self.spans.get(i).map_or(self.failed, |s| s.failed_before);
        failed_before(range.end).saturating_sub(failed_before(range.start))
    }

    /// The scheduler samples of this lane, in time order.
    pub fn samples(&self) -> &[LaneSample] {
        &self.samples
    }

    /// The lane's GIL waits and holds, in time order.
    pub fn gil_spans(&self) -> &[GilSpan] {
        &self.gil
    }

    /// The shares of `[t0, t1)` (µs) the worker spent in each state, from the samples and
    /// GIL records that overlap it; an open GIL span lasts until `now`. On a sampled lane,
    /// what no sample covers is `unknown`; all zero where nothing was recorded. Costs two
    /// binary searches and the records inside the stretch.
    pub fn state_in(&self, t0: u64, t1: u64, now: u64) -> StateShare {
        let length = t1.saturating_sub(t0).max(1) as f32;
        let overlap = |from: u64, to: u64| to.min(t1).saturating_sub(from.max(t0)) as f32 / length;
        let mut share = StateShare::default();
        let first = self.samples.partition_point(|s| s.to <= t0);
        let mut covered = 0.0;
        for s in self.samples[first..].iter().take_while(|s| s.from < t1) {
            let part = overlap(s.from, s.to);
            covered += part;
            let time = self.sample_time_in(s, t0.max(s.from), t1.min(s.to));
            share.running += time.running as f32 / length;
            share.runnable += time.runnable as f32 / length;
            let blocked = time.blocked as f32 / length;
            share.blocked += blocked;
            if s.why {
                // What the thread waited for splits its blocked time here as in the
                // whole sample.
                let of_blocked = |x: f32| {
                    if s.blocked > 0.0 {
                        blocked * (x / s.blocked).min(1.0)
                    } else {
                        0.0
                    }
                };
                share.io += of_blocked(s.io);
                share.sleep += of_blocked(s.sleep);
                share.lock += of_blocked(s.lock);
                share.gil_wait += of_blocked(s.gil_wait);
            } else {
                share.gil_wait += part * s.gil_wait;
            }
            share.gil_held += part * s.gil_held;
        }
        if let (Some(first), Some(last)) = (self.samples.first(), self.samples.last()) {
            share.unknown = if self.lifetime_only {
                // Only the part of the stretch within the thread's sampled life.
                let alive = overlap(first.from, last.to);
                (alive - covered).max(0.0)
            } else {
                (1.0 - covered).max(0.0)
            };
        }
        let first = self
            .gil
            .partition_point(|g| g.to != LaneSpan::OPEN && g.to <= t0);
        for g in self.gil[first..].iter().take_while(|g| g.from < t1) {
            let to = if g.to == LaneSpan::OPEN { now } else { g.to };
            let part = overlap(g.from, to);
            if g.holding {
                share.gil_held += part;
            } else {
                share.gil_wait += part;
            }
        }
        share
    }

    /// The worker's process and thread ids when it ran its `span`-th task.
    pub fn identity_at(&self, span: usize) -> (u32, u32) {
        let at = self
            .identities
            .partition_point(|i| i.from as usize <= span)
            .saturating_sub(1);
        self.identities
            .get(at)
            .map_or((self.pid, self.tid), |i| (i.pid, i.tid))
    }

    /// How many records the lane holds (spans, samples, GIL spans): what the memory its
    /// run keeps is counted in.
    pub fn records(&self) -> usize {
        self.spans.len() + self.samples.len() + self.gil.len()
    }

    /// How much of `[from, to)` (µs; `to` may be [`LaneSpan::OPEN`]) the lane's tasks cover.
    fn task_time_in(&self, from: u64, to: u64) -> u64 {
        // Spans are sorted by start and by end (an open one ends last).
        let first = self.spans.partition_point(|s| s.end <= from);
        self.spans[first..]
            .iter()
            .take_while(|s| s.start < to)
            .map(|s| to.min(s.end).saturating_sub(from.max(s.start)))
            .sum()
    }

    /// A sample's time split between the lane's tasks and the stretches outside them:
    /// (inside, outside), in µs.
    ///
    /// A sample only says how much of its interval went to each state, not when. Where a
    /// task starts or ends inside it, the blocked time is put outside the task first: a
    /// worker between tasks waits for work by sleeping (on its pipe, its queue, the GIL),
    /// while a task that blocks (a request, a sleep) fills its own interval with it, so the
    /// edge of a bar shows what its task did, not the worker's sleep before or after it.
    /// The rest of the outside is shared between running and waiting in their proportion.
    fn split_sample(&self, s: &LaneSample) -> (StateTime, StateTime) {
        let length = s.to.saturating_sub(s.from) as f64;
        let inside_length = (self.task_time_in(s.from, s.to) as f64).min(length);
        let outside_length = length - inside_length;
        let running = f64::from(s.running) * length;
        let runnable = f64::from(s.runnable) * length;
        let blocked = f64::from(s.blocked) * length;
        let blocked_out = blocked.min(outside_length);
        let rest = outside_length - blocked_out;
        let (running_out, runnable_out) = if running + runnable > 0.0 {
            let r = (rest * running / (running + runnable)).min(running);
            (r, (rest - r).min(runnable))
        } else {
            (0.0, 0.0)
        };
        let outside = StateTime {
            running: running_out,
            runnable: runnable_out,
            blocked: blocked_out,
        };
        let inside = StateTime {
            running: running - running_out,
            runnable: runnable - runnable_out,
            blocked: blocked - blocked_out,
        };
        (inside, outside)
    }

    /// The states of sample `s` over `[from, to)` (a stretch within it), as time: its
    /// inside-task time in proportion to the part of the stretch tasks cover, its outside
    /// time to the rest.
    fn sample_time_in(&self, s: &LaneSample, from: u64, to: u64) -> StateTime {
        let length = s.to.saturating_sub(s.from) as f64;
        let part = to.saturating_sub(from) as f64;
        if length <= 0.0 || part <= 0.0 {
            return StateTime::default();
        }
        let inside_length = self.task_time_in(s.from, s.to) as f64;
        let outside_length = length - inside_length;
        let part_inside = (self.task_time_in(from, to) as f64).min(part);
        let part_outside = part - part_inside;
        let (inside, outside) = self.split_sample(s);
        let scale = |t: StateTime, of: f64, share: f64| {
            if of > 0.0 {
                StateTime::default().plus(t, share / of)
            } else {
                StateTime::default()
            }
        };
        scale(inside, inside_length, part_inside)
            .plus(scale(outside, outside_length, part_outside), 1.0)
    }

    /// The scheduler's states inside this lane's tasks over the samples that end after
    /// `from` (µs): what a task starting or ending at `from` changes, before and after.
    pub(super) fn task_time_from(&self, from: u64) -> StateTime {
        let first = self.samples.partition_point(|s| s.to <= from);
        self.samples[first..]
            .iter()
            .fold(StateTime::default(), |sum, s| {
                sum.plus(self.split_sample(s).0, 1.0)
            })
    }

    /// The scheduler's states of `sample` inside this lane's tasks, as time.
    pub(super) fn time_in_tasks(&self, sample: &LaneSample) -> StateTime {
        self.split_sample(sample).0
    }

    /// CPU time of the task running on this lane so far, as sampled (zero when no task
    /// runs or nothing was sampled).
    pub fn open_task_cpu(&self) -> Duration {
        match self.spans.last() {
            Some(span) if span.ended().is_none() => self
                .sampled_cpu
                .saturating_sub(self.sampled_cpu_at_task_start),
            _ => Duration::ZERO,
        }
    }
}
