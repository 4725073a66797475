//! Unit tests of the timeline, and event builders other modules' tests share.
use super::*;
use crate::model::event::{SampleEvent, TaskEvent, TaskEventKind, WorkerId};
use crate::model::plan::ExperimentPlan;
use crate::model::plan::{ExecutorKind, WorkloadKind};
use std::time::Duration;

fn tasks_of(lane: &Lane) -> Vec<usize> {
    lane.spans().iter().map(|s| s.task as usize).collect()
}

pub(crate) fn worker(index: usize) -> WorkerId {
    WorkerId {
        index,
        pid: 100,
        tid: 200 + index as u32,
    }
}

pub(crate) fn task(
    experiment: usize,
    task: usize,
    worker_index: usize,
    at: u64,
    kind: TaskEventKind,
) -> Event {
    Event::Task(TaskEvent {
        experiment,
        task,
        input: 30 + task as u64,
        worker: worker(worker_index),
        at: Timestamp(at),
        kind,
    })
}

pub(crate) fn finished(cpu_us: u64) -> TaskEventKind {
    TaskEventKind::Finished {
        result: "ok".into(),
        cpu_time: Some(Duration::from_micros(cpu_us)),
    }
}

pub(crate) fn started_experiment(experiment: usize, executor: ExecutorKind, at: u64) -> Event {
    Event::ExperimentStarted {
        experiment,
        plan: ExperimentPlan::new(executor, WorkloadKind::Fib, vec![30, 31, 32], 2),
        at: Timestamp(at),
    }
}

#[test]
fn tasks_move_from_pending_to_running_to_ended() {
    let mut t = Timeline::new();
    t.apply(&started_experiment(0, ExecutorKind::Threads, 1_000));
    t.apply(&task(0, 1, 0, 1_100, TaskEventKind::Started));
    let e = &t.experiments()[0];
    assert_eq!(e.running(), 1);
    assert_eq!(t.status_of(&e.task(1).unwrap()), TaskStatus::Running);
    assert_eq!(t.status_of(&e.task(0).unwrap()), TaskStatus::Pending);

    t.apply(&task(0, 1, 0, 1_600, finished(400)));
    let e = &t.experiments()[0];
    assert_eq!((e.running(), e.succeeded()), (0, 1));
    assert_eq!(
        e.task(1).unwrap().elapsed(Timestamp(0)),
        Some(Duration::from_micros(500))
    );
    assert_eq!(e.lanes.len(), 1);
    assert_eq!(tasks_of(&e.lanes[0]), [1]);
    assert_eq!(e.cpu_time(), Duration::from_micros(400));
}

#[test]
fn unfinished_tasks_are_cancelled_once_the_run_ends() {
    let mut t = Timeline::new();
    t.apply(&started_experiment(0, ExecutorKind::Processes, 0));
    t.apply(&task(0, 0, 0, 10, TaskEventKind::Started));
    t.apply(&Event::RunFinished {
        at: Timestamp(20),
        outcome: RunOutcome::Cancelled,
    });
    let e = &t.experiments()[0];
    assert_eq!(t.status_of(&e.task(0).unwrap()), TaskStatus::Cancelled);
    assert_eq!(t.status_of(&e.task(1).unwrap()), TaskStatus::Cancelled);
}

#[test]
fn odd_events_are_ignored_not_fatal() {
    let mut t = Timeline::new();
    t.apply(&task(7, 0, 0, 10, TaskEventKind::Started)); // unknown experiment
    t.apply(&started_experiment(0, ExecutorKind::Threads, 0));
    t.apply(&task(0, 99, 0, 10, TaskEventKind::Started)); // unknown task
    t.apply(&task(0, 0, 0, 10, finished(5))); // end without a start
    t.apply(&task(0, 0, 0, 11, finished(5))); // repeated end
    t.apply(&task(0, 0, 0, 12, TaskEventKind::Started)); // start after the end
    let e = &t.experiments()[0];
    assert_eq!((e.succeeded(), e.running()), (1, 0));
    assert_eq!(e.task(0).unwrap().started_at, Some(Timestamp(10)));
    assert_eq!(tasks_of(&e.lanes[0]), [0]);
}

