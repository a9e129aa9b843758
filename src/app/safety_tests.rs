//! What a key answers: a confirmation whose VM changed meanwhile, an offer that just
//! appeared, a refusal that outlived its reason, the selection behind a filter, operations
//! on a VM that leaves its host (a transient VM that stops), and how the journal and the log
//! tell what happened.

use super::fixtures::{state, T0};
use super::opflow_tests::{
    accepted_shutdown, is_offer, journal_since, lifecycle, ops_sent, timed_out_shutdown,
};
use super::state::{JournalStatus, Overlay};
use super::update_tests::{act, event, key, select};
use super::{update, Action, Effect, InputKey, Msg};
use crate::provider::libvirt::state::LifecycleEvent;
use crate::provider::{ProviderCmd, ProviderEvent};

#[test]
fn the_in_progress_refusal_goes_when_the_operation_it_names_ends() {
    let mut s = state();
    accepted_shutdown(&mut s);
    act(&mut s, Action::Reboot);
    let text = |s: &super::State| s.flash.as_ref().map(|f| f.text.clone());
    assert_eq!(
        text(&s).as_deref(),
        Some("web-1 already has an operation in progress")
    );
    // Another VM's operation ending leaves it.
    event(&mut s, 1, "web-2", LifecycleEvent::Started("booted"));
    assert!(text(&s).is_some());
    lifecycle(&mut s, LifecycleEvent::Stopped("shutdown"));
    assert_eq!(text(&s), None, "still says web-1 is busy");
}

#[test]
fn y_on_an_offer_that_just_appeared_says_why_nothing_happened() {
    let mut s = state();
    timed_out_shutdown(&mut s);
    assert!(is_offer(&s));
    let sent = update(&mut s, Msg::Input(InputKey::Char('y')), T0 + 5_100);
    assert_eq!(ops_sent(&sent), 0);
    assert!(is_offer(&s), "still asking");
    assert_eq!(
        s.flash.as_ref().map(|f| f.text.as_str()),
        Some("destroy web-1: this offer just appeared; y again")
    );
}

#[test]
fn esc_on_a_filter_that_matched_nothing_goes_back_to_the_vm_picked_before() {
    let mut s = state();
    select(&mut s, "web-1");
    act(&mut s, Action::Filter);
    for c in "web-1x".chars() {
        key(&mut s, c);
    }
    assert!(s.selected().is_none(), "a typo lists nothing");
    update(&mut s, Msg::Input(InputKey::Esc), T0);
    assert_eq!(s.selected().unwrap().vm.name, "web-1", "not the first row");
    // While typing, the cursor comes back to it whenever the filter lists it again.
    act(&mut s, Action::Filter);
    for c in "db".chars() {
        key(&mut s, c);
    }
    assert_eq!(s.selected().unwrap().vm.name, "db-main");
    for _ in 0..2 {
        update(&mut s, Msg::Input(InputKey::Backspace), T0);
    }
    assert_eq!(s.selected().unwrap().vm.name, "web-1");
    // Kept with enter, a filter that lists nothing: esc clears it back to web-1 too.
    for c in "x".chars() {
        key(&mut s, c);
    }
    update(&mut s, Msg::Input(InputKey::Enter), T0);
    assert!(s.selected().is_none());
    act(&mut s, Action::Back);
    assert_eq!(
        s.selected().unwrap().vm.name,
        "web-1",
        "kept filter, then esc"
    );
    act(&mut s, Action::Filter);
    // Kept with enter, the filter's own row is the selection from then on.
    key(&mut s, 'd');
    key(&mut s, 'b');
    update(&mut s, Msg::Input(InputKey::Enter), T0);
    act(&mut s, Action::Filter);
    update(&mut s, Msg::Input(InputKey::Esc), T0);
    assert_eq!(s.selected().unwrap().vm.name, "db-main");
}

