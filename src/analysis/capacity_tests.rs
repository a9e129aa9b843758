//! Tests of the capacity job.

use super::*;
use crate::store::{MemoryStore, Sample, SeriesKey, StoreConfig};

const NOW: i64 = 1_795_435_200_000; // 2026-11-23 12:00:00 UTC

fn sample(entity: &str, metric: &str, ts_ms: i64, value: f64) -> (SeriesKey, Sample) {
    (SeriesKey::new(entity, metric), Sample { ts_ms, value })
}

/// One sample per 5-minute row, the last `rows` rows before `NOW`, of `value(row)`.
fn rows_before_now(
    entity: &str,
    metric: &str,
    rows: i64,
    value: impl Fn(f64) -> f64,
) -> Vec<(SeriesKey, Sample)> {
    (0..rows)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let v = value(i as f64);
            sample(entity, metric, NOW - (rows - i) * STEP_MS + 1_000, v)
        })
        .collect()
}

fn store_of(batch: &[(SeriesKey, Sample)]) -> MemoryStore {
    let mut store = MemoryStore::new(StoreConfig::default());
    store.append(batch).unwrap();
    store.flush().unwrap();
    store
}

/// The capacity row of `resource` of a host "h" (8 CPUs, 32 GiB) with history `batch`.
fn row_of(batch: &[(SeriesKey, Sample)], resource: &str) -> CapacityRow {
    let r = capacity(
        &store_of(batch),
        &[host(0, 0, Vec::new())],
        &CapacitySettings::default(),
        NOW,
        0,
    );
    r.rows.into_iter().find(|x| x.resource == resource).unwrap()
}

/// Host "h": 8 CPUs, 32 GiB.
fn host(vcpus_allocated: u32, memory_allocated_bytes: u64, pools: Vec<PoolInput>) -> HostInput {
    HostInput {
        uri: "h".into(),
        cpus: 8,
        memory_bytes: 32 << 30,
        vcpus_allocated,
        memory_allocated_bytes,
        pools,
        usage_stats: true,
    }
}

#[test]
fn a_filling_pool_sorts_before_a_flat_cpu_and_headroom_counts_vms() {
    let mut batch = rows_before_now("pool/h/data", "used_pct", 600, |i| 50.0 + 0.05 * i);
    batch.extend(rows_before_now("host/h", "cpu_pct", 600, |_| 20.0));
    batch.extend(rows_before_now("host/h", "mem_used_bytes", 600, |_| 8e9));
    let pools = vec![PoolInput {
        name: "data".into(),
        capacity: 100,
        allocation: 80,
    }];
    let hosts = [host(10, 12 << 30, pools)];
    let r = capacity(
        &store_of(&batch),
        &hosts,
        &CapacitySettings::default(),
        NOW,
        0,
    );
    assert_eq!(r.rows[0].resource, "pool data", "{:?}", r.rows);
    let c = r.rows[0].crossing.as_ref().unwrap();
    // 80 % now, rising 0.05 % per row: 90 % about 200 rows (~17 h) ahead.
    let at = c.expected.unwrap();
    assert!((150..=260).contains(&at), "crossing in {at} rows");
    assert!(c.earliest.unwrap() <= at);
    let cpu = r.rows.iter().find(|x| x.resource == "cpu").unwrap();
    assert_eq!(
        cpu.crossing.as_ref().unwrap().expected,
        None,
        "flat 20 % never reaches 90 %"
    );
    // 8 CPUs × 4 = 32 vCPUs, 10 used → 11 more 2-vCPU VMs; memory 32−1−12 = 19 GiB → 4 of 4 GiB.
    assert_eq!(r.headroom[0].headroom.as_ref().unwrap().fits, 4);
    assert_eq!(
        r.headroom[0].text,
        "room for 4 more 2 vCPU / 4 GiB VMs by allocation (memory runs out first)"
    );
}

