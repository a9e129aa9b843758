//! Metrics history: a compact, crash-safe time-series store behind the [`HistoryStore`] trait.
//!
//! Owns: persisting samples, 1-minute and 1-hour rollups, retention, and answering range
//! queries at a requested resolution. Must not: render, poll providers, or block the app
//! loop — the app hands batches to a [`writer::HistoryWriter`] thread and queries from a
//! blocking task. Engines: [`SledStore`] (on disk, the default) and [`MemoryStore`]
//! (`--no-history` and tests); both share one engine over a small key-value trait.
//!
//! Data model: a series is an entity (`vm/<host>/<uuid>`, `host/<host>`) and a metric name
//! (`cpu_pct`). Samples are `(ts_ms, f64)`; the store quantises timestamps to
//! [`StoreConfig::ts_quantum_ms`] and values to the metric's [`Precision`] (see
//! [`PrecisionRules`]), so what you read back is the value rounded to that precision.
//! Per series, timestamps must increase: a sample at or before the series' last one is
//! dropped and counted in [`StoreStats::dropped_late`].
//!
//! Storage: each series has an open (in-memory, streaming-encoded) chunk per tier; every
//! flush appends the new samples to a write-ahead log (`wal.rs`), so a crash loses at most
//! one flush interval. When a window ends (raw and minute: 1 h, hour: 1 day) the chunk is
//! sealed into a pack shared with its neighbours (`pack.rs`, key layout in `keys.rs`, chunk
//! format in `codec.rs`/`bits.rs`), and the log is truncated once every open chunk started
//! after it. Recovery replays the log into the open chunks (`recover.rs`).
//!
//! Memory: the engine holds about 3 KiB per active series (open chunks). sled 0.34 does not
//! bound its page cache for pages stored as blob files (it counts them by pointer size and
//! only evicts after 64 accesses per shard), so it would keep everything written or read by
//! this process until retention removes it (≈ +1.6 MB/h at 2000 series); the sled store
//! therefore reopens sled from time to time (`sled_reopen.rs`,
//! [`StoreConfig::reopen_after_bytes`]) and deletes the blob files sled leaves behind
//! (`sled_blobs.rs`).

/// Implements [`HistoryStore`] for a wrapper whose `engine` field is an `Engine`.
macro_rules! delegate_history_store {
    ($t:ty) => {
        impl super::HistoryStore for $t {
            fn append(
                &mut self,
                batch: &[(super::SeriesKey, super::Sample)],
            ) -> Result<(), super::StoreError> {
                self.engine.append(batch)
            }
            fn flush(&mut self) -> Result<super::FlushReport, super::StoreError> {
                self.engine.flush()
            }
            fn query(&self, q: &super::Query) -> Result<super::QueryResult, super::StoreError> {
                self.engine.query(q)
            }
            fn raw_range(
                &self,
                key: &super::SeriesKey,
                from_ms: i64,
                to_ms: i64,
            ) -> Result<Vec<super::Sample>, super::StoreError> {
                self.engine.raw_range(key, from_ms, to_ms)
            }
            fn latest(
                &self,
                key: &super::SeriesKey,
            ) -> Result<Option<super::Sample>, super::StoreError> {
                self.engine.latest(key)
            }
            fn list_series(&self) -> Result<Vec<super::SeriesInfo>, super::StoreError> {
                Ok(self.engine.list_series())
            }
            fn stats(&self) -> Result<super::StoreStats, super::StoreError> {
                self.engine.stats()
            }
            fn path(&self) -> Option<&std::path::Path> {
                super::kv::Kv::path(&self.engine.kv)
            }
        }
    };
}

mod bits;
pub mod codec;
mod config;
mod engine;
mod heap;
mod keys;
mod kv;
pub mod memory;
mod pack;
mod query;
pub mod read_copy;
mod recover;
pub mod remote;
pub mod retention;
pub mod rollup;
mod series;
mod sled_blobs;
mod sled_kv;
mod sled_reopen;
pub mod sled_store;
mod wal;
pub mod writer;

use std::fmt;
use std::path::{Path, PathBuf};

pub use config::{Precision, PrecisionRules, StoreConfig};
pub use memory::MemoryStore;
pub use retention::Retention;
pub use sled_store::SledStore;

