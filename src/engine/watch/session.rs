//! A watch session: start the command (or attach to a pid), follow its process tree, sample
//! every thread, turn the Python hook's records into task events, and stream it all as the
//! same [`Event`]s a run of a plan streams, on a thread of its own.
//!
//! One experiment per process of the tree (in the order they appear), one lane per thread
//! (named from its `comm`), one task per pool task (on the lane of the thread that ran it).
//! The tree is rescanned every [`SCAN_EVERY`]; a hook record from a process not seen yet
//! adds it at once (from what the record says of it, if it has exited since: a pool's
//! worker may live a fraction of a second). Each thread reports over a connection of its
//! own, so a worker's start may be read before its submit: it waits for it. Every experiment starts at the watch's start, so all panels share one
//! time axis.
//!
//! Stopping: a command poolscope started gets SIGTERM (or the signal poolscope itself got),
//! then SIGKILL after [`KILL_AFTER`], with what is left of its tree; a process attached to
//! with `--pid` is never signalled, only no longer watched.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs::File;
use std::ops::Range;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::order::Reorder;
use super::procs;
use super::python::{self, HookEvent, HookMessage, HookRecord, PoolKind, PythonHook};
use super::syscall::Runtimes;
use super::thread::{WatchedThread, WhySource};
use crate::engine::cancel::{CancelToken, Canceller};
use crate::engine::delay_server::DelayServer;
use crate::engine::runner::RunHandle;
use crate::engine::sampler::{self, CostMeter};
use crate::model::clock::{self, Timestamp};
use crate::model::event::{
    Event, PoolInfo, PoolTask, RunOutcome, SampleEvent, SamplerNotice, TaskEvent, TaskEventKind,
    WorkerId,
};
use crate::model::plan::{ExecutorKind, ExperimentPlan};

/// How often the process tree and each process's threads are looked for anew.
pub const SCAN_EVERY: Duration = Duration::from_millis(200);
/// How long a command that was asked to stop has before it is killed.
pub const KILL_AFTER: Duration = Duration::from_secs(2);
/// After the program ended, how long no hook record may come before the watch ends.
const DRAIN_QUIET: Duration = Duration::from_millis(200);
/// And how long the hook's last records are waited for at most.
const DRAIN_AT_MOST: Duration = Duration::from_secs(2);
/// The environment variable that gives the watched program the delay server's address
/// (`--serve`): `http://127.0.0.1:PORT`, to which it adds `/200?sleep=MS`.
pub const DELAY_URL_ENV: &str = "POOLSCOPE_DELAY_URL";

/// What to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Start this command line and watch it.
    Command(Vec<OsString>),
    /// Watch this running process (and what it starts from now on).
    Pid(u32),
}

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// What.
    pub target: Target,
    /// Load the Python hook even if the command does not look like Python (`--python`).
    pub python: bool,
    /// Start the delay server for the program (`--serve`).
    pub serve: bool,
    /// Where the command's stdout and stderr go.
    pub log: PathBuf,
    /// How often every thread is read (`--sample-ms`); widened past 1 % of a core.
    pub sample_interval: Duration,
    /// Stop watching after this long (`--duration`).
    pub duration: Option<Duration>,
}

/// A watch under way.
#[derive(Debug)]
pub struct Watch {
    /// Its events (the run's stream), and a way to stop it: cancelling stops a started
    /// command (SIGTERM, then SIGKILL) or stops watching an attached pid.
    pub run: RunHandle,
    /// What the user should know before anything shows (the hook disabled, …).
    pub notes: Vec<String>,
    /// The command's log file, if poolscope started one.
    pub log: Option<PathBuf>,
    /// The signal a stop sends a started command first (SIGTERM unless set).
    stop_signal: Arc<AtomicI32>,
}

impl Watch {
    /// Stops the watch: a started command gets `signal` (then SIGKILL after 2 s); an
    /// attached pid is only no longer watched.
    pub fn stop_with(&self, signal: i32) {
        self.stop_signal.store(signal, Ordering::SeqCst);
        self.run.cancel();
    }
}

/// Why a watch cannot begin, in words for the user: poolscope exits 2 with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchError(pub String);

impl std::fmt::Display for WatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WatchError {}

fn fail(text: impl Into<String>) -> WatchError {
    WatchError(text.into())
}

