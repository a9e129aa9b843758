//! Forecast models over a row-indexed history (one row per sample interval, gaps as NaN).
//!
//! [`forecast`] runs one model, or the automatic choice ([`ModelKind::Auto`]): a combination
//! of robust members weighted by a rolling backtest on the history itself (see [`select`]),
//! with intervals taken from the empirical quantiles of that backtest's errors.

pub mod holt;
pub mod intervals;
pub mod mix;
pub mod robust;
pub mod select;
pub mod simple;
pub mod trend;

use serde::Serialize;

use super::AnalyticsError;
use holt::HoltFit;
use trend::LinearFit;

/// The forecast models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Last value.
    Naive,
    /// Value one season earlier.
    SeasonalNaive,
    /// Least-squares line over the last `trend_window` rows, Student-t intervals.
    LinearTrend,
    /// Damped Holt, parameters fitted on the series.
    Holt,
    /// Additive damped Holt-Winters with the daily season (two seasons of history needed).
    HoltWinters,
    /// Median of the last `median_window` rows.
    Median,
    /// Robust daily profile plus a median level.
    RobustSeasonal,
    /// Backtest-weighted combination of the above (see [`select`]).
    Auto,
    /// Least-squares line plus the daily profile of its residuals, for capacity days ahead
    /// ([`trend::trend_with_daily_profile`]); not in [`ModelKind::ALL`], which is what the
    /// hours-ahead backtest compares.
    TrendDaily,
}

impl ModelKind {
    /// Every model, the automatic choice last.
    pub const ALL: [Self; 8] = [
        Self::Naive,
        Self::SeasonalNaive,
        Self::LinearTrend,
        Self::Holt,
        Self::HoltWinters,
        Self::Median,
        Self::RobustSeasonal,
        Self::Auto,
    ];

    /// Short name used in tables, CSV and JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Naive => "naive",
            Self::SeasonalNaive => "seasonal_naive",
            Self::LinearTrend => "linear_trend",
            Self::Holt => "holt",
            Self::HoltWinters => "holt_winters",
            Self::Median => "median",
            Self::RobustSeasonal => "robust_seasonal",
            Self::Auto => "auto",
            Self::TrendDaily => "trend_daily",
        }
    }
}

/// Settings shared by the models. Defaults suit 5-minute samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastConfig {
    /// Rows per season (a day: 288 rows of 5 minutes).
    pub season: usize,
    /// Rows the linear trend is fitted on.
    pub trend_window: usize,
    /// Rows of the median model.
    pub median_window: usize,
    /// Settings of the rolling backtest behind `Auto` and the empirical intervals.
    pub selection: select::SelectionConfig,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        Self {
            season: 288,
            trend_window: 288,
            median_window: 36,
            selection: select::SelectionConfig::default(),
        }
    }
}

/// A forecast of `point.len()` rows after the history, with 80 % and 95 % intervals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The model that produced the point forecast (after any fallback for short history).
    pub model: ModelKind,
    pub point: Vec<f64>,
    pub lo80: Vec<f64>,
    pub hi80: Vec<f64>,
    pub lo95: Vec<f64>,
    pub hi95: Vec<f64>,
    /// What the automatic choice combined, per range of steps (empty for one model).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mix: Vec<mix::MixPart>,
}

impl Forecast {
    /// The point forecast and the four band edges, to change all alike.
    pub fn values_mut(&mut self) -> [&mut Vec<f64>; 5] {
        [
            &mut self.point,
            &mut self.lo80,
            &mut self.hi80,
            &mut self.lo95,
            &mut self.hi95,
        ]
    }

    /// Drops the first `n` steps: a forecast made from the last recorded row over a gap
    /// up to now keeps the steps from now on, with the bands the gap widened.
    pub fn skip_steps(&mut self, n: usize) {
        for v in self.values_mut() {
            v.drain(..n.min(v.len()));
        }
        self.mix.retain(|p| p.last_step > n);
        for p in &mut self.mix {
            p.first_step = p.first_step.saturating_sub(n).max(1);
            p.last_step -= n;
        }
    }

