//! One thread of a watched process, sampled: the run sampler's [`Probe`] (its `schedstat`
//! and `status`, read in place, split into running / waiting for a CPU / blocked exactly
//! as for a pool's workers) and, while the thread sleeps, the system call it sleeps in
//! (`syscall`, or `wchan` where that cannot be read), so each sample also says what the
//! blocked thread waited for: I/O, a sleep, a lock, or CPython's GIL.
//!
//! Reading `syscall` costs about twice a `schedstat` read, and it is read only where it can
//! say something new: a thread asleep now whose counters moved since the last reading (an
//! idle thread that has not run since keeps sleeping in the same call, so it costs one
//! `schedstat` read a tick). A thread on a run queue reads as `running` there, so it is
//! not read then either.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use super::syscall::{self, Wait};
use crate::engine::sampler::{self, Interval, Probe, Reading};
use crate::model::event::{SampleEvent, WaitShares, WorkerId};

/// Below this share of an interval on a CPU, a thread that was waiting for the GIL at
/// either end of it counts its time on a run queue as waiting for the GIL too: CPython's
/// waiters wake every switch interval to ask the holder to let go, run a few microseconds,
/// and sleep again; a thread that got the GIL runs most of the interval.
const GIL_WAITER_RUNS_LESS_THAN: f32 = 0.25;

/// What a thread waited for at an interval's two ends, and when last seen asleep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Note {
    /// Asleep in this as the interval began.
    pub start: Option<Wait>,
    /// Asleep in this as it ended.
    pub end: Option<Wait>,
    /// What it slept in when last seen asleep (an earlier interval).
    pub known: Option<Wait>,
}

/// Where a thread's wait is read from.
#[derive(Debug)]
enum WhyFile {
    /// `/proc/<pid>/task/<tid>/syscall`: the call and its arguments.
    Syscall(File),
    /// `/proc/<pid>/task/<tid>/wchan`: the kernel function it sleeps in (no GIL).
    Wchan(File),
}

/// One sampled thread of a watched process.
#[derive(Debug)]
pub struct WatchedThread {
    /// The thread, as its lane.
    pub worker: WorkerId,
    probe: Probe<Note>,
    why: Option<WhyFile>,
    /// What it slept in at the last reading (`None`: it was running or runnable).
    wait: Option<Wait>,
    /// What it slept in when last seen asleep.
    known: Option<Wait>,
    /// Readings in a row that found it asleep and not run since the one before.
    quiet: u32,
    /// Rounds of readings still to skip (see [`WatchedThread::due`]).
    skip: u32,
}

/// A thread found asleep and untouched this many readings in a row is read every other
/// round, and from [`QUIET_LONGER`] on every fourth, until it runs again: an idle thread
/// then costs a quarter of a `schedstat` read a round, and a wake-up is seen within four
/// rounds (where the interval that holds it is split as any other).
pub const QUIET: u32 = 5;
/// See [`QUIET`].
pub const QUIET_LONGER: u32 = 20;

/// How a thread's waits can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhySource {
    /// From `syscall`.
    Syscall,
    /// From `wchan` only (`syscall` refused: attaching under Yama's `ptrace_scope=1`).
    Wchan,
    /// Not at all.
    None,
}

impl WatchedThread {
    /// Starts sampling `worker`'s thread (its pid and tid); `None` if it is gone. With
    /// `no_syscall` (a test switch), `syscall` is not tried. Says which source its waits
    /// are read from.
    pub fn open(worker: WorkerId, no_syscall: bool) -> Option<(WatchedThread, WhySource)> {
        let probe = Probe::open(worker.pid, worker.tid)?;
        let task = format!("/proc/{}/task/{}", worker.pid, worker.tid);
        let syscall = (!no_syscall)
            .then(|| File::open(format!("{task}/syscall")).ok())
            .flatten()
            // Opening may succeed where reading is refused (the check is made on read).
            .filter(|f| f.read_at(&mut [0u8; 64], 0).is_ok());
        let (why, source) = match syscall {
            Some(file) => (Some(WhyFile::Syscall(file)), WhySource::Syscall),
            None => match File::open(format!("{task}/wchan")) {
                Ok(file) => (Some(WhyFile::Wchan(file)), WhySource::Wchan),
                Err(_) => (None, WhySource::None),
            },
        };
        Some((
            WatchedThread {
                worker,
                probe,
                why,
                wait: None,
                known: None,
                quiet: 0,
                skip: 0,
            },
            source,
        ))
    }

