//! Statistics over repeated runs of one plan, as hyperfine gives them: per experiment the
//! mean ± σ and min … max of the makespan; per workload, for every two executors, how many
//! times faster one ran than the other, with its spread ("processes ran 1.17 ± 0.10× faster
//! than threads").
//!
//! Ratios are taken run by run (the two experiments of one run shared the machine's mood of
//! the moment) and then averaged, which on a noisy machine gives a far tighter spread than
//! dividing two means. One run has no spread: it is "too few to tell", and the text says so
//! rather than print a number that looks precise.
//!
//! Whether a ratio is a difference or noise is decided on the mean, not on single runs: its
//! standard error (σ / √n) gives a 95 % confidence interval (Student's t for n − 1 degrees
//! of freedom), and one executor is "faster" when the whole interval lies above 1. So more
//! runs can settle a small real difference: 20 runs at 1.05 ± 0.06 have a standard error of
//! 0.013 and an interval of 1.02–1.08, a difference; 3 runs at 1.02 ± 0.05 do not.

use serde::Serialize;

use crate::model::plan::{ExecutorKind, WorkloadKind};
use crate::model::timeline::{Experiment, Timeline};

/// Fewer runs than this cannot tell noise from a difference.
pub const ENOUGH_RUNS: usize = 3;

