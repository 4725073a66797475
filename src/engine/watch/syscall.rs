//! Why a blocked thread waits, from the system call it sleeps in
//! (`/proc/<pid>/task/<tid>/syscall`): on I/O, in a sleep, on a lock — or, in CPython,
//! for the GIL.
//!
//! CPython (3.8–3.13) waits for the GIL in a *timed* futex wait (`FUTEX_WAIT_BITSET_PRIVATE`
//! with a timeout: its condition variable's `pthread_cond_timedwait`, which it must wake from
//! every switch interval to ask the holder to drop the lock) on an address inside the
//! interpreter's `_PyRuntime`, where the GIL's state lives; `Lock.acquire`, `Event.wait` and
//! `join` wait on semaphores or condition variables on the heap. So a futex wait is the GIL
//! when it is timed and its address falls inside `_PyRuntime`, found from the ELF symbol of
//! the interpreter (the executable, or the `libpython` it maps).
//!
//! Where `syscall` cannot be read (attaching to a process poolscope did not start, under
//! Yama's `ptrace_scope=1`), the kernel function the thread sleeps in (`wchan`) tells I/O,
//! sleep and lock apart, but not the GIL from a lock.

use std::ops::Range;

/// What a thread that is not running is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wait {
    /// Reading, writing, polling: a file, a pipe, a socket.
    Io,
    /// A timed sleep (`nanosleep`, `clock_nanosleep`).
    Sleep,
    /// A lock, a condition, a join: a futex.
    Lock,
    /// CPython's GIL.
    Gil,
    /// Anything else (waiting for a child, a page fault, …).
    Other,
}

/// `futex`'s command bits (the op without the private and clock flags).
const FUTEX_CMD_MASK: u64 = 0x7f;
const FUTEX_WAIT: u64 = 0;
const FUTEX_WAIT_BITSET: u64 = 9;

/// Reads a `syscall` file's text: `None` if the thread is running (or not in a syscall,
/// `-1 …`), else the syscall number and its six arguments.
pub fn parse(text: &str) -> Option<(i64, [u64; 6])> {
    let mut words = text.split_whitespace();
    let nr: i64 = words.next()?.parse().ok()?;
    if nr < 0 {
        return None;
    }
    let mut args = [0u64; 6];
    for arg in &mut args {
        let word = words.next()?;
        *arg = u64::from_str_radix(word.trim_start_matches("0x"), 16).ok()?;
    }
    Some((nr, args))
}

/// What a thread in syscall `nr` with `args` waits for; `gil` is the interpreter's
/// `_PyRuntime` in the thread's process, when it is CPython.
pub fn classify(nr: i64, args: [u64; 6], gil: Option<&Range<u64>>) -> Wait {
    if nr == libc::SYS_futex {
        let cmd = args[1] & FUTEX_CMD_MASK;
        let timed = args[3] != 0;
        let waiting = cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET;
        return match gil {
            Some(runtime) if waiting && timed && runtime.contains(&args[0]) => Wait::Gil,
            _ => Wait::Lock,
        };
    }
    if is_sleep(nr) {
        Wait::Sleep
    } else if is_io(nr) {
        Wait::Io
    } else if is_lock(nr) {
        Wait::Lock
    } else {
        Wait::Other
    }
}

fn is_sleep(nr: i64) -> bool {
    #[cfg(target_arch = "x86_64")]
    if nr == libc::SYS_pause {
        return true;
    }
    nr == libc::SYS_nanosleep || nr == libc::SYS_clock_nanosleep
}

fn is_lock(nr: i64) -> bool {
    nr == libc::SYS_futex_waitv || nr == libc::SYS_semtimedop
}

