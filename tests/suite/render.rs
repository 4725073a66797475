//! Render tests: the live view built from synthetic events, drawn into ratatui's
//! `TestBackend` and compared with snapshots, at a normal, a narrow and a tiny size.
//!
//! Snapshots are drawn without colour (`NO_COLOR` glyphs) so the bars show in the text;
//! one test checks the colours cell by cell.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use poolscope::model::clock::Timestamp;
use poolscope::model::event::{Event, RunOutcome, TaskEvent, TaskEventKind, WorkerId};
use poolscope::model::plan::{ExecutorKind, HttpSettings, Plan, WorkloadKind};
use poolscope::view::app::{App, Msg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

const T0: u64 = 1_700_000_000_000_000;
const MS: u64 = 1_000;

fn worker(index: usize, process: bool) -> WorkerId {
    WorkerId {
        index,
        pid: if process { 4100 + index as u32 } else { 4000 },
        tid: if process {
            4100 + index as u32
        } else {
            4010 + index as u32
        },
    }
}

fn task(
    experiment: usize,
    task: usize,
    input: u64,
    worker: WorkerId,
    at: u64,
    kind: TaskEventKind,
) -> Msg {
    Msg::Event(Event::Task(TaskEvent {
        experiment,
        task,
        input,
        worker,
        at: Timestamp(at),
        kind,
    }))
}

fn done(cpu_ms: u64) -> TaskEventKind {
    TaskEventKind::Finished {
        result: "ok".into(),
        cpu_time: Some(Duration::from_millis(cpu_ms)),
    }
}

/// The post's plan, 1 s in: process-fibo finished (one task failed: its worker was killed),
/// thread-fibo half done with tasks still running, the http experiments not started.
fn demo(color: bool) -> App {
    // The post's plan: processes and threads (the default adds gil, a third column).
    let plan = Plan::from_parts(
        &[WorkloadKind::Fib, WorkloadKind::Http],
        &[ExecutorKind::Processes, ExecutorKind::Threads],
        &(34..=41).collect::<Vec<_>>(),
        &(1000..1800).step_by(100).collect::<Vec<_>>(),
        None,
        HttpSettings::default(),
    );
    let mut app = App::new(plan.clone(), color);
    let mut send = |msg| {
        app.update(msg);
    };
    send(Msg::Event(Event::RunStarted {
        at: Timestamp(T0),
        cores: 2,
        experiments: 4,
    }));

    // process-fibo: 0..620 ms; workers start 3-10 ms in; fib(n) takes longer for larger n.
    send(Msg::Event(Event::ExperimentStarted {
        experiment: 0,
        plan: plan.experiments[0].clone(),
        at: Timestamp(T0),
    }));
    for (i, n) in (34..=41).enumerate() {
        let w = worker(i, true);
        let ready = T0 + (3 + i as u64) * MS;
        send(Msg::Event(Event::WorkerStarted {
            experiment: 0,
            worker: w,
            at: Timestamp(ready),
        }));
        send(task(0, i, n, w, ready + MS, TaskEventKind::Started));
        let end = ready + MS + (60 + 70 * i as u64) * MS;
        let kind = if n == 39 {
            TaskEventKind::Failed {
                error: "worker process 4105 was killed by signal 9 (SIGKILL)".into(),
                cpu_time: None,
            }
        } else {
            done(40 + 30 * i as u64)
        };
        send(task(0, i, n, w, end, kind));
    }
    send(Msg::Event(Event::ExperimentFinished {
        experiment: 0,
        at: Timestamp(T0 + 620 * MS),
    }));

    // thread-fibo: from 650 ms; the four short tasks done, the rest running at 1 s.
    let start = T0 + 650 * MS;
    send(Msg::Event(Event::ExperimentStarted {
        experiment: 1,
        plan: plan.experiments[1].clone(),
        at: Timestamp(start),
    }));
    for (i, n) in (34..=41).enumerate() {
        let w = worker(i, false);
        send(Msg::Event(Event::WorkerStarted {
            experiment: 1,
            worker: w,
            at: Timestamp(start + MS),
        }));
        send(task(1, i, n, w, start + 2 * MS, TaskEventKind::Started));
        if i < 4 {
            send(task(
                1,
                i,
                n,
                w,
                start + (80 + 60 * i as u64) * MS,
                done(30 + 20 * i as u64),
            ));
        }
    }
    app.set_now(Timestamp(T0 + 1_000 * MS));
    app
}

fn finish(app: &mut App) {
    let end = T0 + 1_200 * MS;
    for (i, n) in (34..=41).enumerate().skip(4) {
        app.update(task(
            1,
            i,
            n,
            worker(i, false),
            end - (8 - i as u64) * 20 * MS,
            done(100),
        ));
    }
    app.update(Msg::Event(Event::ExperimentFinished {
        experiment: 1,
        at: Timestamp(end),
    }));
    app.update(Msg::Event(Event::RunFinished {
        at: Timestamp(end),
        outcome: RunOutcome::Cancelled,
    }));
    app.set_now(Timestamp(end + 5_000 * MS));
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .unwrap();
    terminal
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

#[test]
fn live_run_at_120x40() {
    insta::assert_snapshot!(draw(&demo(false), 120, 40).backend());
}

#[test]
fn live_run_narrow_60x20() {
    insta::assert_snapshot!(draw(&demo(false), 60, 20).backend());
}

#[test]
fn tiny_terminal_shows_a_notice() {
    insta::assert_snapshot!(draw(&demo(false), 20, 6).backend());
    // Down to a single cell, nothing panics.
    for (w, h) in [(1, 1), (2, 1), (1, 3), (39, 9), (40, 10)] {
        draw(&demo(false), w, h);
    }
}

#[test]
fn stopped_run_in_task_order_maximized() {
    let mut app = demo(false);
    finish(&mut app);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Char('z'));
    insta::assert_snapshot!(draw(&app, 100, 16).backend());
}

#[test]
fn help_overlay_lists_every_key() {
    let mut app = demo(false);
    press(&mut app, KeyCode::Char('?'));
    let terminal = draw(&app, 100, 30);
    let screen = terminal.backend().to_string();
    for (key, _) in poolscope::view::ui::KEYS {
        assert!(screen.contains(key), "help lacks {key}:\n{screen}");
    }
}

/// On a narrow screen the help wraps each description under itself, never back to the
/// box's edge, and every word of every key's line is there once scrolled through.
#[test]
fn narrow_help_wraps_under_its_text() {
    let mut app = demo(false);
    press(&mut app, KeyCode::Char('?'));
    // As the loop tells it after each frame: how far this screen lets the help scroll.
    app.help_limit =
        poolscope::view::ui::help::max_scroll(ratatui::layout::Rect::new(0, 0, 40, 12));
    assert!(
        app.help_limit > 60,
        "the legend is below the keys: {}",
        app.help_limit
    );
    let mut seen = String::new();
    for _ in 0..200 {
        let text = text_of(&draw(&app, 40, 12));
        for line in text.lines().filter(|l| l.starts_with('│')) {
            assert!(
                line.starts_with("│ "),
                "a line back at the edge: {line:?}\n{text}"
            );
            seen.push_str(line.trim_matches('│').trim());
            seen.push(' ');
        }
        press(&mut app, KeyCode::Down);
    }
    let words: Vec<&str> = seen.split_whitespace().collect();
    for (_, what) in poolscope::view::ui::KEYS {
        for word in what.split(' ') {
            assert!(
                words.contains(&word),
                "{word:?} of {what:?} not shown: {seen}"
            );
        }
    }
    // The legend's last line too, scrolled down to.
    assert!(seen.contains("a worker that ran nothing"), "{seen}");
}

#[test]
fn zoomed_in_the_axis_and_bars_follow() {
    let mut app = demo(false);
    press(&mut app, KeyCode::Char('+'));
    press(&mut app, KeyCode::Char('+'));
    press(&mut app, KeyCode::Left);
    insta::assert_snapshot!(draw(&app, 120, 14).backend());
}

#[test]
fn colours_tell_running_finished_and_failed_apart() {
    let app = demo(true);
    let terminal = draw(&app, 120, 40);
    let buffer = terminal.backend().buffer();
    let row_of = |label: &str| {
        (0..buffer.area.height)
            .find(|&y| {
                let line: String = (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect();
                line.contains(label)
            })
            .unwrap_or_else(|| panic!("no row with {label}"))
    };
    let backgrounds =
        |y: u16, from: u16, to: u16| (from..to).map(|x| buffer[(x, y)].bg).collect::<Vec<_>>();
    // process-fibo lane w5 ran fib 39, which failed: red. Lane w0 (fib 34) finished: blue.
    let failed = backgrounds(row_of("w5 pid 4105"), 14, 40);
    assert!(failed.contains(&Color::Red), "{failed:?}");
    let finished = backgrounds(row_of("w0 pid 4100"), 14, 20);
    assert!(finished.contains(&Color::Blue), "{finished:?}");
    // thread-fibo lane w7 (fib 41) still runs: yellow.
    let running = backgrounds(row_of("w7 tid 4017"), 74, 118);
    assert!(running.contains(&Color::Yellow), "{running:?}");
}

#[test]
fn no_color_uses_no_colour_at_all() {
    let terminal = draw(&demo(false), 120, 40);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
    }
}

/// The row of `buffer` holding `label`, as text.
fn row_text(buffer: &ratatui::buffer::Buffer, label: &str) -> (u16, String) {
    (0..buffer.area.height)
        .map(|y| {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            (y, line)
        })
        .find(|(_, line)| line.contains(label))
        .unwrap_or_else(|| panic!("no row with {label}"))
}

fn sample(lane: usize, from_ms: u64, to_ms: u64, shares: (f32, f32, f32)) -> Msg {
    Msg::Event(Event::Sample(poolscope::model::event::SampleEvent {
        experiment: 1,
        worker: worker(lane, false),
        from: Timestamp(T0 + from_ms * MS),
        to: Timestamp(T0 + to_ms * MS),
        running: shares.0,
        runnable: shares.1,
        blocked: shares.2,
        voluntary_switches: Some(1),
        involuntary_switches: Some(2),
        gil: None,
        waits: None,
    }))
}

/// Scheduler samples shade the cells by state: a worker waiting for a CPU draws `┅`, a
/// blocked one `░`; the legend and the CPU-wait column appear.
#[test]
fn samples_shade_the_bars_and_the_legend_explains_them() {
    let mut app = demo(false);
    // thread-fibo (from 650 ms): w0 blocked while its task ran, w4 waiting for a CPU.
    for ms in (652..730).step_by(10) {
        app.update(sample(0, ms, ms + 10, (0.0, 0.0, 1.0)));
    }
    for ms in (652..1000).step_by(10) {
        app.update(sample(4, ms, ms + 10, (0.1, 0.9, 0.0)));
    }
    let terminal = draw(&app, 120, 40);
    let buffer = terminal.backend().buffer();
    let (_, w0) = row_text(buffer, "w0 tid 4010");
    let (_, w4) = row_text(buffer, "w4 tid 4014");
    let (_, w5) = row_text(buffer, "w5 tid 4015");
    assert!(w0.contains('░') && !w0.contains('┅'), "blocked: {w0}");
    assert!(
        w4.contains('┅') && !w4.contains('░'),
        "waiting for a CPU: {w4}"
    );
    assert!(
        !w5.contains('┅') && !w5.contains('░'),
        "not sampled, plain: {w5}"
    );
    let (_, legend) = row_text(buffer, "╭ summary");
    assert!(
        legend.contains("waiting for a CPU") && legend.contains("blocked"),
        "{legend}"
    );
    let (_, header) = row_text(buffer, "experiment");
    assert!(
        header.contains("cpu wait") && header.contains("switches v/i"),
        "{header}"
    );
}

/// `i` puts a cursor on a task, arrows move it, the inspector box tells its story, and a
/// click on a bar selects that task.
#[test]
fn the_inspector_follows_keys_and_clicks() {
    let mut app = demo(false);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('i'));
    assert_eq!(app.inspect.map(|c| c.task), Some(0), "lane 0's latest task");
    press(&mut app, KeyCode::Down);
    assert_eq!(app.inspect.map(|c| c.task), Some(1), "the next lane");
    press(&mut app, KeyCode::Right);
    assert_eq!(
        app.inspect.map(|c| c.task),
        Some(1),
        "no later task in that lane"
    );
    let terminal = draw(&app, 120, 40);
    let buffer = terminal.backend().buffer();
    row_text(buffer, "task 1 · fib 35 · thread-fibo");
    row_text(buffer, "w1 · pid 4000 · tid 4011");
    row_text(buffer, "result   ok");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.inspect, None);

    // A click on w3's bar in the thread-fibo panel selects task 3 there.
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let (y, line) = row_text(buffer, "w3 tid 4013");
    // Past the 13-column label, inside the bar (box-drawing characters before it are
    // several bytes each, so count characters, not bytes).
    let label_at = line.find("w3 tid 4013").unwrap();
    let column = line[..label_at].chars().count() as u16 + 16;
    let hit = poolscope::view::ui::hit(&app, area, column, y);
    assert_eq!(hit, Some((1, Some(3))), "{line}");
    app.update(Msg::Select {
        experiment: 1,
        task: Some(3),
    });
    assert_eq!(app.inspect.map(|c| c.task), Some(3));
}