/// Mean, standard deviation (sample), min and max of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// How many values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (0 for one value).
    pub sd: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` if there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Spread {
            n,
            mean,
            sd,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// One experiment's makespans over the runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentStats {
    /// Its name (`process-fibo`).
    pub name: String,
    /// Its executor.
    pub executor: ExecutorKind,
    /// Its workload.
    pub workload: WorkloadKind,
    /// Makespans in seconds, over the runs where it finished with a task that succeeded.
    pub makespan_s: Spread,
}

/// How two executors compare on one workload over the runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ratio {
    /// The workload.
    pub workload: WorkloadKind,
    /// The executor that ran faster on average.
    pub faster: ExecutorKind,
    /// The one it is compared against (the baseline).
    pub slower: ExecutorKind,
    /// slower's makespan / faster's, run by run.
    pub ratio: Spread,
    /// The standard error of the mean ratio (σ / √n).
    pub standard_error: f64,
    /// The 95 % confidence interval of the mean ratio (Student's t), with two runs or more.
    pub interval: Option<(f64, f64)>,
    /// What the numbers allow one to say.
    pub verdict: Verdict,
}

/// What a ratio's runs allow one to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fewer than [`ENOUGH_RUNS`] runs.
    TooFewRuns,
    /// The 95 % confidence interval of the mean ratio reaches 1: no difference shown.
    WithinNoise,
    /// The whole 95 % interval of the mean ratio lies above 1.
    Faster,
}

/// Per experiment (by name, in the first run's order), the spread of its makespan.
pub fn experiments(runs: &[&Timeline]) -> Vec<ExperimentStats> {
    let mut names: Vec<&Experiment> = Vec::new();
    for run in runs {
        for e in run.experiments() {
            if !names.iter().any(|n| n.plan.name == e.plan.name) {
                names.push(e);
            }
        }
    }
    names
        .into_iter()
        .filter_map(|first| {
            let makespans: Vec<f64> = runs
                .iter()
                .filter_map(|run| makespan(run, first.plan.executor, first.plan.workload))
                .collect();
            Some(ExperimentStats {
                name: first.plan.name.clone(),
                executor: first.plan.executor,
                workload: first.plan.workload,
                makespan_s: Spread::of(&makespans)?,
            })
        })
        .collect()
}

/// The makespan (s) of the experiment of `executor` × `workload` in `run`, if it finished
/// with at least one task that succeeded.
fn makespan(run: &Timeline, executor: ExecutorKind, workload: WorkloadKind) -> Option<f64> {
    run.experiments()
        .iter()
        .find(|e| e.plan.executor == executor && e.plan.workload == workload)
        .filter(|e| e.succeeded() > 0)
        .and_then(Experiment::makespan)
        .map(|m| m.as_secs_f64())
        .filter(|&m| m > 0.0)
}

/// For every workload and every two executors that ran it, which ran faster and by how
/// many times, run by run.
pub fn ratios(runs: &[&Timeline]) -> Vec<Ratio> {
    let stats = experiments(runs);
    let mut out = Vec::new();
    let mut workloads: Vec<WorkloadKind> = Vec::new();
    for s in &stats {
        if !workloads.contains(&s.workload)
            && !matches!(s.workload, WorkloadKind::Isolation | WorkloadKind::Recorded)
        {
            workloads.push(s.workload);
        }
    }
    for workload in workloads {
        let executors: Vec<&ExperimentStats> =
            stats.iter().filter(|s| s.workload == workload).collect();
        for (i, a) in executors.iter().enumerate() {
            for b in &executors[i + 1..] {
                let (faster, slower) = if a.makespan_s.mean <= b.makespan_s.mean {
                    (a, b)
                } else {
                    (b, a)
                };
                // Paired: both from the same run.
                let per_run: Vec<f64> = runs
                    .iter()
                    .filter_map(|run| {
                        Some(
                            makespan(run, slower.executor, workload)?
                                / makespan(run, faster.executor, workload)?,
                        )
                    })
                    .collect();
                let Some(ratio) = Spread::of(&per_run) else {
                    continue;
                };
                let standard_error = ratio.sd / (ratio.n as f64).sqrt();
                let interval = (ratio.n > 1).then(|| {
                    let half = student_t_975(ratio.n - 1) * standard_error;
                    (ratio.mean - half, ratio.mean + half)
                });
                let verdict = match interval {
                    _ if ratio.n < ENOUGH_RUNS => Verdict::TooFewRuns,
                    Some((low, _)) if low > 1.0 => Verdict::Faster,
                    _ => Verdict::WithinNoise,
                };
                out.push(Ratio {
                    workload,
                    faster: faster.executor,
                    slower: slower.executor,
                    ratio,
                    standard_error,
                    interval,
                    verdict,
                });
            }
        }
    }
    out
}

/// Student's t at 97.5 % for `df` degrees of freedom: the half-width of a 95 % two-sided
/// confidence interval, in standard errors (1.96 for many runs, 4.30 for three).
pub fn student_t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        31..=40 => 2.021,
        41..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

impl Ratio {
    /// Whether the two ran alike as far as two decimals tell (1.00×), where the runs do
    /// not show a difference: "1.00× faster" would read as nonsense.
    fn alike(&self) -> bool {
        self.verdict != Verdict::Faster
            && (self.ratio.mean - 1.0).abs() < 0.005
            && self.ratio.sd < 0.005
    }

    /// `95 % interval 1.02–1.08`, with two runs or more.
    fn interval_text(&self) -> String {
        self.interval.map_or(String::new(), |(low, high)| {
            format!("; 95 % interval {low:.2}–{high:.2}")
        })
    }

    /// `fib: processes ran 1.17 ± 0.10× faster than threads (5 runs)`, or what the runs
    /// cannot tell.
    pub fn line(&self) -> String {
        let r = &self.ratio;
        let what = self.workload.speedup_label();
        let runs = format!("{} run{}", r.n, if r.n == 1 { "" } else { "s" });
        match self.verdict {
            Verdict::TooFewRuns if self.alike() && r.n == 1 => format!(
                "{what}: {} and {} ran alike ({:.2}×) in one run: too few runs to tell noise from a difference (--runs {ENOUGH_RUNS} or more)",
                self.faster, self.slower, r.mean
            ),
            Verdict::TooFewRuns if self.alike() => format!(
                "{what}: {} and {} ran alike: {:.2} ± {:.2}× ({runs}): too few runs to tell (--runs {ENOUGH_RUNS} or more)",
                self.faster, self.slower, r.mean, r.sd
            ),
            Verdict::TooFewRuns if r.n == 1 => format!(
                "{what}: {} ran {:.2}× faster than {} in one run: too few runs to tell noise from a difference (--runs {ENOUGH_RUNS} or more)",
                self.faster, r.mean, self.slower
            ),
            Verdict::TooFewRuns => format!(
                "{what}: {} ran {:.2} ± {:.2}× faster than {} ({runs}): too few runs to tell (--runs {ENOUGH_RUNS} or more)",
                self.faster, r.mean, r.sd, self.slower
            ),
            Verdict::WithinNoise => format!(
                "{what}: {} and {} are within the noise: {:.2} ± {:.2}× ({runs}{}, which reaches 1)",
                self.faster,
                self.slower,
                r.mean,
                r.sd,
                self.interval_text()
            ),
            Verdict::Faster => format!(
                "{what}: {} ran {:.2} ± {:.2}× faster than {} ({runs}{})",
                self.faster,
                r.mean,
                r.sd,
                self.slower,
                self.interval_text()
            ),
        }
    }

    /// What the view's verdict says of it, naming both executors and which way it runs:
    /// `processes 1.85 ± 0.12× faster than gil`, or `processes and threads within the
    /// noise: 1.05 ± 0.12×` (too few runs are said once for all, beside the ratios).
    pub fn words(&self) -> String {
        let r = &self.ratio;
        let spread = if r.n > 1 {
            format!(" ± {:.2}", r.sd)
        } else {
            String::new()
        };
        match self.verdict {
            Verdict::WithinNoise => format!(
                "{} and {} within the noise: {:.2}{spread}×",
                self.faster, self.slower, r.mean
            ),
            Verdict::TooFewRuns if self.alike() => format!(
                "{} and {} alike: {:.2}{spread}×",
                self.faster, self.slower, r.mean
            ),
            Verdict::Faster | Verdict::TooFewRuns => format!(
                "{} {:.2}{spread}× faster than {}",
                self.faster, r.mean, self.slower
            ),
        }
    }
}

