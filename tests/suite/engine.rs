//! The engine through its library API: event streams from every executor, in order, with
//! the workers' identities, and cancellation.

use crate::common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use poolscope::engine::runner::{self, RunOptions};
use poolscope::model::event::{Event, RunOutcome, TaskEventKind};
use poolscope::model::plan::{ExecutorKind, HttpSettings, Plan, WorkloadKind};

fn options() -> RunOptions {
    RunOptions {
        worker_exe: PathBuf::from(common::bin()),
    }
}

fn collect(plan: &Plan) -> Vec<Event> {
    common::collect_events(plan, |_| {})
}

/// For every task: exactly one Started, then exactly one end, inside its experiment's
/// Started/Finished, from a worker that announced itself first.
#[test]
fn every_executor_streams_started_then_ended_per_task() {
    let plan = Plan::from_parts(
        &[WorkloadKind::Fib, WorkloadKind::Sleep],
        &[
            ExecutorKind::Processes,
            ExecutorKind::Threads,
            ExecutorKind::Sequential,
        ],
        &[15, 18, 20, 22, 19],
        &[5, 1, 10],
        Some(3),
        HttpSettings::default(),
    );
    let events = collect(&plan);
    assert!(matches!(
        events.first(),
        Some(Event::RunStarted { experiments: 6, .. })
    ));
    assert!(matches!(
        events.last(),
        Some(Event::RunFinished {
            outcome: RunOutcome::Completed,
            ..
        })
    ));

    let mut open_experiment = None;
    let mut workers_seen: HashMap<(usize, usize), u32> = HashMap::new();
    let mut task_log: HashMap<(usize, usize), Vec<&'static str>> = HashMap::new();
    let mut finished_experiments = Vec::new();
    for event in &events {
        match event {
            Event::ExperimentStarted { experiment, .. } => {
                assert_eq!(open_experiment, None, "experiments run one after another");
                open_experiment = Some(*experiment);
            }
            Event::WorkerStarted {
                experiment, worker, ..
            } => {
                assert_eq!(Some(*experiment), open_experiment);
                workers_seen.insert((*experiment, worker.index), worker.pid);
            }
            Event::Task(t) => {
                assert_eq!(
                    Some(t.experiment),
                    open_experiment,
                    "task event outside its experiment"
                );
                assert!(
                    workers_seen.contains_key(&(t.experiment, t.worker.index)),
                    "worker {} ran a task before it announced itself",
                    t.worker.index
                );
                let kind = match &t.kind {
                    TaskEventKind::Started => "started",
                    TaskEventKind::Finished { .. } => "finished",
                    TaskEventKind::Failed { .. } => "failed",
                    _ => "other",
                };
                task_log
                    .entry((t.experiment, t.task))
                    .or_default()
                    .push(kind);
            }
            Event::ExperimentFinished { experiment, .. } => {
                assert_eq!(open_experiment.take(), Some(*experiment));
                finished_experiments.push(*experiment);
            }
            _ => {}
        }
    }
    assert_eq!(finished_experiments, [0, 1, 2, 3, 4, 5]);
    for (index, experiment) in plan.experiments.iter().enumerate() {
        for task in 0..experiment.inputs.len() {
            assert_eq!(
                task_log.get(&(index, task)).map(Vec::as_slice),
                Some(&["started", "finished"][..]),
                "{} task {task}",
                experiment.name
            );
        }
        let workers = workers_seen.keys().filter(|(e, _)| *e == index).count();
        match experiment.executor {
            ExecutorKind::Sequential => assert_eq!(workers, 1, "{}", experiment.name),
            // Thread pools start every thread up front.
            ExecutorKind::Threads | ExecutorKind::Gil => {
                assert_eq!(workers, 3, "{}: lanes", experiment.name)
            }
            // Worker processes take tasks the moment they are ready: on tiny tasks, the
            // first may drain the queue before the last slot's process is even started.
            _ => assert!(
                (1..=3).contains(&workers),
                "{}: {workers} lanes",
                experiment.name
            ),
        }
    }
}

/// Tasks are taken in input order (FIFO), like ThreadPoolExecutor.map: with one worker the
/// start order is exactly the input order, on every executor.
#[test]
fn one_worker_takes_tasks_in_input_order() {
    for executor in [ExecutorKind::Processes, ExecutorKind::Threads] {
        let plan = Plan::from_parts(
            &[WorkloadKind::Sleep],
            &[executor],
            &[],
            &[3, 1, 2, 0, 4],
            Some(1),
            HttpSettings::default(),
        );
        let starts: Vec<u64> = collect(&plan)
            .iter()
            .filter_map(|e| match e {
                Event::Task(t) if t.kind == TaskEventKind::Started => Some(t.input),
                _ => None,
            })
            .collect();
        assert_eq!(starts, [3, 1, 2, 0, 4], "{executor}");
    }
}

/// Cancelling stops the run promptly, even with long tasks running, and reports it.
#[test]
fn cancel_ends_the_run_with_cancelled() {
    for executor in [
        ExecutorKind::Processes,
        ExecutorKind::Threads,
        ExecutorKind::Sequential,
    ] {
        let plan = Plan::from_parts(
            &[WorkloadKind::Sleep],
            &[executor],
            &[],
            &[60_000, 60_000],
            Some(2),
            HttpSettings::default(),
        );
        let handle = runner::start(&plan, &options()).unwrap();
        // Wait for a task to start, then cancel.
        loop {
            match handle
                .events
                .recv_timeout(Duration::from_secs(30))
                .expect("a task starts")
            {
                Event::Task(t) if t.kind == TaskEventKind::Started => break,
                _ => {}
            }
        }
        handle.cancel();
        let outcome = loop {
            match handle
                .events
                .recv_timeout(Duration::from_secs(30))
                .expect("the run ends")
            {
                Event::RunFinished { outcome, .. } => break outcome,
                Event::Task(t) => {
                    assert_eq!(t.kind, TaskEventKind::Started, "{executor}: no task ends")
                }
                _ => {}
            }
        };
        assert_eq!(outcome, RunOutcome::Cancelled, "{executor}");
        handle.join();
    }
}
