//! Operation safety: what the keys may do on a screen too small to show anything, a force-off
//! offer that outlived its reason, and operations the VM's state rules out.

use super::fixtures::{state, updated, vm, T0};
use super::state::Overlay;
use super::update_tests::{act, event, key, select};
use super::{update, Action, Effect, InputKey, Msg};
use crate::domain::{Op, VmState};
use crate::provider::libvirt::state::LifecycleEvent;
use crate::provider::{ConnStatus, DomainEventKind, ProviderCmd, ProviderEvent};

pub(super) fn ops_sent(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::Provider {
                    cmd: ProviderCmd::Op { .. },
                    ..
                }
            )
        })
        .count()
}

/// A shutdown of web-1 accepted and left past its timeout: the force-off offer is due.
pub(super) fn timed_out_shutdown(s: &mut super::State) {
    accepted_shutdown(s);
    update(s, Msg::Tick, T0 + 5_000);
}

/// A shutdown of web-1 with a 5 s timeout, accepted by libvirt at `T0`.
pub(super) fn accepted_shutdown(s: &mut super::State) {
    s.settings.shutdown_timeout_ms = 5_000;
    select(s, "web-1");
    let effects = act(s, Action::Shutdown);
    let Some(Effect::Provider {
        cmd: ProviderCmd::Op { id, .. },
        ..
    }) = effects.first()
    else {
        panic!("no shutdown sent: {effects:?}");
    };
    let id = *id;
    update(
        s,
        Msg::Provider(ProviderEvent::OpResult { id, result: Ok(()) }),
        T0,
    );
}

/// web-1's lifecycle event `ev`, as libvirt would send it.
pub(super) fn lifecycle(s: &mut super::State, ev: LifecycleEvent) {
    update(
        s,
        Msg::Provider(ProviderEvent::DomainEvent {
            host: 0,
            uuid: "0-web-1".into(),
            name: "web-1".into(),
            kind: DomainEventKind::Lifecycle(ev),
        }),
        T0 + 6_000,
    );
}

/// The journal line of web-1's shutdown, status and all.
fn shutdown_line(s: &super::State) -> String {
    s.journal
        .iter()
        .find(|e| e.what == "shutdown")
        .unwrap()
        .status
        .text()
}

/// What the journal's lines after the first `before` say.
pub(super) fn journal_since(s: &super::State, before: usize) -> Vec<&str> {
    s.journal
        .iter()
        .skip(before)
        .map(|e| e.what.as_str())
        .collect()
}

pub(super) fn is_offer(s: &super::State) -> bool {
    matches!(&s.view.overlay, Some(Overlay::Confirm(c)) if c.offer && c.op == Op::Destroy)
}

fn set_state(s: &mut super::State, name: &str, st: VmState) {
    updated(s, vm(0, name, st, 2, 2048));
}

#[test]
fn keys_do_nothing_but_quit_on_a_screen_too_small_to_show_them() {
    let mut s = state();
    select(&mut s, "db-main");
    update(&mut s, Msg::Resize(70, 20), T0);
    assert!(s.too_small());
    for a in [
        Action::Destroy,
        Action::ToggleSuspend,
        Action::Reset,
        Action::Palette,
    ] {
        assert!(act(&mut s, a).is_empty(), "{a:?} acted unseen");
        assert!(s.view.overlay.is_none(), "{a:?} opened an unseen overlay");
    }
    // A confirmation opened at full size and then shrunk away is not answered blind.
    update(&mut s, Msg::Resize(120, 35), T0);
    act(&mut s, Action::Destroy);
    update(&mut s, Msg::Resize(70, 20), T0);
    assert_eq!(
        ops_sent(&key(&mut s, 'y')),
        0,
        "y answered an unseen dialog"
    );
    assert!(s.view.overlay.is_some());
    update(&mut s, Msg::Input(InputKey::Esc), T0);
    assert!(s.view.overlay.is_none(), "esc still closes it");
    key(&mut s, 'q');
    assert!(s.quit, "q quits, as the message says");
}

#[test]
fn a_force_off_offer_is_withdrawn_when_the_vm_stops_or_starts_another_way() {
    let mut s = state();
    timed_out_shutdown(&mut s);
    assert!(is_offer(&s));
    // Shut off from another shell: the offer goes.
    set_state(&mut s, "web-1", VmState::ShutOff);
    assert!(s.view.overlay.is_none());
    assert!(s.flash.as_ref().unwrap().text.contains("no longer needed"));

    // Stopped and started again between polls: the stop event withdraws it just the same.
    let mut s = state();
    timed_out_shutdown(&mut s);
    lifecycle(&mut s, LifecycleEvent::Stopped("shutdown"));
    assert!(s.view.overlay.is_none());
    assert_eq!(ops_sent(&key(&mut s, 'y')), 0, "a late y destroys nothing");
}