#[test]
fn lanes_are_ordered_by_worker_index() {
    let mut t = Timeline::new();
    t.apply(&started_experiment(0, ExecutorKind::Threads, 0));
    t.apply(&task(0, 0, 1, 10, TaskEventKind::Started));
    t.apply(&task(0, 1, 0, 11, TaskEventKind::Started));
    t.apply(&task(0, 2, 1, 12, TaskEventKind::Started));
    let lanes = &t.experiments()[0].lanes;
    assert_eq!(lanes.iter().map(|l| l.worker).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(tasks_of(&lanes[1]), [0, 2]);
}

#[test]
fn lanes_count_failures_by_stretch() {
    let mut t = Timeline::new();
    t.apply(&started_experiment(0, ExecutorKind::Threads, 0));
    let failed = || TaskEventKind::Failed {
        error: "x".into(),
        cpu_time: None,
    };
    t.apply(&task(0, 0, 0, 1, TaskEventKind::Started));
    t.apply(&task(0, 0, 0, 2, finished(1)));
    t.apply(&task(0, 1, 0, 3, TaskEventKind::Started));
    t.apply(&task(0, 1, 0, 4, failed()));
    t.apply(&task(0, 2, 0, 5, TaskEventKind::Started));
    let lane = &t.experiments()[0].lanes[0];
    assert_eq!(lane.failed_in(0..1), 0);
    assert_eq!(lane.failed_in(0..2), 1);
    assert_eq!(
        lane.failed_in(1..3),
        1,
        "the running task counts as not failed"
    );
    assert_eq!(lane.failed_in(2..3), 0);
}

#[test]
fn by_start_is_sorted_even_when_starts_arrive_out_of_order() {
    let mut t = Timeline::new();
    t.apply(&started_experiment(0, ExecutorKind::Processes, 0));
    t.apply(&task(0, 0, 0, 30, TaskEventKind::Started));
    t.apply(&task(0, 1, 1, 10, TaskEventKind::Started));
    t.apply(&task(0, 2, 2, 20, TaskEventKind::Started));
    assert_eq!(t.experiments()[0].by_start, [1, 2, 0]);
}

/// Experiment `index` on `executor`, from `start` to `end` (µs), with one task that
/// succeeded or failed.
fn one_task_experiment(
    t: &mut Timeline,
    index: usize,
    executor: ExecutorKind,
    (start, end): (u64, u64),
    succeeded: bool,
) {
    t.apply(&started_experiment(index, executor, start));
    t.apply(&task(index, 0, 0, start, TaskEventKind::Started));
    let ended = if succeeded {
        finished(10)
    } else {
        TaskEventKind::Failed {
            error: "refused".into(),
            cpu_time: None,
        }
    };
    t.apply(&task(index, 0, 0, end, ended));
    t.apply(&Event::ExperimentFinished {
        experiment: index,
        at: Timestamp(end),
    });
}

#[test]
fn speedup_is_the_posts_formula() {
    let mut t = Timeline::new();
    one_task_experiment(&mut t, 0, ExecutorKind::Processes, (0, 1_000_000), true);
    assert!(t.speedups().is_empty(), "threads have not run yet");
    let threads = (1_000_000, 5_000_000);
    one_task_experiment(&mut t, 1, ExecutorKind::Threads, threads, true);
    let s = t.speedups();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].workload, WorkloadKind::Fib);
    assert_eq!(s[0].label(), "Process vs Threads Fibonacci tasks speed-up");
    one_task_experiment(&mut t, 2, ExecutorKind::Gil, (5_000_000, 7_000_000), true);
    let s = t.speedups();
    assert_eq!(s.len(), 2);
    assert_eq!(
        s[1].label(),
        "Process vs GIL threads Fibonacci tasks speed-up"
    );
    assert!((s[1].percent - 50.0).abs() < 1e-9, "(2 - 1) / 2");
    assert!(
        (s[0].percent - 75.0).abs() < 1e-9,
        "(4 - 1) / 4 = 75 %, got {}",
        s[0].percent
    );
}

