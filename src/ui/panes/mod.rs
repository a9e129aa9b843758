//! One pane per file, each a pure `render` of the state.

pub mod capacity;
pub mod detail;
pub mod footer;
pub mod forecast;
pub mod header;
pub mod help;
pub mod host;
pub mod journal;
pub mod logs;
pub mod overlay;
pub mod rightsize;
pub mod table;
