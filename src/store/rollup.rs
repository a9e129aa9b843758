//! Rollup tiers: the 1-minute and 1-hour aggregates (min, max, sum, count) and the rules
//! that pick a tier for a query.
//!
//! Aggregates are kept in quantised integer units, so a sum is exact and re-aggregating
//! minutes into hours gives the same numbers as aggregating the raw samples directly.
//! Only quantisable samples enter rollups; NaN/inf stay visible in the raw tier only.
//! This module is pure: no I/O, no clocks.

use super::Tier;

/// One aggregate over `[ts_ms, ts_ms + width)`; values in quantised units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupPoint {
    pub ts_ms: i64,
    pub min: i64,
    pub max: i64,
    pub sum: i64,
    pub count: u32,
}

impl RollupPoint {
    pub(crate) fn single(ts_ms: i64, q: i64) -> Self {
        Self {
            ts_ms,
            min: q,
            max: q,
            sum: q,
            count: 1,
        }
    }

    pub(crate) fn merge(&mut self, o: &RollupPoint) {
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.sum = self.sum.saturating_add(o.sum);
        self.count = self.count.saturating_add(o.count);
    }
}

/// Floors `ts` to a multiple of `width` (works for negative timestamps too).
pub(crate) fn floor_to(ts: i64, width: i64) -> i64 {
    ts - ts.rem_euclid(width)
}

/// Accumulates the bucket of fixed width that is currently open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bucket {
    width: i64,
    pub(crate) current: Option<RollupPoint>,
}

impl Bucket {
    pub(crate) fn new(width: i64) -> Self {
        Self {
            width,
            current: None,
        }
    }

    /// Closes the open bucket if `ts` lies past its end, returning it.
    pub(crate) fn advance(&mut self, ts: i64) -> Option<RollupPoint> {
        match self.current {
            Some(p) if ts >= p.ts_ms + self.width => self.current.take(),
            _ => None,
        }
    }

    /// Adds a point that falls in the open bucket (or opens one); call `advance` first.
    pub(crate) fn add(&mut self, p: &RollupPoint) {
        match &mut self.current {
            Some(cur) => cur.merge(p),
            None => {
                self.current = Some(RollupPoint {
                    ts_ms: floor_to(p.ts_ms, self.width),
                    ..*p
                });
            }
        }
    }
}

/// Picks the tier for a query and the bucket width in ms.
///
/// The coarsest tier whose resolution is not coarser than the wanted step is used, unless
/// the range starts before that tier's retention horizon, in which case the next coarser
/// tier that still holds the start is used. The step is rounded up to a multiple of the
/// tier's resolution so buckets never split a stored point.
#[must_use]
pub fn choose_tier(
    from_ms: i64,
    to_ms: i64,
    max_points: Option<usize>,
    step_ms: Option<i64>,
    raw_step_ms: i64,
    horizons: [i64; 3],
) -> (Tier, i64) {
    let span = to_ms.saturating_sub(from_ms).max(1);
    let by_points = max_points.map_or(0, |n| {
        let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
        span.saturating_add(n - 1) / n
    });
    let mut step = step_ms.unwrap_or(0).max(by_points).max(raw_step_ms).max(1);
    let mut tier = [Tier::Hour, Tier::Minute, Tier::Raw]
        .into_iter()
        .find(|t| t.resolution_ms(raw_step_ms) <= step)
        .unwrap_or(Tier::Raw);
    while from_ms < horizons[tier.index()] {
        match tier.coarser() {
            Some(c) => tier = c,
            None => break,
        }
    }
    let res = tier.resolution_ms(raw_step_ms).max(1);
    step = (step.max(res).saturating_add(res - 1) / res).saturating_mul(res);
    (tier, step)
}

