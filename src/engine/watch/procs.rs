//! The watched process tree, as `/proc` shows it: who descends from whom, each process's
//! name and command line, each thread's id and `comm`, and whether poolscope may look.
//!
//! A command poolscope starts is watched with poolscope as a child subreaper, so a
//! grandchild that daemonises (its parent exits) is reparented to poolscope instead of to
//! init and stays in the tree.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

/// One process of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its id.
    pub pid: u32,
    /// Its parent's id.
    pub ppid: u32,
    /// Its `comm` (the kernel's 15-character name).
    pub comm: String,
    /// Its command line, if readable (empty for a zombie or a kernel thread).
    pub cmdline: Vec<String>,
}

impl ProcessInfo {
    /// `1234 python3 prog.py 8`: the pid and the command line (or `comm`), for a panel's
    /// title. (Shown through [`crate::model::display`] like any text from outside.)
    ///
    /// Paths are shortened to their file names (`python3 post.py`, not the full path), and
    /// code given with `-c` to what names it (multiprocessing's `spawn_main`,
    /// `resource_tracker`, `forkserver`) or its first words: a panel's title has little
    /// room, and the pid tells processes apart.
    pub fn title(&self) -> String {
        if self.cmdline.is_empty() {
            return format!("{} {}", self.pid, self.comm);
        }
        let base = |word: &str| {
            std::path::Path::new(word)
                .file_name()
                .map_or_else(|| word.to_string(), |n| n.to_string_lossy().into_owned())
        };
        let mut words = vec![self.pid.to_string(), base(&self.cmdline[0])];
        let mut args = self.cmdline[1..].iter();
        while let Some(arg) = args.next() {
            if arg == "-c" {
                words.push(arg.clone());
                if let Some(code) = args.next() {
                    words.push(short_code(code));
                }
            } else if arg.contains('/') && !arg.starts_with('-') && !arg.contains("://") {
                words.push(base(arg));
            } else {
                words.push(arg.clone());
            }
        }
        words.join(" ")
    }
}

/// Code run with `-c`, in a few words: multiprocessing's helpers by name, the rest cut.
fn short_code(code: &str) -> String {
    for name in [
        "spawn_main",
        "forkserver",
        "resource_tracker",
        "semaphore_tracker",
    ] {
        if code.contains(name) {
            return format!("…{name}…");
        }
    }
    let mut short: String = code.chars().take(24).collect();
    if short.len() < code.len() {
        short.push('…');
    }
    short
}

/// Reads process `pid`'s `stat` and `cmdline`.
pub fn read_process(pid: u32) -> io::Result<ProcessInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let (comm, rest) = split_stat(&stat)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable stat"))?;
    // After `comm`: state, ppid, …
    let ppid = rest
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| {
            bytes
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    Ok(ProcessInfo {
        pid,
        ppid,
        comm: comm.to_string(),
        cmdline,
    })
}

/// `(comm, the fields after it)` of a `stat` line; `comm` may hold spaces and parentheses,
/// so it ends at the *last* `)`.
pub fn split_stat(stat: &str) -> Option<(&str, &str)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    Some((stat.get(open + 1..close)?, stat.get(close + 1..)?))
}

/// The thread ids of process `pid`, in order.
pub fn threads(pid: u32) -> io::Result<Vec<u32>> {
    let mut tids: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/task"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// Thread `tid`'s name (`comm`), if it still exists.
pub fn thread_comm(pid: u32, tid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
        .ok()
        .map(|c| c.trim_end_matches('\n').to_string())
}

/// Every process on the machine and its parent, read once.
fn parents() -> BTreeMap<u32, u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    entries
        .filter_map(|e| {
            let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (_, rest) = split_stat(&stat)?;
            let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

/// `root` and every process that descends from it, in order of pid.
pub fn tree(root: u32) -> BTreeSet<u32> {
    let parents = parents();
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (&pid, &ppid) in &parents {
        children.entry(ppid).or_default().push(pid);
    }
    let mut found = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if found.insert(pid) {
            stack.extend(children.get(&pid).into_iter().flatten());
        }
    }
    found.retain(|pid| parents.contains_key(pid));
    found
}

/// Makes poolscope a child subreaper: orphans of the processes it starts are reparented to
/// it, so they stay in the watched tree (and are reaped by it).
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes one integer argument.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Why process `pid` cannot be watched, in words for the user, if it cannot.
pub fn check_watchable(pid: u32) -> Result<ProcessInfo, String> {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return Err("/proc is not readable here: watch needs Linux's /proc".into());
    }
    let info = match read_process(pid) {
        Ok(info) => info,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!(
                "no process {pid}: it does not exist (or has exited)"
            ));
        }
        Err(e) => return Err(format!("process {pid} cannot be read: {e}")),
    };
    // Scheduler statistics of another user's threads are readable, but what they wait
    // for is not: refuse rather than draw half a picture.
    let uid = |path: String| -> Option<u32> {
        std::fs::read_to_string(path).ok()?.lines().find_map(|l| {
            l.strip_prefix("Uid:")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
    };
    let (theirs, ours) = (
        uid(format!("/proc/{pid}/status")),
        uid("/proc/self/status".into()),
    );
    if let (Some(theirs), Some(ours)) = (theirs, ours)
        && ours != 0
        && theirs != ours
    {
        return Err(format!(
            "process {pid} ({}) belongs to another user (uid {theirs}): watch only processes you own",
            info.comm
        ));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_names_may_hold_spaces_and_parentheses() {
        let (comm, rest) = split_stat("42 (a (b) c) S 1 42 42 0").unwrap();
        assert_eq!(comm, "a (b) c");
        assert_eq!(rest.split_whitespace().nth(1), Some("1"));
    }

    #[test]
    fn this_process_is_in_its_own_tree_with_its_children() {
        let me = std::process::id();
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let tree = tree(me);
        let _ = child.kill();
        let _ = child.wait();
        assert!(tree.contains(&me));
        assert!(tree.contains(&child.id()), "{tree:?}");
        let info = read_process(me).unwrap();
        assert!(!info.cmdline.is_empty());
        assert!(info.title().starts_with(&format!("{me} ")));
        assert!(threads(me).unwrap().contains(&me));
        assert!(thread_comm(me, me).is_some());
    }

    #[test]
    fn a_missing_process_is_said_plainly() {
        let err = check_watchable(u32::MAX - 1).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        assert!(check_watchable(std::process::id()).is_ok());
    }
}
