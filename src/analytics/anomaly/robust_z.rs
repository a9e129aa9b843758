//! Robust z-score: distance from the windowed median in scaled MADs.

use super::{scale_floor, Detection, Explanation, StreamingDetector};
use crate::analytics::stats::{SortedWindow, MAD_TO_SIGMA};

/// Robust z-score against the last `window` samples (default a day of 5-minute samples).
#[derive(Debug, Clone, PartialEq)]
pub struct RobustZ {
    window: SortedWindow,
    min_history: usize,
    baseline: &'static str,
    min_scale: f64,
}

impl RobustZ {
    /// `window` samples of history; scores start after `min_history` samples.
    #[must_use]
    pub fn new(window: usize, min_history: usize, baseline: &'static str) -> Self {
        Self {
            window: SortedWindow::new(window),
            min_history: min_history.max(3),
            baseline,
            min_scale: 0.0,
        }
    }

    /// The smallest scale (see [`scale_floor`]).
    #[must_use]
    pub fn with_min_scale(mut self, min_scale: f64) -> Self {
        self.min_scale = min_scale;
        self
    }

    /// A day of 5-minute samples, scoring after an hour.
    #[must_use]
    pub fn daily() -> Self {
        Self::new(288, 12, "24 h median")
    }

    /// Median and scaled MAD (floored) of the past, if warmed up.
    #[must_use]
    pub fn baseline(&self) -> Option<(f64, f64)> {
        if self.window.len() < self.min_history {
            return None;
        }
        let m = self.window.median()?;
        let s = scale_floor(self.window.mad()? * MAD_TO_SIGMA, m, self.min_scale);
        Some((m, s))
    }
}

impl StreamingDetector for RobustZ {
    fn update(&mut self, x: f64) -> Detection {
        if !x.is_finite() {
            return Detection::none();
        }
        let out = self.baseline().map_or_else(Detection::none, |(m, s)| {
            let z = (x - m) / s;
            Detection {
                score: z.abs(),
                explanation: Some(Explanation::new(x, m, z, "σ", self.baseline)),
            }
        });
        self.window.push(x);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spike_scores_high_and_noise_low() {
        let mut d = RobustZ::new(100, 10, "median");
        let mut max_noise: f64 = 0.0;
        for i in 0..200 {
            let x = 50.0 + f64::from(i % 5);
            max_noise = max_noise.max(d.update(x).score);
        }
        let spike = d.update(120.0);
        assert!(max_noise < 3.0, "{max_noise}");
        assert!(spike.score > 20.0);
        let text = spike
            .explanation
            .unwrap()
            .describe("cpu", |v| format!("{v:.0} %"));
        assert!(
            text.starts_with("cpu 120 %,") && text.ends_with("σ above the median"),
            "{text}"
        );
    }

    #[test]
    fn constant_series_has_finite_scores() {
        let mut d = RobustZ::daily();
        for _ in 0..50 {
            assert!(d.update(7.0).score.is_finite());
        }
        assert!(d.update(f64::NAN).score == 0.0);
    }
}
