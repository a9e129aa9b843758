//! Naive, seasonal naive and robust window-median forecasts.

use crate::analytics::stats::{last_finite, median, median_in_place};

/// Repeats the last finite value.
#[must_use]
pub fn naive(history: &[f64], horizon: usize) -> Option<Vec<f64>> {
    last_finite(history).map(|v| vec![v; horizon])
}

/// Repeats the value one season earlier (falling back to older seasons over gaps).
#[must_use]
pub fn seasonal_naive(history: &[f64], horizon: usize, season: usize) -> Option<Vec<f64>> {
    let n = history.len();
    if season == 0 || n < season {
        return None;
    }
    let fallback = last_finite(history)?;
    let point = (0..horizon)
        .map(|s| {
            // Row n + s; go back whole seasons until the row is observed and finite.
            let mut back = season * (s / season + 1);
            while back <= n + s {
                let i = n + s - back;
                if i < n && history[i].is_finite() {
                    return history[i];
                }
                back += season;
            }
            fallback
        })
        .collect();
    Some(point)
}

/// Median of the last `window` finite rows, flat over the horizon.
#[must_use]
pub fn window_median(history: &[f64], horizon: usize, window: usize) -> Option<Vec<f64>> {
    let start = history.len().saturating_sub(window.max(1));
    median(&history[start..]).map(|m| vec![m; horizon])
}

/// Mean of the medians of several trailing windows: a cheap multi-scale robust level that
/// reacts to level shifts (short windows) without chasing single spikes (long windows).
#[must_use]
pub fn multi_window_median(history: &[f64], horizon: usize, windows: &[usize]) -> Option<Vec<f64>> {
    let mut buf = Vec::new();
    let (mut sum, mut k) = (0.0, 0_u32);
    for &w in windows {
        let start = history.len().saturating_sub(w.max(1));
        buf.clear();
        buf.extend(history[start..].iter().copied().filter(|x| x.is_finite()));
        if let Some(m) = median_in_place(&mut buf) {
            sum += m;
            k += 1;
        }
    }
    (k > 0).then(|| vec![sum / f64::from(k); horizon])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_naive_repeats_last_season() {
        let h: Vec<f64> = (0..8).map(|i| f64::from(i % 4)).collect();
        assert_eq!(
            seasonal_naive(&h, 6, 4),
            Some(vec![0.0, 1.0, 2.0, 3.0, 0.0, 1.0])
        );
        assert_eq!(seasonal_naive(&h, 2, 9), None);
    }

    #[test]
    fn seasonal_naive_skips_gaps() {
        let mut h: Vec<f64> = (0..8).map(|i| f64::from(i % 4)).collect();
        h[4] = f64::NAN;
        assert_eq!(seasonal_naive(&h, 1, 4), Some(vec![0.0]));
    }

    #[test]
    fn window_median_ignores_spike() {
        let h = [5.0, 5.0, 100.0, 5.0, 5.0];
        assert_eq!(window_median(&h, 2, 5), Some(vec![5.0, 5.0]));
        assert_eq!(naive(&[f64::NAN], 3), None);
    }
}
