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

/// A pane title: `long` when it fits in `width` (borders included), else `short`.
#[must_use]
pub fn fit_title(long: String, short: String, width: u16) -> String {
    if long.chars().count() + 2 <= usize::from(width) {
        long
    } else {
        short
    }
}
