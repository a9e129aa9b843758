//! The life of an operation: request → (confirmation) → sent → accepted by libvirt →
//! confirmed by its domain event, or failed with libvirt's message. Also the graceful
//! shutdown timeout that offers a force-off.

use super::state::{
    Confirm, Flash, JournalEntry, JournalStatus, OpStage, Overlay, PendingOp, State, JOURNAL_MAX,
};
use super::Effect;
use crate::domain::{Op, VmId, VmState};
use crate::provider::libvirt::state::LifecycleEvent;
use crate::provider::{ConnStatus, DomainEventKind, OpError, OpId, ProviderCmd};

const FLASH_MS: i64 = 4_000;

/// Shows a footer message for a few seconds.
pub fn flash(state: &mut State, text: impl Into<String>, error: bool) {
    state.flash = Some(Flash {
        text: text.into(),
        error,
        until_ms: state.now_ms + FLASH_MS,
        busy: None,
    });
}

/// Appends a journal line and returns its sequence number.
pub fn journal(
    state: &mut State,
    host: &str,
    vm: &str,
    what: String,
    status: JournalStatus,
    virsh: Option<String>,
) -> u64 {
    log_line(host, vm, &what, &status);
    // The same event again within a few seconds is counted on its line, not repeated: the
    // five lines on screen are for what differs.
    if let Some(last) = state.journal.back_mut() {
        let again = status == JournalStatus::Event
            && last.status == JournalStatus::Event
            && last.host == host
            && last.vm == vm
            && last.what == what
            && state.now_ms - last.ts_ms <= 5_000;
        if again {
            last.repeat += 1;
            last.ts_ms = state.now_ms;
            return last.seq;
        }
    }
    state.journal_seq += 1;
    let seq = state.journal_seq;
    let host_label = state.host_label_of(host).unwrap_or_default().to_string();
    state.journal.push_back(JournalEntry {
        seq,
        ts_ms: state.now_ms,
        host: host.to_string(),
        host_label,
        vm: vm.to_string(),
        what,
        status,
        virsh,
        repeat: 1,
        first_ms: state.now_ms,
    });
    while state.journal.len() > JOURNAL_MAX {
        state.journal.pop_front();
    }
    seq
}

fn set_journal_status(state: &mut State, seq: u64, status: JournalStatus) {
    if let Some(e) = state.journal.iter_mut().find(|e| e.seq == seq) {
        log_line(&e.host, &e.vm, &e.what, &status);
        e.status = status;
    }
}

/// The log's copy of a journal line, as it reads: "HOST VM what: outcome". Each outcome an
/// operation's line takes (accepted, done, a warning) is logged too, so the log keeps how it
/// ended after the five lines on screen have moved on.
pub(crate) fn log_line(host: &str, vm: &str, what: &str, status: &JournalStatus) {
    let outcome = status.text();
    let sep = if outcome.is_empty() { "" } else { ": " };
    let who = if vm.is_empty() {
        String::new()
    } else {
        format!(" {vm}")
    };
    let line = format!("{host}{who} {what}{sep}{outcome}");
    #[cfg(test)]
    LOGGED.with(|l| l.borrow_mut().push(line.clone()));
    tracing::info!(target: "journal", "{line}");
}

