//! The automatic choice: a rolling backtest on the history weights a pool of members.
//!
//! Inner origins are every `every` rows over the last `max_origins` origins of the history
//! (rows `0..o` seen, rows `o..` scored where observed), so only past data is used. Per step
//! bucket, each member's MAE over those origins (its MASE up to the common naive scale) ranks
//! it; the best `top_k` are combined with weights ∝ 1 / MAE². Intervals are the empirical
//! quantiles of the combined forecast's errors at nearby steps: no distribution is assumed,
//! which matters on spiky, skewed series.

use serde::Serialize;

use super::holt::{self, HoltFit};
use super::intervals::with_empirical_bands;
use super::mix::{mix_parts, MixPart};
use super::robust::{
    daily_profile, level_adjusted_profile, robust_seasonal, wide_profile_spec, ProfileTable,
    RobustSeasonalSpec,
};
use super::simple::{naive, seasonal_naive, window_median};
use super::trend::LinearFit;
use super::{Forecast, ForecastConfig, ModelKind};

/// Settings of the rolling backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelectionConfig {
    /// Rows between inner origins.
    pub every: usize,
    /// Most inner origins used (the most recent ones).
    pub max_origins: usize,
    /// Rows of history before the first inner origin.
    pub min_train: usize,
    /// Last step of each bucket, ascending; steps past the last share its weights.
    pub bucket_ends: Vec<usize>,
    /// Members combined per bucket.
    pub top_k: usize,
}

impl Default for SelectionConfig {
    fn default() -> Self {
        Self {
            every: 12,
            max_origins: 72,
            min_train: 36,
            bucket_ends: vec![12, 72],
            top_k: 3,
        }
    }
}

/// A member of the automatic pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Member {
    Naive,
    SeasonalNaive,
    Median(usize),
    RobustSeasonal,
    /// The wide daily profile as it is ([`daily_profile`]).
    Profile,
    /// The wide daily profile moved to the current level ([`level_adjusted_profile`]).
    LevelProfile,
    /// Mean of the median of the last `median_window` rows and the wide daily profile.
    MedianProfile,
    Holt,
    HoltWinters,
    LinearTrend,
}

impl Member {
    /// The automatic pool for `cfg`.
    #[must_use]
    pub fn pool(cfg: &ForecastConfig) -> Vec<Self> {
        vec![
            Self::Naive,
            Self::SeasonalNaive,
            Self::Median(12),
            Self::Median(cfg.median_window),
            Self::Median(144),
            Self::Median(288),
            Self::RobustSeasonal,
            Self::Profile,
            Self::LevelProfile,
            Self::MedianProfile,
            Self::Holt,
            Self::HoltWinters,
            Self::LinearTrend,
        ]
    }

    /// The members built on the wide daily profile, which share [`Fits::profile`].
    const fn is_profile(self) -> bool {
        matches!(
            self,
            Self::Profile | Self::LevelProfile | Self::MedianProfile
        )
    }

    pub(super) fn of_model(model: ModelKind, cfg: &ForecastConfig) -> Option<Self> {
        match model {
            ModelKind::Naive => Some(Self::Naive),
            ModelKind::SeasonalNaive => Some(Self::SeasonalNaive),
            ModelKind::Median => Some(Self::Median(cfg.median_window)),
            ModelKind::RobustSeasonal => Some(Self::RobustSeasonal),
            ModelKind::Holt => Some(Self::Holt),
            ModelKind::HoltWinters => Some(Self::HoltWinters),
            ModelKind::LinearTrend => Some(Self::LinearTrend),
            ModelKind::Auto | ModelKind::TrendDaily => None,
        }
    }
}

/// A member's forecast of `k` steps from a history.
type MemberFn<'a> = dyn Fn(&[f64], usize) -> Option<Vec<f64>> + 'a;

/// Steps forecast from origin `o` of a history of `n` rows: the whole horizon from the last
/// origin (`n`), and from an inner one only the steps the history can score. A capacity
/// forecast months ahead would otherwise build months of rows at every inner origin.
fn steps_from(o: usize, n: usize, horizon: usize) -> usize {
    if o >= n {
        horizon
    } else {
        horizon.min(n - o)
    }
}