    /// Reads the thread now and appends the samples that are ready to `out`, each saying
    /// what the thread waited for while blocked; `runtime` is its process's `_PyRuntime`
    /// (CPython), where the GIL lives. `last`: the thread ends or stops being watched.
    /// Returns false once the thread has ended.
    pub fn sample(
        &mut self,
        experiment: usize,
        last: bool,
        runtime: Option<&Range<u64>>,
        out: &mut Vec<SampleEvent>,
    ) -> bool {
        let worker = self.worker;
        let (why, wait, known, quiet) =
            (&self.why, &mut self.wait, &mut self.known, &mut self.quiet);
        let note = |prev: &Reading, now: &Reading, _: &sampler::Split| {
            let start = *wait;
            let asleep = now.status.is_none_or(|s| !s.runnable) && now.on_cpu != Some(true);
            let moved = (prev.on_cpu_ns, prev.waiting_ns, prev.switched_in)
                != (now.on_cpu_ns, now.waiting_ns, now.switched_in);
            *quiet = if asleep && !moved { *quiet + 1 } else { 0 };
            *wait = if !asleep {
                None
            } else if !moved && wait.is_some() {
                *wait // it has not run since: the same call
            } else {
                why.as_ref().and_then(|f| read_wait(f, runtime))
            };
            let note = Note {
                start,
                end: *wait,
                known: *known,
            };
            if wait.is_some() {
                *known = *wait;
            }
            note
        };
        self.probe.sample(last, note, |interval| {
            out.push(to_sample(experiment, worker, &interval));
        })
    }

    /// Whether this round of readings should read the thread: every round while it runs
    /// or wakes, less often while it sleeps untouched (see [`QUIET`]).
    pub fn due(&mut self) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        self.skip = match self.quiet {
            q if q >= QUIET_LONGER => 3,
            q if q >= QUIET => 1,
            _ => 0,
        };
        true
    }

    /// Whether its waits are read from anything.
    pub fn reads_waits(&self) -> bool {
        self.why.is_some()
    }
}

/// What a thread asleep now waits for, from its open `syscall` or `wchan` file.
fn read_wait(file: &WhyFile, runtime: Option<&Range<u64>>) -> Option<Wait> {
    let mut buf = [0u8; 256];
    match file {
        WhyFile::Syscall(f) => {
            let n = f.read_at(&mut buf, 0).ok()?;
            let text = std::str::from_utf8(&buf[..n]).ok()?;
            let (nr, args) = syscall::parse(text)?;
            Some(syscall::classify(nr, args, runtime))
        }
        WhyFile::Wchan(f) => {
            let n = f.read_at(&mut buf, 0).ok()?;
            let text = std::str::from_utf8(&buf[..n]).ok()?;
            (text.trim() != "0" && !text.trim().is_empty()).then(|| syscall::classify_wchan(text))
        }
    }
}

