//! poolscope: run thread-pool and process-pool experiments and watch every worker's tasks,
//! live.
//!
//! The data flows one way: [`cli`] builds a [`model::plan::Plan`]; the [`engine`] runs it
//! (threads, processes, sequential, a simulated GIL; fib, http against the delay server,
//! sleep); timing [`model::event`]s stream over a channel into a
//! [`model::timeline::Timeline`], which [`headless`] prints, [`tui`] shows through the
//! [`view`], and [`formats`] writes.

pub mod chart;
pub mod cli;
pub mod engine;
pub mod formats;
pub mod headless;
pub mod model;
pub mod tui;
pub mod view;
