//! Robust seasonal forecast: a daily profile of slot medians plus a median level.
//!
//! The profile at a time-of-day slot is the median, over up to `max_days` past days, of the
//! rows within ±`smooth` rows of that slot, not centred: the level, taken as
//! the median of the last `level_window` de-seasonalised rows. Medians make both parts
//! insensitive to the isolated spikes that dominate CloudWatch-style series.

use crate::analytics::stats::median_in_place;

/// Settings of [`robust_seasonal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RobustSeasonalSpec {
    pub season: usize,
    pub max_days: usize,
    pub smooth: usize,
    pub level_window: usize,
}

impl Default for RobustSeasonalSpec {
    fn default() -> Self {
        Self {
            season: 288,
            max_days: 7,
            smooth: 2,
            level_window: 36,
        }
    }
}

/// Profile value for absolute row `t` (may lie beyond the history), from rows before `n`.
fn profile_at(history: &[f64], t: usize, spec: &RobustSeasonalSpec, buf: &mut Vec<f64>) -> f64 {
    let n = history.len();
    buf.clear();
    for day in 1..=spec.max_days {
        let Some(centre) = t.checked_sub(day * spec.season) else {
            break;
        };
        let lo = centre.saturating_sub(spec.smooth);
        let hi = (centre + spec.smooth + 1).min(n);
        if lo < hi {
            buf.extend(history[lo..hi].iter().copied().filter(|x| x.is_finite()));
        }
    }
    median_in_place(buf).unwrap_or(f64::NAN)
}

/// Point forecast; `None` until a season plus a level window of history exist.
#[must_use]
pub fn robust_seasonal(
    history: &[f64],
    horizon: usize,
    spec: &RobustSeasonalSpec,
) -> Option<Vec<f64>> {
    let n = history.len();
    if spec.season == 0 || n < spec.season + spec.level_window {
        return None;
    }
    let mut buf = Vec::new();
    // Profile for the forecast rows and for the level window, then centre it.
    let start = n.saturating_sub(spec.level_window.max(1));
    let past: Vec<f64> = (start..n)
        .map(|t| profile_at(history, t, spec, &mut buf))
        .collect();
    let future: Vec<f64> = (n..n + horizon)
        .map(|t| profile_at(history, t, spec, &mut buf))
        .collect();
    let mut resid: Vec<f64> = history[start..]
        .iter()
        .zip(&past)
        .map(|(y, p)| y - p)
        .filter(|r| r.is_finite())
        .collect();
    let level = median_in_place(&mut resid)?;
    Some(
        future
            .iter()
            .map(|p| if p.is_finite() { level + p } else { level })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_seasonal_series_is_recovered() {
        let spec = RobustSeasonalSpec {
            season: 24,
            max_days: 7,
            smooth: 0,
            level_window: 12,
        };
        let pattern = |i: usize| [0.0, 5.0, 10.0, 5.0][(i % 24) / 6];
        let ys: Vec<f64> = (0..24 * 4).map(pattern).collect();
        let fc = robust_seasonal(&ys, 30, &spec).unwrap();
        for (s, f) in fc.iter().enumerate() {
            assert!((f - pattern(ys.len() + s)).abs() < 1e-9, "step {s}");
        }
    }

    #[test]
    fn too_short_is_none() {
        assert!(robust_seasonal(&[1.0; 10], 5, &RobustSeasonalSpec::default()).is_none());
    }
}
