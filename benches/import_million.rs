//! Files at scale: how long `poolscope view FILE --print` takes and how much memory it
//! peaks at, on a million rows of the post's CSV (8 lanes, and overlapping: about 50
//! lanes), a million-event Chrome trace over 64 threads, and hostile files (huge worker
//! numbers, 100 000 workers, 20 000 experiments, 100 000 thread ids, 20 000 bad events
//! under `--lenient`); then what one frame of the view costs over the million rows.
//!
//! `cargo bench --bench import_million` (`POOLSCOPE_BENCH_ROUNDS=N`, default 5)
//!
//! The files are written once under the system's temporary folder (`million/`) and left
//! there. Each case runs the built binary as a user would, rounds interleaved case by case,
//! and reports the median wall time, the median CPU time (user + system: the sharper figure
//! on a shared machine) and the median peak resident memory (`wait4`'s `ru_maxrss`).
//! Targets: 8 lanes ≤ 2 s and 300 MB; overlapping ≤ 1.5 s and 150 MB; the trace ≤ 3 s and
//! no more memory than its file; every hostile file ≤ 2 s; a frame ≤ 2 ms.
//!
//! One case by hand, as the README quotes it:
//! `/usr/bin/time -f '%e s, %M KiB' target/release/poolscope view /tmp/million/trace/trace.json --print --width 120 > /dev/null`

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use poolscope::formats::{self, Progress};
use poolscope::view::app::{App, Msg};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

const ROWS: usize = 1_000_000;

/// xorshift: reproducible numbers without a dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn dir() -> PathBuf {
    std::env::temp_dir().join("million")
}

/// Writes `name` under the bench's folder with `fill` unless it is there already.
fn file(name: &str, fill: impl FnOnce(&mut dyn Write)) -> PathBuf {
    let path = dir().join(name);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
        return path;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let partial = path.with_extension("partial");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).unwrap());
    fill(&mut out);
    out.flush().unwrap();
    drop(out);
    std::fs::rename(&partial, &path).unwrap();
    path
}

/// A million rows of a simulated 8-worker pool, tasks of 0.5 to 5 ms.
fn eight_lanes(out: &mut dyn Write) {
    writeln!(out, "tag,start_time,end_time,elapsed,result").unwrap();
    let mut free_at = [1_700_000_000.0f64; 8];
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    for i in 0..ROWS {
        let seed = random.next();
        let duration = 0.0005 + (seed % 4500) as f64 * 1e-6;
        let worker = (0..8)
            .min_by(|&a, &b| free_at[a].total_cmp(&free_at[b]))
            .unwrap();
        let start = free_at[worker] + 0.00002;
        let end = start + duration;
        free_at[worker] = end;
        writeln!(
            out,
            "process-fibo-{i},{start:?},{end:?},{:?},{}",
            end - start,
            seed % 100_000_000
        )
        .unwrap();
    }
}

/// A million rows where tasks overlap: one starts every 1 ms and lasts up to 50 ms.
fn overlapping(out: &mut dyn Write) {
    writeln!(out, "tag,start_time,end_time,elapsed,result").unwrap();
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    for i in 0..ROWS {
        let seed = random.next();
        let start = 1_700_000_000.0 + i as f64 * 0.001;
        let length = (seed % 50_001) as f64 * 1e-6;
        writeln!(
            out,
            "process-fibo-{i},{start:.6},{:.6},{length:.6},{}",
            start + length,
            seed % 100_000_000
        )
        .unwrap();
    }
}

/// A million complete events over 64 threads, as a profiler writes them.
fn trace(out: &mut dyn Write) {
    writeln!(out, "{{\"traceEvents\":[").unwrap();
    let mut free_at = [0.0f64; 64];
    let mut random = Random(0xdead_beef_cafe_f00d);
    for i in 0..ROWS {
        let thread = i % 64;
        let ts = free_at[thread] + 1.5;
        let dur = (random.next() % 4_900 + 100) as f64 + 0.25;
        free_at[thread] = ts + dur;
        let n = 20 + i % 10;
        writeln!(
            out,
            "{{\"name\":\"fib({n})\",\"cat\":\"task\",\"ph\":\"X\",\"ts\":{ts:.3},\"dur\":{dur:.3},\"pid\":1,\"tid\":{},\"args\":{{\"input\":{n}}}}}{}",
            thread + 1,
            if i + 1 < ROWS { "," } else { "" }
        )
        .unwrap();
    }
    writeln!(out, "]}}").unwrap();
}

const OWN_HEADER: &str = "tag,start_time,end_time,elapsed,result,experiment,executor,workload,input,worker,pid,tid,cpu_time,status,error";

fn own_row(experiment: &str, index: usize, worker: u64, start: f64, length: f64) -> String {
    format!(
        "{experiment}-{index},{start:.6},{:.6},{length:.6},1,{experiment},threads,fib,30,{worker},1,2,0.001,ok,\n",
        start + length
    )
}

