//! The stretch of time a chart shows, and how it maps onto columns of cells.

use std::time::Duration;

use crate::model::clock::Timestamp;
use crate::model::plan::WorkloadKind;
use crate::model::timeline::{Experiment, Timeline};

/// A stretch of one experiment's time, from its start: what a panel or a chart row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan {
    /// Absolute start of the window.
    pub start: Timestamp,
    /// Its length (never zero).
    pub length: Duration,
    /// The experiment's own start, where the axis reads 0.
    pub origin: Timestamp,
}

impl TimeSpan {
    /// `length` of time from the experiment's start: the whole experiment, unzoomed.
    pub fn from_start(experiment: &Experiment, length: Duration) -> Self {
        TimeSpan {
            start: experiment.started_at,
            length,
            origin: experiment.started_at,
        }
    }
}

/// The full length of the row of charts `experiment` belongs to: the longest elapsed time
/// (at `now`) among the experiments of the same workload and source, so the processes and
/// threads runs of a workload share one scale and compare at a glance.
pub fn row_length(timeline: &Timeline, experiment: &Experiment, now: Timestamp) -> Duration {
    timeline
        .experiments()
        .iter()
        .filter(|e| {
            e.plan.workload == experiment.plan.workload
                && e.plan.recorded_from == experiment.plan.recorded_from
        })
        .map(|e| e.elapsed(now))
        .max()
        .unwrap_or_default()
}

/// [`row_length`] of every experiment, in order, in one pass: a file of twenty thousand
/// experiments is drawn without comparing each with every other.
pub fn row_lengths(timeline: &Timeline, now: Timestamp) -> Vec<Duration> {
    let mut longest: std::collections::HashMap<(WorkloadKind, Option<&str>), Duration> =
        std::collections::HashMap::new();
    for e in timeline.experiments() {
        let key = (e.plan.workload, e.plan.recorded_from.as_deref());
        let length = longest.entry(key).or_default();
        *length = (*length).max(e.elapsed(now));
    }
    timeline
        .experiments()
        .iter()
        .map(|e| longest[&(e.plan.workload, e.plan.recorded_from.as_deref())])
        .collect()
}

/// The window of time a row is drawn over, in whole microseconds, cut into `columns` cells.
#[derive(Debug, Clone, Copy)]
pub struct TimeGrid {
    /// Start of the window, µs since the epoch.
    pub start: u64,
    /// Its length in µs (at least 1).
    pub length: u64,
    /// How many cells it is cut into.
    pub columns: u16,
}

impl TimeGrid {
    /// `span` over `columns` cells.
    pub fn new(span: TimeSpan, columns: u16) -> Self {
        TimeGrid {
            start: span.start.as_micros(),
            length: (span.length.as_micros() as u64).max(1),
            columns,
        }
    }

    /// The time at the left edge of `column`.
    pub fn time_at(&self, column: u16) -> u64 {
        self.start
            + (u128::from(self.length) * u128::from(column) / u128::from(self.columns)) as u64
    }

    /// The column a moment `at` (µs since the epoch) falls in, if it is inside the window.
    pub fn column_of(&self, at: u64) -> Option<u16> {
        if at < self.start || at >= self.start + self.length {
            return None;
        }
        Some(
            ((u128::from(at - self.start) * u128::from(self.columns)) / u128::from(self.length))
                as u16,
        )
    }
}
