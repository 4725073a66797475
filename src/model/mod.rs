//! The vocabulary everyone speaks: the clock, the plan, the events a run streams, and the
//! timeline built from them, with its statistics.

pub mod clock;
pub mod event;
pub mod plan;
pub mod stats;
pub mod timeline;