/// The isolation demo's panel: the main side's writes marked on the time axis, and each
/// read's bar saying what it saw.
#[test]
fn isolation_marks_the_writes_and_labels_the_reads() {
    let plan = Plan::from_parts(
        &[WorkloadKind::Isolation],
        &[ExecutorKind::Threads],
        &[],
        &[],
        None,
        HttpSettings::default(),
    );
    let mut app = App::new(plan.clone(), false);
    app.update(Msg::Event(Event::ExperimentStarted {
        experiment: 0,
        plan: plan.experiments[0].clone(),
        at: Timestamp(T0),
    }));
    let w = worker(0, false);
    for (i, x) in [1u64, 2, 3].into_iter().enumerate() {
        let t = i as u64 * 200 * MS;
        app.update(Msg::Event(Event::Mark {
            experiment: 0,
            at: Timestamp(T0 + t + 100 * MS),
            label: format!("X to {x}"),
        }));
        app.update(task(0, i, x, w, T0 + t, TaskEventKind::Started));
        app.update(task(
            0,
            i,
            x,
            w,
            T0 + t + 200 * MS,
            TaskEventKind::Finished {
                result: x.to_string(),
                cpu_time: Some(Duration::ZERO),
            },
        ));
    }
    app.update(Msg::Event(Event::ExperimentFinished {
        experiment: 0,
        at: Timestamp(T0 + 600 * MS),
    }));
    app.set_now(Timestamp(T0 + 600 * MS));
    let terminal = draw(&app, 120, 20);
    let buffer = terminal.backend().buffer();
    let (_, axis) = row_text(buffer, "╵0");
    assert!(
        axis.contains("▾X to 1") && axis.contains("▾X to 2"),
        "{axis}"
    );
    let (_, lane) = row_text(buffer, "w0 tid 4010");
    for x in 1..=3 {
        assert!(lane.contains(&format!("X is {x}")), "{lane}");
    }
}

