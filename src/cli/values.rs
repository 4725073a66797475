//! Flag values checked by hand, so every refusal names the flag, what was wrong and the
//! accepted form: lists of names, inputs and ranges, URLs, seconds, files and folders.

use std::path::PathBuf;
use std::time::Duration;

use super::{MAX_TASKS, OutDir, UsageError, usage};

/// A file to write must not be a folder, and the nearest existing folder above it must be
/// a folder (missing ones are created when it is written, as `--out`'s is).
pub(super) fn check_output_file(
    flag: &'static str,
    file: &std::path::Path,
) -> Result<(), UsageError> {
    let shown = file.display().to_string();
    if file.is_dir() {
        return Err(usage(flag, &shown, "is a directory; give a file name"));
    }
    let existing = file
        .ancestors()
        .skip(1)
        .find(|a| a.as_os_str().is_empty() || a.exists())
        .unwrap_or(std::path::Path::new("."));
    if !existing.as_os_str().is_empty() && !existing.is_dir() {
        return Err(usage(
            flag,
            &shown,
            format!(
                "{} is a file, not a folder; give another path",
                existing.display()
            ),
        ));
    }
    Ok(())
}

pub(super) fn out_dir(out: Option<PathBuf>) -> Result<OutDir, UsageError> {
    match out {
        Some(dir) => {
            if dir.exists() && !dir.is_dir() {
                return Err(usage(
                    "--out",
                    &dir.display().to_string(),
                    "exists and is not a directory; give a directory path",
                ));
            }
            Ok(OutDir::Fixed(dir))
        }
        None => Ok(OutDir::NewUnder(PathBuf::from("poolscope-runs"))),
    }
}

/// A comma-separated list of names, each known to `parse`; a name given twice is an error
/// (each experiment runs once per plan).
pub(super) fn parse_list<T: PartialEq>(
    flag: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
    accepted: &str,
) -> Result<Vec<T>, UsageError> {
    let mut items = Vec::new();
    for name in text.split(',').map(str::trim) {
        if name.is_empty() {
            continue;
        }
        let item = parse(&name.to_ascii_lowercase()).ok_or_else(|| {
            usage(
                flag,
                text,
                format!("unknown name '{name}'; expected a comma-separated list of {accepted}"),
            )
        })?;
        if items.contains(&item) {
            return Err(usage(
                flag,
                text,
                format!("'{name}' is listed twice; name each of {accepted} at most once"),
            ));
        }
        items.push(item);
    }
    if items.is_empty() {
        return Err(usage(
            flag,
            text,
            format!("empty; expected a comma-separated list of {accepted}"),
        ));
    }
    Ok(items)
}

/// Parses task inputs: `A..B` (B excluded), `A..=B` (B included), either with `:STEP`
/// (`default_step` when absent), a single number, or a comma-separated list.
pub fn parse_inputs(
    flag: &'static str,
    text: &str,
    default_step: u64,
    accepted: &str,
) -> Result<Vec<u64>, UsageError> {
    let bad = |problem: String| usage(flag, text, format!("{problem}; expected e.g. {accepted}"));
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| bad(format!("'{}' is not a whole number", s.trim())))
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad("empty".into()));
    }
    let inputs: Vec<u64> = if let Some((range, rest)) = trimmed.split_once("..") {
        let start = number(range)?;
        let (end_text, step_text) = match rest.split_once(':') {
            Some((end, step)) => (end, Some(step)),
            None => (rest, None),
        };
        let (end_text, inclusive) = match end_text.strip_prefix('=') {
            Some(end) => (end, true),
            None => (end_text, false),
        };
        let end = number(end_text)?;
        let step = match step_text {
            Some(s) => number(s)?,
            None => default_step,
        };
        if step == 0 {
            return Err(bad("the step must be at least 1".into()));
        }
        let end_exclusive = if inclusive {
            end.saturating_add(1)
        } else {
            end
        };
        if start >= end_exclusive {
            let which = if inclusive {
                "start is after end"
            } else {
                "start is not before end"
            };
            return Err(bad(format!("the range is empty ({which})")));
        }
        let count = (end_exclusive - start).div_ceil(step);
        if count > MAX_TASKS as u64 {
            return Err(bad(format!(
                "{count} inputs is too many (at most {MAX_TASKS})"
            )));
        }
        (start..end_exclusive).step_by(step as usize).collect()
    } else {
        trimmed
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(number)
            .collect::<Result<_, _>>()?
    };
    if inputs.is_empty() {
        return Err(bad("no inputs".into()));
    }
    if inputs.len() > MAX_TASKS {
        return Err(bad(format!(
            "{} inputs is too many (at most {MAX_TASKS})",
            inputs.len()
        )));
    }
    Ok(inputs)
}

pub(super) fn check_url(url: &str) -> Result<String, UsageError> {
    let accepted = "expected an http:// or https:// URL containing {ms}, e.g. 'http://127.0.0.1:8080/200?sleep={ms}'";
    if !url.contains("{ms}") {
        return Err(usage(
            "--url",
            url,
            format!("has no {{ms}} placeholder; {accepted}"),
        ));
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(usage(
            "--url",
            url,
            format!("is not an http(s) URL; {accepted}"),
        ));
    }
    Ok(url.to_string())
}

pub(super) fn parse_seconds(flag: &'static str, text: &str) -> Result<Duration, UsageError> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(usage(
            flag,
            text,
            "expected a number of seconds above 0 (at most 86400), e.g. 30 or 2.5",
        )),
    }
}
