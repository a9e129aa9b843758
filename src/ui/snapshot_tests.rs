//! Snapshot tests of every screen at 80×24, the size the layout is designed for.

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::app::fixtures::{state, T0};
use crate::app::{update, Action, InputKey, Msg, State};
use crate::domain::{CounterSample, NetCounters, VmState};
use crate::provider::{ConnStatus, ProviderEvent};
use crate::ui::{render, Theme};

fn draw(s: &State, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = Theme::new(&crate::config::theme::ThemeColors::default(), false);
    t.draw(|f| render(s, &theme, f)).unwrap();
    t.backend().to_string()
}

fn busy_state() -> State {
    let mut s = state();
    for (t, ns, rx) in [(0u64, 0u64, 0u64), (5_000, 4_900_000_000, 512_000)] {
        let samples = vec![CounterSample {
            uuid: "0-web-1".into(),
            state: VmState::Running,
            cpu_time_ns: Some(ns),
            vcpus: 1,
            net: Some(NetCounters {
                rx_bytes: rx,
                tx_bytes: rx / 2,
                ..NetCounters::default()
            }),
        }];
        let ts = T0 + i64::try_from(t).unwrap();
        update(
            &mut s,
            Msg::Provider(ProviderEvent::Samples {
                host: 0,
                ts_ms: ts,
                samples,
            }),
            ts,
        );
    }
    s
}

#[test]
fn table_with_pending_op_and_journal() {
    let mut s = busy_state();
    update(&mut s, Msg::Action(Action::Down), T0);
    let eff = update(&mut s, Msg::Action(Action::ToggleSuspend), T0 + 6_000);
    assert_eq!(eff.len(), 1);
    insta::assert_snapshot!(draw(&s, 80, 24));
}

#[test]
fn journal_shows_failures_and_events() {
    let mut s = busy_state();
    update(&mut s, Msg::Action(Action::Bottom), T0);
    let eff = update(&mut s, Msg::Action(Action::Reboot), T0 + 7_000);
    let crate::app::Effect::Provider {
        cmd: crate::provider::ProviderCmd::Op { id, .. },
        ..
    } = &eff[0]
    else {
        panic!("{eff:?}");
    };
    let err = Err("Requested operation is not valid: domain is not running".to_string());
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult {
            id: *id,
            result: err,
        }),
        T0 + 7_100,
    );
    insta::assert_snapshot!(draw(&s, 80, 24));
}

#[test]
fn detail_of_the_selected_vm() {
    let mut s = busy_state();
    update(&mut s, Msg::Action(Action::Bottom), T0);
    update(&mut s, Msg::Action(Action::Up), T0);
    update(&mut s, Msg::Action(Action::OpenDetail), T0);
    insta::assert_snapshot!(draw(&s, 80, 24));
}

#[test]
fn help_lists_the_live_keymap() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Help), T0);
    insta::assert_snapshot!(draw(&s, 80, 40));
}

#[test]
fn destroy_confirmation_defaults_to_no() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Destroy), T0);
    insta::assert_snapshot!(draw(&s, 80, 24));
}

#[test]
fn filter_line_and_disconnected_host() {
    let mut s = state();
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Status {
            host: 1,
            status: ConnStatus::Disconnected {
                error: "End of file while reading data".into(),
                retry_in: std::time::Duration::from_secs(4),
            },
        }),
        T0,
    );
    update(&mut s, Msg::Tick, T0 + 12_000);
    update(&mut s, Msg::Action(Action::Filter), T0 + 12_000);
    for c in "web".chars() {
        update(&mut s, Msg::Input(InputKey::Char(c)), T0 + 12_000);
    }
    insta::assert_snapshot!(draw(&s, 80, 24));
}

#[test]
fn too_small_terminal_says_so() {
    insta::assert_snapshot!(draw(&state(), 60, 20));
}
