//! One unit of work: recursive Fibonacci, an HTTP GET that waits on the server, or a sleep.
//!
//! Workloads know nothing about threads, processes or events; executors call
//! [`WorkloadRunner::run`] on whatever worker they own and time it themselves. A
//! [`Workload`] is serializable because a child process receives it on its command line.
//! The HTTP GET itself (the whole body, streamed and counted) is [`crate::engine::http`].

use std::cell::Cell;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::cancel::CancelToken;
use crate::engine::http;
use crate::model::clock;
use crate::model::plan::WorkloadKind;

/// The largest n whose Fibonacci number (1-based, fib(1) = 0) fits in a `u64`.
pub const FIB_MAX: u64 = 93;

/// Recursive Fibonacci with the seed's 1-based convention: fib(1) = 0, fib(2) = 1,
/// fib(n) = fib(n-1) + fib(n-2).
///
/// Deliberately naive (no memo, no closed form): it is the CPU-bound load, and its
/// exponential cost is the point. `n` must be in `1..=FIB_MAX`; 0 returns 0.
pub fn fib(n: u64) -> u64 {
    fib_kernel(n)
}

/// The recursion itself, kept private so it runs at the speed of the same function compiled
/// alone. A public function of a library is exported, and in a position-independent build
/// its calls to itself go through the global offset table (the symbol could be interposed):
/// an indirect call, a register saved and loaded and the stack realigned on every call, 22 %
/// more instructions than a standalone copy (valgrind, fib(30) − fib(20): 22.8 M against
/// 18.7 M). A private function calls itself directly.
fn fib_kernel(n: u64) -> u64 {
    match n {
        0 | 1 => 0,
        2 => 1,
        _ => fib_kernel(n - 1) + fib_kernel(n - 2),
    }
}

/// Below this n, [`fib_until`] recurses without looking at its `stop` check: a subtree of
/// fib(20) is ~10 000 calls, tens of microseconds, so a stop is seen that soon while the
/// check runs on well under 0.1 % of the calls (the fib benchmark does not move).
pub const FIB_CHECK_FROM: u64 = 20;

/// [`fib`], stopping early when `stop` says so; `None` if it stopped.
///
/// `stop` is called at every call with n ≥ [`FIB_CHECK_FROM`]: the cancellation check of an
/// in-process task, and the place a simulated interpreter lock can be handed over.
pub fn fib_until(n: u64, stop: &mut impl FnMut() -> bool) -> Option<u64> {
    if n < FIB_CHECK_FROM {
        return Some(fib(n));
    }
    if stop() {
        return None;
    }
    Some(fib_until(n - 1, stop)? + fib_until(n - 2, stop)?)
}

/// A workload with everything a worker needs to run it, in this process or another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Workload {
    /// Recursive Fibonacci of the input.
    Fib,
    /// GET the URL made from a template by replacing `{ms}` with the input.
    Http(HttpWorkload),
    /// Sleep for the input in milliseconds.
    Sleep,
    /// Wait `pause_ms`, then read this process's [`ISOLATION_X`]: the post's demo.
    Isolation {
        /// The pause before each read.
        pause_ms: u64,
    },
}

/// The isolation demo's global X: one per process, as a Python module global is. Threads
/// of poolscope share it with the main side that sets it; a worker process has its own,
/// which nobody sets.
pub static ISOLATION_X: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How the http workload makes its requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpWorkload {
    /// A URL containing `{ms}`.
    pub url_template: String,
    /// Connect timeout and overall timeout of one request, in milliseconds.
    pub timeout_ms: u64,
    /// Whether to honour `HTTP_PROXY`/`NO_PROXY` (off for the embedded loopback server).
    pub proxy_from_env: bool,
}

impl Workload {
    /// Which kind of workload this is.
    pub fn kind(&self) -> WorkloadKind {
        match self {
            Workload::Fib => WorkloadKind::Fib,
            Workload::Http(_) => WorkloadKind::Http,
            Workload::Sleep => WorkloadKind::Sleep,
            Workload::Isolation { .. } => WorkloadKind::Isolation,
        }
    }
}

