//! Lane labels: a worker's name in the room a chart gives it, shortened visibly, never cut
//! into a wrong number. Names from files are shown through [`display`], so they are never
//! obeyed by a terminal and their width is counted in columns.

use crate::model::display;
use crate::model::plan::{ExecutorKind, ExperimentPlan};
use crate::model::timeline::Lane;

/// `w0 pid 48213` for a process, `w0 tid 48219` for a thread (the pid is in the title); a
/// recording's own name for the lane (a trace's thread name), or `lane 2` where it has none.
///
/// In `room` columns: words go first (`w0 14599`, then `w0`), and what is still too long
/// is cut with `…`, so a number is never shown cut short as if whole.
pub fn lane_label(lane: &Lane, plan: &ExperimentPlan, room: usize) -> String {
    let w = lane.worker;
    let forms = if let Some(name) = plan.lane_names.get(w) {
        vec![display::safe(name).into_owned()]
    } else if lane.pid == 0 && lane.tid == 0 {
        vec![format!("lane {w}"), format!("{w}")]
    } else {
        let (word, id) = match plan.executor {
            ExecutorKind::Processes => ("pid", lane.pid),
            _ => ("tid", lane.tid),
        };
        vec![
            format!("w{w} {word} {id}"),
            format!("w{w} {id}"),
            format!("w{w}"),
        ]
    };
    fit(&forms, room)
}

/// The first of `forms` (longest first) that fits in `room` columns, else the last cut
/// with `…`; shown safe (see [`display::safe`]).
pub fn fit(forms: &[String], room: usize) -> String {
    match forms.iter().find(|f| display::width(f) <= room) {
        Some(form) => display::safe(form).into_owned(),
        None => display::shorten(forms.last().map_or("", String::as_str), room),
    }
}