/// Forecasts of `member` at each origin (rows `0..o` seen, [`steps_from`] steps); `None`
/// where it cannot run.
fn rolling(
    member: Member,
    ys: &[f64],
    origins: &[usize],
    horizon: usize,
    cfg: &ForecastConfig,
    fits: &Fits,
) -> Vec<Option<Vec<f64>>> {
    let n = ys.len();
    let each = |f: &MemberFn<'_>| {
        origins
            .iter()
            .map(|&o| f(&ys[..o], steps_from(o, n, horizon)))
            .collect()
    };
    match member {
        Member::Naive => each(&naive),
        Member::SeasonalNaive => each(&|h, k| seasonal_naive(h, k, cfg.season)),
        Member::Median(w) => each(&|h, k| window_median(h, k, w)),
        Member::RobustSeasonal => {
            let spec = RobustSeasonalSpec {
                season: cfg.season,
                ..RobustSeasonalSpec::default()
            };
            each(&|h, k| robust_seasonal(h, k, &spec))
        }
        Member::Profile | Member::LevelProfile | Member::MedianProfile => {
            let spec = wide_profile_spec(cfg.season);
            let t = fits.profile.as_ref();
            match member {
                Member::Profile => each(&|h, k| daily_profile(h, k, &spec, t)),
                Member::LevelProfile => each(&|h, k| level_adjusted_profile(h, k, &spec, t)),
                _ => each(&|h, k| {
                    let median = window_median(h, 1, cfg.median_window)?[0];
                    let profile = daily_profile(h, k, &spec, t)?;
                    Some(profile.iter().map(|p| (p + median) / 2.0).collect())
                }),
            }
        }
        Member::LinearTrend => each(&|h, k| {
            let start = h.len().saturating_sub(cfg.trend_window.max(3));
            LinearFit::fit(&h[start..]).map(|f| (1..=k).map(|s| f.predict(s)).collect())
        }),
        Member::Holt | Member::HoltWinters => {
            // Parameters fitted once on the whole history, states rolled through the origins.
            let (fit, min) = if member == Member::Holt {
                (fits.holt.as_ref(), 12)
            } else {
                (fits.holt_winters.as_ref(), 2 * cfg.season)
            };
            let Some(fit) = fit else {
                return vec![None; origins.len()];
            };
            holt::rolling_forecasts(ys, fit, origins, horizon)
                .into_iter()
                .zip(origins)
                .map(|(f, &o)| (o >= min && f.len() == steps_from(o, n, horizon)).then_some(f))
                .collect()
        }
    }
}

/// What the members share per series: the Holt fits (also behind the model-based intervals)
/// and the daily-profile table of the three profile members.
#[derive(Debug, Default)]
pub(super) struct Fits {
    pub holt: Option<HoltFit>,
    pub holt_winters: Option<HoltFit>,
    /// The profile of a row is the same from every origin that sees its neighbourhood on all
    /// past days: computed once per series, not once per origin, step and member.
    pub profile: Option<ProfileTable>,
}

impl Fits {
    pub(super) fn new(
        ys: &[f64],
        members: &[Member],
        cfg: &ForecastConfig,
        horizon: usize,
    ) -> Self {
        Self {
            profile: members.iter().any(|m| m.is_profile()).then(|| {
                let rows = ys.len() + run_horizon(horizon, cfg);
                ProfileTable::new(ys, rows, &wide_profile_spec(cfg.season))
            }),
            holt: members
                .contains(&Member::Holt)
                .then(|| holt::fit_holt(ys))
                .flatten(),
            holt_winters: members
                .contains(&Member::HoltWinters)
                .then(|| holt::fit_holt_winters(ys, cfg.season))
                .flatten(),
        }
    }
}

/// Inner origins for a history of `n` rows, ascending; the last one is `n` itself.
fn inner_origins(n: usize, sel: &SelectionConfig) -> Vec<usize> {
    let every = sel.every.max(1);
    let mut out: Vec<usize> = (0..=sel.max_origins)
        .map_while(|k| n.checked_sub(k * every))
        .take_while(|&o| o >= sel.min_train.max(1))
        .collect();
    if out.first() != Some(&n) {
        out.insert(0, n);
    }
    out.reverse();
    out
}

