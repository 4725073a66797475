//! Cooperative cancellation shared by the runner, the executors and waiting workloads.
//!
//! A [`Canceller`] and its [`CancelToken`]s share one channel that never carries a message:
//! cancelling drops the only sender, so every token sees the channel disconnect at once.
//! That makes a token usable inside `crossbeam_channel::select!` (wake up the moment a run
//! is cancelled, without polling). A shared flag beside it makes [`CancelToken::is_cancelled`]
//! one relaxed atomic load, cheap enough for a recursive workload to check while it
//! recurses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

/// The side that cancels. Cloning shares it; [`Canceller::cancel`] is idempotent.
#[derive(Clone, Debug)]
pub struct Canceller {
    sender: Arc<Mutex<Option<Sender<()>>>>,
    token: CancelToken,
}

/// The side that watches. Cheap to clone and to check.
#[derive(Clone, Debug)]
pub struct CancelToken {
    receiver: Receiver<()>,
    flag: Arc<AtomicBool>,
    can_fire: bool,
}

impl Canceller {
    /// A fresh, not yet cancelled pair.
    pub fn new() -> Self {
        let (sender, receiver) = crossbeam_channel::bounded(0);
        Canceller {
            sender: Arc::new(Mutex::new(Some(sender))),
            token: CancelToken {
                receiver,
                flag: Arc::new(AtomicBool::new(false)),
                can_fire: true,
            },
        }
    }

    /// Cancels: every token reports it from now on.
    pub fn cancel(&self) {
        self.token.flag.store(true, Ordering::Relaxed);
        let mut guard = self.sender.lock().unwrap_or_else(|e| e.into_inner());
        guard.take();
    }

    /// A token that observes this canceller.
    pub fn token(&self) -> CancelToken {
        self.token.clone()
    }
}

impl Default for Canceller {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    /// A token that is never cancelled (a child worker: its parent kills it instead).
    pub fn never() -> Self {
        CancelToken {
            receiver: crossbeam_channel::never(),
            flag: Arc::new(AtomicBool::new(false)),
            can_fire: false,
        }
    }

    /// Whether a cancel can ever come (false for [`CancelToken::never`]), so waits that
    /// cost something to make interruptible are made so only when it matters.
    pub fn can_fire(&self) -> bool {
        self.can_fire
    }

    /// Whether cancellation was requested.
    /// One relaxed atomic load (the flag is set before the channel closes), so hot loops
    /// may call it.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Sleeps for `duration` or until cancelled; returns `true` if it was cancelled.
    pub fn sleep(&self, duration: Duration) -> bool {
        matches!(
            self.receiver.recv_timeout(duration),
            Err(RecvTimeoutError::Disconnected)
        )
    }

    /// A receiver that becomes ready (disconnected) on cancellation, for `select!`.
    pub fn receiver(&self) -> &Receiver<()> {
        &self.receiver
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn cancel_is_seen_by_every_token() {
        let c = Canceller::new();
        let (a, b) = (c.token(), c.token());
        assert!(!a.is_cancelled());
        c.clone().cancel();
        assert!(a.is_cancelled() && b.is_cancelled());
        c.cancel(); // idempotent
        assert!(a.is_cancelled());
    }

    #[test]
    fn sleep_wakes_on_cancel() {
        let c = Canceller::new();
        let token = c.token();
        let t = std::thread::spawn(move || token.sleep(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(20));
        let start = Instant::now();
        c.cancel();
        assert!(t.join().unwrap());
        assert!(start.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn sleep_runs_out_when_not_cancelled() {
        assert!(!CancelToken::never().sleep(Duration::from_millis(5)));
    }
}
