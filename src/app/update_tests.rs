//! Reducer tests: navigation, sort, filter, the operation life cycle, confirmations, the
//! shutdown timeout, the palette and reconciliation.

use super::fixtures::{names, state, vm, T0};
use super::state::{JournalStatus, Overlay, Screen, SortKey};
use super::{update, Action, Effect, InputKey, Msg};
use crate::domain::{Op, VmId, VmState};
use crate::provider::libvirt::state::LifecycleEvent;
use crate::provider::{ConnStatus, DomainEventKind, ProviderCmd, ProviderEvent};

pub(crate) fn act(s: &mut super::State, a: Action) -> Vec<Effect> {
    update(s, Msg::Action(a), T0)
}

pub(super) fn key(s: &mut super::State, c: char) -> Vec<Effect> {
    update(s, Msg::Input(InputKey::Char(c)), T0)
}

pub(crate) fn select(s: &mut super::State, name: &str) {
    act(s, Action::Top);
    while s.selected().map(|e| e.vm.name.as_str()) != Some(name) {
        let before = s.view.cursor;
        act(s, Action::Down);
        assert_ne!(before, s.view.cursor, "{name} not in table");
    }
}

fn op_effect(effects: &[Effect]) -> (u64, Op, String) {
    match effects {
        [Effect::Provider {
            cmd: ProviderCmd::Op { id, op, name, .. },
            ..
        }] => (*id, *op, name.clone()),
        other => panic!("expected one op effect, got {other:?}"),
    }
}

pub(super) fn event(s: &mut super::State, host: usize, name: &str, ev: LifecycleEvent) {
    update(
        s,
        Msg::Provider(ProviderEvent::DomainEvent {
            host,
            uuid: format!("{host}-{name}"),
            name: name.into(),
            kind: DomainEventKind::Lifecycle(ev),
        }),
        T0,
    );
}

#[test]
fn rows_sort_by_name_then_reverse_with_the_same_key() {
    let mut s = state();
    assert_eq!(names(&s), ["batch", "db-main", "web-1", "web-2"]);
    act(&mut s, Action::SortName);
    assert_eq!(names(&s), ["web-2", "web-1", "db-main", "batch"]);
    act(&mut s, Action::SortMemory);
    assert_eq!(names(&s)[0], "db-main", "memory sorts biggest first");
    // Memory in use ranks first, as the MEM column reads "used/held".
    let batch = s.vms.values_mut().find(|e| e.vm.name == "batch").unwrap();
    let used = [(crate::domain::Metric::MemUsedBytes, 400e6)];
    batch.metrics.live.record(T0, &used);
    act(&mut s, Action::SortMemory);
    act(&mut s, Action::SortMemory);
    assert_eq!(names(&s)[0], "batch");
    act(&mut s, Action::SortNext);
    assert_eq!(s.view.sort, SortKey::Name, "> wraps from memory to name");
    act(&mut s, Action::SortPrev);
    assert_eq!(s.view.sort, SortKey::Memory);
}

#[test]
fn cursor_follows_the_selected_vm_across_resorts() {
    let mut s = state();
    select(&mut s, "web-1");
    act(&mut s, Action::SortName);
    assert_eq!(s.selected().unwrap().vm.name, "web-1");
    act(&mut s, Action::Bottom);
    assert_eq!(s.view.cursor, 3);
    act(&mut s, Action::Down);
    assert_eq!(s.view.cursor, 3, "clamped at the last row");
    act(&mut s, Action::PageUp);
    assert_eq!(s.view.cursor, 0);
}

