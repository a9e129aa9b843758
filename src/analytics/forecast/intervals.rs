//! Empirical prediction intervals: quantiles of rolling-backtest errors, per horizon step.
//!
//! No distribution is assumed, which matters on spiky, skewed series: each side of a band is
//! its own quantile, so a forecast that has run low shows its band reaching up, not a mirror
//! of it. A band always holds its point, its 80 % band sits inside its 95 % band, and bands
//! never narrow as the horizon grows. Past the steps the backtest saw often enough, the last
//! such band grows in proportion to the step; without any, a random-walk band from the robust
//! spread of one-step changes stands in.

use super::{Forecast, ModelKind};
use crate::analytics::stats::{count_f64, mad, mean_abs_diff, quantile_sorted, MAD_TO_SIGMA};

/// Steps at which error quantiles are computed (about 25 % apart, first and last included);
/// the bands in between are interpolated, which keeps this cheap for long horizons.
fn anchor_steps(horizon: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut s = 1;
    while s < horizon {
        out.push(s);
        s = (s + s / 4).max(s + 1);
    }
    out.push(horizon.max(1));
    out
}

/// Backtest origins that must have seen a step for its errors to set its band: far steps are
/// seen only from the oldest origins, and a few origins' errors, pooled over nearby steps,
/// would pass for many.
const MIN_ORIGINS: usize = 6;

/// Error quantiles (2.5, 10, 90, 97.5 %) at 1-based `step`, pooling up to five nearby steps
/// centred on it (fewer at the end of the errors, so the last step is not judged by earlier,
/// smaller errors). `None` when too few origins saw the step.
fn step_offsets(errors: &[Vec<f64>], step: usize, buf: &mut Vec<f64>) -> Option<[f64; 4]> {
    if errors.get(step.checked_sub(1)?).map_or(0, Vec::len) < MIN_ORIGINS {
        return None;
    }
    let reach = (step / 5).max(1).min(errors.len().saturating_sub(step));
    buf.clear();
    let mut last = usize::MAX;
    for k in [0, reach / 2, reach, 3 * reach / 2, 2 * reach] {
        let s = (step + k).saturating_sub(reach + 1); // 0-based, centred on step - 1
        if s != last && s < errors.len() {
            buf.extend_from_slice(&errors[s]);
            last = s;
        }
    }
    if buf.len() < 10 {
        return None;
    }
    buf.sort_by(f64::total_cmp);
    let q = |p: f64| quantile_sorted(buf, p).unwrap_or(0.0);
    Some([q(0.025), q(0.1), q(0.9), q(0.975)])
}

