//! Store configuration: flush interval, timestamp quantum, retention, sled tuning, and the
//! per-metric value precision.

use std::time::Duration;

use super::Retention;

/// Decimal places kept for a metric's values (negative: round to tens, hundreds, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Precision(pub(crate) i8);

impl Precision {
    pub const MIN_DECIMALS: i8 = -15;
    pub const MAX_DECIMALS: i8 = 15;

    #[must_use]
    pub fn new(decimals: i8) -> Option<Self> {
        (Self::MIN_DECIMALS..=Self::MAX_DECIMALS)
            .contains(&decimals)
            .then_some(Self(decimals))
    }

    #[must_use]
    pub fn decimals(self) -> i8 {
        self.0
    }
}

/// Maps metric names to precisions by suffix; the first matching rule wins.
///
/// Defaults (chosen so the rounding is below what a 5 s poll can resolve):
/// `_pct` → 2 decimals (0.01 %), `_bytes`/`_bps`/`_total`/`_count` → integers,
/// `_per_s`/`_iops`/`_pps` → 1 decimal, anything else → 3 decimals.
#[derive(Debug, Clone, PartialEq)]
pub struct PrecisionRules {
    pub rules: Vec<(String, Precision)>,
    pub fallback: Precision,
}

impl Default for PrecisionRules {
    fn default() -> Self {
        let rule = |s: &str, d| (s.to_string(), Precision(d));
        Self {
            rules: vec![
                rule("_pct", 2),
                rule("_bytes", 0),
                rule("_bps", 0),
                rule("_total", 0),
                rule("_count", 0),
                rule("_per_s", 1),
                rule("_iops", 1),
                rule("_pps", 1),
            ],
            fallback: Precision(3),
        }
    }
}

impl PrecisionRules {
    #[must_use]
    pub fn for_metric(&self, metric: &str) -> Precision {
        self.rules
            .iter()
            .find(|(suffix, _)| metric.ends_with(suffix.as_str()))
            .map_or(self.fallback, |(_, p)| *p)
    }
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// How often the writer persists; a crash loses at most this much.
    pub flush_interval: Duration,
    /// Timestamps are rounded to this; stamp a poll batch with its tick time.
    pub ts_quantum_ms: i64,
    pub retention: Retention,
    /// sled's page cache (its own default is 1 GiB). It bounds the pages sled keeps inline
    /// in its log (index nodes, series records); blob pages ignore it, see
    /// `reopen_after_bytes`.
    pub cache_bytes: u64,
    /// A series with no sample for this long is sealed and dropped from memory.
    pub idle_after_ms: i64,
    pub precision: PrecisionRules,
    /// Samples buffered between flushes before `append` flushes by itself.
    pub max_pending_samples: usize,
    /// Segment size of sled's log (fixed when the database is created). sled stores any page
    /// over a quarter segment in its own blob file and deletes that file once the page is
    /// replaced (when the log segment recording the replacement is retired; the store
    /// deletes the ones sled forgets, `sled_blobs.rs`). 128 KiB segments put every chunk
    /// pack leaf in blobs, so superseded packs free their space without waiting for sled's
    /// log cleaner: 1.38 B/sample after 72 h (48 h raw retention) against 2.24 with 4 MiB
    /// segments and inline leaves, and 2.1–2.6 after 24 h with 512 KiB–4 MiB.
    pub segment_bytes: usize,
    /// sled keeps every page it reads or writes in memory when the page is a blob file (all
    /// chunk packs are, see `segment_bytes`; its cache limit does not apply to them), so
    /// the store closes and reopens sled at the end of a flush once the pages it took in
    /// since the open reach about this many bytes, at most once a minute of flushes
    /// (`sled_reopen.rs`). 1 MiB reopens once an hour at 2000 series; 0 never reopens.
    pub reopen_after_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            flush_interval: Duration::from_secs(5),
            ts_quantum_ms: 1_000,
            retention: Retention::default(),
            cache_bytes: 8 << 20,
            idle_after_ms: 10 * 60_000,
            precision: PrecisionRules::default(),
            max_pending_samples: 200_000,
            segment_bytes: 128 << 10,
            reopen_after_bytes: 1 << 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("cpu_pct" => 2)]
    #[test_case("mem_used_bytes" => 0)]
    #[test_case("disk_rd_iops" => 1)]
    #[test_case("load1" => 3)]
    fn default_precision_by_suffix(metric: &str) -> i8 {
        PrecisionRules::default().for_metric(metric).decimals()
    }
}
