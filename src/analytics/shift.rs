//! Where a series' level changed for good. Starting or stopping a VM moves a host's memory
//! by a step; a trend fitted over the weeks around the step reads it as growth (or, hours
//! after it, pulls the forecast back to the old level). Capacity fits its trend from the
//! last step on.
//!
//! The series is first made flat: its daily profile is taken out (once two days are there;
//! the profile is taken around a centred one-day rolling median, which keeps steps sharp),
//! and so is its steady trend (the median change over six hours, which a step moves for
//! only six hours of rows).
//! At each row, the step is the median of the `min_rows` rows after it less the median of
//! the `min_rows` before. Where that is at least [`SHIFT_SIGMAS`] robust standard deviations
//! of the row-to-row noise, the row where the means change most is the step, if the rows
//! after it stay at the new level. A step that the next one undoes is a burst, not a change.

use serde::Serialize;

use super::forecast::trend::residual_profile;
use super::stats::{count_f64, median, median_in_place, quantile, SortedWindow, MAD_TO_SIGMA};

/// A step must be at least this many robust standard deviations of the noise: at four, a
/// Gaussian residual passes by chance about once in 16 000 rows.
pub const SHIFT_SIGMAS: f64 = 4.0;

/// A level change found by [`level_shifts`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelShift {
    /// First row at the new level.
    pub row: usize,
    /// The step, in the series' unit (positive when the level rose): the median of the
    /// `min_rows` rows after it less that of the `min_rows` before, with the daily profile
    /// and the steady trend taken out.
    pub jump: f64,
}

/// Lasting level changes in `ys` with at least `min_rows` rows on each side, oldest first.
/// `season` is the rows in a day. Gaps (NaN) are skipped.
#[must_use]
pub fn level_shifts(ys: &[f64], season: usize, min_rows: usize) -> Vec<LevelShift> {
    let width = min_rows.max(2);
    let z = flattened(ys, season, 2 * width);
    let n = z.len();
    if n < 2 * width {
        return Vec::new();
    }
    let sigma = noise(&z).unwrap_or(0.0);
    // Rounding, and what the profile leaves of a noiseless wave, are not steps.
    let spread = quantile(&z, 0.99)
        .zip(quantile(&z, 0.01))
        .map_or(0.0, |(hi, lo)| hi - lo);
    let floor = 0.01 * spread + 1e-9;
    let counts = |step: f64| step.abs() > floor && step.abs() >= SHIFT_SIGMAS * sigma;
    let mut buf = Vec::with_capacity(width);
    let mut local = |k: usize| {
        let mut side = |r: std::ops::Range<usize>| {
            buf.clear();
            buf.extend(z[r].iter().copied().filter(|v| v.is_finite()));
            median_in_place(&mut buf)
        };
        let before = side(k - width..k)?;
        Some(side(k..k + width)? - before)
    };
    let means = Means::new(&z);
    let mut out = Vec::new();
    let mut k = width;
    while k <= n - width {
        let Some(first) = local(k).filter(|s| counts(*s)) else {
            k += 1;
            continue;
        };
        // The rows where this step shows, the same way round.
        let start = k;
        while k < n - width
            && local(k + 1).is_some_and(|s| counts(s) && s.signum() == first.signum())
        {
            k += 1;
        }
        let at = (start..=k)
            .max_by(|a, b| means.step(*a, width).total_cmp(&means.step(*b, width)))
            .unwrap_or(start);
        if let Some(jump) = local(at).filter(|s| counts(*s)) {
            if holds(&z[at..(at + 2 * width).min(n)], jump) {
                out.push(LevelShift { row: at, jump });
                // The next step needs its own rows before it.
                k = k.max(at + width - 1);
            }
        }
        k += 1;
    }
    without_bursts(out)
}

