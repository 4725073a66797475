//! What the hand-rolled benchmarks share: how many rounds to run, CPU time from rusage, and
//! paired statistics (rounds interleave the compared modes, so each round's ratio cancels
//! the drift of a noisy machine; its median and quartiles are what gets quoted).

#![allow(dead_code)]

use std::time::Duration;

/// Rounds to run: `POOLSCOPE_BENCH_ROUNDS`, else `default` under `cargo bench`, else 1
/// (`cargo test --benches` runs each bench once, as a smoke test).
pub fn rounds(default: usize) -> usize {
    let benching = std::env::args().any(|a| a == "--bench");
    std::env::var("POOLSCOPE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if benching { default } else { 1 })
}

/// CPU (user + system) used so far by `who`: `libc::RUSAGE_SELF` or `libc::RUSAGE_CHILDREN`
/// (reaped children, and through them their own reaped children).
pub fn cpu_used(who: libc::c_int) -> Duration {
    // SAFETY: getrusage only fills the zeroed struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// First quartile, median and third quartile.
pub fn quartiles(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    let at = |q: usize| xs[(xs.len() - 1) * q / 4];
    (at(1), at(2), at(3))
}

/// "+1.2 %, quartiles -3.0 % .. +4.1 %": each round's `xs[i] / base[i]`, as a change.
pub fn paired_change(xs: &[f64], base: &[f64]) -> String {
    let ratios = xs.iter().zip(base).map(|(x, b)| x / b).collect();
    let (q1, median, q3) = quartiles(ratios);
    let pct = |r: f64| (r - 1.0) * 100.0;
    format!(
        "{:+.1} %, quartiles {:+.1} % .. {:+.1} %",
        pct(median),
        pct(q1),
        pct(q3)
    )
}

/// The median, in milliseconds, as text.
pub fn median_ms(xs: &[f64]) -> String {
    format!("{:.1} ms", quartiles(xs.to_vec()).1 * 1e3)
}