#[test]
fn a_force_off_offer_due_under_another_overlay_waits_for_it_to_close() {
    let mut s = state();
    accepted_shutdown(&mut s);
    act(&mut s, Action::Filter);
    update(&mut s, Msg::Tick, T0 + 5_000);
    assert!(matches!(s.view.overlay, Some(Overlay::Filter { .. })));
    update(&mut s, Msg::Input(InputKey::Enter), T0 + 6_000);
    assert!(
        s.view.overlay.is_none(),
        "not in the update that closed the filter: a second key meant for it would answer"
    );
    update(&mut s, Msg::Tick, T0 + 7_000);
    assert!(is_offer(&s), "shown at the next tick: {:?}", s.view.overlay);
    // A y in the first moment could have been meant for the filter: ignored.
    let y = |s: &mut super::State, at| update(s, Msg::Input(InputKey::Char('y')), at);
    assert_eq!(ops_sent(&y(&mut s, T0 + 7_100)), 0);
    assert!(is_offer(&s), "still asking");
    assert_eq!(ops_sent(&y(&mut s, T0 + 8_000)), 1);
}

#[test]
fn a_force_off_offer_is_withdrawn_when_the_link_drops_and_nothing_is_sent_meanwhile() {
    let lose = |s: &mut super::State| {
        update(
            s,
            Msg::Provider(ProviderEvent::Status {
                host: 0,
                status: ConnStatus::Disconnected {
                    error: "EOF".into(),
                    retry_in: std::time::Duration::from_secs(1),
                },
            }),
            T0 + 6_000,
        );
    };
    let mut s = state();
    timed_out_shutdown(&mut s);
    assert!(is_offer(&s));
    lose(&mut s);
    assert!(
        s.view.overlay.is_none(),
        "runs may change unseen while the link is down"
    );
    // The periodic inventory re-read of a live link keeps it.
    let mut s = state();
    timed_out_shutdown(&mut s);
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory {
            host: 0,
            vms: vec![vm(0, "web-1", VmState::Running, 2, 2048)],
        }),
        T0 + 6_000,
    );
    assert!(is_offer(&s));
    // Nothing is sent while the host is down: it would run on reconnect, on whatever run.
    lose(&mut s);
    select(&mut s, "web-1");
    assert!(act(&mut s, Action::ToggleSuspend).is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("is not connected"));
}

#[test]
fn a_force_off_offer_is_withdrawn_when_the_vm_is_started_again() {
    let mut s = state();
    timed_out_shutdown(&mut s);
    lifecycle(&mut s, LifecycleEvent::Started("booted"));
    assert!(s.view.overlay.is_none());
}

#[test]
fn operations_the_state_rules_out_are_refused_before_asking() {
    let mut s = state();
    set_state(&mut s, "web-1", VmState::ShutOff);
    select(&mut s, "web-1");
    for a in [
        Action::Destroy,
        Action::Reset,
        Action::Shutdown,
        Action::Reboot,
    ] {
        assert!(act(&mut s, a).is_empty(), "{a:?} sent");
        assert!(s.view.overlay.is_none(), "{a:?} asked first");
        assert!(
            s.flash
                .as_ref()
                .unwrap()
                .text
                .contains("is already shut off")
                || s.flash.as_ref().unwrap().text.contains("is shut off")
        );
    }
    select(&mut s, "db-main");
    assert!(act(&mut s, Action::Start).is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("already running"));
    select(&mut s, "batch");
    assert!(act(&mut s, Action::Start).is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("resume it"));
    // An ACPI reboot sent to a paused guest would wait and fire on resume.
    assert!(act(&mut s, Action::Reboot).is_empty());
    assert!(s
        .flash
        .as_ref()
        .unwrap()
        .text
        .contains("is paused; resume it (p) first"));
    // A crashed domain kept for inspection is still there: destroy is what clears it.
    set_state(&mut s, "web-1", VmState::Crashed);
    select(&mut s, "web-1");
    assert!(act(&mut s, Action::Start).is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("has crashed"));
    act(&mut s, Action::Destroy);
    assert!(
        matches!(s.view.overlay, Some(Overlay::Confirm(_))),
        "destroy is offered"
    );
}

