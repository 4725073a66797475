//! Nested calls folded: the rows a chart draws for an experiment's lanes.
//!
//! A trace's thread whose slices nest in one another (a call stack, as viztracer and py-spy
//! record it) has a lane per level, its plan says which (`lane_levels`). A deep stack would
//! take a screen of lanes per thread, so a chart shows at most [`Depth`] rows of a thread:
//! its outermost levels, a row each, and in the last row every deeper level folded. Each
//! cell of a folded row shows the deepest slice that covers at least half of it, else what
//! the shallowest folded level has there. Lanes that are not nested (a pool's workers, the
//! post's packed lanes, a thread with no nested calls) are a row each, always.
//!
//! ```text
//! MainThread          █builtins.exec████████████████████████████
//! MainThread (2)      █<module>█████████████████████████████████
//! MainThread (3)            █main███████████████████████████████
//! MainThread (4–14)         █Executor.map██▓fib▓▓▓▓█fib██▓Futu…▓
//! ```

use std::fmt;
use std::ops::Range;

use super::cells::{
    CellContent, CellState, content_of, cover, lane_cells, lane_note, lane_states, spans_under,
};
use super::labels::{fit_with_suffix, lane_label};
use super::span::{TimeGrid, TimeSpan};
use crate::model::clock::Timestamp;
use crate::model::timeline::Experiment;

/// How many rows of nesting a thread shows: its outermost levels, the last row holding the
/// deeper ones folded; or every level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Depth(u32);

impl Depth {
    /// Every level its own row.
    pub const ALL: Depth = Depth(u32::MAX);
    /// What a chart shows unless told: four rows a thread.
    pub const DEFAULT: Depth = Depth(4);

    /// `n` rows a thread (at least one).
    pub fn levels(n: u32) -> Depth {
        Depth(n.clamp(1, u32::MAX - 1))
    }

    /// The rows a thread shows, `None` for all.
    pub fn rows(self) -> Option<u32> {
        (self != Self::ALL).then_some(self.0)
    }

    /// One row fewer (at least one); from all, one fewer than the `deepest` thread has.
    pub fn fewer(self, deepest: u32) -> Depth {
        match self.rows() {
            Some(n) => Depth::levels(n.saturating_sub(1)),
            None => Depth::levels(deepest.saturating_sub(1)),
        }
    }

    /// One row more; all once that shows every level of the `deepest` thread.
    pub fn more(self, deepest: u32) -> Depth {
        match self.rows() {
            Some(n) if n + 1 < deepest => Depth::levels(n + 1),
            _ => Depth::ALL,
        }
    }

    /// `4`, or `all` (what `--depth` takes).
    pub fn parse(text: &str) -> Option<Depth> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("all") {
            return Some(Depth::ALL);
        }
        match text.parse::<u32>() {
            Ok(n) if n >= 1 => Some(Depth::levels(n)),
            _ => None,
        }
    }
}

impl Default for Depth {
    fn default() -> Self {
        Depth::DEFAULT
    }
}

impl fmt::Display for Depth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rows() {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("all"),
        }
    }
}

/// One row of a chart: one lane of the experiment, or a thread's deepest levels folded
/// together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneRow {
    /// The lanes it shows (indices into the experiment's lanes), outermost first.
    pub lanes: Range<usize>,
    /// The nesting level of its first lane (0: a thread's outermost, or a worker).
    pub level: u32,
    /// Its thread's first lane.
    pub thread: usize,
}

impl LaneRow {
    /// Whether it holds several levels.
    pub fn is_folded(&self) -> bool {
        self.lanes.len() > 1
    }
}

/// The rows of an experiment at some [`Depth`].
#[derive(Debug, Clone)]
pub struct Rows {
    /// The rows, or `None` where there is a row per lane (nothing nested: no need to keep a
    /// hundred thousand rows that say so).
    rows: Option<Vec<LaneRow>>,
    lanes: usize,
    /// Lanes folded into another's row.
    pub folded: usize,
    /// The most levels any thread has (1 where nothing is nested).
    pub deepest: u32,
}