#[test]
fn no_speedup_from_an_experiment_whose_tasks_all_failed() {
    let mut t = Timeline::new();
    one_task_experiment(&mut t, 0, ExecutorKind::Processes, (0, 1_000), false);
    one_task_experiment(&mut t, 1, ExecutorKind::Threads, (1_000, 9_000), true);
    assert!(t.speedups().is_empty(), "{:?}", t.speedups());
}

#[test]
fn a_running_tasks_sampled_cpu_counts_so_far() {
    let mut t = Timeline::new();
    t.apply(&started_experiment(0, ExecutorKind::Processes, 0));
    t.apply(&task(0, 0, 0, 0, TaskEventKind::Started));
    for ms in 0..10u64 {
        t.apply(&Event::Sample(SampleEvent {
            experiment: 0,
            worker: worker(0),
            from: Timestamp(ms * 10_000),
            to: Timestamp((ms + 1) * 10_000),
            running: 0.5,
            runnable: 0.5,
            blocked: 0.0,
            voluntary_switches: Some(0),
            involuntary_switches: Some(3),
            gil: None,
            waits: None,
        }));
    }
    let e = &t.experiments()[0];
    assert_eq!(
        e.cpu_time(),
        Duration::from_millis(50),
        "half of 100 ms, so far"
    );
    assert_eq!(
        e.cpu_wait(),
        Some(Duration::from_millis(50)),
        "all inside the task"
    );
    assert_eq!(e.sched.involuntary_switches, 30);
    t.apply(&task(0, 0, 0, 100_000, finished(60_000)));
    assert_eq!(
        t.experiments()[0].cpu_time(),
        Duration::from_millis(60),
        "once ended, the task's own measurement"
    );
}

#[test]
fn efficiency_is_cpu_over_cores_times_wall() {
    let mut t = Timeline::new();
    t.apply(&started_experiment(0, ExecutorKind::Threads, 0));
    t.apply(&task(0, 0, 0, 0, TaskEventKind::Started));
    t.apply(&task(0, 0, 0, 1_000_000, finished(1_000_000)));
    let e = &t.experiments()[0];
    let eff = e.efficiency(2, Duration::from_secs(1)).unwrap();
    assert!((eff - 0.5).abs() < 1e-9);
}

/// A sample of worker `w` over `[from, to)` µs with the shares `(running, runnable,
/// blocked)`.
pub(crate) fn sample(w: usize, from: u64, to: u64, shares: (f32, f32, f32)) -> Event {
    Event::Sample(SampleEvent {
        experiment: 0,
        worker: worker(w),
        from: Timestamp(from),
        to: Timestamp(to),
        running: shares.0,
        runnable: shares.1,
        blocked: shares.2,
        voluntary_switches: Some(1),
        involuntary_switches: Some(2),
        gil: None,
        waits: None,
    })
}

