//! Two-sided CUSUM on robustly standardised samples: catches small sustained shifts.

use super::robust_z::RobustZ;
use super::{Detection, Explanation, StreamingDetector};

/// CUSUM with allowance `k` (in robust sigmas); the score is the larger one-sided sum.
/// The reference (median and MAD) comes from a long window so a shift does not become the
/// reference before it has been noticed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cusum {
    reference: RobustZ,
    k: f64,
    /// Sums are capped here so that they come back down soon after a shift ends.
    cap: f64,
    pos: f64,
    neg: f64,
}

impl Cusum {
    /// Reference window `window` samples, allowance `k`, sums capped at `cap`.
    #[must_use]
    pub fn new(window: usize, k: f64, cap: f64) -> Self {
        Self {
            reference: RobustZ::new(window, 12, "24 h median"),
            k,
            cap,
            pos: 0.0,
            neg: 0.0,
        }
    }

    /// The smallest scale of the reference (see [`super::scale_floor`]).
    #[must_use]
    pub fn with_min_scale(mut self, min_scale: f64) -> Self {
        self.reference = self.reference.with_min_scale(min_scale);
        self
    }
}

impl Default for Cusum {
    fn default() -> Self {
        Self::new(288, 1.0, 50.0)
    }
}

impl StreamingDetector for Cusum {
    fn update(&mut self, x: f64) -> Detection {
        if !x.is_finite() {
            return Detection::none();
        }
        let Some((m, s)) = self.reference.baseline() else {
            self.reference.update(x);
            return Detection::none();
        };
        self.reference.update(x);
        // Winsorise so one spike moves the sums by a bounded amount.
        let z = ((x - m) / s).clamp(-4.0, 4.0);
        self.pos = (self.pos + z - self.k).clamp(0.0, self.cap);
        self.neg = (self.neg - z - self.k).clamp(0.0, self.cap);
        let score = self.pos.max(self.neg);
        let signed = if self.pos >= self.neg { score } else { -score };
        Detection {
            score,
            explanation: Some(Explanation::new(
                x,
                m,
                signed,
                " σ-rows",
                "24 h median (cumulative)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sustained_small_shift_accumulates() {
        let mut d = Cusum::new(100, 0.5, 100.0);
        let noise = |i: i32| f64::from(i % 4) - 1.5;
        for i in 0..150 {
            d.update(10.0 + noise(i));
        }
        let before = d.update(10.0).score;
        let mut after = 0.0;
        for i in 0..20 {
            after = d.update(13.0 + noise(i)).score;
        }
        assert!(before < 5.0, "{before}");
        assert!(after > 10.0, "{after}");
    }

    #[test]
    fn a_downward_shift_is_explained_as_below_even_on_a_sample_above_the_median() {
        let mut d = Cusum::new(100, 0.5, 100.0);
        let noise = |i: i32| f64::from(i % 4) - 1.5;
        for i in 0..150 {
            d.update(10.0 + noise(i));
        }
        for i in 0..20 {
            d.update(7.0 + noise(i));
        }
        // One sample just above the median: the downward sum still dominates.
        let r = d.update(10.5);
        let text = r
            .explanation
            .unwrap()
            .describe("cpu", |v| format!("{v:.1}"));
        assert!(
            r.score > 10.0 && text.contains("below"),
            "{} {text}",
            r.score
        );
    }
}