/// Starts watching. Must be called from a thread that lives as long as poolscope (the
/// main thread): a started command is told to die with it (`PR_SET_PDEATHSIG`), which the
/// kernel ties to the thread that started it.
pub fn start(options: &WatchOptions) -> Result<Watch, WatchError> {
    if !Path::new("/proc/self/stat").exists() {
        return Err(fail(
            "/proc is not readable here: watch reads every thread's state from Linux's /proc",
        ));
    }
    sampler::check_available().map_err(|why| {
        fail(format!(
            "the kernel's per-thread scheduler statistics cannot be read ({why})"
        ))
    })?;
    let clock = clock::ClockAnchor::for_new_run();
    let origin = Timestamp::now();
    let (events_tx, events) = crossbeam_channel::unbounded();
    let (records_tx, records) = crossbeam_channel::unbounded();
    let mut notes = Vec::new();
    let mut hook = None;
    let mut server = None;
    let (root, child, log) = match &options.target {
        Target::Pid(pid) => {
            let info = procs::check_watchable(*pid).map_err(fail)?;
            if *pid == std::process::id() {
                return Err(fail("poolscope cannot watch itself"));
            }
            let _ = info;
            (*pid, None, None)
        }
        Target::Command(argv) => {
            let Some(program) = argv.first() else {
                return Err(fail("no command to run: give it after --, or --pid PID"));
            };
            let _ = procs::become_subreaper();
            let mut command = Command::new(program);
            command.args(&argv[1..]);
            let python = options.python || python::is_python(argv);
            if python {
                if let Some(why) = python::hook_disabled_by(argv) {
                    notes.push(why);
                } else {
                    let installed = PythonHook::install()
                        .map_err(|e| fail(format!("cannot set up the Python hook: {e}")))?;
                    let tx = records_tx.clone();
                    installed
                        .spawn_readers(move |record| tx.send(record).is_ok())
                        .map_err(|e| fail(format!("cannot set up the Python hook: {e}")))?;
                    for (key, value) in
                        installed.environment(std::env::var_os("PYTHONPATH").as_deref())
                    {
                        command.env(key, value);
                    }
                    hook = Some(installed);
                }
            }
            if options.serve {
                let started = DelayServer::start(0)
                    .map_err(|e| fail(format!("--serve: cannot start the delay server: {e:#}")))?;
                command.env(DELAY_URL_ENV, format!("http://{}", started.addr()));
                server = Some(started);
            }
            let log = open_log(&options.log)?;
            let log_err = log
                .try_clone()
                .map_err(|e| fail(format!("--log {}: {e}", options.log.display())))?;
            command
                .stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(log_err));
            // SAFETY: between fork and exec the child only makes two system calls that are
            // async-signal-safe (setsid, prctl) and touches no memory of ours.
            unsafe {
                command.pre_exec(|| {
                    // A session of its own: no terminal to write to or read from, and its
                    // process group is signalled as one.
                    libc::setsid();
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0);
                    Ok(())
                });
            }
            let child = command.spawn().map_err(|e| {
                let shown = program.to_string_lossy();
                match e.kind() {
                    std::io::ErrorKind::NotFound => fail(format!(
                        "cannot start {shown}: no such program (not found on PATH)"
                    )),
                    std::io::ErrorKind::PermissionDenied => {
                        fail(format!("cannot start {shown}: permission denied"))
                    }
                    _ => fail(format!("cannot start {shown}: {e}")),
                }
            })?;
            (child.id(), Some(child), Some(options.log.clone()))
        }
    };
    drop(records_tx);
    let canceller = Canceller::new();
    let stop_signal = Arc::new(AtomicI32::new(libc::SIGTERM));
    let mut session = Session {
        events: events_tx,
        cancel: canceller.token(),
        records,
        root,
        command: match &options.target {
            Target::Command(argv) => Some(
                argv.iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect(),
            ),
            _ => None,
        },
        child,
        origin,
        stop_signal: stop_signal.clone(),
        no_syscall: std::env::var_os("POOLSCOPE_TEST_NO_SYSCALL").is_some(),
        procs: Vec::new(),
        by_pid: HashMap::new(),
        outside: HashSet::new(),
        new_pids: NewPids::new(),
        listed: 0,
        runtimes: Runtimes::default(),
        pools: HashMap::new(),
        pool_names: HashMap::new(),
        submitted: HashMap::new(),
        running: HashMap::new(),
        order: Reorder::new(),
        introduced: HashMap::new(),
        said: HashSet::new(),
        most_threads: 0,
        open_threads: 0,
        fd_budget: crate::engine::limits::open_files_limit()
            .map_or(usize::MAX, |l| (l / 2) as usize),
        program_exited: false,
        samples: Vec::new(),
    };
    let _ = session.events.send(Event::RunStarted {
        at: origin,
        cores: clock::available_cores(),
        experiments: 0,
    });
    for note in &notes {
        let _ = session.events.send(Event::Notice {
            at: origin,
            text: note.clone(),
        });
    }
    // The root at once, so its first threads are sampled from the start.
    session.add_process(root);
    let interval = options.sample_interval;
    let duration = options.duration;
    let thread = std::thread::Builder::new()
        .name("poolscope-watch".into())
        .spawn(move || {
            session.run(interval, duration);
            drop(hook);
            drop(server);
            drop(clock);
        })
        .map_err(|e| fail(format!("cannot start the watch thread: {e}")))?;
    Ok(Watch {
        run: RunHandle::from_parts(events, canceller, thread),
        notes,
        log,
        stop_signal,
    })
}

/// Opens (creates, truncates) the command's log file.
fn open_log(path: &Path) -> Result<File, WatchError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("--log {}: {e}", path.display())))?;
    }
    File::create(path).map_err(|e| fail(format!("--log {}: cannot write it: {e}", path.display())))
}

/// One process of the tree.
struct Proc {
    pid: u32,
    ppid: u32,
    /// Its `comm` when last seen: a change means it called `exec`.
    comm: String,
    /// Its program (`/proc/<pid>/exe`) when last seen: a change means `exec` too, where
    /// the name stays (pyenv's `python3` shim, a bash script, runs the real `python3`).
    exe: Option<PathBuf>,
    /// Its panel's name (pid and command line) as last sent.
    title: String,
    experiment: usize,
    threads: Vec<Lane>,
    by_tid: HashMap<u32, usize>,
    /// Thread scans since it was found (names are re-read on the first few: a new
    /// thread names itself after it starts).
    scans: u32,
    /// Its thread count when its threads were last listed.
    threads_seen: u32,
    runtime: Option<Range<u64>>,
    /// Looks for `_PyRuntime` so far, and when the next may be made.
    runtime_looks: u32,
    runtime_next: Instant,
    /// Tasks added to its experiment so far.
    tasks: usize,
    ended: bool,
    /// For a process found only by its hook records after it exited: its last record's
    /// time, where its panel ends (a process seen alive ends when a scan finds it gone).
    exited_by: Option<Timestamp>,
    /// When poolscope first saw it.
    found: Timestamp,
}

/// One thread: its lane, its name, and its sampler (none once it ended, or where files
/// ran short).
struct Lane {
    worker: WorkerId,
    name: String,
    /// Whether it took Python's name for it.
    python_named: bool,
    sampler: Option<WatchedThread>,
}

/// What a process said of itself with its first hook record.
struct Introduced {
    ppid: Option<u32>,
    argv: Vec<String>,
}

/// A running pool task: where it runs, and the thread's CPU clock at its start.
struct RunningTask {
    experiment: usize,
    task: usize,
    worker: WorkerId,
    input: u64,
    cpu_ns: Option<u64>,
}