/// The default plan (fib 34–41 and http 1000–1700 ms on processes, threads and gil) with
/// `workers` workers a pool, run to the end: task i on worker i, the other workers started
/// and idle; the sampler's figures as a run gives them; `busy`: other processes used a CPU.
fn default_run(workers: usize, busy: bool) -> App {
    let plan = default_plan(workers);
    let mut app = App::new(plan.clone(), false);
    run_default(&mut app, &plan, busy, 0);
    app
}

/// The default plan with `workers` workers a pool.
fn default_plan(workers: usize) -> Plan {
    Plan::from_parts(
        &[WorkloadKind::Fib, WorkloadKind::Http],
        &[
            ExecutorKind::Processes,
            ExecutorKind::Threads,
            ExecutorKind::Gil,
        ],
        &(34..=41).collect::<Vec<_>>(),
        &(1000..1800).step_by(100).collect::<Vec<_>>(),
        Some(workers),
        HttpSettings::default(),
    )
}

/// Runs `plan` (see [`default_run`]) into `app`'s live run, task i on worker i + `first`.
fn run_default(app: &mut App, plan: &Plan, busy: bool, first: usize) {
    let workers = plan.experiments[0].workers;
    app.update(Msg::Event(Event::RunStarted {
        at: Timestamp(T0),
        cores: 2,
        experiments: plan.experiments.len(),
    }));
    let mut at = T0;
    for (x, e) in plan.experiments.iter().enumerate() {
        app.update(Msg::Event(Event::ExperimentStarted {
            experiment: x,
            plan: e.clone(),
            at: Timestamp(at),
        }));
        let process = e.executor == ExecutorKind::Processes;
        // fib: processes 540 ms, threads 610 ms, gil 960 ms; http: the longest delay.
        let scale = match e.executor {
            ExecutorKind::Processes => 540,
            ExecutorKind::Threads => 610,
            _ => 960,
        };
        for w in 0..workers {
            app.update(Msg::Event(Event::WorkerStarted {
                experiment: x,
                worker: worker(w, process),
                at: Timestamp(at + 2 * MS),
            }));
        }
        let mut end = at;
        let mut free = vec![at + 3 * MS; workers];
        for (i, &input) in e.inputs.iter().enumerate() {
            let ms = match e.workload {
                WorkloadKind::Fib => scale * (i as u64 + 1) / 8,
                _ => input + x as u64,
            };
            let w = (i + first) % workers;
            let start = free[w];
            free[w] = start + ms * MS;
            end = end.max(free[w]);
            let cpu = if e.workload == WorkloadKind::Fib {
                ms / 4
            } else {
                0
            };
            app.update(task(
                x,
                i,
                input,
                worker(w, process),
                start,
                TaskEventKind::Started,
            ));
            app.update(task(x, i, input, worker(w, process), free[w], done(cpu)));
        }
        let gil = e.executor == ExecutorKind::Gil;
        app.update(Msg::Event(Event::Figures(
            poolscope::model::event::ExperimentFigures {
                experiment: x,
                others_cpu: Some(if busy { 1.2 } else { 0.0 }),
                cpu_wait: Some(Duration::from_millis(if gil { 103 } else { 1070 })),
                voluntary_switches: Some(if gil { 2934 } else { 20 }),
                involuntary_switches: Some(if gil { 1056 } else { 243 }),
                gil_wait: gil.then(|| Duration::from_millis(14_930)),
                ..Default::default()
            },
        )));
        app.update(Msg::Event(Event::ExperimentFinished {
            experiment: x,
            at: Timestamp(end),
        }));
        at = end + 30 * MS;
    }
    app.update(Msg::Event(Event::RunFinished {
        at: Timestamp(at),
        outcome: RunOutcome::Completed,
    }));
    app.set_now(Timestamp(at));
}

