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

/// One row, before the experiment is put together.
struct PostRow {
    tag: Tag,
    start: u64,
    end: u64,
    result: String,
}

/// A row's tag: `{stem}-{n}` kept as its number (a million of them cost nothing), any other
/// as text.
enum Tag {
    Numbered(u64),
    Text(String),
}

impl Tag {
    /// The prefix and number of a `{prefix}-{n}` tag.
    fn split(&self) -> Option<(Option<&str>, u64)> {
        match self {
            Tag::Numbered(n) => Some((None, *n)),
            Tag::Text(text) => {
                let (p, n) = text.rsplit_once('-')?;
                Some((Some(p), n.parse().ok()?))
            }
        }
    }
}

/// Reads a post CSV (its header already recognised) as one experiment named `stem`.
pub fn read(
    stem: &str,
    bytes: &[u8],
    lenient: bool,
    progress: &Progress,
) -> Result<FileContents, Problem> {
    let (rows, skipped) =
        csv_rows::parse_rows(bytes, 5..=5, lenient, progress, |row| parse_row(row, stem))?;
    let mut experiment = RecordedExperiment::named(stem);
    // Tags are `{tag}-{i}`: one common prefix, and a number per row.
    let prefix = rows
        .first()
        .and_then(|r| r.tag.split())
        .map(|(p, _)| p.map(str::to_string));
    let numbered = |row: &PostRow| -> Option<u64> {
        let (p, n) = row.tag.split()?;
        (p == prefix.as_ref()?.as_deref()).then_some(n)
    };
    let all_numbered = rows.iter().all(|r| numbered(r).is_some());
    if let (Some(prefix), true) = (&prefix, all_numbered) {
        match prefix {
            None => experiment.tags = true,
            Some(prefix) if experiment.executor == crate::plan::ExecutorKind::Recorded => {
                // A renamed file: the tags still say what ran.
                let (executor, workload) = super::kinds_from_name(prefix);
                experiment.executor = executor;
                experiment.workload = workload;
            }
            Some(_) => {}
        }
    }
    experiment.groups.push(LaneGroup::default());
    experiment.tasks = rows
        .into_iter()
        .enumerate()
        .map(|(index, row)| {
            let input = if all_numbered {
                numbered(&row).unwrap_or(index as u64)
            } else {
                index as u64
            };
            RecordedTask {
                index,
                input,
                label: match row.tag {
                    _ if experiment.tags => None,
                    Tag::Text(text) => Some(text),
                    Tag::Numbered(n) => Some(format!("{stem}-{n}")),
                },
                group: 0,
                start: Some(row.start),
                end: Some(row.end),
                outcome: Ok(row.result),
                cpu_time: None,
            }
        })
        .collect();
    Ok(FileContents {
        experiments: vec![experiment],
        cores: None,
        skipped,
        notes: Vec::new(),
    })
}

fn parse_row(row: &Row<'_>, stem: &str) -> Result<Option<PostRow>, Problem> {
    let line = row.line;
    let text = row.text(0, "tag")?;
    let tag = match text
        .strip_prefix(stem)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|n| n.parse().ok())
    {
        Some(n) => Tag::Numbered(n),
        None => Tag::Text(text.to_string()),
    };
    let start = csv_rows::epoch_micros(row.text(1, "start_time")?, line, "start_time")?;
    let end = csv_rows::epoch_micros(row.text(2, "end_time")?, line, "end_time")?;
    // `elapsed` is end - start: checked to be a number, not trusted.
    let elapsed = row.text(3, "elapsed")?;
    if !elapsed.trim().is_empty() {
        csv_rows::seconds(elapsed, line, "elapsed")?;
    }
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
    Ok(Some(PostRow {
        tag,
        start,
        end,
        result: row.text(4, "result")?.to_string(),
    }))
}
