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
}

impl Default for BacktestSpec {
    fn default() -> Self {
        Self {
            warmup: 576,
            step: 12,
            max_horizon: 72,
            horizons: vec![12, 72],
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
    /// Mean over origins of MAE(steps 1..=h) / in-sample one-step naive MAE.
    pub mase: f64,
    /// Mean symmetric MAPE in percent (0 where actual and forecast are both 0).
    pub smape: f64,
    /// Share of actuals inside the 95 % interval.
    pub coverage95: f64,
    /// Origins that were scored.
    pub origins: usize,
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
    for f in forecasts {
        let o = f.origin;
        let Some(scale) = mean_abs_diff(&values[..o.min(values.len())]) else {
            continue;
        };
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
#[must_use]
pub fn backtest_model(
    values: &[f64],
    model: ModelKind,
    spec: &BacktestSpec,
    cfg: &ForecastConfig,
) -> ModelBacktest {
    let forecasts: Vec<OriginForecast> = origins(values.len(), spec)
        .into_iter()
        .filter_map(|o| {
            let f = forecast(&values[..o], spec.max_horizon, model, cfg).ok()?;
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