    /// A forecast with symmetric Gaussian-style bands of standard deviation `sigma(step)`.
    fn with_sigma(model: ModelKind, point: Vec<f64>, sigma: impl Fn(usize) -> f64) -> Self {
        const Z80: f64 = 1.281_551_565_5;
        const Z95: f64 = 1.959_963_985;
        let band = |z: f64, sign: f64| -> Vec<f64> {
            point
                .iter()
                .enumerate()
                .map(|(i, p)| p + sign * z * sigma(i + 1))
                .collect()
        };
        Self {
            model,
            lo80: band(Z80, -1.0),
            hi80: band(Z80, 1.0),
            lo95: band(Z95, -1.0),
            hi95: band(Z95, 1.0),
            point,
            mix: Vec::new(),
        }
    }
}

/// Forecasts `horizon` rows after `history` with `model`.
///
/// Models that need more history than there is fall back (Holt-Winters → Holt, seasonal
/// models → median, Holt and trend → naive); [`Forecast::model`] says which one ran.
///
/// # Errors
/// [`AnalyticsError::TooShort`] when `history` holds no finite value.
pub fn forecast(
    history: &[f64],
    horizon: usize,
    model: ModelKind,
    cfg: &ForecastConfig,
) -> Result<Forecast, AnalyticsError> {
    in_working_range(history, |ys| forecast_in_range(ys, horizon, model, cfg))
}

/// Runs `run` on `history` brought to magnitudes near 1 when they are extreme (below 1e-100
/// or above 1e100), by a power of two, which is exact, and scales its forecasts back. The
/// models' squared errors would underflow to zero (bands of no width) or overflow there.
fn in_working_range<T: Scaled>(
    history: &[f64],
    run: impl FnOnce(&[f64]) -> Result<T, AnalyticsError>,
) -> Result<T, AnalyticsError> {
    let top = history
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    if top == 0.0 || (1e-100..=1e100).contains(&top) {
        return run(history);
    }
    let k = -top.log2().round();
    let scaled: Vec<f64> = history.iter().map(|v| times_pow2(*v, k)).collect();
    let mut out = run(&scaled)?;
    out.scale(-k);
    Ok(out)
}

/// `v` × 2^`k`, in steps that stay finite: 2^1030 (for a subnormal 1e-310) is past f64.
fn times_pow2(v: f64, k: f64) -> f64 {
    let half = (k / 2.0).trunc();
    v * half.exp2() * (k - half).exp2()
}

/// Forecasts scaled back by [`in_working_range`].
trait Scaled {
    /// Multiplies every value by 2^`k`.
    fn scale(&mut self, k: f64);
}

impl Scaled for Forecast {
    fn scale(&mut self, k: f64) {
        for v in self.values_mut() {
            for x in v.iter_mut() {
                *x = times_pow2(*x, k);
            }
        }
    }
}

impl Scaled for Vec<Forecast> {
    fn scale(&mut self, k: f64) {
        for f in self.iter_mut() {
            f.scale(k);
        }
    }
}