#[cfg(test)]
thread_local! {
    /// What [`log_line`] logged on this thread: a test's own record, where a tracing
    /// subscriber set for one test thread can miss events other threads' tests race it to.
    pub(crate) static LOGGED: std::cell::RefCell<Vec<String>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The user asked for `op` on `vm`: check read-only, then confirm destructive ones, else send.
pub fn request(state: &mut State, vm: &VmId, op: Op) -> Vec<Effect> {
    if state.settings.read_only {
        flash(
            state,
            "read-only: operations are disabled (--read-only, or read_only in the config)",
            true,
        );
        return Vec::new();
    }
    let Some(entry) = state.vms.get(vm) else {
        flash(state, "no VM selected", true);
        return Vec::new();
    };
    // A destroy may overtake an operation libvirt has accepted but the guest ignores (an ACPI
    // reboot or shutdown): that is when force-off is needed. Anything else waits its turn.
    let overtakable = entry.pending.is_some_and(|id| {
        op == Op::Destroy
            && state
                .ops
                .get(&id)
                .is_some_and(|p| matches!(p.stage, OpStage::Accepted { .. }))
    });
    if entry.pending.is_some() && !overtakable {
        let text = format!("{} already has an operation in progress", entry.vm.name);
        flash(state, text, true);
        if let Some(f) = &mut state.flash {
            f.busy = Some(vm.clone());
        }
        return Vec::new();
    }
    let name = entry.vm.name.clone();
    if refuse_unconnected(state, vm, &name, op) {
        return Vec::new();
    }
    let Some(entry) = state.vms.get(vm) else {
        return Vec::new();
    };
    if let Some(why) = op.wrong_state(entry.vm.state, Some(('p', 'D'))) {
        // With several hosts, which one's VM: as the journal writes it.
        let who = if state.hosts.len() > 1 {
            format!("{name}@{}", state.host_label(vm.host))
        } else {
            name.clone()
        };
        flash(state, format!("{op} {who}: {name} {why}"), true);
        return Vec::new();
    }
    if op.is_destructive() {
        let what = match op {
            Op::Reset => {
                "Hard-reset it like pressing the reset button; unsaved guest data is lost."
            }
            _ => "Force it off like pulling the plug; unsaved guest data is lost.",
        };
        let host = state.host_label(vm.host).to_string();
        state.view.overlay = Some(Overlay::Confirm(Confirm {
            vm: vm.clone(),
            name: name.clone(),
            op,
            prompt: format!("{op} {name} on {host}? {what}"),
            offer: false,
            shown_ms: state.now_ms,
        }));
        return Vec::new();
    }
    send(state, vm, &name, op)
}

/// A worker that is not connected would queue an operation and run it on reconnect, on
/// whatever run of the VM exists by then: refused, said in the footer. True when refused.
fn refuse_unconnected(state: &mut State, vm: &VmId, name: &str, op: Op) -> bool {
    let connected = state
        .host(vm.host)
        .is_some_and(|h| matches!(h.status, ConnStatus::Connected { .. }));
    if !connected {
        let host = state.host_label(vm.host).to_string();
        flash(
            state,
            format!("{op} {name}: {host} is not connected; nothing was sent"),
            true,
        );
    }
    !connected
}

/// Sends an operation to the worker and journals it as pending.
pub fn send(state: &mut State, vm: &VmId, name: &str, op: Op) -> Vec<Effect> {
    if refuse_unconnected(state, vm, name, op) {
        return Vec::new();
    }
    // The footer's last message ("reset web-1: cancelled") is about something else now.
    state.flash = None;
    if op == Op::Destroy {
        if let Some(old) = state.vms.get(vm).and_then(|e| e.pending) {
            finish(
                state,
                old,
                JournalStatus::Warning("overtaken by destroy".into()),
            );
        }
    }
    let id: OpId = state.next_op;
    state.next_op += 1;
    let uri = state.host_uri(vm.host).to_string();
    let seq = journal(
        state,
        &uri,
        name,
        op.name().to_string(),
        JournalStatus::Pending,
        Some(op.virsh(&uri, name)),
    );
    state.ops.insert(
        id,
        PendingOp {
            id,
            vm: vm.clone(),
            name: name.to_string(),
            op,
            stage: OpStage::Sent,
            event_seen: false,
            journal_seq: seq,
        },
    );
    if let Some(e) = state.vms.get_mut(vm) {
        e.pending = Some(id);
    }
    vec![Effect::Provider {
        host: vm.host,
        cmd: ProviderCmd::Op {
            id,
            uuid: vm.uuid.clone(),
            name: name.to_string(),
            op,
        },
    }]
}

fn finish(state: &mut State, id: OpId, status: JournalStatus) {
    if let Some(p) = state.ops.remove(&id) {
        set_journal_status(state, p.journal_seq, status);
        if let Some(e) = state.vms.get_mut(&p.vm) {
            if e.pending == Some(id) {
                e.pending = None;
            }
        }
        if state
            .flash
            .as_ref()
            .is_some_and(|f| f.busy.as_ref() == Some(&p.vm))
        {
            state.flash = None;
        }
    }
}

/// Operations on a host that is going away: failed with `why`.
pub fn abandon_host(state: &mut State, host: crate::domain::HostId, why: &str) {
    let ids: Vec<OpId> = state
        .ops
        .values()
        .filter(|p| p.vm.host == host)
        .map(|p| p.id)
        .collect();
    for id in ids {
        finish(state, id, JournalStatus::Failed(why.to_string()));
    }
    withdraw_host_offers(state, host);
}

/// libvirt answered the API call.
pub fn on_result(state: &mut State, id: OpId, result: Result<(), OpError>) {
    let Some(p) = state.ops.get_mut(&id) else {
        return;
    };
    match result {
        Err(e) => {
            let text = format!("{} {}: {e}", p.op, p.name);
            // Not "failed" when nobody knows: the inventory re-read after the reconnect
            // journals the state the VM is in.
            let status = match e {
                OpError::Refused(msg) => JournalStatus::Failed(msg),
                unknown @ OpError::Unknown(_) => JournalStatus::Warning(unknown.to_string()),
            };
            finish(state, id, status);
            flash(state, text, true);
        }
        Ok(()) if p.event_seen => finish(state, id, JournalStatus::Done),
        Ok(()) => {
            p.stage = OpStage::Accepted {
                at_ms: state.now_ms,
            };
            let seq = p.journal_seq;
            set_journal_status(state, seq, JournalStatus::Accepted);
        }
    }
}

/// Whether `kind` is the event that confirms `op`.
#[must_use]
pub fn confirms(op: Op, kind: &DomainEventKind) -> bool {
    match (op, kind) {
        (Op::Reboot | Op::Reset, DomainEventKind::Reboot) => true,
        (_, DomainEventKind::Lifecycle(ev)) => matches!(
            (op, ev),
            (Op::Start, LifecycleEvent::Started(_))
                | (Op::Shutdown | Op::Destroy, LifecycleEvent::Stopped(_))
                | (Op::Suspend, LifecycleEvent::Suspended(_))
                | (Op::Resume, LifecycleEvent::Resumed(_))
        ),
        _ => false,
    }
}

/// A domain event arrived: confirm the pending operation it belongs to, if any.
pub fn on_event(state: &mut State, vm: &VmId, kind: &DomainEventKind) {
    let Some(id) = state.vms.get(vm).and_then(|e| e.pending) else {
        return;
    };
    let Some(p) = state.ops.get_mut(&id) else {
        return;
    };
    if !confirms(p.op, kind) {
        return;
    }
    if let Some(how) = stopped_another_way(p.op, kind) {
        let text = format!("stopped another way ({how}); the guest did not shut down");
        finish(state, id, JournalStatus::Warning(text));
        return;
    }
    match p.stage {
        OpStage::Accepted { .. } => finish(state, id, JournalStatus::Done),
        OpStage::Sent => p.event_seen = true,
    }
}

/// The VM of operation `id` went from its host (undefined, or a transient VM that stopped):
/// stopping is what removes a transient VM, so a destroy or shutdown counts as confirmed
/// (once libvirt has answered); anything else can no longer be.
pub fn on_vm_gone(state: &mut State, id: OpId) {
    let Some(p) = state.ops.get_mut(&id) else {
        return;
    };
    match (p.op, p.stage) {
        (Op::Destroy | Op::Shutdown, OpStage::Accepted { .. }) => {
            finish(state, id, JournalStatus::Done);
        }
        (Op::Destroy | Op::Shutdown, OpStage::Sent) => p.event_seen = true,
        _ => finish(
            state,
            id,
            JournalStatus::Warning("the VM is gone from its host".into()),
        ),
    }
}

/// Once a second: a graceful shutdown past its timeout offers force-off; other accepted
/// operations with no event for too long are flagged rather than left pending forever.
pub fn on_tick(state: &mut State) {
    let now = state.now_ms;
    let mut expired: Vec<(PendingOp, i64)> = state
        .ops
        .values()
        .filter_map(|p| match p.stage {
            OpStage::Accepted { at_ms } => {
                let limit = if p.op == Op::Shutdown {
                    state.settings.shutdown_timeout_ms
                } else {
                    state.settings.event_timeout_ms
                };
                (now - at_ms >= limit).then(|| (p.clone(), at_ms))
            }
            OpStage::Sent => None,
        })
        .collect();
    expired.sort_by_key(|e| e.0.id);
    for (
        PendingOp {
            id,
            op,
            vm,
            name,
            journal_seq,
            ..
        },
        at_ms,
    ) in expired
    {
        if op == Op::Shutdown {
            let secs = state.settings.shutdown_timeout_ms / 1000;
            state
                .late_shutdowns
                .insert(vm.clone(), (journal_seq, at_ms));
            finish(
                state,
                id,
                JournalStatus::Warning(format!("still running after {secs} s")),
            );
            if !state.settings.read_only {
                let host = state.host_label(vm.host).to_string();
                state.offers.push_back(Confirm {
                    vm,
                    name: name.clone(),
                    op: Op::Destroy,
                    prompt: format!(
                        "{name} on {host} did not shut down within {secs} s. Force it off \
                         (destroy)?"
                    ),
                    offer: true,
                    shown_ms: now,
                });
            }
        } else {
            finish(
                state,
                id,
                JournalStatus::Warning("no confirming event".into()),
            );
        }
    }
}

/// Whether a force-off offer still makes sense: its VM is there and not shut off.
fn offer_stands(state: &State, c: &Confirm) -> bool {
    state
        .vms
        .get(&c.vm)
        .is_some_and(|e| e.vm.state != VmState::ShutOff)
}

/// After every message: withdraws a force-off offer whose VM has stopped (or gone), and, on
/// a clock tick (`show_next`), shows the next queued offer once no other overlay is open;
/// never in the update that closed a dialog, where a second `y` meant for that dialog would
/// answer this one.
pub fn settle_offers(state: &mut State, show_next: bool) {
    close_shown_offer(
        state,
        |state, c| !offer_stands(state, c),
        " is shut off; force-off no longer needed",
    );
    close_shown_request(state, |state, c| !state.vms.contains_key(&c.vm), "VM gone");
    // Never onto a screen too small to show it, where a blind esc would answer it.
    while show_next && state.view.overlay.is_none() && !state.too_small() {
        let Some(mut c) = state.offers.pop_front() else {
            break;
        };
        if offer_stands(state, &c) {
            c.shown_ms = state.now_ms;
            state.view.overlay = Some(Overlay::Confirm(c));
        }
    }
}

/// A graceful shutdown whose VM stopped some other way (someone destroyed it, it crashed):
/// not a shutdown done, so its line says what happened instead.
fn stopped_another_way(op: Op, kind: &DomainEventKind) -> Option<&'static str> {
    match kind {
        DomainEventKind::Lifecycle(LifecycleEvent::Stopped(how))
            if op == Op::Shutdown && *how != "shutdown" =>
        {
            Some(how)
        }
        _ => None,
    }
}

