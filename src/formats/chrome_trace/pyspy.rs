//! py-spy's stacks: one per thread id, across processes.
//!
//! py-spy (0.4, `record --format chrometrace --subprocesses`) keeps one stack per thread id
//! and writes `B`/`E` events as it changes. A forked worker has its parent's thread id (the
//! same `pthread_t`) and its frames sit under its parent's process frame, so when py-spy
//! samples another process on that id, it writes the ends of the last one's frames under
//! the new pid. Its `E` events therefore end the latest `B` open on their thread id,
//! whatever their pid, as py-spy meant them; each slice stays with the process of its `B`.
//! Read per process and thread, as the format has it, every such trace with two processes
//! would be "an E with no B".

use std::collections::HashMap;

use super::Id;

/// The `cat` py-spy gives every event.
pub(super) const CATEGORY: &str = "py-spy";

/// For each thread id, the collector's threads (a thread of one process) of the py-spy `B`s
/// open on it, in the order they were opened.
#[derive(Default)]
pub(super) struct Stacks(HashMap<Id, Vec<u32>>);

impl Stacks {
    /// A py-spy `B` was opened on `thread`, whose thread id is `tid`.
    pub(super) fn opened(&mut self, tid: &Id, thread: u32) {
        match self.0.get_mut(tid) {
            Some(stack) => stack.push(thread),
            None => {
                self.0.insert(tid.clone(), vec![thread]);
            }
        }
    }

    /// The thread whose latest `B` a py-spy `E` on thread id `tid` ends, if one is open.
    pub(super) fn closing(&mut self, tid: &Id) -> Option<u32> {
        self.0.get_mut(tid)?.pop()
    }
}
