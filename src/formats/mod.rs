//! Recorded timings in and pictures out: the files `poolscope view` opens, and the chart
//! exports that are not poolscope's own CSVs.
//!
//! In: poolscope's CSVs (with their `-samples.csv`), the post's five-column CSVs, and Chrome
//! Trace Event JSON (`ray timeline`, viztracer, poolscope's own trace). Each importer reads a
//! file into [`RecordedExperiment`]s, plain rows with no terminal and no timeline in them;
//! [`build`] turns those into the very [`Event`](crate::model::event::Event)s a live run streams and
//! applies them to a [`Timeline`], so the view, the summary and every export cannot tell a
//! file from a run.
//!
//! A run's own `summary.json`, beside its CSVs, gives back the panel order and the figures
//! the run reported ([`saved`]), so a reopened run reads as it did.
//!
//! Out: poolscope's CSVs, samples and `summary.json` ([`export`]), a Chrome trace
//! ([`chrome_trace::export`]), an SVG picture ([`svg`]) and the chart as text ([`text`]),
//! each from a `Timeline` alone, written atomically to the paths they are given.
//!
//! Files are read a block at a time, never whole, into compact rows ([`recorded`]): a CSV
//! in blocks parsed in parallel chunks ([`csv_rows`]), a trace through a streaming scanner
//! whose events are parsed in parallel batches ([`chrome_trace`]).
//!
//! Bad input is an [`ImportError`] naming the file, the line (and column where known) and
//! what was expected; with `lenient`, bad rows are skipped and counted instead. Importers
//! never panic on arbitrary bytes (a proptest in `tests/suite/formats.rs` feeds them some).

pub mod build;
pub mod chrome_trace;
pub mod csv_rows;
pub mod export;
pub mod files;
pub mod names;
pub mod poolscope_csv;
pub mod post_csv;
pub mod recorded;
pub mod saved;
pub mod svg;
pub mod text;
pub mod watch;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub use recorded::{LaneGroup, RecordedExperiment, RecordedTask, RecordedTasks, kinds_from_name};

use crate::model::plan::Plan;
use crate::model::timeline::Timeline;

/// What went wrong reading a file: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, where known.
    pub line: Option<u64>,
    /// Where on the line: a CSV column's name, or a JSON column number.
    pub column: Option<String>,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column {column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ImportError {}

/// Where in a file a problem is, before the file's name is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, where known.
    pub line: Option<u64>,
    /// The column, where known.
    pub column: Option<String>,
    /// What was wrong and what was expected.
    pub message: String,
}

impl Problem {
    /// A problem at `line`.
    pub fn at(line: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        Problem {
            line: Some(line),
            column: column.map(str::to_string),
            message: message.into(),
        }
    }

    /// A problem with the whole file.
    pub fn whole(message: impl Into<String>) -> Self {
        Problem {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn in_file(self, file: &Path) -> ImportError {
        ImportError {
            file: file.to_path_buf(),
            line: self.line,
            column: self.column,
            message: self.message,
        }
    }
}

/// Bad rows skipped under `--lenient`: how many, and the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// How many rows (or trace events) were skipped.
    pub count: usize,
    /// The first one skipped, and why.
    pub first: Option<Problem>,
}

impl Skipped {
    /// Notes one more bad row.
    pub fn add(&mut self, problem: Problem) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(problem);
        }
    }

    /// Either skips the row (lenient) or stops with its problem.
    pub fn skip_or_fail(&mut self, lenient: bool, problem: Problem) -> Result<(), Problem> {
        if lenient {
            self.add(problem);
            Ok(())
        } else {
            Err(problem)
        }
    }
}

/// What one file held.
#[derive(Debug, Clone, Default)]
pub struct FileContents {
    /// Its experiments.
    pub experiments: Vec<RecordedExperiment>,
    /// CPUs of the machine it was recorded on, when it says (poolscope's summary.json).
    pub cores: Option<usize>,
    /// When the run started and finished (epoch µs), when it says: a run begins before its
    /// first task (the pools are built first), and a reopened run keeps its own bounds.
    pub run_bounds: Option<(u64, Option<u64>)>,
    /// Rows skipped (`--lenient`).
    pub skipped: Skipped,
    /// Things worth telling the user ("ignored 12 instant events").
    pub notes: Vec<String>,
}

/// The kinds of file `poolscope view` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A CSV written by poolscope.
    PoolscopeCsv,
    /// A CSV written by the post's Python script.
    PostCsv,
    /// Chrome Trace Event JSON.
    ChromeTrace,
}

/// What the first line of a CSV must be, for the messages.
const EXPECTED_KINDS: &str = "expected a poolscope CSV (header tag,start_time,end_time,elapsed,result,experiment,…), \
     the post's CSV (header tag,start_time,end_time,elapsed,result) or a Chrome trace (JSON)";

