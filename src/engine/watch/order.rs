//! The Python hook's records put back in the order they happened.
//!
//! Each watched thread reports over a connection of its own, read by a thread of its own,
//! so records from two processes reach the session in any order: a pool worker's `start`
//! can come before the submitting process's `submit` that names the task. [`Reorder`]
//! holds such a start until its submit has come, and everything the same thread reported
//! after it (so a thread's tasks are applied in the order it ran them, and a lane's bars
//! stay sorted), for [`PARK_AT_MOST`] at the most: a submit the hook had to drop never
//! comes, and the task is then shown without its function and argument.
//!
//! Pure bookkeeping over records and instants, so every case is unit-tested here.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::python::{HookEvent, HookRecord};

/// How long a start waits for its submit before it is shown without it.
pub const PARK_AT_MOST: Duration = Duration::from_secs(1);

/// A task: its pool's id and its number there.
type TaskKey = (String, u64);

/// Records held back per reporting thread (pid, tid), each with when it arrived.
#[derive(Debug, Default)]
pub struct Reorder {
    /// Tasks whose submit came and whose start has not been let through yet.
    submitted: HashSet<TaskKey>,
    /// Per thread, its records from the first one that waits, in the order it sent them.
    held: HashMap<(u32, u32), VecDeque<(Instant, HookRecord)>>,
}

impl Reorder {
    /// An empty one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a record that arrived at `now`; returns the records that may be applied now,
    /// in order (this one, and any it let through, or none if it must wait).
    pub fn push(&mut self, record: HookRecord, now: Instant) -> Vec<HookRecord> {
        let thread = (record.pid, record.tid);
        match record.event {
            HookEvent::Submit => {
                self.submitted.insert(key(&record));
                let mut ready = vec![record];
                ready.extend(self.release(now, false));
                ready
            }
            HookEvent::Start | HookEvent::End => {
                if let Some(queue) = self.held.get_mut(&thread) {
                    queue.push_back((now, record));
                    return Vec::new();
                }
                if record.event == HookEvent::Start && !self.submitted.remove(&key(&record)) {
                    self.held.insert(thread, VecDeque::from([(now, record)]));
                    return Vec::new();
                }
                vec![record]
            }
        }
    }

    /// The held records that may go now: those whose submit has come, and those that
    /// waited [`PARK_AT_MOST`] (`all`: every one, as the watch ends). Each thread's in its
    /// own order; threads' records by their time.
    pub fn release(&mut self, now: Instant, all: bool) -> Vec<HookRecord> {
        let mut ready = Vec::new();
        for queue in self.held.values_mut() {
            while let Some((arrived, front)) = queue.front() {
                let waited_enough = now.saturating_duration_since(*arrived) >= PARK_AT_MOST;
                let goes = match front.event {
                    HookEvent::Start => {
                        all || waited_enough || self.submitted.contains(&key(front))
                    }
                    // Its start went before it (the same thread sent both).
                    HookEvent::End | HookEvent::Submit => true,
                };
                if !goes {
                    break;
                }
                let (_, record) = queue.pop_front().expect("a front");
                if record.event == HookEvent::Start {
                    self.submitted.remove(&key(&record));
                }
                ready.push(record);
            }
        }
        self.held.retain(|_, queue| !queue.is_empty());
        ready.sort_by_key(|r| r.monotonic_ns);
        ready
    }

    /// Whether any record is held.
    pub fn holds_any(&self) -> bool {
        !self.held.is_empty()
    }
}

fn key(record: &HookRecord) -> TaskKey {
    (record.pool.clone(), record.task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::watch::python::parse_record;

    fn record(event: &str, pid: u32, tid: u32, task: u64, t: u64) -> HookRecord {
        parse_record(
            format!(
                r#"{{"e":"{event}","t":{t},"pid":{pid},"tid":{tid},"pool":"1:0","kind":"process","task":{task}}}"#
            )
            .as_bytes(),
        )
        .expect("a record")
    }

    fn seen(records: &[HookRecord]) -> Vec<(HookEvent, u64)> {
        records.iter().map(|r| (r.event, r.task)).collect()
    }

    #[test]
    fn records_in_order_go_at_once() {
        let mut order = Reorder::new();
        let now = Instant::now();
        assert_eq!(
            seen(&order.push(record("submit", 1, 1, 0, 1), now)).len(),
            1
        );
        assert_eq!(seen(&order.push(record("start", 2, 2, 0, 2), now)).len(), 1);
        assert_eq!(seen(&order.push(record("end", 2, 2, 0, 3), now)).len(), 1);
        assert!(!order.holds_any());
    }

    #[test]
    fn a_start_read_before_its_submit_waits_for_it_with_what_its_thread_sent_after() {
        let mut order = Reorder::new();
        let now = Instant::now();
        assert!(order.push(record("start", 2, 2, 0, 20), now).is_empty());
        assert!(order.push(record("end", 2, 2, 0, 30), now).is_empty());
        // Task 1's submit came, but its start is behind task 0's on the same thread.
        let submit_1 = order.push(record("submit", 1, 1, 1, 11), now);
        assert_eq!(seen(&submit_1), [(HookEvent::Submit, 1)]);
        assert!(order.push(record("start", 2, 2, 1, 40), now).is_empty());
        // Another thread is not held up.
        assert_eq!(order.push(record("end", 3, 3, 7, 35), now).len(), 1);
        let ready = order.push(record("submit", 1, 1, 0, 10), now);
        assert_eq!(
            seen(&ready),
            [
                (HookEvent::Submit, 0),
                (HookEvent::Start, 0),
                (HookEvent::End, 0),
                (HookEvent::Start, 1)
            ]
        );
        assert!(!order.holds_any());
    }

    #[test]
    fn a_submit_that_never_comes_is_waited_for_a_second_at_most() {
        let mut order = Reorder::new();
        let then = Instant::now();
        assert!(order.push(record("start", 2, 2, 0, 20), then).is_empty());
        assert!(order.push(record("end", 2, 2, 0, 30), then).is_empty());
        assert!(order.release(then + PARK_AT_MOST / 2, false).is_empty());
        let ready = order.release(then + PARK_AT_MOST, false);
        assert_eq!(seen(&ready), [(HookEvent::Start, 0), (HookEvent::End, 0)]);
        assert!(!order.holds_any());
    }

    #[test]
    fn at_the_end_everything_held_goes_by_time() {
        let mut order = Reorder::new();
        let now = Instant::now();
        order.push(record("start", 2, 2, 5, 50), now);
        order.push(record("start", 3, 3, 4, 40), now);
        let ready = order.release(now, true);
        assert_eq!(seen(&ready), [(HookEvent::Start, 4), (HookEvent::Start, 5)]);
    }
}