#[test]
fn filter_matches_substrings_and_bang_inverts() {
    let mut s = state();
    act(&mut s, Action::Filter);
    for c in "web".chars() {
        key(&mut s, c);
    }
    assert_eq!(names(&s), ["web-1", "web-2"]);
    update(&mut s, Msg::Input(InputKey::Enter), T0);
    assert!(s.view.overlay.is_none());
    assert_eq!(s.view.filter, "web");
    act(&mut s, Action::Filter);
    update(&mut s, Msg::Input(InputKey::Backspace), T0);
    update(&mut s, Msg::Input(InputKey::Backspace), T0);
    update(&mut s, Msg::Input(InputKey::Backspace), T0);
    for c in "!web".chars() {
        key(&mut s, c);
    }
    assert_eq!(names(&s), ["batch", "db-main"]);
    update(&mut s, Msg::Input(InputKey::Esc), T0);
    assert_eq!(names(&s).len(), 4, "esc clears the filter");
    // From another pane, / goes to the table it filters; esc then goes back.
    act(&mut s, Action::Hosts);
    act(&mut s, Action::Filter);
    assert_eq!(s.view.screen, Screen::Table);
    assert!(matches!(s.view.overlay, Some(Overlay::Filter { .. })));
    update(&mut s, Msg::Input(InputKey::Enter), T0);
    act(&mut s, Action::Back);
    assert_eq!(s.view.screen, Screen::Host);
}

#[test]
fn suspend_is_pending_until_its_event_confirms_it() {
    let mut s = state();
    select(&mut s, "web-1");
    let (id, op, name) = op_effect(&act(&mut s, Action::ToggleSuspend));
    assert_eq!((op, name.as_str()), (Op::Suspend, "web-1"));
    assert_eq!(s.journal.back().unwrap().status, JournalStatus::Pending);
    assert_eq!(
        s.journal.back().unwrap().virsh.as_deref(),
        Some("virsh -c qemu:///system suspend web-1")
    );
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult { id, result: Ok(()) }),
        T0,
    );
    assert!(s.ops.contains_key(&id), "accepted but not yet confirmed");
    event(&mut s, 0, "web-1", LifecycleEvent::Resumed("unpaused"));
    assert!(
        s.ops.contains_key(&id),
        "an unrelated event does not confirm"
    );
    event(&mut s, 0, "web-1", LifecycleEvent::Suspended("paused"));
    assert!(!s.ops.contains_key(&id));
    let op_line = s.journal.iter().find(|e| e.what == "suspend").unwrap();
    assert_eq!(op_line.status, JournalStatus::Done);
    assert!(s.selected().unwrap().pending.is_none());
}

#[test]
fn an_event_that_beats_the_api_reply_still_completes_the_op() {
    let mut s = state();
    select(&mut s, "batch");
    let (id, op, _) = op_effect(&act(&mut s, Action::ToggleSuspend));
    assert_eq!(op, Op::Resume, "p on a paused VM resumes it");
    event(&mut s, 0, "batch", LifecycleEvent::Resumed("unpaused"));
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult { id, result: Ok(()) }),
        T0,
    );
    assert!(s.ops.is_empty());
}

#[test]
fn a_refused_op_shows_libvirts_message() {
    let mut s = state();
    select(&mut s, "web-1");
    let (id, _, _) = op_effect(&act(&mut s, Action::Reboot));
    let msg = "Operation not supported: reboot without the guest agent".to_string();
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult {
            id,
            result: Err(msg.clone().into()),
        }),
        T0,
    );
    assert_eq!(
        s.journal.back().unwrap().status,
        JournalStatus::Failed(msg.clone())
    );
    assert!(s.flash.as_ref().unwrap().text.contains(&msg));
}

#[test]
fn destroy_asks_first_and_defaults_to_no() {
    let mut s = state();
    select(&mut s, "db-main");
    assert!(act(&mut s, Action::Destroy).is_empty());
    assert!(matches!(s.view.overlay, Some(Overlay::Confirm(_))));
    assert!(
        update(&mut s, Msg::Input(InputKey::Enter), T0).is_empty(),
        "enter means no"
    );
    assert!(s.view.overlay.is_none());
    act(&mut s, Action::Reset);
    assert!(
        key(&mut s, 'x').is_empty(),
        "other keys leave the dialog open"
    );
    assert!(s.view.overlay.is_some());
    let (_, op, name) = op_effect(&key(&mut s, 'y'));
    assert_eq!((op, name.as_str()), (Op::Reset, "db-main"));
}