/// The lifecycle event of `kind` when it starts or stops the VM: the run a timed-out
/// shutdown and its force-off offer belonged to is over.
fn ends_run(kind: &DomainEventKind) -> Option<&LifecycleEvent> {
    match kind {
        DomainEventKind::Lifecycle(
            ev @ (LifecycleEvent::Started(_) | LifecycleEvent::Stopped(_)),
        ) => Some(ev),
        _ => None,
    }
}

/// A lifecycle event for a VM whose graceful shutdown timed out. If the guest powered off
/// by itself (no force-off pending: call this before [`on_event`] settles one), the
/// shutdown's journal line says when; a force-off or a new start leaves the line as it is.
pub fn end_late_shutdown(state: &mut State, vm: &VmId, kind: &DomainEventKind) {
    let Some(ev) = ends_run(kind) else {
        return;
    };
    let Some((seq, at_ms)) = state.late_shutdowns.remove(vm) else {
        return;
    };
    let by_itself = matches!(ev, LifecycleEvent::Stopped(_))
        && state.vms.get(vm).is_some_and(|e| e.pending.is_none());
    if by_itself {
        #[allow(clippy::cast_precision_loss)]
        let took = (state.now_ms - at_ms) as f64 / 1000.0;
        let secs = state.settings.shutdown_timeout_ms / 1000;
        let text = match stopped_another_way(Op::Shutdown, kind) {
            Some(how) => format!(
                "stopped another way ({how}) after {took:.0} s; the guest did not shut down"
            ),
            None => format!("shut down after {took:.0} s, past the {secs} s timeout"),
        };
        set_journal_status(state, seq, JournalStatus::Warning(text));
    }
}

