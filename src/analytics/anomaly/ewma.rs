//! EWMA control chart: distance from an exponentially weighted mean in EW standard deviations.

use super::{scale_floor, Detection, Explanation, StreamingDetector};

/// EWMA mean and variance with smoothing `alpha`.
#[derive(Debug, Clone)]
pub struct Ewma {
    alpha: f64,
    mean: f64,
    var: f64,
    seen: usize,
    min_history: usize,
}

impl Ewma {
    /// `alpha` in (0, 1]; scoring starts after `min_history` samples.
    #[must_use]
    pub fn new(alpha: f64, min_history: usize) -> Self {
        Self {
            alpha: alpha.clamp(1e-6, 1.0),
            mean: 0.0,
            var: 0.0,
            seen: 0,
            min_history: min_history.max(2),
        }
    }
}

impl Default for Ewma {
    /// Half-life of about 4 hours at 5-minute samples.
    fn default() -> Self {
        Self::new(0.0125, 24)
    }
}

impl StreamingDetector for Ewma {
    fn update(&mut self, x: f64) -> Detection {
        if !x.is_finite() {
            return Detection::none();
        }
        let out = if self.seen >= self.min_history {
            let sd = scale_floor(self.var.sqrt(), self.mean, 0.0);
            let z = (x - self.mean) / sd;
            Detection {
                score: z.abs(),
                explanation: Some(Explanation::new(x, self.mean, z, "σ", "moving average")),
            }
        } else {
            Detection::none()
        };
        if self.seen == 0 {
            self.mean = x;
        } else {
            let d = x - self.mean;
            self.mean += self.alpha * d;
            self.var = (1.0 - self.alpha) * (self.var + self.alpha * d * d);
        }
        self.seen += 1;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_shift_is_flagged_then_absorbed() {
        let mut d = Ewma::new(0.1, 10);
        for i in 0..100 {
            d.update(10.0 + f64::from(i % 3));
        }
        let first = d.update(40.0).score;
        for _ in 0..200 {
            d.update(40.0);
        }
        assert!(first > 5.0);
        assert!(d.update(40.0).score < 1.0);
    }
}
