//! The integration tests that judge figures — the scheduler's shares, the delay server's
//! lateness, the view's answer under load, a reopened run's waits — in one binary, one test at
//! a time (`common::measuring`), apart from the rest so no other test shares the CPUs with
//! them. Run one file's with `cargo test --test measured why::`.

#[path = "../common/mod.rs"]
mod common;
mod delay_server_load;
mod load;
mod reopen;
mod sampler;
mod why;
