//! The child side of the process executor: `poolscope worker`, started by poolscope itself.
//!
//! It ties its life to its parent, announces itself (`Ready`), then runs one task per
//! request line from stdin and answers with `Started` and `Finished`/`Failed` lines on
//! stdout, timed on its own thread. It never prints anything else: stdout is the protocol.
//! It exits when stdin reaches EOF (the parent closed it or died), when a write fails (the
//! parent is gone: EPIPE), or by SIGKILL when the parent dies (`PR_SET_PDEATHSIG`).

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use super::{install_quiet_task_panics, timed};
use crate::engine::cancel::CancelToken;
use crate::engine::protocol::{self, Reply, Request};
use crate::engine::workload::{Workload, WorkloadRunner};
use crate::model::clock::{self, Timestamp};

/// Runs the worker loop on this process's stdin and stdout until the parent is done.
pub fn main(parent_pid: u32, workload_json: &str, anchor: Option<clock::ClockAnchor>) -> ExitCode {
    // Before any timestamp: this worker's clock is its parent's (see `clock`).
    if let Some(anchor) = anchor {
        anchor.install();
    }
    if !tie_to_parent(parent_pid) {
        return ExitCode::from(3);
    }
    let workload: Workload = match serde_json::from_str(workload_json) {
        Ok(w) => w,
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "poolscope worker: bad --workload {workload_json:?}: {e}"
            );
            return ExitCode::from(2);
        }
    };
    install_quiet_task_panics();
    let runner = WorkloadRunner::new(workload);
    match serve(&runner, io::stdin().lock(), io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        // The parent went away mid-conversation; nobody is left to tell.
        Err(_) => ExitCode::from(1),
    }
}

/// Asks the kernel to SIGKILL this process when its parent dies, then checks the parent is
/// still the one that started us.
///
/// The order matters: the death signal is armed first and the parent checked second, so a
/// parent that died before the signal was armed is still noticed (we would have been
/// re-parented, and `getppid` would differ).
fn tie_to_parent(parent_pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and touches no memory.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        }
    }
    // SAFETY: getppid has no arguments and cannot fail.
    let parent = unsafe { libc::getppid() } as u32;
    parent == parent_pid
}

/// The protocol loop, on any reader and writer (tests drive it in memory).
pub fn serve(
    runner: &WorkloadRunner,
    input: impl BufRead,
    mut output: impl Write,
) -> io::Result<()> {
    let tid = clock::current_tid();
    let never = CancelToken::never();
    send(
        &mut output,
        &Reply::Ready {
            pid: std::process::id(),
            tid,
            at: Timestamp::now(),
        },
    )?;
    for line in input.split(b'\n') {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Request::Run { task, input } = protocol::decode::<Request>(&line)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        misbehave_for_tests(&mut output)?;
        send(
            &mut output,
            &Reply::Started {
                task,
                tid,
                at: Timestamp::now(),
            },
        )?;
        let end = timed(|| runner.run(input, &never));
        let cpu_ns = end.cpu_time.as_nanos() as u64;
        let reply = match end.result {
            Ok(result) => Reply::Finished {
                task,
                at: end.at,
                cpu_ns,
                result,
            },
            Err(error) => Reply::Failed {
                task,
                at: end.at,
                cpu_ns,
                error,
            },
        };
        send(&mut output, &reply)?;
    }
    Ok(())
}

/// Writes one reply line and flushes it.
fn send(output: &mut impl Write, reply: &Reply) -> io::Result<()> {
    output.write_all(&protocol::encode(reply))?;
    output.flush()
}

/// Hidden test switch: `POOLSCOPE_TEST_WORKER_MISBEHAVE` makes a worker hostile when it
/// is handed a task, so tests can check the parent copes: `garbage` writes a line that is
/// not a reply (invalid UTF-8), `endless` writes one endless line, `stderr` floods stderr
/// with 256 KiB and then works normally.
fn misbehave_for_tests(output: &mut impl Write) -> io::Result<()> {
    match std::env::var("POOLSCOPE_TEST_WORKER_MISBEHAVE").as_deref() {
        Ok("garbage") => {
            output.write_all(b"\xff\xfe not a reply\n")?;
            output.flush()
        }
        Ok("endless") => loop {
            output.write_all(&[b'x'; 65536])?;
        },
        Ok("stderr") => {
            let mut err = io::stderr().lock();
            for _ in 0..256 {
                err.write_all(&[b'e'; 1024])?;
            }
            err.write_all(b"\nflooded stderr\n")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(output: &[u8]) -> Vec<Reply> {
        output
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| protocol::decode(l).unwrap())
            .collect()
    }

    #[test]
    fn answers_ready_then_started_and_finished_per_task() {
        let runner = WorkloadRunner::new(Workload::Fib);
        let mut input = protocol::encode(&Request::Run { task: 0, input: 20 });
        input.extend(protocol::encode(&Request::Run { task: 1, input: 0 }));
        let mut output = Vec::new();
        serve(&runner, &input[..], &mut output).unwrap();
        let replies = replies(&output);
        assert_eq!(replies.len(), 5);
        assert!(matches!(replies[0], Reply::Ready { .. }));
        assert!(matches!(replies[1], Reply::Started { task: 0, .. }));
        assert!(matches!(&replies[2], Reply::Finished { task: 0, result, .. } if result == "4181"));
        assert!(matches!(replies[3], Reply::Started { task: 1, .. }));
        assert!(
            matches!(&replies[4], Reply::Failed { task: 1, error, .. } if error.contains("1..=93"))
        );
    }

    #[test]
    fn garbage_on_stdin_is_an_error_not_a_panic() {
        let runner = WorkloadRunner::new(Workload::Fib);
        let mut output = Vec::new();
        let err = serve(&runner, &b"\xff\xfe not json\n"[..], &mut output).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
