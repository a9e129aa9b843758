//! The detector ensemble behind `novacron detect` and the alert engine's anomaly rule.
//!
//! Scores alone flag too much on CloudWatch-style series, where spikes are routine. A sample
//! is an anomaly only when it is (1) far from both the recent level and the time-of-day profile
//! (the smaller of the robust z and the seasonal z, so neither a daily peak nor a level the
//! series has moved to counts), (2) novel: beyond the range of the last `novelty_window`
//! samples by `novelty_margin` times the past excursion from the median, so a spike of a size
//! the series has already shown this week is not news, and (3) outside the refractory period
//! after the last alarm, so one incident is one alarm. A CUSUM channel catches sustained shifts
//! too small to stand out sample by sample (same novelty and refractory gates).

use serde::Serialize;

use super::cusum::Cusum;
use super::robust_z::RobustZ;
use super::seasonal::SeasonalDetector;
use super::{Detection, Explanation, StreamingDetector};
use crate::analytics::stats::SortedWindow;

/// Settings of the ensemble; defaults suit 5-minute samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnsembleConfig {
    /// Rows per day.
    pub season: usize,
    /// Minimum score (robust z) to alarm at all: the classic three-sigma rule, in MADs.
    pub min_score: f64,
    /// Rows of past scores a new alarm must exceed (a week).
    pub novelty_window: usize,
    /// How far beyond the past range a value must go, as a share of the past excursion
    /// (max − median above, median − min below).
    pub novelty_margin: f64,
    /// Rows after an alarm during which no new alarm is raised (a day).
    pub refractory: usize,
    /// CUSUM sum (in sigma-rows) that counts as a sustained shift.
    pub cusum_threshold: f64,
    /// Smallest change worth an alarm, in the series' unit (1 % of CPU, 64 KiB/s); 0 when
    /// the unit is unknown. Without it a series that sat at 0 all week (an idle disk)
    /// calls its first small burst billions of MADs away.
    pub min_scale: f64,
}

impl Default for EnsembleConfig {
    fn default() -> Self {
        Self {
            season: 288,
            min_score: 3.0,
            novelty_window: 288 * 7,
            novelty_margin: 0.1,
            refractory: 288,
            cusum_threshold: 40.0,
            min_scale: 0.0,
        }
    }
}

/// One decision per sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Score relative to the current alarm threshold (≥ 1 means above it).
    pub score: f64,
    pub is_anomaly: bool,
    /// What the strongest channel saw.
    pub explanation: Option<Explanation>,
}

/// Streaming ensemble of robust z, seasonal and CUSUM detectors with novelty and refractory
/// gating.
#[derive(Debug, Clone, PartialEq)]
pub struct Ensemble {
    cfg: EnsembleConfig,
    level: RobustZ,
    seasonal: SeasonalDetector,
    cusum: Cusum,
    past_values: SortedWindow,
    since_alarm: usize,
}

impl Ensemble {
    #[must_use]
    pub fn new(cfg: EnsembleConfig) -> Self {
        Self {
            level: RobustZ::new(cfg.season, 12, "24 h median").with_min_scale(cfg.min_scale),
            seasonal: SeasonalDetector::new(cfg.season, 7, 2).with_min_scale(cfg.min_scale),
            cusum: Cusum::new(cfg.season, 1.0, 2.0 * cfg.cusum_threshold)
                .with_min_scale(cfg.min_scale),
            past_values: SortedWindow::new(cfg.novelty_window),
            since_alarm: usize::MAX,
            cfg,
        }
    }

    /// An ensemble that has seen `rows` (warming it from history; what they decided is
    /// dropped: past alarms are not news).
    #[must_use]
    pub fn warmed(cfg: EnsembleConfig, rows: &[f64]) -> Self {
        let mut e = Self::new(cfg);
        for &x in rows {
            e.update(x);
        }
        e
    }

    /// Ends the refractory period: the series stopped (its VM shut down), so what comes after
    /// the restart may alarm at once.
    pub fn end_refractory(&mut self) {
        self.since_alarm = usize::MAX;
    }

