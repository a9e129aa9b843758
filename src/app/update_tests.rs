//! Reducer tests: navigation, sort, filter, the operation life cycle, confirmations, the
//! shutdown timeout, the palette and reconciliation.

use super::fixtures::{names, state, vm, T0};
use super::state::{JournalStatus, Overlay, Screen, SortKey};
use super::{update, Action, Effect, InputKey, Msg};
use crate::domain::{CounterSample, Metric, Op, VmId, VmState};
use crate::provider::libvirt::state::LifecycleEvent;
use crate::provider::{ConnStatus, DomainEventKind, ProviderCmd, ProviderEvent};

fn act(s: &mut super::State, a: Action) -> Vec<Effect> {
    update(s, Msg::Action(a), T0)
}

fn key(s: &mut super::State, c: char) -> Vec<Effect> {
    update(s, Msg::Input(InputKey::Char(c)), T0)
}

fn select(s: &mut super::State, name: &str) {
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

fn event(s: &mut super::State, host: usize, name: &str, ev: LifecycleEvent) {
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
    select(&mut s, "web-2");
    let (id, _, _) = op_effect(&act(&mut s, Action::Reboot));
    let msg = "Requested operation is not valid: domain is not running".to_string();
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult {
            id,
            result: Err(msg.clone()),
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
    let (_, op, _) = op_effect(&key(&mut s, 'y'));
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
    match &s.view.overlay {
        Some(Overlay::Palette { buf, completions }) => {
            assert_eq!(buf, "start web-");
            assert_eq!(completions, &["start web-1", "start web-2"]);
        }
        other => panic!("{other:?}"),
    }
    key(&mut s, '2');
    let (_, op, name) = op_effect(&update(&mut s, Msg::Input(InputKey::Enter), T0));
    assert_eq!((op, name.as_str()), (Op::Start, "web-2"));

    act(&mut s, Action::Palette);
    for c in "start web-3".chars() {
        key(&mut s, c);
    }
    assert!(update(&mut s, Msg::Input(InputKey::Enter), T0).is_empty());
    let f = s.flash.clone().unwrap().text;
    assert!(f.contains("\"web-3\"") && f.contains("web-1"), "{f}");
}

#[test]
fn palette_connect_adds_a_host() {
    let mut s = state();
    act(&mut s, Action::Palette);
    for c in "connect test:///default".chars() {
        key(&mut s, c);
    }
    let eff = update(&mut s, Msg::Input(InputKey::Enter), T0);
    assert_eq!(
        eff,
        vec![Effect::Connect {
            host: 2,
            uri: "test:///default".into()
        }]
    );
    assert_eq!(s.hosts[2].label, "test");
    assert_eq!(s.hosts[2].status, ConnStatus::Connecting);
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
            status: st,
        }),
        T0 + 9_000,
    );
    assert_eq!(
        s.hosts[1].since_ms,
        T0 + 5_000,
        "a retry does not reset the clock"
    );
}

fn cpu_sample(ns: u64) -> CounterSample {
    let mut c = CounterSample::new("0-web-1", VmState::Running);
    c.cpu_time_ns = Some(ns);
    c.vcpus = 2;
    c
}

fn samples(s: &mut super::State, t: i64, ns: u64) -> Vec<Effect> {
    update(
        s,
        Msg::Provider(ProviderEvent::Samples {
            host: 0,
            ts_ms: T0 + t,
            samples: vec![cpu_sample(ns)],
        }),
        T0 + t,
    )
}

fn web1(s: &super::State) -> &super::state::VmEntry {
    &s.vms[&VmId {
        host: 0,
        uuid: "0-web-1".into(),
    }]
}

