//! Task bars from an unmodified Python program: poolscope's `sitecustomize` hook, where it
//! goes, how the watched program finds it, and the records it sends back.
//!
//! The hook (`assets/watch/sitecustomize.py`, embedded here) is written to a private folder
//! that goes first on `PYTHONPATH`, so every Python process of the watched tree imports it
//! at start-up (fork, spawn or forkserver alike). It reports each task of a
//! `concurrent.futures` pool — submitted, started, ended — as one JSON line over a unix
//! stream socket in the same folder, one connection per thread, whose *path* it finds in
//! `POOLSCOPE_WATCH_SOCKET`: never an inherited descriptor number, which multiprocessing
//! closes and reuses. (A stream, not datagrams: the kernel queues only a few datagrams per
//! socket, and a burst of tiny tasks would lose records.)

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, Read};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The hook's source, as written next to the socket.
pub const HOOK_SOURCE: &str = include_str!("../../../assets/watch/sitecustomize.py");

/// The environment variable holding the socket's path.
pub const SOCKET_ENV: &str = "POOLSCOPE_WATCH_SOCKET";

/// The environment variable holding the hook's folder (so it can skip itself when it looks
/// for the `sitecustomize` it shadows).
pub const HOOK_DIR_ENV: &str = "POOLSCOPE_WATCH_HOOK_DIR";

/// The longest line a record may take (reprs are cut to 200 characters); longer lines are
/// not records and are skipped.
const MAX_RECORD: usize = 64 * 1024;

/// One task event the hook reported.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HookRecord {
    /// `submit`, `start` or `end`.
    #[serde(rename = "e")]
    pub event: HookEvent,
    /// `CLOCK_MONOTONIC` in nanoseconds (Python's `time.monotonic_ns()`), the clock
    /// poolscope's timestamps run on.
    #[serde(rename = "t")]
    pub monotonic_ns: u64,
    /// The reporting thread's CPU time in nanoseconds (`time.thread_time_ns()`), so a
    /// task's CPU time is its end's less its start's.
    #[serde(rename = "c", default)]
    pub cpu_ns: Option<u64>,
    /// The process that reported it.
    pub pid: u32,
    /// Its OS thread id (`threading.get_native_id()`).
    pub tid: u32,
    /// The pool: `<pid of the submitting process>:<the pool's number there>`.
    pub pool: String,
    /// `thread` or `process`.
    pub kind: PoolKind,
    /// The task's number within its pool, from 0 in submit order.
    pub task: u64,
    /// The function submitted (on `submit`).
    #[serde(default)]
    pub func: Option<String>,
    /// The argument's `repr`, cut to 200 characters (on `submit`).
    #[serde(default)]
    pub arg: Option<String>,
    /// The result's `repr`, cut (on an `end` that returned).
    #[serde(default)]
    pub result: Option<String>,
    /// The exception's `repr`, cut (on an `end` that raised).
    #[serde(default)]
    pub error: Option<String>,
    /// Python's name for the thread (on `start`): `ThreadPoolExecutor-0_3`.
    #[serde(default)]
    pub thread: Option<String>,
    /// How many records this process had to drop so far (poolscope fell behind).
    #[serde(default)]
    pub dropped: u64,
    /// The reporting process's parent (on its first record over a connection).
    #[serde(default)]
    pub ppid: Option<u32>,
    /// The reporting process's command line (`sys.orig_argv`, on its first record over a
    /// connection): who it was, should it exit before poolscope reads the record.
    #[serde(default)]
    pub argv: Option<Vec<String>>,
}

/// What the readers hand the session: a record, or that a process's connection closed
/// (the thread or process exited, or closed it): nothing more will come over that one (a
/// process has a connection per thread that reported).
#[derive(Debug, Clone)]
pub enum HookMessage {
    /// One record.
    Record(Box<HookRecord>),
    /// A connection ended; the pid its records named, if it sent any.
    Closed {
        /// The process that reported over it.
        pid: Option<u32>,
    },
}

/// What happened to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookEvent {
    /// Handed to the pool.
    Submit,
    /// Began running, on `pid`/`tid`.
    Start,
    /// Returned or raised.
    End,
}

/// Which kind of pool ran a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolKind {
    /// A `ThreadPoolExecutor`.
    Thread,
    /// A `ProcessPoolExecutor`.
    Process,
}