/// A lifecycle event (the VM stopped or started by any way): its force-off offer, shown or
/// queued, belonged to the run that timed out and is withdrawn.
pub fn withdraw_offers(state: &mut State, vm: &VmId, kind: &DomainEventKind) {
    if ends_run(kind).is_none() {
        return;
    }
    state.offers.retain(|c| &c.vm != vm);
    close_shown_offer(
        state,
        |_, c| &c.vm == vm,
        ": state changed; force-off offer withdrawn",
    );
    close_shown_request(state, |_, c| &c.vm == vm, "state changed");
}

/// A host's link went down or came back: what happened to its VMs meanwhile is unknown, so
/// its force-off offers, shown or queued, are withdrawn. (The periodic inventory re-read of a
/// live link is not such a change: events kept the table current.)
pub fn withdraw_host_offers(state: &mut State, host: crate::domain::HostId) {
    state.offers.retain(|c| c.vm.host != host);
    close_shown_offer(
        state,
        |_, c| c.vm.host == host,
        ": link to its host changed; force-off offer withdrawn",
    );
    close_shown_request(state, |_, c| c.vm.host == host, "link to its host changed");
}

/// Closes the confirmation the operator asked for (destroy, reset), if one is on screen and
/// `gone` says what it asked about changed (`what`): answered after the VM stopped, started
/// again or went, `y` would act on a run it was not asked about. Nothing was sent.
fn close_shown_request(state: &mut State, gone: impl Fn(&State, &Confirm) -> bool, what: &str) {
    if let Some(Overlay::Confirm(c)) = &state.view.overlay {
        if !c.offer && gone(state, c) {
            let text = format!("{} {}: {what} meanwhile; nothing was sent", c.op, c.name);
            state.view.overlay = None;
            flash(state, text, false);
        }
    }
}

/// Closes the force-off offer on screen, if there is one and `gone` says it no longer
/// holds, saying so after the VM's name (`why`).
fn close_shown_offer(state: &mut State, gone: impl Fn(&State, &Confirm) -> bool, why: &str) {
    if let Some(Overlay::Confirm(c)) = &state.view.overlay {
        if c.offer && gone(state, c) {
            let text = format!("{}{why}", c.name);
            state.view.overlay = None;
            flash(state, text, false);
        }
    }
}