fn forecast_in_range(
    history: &[f64],
    horizon: usize,
    model: ModelKind,
    cfg: &ForecastConfig,
) -> Result<Forecast, AnalyticsError> {
    if !history.iter().any(|x| x.is_finite()) {
        return Err(AnalyticsError::TooShort { needed: 1, got: 0 });
    }
    let out = match model {
        ModelKind::LinearTrend => {
            let start = history.len().saturating_sub(cfg.trend_window.max(3));
            LinearFit::fit(&history[start..]).map(|fit| {
                let point = (1..=horizon).map(|s| fit.predict(s)).collect();
                fit.with_bands(model, point, fit.sigma)
            })
        }
        ModelKind::Holt => holt::fit_holt(history).map(|fit| from_holt(model, &fit, horizon)),
        ModelKind::HoltWinters => {
            holt::fit_holt_winters(history, cfg.season).map(|fit| from_holt(model, &fit, horizon))
        }
        ModelKind::Auto => select::auto_forecast(history, horizon, cfg),
        ModelKind::TrendDaily => {
            trend::trend_with_daily_profile(history, horizon, cfg.trend_window, cfg.season)
        }
        ModelKind::Naive
        | ModelKind::SeasonalNaive
        | ModelKind::Median
        | ModelKind::RobustSeasonal => select::empirical_forecast(history, horizon, model, cfg),
    };
    if let Some(f) = out {
        return Ok(f);
    }
    let fallback = match model {
        ModelKind::HoltWinters => ModelKind::Holt,
        ModelKind::TrendDaily => ModelKind::LinearTrend,
        ModelKind::SeasonalNaive | ModelKind::RobustSeasonal | ModelKind::Auto => ModelKind::Median,
        _ => ModelKind::Naive,
    };
    if fallback == model {
        return Err(AnalyticsError::TooShort {
            needed: 2,
            got: history.len(),
        });
    }
    forecast_in_range(history, horizon, fallback, cfg)
}

/// Every model of [`ModelKind::ALL`] at once, in that order, sharing one rolling backtest
/// (much cheaper than calling [`forecast`] per model).
///
/// # Errors
/// [`AnalyticsError::TooShort`] when `history` holds no finite value.
pub fn forecast_all(
    history: &[f64],
    horizon: usize,
    cfg: &ForecastConfig,
) -> Result<Vec<Forecast>, AnalyticsError> {
    in_working_range(history, |ys| forecast_all_in_range(ys, horizon, cfg))
}

fn forecast_all_in_range(
    history: &[f64],
    horizon: usize,
    cfg: &ForecastConfig,
) -> Result<Vec<Forecast>, AnalyticsError> {
    if !history.iter().any(|x| x.is_finite()) {
        return Err(AnalyticsError::TooShort { needed: 1, got: 0 });
    }
    let pool = select::Member::pool(cfg);
    let fits = select::Fits::new(history, &pool, cfg, horizon);
    let runs = select::PoolRuns::new(history, horizon, &pool, cfg, &fits);
    ModelKind::ALL
        .iter()
        .map(|&model| {
            let shared = match model {
                ModelKind::Auto => select::auto_from_runs(history, &runs, cfg),
                ModelKind::Holt => fits.holt.as_ref().map(|f| from_holt(model, f, horizon)),
                ModelKind::HoltWinters => fits
                    .holt_winters
                    .as_ref()
                    .map(|f| from_holt(model, f, horizon)),
                ModelKind::LinearTrend => None,
                _ => select::empirical_from_runs(history, &runs, model, cfg),
            };
            shared.map_or_else(|| forecast_in_range(history, horizon, model, cfg), Ok)
        })
        .collect()
}

