//! Least-squares linear trend with Student-t prediction intervals.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{Forecast, ModelKind};
use crate::analytics::stats::{count_f64, median_in_place};

/// A fitted line `value = intercept + slope * row`, rows counted from the window start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinearFit {
    pub intercept: f64,
    /// Change per row.
    pub slope: f64,
    /// Residual standard error (n − 2 degrees of freedom).
    pub sigma: f64,
    /// Finite points used.
    pub n: usize,
    mean_x: f64,
    sxx: f64,
    /// Row index (within the window) one past the last row.
    end: f64,
}

impl LinearFit {
    /// Fits the finite points of `ys` (row `i` at x = i); `None` below 3 points.
    #[must_use]
    pub fn fit(ys: &[f64]) -> Option<Self> {
        let pts: Vec<(f64, f64)> = ys
            .iter()
            .enumerate()
            .filter(|(_, y)| y.is_finite())
            .map(|(i, y)| (count_f64(i), *y))
            .collect();
        let n = pts.len();
        if n < 3 {
            return None;
        }
        let nf = count_f64(n);
        let mean_x = pts.iter().map(|p| p.0).sum::<f64>() / nf;
        let mean_y = pts.iter().map(|p| p.1).sum::<f64>() / nf;
        let sxx: f64 = pts.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
        let sxy: f64 = pts.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let intercept = mean_y - slope * mean_x;
        let sse: f64 = pts
            .iter()
            .map(|p| (p.1 - intercept - slope * p.0).powi(2))
            .sum();
        let sigma = (sse / (nf - 2.0)).sqrt();
        Some(Self {
            intercept,
            slope,
            sigma,
            n,
            mean_x,
            sxx,
            end: count_f64(ys.len()),
        })
    }

    /// Predicted value `step` rows after the last row (step 1 = next row).
    #[must_use]
    pub fn predict(&self, step: usize) -> f64 {
        self.intercept + self.slope * (self.end - 1.0 + count_f64(step))
    }

    /// Half-width of the two-sided `level` prediction interval at `step`.
    #[must_use]
    pub fn half_width(&self, step: usize, level: f64) -> f64 {
        self.t_for(level) * self.prediction_se(step)
    }

    /// Student-t quantile for a two-sided `level` interval with this fit's degrees of freedom.
    #[must_use]
    pub fn t_for(&self, level: f64) -> f64 {
        t_quantile(0.5 + level / 2.0, count_f64(self.n) - 2.0)
    }

    /// Standard error of a new observation `step` rows ahead.
    #[must_use]
    pub fn prediction_se(&self, step: usize) -> f64 {
        self.sigma * self.se_factor(step)
    }

    /// Prediction standard error `step` rows ahead per unit of residual sigma: the new
    /// observation, the mean's uncertainty and the slope's, which grows with the distance.
    fn se_factor(&self, step: usize) -> f64 {
        let x0 = self.end - 1.0 + count_f64(step);
        let nf = count_f64(self.n);
        let lever = if self.sxx > 0.0 {
            (x0 - self.mean_x).powi(2) / self.sxx
        } else {
            0.0
        };
        (1.0 + 1.0 / nf + lever).sqrt()
    }

    /// `point` (a forecast of the rows after the window) with Student-t prediction bands for
    /// residuals of standard deviation `sigma` ([`Self::sigma`] for the plain line).
    #[must_use]
    pub fn with_bands(&self, model: ModelKind, point: Vec<f64>, sigma: f64) -> Forecast {
        let mut f = Forecast::with_sigma(model, point, |_| 0.0);
        let (t80, t95) = (self.t_for(0.8), self.t_for(0.95));
        for s in 0..f.point.len() {
            let se = sigma * self.se_factor(s + 1);
            f.lo80[s] -= t80 * se;
            f.hi80[s] += t80 * se;
            f.lo95[s] -= t95 * se;
            f.hi95[s] += t95 * se;
        }
        f
    }

    /// The line at row `i` of the window it was fitted on.
    fn at(&self, i: usize) -> f64 {
        self.intercept + self.slope * count_f64(i)
    }
}

/// Median of the residuals of `ys` from `base(row)` at each time of day, pooling each with
/// its neighbours ±`season / 48` rows; rows whose residual is not finite are left out.
pub(crate) fn residual_profile(
    ys: &[f64],
    base: impl Fn(usize) -> f64,
    season: usize,
    phase: impl Fn(usize) -> usize,
) -> Vec<f64> {
    let mut by_phase = vec![Vec::new(); season];
    for (i, y) in ys.iter().enumerate() {
        let r = y - base(i);
        if r.is_finite() {
            by_phase[phase(i)].push(r);
        }
    }
    let reach = season / 48;
    let mut buf = Vec::new();
    (0..season)
        .map(|p| {
            buf.clear();
            for k in 0..=2 * reach {
                buf.extend_from_slice(&by_phase[(p + season + k - reach) % season]);
            }
            median_in_place(&mut buf).unwrap_or(0.0)
        })
        .collect()
}