fn bucket_of(step: usize, ends: &[usize]) -> usize {
    ends.iter()
        .position(|&e| step <= e)
        .unwrap_or(ends.len().saturating_sub(1))
}

/// A combination's forecast from the last origin, its backtest errors per step (actual −
/// forecast) and what it combined.
pub(super) struct Combined {
    point: Vec<f64>,
    errors: Vec<Vec<f64>>,
    mix: Vec<MixPart>,
}

/// Rolling forecasts of a pool of members at the inner origins of one history.
pub(super) struct PoolRuns {
    origins: Vec<usize>,
    members: Vec<Member>,
    /// Per member, per origin; members that cannot forecast at the final origin are dropped.
    runs: Vec<Vec<Option<Vec<f64>>>>,
    /// Steps run: at least through the last bucket (see [`run_horizon`]).
    horizon: usize,
    /// Steps asked for.
    asked: usize,
}

/// The steps the members run for a forecast of `asked` steps: at least through the last
/// weight bucket, so that every bucket is judged on all its steps whatever the horizon
/// asked. A forecast of 5 minutes is then the first step of the one of an hour, not one
/// judged on a single step's errors (too few to weigh the members by).
fn run_horizon(asked: usize, cfg: &ForecastConfig) -> usize {
    asked.max(cfg.selection.bucket_ends.last().copied().unwrap_or(0))
}

impl PoolRuns {
    pub(super) fn new(
        ys: &[f64],
        asked: usize,
        members: &[Member],
        cfg: &ForecastConfig,
        fits: &Fits,
    ) -> Self {
        let horizon = run_horizon(asked, cfg);
        let origins = inner_origins(ys.len(), &cfg.selection);
        let (members, runs) = members
            .iter()
            .map(|&m| (m, rolling(m, ys, &origins, horizon, cfg, fits)))
            .filter(|(_, r)| r.last().is_some_and(Option::is_some))
            .unzip();
        Self {
            origins,
            members,
            runs,
            horizon,
            asked,
        }
    }

    /// Index of `member` among the runnable members.
    pub(super) fn index(&self, member: Member) -> Option<usize> {
        self.members.iter().position(|m| *m == member)
    }

    /// Sum of absolute errors of run `r` per bucket, over the origins where `other` also ran
    /// (pairs of sums: this run, the other run).
    #[allow(clippy::many_single_char_names)]
    fn paired_errors(
        &self,
        ys: &[f64],
        r: usize,
        other: usize,
        ends: &[usize],
    ) -> Vec<(f64, f64, usize)> {
        let n = ys.len();
        let mut acc = vec![(0.0, 0.0, 0_usize); ends.len()];
        let last = self.origins.len() - 1;
        // Steps past the last bucket share its weights but do not set them: a 3-day forecast
        // weighs its members as a 6-hour one does.
        let judged = ends.last().copied().unwrap_or(self.horizon);
        for (oi, &o) in self.origins[..last].iter().enumerate() {
            let (Some(a), Some(b)) = (&self.runs[r][oi], &self.runs[other][oi]) else {
                continue;
            };
            for s in 0..self.horizon.min(n - o).min(judged) {
                let y = ys[o + s];
                if y.is_finite() && a[s].is_finite() && b[s].is_finite() {
                    let e = &mut acc[bucket_of(s + 1, ends)];
                    e.0 += (y - a[s]).abs();
                    e.1 += (y - b[s]).abs();
                    e.2 += 1;
                }
            }
        }
        acc
    }

