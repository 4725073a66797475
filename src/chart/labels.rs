//! Labels: a worker's name in the room a chart gives it, and a task's name on its bar,
//! shortened visibly, never cut into a wrong number nor replaced by one. Names from files
//! are shown through [`display`], so they are never obeyed by a terminal and their width is
//! counted in columns.

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
    if plan.is_watched() {
        // A thread: its name and its id; where short of room, the name gives way first.
        let name = display::safe(plan.lane_names.get(w).unwrap_or("?")).into_owned();
        let tid = lane.tid.to_string();
        let full = format!("{name} {tid}");
        if display::width(&full) <= room {
            return full;
        }
        if room > tid.len() + 2 {
            let cut = display::shorten(&name, room - tid.len() - 1);
            return format!("{cut} {tid}");
        }
        return fit(&[tid], room);
    }
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

/// `base (suffix)` in `room` columns, the suffix kept whole where the base can be cut for
/// it: `ThreadPoolExecutor-0_0 (4–14)` → `ThreadPoolE… (4–14)`, so a level's number stays
/// readable in a narrow column.
pub fn fit_with_suffix(base: &str, suffix: &str, room: usize) -> String {
    let whole = format!("{base} {suffix}");
    let suffix_width = display::width(suffix) + 1;
    if display::width(&whole) <= room || room < suffix_width + 2 {
        return fit(&[whole], room);
    }
    format!(
        "{} {}",
        display::shorten(base, room - suffix_width),
        display::safe(suffix)
    )
}

/// A task's name split into what reads on its bar and where the task ran, which the
/// inspector shows: viztracer's `Thread.run (/usr/lib/python3.11/threading.py:971)` is
/// `Thread.run` at `/usr/lib/python3.11/threading.py:971`; py-spy's process frame
/// `process 6847:"python3 pools.py"` is `process 6847` running `python3 pools.py`. Other
/// names are all head.
pub fn name_parts(name: &str) -> (&str, Option<&str>) {
    // `function (file:line)`
    if let Some(inner) = name.strip_suffix(')')
        && let Some(open) = inner.rfind(" (")
        && let Some((file, line)) = inner[open + 2..].rsplit_once(':')
        && !file.is_empty()
        && !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && !inner[..open].trim().is_empty()
    {
        return (inner[..open].trim_end(), Some(&inner[open + 2..]));
    }
    // `process 6847:"command line"`
    if let Some(rest) = name.strip_prefix("process ")
        && let Some((pid, command)) = rest.split_once(":\"")
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && let Some(command) = command.strip_suffix('"')
    {
        return (&name[..8 + pid.len()], Some(command));
    }
    (name, None)
}

/// `text` (already what should show) in `room` columns: whole if it fits, else cut with
/// `…` as long as something of it still shows before the `…` in two columns or more; else
/// nothing. Shown safe (see [`display::safe`]).
pub fn fit_name(text: &str, room: usize) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    if display::width(text) <= room {
        return Some(display::safe(text).into_owned());
    }
    let cut = display::shorten(text, room);
    (room >= 2 && cut != "…").then_some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_the_function_and_where_it_ran() {
        assert_eq!(
            name_parts("Thread.run (/usr/lib/python3.11/threading.py:971)"),
            ("Thread.run", Some("/usr/lib/python3.11/threading.py:971"))
        );
        assert_eq!(
            name_parts("<module> (/tmp/fx/pools.py:1)"),
            ("<module>", Some("/tmp/fx/pools.py:1"))
        );
        assert_eq!(
            name_parts(r#"process 6847:"python3 pools.py 26 27""#),
            ("process 6847", Some("python3 pools.py 26 27"))
        );
        // What is not one of those forms stays whole.
        for name in [
            "fib",
            "builtins.exec",
            "f (x)",
            "f (a:b)",
            " (x.py:3)",
            "process x:\"y\"",
            "fetch (",
        ] {
            assert_eq!(name_parts(name), (name, None), "{name}");
        }
    }

    #[test]
    fn a_name_is_cut_visibly_or_dropped_never_replaced() {
        assert_eq!(fit_name("Thread.run", 20).as_deref(), Some("Thread.run"));
        assert_eq!(fit_name("Thread.run", 6).as_deref(), Some("Threa…"));
        assert_eq!(fit_name("Thread.run", 2).as_deref(), Some("T…"));
        assert_eq!(fit_name("Thread.run", 1), None);
        assert_eq!(fit_name("fib", 1), None);
        assert_eq!(fit_name("f", 1).as_deref(), Some("f"));
        assert_eq!(fit_name("名前", 2), None, "nothing of it before the …");
        assert_eq!(fit_name("名前", 3).as_deref(), Some("名…"));
        assert_eq!(fit_name("", 10), None);
        assert_eq!(fit_name("a\x1bb", 10).as_deref(), Some("a␛b"));
    }

    #[test]
    fn a_suffix_outlives_the_name_it_follows() {
        assert_eq!(
            fit_with_suffix("ThreadPoolExecutor-0_0", "(4–14)", 40),
            "ThreadPoolExecutor-0_0 (4–14)"
        );
        assert_eq!(
            fit_with_suffix("ThreadPoolExecutor-0_0", "(4–14)", 19),
            "ThreadPoolE… (4–14)"
        );
        assert_eq!(fit_with_suffix("MainThread", "(2)", 5), "Main…");
    }
}