#[test]
fn headroom_by_allocation_says_when_usage_is_already_past_the_threshold() {
    let mut batch = rows_before_now("host/h", "cpu_pct", 600, |_| 95.0);
    batch.extend(rows_before_now("host/h", "mem_used_bytes", 600, |_| 8e9));
    let r = capacity(
        &store_of(&batch),
        &[host(10, 12 << 30, Vec::new())],
        &CapacitySettings::default(),
        NOW,
        0,
    );
    assert_eq!(
        r.headroom[0].text,
        "room for 4 more 2 vCPU / 4 GiB VMs by allocation (memory runs out first), \
         but cpu 95.0% already past 90%"
    );
}

#[test]
fn memory_of_a_host_of_unknown_size_is_not_read_as_a_percentage() {
    let batch = rows_before_now("host/h", "mem_used_bytes", 600, |_| 8e9);
    let mut h = host(0, 0, Vec::new());
    h.memory_bytes = 0;
    let r = capacity(
        &store_of(&batch),
        &[h],
        &CapacitySettings::default(),
        NOW,
        0,
    );
    let mem = r.rows.iter().find(|x| x.resource == "memory").unwrap();
    assert_eq!((mem.current_pct, &mem.crossing), (None, &None));
    assert_eq!(mem.note.as_deref(), Some("memory size unknown"));
    // No headroom figure either: "fits 0" would say the host is full.
    assert_eq!(r.headroom[0].headroom, None);
    assert!(
        r.headroom[0].text.contains("unknown"),
        "{}",
        r.headroom[0].text
    );
}

#[test]
fn under_an_hour_of_rows_says_collecting_unless_already_past() {
    // Two rows rising fast: a week's projection from them would be noise.
    let mut batch = rows_before_now("host/h", "cpu_pct", 2, |i| 70.0 + 3.0 * i);
    batch.extend(rows_before_now("host/h", "mem_used_bytes", 2, |_| 31e9));
    let hosts = [host(0, 0, Vec::new())];
    let r = capacity(
        &store_of(&batch),
        &hosts,
        &CapacitySettings::default(),
        NOW,
        0,
    );
    let cpu = r.rows.iter().find(|x| x.resource == "cpu").unwrap();
    assert_eq!(cpu.crossing, None);
    assert_eq!(cpu.note.as_deref(), Some("collecting: 2/12 rows"));
    assert_eq!(cpu.current_pct, Some(73.0));
    // 31 GB of 32 GiB is past 90 % already: that is said from the first row.
    let mem = r.rows.iter().find(|x| x.resource == "memory").unwrap();
    assert!(mem.crossing.as_ref().is_some_and(|c| c.already), "{mem:?}");
    // With an hour of rows the projection is made.
    let batch = rows_before_now("host/h", "cpu_pct", 12, |i| 70.0 + 1.0 * i);
    let r = capacity(
        &store_of(&batch),
        &hosts,
        &CapacitySettings::default(),
        NOW,
        0,
    );
    assert!(r.rows[0].crossing.is_some(), "{:?}", r.rows[0]);
}

#[test]
fn a_daily_peak_crosses_before_the_trend_through_the_day() {
    // Three days: 40 % rising 0.01 a row, ±35 around it each day. The line reaches
    // 90 % in 4136 rows, past the week; the afternoon peaks top 90 % in about two days.
    let batch = rows_before_now("host/h", "cpu_pct", 864, |t| {
        40.0 + 0.01 * t + 35.0 * (std::f64::consts::TAU * t / 288.0).sin()
    });
    let hosts = [host(0, 0, Vec::new())];
    let r = capacity(
        &store_of(&batch),
        &hosts,
        &CapacitySettings::default(),
        NOW,
        0,
    );
    let c = r.rows[0].crossing.as_ref().unwrap();
    assert_eq!(
        (r.rows[0].resource.as_str(), c.model),
        ("cpu", ModelKind::TrendDaily)
    );
    // The peak of day 6 (row 1512) is the first over 90 %; it gets there at row 1509
    // (40 + 15.09 + 35 cos(2π·3/288) = 90.01), step 1509 − 864 + 1.
    assert_eq!(c.expected, Some(646), "{c:?}");
    assert!(c.earliest.unwrap() <= 646 && c.latest.unwrap_or(usize::MAX) >= 646);
}

