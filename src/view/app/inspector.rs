//! The inspector's cursor (`i`, a click on a bar): a task of the selected experiment, moved
//! between lanes with ↑/↓ and along a lane with ←/→.

use std::time::Duration;

use crossterm::event::KeyCode;

use crate::model::clock::Timestamp;
use crate::model::timeline::Experiment;

/// The inspector's cursor: a task of the selected experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspect {
    /// The task under the cursor (an index into the experiment's tasks).
    pub task: usize,
}

/// What a key did to the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InspectKey {
    /// Not the inspector's key: the view takes it.
    NotMine,
    /// The inspector closed (`i`, Esc).
    Leave,
    /// The inspector closed and the view takes the key too (Tab: the panel changes).
    LeaveAndPass,
    /// The cursor moved to this task, on lane number `lane` of the experiment (or stayed,
    /// if there was nowhere to go).
    Moved(Option<(Inspect, usize)>),
}

impl Inspect {
    /// The cursor's first place in `experiment`: the latest task of its first lane that
    /// ran one.
    pub fn start(experiment: &Experiment) -> Option<Inspect> {
        experiment.lanes.iter().find_map(|l| {
            l.spans().last().map(|s| Inspect {
                task: s.task as usize,
            })
        })
    }

    /// Where `code` moves the cursor within `experiment`: ↑/↓ to the task of the lane
    /// above or below that was running at the same moment (or the nearest), ←/→ along the
    /// lane.
    pub fn key(self, code: KeyCode, experiment: &Experiment) -> InspectKey {
        let lanes = &experiment.lanes;
        let lane_index = experiment
            .lane_of(self.task)
            .and_then(|lane| lanes.iter().position(|l| l.worker == lane.worker))
            .unwrap_or(0);
        let spans = |lane: usize| lanes.get(lane).map_or(&[][..], |l| l.spans());
        let position = experiment.position_in_lane(self.task);
        let at = experiment
            .task(self.task)
            .and_then(|t| t.started_at)
            .map_or(0, |t| t.as_micros());
        let nearest_in = |lane: usize| {
            let spans = spans(lane);
            let after = spans.partition_point(|s| s.start <= at);
            spans
                .get(after.saturating_sub(1))
                .or(spans.first())
                .map(|s| (s.task as usize, lane))
        };
        let moved = match code {
            KeyCode::Esc | KeyCode::Char('i') => return InspectKey::Leave,
            KeyCode::Tab | KeyCode::BackTab => return InspectKey::LeaveAndPass,
            KeyCode::Up | KeyCode::Char('k') => (0..lane_index).rev().find_map(nearest_in),
            KeyCode::Down | KeyCode::Char('j') => {
                (lane_index + 1..lanes.len()).find_map(nearest_in)
            }
            KeyCode::Left | KeyCode::Char('h') => position
                .and_then(|p| p.checked_sub(1))
                .map(|p| (spans(lane_index)[p].task as usize, lane_index)),
            KeyCode::Right | KeyCode::Char('l') => position
                .map(|p| p + 1)
                .and_then(|p| spans(lane_index).get(p))
                .map(|s| (s.task as usize, lane_index)),
            _ => return InspectKey::NotMine,
        };
        InspectKey::Moved(moved.map(|(task, lane)| (Inspect { task }, lane)))
    }

    /// The middle of the task under the cursor, as a fraction of `full` (the length its
    /// panel row spans from the experiment's start), a running task ending at `now`: what
    /// zooming keeps in view.
    pub fn center(self, experiment: &Experiment, full: Duration, now: Timestamp) -> Option<f64> {
        let task = experiment.task(self.task)?;
        let start = task.started_at?;
        let end = task.ended_at.unwrap_or(now);
        let middle = (start.since(experiment.started_at) + end.since(start) / 2).as_secs_f64();
        Some((middle / full.as_secs_f64()).clamp(0.0, 1.0))
    }
}
