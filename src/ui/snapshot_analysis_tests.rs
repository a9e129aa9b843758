//! Snapshot tests of the analytics screens (forecast, capacity, recommendations) at 80×24.
#![allow(clippy::cast_precision_loss)]

use super::snapshot_tests::draw;
use crate::app::fixtures::{state, T0};
use crate::app::{update, Action, Msg, State};

fn mix_part(
    first_step: usize,
    last_step: usize,
    members: &[(&str, f64)],
) -> crate::analytics::forecast::mix::MixPart {
    crate::analytics::forecast::mix::MixPart {
        first_step,
        last_step,
        members: members
            .iter()
            .map(|(m, share)| crate::analytics::forecast::mix::MemberShare {
                member: (*m).to_string(),
                share: *share,
            })
            .collect(),
    }
}

#[test]
fn forecast_view_with_bands() {
    use crate::analysis::{ForecastResult, STEP_MS};
    use crate::analytics::forecast::{Forecast, ModelKind};
    let mut s = state();
    update(&mut s, Msg::Action(Action::Bottom), T0);
    let eff = update(&mut s, Msg::Action(Action::Forecast), T0);
    let Some(crate::app::Effect::LoadForecast {
        request,
        metric,
        horizon_rows,
        ..
    }) = eff.first().cloned()
    else {
        panic!("{eff:?}")
    };
    assert_eq!((metric, horizon_rows), ("cpu_pct", 72));
    let history: Vec<(i64, f64)> = (0..144)
        .map(|i| {
            (
                T0 - (144 - i) * STEP_MS,
                40.0 + 10.0 * ((i as f64) / 20.0).sin(),
            )
        })
        .collect();
    let point: Vec<f64> = (0..72).map(|i| 45.0 + 0.1 * f64::from(i)).collect();
    let w = |k: f64| {
        point
            .iter()
            .enumerate()
            .map(|(i, p)| p + k * (1.0 + i as f64 / 10.0))
            .collect::<Vec<_>>()
    };
    let forecast = Forecast {
        model: ModelKind::Auto,
        lo80: w(-2.0),
        hi80: w(2.0),
        lo95: w(-3.0),
        hi95: w(3.0),
        point: point.clone(),
        mix: vec![
            mix_part(
                1,
                12,
                &[
                    ("median over up to 36 rows", 0.52),
                    ("holt", 0.3),
                    ("daily profile", 0.18),
                ],
            ),
            mix_part(
                13,
                72,
                &[("median over up to 288 rows", 0.6), ("daily profile", 0.4)],
            ),
        ],
    };
    let (rows_used, last_row_ms) = (history.len(), history.last().map(|(t, _)| *t));
    let result = Ok(ForecastResult {
        entity: "vm/qemu+ssh://kvm2/system/1-web-2".into(),
        metric: "cpu_pct".into(),
        start_ms: T0,
        history,
        forecast,
        backtest_mase: Some(0.74),
        backtest_smape: Some(6.3),
        backtest_origins: 24,
        gap_rows: 0,
        rows_used,
        last_row_ms,
    });
    update(&mut s, Msg::Forecast { request, result }, T0);
    insta::assert_snapshot!(draw(&s, 80, 24));
    // Running, but with no rows for a while: the title says since when.
    let web1 = s.vms.values().find(|e| e.vm.name == "web-1").unwrap();
    s.forecast.vm = Some(web1.vm.id.clone());
    s.forecast.result.as_mut().unwrap().gap_rows = 72;
    let text = draw(&s, 80, 24);
    assert!(text.contains("(no rows since 11:55)"), "{text}");
}