/// The screen as text, a line per row.
fn text_of(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            let mut line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            line.push('\n');
            line
        })
        .collect()
}

/// The post's four speed-ups of the run shown, as the verdict writes them.
fn figures(app: &App) -> Vec<String> {
    app.shown_timeline()
        .speedups()
        .iter()
        .map(|s| format!("{} {:.2}%", s.workload.speedup_label(), s.percent))
        .collect()
}

#[test]
fn default_run_at_120x40() {
    insta::assert_snapshot!(draw(&default_run(8, false), 120, 40).backend());
}

#[test]
fn default_run_at_80x24() {
    insta::assert_snapshot!(draw(&default_run(8, true), 80, 24).backend());
}

#[test]
fn default_run_at_40x12() {
    insta::assert_snapshot!(draw(&default_run(8, false), 40, 12).backend());
}

/// Four workers leave rows to spare at 120×40: lanes grow taller instead of leaving them
/// blank under the summary.
#[test]
fn four_workers_at_120x40_use_the_height() {
    let terminal = draw(&default_run(4, false), 120, 40);
    let text = text_of(&terminal);
    let blank_tail = text
        .lines()
        .rev()
        .skip(1)
        .take_while(|l| l.trim().is_empty())
        .count();
    // Fewer blank rows than there are lanes: one more row a lane would not fit.
    assert!(blank_tail < 8, "{blank_tail} blank rows:\n{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn sixty_four_workers_at_120x40() {
    insta::assert_snapshot!(draw(&default_run(64, false), 120, 40).backend());
}

#[test]
fn sixty_four_workers_at_80x24() {
    insta::assert_snapshot!(draw(&default_run(64, false), 80, 24).backend());
}

/// The verdict is never cut: every speed-up figure is on the screen, whole, at every size
/// from 40×12 up, with and without colour, with the summary in full or folded.
#[test]
fn the_verdict_is_whole_at_every_size() {
    for busy in [false, true] {
        let mut app = default_run(8, busy);
        let wanted = figures(&app);
        assert_eq!(wanted.len(), 4, "{wanted:?}");
        for color in [false, true] {
            app.color = color;
            for width in (40..=160).step_by(3) {
                for height in (12..=50).step_by(2) {
                    for fold in [
                        poolscope::view::app::SummaryFold::Auto,
                        poolscope::view::app::SummaryFold::Open,
                        poolscope::view::app::SummaryFold::Folded,
                    ] {
                        app.view.summary = fold;
                        let text = text_of(&draw(&app, width, height));
                        for figure in &wanted {
                            assert!(
                                text.contains(figure.as_str()),
                                "{width}×{height} {fold:?}: {figure} cut or missing:\n{text}"
                            );
                        }
                        let words: Vec<&str> = text.split_whitespace().collect();
                        assert!(
                            words.join(" ").contains("1 run"),
                            "{width}×{height}: the caveat:\n{text}"
                        );
                    }
                }
            }
        }
    }
}

/// At 80×24 the default plan's six panels show all 8 lanes each at once, with the verdict;
/// `v` unfolds the summary (every experiment's row, the verdict still whole), and `v`
/// again folds it.
#[test]
fn at_80x24_every_lane_and_the_verdict_then_v_unfolds_the_summary() {
    let mut app = default_run(8, true);
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let rows = poolscope::view::ui::rows_per_panel(&app, area);
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|&(_, n)| n >= 8), "{rows:?}");
    let text = text_of(&draw(&app, 80, 24));
    let lanes: usize = text
        .lines()
        .map(|l| {
            (0..8)
                .map(|w| {
                    l.matches(&format!("│w{w} ")).count()
                        + usize::from(l.starts_with(&format!("w{w} ")))
                })
                .sum::<usize>()
        })
        .sum();
    assert_eq!(lanes, 48, "every lane of the six panels:\n{text}");
    assert!(!text.contains("lanes") && !text.contains("/8▼"), "{text}");
    for figure in figures(&app) {
        assert!(text.contains(&figure), "{figure}:\n{text}");
    }
    assert!(poolscope::view::ui::summary_folded(&app, area));
    let footer = text.lines().last().unwrap();
    assert!(footer.contains("v summary"), "{footer}");

    app.view.summary_folded = poolscope::view::ui::summary_folded(&app, area);
    press(&mut app, KeyCode::Char('v'));
    let text = text_of(&draw(&app, 80, 24));
    for name in [
        "process-fibo",
        "thread-fibo",
        "gil-fibo",
        "process-get",
        "thread-get",
        "gil-get",
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with('│') && l.contains(&format!(" {name} "))),
            "summary row {name}:\n{text}"
        );
    }
    let heading = text
        .lines()
        .find(|l| l.contains("experiment"))
        .unwrap_or_else(|| panic!("{text}"));
    for column in ["cpu wait", "switches", "gil wait"] {
        assert!(heading.contains(column), "{column}: {heading}");
    }
    for figure in figures(&app) {
        assert!(text.contains(&figure), "{figure}:\n{text}");
    }
    assert!(!poolscope::view::ui::summary_folded(&app, area));
    app.view.summary_folded = false;
    press(&mut app, KeyCode::Char('v'));
    assert!(poolscope::view::ui::summary_folded(&app, area));
}