impl Rows {
    /// The rows `experiment` shows at `depth`.
    pub fn of(experiment: &Experiment, depth: Depth) -> Rows {
        let lanes = experiment.lanes.len();
        if experiment.plan.lane_levels.is_empty() {
            return Rows {
                rows: None,
                lanes,
                folded: 0,
                deepest: 1,
            };
        }
        let show = depth.rows().unwrap_or(u32::MAX) as usize;
        let mut rows = Vec::new();
        let (mut folded, mut deepest) = (0, 1);
        for thread in threads(experiment) {
            let n = thread.len();
            deepest = deepest.max(n as u32);
            let own = n.min(show);
            for i in 0..own {
                let first = thread.start + i;
                let last = if i + 1 == own { thread.end } else { first + 1 };
                rows.push(LaneRow {
                    lanes: first..last,
                    level: i as u32,
                    thread: thread.start,
                });
            }
            folded += n - own;
        }
        Rows {
            rows: Some(rows),
            lanes,
            folded,
            deepest,
        }
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.as_ref().map_or(self.lanes, Vec::len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `index`.
    pub fn get(&self, index: usize) -> Option<LaneRow> {
        match &self.rows {
            Some(rows) => rows.get(index).cloned(),
            None => (index < self.lanes).then(|| LaneRow {
                lanes: index..index + 1,
                level: 0,
                thread: index,
            }),
        }
    }

    /// The order a panel showing `fitting` rows draws these in (row indices): as they
    /// come; where they do not all fit, the rows of workers that never got a task
    /// (settled: see [`row_note`]) below those that ran tasks, so the work is in view first
    /// and the idle are scrolled to.
    pub fn order(&self, experiment: &Experiment, fitting: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        if self.len() > fitting {
            order.sort_by_key(|&i| {
                self.get(i)
                    .is_some_and(|row| row_note(experiment, &row).is_some())
            });
        }
        order
    }

    /// The row that shows lane `lane`.
    pub fn row_of_lane(&self, lane: usize) -> usize {
        match &self.rows {
            Some(rows) => rows
                .partition_point(|r| r.lanes.end <= lane)
                .min(rows.len().saturating_sub(1)),
            None => lane,
        }
    }
}

/// The threads of `experiment`: runs of consecutive lanes, level 0 first, each one level
/// deeper than the one before.
fn threads(experiment: &Experiment) -> impl Iterator<Item = Range<usize>> + '_ {
    let level = |lane: usize| {
        experiment
            .plan
            .lane_levels
            .get(experiment.lanes[lane].worker)
    };
    let lanes = experiment.lanes.len();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= lanes {
            return None;
        }
        let first = start;
        let mut end = first + 1;
        while end < lanes && level(end) == level(end - 1) + 1 {
            end += 1;
        }
        start = end;
        Some(first..end)
    })
}

/// The lanes of the thread lane `lane` belongs to.
pub fn thread_of(experiment: &Experiment, lane: usize) -> Range<usize> {
    if experiment.plan.lane_levels.is_empty() {
        return lane..lane + 1;
    }
    threads(experiment)
        .find(|t| t.contains(&lane))
        .unwrap_or(lane..lane + 1)
}

/// Cells cut into more slices than this, on one level, are not searched for a slice that
/// covers half of them (a cell that busy is drawn as its shallowest level shows it): the
/// cost of a row stays that of its cells, whatever the number of calls.
const SEARCHED: usize = 32;

/// What each of `columns` cells of `row` holds over `span`, running slices ending at
/// `now`.
pub fn row_cells(
    experiment: &Experiment,
    row: &LaneRow,
    span: TimeSpan,
    now: Timestamp,
    columns: u16,
) -> Vec<CellContent> {
    let Some(lanes) = experiment.lanes.get(row.lanes.clone()) else {
        return vec![CellContent::Empty; columns as usize];
    };
    if let [lane] = lanes {
        return lane_cells(experiment, lane, span, now, columns);
    }
    let grid = TimeGrid::new(span, columns);
    let now = now.as_micros();
    let mut from = vec![0usize; lanes.len()];
    (0..columns)
        .map(|column| {
            let cell = (grid.time_at(column), grid.time_at(column + 1));
            let length = cell.1.saturating_sub(cell.0).max(1);
            let mut shallowest = CellContent::Empty;
            for (level, lane) in lanes.iter().enumerate().rev() {
                let under = spans_under(lane, from[level], cell, now);
                from[level] = under.start;
                if under.is_empty() {
                    continue;
                }
                let covering = lane.spans()[under.clone()]
                    .iter()
                    .take(SEARCHED)
                    .find(|s| 2 * cover(s, cell, now) >= length);
                if let Some(span) = covering {
                    return CellContent::Task(span.task as usize);
                }
                shallowest = content_of(lane, under, cell, now);
            }
            shallowest
        })
        .collect()
}

