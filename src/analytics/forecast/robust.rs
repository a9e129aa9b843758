//! Robust seasonal forecast: a daily profile of slot medians plus a median level.
//!
//! The profile at a time-of-day slot is the median, over up to `max_days` past days, of the
//! rows within ±`smooth` rows of that slot, not centred: the level, taken as
//! the median of the last `level_window` de-seasonalised rows. Medians make both parts
//! insensitive to the isolated spikes that dominate CloudWatch-style series.

use crate::analytics::stats::{median, median_in_place};

/// Settings of [`robust_seasonal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RobustSeasonalSpec {
    pub season: usize,
    pub max_days: usize,
    pub smooth: usize,
    pub level_window: usize,
}

impl Default for RobustSeasonalSpec {
    fn default() -> Self {
        Self {
            season: 288,
            max_days: 7,
            smooth: 2,
            level_window: 36,
        }
    }
}

/// Profile value for absolute row `t` (may lie beyond the history), from rows before `n`.
fn profile_at(history: &[f64], t: usize, spec: &RobustSeasonalSpec, buf: &mut Vec<f64>) -> f64 {
    let n = history.len();
    buf.clear();
    for day in 1..=spec.max_days {
        let Some(centre) = t.checked_sub(day * spec.season) else {
            break;
        };
        let lo = centre.saturating_sub(spec.smooth);
        let hi = (centre + spec.smooth + 1).min(n);
        if lo < hi {
            buf.extend(history[lo..hi].iter().copied().filter(|x| x.is_finite()));
        }
    }
    median_in_place(buf).unwrap_or(f64::NAN)
}

/// Point forecast; `None` until a season plus a level window of history exist.
#[must_use]
pub fn robust_seasonal(
    history: &[f64],
    horizon: usize,
    spec: &RobustSeasonalSpec,
) -> Option<Vec<f64>> {
    let n = history.len();
    if spec.season == 0 || n < spec.season + spec.level_window {
        return None;
    }
    let mut buf = Vec::new();
    // Profile for the forecast rows and for the level window, then centre it.
    let start = n.saturating_sub(spec.level_window.max(1));
    let past: Vec<f64> = (start..n)
        .map(|t| profile_at(history, t, spec, &mut buf))
        .collect();
    let future: Vec<f64> = (n..n + horizon)
        .map(|t| profile_at(history, t, spec, &mut buf))
        .collect();
    let level = median_residual(&history[start..], &past)?;
    // A slot with no past rows (gaps a day ago) takes the profile's typical value: the level
    // is a residual, so the level alone forecast 0 for a constant series at 340 000.
    let known: Vec<f64> = past
        .iter()
        .chain(&future)
        .copied()
        .filter(|p| p.is_finite())
        .collect();
    let fill = median(&known)?;
    Some(
        future
            .iter()
            .map(|p| level + if p.is_finite() { *p } else { fill })
            .collect(),
    )
}

/// Settings of the wide daily profile of [`daily_profile`] for a season of `season` rows: up
/// to two weeks of past days, an hour either side of the time of day (at 288 rows a day),
/// the level window a quarter of a day.
#[must_use]
pub fn wide_profile_spec(season: usize) -> RobustSeasonalSpec {
    RobustSeasonalSpec {
        season,
        max_days: 14,
        smooth: season / 24,
        level_window: season / 4,
    }
}

/// Profile values computed once from a whole series, for rolling forecasts over it: the
/// value at row `t` seen from a history of `n` rows is the table's whenever no day's
/// neighbourhood of `t` reaches row `n` or later (`t + smooth < n + season`), which holds
/// for every horizon up to `season - smooth` rows; other rows are computed from the history.
#[derive(Debug)]
pub struct ProfileTable {
    values: Vec<f64>,
}

impl ProfileTable {
    /// Profile values for rows `0..upto` from the rows of `ys`.
    #[must_use]
    pub fn new(ys: &[f64], upto: usize, spec: &RobustSeasonalSpec) -> Self {
        let mut buf = Vec::new();
        Self {
            values: (0..upto)
                .map(|t| profile_at(ys, t, spec, &mut buf))
                .collect(),
        }
    }

    /// Profile at row `t` from the first `history.len()` rows of the table's series.
    fn at(&self, history: &[f64], t: usize, spec: &RobustSeasonalSpec, buf: &mut Vec<f64>) -> f64 {
        match self.values.get(t) {
            Some(&v) if t + spec.smooth < history.len() + spec.season => v,
            _ => profile_at(history, t, spec, buf),
        }
    }
}

/// The plain daily profile: for each forecast row, the median over past days of the rows
/// near the same time of day. `None` until a season of history exists. Steps whose
/// neighbourhood is not yet observed on any day take the median of the last
/// `level_window` rows. `table`, when given, must come from a series `history` starts.
#[must_use]
pub fn daily_profile(
    history: &[f64],
    horizon: usize,
    spec: &RobustSeasonalSpec,
    table: Option<&ProfileTable>,
) -> Option<Vec<f64>> {
    let n = history.len();
    if spec.season == 0 || n < spec.season {
        return None;
    }
    let mut buf = Vec::new();
    let mut fallback = None;
    (n..n + horizon)
        .map(|t| {
            let p = match table {
                Some(table) => table.at(history, t, spec, &mut buf),
                None => profile_at(history, t, spec, &mut buf),
            };
            if p.is_finite() {
                return Some(p);
            }
            if fallback.is_none() {
                fallback = median(&history[n.saturating_sub(spec.level_window.max(1))..]);
            }
            fallback
        })
        .collect()
}