struct Session {
    events: Sender<Event>,
    cancel: CancelToken,
    records: Receiver<HookMessage>,
    root: u32,
    /// The command line poolscope started, if it started one: the root's name while its
    /// own cannot be read (it ended, or is between `fork` and `exec`).
    command: Option<Vec<String>>,
    child: Option<Child>,
    origin: Timestamp,
    stop_signal: Arc<AtomicI32>,
    no_syscall: bool,
    procs: Vec<Proc>,
    by_pid: HashMap<u32, usize>,
    /// Processes seen outside the tree (forgotten once gone, so a reused pid is looked at
    /// again).
    outside: HashSet<u32>,
    /// Where new processes are found.
    new_pids: NewPids,
    /// How many processes the last listing of `/proc` held.
    listed: u32,
    runtimes: Runtimes,
    /// The hook's pool ids → pool index.
    pools: HashMap<String, usize>,
    /// Pool names given so far, with how many times.
    pool_names: HashMap<String, usize>,
    /// Submitted tasks: (pool id, number) → (function, argument).
    submitted: HashMap<(String, u64), (String, String)>,
    running: HashMap<(String, u64), RunningTask>,
    /// The hook's records put back in the order they happened (a start read before its
    /// submit, which came over another connection, waits for it).
    order: Reorder,
    /// What each reporting process said of itself with its first record: its parent and
    /// command line, for a process that exited before poolscope read its records.
    introduced: HashMap<u32, Introduced>,
    /// One-time notices said.
    said: HashSet<&'static str>,
    most_threads: usize,
    open_threads: usize,
    /// How many threads may be sampled (three files each, half the open-files limit).
    fd_budget: usize,
    program_exited: bool,
    samples: Vec<SampleEvent>,
}

