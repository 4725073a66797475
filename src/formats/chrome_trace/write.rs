//! A timeline written as a Chrome trace: one pid per experiment, one tid per worker, an `X`
//! per task, counter tracks for the scheduler samples, GIL tracks, and poolscope's own
//! plans in `otherData.poolscope` so it reads its own traces back exactly.

use serde::Serialize;
use serde_json::Value;

use super::{GIL_HELD, GIL_TID_BASE, GIL_WAIT, OwnData};
use crate::model::clock::Timestamp;
use crate::model::display;
use crate::model::timeline::{LaneSpan, TaskState, Timeline};

/// One event of the exported trace.
#[derive(Serialize)]
struct OutEvent<'a> {
    ph: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cat: Option<&'a str>,
    pid: usize,
    tid: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Value>,
}

/// The `traceEvents` array as it is written: events separated by commas.
struct EventWriter {
    out: Vec<u8>,
    first: bool,
}

impl EventWriter {
    fn event(&mut self, event: &OutEvent<'_>) {
        if !self.first {
            self.out.extend_from_slice(b",\n");
        }
        self.first = false;
        // Serializing a plain struct of numbers and strings cannot fail.
        let _ = serde_json::to_writer(&mut self.out, event);
    }

    /// A metadata (`M`) event: a process's or thread's name or sort order.
    fn meta(&mut self, name: &str, pid: usize, tid: i64, args: Value) {
        self.event(&OutEvent {
            ph: "M",
            name,
            cat: None,
            pid,
            tid,
            ts: None,
            dur: None,
            args: Some(args),
        });
    }

    /// A value of worker `tid`'s state counter track (running, runnable, blocked).
    fn counter(&mut self, name: &str, pid: usize, tid: i64, ts: u64, shares: [f32; 3]) {
        self.event(&OutEvent {
            ph: "C",
            name,
            cat: Some("sched"),
            pid,
            tid,
            ts: Some(ts),
            dur: None,
            args: Some(serde_json::json!({
                "running": shares[0], "runnable": shares[1], "blocked": shares[2]
            })),
        });
    }
}

/// The timeline as a Chrome trace that Perfetto and `chrome://tracing` load.
pub fn export(timeline: &Timeline) -> Vec<u8> {
    let mut w = EventWriter {
        out: b"{\"traceEvents\":[\n".to_vec(),
        first: true,
    };
    let now = timeline.latest().map_or(0, Timestamp::as_micros);
    for e in timeline.experiments() {
        let pid = e.index + 1;
        let plan = &e.plan;
        w.meta(
            "process_name",
            pid,
            0,
            // Display names are shown by trace viewers (and by `jq` in a terminal): safe.
            // The plan itself rides in otherData as it was.
            serde_json::json!({ "name": display::safe(&plan.name) }),
        );
        w.meta(
            "process_sort_index",
            pid,
            0,
            serde_json::json!({ "sort_index": e.index }),
        );
        for lane in &e.lanes {
            let tid = lane.worker as i64 + 1;
            let name = crate::chart::labels::lane_label(lane, plan, usize::MAX);
            w.meta(
                "thread_name",
                pid,
                tid,
                serde_json::json!({
                    "name": name, "worker": lane.worker, "os_pid": lane.pid, "os_tid": lane.tid,
                    "ready_ts": lane.ready_at.map(Timestamp::as_micros),
                }),
            );
            w.meta(
                "thread_sort_index",
                pid,
                tid,
                serde_json::json!({ "sort_index": lane.worker }),
            );
            for span in lane.spans() {
                let index = span.task as usize;
                let Some(task) = e.task(index) else { continue };
                let label = display::safe(&plan.task_label(index, task.input)).into_owned();
                let mut args = serde_json::json!({
                    "task": span.task,
                    "input": task.input,
                    "status": timeline.status_of(&task).as_str(),
                });
                match task.state {
                    TaskState::Succeeded { result, .. } => args["result"] = result.into(),
                    TaskState::Failed { error, .. } => args["error"] = error.into(),
                    TaskState::Pending | TaskState::Running => {}
                }
                if let Some(cpu) = task.cpu_time() {
                    args["cpu_time_s"] = cpu.as_secs_f64().into();
                }
                let ended = span.ended();
                w.event(&OutEvent {
                    ph: if ended.is_some() { "X" } else { "B" },
                    name: &label,
                    cat: Some("task"),
                    pid,
                    tid,
                    ts: Some(span.start),
                    dur: ended.map(|end| end - span.start),
                    args: Some(args),
                });
            }
            // Scheduler samples: a counter track per worker; each value holds until the next,
            // and the track drops to zero across a gap.
            let counter = format!("w{} state", lane.worker);
            let samples = lane.samples();
            for (i, s) in samples.iter().enumerate() {
                w.counter(
                    &counter,
                    pid,
                    tid,
                    s.from,
                    [s.running, s.runnable, s.blocked],
                );
                if samples.get(i + 1).is_none_or(|next| next.from > s.to) {
                    w.counter(&counter, pid, tid, s.to, [0.0; 3]);
                }
            }
            // Context switches per interval, on a counter track of their own (their scale
            // is not the shares').
            let switches = format!("w{} switches", lane.worker);
            for s in samples {
                if let Some((voluntary, involuntary)) = s.switches {
                    w.event(&OutEvent {
                        ph: "C",
                        name: &switches,
                        cat: Some("sched"),
                        pid,
                        tid,
                        ts: Some(s.from),
                        dur: None,
                        args: Some(serde_json::json!({
                            "voluntary": voluntary, "involuntary": involuntary
                        })),
                    });
                }
            }
            // GIL hand-offs: waits and holds as slices on a track of their own.
            let gil_tid = GIL_TID_BASE + lane.worker as i64;
            if !lane.gil_spans().is_empty() {
                let name = format!("w{} GIL", lane.worker);
                w.meta(
                    "thread_name",
                    pid,
                    gil_tid,
                    serde_json::json!({ "name": name }),
                );
            }
            for g in lane.gil_spans() {
                let to = if g.to == LaneSpan::OPEN { now } else { g.to };
                w.event(&OutEvent {
                    ph: "X",
                    name: if g.holding { GIL_HELD } else { GIL_WAIT },
                    cat: Some("gil"),
                    pid,
                    tid: gil_tid,
                    ts: Some(g.from),
                    dur: Some(to.saturating_sub(g.from)),
                    args: None,
                });
            }
        }
    }
    let mut out = w.out;
    out.extend_from_slice(b"\n],\"displayTimeUnit\":\"ms\",\"otherData\":");
    let own = OwnData {
        version: env!("CARGO_PKG_VERSION").to_string(),
        cores: timeline.cores(),
        experiments: timeline
            .experiments()
            .iter()
            .map(|e| e.plan.clone())
            .collect(),
        spans: timeline
            .experiments()
            .iter()
            .map(|e| {
                (
                    e.started_at.as_micros(),
                    e.finished_at.map(Timestamp::as_micros),
                )
            })
            .collect(),
        figures: super::super::export::experiment_summaries(timeline),
        run: timeline.started_at().map(|start| {
            serde_json::json!([
                start.as_micros(),
                timeline.finished_at().map(Timestamp::as_micros)
            ])
        }),
    };
    let _ = serde_json::to_writer(&mut out, &serde_json::json!({ "poolscope": own }));
    out.extend_from_slice(b"}\n");
    out
}
