//! The process executor: N child processes of this binary (`poolscope worker`), each fed
//! one task at a time over its stdin, each answering with timing events on its stdout.
//!
//! One feeder thread per worker slot spawns the child, hands it the next task in input
//! order as soon as it is ready and whenever it is free again, reads its replies and forwards them as events into the run's
//! channel. Because the feeder lives as long as its child, the child's `PR_SET_PDEATHSIG`
//! (which fires when the *spawning thread* exits) is tied to a thread that outlives it.
//!
//! Faults stay local: a child that dies or talks garbage fails the task it was running, is
//! reaped, and a fresh child takes the slot's next task. Cancelling kills every child at
//! once; the feeders then reap them, so no worker outlives the experiment.

use std::io::{self, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crossbeam_channel::select;

use super::{Emitter, ExperimentOutcome, ExperimentRun, TaskQueue, workers_that_fit};
use crate::engine::protocol::{self, LineRead, Reply, Request};
use crate::model::clock::{ClockAnchor, Timestamp};
use crate::model::event::{TaskEventKind, WorkerId};

/// How much of a dead worker's stderr goes into the error text.
const STDERR_TAIL_BYTES: usize = 4096;

/// Runs the experiment on child processes; on cancellation kills and reaps them all.
pub(super) fn run(run: &ExperimentRun<'_>) -> ExperimentOutcome {
    let emitter = Emitter::new(run);
    let workers = workers_that_fit(run, &emitter);
    let shared = Shared {
        run,
        emitter,
        queue: TaskQueue::new(&run.plan.inputs, run.cancel),
        children: (0..workers).map(|_| Mutex::new(None)).collect(),
        workload_json: serde_json::to_string(run.workload).expect("workloads serialize"),
        gate: StartGate::new(workers),
        healthy: AtomicUsize::new(0),
        backed_off: AtomicBool::new(false),
    };
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        let (mut started, mut spawn_error) = (0usize, None);
        for index in 0..workers {
            let (shared, done_tx) = (&shared, done_tx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("poolscope-feeder-{index}"))
                .spawn_scoped(scope, move || {
                    feed(shared, index);
                    drop(done_tx);
                });
            // A slot without its feeder stays empty; the other slots take its tasks.
            match spawned {
                Ok(_) => started += 1,
                Err(e) => {
                    shared.gate.arrive();
                    spawn_error = Some(e);
                }
            }
        }
        if let (0, Some(e)) = (started, spawn_error) {
            let nobody = WorkerId {
                index: 0,
                pid: 0,
                tid: 0,
            };
            let error = format!("could not start a feeder thread: {e}");
            shared.queue.fail_rest(&shared.emitter, nobody, &error);
        }
        drop(done_tx);
        select! {
            recv(done_rx) -> _ => {}
            recv(run.cancel.receiver()) -> _ => shared.kill_all(),
        }
    });
    if run.cancel.is_cancelled() {
        ExperimentOutcome::Cancelled
    } else {
        ExperimentOutcome::Completed
    }
}

/// What the feeders share: the task queue (an index into the inputs) and the children,
/// kept where the cancelling thread can reach them.
struct Shared<'a> {
    run: &'a ExperimentRun<'a>,
    emitter: Emitter,
    queue: TaskQueue<'a>,
    children: Vec<Mutex<Option<Child>>>,
    workload_json: String,
    gate: StartGate,
    /// Worker processes up and taking tasks right now.
    healthy: AtomicUsize,
    /// Whether a slot already gave up for want of resources (said once).
    backed_off: AtomicBool,
}

impl Shared<'_> {
    fn cancelled(&self) -> bool {
        self.run.cancel.is_cancelled()
    }

    fn kill_all(&self) {
        for slot in &self.children {
            let mut child = slot.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(child) = child.as_mut() {
                let _ = child.kill();
            }
        }
    }
}