    /// Backtest weights per bucket for the runs `chosen` (empty: all): each run's MAE relative
    /// to the reference run on the origins both ran, so members that need more history are
    /// judged on the origins they can run at; the `top_k` best get weight ∝ 1 / relative MAE².
    fn weights(
        &self,
        ys: &[f64],
        chosen: &[usize],
        reference: usize,
        sel: &SelectionConfig,
        ends: &[usize],
    ) -> Vec<Vec<f64>> {
        let all: Vec<usize> = if chosen.is_empty() {
            (0..self.runs.len()).collect()
        } else {
            chosen.to_vec()
        };
        let min_pairs = 12 * sel.every.max(1);
        let rel: Vec<Vec<f64>> = all
            .iter()
            .map(|&r| {
                self.paired_errors(ys, r, reference, ends)
                    .iter()
                    .map(|&(a, b, k)| {
                        if k < min_pairs {
                            f64::NAN
                        } else if b > 0.0 {
                            a / b
                        } else if a > 0.0 {
                            f64::INFINITY
                        } else {
                            1.0
                        }
                    })
                    .collect()
            })
            .collect();
        (0..ends.len())
            .map(|b| {
                let mut w = vec![0.0; self.runs.len()];
                let mut order: Vec<usize> =
                    (0..all.len()).filter(|&i| rel[i][b].is_finite()).collect();
                order.sort_by(|&i, &j| rel[i][b].total_cmp(&rel[j][b]));
                for &i in order.iter().take(sel.top_k.max(1)) {
                    w[all[i]] = 1.0 / rel[i][b].max(1e-9).powi(2);
                }
                if order.is_empty() {
                    // No evidence yet: trust the robust reference alone.
                    w[reference] = 1.0;
                }
                w
            })
            .collect()
    }

    /// The weighted combination at origin index `oi` (over the steps forecast from it), if
    /// every weighted run has a forecast.
    fn combined(
        &self,
        oi: usize,
        n: usize,
        weights: &[Vec<f64>],
        ends: &[usize],
    ) -> Option<Vec<f64>> {
        (0..steps_from(self.origins[oi], n, self.horizon))
            .map(|s| {
                let w = &weights[bucket_of(s + 1, ends)];
                let mut num = 0.0;
                let mut den = 0.0;
                for (run, &w) in self.runs.iter().zip(w).filter(|(_, w)| **w > 0.0) {
                    let f = run[oi].as_ref()?[s];
                    if f.is_finite() {
                        num += w * f;
                        den += w;
                    }
                }
                // No member forecast this step: NaN, not the whole origin lost (its errors
                // at the other steps count).
                Some(if den > 0.0 { num / den } else { f64::NAN })
            })
            .collect()
    }

    /// Point forecast and per-step backtest errors of the combination of `chosen` runs, and
    /// what was combined.
    pub(super) fn combine(
        &self,
        ys: &[f64],
        chosen: &[usize],
        reference: usize,
        cfg: &ForecastConfig,
    ) -> Option<Combined> {
        let sel = &cfg.selection;
        let ends = if sel.bucket_ends.is_empty() {
            vec![self.horizon]
        } else {
            sel.bucket_ends.clone()
        };
        let weights = if chosen.len() == 1 {
            let mut w = vec![0.0; self.runs.len()];
            w[chosen[0]] = 1.0;
            vec![w; ends.len()]
        } else {
            self.weights(ys, chosen, reference, sel, &ends)
        };
        let n = ys.len();
        let last = self.origins.len() - 1;
        let mut errors = vec![Vec::new(); self.horizon];
        for (oi, &o) in self.origins[..last].iter().enumerate() {
            let Some(f) = self.combined(oi, n, &weights, &ends) else {
                continue;
            };
            for s in 0..self.horizon.min(n - o) {
                let y = ys[o + s];
                if y.is_finite() && f[s].is_finite() {
                    errors[s].push(y - f[s]);
                }
            }
        }
        let mut point = self.combined(last, n, &weights, &ends)?;
        point.truncate(self.asked);
        if !point.iter().all(|v| v.is_finite()) {
            return None;
        }
        let mix = mix_parts(&weights, &ends, &self.members, point.len());
        Some(Combined { point, errors, mix })
    }
}

/// The automatic choice; `None` when no member can run.
#[must_use]
pub fn auto_forecast(ys: &[f64], horizon: usize, cfg: &ForecastConfig) -> Option<Forecast> {
    let pool = Member::pool(cfg);
    let runs = PoolRuns::new(ys, horizon, &pool, cfg, &Fits::new(ys, &pool, cfg, horizon));
    auto_from_runs(ys, &runs, cfg)
}