#[test]
fn read_only_disables_every_operation() {
    let mut s = state();
    s.settings.read_only = true;
    for a in [
        Action::Start,
        Action::Shutdown,
        Action::Reboot,
        Action::ToggleSuspend,
        Action::Destroy,
    ] {
        assert!(act(&mut s, a).is_empty());
        assert!(s.view.overlay.is_none());
    }
    assert!(s.flash.as_ref().unwrap().text.contains("read-only"));
}

#[test]
fn a_shutdown_past_its_timeout_offers_force_off() {
    let mut s = state();
    s.settings.shutdown_timeout_ms = 60_000;
    select(&mut s, "web-1");
    let (id, _, _) = op_effect(&act(&mut s, Action::Shutdown));
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult { id, result: Ok(()) }),
        T0,
    );
    update(&mut s, Msg::Tick, T0 + 59_000);
    assert!(s.view.overlay.is_none());
    update(&mut s, Msg::Tick, T0 + 60_000);
    match &s.view.overlay {
        Some(Overlay::Confirm(c)) => {
            assert_eq!(c.op, Op::Destroy);
            assert!(c.prompt.contains("60 s"), "{}", c.prompt);
        }
        other => panic!("expected force-off confirmation, got {other:?}"),
    }
    let (_, op, _) = op_effect(&update(
        &mut s,
        Msg::Input(InputKey::Char('y')),
        T0 + 61_000,
    ));
    assert_eq!(op, Op::Destroy);
}

#[test]
fn palette_runs_verbs_and_suggests_close_names() {
    let mut s = state();
    act(&mut s, Action::Palette);
    for c in "sta".chars() {
        key(&mut s, c);
    }
    update(&mut s, Msg::Input(InputKey::Tab), T0);
    for c in "web-".chars() {
        key(&mut s, c);
    }
    update(&mut s, Msg::Input(InputKey::Tab), T0);
    // web-1 is running: start offers only the shut-off web-2, so tab completes it.
    match &s.view.overlay {
        Some(Overlay::Palette { buf, .. }) => assert_eq!(buf, "start web-2"),
        other => panic!("{other:?}"),
    }
    let (_, op, name) = op_effect(&update(&mut s, Msg::Input(InputKey::Enter), T0));
    assert_eq!((op, name.as_str()), (Op::Start, "web-2"));

    act(&mut s, Action::Palette);
    for c in "start web-3".chars() {
        key(&mut s, c);
    }
    assert!(update(&mut s, Msg::Input(InputKey::Enter), T0).is_empty());
    let f = s.flash.clone().unwrap().text;
    assert!(f.contains("\"web-3\"") && f.contains("web-1"), "{f}");
    // A verb that is not an operation offers every VM.
    assert_eq!(
        super::palette::completions(&s, "forecast web-"),
        ["forecast web-1", "forecast web-2"]
    );
}

#[test]
fn inventory_reconciles_one_host_and_leaves_the_others() {
    let mut s = state();
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory {
            host: 0,
            vms: vec![vm(0, "db-main", VmState::ShutOff, 4, 8192)],
        }),
        T0,
    );
    assert_eq!(names(&s), ["db-main", "web-2"]);
    assert_eq!(
        s.vms[&VmId {
            host: 0,
            uuid: "0-db-main".into()
        }]
            .vm
            .state,
        VmState::ShutOff
    );
}

#[test]
fn disconnect_is_timed_from_when_it_happened() {
    let mut s = state();
    let st = ConnStatus::Disconnected {
        error: "EOF".into(),
        retry_in: std::time::Duration::from_secs(2),
    };
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Status {
            host: 1,
            status: st.clone(),
        }),
        T0 + 5_000,
    );
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Status {
            host: 1,
            status: st.clone(),
        }),
        T0 + 9_000,
    );
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Status {
            host: 1,
            status: ConnStatus::Connecting,
        }),
        T0 + 11_000,
    );
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Status {
            host: 1,
            status: st,
        }),
        T0 + 12_000,
    );
    assert_eq!(
        s.hosts[1].since_ms,
        T0 + 5_000,
        "a retry (disconnected → connecting → disconnected) does not reset the clock"
    );
}