/// One feeder: keeps a live child in slot `index` and feeds it tasks until none are left.
fn feed(shared: &Shared<'_>, index: usize) {
    let mut ticket = GateTicket::new(&shared.gate);
    while !shared.queue.is_drained() && !shared.cancelled() {
        let mut child = match WorkerProcess::spawn(shared, index) {
            Ok(child) => child,
            Err(e) => {
                ticket.arrive_and_wait();
                // Out of processes or descriptors while other workers run: this slot backs
                // off and they take its tasks; the user hears of it once.
                if shared.healthy.load(Ordering::SeqCst) > 0 {
                    if !shared.backed_off.swap(true, Ordering::SeqCst) {
                        shared.emitter.notice(format!(
                            "{}: a worker process could not be started ({e}); running with \
                             the workers that did",
                            shared.run.plan.name
                        ));
                    }
                    return;
                }
                // Fail one task per attempt, so a binary that cannot start fails the run's
                // tasks with a clear error instead of looping.
                if let Some((task, input)) = shared.queue.take() {
                    let worker = WorkerId {
                        index,
                        pid: 0,
                        tid: 0,
                    };
                    let exe = shared.run.worker_exe.display();
                    shared.emitter.fail_unstarted(
                        task,
                        input,
                        worker,
                        format!("could not start worker process {exe}: {e}"),
                    );
                }
                continue;
            }
        };
        let worker = match child.read_reply() {
            Ok(Reply::Ready { pid, tid, at }) => {
                let worker = WorkerId { index, pid, tid };
                shared.emitter.worker_started(worker, at);
                shared.healthy.fetch_add(1, Ordering::SeqCst);
                // Work starts at once, as in Python's pool: no waiting for the others.
                ticket.arrive();
                worker
            }
            other => {
                ticket.arrive_and_wait();
                let problem = describe_bad_reply(other, "before it was ready");
                let worker = child.worker_id(index);
                let death = child.reap(shared, true);
                if let Some((task, input)) = shared.queue.take() {
                    shared.emitter.fail_unstarted(
                        task,
                        input,
                        worker,
                        format!("{problem}; {death}"),
                    );
                }
                continue;
            }
        };

        let mut broken = None;
        while let Some((task, input)) = shared.queue.take() {
            if let Err(problem) = child.run_task(shared, worker, task, input) {
                broken = Some((task, input, problem));
                break;
            }
        }
        shared.healthy.fetch_sub(1, Ordering::SeqCst);
        // The last reading of the worker's thread, while it still waits on its stdin.
        shared.emitter.worker_ending(worker);
        let death = child.reap(shared, broken.is_some());
        if let Some((task, input, problem)) = broken {
            if shared.cancelled() {
                return; // killed on purpose: the task counts as cancelled, not failed
            }
            let error = format!("{problem}; {death}");
            let failed = TaskEventKind::Failed {
                error,
                cpu_time: None,
            };
            shared
                .emitter
                .task(task, input, worker, Timestamp::now(), failed);
        }
    }
}

/// Where every feeder reports that its first worker came up or failed to. Workers that come
/// up take tasks at once (as Python's pool hands a task to each worker as soon as it is
/// ready: no one idles through the others' start-up); only a feeder whose worker could not
/// start waits here, to learn whether others are healthy (then it backs off) or none are
/// (then it fails a task with the reason).
struct StartGate {
    waiting_for: Mutex<usize>,
    all_arrived: Condvar,
}

impl StartGate {
    fn new(workers: usize) -> Self {
        StartGate {
            waiting_for: Mutex::new(workers),
            all_arrived: Condvar::new(),
        }
    }

    fn arrive(&self) {
        let mut waiting_for = self.waiting_for.lock().unwrap_or_else(|e| e.into_inner());
        *waiting_for = waiting_for.saturating_sub(1);
        if *waiting_for == 0 {
            self.all_arrived.notify_all();
        }
    }

    /// Waits until every worker arrived. Every feeder arrives, whatever happens: a
    /// cancelled run kills the children, so handshakes fail fast and their feeders arrive.
    fn wait(&self) {
        let waiting_for = self.waiting_for.lock().unwrap_or_else(|e| e.into_inner());
        let _all = self
            .all_arrived
            .wait_while(waiting_for, |n| *n > 0)
            .unwrap_or_else(|e| e.into_inner());
    }
}

