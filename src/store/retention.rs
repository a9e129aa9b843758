//! Retention: how long each tier keeps data, and which chunks are past it.
//!
//! A chunk expires when its whole window ends at or before `now − retention` (the data
//! clock, i.e. the newest sample, not the wall clock: a store that receives nothing keeps
//! its history). Expired chunks are deleted in the flush that notices them; sled reuses
//! the freed log segments for new writes, so the file stops growing at steady state.

use std::time::Duration;

use super::rollup::floor_to;
use super::Tier;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub raw: Duration,
    pub minute: Duration,
    pub hour: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        const H: u64 = 3600;
        Self {
            raw: Duration::from_secs(48 * H),
            minute: Duration::from_secs(30 * 24 * H),
            hour: Duration::from_secs(400 * 24 * H),
        }
    }
}

impl Retention {
    #[must_use]
    pub fn for_tier(&self, tier: Tier) -> Duration {
        match tier {
            Tier::Raw => self.raw,
            Tier::Minute => self.minute,
            Tier::Hour => self.hour,
        }
    }

    fn ms(&self, tier: Tier) -> i64 {
        i64::try_from(self.for_tier(tier).as_millis()).unwrap_or(i64::MAX)
    }

    /// Oldest timestamp still guaranteed to be held by `tier`.
    #[must_use]
    pub fn horizon(&self, tier: Tier, now: i64) -> i64 {
        now.saturating_sub(self.ms(tier))
    }
}

/// Chunks of `tier` whose window starts before the returned time have expired.
pub(crate) fn expired_before(tier: Tier, now: i64, r: &Retention) -> i64 {
    floor_to(r.horizon(tier, now), tier.chunk_window_ms())
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
    use crate::store::keys;
    use proptest::prelude::*;

    proptest! {
        /// The key range deleted equals, chunk by chunk, the brute-force rule
        /// "window end <= now - retention".
        #[test]
        fn expired_range_matches_brute_force(
            windows in prop::collection::vec((0i64..2_000, 0u32..5), 0..200),
            now in 0i64..2_000 * 3_600_000,
            hours in 1u64..100,
            tier_i in 0usize..3,
        ) {
            let tier = Tier::ALL[tier_i];
            let win = tier.chunk_window_ms();
            let r = Retention { raw: Duration::from_secs(hours * 3600), minute: Duration::from_secs(hours * 7200), hour: Duration::from_secs(hours * 86_400) };
            let before = expired_before(tier, now, &r);
            let (lo, hi) = keys::chunks_before(tier, before);
            for &(w, id) in &windows {
                let start = w * win;
                let k = keys::chunk(tier, start, id);
                let in_range = lo <= k && k < hi;
                let brute = start + win <= now - r.for_tier(tier).as_millis() as i64;
                prop_assert_eq!(in_range, brute, "window {} now {}", start, now);
            }
        }
    }

    #[test]
    fn defaults_match_the_issue() {
        let r = Retention::default();
        assert_eq!(r.raw.as_secs(), 48 * 3600);
        assert_eq!(r.minute.as_secs(), 30 * 86_400);
        assert_eq!(r.hour.as_secs(), 400 * 86_400);
    }
}