/// A workload ready to run: holds what is worth building once per worker (the HTTP agent
/// and its connection pool).
#[derive(Debug)]
pub struct WorkloadRunner {
    workload: Workload,
    agent: Option<ureq::Agent>,
}

impl WorkloadRunner {
    /// Prepares `workload` for running (builds the HTTP agent once).
    pub fn new(workload: Workload) -> Self {
        let agent = match &workload {
            Workload::Http(settings) => Some(http::agent(
                Duration::from_millis(settings.timeout_ms),
                settings.proxy_from_env,
            )),
            Workload::Fib | Workload::Sleep | Workload::Isolation { .. } => None,
        };
        WorkloadRunner { workload, agent }
    }

    /// The workload this runner runs.
    pub fn workload(&self) -> &Workload {
        &self.workload
    }

    /// Runs one task. `Ok` is the result column, `Err` the error column.
    ///
    /// Every workload stops promptly once `cancel` fires, returning [`CANCELLED`]: fib checks
    /// it while it recurses, a sleep wakes, and an HTTP request in flight is abandoned (a
    /// request still waiting for its answer goes on in a detached thread whose answer
    /// nobody reads; a body being downloaded stops at its next chunk).
    pub fn run(&self, input: u64, cancel: &CancelToken) -> Result<String, String> {
        self.run_with_checkpoint(input, cancel, &mut || true)
    }

    /// Whether the work computes (fib), rather than waits (http, sleep, the isolation
    /// demo's pause): a simulated interpreter holds its lock only around computing.
    pub fn computes(&self) -> bool {
        matches!(self.workload, Workload::Fib)
    }

    /// [`WorkloadRunner::run`], calling `checkpoint` wherever computing work may pause (fib,
    /// as it recurses): the place a simulated GIL is handed over. The work stops, cancelled,
    /// if `checkpoint` returns false.
    pub fn run_with_checkpoint(
        &self,
        input: u64,
        cancel: &CancelToken,
        checkpoint: &mut dyn FnMut() -> bool,
    ) -> Result<String, String> {
        match &self.workload {
            Workload::Fib => {
                if input == 0 || input > FIB_MAX {
                    return Err(format!("fib n must be in 1..={FIB_MAX}, got {input}"));
                }
                fib_until(input, &mut || !checkpoint() || cancel.is_cancelled())
                    .map(|n| n.to_string())
                    .ok_or_else(|| CANCELLED.to_string())
            }
            Workload::Sleep => {
                if cancel.sleep(Duration::from_millis(input)) {
                    Err(CANCELLED.to_string())
                } else {
                    Ok(format!("slept {input} ms"))
                }
            }
            Workload::Isolation { pause_ms } => {
                if cancel.sleep(Duration::from_millis(*pause_ms)) {
                    return Err(CANCELLED.to_string());
                }
                let x = ISOLATION_X.load(std::sync::atomic::Ordering::SeqCst);
                Ok(x.to_string())
            }
            Workload::Http(settings) => {
                let agent = self.agent.as_ref().expect("http runner has an agent");
                let url = settings.url_template.replace("{ms}", &input.to_string());
                if cancel.can_fire() {
                    http_get_abandonable(agent, url, cancel)
                } else {
                    as_task_result(http::get(agent, &url, &|| false))
                }
            }
        }
    }
}

/// The error of a task cut short because its run was cancelled.
pub const CANCELLED: &str = "cancelled";