#[test]
fn enter_opens_detail_and_esc_returns() {
    let mut s = state();
    act(&mut s, Action::OpenDetail);
    assert_eq!(s.view.screen, Screen::Detail);
    act(&mut s, Action::Back);
    assert_eq!(s.view.screen, Screen::Table);
    act(&mut s, Action::Help);
    assert_eq!(s.view.screen, Screen::Help);
    act(&mut s, Action::Help);
    assert_eq!(s.view.screen, Screen::Table);
    // esc goes back where the pane was opened from, not always to the table.
    act(&mut s, Action::OpenDetail);
    act(&mut s, Action::Help);
    act(&mut s, Action::Back);
    assert_eq!(s.view.screen, Screen::Detail);
    act(&mut s, Action::Back);
    act(&mut s, Action::Hosts);
    act(&mut s, Action::Logs);
    act(&mut s, Action::Back);
    assert_eq!(s.view.screen, Screen::Host);
    act(&mut s, Action::Back);
    assert_eq!(s.view.screen, Screen::Table);
}

#[test]
fn quit_and_sigterm_both_end_the_loop() {
    let mut s = state();
    assert_eq!(act(&mut s, Action::Quit), vec![Effect::Quit]);
    let mut s = state();
    assert_eq!(update(&mut s, Msg::Terminate, T0), vec![Effect::Quit]);
    assert!(s.quit);
}

#[test]
fn no_operation_from_a_pane_that_hides_the_selected_vm() {
    use super::state::Screen;
    let mut s = state();
    select(&mut s, "web-1");
    for (open, screen) in [
        (Action::Hosts, Screen::Host),
        (Action::Capacity, Screen::Capacity),
        (Action::Rightsize, Screen::Rightsize),
    ] {
        act(&mut s, open);
        assert_eq!(s.view.screen, screen);
        for op in [Action::ToggleSuspend, Action::Destroy, Action::Start] {
            let eff = act(&mut s, op);
            assert!(
                !eff.iter().any(|e| matches!(e, Effect::Provider { .. })),
                "{op:?} from {screen:?}: {eff:?}"
            );
            assert!(s.view.overlay.is_none(), "no confirmation either");
            assert!(s
                .flash
                .as_ref()
                .is_some_and(|f| f.text.contains("VM table")));
        }
        act(&mut s, Action::Back);
    }
    // From the table the same key acts on the selected VM.
    assert_eq!(s.view.screen, Screen::Table);
    let eff = act(&mut s, Action::ToggleSuspend);
    assert!(
        eff.iter().any(|e| matches!(e, Effect::Provider { .. })),
        "{eff:?}"
    );
}

#[test]
fn equal_values_sort_by_name_in_either_direction() {
    let mut s = state();
    super::fixtures::updated(&mut s, vm(1, "web-2", VmState::ShutOff, 2, 2048));
    act(&mut s, Action::SortMemory);
    assert_eq!(names(&s), ["db-main", "web-1", "web-2", "batch"]);
    act(&mut s, Action::SortMemory);
    assert_eq!(names(&s), ["batch", "web-1", "web-2", "db-main"]);
}

#[test]
fn the_same_event_in_a_row_is_counted_on_one_line() {
    let mut s = state();
    let reboot = |s: &mut super::State, at| {
        update(
            s,
            Msg::Provider(ProviderEvent::DomainEvent {
                host: 0,
                uuid: "0-web-1".into(),
                name: "web-1".into(),
                kind: DomainEventKind::Reboot,
            }),
            at,
        );
    };
    let before = s.journal.len();
    for i in 0..3 {
        reboot(&mut s, T0 + i * 2_000);
    }
    assert_eq!(s.journal.len(), before + 1);
    let last = s.journal.back().unwrap();
    // The line shows the last one's time and says when the first came.
    assert_eq!(
        (last.repeat, last.first_ms, last.ts_ms),
        (3, T0, T0 + 4_000)
    );
    reboot(&mut s, T0 + 64_000);
    assert_eq!(
        s.journal.len(),
        before + 2,
        "a minute later it is news again"
    );
}

