//! Reducer tests for metrics, charts and forecasts (anomalies: `anomaly_tests`).

use super::fixtures::{state, T0};
use super::update_tests::{act, key, select};
use super::{update, Action, Effect, InputKey, Msg};
use crate::analysis::{not_yet, ForecastError};
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

pub(super) fn forecast_request(eff: &[Effect]) -> (u64, &'static str, usize, String) {
    eff.iter()
        .find_map(|e| match e {
            Effect::LoadForecast {
                request,
                metric,
                horizon_rows,
                entity,
                ..
            } => Some((*request, *metric, *horizon_rows, entity.clone())),
            _ => None,
        })
        .expect("a forecast request")
}

#[test]
fn moving_keys_in_the_forecast_leave_the_hidden_table_alone() {
    let mut s = state();
    select(&mut s, "web-1");
    act(&mut s, Action::Forecast);
    let cursor = s.view.cursor;
    for a in [
        Action::Down,
        Action::Up,
        Action::PageDown,
        Action::Bottom,
        Action::Top,
    ] {
        act(&mut s, a);
        act(&mut s, Action::Down);
        assert_eq!(
            s.view.cursor, cursor,
            "{a:?} moved the VM table's cursor unseen"
        );
    }
    assert!(s
        .flash
        .as_ref()
        .is_some_and(|f| f.text.contains("no rows to move")));
    act(&mut s, Action::Back);
    assert_eq!(s.selected().map(|e| e.vm.name.as_str()), Some("web-1"));
}

/// A capacity report of one host: cpu, memory and a pool, at 10 %.
fn three_rows() -> crate::analysis::capacity::CapacityReport {
    let row = |resource: &str| {
        crate::analysis::capacity::CapacityRow::bare("qemu:///system", resource, Some(10.0))
    };
    crate::analysis::capacity::CapacityReport {
        rows: vec![row("cpu"), row("memory"), row("pool a")],
        headroom: Vec::new(),
        threshold_pct: 90.0,
        step_ms: 300_000,
    }
}

/// `C` at `at`, answered with [`three_rows`]; the request it answered.
fn open_three_rows(s: &mut super::State, at: i64) -> u64 {
    let eff = update(s, Msg::Action(Action::Capacity), at);
    let Some(Effect::LoadCapacity { request, .. }) = eff.first().cloned() else {
        panic!("{eff:?}");
    };
    let report = three_rows();
    update(s, Msg::Capacity { request, report }, at);
    request
}

#[test]
fn capacity_and_recommendations_keep_their_own_rows() {
    let mut s = state();
    open_three_rows(&mut s, T0);
    act(&mut s, Action::Bottom);
    act(&mut s, Action::Rightsize);
    let vm = crate::analysis::rightsize::RightsizeRow {
        name: "web-1".into(),
        host: "h".into(),
        recommendation: None,
        savings: None,
        samples: 0,
        collecting: false,
        note: None,
    };
    s.reports.rightsize = Some(vec![vm; 3]);
    act(&mut s, Action::Down);
    assert_eq!(s.reports.rightsize_row, 1);
    // Keys of other panes say where they work instead of doing nothing unseen.
    for (a, says) in [
        (Action::ZoomIn, "+ and - change"),
        (Action::CycleMetric, "tab switches"),
    ] {
        let range = s.charts.range_idx;
        assert!(act(&mut s, a).is_empty());
        assert!(
            s.flash.as_ref().is_some_and(|f| f.text.starts_with(says)),
            "{a:?}"
        );
        assert_eq!(s.charts.range_idx, range);
    }
    act(&mut s, Action::Back);
    assert_eq!(s.view.screen, super::state::Screen::Capacity);
    assert_eq!(s.reports.capacity_row, 2, "back on the row it was on");
}

