//! The simulated-GIL executor: N OS threads that must hold one global lock to run
//! Python-like work, as CPython's `ThreadPoolExecutor` does. It reproduces the post's chart,
//! where thread-fibo took as long as running the tasks one after another.
//!
//! [`Gil`] follows CPython's `ceval_gil.c`: a thread that wants the lock waits on a
//! condition variable for one switch interval (5 ms by default); if the lock did not change
//! hands meanwhile, it sets a drop request. The holder checks for a drop request while it
//! works (fib checks as it recurses, as the eval loop checks between bytecodes), releases
//! the lock, and waits until another thread has taken it before asking again (forced
//! switching), so the lock really passes. A pool thread checks between tasks too (its loop
//! is Python code), so tasks too short to reach fib's check still share the lock. Blocking
//! waits (http, sleep) run with the lock released, as CPython releases it around I/O.
//!
//! Every hand-off is an event, sent while the lock's own mutex is held, so the channel sees
//! them in the order they happened: a `Released` always precedes the next `Acquired`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::{
    Emitter, ExperimentOutcome, ExperimentRun, TaskQueue, run_task_here, start_worker,
    workers_that_fit,
};
use crate::engine::cancel::CancelToken;
use crate::engine::workload::WorkloadRunner;
use crate::model::event::{GilEventKind, WorkerId};

/// A global interpreter lock shared by one experiment's threads.
#[derive(Debug)]
pub struct Gil {
    state: Mutex<GilState>,
    /// Signalled when the lock is released (waiters wait here).
    released: Condvar,
    /// Signalled when the lock changes hands (a holder forced to drop it waits here).
    switched: Condvar,
    /// Set by a waiter that waited a whole interval in vain; cleared by the next taker.
    drop_request: AtomicBool,
    interval: Duration,
}

#[derive(Debug, Default)]
struct GilState {
    holder: Option<usize>,
    /// How many times the lock has been taken: tells a waiter whether it changed hands.
    switches: u64,
}

