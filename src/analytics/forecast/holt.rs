//! Damped Holt (ETS A,Ad,N) and additive Holt-Winters (ETS A,Ad,A), in error-correction form.
//!
//! Parameters are fitted on the series by a small grid search that minimises the one-step
//! mean absolute error: absolute rather than squared errors so that a few spikes do not drag
//! the smoothing constants towards chasing them. Gaps (NaN) skip the state update.

use serde::Serialize;

use crate::analytics::stats::{count_f64, mean};

/// Smoothing parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HoltParams {
    pub alpha: f64,
    /// Trend smoothing (error-correction form, `beta <= alpha`).
    pub beta: f64,
    /// Trend damping, `0 < phi <= 1`.
    pub phi: f64,
    /// Seasonal smoothing (0 for non-seasonal Holt).
    pub gamma: f64,
}

/// A fitted model: final state plus the one-step residual scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoltFit {
    pub params: HoltParams,
    pub level: f64,
    pub trend: f64,
    /// Seasonal states for the next `season` rows, in order (empty when non-seasonal).
    pub seasonal: Vec<f64>,
    /// Root mean square one-step error.
    pub sigma: f64,
    /// Mean absolute one-step error (the fitted criterion).
    pub mae: f64,
}

const ALPHAS: [f64; 6] = [0.05, 0.1, 0.2, 0.35, 0.6, 0.9];
const BETA_FRACTIONS: [f64; 3] = [0.0, 0.05, 0.2];
const PHIS: [f64; 2] = [0.9, 0.98];
const GAMMAS: [f64; 3] = [0.05, 0.15, 0.3];
/// Holt-Winters searches a coarser grid: its runs cost a season-sized state each.
const HW_ALPHAS: [f64; 4] = [0.05, 0.15, 0.35, 0.7];
const HW_BETA_FRACTIONS: [f64; 2] = [0.0, 0.05];
const HW_PHIS: [f64; 1] = [0.98];
/// Rows whose one-step errors are not counted while the state settles.
const BURN_IN: usize = 12;

impl HoltFit {
    /// Point forecast for `step` rows ahead (1 = next row).
    #[must_use]
    pub fn predict(&self, step: usize) -> f64 {
        let phi = self.params.phi;
        let damp: f64 = if (phi - 1.0).abs() < f64::EPSILON {
            count_f64(step)
        } else {
            phi * (1.0 - phi.powi(i32::try_from(step).unwrap_or(i32::MAX))) / (1.0 - phi)
        };
        let season = if self.seasonal.is_empty() {
            0.0
        } else {
            self.seasonal[step.saturating_sub(1) % self.seasonal.len()]
        };
        self.level + damp * self.trend + season
    }

    /// Standard deviation of the `step`-ahead error under the model.
    #[must_use]
    pub fn step_sigma(&self, step: usize) -> f64 {
        let HoltParams {
            alpha,
            beta,
            phi,
            gamma,
        } = self.params;
        let m = self.seasonal.len();
        let mut var = 1.0;
        let mut phi_pow = 1.0;
        let mut damp_sum = 0.0;
        for j in 1..step {
            phi_pow *= phi;
            damp_sum += phi_pow;
            let seasonal = if m > 0 && j % m == 0 { gamma } else { 0.0 };
            let c = alpha + beta * damp_sum + seasonal;
            var += c * c;
        }
        self.sigma * var.sqrt()
    }
}

/// Runs the filter with fixed parameters; returns the fit or `None` without finite data.
fn run(ys: &[f64], params: HoltParams, season: usize, init: &Init) -> Option<HoltFit> {
    run_with(ys, params, season, init, |_, _, _, _| {})
}

/// Runs the filter; `at_origin(t, level, trend, seasonal_ring)` is called before row `t` is
/// seen, with the state after rows `0..t` (the ring is indexed by row modulo the season).
fn run_with(
    ys: &[f64],
    params: HoltParams,
    season: usize,
    init: &Init,
    mut at_origin: impl FnMut(usize, f64, f64, &[f64]),
) -> Option<HoltFit> {
    let HoltParams {
        alpha,
        beta,
        phi,
        gamma,
    } = params;
    let (mut level, mut trend) = (init.level, 0.0);
    let mut seas = init.seasonal.clone();
    let (mut abs_sum, mut sq_sum, mut k) = (0.0, 0.0, 0_usize);
    for (t, &y) in ys.iter().enumerate() {
        if t > 0 {
            at_origin(t, level, trend, &seas);
        }
        let si = if season > 0 { t % season } else { 0 };
        let s = if season > 0 { seas[si] } else { 0.0 };
        let pred_level = level + phi * trend;
        if !y.is_finite() {
            level = pred_level;
            trend *= phi;
            continue;
        }
        let e = y - (pred_level + s);
        if t >= BURN_IN {
            abs_sum += e.abs();
            sq_sum += e * e;
            k += 1;
        }
        level = pred_level + alpha * e;
        trend = phi * trend + beta * e;
        if season > 0 {
            seas[si] = s + gamma * e;
        }
    }
    if k == 0 {
        return None;
    }
    let kf = count_f64(k);
    let n = ys.len();
    let seasonal = (0..season).map(|s| seas[(n + s) % season]).collect();
    Some(HoltFit {
        params,
        level,
        trend,
        seasonal,
        sigma: (sq_sum / kf).sqrt(),
        mae: abs_sum / kf,
    })
}

struct Init {
    level: f64,
    seasonal: Vec<f64>,
}