/// Drops each step that the next one undoes (opposite, and back within half the smaller):
/// a burst of a few hours is not a new level.
fn without_bursts(steps: Vec<LevelShift>) -> Vec<LevelShift> {
    let mut out: Vec<LevelShift> = Vec::with_capacity(steps.len());
    for s in steps {
        match out.last() {
            Some(p)
                if p.jump.signum() != s.jump.signum()
                    && (p.jump + s.jump).abs() < p.jump.abs().min(s.jump.abs()) / 2.0 =>
            {
                out.pop();
            }
            _ => out.push(s),
        }
    }
    out
}

/// Prefix sums of the finite values and their count, for means over ranges of rows.
struct Means {
    sum: Vec<f64>,
    count: Vec<f64>,
}

impl Means {
    fn new(z: &[f64]) -> Self {
        let (mut sum, mut count) = (vec![0.0], vec![0.0]);
        for v in z {
            let f = v.is_finite();
            sum.push(sum[sum.len() - 1] + if f { *v } else { 0.0 });
            count.push(count[count.len() - 1] + if f { 1.0 } else { 0.0 });
        }
        Self { sum, count }
    }

    fn mean(&self, r: std::ops::Range<usize>) -> f64 {
        let c = self.count[r.end] - self.count[r.start];
        if c > 0.0 {
            (self.sum[r.end] - self.sum[r.start]) / c
        } else {
            0.0
        }
    }

    /// How far the mean of the `m` rows from `k` is from that of the `m` rows before.
    fn step(&self, k: usize, m: usize) -> f64 {
        (self.mean(k..k + m) - self.mean(k - m..k)).abs()
    }
}

/// `ys` less its median daily profile (around a centred one-day rolling median, once two
/// days of finite rows are there) and less its steady trend (the median change over `lag`
/// rows).
fn flattened(ys: &[f64], season: usize, lag: usize) -> Vec<f64> {
    let finite = ys.iter().filter(|y| y.is_finite()).count();
    let z: Vec<f64> = if season < 2 || finite < 2 * season {
        ys.to_vec()
    } else {
        // Only where the day around a row is all there: a median of the last half day
        // alone lags a trend, and that lag would be read as the profile of those hours.
        let half = season / 2;
        let mut window = SortedWindow::new(season);
        let mut pushed = 0;
        let level: Vec<f64> = (0..ys.len())
            .map(|t| {
                while pushed < ys.len() && pushed < t + half {
                    window.push(ys[pushed]);
                    pushed += 1;
                }
                if t < half || t + half > ys.len() {
                    f64::NAN
                } else {
                    window.median().unwrap_or(f64::NAN)
                }
            })
            .collect();
        let profile = residual_profile(ys, |i| level[i], season, |i| i % season);
        ys.iter()
            .enumerate()
            .map(|(i, y)| y - profile[i % season])
            .collect()
    };
    // Changes over `lag` rows, not one: a sawtooth of noise (+0.2 a row, then back) has a
    // median one-row change of +0.2, a trend that is not there; over `lag` rows a step
    // moves only `lag` of the changes.
    let lag = lag.max(1);
    let changes: Vec<f64> = z
        .iter()
        .zip(z.iter().skip(lag))
        .map(|(a, b)| (b - a) / count_f64(lag))
        .collect();
    let slope = median(&changes).unwrap_or(0.0);
    z.iter()
        .enumerate()
        .map(|(i, v)| v - slope * count_f64(i))
        .collect()
}

/// The row-to-row noise of `z` as a standard deviation: the MAD of its finite consecutive
/// differences, scaled, over √2 (a step moves one difference).
fn noise(z: &[f64]) -> Option<f64> {
    let diffs: Vec<f64> = z.windows(2).map(|w| w[1] - w[0]).collect();
    super::stats::mad(&diffs).map(|m| m * MAD_TO_SIGMA / std::f64::consts::SQRT_2)
}