/// What the worker of `row` was doing in each of its `cells` (its first lane's thread:
/// every level of a thread is the same thread; see [`lane_states`]).
pub fn row_states(
    experiment: &Experiment,
    row: &LaneRow,
    cells: &[CellContent],
    span: TimeSpan,
    now: Timestamp,
) -> Vec<Option<CellState>> {
    match experiment.lanes.get(row.lanes.start) {
        Some(lane) => lane_states(experiment, lane, cells, span, now),
        None => vec![None; cells.len()],
    }
}

/// What `row` says in place of bars, if anything: its first lane's note ([`lane_note`]; a
/// thread's deeper levels always ran something).
pub fn row_note(experiment: &Experiment, row: &LaneRow) -> Option<&'static str> {
    lane_note(experiment, experiment.lanes.get(row.lanes.start)?)
}

/// The label of `row` in `room` columns: its lane's ([`lane_label`]), and for a nested
/// level its thread's name with the level, `MainThread (2)`, or the levels folded into it,
/// `MainThread (4–14)`; the levels stay when the name is cut.
pub fn row_label(experiment: &Experiment, row: &LaneRow, room: usize) -> String {
    let plan = &experiment.plan;
    let lane = |i: usize| &experiment.lanes[i.min(experiment.lanes.len().saturating_sub(1))];
    if experiment.lanes.is_empty() {
        return String::new();
    }
    if row.level == 0 && !row.is_folded() {
        return lane_label(lane(row.lanes.start), plan, room);
    }
    let thread = lane(row.thread);
    let base = match plan.lane_names.get(thread.worker) {
        Some(name) => name.to_string(),
        None => lane_label(thread, plan, usize::MAX),
    };
    let first = row.level + 1;
    let suffix = if row.is_folded() {
        format!("({first}–{})", row.level + row.lanes.len() as u32)
    } else {
        format!("({first})")
    };
    fit_with_suffix(&base, &suffix, room)
}