/// Tells a file's kind from its first bytes.
pub fn detect(bytes: &[u8]) -> Result<FileKind, Problem> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(Problem::whole(format!(
            "the file is empty: {EXPECTED_KINDS}"
        )));
    };
    if matches!(text[first], b'{' | b'[') {
        return Ok(FileKind::ChromeTrace);
    }
    let line_end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let header = String::from_utf8_lossy(&text[..line_end]);
    let header = header.trim_end_matches('\r');
    if header == post_csv::HEADER {
        Ok(FileKind::PostCsv)
    } else if header.starts_with(poolscope_csv::REQUIRED_HEADER) {
        Ok(FileKind::PoolscopeCsv)
    } else if header.starts_with(crate::formats::export::SAMPLES_HEADER_V1) {
        Err(Problem::at(
            1,
            None,
            "this is a samples file: open its experiment's CSV (the samples are read with it)",
        ))
    } else {
        Err(Problem::at(
            1,
            None,
            format!(
                "unknown header '{}': {EXPECTED_KINDS}",
                crate::model::display::shorten(header, 80)
            ),
        ))
    }
}

/// How reading goes, for the view's loading screen.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes of all files together.
    pub total: AtomicU64,
    /// Bytes parsed so far.
    pub done: AtomicU64,
}

impl Progress {
    /// Parsed share, 0..=1.
    pub fn fraction(&self) -> f64 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            0.0
        } else {
            (self.done.load(Ordering::Relaxed) as f64 / total as f64).min(1.0)
        }
    }

    pub(crate) fn advance(&self, bytes: usize) {
        self.done.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// Files read into one run: its plan (one experiment per panel) and its timeline.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The experiments, as a plan (nothing in it can run again).
    pub plan: Plan,
    /// Everything the files recorded.
    pub timeline: Timeline,
    /// One line per file with rows skipped (`--lenient`), and other notes.
    pub notes: Vec<String>,
}

/// Reads `files` (several at once, in parallel) into one recording. The first bad file
/// stops it, unless `lenient`, when bad rows are skipped and counted in the notes. Files
/// are read a block at a time: a file never sits in memory whole.
pub fn load(
    files: &[PathBuf],
    lenient: bool,
    progress: &Progress,
) -> Result<Recording, ImportError> {
    use rayon::prelude::*;
    // A watched program's folder is read as a whole: its files are its own kind.
    if let [dir] = files
        && dir.is_dir()
        && watch::is_watch_folder(dir)
    {
        return watch::read_folder(dir);
    }
    let files = &expand(files)?;
    let mut opened = Vec::with_capacity(files.len());
    let mut total = 0u64;
    for file in files {
        let cannot_read = |e: std::io::Error| {
            Problem::whole(match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied: cannot read it".to_string()
                }
                _ => format!("cannot read it: {e}"),
            })
            .in_file(file)
        };
        let opened_file = std::fs::File::open(file).map_err(cannot_read)?;
        let metadata = opened_file.metadata().map_err(cannot_read)?;
        if metadata.is_dir() {
            return Err(Problem::whole("this is a folder: give the files in it").in_file(file));
        }
        total += metadata.len();
        opened.push(opened_file);
    }
    progress.total.store(total, Ordering::Relaxed);
    let read: Vec<Result<FileContents, ImportError>> = files
        .par_iter()
        .zip(opened.into_par_iter())
        .map(|(file, mut opened)| read_from(file, &mut opened, lenient, progress))
        .collect();
    let mut contents = Vec::with_capacity(files.len());
    for result in read {
        contents.push(result?);
    }
    let mut notes = Vec::new();
    for (file, content) in files.iter().zip(&mut contents) {
        if content.skipped.count > 0 {
            let first = content.skipped.first.clone().map(|p| p.in_file(file));
            notes.push(format!(
                "{}: skipped {} bad row{}; the first: {}",
                file.display(),
                content.skipped.count,
                if content.skipped.count == 1 { "" } else { "s" },
                first.map_or_else(String::new, |f| f.to_string())
            ));
        }
        for note in content.notes.drain(..) {
            notes.push(format!("{}: {note}", file.display()));
        }
    }
    let (plan, timeline) = build::recording(contents);
    Ok(Recording {
        plan,
        timeline,
        notes,
    })
}

/// The files to read for `paths`: a folder stands for the run in it (an `--out` folder,
/// a `run-N` folder of an `E` export): the CSVs its `summary.json` lists, in the run's
/// order, or else its CSVs and traces; a samples file is read with its experiment's CSV
/// (it is dropped from the list when that CSV is in it, so `view DIR/*.csv` works).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ImportError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(run_folder(path)?);
        } else {
            files.push(path.clone());
        }
    }
    let is_samples = |f: &Path| f.to_string_lossy().ends_with(export::SAMPLES_SUFFIX);
    let partner = |f: &Path| {
        let name = f.file_name()?.to_string_lossy().into_owned();
        let stem = name.strip_suffix(export::SAMPLES_SUFFIX)?;
        Some(f.with_file_name(format!("{stem}.csv")))
    };
    let listed: Vec<PathBuf> = files.clone();
    files.retain(|f| !is_samples(f) || !partner(f).is_some_and(|p| listed.contains(&p)));
    let mut seen = Vec::new();
    files.retain(|f| {
        let new = !seen.contains(f);
        seen.push(f.clone());
        new
    });
    Ok(files)
}

