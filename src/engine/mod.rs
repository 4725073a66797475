//! What runs the experiments: workloads, executors, the scheduler sampler, the runner that
//! streams their events, the machine's load beside them, the embedded delay server, and
//! the process plumbing they need.

pub mod cancel;
pub mod cpus;
pub mod delay_server;
pub mod executor;
pub mod http;
pub mod limits;
pub mod load;
pub mod protocol;
pub mod runner;
pub mod sampler;
pub mod signals;
pub mod watch;
pub mod workload;
