//! poolscope: run thread-pool and process-pool experiments and watch every worker's tasks,
//! live.
//!
//! The data flows one way: [`cli`] builds a [`plan::Plan`]; [`runner`] runs it through an
//! [`executor`] (threads, processes, sequential) on a [`workload`] (fib, http against the
//! [`delay_server`], sleep); timing [`event`]s stream over a channel into a
//! [`timeline::Timeline`], which [`headless`] prints and [`export`] writes.

pub mod app;
pub mod cancel;
pub mod cli;
pub mod clock;
pub mod cpus;
pub mod delay_server;
pub mod editor;
pub mod event;
pub mod executor;
pub mod export;
pub mod formats;
pub mod headless;
pub mod limits;
pub mod plan;
pub mod protocol;
pub mod runner;
pub mod sampler;
pub mod signals;
pub mod stats;
pub mod timeline;
pub mod tui;
pub mod ui;
pub mod workload;
