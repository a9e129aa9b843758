//! Reducer tests for metrics and charts (forecasts: `forecast_view_tests`; anomalies:
//! `anomaly_tests`).

use super::fixtures::{state, T0};
use super::update_tests::{act, select};
use super::{update, Action, Effect, Msg};
use crate::domain::{CounterSample, Metric, VmId, VmState};
use crate::provider::{ProviderCmd, ProviderEvent};

fn cpu_sample(ns: u64) -> CounterSample {
    let mut c = CounterSample::new("0-web-1", VmState::Running);
    c.cpu_time_ns = Some(ns);
    c.vcpus = 2;
    c
}

pub(super) fn samples(s: &mut super::State, t: i64, ns: u64) -> Vec<Effect> {
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
        first.iter().any(
            |e| matches!(e, Effect::WarmDetectors { entity, metrics, .. }
            if entity == "vm/qemu:///system/0-web-1"
                && metrics.iter().any(|(m, c)| *m == Metric::DiskWrBps && c.min_scale > 0.0))
        ),
        "a new VM's anomaly detectors ask for history, with their settings: {first:?}"
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
            spread: Vec::new(),
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
fn a_freeze_holds_the_charts_it_was_pressed_on_only() {
    let mut s = state();
    // The table has no charts: f says so and freezes nothing for later.
    act(&mut s, Action::Freeze);
    assert!(!s.charts.frozen);
    assert!(s
        .flash
        .as_ref()
        .unwrap()
        .text
        .contains("none are shown here"));
    act(&mut s, Action::OpenDetail);
    act(&mut s, Action::Freeze);
    assert!(s.charts.frozen);
    // Back to the table and on to the host pane: its charts are live.
    act(&mut s, Action::Back);
    act(&mut s, Action::Hosts);
    assert!(!s.charts.frozen);
    act(&mut s, Action::Freeze);
    assert!(s.charts.frozen);
    // Another host is other charts.
    act(&mut s, Action::Down);
    assert!(!s.charts.frozen);
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
            spread: Vec::new(),
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
fn a_longer_range_keeps_the_peaks_its_averages_smooth_away() {
    use super::charts::summary;
    let mut s = state();
    select(&mut s, "web-1");
    act(&mut s, Action::OpenDetail);
    act(&mut s, Action::ZoomOut);
    let request = s.charts.request;
    // Two buckets averaging 50 and 60 %, their samples reaching 2 % and 99 %.
    update(
        &mut s,
        Msg::History {
            request,
            series: vec![(
                Metric::CpuPct,
                vec![(T0 - 3_000_000, 50.0), (T0 - 1_200_000, 60.0)],
            )],
            spread: vec![(
                Metric::CpuPct,
                vec![(T0 - 3_000_000, 2.0, 70.0), (T0 - 1_200_000, 40.0, 99.0)],
            )],
        },
        T0,
    );
    // A live sample after the history (5 % of two vCPUs): its own low and high.
    samples(&mut s, 0, 0);
    samples(&mut s, 60_000, 6_000_000_000);
    let c = &s.charts;
    let (pts, spread) = (&c.series[&Metric::CpuPct], &c.spread[&Metric::CpuPct]);
    assert_eq!(pts.len(), spread.len(), "point for point");
    let (cur, min, max, _) = summary(pts, spread).unwrap();
    assert_eq!(
        (min, max),
        (2.0, 99.0),
        "the buckets' extremes, not their averages"
    );
    assert!((cur - 5.0).abs() < 1e-9, "{cur}");
}