#[test]
fn a_destroy_confirmation_is_withdrawn_when_its_vm_stops_or_goes_meanwhile() {
    let mut s = state();
    select(&mut s, "web-1");
    act(&mut s, Action::Destroy);
    assert!(matches!(&s.view.overlay, Some(Overlay::Confirm(c)) if !c.offer));
    // Destroyed and started again from another shell: y must not kill the new run.
    lifecycle(&mut s, LifecycleEvent::Stopped("destroyed"));
    assert!(s.view.overlay.is_none());
    assert_eq!(
        s.flash.as_ref().map(|f| f.text.as_str()),
        Some("destroy web-1: state changed meanwhile; nothing was sent")
    );
    assert_eq!(ops_sent(&key(&mut s, 'y')), 0);
    // Undefined while asked about: gone, and said.
    lifecycle(&mut s, LifecycleEvent::Started("booted"));
    select(&mut s, "web-1");
    act(&mut s, Action::Reset);
    lifecycle(&mut s, LifecycleEvent::Undefined("removed"));
    assert!(s.view.overlay.is_none(), "{:?}", s.view.overlay);
    assert_eq!(ops_sent(&key(&mut s, 'y')), 0);
}

/// Destroys web-1 (confirmed) and returns the operation's id.
fn destroy_web1(s: &mut super::State) -> u64 {
    select(s, "web-1");
    act(s, Action::Destroy);
    let sent = key(s, 'y');
    let Some(Effect::Provider {
        cmd: ProviderCmd::Op { id, .. },
        ..
    }) = sent.first()
    else {
        panic!("no destroy sent: {sent:?}");
    };
    *id
}

fn destroy_line(s: &super::State) -> JournalStatus {
    s.journal
        .iter()
        .find(|e| e.what == "destroy")
        .unwrap()
        .status
        .clone()
}

fn removed(s: &mut super::State) {
    let ev = ProviderEvent::VmRemoved {
        host: 0,
        uuid: "0-web-1".into(),
    };
    update(s, Msg::Provider(ev), T0 + 1_000);
}

#[test]
fn a_transient_vm_gone_after_its_destroy_is_done_in_either_order() {
    // Accepted, then gone (libvirt removes a transient VM once it stops).
    let mut s = state();
    let id = destroy_web1(&mut s);
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult { id, result: Ok(()) }),
        T0,
    );
    removed(&mut s);
    assert_eq!(destroy_line(&s), JournalStatus::Done);
    assert!(s.ops.is_empty());
    // Gone before libvirt answered.
    let mut s = state();
    let id = destroy_web1(&mut s);
    removed(&mut s);
    assert!(!s.ops.is_empty(), "waits for the answer");
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult { id, result: Ok(()) }),
        T0,
    );
    assert_eq!(destroy_line(&s), JournalStatus::Done);
}

/// What the log holds of an operation: every outcome its journal line took.
#[test]
fn the_log_keeps_how_an_operation_ended() {
    super::opflow::LOGGED.with(|l| l.borrow_mut().clear());
    let mut s = state();
    accepted_shutdown(&mut s);
    lifecycle(&mut s, LifecycleEvent::Stopped("shutdown"));
    let log = super::opflow::LOGGED.with(|l| l.borrow().join("\n"));
    for outcome in [
        "web-1 shutdown: pending",
        "web-1 shutdown: waiting for event",
        "web-1 shutdown: done",
    ] {
        assert!(log.contains(outcome), "{outcome:?} not in {log}");
    }
}

#[test]
fn a_destroy_is_journalled_as_one_stop_and_a_dead_qemu_as_crashed() {
    let mut s = state();
    let before = s.journal.len();
    // What libvirt sends for a destroy: QEMU killed by a signal, then stopped.
    lifecycle(&mut s, LifecycleEvent::Shutdown("on host request"));
    lifecycle(&mut s, LifecycleEvent::Stopped("destroyed"));
    let lines = journal_since(&s, before);
    assert_eq!(lines, ["stopped (destroyed)"]);
    // QEMU sent SIGTERM from outside: both lines, the stop not a destroy.
    lifecycle(&mut s, LifecycleEvent::Started("booted"));
    let before = s.journal.len();
    lifecycle(&mut s, LifecycleEvent::Shutdown("on host request"));
    lifecycle(&mut s, LifecycleEvent::Stopped("shutdown"));
    let lines = journal_since(&s, before);
    assert_eq!(lines, ["shutdown (on host request)", "stopped (shutdown)"]);
    // QEMU killed from outside: the same word as the table's "shut off (crashed)".
    let ev = crate::provider::libvirt::state::lifecycle_event(5, 5);
    assert_eq!(ev.describe(), "stopped (crashed)");
}