pub(super) fn auto_from_runs(
    ys: &[f64],
    runs: &PoolRuns,
    cfg: &ForecastConfig,
) -> Option<Forecast> {
    // The yardstick the members are weighed against: the robust median, or after a gap
    // longer than its window (a VM stopped for hours) a longer one, else any member that runs.
    let reference = [cfg.median_window, 144, 288]
        .into_iter()
        .find_map(|w| runs.index(Member::Median(w)))
        .or_else(|| (!runs.members.is_empty()).then_some(0))?;
    let c = runs.combine(ys, &[], reference, cfg)?;
    let mut f = with_empirical_bands(ModelKind::Auto, ys, c.point, &c.errors);
    f.mix = c.mix;
    Some(f)
}

/// One model with empirical intervals from its own rolling backtest.
#[must_use]
pub fn empirical_forecast(
    ys: &[f64],
    horizon: usize,
    model: ModelKind,
    cfg: &ForecastConfig,
) -> Option<Forecast> {
    let member = Member::of_model(model, cfg)?;
    let fits = Fits::new(ys, &[member], cfg, horizon);
    let runs = PoolRuns::new(ys, horizon, &[member], cfg, &fits);
    empirical_from_runs(ys, &runs, model, cfg)
}

pub(super) fn empirical_from_runs(
    ys: &[f64],
    runs: &PoolRuns,
    model: ModelKind,
    cfg: &ForecastConfig,
) -> Option<Forecast> {
    let r = runs.index(Member::of_model(model, cfg)?)?;
    let c = runs.combine(ys, &[r], r, cfg)?;
    Some(with_empirical_bands(model, ys, c.point, &c.errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_longer_than_the_median_window_still_gets_an_automatic_forecast() {
        let cfg = ForecastConfig::default();
        // Two days of a daily wave, then three hours without data (a stopped VM).
        let mut ys: Vec<f64> = (0..576)
            .map(|i| 50.0 + 10.0 * (f64::from(i) * std::f64::consts::TAU / 288.0).sin())
            .collect();
        ys.extend([f64::NAN; 36]);
        let f = auto_forecast(&ys, 12, &cfg).expect("a forecast after the gap");
        assert_eq!(f.model, ModelKind::Auto);
        assert!(
            f.point
                .iter()
                .all(|v| v.is_finite() && (30.0..70.0).contains(v)),
            "{f:?}"
        );
    }

    #[test]
    fn inner_origins_forecast_only_the_steps_they_are_scored_on() {
        // Half a day of history and three months ahead, as a young host's capacity asks.
        let ys: Vec<f64> = (0..144).map(|i| 40.0 + f64::from(i % 7)).collect();
        let cfg = ForecastConfig::default();
        let pool = Member::pool(&cfg);
        let horizon = 90 * 288;
        let runs = PoolRuns::new(
            &ys,
            horizon,
            &pool,
            &cfg,
            &Fits::new(&ys, &pool, &cfg, horizon),
        );
        let last = runs.origins.len() - 1;
        assert!(runs.members.contains(&Member::Holt), "{:?}", runs.members);
        for run in &runs.runs {
            for (oi, f) in run.iter().enumerate() {
                let want = if oi == last {
                    horizon
                } else {
                    ys.len() - runs.origins[oi]
                };
                assert!(f.as_ref().is_none_or(|f| f.len() == want), "origin {oi}");
            }
        }
        let f = auto_forecast(&ys, horizon, &cfg).unwrap();
        assert_eq!(f.point.len(), horizon);
        assert!(f.hi95.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn inner_origins_end_at_n() {
        let sel = SelectionConfig {
            every: 10,
            max_origins: 3,
            min_train: 5,
            ..SelectionConfig::default()
        };
        assert_eq!(inner_origins(100, &sel), vec![70, 80, 90, 100]);
        assert_eq!(inner_origins(12, &sel), vec![12]);
    }

    #[test]
    fn auto_prefers_the_seasonal_member_on_a_seasonal_series() {
        let cfg = ForecastConfig {
            season: 24,
            ..ForecastConfig::default()
        };
        let pattern = |i: usize| if (i % 24) < 12 { 10.0 } else { 50.0 };
        let ys: Vec<f64> = (0..24 * 8).map(pattern).collect();
        let f = auto_forecast(&ys, 24, &cfg).unwrap();
        for (s, p) in f.point.iter().enumerate() {
            assert!((p - pattern(ys.len() + s)).abs() < 1.0, "step {s}: {p}");
        }
    }
}
