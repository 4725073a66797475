//! Open-file limits: poolscope raises its own soft limit to the hard one at start, as
//! servers do, and the process executor budgets descriptors (five per worker process: its
//! stdin, stdout and stderr pipes, and the sampler's two files) so a big pool fits instead
//! of failing tasks.

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
pub const DESCRIPTORS_PER_WORKER: u64 = 5;

/// How many more worker processes fit under the open-files limit now.
pub fn worker_process_budget() -> Option<usize> {
    let limit = open_files_limit()?;
    let open = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some((limit.saturating_sub(open + RESERVED_DESCRIPTORS) / DESCRIPTORS_PER_WORKER) as usize)
}