#[test]
fn cpu_wait_counts_the_tasks_waiting_and_the_rest_apart() {
    // One worker, one task over 100..300 µs; samples every 100 µs, waiting half of each.
    // Whatever order the events come in, the task's wait is half its 200 µs.
    let events = [
        started_experiment(0, ExecutorKind::Threads, 0),
        sample(0, 0, 100, (0.0, 0.5, 0.5)),
        sample(0, 100, 200, (0.5, 0.5, 0.0)),
        task(0, 0, 0, 100, TaskEventKind::Started),
        sample(0, 200, 300, (0.5, 0.5, 0.0)),
        sample(0, 300, 400, (0.0, 0.5, 0.5)),
        task(0, 0, 0, 300, finished(100)),
    ];
    let orders: [&[usize]; 3] = [
        &[0, 1, 2, 3, 4, 5, 6],
        &[0, 3, 6, 1, 2, 4, 5],
        &[0, 5, 3, 1, 4, 6, 2],
    ];
    for order in orders {
        let t = Timeline::from_events(order.iter().map(|&i| &events[i]));
        let e = &t.experiments()[0];
        let us = |d: Option<Duration>| d.map(|d| d.as_micros());
        assert_eq!(us(e.cpu_wait()), Some(100), "order {order:?}");
        assert_eq!(us(e.cpu_wait_outside_tasks()), Some(100), "order {order:?}");
        assert_eq!(e.switches(), Some((4, 8)));
        let blocked = e.sched.in_tasks.blocked;
        assert!(blocked.abs() < 1e-6, "none of the task blocked: {blocked}");
    }
}

/// A watched process has no idle pool workers: its cpu wait is all its threads' waiting,
/// in tasks or not (the view and `watch --headless` say the same figure).
#[test]
fn a_watched_processs_cpu_wait_is_all_of_its_threads_waiting() {
    let mut plan = started_experiment(0, ExecutorKind::Threads, 0);
    if let Event::ExperimentStarted { plan: p, .. } = &mut plan {
        *p = crate::model::plan::ExperimentPlan::watched("10 python3 x.py".into());
    }
    let t = Timeline::from_events(&[
        plan,
        sample(0, 0, 100, (0.0, 0.5, 0.5)),
        sample(0, 100, 200, (0.5, 0.5, 0.0)),
    ]);
    let e = &t.experiments()[0];
    assert_eq!(e.cpu_wait(), Some(Duration::from_micros(100)));
}

#[test]
fn figures_not_measured_are_unknown_not_zero() {
    let mut t = Timeline::new();
    t.apply(&started_experiment(0, ExecutorKind::Gil, 0));
    t.apply(&task(0, 0, 0, 0, TaskEventKind::Started));
    t.apply(&task(0, 0, 0, 100, finished(100)));
    let e = &t.experiments()[0];
    assert_eq!(
        (e.cpu_wait(), e.switches(), e.gil_wait(), e.others_cpu()),
        (None, None, None, None),
        "nothing sampled, no GIL recorded, no load measured"
    );
    // A run's own figures (its summary.json, reopened) are what it reports.
    t.apply(&Event::Figures(crate::model::event::ExperimentFigures {
        experiment: 0,
        others_cpu: Some(1.0),
        cpu_time: Some(Duration::from_micros(90)),
        gil_wait: Some(Duration::from_micros(7)),
        ..Default::default()
    }));
    let e = &t.experiments()[0];
    assert_eq!(e.cpu_time(), Duration::from_micros(90));
    assert_eq!(e.gil_wait(), Some(Duration::from_micros(7)));
    assert_eq!(e.others_cpu(), Some(1.0));
    assert_eq!(e.cpu_wait(), None, "still not known");
}

#[test]
fn a_busy_machine_is_said_from_a_quarter_of_a_cpu() {
    let mut t = Timeline::new();
    t.apply(&started_experiment(0, ExecutorKind::Threads, 0));
    t.apply(&started_experiment(1, ExecutorKind::Processes, 0));
    let figures = |experiment, others| {
        Event::Figures(crate::model::event::ExperimentFigures {
            experiment,
            others_cpu: Some(others),
            ..Default::default()
        })
    };
    t.apply(&figures(0, 0.24));
    t.apply(&figures(1, 1.04));
    assert_eq!(t.experiments()[0].busy_note(Some(2)), None);
    assert_eq!(
        t.experiments()[1].busy_note(Some(2)).as_deref(),
        Some(
            "the machine was busy: other processes used 1.0 of 2 CPUs during process-fibo; \
             its figures are skewed"
        )
    );
}
