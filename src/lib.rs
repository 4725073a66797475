//! poolscope: run thread-pool and process-pool experiments and watch every worker's tasks,
//! live.
//!
//! The data flows one way: [`cli`] builds a [`model::plan::Plan`]; the [`engine`] runs it
//! (threads, processes, sequential, a simulated GIL; fib, http against the delay server,
//! sleep); timing [`model::event`]s stream over a channel into a
//! [`model::timeline::Timeline`], which [`headless`] prints, [`tui`] shows through the
//! [`view`], and [`formats`] writes. A file read by [`formats`] becomes the very same events,
//! so the timeline, the view and every export cannot tell a file from a run.
//!
//! # Layers
//!
//! Each layer imports only the layers below it:
//!
//! ```text
//!  main.rs                the binary: parse, dispatch, exit codes
//!  tui · headless         the terminal loop (the only code that touches the terminal), and
//!                         no terminal at all
//!  view/                  app (state and update, in parts) · editor · ui (widgets, no I/O)
//!  cli/                   flags → a Plan; every usage error; completions, man page
//!  formats/               every file in and out: CSV, summary.json, samples, trace, SVG, text
//!  engine/  ·  chart/     engine: workloads, executors, sampler, runner, delay server
//!                         chart: time span and cells, axis, lane labels, row painting, theme
//!  model/                 clock · plan · event · timeline · stats · display text
//! ```
//!
//! `engine` and `chart` sit side by side and never import each other; only `engine` and
//! `tui` start threads or processes.

pub mod chart;
pub mod cli;
pub mod engine;
pub mod formats;
pub mod headless;
pub mod model;
pub mod tui;
pub mod view;