/// An interval as a sample, its blocked share split by what the thread waited for: what
/// it slept in at the interval's end, else at its start (half each where both are known
/// and differ), else what it slept in when last seen asleep; `Other` waits stay unnamed.
/// A GIL waiter's time on a run queue, woken to check the GIL, is waiting for the GIL.
pub fn to_sample(experiment: usize, worker: WorkerId, interval: &Interval<Note>) -> SampleEvent {
    let mut sample = sampler::sample_event(
        experiment,
        worker,
        interval.from,
        interval.to,
        &interval.split,
    );
    let note = interval.note;
    // Asleep in the GIL's wait at either end; or on a run queue at both, having last slept
    // in it (woken to check, and still waiting for a CPU to do so).
    let gil_side = note.start == Some(Wait::Gil)
        || note.end == Some(Wait::Gil)
        || (note.start.is_none() && note.end.is_none() && note.known == Some(Wait::Gil));
    if gil_side && sample.running < GIL_WAITER_RUNS_LESS_THAN {
        sample.blocked += sample.runnable;
        sample.runnable = 0.0;
    }
    let mut waits = WaitShares::default();
    let mut give = |wait: Wait, share: f32| match wait {
        Wait::Io => waits.io += share,
        Wait::Sleep => waits.sleep += share,
        Wait::Lock => waits.lock += share,
        Wait::Gil => waits.gil += share,
        Wait::Other => {}
    };
    let blocked = sample.blocked;
    match (note.start, note.end) {
        (Some(a), Some(b)) if a != b => {
            give(a, blocked / 2.0);
            give(b, blocked / 2.0);
        }
        (_, Some(w)) | (Some(w), None) => give(w, blocked),
        (None, None) => {
            if let Some(w) = note.known {
                give(w, blocked);
            }
        }
    }
    sample.waits = Some(waits);
    sample
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sampler::Split;
    use crate::model::clock::Timestamp;

    fn interval(running_ns: u64, runnable_ns: u64, note: Note) -> Interval<Note> {
        Interval {
            from: Timestamp(0),
            to: Timestamp(10_000),
            split: Split {
                wall_ns: 10_000_000,
                running_ns,
                runnable_ns,
                switches: None,
                reported_only: true,
            },
            note,
        }
    }

    const WORKER: WorkerId = WorkerId {
        index: 0,
        pid: 1,
        tid: 1,
    };

    #[test]
    fn blocked_time_goes_to_what_the_thread_slept_in() {
        let io = Note {
            start: Some(Wait::Io),
            end: Some(Wait::Io),
            known: None,
        };
        let s = to_sample(0, WORKER, &interval(2_000_000, 0, io));
        let w = s.waits.unwrap();
        assert!((w.io - 0.8).abs() < 1e-6 && w.sleep == 0.0, "{w:?}");
        let mixed = Note {
            start: Some(Wait::Sleep),
            end: Some(Wait::Lock),
            known: None,
        };
        let w = to_sample(0, WORKER, &interval(0, 0, mixed)).waits.unwrap();
        assert_eq!((w.sleep, w.lock), (0.5, 0.5));
        let remembered = Note {
            known: Some(Wait::Lock),
            ..Note::default()
        };
        let w = to_sample(0, WORKER, &interval(5_000_000, 0, remembered))
            .waits
            .unwrap();
        assert_eq!(w.lock, 0.5, "running at both ends, blocked between");
        let other = Note {
            end: Some(Wait::Other),
            ..Note::default()
        };
        assert_eq!(
            to_sample(0, WORKER, &interval(0, 0, other))
                .waits
                .unwrap()
                .total(),
            0.0
        );
    }

    #[test]
    fn a_gil_waiter_woken_to_check_still_waits_for_the_gil() {
        let waiter = Note {
            start: Some(Wait::Gil),
            end: None,
            known: Some(Wait::Gil),
        };
        let s = to_sample(0, WORKER, &interval(100_000, 4_000_000, waiter));
        assert_eq!(s.runnable, 0.0);
        assert!((s.waits.unwrap().gil - 0.99).abs() < 1e-4, "{s:?}");
        // A thread that took the GIL and ran keeps its waiting for a CPU.
        let s = to_sample(0, WORKER, &interval(6_000_000, 2_000_000, waiter));
        assert!((s.runnable - 0.2).abs() < 1e-6);
        assert!((s.waits.unwrap().gil - 0.2).abs() < 1e-6);
        // Woken, and on a run queue at both readings: still waiting to check the GIL.
        let queued = Note {
            start: None,
            end: None,
            known: Some(Wait::Gil),
        };
        let s = to_sample(0, WORKER, &interval(200_000, 9_000_000, queued));
        assert_eq!(s.runnable, 0.0);
        assert!((s.waits.unwrap().gil - 0.98).abs() < 1e-4, "{s:?}");
    }
}
