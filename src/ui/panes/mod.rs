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

/// A column as wide as the widest text `text` gives for `rows`, and at least `min`.
#[must_use]
pub fn column_width<T>(rows: &[T], text: impl Fn(&T) -> String, min: usize) -> u16 {
    let widest = rows.iter().map(|r| text(r).chars().count()).max();
    u16::try_from(widest.unwrap_or(0).max(min)).unwrap_or(u16::MAX)
}
