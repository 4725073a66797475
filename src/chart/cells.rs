//! What each cell of a chart row holds, and what its worker was doing there: the
//! arithmetic every chart shares (the live view, `--print`, the SVG picture).
//!
//! Costs follow the row, not the number of tasks: a lane's tasks never overlap and are
//! sorted by start (one worker runs one task at a time), so the tasks under a cell are found
//! by two binary searches, and failures among them by a prefix count the timeline keeps. A
//! hundred thousand tasks draw as fast as a hundred.

use super::span::{TimeGrid, TimeSpan};
use crate::model::clock::Timestamp;
use crate::model::timeline::{Experiment, Lane, LaneSpan, StateShare};

/// What one cell of a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellContent {
    /// Nothing (the worker was idle, or the time is outside the experiment).
    Empty,
    /// The worker was starting (before it could take tasks).
    Starting,
    /// One task, by index into the experiment's tasks.
    Task(usize),
    /// Several tasks too short to draw apart.
    Dense {
        /// Whether one of them failed.
        failed: bool,
        /// Whether one of them is running.
        running: bool,
    },
}

/// What a worker was mostly doing during one cell, from the scheduler samples and the
/// simulated GIL's records (`None` where the worker was not sampled at all: the bars are
/// then plain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellState {
    /// On a CPU (or holding the GIL, where nothing was sampled).
    OnCpu,
    /// Ready to run, waiting for a CPU.
    Runnable,
    /// Neither: sleeping, waiting on I/O or a lock.
    Blocked,
    /// Waiting for the GIL (simulated, or CPython's in a watched program).
    GilWait,
    /// Blocked on I/O (a watched thread in read, recv, poll, …).
    Io,
    /// In a timed sleep (a watched thread in nanosleep).
    Sleep,
    /// On a lock (a watched thread in a futex wait that is not the GIL).
    Lock,
    /// The worker was sampled, but no sample covers most of this cell (a stretch the
    /// sampler has not read yet, or a worker that ended before a last reading): what it
    /// did there is not known, and the cell never claims it ran.
    Unknown,
}

/// The dominant state of `share`, if anything was recorded.
pub fn dominant_state(share: StateShare) -> Option<CellState> {
    if !share.is_known() {
        return None;
    }
    let sampled = share.running + share.runnable + share.blocked > 0.0 || share.unknown > 0.0;
    let on_cpu = if sampled {
        share.running
    } else {
        share.gil_held
    };
    let blocked = if sampled {
        (share.blocked - share.gil_wait - share.io - share.sleep - share.lock).max(0.0)
    } else {
        0.0
    };
    [
        (CellState::OnCpu, on_cpu),
        (CellState::Runnable, share.runnable),
        (CellState::GilWait, share.gil_wait),
        (CellState::Io, share.io),
        (CellState::Sleep, share.sleep),
        (CellState::Lock, share.lock),
        (CellState::Blocked, blocked),
        (CellState::Unknown, share.unknown),
    ]
    .into_iter()
    .fold(
        None,
        |best: Option<(CellState, f32)>, (state, value)| match best {
            Some((_, top)) if top >= value => best,
            _ if value > 0.0 => Some((state, value)),
            _ => best,
        },
    )
    .map(|(state, _)| state)
}

/// The state of `lane`'s worker in each of the `cells` of a row over `span`: in a cell
/// showing one task, over the part of the cell that task ran (so a bar's first and last
/// cells say what its task did, not what the worker did before or after it); elsewhere,
/// over the whole cell.
pub fn lane_states(
    experiment: &Experiment,
    lane: &Lane,
    cells: &[CellContent],
    span: TimeSpan,
    now: Timestamp,
) -> Vec<Option<CellState>> {
    if lane.samples().is_empty() && lane.gil_spans().is_empty() {
        return vec![None; cells.len()];
    }
    let grid = TimeGrid::new(span, cells.len() as u16);
    let now = now.as_micros();
    cells
        .iter()
        .enumerate()
        .map(|(column, cell)| {
            let column = column as u16;
            let (mut t0, mut t1) = (grid.time_at(column), grid.time_at(column + 1));
            if let CellContent::Task(index) = *cell
                && let Some(task) = experiment.task(index)
                && let Some(start) = task.started_at.map(Timestamp::as_micros)
            {
                let end = bar_end(start, task.ended_at.map(Timestamp::as_micros), now);
                (t0, t1) = (t0.max(start), t1.min(end));
                if t1 <= t0 {
                    (t0, t1) = (start, end);
                }
            }
            dominant_state(lane.state_in(t0, t1, now))
        })
        .collect()
}

