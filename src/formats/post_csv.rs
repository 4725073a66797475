//! The CSVs the post's Python script writes: `tag,start_time,end_time,elapsed,result`, a
//! row per task, times in epoch seconds, results as Python printed them (`b'200 OK'`).
//!
//! They say nothing about workers, so lanes are inferred later ([`super::build`]): tasks are
//! packed greedily, by start time, into the fewest lanes in which none overlap, as the
//! post's chart (one bar per task, ordered by start) suggests. The experiment is named
//! after the file; `process-fibo.csv` is known to be processes running fib, so the post's
//! speed-up lines come back too.

use std::io::Read;

use super::csv_rows::{self, Row};
use super::{
    FileContents, LaneGroup, Problem, Progress, RecordedExperiment, RecordedTask, RecordedTasks,
};

/// The post's header, exactly.
pub const HEADER: &str = "tag,start_time,end_time,elapsed,result";

/// Reads a post CSV (its header already recognised) as one experiment named `stem`.
///
/// Rows are read a block at a time straight into compact [`RecordedTask`]s (the file and a
/// million rows are never held twice): a tag `{stem}-{n}` becomes input `n` with no label
/// of its own (the plan calls such tasks by the post's tag), any other tag stays as the
/// task's label.
pub fn read(
    stem: &str,
    source: &mut dyn Read,
    lenient: bool,
    progress: &Progress,
) -> Result<FileContents, Problem> {
    let mut experiment = RecordedExperiment::named(stem);
    let skipped = csv_rows::parse_rows(
        source,
        5..=5,
        lenient,
        progress,
        |row, chunk: &mut RecordedTasks| parse_row(row, stem, chunk),
        |chunk| {
            let offset = experiment.tasks.len() as u32;
            experiment.tasks.append(chunk, offset)
        },
    )?;
    name_tasks(&mut experiment, stem);
    experiment.tasks.forget_label_index();
    experiment.groups.push(LaneGroup::default());
    Ok(FileContents {
        experiments: vec![experiment],
        cores: None,
        run_bounds: None,
        skipped,
        notes: Vec::new(),
    })
}

/// Tags that are all `{stem}-{n}` need no labels (the plan calls them so); tags of one
/// other prefix (a renamed file) still say what ran (`process-fibo-3` is fib on
/// processes, input 3); any others are kept as each task's label.
fn name_tasks(experiment: &mut RecordedExperiment, stem: &str) {
    let tasks = &mut experiment.tasks;
    if tasks.as_slice().iter().all(|t| !t.has_label()) {
        experiment.tags = true;
        return;
    }
    let numbered = |label: &str| -> Option<(String, u64)> {
        let (prefix, n) = label.rsplit_once('-')?;
        Some((prefix.to_string(), n.parse().ok()?))
    };
    // Per distinct label, not per task: a million rows share few prefixes.
    let parsed: Vec<Option<(String, u64)>> = tasks.labels().iter().map(|l| numbered(l)).collect();
    let of = |task: &RecordedTask| RecordedTasks::label_number(task).map(|n| &parsed[n as usize]);
    let prefix = tasks
        .as_slice()
        .first()
        .and_then(of)
        .and_then(|p| p.as_ref().map(|(p, _)| p.clone()));
    let same_prefix = prefix.as_ref().is_some_and(|prefix| {
        tasks
            .as_slice()
            .iter()
            .all(|t| of(t).is_some_and(|p| p.as_ref().is_some_and(|(p, _)| p == prefix)))
    });
    if let (true, Some(prefix)) = (same_prefix, &prefix)
        && experiment.executor == crate::model::plan::ExecutorKind::Recorded
    {
        let (executor, workload) = super::kinds_from_name(prefix);
        experiment.executor = executor;
        experiment.workload = workload;
    }
    let mut unnamed = Vec::new();
    for (i, task) in tasks.as_mut_slice().iter_mut().enumerate() {
        match RecordedTasks::label_number(task).map(|n| &parsed[n as usize]) {
            None => unnamed.push(i),
            Some(Some((_, n))) if same_prefix => task.input = *n,
            Some(_) => task.input = u64::from(task.index),
        }
    }
    for i in unnamed {
        let input = tasks.as_slice()[i].input;
        tasks.set_label(i, &format!("{stem}-{input}"));
    }
}

fn parse_row(row: &Row<'_>, stem: &str, chunk: &mut RecordedTasks) -> Result<(), Problem> {
    let line = row.line;
    let text = row.text(0, "tag")?;
    let numbered: Option<u64> = text
        .strip_prefix(stem)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|n| n.parse().ok());
    let start = csv_rows::epoch_micros(row.text(1, "start_time")?, line, "start_time")?;
    let end = csv_rows::epoch_micros(row.text(2, "end_time")?, line, "end_time")?;
    if end < start {
        return Err(Problem::at(
            line,
            Some("end_time"),
            format!(
                "the end ({}) is before the start ({}): expected end_time ≥ start_time",
                row.text(2, "end_time")?.trim(),
                row.text(1, "start_time")?.trim()
            ),
        ));
    }
    // `elapsed` is end - start: checked to be a number, not trusted.
    let elapsed = row.text(3, "elapsed")?;
    if !elapsed.trim().is_empty() {
        csv_rows::seconds(elapsed, line, "elapsed")?;
    }
    let result = row.text(4, "result")?;
    let task = RecordedTask::new(
        chunk.len(),
        numbered.unwrap_or(0),
        0,
        (Some(start), Some(end)),
        false,
        None,
    );
    chunk.push(task, result, numbered.is_none().then_some(text))
}