/// The hook, installed: its folder (removed when this is dropped) and the socket it
/// connects to.
#[derive(Debug)]
pub struct PythonHook {
    dir: tempfile::TempDir,
    listener: UnixListener,
}

impl PythonHook {
    /// Writes the hook into a new private folder and opens the socket it reports to.
    pub fn install() -> std::io::Result<PythonHook> {
        let dir = tempfile::Builder::new()
            .prefix("poolscope-watch-")
            .tempdir()?;
        std::fs::write(dir.path().join("sitecustomize.py"), HOOK_SOURCE)?;
        let listener = UnixListener::bind(dir.path().join("events.sock"))?;
        Ok(PythonHook { dir, listener })
    }

    /// The folder the hook is in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The socket's path.
    pub fn socket_path(&self) -> PathBuf {
        self.dir.path().join("events.sock")
    }

    /// The environment a Python program needs to load the hook: its folder first on
    /// `PYTHONPATH` (before `existing`, the program's own), and where to report.
    pub fn environment(&self, existing: Option<&OsStr>) -> Vec<(OsString, OsString)> {
        let mut path = OsString::from(self.dir.path());
        if let Some(existing) = existing.filter(|e| !e.is_empty()) {
            path.push(":");
            path.push(existing);
        }
        vec![
            ("PYTHONPATH".into(), path),
            (SOCKET_ENV.into(), self.socket_path().into_os_string()),
            (HOOK_DIR_ENV.into(), self.dir.path().as_os_str().to_owned()),
        ]
    }

    /// Accepts the watched processes' connections on a thread of its own and reads each on
    /// another, handing every record to `deliver` until it returns false, then that the
    /// connection closed. Lines that are not records are skipped (the folder is private,
    /// but a program may write anything).
    pub fn spawn_readers(
        &self,
        deliver: impl Fn(HookMessage) -> bool + Send + Sync + 'static,
    ) -> std::io::Result<()> {
        let listener = self.listener.try_clone()?;
        let deliver = std::sync::Arc::new(deliver);
        std::thread::Builder::new()
            .name("poolscope-hook".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let stream = match stream {
                        Ok(stream) => stream,
                        // Out of descriptors for a moment (a connection per thread of
                        // every watched process): the next one is taken once some close.
                        Err(_) => {
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            continue;
                        }
                    };
                    let deliver = deliver.clone();
                    let _ = std::thread::Builder::new()
                        .name("poolscope-hook-conn".into())
                        .spawn(move || {
                            let mut reader = std::io::BufReader::new(stream);
                            let mut line = Vec::new();
                            let mut pid = None;
                            loop {
                                line.clear();
                                match reader
                                    .by_ref()
                                    .take(MAX_RECORD as u64)
                                    .read_until(b'\n', &mut line)
                                {
                                    Ok(0) | Err(_) => break,
                                    Ok(_) => {}
                                }
                                // A line the connection's end cut (a send timed out before
                                // its newline) is sent again whole on a new connection.
                                if !line.ends_with(b"\n") {
                                    continue;
                                }
                                if let Some(record) = parse_record(&line) {
                                    pid = Some(record.pid);
                                    if !deliver(HookMessage::Record(Box::new(record))) {
                                        return;
                                    }
                                }
                            }
                            deliver(HookMessage::Closed { pid });
                        });
                }
            })?;
        Ok(())
    }
}

/// Parses one line the hook sent.
pub fn parse_record(bytes: &[u8]) -> Option<HookRecord> {
    serde_json::from_slice(bytes.trim_ascii_end()).ok()
}

/// Whether `argv` runs Python: its program is `python`, `python3`, `python3.11`, … (by its
/// file name), or a script whose first line names a Python interpreter.
pub fn is_python(argv: &[OsString]) -> bool {
    let Some(program) = argv.first() else {
        return false;
    };
    let named_python = |p: &OsStr| {
        Path::new(p)
            .file_name()
            .and_then(OsStr::to_str)
            .is_some_and(|n| n.starts_with("python") || n.starts_with("pypy"))
    };
    if named_python(program) {
        return true;
    }
    // A script run directly: `#!/usr/bin/env python3`, `#!/usr/bin/python3 -u`.
    let Ok(text) = std::fs::read(program) else {
        return false;
    };
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    first.starts_with("#!")
        && first[2..]
            .split_whitespace()
            .any(|word| named_python(OsStr::new(word)))
}

