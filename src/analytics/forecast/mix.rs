//! What the automatic choice combined: its members' shares per range of steps, so the
//! forecast view and `forecast --json` can say which models drive a forecast.

use serde::Serialize;

use super::select::Member;

/// One member's share of the combination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberShare {
    /// Short name: "median over up to 36 rows", "holt", "daily profile".
    pub member: String,
    /// Weight over the weights of the range, 0–1.
    pub share: f64,
}

/// The combination over steps `first_step..=last_step` (1-based).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixPart {
    pub first_step: usize,
    pub last_step: usize,
    /// Members with a share, largest first.
    pub members: Vec<MemberShare>,
}

impl MixPart {
    /// "median over up to 36 rows 52 %, holt 30 %, daily profile 18 %".
    #[must_use]
    pub fn text(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("{} {:.0} %", m.member, m.share * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// "steps 1-12: median 36 52 %, holt 48 %; steps 13-72: …", or `None` for one model.
#[must_use]
pub fn steps_text(parts: &[MixPart]) -> Option<String> {
    let parts: Vec<String> = parts
        .iter()
        .map(|p| match (p.first_step, p.last_step) {
            (a, b) if a == b => format!("step {a}: {}", p.text()),
            (a, b) => format!("steps {a}-{b}: {}", p.text()),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

impl Member {
    /// Short name shown to users.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Self::Naive => "naive".into(),
            Self::SeasonalNaive => "seasonal naive".into(),
            Self::Median(w) => format!("median over up to {w} rows"),
            Self::RobustSeasonal => "robust seasonal".into(),
            Self::Profile => "daily profile".into(),
            Self::LevelProfile => "level profile".into(),
            Self::MedianProfile => "median+profile".into(),
            Self::Holt => "holt".into(),
            Self::HoltWinters => "holt-winters".into(),
            Self::LinearTrend => "linear trend".into(),
        }
    }
}

/// The parts of a forecast of `horizon` steps combined with `weights` (per bucket, per
/// member) over buckets ending at `ends` (the last bucket runs to the horizon). Buckets
/// past the horizon or without weights are left out, and so are members without weight;
/// neighbours with the same combination are one part.
pub(super) fn mix_parts(
    weights: &[Vec<f64>],
    ends: &[usize],
    members: &[Member],
    horizon: usize,
) -> Vec<MixPart> {
    let mut first = 1;
    let mut out: Vec<MixPart> = Vec::new();
    for (b, w) in weights.iter().enumerate() {
        if first > horizon {
            break;
        }
        let last = if b + 1 == weights.len() {
            horizon
        } else {
            ends.get(b).copied().unwrap_or(horizon).min(horizon)
        };
        let total: f64 = w.iter().filter(|x| x.is_finite() && **x > 0.0).sum();
        let mut shares: Vec<MemberShare> = members
            .iter()
            .zip(w)
            .filter(|(_, x)| x.is_finite() && **x > 0.0 && total > 0.0)
            .map(|(m, x)| MemberShare {
                member: m.label(),
                share: x / total,
            })
            .collect();
        shares.sort_by(|a, b| b.share.total_cmp(&a.share));
        let part = MixPart {
            first_step: first,
            last_step: last,
            members: shares,
        };
        first = last + 1;
        // The same combination as the range before (to the shown whole per cent): one range.
        match out.last_mut() {
            _ if part.members.is_empty() => {}
            Some(prev) if prev.text() == part.text() => prev.last_step = part.last_step,
            _ => out.push(part),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_follow_the_buckets_and_shares_sum_to_one() {
        let members = [Member::Median(36), Member::Holt, Member::Profile];
        let w = vec![vec![1.0, 3.0, 0.0], vec![2.0, 0.0, 2.0]];
        let parts = mix_parts(&w, &[12, 72], &members, 100);
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].first_step, parts[0].last_step), (1, 12));
        assert_eq!((parts[1].first_step, parts[1].last_step), (13, 100));
        assert_eq!(parts[0].text(), "holt 75 %, median over up to 36 rows 25 %");
        assert_eq!(
            parts[1].text(),
            "median over up to 36 rows 50 %, daily profile 50 %"
        );
        assert_eq!(
            steps_text(&parts).unwrap(),
            "steps 1-12: holt 75 %, median over up to 36 rows 25 %; \
             steps 13-100: median over up to 36 rows 50 %, daily profile 50 %"
        );
        assert_eq!(steps_text(&[]), None);
    }

    #[test]
    fn ranges_with_the_same_combination_are_one() {
        let members = [Member::Median(36), Member::Holt];
        let w = vec![vec![1.0, 3.0], vec![2.0, 6.0]];
        let parts = mix_parts(&w, &[12, 72], &members, 72);
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].first_step, parts[0].last_step), (1, 72));
        assert_eq!(
            steps_text(&parts).unwrap(),
            "steps 1-72: holt 75 %, median over up to 36 rows 25 %"
        );
        // A one-row horizon is one step, not "steps 1-1".
        let parts = mix_parts(&w, &[1], &members, 1);
        assert!(
            steps_text(&parts).unwrap().starts_with("step 1: holt"),
            "{parts:?}"
        );
    }

    #[test]
    fn a_range_without_weights_is_left_out() {
        let members = [Member::Naive];
        let w = vec![vec![0.0], vec![1.0]];
        let parts = mix_parts(&w, &[12, 72], &members, 72);
        assert_eq!(steps_text(&parts).unwrap(), "steps 13-72: naive 100 %");
    }

    #[test]
    fn a_short_horizon_has_only_its_own_bucket() {
        let members = [Member::Naive];
        let w = vec![vec![1.0], vec![1.0]];
        let parts = mix_parts(&w, &[12, 72], &members, 6);
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].first_step, parts[0].last_step), (1, 6));
        assert_eq!(parts[0].text(), "naive 100 %");
    }
}
