//! A million rows in the post's CSV format: how long they take to load and print, how
//! much memory that takes, and what one frame of the view costs over them.
//!
//! `cargo bench --bench import_million`
//!
//! Writes `million/process-fibo.csv` under the system's temporary folder (1 000 000 rows of
//! a simulated 8-worker pool, tasks of 0.5 to 5 ms, as the post's script writes them), then
//! in this process: reads it with `formats::load` (parallel, rayon) and prints the chart
//! as `--print --width 120` would, timing both; reports the peak resident memory
//! (`getrusage`); then draws the view over it at 200×60, 21 frames, and reports the median.
//! Targets: load + print ≤ 2 s, ≤ 300 MB, a frame ≤ 2 ms.
//!
//! The same through the binary, as a user runs it (the file is left in place):
//! `/usr/bin/time -f '%e s, %M KiB' target/release/poolscope view /tmp/million/process-fibo.csv --print --width 120 > /dev/null`

use std::io::Write;
use std::time::Instant;

use poolscope::formats::{self, Progress};
use poolscope::view::app::{App, Msg};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

const ROWS: usize = 1_000_000;
const WORKERS: usize = 8;

fn write_file() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("million");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("process-fibo.csv");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 50_000_000) {
        return path;
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "tag,start_time,end_time,elapsed,result").unwrap();
    let mut free_at = [1_700_000_000.0f64; WORKERS];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for i in 0..ROWS {
        // xorshift: reproducible durations without a dependency.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let duration = 0.0005 + (seed % 4500) as f64 * 1e-6;
        let worker = (0..WORKERS)
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
    path
}

fn peak_rss_mib() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn main() {
    let path = write_file();
    let size = std::fs::metadata(&path).unwrap().len();
    let before = peak_rss_mib();
    let start = Instant::now();
    let recording = formats::load(std::slice::from_ref(&path), false, &Progress::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let loaded = start.elapsed();
    let chart = formats::text::chart(&recording.timeline, 120, false);
    let printed = start.elapsed();
    std::hint::black_box(&chart);
    let experiment = &recording.timeline.experiments()[0];
    println!(
        "{} rows ({:.0} MB) → {} lanes; load {:.3} s, load + print {:.3} s; peak RSS {:.0} MiB (before: {:.0} MiB)",
        experiment.tasks_held(),
        size as f64 / 1e6,
        experiment.lanes.len(),
        loaded.as_secs_f64(),
        printed.as_secs_f64(),
        peak_rss_mib(),
        before
    );

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
        "view frame at 200×60 over them: median {:.2} ms (min {:.2}, max {:.2})",
        frames[10].as_secs_f64() * 1e3,
        frames[0].as_secs_f64() * 1e3,
        frames[20].as_secs_f64() * 1e3
    );
}