/// At 40×12 each panel's title keeps its number and name, cut with `…`.
#[test]
fn at_40x12_titles_keep_number_and_name() {
    let text = text_of(&draw(&default_run(8, false), 40, 12));
    for (n, name) in ["process-", "thread-", "gil-"].iter().enumerate() {
        for row in 0..2 {
            let number = n + 1 + 3 * row;
            assert!(
                text.contains(&format!("{number} {}", &name[..name.len().min(6)])),
                "panel {number}:\n{text}"
            );
        }
    }
}

/// With 64 workers and 8 tasks, the lanes of workers that never got a task say so, and
/// the panel's border counts those that ran tasks apart from them.
#[test]
fn many_workers_are_counted_apart() {
    for (width, height) in [(120, 40), (80, 24)] {
        let mut app = default_run(64, false);
        let area = ratatui::layout::Rect::new(0, 0, width, height);
        let text = text_of(&draw(&app, width, height));
        let counted = [
            "8 ran tasks · 56 never got one",
            "8 ran tasks · 56 got none",
            "8 ran · 56 none",
        ];
        let counts: usize = counted.iter().map(|c| text.matches(c).count()).sum();
        assert_eq!(counts, 6, "{width}×{height}: every panel counts:\n{text}");
        // The last lanes, scrolled to: their workers never got a task.
        app.set_page_rows(&poolscope::view::ui::rows_per_panel(&app, area));
        press(&mut app, KeyCode::End);
        let text = text_of(&draw(&app, width, height));
        assert!(
            text.lines().any(|l| l.contains("w63 ")
                && (l.contains("╌ never got a task") || l.contains("╌ no task"))),
            "{text}"
        );
    }
}

