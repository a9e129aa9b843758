//! Host links from the palette: `:connect` adds a host, `:disconnect` removes one with its
//! VMs and operations, a host whose first connection failed for good is tried again.

use super::fixtures::{names, state, T0};
use super::state::{JournalStatus, State};
use super::update_tests::{act, select};
use super::{update, Action, Effect, InputKey, Msg};
use crate::domain::VmState;
use crate::provider::{ConnStatus, ProviderEvent};

fn palette(s: &mut State, line: &str) -> Vec<Effect> {
    act(s, Action::Palette);
    for c in line.chars() {
        update(s, Msg::Input(InputKey::Char(c)), T0);
    }
    update(s, Msg::Input(InputKey::Enter), T0)
}

fn connect_effect(host: usize, uri: &str) -> Vec<Effect> {
    vec![Effect::Connect {
        host,
        uri: uri.into(),
    }]
}

fn status(s: &mut State, host: usize, status: ConnStatus) {
    update(s, Msg::Provider(ProviderEvent::Status { host, status }), T0);
}

#[test]
fn palette_connect_adds_a_host() {
    let mut s = state();
    let eff = palette(&mut s, "connect test:///default");
    assert_eq!(eff, connect_effect(2, "test:///default"));
    assert_eq!(s.hosts[2].label, "test");
    assert_eq!(s.hosts[2].status, ConnStatus::Connecting);
}

#[test]
fn disconnect_drops_the_host_its_vms_and_its_operations() {
    let mut s = state();
    select(&mut s, "web-1");
    act(&mut s, Action::ToggleSuspend);
    assert_eq!(s.ops.len(), 1);
    let eff = palette(&mut s, "disconnect local");
    assert_eq!(eff, vec![Effect::Disconnect { host: 0 }]);
    assert_eq!(s.hosts.len(), 1);
    assert_eq!(s.hosts[0].id, 1);
    assert_eq!(names(&s), vec!["web-2"]);
    assert!(s.ops.is_empty(), "the suspend on a removed host is over");
    let failed = s
        .journal
        .iter()
        .any(|e| e.status == JournalStatus::Failed("local was disconnected".into()));
    assert!(failed, "{:?}", s.journal);
    // Whatever the stopped worker had still in flight lands nowhere.
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory {
            host: 0,
            vms: vec![super::fixtures::vm(0, "ghost", VmState::Running, 1, 512)],
        }),
        T0,
    );
    assert_eq!(names(&s), vec!["web-2"]);
}

#[test]
fn disconnect_closes_a_detail_pane_open_on_one_of_its_vms() {
    let mut s = state();
    select(&mut s, "web-2");
    act(&mut s, Action::OpenDetail);
    assert_eq!(s.view.screen, super::state::Screen::Detail);
    palette(&mut s, "disconnect kvm2");
    // Not the next row's VM under the same keys: back to the table, and said why.
    assert_eq!(s.view.screen, super::state::Screen::Table);
    let f = s.flash.clone().unwrap().text;
    assert!(
        f.contains("web-2 is no longer on qemu+ssh://kvm2/system"),
        "{f}"
    );
}

#[test]
fn a_host_connected_after_a_removal_gets_a_new_id() {
    let mut s = state();
    palette(&mut s, "disconnect qemu+ssh://kvm2/system");
    assert_eq!(names(&s), vec!["batch", "db-main", "web-1"]);
    let eff = palette(&mut s, "connect qemu+ssh://kvm2/system");
    // Id 1 belonged to the removed worker: a late event of its must not reach the new one.
    assert_eq!(eff, connect_effect(2, "qemu+ssh://kvm2/system"));
    status(
        &mut s,
        1,
        ConnStatus::Connected {
            hostname: "old".into(),
        },
    );
    assert_eq!(s.hosts[1].status, ConnStatus::Connecting);
    assert_eq!(s.host_label(2), "kvm2");
}

#[test]
fn disconnect_of_an_unknown_host_lists_the_hosts() {
    let mut s = state();
    assert!(palette(&mut s, "disconnect kvm9").is_empty());
    let f = s.flash.clone().unwrap();
    assert!(f.error);
    assert!(
        f.text.contains("\"kvm9\"") || f.text.contains("kvm9: no such host"),
        "{}",
        f.text
    );
    assert!(
        f.text.contains("kvm2 (qemu+ssh://kvm2/system)"),
        "{}",
        f.text
    );
    assert_eq!(s.hosts.len(), 2);
}

#[test]
fn a_failed_host_is_journalled_and_connect_tries_it_again() {
    let mut s = state();
    palette(&mut s, "connect qemu:///nonexistent");
    let error = "cannot connect to qemu:///nonexistent: unexpected qemu URI path".to_string();
    assert_eq!(s.host_label(2), "local#2");
    assert_eq!(s.host_label(0), "local", "the first keeps its label");
    status(&mut s, 2, ConnStatus::Failed { error });
    let noted = s.journal.iter().any(|e| {
        e.what == "connect"
            && matches!(&e.status, JournalStatus::Failed(m) if m.ends_with("URI path; not retried"))
    });
    assert!(noted, "{:?}", s.journal);
    let eff = palette(&mut s, "connect qemu:///nonexistent");
    assert_eq!(eff, connect_effect(2, "qemu:///nonexistent"));
    assert_eq!(s.hosts[2].status, ConnStatus::Connecting);
    // A host that is not failed is not connected twice.
    assert!(palette(&mut s, "connect qemu:///system").is_empty());
    assert!(s.flash.clone().unwrap().text.contains("already connected"));
}