/// The recorded files of a run's folder, in the run's order.
fn run_folder(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let problem = |message: String| Problem::whole(message).in_file(dir);
    let entries =
        std::fs::read_dir(dir).map_err(|e| problem(format!("cannot read this folder: {e}")))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let csv = |n: &String| n.ends_with(".csv") && !n.ends_with(export::SAMPLES_SUFFIX);
    // The run's own list: its summary.json names the experiments, in order.
    if let Some(saved) = saved::beside(&dir.join(export::SUMMARY_FILE)) {
        let listed: Vec<PathBuf> = saved
            .experiments
            .iter()
            .map(|e| e.file.clone().unwrap_or_else(|| format!("{}.csv", e.name)))
            .filter(|n| names.contains(n))
            .map(|n| dir.join(n))
            .collect();
        if !listed.is_empty() {
            return Ok(listed);
        }
    }
    let mut found: Vec<PathBuf> = names
        .iter()
        .filter(|n| csv(n))
        .map(|n| dir.join(n))
        .collect();
    if found.is_empty() {
        found = names
            .iter()
            .filter(|n| {
                n.ends_with(".json") && *n != export::SUMMARY_FILE && *n != export::STATS_FILE
            })
            .map(|n| dir.join(n))
            .collect();
    }
    if found.is_empty() {
        let runs: Vec<&String> = names
            .iter()
            .filter(|n| n.starts_with("run-") && dir.join(n).is_dir())
            .collect();
        return Err(problem(match runs.as_slice() {
            [] => "no recorded files in this folder: expected poolscope's CSVs and summary.json, \
                   the post's CSVs, or a trace (.json)"
                .to_string(),
            [first, ..] => format!(
                "this folder holds {} runs ({}): open one, like poolscope view {}",
                runs.len(),
                runs.iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                dir.join(first).display()
            ),
        }));
    }
    Ok(found)
}

/// Reads one file of any kind from its bytes.
pub fn read_file(
    file: &Path,
    bytes: &[u8],
    lenient: bool,
    progress: &Progress,
) -> Result<FileContents, ImportError> {
    read_from(file, &mut &bytes[..], lenient, progress)
}

/// How much of a file's start is read to tell its kind.
const HEAD: usize = 64 << 10;

/// Reads one file of any kind from `source`, a block at a time.
pub fn read_from(
    file: &Path,
    source: &mut dyn Read,
    lenient: bool,
    progress: &Progress,
) -> Result<FileContents, ImportError> {
    // Enough of the start to tell the kind: the first line, or (past leading blanks) the
    // first character of JSON.
    let mut head = Vec::new();
    loop {
        let mut block = [0u8; 8192];
        let n = match source.read(&mut block) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Problem::whole(format!("cannot read it: {e}")).in_file(file)),
        };
        head.extend_from_slice(&block[..n]);
        let content = head.iter().any(|b| !b.is_ascii_whitespace());
        if n == 0 || (content && (head.contains(&b'\n') || head.len() >= HEAD)) {
            break;
        }
    }
    let kind = detect(&head).map_err(|p| p.in_file(file))?;
    let stem = file.file_stem().map_or_else(
        || "recording".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let mut source = (&head[..]).chain(source);
    let mut contents = match kind {
        FileKind::PostCsv => {
            post_csv::read(&stem, &mut source, lenient, progress).map_err(|p| p.in_file(file))?
        }
        FileKind::PoolscopeCsv => poolscope_csv::read(file, &mut source, lenient, progress)?,
        FileKind::ChromeTrace => chrome_trace::read(&stem, &mut source, lenient, progress)
            .map_err(|p| p.in_file(file))?,
    };
    // CSVs of one folder are one run (the post's four files, a poolscope export); each
    // trace is its own.
    let source = match kind {
        FileKind::ChromeTrace => file.display().to_string(),
        _ => file
            .parent()
            .map_or_else(String::new, |p| p.display().to_string()),
    };
    for experiment in &mut contents.experiments {
        experiment.source = source.clone();
    }
    if contents.experiments.iter().all(|e| e.tasks.is_empty()) {
        return Err(Problem::whole(match kind {
            FileKind::ChromeTrace => {
                "no tasks in it: expected complete (\"ph\": \"X\") or begin/end (\"B\"/\"E\") events"
            }
            _ => "no rows under the header: expected a row per task",
        })
        .in_file(file));
    }
    Ok(contents)
}