/// The call stack at moment `at` (µs since the epoch) on the thread of lane `lane`: for
/// each of its levels, outermost first, the lane and the task running then (levels with
/// none left out); running tasks last until `now`.
pub fn stack_at(experiment: &Experiment, lane: usize, at: u64, now: u64) -> Vec<(usize, usize)> {
    thread_of(experiment, lane)
        .filter_map(|l| {
            let spans = experiment.lanes.get(l)?.spans();
            let span = &spans[spans.partition_point(|s| s.start <= at).checked_sub(1)?];
            let end = span.ended().unwrap_or(now).max(span.start + 1);
            (end > at).then_some((l, span.task as usize))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{Event, TaskEventKind};
    use crate::model::plan::{ExecutorKind, ExperimentPlan, LaneLevels, LaneNames, WorkloadKind};
    use crate::model::timeline::Timeline;
    use crate::model::timeline::tests::{finished, task};
    use std::time::Duration;

    /// One thread, `MainThread`, whose calls nest `levels` deep: level k runs from k to
    /// 100 − k µs, but the deepest, a short call from 40 to 44 µs; and a worker lane beside
    /// it (task `levels`, 0 to 100 µs). Task k is level k's.
    fn nested(levels: usize) -> Timeline {
        let mut plan = ExperimentPlan::new(
            ExecutorKind::Recorded,
            WorkloadKind::Recorded,
            vec![0; levels + 1],
            levels + 1,
        );
        plan.lane_levels = LaneLevels::from_pairs((1..levels).map(|l| (l, l as u32)));
        plan.lane_names = LaneNames::from_pairs(
            std::iter::once((0, "MainThread".to_string()))
                .chain((1..levels).map(|l| (l, format!("MainThread ({})", l + 1))))
                .chain(std::iter::once((levels, "other".to_string()))),
        );
        let mut events = vec![Event::ExperimentStarted {
            experiment: 0,
            plan,
            at: Timestamp(0),
        }];
        for level in 0..levels - 1 {
            let at = level as u64;
            events.push(task(0, level, level, at, TaskEventKind::Started));
            events.push(task(0, level, level, 100 - at, finished(1)));
        }
        events.push(task(0, levels - 1, levels - 1, 40, TaskEventKind::Started));
        events.push(task(0, levels - 1, levels - 1, 44, finished(1)));
        events.push(task(0, levels, levels, 0, TaskEventKind::Started));
        events.push(task(0, levels, levels, 100, finished(1)));
        Timeline::from_events(&events)
    }

    fn span() -> TimeSpan {
        TimeSpan {
            start: Timestamp(0),
            length: Duration::from_micros(100),
            origin: Timestamp(0),
        }
    }

    #[test]
    fn a_deep_thread_folds_into_its_last_row_and_a_worker_stays_whole() {
        let timeline = nested(10);
        let e = &timeline.experiments()[0];
        let rows = Rows::of(e, Depth::DEFAULT);
        assert_eq!(rows.len(), 5, "four rows of the thread, one of the worker");
        assert_eq!(rows.folded, 6);
        assert_eq!(rows.deepest, 10);
        assert_eq!(rows.get(3).unwrap().lanes, 3..10);
        assert_eq!(rows.get(4).unwrap().lanes, 10..11);
        assert_eq!(rows.row_of_lane(7), 3);
        assert_eq!(rows.row_of_lane(10), 4);
        let labels: Vec<String> = (0..rows.len())
            .map(|i| row_label(e, &rows.get(i).unwrap(), 40))
            .collect();
        assert_eq!(
            labels,
            [
                "MainThread",
                "MainThread (2)",
                "MainThread (3)",
                "MainThread (4–10)",
                "other"
            ]
        );
        let all = Rows::of(e, Depth::ALL);
        assert_eq!((all.len(), all.folded), (11, 0));
        let one = Rows::of(e, Depth::levels(1));
        assert_eq!((one.len(), one.folded), (2, 9));
    }

    #[test]
    fn a_folded_cell_shows_the_deepest_slice_covering_most_of_it() {
        let timeline = nested(10);
        let e = &timeline.experiments()[0];
        let rows = Rows::of(e, Depth::DEFAULT);
        let cells = row_cells(e, &rows.get(3).unwrap(), span(), Timestamp(100), 10);
        use CellContent::*;
        // Cell k is [10k, 10k + 10) µs. Level 8 (8..92 µs) covers every cell but the first
        // and the last at least half; in those, level 5 (5..95) is the deepest that does.
        // The short call at 40..44 covers less than half of its cell: level 8 shows there.
        let deep = [5, 8, 8, 8, 8, 8, 8, 8, 8, 5].map(Task);
        assert_eq!(cells, deep);
        // Unfolded, level 3's own lane shows only its own slice.
        let all = Rows::of(e, Depth::ALL);
        let own = row_cells(e, &all.get(3).unwrap(), span(), Timestamp(100), 10);
        assert!(own.iter().all(|c| *c == Task(3)), "{own:?}");
    }

    #[test]
    fn the_stack_at_a_moment_lists_every_level() {
        let timeline = nested(10);
        let e = &timeline.experiments()[0];
        let stack = stack_at(e, 6, 42, 100);
        let tasks: Vec<usize> = stack.iter().map(|&(_, t)| t).collect();
        assert_eq!(
            tasks,
            (0..10).collect::<Vec<_>>(),
            "the short call at the bottom"
        );
        assert_eq!(
            stack_at(e, 6, 2, 100).len(),
            3,
            "levels 0..=2 had started by 2 µs"
        );
        assert_eq!(
            stack_at(e, 6, 50, 100).len(),
            9,
            "the short call is over by 50 µs"
        );
        assert_eq!(
            stack_at(e, 10, 50, 100),
            [(10, 10)],
            "a worker's stack is its task"
        );
    }

    #[test]
    fn depth_steps_and_parses() {
        assert_eq!(Depth::DEFAULT.fewer(10), Depth::levels(3));
        assert_eq!(Depth::levels(1).fewer(10), Depth::levels(1));
        assert_eq!(Depth::ALL.fewer(10), Depth::levels(9));
        assert_eq!(Depth::levels(8).more(10), Depth::levels(9));
        assert_eq!(Depth::levels(9).more(10), Depth::ALL);
        assert_eq!(Depth::ALL.more(10), Depth::ALL);
        assert_eq!(Depth::parse("all"), Some(Depth::ALL));
        assert_eq!(Depth::parse(" 6 "), Some(Depth::levels(6)));
        for bad in ["0", "-1", "x", ""] {
            assert_eq!(Depth::parse(bad), None, "{bad}");
        }
        assert_eq!(Depth::ALL.to_string(), "all");
    }
}
