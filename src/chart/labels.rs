//! Lane labels: a worker's name in the room a chart gives it, shortened visibly, never cut
//! into a wrong number.

use crate::model::plan::{ExecutorKind, ExperimentPlan};
use crate::model::timeline::Lane;

/// `w0 pid 48213` for a process, `w0 tid 48219` for a thread (the pid is in the title); a
/// recording's own name for the lane (a trace's thread name), or `lane 2` where it has none.
///
/// In `room` characters: words go first (`w0 14599`, then `w0`), and what is still too long
/// is cut with `…`, so a number is never shown cut short as if whole.
pub fn lane_label(lane: &Lane, plan: &ExperimentPlan, room: usize) -> String {
    let w = lane.worker;
    let forms = if let Some(name) = plan.lane_names.get(w).filter(|n| !n.is_empty()) {
        vec![name.clone()]
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

/// The first of `forms` (longest first) that fits in `room` characters, else the last cut
/// with `…`.
pub fn fit(forms: &[String], room: usize) -> String {
    if let Some(form) = forms.iter().find(|f| f.chars().count() <= room) {
        return form.clone();
    }
    match room {
        0 => String::new(),
        _ => {
            let last = forms.last().map_or("", String::as_str);
            let mut cut: String = last.chars().take(room - 1).collect();
            cut.push('…');
            cut
        }
    }
}