#[test]
fn a_number_that_is_one_vms_name_and_anothers_id_acts_on_neither() {
    let mut s = state();
    let id = s
        .vms
        .values()
        .find(|e| e.vm.name == "web-1")
        .unwrap()
        .vm
        .dom_id;
    let id = id.expect("web-1 runs").to_string();
    let mut named = crate::app::fixtures::vm(0, &id, crate::domain::VmState::ShutOff, 1, 512);
    named.dom_id = None;
    crate::app::fixtures::updated(&mut s, named);
    act(&mut s, Action::Palette);
    for c in format!("start {id}").chars() {
        key(&mut s, c);
    }
    let sent = update(&mut s, Msg::Input(InputKey::Enter), T0);
    assert_eq!(ops_sent(&sent), 0);
    let text = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    let label = s.hosts[0].label.clone();
    assert!(
        text.contains(&format!(
            "is the name of one VM and the running ID or UUID of web-1@{label}"
        )),
        "{text}"
    );
    // The same number as a name on the other host is no clash: virsh reads one host.
    let mut s = state();
    let mut far = crate::app::fixtures::vm(1, &id, crate::domain::VmState::ShutOff, 1, 512);
    far.dom_id = None;
    crate::app::fixtures::updated(&mut s, far);
    assert!(s.name_taken_by_id(&id).is_none());
    // A name that is another VM's UUID on its host clashes too.
    let mut s = state();
    let web1 = s
        .vms
        .values()
        .find(|e| e.vm.name == "web-1")
        .unwrap()
        .vm
        .id
        .clone();
    let mut twin = crate::app::fixtures::vm(0, &web1.uuid, crate::domain::VmState::ShutOff, 1, 512);
    twin.id.uuid = "0-twin".into();
    crate::app::fixtures::updated(&mut s, twin);
    let (named, other) = s.name_taken_by_id(&web1.uuid).unwrap();
    assert_eq!((named.vm.id.uuid.as_str(), &other.vm.id), ("0-twin", &web1));
    // NAME@HOST reads a running ID on that host.
    let s = state();
    let by_id = s.find_by_name(&format!("{id}@{label}"));
    assert_eq!(by_id.first().map(|e| e.vm.name.as_str()), Some("web-1"));
}

#[test]
fn a_name_no_vm_has_suggests_near_ones_with_their_host_where_it_is_on_several() {
    let mut s = state();
    // web-1 on both hosts of the fixture.
    crate::app::fixtures::updated(
        &mut s,
        crate::app::fixtures::vm(1, "web-1", crate::domain::VmState::Running, 1, 512),
    );
    for line in ["start web-x", "start web-1@nowhere"] {
        act(&mut s, Action::Palette);
        for c in line.chars() {
            key(&mut s, c);
        }
        update(&mut s, Msg::Input(InputKey::Enter), T0);
        let f = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
        let (a, b) = (s.hosts[0].label.clone(), s.hosts[1].label.clone());
        assert!(
            f.contains(&format!("web-1@{a}")) && f.contains(&format!("web-1@{b}")),
            "{line}: {f}"
        );
    }
}

#[test]
fn with_two_hosts_a_refusal_names_the_vms_host() {
    let mut s = state();
    select(&mut s, "web-1");
    act(&mut s, Action::Start);
    let label = s.hosts[0].label.clone();
    let f = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(
        f.starts_with(&format!("start web-1@{label}: web-1 ")),
        "{f}"
    );
}
