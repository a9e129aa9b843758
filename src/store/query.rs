//! Read paths of the engine: range queries over a tier, raw ranges, latest sample, stats.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::many_single_char_names
)] // bit-level coding: every narrowing cast is of a value masked or range-checked just before

use super::codec::{decode_raw, decode_raw_stored, decode_rollup, dequantize, Stored};
use super::engine::{load_chunk, Engine};
use super::kv::Kv;
use super::rollup::{bucketize, choose_tier, floor_to, RollupPoint};
use super::{
    keys, Point, Precision, Query, QueryResult, Sample, SeriesInfo, SeriesKey, StoreError,
    StoreStats, Tier,
};

/// Query bounds are clamped to ±2^61 ms so window arithmetic cannot overflow.
const LIMIT: i64 = 1 << 61;

impl<K: Kv> Engine<K> {
    /// Chunks of `tier` for `id` overlapping `[from, to)`: sealed ones, then the open one.
    fn chunks(&self, id: u32, tier: Tier, from: i64, to: i64) -> Result<Vec<Vec<u8>>, StoreError> {
        let win = tier.chunk_window_ms();
        let open = self.state(id).and_then(|s| s.open_chunk(tier));
        let open_window = open.as_ref().map(|(w, _)| *w);
        let mut out = Vec::new();
        // Nothing is newer than the data clock, nothing older than the retention horizon.
        let from = from.max(-LIMIT).max(
            self.cfg
                .retention
                .horizon(tier, self.now)
                .saturating_sub(win),
        );
        let to = to.min(self.now.saturating_add(win)).min(LIMIT);
        let mut w = floor_to(from, win);
        while w < to {
            if Some(w) != open_window {
                let found = load_chunk(&self.kv, &self.pending_packs, tier, w, id)
                    .map_err(|e| self.with_path(e))?;
                out.extend(found);
            }
            w = w.saturating_add(win);
        }
        if let Some((w, bytes)) = open {
            if w < to && w.saturating_add(win) > from {
                out.push(bytes);
            }
        }
        Ok(out)
    }

    fn points(
        &self,
        id: u32,
        tier: Tier,
        from: i64,
        to: i64,
    ) -> Result<Vec<RollupPoint>, StoreError> {
        let mut pts = Vec::new();
        for bytes in self.chunks(id, tier, from, to)? {
            if tier == Tier::Raw {
                let (_, stored) =
                    decode_raw_stored(&bytes).map_err(|e| self.damaged(e.to_string()))?;
                pts.extend(stored.into_iter().filter_map(|(ts, v)| match v {
                    Stored::Q(q) => Some(RollupPoint::single(ts, q)),
                    Stored::Exact(_) => None,
                }));
            } else {
                let (_, p) = decode_rollup(&bytes).map_err(|e| self.damaged(e.to_string()))?;
                pts.extend(p);
            }
        }
        if let Some(p) = self.state(id).and_then(|s| s.partial(tier)) {
            pts.push(p);
        }
        pts.retain(|p| p.ts_ms >= from && p.ts_ms < to);
        Ok(pts)
    }

    pub(crate) fn query(&self, q: &Query) -> Result<QueryResult, StoreError> {
        let r = &self.cfg.retention;
        let horizons = Tier::ALL.map(|t| r.horizon(t, self.now));
        let (tier, step) = choose_tier(
            q.from_ms,
            q.to_ms,
            q.max_points,
            q.step_ms,
            self.cfg.ts_quantum_ms,
            horizons,
        );
        let Some(&id) = self.ids.get(&q.key) else {
            return Ok(QueryResult {
                tier,
                step_ms: step,
                points: Vec::new(),
            });
        };
        let precision = self.precision(id);
        let pts = bucketize(self.points(id, tier, q.from_ms, q.to_ms)?, step);
        let points = pts.iter().map(|p| to_point(p, precision)).collect();
        Ok(QueryResult {
            tier,
            step_ms: step,
            points,
        })
    }

    fn precision(&self, id: u32) -> Precision {
        self.infos
            .get(id as usize)
            .map_or(Precision(0), |i| i.precision)
    }

    fn state(&self, id: u32) -> Option<&super::series::SeriesState> {
        self.open.get(id as usize).and_then(Option::as_ref)
    }

    pub(crate) fn raw_range(
        &self,
        key: &SeriesKey,
        from: i64,
        to: i64,
    ) -> Result<Vec<Sample>, StoreError> {
        let Some(&id) = self.ids.get(key) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for bytes in self.chunks(id, Tier::Raw, from, to)? {
            let samples = decode_raw(&bytes).map_err(|e| self.damaged(e.to_string()))?;
            out.extend(
                samples
                    .into_iter()
                    .filter(|s| s.ts_ms >= from && s.ts_ms < to),
            );
        }
        out.sort_by_key(|s| s.ts_ms);
        Ok(out)
    }

    pub(crate) fn latest(&self, key: &SeriesKey) -> Result<Option<Sample>, StoreError> {
        if !self.ids.contains_key(key) || self.now == i64::MIN {
            return Ok(None);
        }
        let win = Tier::Raw.chunk_window_ms();
        let oldest = self.cfg.retention.horizon(Tier::Raw, self.now);
        let mut w = floor_to(self.now, win);
        while w + win > oldest {
            if let Some(s) = self.raw_range(key, w, w + win)?.last() {
                return Ok(Some(*s));
            }
            w -= win;
        }
        Ok(None)
    }

    pub(crate) fn list_series(&self) -> Vec<SeriesInfo> {
        let mut v = self.infos.clone();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    pub(crate) fn stats(&self) -> Result<StoreStats, StoreError> {
        let raw = self.count_tier(Tier::Raw)?;
        let rollup = self.count_tier(Tier::Minute)? + self.count_tier(Tier::Hour)?;
        let samples = self.samples();
        let bytes = self.kv.disk_bytes()?;
        Ok(StoreStats {
            path: self.kv.path().map(std::path::Path::to_path_buf),
            series: self.infos.len() as u64,
            samples,
            bytes_on_disk: bytes,
            bytes_per_sample: if samples == 0 {
                0.0
            } else {
                bytes as f64 / samples as f64
            },
            raw_packs: raw,
            rollup_packs: rollup,
            wal_records: self.wal_records(),
            dropped_late: self.dropped_late,
            unlogged: self.unlogged,
            open_bytes: self
                .open
                .iter()
                .flatten()
                .map(|s| s.mem_bytes() as u64)
                .sum(),
        })
    }

    fn count_tier(&self, tier: Tier) -> Result<u64, StoreError> {
        let lo = [keys::CHUNK, tier as u8];
        self.kv.count(&lo, &keys::prefix_end(&lo))
    }
}

fn to_point(p: &RollupPoint, precision: Precision) -> Point {
    let count = p.count.max(1);
    Point {
        ts_ms: p.ts_ms,
        min: dequantize(p.min, precision),
        max: dequantize(p.max, precision),
        avg: dequantize(p.sum, precision) / f64::from(count),
        count: p.count,
    }
}
