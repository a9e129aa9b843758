//! The rolling-origin benchmark protocol as pure functions (see `shared/data/nab-aws/README.md`).
//!
//! Origins are `warmup + step * k` rows while `origin + max_horizon <= n`; at origin `o` a model
//! sees rows `0..o` only and forecasts rows `o..o + max_horizon`. Rows are the unit of time.

use serde::Serialize;

use super::anomaly::ensemble::{detect, EnsembleConfig};
use super::forecast::{forecast, ForecastConfig, ModelKind};
use super::stats::{count_f64, mean_abs_diff};

/// Protocol parameters; [`BacktestSpec::default`] is the benchmark's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BacktestSpec {
    /// Rows of history before the first origin.
    pub warmup: usize,
    /// Rows between origins.
    pub step: usize,
    /// Steps forecast at each origin.
    pub max_horizon: usize,
    /// Horizons scored (each averages steps `1..=h`).
    pub horizons: Vec<usize>,
    /// Most rows of history a model sees at an origin (the latest ones): four weeks, twice
    /// what the console forecasts from. Without a bound a year of rows costs a year of rows
    /// at every one of its hourly origins.
    pub max_history: usize,
}

impl Default for BacktestSpec {
    fn default() -> Self {
        Self {
            warmup: 576,
            step: 12,
            max_horizon: 72,
            horizons: vec![12, 72],
            max_history: 28 * 288,
        }
    }
}

/// The origins of a series of `n` rows.
#[must_use]
pub fn origins(n: usize, spec: &BacktestSpec) -> Vec<usize> {
    let step = spec.step.max(1);
    (spec.warmup.max(1)..)
        .step_by(step)
        .take_while(|o| o + spec.max_horizon <= n)
        .collect()
}

/// One forecast made at `origin` for rows `origin..origin + point.len()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OriginForecast {
    pub origin: usize,
    pub point: Vec<f64>,
    pub lo95: Vec<f64>,
    pub hi95: Vec<f64>,
}

/// Accuracy of a set of origin forecasts at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HorizonScore {
    pub horizon: usize,
    /// Mean over origins of MAE(steps 1..=h) / in-sample one-step naive MAE; NaN when no
    /// origin has a scale (a constant history, or no two observed rows in a row).
    pub mase: f64,
    /// Mean symmetric MAPE in percent (0 where actual and forecast are both 0).
    pub smape: f64,
    /// Share of actuals inside the 95 % interval.
    pub coverage95: f64,
    /// Origins whose MASE was scored.
    pub origins: usize,
    /// Origins with at least one step scored (sMAPE, coverage): more than `origins` on a
    /// series whose history never changed, which has no MASE scale.
    pub scored: usize,
}

/// Scores `forecasts` against `values` at each horizon of `horizons`.
#[must_use]
pub fn score(
    values: &[f64],
    forecasts: &[OriginForecast],
    horizons: &[usize],
) -> Vec<HorizonScore> {
    horizons
        .iter()
        .map(|&h| score_horizon(values, forecasts, h))
        .collect()
}

fn score_horizon(values: &[f64], forecasts: &[OriginForecast], h: usize) -> HorizonScore {
    let (mut mase_sum, mut mase_n) = (0.0, 0_usize);
    let (mut smape_sum, mut smape_n) = (0.0, 0_usize);
    let (mut cover, mut cover_n) = (0_usize, 0_usize);
    let mut scored = 0_usize;
    for f in forecasts {
        let o = f.origin;
        // sMAPE and coverage need no scale: an origin without one still counts for them.
        let scale = mean_abs_diff(&values[..o.min(values.len())]).unwrap_or(0.0);
        let (mut abs_sum, mut abs_n) = (0.0, 0_usize);
        for s in 0..h.min(f.point.len()) {
            let Some(&y) = values.get(o + s) else { break };
            let p = f.point[s];
            if !y.is_finite() || !p.is_finite() {
                continue;
            }
            abs_sum += (y - p).abs();
            abs_n += 1;
            let denom = y.abs() + p.abs();
            smape_sum += if denom > 0.0 {
                200.0 * (y - p).abs() / denom
            } else {
                0.0
            };
            smape_n += 1;
            if let (Some(lo), Some(hi)) = (f.lo95.get(s), f.hi95.get(s)) {
                cover_n += 1;
                if y >= *lo && y <= *hi {
                    cover += 1;
                }
            }
        }
        scored += usize::from(abs_n > 0);
        if abs_n > 0 && scale > 0.0 {
            mase_sum += abs_sum / count_f64(abs_n) / scale;
            mase_n += 1;
        }
    }
    let ratio = |a: f64, n: usize| if n > 0 { a / count_f64(n) } else { f64::NAN };
    HorizonScore {
        horizon: h,
        mase: ratio(mase_sum, mase_n),
        smape: ratio(smape_sum, smape_n),
        coverage95: ratio(count_f64(cover), cover_n),
        origins: mase_n,
        scored,
    }
}

