//! How long one frame of the live view takes to draw, by number of tasks.
//!
//! `cargo bench --bench render`
//!
//! One thread-pool experiment over 64 workers, every task finished, drawn into a 200×100
//! buffer (all 64 lanes visible). Drawing buckets tasks into cells with binary searches,
//! so the cost follows the screen (how many cells hold bars), not the number of tasks:
//! 10 000 and 100 000 tasks fill every cell and cost the same.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use poolscope::model::clock::Timestamp;
use poolscope::model::event::{Event, RunOutcome, TaskEvent, TaskEventKind, WorkerId};
use poolscope::model::plan::{ExecutorKind, ExperimentPlan, HttpSettings, Plan, WorkloadKind};
use poolscope::view::app::App;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

const LANES: usize = 64;

/// An app holding one finished experiment of `tasks` tasks spread over 64 workers.
fn app_with(tasks: usize) -> App {
    let inputs = vec![10u64; tasks];
    let experiment = ExperimentPlan::new(ExecutorKind::Threads, WorkloadKind::Sleep, inputs, LANES);
    let plan = Plan {
        experiments: vec![experiment.clone()],
        http: HttpSettings::default(),
        sched: Default::default(),
    };
    let mut app = App::new(plan, true);
    let t0 = 1_700_000_000_000_000u64;
    let mut apply = |event| {
        app.update(poolscope::view::app::Msg::Event(event));
    };
    apply(Event::RunStarted {
        at: Timestamp(t0),
        cores: 2,
        experiments: 1,
    });
    apply(Event::ExperimentStarted {
        experiment: 0,
        plan: experiment,
        at: Timestamp(t0),
    });
    let per_lane = tasks.div_ceil(LANES) as u64;
    for task in 0..tasks {
        let lane = task % LANES;
        let slot = (task / LANES) as u64;
        let worker = WorkerId {
            index: lane,
            pid: 1,
            tid: 100 + lane as u32,
        };
        // Each lane runs its tasks back to back over 10 s; some fail.
        let start = t0 + slot * 10_000_000 / per_lane;
        let end = start + 10_000_000 / per_lane * 9 / 10;
        let task_event = |at, kind| {
            Event::Task(TaskEvent {
                experiment: 0,
                task,
                input: 10,
                worker,
                at: Timestamp(at),
                kind,
            })
        };
        apply(task_event(start, TaskEventKind::Started));
        let kind = if task % 97 == 0 {
            TaskEventKind::Failed {
                error: "x".into(),
                cpu_time: None,
            }
        } else {
            TaskEventKind::Finished {
                result: "ok".into(),
                cpu_time: Some(Duration::from_micros(1)),
            }
        };
        apply(task_event(end, kind));
    }
    apply(Event::ExperimentFinished {
        experiment: 0,
        at: Timestamp(t0 + 10_000_000),
    });
    apply(Event::RunFinished {
        at: Timestamp(t0 + 10_000_000),
        outcome: RunOutcome::Completed,
    });
    app.set_now(Timestamp(t0 + 11_000_000));
    app
}

fn frame(c: &mut Criterion) {
    let area = Rect::new(0, 0, 200, 100);
    let mut group = c.benchmark_group("frame 200x100, 64 lanes");
    for tasks in [100, 10_000, 100_000] {
        let app = app_with(tasks);
        let mut buffer = Buffer::empty(area);
        group.bench_function(format!("{tasks} finished tasks"), |b| {
            b.iter(|| {
                buffer.reset();
                black_box(&app).render(area, &mut buffer);
                black_box(&buffer);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, frame);
criterion_main!(benches);