/// After several runs, each ratio says which two executors and which way it runs.
#[test]
fn ratios_over_runs_say_which_way_they_run() {
    let mut app = default_run(8, false);
    let plan = app.plan().clone();
    for _ in 0..2 {
        app.update(Msg::RunRestarted);
        run_default(&mut app, &plan, false, 0);
    }
    for (width, height) in [(120, 40), (80, 24), (40, 12)] {
        let text = text_of(&draw(&app, width, height));
        let words: Vec<&str> = text.split_whitespace().collect();
        let words = words.join(" ");
        assert!(words.contains("Over 3 runs"), "{width}×{height}:\n{text}");
        assert!(
            words.contains("processes 1.77 ± 0.00× faster than gil"),
            "{width}×{height}:\n{text}"
        );
        assert!(!text.contains(" ≈"), "{text}");
    }
}

/// Comparing two runs, each run's speed-ups are whole too, at every size from 40×12 up.
#[test]
fn compare_gives_each_runs_verdict_whole() {
    let mut app = default_run(8, false);
    let plan = app.plan().clone();
    app.update(Msg::RunRestarted);
    run_default(&mut app, &plan, true, 0);
    press(&mut app, KeyCode::Char('c'));
    assert!(app.compared().is_some());
    // Both runs have the same figures: `Fibonacci 11.42% → 11.42%`.
    let wanted: Vec<String> = app
        .shown_timeline()
        .speedups()
        .iter()
        .map(|s| {
            let p = format!("{:.2}%", s.percent);
            format!("{} {p} → {p}", s.workload.speedup_label())
        })
        .collect();
    for (width, height) in [(120, 40), (80, 24), (60, 20), (40, 12)] {
        let text = text_of(&draw(&app, width, height));
        for figure in &wanted {
            assert!(
                text.contains(figure.as_str()),
                "{width}×{height}: {figure}:\n{text}"
            );
        }
        let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains("run 1 → run 2"), "{text}");
    }
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

