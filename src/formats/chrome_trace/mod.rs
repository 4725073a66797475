//! Chrome Trace Event JSON, in and out: what `ray timeline`, viztracer and many profilers
//! write, and what Perfetto's UI and `chrome://tracing` load.
//!
//! In: an object with `traceEvents` or a bare array (its `]` may be missing: a trace cut
//! short). Complete events (`X`, `ts` + `dur`) and `B`/`E` pairs become tasks, in µs;
//! `pid` → one panel each, `tid` → a lane (more where a thread's events overlap: nested
//! calls stack like a flame graph), named from `process_name` / `thread_name` metadata
//! when present; event names are the task labels. Events that are not tasks (instants,
//! counters, flows, async), events without a phase and the `{}` many writers end the array
//! with are skipped and counted in one note, as Perfetto skips them.
//!
//! The file is read a block at a time ([`scan`]), its events parsed in parallel batches
//! ([`events`]) and put straight into compact rows ([`assemble`]): the raw text, the parsed
//! events and the rows never exist all at once, so a trace takes less memory than its
//! file. A bad event is reported with its line and column in the file.
//!
//! Out: one pid per experiment (`process_name`), one tid per worker from 1 (`thread_name`),
//! an `X` per task with its input, result, CPU time and status in `args`; scheduler samples
//! as counter (`C`) tracks and GIL hand-offs as slices on a track per worker. The plans ride
//! along in `otherData.poolscope`, so poolscope reads its own traces back exactly.

use std::io::Read;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{FileContents, Problem, Progress};
mod assemble;
mod events;
mod left_out;
mod pyspy;
mod scan;
mod write;

pub use write::export;

use crate::model::plan::ExperimentPlan;

/// GIL tracks of worker `w` are on tid `GIL_TID_BASE + w`.
const GIL_TID_BASE: i64 = 100_000;

/// How many bytes of events are parsed together, in parallel.
const BATCH: usize = 1 << 20;

/// A pid or tid: traces use numbers or strings (`ray timeline`: "Node 10.0.0.1").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(untagged)]
enum Id {
    Number(i64),
    Text(String),
}

impl Id {
    fn number(&self) -> Option<i64> {
        match self {
            Id::Number(n) => Some(*n),
            Id::Text(t) => t.parse().ok(),
        }
    }

    fn os_id(&self) -> u32 {
        self.number()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    }

    fn describe(&self) -> String {
        match self {
            Id::Number(n) => n.to_string(),
            Id::Text(t) => t.clone(),
        }
    }
}

/// Reads a trace (its first byte `{` or `[`, after any byte-order mark) into one experiment
/// per pid.
pub fn read(
    stem: &str,
    source: &mut dyn Read,
    lenient: bool,
    progress: &Progress,
) -> Result<FileContents, Problem> {
    let mut collector = assemble::Collector::new(lenient);
    let outline = scan::scan(source, BATCH, |batch| {
        let parsed: Vec<Result<events::RawEvent<'_>, Problem>> =
            batch.par_iter().map(events::parse).collect();
        for (element, event) in batch.iter().zip(parsed) {
            match event {
                Ok(event) => collector.add(event, element.line, element.column)?,
                Err(problem) => collector.skip(problem)?,
            }
        }
        progress.advance(batch.iter().map(|e| e.bytes.len()).sum());
        Ok(())
    })?;
    let own = outline
        .other_data
        .as_deref()
        .and_then(|d| serde_json::from_slice::<serde_json::Value>(d).ok())
        .and_then(|d| serde_json::from_value::<OwnData>(d.get("poolscope")?.clone()).ok());
    let mut contents = collector.finish(stem, own);
    if outline.cut_short {
        contents
            .notes
            .push("the trace has no closing ']' (cut short): read what is there".to_string());
    }
    Ok(contents)
}

/// What poolscope puts in `otherData.poolscope`.
#[derive(Debug, Serialize, Deserialize)]
struct OwnData {
    version: String,
    cores: Option<usize>,
    experiments: Vec<ExperimentPlan>,
    /// Each experiment's start and end (µs), which its tasks alone do not tell.
    #[serde(default)]
    spans: Vec<(u64, Option<u64>)>,
    /// Each experiment's entry of `summary.json`: the figures the run reported.
    #[serde(default)]
    figures: Vec<serde_json::Value>,
    /// The run's start and end (µs): it begins before its first task. Read leniently
    /// (`[start, end]`, end may be null): an edited value loses only itself.
    #[serde(default)]
    run: Option<serde_json::Value>,
}

const GIL_HELD: &str = "GIL held";
const GIL_WAIT: &str = "GIL wait";