/// `serde_json` writes a non-finite `f64` as `null`: read `null` back as NaN, so a gap in a
/// series survives the history socket ([`remote`]).
fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(<Option<f64> as serde::Deserialize>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// One measurement.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    pub ts_ms: i64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub value: f64,
}

/// Identifies a series: what is measured (`entity`) and which metric.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct SeriesKey {
    pub entity: String,
    pub metric: String,
}

impl SeriesKey {
    #[must_use]
    pub fn new(entity: impl Into<String>, metric: impl Into<String>) -> Self {
        Self {
            entity: entity.into(),
            metric: metric.into(),
        }
    }

    #[must_use]
    pub fn vm(host: &str, uuid: &str, metric: &str) -> Self {
        Self::new(format!("vm/{host}/{uuid}"), metric)
    }

    #[must_use]
    pub fn host(host: &str, metric: &str) -> Self {
        Self::new(format!("host/{host}"), metric)
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.entity, self.metric)
    }
}

/// Storage tiers, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Tier {
    Raw,
    Minute,
    Hour,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Raw, Tier::Minute, Tier::Hour];

    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }

    /// Resolution of stored points; raw data has the timestamp quantum.
    #[must_use]
    pub fn resolution_ms(self, raw_ms: i64) -> i64 {
        match self {
            Tier::Raw => raw_ms,
            Tier::Minute => 60_000,
            Tier::Hour => 3_600_000,
        }
    }

    /// Time span of one stored chunk (aligned to multiples of it).
    #[must_use]
    pub fn chunk_window_ms(self) -> i64 {
        match self {
            Tier::Raw | Tier::Minute => 3_600_000,
            Tier::Hour => 86_400_000,
        }
    }

    /// Series per stored pack (see `pack.rs`): about 40–60 KiB per pack for typical VM metrics.
    #[must_use]
    pub fn pack_series(self) -> u32 {
        match self {
            Tier::Raw => 64,
            Tier::Minute => 128,
            Tier::Hour => 512,
        }
    }

    #[must_use]
    pub fn coarser(self) -> Option<Tier> {
        match self {
            Tier::Raw => Some(Tier::Minute),
            Tier::Minute => Some(Tier::Hour),
            Tier::Hour => None,
        }
    }
}

/// A range query: `[from_ms, to_ms)` at a resolution given by a number of points and/or a
/// minimum step; the store picks the tier (see [`rollup::choose_tier`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Query {
    pub key: SeriesKey,
    pub from_ms: i64,
    pub to_ms: i64,
    pub max_points: Option<usize>,
    pub step_ms: Option<i64>,
}

/// One bucket of a query result.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    /// Start of the bucket.
    pub ts_ms: i64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub min: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub max: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub avg: f64,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueryResult {
    pub tier: Tier,
    pub step_ms: i64,
    pub points: Vec<Point>,
}

/// A series known to the store.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeriesInfo {
    pub key: SeriesKey,
    pub precision: Precision,
}

/// What `novacron history stats` prints.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoreStats {
    pub path: Option<PathBuf>,
    pub series: u64,
    /// Raw samples held (sealed chunks, write-ahead log and memory).
    pub samples: u64,
    /// All files under the database directory, apparent size.
    pub bytes_on_disk: u64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub bytes_per_sample: f64,
    /// Stored packs (one per group of series, tier and window; see `Tier::pack_series`).
    pub raw_packs: u64,
    pub rollup_packs: u64,
    pub wal_records: u64,
    /// Samples refused because they were not newer than their series' last sample.
    pub dropped_late: u64,
    /// Samples a disk that refused writes for long kept out of the write-ahead log (the
    /// oldest past `max_pending_samples`): stored when their chunk seals, lost if the
    /// console stops before that.
    #[serde(default)]
    pub unlogged: u64,
    /// Approximate heap bytes of open (unsealed) chunks.
    pub open_bytes: u64,
}