/// The backtest of one model on one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelBacktest {
    pub model: ModelKind,
    /// One score per horizon of the spec, in order.
    pub scores: Vec<HorizonScore>,
    /// Every origin's forecast (origins where the model could not run are absent).
    pub forecasts: Vec<OriginForecast>,
}

/// Runs `model` through the rolling-origin protocol on `values`.
///
/// A series that has never been negative up to an origin gets no negative forecast or
/// bound there: request counts, bytes and percentages cannot go below 0, and a band that
/// does only looks wider than it is.
#[must_use]
pub fn backtest_model(
    values: &[f64],
    model: ModelKind,
    spec: &BacktestSpec,
    cfg: &ForecastConfig,
) -> ModelBacktest {
    // never_negative[o]: rows 0..o hold no negative value.
    let never_negative: Vec<bool> = std::iter::once(true)
        .chain(values.iter().scan(true, |ok, v| {
            *ok = *ok && (v.is_nan() || *v >= 0.0);
            Some(*ok)
        }))
        .collect();
    let forecasts: Vec<OriginForecast> = origins(values.len(), spec)
        .into_iter()
        .filter_map(|o| {
            let seen = &values[o.saturating_sub(spec.max_history.max(1))..o];
            let mut f = forecast(seen, spec.max_horizon, model, cfg).ok()?;
            if never_negative[o] {
                for v in [&mut f.point, &mut f.lo95, &mut f.hi95] {
                    v.iter_mut().filter(|x| **x < 0.0).for_each(|x| *x = 0.0);
                }
            }
            Some(OriginForecast {
                origin: o,
                point: f.point,
                lo95: f.lo95,
                hi95: f.hi95,
            })
        })
        .collect();
    let scores = score(values, &forecasts, &spec.horizons);
    ModelBacktest {
        model,
        scores,
        forecasts,
    }
}

/// The streaming detection pass of `novacron detect`: one `(score, is_anomaly)` per row,
/// each decided from rows `0..=t` only.
#[must_use]
pub fn detect_rows(values: &[f64], cfg: &EnsembleConfig) -> Vec<(f64, bool)> {
    detect(values, cfg)
        .into_iter()
        .map(|d| (d.score, d.is_anomaly))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> BacktestSpec {
        BacktestSpec {
            warmup: 48,
            step: 12,
            max_horizon: 12,
            horizons: vec![12],
            max_history: 28 * 288,
        }
    }

    #[test]
    fn coverage_and_smape_count_where_mase_has_no_scale() {
        // Every other row missing: no two observed rows in a row, so no MASE scale, but
        // half the scored rows are observed.
        let ys: Vec<f64> = (0..120)
            .map(|i| {
                if i % 2 == 0 {
                    10.0 + f64::from(i % 3)
                } else {
                    f64::NAN
                }
            })
            .collect();
        let bt = backtest_model(&ys, ModelKind::Median, &small(), &ForecastConfig::default());
        let s = &bt.scores[0];
        assert!(s.mase.is_nan() && s.origins == 0, "{s:?}");
        assert!(s.coverage95.is_finite() && s.smape.is_finite(), "{s:?}");
    }

    #[test]
    fn a_series_never_negative_gets_no_negative_forecast_or_bound() {
        // Falling fast toward 0: the trend and its band would go below it.
        let ys: Vec<f64> = (0..120).map(|i| (119.0 - f64::from(i)) * 0.5).collect();
        let bt = backtest_model(
            &ys,
            ModelKind::LinearTrend,
            &small(),
            &ForecastConfig::default(),
        );
        let last = bt.forecasts.last().unwrap();
        assert!(
            last.lo95.iter().chain(&last.point).all(|v| *v >= 0.0),
            "{last:?}"
        );
        assert!(last.lo95.contains(&0.0), "the band reached 0: {last:?}");
        // With a negative value in the history, nothing is cut.
        let mut neg = ys.clone();
        neg[3] = -1.0;
        let bt = backtest_model(
            &neg,
            ModelKind::LinearTrend,
            &small(),
            &ForecastConfig::default(),
        );
        assert!(bt.forecasts.last().unwrap().lo95.iter().any(|v| *v < 0.0));
    }

    #[test]
    fn models_see_at_most_max_history_rows() {
        // 110 rows at 50, then 10 at 10: the median of 36 rows says 50 with all of the
        // history, 10 when only the last 10 rows are seen.
        let ys: Vec<f64> = (0..132)
            .map(|i| if i < 110 { 50.0 } else { 10.0 })
            .collect();
        let spec = BacktestSpec {
            warmup: 120,
            max_history: 10,
            ..small()
        };
        let bt = backtest_model(&ys, ModelKind::Median, &spec, &ForecastConfig::default());
        assert!((bt.forecasts[0].point[0] - 10.0).abs() < 1e-12);
        let all = BacktestSpec {
            max_history: 1000,
            ..spec
        };
        let bt = backtest_model(&ys, ModelKind::Median, &all, &ForecastConfig::default());
        assert!((bt.forecasts[0].point[0] - 50.0).abs() < 1e-12);
    }
}
