//! Open-file limits: poolscope raises its own soft limit to the hard one at start, as
//! servers do, and pools budget descriptors (five per worker process: its three pipes and
//! the sampler's two files, one more for http; four per in-process http worker: both ends
//! of its connection to the embedded server and the sampler's files) so a big pool runs with the workers that fit instead of failing
//! tasks.
//!
//! Memory: big buffers are mapped on their own ([`map_big_allocations`]), so what poolscope
//! gives back (a file's rows once they became a timeline) goes back to the system at once.

/// Allocations from this size up get pages of their own.
const MAP_FROM: i32 = 256 << 10;

/// Makes the allocator map every allocation of [`MAP_FROM`] or more on its own, for good.
///
/// By default glibc raises that threshold each time a mapped block is freed (up to 32 MiB),
/// after which big vectors grow inside the heap: each doubling copies, and what is freed
/// in the middle of the heap stays with the process. Reading a million-event trace, that
/// was a quarter of its peak memory. Fixed, a vector that grows is remapped without a copy
/// and one that shrinks or is freed returns its pages at once.
pub fn map_big_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_FROM);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4 * MAP_FROM);
    }
}

/// Raises the soft open-files limit to the hard limit; returns the soft limit now in force
/// (`None` where it cannot be read).
pub fn raise_open_files() -> Option<u64> {
    // SAFETY: getrlimit/setrlimit read and write the rlimit struct we own.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        Some(limit.rlim_cur)
    }
}

/// The open-files soft limit in force.
pub fn open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the rlimit struct we own.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0).then_some(limit.rlim_cur)
}

/// Descriptors kept free for everything but worker pipes (the terminal, the delay
/// server's clients, export files, /proc reads).
pub const RESERVED_DESCRIPTORS: u64 = 64;

/// Descriptors one worker process holds open in poolscope: its three pipes, and the two
/// files the scheduler sampler reads it through.
pub const DESCRIPTORS_PER_WORKER_PROCESS: u64 = 5;

/// Descriptors one in-process http worker holds at once: its client socket, the embedded
/// delay server's end of it, and the sampler's two files.
pub const DESCRIPTORS_PER_HTTP_THREAD: u64 = 4;

/// What a worker process's http request adds in poolscope: the embedded server's end.
pub const DESCRIPTORS_PER_HTTP_PROCESS: u64 = 1;

/// How many more workers costing `per_worker` descriptors each fit under the open-files
/// limit now.
pub fn worker_budget(per_worker: u64) -> Option<usize> {
    let limit = open_files_limit()?;
    let open = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some((limit.saturating_sub(open + RESERVED_DESCRIPTORS) / per_worker.max(1)) as usize)
}