/// The text headless prints after several runs (and the view on quitting): a table of
/// makespans, then the ratios.
pub fn report(runs: &[&Timeline]) -> String {
    let mut out = format!("\nOver {} runs:\n", runs.len());
    out.push_str(&format!(
        "{:<18} {:>22} {:>22}\n",
        "experiment", "makespan mean ± σ", "min … max"
    ));
    for s in experiments(runs) {
        let m = s.makespan_s;
        // Milliseconds for experiments under a second: "0.001 s ± 0.000 s" tells nothing.
        let time = |seconds: f64| {
            if m.max < 1.0 {
                format!("{:.1} ms", seconds * 1e3)
            } else {
                format!("{seconds:.3} s")
            }
        };
        out.push_str(&format!(
            "{} {:>22} {:>22}\n",
            crate::model::display::pad(&s.name, 18),
            format!("{} ± {}", time(m.mean), time(m.sd)),
            format!("{} … {}", time(m.min), time(m.max))
        ));
    }
    for ratio in ratios(runs) {
        out.push_str(&ratio.line());
        out.push('\n');
    }
    out
}

/// `stats.json`: the number of runs, each experiment's makespan spread, every ratio.
pub fn stats_json(runs: &[&Timeline]) -> Vec<u8> {
    #[derive(Serialize)]
    struct Stats {
        runs: usize,
        experiments: Vec<ExperimentStats>,
        speedups: Vec<Ratio>,
    }
    let stats = Stats {
        runs: runs.len(),
        experiments: experiments(runs),
        speedups: ratios(runs),
    };
    let mut bytes = serde_json::to_vec_pretty(&stats).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::clock::Timestamp;
    use crate::model::event::Event;
    use crate::model::plan::ExperimentPlan;

    /// A run where processes take `p` ms and threads `t` ms on fib.
    fn run(p: u64, t: u64) -> Timeline {
        let mut events = Vec::new();
        for (i, (executor, ms)) in [(ExecutorKind::Processes, p), (ExecutorKind::Threads, t)]
            .into_iter()
            .enumerate()
        {
            let plan = ExperimentPlan::new(executor, WorkloadKind::Fib, vec![30], 1);
            events.push(Event::ExperimentStarted {
                experiment: i,
                plan,
                at: Timestamp(0),
            });
            let worker = crate::model::event::WorkerId {
                index: 0,
                pid: 1,
                tid: 1,
            };
            for (at, kind) in [
                (0, crate::model::event::TaskEventKind::Started),
                (
                    ms * 1000,
                    crate::model::event::TaskEventKind::Finished {
                        result: "1".into(),
                        cpu_time: None,
                    },
                ),
            ] {
                events.push(Event::Task(crate::model::event::TaskEvent {
                    experiment: i,
                    task: 0,
                    input: 30,
                    worker,
                    at: Timestamp(at),
                    kind,
                }));
            }
            events.push(Event::ExperimentFinished {
                experiment: i,
                at: Timestamp(ms * 1000),
            });
        }
        Timeline::from_events(&events)
    }

    #[test]
    fn spread_is_the_sample_standard_deviation() {
        let s = Spread::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.mean, 5.0);
        assert!((s.sd - 2.138).abs() < 1e-3);
        assert_eq!((s.min, s.max), (2.0, 9.0));
        assert_eq!(Spread::of(&[3.0]).unwrap().sd, 0.0);
        assert!(Spread::of(&[]).is_none());
    }

    #[test]
    fn ratios_are_paired_per_run_with_their_spread() {
        // Processes twice as fast in every run, while the machine's speed swings.
        let runs = [run(100, 200), run(150, 300), run(80, 160), run(120, 240)];
        let refs: Vec<&Timeline> = runs.iter().collect();
        let ratios = ratios(&refs);
        assert_eq!(ratios.len(), 1);
        let r = &ratios[0];
        assert_eq!(
            (r.faster, r.slower),
            (ExecutorKind::Processes, ExecutorKind::Threads)
        );
        assert!((r.ratio.mean - 2.0).abs() < 1e-9);
        assert!(r.ratio.sd < 1e-9, "paired: no spread at all");
        assert_eq!(r.verdict, Verdict::Faster);
        assert_eq!(
            r.line(),
            "Fibonacci: processes ran 2.00 ± 0.00× faster than threads (4 runs; 95 % interval 2.00–2.00)"
        );
        let stats = experiments(&refs);
        assert_eq!(stats[0].name, "process-fibo");
        assert!((stats[0].makespan_s.mean - 0.1125).abs() < 1e-9);
        assert_eq!(
            (stats[0].makespan_s.min, stats[0].makespan_s.max),
            (0.08, 0.15)
        );
    }

    #[test]
    fn noise_and_too_few_runs_are_said() {
        let noisy = [run(100, 110), run(110, 100), run(100, 104)];
        let refs: Vec<&Timeline> = noisy.iter().collect();
        let r = &ratios(&refs)[0];
        assert_eq!(r.verdict, Verdict::WithinNoise);
        assert!(r.line().contains("within the noise"), "{}", r.line());
        assert!(
            r.words()
                .starts_with("processes and threads within the noise: 1.0"),
            "{}",
            r.words()
        );

        let one = [run(100, 120)];
        let refs: Vec<&Timeline> = one.iter().collect();
        let r = &ratios(&refs)[0];
        assert_eq!(r.verdict, Verdict::TooFewRuns);
        assert!(r.line().contains("too few runs to tell"), "{}", r.line());
        assert_eq!(r.words(), "processes 1.20× faster than threads");

        // Two runs that ran alike: never "1.00× faster".
        let alike = [run(100, 100), run(200, 200)];
        let refs: Vec<&Timeline> = alike.iter().collect();
        let r = &ratios(&refs)[0];
        assert_eq!(r.verdict, Verdict::TooFewRuns);
        assert_eq!(r.words(), "processes and threads alike: 1.00 ± 0.00×");
        assert_eq!(
            r.line(),
            "Fibonacci: processes and threads ran alike: 1.00 ± 0.00× (2 runs): too few runs to tell (--runs 3 or more)"
        );
        // A mean of 1.00 with a spread is not "alike": the runs disagree.
        let swinging = [run(100, 105), run(105, 100)];
        let refs: Vec<&Timeline> = swinging.iter().collect();
        let r = &ratios(&refs)[0];
        assert!(r.ratio.sd > 0.05, "{}", r.ratio.sd);
        assert!(!r.words().contains("alike"), "{}", r.words());
    }

    /// The table of makespans speaks in milliseconds for experiments under a second.
    #[test]
    fn the_report_gives_short_makespans_in_milliseconds() {
        let runs = [run(1, 2), run(2, 3)];
        let refs: Vec<&Timeline> = runs.iter().collect();
        let text = report(&refs);
        let row = text
            .lines()
            .find(|l| l.starts_with("process-fibo"))
            .unwrap();
        assert!(
            row.contains("1.5 ms ± 0.7 ms") && row.contains("1.0 ms … 2.0 ms"),
            "{row}"
        );
        let long = [run(1500, 2000), run(1600, 2100)];
        let refs: Vec<&Timeline> = long.iter().collect();
        let text = report(&refs);
        let row = text
            .lines()
            .find(|l| l.starts_with("process-fibo"))
            .unwrap();
        assert!(row.contains("1.550 s ± 0.071 s"), "{row}");
    }

    /// Many runs settle a small difference their single ratios could not: 20 runs at
    /// 1.05 ± 0.06 are a difference (standard error 0.013), 3 runs at that spread are not.
    #[test]
    fn noise_is_decided_by_the_standard_error_of_the_mean_ratio() {
        // Threads take 1.05 times as long on average, ± 0.06 from run to run.
        let swings = [
            -0.06, 0.06, -0.05, 0.05, -0.07, 0.07, 0.0, -0.04, 0.04, -0.08, 0.08, 0.01, -0.01,
            0.06, -0.06, 0.03, -0.03, 0.05, -0.05, 0.0,
        ];
        let runs: Vec<Timeline> = swings
            .iter()
            .map(|s| run(1000, (1000.0 * (1.05 + s)) as u64))
            .collect();
        let refs: Vec<&Timeline> = runs.iter().collect();
        let r = &ratios(&refs)[0];
        assert_eq!(r.ratio.n, 20);
        assert!((r.ratio.mean - 1.05).abs() < 0.002, "{}", r.ratio.mean);
        assert!((r.ratio.sd - 0.05).abs() < 0.02, "{}", r.ratio.sd);
        assert!((r.standard_error - r.ratio.sd / 20f64.sqrt()).abs() < 1e-12);
        assert!(
            r.ratio.mean - r.ratio.sd <= 1.0,
            "one σ of single runs reaches 1"
        );
        assert_eq!(r.verdict, Verdict::Faster, "{}", r.line());
        assert!(r.line().contains("95 % interval 1.0"), "{}", r.line());
        // The same spread over three runs cannot tell.
        let refs: Vec<&Timeline> = runs[..3].iter().collect();
        let r = &ratios(&refs)[0];
        assert_eq!(r.verdict, Verdict::WithinNoise, "{}", r.line());
        assert!(r.line().contains("which reaches 1"), "{}", r.line());
        assert_eq!(student_t_975(2), 4.303);
        assert_eq!(student_t_975(1000), 1.96);
    }

    #[test]
    fn stats_json_holds_runs_experiments_and_speedups() {
        let runs = [run(100, 200), run(100, 210), run(110, 200)];
        let refs: Vec<&Timeline> = runs.iter().collect();
        let json: serde_json::Value = serde_json::from_slice(&stats_json(&refs)).unwrap();
        assert_eq!(json["runs"], 3);
        assert_eq!(json["experiments"][1]["name"], "thread-fibo");
        assert_eq!(json["speedups"][0]["faster"], "processes");
        assert_eq!(json["speedups"][0]["verdict"], "faster");
        assert!(json["speedups"][0]["ratio"]["sd"].as_f64().unwrap() > 0.0);
    }
}