#[test]
fn a_destroy_may_overtake_an_accepted_operation_but_not_one_still_being_sent() {
    let mut s = state();
    select(&mut s, "web-1");
    // Sent, not yet answered: nothing else may go.
    act(&mut s, Action::Shutdown);
    act(&mut s, Action::Destroy);
    assert!(s.view.overlay.is_none(), "refused before asking");
    assert!(s
        .flash
        .as_ref()
        .is_some_and(|f| f.text.contains("in progress")));
    // Accepted and waiting for an event the guest may never send: destroy asks, then goes.
    let mut s = state();
    accepted_shutdown(&mut s);
    act(&mut s, Action::Reboot);
    assert!(s
        .flash
        .as_ref()
        .is_some_and(|f| f.text.contains("in progress")));
    act(&mut s, Action::Destroy);
    assert!(matches!(s.view.overlay, Some(Overlay::Confirm(_))));
    let sent = key(&mut s, 'y');
    assert_eq!(ops_sent(&sent), 1, "{sent:?}");
    let shutdown = s.journal.iter().find(|e| e.what == "shutdown").unwrap();
    assert_eq!(
        shutdown.status,
        super::state::JournalStatus::Warning("overtaken by destroy".into())
    );
    assert_eq!(s.ops.len(), 1, "only the destroy is pending");
}

#[test]
fn a_shutdown_past_its_timeout_that_completes_says_so_on_its_line() {
    let mut s = state();
    timed_out_shutdown(&mut s);
    let line = shutdown_line;
    assert_eq!(line(&s), "warning: still running after 5 s");
    lifecycle(&mut s, LifecycleEvent::Stopped("shutdown"));
    assert_eq!(
        line(&s),
        "warning: shut down after 6 s, past the 5 s timeout"
    );
    assert!(s.late_shutdowns.is_empty());
}

#[test]
fn a_late_shutdown_line_stands_when_the_force_off_stopped_the_vm() {
    let mut s = state();
    timed_out_shutdown(&mut s);
    assert!(is_offer(&s));
    let sent = update(&mut s, Msg::Input(InputKey::Char('y')), T0 + 5_900);
    assert_eq!(ops_sent(&sent), 1, "the force-off was not sent");
    lifecycle(&mut s, LifecycleEvent::Stopped("destroyed"));
    let line = s.journal.iter().find(|e| e.what == "shutdown").unwrap();
    assert_eq!(line.status.text(), "warning: still running after 5 s");
}

#[test]
fn a_start_is_journaled_as_started_without_the_resumed_qemu_sends_first() {
    let mut s = state();
    event(&mut s, 1, "web-2", LifecycleEvent::Resumed("unpaused"));
    event(&mut s, 1, "web-2", LifecycleEvent::Started("booted"));
    let lines: Vec<&str> = s.journal.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(lines, ["started (booted)"]);
    // A paused VM's resume is still said.
    event(&mut s, 0, "batch", LifecycleEvent::Resumed("unpaused"));
    assert_eq!(s.journal.back().unwrap().what, "resumed (unpaused)");
    // The table already read running (its re-read came first): still one line.
    set_state(&mut s, "web-1", VmState::Running);
    let before = s.journal.len();
    event(&mut s, 0, "web-1", LifecycleEvent::Resumed("unpaused"));
    event(&mut s, 0, "web-1", LifecycleEvent::Started("booted"));
    let lines = journal_since(&s, before);
    assert_eq!(lines, ["started (booted)"]);
}

#[test]
fn a_footer_message_goes_when_the_view_moves_on() {
    let mut s = state();
    select(&mut s, "web-1");
    act(&mut s, Action::Destroy);
    update(&mut s, Msg::Input(InputKey::Esc), T0);
    assert!(s.flash.as_ref().unwrap().text.contains("cancelled"));
    // Another dialog: the last one's "cancelled" is not about it.
    act(&mut s, Action::Reset);
    assert!(s.flash.is_none(), "{:?}", s.flash);
    update(&mut s, Msg::Input(InputKey::Esc), T0);

    // "no VM selected" under a filter that matched nothing goes with the filter.
    act(&mut s, Action::Filter);
    for c in "zzz".chars() {
        key(&mut s, c);
    }
    update(&mut s, Msg::Input(InputKey::Enter), T0);
    act(&mut s, Action::Forecast);
    assert_eq!(s.flash.as_ref().unwrap().text, "no VM selected");
    act(&mut s, Action::Back);
    assert!(s.selected().is_some(), "the filter was cleared");
    assert!(s.flash.is_none(), "{:?}", s.flash);

    // A key that stays put keeps it for its few seconds.
    act(&mut s, Action::Destroy);
    update(&mut s, Msg::Input(InputKey::Esc), T0);
    act(&mut s, Action::SortName);
    assert!(s.flash.is_some());
}

#[test]
fn a_vm_an_operation_takes_out_of_the_filter_stays_selected() {
    let mut s = state();
    act(&mut s, Action::Filter);
    for c in "running".chars() {
        key(&mut s, c);
    }
    update(&mut s, Msg::Input(InputKey::Enter), T0);
    select(&mut s, "web-1");
    // Suspended (by this console or another): it no longer matches, but the cursor must
    // not slide onto db-main for a second p to suspend that one.
    set_state(&mut s, "web-1", VmState::Paused);
    assert_eq!(s.selected().unwrap().vm.name, "web-1");
    assert_eq!(s.selected().unwrap().vm.state, VmState::Paused);
    // Moving off it lets it go at the next rebuild; so does editing the filter.
    act(&mut s, Action::Up);
    assert_eq!(s.selected().unwrap().vm.name, "db-main");
    set_state(&mut s, "db-main", VmState::Running);
    assert!(
        super::fixtures::names(&s).iter().all(|n| n != "web-1"),
        "{:?}",
        super::fixtures::names(&s)
    );
}