/// The plan editor means what it shows: with http unticked its settings say they are not
/// used and the command line leaves them out; typing on a field replaces its value, and a
/// bad value is said at once, before Enter.
#[test]
fn the_editor_shows_what_the_plan_uses_and_refuses_while_typing() {
    let mut app = default_run(8, false);
    press(&mut app, KeyCode::Char('p'));
    // workloads: → http, space unticks it.
    press(&mut app, KeyCode::Right);
    press(&mut app, KeyCode::Char(' '));
    // Down to the workers field (workloads, executors, fib, delays, workers), type 0.
    for _ in 0..4 {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Char('0'));
    let text = text_of(&draw(&app, 100, 30));
    let line = |what: &str| {
        text.lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("{what}:\n{text}"))
            .to_string()
    };
    assert!(line("delays (ms)").contains("not used: --workload has neither http nor sleep"));
    assert!(line("url").contains("not used: --workload has no http"));
    assert!(
        line("▸ workers").contains(" 0 "),
        "typed over the 8: {}",
        line("▸ workers")
    );
    line("✗ --workers '0': expected a whole number from 1 to 1024");
    line("poolscope --workload fib --workers 0");
    insta::assert_snapshot!(draw(&app, 100, 30).backend());
}

/// The header gives the plan being edited as the flags that make it: for the default plan,
/// which needs none, it says so (not "poolscope poolscope").
#[test]
fn the_editors_header_says_the_default_plan_needs_no_flags() {
    let mut app = default_run(8, false);
    press(&mut app, KeyCode::Char('p'));
    let text = text_of(&draw(&app, 100, 30));
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("poolscope (the default plan: no flags)"),
        "{header}"
    );
    assert!(!text.contains("poolscope poolscope"), "{text}");
}

/// With 64 workers of which the last 8 ran the tasks, the panels show those 8 first where
/// the lanes do not all fit: the work is in view, the idle are scrolled to.
#[test]
fn the_workers_that_ran_tasks_come_first() {
    let plan = default_plan(64);
    let mut app = App::new(plan.clone(), false);
    run_default(&mut app, &plan, false, 56);
    let text = text_of(&draw(&app, 80, 24));
    let first_lanes: Vec<&str> = text
        .lines()
        .filter(|l| (l.starts_with("┃w") || l.starts_with("│w")) && !l.contains("worker"))
        .collect();
    assert_eq!(first_lanes.len(), 14, "{text}");
    assert!(
        first_lanes.iter().all(|l| l.starts_with("┃w5")
            || l.starts_with("┃w6")
            || l.starts_with("│w5")
            || l.starts_with("│w6")),
        "{text}"
    );
    assert!(!text.contains("no task"), "{text}");
    // At 120×40 with the maximized panel, all 64 do not fit either: the same.
    press(&mut app, KeyCode::Char('z'));
    let text = text_of(&draw(&app, 120, 40));
    let lanes: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("┃w") && !l.contains("worker"))
        .collect();
    assert!(
        lanes[0].starts_with("┃w56 ") && lanes[8].contains("never got a task"),
        "{text}"
    );
}

/// A click hits the bar drawn under it in compact panels (80×24) and on the further rows
/// of taller lanes (4 workers at 120×40).
#[test]
fn clicks_hit_bars_in_compact_panels_and_tall_lanes() {
    for (workers, width, height) in [(8, 80, 24), (4, 120, 40)] {
        let app = default_run(workers, false);
        let terminal = draw(&app, width, height);
        let buffer = terminal.backend().buffer();
        let area = ratatui::layout::Rect::new(0, 0, width, height);
        // thread-fibo's w3 runs fib 37 (task 3) from its first bar column: find its row.
        let (y, line) = (0..height)
            .map(|y| {
                let line: String = (0..width)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect();
                (y, line)
            })
            .find(|(_, l)| l.contains("│w3 ") || l.contains("│w3 tid"))
            .unwrap_or_else(|| panic!("{}", text_of(&terminal)));
        let label = line.find("│w3").unwrap();
        let x = line[..label].chars().count() as u16 + 1;
        let bar = (x..width)
            .find(|&x| matches!(buffer[(x, y)].symbol(), "█" | "▓"))
            .unwrap();
        for row in [y, y + u16::from(workers == 4)] {
            let hit = poolscope::view::ui::hit(&app, area, bar, row);
            assert_eq!(
                hit,
                Some((1, Some(3))),
                "{workers} workers, row {row}:\n{}",
                text_of(&terminal)
            );
        }
    }
}

