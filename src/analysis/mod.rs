//! Analysis jobs: read history from the store onto a regular 5-minute grid and run the pure
//! analytics on it (forecasts with their backtest, capacity crossings, right-sizing). Used by
//! the console's blocking tasks and the headless commands alike; never called from `update`.

pub mod capacity;
mod error;
pub mod rightsize;

pub use error::ForecastError;

use serde::Serialize;

use crate::analytics::backtest::{backtest_model, BacktestSpec};
use crate::analytics::forecast::{forecast, Forecast, ForecastConfig, ModelKind};
use crate::store::{HistoryStore, Query, SeriesKey, StoreError};

/// One row of the grid the models work on: five minutes, as in their defaults.
pub const STEP_MS: i64 = 300_000;
/// Rows of history (an hour) before a forecast's intervals are shown: a band drawn from a
/// handful of rows describes those rows, not the series.
pub const MIN_BAND_ROWS: usize = 12;
/// History read for a forecast: two weeks of rows.
pub const LOOKBACK_MS: i64 = 14 * 24 * 3_600_000;

/// Rows read per store query: a day. The store answers a query from its minute tier only
/// when the whole range is still within that tier's retention, and from the hourly tier
/// otherwise; reading a day at a time keeps every day the minute tier still holds.
const CHUNK_MS: i64 = 288 * STEP_MS;

/// Averages of `entity`/`metric` per 5-minute row over `[from, to)`; rows without data are NaN.
/// Days the store holds only hourly (past the minute tier's retention) are NaN too: an hourly
/// mean spread over twelve rows would hide the peaks right-sizing and the bands are made of.
///
/// # Errors
/// The store's error.
pub fn grid(
    store: &dyn HistoryStore,
    entity: &str,
    metric: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<f64>, StoreError> {
    let from = from_ms - from_ms.rem_euclid(STEP_MS);
    let rows = usize::try_from((to_ms - from).max(0) / STEP_MS).unwrap_or(0);
    let mut out = vec![f64::NAN; rows];
    let mut start = from;
    while start < to_ms {
        let end = (start + CHUNK_MS).min(to_ms);
        let q = Query {
            key: SeriesKey::new(entity, metric),
            from_ms: start,
            to_ms: end,
            max_points: None,
            step_ms: Some(STEP_MS),
        };
        let result = store.query(&q)?;
        if result.step_ms == STEP_MS {
            for p in result.points {
                if let Ok(i) = usize::try_from((p.ts_ms - from) / STEP_MS) {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = p.avg;
                    }
                }
            }
        }
        start = end;
    }
    Ok(out)
}

/// Drops leading rows without data (a VM younger than the lookback).
#[must_use]
pub fn trim_leading_gaps(values: &[f64]) -> &[f64] {
    let start = values
        .iter()
        .position(|v| v.is_finite())
        .unwrap_or(values.len());
    &values[start..]
}

/// Rows of no data before now that still count as current: a poll or two late, or the
/// row in progress. More, and the views say when the last row was.
pub const STALE_ROWS: usize = 3;

/// The rows up to the last one with data, and how many rows without data follow it (the
/// gap up to now: a console that was not running, a host whose poller is down).
#[must_use]
pub fn split_trailing_gap(values: &[f64]) -> (&[f64], usize) {
    let end = values
        .iter()
        .rposition(|v| v.is_finite())
        .map_or(0, |i| i + 1);
    (&values[..end], values.len() - end)
}

/// Every series novacron records is non-negative, and percentages stop at 100: a band that
/// crosses those bounds (wide on short history) is cut there rather than shown impossible.
pub fn clamp_to_range(f: &mut Forecast, metric: &str) {
    let hi = if metric.ends_with("_pct") {
        100.0
    } else {
        f64::INFINITY
    };
    clamp_between(f, hi);
}

/// Cuts the point and bands of `f` to `0..=hi`.
fn clamp_between(f: &mut Forecast, hi: f64) {
    for v in f.values_mut() {
        for x in v.iter_mut() {
            *x = x.clamp(0.0, hi);
        }
    }
}

