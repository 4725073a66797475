//! What poolscope's fib costs: its kernel against a copy of the same function compiled here
//! as the benchmark's own (the code generation: they should be within noise), and against
//! `fib_until` checking a live cancel token (the check), side by side in one run.
//!
//! `cargo bench --bench fib_check`
//!
//! The check runs once per call with n ≥ `FIB_CHECK_FROM` (20), well under 0.1 % of the
//! calls, so all three should be within noise of each other.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use poolscope::engine::cancel::Canceller;
use poolscope::engine::workload::{fib, fib_until};

/// The same kernel, the benchmark's own.
fn own_fib(n: u64) -> u64 {
    match n {
        0 | 1 => 0,
        2 => 1,
        _ => own_fib(n - 1) + own_fib(n - 2),
    }
}

fn bench(c: &mut Criterion) {
    let canceller = Canceller::new();
    let token = canceller.token();
    let mut group = c.benchmark_group("fib(32)");
    group.bench_function("own copy", |b| b.iter(|| own_fib(black_box(32))));
    group.bench_function("plain", |b| b.iter(|| fib(black_box(32))));
    group.bench_function("with cancel check", |b| {
        b.iter(|| fib_until(black_box(32), &mut || token.is_cancelled()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
