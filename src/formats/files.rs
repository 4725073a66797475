//! Where and how files are written: names from outside made plain file names, and a set
//! of files replaced atomically as one (every export: a run's, a watch's).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;

/// A name from outside (an experiment's, a pool's) as a plain file stem that stays in its
/// folder: names come from files too (a trace's process name, a CSV's `experiment`
/// column), and `../x`, `/etc/x` or a name holding control characters must not choose
/// where poolscope writes. Letters, digits,
/// `-`, `_` and `.` stay; anything else becomes `_`; a leading `.` becomes `_` (no hidden
/// files, no `..`); at most 100 characters; empty becomes `experiment`.
pub fn plain_stem(name: &str) -> String {
    let mut stem: String = name
        .chars()
        .take(100)
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.starts_with('.') {
        stem.replace_range(..1, "_");
    }
    if stem.is_empty() {
        stem.push_str("experiment");
    }
    stem
}

/// Each of `names` as a plain file stem ([`plain_stem`]), with `-2`, `-3` where two would
/// share a file: `files_of(stem)` names the files a stem takes, none of which may be taken
/// already or be one of `reserved`.
pub fn unique_stems<'a>(
    names: impl IntoIterator<Item = &'a str>,
    files_of: impl Fn(&str) -> Vec<String>,
    reserved: &[&str],
) -> Vec<String> {
    let mut taken: std::collections::HashSet<String> =
        reserved.iter().map(|r| r.to_string()).collect();
    names
        .into_iter()
        .map(|name| {
            let base = plain_stem(name);
            let stem = std::iter::once(base.clone())
                .chain((2..).map(|n| format!("{base}-{n}")))
                .find(|stem| files_of(stem).iter().all(|f| !taken.contains(f)))
                .expect("a free stem");
            taken.extend(files_of(&stem));
            stem
        })
        .collect()
}

/// Whether `name` is one [`plain_stem`] could have given (its `-2` suffix included), so a
/// file name read back from a `summary.json` stays in its folder: not empty, no leading `.`,
/// only letters, digits, `-`, `_` and `.`.
pub fn is_plain(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// An earlier export's `summary.json` (or any JSON file), if it is there and reads.
pub fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Writes `files` (names in `dir`, and their bytes, made one at a time so a big export
/// never holds them all) into `dir` (created if missing) as one consistent set: each to a
/// synced temporary file first, all renamed once all are complete; then the files of
/// `stale` (an earlier export's, there) that this set did not write are removed, and the
/// folder synced. A failure before the renames leaves `dir` as it was. Returns the paths
/// written.
pub fn write_set(
    dir: &Path,
    files: impl IntoIterator<Item = anyhow::Result<(String, Vec<u8>)>>,
    stale: Vec<PathBuf>,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the output directory {}", dir.display()))?;
    let failing = test_failure_switch();
    let mut staged = Vec::new();
    for file in files {
        let (name, bytes) = file?;
        staged.push(stage(&dir.join(name), &bytes)?);
        if failing {
            anyhow::bail!(
                "writing into {} failed midway (the POOLSCOPE_TEST_FAIL_EXPORTS test switch)",
                dir.display()
            );
        }
    }
    test_delay();
    let mut written = Vec::new();
    for (file, path) in staged {
        file.persist(&path)
            .with_context(|| format!("renaming into {}", path.display()))?;
        written.push(path);
    }
    for path in stale.into_iter().filter(|p| !written.contains(p)) {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("removing {} of an earlier export", path.display()));
            }
        }
    }
    sync_dir(dir)?;
    Ok(written)
}

/// Hidden test switch: `POOLSCOPE_TEST_FAIL_EXPORTS=N` makes the first N exports of this
/// process fail midway (after one file is complete), as a full disk would, so tests can
/// check that nothing half-written is left and that the next export works. Tests run as
/// root, which read-only modes do not stop.
pub(super) fn test_failure_switch() -> bool {
    static EXPORTS: AtomicUsize = AtomicUsize::new(0);
    let failing = std::env::var("POOLSCOPE_TEST_FAIL_EXPORTS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    failing > 0 && EXPORTS.fetch_add(1, Ordering::SeqCst) < failing
}

/// Hidden test switch: `POOLSCOPE_TEST_EXPORT_DELAY_MS=N` holds every export N ms between
/// writing its files and renaming them, as a slow disk would, so tests can signal
/// poolscope while an export is under way.
pub(super) fn test_delay() {
    if let Some(ms) = std::env::var("POOLSCOPE_TEST_EXPORT_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Writes `bytes` to a synced temporary file beside `path`, to be renamed over it.
pub(super) fn stage(
    path: &Path,
    bytes: &[u8],
) -> anyhow::Result<(tempfile::NamedTempFile, PathBuf)> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".poolscope-")
        .suffix(".tmp")
        // The mode is given to open(2), which takes the umask off, as for any file the
        // user writes (tempfile's own default is 0600).
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok((file, path.to_path_buf()))
}

/// Makes the renames in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing the folder {}", dir.display()))
}

/// The CSV file stems an earlier export's `summary.json` lists under `key` (each entry's
/// `file`; with `name_before_file`, an entry without one gives its `name`, as exports
/// wrote before `file` existed): the files poolscope itself wrote there, so the only ones
/// a new export may remove. Only plain stems: never a path reaching outside the folder.
/// None if there is no summary or it cannot be read.
pub fn listed_csv_stems(summary: &Path, key: &str, name_before_file: bool) -> Vec<String> {
    let Some(json) = read_json(summary) else {
        return Vec::new();
    };
    json[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| match e["file"].as_str() {
            Some(file) => file.strip_suffix(".csv").map(String::from),
            None if name_before_file => e["name"].as_str().map(String::from),
            None => None,
        })
        .filter(|stem| is_plain(stem))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_share_a_file_get_a_number() {
        let csv = |s: &str| vec![format!("{s}.csv")];
        assert_eq!(
            unique_stems(
                ["a/b", "a_b", "x", "watch-samples"],
                csv,
                &["watch-samples.csv"]
            ),
            ["a_b", "a_b-2", "x", "watch-samples-2"]
        );
    }

    #[test]
    fn every_name_plain_stem_gives_reads_back_as_plain_and_nothing_else_does() {
        let long = "f".repeat(150);
        for name in [
            "Foo.csv",
            "../x",
            "/etc/x",
            "\u{1b}]0;x\u{7}",
            "",
            ".hidden",
            &long,
        ] {
            let stem = plain_stem(name);
            // As exports write it: a repeat gets `-2`, then `.csv`, even past 100 characters.
            for file in [format!("{stem}.csv"), format!("{stem}-2.csv")] {
                assert!(is_plain(&file), "{file:?} from {name:?}");
            }
        }
        for bad in ["../x.csv", "a/b.csv", ".x.csv", "", "x\u{1b}.csv"] {
            assert!(!is_plain(bad), "{bad:?}");
        }
    }
}