/// What a call to [`HistoryStore::flush`] persisted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushReport {
    pub samples: u64,
    pub chunks_sealed: u64,
    pub chunks_expired: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "history database {} is locked by another novacron{} — stop it, or use --history PATH or --no-history",
        path.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Locked { path: PathBuf, pid: Option<u32> },
    #[error(
        "history database {} is damaged ({detail}) — move the directory aside to start a new one, or use --history PATH or --no-history",
        path.display()
    )]
    Damaged { path: PathBuf, detail: String },
    #[error(
        "history database {}: its {file} is damaged ({detail}) — move {file} aside (for example to {file}.damaged) to open the history without the samples that file holds; the rest is kept",
        path.display()
    )]
    DamagedFile {
        path: PathBuf,
        file: &'static str,
        detail: String,
    },
    #[error(
        "history database {} was written by an incompatible novacron ({detail}) — use --history PATH or --no-history",
        path.display()
    )]
    Incompatible { path: PathBuf, detail: String },
    #[error(
        "history database {} cannot be written here, and copying it to {} to read it failed: {source} — set TMPDIR to a directory with room",
        path.display(), copy.display()
    )]
    CopyFailed {
        path: PathBuf,
        copy: PathBuf,
        source: std::io::Error,
    },
    #[error("history database {}: {source} — check permissions and free space, or use --no-history", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is not a novacron history database ({what}) — give --history a new or empty directory, or use --no-history",
        path.display()
    )]
    NotADatabase { path: PathBuf, what: String },
    #[error("{detail} (socket {})", path.display())]
    Remote { path: PathBuf, detail: String },
    #[error("invalid series key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("history writer has stopped")]
    WriterStopped,
}

/// A metrics history engine. Methods that change data take `&mut self`; the app drives one
/// instance from a dedicated writer thread and shares it for queries (see [`writer`]).
///
/// # Errors
/// Every method fails with a [`StoreError`] that names the database path when the storage
/// cannot be read or written, or [`StoreError::InvalidKey`] for a malformed series key.
#[allow(clippy::missing_errors_doc)] // documented once, above
pub trait HistoryStore: Send {
    /// Buffers samples; they are durable after the next [`flush`](Self::flush).
    fn append(&mut self, batch: &[(SeriesKey, Sample)]) -> Result<(), StoreError>;
    /// Persists buffered samples, seals finished chunks, applies retention, syncs to disk.
    fn flush(&mut self) -> Result<FlushReport, StoreError>;
    /// Aggregated points over a range, from the tier that fits the resolution.
    fn query(&self, q: &Query) -> Result<QueryResult, StoreError>;
    /// Raw samples in `[from_ms, to_ms)` (for backfilling charts at start).
    fn raw_range(
        &self,
        key: &SeriesKey,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Sample>, StoreError>;
    /// The newest sample of a series within the raw retention.
    fn latest(&self, key: &SeriesKey) -> Result<Option<Sample>, StoreError>;
    fn list_series(&self) -> Result<Vec<SeriesInfo>, StoreError>;
    fn stats(&self) -> Result<StoreStats, StoreError>;
    /// Where the data lives, if on disk.
    fn path(&self) -> Option<&Path>;
}

/// `$XDG_STATE_HOME/novacron/history`, else `$HOME/.local/state/novacron/history`.
#[must_use]
pub fn default_history_path(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = env("XDG_STATE_HOME")
        .filter(|s| Path::new(s).is_absolute())
        .map(PathBuf::from)
        .or_else(|| {
            env("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| Path::new(&h).join(".local/state"))
        })?;
    Some(base.join("novacron").join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_follows_xdg_then_home() {
        let xdg = |k: &str| match k {
            "XDG_STATE_HOME" => Some("/s".to_string()),
            _ => Some("/h".to_string()),
        };
        assert_eq!(
            default_history_path(xdg),
            Some(PathBuf::from("/s/novacron/history"))
        );
        let home = |k: &str| (k == "HOME").then(|| "/h".to_string());
        assert_eq!(
            default_history_path(home),
            Some(PathBuf::from("/h/.local/state/novacron/history"))
        );
        assert_eq!(default_history_path(|_| None), None);
    }

    #[test]
    fn locked_error_names_path_and_ways_out() {
        let e = StoreError::Locked {
            path: PathBuf::from("/x/y"),
            pid: Some(42),
        };
        let s = e.to_string();
        assert!(
            s.contains("/x/y") && s.contains("pid 42") && s.contains("--no-history"),
            "{s}"
        );
    }
}