/// The least-squares line through `ys` and the median daily profile of its residuals, fitted
/// together; row `i` of `ys` is at time of day `(offset + i) % season`. `None` below two
/// seasons of finite rows (the profile would be one day's noise) or three points.
fn line_with_daily_profile(
    ys: &[f64],
    season: usize,
    offset: usize,
) -> Option<(LinearFit, Vec<f64>)> {
    let mut fit = LinearFit::fit(ys)?;
    if season == 0 || fit.n < 2 * season {
        return None;
    }
    let phase = |row: usize| (offset + row) % season;
    // Backfitting: a line through a wave is tilted by where the window starts and ends in
    // the day (three days rising 0.01 a row under a ±10 wave fit a slope of 0.003), so the
    // line is refitted on the rows minus the profile until both settle.
    let mut profile = residual_profile(ys, |i| fit.at(i), season, phase);
    for _ in 0..4 {
        let flat: Vec<f64> = ys
            .iter()
            .enumerate()
            .map(|(i, y)| y - profile[phase(i)])
            .collect();
        fit = LinearFit::fit(&flat)?;
        profile = residual_profile(ys, |i| fit.at(i), season, phase);
    }
    Some((fit, profile))
}

/// The trend with a daily shape, for capacity days ahead: the least-squares line over the
/// last `window` rows plus the median daily profile of its residuals (each time of day
/// pooled with its neighbours ±`season / 48` rows), so a daily peak, not the line through
/// the day's middle, is what crosses a threshold first. Student-t bands from the residuals
/// the profile leaves, widening with the slope's uncertainty. `None` below two seasons of
/// finite rows (the profile would be one day's noise).
#[must_use]
pub fn trend_with_daily_profile(
    history: &[f64],
    horizon: usize,
    window: usize,
    season: usize,
) -> Option<Forecast> {
    let start = history.len().saturating_sub(window.max(3));
    let ys = &history[start..];
    let (fit, profile) = line_with_daily_profile(ys, season, start)?;
    let phase = |row: usize| (start + row) % season;
    let (sse, m) = ys
        .iter()
        .enumerate()
        .filter(|(_, y)| y.is_finite())
        .fold((0.0, 0_usize), |(sse, m), (i, y)| {
            (sse + (y - fit.at(i) - profile[phase(i)]).powi(2), m + 1)
        });
    let sigma = (sse / (count_f64(m) - 2.0).max(1.0)).sqrt();
    let point: Vec<f64> = (1..=horizon)
        .map(|s| fit.predict(s) + profile[phase(ys.len() + s - 1)])
        .collect();
    Some(fit.with_bands(ModelKind::TrendDaily, point, sigma))
}

/// Quantile of Student's t with `df` degrees of freedom (normal-like fallback of 1.96 at 97.5 %).
#[must_use]
pub fn t_quantile(p: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df.max(1.0))
        .map(|t| t.inverse_cdf(p))
        .ok()
        .filter(|q| q.is_finite())
        .unwrap_or(1.96)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_series_forecasts_exactly() {
        let ys: Vec<f64> = (0..50).map(|i| 3.0 + 0.5 * f64::from(i)).collect();
        let fit = LinearFit::fit(&ys).unwrap();
        assert!((fit.predict(1) - 28.0).abs() < 1e-9);
        assert!((fit.predict(10) - 32.5).abs() < 1e-9);
        assert!(fit.half_width(10, 0.95) < 1e-6);
    }

    #[test]
    fn the_daily_peaks_of_a_rising_series_are_forecast() {
        // Three days rising 0.01 a row, a daily wave of ±10 and a little noise.
        let truth = |t: usize| {
            0.01 * count_f64(t) + 10.0 * (std::f64::consts::TAU * count_f64(t % 288) / 288.0).sin()
        };
        let ys: Vec<f64> = (0..864)
            .map(|t| truth(t) + [0.3, -0.3, 0.1, -0.1][t % 4])
            .collect();
        let f = trend_with_daily_profile(&ys, 576, 864, 288).unwrap();
        assert_eq!(f.model, ModelKind::TrendDaily);
        for s in [1, 72, 144, 300, 576] {
            let want = truth(864 + s - 1);
            assert!(
                (f.point[s - 1] - want).abs() < 0.3,
                "step {s}: {} vs {want}",
                f.point[s - 1]
            );
            assert!(f.lo95[s - 1] < want && want < f.hi95[s - 1], "step {s}");
        }
        assert!(f.hi95[575] - f.lo95[575] > f.hi95[0] - f.lo95[0]);
        assert!(trend_with_daily_profile(&ys[..500], 10, 864, 288).is_none());
    }

    #[test]
    fn interval_widens_with_horizon() {
        let ys: Vec<f64> = (0..40)
            .map(|i| f64::from(i) + if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let fit = LinearFit::fit(&ys).unwrap();
        assert!(fit.half_width(1, 0.95) < fit.half_width(50, 0.95));
        assert!(fit.half_width(5, 0.8) < fit.half_width(5, 0.95));
    }
}
