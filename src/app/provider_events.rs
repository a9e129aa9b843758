//! What the provider workers report, applied to the state: connection status, inventories
//! (with what changed unseen), VM updates and removals, domain events, samples and
//! operation results. Part of the reducer; called from `update` only.

use super::ingest;
use super::links;
use super::live::VmMetrics;
use super::opflow::{self, flash, journal};
use super::rows;
use super::state::{JournalStatus, Screen, SortKey, State, VmEntry};
use super::Effect;
use crate::domain::{HostId, Vm, VmId, VmState};
use crate::provider::libvirt::state::LifecycleEvent;
use crate::provider::{DomainEventKind, ProviderEvent};

/// A VM whose state the inventory read after a reconnect differs from what the console
/// holds changed while the host was away, with no event to say so: the journal says it.
fn missed_change(state: &mut State, uri: &str, vm: &Vm) {
    let Some(before) = state.vms.get(&vm.id).map(|e| &e.vm) else {
        return;
    };
    if before.state == vm.state {
        return;
    }
    // An event since the reconnect already said it (its refresh was still queued).
    let since = state.host(vm.id.host).map_or(i64::MAX, |h| h.since_ms);
    let told = state.journal.iter().rev().any(|j| {
        j.ts_ms >= since && j.host == uri && j.vm == vm.name && j.status == JournalStatus::Event
    });
    if told {
        return;
    }
    let what = format!(
        "{}, was {}; found re-reading the inventory",
        vm.state_text(),
        before.state_text()
    );
    journal(state, uri, &vm.name, what, JournalStatus::Event, None);
}

fn upsert(state: &mut State, vm: Vm) {
    match state.vms.get_mut(&vm.id) {
        Some(e) => {
            let keep_ips = vm.ips.is_empty() && vm.state.is_active();
            let ips = std::mem::take(&mut e.vm.ips);
            e.vm = vm;
            if keep_ips {
                e.vm.ips = ips;
            }
            if !e.vm.state.is_active() {
                e.metrics.rates.reset();
                e.metrics.live.clear();
            }
            if !e.vm.state.is_working() {
                let (id, name) = (e.vm.id.clone(), e.vm.name.clone());
                let uri = state.host_uri(id.host).to_string();
                ingest::vm_stopped(state, &uri, &id.uuid, &name);
            }
        }
        None => {
            state.vms.insert(
                vm.id.clone(),
                VmEntry {
                    vm,
                    metrics: VmMetrics::default(),
                    pending: None,
                },
            );
        }
    }
}

/// A VM no longer known: its row and its detectors go. A detail pane open on it closes
/// (it would otherwise show the next row, and the operation keys would act on that VM).
pub fn forget_vm(state: &mut State, host: HostId, uri: &str, uuid: &str) {
    state.anomalies.forget(&ingest::vm_entity(uri, uuid));
    let id = VmId {
        host,
        uuid: uuid.to_string(),
    };
    let gone = state.vms.remove(&id);
    if let Some(op) = gone.as_ref().and_then(|e| e.pending) {
        opflow::on_vm_gone(state, op);
    }
    if state.view.screen == Screen::Detail && state.view.selected.as_ref() == Some(&id) {
        state.view.back();
        let name = gone.map_or_else(|| uuid.to_string(), |e| e.vm.name);
        flash(
            state,
            format!("{name} is no longer on {uri}: its detail pane closed"),
            true,
        );
    }
}