#[test]
fn samples_become_cpu_percent_and_history_points() {
    let mut s = state();
    let first = samples(&mut s, 0, 0);
    assert!(
        first.iter().all(|e| !matches!(e, Effect::Record(_))),
        "one sample gives no rate yet: {first:?}"
    );
    assert!(
        first.iter().any(|e| matches!(e, Effect::WarmDetectors { entity, .. } if entity == "vm/qemu:///system/0-web-1")),
        "a new VM's anomaly detectors ask for history: {first:?}"
    );
    let eff = samples(&mut s, 5_000, 5_000_000_000);
    assert_eq!(web1(&s).metrics.live.value(Metric::CpuPct), Some(50.0));
    let Some(Effect::Record(points)) = eff.iter().find(|e| matches!(e, Effect::Record(_))) else {
        panic!("{eff:?}")
    };
    let cpu = points.iter().find(|p| p.metric == "cpu_pct").unwrap();
    assert_eq!(cpu.entity, "vm/qemu:///system/0-web-1");
    assert_eq!((cpu.ts_ms, cpu.value), (T0 + 5_000, 50.0));
}

#[test]
fn a_value_older_than_two_intervals_is_stale() {
    let mut s = state();
    samples(&mut s, 0, 0);
    samples(&mut s, 5_000, 5_000_000_000);
    let cad = s.settings.cadence;
    assert!(!web1(&s)
        .metrics
        .live
        .is_stale(Metric::CpuPct, T0 + 15_000, &cad));
    assert!(web1(&s)
        .metrics
        .live
        .is_stale(Metric::CpuPct, T0 + 15_001, &cad));
}

#[test]
fn detail_loads_history_then_extends_it_live_unless_frozen() {
    let mut s = state();
    select(&mut s, "web-1");
    let eff = act(&mut s, Action::OpenDetail);
    let request = eff
        .iter()
        .find_map(|e| match e {
            Effect::LoadHistory {
                request,
                entity,
                from_ms,
                to_ms,
                ..
            } => {
                assert_eq!(entity, "vm/qemu:///system/0-web-1");
                assert_eq!(to_ms - from_ms, 5 * 60_000, "default range 5m");
                Some(*request)
            }
            _ => None,
        })
        .expect("history request");
    update(
        &mut s,
        Msg::History {
            request,
            series: vec![(Metric::CpuPct, vec![(T0 - 60_000, 10.0)])],
        },
        T0,
    );
    samples(&mut s, 0, 0);
    samples(&mut s, 5_000, 5_000_000_000);
    assert_eq!(
        s.charts.series[&Metric::CpuPct],
        vec![(T0 - 60_000, 10.0), (T0 + 5_000, 50.0)]
    );
    act(&mut s, Action::Freeze);
    samples(&mut s, 10_000, 10_000_000_000);
    assert_eq!(
        s.charts.series[&Metric::CpuPct].len(),
        2,
        "frozen: no live appends"
    );
    let eff = act(&mut s, Action::ZoomOut);
    assert!(
        eff.iter().any(|e| matches!(e, Effect::LoadHistory { from_ms, to_ms, .. } if to_ms - from_ms == 3_600_000)),
        "- widens to 1h: {eff:?}"
    );
}

#[test]
fn stale_history_answers_are_ignored() {
    let mut s = state();
    act(&mut s, Action::OpenDetail);
    act(&mut s, Action::ZoomOut);
    let old = s.charts.request - 1;
    update(
        &mut s,
        Msg::History {
            request: old,
            series: vec![(Metric::CpuPct, vec![(T0, 1.0)])],
        },
        T0,
    );
    assert!(s.charts.series.is_empty());
}

#[test]
fn the_detail_vm_is_watched_for_fast_monitor_stats() {
    let mut s = state();
    assert!(
        s.watched.values().all(Vec::is_empty),
        "the table needs only the cheap tier"
    );
    let eff = act(&mut s, Action::OpenDetail);
    assert!(eff.iter().any(|e| matches!(e,
        Effect::Provider { host: 0, cmd: ProviderCmd::Watch(u) } if u == &vec!["0-batch".to_string()])));
    let eff = act(&mut s, Action::Back);
    assert!(eff.iter().any(|e| matches!(e,
        Effect::Provider { host: 0, cmd: ProviderCmd::Watch(u) } if u.is_empty())));
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
}

