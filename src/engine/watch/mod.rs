//! `poolscope watch`: a second live source of the same events the runner streams, for a
//! program poolscope did not write — any process tree the user owns, and Python's own pools
//! through a hook the program loads without being changed.

pub mod order;
pub mod procs;
pub mod python;
pub mod session;
pub mod syscall;
pub mod thread;

pub use session::{Target, Watch, WatchError, WatchOptions, log_tail, start};