/// The daily profile moved to the current level: the level is the median, over the last
/// `level_window` rows, of each row minus the profile forecast made for it before that
/// window (out of sample, so a profile that fits its own rows cannot hide a shift).
/// `None` until a season plus a level window of history exist.
#[must_use]
pub fn level_adjusted_profile(
    history: &[f64],
    horizon: usize,
    spec: &RobustSeasonalSpec,
    table: Option<&ProfileTable>,
) -> Option<Vec<f64>> {
    let n = history.len();
    let w = spec.level_window.max(1);
    let before = n.checked_sub(w)?;
    let profile = daily_profile(history, horizon, spec, table)?;
    let past = daily_profile(&history[..before], w, spec, table)?;
    let level = median_residual(&history[before..], &past)?;
    Some(profile.iter().map(|p| p + level).collect())
}

/// Median of the finite differences `ys - fitted`, pairwise.
fn median_residual(ys: &[f64], fitted: &[f64]) -> Option<f64> {
    let mut resid: Vec<f64> = ys
        .iter()
        .zip(fitted)
        .map(|(y, p)| y - p)
        .filter(|r| r.is_finite())
        .collect();
    median_in_place(&mut resid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_with_only_gaps_a_day_ago_keeps_the_level() {
        // The proptest case: a constant series whose rows a day before the forecast are gaps.
        let spec = RobustSeasonalSpec {
            season: 24,
            max_days: 7,
            smooth: 2,
            level_window: 12,
        };
        let ys: Vec<f64> = (0..66)
            .map(|i| {
                if (16..=20).contains(&i) || (40..=44).contains(&i) {
                    f64::NAN
                } else {
                    343_746.0
                }
            })
            .collect();
        let fc = robust_seasonal(&ys, 12, &spec).unwrap();
        for (s, f) in fc.iter().enumerate() {
            assert!((f - 343_746.0).abs() < 1e-6, "step {s}: {f}");
        }
    }

    #[test]
    fn pure_seasonal_series_is_recovered() {
        let spec = RobustSeasonalSpec {
            season: 24,
            max_days: 7,
            smooth: 0,
            level_window: 12,
        };
        let pattern = |i: usize| [0.0, 5.0, 10.0, 5.0][(i % 24) / 6];
        let ys: Vec<f64> = (0..24 * 4).map(pattern).collect();
        let fc = robust_seasonal(&ys, 30, &spec).unwrap();
        for (s, f) in fc.iter().enumerate() {
            assert!((f - pattern(ys.len() + s)).abs() < 1e-9, "step {s}");
        }
    }

    #[test]
    fn level_adjusted_profile_follows_a_shift_and_keeps_the_shape() {
        let spec = RobustSeasonalSpec {
            season: 24,
            max_days: 14,
            smooth: 1,
            level_window: 6,
        };
        let pattern = |i: usize| if (i % 24) < 12 { 10.0 } else { 50.0 };
        // Three days of the pattern, then the whole series 7 higher for the last 8 rows.
        let mut ys: Vec<f64> = (0..72).map(pattern).collect();
        ys.extend((72..80).map(|i| pattern(i) + 7.0));
        let plain = daily_profile(&ys, 24, &spec, None).unwrap();
        let moved = level_adjusted_profile(&ys, 24, &spec, None).unwrap();
        for s in 0..24 {
            let t = ys.len() + s;
            // Away from the pattern's edges, the plain profile repeats it and the adjusted
            // one adds the shift.
            if (t % 12) > 1 && (t % 12) < 11 {
                assert!((plain[s] - pattern(t)).abs() < 1e-9, "plain step {s}");
                assert!((moved[s] - pattern(t) - 7.0).abs() < 1e-9, "moved step {s}");
            }
        }
    }

    #[test]
    fn the_table_gives_what_each_history_alone_gives() {
        let spec = RobustSeasonalSpec {
            season: 24,
            max_days: 3,
            smooth: 2,
            level_window: 6,
        };
        let ys: Vec<f64> = (0..120_u32)
            .map(|i| f64::from((i * 7919) % 31) + f64::from(i % 24))
            .collect();
        // Horizons past season - smooth need rows the history does not have yet.
        let table = ProfileTable::new(&ys, ys.len() + 30, &spec);
        for n in [30, 47, 48, 70, 90] {
            for horizon in [1, 12, 22, 30] {
                let h = &ys[..n];
                assert_eq!(
                    daily_profile(h, horizon, &spec, Some(&table)),
                    daily_profile(h, horizon, &spec, None),
                    "n {n} horizon {horizon}"
                );
                assert_eq!(
                    level_adjusted_profile(h, horizon, &spec, Some(&table)),
                    level_adjusted_profile(h, horizon, &spec, None),
                    "n {n} horizon {horizon}"
                );
            }
        }
    }

    #[test]
    fn profiles_need_a_season() {
        let spec = wide_profile_spec(288);
        assert!(daily_profile(&[1.0; 200], 5, &spec, None).is_none());
        assert!(level_adjusted_profile(&[1.0; 300], 5, &spec, None).is_none());
        assert_eq!(
            daily_profile(&[2.0; 300], 3, &spec, None),
            Some(vec![2.0; 3])
        );
    }

    #[test]
    fn too_short_is_none() {
        assert!(robust_seasonal(&[1.0; 10], 5, &RobustSeasonalSpec::default()).is_none());
    }
}