/// The hostile files of the issue: each once slow, huge or fatal.
fn hostile() -> Vec<(&'static str, PathBuf, bool)> {
    let huge = |worker: u64| {
        move |out: &mut dyn Write| {
            let rows = format!(
                "{OWN_HEADER}\n{}{}",
                own_row("t", 0, worker, 1.0, 1.0),
                own_row("t", 1, worker, 1.5, 1.0)
            );
            out.write_all(rows.as_bytes()).unwrap();
        }
    };
    vec![
        (
            "worker 18446744073709551615",
            file("hostile/worker-max.csv", huge(u64::MAX)),
            false,
        ),
        (
            "worker 10000000000",
            file("hostile/worker-1e10.csv", huge(10_000_000_000)),
            false,
        ),
        (
            "worker 100000000",
            file("hostile/worker-1e8.csv", huge(100_000_000)),
            false,
        ),
        (
            "100 000 workers",
            file("hostile/workers.csv", |out| {
                let mut text = format!("{OWN_HEADER}\n");
                for i in 0..100_000u64 {
                    let worker = (i * 7_919) % 100_000;
                    text.push_str(&own_row(
                        "t",
                        i as usize,
                        worker,
                        1.0 + i as f64 * 1e-5,
                        1e-3,
                    ));
                }
                out.write_all(text.as_bytes()).unwrap();
            }),
            false,
        ),
        (
            "20 000 experiments",
            file("hostile/experiments.csv", |out| {
                let mut text = format!("{OWN_HEADER}\n");
                for i in 0..20_000 {
                    text.push_str(&own_row(
                        &format!("e{i}"),
                        0,
                        0,
                        1.0 + i as f64 * 1e-3,
                        5e-4,
                    ));
                }
                out.write_all(text.as_bytes()).unwrap();
            }),
            false,
        ),
        (
            "100 000 tids",
            file("hostile/tids.json", |out| {
                let mut text = String::from("[");
                for i in 0..100_000u64 {
                    let tid = (i * 7_919) % 100_000 * 1_000_003;
                    let _ = write!(
                        text,
                        "{}{{\"ph\":\"X\",\"name\":\"t\",\"pid\":1,\"tid\":{tid},\"ts\":{i},\"dur\":1}}",
                        if i == 0 { "" } else { ",\n" }
                    );
                }
                text.push(']');
                out.write_all(text.as_bytes()).unwrap();
            }),
            false,
        ),
        (
            "20 000 bad events, --lenient",
            file("hostile/bad-events.json", |out| {
                let mut text = String::from("{\"traceEvents\":[\n");
                for i in 0..40_000 {
                    let dur = if i % 2 == 1 { -1 } else { 1 };
                    let _ = writeln!(
                        text,
                        "{{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":{i},\"dur\":{dur}}}{}",
                        if i + 1 < 40_000 { "," } else { "" }
                    );
                }
                text.push_str("]}\n");
                out.write_all(text.as_bytes()).unwrap();
            }),
            true,
        ),
    ]
}

/// One run of `poolscope view FILE --print`: wall time, CPU time, peak memory (KiB).
fn view_once(path: &Path, lenient: bool) -> (Duration, Duration, u64) {
    let start = Instant::now();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_poolscope"));
    command
        .args([
            "view",
            &path.display().to_string(),
            "--print",
            "--width",
            "120",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if lenient {
        command.arg("--lenient");
    }
    // Reaped by wait4 below, which also gives its resource use.
    #[allow(clippy::zombie_processes)]
    let child = command.spawn().unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; `usage` is ours to fill.
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{}: exit status {status}",
        path.display()
    );
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (
        wall,
        time(usage.ru_utime) + time(usage.ru_stime),
        usage.ru_maxrss as u64,
    )
}

fn median<T: Ord + Copy>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("POOLSCOPE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
        .max(1);
    let mut cases = vec![
        (
            "post CSV, 8 lanes",
            file("process-fibo.csv", eight_lanes),
            false,
        ),
        (
            "post CSV, overlapping",
            file("overlap/process-fibo.csv", overlapping),
            false,
        ),
        ("trace, 64 threads", file("trace/trace.json", trace), false),
    ];
    cases.extend(hostile());
    let mut results: Vec<Vec<(Duration, Duration, u64)>> = vec![Vec::new(); cases.len()];
    for _ in 0..rounds {
        for (i, (_, path, lenient)) in cases.iter().enumerate() {
            results[i].push(view_once(path, *lenient));
        }
    }
    println!("poolscope view FILE --print, median of {rounds} rounds:");
    for ((name, path, _), runs) in cases.iter().zip(results) {
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        println!(
            "{name:<30} {:>7.1} MB file: wall {:>6.3} s, CPU {:>6.3} s, peak {:>5.0} MB",
            size as f64 / 1e6,
            median(runs.iter().map(|r| r.0).collect()).as_secs_f64(),
            median(runs.iter().map(|r| r.1).collect()).as_secs_f64(),
            median(runs.iter().map(|r| r.2).collect()) as f64 * 1024.0 / 1e6,
        );
    }

    let path = dir().join("process-fibo.csv");
    let recording = formats::load(std::slice::from_ref(&path), false, &Progress::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut app = App::viewing(vec![path.display().to_string()], true);
    app.update(Msg::Loaded(Box::new(recording)));
    let area = Rect::new(0, 0, 200, 60);
    let mut frames = Vec::new();
    for _ in 0..21 {
        let mut buf = Buffer::empty(area);
        let t = Instant::now();
        (&app).render(area, &mut buf);
        frames.push(t.elapsed());
        std::hint::black_box(&buf);
    }
    frames.sort();
    println!(
        "view frame at 200×60 over the 8-lane million: median {:.2} ms (min {:.2}, max {:.2})",
        frames[10].as_secs_f64() * 1e3,
        frames[0].as_secs_f64() * 1e3,
        frames[20].as_secs_f64() * 1e3
    );
}
