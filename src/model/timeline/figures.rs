//! What is computed from a timeline rather than recorded in it: the post's speed-ups,
//! parallel efficiency, and what a task's worker was doing while it ran.

use std::time::Duration;

use super::Timeline;
use super::experiment::Experiment;
use super::lane::StateShare;
use crate::model::clock::Timestamp;
use crate::model::plan::{ExecutorKind, WorkloadKind};

/// "efficiency = cpu time / (2 cores × makespan)" ("1 core" with `--cpus 0`): how
/// [`Experiment::efficiency`] is computed, in words for a table's foot.
pub fn efficiency_formula(cores: usize) -> String {
    if cores == 0 {
        return "efficiency needs the cores and CPU times, which the files do not record".into();
    }
    let noun = if cores == 1 { "core" } else { "cores" };
    format!("efficiency = cpu time / ({cores} {noun} × makespan)")
}

/// From this many CPUs used by other processes on (averaged over an experiment), the
/// machine was busy enough to skew the experiment's figures, and poolscope says so.
pub const BUSY_MACHINE: f64 = 0.25;

/// The post's comparison for one workload: (threads − processes) / threads × 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Speedup {
    /// The workload compared.
    pub workload: WorkloadKind,
    /// The thread pool processes are compared with: threads, or gil.
    pub baseline: ExecutorKind,
    /// Percent by which processes beat the threads (negative: the threads were faster).
    pub percent: f64,
}

impl Speedup {
    /// "Process vs Threads Fibonacci tasks speed-up", "Process vs GIL threads HTTP Get tasks
    /// speed-up": the post's words, the GIL's in the same form.
    pub fn label(&self) -> String {
        format!(
            "Process vs {} {} tasks speed-up",
            Self::baseline_words(self.baseline),
            self.workload.speedup_label()
        )
    }

    /// "Threads", "GIL threads".
    pub fn baseline_words(baseline: ExecutorKind) -> &'static str {
        match baseline {
            ExecutorKind::Gil => "GIL threads",
            _ => "Threads",
        }
    }
}

impl Timeline {
    /// finished, each with at least one task that succeeded), the percent by which
    /// processes beat the threads, against Rust's threads first, then against GIL threads;
    /// workloads in order of appearance within each.
    pub fn speedups(&self) -> Vec<Speedup> {
        let mut speedups = Vec::new();
        for baseline in [ExecutorKind::Threads, ExecutorKind::Gil] {
            // Recordings compare within one source (a folder of CSVs, a trace file).
            let mut workloads: Vec<(WorkloadKind, Option<&str>)> = Vec::new();
            for e in &self.experiments {
                let key = (e.plan.workload, e.plan.recorded_from.as_deref());
                // The isolation demo measures no speed, only what each side sees.
                if !workloads.contains(&key)
                    && !matches!(
                        e.plan.workload,
                        WorkloadKind::Isolation | WorkloadKind::Recorded
                    )
                {
                    workloads.push(key);
                }
            }
            for (workload, source) in workloads {
                // An experiment whose every task failed measured nothing worth comparing.
                let makespan_of = |kind: ExecutorKind| {
                    self.experiments
                        .iter()
                        .find(|x| {
                            x.plan.workload == workload
                                && x.plan.executor == kind
                                && x.plan.recorded_from.as_deref() == source
                        })
                        .filter(|x| x.succeeded() > 0)
                        .and_then(Experiment::makespan)
                };
                let (Some(p), Some(t)) =
                    (makespan_of(ExecutorKind::Processes), makespan_of(baseline))
                else {
                    continue;
                };
                if t.is_zero() {
                    continue;
                }
                let percent = (t.as_secs_f64() - p.as_secs_f64()) / t.as_secs_f64() * 100.0;
                speedups.push(Speedup {
                    workload,
                    baseline,
                    percent,
                });
            }
        }
        speedups
    }
}

impl Experiment {
    /// Parallel efficiency: CPU time / (cores × wall time), over `elapsed`.
    ///
    /// 100 % means every core was busy with tasks for the whole experiment.
    pub fn efficiency(&self, cores: usize, elapsed: Duration) -> Option<f64> {
        let denominator = cores as f64 * elapsed.as_secs_f64();
        (denominator > 0.0 && self.cpu_measured())
            .then(|| self.cpu_time().as_secs_f64() / denominator)
    }

    /// "the machine was busy: other processes used 1.0 of 2 CPUs during thread-fibo; its
    /// figures are skewed", when they used at least [`BUSY_MACHINE`] CPUs (`cores`: the
    /// CPUs the run had).
    pub fn busy_note(&self, cores: Option<usize>) -> Option<String> {
        let others = self.others_cpu().filter(|&x| x >= BUSY_MACHINE)?;
        let of = cores.map_or(String::new(), |c| {
            format!(" of {c} CPU{}", if c == 1 { "" } else { "s" })
        });
        Some(format!(
            "the machine was busy: other processes used {others:.1}{of} during {}; its figures are skewed",
            crate::model::display::safe(&self.plan.name)
        ))
    }

    /// What the inspector shows about task `index` at `now`.
    pub fn task_detail(&self, index: usize, now: Timestamp) -> Option<TaskDetail> {
        let task = self.task(index)?;
        let start = task.started_at?;
        let end = task.ended_at.unwrap_or(now).max(start);
        let elapsed = end.since(start);
        let lane = self.lane_of(index);
        let share = lane
            .map(|l| {
                l.state_in(
                    start.as_micros(),
                    end.as_micros().max(start.as_micros() + 1),
                    now.as_micros(),
                )
            })
            .filter(StateShare::is_known);
        let cpu_time = task.cpu_time().or_else(|| {
            let open = lane?.open_task_cpu();
            (task.ended_at.is_none() && !open.is_zero()).then_some(open)
        });
        let gil = matches!(
            self.plan.executor,
            ExecutorKind::Gil | ExecutorKind::Watched
        )
        .then(|| share.map(|s| (elapsed.mul_f32(s.gil_held), elapsed.mul_f32(s.gil_wait))))
        .flatten();
        Some(TaskDetail {
            elapsed,
            cpu_time,
            states: share,
            gil,
        })
    }
}

/// What one task's worker was doing while the task ran, for the inspector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskDetail {
    /// Wall time, start to end (or to now).
    pub elapsed: Duration,
    /// CPU time: measured at the end, or sampled so far while it runs.
    pub cpu_time: Option<Duration>,
    /// Shares of the task's time running / waiting for a CPU / blocked, and the GIL's, if
    /// anything was recorded.
    pub states: Option<StateShare>,
    /// Time holding and waiting for the simulated GIL (gil executor only).
    pub gil: Option<(Duration, Duration)>,
}