/// One feeder's place at the gate: it arrives once (its first worker is ready or failed to
/// start), and on drop if it never did, so the others are never left waiting.
struct GateTicket<'a> {
    gate: &'a StartGate,
    arrived: bool,
}

impl<'a> GateTicket<'a> {
    fn new(gate: &'a StartGate) -> Self {
        GateTicket {
            gate,
            arrived: false,
        }
    }

    /// Reports this feeder's first attempt settled, and waits for every other's.
    fn arrive_and_wait(&mut self) {
        self.arrive();
        self.gate.wait();
    }

    /// Reports this feeder's first attempt settled (once), without waiting.
    fn arrive(&mut self) {
        if !std::mem::replace(&mut self.arrived, true) {
            self.gate.arrive();
        }
    }
}

impl Drop for GateTicket<'_> {
    fn drop(&mut self) {
        if !self.arrived {
            self.gate.arrive();
        }
    }
}

/// A child worker process and the parent's ends of its pipes.
struct WorkerProcess {
    index: usize,
    pid: u32,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Drains the child's stderr while it runs (a full pipe would block the child), keeping
    /// the last [`STDERR_TAIL_BYTES`] for the error text.
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
    line: Vec<u8>,
}

/// Reads `stderr` to its end on a thread of its own; returns the last bytes.
fn drain(stderr: ChildStderr) -> Option<std::thread::JoinHandle<Vec<u8>>> {
    std::thread::Builder::new()
        .name("poolscope-stderr".into())
        .spawn(move || {
            let mut stderr = stderr;
            let mut tail = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                let excess = tail.len().saturating_sub(STDERR_TAIL_BYTES);
                tail.drain(..excess);
            }
            tail
        })
        .ok()
}

/// Why a worker could not give a proper reply.
#[derive(Debug)]
enum ReplyError {
    /// Its stdout closed: it exited or was killed.
    Closed,
    /// Reading failed.
    Io(io::Error),
    /// It wrote a line longer than [`protocol::MAX_LINE`].
    TooLong,
    /// It wrote something that is not a reply.
    Garbage(protocol::ProtocolError),
}

impl WorkerProcess {
    fn spawn(shared: &Shared<'_>, index: usize) -> io::Result<WorkerProcess> {
        let mut child =
            Command::new(shared.run.worker_exe)
                .arg0("poolscope")
                .arg("worker")
                .arg("--parent-pid")
                .arg(std::process::id().to_string())
                .arg("--workload")
                .arg(&shared.workload_json)
                .arg("--clock-anchor")
                .arg(ClockAnchor::current().to_arg())
                .args(shared.run.sched.cpus.iter().flat_map(|cpus| {
                    ["--cpus".to_string(), crate::engine::cpus::format_list(cpus)]
                }))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                // Out of the terminal's process group: Ctrl-C reaches poolscope, which stops
                // the run and kills its workers itself.
                .process_group(0)
                .spawn()?;
        let pid = child.id();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut slot = shared.children[index]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *slot = Some(child);
        // Registered first, checked second: a cancel that raced the spawn still kills it.
        if let Some(child) = slot.as_mut().filter(|_| shared.cancelled()) {
            let _ = child.kill();
        }
        drop(slot);
        Ok(WorkerProcess {
            index,
            pid,
            stdin,
            stdout: BufReader::new(stdout),
            stderr: drain(stderr),
            line: Vec::with_capacity(256),
        })
    }

    fn worker_id(&self, index: usize) -> WorkerId {
        WorkerId {
            index,
            pid: self.pid,
            tid: self.pid,
        }
    }

    fn read_reply(&mut self) -> Result<Reply, ReplyError> {
        match protocol::read_line(&mut self.stdout, &mut self.line, protocol::MAX_LINE) {
            Ok(LineRead::Line) => protocol::decode(&self.line).map_err(ReplyError::Garbage),
            Ok(LineRead::Eof) => Err(ReplyError::Closed),
            Ok(LineRead::TooLong) => {
                self.line = Vec::new(); // give the megabyte back
                Err(ReplyError::TooLong)
            }
            Err(e) => Err(ReplyError::Io(e)),
        }
    }