#[test]
fn a_memory_forecast_is_asked_to_stop_at_the_vms_maximum() {
    let mut s = state();
    select(&mut s, "web-1");
    act(&mut s, Action::Forecast);
    let ceiling = |eff: &[Effect]| match eff.first() {
        Some(Effect::LoadForecast { ceiling, .. }) => *ceiling,
        other => panic!("{other:?}"),
    };
    let id = s.selected().map(|e| e.vm.id.clone()).unwrap();
    let source = |s: &mut super::State, m| {
        s.vms.get_mut(&id).unwrap().metrics.rates.mem_source = Some(m);
    };
    source(&mut s, crate::domain::MemSource::Guest);
    let mem = act(&mut s, Action::CycleMetric);
    assert_eq!(
        ceiling(&mem),
        Some(2048.0 * 1024.0 * 1024.0),
        "web-1 has 2 GiB"
    );
    assert_eq!(
        ceiling(&act(&mut s, Action::CycleMetric)),
        None,
        "disk writes"
    );
    // QEMU's RSS, read when the guest gives no figure, has no such ceiling.
    source(&mut s, crate::domain::MemSource::Rss);
    for _ in 0..3 {
        act(&mut s, Action::CycleMetric);
    }
    assert_eq!(s.forecast.metric, crate::domain::Metric::MemUsedBytes);
    assert_eq!(ceiling(&act(&mut s, Action::ZoomOut)), None);
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
            result: Err(ForecastError::Unavailable("late".into())),
        },
        T0,
    );
    assert_eq!(s.forecast.error, None);
    let current = s.forecast.request;
    update(
        &mut s,
        Msg::Forecast {
            request: current,
            result: Err(not_yet("mem_used_bytes", T0, 0)),
        },
        T0,
    );
    assert!(s
        .forecast
        .error
        .as_ref()
        .unwrap()
        .to_string()
        .contains("no history"));
    assert!(!s.forecast.loading);
}

#[test]
fn open_forecast_and_capacity_follow_each_new_row() {
    use super::forecast_view::analysis_row;
    use crate::analysis::STEP_MS;
    let mut s = state();
    select(&mut s, "web-1");
    let (r1, ..) = forecast_request(&act(&mut s, Action::Forecast));
    let answer = |s: &mut super::State, request| {
        let result = Err(not_yet("cpu_pct", T0, 0));
        update(s, Msg::Forecast { request, result }, T0);
    };
    answer(&mut s, r1);
    // Within the row it was made in, ticks ask nothing again.
    assert!(update(&mut s, Msg::Tick, T0).is_empty());
    // Once the next row can be read (10 s after it ends, when the poller's samples are
    // flushed), the open view is computed again, once, and shows what it had meanwhile.
    let next = (analysis_row(T0) + 1) * STEP_MS + 10_000;
    assert!(
        update(&mut s, Msg::Tick, next - 1).is_empty(),
        "not before the slack"
    );
    let (r2, ..) = forecast_request(&update(&mut s, Msg::Tick, next));
    assert!(r2 > r1);
    assert!(s.forecast.error.is_some(), "kept until the answer");
    assert!(
        update(&mut s, Msg::Tick, next + 1_000).is_empty(),
        "still loading"
    );
    answer(&mut s, r2);
    assert!(update(&mut s, Msg::Tick, next + 2_000).is_empty());

    // The capacity pane likewise, keeping its scroll position.
    update(&mut s, Msg::Action(Action::Back), next);
    let request = open_three_rows(&mut s, next);
    act(&mut s, Action::Down);
    act(&mut s, Action::Down);
    assert_eq!(s.reports.capacity_row, 2);
    assert!(update(&mut s, Msg::Tick, next + 5_000).is_empty());
    let later = next + STEP_MS;
    let eff = update(&mut s, Msg::Tick, later);
    let Some(Effect::LoadCapacity { request: again, .. }) = eff.first().cloned() else {
        panic!("{eff:?}");
    };
    assert!(again > request);
    let report = s.reports.capacity.clone().unwrap();
    update(
        &mut s,
        Msg::Capacity {
            request: again,
            report,
        },
        later,
    );
    assert!(!s.reports.capacity_loading);
    assert_eq!(
        s.reports.capacity_row, 2,
        "the refresh keeps the scroll position"
    );
    // A shorter answer brings the scroll back to its last row.
    let mut shorter = s.reports.capacity.clone().unwrap();
    shorter.rows.truncate(1);
    let eff = update(&mut s, Msg::Tick, later + STEP_MS);
    let Some(Effect::LoadCapacity { request: third, .. }) = eff.first().cloned() else {
        panic!("{eff:?}");
    };
    update(
        &mut s,
        Msg::Capacity {
            request: third,
            report: shorter,
        },
        later + STEP_MS,
    );
    assert_eq!(s.reports.capacity_row, 0);
    // Recommendations answering does not end the capacity request's wait.
    let eff = update(&mut s, Msg::Tick, later + 2 * STEP_MS);
    assert!(
        matches!(eff.first(), Some(Effect::LoadCapacity { .. })),
        "{eff:?}"
    );
    let request = s.reports.rightsize_request;
    update(
        &mut s,
        Msg::Rightsize {
            request,
            rows: Vec::new(),
            currency: String::new(),
        },
        later + 2 * STEP_MS,
    );
    assert!(s.reports.capacity_loading);
    // Nothing is asked for a pane that is closed.
    s.reports.capacity_loading = false;
    update(&mut s, Msg::Action(Action::Back), later);
    assert!(update(&mut s, Msg::Tick, later + 9 * STEP_MS).is_empty());
}

