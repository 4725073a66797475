//! The chart without a terminal: the time span and its cells, the axis, lane labels, and
//! the painting of rows with their styles and glyphs. The live view's panels, `--print` and
//! the SVG picture all draw from here, so a file and the screen never tell two stories.
//!
//! Nothing here imports the view, the command line or a terminal library: painting uses
//! ratatui's in-memory [`ratatui::buffer::Buffer`] and styles only.

pub mod axis;
pub mod cells;
pub mod fold;
pub mod labels;
pub mod paint;
pub mod span;
pub mod theme;

/// The narrowest chart worth printing (`--print WIDTH`).
pub const MIN_WIDTH: u16 = 20;
/// The widest (`--print WIDTH`).
pub const MAX_WIDTH: u16 = 1000;