/// Merges points into buckets of `step` starting at multiples of `step`, in time order.
pub(crate) fn bucketize(mut points: Vec<RollupPoint>, step: i64) -> Vec<RollupPoint> {
    points.sort_by_key(|p| p.ts_ms);
    let mut out: Vec<RollupPoint> = Vec::new();
    for p in points {
        let ts = floor_to(p.ts_ms, step);
        match out.last_mut() {
            Some(last) if last.ts_ms == ts => last.merge(&p),
            _ => out.push(RollupPoint { ts_ms: ts, ..p }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        clippy::cast_precision_loss,
        clippy::cast_sign_loss,
        clippy::many_single_char_names
    )]
    use super::*;
    use proptest::prelude::*;
    use test_case::test_case;

    const H: [i64; 3] = [i64::MIN, i64::MIN, i64::MIN];

    #[test_case(0, 3_600_000, Some(720), None => (Tier::Raw, 5_000); "1h in 720 points is raw")]
    #[test_case(0, 86_400_000, Some(1440), None => (Tier::Minute, 60_000); "24h in 1440 points is minutes")]
    #[test_case(0, 86_400_000, Some(100), None => (Tier::Minute, 900_000); "24h in 100 points uses minutes")]
    #[test_case(0, 30 * 86_400_000, Some(200), None => (Tier::Hour, 14_400_000); "30 days in 200 points is hours")]
    #[test_case(0, 3_600_000, None, Some(90_000) => (Tier::Minute, 120_000); "step rounds up to the tier")]
    #[test_case(0, 3_600_000, None, None => (Tier::Raw, 5_000); "no hint gives raw")]
    fn tier_choice(from: i64, to: i64, n: Option<usize>, step: Option<i64>) -> (Tier, i64) {
        choose_tier(from, to, n, step, 5_000, H)
    }

    #[test]
    fn tier_falls_back_to_coarser_when_range_predates_retention() {
        let horizons = [1_000_000, 500_000, i64::MIN];
        assert_eq!(
            choose_tier(0, 3_600_000, Some(720), None, 5_000, horizons).0,
            Tier::Hour
        );
        let horizons = [1_000_000, i64::MIN, i64::MIN];
        assert_eq!(
            choose_tier(0, 3_600_000, Some(720), None, 5_000, horizons).0,
            Tier::Minute
        );
    }

    proptest! {
        /// Rolling raw samples up by minute and then by hour equals a brute-force aggregate
        /// of the same samples per hour.
        #[test]
        fn cascaded_rollup_matches_brute_force(
            gaps in prop::collection::vec(1i64..200_000, 1..500),
            values in prop::collection::vec(-1_000_000i64..1_000_000, 500),
        ) {
            let mut ts = 1_700_000_000_000i64;
            let mut samples = Vec::new();
            for (g, v) in gaps.iter().zip(&values) {
                ts += g;
                samples.push((ts, *v));
            }
            let (mut minute, mut hour) = (Bucket::new(60_000), Bucket::new(3_600_000));
            let mut hours = Vec::new();
            for &(ts, q) in &samples {
                if let Some(m) = minute.advance(ts) {
                    if let Some(h) = hour.advance(m.ts_ms) { hours.push(h); }
                    hour.add(&m);
                }
                if let Some(h) = hour.advance(ts) { hours.push(h); }
                minute.add(&RollupPoint::single(ts, q));
            }
            if let Some(m) = minute.current { if let Some(h) = hour.advance(m.ts_ms) { hours.push(h); } hour.add(&m); }
            hours.extend(hour.current);

            let mut brute: std::collections::BTreeMap<i64, Vec<i64>> = std::collections::BTreeMap::new();
            for &(ts, q) in &samples { brute.entry(floor_to(ts, 3_600_000)).or_default().push(q); }
            let expect: Vec<RollupPoint> = brute.into_iter().map(|(ts, qs)| RollupPoint {
                ts_ms: ts,
                min: *qs.iter().min().unwrap(),
                max: *qs.iter().max().unwrap(),
                sum: qs.iter().sum(),
                count: qs.len() as u32,
            }).collect();
            prop_assert_eq!(hours, expect);
        }

        #[test]
        fn bucketize_matches_brute_force(
            pts in prop::collection::vec((0i64..10_000_000, -1000i64..1000), 0..300),
            step in 1i64..2_000_000,
        ) {
            let points: Vec<_> = pts.iter().map(|&(ts, q)| RollupPoint::single(ts, q)).collect();
            let got = bucketize(points, step);
            let mut brute: std::collections::BTreeMap<i64, Vec<i64>> = std::collections::BTreeMap::new();
            for &(ts, q) in &pts { brute.entry(ts / step * step).or_default().push(q); }
            prop_assert_eq!(got.len(), brute.len());
            for (g, (ts, qs)) in got.iter().zip(brute) {
                prop_assert_eq!(g.ts_ms, ts);
                prop_assert_eq!(g.sum, qs.iter().sum::<i64>());
                prop_assert_eq!(g.count as usize, qs.len());
                prop_assert_eq!(g.min, *qs.iter().min().unwrap());
                prop_assert_eq!(g.max, *qs.iter().max().unwrap());
            }
        }
    }
}