impl Gil {
    /// A free lock with CPython's switch interval `interval`.
    pub fn new(interval: Duration) -> Self {
        Gil {
            state: Mutex::new(GilState::default()),
            released: Condvar::new(),
            switched: Condvar::new(),
            drop_request: AtomicBool::new(false),
            interval: interval.max(Duration::from_micros(100)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, GilState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the lock for thread `me`, waiting as CPython's `take_gil` does. `note` is told
    /// of every change (while the lock's mutex is held). Returns false, without the lock, if
    /// the run was cancelled meanwhile.
    pub fn take(&self, me: usize, note: &impl Fn(GilEventKind), cancel: &CancelToken) -> bool {
        let mut state = self.lock();
        if state.holder.is_some() {
            note(GilEventKind::Waiting);
        }
        while state.holder.is_some() {
            if cancel.is_cancelled() {
                return false;
            }
            let seen = state.switches;
            let (next, wait) = self
                .released
                .wait_timeout(state, self.interval)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            if wait.timed_out() && state.holder.is_some() && state.switches == seen {
                self.drop_request.store(true, Ordering::Relaxed);
            }
        }
        state.holder = Some(me);
        state.switches += 1;
        self.drop_request.store(false, Ordering::Relaxed);
        note(GilEventKind::Acquired);
        self.switched.notify_all();
        true
    }

    /// Releases the lock held by `me`.
    pub fn release(&self, me: usize, note: &impl Fn(GilEventKind)) {
        let mut state = self.lock();
        if state.holder == Some(me) {
            state.holder = None;
            note(GilEventKind::Released);
            self.released.notify_one();
        }
    }

    /// The eval loop's check: if another thread asked for the lock, hands it over, waits
    /// until it was taken, and queues to take it back. Cheap (one relaxed load) when nobody
    /// asked. Returns false if the run was cancelled (the lock is then not held).
    pub fn yield_if_asked(
        &self,
        me: usize,
        note: &impl Fn(GilEventKind),
        cancel: &CancelToken,
    ) -> bool {
        if !self.drop_request.load(Ordering::Relaxed) {
            return true;
        }
        let mut state = self.lock();
        if state.holder != Some(me) {
            return true;
        }
        state.holder = None;
        note(GilEventKind::Released);
        self.released.notify_one();
        let seen = state.switches;
        while state.switches == seen && !cancel.is_cancelled() {
            state = self
                .switched
                .wait_timeout(state, self.interval)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        drop(state);
        self.take(me, note, cancel)
    }
}

/// Runs the experiment on N threads sharing one [`Gil`]; returns once every thread is done
/// (on cancel, within a switch interval).
pub(super) fn run(run: &ExperimentRun<'_>) -> ExperimentOutcome {
    let emitter = Emitter::new(run);
    let gil = Gil::new(run.sched.switch_interval);
    let queue = TaskQueue::new(&run.plan.inputs, run.cancel);
    let workers = workers_that_fit(run, &emitter);
    std::thread::scope(|scope| {
        for index in 0..workers {
            let (emitter, gil, queue) = (&emitter, &gil, &queue);
            let spawned = std::thread::Builder::new()
                .name(format!("poolscope-gil-{index}"))
                .spawn_scoped(scope, move || worker(run, emitter, gil, queue, index));
            if let Err(e) = spawned {
                // The threads that did start take this one's tasks; with none, fail them.
                if index == 0 {
                    let error = format!("could not start a GIL thread: {e}");
                    queue.fail_rest(emitter, WorkerId::this_thread(0), &error);
                }
                break;
            }
        }
    });
    if run.cancel.is_cancelled() {
        ExperimentOutcome::Cancelled
    } else {
        ExperimentOutcome::Completed
    }
}

/// One pool thread: like a `ThreadPoolExecutor` worker, it holds the GIL while it takes
/// tasks and runs Python-like work, and lets go of it only when asked or while it waits.
fn worker(
    run: &ExperimentRun<'_>,
    emitter: &Emitter,
    gil: &Gil,
    queue: &TaskQueue<'_>,
    index: usize,
) {
    let me = start_worker(emitter, run.sched, index);
    let note = |kind| emitter.gil(me, kind);
    let cancel = run.cancel;
    let runner = WorkloadRunner::new(run.workload.clone());
    if !gil.take(index, &note, cancel) {
        emitter.worker_ending(me);
        return;
    }
    let mut holding = true;
    while holding {
        // A pool thread's loop is Python code too: between tasks, as between bytecodes,
        // the holder hands the lock over when another thread asked for it, so short tasks
        // that never reach fib's own check still share the lock as CPython's do.
        holding = gil.yield_if_asked(index, &note, cancel);
        if !holding {
            break;
        }
        let Some((task, input)) = queue.take() else {
            break;
        };
        run_task_here(emitter, cancel, index, (task, input), || {
            if runner.computes() {
                // Computing holds the lock, handing it over when asked, as the eval loop does.
                runner.run_with_checkpoint(input, cancel, &mut || {
                    holding = gil.yield_if_asked(index, &note, cancel);
                    holding
                })
            } else {
                // Waits run with the lock released, as CPython's I/O does.
                gil.release(index, &note);
                let result = runner.run(input, cancel);
                holding = gil.take(index, &note, cancel);
                result
            }
        });
    }
    if holding {
        gil.release(index, &note);
    }
    emitter.worker_ending(me);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_waiter_gets_the_lock_within_about_an_interval() {
        let gil = Arc::new(Gil::new(Duration::from_millis(5)));
        let never = CancelToken::never();
        assert!(gil.take(0, &|_| {}, &never));
        let waiter = {
            let gil = Arc::clone(&gil);
            std::thread::spawn(move || {
                let never = CancelToken::never();
                let got = gil.take(1, &|_| {}, &never);
                gil.release(1, &|_| {});
                got
            })
        };
        // The holder keeps checking, as fib does, until it is asked to drop the lock.
        let mut handed_over = false;
        for _ in 0..10_000 {
            if gil.drop_request.load(Ordering::Relaxed) {
                assert!(gil.yield_if_asked(0, &|_| {}, &never));
                handed_over = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(handed_over, "the waiter asked for the lock");
        assert!(waiter.join().unwrap());
        gil.release(0, &|_| {});
    }
}