/// Why a series read up to the grid boundary `end_ms` has no row yet, and when the first is
/// due: models see 5-minute averages, and the row in progress counts once it is complete.
#[must_use]
pub fn not_yet(metric: &str, end_ms: i64, tz_offset_s: i32) -> ForecastError {
    ForecastError::NotYet {
        label: label(metric),
        due: due_at(end_ms, tz_offset_s),
    }
}

/// What an operator calls series `name` ("disk writes" for `disk_wr_bps`).
fn label(name: &str) -> String {
    crate::domain::Metric::VM
        .into_iter()
        .chain(crate::domain::Metric::HOST)
        .find(|m| m.name() == name)
        .map_or_else(|| name.to_string(), |m| m.label().to_string())
}

/// "07:45 UTC", or "08:45 UTC+01:00" `tz_offset_s` east of UTC (the console's local time, as
/// in its journal): when the row in progress from the grid boundary `end_ms` completes.
#[must_use]
pub fn due_at(end_ms: i64, tz_offset_s: i32) -> String {
    zoned(end_ms + STEP_MS, tz_offset_s)
}

/// "15:15 UTC", "16:15 UTC+01:00": a time of day with its zone.
#[must_use]
pub fn zoned(ts_ms: i64, tz_offset_s: i32) -> String {
    let zone = match tz_offset_s {
        0 => "UTC".to_string(),
        z => {
            let sign = if z < 0 { '-' } else { '+' };
            let a = z.unsigned_abs();
            format!("UTC{sign}{:02}:{:02}", a / 3600, (a / 60) % 60)
        }
    };
    let hhmmss = crate::domain::format::clock(ts_ms, tz_offset_s);
    format!("{} {zone}", &hhmmss[..5])
}

/// "no rows since 15:10 UTC (6h ago)" for a series whose last row with data, `gap_rows`
/// rows before the grid boundary `end_ms`, is too old to call current.
#[must_use]
pub fn no_rows_since(end_ms: i64, gap_rows: usize, tz_offset_s: i32) -> String {
    let rows = i64::try_from(gap_rows + 1).unwrap_or(i64::MAX);
    format!(
        "no rows since {} ({} ago)",
        zoned(end_ms - rows * STEP_MS, tz_offset_s),
        rows_text(gap_rows + 1)
    )
}

/// A forecast with the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastResult {
    pub entity: String,
    pub metric: String,
    /// Timestamp of the first forecast row; rows are `STEP_MS` apart.
    pub start_ms: i64,
    /// The recent history shown with the forecast (up to two days), oldest first.
    pub history: Vec<(i64, f64)>,
    pub forecast: Forecast,
    /// Mean absolute scaled error of the automatic choice in a rolling backtest over this
    /// series' own history at this horizon, and how many origins it averaged.
    pub backtest_mase: Option<f64>,
    /// The same backtest's symmetric mean absolute percentage error, percent: on a smooth
    /// series a good forecast hours ahead still has a MASE well above 1 (the scale is one
    /// step of naive error), so this says how far off it was in the series' own terms.
    pub backtest_smape: Option<f64>,
    pub backtest_origins: usize,
    /// Rows without data between the last recorded row and `start_ms`.
    pub gap_rows: usize,
    /// Rows with data the models read (up to two weeks): `history` shows at most two days,
    /// none of them when the history stopped longer ago.
    pub rows_used: usize,
    /// When the last row with data began, however long ago.
    pub last_row_ms: Option<i64>,
}

impl ForecastResult {
    /// When the last row with data began: what "last row" and "no rows since" name.
    #[must_use]
    pub fn last_row_ms(&self) -> Option<i64> {
        self.last_row_ms
    }

    /// Whether the history stopped too long before now to call its last row current
    /// (more than [`STALE_ROWS`] empty rows): the forecast starts from that row.
    #[must_use]
    pub fn stale(&self) -> bool {
        self.gap_rows > STALE_ROWS
    }