/// Why a Python command line will not load the hook, if it will not: `-I` (isolated), `-E`
/// (ignores `PYTHONPATH`) or `-S` (no `site`, so no `sitecustomize`), alone or among other
/// one-letter flags (`-IS`, `-uE`), before the script or `-c`/`-m`.
pub fn hook_disabled_by(argv: &[OsString]) -> Option<String> {
    for arg in argv.iter().skip(1).map(|a| a.to_string_lossy()) {
        if arg == "--" || !arg.starts_with('-') || arg == "-" {
            return None;
        }
        if arg.starts_with("--") {
            continue;
        }
        let flags = &arg[1..];
        for flag in flags.chars() {
            let why = match flag {
                'I' => "-I (isolated mode ignores PYTHONPATH)",
                'E' => "-E (ignores PYTHON* variables, PYTHONPATH among them)",
                'S' => "-S (does not import site, so no sitecustomize)",
                // -c and -m take the rest of the word or the next argument: the program.
                'c' | 'm' | 'W' | 'X' => return None,
                _ => continue,
            };
            return Some(format!(
                "python runs with {why}: no task bars, only threads and their waits"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn records_parse() {
        let record = parse_record(
            br#"{"e":"submit","t":12,"pid":3,"tid":4,"pool":"3:99","kind":"process","task":0,"func":"fib","arg":"34"}"#,
        )
        .unwrap();
        assert_eq!(record.event, HookEvent::Submit);
        assert_eq!(record.kind, PoolKind::Process);
        assert_eq!(record.func.as_deref(), Some("fib"));
        let end = parse_record(
            br#"{"e":"end","t":13,"pid":5,"tid":6,"pool":"3:99","kind":"process","task":0,"error":"ValueError('x')","dropped":2}"#,
        )
        .unwrap();
        assert_eq!(end.error.as_deref(), Some("ValueError('x')"));
        assert_eq!(end.dropped, 2);
        assert!(parse_record(b"not json").is_none());
    }

    #[test]
    fn python_is_known_by_name() {
        assert!(is_python(&argv(&["python3", "x.py"])));
        assert!(is_python(&argv(&["/usr/bin/python3.11", "-m", "x"])));
        assert!(!is_python(&argv(&["cargo", "run"])));
        assert!(!is_python(&argv(&[])));
    }

    #[test]
    fn python_is_known_by_its_shebang() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("tool");
        std::fs::write(&script, "#!/usr/bin/env python3\nprint(1)\n").unwrap();
        assert!(is_python(&[script.into_os_string()]));
        let shell = dir.path().join("sh-tool");
        std::fs::write(&shell, "#!/bin/sh\necho\n").unwrap();
        assert!(!is_python(&[shell.into_os_string()]));
    }

    #[test]
    fn isolating_flags_are_named() {
        assert!(
            hook_disabled_by(&argv(&["python3", "-I", "x.py"])).is_some_and(|w| w.contains("-I"))
        );
        assert!(
            hook_disabled_by(&argv(&["python3", "-uE", "x.py"])).is_some_and(|w| w.contains("-E"))
        );
        assert!(
            hook_disabled_by(&argv(&["python3", "-S", "-c", "1"]))
                .is_some_and(|w| w.contains("-S"))
        );
        assert_eq!(
            hook_disabled_by(&argv(&["python3", "x.py", "-I"])),
            None,
            "the script's own"
        );
        assert_eq!(
            hook_disabled_by(&argv(&["python3", "-c", "import sys", "-S"])),
            None
        );
        assert_eq!(hook_disabled_by(&argv(&["python3", "-u", "x.py"])), None);
    }

    #[test]
    fn the_environment_puts_the_hook_first() {
        let hook = PythonHook::install().unwrap();
        let env = hook.environment(Some(OsStr::new("/mine")));
        let path = &env.iter().find(|(k, _)| k == "PYTHONPATH").unwrap().1;
        assert_eq!(
            path.to_string_lossy(),
            format!("{}:/mine", hook.dir().display())
        );
        assert!(hook.dir().join("sitecustomize.py").is_file());
    }
}