/// What a lane says in place of bars, if anything: `never got a task` for a worker that
/// ran none, once that is settled (every task has started, or the experiment ended), so an
/// empty lane is never mistaken for one not drawn yet.
pub fn lane_note(experiment: &Experiment, lane: &Lane) -> Option<&'static str> {
    if experiment.plan.is_watched() {
        return None; // a program's thread is not a pool's worker waiting for tasks
    }
    let settled = experiment.finished_at.is_some()
        || (experiment.by_start.len() == experiment.tasks_held() && experiment.tasks_held() > 0);
    (lane.spans().is_empty() && !experiment.events_dropped() && settled)
        .then_some("never got a task")
}

/// A lane's note, longest first, for the room there is: what it means in full (the pool's
/// tasks were all taken before this worker was ready), then the note, then two words.
pub fn note_forms(note: &'static str) -> [&'static str; 3] {
    match note {
        "never got a task" => [
            "never got a task: none was left when it was ready",
            note,
            "no task",
        ],
        other => [other, other, other],
    }
}

/// Where a bar ends: at its task's end, or at `now` while the task runs; at least 1 µs
/// after its start, so even an instant failure shows.
fn bar_end(start: u64, ended: Option<u64>, now: u64) -> u64 {
    ended.unwrap_or(now).max(start + 1)
}

/// The cells of one worker lane over `columns` columns of `span`.
///
/// Each cell's tasks are found by binary search in the lane's compact span array, starting
/// where the previous cell's search ended (columns only move forward in time).
pub fn lane_cells(
    experiment: &Experiment,
    lane: &Lane,
    span: TimeSpan,
    now: Timestamp,
    columns: u16,
) -> Vec<CellContent> {
    let grid = TimeGrid::new(span, columns);
    let now = now.as_micros();
    let origin = experiment.started_at.as_micros();
    let ready = lane.ready_at.map(Timestamp::as_micros);
    let mut from = 0;
    (0..columns)
        .map(|column| {
            let (t0, t1) = (grid.time_at(column), grid.time_at(column + 1));
            let std::ops::Range { start: first, end } = spans_under(lane, from, (t0, t1), now);
            from = first;
            match ready {
                Some(ready) if end == first && t0 < ready && t1 > origin => CellContent::Starting,
                _ => content_of(lane, first..end, (t0, t1), now),
            }
        })
        .collect()
}

/// What a cell over `[t0, t1)` shows of `lane`, whose spans `range` are those under it
/// (running ones ending at `now`): nothing, one task, the one of two that covers more of it
/// (a failure is never hidden that way), or several too short to draw apart.
pub(super) fn content_of(
    lane: &Lane,
    range: std::ops::Range<usize>,
    (t0, t1): (u64, u64),
    now: u64,
) -> CellContent {
    let spans = lane.spans();
    let (first, end) = (range.start, range.end);
    match end - first {
        0 => CellContent::Empty,
        1 => CellContent::Task(spans[first].task as usize),
        // Where one task ends and the next begins, the cell shows the one that covers more
        // of it.
        2 if lane.failed_in(first..end) == 0 => {
            let (a, b) = (&spans[first], &spans[first + 1]);
            let task = if cover(a, (t0, t1), now) >= cover(b, (t0, t1), now) {
                a.task
            } else {
                b.task
            };
            CellContent::Task(task as usize)
        }
        _ => CellContent::Dense {
            failed: lane.failed_in(first..end) > 0,
            running: spans[end - 1].ended().is_none(),
        },
    }
}

/// How much of `[t0, t1)` a span covers (µs), a running one ending at `now`.
pub(super) fn cover(span: &LaneSpan, (t0, t1): (u64, u64), now: u64) -> u64 {
    bar_end(span.start, span.ended(), now)
        .min(t1)
        .saturating_sub(span.start.max(t0))
}

/// The spans of `lane` under the cell `[t0, t1)`, searched from `from` on (a cell left of
/// this one ended its search there): their range, whose start is where the next cell's
/// search may start.
pub(super) fn spans_under(
    lane: &Lane,
    from: usize,
    (t0, t1): (u64, u64),
    now: u64,
) -> std::ops::Range<usize> {
    let spans = lane.spans();
    let from = from.min(spans.len());
    let first = from + gallop(&spans[from..], |s| bar_end(s.start, s.ended(), now) <= t0);
    let end = first + gallop(&spans[first..], |s| s.start < t1);
    first..end
}

/// `partition_point` that looks near the front first (1, 2, 4, … ahead), then binary
/// searches the last stretch: O(log k) for an answer k places in, however long the slice.
fn gallop<T>(slice: &[T], is_before: impl Fn(&T) -> bool) -> usize {
    let mut bound = 1;
    while bound <= slice.len() && is_before(&slice[bound - 1]) {
        bound *= 2;
    }
    let low = bound / 2;
    let high = bound.min(slice.len());
    low + slice[low..high].partition_point(is_before)
}

