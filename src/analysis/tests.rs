//! Tests of the analysis jobs on in-memory stores: the grid, forecasts from history (fresh,
//! stale, short) and the notes they give.
#![allow(clippy::cast_precision_loss)]

use super::*;
use crate::store::{MemoryStore, Sample, StoreConfig};

fn store_with(values: &[(i64, f64)]) -> MemoryStore {
    let mut s = MemoryStore::new(StoreConfig::default());
    let batch: Vec<(SeriesKey, Sample)> = values
        .iter()
        .map(|(t, v)| {
            (
                SeriesKey::new("vm/x/u", "cpu_pct"),
                Sample {
                    ts_ms: *t,
                    value: *v,
                },
            )
        })
        .collect();
    s.append(&batch).unwrap();
    s.flush().unwrap();
    s
}

#[test]
fn grid_averages_per_row_and_marks_gaps() {
    let t0 = 1_700_000_000_000 - 1_700_000_000_000 % STEP_MS;
    let s = store_with(&[
        (t0 + 1_000, 10.0),
        (t0 + 61_000, 20.0),
        (t0 + 2 * STEP_MS + 5_000, 7.0),
    ]);
    let g = grid(&s, "vm/x/u", "cpu_pct", t0, t0 + 3 * STEP_MS).unwrap();
    assert_eq!(g.len(), 3);
    assert!((g[0] - 15.0).abs() < 1e-9);
    assert!(g[1].is_nan());
    assert!((g[2] - 7.0).abs() < 1e-9);
}

#[test]
fn days_past_the_minute_tier_are_gaps_not_hourly_means_on_a_wrong_grid() {
    let day = 288 * STEP_MS;
    let now = 1_700_000_000_000 - 1_700_000_000_000 % day;
    let retention = crate::store::Retention {
        raw: std::time::Duration::from_secs(3600),
        minute: std::time::Duration::from_secs(2 * 86_400),
        ..crate::store::Retention::default()
    };
    let mut s = MemoryStore::new(StoreConfig {
        retention,
        ..StoreConfig::default()
    });
    // A sample every minute for five days, value = the day it belongs to.
    let batch: Vec<(SeriesKey, Sample)> = (0..5 * 1440)
        .map(|i| {
            let ts_ms = now - 5 * day + i * 60_000;
            let key = SeriesKey::new("vm/x/u", "cpu_pct");
            (
                key,
                Sample {
                    ts_ms,
                    value: (i / 1440) as f64,
                },
            )
        })
        .collect();
    s.append(&batch).unwrap();
    s.flush().unwrap();
    let g = grid(&s, "vm/x/u", "cpu_pct", now - 5 * day, now).unwrap();
    assert_eq!(g.len(), 5 * 288);
    // The last two days are within the minute tier: every row, at its own place.
    assert!(
        g[3 * 288..].iter().all(|v| v.is_finite()),
        "{:?}",
        &g[3 * 288..3 * 288 + 3]
    );
    assert!((g[3 * 288] - 3.0).abs() < 1e-9 && (g[5 * 288 - 1] - 4.0).abs() < 1e-9);
    // Older days are gaps, not hourly means packed into the first rows of the range.
    assert!(g[..2 * 288].iter().all(|v| v.is_nan()), "{:?}", &g[..13]);
}

#[test]
fn a_forecast_stops_at_its_ceiling() {
    // 1 a day, now at 3.5, on a ceiling of 4 (memory in use on a 4 GiB VM, say): a week
    // ahead, the line would reach 10.
    let now = 1_700_000_000_000 - 1_700_000_000_000 % STEP_MS;
    let pts: Vec<(i64, f64)> = (0..600)
        .map(|i| {
            (
                now - (600 - i) * STEP_MS + 1_000,
                3.5 - (600 - i) as f64 / 288.0,
            )
        })
        .collect();
    let r = forecast_series(&store_with(&pts), "vm/x/u", "cpu_pct", now, 2016, 0).unwrap();
    assert!(r.forecast.hi95[2015] > 4.0, "the trend runs past 4");
    let capped = r.capped_at(Some(4.0));
    for v in [
        &capped.forecast.point,
        &capped.forecast.hi80,
        &capped.forecast.hi95,
    ] {
        assert!(v.iter().all(|x| *x <= 4.0), "{:?}", &v[2000..]);
    }
    assert!(
        capped.forecast.point[0] < 4.0,
        "the first rows are the trend's"
    );
}