/// The capacity pane open on a report of five rows over two hosts.
fn capacity_state() -> State {
    use crate::analysis::capacity::{CapacityReport, CapacityRow, HostHeadroom};
    use crate::analytics::capacity::{Crossing, Headroom, Limit, VmShape};
    use crate::analytics::forecast::ModelKind;
    let mut s = state();
    let eff = update(&mut s, Msg::Action(Action::Capacity), T0);
    let Some(crate::app::Effect::LoadCapacity { request, hosts }) = eff.first().cloned() else {
        panic!("{eff:?}")
    };
    assert_eq!(hosts.len(), 2);
    assert_eq!(
        hosts[0].vcpus_allocated, 7,
        "web-1, db-main and the paused batch all hold their vCPUs"
    );
    let crossing = |expected, earliest, latest| Crossing {
        threshold: 90.0,
        rising: true,
        already: false,
        expected,
        earliest,
        latest,
        horizon: 2016,
        model: ModelKind::Auto,
    };
    let row = |host: &str, resource: &str, now: f64, c: Option<Crossing>| CapacityRow {
        crossing: c,
        ..CapacityRow::bare(host, resource, Some(now))
    };
    let shape = VmShape {
        vcpus: 2,
        memory_bytes: 4 << 30,
    };
    let report = CapacityReport {
        rows: vec![
            row(
                "qemu:///system",
                "pool images",
                84.2,
                Some(crossing(Some(40), Some(12), Some(300))),
            ),
            CapacityRow {
                level_shift_ms: Some(1_700_000_000_000),
                basis: Some("since a +12.0 pt step 1d 4h ago".into()),
                ..row(
                    "qemu:///system",
                    "memory",
                    71.0,
                    Some(crossing(Some(900), Some(400), None)),
                )
            },
            row(
                "qemu+ssh://kvm2/system",
                "cpu",
                12.0,
                Some(crossing(None, None, None)),
            ),
            CapacityRow {
                current_pct: None,
                note: Some("first data 07:45 UTC".into()),
                ..row("qemu+ssh://kvm2/system", "pool new", 0.0, None)
            },
            CapacityRow {
                current_pct: None,
                note: Some("no rows since 01:15 UTC (6h ago)".into()),
                ..row("qemu+ssh://kvm2/system", "memory", 0.0, None)
            },
        ],
        headroom: vec![
            HostHeadroom {
                host: "qemu:///system".into(),
                headroom: Some(Headroom {
                    fits: 3,
                    limited_by: Limit::Memory,
                    shape,
                }),
                text: "room for 3 more 2 vCPU / 4 GiB VMs".into(),
            },
            HostHeadroom {
                host: "qemu+ssh://kvm2/system".into(),
                headroom: Some(Headroom {
                    fits: 11,
                    limited_by: Limit::Cpu,
                    shape,
                }),
                text: "room for 11 more 2 vCPU / 4 GiB VMs by allocation (vCPUs run out first), \
                       but cpu 95.0% already past 90%"
                    .into(),
            },
        ],
        threshold_pct: 90.0,
        step_ms: 300_000,
    };
    update(&mut s, Msg::Capacity { request, report }, T0);
    s
}

#[test]
fn capacity_sorted_by_time_to_exhaustion_with_headroom() {
    insta::assert_snapshot!(draw(&capacity_state(), 80, 24));
}

#[test]
fn a_capacity_note_longer_than_its_column_wraps_in_its_row() {
    let screen = draw(&capacity_state(), 80, 24);
    let rows: Vec<&str> = screen.lines().collect();
    let at = rows
        .iter()
        .position(|l| l.contains("no rows since"))
        .expect(&screen);
    // Cut at the column before; now it goes on in the same column on the row's next line.
    let col = rows[at].find("no rows").unwrap();
    let cell = |l: &str| {
        let t = l.get(col..).unwrap_or_default();
        t.trim_end_matches('"')
            .trim_end_matches('│')
            .trim()
            .to_string()
    };
    assert_eq!(
        format!("{} {}", cell(rows[at]), cell(rows[at + 1])),
        "no rows since 01:15 UTC (6h ago)",
        "{screen}"
    );
}

#[test]
fn capacity_rows_are_selected_and_kept_in_view() {
    let mut s = capacity_state();
    // j never goes past the last row; g and G go to the first and the last.
    let rows = s.reports.capacity.as_ref().unwrap().rows.len();
    for _ in 0..rows + 3 {
        update(&mut s, Msg::Action(Action::Down), T0);
    }
    assert_eq!(s.reports.capacity_row, rows - 1);
    // j selects; when every row fits, none scrolls out of view.
    let screen = draw(&s, 80, 24);
    assert!(
        screen.contains("pool images") && screen.contains("pool new"),
        "{screen}"
    );
    // With more rows than fit, the selected last row is kept in view and the first goes.
    let mut long = s.clone();
    if let Some(c) = long.reports.capacity.as_mut() {
        let filler = c.rows[1].clone();
        c.rows.splice(1..1, std::iter::repeat_n(filler, 30));
    }
    update(&mut long, Msg::Action(Action::Bottom), T0);
    let screen = draw(&long, 80, 24);
    assert!(
        screen.contains("pool new") && !screen.contains("pool images"),
        "{screen}"
    );
    update(&mut s, Msg::Action(Action::Top), T0);
    assert_eq!(s.reports.capacity_row, 0);
    update(&mut s, Msg::Action(Action::Bottom), T0);
    assert_eq!(s.reports.capacity_row, rows - 1);
}

