//! The live view: the app's state and how it changes, the plan editor, and the widgets
//! that draw them.

pub mod app;
pub mod editor;
pub mod ui;