#[test]
fn a_linear_history_forecasts_its_continuation_with_a_backtest() {
    let now = 1_700_000_000_000 - 1_700_000_000_000 % STEP_MS;
    let pts: Vec<(i64, f64)> = (0..600)
        .map(|i| (now - (600 - i) * STEP_MS + 1_000, 10.0 + 0.05 * i as f64))
        .collect();
    let s = store_with(&pts);
    let r = forecast_series(&s, "vm/x/u", "cpu_pct", now, 12, 0).unwrap();
    assert_eq!(r.forecast.point.len(), 12);
    assert!(
        r.forecast.point[11] > r.history.last().unwrap().1,
        "keeps rising: {:?}",
        r.forecast.point
    );
    assert!(r.backtest_origins > 0 && r.backtest_mase.is_some());
    assert!(r.history.len() <= 576);
}

#[test]
fn history_that_stopped_hours_ago_is_forecast_from_its_last_row_to_now() {
    // A steady rise, with some noise, that stopped being recorded 6 h (72 rows) ago.
    let now = 1_700_000_000_000 - 1_700_000_000_000 % STEP_MS;
    let rise = |i: i64| 10.0 + 0.05 * i as f64 + ((i * 37) % 11) as f64 * 0.05;
    let pts: Vec<(i64, f64)> = (0..600)
        .map(|i| (now - (672 - i) * STEP_MS + 1_000, rise(i)))
        .collect();
    let r = forecast_series(&store_with(&pts), "vm/x/u", "cpu_pct", now, 12, 0).unwrap();
    assert_eq!(r.gap_rows, 72);
    assert_eq!((r.start_ms, r.forecast.point.len()), (now, 12));
    // Step 1 is now, 73 rows after the last one: the rise continued over the gap.
    assert!(
        (r.forecast.point[0] - rise(672)).abs() < 1.0,
        "{} vs {}",
        r.forecast.point[0],
        rise(672)
    );
    // Recorded up to now, the same forecast has narrower bands at its first step.
    let fresh: Vec<(i64, f64)> = (0..672)
        .map(|i| (now - (672 - i) * STEP_MS + 1_000, rise(i)))
        .collect();
    let f = forecast_series(&store_with(&fresh), "vm/x/u", "cpu_pct", now, 12, 0).unwrap();
    assert_eq!(f.gap_rows, 0);
    let width = |r: &ForecastResult| r.forecast.hi95[0] - r.forecast.lo95[0];
    assert!(width(&r) > width(&f), "{} vs {}", width(&r), width(&f));
}

#[test]
fn the_backtest_scores_from_the_rows_it_says_it_needs() {
    let now = 1_700_000_000_000 - 1_700_000_000_000 % STEP_MS;
    for horizon in [12, 72] {
        let need = backtest_rows_needed(horizon);
        for (rows, scored) in [(need - 1, false), (need, true)] {
            let pts: Vec<(i64, f64)> = (0..rows)
                .map(|i| {
                    let i = i64::try_from(i).unwrap();
                    (
                        now - (i64::try_from(rows).unwrap() - i) * STEP_MS + 1_000,
                        (i % 7) as f64,
                    )
                })
                .collect();
            let r =
                forecast_series(&store_with(&pts), "vm/x/u", "cpu_pct", now, horizon, 0).unwrap();
            assert_eq!(
                r.backtest_origins > 0,
                scored,
                "{horizon} ahead, {rows} rows"
            );
        }
    }
    assert_eq!(backtest_rows_needed(72), 143);
    assert_eq!(rows_text(144), "12h");
    assert_eq!(rows_text(5), "25 min");
    assert_eq!(rows_text(25), "2h 5 min");
    assert_eq!(rows_text(4032), "14d");
    assert_eq!(rows_text(4031), "13d 23h");
    assert_eq!(rows_text(12 * 26 + 1), "1d 2h");
}