#[test]
fn pasted_text_types_into_the_line_and_never_answers_a_dialog() {
    let mut s = state();
    act(&mut s, Action::Palette);
    update(&mut s, Msg::Paste("resume\tbatch\n".into()), T0);
    assert!(
        matches!(&s.view.overlay, Some(Overlay::Palette { buf, .. }) if buf == "resume batch"),
        "{:?}",
        s.view.overlay
    );
    update(&mut s, Msg::Input(InputKey::Esc), T0);
    act(&mut s, Action::Filter);
    update(&mut s, Msg::Paste("web".into()), T0);
    assert_eq!(super::fixtures::names(&s), ["web-1", "web-2"]);
    update(&mut s, Msg::Input(InputKey::Esc), T0);
    select(&mut s, "web-1");
    act(&mut s, Action::Destroy);
    let eff = update(&mut s, Msg::Paste("y".into()), T0);
    assert_eq!(ops_sent(&eff), 0, "a pasted y destroyed");
    assert!(matches!(s.view.overlay, Some(Overlay::Confirm(_))));
}

#[test]
fn the_palette_names_a_vm_on_one_of_several_hosts_as_the_journal_does() {
    let mut s = state();
    updated(&mut s, vm(1, "web-1", VmState::Running, 2, 2048));
    let run = |s: &mut super::State, line: &str| {
        act(s, Action::Palette);
        update(s, Msg::Paste(line.into()), T0);
        update(s, Msg::Input(InputKey::Enter), T0)
    };
    assert_eq!(ops_sent(&run(&mut s, "suspend web-1")), 0);
    assert!(s.flash.as_ref().unwrap().text.contains("web-1@HOST"));
    let label = s.hosts[1].label.clone();
    let eff = run(&mut s, &format!("suspend web-1@{label}"));
    assert!(
        matches!(
            eff.first(),
            Some(Effect::Provider {
                host: 1,
                cmd: ProviderCmd::Op { .. }
            })
        ),
        "{eff:?}"
    );
}

#[test]
fn a_shutdown_is_not_credited_when_the_vm_stops_another_way() {
    let line = shutdown_line;
    // Destroyed with virsh while the guest was still to act on the shutdown.
    let mut s = state();
    accepted_shutdown(&mut s);
    lifecycle(&mut s, LifecycleEvent::Stopped("destroyed"));
    assert_eq!(
        line(&s),
        "warning: stopped another way (destroyed); the guest did not shut down"
    );
    assert!(s.ops.is_empty(), "the shutdown is over");
    // The same past the timeout: the force-off offer goes, the line says what happened.
    let mut s = state();
    timed_out_shutdown(&mut s);
    lifecycle(&mut s, LifecycleEvent::Stopped("crashed"));
    assert_eq!(
        line(&s),
        "warning: stopped another way (crashed) after 6 s; the guest did not shut down"
    );
    assert!(!is_offer(&s));
}

#[test]
fn an_op_cut_off_by_a_lost_connection_is_not_called_failed() {
    let mut s = state();
    select(&mut s, "web-1");
    let effects = act(&mut s, Action::Reboot);
    let Some(Effect::Provider {
        cmd: ProviderCmd::Op { id, .. },
        ..
    }) = effects.first()
    else {
        panic!("{effects:?}");
    };
    let eof = "End of file while reading data: Input/output error";
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult {
            id: *id,
            result: Err(crate::provider::OpError::Unknown(eof.into())),
        }),
        T0,
    );
    let want = format!(
        "the connection was lost before libvirt answered ({eof}); whether it was done is unknown"
    );
    assert_eq!(
        s.journal.back().unwrap().status,
        super::state::JournalStatus::Warning(want.clone())
    );
    assert!(s.flash.as_ref().unwrap().text.ends_with(&want));
    assert!(s.ops.is_empty());
}

#[test]
fn ctrl_z_stops_the_console_only_where_a_shell_can_continue_it() {
    let mut s = state();
    assert_eq!(act(&mut s, Action::Background), vec![Effect::Background]);
    // Started by ssh or tmux directly: nothing would ever continue it.
    s.settings.job_control = false;
    assert!(act(&mut s, Action::Background).is_empty());
    let f = s.flash.as_ref().unwrap();
    assert!(
        f.error && f.text.starts_with("no shell to return to"),
        "{f:?}"
    );
}