#[test]
fn a_forecast_opened_before_the_first_sample_asks_again_soon() {
    let mut s = state();
    // The poller has read web-1's CPU: this console records it.
    samples(&mut s, 0, 0);
    samples(&mut s, 5_000, 5_000_000_000);
    select(&mut s, "web-1");
    let (r1, ..) = forecast_request(&act(&mut s, Action::Forecast));
    let result = Err(ForecastError::NothingRecorded("cpu".into()));
    update(
        &mut s,
        Msg::Forecast {
            request: r1,
            result,
        },
        T0,
    );
    assert!(update(&mut s, Msg::Tick, T0 + 9_000).is_empty());
    // web-1 runs and this console records it: not "nothing in two weeks", but on its way.
    let said = s
        .forecast
        .error
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(said.contains("first samples are being written"), "{said}");
    // The console's first samples land within seconds: the view does not wait 5 minutes.
    let (r2, ..) = forecast_request(&update(&mut s, Msg::Tick, T0 + 10_000));
    assert!(r2 > r1);
    // A read-only console records nothing: it says what it found.
    s.settings.read_only = true;
    let result = Err(ForecastError::NothingRecorded("cpu".into()));
    update(
        &mut s,
        Msg::Forecast {
            request: r2,
            result,
        },
        T0 + 10_000,
    );
    assert_eq!(
        s.forecast.error,
        Some(ForecastError::NothingRecorded("cpu".into()))
    );
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
    // A host by its label, and bare: what F forecasts where the palette was opened (back
    // in the host pane, its host).
    for (line, want) in [
        ("forecast kvm2", "host/qemu+ssh://kvm2/system"),
        ("forecast", "host/qemu:///system"),
    ] {
        act(&mut s, Action::Back);
        act(&mut s, Action::Palette);
        for c in line.chars() {
            key(&mut s, c);
        }
        let (_, _, _, entity) = forecast_request(&update(&mut s, Msg::Input(InputKey::Enter), T0));
        assert_eq!(entity, want, ":{line}");
    }
    // By UUID, as virsh takes one; a number says what the palette takes.
    act(&mut s, Action::Back);
    act(&mut s, Action::Palette);
    for c in "forecast 0-DB-main".chars() {
        key(&mut s, c);
    }
    let (_, _, _, entity) = forecast_request(&update(&mut s, Msg::Input(InputKey::Enter), T0));
    assert_eq!(entity, "vm/qemu:///system/0-db-main");
    act(&mut s, Action::Back);
    act(&mut s, Action::Palette);
    for c in "forecast 92".chars() {
        key(&mut s, c);
    }
    assert!(update(&mut s, Msg::Input(InputKey::Enter), T0).is_empty());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.starts_with("no VM or host named \"92\"")
                && f.text.contains("or a host's label or URI")),
        "{:?}",
        s.flash
    );
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

#[test]
fn a_vm_without_disks_has_no_disk_forecast_and_says_why() {
    let mut s = state();
    select(&mut s, "web-1");
    for e in s.vms.values_mut().filter(|e| e.vm.name == "web-1") {
        e.vm.disks.clear();
    }
    forecast_request(&act(&mut s, Action::Forecast));
    act(&mut s, Action::CycleMetric);
    let (request, metric, ..) = forecast_request(&act(&mut s, Action::CycleMetric));
    assert_eq!(metric, "disk_wr_bps");
    let result = Err(ForecastError::NothingRecorded("disk writes".into()));
    update(&mut s, Msg::Forecast { request, result }, T0);
    assert_eq!(
        s.forecast
            .error
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("web-1 has no disks attached: no disk writes to forecast")
    );
    // web-1 has a network interface (but no figure for it yet): the store's own message.
    let (request, ..) = forecast_request(&act(&mut s, Action::CycleMetric));
    let result = Err(ForecastError::NothingRecorded("network in".into()));
    update(&mut s, Msg::Forecast { request, result }, T0);
    assert_eq!(
        s.forecast.error,
        Some(ForecastError::NothingRecorded("network in".into())),
        "web-1 has a network interface"
    );
}
