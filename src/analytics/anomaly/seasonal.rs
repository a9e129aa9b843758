//! Seasonal detector: residual from a robust time-of-day profile, once a season of history exists.

use std::collections::VecDeque;

use super::{scale_floor, Detection, Explanation, StreamingDetector};
use crate::analytics::stats::{median_in_place, SortedWindow, MAD_TO_SIGMA};

/// Scores the residual from the median of the same time of day (± `smooth` rows) over the
/// last `days` seasons, in robust units of the recent residuals.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalDetector {
    season: usize,
    days: usize,
    smooth: usize,
    slots: Vec<VecDeque<f64>>,
    residuals: SortedWindow,
    seen: usize,
    buf: Vec<f64>,
    min_scale: f64,
}

impl SeasonalDetector {
    /// Period `season` rows, profile over `days` seasons, slot smoothing ± `smooth` rows.
    #[must_use]
    pub fn new(season: usize, days: usize, smooth: usize) -> Self {
        let season = season.max(1);
        Self {
            season,
            days: days.max(1),
            smooth,
            slots: vec![VecDeque::new(); season],
            residuals: SortedWindow::new(season),
            seen: 0,
            buf: Vec::new(),
            min_scale: 0.0,
        }
    }

    /// The smallest scale (see [`scale_floor`]).
    #[must_use]
    pub fn with_min_scale(mut self, min_scale: f64) -> Self {
        self.min_scale = min_scale;
        self
    }

    /// A day of 5-minute samples, a week of profile, ± 10 minutes.
    #[must_use]
    pub fn daily() -> Self {
        Self::new(288, 7, 2)
    }

    /// True once a full season has been seen.
    #[must_use]
    pub fn ready(&self) -> bool {
        self.seen >= self.season
    }

    fn expected(&mut self, slot: usize) -> Option<f64> {
        self.buf.clear();
        for d in 0..=2 * self.smooth {
            let s = (slot + self.season + d).checked_sub(self.smooth)? % self.season;
            self.buf.extend(self.slots[s].iter().copied());
        }
        median_in_place(&mut self.buf)
    }
}

impl StreamingDetector for SeasonalDetector {
    fn update(&mut self, x: f64) -> Detection {
        let slot = self.seen % self.season;
        self.seen += 1;
        if !x.is_finite() {
            return Detection::none();
        }
        let mut out = Detection::none();
        if self.seen > self.season {
            if let Some(e) = self.expected(slot) {
                let r = x - e;
                if self.residuals.len() >= 12 {
                    if let (Some(rm), Some(rmad)) = (self.residuals.median(), self.residuals.mad())
                    {
                        let z = (r - rm) / scale_floor(rmad * MAD_TO_SIGMA, e, self.min_scale);
                        out = Detection {
                            score: z.abs(),
                            explanation: Some(Explanation::new(
                                x,
                                e + rm,
                                z,
                                "σ",
                                "time-of-day profile",
                            )),
                        };
                    }
                }
                self.residuals.push(r);
            }
        }
        let ring = &mut self.slots[slot];
        if ring.len() == self.days {
            ring.pop_front();
        }
        ring.push_back(x);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_pattern_is_normal_but_off_pattern_value_is_not() {
        let mut d = SeasonalDetector::new(24, 7, 1);
        let pattern = |i: usize| if (i % 24) < 12 { 10.0 } else { 50.0 } + crate::analytics::stats::count_f64(i % 3);
        let mut worst: f64 = 0.0;
        for i in 0..24 * 5 {
            let det = d.update(pattern(i));
            if i >= 24 * 2 && (i % 12) > 1 && (i % 12) < 10 {
                worst = worst.max(det.score);
            }
        }
        // 50 at a time of day that is normally 10.
        let off = d.update(50.0);
        assert!(worst < 3.0, "{worst}");
        assert!(off.score > 10.0, "{}", off.score);
    }
}
