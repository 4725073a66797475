//! The chart without a terminal: time axis, styles and glyphs, shared by the live view and
//! the files drawn from a run.

pub mod axis;
pub mod theme;
