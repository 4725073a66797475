//! The CSVs the post's Python script writes: `tag,start_time,end_time,elapsed,result`, a
//! row per task, times in epoch seconds, results as Python printed them (`b'200 OK'`).
//!
//! They say nothing about workers, so lanes are inferred later ([`super::build`]): tasks are
//! packed greedily, by start time, into the fewest lanes in which none overlap, as the
//! post's chart (one bar per task, ordered by start) suggests. The experiment is named
//! after the file; `process-fibo.csv` is known to be processes running fib, so the post's
//! speed-up lines come back too.

use super::csv_rows::{self, Row};
use super::{FileContents, LaneGroup, Problem, Progress, RecordedExperiment, RecordedTask};

/// The post's header, exactly.
pub const HEADER: &str = "tag,start_time,end_time,elapsed,result";

/// Reads a post CSV (its header already recognised) as one experiment named `stem`.
///
/// Rows are read straight into [`RecordedTask`]s (a million rows are not held twice): a tag
/// `{stem}-{n}` becomes input `n` with no label of its own (the plan calls such tasks by
/// the post's tag), any other tag stays as the task's label.
pub fn read(
    stem: &str,
    bytes: &[u8],
    lenient: bool,
    progress: &Progress,
) -> Result<FileContents, Problem> {
    let (mut tasks, skipped) =
        csv_rows::parse_rows(bytes, 5..=5, lenient, progress, |row| parse_row(row, stem))?;
    let mut experiment = RecordedExperiment::named(stem);
    for (index, task) in tasks.iter_mut().enumerate() {
        task.index = u32::try_from(index).unwrap_or(u32::MAX);
    }
    if tasks.iter().all(|t| t.label.is_none()) {
        experiment.tags = true;
    } else {
        // Tags of another name (a renamed file): `{prefix}-{n}` still says what ran.
        let numbered = |label: &str| -> Option<(String, u64)> {
            let (prefix, n) = label.rsplit_once('-')?;
            Some((prefix.to_string(), n.parse().ok()?))
        };
        let prefix = tasks
            .first()
            .and_then(|t| t.label.as_deref())
            .and_then(numbered)
            .map(|(p, _)| p);
        let same_prefix = prefix.as_ref().is_some_and(|prefix| {
            tasks.iter().all(|t| {
                t.label
                    .as_deref()
                    .and_then(numbered)
                    .is_some_and(|(p, _)| &p == prefix)
            })
        });
        if let (true, Some(prefix)) = (same_prefix, &prefix)
            && experiment.executor == crate::model::plan::ExecutorKind::Recorded
        {
            let (executor, workload) = super::kinds_from_name(prefix);
            experiment.executor = executor;
            experiment.workload = workload;
        }
        for task in &mut tasks {
            match task.label.as_deref().map(|l| (l, numbered(l))) {
                None => task.label = Some(format!("{stem}-{}", task.input).into_boxed_str()),
                Some((_, Some((_, n)))) if same_prefix => task.input = n,
                Some(_) => task.input = u64::from(task.index),
            }
        }
    }
    experiment.groups.push(LaneGroup::default());
    experiment.tasks = tasks;
    Ok(FileContents {
        experiments: vec![experiment],
        cores: None,
        skipped,
        notes: Vec::new(),
    })
}

fn parse_row(row: &Row<'_>, stem: &str) -> Result<Option<RecordedTask>, Problem> {
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
    Ok(Some(RecordedTask::new(
        0,
        numbered.unwrap_or(0),
        0,
        Some(start),
        Some(end),
        Ok(row.text(4, "result")?.to_string()),
        None,
        numbered.is_none().then(|| text.to_string()),
    )))
}
