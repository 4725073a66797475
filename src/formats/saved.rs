//! A run's own figures, read back: the experiments of a `summary.json` (and of the same
//! entries a poolscope trace carries in `otherData`), so a reopened run shows the panel
//! order, makespans, CPU, waits and switches the run itself reported, not figures
//! recomputed from rounded rows.
//!
//! The file may be anything (edited, cut short, hostile): fields are read one by one, and a
//! field that is missing, of the wrong type, negative or not finite is not known (`-`),
//! never 0 and never a panic.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::model::event::ExperimentFigures;

/// One experiment's entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SavedExperiment {
    /// Its name.
    pub name: String,
    /// Its CSV's file name in the run's folder, when the summary says (names that are not
    /// plain file names are written under another), and it is a plain name.
    pub file: Option<String>,
    /// Its place in the run (panels follow it).
    pub position: usize,
    /// Its pool's size, as planned.
    pub workers: Option<usize>,
    /// When it started and ended, epoch µs.
    pub started_at: Option<u64>,
    /// See `started_at`.
    pub finished_at: Option<u64>,
    /// Its figures (`experiment` is 0: the caller places it).
    pub figures: ExperimentFigures,
}

/// A saved run: its cores, bounds and experiments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SavedRun {
    /// The CPUs it ran on.
    pub cores: Option<usize>,
    /// When it started and finished, epoch µs (the finish only if not before the start).
    pub bounds: Option<(u64, Option<u64>)>,
    /// Its experiments, in run order.
    pub experiments: Vec<SavedExperiment>,
}

impl SavedRun {
    /// The entry of experiment `name`.
    pub fn experiment(&self, name: &str) -> Option<&SavedExperiment> {
        self.experiments.iter().find(|e| e.name == name)
    }
}

/// The `summary.json` beside `file`, if there is one that reads as a summary.
pub fn beside(file: &Path) -> Option<SavedRun> {
    let summary = file.parent()?.join(super::names::SUMMARY_FILE);
    let bytes = std::fs::read(summary).ok()?;
    let json = serde_json::from_slice::<Value>(&bytes).ok()?;
    Some(run(&json))
}

/// A summary's JSON (or a trace's `otherData.poolscope`, which holds the same fields).
pub fn run(json: &Value) -> SavedRun {
    let started = epoch_us(json, "started_at");
    SavedRun {
        bounds: started.map(|start| bounds(start, epoch_us(json, "finished_at"))),
        cores: json
            .get("cores")
            .and_then(Value::as_u64)
            .filter(|&c| c > 0 && c < 1 << 20)
            .map(|c| c as usize),
        experiments: json
            .get("experiments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(position, e)| experiment(position, e))
            .collect(),
    }
}

/// A start and an end as a file gave them: the end only if it is not before the start
/// (an edited or cut file), never a negative length.
pub fn bounds(start: u64, end: Option<u64>) -> (u64, Option<u64>) {
    (start, end.filter(|&end| end >= start))
}

/// Field `key` of `json`, epoch seconds, as epoch µs, if it is a time one could hold.
fn epoch_us(json: &Value, key: &str) -> Option<u64> {
    json.get(key)
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e11)
        .map(|s| (s * 1e6).round() as u64)
}

/// The entry at `position` of a run's experiments, if it has a name.
pub fn experiment(position: usize, e: &Value) -> Option<SavedExperiment> {
    let name = e.get("name")?.as_str()?.to_string();
    let seconds = |key: &str| {
        e.get(key)
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
    };
    let count = |key: &str| e.get(key).and_then(Value::as_u64);
    let file = e
        .get("file")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty() && !f.contains(['/', '\\']) && !f.starts_with('.'))
        .map(str::to_string);
    Some(SavedExperiment {
        name,
        file,
        position,
        // The pool's size as planned (`workers` is how many started, in files that say
        // both; earlier files said only `workers`).
        workers: count("workers_planned")
            .or_else(|| count("workers"))
            .filter(|&w| w > 0 && w <= 1 << 20)
            .map(|w| w as usize),
        started_at: epoch_us(e, "started_at"),
        finished_at: epoch_us(e, "finished_at"),
        figures: ExperimentFigures {
            experiment: 0,
            others_cpu: e
                .get("others_cpu")
                .and_then(Value::as_f64)
                .filter(|x| x.is_finite() && *x >= 0.0),
            cpu_time: seconds("cpu_time_s"),
            cpu_wait: seconds("cpu_wait_s"),
            cpu_wait_outside_tasks: seconds("cpu_wait_outside_tasks_s"),
            voluntary_switches: count("voluntary_switches"),
            involuntary_switches: count("involuntary_switches"),
            gil_wait: seconds("gil_wait_s"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_is_there_and_leaves_the_rest_unknown() {
        let json = serde_json::json!({
            "cores": 2,
            "experiments": [
                {"name": "process-fibo", "file": "process-fibo.csv", "workers": 4, "started_at": 1700000000.25,
                 "finished_at": 1700000001.5, "cpu_time_s": 0.5, "cpu_wait_s": null,
                 "voluntary_switches": 3, "involuntary_switches": 9, "others_cpu": 0.75},
                {"name": "thread-fibo", "file": "../x.csv", "cpu_time_s": -1.0, "gil_wait_s": "soon",
                 "cpu_wait_s": 1e300},
                {"no name": true}
            ]
        });
        let run = run(&json);
        assert_eq!(run.cores, Some(2));
        assert_eq!(run.experiments.len(), 2);
        let p = run.experiment("process-fibo").unwrap();
        assert_eq!((p.position, p.workers), (0, Some(4)));
        assert_eq!(p.file.as_deref(), Some("process-fibo.csv"));
        assert_eq!(p.started_at, Some(1_700_000_000_250_000));
        assert_eq!(p.finished_at, Some(1_700_000_001_500_000));
        assert_eq!(p.figures.cpu_time, Some(Duration::from_millis(500)));
        assert_eq!(p.figures.cpu_wait, None, "null is not known, not 0");
        assert_eq!(p.figures.voluntary_switches, Some(3));
        assert_eq!(p.figures.others_cpu, Some(0.75));
        let t = run.experiment("thread-fibo").unwrap();
        assert_eq!(t.position, 1);
        assert_eq!(t.file, None, "a path is not a file name of the folder");
        assert_eq!(
            t.figures,
            ExperimentFigures::default(),
            "bad values are unknown"
        );
        assert_eq!(run.bounds, None, "the run's bounds are not said");
    }

    #[test]
    fn the_runs_own_bounds_are_read_and_an_end_before_the_start_is_not() {
        let bounds = |json| run(&json).bounds;
        assert_eq!(
            bounds(serde_json::json!({"started_at": 1700000000.25, "finished_at": 1700000002.0})),
            Some((1_700_000_000_250_000, Some(1_700_000_002_000_000)))
        );
        assert_eq!(
            bounds(serde_json::json!({"started_at": 1700000000.25, "finished_at": 5.0})),
            Some((1_700_000_000_250_000, None))
        );
        assert_eq!(bounds(serde_json::json!({"started_at": "noon"})), None);
    }
}