impl Session {
    fn send(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn say_once(&mut self, key: &'static str, text: String) {
        if self.said.insert(key) {
            self.send(Event::Notice {
                at: Timestamp::now(),
                text,
            });
        }
    }

    fn run(&mut self, interval: Duration, duration: Option<Duration>) {
        let mut meter = CostMeter::new(interval);
        let started = Instant::now();
        let mut next_tick = Instant::now();
        let mut next_scan = Instant::now();
        let records = self.records.clone();
        // Once asked to stop: when, and when the command is killed if still there.
        let mut stopping: Option<Instant> = None;
        let mut kill_at: Option<Instant> = None;
        let mut outcome = RunOutcome::Completed;
        let mut cancel_seen = false;
        loop {
            // One wait a round, woken at once by a cancel: the hook's records are taken
            // in rounds too (each carries its own time).
            let wait = next_tick.saturating_duration_since(Instant::now());
            let cancelled =
                !wait.is_zero() && self.cancel.sleep(wait) || self.cancel.is_cancelled();
            for message in records.try_iter() {
                self.on_message(message);
            }
            self.apply_released(false);
            if cancelled && !cancel_seen {
                cancel_seen = true;
                outcome = RunOutcome::Cancelled;
                if self.child.is_none() {
                    break; // an attached pid: just stop watching
                }
                self.signal_command(self.stop_signal.load(Ordering::SeqCst));
                stopping = Some(Instant::now());
                kill_at = Some(Instant::now() + KILL_AFTER);
            }
            let now = Instant::now();
            if now < next_tick && !cancelled {
                continue;
            }
            if cancel_seen && now < next_tick {
                // Cancelled: the token no longer waits, so pace the rounds by hand.
                std::thread::sleep(next_tick - now);
            }
            let now = Instant::now();
            if now >= next_scan {
                self.scan_tree();
                next_scan = now + SCAN_EVERY;
            }
            self.sample_all();
            if let Some(widened) = meter.after_round() {
                self.send(Event::Sampler(SamplerNotice::Interval {
                    interval_ms: widened.as_millis() as u64,
                    widened: true,
                }));
            }
            self.reap();
            next_tick = now + meter.interval();
            if kill_at.is_some_and(|at| now >= at) {
                self.kill_command();
                kill_at = None;
            }
            if duration.is_some_and(|d| started.elapsed() >= d) && stopping.is_none() {
                if self.child.is_none() {
                    break; // --pid --duration: the watch is over, the process goes on
                }
                // A started command past --duration is stopped as a quit stops it.
                self.signal_command(libc::SIGTERM);
                stopping = Some(now);
                kill_at = Some(now + KILL_AFTER);
            }
            if self.all_gone() {
                break;
            }
            // Killed and still not gone (a process stuck in the kernel): stop waiting.
            if stopping.is_some_and(|at| now >= at + 2 * KILL_AFTER) {
                break;
            }
        }
        let stopped = Timestamp::now();
        // Judged now, not after the wait below (time with little to read): a watch under a
        // window is not judged, start-up being most of what was measured.
        let cost = meter.measured_a_window().then(|| meter.settled_cost());
        // The hook's last records may still be on their way (a reader thread per connection
        // reads what an exited process wrote): take them until none came for a moment.
        let drain_until = Instant::now() + DRAIN_AT_MOST;
        while let Ok(message) = records.recv_timeout(DRAIN_QUIET) {
            self.on_message(message);
            if Instant::now() >= drain_until {
                break;
            }
        }
        self.apply_released(true);
        self.finish(outcome, (&meter, cost), interval, stopped);
    }

    /// Whether nothing is left to watch: the root has ended, and every process found.
    fn all_gone(&self) -> bool {
        let root_done = match &self.child {
            Some(_) => self.program_exited,
            None => !Path::new(&format!("/proc/{}", self.root)).exists(),
        };
        // One found after it exited ends when its connection closes, or as the watch ends.
        root_done && self.procs.iter().all(|p| p.ended || p.exited_by.is_some())
    }

    /// Last readings of every thread, every process still open ended, the sampler's cost,
    /// and the run's end.
    /// `stopped`: when the watch stopped watching (before the hook's last records were
    /// waited for), the run's end.
    /// `cost`: what sampling cost, judged when the watch stopped (None under a window).
    fn finish(
        &mut self,
        outcome: RunOutcome,
        (meter, cost): (&CostMeter, Option<f64>),
        asked: Duration,
        stopped: Timestamp,
    ) {
        let mut last = stopped;
        for index in 0..self.procs.len() {
            if !self.procs[index].ended {
                // One first seen while the hook's last records were taken ends now, not
                // before it was seen.
                let at = if self.procs[index].found > stopped {
                    Timestamp::now()
                } else {
                    stopped
                };
                last = last.max(self.end_process(index, at));
            }
        }
        self.reap();
        if let Some(share) = cost {
            self.send(Event::Sampler(SamplerNotice::Cost {
                share,
                threads: self.most_threads,
                interval_ms: meter.interval().as_millis() as u64,
                asked_ms: asked.as_millis() as u64,
            }));
        }
        self.send(Event::RunFinished { at: last, outcome });
    }

    /// Sends `signal` to the started command's process group and to every process of its
    /// tree (never to anything else, never to an attached pid).
    fn signal_command(&mut self, signal: i32) {
        let Some(child) = &self.child else { return };
        if self.program_exited && self.procs.iter().all(|p| p.ended) {
            return;
        }
        let root = child.id() as i32;
        // SAFETY: kill takes a pid and a signal number; a negative pid names the process
        // group the command leads (it called setsid).
        unsafe {
            if !self.program_exited {
                libc::kill(-root, signal);
                libc::kill(root, signal);
            }
            // Never one found after it exited: its pid may be another process's now.
            for p in self
                .procs
                .iter()
                .filter(|p| !p.ended && p.exited_by.is_none() && p.pid != self.root)
            {
                libc::kill(p.pid as i32, signal);
            }
        }
    }

    /// SIGKILL to what is left of a started command's tree.
    fn kill_command(&mut self) {
        self.scan_tree();
        self.signal_command(libc::SIGKILL);
    }

    /// Reaps the started command (its status becomes [`Event::ProgramExited`]) and any
    /// orphan of its tree that was handed to poolscope (a child subreaper) and has ended.
    fn reap(&mut self) {
        if let Some(child) = &mut self.child
            && !self.program_exited
            && let Ok(Some(status)) = child.try_wait()
        {
            self.program_exited = true;
            self.send(Event::ProgramExited {
                at: Timestamp::now(),
                code: status.code(),
                signal: status.signal(),
            });
            if let Some(&index) = self.by_pid.get(&self.root)
                && !self.procs[index].ended
            {
                self.end_process(index, Timestamp::now());
            }
        }
        if self.child.is_none() {
            return;
        }
        let me = std::process::id();
        for p in self
            .procs
            .iter()
            .filter(|p| p.ppid == me && p.pid != self.root)
        {
            let mut status = 0;
            // SAFETY: waitpid on a pid that is our child (reparented to us), not blocking.
            unsafe {
                libc::waitpid(p.pid as i32, &mut status, libc::WNOHANG);
            }
        }
    }

    /// Looks for processes that joined or left the tree, and for new threads.
    ///
    /// New processes are found among the ids the kernel handed out since the last scan
    /// (`ns_last_pid`), each looked at once, where those are fewer than a listing of
    /// `/proc` would read; else (a machine starting threads by the thousand, a wrapped
    /// counter, every few seconds anyway) `/proc` is listed. A watched process's new
    /// threads show in its thread count (`stat`, read anyway): only then are its threads
    /// listed.
    fn scan_tree(&mut self) {
        let me = std::process::id();
        let candidates: Vec<u32> = match self.new_pids.since_last(self.listed / 4) {
            Some(ids) => ids
                .into_iter()
                .filter(|id| !self.by_pid.contains_key(id) && thread_group(*id) == Some(*id))
                .collect(),
            None => {
                let Ok(entries) = std::fs::read_dir("/proc") else {
                    return;
                };
                let present: HashSet<u32> = entries
                    .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                    .collect();
                self.listed = present.len() as u32;
                self.outside.retain(|p| present.contains(p));
                present.into_iter().collect()
            }
        };
        // Known processes: gone, ended (a zombie), reparented, renamed, with new threads.
        let now = Timestamp::now();
        for index in 0..self.procs.len() {
            // One found after it exited is not looked for (its pid may be another's now):
            // it ends when its connection closes.
            if self.procs[index].ended || self.procs[index].exited_by.is_some() {
                continue;
            }
            let pid = self.procs[index].pid;
            match read_stat_fields(pid) {
                Some(stat) if stat.state != 'Z' && stat.state != 'X' => {
                    self.procs[index].ppid = stat.ppid;
                    // Its command line settles as it starts; later, a new name or program
                    // means exec.
                    if stat.comm != self.procs[index].comm
                        || self.procs[index].scans < 5
                        || exec_seen(&self.procs[index].exe, &exe_of(pid))
                    {
                        self.notice_exec(index);
                    }
                    if stat.threads != self.procs[index].threads_seen {
                        self.procs[index].threads_seen = stat.threads;
                        self.scan_threads(index);
                    } else {
                        self.rename_threads(index);
                    }
                }
                _ => {
                    self.end_process(index, now);
                }
            }
        }
        // New processes: in the tree if their parent is (or poolscope, for the orphans
        // of a command it started, as their subreaper).
        let mut fresh: HashMap<u32, u32> = HashMap::new();
        for &pid in &candidates {
            if self.by_pid.contains_key(&pid) || self.outside.contains(&pid) || pid == me {
                continue;
            }
            if let Some((ppid, state)) = read_stat(pid)
                && state != 'Z'
            {
                fresh.insert(pid, ppid);
            }
        }
        let mut in_tree: HashSet<u32> = self
            .procs
            .iter()
            .filter(|p| !p.ended || p.pid == self.root)
            .map(|p| p.pid)
            .collect();
        in_tree.insert(self.root);
        let adopts_orphans = self.child.is_some();
        loop {
            let mut joining: Vec<u32> = fresh
                .iter()
                .filter(|(pid, ppid)| {
                    in_tree.contains(ppid)
                        || **pid == self.root
                        || (adopts_orphans && **ppid == me && !is_poolscope_worker(**pid))
                })
                .map(|(pid, _)| *pid)
                .collect();
            if joining.is_empty() {
                break;
            }
            joining.sort_unstable();
            for pid in joining {
                fresh.remove(&pid);
                in_tree.insert(pid);
                self.add_process(pid);
            }
        }
        self.outside.extend(fresh.keys());
    }

    /// Renames process `index` if it runs another program since it was last seen (it
    /// called `exec`: a shell running Python, a spawned pool worker): its panel's name, its
    /// threads' names, and where its interpreter (and so its GIL) now is.
    fn notice_exec(&mut self, index: usize) {
        let pid = self.procs[index].pid;
        let Ok(mut info) = procs::read_process(pid) else {
            return;
        };
        if info.cmdline.is_empty() {
            if self.procs[index].scans > 0 {
                // Exiting (its memory already gone): the name it had is truer than none.
                return;
            }
            if pid == self.root {
                info.cmdline = self.command.clone().unwrap_or_default();
            }
        }
        let title = info.title();
        let exe = exe_of(pid);
        let p = &mut self.procs[index];
        if info.comm != p.comm || exec_seen(&p.exe, &exe) {
            p.comm = info.comm.clone();
            p.exe = exe;
            p.runtime = None;
            p.runtime_looks = 0;
            p.runtime_next = Instant::now();
            p.scans = 0; // its threads' names are read again
        }
        if title != p.title {
            p.title = title.clone();
            let experiment = p.experiment;
            self.send(Event::ExperimentRenamed {
                experiment,
                name: title,
            });
        }
        // Its interpreter (and GIL) looked for at once, not at the next scan: a short
        // program's GIL waits would otherwise read as a lock's until then.
        self.look_for_runtime(index);
    }

    /// Starts watching process `pid`: its experiment, and its threads.
    fn add_process(&mut self, pid: u32) -> Option<usize> {
        if let Some(&index) = self.by_pid.get(&pid) {
            return Some(index);
        }
        let mut info = procs::read_process(pid).ok()?;
        if info.cmdline.is_empty() && pid == self.root {
            info.cmdline = self.command.clone().unwrap_or_default();
        }
        Some(self.add_process_from(info, None))
    }

    /// Adds a process the hook reported but that exited before poolscope read its record
    /// (a pool's worker can live a fraction of a second): who it was comes from the
    /// record, its panel ends at its last record, and its threads are the ones that
    /// reported.
    fn add_exited_process(&mut self, pid: u32, last: Timestamp) -> usize {
        let (ppid, argv) = self
            .introduced
            .get(&pid)
            .map_or((None, Vec::new()), |i| (i.ppid, i.argv.clone()));
        // The kernel's name for it: its program's file name, cut to 15 bytes.
        let mut comm = argv
            .first()
            .and_then(|program| Path::new(program).file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "?".into());
        while comm.len() > 15 {
            comm.pop();
        }
        let info = procs::ProcessInfo {
            pid,
            ppid: ppid.unwrap_or(0),
            comm,
            cmdline: argv,
        };
        self.add_process_from(info, Some(last))
    }

    /// Adds process `info.pid` (`exited_by`: it had exited, and reported last then).
    fn add_process_from(
        &mut self,
        info: procs::ProcessInfo,
        exited_by: Option<Timestamp>,
    ) -> usize {
        let pid = info.pid;
        let experiment = self.procs.len();
        self.send(Event::ExperimentStarted {
            experiment,
            plan: ExperimentPlan::watched(info.title()),
            at: self.origin,
        });
        self.procs.push(Proc {
            pid,
            ppid: info.ppid,
            comm: info.comm.clone(),
            exe: exited_by.is_none().then(|| exe_of(pid)).flatten(),
            title: info.title(),
            experiment,
            threads: Vec::new(),
            by_tid: HashMap::new(),
            scans: 0,
            threads_seen: 0,
            runtime: None,
            runtime_looks: 0,
            runtime_next: Instant::now(),
            tasks: 0,
            ended: false,
            exited_by,
            found: Timestamp::now(),
        });
        self.by_pid.insert(pid, experiment);
        if exited_by.is_none() {
            self.look_for_runtime(experiment);
            self.scan_threads(experiment);
        }
        experiment
    }

    /// Finds the interpreter's `_PyRuntime` in process `index` (CPython's GIL is inside
    /// it), a few times early on (a process may exec into Python after it was found) and
    /// then every few seconds while not found.
    fn look_for_runtime(&mut self, index: usize) {
        let p = &mut self.procs[index];
        if p.runtime.is_some() || Instant::now() < p.runtime_next {
            return;
        }
        p.runtime = self.runtimes.find(p.pid);
        p.runtime_looks += 1;
        let wait = if p.runtime_looks < 5 {
            SCAN_EVERY
        } else {
            Duration::from_secs(3)
        };
        p.runtime_next = Instant::now() + wait;
    }

    /// Adds lanes for the threads of process `index` not seen yet (listing them), and
    /// renames the new ones that named themselves since.
    fn scan_threads(&mut self, index: usize) {
        let pid = self.procs[index].pid;
        let Ok(tids) = procs::threads(pid) else {
            return;
        };
        self.procs[index].threads_seen = tids.len() as u32;
        self.rename_threads(index);
        for tid in tids {
            if !self.procs[index].by_tid.contains_key(&tid) {
                self.add_thread(index, tid);
            }
        }
        self.look_for_runtime(index);
    }

    /// In its first few scans, reads the names of process `index`'s threads again: a new
    /// thread names itself after it starts (and a process that called `exec` renames its
    /// main one).
    fn rename_threads(&mut self, index: usize) {
        let pid = self.procs[index].pid;
        let rename = self.procs[index].scans < 3;
        self.procs[index].scans += 1;
        if rename {
            for lane in 0..self.procs[index].threads.len() {
                let worker = self.procs[index].threads[lane].worker;
                if self.procs[index].threads[lane].python_named {
                    continue; // Python's name says more than the program's
                }
                if let Some(name) = procs::thread_comm(pid, worker.tid)
                    && name != self.procs[index].threads[lane].name
                {
                    self.procs[index].threads[lane].name = name.clone();
                    self.send(Event::LaneAdded {
                        experiment: index,
                        worker,
                        name,
                        at: Timestamp::now(),
                    });
                }
            }
        }
        self.look_for_runtime(index);
    }

    /// A lane for thread `tid` of process `index`, sampled if it can be.
    fn add_thread(&mut self, index: usize, tid: u32) -> usize {
        let p = &self.procs[index];
        let worker = WorkerId {
            index: p.threads.len(),
            pid: p.pid,
            tid,
        };
        // A thread gone before it was seen: a process's main thread bears its name.
        let name = procs::thread_comm(p.pid, tid)
            .or_else(|| (tid == p.pid).then(|| p.comm.clone()))
            .unwrap_or_else(|| "?".into());
        // One found after it exited is not read (its pid may be another's now).
        let sampler = if p.exited_by.is_some() {
            None
        } else if self.open_threads < self.fd_budget / 3 {
            match WatchedThread::open(worker, self.no_syscall) {
                Some((sampler, source)) => {
                    self.say_source(source, p.pid, tid);
                    Some(sampler)
                }
                None => None,
            }
        } else {
            self.say_once(
                "files",
                "too many threads for the open-files limit: the rest are not sampled (their lanes stay plain)"
                    .into(),
            );
            None
        };
        self.open_threads += usize::from(sampler.is_some());
        let experiment = self.procs[index].experiment;
        // Seen now, or, for a process found after it exited, when it reported.
        let at = self.procs[index].exited_by.unwrap_or_else(Timestamp::now);
        self.send(Event::LaneAdded {
            experiment,
            worker,
            name: name.clone(),
            at,
        });
        let p = &mut self.procs[index];
        p.by_tid.insert(tid, worker.index);
        p.threads.push(Lane {
            worker,
            name,
            python_named: false,
            sampler,
        });
        let threads: usize = self
            .procs
            .iter()
            .filter(|p| !p.ended)
            .map(|p| p.threads.iter().filter(|t| t.sampler.is_some()).count())
            .sum();
        self.most_threads = self.most_threads.max(threads);
        worker.index
    }

    /// Says once where waits cannot be read as well as they should.
    fn say_source(&mut self, source: WhySource, pid: u32, tid: u32) {
        match source {
            WhySource::Syscall => {}
            WhySource::Wchan => self.say_once(
                "wchan",
                format!(
                    "/proc/{pid}/task/{tid}/syscall cannot be read (attaching under Yama's ptrace_scope, or POOLSCOPE_TEST_NO_SYSCALL): \
                     what blocked threads wait for is told from wchan, where the GIL cannot be told from a lock (GIL waits count as lock)"
                ),
            ),
            WhySource::None => self.say_once(
                "nowhy",
                format!(
                    "neither /proc/{pid}/task/{tid}/syscall nor wchan can be read: blocked threads' waits are unknown"
                ),
            ),
        }
    }

    /// A round of readings: every thread of every process still there.
    fn sample_all(&mut self) {
        let mut samples = std::mem::take(&mut self.samples);
        let mut ended = Vec::new();
        for (index, p) in self.procs.iter_mut().enumerate() {
            if p.ended || p.exited_by.is_some() {
                continue;
            }
            let mut alive = 0;
            for lane in &mut p.threads {
                if let Some(sampler) = &mut lane.sampler {
                    if !sampler.due() {
                        alive += 1;
                        continue;
                    }
                    if sampler.sample(p.experiment, false, p.runtime.as_ref(), &mut samples) {
                        alive += 1;
                    } else {
                        lane.sampler = None;
                        self.open_threads -= 1;
                    }
                }
            }
            if alive == 0 && !p.threads.is_empty() && p.threads.iter().all(|t| t.sampler.is_none())
            {
                ended.push(index);
            }
        }
        for sample in samples.drain(..) {
            self.send(Event::Sample(sample));
        }
        self.samples = samples;
        for index in ended {
            // Every thread gone: the process has ended (or is a zombie).
            if read_stat(self.procs[index].pid).is_none_or(|(_, s)| s == 'Z' || s == 'X') {
                self.end_process(index, Timestamp::now());
            }
        }
    }

    /// Process `index` is gone: last readings of its threads, then its experiment ends.
    /// Returns when it ended.
    fn end_process(&mut self, index: usize, at: Timestamp) -> Timestamp {
        let mut samples = Vec::new();
        let p = &mut self.procs[index];
        if p.ended {
            return at;
        }
        p.ended = true;
        // One found only by its records after it exited ended by its last record.
        let at = p.exited_by.unwrap_or(at);
        for lane in &mut p.threads {
            if let Some(mut sampler) = lane.sampler.take() {
                sampler.sample(p.experiment, true, p.runtime.as_ref(), &mut samples);
                self.open_threads -= 1;
            }
        }
        let experiment = p.experiment;
        for sample in samples {
            self.send(Event::Sample(sample));
        }
        // Its tasks still running stay in `running`: the end of one may still be on its
        // way from the hook (read after the scan found the process gone); one that never
        // comes leaves the task open (a killed worker).
        self.send(Event::ExperimentFinished { experiment, at });
        at
    }

    /// The process and lane of a hook record's thread, found if new.
    fn locate(&mut self, record: &HookRecord) -> Option<(usize, WorkerId)> {
        let (pid, tid) = (record.pid, record.tid);
        let index = match self.by_pid.get(&pid) {
            Some(&index) => {
                let p = &mut self.procs[index];
                let at = Timestamp::from_monotonic_ns(record.monotonic_ns);
                if let Some(last) = &mut p.exited_by
                    && at > *last
                {
                    *last = at;
                    if p.ended {
                        // Another of its threads' connections closed first: it ends later.
                        let experiment = p.experiment;
                        self.send(Event::ExperimentFinished { experiment, at });
                    }
                }
                index
            }
            // The hook runs only in the watched tree (its socket is private): a process
            // reporting before a scan found it is added now, and one that has exited since
            // from what its record says of it.
            None => {
                let last = Timestamp::from_monotonic_ns(record.monotonic_ns);
                let said = self.introduced.get(&pid).map(|i| i.ppid);
                match said {
                    // It said who it is: watched live only while /proc still shows that
                    // process (not a zombie, not another process under a reused pid).
                    Some(ppid) if !still_there(pid, ppid) => self.add_exited_process(pid, last),
                    _ => match self.add_process(pid) {
                        Some(index) => index,
                        None if said.is_some() => self.add_exited_process(pid, last),
                        None => return None,
                    },
                }
            }
        };
        // (Never /proc for one found after it exited: its pid may be another's now.)
        if !self.procs[index].by_tid.contains_key(&tid) && self.procs[index].exited_by.is_none() {
            self.scan_threads(index);
        }
        let lane = match self.procs[index].by_tid.get(&tid) {
            Some(&lane) => lane,
            None => self.add_thread(index, tid),
        };
        Some((index, self.procs[index].threads[lane].worker))
    }

    /// The pool of a record, added (and named) the first time.
    fn pool_of(&mut self, record: &HookRecord, function: &str) -> usize {
        if let Some(&pool) = self.pools.get(&record.pool) {
            return pool;
        }
        let (kind, executor) = match record.kind {
            PoolKind::Thread => ("thread", ExecutorKind::Threads),
            PoolKind::Process => ("process", ExecutorKind::Processes),
        };
        let base = format!("{kind}-{function}");
        let seen = self.pool_names.entry(base.clone()).or_insert(0);
        *seen += 1;
        let name = if *seen == 1 {
            base
        } else {
            format!("{base}-{seen}")
        };
        let pool = self.pools.len();
        self.pools.insert(record.pool.clone(), pool);
        let owner_pid = record
            .pool
            .split_once(':')
            .and_then(|(pid, _)| pid.parse().ok())
            .unwrap_or(record.pid);
        self.send(Event::PoolAdded {
            pool,
            info: PoolInfo {
                name,
                executor,
                function: function.to_string(),
                owner_pid,
            },
        });
        pool
    }

    /// What a hook reader handed over: a record, or that a connection closed.
    fn on_message(&mut self, message: HookMessage) {
        match message {
            HookMessage::Record(record) => self.on_record(*record),
            HookMessage::Closed { pid: Some(pid) } => {
                // A process found only by its records after it exited: one of its threads'
                // connections closed, so its panel ends at its last record (and later, if
                // another thread's records come after: `locate` ends it again).
                if let Some(&index) = self.by_pid.get(&pid)
                    && self.procs[index].exited_by.is_some()
                {
                    self.end_process(index, Timestamp::now());
                }
            }
            HookMessage::Closed { pid: None } => {}
        }
    }

    /// A record from the Python hook: a task submitted, started or ended.
    fn on_record(&mut self, mut record: HookRecord) {
        if record.dropped > 0 {
            self.say_once(
                "dropped",
                "the Python hook had to drop task records (poolscope fell behind): some bars are missing"
                    .into(),
            );
        }
        if record.argv.is_some() || record.ppid.is_some() {
            // Each thread introduces its process: what a later one leaves out is kept.
            let said = self.introduced.entry(record.pid).or_insert(Introduced {
                ppid: None,
                argv: Vec::new(),
            });
            said.ppid = record.ppid.or(said.ppid);
            if let Some(argv) = record.argv.take() {
                said.argv = argv;
            }
            // Python says it runs now: a process seen before it exec'd Python (pyenv's
            // bash shim) is named anew, even if it ends before the next scan would.
            if let Some(&index) = self.by_pid.get(&record.pid)
                && self.procs[index].exited_by.is_none()
                && !self.procs[index].ended
            {
                self.notice_exec(index);
            }
        }
        if record.event != HookEvent::Submit {
            // Its process and thread are looked at now, while they may still be there,
            // even if the record waits for its submit.
            self.locate(&record);
        }
        for ready in self.order.push(record, Instant::now()) {
            self.apply_record(ready);
        }
    }

    /// Applies the held records that may go now (`all`: every one, as the watch ends).
    fn apply_released(&mut self, all: bool) {
        if !self.order.holds_any() {
            return;
        }
        for ready in self.order.release(Instant::now(), all) {
            self.apply_record(ready);
        }
    }

    /// A hook record in its place: a task submitted, started or ended.
    fn apply_record(&mut self, record: HookRecord) {
        let key = (record.pool.clone(), record.task);
        let at = Timestamp::from_monotonic_ns(record.monotonic_ns);
        match record.event {
            HookEvent::Submit => {
                let function = record.func.clone().unwrap_or_else(|| "?".into());
                self.pool_of(&record, &function);
                let arg = record.arg.clone().unwrap_or_default();
                self.submitted.insert(key, (function, arg));
            }
            HookEvent::Start => {
                let (function, arg) = self
                    .submitted
                    .remove(&key)
                    .unwrap_or_else(|| ("?".into(), format!("task {}", record.task)));
                let pool = self.pool_of(&record, &function);
                let Some((index, worker)) = self.locate(&record) else {
                    return;
                };
                // A pool's thread is named as Python names it (the kernel knows it by the
                // program's name until Python 3.14), once, at its first task.
                if let Some(name) = record.thread.as_deref().filter(|n| !n.is_empty()) {
                    let p = &mut self.procs[index];
                    let lane = &mut p.threads[worker.index];
                    if !lane.python_named && worker.tid != p.pid {
                        lane.python_named = true;
                        lane.name = name.to_string();
                        let experiment = p.experiment;
                        self.send(Event::LaneAdded {
                            experiment,
                            worker,
                            name: name.to_string(),
                            at: Timestamp::now(),
                        });
                    }
                }
                let p = &mut self.procs[index];
                let task = p.tasks;
                p.tasks += 1;
                let experiment = p.experiment;
                self.send(Event::TaskAdded {
                    experiment,
                    task,
                    label: arg,
                    pool: Some(PoolTask {
                        pool,
                        number: record.task,
                    }),
                });
                self.send(Event::Task(TaskEvent {
                    experiment,
                    task,
                    input: record.task,
                    worker,
                    at,
                    kind: TaskEventKind::Started,
                }));
                self.running.insert(
                    key,
                    RunningTask {
                        experiment,
                        task,
                        worker,
                        input: record.task,
                        cpu_ns: record.cpu_ns,
                    },
                );
            }
            HookEvent::End => {
                let Some(running) = self.running.remove(&key) else {
                    return;
                };
                let cpu_time = running
                    .cpu_ns
                    .zip(record.cpu_ns)
                    .map(|(a, b)| Duration::from_nanos(b.saturating_sub(a)));
                let kind = match record.error {
                    Some(error) => TaskEventKind::Failed { error, cpu_time },
                    None => TaskEventKind::Finished {
                        result: record.result.unwrap_or_default(),
                        cpu_time,
                    },
                };
                self.send(Event::Task(TaskEvent {
                    experiment: running.experiment,
                    task: running.task,
                    input: running.input,
                    worker: running.worker,
                    at,
                    kind,
                }));
            }
        }
    }
}

/// Whether the program changed from `was` to `now`: both read and different. A process
/// that is exiting loses its memory, and its `exe` reads as nothing, before it is a zombie:
/// that is no exec.
fn exec_seen(was: &Option<PathBuf>, now: &Option<PathBuf>) -> bool {
    matches!((was, now), (Some(a), Some(b)) if a != b)
}

/// The program process `pid` runs, if it can be read.
fn exe_of(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// Whether process `pid` is there and alive (not a zombie), with parent `ppid` if given:
/// the process a hook record named, not another that took its pid since.
fn still_there(pid: u32, ppid: Option<u32>) -> bool {
    // Its parent may have exited since: then it was handed to poolscope.
    // (poolscope is the subreaper of the command it started: never init, whose adoptees
    // are any daemon a reused pid may now be.)
    let adopted = |parent: u32| parent == std::process::id();
    read_stat(pid).is_some_and(|(parent, state)| {
        state != 'Z' && state != 'X' && ppid.is_none_or(|p| p == parent || adopted(parent))
    })
}

/// `(ppid, state)` of process `pid`, if it is there.
fn read_stat(pid: u32) -> Option<(u32, char)> {
    read_stat_fields(pid).map(|s| (s.ppid, s.state))
}

/// What a scan reads of a watched process's `stat`.
struct StatFields {
    ppid: u32,
    state: char,
    comm: String,
    threads: u32,
}

/// Process `pid`'s parent, state, name and thread count, if it is there.
fn read_stat_fields(pid: u32) -> Option<StatFields> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (comm, rest) = procs::split_stat(&stat)?;
    let fields: Vec<&str> = rest.split_whitespace().take(18).collect();
    Some(StatFields {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        comm: comm.to_string(),
        // After the state: ppid … nice, then num_threads (stat's 20th field).
        threads: fields.get(17)?.parse().ok()?,
    })
}

/// The process (thread group) id `id` belongs to, if it is there: `id` itself for a
/// process; threads take ids from the same counter, and `/proc/<tid>` answers for them too.
fn thread_group(id: u32) -> Option<u32> {
    use std::io::Read;
    let file = File::open(format!("/proc/{id}/status")).ok()?;
    let mut head = [0u8; 512];
    let n = file.take(512).read(&mut head).unwrap_or(0);
    String::from_utf8_lossy(&head[..n])
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|t| t.trim().parse::<u32>().ok())
}

