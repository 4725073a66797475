//! The vocabulary everyone speaks: the clock, the plan, the events a run streams, and the
//! timeline built from them, with its statistics, and how outside text is shown.

pub mod clock;
pub mod display;
pub mod event;
pub mod plan;
pub mod stats;
pub mod timeline;