/// The cells of a row holding the single task `index`.
pub fn task_cells(
    experiment: &Experiment,
    index: usize,
    span: TimeSpan,
    now: Timestamp,
    columns: u16,
) -> Vec<CellContent> {
    let grid = TimeGrid::new(span, columns);
    let task = experiment.task(index);
    let Some(start) = task.and_then(|t| t.started_at).map(Timestamp::as_micros) else {
        return vec![CellContent::Empty; columns as usize];
    };
    let ended = task.and_then(|t| t.ended_at).map(Timestamp::as_micros);
    let end = bar_end(start, ended, now.as_micros());
    (0..columns)
        .map(|column| {
            let (t0, t1) = (grid.time_at(column), grid.time_at(column + 1));
            if start < t1 && end > t0 {
                CellContent::Task(index)
            } else {
                CellContent::Empty
            }
        })
        .collect()
}

/// Each stretch of cells that shows one task: its first column, its length, the task.
pub fn task_runs(cells: &[CellContent]) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let mut column = 0;
    std::iter::from_fn(move || {
        while column < cells.len() {
            let start = column;
            let CellContent::Task(index) = cells[start] else {
                column += 1;
                continue;
            };
            let run = cells[start..]
                .iter()
                .take_while(|&&c| c == CellContent::Task(index))
                .count();
            column += run;
            return Some((start, run, index));
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{Event, TaskEventKind};
    use crate::model::plan::ExecutorKind;
    use crate::model::plan::ExperimentPlan;
    use crate::model::timeline::Timeline;
    use crate::model::timeline::tests::{finished, started_experiment, task};
    use std::time::Duration;

    fn span(start: u64, length_us: u64) -> TimeSpan {
        TimeSpan {
            start: Timestamp(start),
            length: Duration::from_micros(length_us),
            origin: Timestamp(0),
        }
    }

    #[test]
    fn cells_show_tasks_dense_stretches_and_failures() {
        let mut events = vec![started_experiment(0, ExecutorKind::Threads, 0)];
        // Worker 0: task 0 over 0..50, then tasks 1 and 2 squeezed into 60..70 (2 failed).
        events.push(task(0, 0, 0, 0, TaskEventKind::Started));
        events.push(task(0, 0, 0, 50, finished(1)));
        events.push(task(0, 1, 0, 60, TaskEventKind::Started));
        events.push(task(0, 1, 0, 63, finished(1)));
        events.push(task(0, 2, 0, 64, TaskEventKind::Started));
        events.push(task(
            0,
            2,
            0,
            66,
            TaskEventKind::Failed {
                error: "x".into(),
                cpu_time: None,
            },
        ));
        let t = Timeline::from_events(&events);
        let e = &t.experiments()[0];
        let cells = lane_cells(e, &e.lanes[0], span(0, 100), Timestamp(100), 10);
        use CellContent::*;
        assert_eq!(
            cells,
            [
                Task(0),
                Task(0),
                Task(0),
                Task(0),
                Task(0),
                Empty,
                Dense {
                    failed: true,
                    running: false
                },
                Empty,
                Empty,
                Empty
            ]
        );
    }

    #[test]
    fn running_bars_grow_to_now() {
        let t = Timeline::from_events(&[
            started_experiment(0, ExecutorKind::Processes, 0),
            task(0, 0, 0, 20, TaskEventKind::Started),
        ]);
        let e = &t.experiments()[0];
        let count = |now| {
            lane_cells(e, &e.lanes[0], span(0, 100), Timestamp(now), 10)
                .iter()
                .filter(|c| **c == CellContent::Task(0))
                .count()
        };
        assert_eq!(count(40), 2);
        assert_eq!(count(80), 6);
    }

    #[test]
    fn the_worker_start_shows_before_its_first_task() {
        let mut t = Timeline::from_events(&[started_experiment(0, ExecutorKind::Processes, 0)]);
        t.apply(&Event::WorkerStarted {
            experiment: 0,
            worker: crate::model::timeline::tests::worker(0),
            at: Timestamp(30),
        });
        t.apply(&task(0, 0, 0, 30, TaskEventKind::Started));
        let e = &t.experiments()[0];
        let cells = lane_cells(e, &e.lanes[0], span(0, 100), Timestamp(50), 10);
        assert_eq!(
            &cells[..4],
            [
                CellContent::Starting,
                CellContent::Starting,
                CellContent::Starting,
                CellContent::Task(0)
            ]
        );
    }

    #[test]
    fn unsampled_cells_are_unknown_never_running() {
        use crate::model::timeline::tests::sample;
        // A task over 0..100 µs, sampled over 0..50 only (running, then waiting).
        let t = Timeline::from_events(&[
            started_experiment(0, ExecutorKind::Threads, 0),
            task(0, 0, 0, 0, TaskEventKind::Started),
            sample(0, 0, 30, (1.0, 0.0, 0.0)),
            sample(0, 30, 50, (0.0, 1.0, 0.0)),
            task(0, 0, 0, 100, finished(30)),
        ]);
        let e = &t.experiments()[0];
        let lane = &e.lanes[0];
        let cells = lane_cells(e, lane, span(0, 100), Timestamp(100), 10);
        let states = lane_states(e, lane, &cells, span(0, 100), Timestamp(100));
        use CellState::*;
        assert_eq!(
            states,
            [
                Some(OnCpu),
                Some(OnCpu),
                Some(OnCpu),
                Some(Runnable),
                Some(Runnable),
                Some(Unknown),
                Some(Unknown),
                Some(Unknown),
                Some(Unknown),
                Some(Unknown)
            ]
        );
        // Drawn with a shade of their own, not the task's.
        let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 10, 1));
        let theme = crate::chart::theme::Theme { color: false };
        crate::chart::paint::draw_cells(&mut buf, 0, 0, (&cells, &states), e, &e.plan, theme);
        let row: String = (0..10).map(|x| buf[(x, 0)].symbol().to_string()).collect();
        // (The task's label is written over the middle of its bar.)
        assert!(row.starts_with('█') && row.ends_with("???"), "{row}");
        // Without any sample on the lane (no sampler here), bars stay plain.
        let plain = Timeline::from_events(&[
            started_experiment(0, ExecutorKind::Threads, 0),
            task(0, 0, 0, 0, TaskEventKind::Started),
            task(0, 0, 0, 100, finished(30)),
        ]);
        let e = &plain.experiments()[0];
        let cells = lane_cells(e, &e.lanes[0], span(0, 100), Timestamp(100), 10);
        let states = lane_states(e, &e.lanes[0], &cells, span(0, 100), Timestamp(100));
        assert!(states.iter().all(Option::is_none));
    }

    #[test]
    fn a_worker_that_never_got_a_task_says_so_once_that_is_settled() {
        let mut t = Timeline::from_events(&[started_experiment(0, ExecutorKind::Threads, 0)]);
        for w in 0..2 {
            t.apply(&Event::WorkerStarted {
                experiment: 0,
                worker: crate::model::timeline::tests::worker(w),
                at: Timestamp(1),
            });
        }
        t.apply(&task(0, 0, 0, 5, TaskEventKind::Started));
        let note = |t: &Timeline| lane_note(&t.experiments()[0], &t.experiments()[0].lanes[1]);
        assert_eq!(note(&t), None, "tasks are still waiting: it may get one");
        t.apply(&task(0, 1, 0, 6, TaskEventKind::Started));
        t.apply(&task(0, 2, 0, 7, TaskEventKind::Started));
        assert_eq!(note(&t), Some("never got a task"), "every task has started");
        assert_eq!(
            lane_note(&t.experiments()[0], &t.experiments()[0].lanes[0]),
            None
        );
    }

    #[test]
    fn gallop_agrees_with_partition_point() {
        for len in 0..70usize {
            let v: Vec<usize> = (0..len).collect();
            for cut in 0..=len {
                assert_eq!(
                    gallop(&v, |&x| x < cut),
                    v.partition_point(|&x| x < cut),
                    "len {len} cut {cut}"
                );
            }
        }
    }

    #[test]
    fn a_hundred_thousand_tasks_cost_a_search_per_cell() {
        let mut events = vec![Event::ExperimentStarted {
            experiment: 0,
            plan: ExperimentPlan::new(
                ExecutorKind::Threads,
                crate::model::plan::WorkloadKind::Sleep,
                vec![1; 100_000],
                1,
            ),
            at: Timestamp(0),
        }];
        for i in 0..100_000u64 {
            events.push(task(0, i as usize, 0, i * 10, TaskEventKind::Started));
            events.push(task(0, i as usize, 0, i * 10 + 5, finished(1)));
        }
        let t = Timeline::from_events(&events);
        let e = &t.experiments()[0];
        let cells = lane_cells(
            e,
            &e.lanes[0],
            span(0, 1_000_000),
            Timestamp(1_000_000),
            100,
        );
        assert!(cells.iter().all(|c| matches!(
            c,
            CellContent::Dense {
                failed: false,
                running: false
            }
        )));
    }
}
