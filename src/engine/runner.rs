//! Runs a plan's experiments one after another in a background thread and streams their
//! events.
//!
//! [`start`] returns a [`RunHandle`]: the receiving end of the run's own channel and a way
//! to cancel it. Each run owns its channel, its delay server and its workers, so two runs
//! (a rerun started while the last one winds down) never mix their events, and nothing
//! about a run lives in global state.

use std::path::PathBuf;
use std::thread::JoinHandle;

use anyhow::Context;
use crossbeam_channel::{Receiver, Sender};

use crate::engine::cancel::{CancelToken, Canceller};
use crate::engine::delay_server::DelayServer;
use crate::engine::executor::isolation::ISOLATION_PAUSE;
use crate::engine::executor::{self, ExperimentOutcome, ExperimentRun};
use crate::engine::load::LoadMeter;
use crate::engine::sampler::Sampler;
use crate::engine::workload::{HttpWorkload, Workload};
use crate::model::clock::{self, Timestamp};
use crate::model::event::{Event, ExperimentFigures, RunOutcome};
use crate::model::plan::{ExecutorKind, HttpTarget, Plan, WorkloadKind};

/// How to run, beyond what to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The program started as `poolscope worker` by the process executor.
    pub worker_exe: PathBuf,
}

impl RunOptions {
    /// Workers are this very binary: on Linux through `/proc/self/exe`, which names the
    /// running program's own file even after it was rebuilt, replaced or deleted mid-run.
    pub fn current_exe() -> anyhow::Result<RunOptions> {
        let proc_self = PathBuf::from("/proc/self/exe");
        let worker_exe = if proc_self.exists() {
            proc_self
        } else {
            std::env::current_exe().context("finding poolscope's own binary to start workers")?
        };
        Ok(RunOptions { worker_exe })
    }
}

/// A run in progress: its events, and a way to stop it.
#[derive(Debug)]
pub struct RunHandle {
    /// Every event of the run, ending with [`Event::RunFinished`]; the channel disconnects
    /// once the run's threads are gone.
    pub events: Receiver<Event>,
    canceller: Canceller,
    thread: Option<JoinHandle<()>>,
}

impl RunHandle {
    /// A run streaming into `events`, cancelled through `canceller`, on `thread` (another
    /// source of runs than [`start`]: `poolscope watch`).
    pub fn from_parts(
        events: Receiver<Event>,
        canceller: Canceller,
        thread: JoinHandle<()>,
    ) -> Self {
        RunHandle {
            events,
            canceller,
            thread: Some(thread),
        }
    }

    /// Stops dispatching tasks and kills process workers; the run then sends
    /// `RunFinished { outcome: Cancelled }`.
    pub fn cancel(&self) {
        self.canceller.cancel();
    }

    /// A handle that can cancel this run from another thread (a signal handler).
    pub fn canceller(&self) -> Canceller {
        self.canceller.clone()
    }

    /// Waits for the runner thread (process workers reaped, delay server stopped).
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts running `plan` in a background thread.
///
/// Fails only if the run cannot begin at all (the delay server cannot bind, a thread cannot
/// be spawned); every fault after that becomes a failed task in the event stream.
pub fn start(plan: &Plan, options: &RunOptions) -> anyhow::Result<RunHandle> {
    // Its own reading of the wall clock, held until the run's thread ends.
    let clock = clock::ClockAnchor::for_new_run();
    if let Some(recorded) = plan
        .experiments
        .iter()
        .find(|e| e.executor == ExecutorKind::Recorded || e.workload == WorkloadKind::Recorded)
    {
        anyhow::bail!(
            "{} was read from a file: only what poolscope itself runs can run again",
            recorded.name
        );
    }
    if let Some(watched) = plan.experiments.iter().find(|e| e.is_watched()) {
        anyhow::bail!(
            "{} is a watched program: poolscope watch runs it again, not a plan",
            watched.name
        );
    }
    let server = if plan.uses_http() && plan.http.target == HttpTarget::Embedded {
        Some(DelayServer::start(0).context("starting the embedded delay server")?)
    } else {
        None
    };
    let (url_template, proxy_from_env) = match (&plan.http.target, &server) {
        (HttpTarget::Template(t), _) => (t.clone(), true),
        (HttpTarget::Embedded, Some(server)) => (server.url_template(), false),
        (HttpTarget::Embedded, None) => (String::new(), false),
    };
    let http = HttpWorkload {
        url_template,
        timeout_ms: plan.http.timeout.as_millis() as u64,
        proxy_from_env,
    };
    let (events_tx, events) = crossbeam_channel::unbounded();
    let canceller = Canceller::new();
    let cancel = canceller.token();
    let plan = plan.clone();
    let options = options.clone();
    let thread = std::thread::Builder::new()
        .name("poolscope-runner".into())
        .spawn(move || {
            run_plan(&plan, &http, &options, &events_tx, &cancel);
            drop(server);
            drop(clock);
        })
        .context("spawning the runner thread")?;
    Ok(RunHandle {
        events,
        canceller,
        thread: Some(thread),
    })
}

fn run_plan(
    plan: &Plan,
    http: &HttpWorkload,
    options: &RunOptions,
    events: &Sender<Event>,
    cancel: &CancelToken,
) {
    let _ = events.send(Event::RunStarted {
        at: Timestamp::now(),
        cores: plan
            .sched
            .cpus
            .as_ref()
            .map_or_else(clock::available_cores, Vec::len),
        experiments: plan.experiments.len(),
    });
    let sampler = Sampler::start(plan.sched.sample_interval, events.clone());
    let allowed = crate::engine::cpus::allowed();
    let mut outcome = RunOutcome::Completed;
    for (index, experiment) in plan.experiments.iter().enumerate() {
        if cancel.is_cancelled() {
            outcome = RunOutcome::Cancelled;
            break;
        }
        let workload = match experiment.workload {
            WorkloadKind::Fib => Workload::Fib,
            WorkloadKind::Http => Workload::Http(http.clone()),
            WorkloadKind::Sleep => Workload::Sleep,
            WorkloadKind::Isolation => Workload::Isolation {
                pause_ms: ISOLATION_PAUSE.as_millis() as u64,
            },
            // `start` refuses plans read from files or watched.
            WorkloadKind::Recorded | WorkloadKind::Watched => continue,
        };
        let _ = events.send(Event::ExperimentStarted {
            experiment: index,
            plan: experiment.clone(),
            at: Timestamp::now(),
        });
        let run = ExperimentRun {
            experiment: index,
            plan: experiment,
            workload: &workload,
            events,
            cancel,
            worker_exe: &options.worker_exe,
            sched: &plan.sched,
            sampler: sampler.handle(),
        };
        let load = LoadMeter::start(plan.sched.cpus.as_deref().unwrap_or(&allowed));
        let ended = executor::run_experiment(&run);
        sampler.handle().forget(index);
        // What the rest of the machine did meanwhile, before the experiment is said done.
        let _ = events.send(Event::Figures(ExperimentFigures {
            experiment: index,
            others_cpu: load.as_ref().and_then(LoadMeter::others_cpu),
            ..ExperimentFigures::default()
        }));
        match ended {
            ExperimentOutcome::Completed => {
                let _ = events.send(Event::ExperimentFinished {
                    experiment: index,
                    at: Timestamp::now(),
                });
            }
            ExperimentOutcome::Cancelled => {
                outcome = RunOutcome::Cancelled;
                break;
            }
        }
    }
    drop(sampler);
    let _ = events.send(Event::RunFinished {
        at: Timestamp::now(),
        outcome,
    });
}