    /// Whether the intervals are worth showing: under [`MIN_BAND_ROWS`] of history a band
    /// describes the few rows it came from, not the series (the view and the CLI hide it).
    #[must_use]
    pub fn bands_meaningful(&self) -> bool {
        self.rows_used >= MIN_BAND_ROWS
    }

    /// "intervals need 5 more rows of history, 25 min" while the bands are hidden. Not "in
    /// 25 min": a VM that is off records nothing.
    #[must_use]
    pub fn band_wait(&self) -> Option<String> {
        let more = MIN_BAND_ROWS
            .checked_sub(self.rows_used)
            .filter(|m| *m > 0)?;
        Some(format!(
            "intervals need {more} more {} of history, {}",
            if more == 1 { "row" } else { "rows" },
            rows_text(more)
        ))
    }

    /// Why there is no backtest score yet and when there will be one: "a backtest at this
    /// horizon needs 12h of history".
    #[must_use]
    pub fn backtest_wait(&self) -> String {
        format!(
            "a backtest at this horizon needs {} of history",
            rows_text(backtest_rows_needed(self.forecast.point.len()))
        )
    }

    /// "sMAPE 6.3 %, MASE 0.74 over 24 origins", each score where it exists; `None` without
    /// a backtest.
    #[must_use]
    pub fn backtest_summary(&self) -> Option<String> {
        let scores: Vec<String> = [
            self.backtest_smape.map(|e| format!("sMAPE {e:.1} %")),
            self.backtest_mase.map(|m| format!("MASE {m:.2}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        // sMAPE without MASE: the series never changed before an origin, so one step of
        // naive error, MASE's scale, is zero.
        let no_mase = if self.backtest_mase.is_none() {
            "; MASE n/a: no row changed before the origins to scale it by"
        } else {
            ""
        };
        (!scores.is_empty()).then(|| {
            format!(
                "{} over {}{no_mase}",
                scores.join(", "),
                crate::domain::format::plural(self.backtest_origins, "origin")
            )
        })
    }
}

/// Rows of history before a forecast of `horizon_rows` gets a backtest score: its origins
/// start half-way through the history and after two hours ([`forecast_grid`]), and each
/// needs `horizon_rows` rows after it.
#[must_use]
pub fn backtest_rows_needed(horizon_rows: usize) -> usize {
    (2 * horizon_rows).saturating_sub(1).max(horizon_rows + 24)
}

/// `rows` 5-minute rows as "25 min", "12h", "2h 5 min", "2d", "13d 23h" (past a day the
/// minutes are left out).
#[must_use]
pub fn rows_text(rows: usize) -> String {
    let minutes = rows * 5;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, _) if h >= 24 && h % 24 == 0 => format!("{}d", h / 24),
        (h, _) if h >= 24 => format!("{}d {}h", h / 24, h % 24),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m} min"),
    }
}

/// Forecasts `horizon_rows` 5-minute rows of a series with the automatic model choice.
///
/// # Errors
/// Why there is nothing to forecast (no history, store error).
pub fn forecast_series(
    store: &dyn HistoryStore,
    entity: &str,
    metric: &str,
    now_ms: i64,
    horizon_rows: usize,
    tz_offset_s: i32,
) -> Result<ForecastResult, ForecastError> {
    let read = read_lookback(store, entity, metric, now_ms)?;
    forecast_grid(entity, metric, &read, horizon_rows, tz_offset_s)
}

/// The rows a forecast reads: complete 5-minute rows up to the grid boundary `end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookback {
    pub end: i64,
    pub rows: Vec<f64>,
    /// Whether the row in progress (from `end`) already holds samples: with no complete row
    /// yet, that tells "recording, the first row is due" from "nothing recorded".
    pub in_progress: bool,
}