fn from_holt(model: ModelKind, fit: &HoltFit, horizon: usize) -> Forecast {
    let point = (1..=horizon).map(|s| fit.predict(s)).collect();
    Forecast::with_sigma(model, point, |s| fit.step_sigma(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> ForecastConfig {
        ForecastConfig {
            season: 24,
            ..ForecastConfig::default()
        }
    }

    #[test]
    fn linear_series_forecasts_exactly_with_trend() {
        let ys: Vec<f64> = (0..100).map(|i| 2.0 * f64::from(i)).collect();
        let f = forecast(&ys, 5, ModelKind::LinearTrend, &cfg()).unwrap();
        assert_eq!(f.model, ModelKind::LinearTrend);
        for (s, p) in f.point.iter().enumerate() {
            assert!((p - 2.0 * (100.0 + super::super::stats::count_f64(s))).abs() < 1e-9);
        }
    }

    #[test]
    fn empty_history_is_an_error() {
        assert!(forecast(&[], 3, ModelKind::Auto, &cfg()).is_err());
        assert!(forecast(&[f64::NAN; 4], 3, ModelKind::Naive, &cfg()).is_err());
    }

    #[test]
    fn short_history_falls_back() {
        let f = forecast(&[1.0, 2.0, 3.0], 4, ModelKind::HoltWinters, &cfg()).unwrap();
        assert_eq!(f.model, ModelKind::Naive);
        assert_eq!(f.point, vec![3.0; 4]);
    }

    #[test]
    fn intervals_widen_with_horizon() {
        let ys: Vec<f64> = (0..300)
            .map(|i| f64::from(i % 5) + f64::from(i % 3))
            .collect();
        for model in [ModelKind::LinearTrend, ModelKind::Holt, ModelKind::Auto] {
            let f = forecast(&ys, 60, model, &cfg()).unwrap();
            let w = |s: usize| f.hi95[s] - f.lo95[s];
            assert!(w(0) <= w(59) + 1e-9, "{model:?}: {} > {}", w(0), w(59));
            assert!(f.hi80[10] <= f.hi95[10] + 1e-9);
        }
    }

    #[test]
    fn tiny_and_huge_series_get_the_bands_of_ordinary_ones() {
        let ys: Vec<f64> = (0..300).map(|i| 5.0 + f64::from(i * 37 % 11)).collect();
        for model in [ModelKind::LinearTrend, ModelKind::Holt, ModelKind::Auto] {
            let f = forecast(&ys, 12, model, &cfg()).unwrap();
            for scale in [1e-300, 1e-310, 1e200] {
                let scaled: Vec<f64> = ys.iter().map(|v| v * scale).collect();
                let g = forecast(&scaled, 12, model, &cfg()).unwrap();
                let (w, v) = (f.hi95[11] - f.lo95[11], (g.hi95[11] - g.lo95[11]) / scale);
                assert!(
                    w > 0.0 && (v / w - 1.0).abs() < 1e-6,
                    "{model:?} × {scale}: {v} vs {w}"
                );
            }
        }
    }

    #[test]
    fn a_short_forecast_is_the_start_of_a_longer_one() {
        // Noisy daily waves: the members differ, so the weights matter.
        let ys: Vec<f64> = (0..600)
            .map(|i| {
                let t = f64::from(i);
                50.0 + 20.0 * (t / 24.0 * std::f64::consts::TAU).sin() + f64::from(i * 37 % 11)
            })
            .collect();
        let long = forecast(&ys, 72, ModelKind::Auto, &cfg()).unwrap();
        // Longer than the last weight bucket too: the far steps do not reweigh the near ones.
        let far = forecast(&ys, 500, ModelKind::Auto, &cfg()).unwrap();
        for s in 0..72 {
            assert!((far.point[s] - long.point[s]).abs() < 1e-9, "500: step {s}");
            assert!((far.hi95[s] - long.hi95[s]).abs() < 1e-9, "500: step {s}");
        }
        for h in [1, 2, 12, 13, 40] {
            let short = forecast(&ys, h, ModelKind::Auto, &cfg()).unwrap();
            assert_eq!(short.point.len(), h);
            for s in 0..h {
                assert!(
                    (short.point[s] - long.point[s]).abs() < 1e-9,
                    "{h}: step {s}"
                );
                assert!((short.hi95[s] - long.hi95[s]).abs() < 1e-9, "{h}: step {s}");
            }
        }
    }

    proptest! {
        #[test]
        fn no_nan_on_constant_or_gappy_input(
            len in 1usize..120,
            level in -1e6f64..1e6,
            gaps in proptest::collection::vec(any::<bool>(), 120),
        ) {
            let ys: Vec<f64> = (0..len).map(|i| if gaps[i] && i > 0 { f64::NAN } else { level }).collect();
            for model in ModelKind::ALL {
                let f = forecast(&ys, 12, model, &cfg()).unwrap();
                for v in f.point.iter().chain(&f.lo95).chain(&f.hi95).chain(&f.lo80).chain(&f.hi80) {
                    prop_assert!(v.is_finite(), "{model:?} gave {v}");
                }
                prop_assert!((f.point[0] - level).abs() <= 1e-6 * level.abs().max(1.0), "{model:?}");
            }
        }
    }
}