#[test]
fn without_a_complete_row_the_note_tells_recording_from_nothing() {
    let now = NOW + 100_000; // 100 s into a 5-minute row
    let store = store_of(&[sample("host/h", "cpu_pct", now - 50_000, 12.0)]);
    let hosts = [host(0, 0, Vec::new())];
    let r = capacity(&store, &hosts, &CapacitySettings::default(), now, 0);
    let note = |res: &str| {
        let row = r.rows.iter().find(|x| x.resource == res).unwrap();
        assert!(row.crossing.is_none() && row.current_pct.is_none());
        row.note.clone().unwrap()
    };
    // The row in progress started at 12:00 and completes at 12:05.
    assert_eq!(note("cpu"), "first data 12:05 UTC");
    assert_eq!(note("memory"), "nothing recorded");
}

#[test]
fn history_that_stopped_hours_ago_is_not_now() {
    // A host at 95 % until 06:00, nothing recorded since: neither "95 %" nor "now".
    let batch: Vec<_> = (0..500)
        .map(|i| sample("host/h", "cpu_pct", NOW - (571 - i) * STEP_MS + 1_000, 95.0))
        .collect();
    let cpu = row_of(&batch, "cpu");
    assert_eq!((cpu.current_pct, &cpu.crossing), (None, &None));
    assert_eq!(
        cpu.note.as_deref(),
        Some("no rows since 06:00 UTC (6h ago)")
    );
}

#[test]
fn a_pool_without_history_shows_its_fill_as_read() {
    let pools = vec![PoolInput {
        name: "data".into(),
        capacity: 200,
        allocation: 50,
    }];
    let r = capacity(
        &store_of(&[]),
        &[host(0, 0, pools)],
        &CapacitySettings::default(),
        NOW,
        0,
    );
    let row = r.rows.iter().find(|x| x.resource == "pool data").unwrap();
    assert_eq!(row.current_pct, Some(25.0));
    assert!(row.crossing.is_none());
    assert_eq!(row.note.as_deref(), Some("no history to forecast from"));

    // Past the threshold as read: "now", first, and named beside the headroom.
    let full = vec![PoolInput {
        name: "data".into(),
        capacity: 200,
        allocation: 190,
    }];
    let r = capacity(
        &store_of(&[]),
        &[host(0, 0, full)],
        &CapacitySettings::default(),
        NOW,
        0,
    );
    assert_eq!(r.rows[0].resource, "pool data");
    assert!(r.rows[0].crossing.as_ref().is_some_and(|c| c.already));
    assert!(
        r.headroom[0]
            .text
            .contains("but pool data 95.0% already past 90%"),
        "{}",
        r.headroom[0].text
    );
}

#[test]
fn a_driver_without_statistics_says_so_instead_of_nothing_recorded() {
    let hosts = [HostInput {
        usage_stats: false,
        ..host(0, 0, Vec::new())
    }];
    let r = capacity(&store_of(&[]), &hosts, &CapacitySettings::default(), NOW, 0);
    for res in ["cpu", "memory"] {
        let row = r.rows.iter().find(|x| x.resource == res).unwrap();
        assert_eq!(
            row.note.as_deref(),
            Some("no usage figures from this driver")
        );
    }
}