    /// Hands the worker one task and forwards its replies until the task ends.
    /// `Err` says why the worker can no longer be used.
    fn run_task(
        &mut self,
        shared: &Shared<'_>,
        worker: WorkerId,
        task: usize,
        input: u64,
    ) -> Result<(), String> {
        let pid = self.pid;
        let request = protocol::encode(&Request::Run { task, input });
        let sent = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(&request).and_then(|()| stdin.flush()),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        };
        if sent.is_err() {
            return Err(format!("worker process {pid} died before taking the task"));
        }
        let emitter = &shared.emitter;
        loop {
            match self.read_reply() {
                Ok(Reply::Started { task: t, tid, at }) if t == task => {
                    let worker = WorkerId { tid, ..worker };
                    emitter.task(task, input, worker, at, TaskEventKind::Started);
                }
                Ok(Reply::Finished {
                    task: t,
                    at,
                    cpu_ns,
                    result,
                }) if t == task => {
                    let cpu_time = Duration::from_nanos(cpu_ns);
                    let kind = TaskEventKind::Finished {
                        result,
                        cpu_time: Some(cpu_time),
                    };
                    emitter.task(task, input, worker, at, kind);
                    return Ok(());
                }
                Ok(Reply::Failed {
                    task: t,
                    at,
                    cpu_ns,
                    error,
                }) if t == task => {
                    let cpu_time = Some(Duration::from_nanos(cpu_ns));
                    let kind = TaskEventKind::Failed { error, cpu_time };
                    emitter.task(task, input, worker, at, kind);
                    return Ok(());
                }
                other => return Err(describe_bad_reply(other, "while running the task")),
            }
        }
    }

    /// Closes the worker's stdin (its signal to exit), kills it first if `kill`, waits for
    /// it, and describes how it ended (with the tail of its stderr).
    fn reap(mut self, shared: &Shared<'_>, kill: bool) -> String {
        drop(self.stdin.take());
        let mut slot = shared.children[self.index]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let status = match slot.as_mut() {
            Some(child) => {
                if kill {
                    let _ = child.kill();
                }
                child.wait()
            }
            None => Err(io::ErrorKind::NotFound.into()),
        };
        *slot = None;
        drop(slot);
        let tail = self
            .stderr
            .take()
            .and_then(|drainer| drainer.join().ok())
            .unwrap_or_default();
        let stderr = String::from_utf8_lossy(&tail);
        let mut description = match status {
            Ok(status) => format!("worker process {} {}", self.pid, describe_exit(status)),
            Err(e) => format!("worker process {}: could not be reaped: {e}", self.pid),
        };
        if let Some(last) = stderr.lines().rev().find(|l| !l.trim().is_empty()) {
            description.push_str(&format!(" (stderr: {})", last.trim()));
        }
        description
    }
}

fn describe_bad_reply(reply: Result<Reply, ReplyError>, when: &str) -> String {
    match reply {
        Err(ReplyError::Closed) => format!("worker process died {when}"),
        Err(ReplyError::Io(e)) => format!("reading from the worker process failed {when}: {e}"),
        Err(ReplyError::Garbage(e)) => format!("worker process broke the protocol {when}: {e}"),
        Err(ReplyError::TooLong) => format!(
            "worker process broke the protocol {when}: a line over {} MiB; it was cut off",
            protocol::MAX_LINE / (1024 * 1024)
        ),
        Ok(reply) => format!("worker process sent an unexpected reply {when}: {reply:?}"),
    }
}

/// "exited with status 3", "was killed by signal 9 (SIGKILL)".
fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(signal) => format!("was killed by signal {signal} ({})", signal_name(signal)),
        None => format!("ended: {status}"),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_read_well() {
        assert_eq!(
            describe_exit(ExitStatus::from_raw(3 << 8)),
            "exited with status 3"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(libc::SIGKILL)),
            "was killed by signal 9 (SIGKILL)"
        );
    }
}