#[test]
fn bands_stay_within_what_the_metric_can_be() {
    let now = 1_700_000_000_000 - 1_700_000_000_000 % STEP_MS;
    let pts: Vec<(i64, f64)> = (0..6)
        .map(|i| {
            (
                now - (6 - i) * STEP_MS + 1_000,
                [5.0, 95.0][usize::try_from(i % 2).unwrap()],
            )
        })
        .collect();
    let s = store_with(&pts);
    let r = forecast_series(&s, "vm/x/u", "cpu_pct", now, 72, 0).unwrap();
    let f = &r.forecast;
    assert!(
        f.lo95
            .iter()
            .chain(&f.hi95)
            .all(|v| (0.0..=100.0).contains(v)),
        "{f:?}"
    );
}

#[test]
fn no_history_is_a_clear_error() {
    let now = 1_700_000_000_000;
    let s = MemoryStore::new(StoreConfig::default());
    let e = forecast_series(&s, "vm/x/u", "cpu_pct", now, 12, 0).unwrap_err();
    assert_eq!(e.to_string(), "no cpu recorded in the last two weeks");
    assert!(e.retry_soon(), "a console just started records one soon");
    // Recording started in the row in progress: the first complete row is due.
    let s = store_with(&[(now - 20_000, 3.0)]);
    let e = forecast_series(&s, "vm/x/u", "cpu_pct", now, 12, 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no history of cpu yet: analytics work on 5-minute averages, \
         the first is due at 22:15 UTC"
    );
    assert!(!e.retry_soon(), "the row is due at a known time");
    assert_eq!(due_at(now - now % STEP_MS, 3600), "23:15 UTC+01:00");
    assert_eq!(
        due_at(now - now % STEP_MS, -(5 * 3600 + 1800)),
        "16:45 UTC-05:30"
    );
}

#[test]
fn history_that_stopped_days_ago_still_counts_its_rows_and_last_row() {
    // Two days of a steady level, then three days with no console recording.
    let now = 1_700_000_000_000 - 1_700_000_000_000 % STEP_MS;
    let last = now - 864 * STEP_MS;
    let pts: Vec<(i64, f64)> = (0..576)
        .map(|i| (last - (575 - i) * STEP_MS + 1_000, 40.0 + (i % 5) as f64))
        .collect();
    let r = forecast_series(&store_with(&pts), "vm/x/u", "cpu_pct", now, 12, 0).unwrap();
    assert!(r.history.is_empty(), "the two days shown are all gap");
    assert_eq!(r.rows_used, 576, "the rows the models read");
    assert_eq!(r.last_row_ms(), Some(last));
    assert!(r.stale() && r.bands_meaningful(), "{r:?}");
    assert_eq!(r.band_wait(), None);
}

#[test]
fn a_flat_series_is_scored_by_smape_over_the_origins_it_had() {
    // A day of a value that never changed (memory, often): every origin scores sMAPE, none has a MASE scale.
    let now = 1_700_000_000_000 - 1_700_000_000_000 % STEP_MS;
    let pts: Vec<(i64, f64)> = (0..288)
        .map(|i| (now - (288 - i) * STEP_MS + 1_000, 40.0))
        .collect();
    let r = forecast_series(&store_with(&pts), "vm/x/u", "cpu_pct", now, 12, 0).unwrap();
    assert!(r.backtest_origins > 0, "{r:?}");
    assert_eq!((r.backtest_smape, r.backtest_mase), (Some(0.0), None));
    let text = r.backtest_summary().unwrap();
    assert!(
        text.ends_with(&format!(
            "over {} origins; MASE n/a: no row changed before the origins to scale it by",
            r.backtest_origins
        )),
        "{text}"
    );
    assert!(!text.contains("over 0 origins"), "{text}");
}