#[test]
fn recommendations_idle_first_with_evidence_and_money() {
    insta::assert_snapshot!(draw(&recommendations(), 80, 24));
}

#[test]
fn recommendations_show_the_sizing_quantile_and_the_whole_evidence() {
    let mut s = recommendations();
    let rows = s.reports.rightsize.as_mut().unwrap();
    for rec in rows.iter_mut().filter_map(|r| r.recommendation.as_mut()) {
        rec.quantile = 0.5;
    }
    let rec = rows[1].recommendation.as_mut().unwrap();
    rec.cpu_sized = 15.5;
    rec.reason = format!(
        "{}; then the end of a long evidence line",
        "words ".repeat(40)
    );
    update(&mut s, Msg::Action(Action::Down), T0);
    let screen = draw(&s, 80, 24);
    assert!(
        screen.contains("CPU50") && screen.contains("MEM50"),
        "{screen}"
    );
    assert!(
        screen.contains("15.5%") && !screen.contains("31.0%"),
        "{screen}"
    );
    assert!(
        screen.contains("long evidence line (2016 rows of 5 min)"),
        "{screen}"
    );
}

/// The recommendations pane with an idle VM, an oversized one and one without data.
fn recommendations() -> crate::app::State {
    use crate::analysis::rightsize::RightsizeRow;
    use crate::analytics::rightsize::{Percentiles, Recommendation, Savings};
    let mut s = state();
    let eff = update(&mut s, Msg::Action(Action::Rightsize), T0);
    let Some(crate::app::Effect::LoadRightsize { request, vms }) = eff.first().cloned() else {
        panic!("{eff:?}")
    };
    assert_eq!(vms.len(), 4);
    let p = |p95: f64| Percentiles {
        p50: p95 / 2.0,
        p95,
        p99: p95 * 1.1,
        max: p95 * 1.2,
    };
    let rec = |cur: u32, vcpus: u32, cur_mem: u64, mem: u64, cpu: f64, idle: bool, reason: &str| {
        Recommendation {
            cpu: p(cpu),
            memory: p(1.5e9),
            quantile: 0.95,
            cpu_sized: cpu,
            memory_sized: 1.5e9,
            current_vcpus: cur,
            current_memory_bytes: cur_mem,
            vcpus,
            memory_bytes: mem,
            idle,
            reason: reason.into(),
        }
    };
    let rows = vec![
        RightsizeRow {
            name: "batch-nightly-reporting-worker-eu-west".into(),
            host: "local".into(),
            recommendation: Some(rec(
                1,
                1,
                512 << 20,
                512 << 20,
                0.4,
                true,
                "idle: CPU p95 0.4 % and network p95 12 B/s over 2016 rows of 5 min",
            )),
            savings: Some(Savings {
                current_monthly: 18.0,
                recommended_monthly: 0.0,
                monthly_savings: 18.0,
                instance_type: None,
            }),
            samples: 2016,
            collecting: false,
            note: None,
        },
        RightsizeRow {
            name: "db-main".into(),
            host: "local".into(),
            recommendation: Some(rec(
                4,
                2,
                8 << 30,
                2 << 30,
                31.0,
                false,
                "CPU p95 31.0 % of 4 vCPU → 2 vCPU; memory p95 1.4 GiB → 2.0 GiB",
            )),
            savings: Some(Savings {
                current_monthly: 88.0,
                recommended_monthly: 33.0,
                monthly_savings: 55.0,
                instance_type: None,
            }),
            samples: 2016,
            collecting: false,
            note: None,
        },
        RightsizeRow {
            name: "web-2".into(),
            host: "kvm2".into(),
            recommendation: None,
            savings: None,
            samples: 0,
            collecting: false,
            note: Some("no CPU usage recorded in the window".into()),
        },
    ];
    update(
        &mut s,
        Msg::Rightsize {
            request,
            rows,
            currency: "€".into(),
        },
        T0,
    );
    s
}