/// The pids handed out since the last look, found from the kernel's last pid
/// (`/proc/sys/kernel/ns_last_pid`): a scan then reads the few new ids instead of listing
/// every process on the machine. Every [`FULL_SCAN_EVERY`], when the counter wrapped or ran
/// far, or where it cannot be read, the whole of `/proc` is listed instead.
#[derive(Debug)]
struct NewPids {
    file: Option<File>,
    last: Option<u32>,
    last_full: Instant,
}

/// How often `/proc` is listed whole anyway (a safety net).
const FULL_SCAN_EVERY: Duration = Duration::from_secs(5);
/// The most new ids looked at one by one; past it, `/proc` is listed.
const MOST_NEW_IDS: u32 = 400;

impl NewPids {
    fn new() -> Self {
        NewPids {
            file: File::open("/proc/sys/kernel/ns_last_pid").ok(),
            last: None,
            last_full: Instant::now(),
        }
    }

    /// The ids handed out since the last call (processes or threads, alive or gone), or
    /// `None` when `/proc` must be listed whole (also when there are more than `most`).
    fn since_last(&mut self, most: u32) -> Option<Vec<u32>> {
        use std::os::unix::fs::FileExt;
        let mut buf = [0u8; 16];
        let now = self
            .file
            .as_ref()
            .and_then(|f| f.read_at(&mut buf, 0).ok())
            .and_then(|n| {
                std::str::from_utf8(&buf[..n])
                    .ok()?
                    .trim()
                    .parse::<u32>()
                    .ok()
            });
        let last = std::mem::replace(&mut self.last, now);
        match (last, now) {
            (Some(last), Some(now))
                if now >= last
                    && now - last <= most.min(MOST_NEW_IDS)
                    && self.last_full.elapsed() < FULL_SCAN_EVERY =>
            {
                Some((last + 1..=now).collect())
            }
            _ => {
                self.last_full = Instant::now();
                None
            }
        }
    }
}

/// Whether `pid` is one of poolscope's own process-pool workers (`poolscope worker …`),
/// which are its children too but not part of a watched tree.
fn is_poolscope_worker(pid: u32) -> bool {
    let own = std::fs::read_link("/proc/self/exe").ok();
    let theirs = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let second = cmdline.split(|&b| b == 0).nth(1).unwrap_or_default();
    own.is_some() && own == theirs && second == b"worker"
}

/// The last `n` lines of the log file at `path` (at most 64 KiB from its end), shown safe
/// by the caller.
pub fn log_tail(path: &Path, n: usize) -> Vec<String> {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = File::open(path) else {
        return Vec::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(64 * 1024);
    if file.seek(SeekFrom::Start(from)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    let _ = file.take(64 * 1024).read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if from > 0 && !lines.is_empty() {
        lines.remove(0); // cut mid-line
    }
    let skip = lines.len().saturating_sub(n);
    lines.split_off(skip)
}