#[test]
fn a_step_a_week_ago_is_a_new_level_not_growth() {
    // Memory at 40 % for a week, then a VM started: 70 % since, flat. A line through both
    // weeks rises 0.01 % a row and would cross 90 % within the week.
    let gib = f64::from(1u32 << 30);
    let batch = rows_before_now("host/h", "mem_used_bytes", 4032, |t| {
        let level = if t < 2016.0 { 0.40 } else { 0.70 };
        32.0 * gib * (level + 0.01 * (std::f64::consts::TAU * t / 288.0).sin())
    });
    let mem = row_of(&batch, "memory");
    let c = mem.crossing.as_ref().unwrap();
    assert_eq!(
        (c.expected, c.model),
        (None, ModelKind::TrendDaily),
        "{mem:?}"
    );
    // The step's row began 2016 rows before the grid boundary.
    assert_eq!(mem.level_shift_ms, Some(NOW - 2016 * STEP_MS));
    assert_eq!(mem.basis.as_deref(), Some("since a +30.0 pt step 7d ago"));
    // The CPU row, with no history, has no basis.
    let cpu = row_of(&batch, "cpu");
    assert_eq!((cpu.level_shift_ms, &cpu.basis), (None, &None));
}

#[test]
fn hours_after_a_step_the_new_level_is_forecast_not_the_old() {
    // CPU at 20 % for three days, 85 % for the last five hours and climbing 0.05 % a row:
    // the trend through three days sees 20 % with a kink; the level since sees 85 % rising.
    let batch = rows_before_now("host/h", "cpu_pct", 924, |t| {
        if t < 864.0 {
            20.0 + (std::f64::consts::TAU * t / 288.0).sin()
        } else {
            85.0 + 0.05 * (t - 864.0)
        }
    });
    let r = capacity(
        &store_of(&batch),
        &[host(0, 0, Vec::new())],
        &CapacitySettings::default(),
        NOW,
        0,
    );
    let cpu = r.rows.iter().find(|x| x.resource == "cpu").unwrap();
    let c = cpu.crossing.as_ref().unwrap();
    // Five hours are too few for a trend: a level, whose band reaches 90 % within the week.
    assert_eq!(c.model, ModelKind::Auto, "{cpu:?}");
    assert!(c.earliest.is_some_and(|s| s < 2016), "{cpu:?}");
    assert_eq!(cpu.level_shift_ms, Some(NOW - 60 * STEP_MS));
}

#[test]
fn a_staircase_of_steps_is_growth_and_the_trend_runs_through_it() {
    // A 2 GiB VM deployed on a 32 GiB host every day for ten days: memory climbs 6.25
    // points a day in steps, from 20 % to 76 %, and crosses 90 % within about two days.
    let gib = f64::from(1u32 << 30);
    let batch = rows_before_now("host/h", "mem_used_bytes", 2880, |t| {
        // About a day apart, at different times of day.
        let steps = (((t + 37.0 * (t / 288.0).floor()) / 288.0).floor()).min(9.0);
        gib * (6.4 + 2.0 * steps) + gib * 0.1 * (std::f64::consts::TAU * t / 288.0).sin()
    });
    let mem = row_of(&batch, "memory");
    let c = mem.crossing.as_ref().unwrap();
    assert_eq!(c.model, ModelKind::TrendDaily, "{mem:?}");
    assert!(c.expected.is_some_and(|s| s < 3 * 288), "{mem:?}");
    assert_eq!((mem.level_shift_ms, &mem.basis), (None, &None));
}

#[test]
fn under_two_days_a_morning_ramp_is_not_extrapolated_into_exhaustion() {
    // One day of history whose last half climbs from 30 to 60 % (a working day's ramp): a
    // trend through it would cross 90 % tomorrow. The automatic choice, which capacity uses
    // before two days, is backtested over the whole day and does not take it for growth.
    let batch = rows_before_now("host/h", "cpu_pct", 288, |i| {
        30.0 + 30.0 * ((i - 144.0) / 144.0).clamp(0.0, 1.0) + (i % 3.0)
    });
    let cpu = row_of(&batch, "cpu");
    let c = cpu.crossing.expect("a forecast");
    assert_eq!(c.model, ModelKind::Auto);
    assert_eq!(c.expected, None, "{c:?}");
}