/// A live watch of one process with one thread, sampled once (half on a CPU, half on
/// I/O), no pool task.
fn watched_app() -> App {
    use poolscope::model::event::{SampleEvent, WaitShares};
    use poolscope::model::plan::ExperimentPlan;
    let mut app = App::watching("python3 x.py".into(), false);
    let worker = WorkerId {
        index: 0,
        pid: 10,
        tid: 10,
    };
    for event in [
        Event::RunStarted {
            at: Timestamp(0),
            cores: 2,
            experiments: 0,
        },
        Event::ExperimentStarted {
            experiment: 0,
            plan: ExperimentPlan::watched("10 python3 x.py".into()),
            at: Timestamp(0),
        },
        Event::LaneAdded {
            experiment: 0,
            worker,
            name: "python3".into(),
            at: Timestamp(0),
        },
        Event::Sample(SampleEvent {
            experiment: 0,
            worker,
            from: Timestamp(0),
            to: Timestamp(10_000),
            running: 0.5,
            runnable: 0.0,
            blocked: 0.5,
            voluntary_switches: Some(1),
            involuntary_switches: Some(0),
            gil: None,
            waits: Some(WaitShares {
                io: 0.5,
                sleep: 0.0,
                lock: 0.0,
                gil: 0.0,
            }),
        }),
    ] {
        app.update(Msg::Event(event));
    }
    app
}

/// A watched process with no pool task says its state without a count ("0/0").
#[test]
fn a_watched_process_without_tasks_has_no_count() {
    let app = watched_app();
    for (width, height) in [(120u16, 40u16), (80, 24)] {
        let text = text_of(&draw(&app, width, height));
        assert!(!text.contains("0/0"), "{width}x{height}:\n{text}");
        assert!(text.contains("running"), "{width}x{height}:\n{text}");
    }
}

/// A watched program's legend (more shades than a run's) is never cut inside a word on
/// the summary's border: long words where they fit, short ones, else as many as fit and a
/// pointer to the whole legend under `?`.
#[test]
fn the_watch_legend_is_never_cut_inside_a_word() {
    let app = watched_app();
    let words = [
        "on a CPU",
        "thread on a CPU",
        "waiting for a CPU",
        "I/O",
        "sleep",
        "lock",
        "blocked, other",
        "not sampled",
    ];
    let brief = [
        "CPU",
        "thread CPU",
        "wants CPU",
        "I/O",
        "sleep",
        "lock",
        "other",
        "unknown",
    ];
    for width in [160u16, 120, 100, 80, 60, 40] {
        let text = text_of(&draw(&app, width, 30));
        let border = text
            .lines()
            .find(|l| l.contains(" summary "))
            .unwrap_or_else(|| panic!("{width}:\n{text}"));
        // Each swatch's words, between its glyph and the next, are whole.
        let legend = border.split(" summary ").nth(1).unwrap();
        let shown: Vec<String> = legend
            .split("  ")
            .map(|part| part.trim_matches(|c| c == '─' || c == '╮' || c == ' '))
            .filter(|part| !part.is_empty())
            .map(|part| part.chars().skip(2).collect())
            .collect();
        for label in &shown {
            assert!(
                words.contains(&label.as_str())
                    || brief.contains(&label.as_str())
                    || label == "? all",
                "{width}: {label:?} in {border}"
            );
        }
        if width >= 160 {
            assert_eq!(shown.len(), words.len(), "{width}: all, long: {border}");
        }
        if shown.len() < words.len() {
            assert_eq!(shown.last().map(String::as_str), Some("? all"), "{border}");
        }
    }
}

/// A message longer than the bottom line is cut with '…', and help and quit stay.
#[test]
fn a_long_message_is_cut_and_help_and_quit_stay() {
    let mut app = default_run(8, false);
    app.status = Some(poolscope::view::app::Status::info(
        "r, w and W run a plan of poolscope's again; this is a watched program: p runs poolscope's own plan beside it (once it has ended), and c compares the two",
    ));
    for width in [120u16, 80, 40] {
        let text = text_of(&draw(&app, width, 24));
        let footer = text.lines().last().unwrap();
        assert!(footer.contains('…'), "{width}: {footer}");
        assert!(
            footer.trim_end().ends_with("? help  q quit"),
            "{width}: {footer}"
        );
    }
}
