//! Robust statistics helpers: means, medians, quantiles, MAD and a sliding sorted window.
//!
//! Every function ignores non-finite values (gaps are stored as NaN by callers) and returns
//! `None` (or a neutral value) on empty input rather than panicking.

/// Scale factor that turns a MAD into a standard-deviation estimate under normality.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Finite values of `xs`, in order.
#[must_use]
pub fn finite(xs: &[f64]) -> Vec<f64> {
    xs.iter().copied().filter(|x| x.is_finite()).collect()
}

/// Arithmetic mean of the finite values.
#[must_use]
pub fn mean(xs: &[f64]) -> Option<f64> {
    let (sum, n) = xs
        .iter()
        .filter(|x| x.is_finite())
        .fold((0.0, 0_usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / count_f64(n))
}

/// Quantile (type 7, linear interpolation) of already sorted finite values.
#[must_use]
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 || !q.is_finite() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * count_f64(n - 1);
    let lo = index_floor(pos).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let frac = pos - count_f64(lo);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// Quantile (type 7) of the finite values of `xs`.
#[must_use]
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    let mut v = finite(xs);
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, q)
}

/// Median of the finite values of `xs` (average of the two middle values when even).
#[must_use]
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v = finite(xs);
    median_in_place(&mut v)
}

/// Median of `v`, reordering it; `v` must hold finite values only.
#[must_use]
pub fn median_in_place(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (lower, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if n % 2 == 1 {
        return Some(m);
    }
    let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(below + (m - below) / 2.0)
}

/// Median absolute deviation around the median (unscaled).
#[must_use]
pub fn mad(xs: &[f64]) -> Option<f64> {
    let mut v = finite(xs);
    let m = median_in_place(&mut v)?;
    for x in &mut v {
        *x = (*x - m).abs();
    }
    median_in_place(&mut v)
}

/// Mean absolute one-step change of the finite consecutive pairs: the MASE scale.
#[must_use]
pub fn mean_abs_diff(xs: &[f64]) -> Option<f64> {
    let (sum, n) = xs
        .windows(2)
        .filter(|w| w[0].is_finite() && w[1].is_finite())
        .fold((0.0, 0_usize), |(s, n), w| (s + (w[1] - w[0]).abs(), n + 1));
    (n > 0).then(|| sum / count_f64(n))
}

/// Last finite value of `xs`.
#[must_use]
pub fn last_finite(xs: &[f64]) -> Option<f64> {
    xs.iter().rev().copied().find(|x| x.is_finite())
}

/// `usize` → `f64` for counts (exact below 2^53, which every slice length here is).
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn count_f64(n: usize) -> f64 {
    n as f64
}

/// Floor of a non-negative finite position as an index (negative or NaN give 0).
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn index_floor(x: f64) -> usize {
    if x.is_finite() && x > 0.0 {
        x.floor() as usize
    } else {
        0
    }
}

/// A sliding window over the last `cap` finite values kept both in arrival order and sorted.
///
/// Push is a binary search plus a memmove of at most `cap` floats (a few hundred nanoseconds
/// for a week of 5-minute samples); median and quantiles are O(1), the MAD is an exact
/// O(log n) selection over the two sorted distance sequences either side of the median.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedWindow {
    cap: usize,
    ring: std::collections::VecDeque<f64>,
    sorted: Vec<f64>,
}

impl SortedWindow {
    /// A window keeping at most `cap` values (at least one).
    #[must_use]
    pub fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        Self {
            cap,
            ring: std::collections::VecDeque::with_capacity(cap),
            sorted: Vec::with_capacity(cap),
        }
    }

    /// Adds `x` (ignored unless finite), evicting the oldest value when full.
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        if self.ring.len() == self.cap {
            if let Some(old) = self.ring.pop_front() {
                let i = self.sorted.partition_point(|v| v.total_cmp(&old).is_lt());
                if i < self.sorted.len() {
                    self.sorted.remove(i);
                }
            }
        }
        self.ring.push_back(x);
        let i = self.sorted.partition_point(|v| v.total_cmp(&x).is_lt());
        self.sorted.insert(i, x);
    }

    /// Number of values held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// True when no value is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The values, sorted ascending.
    #[must_use]
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// Quantile (type 7) of the window.
    #[must_use]
    pub fn quantile(&self, q: f64) -> Option<f64> {
        quantile_sorted(&self.sorted, q)
    }

    /// Median of the window.
    #[must_use]
    pub fn median(&self) -> Option<f64> {
        self.quantile(0.5)
    }

    /// Exact MAD (unscaled) of the window, O(log n).
    #[must_use]
    #[allow(clippy::many_single_char_names)]
    pub fn mad(&self) -> Option<f64> {
        let m = self.median()?;
        let s = &self.sorted;
        let n = s.len();
        let split = s.partition_point(|v| *v < m);
        // Distances: left side grows as the index falls, right side as it rises.
        let left = |i: usize| m - s[split - 1 - i];
        let right = |i: usize| s[split + i] - m;
        let (nl, nr) = (split, n - split);
        let kth = |k: usize| kth_of_two(k, nl, nr, &left, &right);
        if n % 2 == 1 {
            kth(n / 2)
        } else {
            let (a, b) = (kth(n / 2 - 1)?, kth(n / 2)?);
            Some(a + (b - a) / 2.0)
        }
    }
}

/// k-th smallest (0-based) of the union of two ascending sequences given by accessors.
#[allow(clippy::many_single_char_names)] // the textbook names of this selection
fn kth_of_two(
    k: usize,
    na: usize,
    nb: usize,
    a: &dyn Fn(usize) -> f64,
    b: &dyn Fn(usize) -> f64,
) -> Option<f64> {
    if k >= na + nb {
        return None;
    }
    // Binary search on how many elements come from `a`.
    let mut lo = k.saturating_sub(nb);
    let mut hi = k.min(na);
    while lo < hi {
        let i = lo + (hi - lo) / 2; // take i from a, k - i from b
        let j = k - i;
        if j > 0 && i < na && b(j - 1) > a(i) {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
    let i = lo;
    let j = k - i;
    let ca = (i < na).then(|| a(i));
    let cb = (j < nb).then(|| b(j));
    match (ca, cb) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (Some(x), None) => Some(x),
        (None, Some(y)) => Some(y),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn median_and_mad_known_answers() {
        let xs = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(median(&xs), Some(3.0));
        assert_eq!(mad(&xs), Some(1.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn quantile_interpolates() {
        let xs = [0.0, 10.0];
        assert_eq!(quantile(&xs, 0.25), Some(2.5));
        assert_eq!(quantile(&xs, 1.5), Some(10.0));
    }

    #[test]
    fn mean_abs_diff_skips_gaps() {
        assert_eq!(mean_abs_diff(&[1.0, 3.0, f64::NAN, 4.0, 2.0]), Some(2.0));
        assert_eq!(mean_abs_diff(&[1.0]), None);
    }

    proptest! {
        #[test]
        fn window_matches_batch(xs in proptest::collection::vec(-1e3f64..1e3, 1..200), cap in 1usize..50) {
            let mut w = SortedWindow::new(cap);
            for (i, x) in xs.iter().enumerate() {
                w.push(*x);
                let tail = &xs[(i + 1).saturating_sub(cap)..=i];
                let m = median(tail).unwrap();
                let d = mad(tail).unwrap();
                prop_assert!((w.median().unwrap() - m).abs() < 1e-9);
                prop_assert!((w.mad().unwrap() - d).abs() < 1e-9, "mad {} vs {}", w.mad().unwrap(), d);
            }
        }
    }
}
