//! Host links: a host added from the palette, and each change of a host's connection.

use super::opflow::{self, flash, journal};
use super::state::{host_label, HostView, JournalStatus, State};
use super::Effect;
use crate::domain::HostId;
use crate::provider::ConnStatus;

/// `:connect URI`: a new host, labelled among the others, and its worker started. A host
/// whose first connection failed for good is tried once more.
pub fn connect(state: &mut State, uri: String) -> Vec<Effect> {
    let now = state.now_ms;
    // Another spelling of a connected daemon is that daemon (its lock is this console's).
    let key = crate::lock::daemon_key(&uri);
    if let Some(h) = state
        .hosts
        .iter_mut()
        .find(|h| crate::lock::daemon_key(&h.uri) == key)
    {
        if !matches!(h.status, ConnStatus::Failed { .. }) {
            let text = format!("already connected to {}", h.uri);
            flash(state, text, true);
            return Vec::new();
        }
        let uri = h.uri.clone();
        h.status = ConnStatus::Connecting;
        h.since_ms = now;
        let host = h.id;
        note(state, &uri, format!("connect {uri} (again)"));
        return vec![Effect::Connect { host, uri }];
    }
    let host: HostId = state.next_host;
    state.next_host += 1;
    let label = new_label(state, &uri);
    state.hosts.push(HostView::new(host, &uri, label, now));
    note(state, &uri, format!("connect {uri}"));
    vec![Effect::Connect { host, uri }]
}

/// `:disconnect HOST` (its label or URI): its worker stopped, its VMs, operations and offers
/// dropped. Its history stays on disk.
pub fn disconnect(state: &mut State, which: &str) -> Vec<Effect> {
    let Some(pos) = state.host_named(which) else {
        let known: Vec<String> = state
            .hosts
            .iter()
            .map(|h| format!("{} ({})", h.label, h.uri))
            .collect();
        let text = if known.is_empty() {
            format!("disconnect {which}: no host is connected")
        } else {
            format!(
                "disconnect {which}: no such host; hosts: {}",
                known.join(", ")
            )
        };
        flash(state, text, true);
        return Vec::new();
    };
    let h = state.hosts.remove(pos);
    // First: closing a detail pane open on one of its VMs says so over this.
    note(state, &h.uri, format!("disconnect {}", h.uri));
    opflow::abandon_host(state, h.id, &format!("{} was disconnected", h.label));
    let gone: Vec<String> = state
        .vms
        .keys()
        .filter(|id| id.host == h.id)
        .map(|id| id.uuid.clone())
        .collect();
    for uuid in gone {
        super::provider_events::forget_vm(state, h.id, &h.uri, &uuid);
    }
    // Connected again, the host is warmed again (detectors and sparkline from history).
    state.anomalies.forget(&super::ingest::host_entity(&h.uri));
    state.watched.remove(&h.id);
    // Down to one host there is no HOST column: a sort by host would read as no sort.
    if state.hosts.len() <= 1 && state.view.sort == super::state::SortKey::Host {
        state.view.sort = super::state::SortKey::Name;
        state.view.descending = false;
    }
    state.view.host_cursor = state
        .view
        .host_cursor
        .min(state.hosts.len().saturating_sub(1));
    super::rows::rebuild(state);
    vec![Effect::Disconnect { host: h.id }]
}

/// A label for a host added by `:connect`, unique among the others, which keep theirs: a
/// label an operator has learnt (in the table, the journal, `:disconnect local#2`) never
/// moves to another host. "local" when free, else the first free "local#N" from 2.
fn new_label(state: &State, uri: &str) -> String {
    let base = host_label(uri);
    let taken = |l: &str| state.hosts.iter().any(|h| h.label == l);
    let numbered = format!("{base}#");
    let shared = state
        .hosts
        .iter()
        .any(|h| h.label == base || h.label.starts_with(&numbered));
    if !shared {
        return base;
    }
    // One more number than there are hosts: at least one of them is free.
    (2..=state.hosts.len() + 2)
        .map(|n| format!("{base}#{n}"))
        .find(|l| !taken(l))
        .unwrap_or(base)
}

/// A footer line and a journal note.
fn note(state: &mut State, uri: &str, text: String) {
    flash(state, text.clone(), false);
    journal(state, uri, "", text, JournalStatus::Note, None);
}

/// A host's connection changed.
pub fn on_status(state: &mut State, host: HostId, status: ConnStatus) {
    let now = state.now_ms;
    let Some(h) = state.host_mut(host) else {
        return;
    };
    // The clock says how long the host has been up, or down: retrying
    // (Disconnected ↔ Connecting) does not restart it.
    let up = |s: &ConnStatus| matches!(s, ConnStatus::Connected { .. });
    let changed = up(&h.status) != up(&status);
    // Back after being down (not the first connection): said in the journal.
    let back = changed && up(&status) && h.ever_up;
    let down_for = now - h.since_ms;
    if changed {
        h.since_ms = now;
    }
    h.ever_up |= up(&status);
    h.reconciling |= back;
    let failed = match &status {
        ConnStatus::Failed { error } => Some(error.clone()),
        _ => None,
    };
    h.status = status;
    if changed {
        opflow::withdraw_host_offers(state, host);
    }
    if let Some(error) = failed {
        let uri = state.host_uri(host).to_string();
        journal(
            state,
            &uri,
            "",
            "connect".to_string(),
            JournalStatus::Failed(format!("{error}; not retried")),
            None,
        );
    }
    if back {
        let uri = state.host_uri(host).to_string();
        journal(
            state,
            &uri,
            "",
            format!(
                "{} reconnected after {} s; inventory re-read",
                state.host_label(host),
                down_for / 1000
            ),
            JournalStatus::Note,
            None,
        );
    }
}