#[test]
fn labels_stay_with_their_hosts_across_connect_and_disconnect() {
    let mut s = state();
    palette(&mut s, "connect qemu:///a");
    palette(&mut s, "connect qemu:///b");
    assert_eq!((s.host_label(2), s.host_label(3)), ("local#2", "local#3"));
    palette(&mut s, "disconnect local#2");
    // Before, local#3 became local#2 and local became local#1.
    assert_eq!((s.host_label(0), s.host_label(3)), ("local", "local#3"));
    palette(&mut s, "connect qemu:///c");
    assert_eq!(s.host_label(4), "local#2");
    palette(&mut s, "connect test:///default");
    assert_eq!(s.host_label(5), "test");
}

#[test]
fn a_state_change_no_event_reported_is_journalled_when_the_inventory_shows_it() {
    let mut s = state();
    let inventory = |s: &mut State, st: VmState, at: i64| {
        let mut db = super::fixtures::vm(0, "db-main", st, 4, 8192);
        if st == VmState::ShutOff {
            db.reason = "destroyed".into();
        }
        update(
            s,
            Msg::Provider(ProviderEvent::Inventory {
                host: 0,
                vms: vec![
                    db,
                    super::fixtures::vm(0, "web-1", VmState::Running, 2, 2048),
                ],
            }),
            at,
        );
    };
    let status = |s: &mut State, status: ConnStatus, at: i64| {
        update(
            s,
            Msg::Provider(ProviderEvent::Status { host: 0, status }),
            at,
        );
    };
    // A periodic re-read while connected can race an event: it journals nothing.
    let n = s.journal.len();
    inventory(&mut s, VmState::Paused, T0);
    assert_eq!(s.journal.len(), n);
    inventory(&mut s, VmState::Running, T0);
    // Destroyed with virsh while the host was away: the re-read after reconnecting shows it.
    let down = ConnStatus::Disconnected {
        error: "EOF".into(),
        retry_in: std::time::Duration::from_secs(5),
    };
    status(&mut s, down, T0 + 1_000);
    let up = ConnStatus::Connected {
        hostname: "h".into(),
    };
    status(&mut s, up, T0 + 20_000);
    inventory(&mut s, VmState::ShutOff, T0 + 20_100);
    let last = s.journal.back().unwrap();
    assert_eq!(
        (last.vm.as_str(), last.what.as_str(), &last.status),
        (
            "db-main",
            "shut off (destroyed), was running (booted); found re-reading the inventory",
            &JournalStatus::Event
        )
    );
    // Only that first inventory: the next says nothing new.
    let n = s.journal.len();
    inventory(&mut s, VmState::Paused, T0 + 30_000);
    assert_eq!(s.journal.len(), n);
}

#[test]
fn with_one_host_the_sort_keys_skip_host() {
    let mut s = state();
    s.hosts.truncate(1);
    s.view.sort = crate::app::state::SortKey::Name;
    act(&mut s, Action::SortNext);
    assert_eq!(s.view.sort, crate::app::state::SortKey::State);
    act(&mut s, Action::SortPrev);
    assert_eq!(s.view.sort, crate::app::state::SortKey::Name);
}

#[test]
fn a_host_connected_again_gets_its_sparklines_from_history() {
    let mut s = state();
    let uri = s.hosts[0].uri.clone();
    let label = s.hosts[0].label.clone();
    // Warmed while first connected.
    s.anomalies
        .warming
        .insert(crate::app::ingest::host_entity(&uri));
    super::links::disconnect(&mut s, &label);
    super::links::connect(&mut s, uri.clone());
    let host = s.hosts.last().unwrap().id;
    assert_ne!(host, s.hosts.len() - 1, "a new id, not its position");
    let vm = crate::app::fixtures::vm(host, "web-1", VmState::Running, 2, 2048);
    let uuid = vm.id.uuid.clone();
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory {
            host,
            vms: vec![vm],
        }),
        T0,
    );
    // Nothing of the old connection stays warm: the first samples ask for history again.
    assert!(s.anomalies.warming.is_empty(), "{:?}", s.anomalies.warming);
    let entity = crate::app::ingest::vm_entity(&uri, &uuid);
    update(
        &mut s,
        Msg::DetectorHistory {
            entity,
            until_ms: T0,
            series: Vec::new(),
            recent_cpu: vec![1.0, 2.0, 3.0],
        },
        T0,
    );
    let e = s.vms.values().find(|e| e.vm.id.host == host).unwrap();
    assert!(
        e.metrics.live.spark.len() >= 3,
        "{:?}",
        e.metrics.live.spark
    );
}

#[test]
fn a_sort_by_host_goes_back_to_name_when_one_host_is_left() {
    let mut s = state();
    s.view.sort = crate::app::state::SortKey::Host;
    let label = s.hosts[1].label.clone();
    super::links::disconnect(&mut s, &label);
    assert_eq!(s.view.sort, crate::app::state::SortKey::Name);
}

#[test]
fn another_spelling_of_a_connected_daemon_is_already_connected() {
    let mut s = state();
    let n = s.hosts.len();
    let uri = s.hosts[0].uri.clone();
    let other = uri.replacen("://", "+unix://", 1);
    assert!(super::links::connect(&mut s, format!("{other}#x")).is_empty());
    assert_eq!(s.hosts.len(), n, "no second entry for the same daemon");
    let f = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert_eq!(f, format!("already connected to {uri}"));
}