pub(super) fn on_provider(state: &mut State, ev: ProviderEvent) -> Vec<Effect> {
    // A disconnected host's worker may have sent more before it stopped.
    if ev.host().is_some_and(|h| state.host(h).is_none()) {
        return Vec::new();
    }
    match ev {
        ProviderEvent::Status { host, status } => links::on_status(state, host, status),
        ProviderEvent::Inventory { host, vms } => {
            let keep: std::collections::HashSet<VmId> = vms.iter().map(|v| v.id.clone()).collect();
            let gone: Vec<String> = state
                .vms
                .keys()
                .filter(|id| id.host == host && !keep.contains(id))
                .map(|id| id.uuid.clone())
                .collect();
            let uri = state.host_uri(host).to_string();
            for uuid in gone {
                forget_vm(state, host, &uri, &uuid);
            }
            // Only the first inventory after a reconnect: a periodic re-read can race an
            // event whose refresh is still queued, and would call it missed.
            let reconciling = state
                .host_mut(host)
                .is_some_and(|h| std::mem::take(&mut h.reconciling));
            for vm in vms {
                if reconciling {
                    missed_change(state, &uri, &vm);
                }
                upsert(state, vm);
            }
            rows::rebuild(state);
        }
        ProviderEvent::VmUpdated { vm, .. } => {
            upsert(state, *vm);
            rows::rebuild(state);
        }
        ProviderEvent::VmRemoved { host, uuid } => {
            let uri = state.host_uri(host).to_string();
            forget_vm(state, host, &uri, &uuid);
            rows::rebuild(state);
        }
        ProviderEvent::DomainEvent {
            host,
            uuid,
            name,
            kind,
        } => on_domain_event(state, host, uuid, &name, &kind),
        ProviderEvent::Samples {
            host,
            ts_ms,
            samples,
        } => {
            let effects = ingest::on_samples(state, host, ts_ms, samples);
            if matches!(state.view.sort, SortKey::Cpu) {
                rows::rebuild(state);
            }
            return effects;
        }
        ProviderEvent::HostSample {
            host,
            ts_ms,
            counters,
            poll_ms,
            overruns,
            pools,
        } => {
            let mut effects =
                ingest::on_host_sample(state, host, ts_ms, &counters, poll_ms, overruns);
            if let Some(p) = pools {
                effects.extend(ingest::on_pools(state, host, ts_ms, p));
            }
            return effects;
        }
        ProviderEvent::OpResult { id, result } => opflow::on_result(state, id, result),
    }
    Vec::new()
}

/// Pairs of events libvirt sends for one thing, the first a moment before the second: a
/// destroy makes QEMU send "shutdown (on host request)" (stopped by a signal) before "stopped
/// (destroyed)", and a start "resumed (unpaused)" (QEMU starts guests paused) before
/// "started". Journalled apart, the first reads as something else happened. The first's line,
/// already written, becomes the second. Any other cause (a `kill -TERM` of QEMU from outside,
/// a real resume) keeps its line. True when the line was taken over.
fn takes_over_previous(
    state: &mut State,
    uri: &str,
    name: &str,
    kind: &DomainEventKind,
    text: &str,
) -> bool {
    let before = match kind {
        DomainEventKind::Lifecycle(LifecycleEvent::Stopped("destroyed")) => {
            LifecycleEvent::Shutdown("on host request")
        }
        DomainEventKind::Lifecycle(LifecycleEvent::Started(_)) => {
            LifecycleEvent::Resumed("unpaused")
        }
        _ => return false,
    };
    let now = state.now_ms;
    match state.journal.back_mut() {
        Some(last)
            if last.host == uri
                && last.vm == name
                && last.status == JournalStatus::Event
                && last.what == before.describe()
                && now - last.ts_ms <= 5_000 =>
        {
            last.what = text.to_string();
            last.ts_ms = now;
            super::opflow::log_line(uri, name, text, &JournalStatus::Event);
            true
        }
        _ => false,
    }
}

fn on_domain_event(
    state: &mut State,
    host: HostId,
    uuid: String,
    name: &str,
    kind: &DomainEventKind,
) {
    let id = VmId { host, uuid };
    let text = match kind {
        DomainEventKind::Lifecycle(ev) => Some(ev.describe()),
        DomainEventKind::Reboot => Some("rebooted".to_string()),
        DomainEventKind::DeviceAdded(a) => Some(format!("device {a} added")),
        DomainEventKind::DeviceRemoved(a) => Some(format!("device {a} removed")),
        DomainEventKind::BalloonChange { .. }
        | DomainEventKind::JobCompleted
        | DomainEventKind::MetadataChange => None,
    };
    // QEMU starts a guest paused and then runs it, so every start also sends "resumed
    // (unpaused)" first: said for a VM that was not paused, it reads as if someone resumed it.
    let start_noise = matches!(kind, DomainEventKind::Lifecycle(LifecycleEvent::Resumed(_)))
        && state
            .vms
            .get(&id)
            .is_some_and(|e| e.vm.state == VmState::ShutOff);
    if let Some(text) = text.filter(|_| !start_noise) {
        let uri = state.host_uri(host).to_string();
        if !takes_over_previous(state, &uri, name, kind, &text) {
            journal(state, &uri, name, text, JournalStatus::Event, None);
        }
    }
    // The worker re-reads the domain on every event; an undefine is final right away.
    if matches!(
        kind,
        DomainEventKind::Lifecycle(LifecycleEvent::Undefined(_))
    ) {
        let entity = ingest::vm_entity(state.host_uri(host), &id.uuid);
        state.anomalies.forget(&entity);
        state.vms.remove(&id);
        rows::rebuild(state);
    }
    opflow::end_late_shutdown(state, &id, kind);
    opflow::on_event(state, &id, kind);
    opflow::withdraw_offers(state, &id, kind);
}