fn is_io(nr: i64) -> bool {
    #[cfg(target_arch = "x86_64")]
    if [
        libc::SYS_poll,
        libc::SYS_select,
        libc::SYS_epoll_wait,
        libc::SYS_accept,
    ]
    .contains(&nr)
    {
        return true;
    }
    [
        libc::SYS_read,
        libc::SYS_readv,
        libc::SYS_pread64,
        libc::SYS_preadv,
        libc::SYS_preadv2,
        libc::SYS_write,
        libc::SYS_writev,
        libc::SYS_pwrite64,
        libc::SYS_recvfrom,
        libc::SYS_recvmsg,
        libc::SYS_recvmmsg,
        libc::SYS_sendto,
        libc::SYS_sendmsg,
        libc::SYS_sendmmsg,
        libc::SYS_ppoll,
        libc::SYS_pselect6,
        libc::SYS_epoll_pwait,
        libc::SYS_epoll_pwait2,
        libc::SYS_accept4,
        libc::SYS_connect,
        libc::SYS_io_getevents,
        libc::SYS_io_uring_enter,
        libc::SYS_openat,
        libc::SYS_fsync,
        libc::SYS_fdatasync,
        libc::SYS_sendfile,
        libc::SYS_splice,
    ]
    .contains(&nr)
}

/// What a thread waits for, from the kernel function it sleeps in (`wchan`): the fallback
/// where `syscall` cannot be read. The GIL cannot be told from a lock this way.
pub fn classify_wchan(wchan: &str) -> Wait {
    let w = wchan.trim();
    if w.contains("futex") {
        Wait::Lock
    } else if w.contains("nanosleep") || w == "do_nanosleep" {
        Wait::Sleep
    } else if [
        "pipe_read",
        "pipe_write",
        "ep_poll",
        "do_select",
        "do_sys_poll",
        "unix_stream",
        "sk_wait",
        "wait_woken",
        "tcp_",
        "inet_csk_accept",
        "io_schedule",
        "wait_on_page",
        "folio_wait",
        "n_tty_read",
        "wait_for_completion",
    ]
    .iter()
    .any(|k| w.contains(k))
    {
        Wait::Io
    } else {
        Wait::Other
    }
}

/// Where `_PyRuntime` lies in process `pid`, if it runs CPython: its ELF symbol in the
/// executable or a mapped `libpython`, moved by the file's load address.
pub fn python_runtime(pid: u32) -> Option<Range<u64>> {
    Runtimes::default().find(pid)
}

/// `_PyRuntime` found per interpreter file, so each process of a pool costs a read of its
/// `maps`, not of the interpreter's binary (megabytes).
#[derive(Debug, Default)]
pub struct Runtimes {
    files: std::collections::HashMap<String, Option<RuntimeSymbol>>,
}

/// The symbol in its file: its address and size, and the file's loadable segments (file
/// offset, address) that place it once the file's load address is known.
#[derive(Debug, Clone)]
struct RuntimeSymbol {
    address: u64,
    size: u64,
    segments: Vec<(u64, u64)>,
}

impl Runtimes {
    /// Where `_PyRuntime` lies in process `pid`, if it runs CPython.
    pub fn find(&mut self, pid: u32) -> Option<Range<u64>> {
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
        for (path, start, offset) in interpreter_mappings(&maps) {
            let symbol = self
                .files
                .entry(path.clone())
                .or_insert_with(|| std::fs::read(&path).ok().and_then(|b| symbol_in(&b)));
            if let Some(range) = symbol.as_ref().and_then(|s| s.placed(start, offset)) {
                return Some(range);
            }
        }
        None
    }
}

/// Each Python interpreter file (`python3.11`, `libpython3.11.so.1.0`) mapped in `maps`,
/// with its lowest mapping's start and the file offset it maps.
fn interpreter_mappings(maps: &str) -> Vec<(String, u64, u64)> {
    let mut files: Vec<(String, u64, u64)> = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(_perms), Some(offset), Some(_dev), Some(_inode), Some(path)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let name = std::path::Path::new(path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        if !(name.starts_with("python") || name.starts_with("libpython")) {
            continue;
        }
        let Some(start) = range
            .split_once('-')
            .and_then(|(a, _)| u64::from_str_radix(a, 16).ok())
        else {
            continue;
        };
        let Ok(offset) = u64::from_str_radix(offset, 16) else {
            continue;
        };
        if !files.iter().any(|(p, ..)| p == path) {
            files.push((path.to_string(), start, offset));
        }
    }
    files
}

