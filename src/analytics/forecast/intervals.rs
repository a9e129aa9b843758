//! Empirical prediction intervals: quantiles of rolling-backtest errors, per horizon step.
//!
//! No distribution is assumed, which matters on spiky, skewed series; bands never narrow as
//! the horizon grows. Without enough backtest errors, a random-walk band from the robust
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

/// Error quantiles (2.5, 10, 90, 97.5 %) at 1-based `step`, pooling up to five nearby steps.
fn step_offsets(errors: &[Vec<f64>], step: usize, buf: &mut Vec<f64>) -> Option<[f64; 4]> {
    let reach = (step / 5).max(1);
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
    let anchors: Vec<(usize, [f64; 4])> = anchor_steps(horizon)
        .into_iter()
        .map(|s| {
            let off = step_offsets(errors, s, &mut buf).unwrap_or_else(|| {
                let sd = step_sigma * count_f64(s).sqrt();
                [-1.96 * sd, -1.2816 * sd, 1.2816 * sd, 1.96 * sd]
            });
            (s, off.map(f64::abs))
        })
        .collect();
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
            widest[k] = widest[k].max(w0[k] + (w1[k] - w0[k]) * t.clamp(0.0, 1.0));
        }
        let p = f.point[s - 1];
        f.lo95[s - 1] = p - widest[0];
        f.lo80[s - 1] = p - widest[1];
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
