//! Moving around: scrolling, jumping and going between panes.

use super::palette;
use super::rows;
use super::state::{Overlay, Screen, State};

/// `g`/`G`: to the first or last line of whatever the screen scrolls.
pub fn jump(state: &mut State, to_end: bool) {
    match state.view.screen {
        Screen::Help => {
            state.view.help_scroll = if to_end { help_max_scroll(state) } else { 0 };
        }
        Screen::Capacity | Screen::Rightsize => {
            let screen = state.view.screen;
            let row = if to_end { usize::MAX } else { 0 };
            state.reports.set_cursor(screen, row);
        }
        // The VM table is not in view: moving its cursor unseen would leave a VM selected
        // that the next operation acts on.
        Screen::Forecast => no_rows_here(state),
        _ => rows::jump(state, to_end),
    }
}

fn no_rows_here(state: &mut State) {
    super::opflow::flash(
        state,
        "the forecast has no rows to move through: tab next metric, + - horizon, esc back",
        false,
    );
}

pub fn scroll(state: &mut State, delta: isize) {
    if state.view.screen == Screen::Host {
        let n = isize::try_from(state.hosts.len()).unwrap_or(1).max(1);
        let cur = isize::try_from(state.view.host_cursor).unwrap_or(0);
        state.view.host_cursor = usize::try_from((cur + delta).clamp(0, n - 1)).unwrap_or(0);
    } else if matches!(state.view.screen, Screen::Capacity | Screen::Rightsize) {
        // The selected row (in recommendations, the one whose evidence is shown): never
        // past the last row.
        let screen = state.view.screen;
        let row = state.reports.cursor(screen).saturating_add_signed(delta);
        state.reports.set_cursor(screen, row);
    } else if state.view.screen == Screen::Help {
        let h = i32::from(state.view.help_scroll) + i32::try_from(delta).unwrap_or(0);
        state.view.help_scroll = u16::try_from(h.max(0))
            .unwrap_or(0)
            .min(help_max_scroll(state));
    } else if state.view.screen == Screen::Forecast {
        no_rows_here(state);
    } else {
        rows::move_cursor(state, delta);
    }
}

/// The help scrolled as far as its last line at the bottom of the pane: its key lines, a
/// blank line and the palette lines, in the body between header and footer, inside the
/// borders.
fn help_max_scroll(state: &State) -> u16 {
    let lines =
        u16::try_from(state.help.len() + 1 + palette::help_lines().len()).unwrap_or(u16::MAX);
    lines.saturating_sub(state.size.1.saturating_sub(4))
}

/// `enter`: the selected VM's detail pane, from the table that shows which VM that is; in
/// the pane, every device line or the charts. Elsewhere (the host pane, help, a forecast)
/// the table's selection is out of sight, so enter does not open it.
pub fn open_detail(state: &mut State) {
    if state.view.screen == Screen::Detail {
        state.view.all_devices = !state.view.all_devices;
    } else if state.view.screen == Screen::Table && state.selected().is_some() {
        state.view.all_devices = false;
        state.view.go(Screen::Detail);
    }
}

/// `/`: the filter narrows the VM table, so from any other pane it goes there first and
/// what it does shows (esc goes back).
pub fn open_filter(state: &mut State) {
    state.view.go(Screen::Table);
    // Reopened over a filter that hides every row, it keeps the VM from before.
    if let Some(e) = state.selected() {
        state.view.filter_origin = Some((e.vm.id.clone(), state.view.chosen));
    }
    state.view.overlay = Some(Overlay::Filter {
        buf: state.view.filter.clone(),
    });
}

pub fn toggle_screen(state: &mut State, s: Screen) {
    if state.view.screen == s {
        state.view.back();
    } else {
        state.view.go(s);
    }
    state.view.help_scroll = 0;
}

pub fn back(state: &mut State) {
    if state.view.screen == Screen::Table {
        if !state.view.filter.is_empty() {
            // A kept filter that lists nothing leaves no VM selected: clearing it goes back
            // to the one selected before (not the first row, for the next key to act on).
            let none = state.selected().is_none();
            state.view.filter.clear();
            rows::rebuild(state);
            if none {
                rows::back_to_filter_origin(state);
            }
            state.view.filter_origin = None;
        } else if !state.view.came_from.is_empty() {
            // Come to the table by `/` from another pane: esc goes back there.
            state.view.back();
        }
    } else {
        state.view.back();
    }
}