/// `_PyRuntime`'s symbol in an ELF file's bytes.
fn symbol_in(bytes: &[u8]) -> Option<RuntimeSymbol> {
    use object::{Object, ObjectSegment, ObjectSymbol};
    let file = object::File::parse(bytes).ok()?;
    let symbol = file
        .dynamic_symbols()
        .chain(file.symbols())
        .find(|s| s.name() == Ok("_PyRuntime"))?;
    Some(RuntimeSymbol {
        address: symbol.address(),
        size: symbol.size().max(1),
        segments: file
            .segments()
            .map(|seg| (seg.file_range().0, seg.address()))
            .collect(),
    })
}

impl RuntimeSymbol {
    /// Where the symbol lies once the file's mapping of offset `offset` starts at `start`.
    fn placed(&self, start: u64, offset: u64) -> Option<Range<u64>> {
        // The segment that holds `offset` in the file was loaded at `start`.
        let base_vaddr = self
            .segments
            .iter()
            .filter(|(file_off, _)| *file_off <= offset)
            .map(|(file_off, vaddr)| vaddr.wrapping_sub(*file_off).wrapping_add(offset))
            .min()
            .unwrap_or(offset);
        let bias = start.checked_sub(base_vaddr)?;
        let from = self.address.checked_add(bias)?;
        Some(from..from + self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_lines_parse() {
        assert_eq!(parse("running\n"), None);
        assert_eq!(parse("-1 0x7ffc 0x7f00\n"), None);
        let (nr, args) =
            parse("202 0x7f10aaf4e6f0 0x89 0x0 0x7f10a9a7aae0 0x0 0xffffffff 0x7f 0x7f\n").unwrap();
        assert_eq!(nr, 202);
        assert_eq!(args[0], 0x7f10aaf4e6f0);
        assert_eq!(args[1], 0x89);
        assert_eq!(args[3], 0x7f10a9a7aae0);
    }

    #[test]
    fn futex_waits_are_the_gil_only_when_timed_inside_the_runtime() {
        let runtime = 0x7f10aa000000..0x7f10ab000000;
        let gil = [0x7f10aaf4e6f0, 0x89, 0, 0x7f10a9a7aae0, 0, 0xffffffff];
        assert_eq!(classify(libc::SYS_futex, gil, Some(&runtime)), Wait::Gil);
        let lock = [0x5618b22dc0e0, 0x189, 0, 0, 0, 0xffffffff];
        assert_eq!(classify(libc::SYS_futex, lock, Some(&runtime)), Wait::Lock);
        let timed_lock = [0x5618b22dc0e0, 0x189, 0, 0x7ffe0000, 0, 0xffffffff];
        assert_eq!(
            classify(libc::SYS_futex, timed_lock, Some(&runtime)),
            Wait::Lock
        );
        assert_eq!(
            classify(libc::SYS_futex, gil, None),
            Wait::Lock,
            "not Python"
        );
    }

    #[test]
    fn sleeps_io_and_the_rest() {
        assert_eq!(
            classify(libc::SYS_clock_nanosleep, [0; 6], None),
            Wait::Sleep
        );
        assert_eq!(classify(libc::SYS_read, [0; 6], None), Wait::Io);
        assert_eq!(classify(libc::SYS_ppoll, [0; 6], None), Wait::Io);
        assert_eq!(classify(libc::SYS_wait4, [0; 6], None), Wait::Other);
        assert_eq!(classify_wchan("futex_wait_queue"), Wait::Lock);
        assert_eq!(classify_wchan("hrtimer_nanosleep"), Wait::Sleep);
        assert_eq!(classify_wchan("pipe_read"), Wait::Io);
        assert_eq!(classify_wchan("0"), Wait::Other);
    }
}