thread_local! {
    /// CPU time that helper threads spent on this thread's current task (an HTTP download
    /// read on the helper that makes it abandonable), for the executor to add to the task's
    /// own: a 100 MB body costs tens of milliseconds of CPU, and a thread pool's task must
    /// not look cheaper than a worker process's, which reads on its own thread.
    static HELPER_CPU: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Takes (and resets) the CPU time helper threads spent on this thread's task so far.
pub fn take_helper_cpu_time() -> Duration {
    HELPER_CPU.with(|cpu| cpu.replace(Duration::ZERO))
}

/// [`http::get`] on a helper thread, so that a cancel returns at once: a request still
/// waiting for its answer goes on, detached, until the server answers or its timeout passes,
/// and its answer is dropped; a body being read stops at its next chunk (the helper checks
/// the same token), so a cancelled download does not go on eating bandwidth.
/// The helper thread's CPU time is charged to the task ([`take_helper_cpu_time`]) when its
/// answer is taken; an abandoned request's is not (it was nobody's task by then).
fn http_get_abandonable(
    agent: &ureq::Agent,
    url: String,
    cancel: &CancelToken,
) -> Result<String, String> {
    let (answer_tx, answer) = crossbeam_channel::bounded(1);
    let helper_agent = agent.clone();
    let helper_url = url.clone();
    let helper_cancel = cancel.clone();
    let spawned = std::thread::Builder::new()
        .name("poolscope-http".into())
        .spawn(move || {
            let started = clock::thread_cpu_time();
            let stop = || helper_cancel.is_cancelled();
            let result = http::get(&helper_agent, &helper_url, &stop);
            let cpu = clock::thread_cpu_time().saturating_sub(started);
            let _ = answer_tx.send((result, cpu));
        });
    if spawned.is_err() {
        // No thread to spare: read here instead, still stopping between chunks.
        return as_task_result(http::get(agent, &url, &|| cancel.is_cancelled()));
    }
    crossbeam_channel::select! {
        recv(answer) -> answer => match answer {
            Ok((result, cpu)) => {
                HELPER_CPU.with(|charged| charged.set(charged.get() + cpu));
                as_task_result(result)
            }
            Err(_) => Err(format!("GET {url}: the request thread died")),
        },
        recv(cancel.receiver()) -> _ => Err(CANCELLED.to_string()),
    }
}

/// A GET's answer as a task's result: a download its stop check ended was cancelled, as
/// every workload says it.
fn as_task_result(result: Result<String, http::GetError>) -> Result<String, String> {
    result.map_err(|e| match e {
        http::GetError::Stopped => CANCELLED.to_string(),
        http::GetError::Failed(why) => why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fib_uses_the_seeds_one_based_convention() {
        assert_eq!(fib(1), 0);
        assert_eq!(fib(2), 1);
        assert_eq!(fib(3), 1);
        assert_eq!(fib(10), 34);
        assert_eq!(fib(30), 514_229);
    }

    #[test]
    fn fib_until_agrees_with_fib_and_stops_when_asked() {
        assert_eq!(fib_until(35, &mut || false), Some(fib(35)));
        assert_eq!(
            fib_until(10, &mut || true),
            Some(34),
            "small n never checks"
        );
        let mut checks = 0;
        assert_eq!(
            fib_until(60, &mut || {
                checks += 1;
                checks > 100
            }),
            None
        );
        assert_eq!(checks, 101, "stops at the first check that says so");
    }

    #[test]
    fn a_cancelled_fib_returns_at_once() {
        let canceller = crate::engine::cancel::Canceller::new();
        canceller.cancel();
        let runner = WorkloadRunner::new(Workload::Fib);
        assert_eq!(runner.run(90, &canceller.token()), Err(CANCELLED.into()));
    }

    #[test]
    fn fib_41_is_102334155() {
        assert_eq!(fib(41), 102_334_155);
    }

    #[test]
    fn fib_runner_rejects_inputs_outside_the_u64_range() {
        let runner = WorkloadRunner::new(Workload::Fib);
        let never = CancelToken::never();
        assert_eq!(runner.run(20, &never), Ok("4181".to_string()));
        assert!(runner.run(0, &never).unwrap_err().contains("1..=93"));
        assert!(runner.run(94, &never).is_err());
    }

    #[test]
    fn workload_round_trips_through_json() {
        let w = Workload::Http(HttpWorkload {
            url_template: "http://127.0.0.1:1/200?sleep={ms}".into(),
            timeout_ms: 1500,
            proxy_from_env: false,
        });
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Workload>(&json).unwrap(), w);
    }
}