#[test]
fn help_scrolls_to_its_ends_and_no_further() {
    let mut s = state();
    update(&mut s, Msg::Resize(80, 24), T0);
    act(&mut s, Action::Help);
    act(&mut s, Action::Bottom);
    let last = s.view.help_scroll;
    let lines = s.help.len() + 1 + super::palette::help_lines().len();
    assert_eq!(usize::from(last), lines - 20);
    act(&mut s, Action::PageDown);
    act(&mut s, Action::Down);
    assert_eq!(s.view.help_scroll, last, "past the end shows nothing new");
    act(&mut s, Action::Top);
    assert_eq!(s.view.help_scroll, 0);
}

#[test]
fn moving_keys_page_through_the_logs_pane() {
    let mut s = state();
    act(&mut s, Action::Logs);
    assert_eq!(
        act(&mut s, Action::PageUp),
        vec![Effect::ScrollLogs(super::LogScroll::Back)]
    );
    assert_eq!(
        act(&mut s, Action::Bottom),
        vec![Effect::ScrollLogs(super::LogScroll::Live)]
    );
    act(&mut s, Action::Back);
    assert!(
        act(&mut s, Action::PageUp).is_empty(),
        "the table pages itself"
    );
}

#[test]
fn the_cursor_stays_on_the_first_row_until_the_operator_moves_it() {
    use crate::app::fixtures::vm;
    let mut s = state();
    // Hosts answer one by one; the first row stays the one under the cursor.
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory {
            host: 1,
            vms: vec![vm(1, "aaa-first", VmState::Running, 1, 512)],
        }),
        T0,
    );
    assert_eq!(s.selected().unwrap().vm.name, "aaa-first");
    select(&mut s, "web-1");
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory {
            host: 1,
            vms: vec![
                vm(1, "aaa-first", VmState::Running, 1, 512),
                vm(1, "aab", VmState::Running, 1, 512),
            ],
        }),
        T0,
    );
    assert_eq!(
        s.selected().unwrap().vm.name,
        "web-1",
        "once chosen, it follows the VM"
    );
}

#[test]
fn a_reconnection_is_journaled() {
    let mut s = state();
    let status = |s: &mut super::State, st: ConnStatus, at| {
        update(
            s,
            Msg::Provider(ProviderEvent::Status {
                host: 1,
                status: st,
            }),
            at,
        );
    };
    status(
        &mut s,
        ConnStatus::Disconnected {
            error: "EOF".into(),
            retry_in: std::time::Duration::from_secs(1),
        },
        T0 + 1_000,
    );
    status(
        &mut s,
        ConnStatus::Connected {
            hostname: "h1".into(),
        },
        T0 + 21_000,
    );
    let last = s.journal.back().unwrap();
    assert!(
        last.what.contains("reconnected after 20 s"),
        "{}",
        last.what
    );
}

#[test]
fn palette_takes_a_running_id_as_virsh_does() {
    let mut s = state();
    let id = s
        .vms
        .values()
        .find(|e| e.vm.name == "db-main")
        .unwrap()
        .vm
        .dom_id;
    let id = id.expect("a running VM has an ID").to_string();
    act(&mut s, Action::Palette);
    for c in format!("suspend {id}").chars() {
        key(&mut s, c);
    }
    let (_, op, name) = op_effect(&update(&mut s, Msg::Input(InputKey::Enter), T0));
    assert_eq!((op, name.as_str()), (Op::Suspend, "db-main"));
    // A shut-off VM has no ID: a number that matches nothing is said as such.
    act(&mut s, Action::Palette);
    for c in "start 999".chars() {
        key(&mut s, c);
    }
    assert!(update(&mut s, Msg::Input(InputKey::Enter), T0).is_empty());
    let f = s.flash.clone().unwrap().text;
    assert!(f.contains("(a VM's name, UUID or running ID)"), "{f}");
}