    /// Scores `x` and decides; NaN (a gap) is never an anomaly.
    pub fn update(&mut self, x: f64) -> Decision {
        let level = self.level.update(x);
        let seasonal = self.seasonal.update(x);
        let cusum = self.cusum.update(x);
        if !x.is_finite() {
            return Decision {
                score: 0.0,
                is_anomaly: false,
                explanation: None,
            };
        }
        let spike: Detection = if seasonal.explanation.is_some() && seasonal.score < level.score {
            seasonal
        } else {
            level
        };
        // CUSUM in the same units as the spike channel: its threshold maps to min_score.
        let shift_score = cusum.score / self.cfg.cusum_threshold * self.cfg.min_score;
        let (raw, explanation) = if shift_score > spike.score {
            (shift_score, cusum.explanation)
        } else {
            (spike.score, spike.explanation)
        };
        let score = raw / self.cfg.min_score;
        let novel = self.is_novel(x);
        self.since_alarm = self.since_alarm.saturating_add(1);
        let is_anomaly = score > 1.0 && novel && self.since_alarm > self.cfg.refractory;
        if is_anomaly {
            self.since_alarm = 0;
        }
        self.past_values.push(x);
        Decision {
            score,
            is_anomaly,
            explanation,
        }
    }
}

impl Ensemble {
    /// True when `x` lies beyond the range of the novelty window by the margin.
    fn is_novel(&self, x: f64) -> bool {
        let w = &self.past_values;
        let (Some(&lo), Some(&hi), Some(med)) = (w.sorted().first(), w.sorted().last(), w.median())
        else {
            return false;
        };
        let m = self.cfg.novelty_margin;
        x > hi + m * (hi - med) || x < lo - m * (med - lo)
    }
}

impl Default for Ensemble {
    fn default() -> Self {
        Self::new(EnsembleConfig::default())
    }
}

/// Runs `values` through a fresh ensemble: one decision per row, each using rows `0..=t` only.
#[must_use]
pub fn detect(values: &[f64], cfg: &EnsembleConfig) -> Vec<Decision> {
    let mut e = Ensemble::new(cfg.clone());
    values.iter().map(|&x| e.update(x)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(i: usize) -> f64 {
        50.0 + crate::analytics::stats::count_f64((i * 7919) % 13) - 6.0
    }

    #[test]
    fn one_alarm_for_a_spike_and_none_for_noise() {
        let cfg = EnsembleConfig {
            season: 48,
            novelty_window: 48 * 3,
            refractory: 48,
            ..EnsembleConfig::default()
        };
        let mut ys: Vec<f64> = (0..48 * 6).map(noisy).collect();
        ys[48 * 4] = 400.0;
        let d = detect(&ys, &cfg);
        let alarms: Vec<usize> = d
            .iter()
            .enumerate()
            .filter(|(_, d)| d.is_anomaly)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(alarms, vec![48 * 4]);
    }

    #[test]
    fn level_shift_raises_one_alarm() {
        let cfg = EnsembleConfig {
            season: 48,
            novelty_window: 48 * 3,
            refractory: 48,
            ..EnsembleConfig::default()
        };
        let ys: Vec<f64> = (0..48 * 6)
            .map(|i| noisy(i) + if i >= 48 * 4 { 200.0 } else { 0.0 })
            .collect();
        let d = detect(&ys, &cfg);
        let alarms: Vec<usize> = d
            .iter()
            .enumerate()
            .filter(|(_, d)| d.is_anomaly)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        assert!(alarms[0] >= 48 * 4 && alarms[0] < 48 * 4 + 6);
    }

    #[test]
    fn gaps_and_constants_never_alarm() {
        let ys: Vec<f64> = (0..1000)
            .map(|i| if i % 7 == 0 { f64::NAN } else { 3.0 })
            .collect();
        let d = detect(&ys, &EnsembleConfig::default());
        assert!(d.iter().all(|d| !d.is_anomaly && d.score.is_finite()));
    }
}