/// Adds empirical bands from per-step errors (actual − forecast) to `point`.
pub(super) fn with_empirical_bands(
    model: ModelKind,
    ys: &[f64],
    point: Vec<f64>,
    errors: &[Vec<f64>],
) -> Forecast {
    let horizon = point.len();
    let mut f = Forecast::with_sigma(model, point, |_| 0.0);
    if horizon == 0 {
        return f;
    }
    // Fallback spread: sigma of one-step changes growing like a random walk, the larger of
    // the robust (MAD) estimate and √(π/2) × mean |change|. The MAD alone ignores the spikes
    // of a spiky series, and on an idle one with rare spikes it is 0 and claims certainty.
    let diffs: Vec<f64> = ys.windows(2).map(|w| w[1] - w[0]).collect();
    let step_sigma = (mad(&diffs).unwrap_or(0.0) * MAD_TO_SIGMA)
        .max(mean_abs_diff(ys).unwrap_or(0.0) * std::f64::consts::FRAC_PI_2.sqrt());
    let mut buf = Vec::new();
    // Past the last step the backtest saw often enough, its band grows in proportion to the
    // step (as a trend's error does), not from the one-step spread, which on a smooth series
    // is no guide to where it will be in days.
    let mut seen: Option<(usize, [f64; 4])> = None;
    let anchors: Vec<(usize, [f64; 4])> = anchor_steps(horizon)
        .into_iter()
        .map(|s| {
            let off = match (step_offsets(errors, s, &mut buf), seen) {
                (Some(off), _) => {
                    seen = Some((s, off));
                    off
                }
                (None, Some((s0, off0))) => off0.map(|o| o * count_f64(s) / count_f64(s0)),
                (None, None) => {
                    let sd = step_sigma * count_f64(s).sqrt();
                    [-1.96 * sd, -1.2816 * sd, 1.2816 * sd, 1.96 * sd]
                }
            };
            // Each side keeps its sign; a band that would not hold the point reaches it.
            let [q025, q10, q90, q975] = off;
            (
                s,
                [q025.min(0.0), q10.min(0.0), q90.max(0.0), q975.max(0.0)],
            )
        })
        .collect();
    // Offsets from the point: the low ones only fall and the high ones only rise with the
    // step, and the quantiles are ordered, so lo95 ≤ lo80 ≤ point ≤ hi80 ≤ hi95 throughout.
    let mut widest = [0.0_f64; 4];
    let mut a = 0;
    for s in 1..=horizon {
        while a + 1 < anchors.len() && anchors[a + 1].0 <= s {
            a += 1;
        }
        let (s0, w0) = anchors[a];
        let (s1, w1) = anchors.get(a + 1).copied().unwrap_or(anchors[a]);
        let t = if s1 > s0 {
            (count_f64(s) - count_f64(s0)) / (count_f64(s1) - count_f64(s0))
        } else {
            0.0
        };
        // Bands never narrow as the horizon grows.
        for k in 0..4 {
            let at = w0[k] + (w1[k] - w0[k]) * t.clamp(0.0, 1.0);
            widest[k] = if k < 2 {
                widest[k].min(at)
            } else {
                widest[k].max(at)
            };
        }
        let p = f.point[s - 1];
        f.lo95[s - 1] = p + widest[0];
        f.lo80[s - 1] = p + widest[1];
        f.hi80[s - 1] = p + widest[2];
        f.hi95[s - 1] = p + widest[3];
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_cover_the_horizon() {
        assert_eq!(anchor_steps(1), vec![1]);
        let a = anchor_steps(72);
        assert_eq!((a[0], *a.last().unwrap()), (1, 72));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
    }

    /// Backtest errors (actual − forecast) of `steps` steps at `origins` origins, from `f`.
    fn errors(steps: usize, origins: usize, f: impl Fn(usize, usize) -> f64) -> Vec<Vec<f64>> {
        (1..=steps)
            .map(|s| (0..origins).map(|o| f(s, o)).collect())
            .collect()
    }

    #[test]
    fn a_forecast_that_runs_low_gets_a_band_reaching_up_not_a_mirror() {
        // Every error is positive: the actuals came in 16 to 21 above the forecast.
        let e = errors(6, 40, |_, o| 16.0 + count_f64(o % 6));
        let f = with_empirical_bands(ModelKind::Median, &[1.0; 50], vec![100.0; 6], &e);
        for s in 0..6 {
            assert!((f.lo95[s] - 100.0).abs() < 1e-9 && (f.lo80[s] - 100.0).abs() < 1e-9);
            assert!(f.hi80[s] > 115.0 && f.hi95[s] >= f.hi80[s], "{:?}", f.hi80);
        }
    }

    #[test]
    fn bands_nest_hold_the_point_and_never_narrow() {
        // Skewed errors that grow with the step: -1..+5 times the step.
        let e = errors(72, 60, |s, o| (count_f64(o) / 10.0 - 1.0) * count_f64(s));
        let f = with_empirical_bands(ModelKind::Median, &[1.0; 100], vec![10.0; 72], &e);
        for s in 0..72 {
            let p = f.point[s];
            assert!(f.lo95[s] <= f.lo80[s] && f.lo80[s] <= p && p <= f.hi80[s]);
            assert!(f.hi80[s] <= f.hi95[s]);
            if s > 0 {
                assert!(f.lo95[s] <= f.lo95[s - 1] && f.hi95[s] >= f.hi95[s - 1]);
            }
        }
        // The high side is the wider one, as the errors are.
        assert!(f.hi95[71] - 10.0 > 2.0 * (10.0 - f.lo95[71]), "{f:?}");
    }

    #[test]
    fn far_steps_seen_by_few_origins_grow_from_the_last_well_seen_band_whatever_the_horizon() {
        // As the rolling backtest gives them: step s is seen from the (864 − s) / 12 origins
        // at least s rows back, each erring by ±1 % of the step.
        let seen = |steps: usize| -> Vec<Vec<f64>> {
            (1..=steps)
                .map(|s| {
                    (0..864usize.saturating_sub(s) / 12)
                        .map(|o| if o % 2 == 0 { 0.01 } else { -0.01 } * count_f64(s))
                        .collect()
                })
                .collect()
        };
        let ys = [1.0, 50.0].repeat(300); // a one-step spread far wider than the errors
        let (three, seven) = (864, 2016);
        let a = with_empirical_bands(ModelKind::Auto, &ys, vec![0.0; three], &seen(three));
        let b = with_empirical_bands(ModelKind::Auto, &ys, vec![0.0; seven], &seen(seven));
        for s in [700, 800, 864] {
            let (wa, wb) = (a.hi95[s - 1] - a.lo95[s - 1], b.hi95[s - 1] - b.lo95[s - 1]);
            assert!(
                (wa - wb).abs() < 1e-9 * wb.max(1.0),
                "step {s}: {wa} vs {wb}"
            );
        }
        // Step 2016 is twice as far as 1008, and its band about twice as wide: in proportion
        // to the step, not the random walk of the one-step spread (49 × √2016 ≈ 2200).
        let w = |s: usize| b.hi95[s - 1] - b.lo95[s - 1];
        assert!(
            (w(2016) / w(1008) - 2.0).abs() < 0.1,
            "{} {}",
            w(1008),
            w(2016)
        );
        assert!(w(2016) < 60.0, "{}", w(2016));
    }

    #[test]
    fn the_last_step_is_judged_by_its_own_errors() {
        // Errors are 0 but for ±100 at one origin in twenty at step 72: 5 % of its errors,
        // under 2.5 % if steps 58 and 65 were pooled with it.
        let e = errors(72, 40, |s, o| match (s, o % 20) {
            (72, 0) => 100.0,
            (72, 10) => -100.0,
            _ => 0.0,
        });
        let f = with_empirical_bands(ModelKind::Median, &[1.0; 100], vec![0.0; 72], &e);
        assert!((f.hi95[71] - 100.0).abs() < 1e-9, "{:?}", &f.hi95[60..]);
    }

    #[test]
    fn a_mostly_flat_series_with_spikes_gets_a_band_without_backtest_errors() {
        // Nine of ten changes are zero: the MAD of the changes is 0.
        let ys: Vec<f64> = (0..40)
            .map(|i| if i % 20 == 10 { 50.0 } else { 0.0 })
            .collect();
        let f = with_empirical_bands(ModelKind::Median, &ys, vec![0.0; 6], &[]);
        // Two spikes, four changes of 50: mean |change| 200 / 39, σ = 6.43 per step, so
        // 95 % ±12.6 at step 1 and ±30.9 (× √6) at step 6.
        assert!((f.hi95[0] - 12.6).abs() < 0.05, "{:?}", f.hi95);
        assert!((f.hi95[5] - 30.86).abs() < 0.05, "{:?}", f.hi95);
        assert!(f.lo80[0] < 0.0 && f.hi80[0] < f.hi95[0]);
    }
}