/// Whether the rows just after a step of `jump` stay at its level: the medians of their two
/// halves differ by less than half the step (a burst at the end of the series that ends
/// again, or a ramp, splits them).
fn holds(after: &[f64], jump: f64) -> bool {
    let mid = after.len() / 2;
    match (median(&after[..mid]), median(&after[mid..])) {
        (Some(a), Some(b)) => (b - a).abs() < jump.abs() / 2.0,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise in [-1, 1) (a linear congruential generator).
    fn noise(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            #[allow(clippy::cast_precision_loss)]
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            2.0 * u - 1.0
        }
    }

    fn last(ys: &[f64]) -> Option<LevelShift> {
        level_shifts(ys, 288, 36).last().copied()
    }

    /// `days` days of a daily wave of ±`wave` around 40 rising `slope` a row, with noise of ±2.
    fn daily(days: usize, wave: f64, slope: f64) -> Vec<f64> {
        let mut r = noise(7);
        (0..days * 288)
            .map(|i| {
                let t = count_f64(i);
                40.0 + slope * t + wave * (std::f64::consts::TAU * t / 288.0).sin() + 2.0 * r()
            })
            .collect()
    }

    #[test]
    fn a_step_under_a_daily_wave_is_found_where_it_happened() {
        let mut ys = daily(14, 15.0, 0.0);
        for y in &mut ys[2500..] {
            *y += 20.0;
        }
        let s = last(&ys).unwrap();
        assert!(s.row.abs_diff(2500) <= 2, "{s:?}");
        assert!((s.jump - 20.0).abs() < 2.0, "{s:?}");
    }

    #[test]
    fn a_staircase_is_every_step_oldest_first() {
        // Steps at different times of day: one at the same time each day would be a daily
        // sawtooth on a trend, and is taken for one.
        let mut ys = daily(10, 10.0, 0.0);
        for at in [700, 1100, 1350, 1900, 2300, 2650] {
            for y in &mut ys[at..] {
                *y += 8.0;
            }
        }
        let steps = level_shifts(&ys, 288, 36);
        let rows: Vec<usize> = steps.iter().map(|s| s.row).collect();
        assert_eq!(rows, [700, 1100, 1350, 1900, 2300, 2650], "{steps:?}");
        assert!(
            steps.iter().all(|s| (s.jump - 8.0).abs() < 2.5),
            "{steps:?}"
        );
    }

    #[test]
    fn the_last_of_two_steps_is_the_one_returned() {
        let mut ys = daily(14, 10.0, 0.0);
        for y in &mut ys[1000..] {
            *y += 15.0;
        }
        for y in &mut ys[3000..] {
            *y -= 25.0;
        }
        let s = last(&ys).unwrap();
        assert!(s.row.abs_diff(3000) <= 2, "{s:?}");
        assert!((s.jump + 25.0).abs() < 2.0, "{s:?}");
    }

    #[test]
    fn steady_growth_under_a_daily_wave_is_no_step() {
        assert_eq!(last(&daily(14, 15.0, 0.005)), None);
        assert_eq!(last(&daily(3, 30.0, 0.01)), None);
        // Noise alone, without a profile (under two days).
        assert_eq!(last(&daily(1, 0.0, 0.0)), None);
    }

    #[test]
    fn a_step_in_the_last_rows_waits_for_min_rows_after_it() {
        let mut ys = daily(3, 10.0, 0.0);
        let n = ys.len();
        for y in &mut ys[n - 20..] {
            *y += 30.0;
        }
        assert_eq!(last(&ys), None);
        let mut ys = daily(3, 10.0, 0.0);
        for y in &mut ys[n - 40..] {
            *y += 30.0;
        }
        assert_eq!(last(&ys).map(|s| s.row), Some(n - 40));
    }

    #[test]
    fn a_flat_series_with_one_step_and_gaps_is_found_without_nan() {
        let mut ys: Vec<f64> = (0..600)
            .map(|i| if i < 400 { 30.0 } else { 55.0 })
            .collect();
        for y in ys.iter_mut().skip(100).step_by(7) {
            *y = f64::NAN;
        }
        let s = last(&ys).unwrap();
        assert_eq!(s.row, 400);
        assert!((s.jump - 25.0).abs() < 1e-6, "{s:?}");
        // Constant, empty, all-gap and short input: no step, no panic.
        for ys in [vec![5.0; 600], vec![], vec![f64::NAN; 600], vec![1.0, 9.0]] {
            assert_eq!(last(&ys), None);
        }
    }
}