#[test]
fn quit_and_sigterm_both_end_the_loop() {
    let mut s = state();
    assert_eq!(act(&mut s, Action::Quit), vec![Effect::Quit]);
    let mut s = state();
    assert_eq!(update(&mut s, Msg::Terminate, T0), vec![Effect::Quit]);
    assert!(s.quit);
}

fn forecast_request(eff: &[Effect]) -> (u64, &'static str, usize, String) {
    eff.iter()
        .find_map(|e| match e {
            Effect::LoadForecast {
                request,
                metric,
                horizon_rows,
                entity,
            } => Some((*request, *metric, *horizon_rows, entity.clone())),
            _ => None,
        })
        .expect("a forecast request")
}

#[test]
fn forecast_opens_cycles_metrics_and_horizons() {
    let mut s = state();
    select(&mut s, "web-1");
    let (r1, metric, rows, entity) = forecast_request(&act(&mut s, Action::Forecast));
    assert_eq!(
        (metric, rows, entity.as_str()),
        ("cpu_pct", 72, "vm/qemu:///system/0-web-1")
    );
    assert_eq!(s.view.screen, super::state::Screen::Forecast);
    let (r2, metric, _, _) = forecast_request(&act(&mut s, Action::CycleMetric));
    assert_eq!(metric, "mem_used_bytes");
    assert!(r2 > r1);
    let (_, _, rows, _) = forecast_request(&act(&mut s, Action::ZoomOut));
    assert_eq!(rows, 288, "- lengthens the horizon to 24h");
    // An answer to an older request is dropped.
    update(
        &mut s,
        Msg::Forecast {
            request: r1,
            result: Err("late".into()),
        },
        T0,
    );
    assert_eq!(s.forecast.error, None);
    let current = s.forecast.request;
    update(
        &mut s,
        Msg::Forecast {
            request: current,
            result: Err("no history of mem_used_bytes yet".into()),
        },
        T0,
    );
    assert!(s.forecast.error.as_deref().unwrap().contains("no history"));
    assert!(!s.forecast.loading);
}

#[test]
fn forecast_of_the_host_from_the_host_pane_and_by_palette() {
    let mut s = state();
    act(&mut s, Action::Hosts);
    let (_, metric, _, entity) = forecast_request(&act(&mut s, Action::Forecast));
    assert_eq!(
        (metric, entity.as_str()),
        ("cpu_pct", "host/qemu:///system")
    );
    act(&mut s, Action::Back);
    act(&mut s, Action::Palette);
    for c in "forecast db-main".chars() {
        key(&mut s, c);
    }
    let (_, _, _, entity) = forecast_request(&update(&mut s, Msg::Input(InputKey::Enter), T0));
    assert_eq!(entity, "vm/qemu:///system/0-db-main");
}

#[test]
fn an_anomaly_is_journaled_marked_and_cleared() {
    let mut s = state();
    let week: Vec<f64> = (0..2016)
        .map(|i| 20.0 + f64::from((i * 7919) % 13))
        .collect();
    update(
        &mut s,
        Msg::DetectorHistory {
            entity: "vm/qemu:///system/0-web-1".into(),
            series: vec![(Metric::CpuPct, week)],
        },
        T0,
    );
    // Two vCPUs: CPU % = ns per 5 s / 1e8. Rows of 5 minutes; the row decides when it closes.
    let mut ns = 0u64;
    let mut t = 0i64;
    let mut feed = |s: &mut super::State, pct: u64| {
        for _ in 0..60 {
            ns += pct * 100_000_000;
            t += 5_000;
            samples(s, t, ns);
        }
    };
    feed(&mut s, 25);
    feed(&mut s, 25);
    feed(&mut s, 99);
    let entity = "vm/qemu:///system/0-web-1";
    assert!(
        s.anomalies.any(entity),
        "the 99 % row raised an alarm when the next row began"
    );
    let line = s
        .journal
        .iter()
        .find(|j| j.what.starts_with("unusual: cpu"))
        .expect("journaled");
    assert!(line.what.contains("above"), "{}", line.what);
    feed(&mut s, 25);
    assert!(!s.anomalies.any(entity), "back to normal");
    assert!(s.journal.iter().any(|j| j.what == "cpu_pct back to normal"));
}
