//! Streaming anomaly detectors: each sees one sample at a time and only the past.
//!
//! Every detector returns a [`Detection`]: a non-negative score (how many robust standard
//! deviations the sample is from what the detector expected) and an [`Explanation`] the alert
//! engine can print ("cpu 97.0%, 6.1σ above the 24 h median", σ = 1.4826 × MAD). Per-sample cost is O(log n)
//! (binary search in a sorted window) plus a memmove of at most one window of floats.
//! [`ensemble::Ensemble`] combines them into the decisions written by `novacron detect`.

pub mod cusum;
pub mod ensemble;
pub mod ewma;
pub mod robust_z;
pub mod seasonal;

use serde::Serialize;

/// Which way the sample deviates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Above,
    Below,
}

/// Why a sample scored what it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The sample.
    pub value: f64,
    /// What it was compared with.
    pub expected: f64,
    /// Distance in standard deviations (robust ones: 1.4826 × MAD), see `unit`.
    pub deviations: f64,
    pub direction: Direction,
    /// "σ": robust detectors scale the MAD to a standard deviation (× 1.4826).
    pub unit: &'static str,
    /// The baseline, e.g. "24 h median" or "time-of-day profile".
    pub baseline: &'static str,
}

impl Explanation {
    fn new(
        value: f64,
        expected: f64,
        deviations: f64,
        unit: &'static str,
        baseline: &'static str,
    ) -> Self {
        // The signed deviation says which way; a cumulative score can point down while the
        // latest value sits just above the baseline.
        let above = if deviations == 0.0 {
            value >= expected
        } else {
            deviations > 0.0
        };
        let direction = if above {
            Direction::Above
        } else {
            Direction::Below
        };
        Self {
            value,
            expected,
            deviations: deviations.abs(),
            direction,
            unit,
            baseline,
        }
    }

    /// One line for humans, the value written by `value`:
    /// `"{metric} 97.0%, 6.1σ above the 24 h median"`.
    #[must_use]
    pub fn describe(&self, metric: &str, value: impl Fn(f64) -> String) -> String {
        let dir = match self.direction {
            Direction::Above => "above",
            Direction::Below => "below",
        };
        format!(
            "{metric} {}, {:.1}{} {dir} the {}",
            value(self.value),
            self.deviations,
            self.unit,
            self.baseline
        )
    }
}

/// The result of feeding one sample to a detector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// Non-negative anomaly score (0 while warming up or on a gap).
    pub score: f64,
    /// Present once the detector has enough history.
    pub explanation: Option<Explanation>,
}

impl Detection {
    /// No opinion (warm-up, gap).
    #[must_use]
    pub fn none() -> Self {
        Self {
            score: 0.0,
            explanation: None,
        }
    }
}

/// A detector fed one sample at a time, in order; it never sees the future.
pub trait StreamingDetector {
    /// Scores `x` against the past, then adds it to the past. NaN is a gap: score 0.
    fn update(&mut self, x: f64) -> Detection;
}

/// A scale that is never zero: flat series (a MAD of 0) would otherwise make every wiggle
/// infinitely anomalous. The floor is relative to the level, at least `min_scale` (the
/// smallest change worth an alarm in the series' unit, 0 when the unit is unknown) and
/// never below 1e-9.
#[must_use]
pub fn scale_floor(scale: f64, level: f64, min_scale: f64) -> f64 {
    scale.max(1e-3 * level.abs()).max(min_scale).max(1e-9)
}
