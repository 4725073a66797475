//! The names of the files a run's folder holds, in one leaf module: the writers
//! ([`export`](super::export)) and the readers ([`saved`](super::saved), the importers) agree
//! on them without importing each other.

/// The name of the file every export writes beside its CSVs.
pub const SUMMARY_FILE: &str = "summary.json";
/// What ends a samples file's name.
pub const SAMPLES_SUFFIX: &str = "-samples.csv";
/// The Chrome trace's file name in a run's folder (key `t`).
pub const TRACE_FILE: &str = "trace.json";
/// The SVG picture's file name in a run's folder (key `g`).
pub const SVG_FILE: &str = "gantt.svg";
/// The statistics file of several runs.
pub const STATS_FILE: &str = "stats.json";
