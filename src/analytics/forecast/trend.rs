//! Least-squares linear trend with Student-t prediction intervals.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::analytics::stats::count_f64;

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
        let x0 = self.end - 1.0 + count_f64(step);
        let nf = count_f64(self.n);
        let lever = if self.sxx > 0.0 {
            (x0 - self.mean_x).powi(2) / self.sxx
        } else {
            0.0
        };
        self.sigma * (1.0 + 1.0 / nf + lever).sqrt()
    }
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
    fn interval_widens_with_horizon() {
        let ys: Vec<f64> = (0..40)
            .map(|i| f64::from(i) + if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let fit = LinearFit::fit(&ys).unwrap();
        assert!(fit.half_width(1, 0.95) < fit.half_width(50, 0.95));
        assert!(fit.half_width(5, 0.8) < fit.half_width(5, 0.95));
    }
}