/// The lookback grid ending at the 5-minute boundary at or before `now_ms`.
///
/// # Errors
/// The store's error, said in full.
pub fn read_lookback(
    store: &dyn HistoryStore,
    entity: &str,
    metric: &str,
    now_ms: i64,
) -> Result<Lookback, ForecastError> {
    let end = now_ms - now_ms.rem_euclid(STEP_MS);
    let mut rows = grid(store, entity, metric, end - LOOKBACK_MS, end + STEP_MS)
        .map_err(|e| ForecastError::Unavailable(e.to_string()))?;
    let in_progress = rows.pop().is_some_and(f64::is_finite);
    Ok(Lookback {
        end,
        rows,
        in_progress,
    })
}

impl ForecastResult {
    /// The forecast cut at `ceiling`, what the series cannot exceed (memory in use: the
    /// VM's maximum, the host's memory), when known. A ceiling the history has gone past is
    /// not one (memory read as QEMU's RSS, which its own overhead puts above the VM's
    /// maximum): the forecast is left as it is.
    #[must_use]
    pub fn capped_at(mut self, ceiling: Option<f64>) -> Self {
        let above = |c: f64| self.history.iter().any(|(_, v)| *v > c);
        if let Some(hi) = ceiling.filter(|c| c.is_finite() && *c > 0.0 && !above(*c)) {
            clamp_between(&mut self.forecast, hi);
        }
        self
    }
}

/// [`forecast_series`] on a grid already read (so a shared store is not held while models run).
///
/// # Errors
/// Why there is nothing to forecast.
pub fn forecast_grid(
    entity: &str,
    metric: &str,
    read: &Lookback,
    horizon_rows: usize,
    tz_offset_s: i32,
) -> Result<ForecastResult, ForecastError> {
    let end = read.end;
    let values = trim_leading_gaps(&read.rows);
    let cfg = ForecastConfig::default();
    if values.is_empty() {
        return Err(if read.in_progress {
            not_yet(metric, end, tz_offset_s)
        } else {
            ForecastError::NothingRecorded(label(metric))
        });
    }
    // Forecast from the last recorded row, over the gap up to now and the horizon after it,
    // and keep the steps from now: the bands widen for the rows nobody saw.
    let (recorded, gap_rows) = split_trailing_gap(values);
    let mut f =
        forecast(recorded, horizon_rows + gap_rows, ModelKind::Auto, &cfg).map_err(|e| {
            ForecastError::Model {
                metric: metric.to_string(),
                reason: e.to_string(),
            }
        })?;
    f.skip_steps(gap_rows);
    clamp_to_range(&mut f, metric);
    // Backtest on this series: origins every hour over (at most) its last day.
    let warmup = recorded
        .len()
        .saturating_sub(288 + horizon_rows)
        .max(recorded.len() / 2)
        .max(24);
    let spec = BacktestSpec {
        warmup,
        step: 12,
        max_horizon: horizon_rows,
        horizons: vec![horizon_rows],
        ..BacktestSpec::default()
    };
    let bt = backtest_model(recorded, ModelKind::Auto, &spec, &cfg);
    let score = bt.scores.first().filter(|s| s.scored > 0);
    let shown = values.len().min(576);
    let first_ts = end - i64::try_from(values.len()).unwrap_or(0) * STEP_MS;
    let history = values[values.len() - shown..]
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                first_ts + i64::try_from(values.len() - shown + i).unwrap_or(0) * STEP_MS,
                *v,
            )
        })
        .filter(|(_, v)| v.is_finite())
        .collect();
    Ok(ForecastResult {
        entity: entity.to_string(),
        metric: metric.to_string(),
        start_ms: end,
        history,
        forecast: f,
        backtest_mase: score.map(|s| s.mase).filter(|m| m.is_finite()),
        backtest_smape: score.map(|s| s.smape).filter(|m| m.is_finite()),
        backtest_origins: score.map_or(0, |s| s.scored),
        gap_rows,
        rows_used: recorded.iter().filter(|v| v.is_finite()).count(),
        last_row_ms: Some(end - i64::try_from(gap_rows + 1).unwrap_or(0) * STEP_MS),
    })
}

#[cfg(test)]
mod tests;
