//! The integration tests, one binary: each file beside this one is a module (one link and
//! one compile of the shared helpers instead of one per file, which was half the test
//! build's time). The measuring tests are in `measured`, and `headless` (whose memory test
//! reads its child's peak, which a large test process would inflate) stands alone. Run one file's tests with `cargo test --test suite <module>::`.

#[path = "../common/mod.rs"]
mod common;
mod engine;
mod explore;
mod files_at_scale;
mod formats;
mod guarantees;
mod hostile;
mod render;
mod show_why;
mod terminal;
mod traces;
mod untrusted;
mod watch;
mod watch_hook;
