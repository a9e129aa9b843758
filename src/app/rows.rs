//! Row order (filter + sort), cursor and scrolling. Pure functions of the state.

use std::cmp::Ordering;

use super::state::{SortKey, State, VmEntry};
use crate::domain::{Metric, VmId};

/// Height of the VM table body for a terminal of `height` rows: total minus the header line,
/// the table's borders and column header, the journal pane and the footer. `ui` splits the
/// screen with the same numbers.
#[must_use]
pub fn table_body_height(height: u16) -> usize {
    usize::from(height.saturating_sub(1 + 3 + JOURNAL_HEIGHT + 1)).max(1)
}

/// Rows of the journal pane, borders included.
pub const JOURNAL_HEIGHT: u16 = 7;

fn matches_filter(state: &State, e: &VmEntry, needle: &str) -> bool {
    let n = needle.to_lowercase();
    e.vm.name.to_lowercase().contains(&n)
        || state.host_label(e.vm.id.host).to_lowercase().contains(&n)
        || e.vm.state_text().contains(&n)
        || e.vm.ips.iter().any(|ip| ip.contains(&n))
}

/// Rows in `key` order (reversed when `desc`); ties always by name A→Z, so a descending
/// sort by memory does not list equal VMs Z→A.
fn compare(state: &State, a: &VmEntry, b: &VmEntry, key: SortKey, desc: bool) -> Ordering {
    let by_name = || {
        a.vm.name
            .cmp(&b.vm.name)
            .then_with(|| a.vm.id.cmp(&b.vm.id))
    };
    let primary = match key {
        SortKey::Name => Ordering::Equal,
        SortKey::Host => state
            .host_label(a.vm.id.host)
            .cmp(state.host_label(b.vm.id.host)),
        SortKey::State => a.vm.state_text().cmp(&b.vm.state_text()),
        SortKey::Cpu => {
            let ca = a.metrics.live.value(Metric::CpuPct).unwrap_or(-1.0);
            let cb = b.metrics.live.value(Metric::CpuPct).unwrap_or(-1.0);
            ca.total_cmp(&cb)
        }
        SortKey::Vcpus => a.vm.vcpus.cmp(&b.vm.vcpus),
        // As the column reads: memory in use, then what the VM holds.
        SortKey::Memory => {
            let used = |e: &VmEntry| e.metrics.live.value(Metric::MemUsedBytes).unwrap_or(-1.0);
            used(a)
                .total_cmp(&used(b))
                .then(a.vm.mem_kib.cmp(&b.vm.mem_kib))
        }
    };
    match (key, desc) {
        (SortKey::Name, true) => by_name().reverse(),
        (_, true) => primary.reverse().then_with(by_name),
        (_, false) => primary.then_with(by_name),
    }
}

/// Recomputes `state.rows` from the data, filter and sort, keeping the selected VM under the
/// cursor when it is still visible.
pub fn rebuild(state: &mut State) {
    let filter = state.view.filter.clone();
    let (invert, needle) = match filter.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, filter.as_str()),
    };
    // The VM the operator picked stays listed while the filter is the same: an operation
    // that takes it out of the filter (suspend under `/running`) must not leave the cursor
    // on another VM for the next key to act on. Moving off it, or editing the filter, lets
    // it go.
    let pinned = state
        .view
        .selected
        .as_ref()
        .filter(|_| state.view.chosen && state.view.rows_filter == filter);
    let mut rows: Vec<&VmEntry> = state
        .vms
        .values()
        .filter(|e| {
            needle.is_empty()
                || matches_filter(state, e, needle) != invert
                || pinned == Some(&e.vm.id)
        })
        .collect();
    let key = state.view.sort;
    let desc = state.view.descending;
    rows.sort_by(|a, b| compare(state, a, b, key, desc));
    let ids: Vec<VmId> = rows.into_iter().map(|e| e.vm.id.clone()).collect();
    state.rows = ids;
    state.view.rows_filter = filter;
    let selected = state.view.selected.clone();
    if !state.view.chosen {
        state.view.cursor = 0;
    } else if let Some(pos) = selected.and_then(|s| state.rows.iter().position(|id| *id == s)) {
        state.view.cursor = pos;
    }
    clamp_cursor(state);
}

/// Keeps the cursor on a row and the row on screen.
pub fn clamp_cursor(state: &mut State) {
    let n = state.rows.len();
    if n == 0 {
        state.view.cursor = 0;
        state.view.offset = 0;
        state.view.selected = None;
        return;
    }
    state.view.cursor = state.view.cursor.min(n - 1);
    let page = table_body_height(state.size.1);
    if state.view.cursor < state.view.offset {
        state.view.offset = state.view.cursor;
    } else if state.view.cursor >= state.view.offset + page {
        state.view.offset = state.view.cursor + 1 - page;
    }
    state.view.offset = state.view.offset.min(n.saturating_sub(page));
    state.view.selected = state.rows.get(state.view.cursor).cloned();
}

/// Moves the cursor by `delta` rows (clamped).
pub fn move_cursor(state: &mut State, delta: isize) {
    state.view.chosen = true;
    let cur = isize::try_from(state.view.cursor).unwrap_or(isize::MAX);
    state.view.cursor = usize::try_from(cur.saturating_add(delta).max(0)).unwrap_or(0);
    clamp_cursor(state);
}

/// Jumps to the first or last row.
pub fn jump(state: &mut State, last: bool) {
    state.view.chosen = true;
    state.view.cursor = if last {
        state.rows.len().saturating_sub(1)
    } else {
        0
    };
    clamp_cursor(state);
}

/// Sorts by `key`; the same key again reverses the order.
pub fn sort_by(state: &mut State, key: SortKey) {
    if state.view.sort == key {
        state.view.descending = !state.view.descending;
    } else {
        state.view.sort = key;
        state.view.descending = key.default_descending();
    }
    rebuild(state);
}

/// Moves the sort to the previous/next column.
pub fn shift_sort(state: &mut State, forward: bool) {
    // With one host there is no HOST column to sort by: the key would seem to do nothing.
    let keys: Vec<SortKey> = SortKey::ORDER
        .into_iter()
        .filter(|k| *k != SortKey::Host || state.hosts.len() > 1)
        .collect();
    let n = keys.len();
    let i = keys.iter().position(|k| *k == state.view.sort).unwrap_or(0);
    let j = if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    };
    state.view.sort = keys[j];
    state.view.descending = state.view.sort.default_descending();
    rebuild(state);
}

/// The cursor back on the VM selected when the filter line opened, if it is listed.
pub fn back_to_filter_origin(state: &mut State) {
    let Some((id, chosen)) = state.view.filter_origin.clone() else {
        return;
    };
    if let Some(pos) = state.rows.iter().position(|r| *r == id) {
        state.view.cursor = pos;
        state.view.chosen = chosen;
        clamp_cursor(state);
    }
}