fn fit_grid(ys: &[f64], season: usize, init: &Init) -> Option<HoltFit> {
    let (alphas, betas, phis, gammas): (&[f64], &[f64], &[f64], &[f64]) = if season > 0 {
        (&HW_ALPHAS, &HW_BETA_FRACTIONS, &HW_PHIS, &GAMMAS)
    } else {
        (&ALPHAS, &BETA_FRACTIONS, &PHIS, &[0.0])
    };
    let mut best: Option<HoltFit> = None;
    for &alpha in alphas {
        for &bf in betas {
            for &phi in phis {
                for &gamma in gammas {
                    let params = HoltParams {
                        alpha,
                        beta: alpha * bf,
                        phi,
                        gamma: gamma * (1.0 - alpha),
                    };
                    let Some(fit) = run(ys, params, season, init) else {
                        continue;
                    };
                    if best.as_ref().is_none_or(|b| fit.mae < b.mae) {
                        best = Some(fit);
                    }
                }
            }
        }
    }
    best
}

/// Forecasts made at each origin of `origins` (rows seen `0..origin`) by the model `fit` was
/// fitted with, in one filter pass: `horizon` rows from the end of `ys`, and from an inner
/// origin only the rows `ys` holds after it. Parameters stay those of `fit`.
#[must_use]
pub fn rolling_forecasts(
    ys: &[f64],
    fit: &HoltFit,
    origins: &[usize],
    horizon: usize,
) -> Vec<Vec<f64>> {
    let season = fit.seasonal.len();
    let Some(init) = initial_state(ys, season) else {
        return vec![Vec::new(); origins.len()];
    };
    let mut out = vec![Vec::new(); origins.len()];
    let mut probe = HoltFit {
        seasonal: vec![0.0; season],
        ..fit.clone()
    };
    let _ = run_with(ys, fit.params, season, &init, |t, level, trend, ring| {
        if let Ok(i) = origins.binary_search(&t) {
            probe.level = level;
            probe.trend = trend;
            for (s, v) in probe.seasonal.iter_mut().enumerate() {
                *v = ring[(t + s) % season];
            }
            // From an inner origin, only the steps the history holds (see `select`).
            let steps = horizon.min(ys.len() - t);
            out[i] = (1..=steps).map(|s| probe.predict(s)).collect();
        }
    });
    if let Some(last) = origins.iter().position(|&o| o == ys.len()) {
        out[last] = (1..=horizon).map(|s| fit.predict(s)).collect();
    }
    out
}

fn initial_state(ys: &[f64], season: usize) -> Option<Init> {
    if season == 0 {
        let level = ys.iter().copied().find(|y| y.is_finite())?;
        return Some(Init {
            level,
            seasonal: Vec::new(),
        });
    }
    if ys.len() < 2 * season {
        return None;
    }
    let level = mean(&ys[..season])?;
    let seasonal = (0..season)
        .map(|s| mean(&[ys[s], ys[s + season]]).map_or(0.0, |m| m - level))
        .collect();
    Some(Init { level, seasonal })
}

/// Fits damped Holt on `ys` (needs at least `BURN_IN + 2` rows with a finite value).
#[must_use]
pub fn fit_holt(ys: &[f64]) -> Option<HoltFit> {
    if ys.len() < BURN_IN + 2 {
        return None;
    }
    fit_grid(ys, 0, &initial_state(ys, 0)?)
}

/// Fits additive damped Holt-Winters with period `season` (needs two full seasons).
#[must_use]
pub fn fit_holt_winters(ys: &[f64], season: usize) -> Option<HoltFit> {
    if season < 2 || ys.len() < 2 * season {
        return None;
    }
    fit_grid(ys, season, &initial_state(ys, season)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holt_follows_a_line() {
        let ys: Vec<f64> = (0..200).map(|i| 10.0 + 2.0 * f64::from(i)).collect();
        let fit = fit_holt(&ys).unwrap();
        // Damping bends the line, but the next rows stay close.
        assert!((fit.predict(1) - 410.0).abs() < 1.0, "{}", fit.predict(1));
    }

    #[test]
    fn holt_winters_recovers_pure_season() {
        let season = 24;
        let ys: Vec<f64> = (0..season * 5)
            .map(|i| 50.0 + 10.0 * (std::f64::consts::TAU * count_f64(i % season) / 24.0).sin())
            .collect();
        let fit = fit_holt_winters(&ys, season).unwrap();
        for step in 1..=season {
            let truth = 50.0
                + 10.0
                    * (std::f64::consts::TAU * count_f64((ys.len() + step - 1) % season) / 24.0)
                        .sin();
            assert!(
                (fit.predict(step) - truth).abs() < 0.5,
                "step {step}: {} vs {truth}",
                fit.predict(step)
            );
        }
    }

    #[test]
    fn sigma_grows_with_step() {
        let ys: Vec<f64> = (0..100).map(|i| f64::from(i % 7)).collect();
        let fit = fit_holt(&ys).unwrap();
        assert!(fit.step_sigma(1) <= fit.step_sigma(12));
    }

    #[test]
    fn gaps_do_not_poison_state() {
        let mut ys = vec![5.0; 60];
        ys[30] = f64::NAN;
        let fit = fit_holt(&ys).unwrap();
        assert!((fit.predict(3) - 5.0).abs() < 1e-9);
        assert!(fit_holt(&[f64::NAN; 40]).is_none());
    }
}
