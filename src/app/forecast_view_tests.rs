//! Reducer tests for the forecast view (F) and the capacity and recommendations panes it is
//! opened from: requests, refreshes, what a missing forecast says, and the keys there.

use super::analysis_tests::samples;
use super::fixtures::{state, T0};
use super::update_tests::{act, key, select};
use super::{update, Action, Effect, InputKey, Msg};
use crate::analysis::{not_yet, ForecastError};

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

#[test]
fn forecast_in_the_palette_completes_hosts_too_and_says_so_in_its_usage() {
    let s = state();
    // A forecast is of a VM or a host.
    let label = s.host_label(1).to_string();
    assert!(
        super::palette::completions(&s, "forecast ").contains(&format!("forecast {label}")),
        "{:?}",
        super::palette::completions(&s, "forecast ")
    );
    assert!(super::palette::parse("forecast a b")
        .unwrap_err()
        .contains("usage: forecast [NAME|HOST]"));
}
