//! Host links: a host added from the palette, and each change of a host's connection.

use super::opflow::{self, flash, journal};
use super::state::{host_labels, HostView, JournalStatus, State};
use super::Effect;
use crate::domain::HostId;
use crate::provider::ConnStatus;

/// `:connect URI`: a new host, labelled among the others, and its worker started.
pub fn connect(state: &mut State, uri: String) -> Vec<Effect> {
    if state.hosts.iter().any(|h| h.uri == uri) {
        flash(state, format!("already connected to {uri}"), true);
        return Vec::new();
    }
    let host: HostId = state.hosts.len();
    let mut uris: Vec<String> = state.hosts.iter().map(|h| h.uri.clone()).collect();
    uris.push(uri.clone());
    let labels = host_labels(&uris);
    for (h, l) in state.hosts.iter_mut().zip(&labels) {
        h.label.clone_from(l);
    }
    let label = labels.last().cloned().unwrap_or_default();
    state.hosts.push(HostView::new(&uri, label, state.now_ms));
    flash(state, format!("connecting to {uri}"), false);
    journal(
        state,
        &uri,
        "",
        format!("connect {uri}"),
        JournalStatus::Note,
        None,
    );
    vec![Effect::Connect { host, uri }]
}

/// A host's connection changed.
pub fn on_status(state: &mut State, host: HostId, status: ConnStatus) {
    let Some(h) = state.hosts.get_mut(host) else {
        return;
    };
    // The clock says how long the host has been up, or down: retrying
    // (Disconnected ↔ Connecting) does not restart it.
    let up = |s: &ConnStatus| matches!(s, ConnStatus::Connected { .. });
    let changed = up(&h.status) != up(&status);
    // Back after being down (not the first connection): said in the journal.
    let back = changed && up(&status) && h.ever_up;
    let down_for = state.now_ms - h.since_ms;
    if changed {
        h.since_ms = state.now_ms;
    }
    h.ever_up |= up(&status);
    h.status = status;
    if changed {
        opflow::withdraw_host_offers(state, host);
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
