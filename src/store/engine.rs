//! The storage engine shared by the sled and in-memory stores: series registry, open
//! series, write-ahead log, sealing, retention and recovery, over any [`Kv`].

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::many_single_char_names
)] // bit-level coding: every narrowing cast is of a value masked or range-checked just before

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::codec::{quantize, raw_rows, Stored};
use super::kv::{Kv, KvOp};
use super::recover::{encode_info, validate};
use super::retention::expired_before;
use super::rollup::floor_to;
use super::series::{Output, SeriesState};
use super::wal::{self, WalRow};
use super::{
    keys, pack, FlushReport, Sample, SeriesInfo, SeriesKey, StoreConfig, StoreError, Tier,
};

/// Timestamps beyond ±2^60 ms (36 million years) are refused so window arithmetic cannot overflow.
const MAX_ABS_TS: i64 = 1 << 60;

/// Which parts of a failed flush reached the disk.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Durable {
    /// The log record of the pending rows.
    rows: bool,
    /// The packs and deletions in sled.
    changes: bool,
}

/// `(tier, window, group)` → `(series id, chunk)` in sealing order.
pub(crate) type PendingPacks = BTreeMap<(u8, i64, u32), Vec<(u32, Vec<u8>)>>;

/// The sealed chunk of series `id` for `tier` and `window`: unflushed first, then on disk.
pub(crate) fn load_chunk<K: Kv>(
    kv: &K,
    pending: &PendingPacks,
    tier: Tier,
    window: i64,
    id: u32,
) -> Result<Option<Vec<u8>>, StoreError> {
    let group = id / tier.pack_series();
    if let Some(entries) = pending.get(&(tier as u8, window, group)) {
        if let Some((_, b)) = entries.iter().rev().find(|(i, _)| *i == id) {
            return Ok(Some(b.clone()));
        }
    }
    let Some(p) = kv.get(&keys::chunk(tier, window, group))? else {
        return Ok(None);
    };
    let found = pack::find(&p, id).map_err(|e| StoreError::Damaged {
        path: PathBuf::new(),
        detail: format!("pack: {e}"),
    })?;
    Ok(found.map(<[u8]>::to_vec))
}

pub(crate) struct Engine<K: Kv> {
    pub(crate) kv: K,
    pub(crate) cfg: StoreConfig,
    pub(crate) ids: HashMap<SeriesKey, u32>,
    /// Indexed by series id (ids are dense).
    pub(crate) infos: Vec<SeriesInfo>,
    /// Indexed by series id; `None` for series with nothing open.
    pub(crate) open: Vec<Option<SeriesState>>,
    pub(crate) pending_rows: Vec<WalRow>,
    pub(crate) pending_ops: Vec<KvOp>,
    /// Chunks sealed since the last flush, by pack.
    pub(crate) pending_packs: PendingPacks,
    pub(crate) next_wal_seq: u64,
    /// Oldest record still in the write-ahead log.
    pub(crate) wal_oldest: Option<u64>,
    pub(crate) wal_records: u64,
    /// Data clock: the newest timestamp ever appended.
    pub(crate) now: i64,
    /// Raw samples held in sealed chunks.
    pub(crate) sealed_samples: u64,
    pub(crate) dropped_late: u64,
    /// Rows a failing disk kept out of the log past the cap (see `shed_unwritten`).
    pub(crate) unlogged: u64,
    pub(crate) retained_before: [i64; 3],
    pub(crate) sealed: u64,
}

impl<K: Kv> Engine<K> {
    /// Opens the engine over `kv`, replaying the write-ahead log into open chunks.
    pub(crate) fn open(kv: K, cfg: StoreConfig) -> Result<Self, StoreError> {
        let mut e = Self::new(kv, cfg);
        e.recover().map_err(|err| e.with_path(err))?;
        Ok(e)
    }

    /// An engine over an empty `kv` (no recovery).
    pub(crate) fn new(kv: K, mut cfg: StoreConfig) -> Self {
        cfg.ts_quantum_ms = cfg.ts_quantum_ms.max(1);
        Self {
            kv,
            cfg,
            ids: HashMap::new(),
            infos: Vec::new(),
            open: Vec::new(),
            pending_rows: Vec::new(),
            pending_ops: Vec::new(),
            pending_packs: BTreeMap::new(),
            next_wal_seq: 0,
            wal_oldest: None,
            wal_records: 0,
            now: i64::MIN,
            sealed_samples: 0,
            dropped_late: 0,
            unlogged: 0,
            retained_before: [i64::MIN; 3],
            sealed: 0,
        }
    }

    pub(crate) fn with_path(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Damaged { path, detail } if path.as_os_str().is_empty() => {
                StoreError::Damaged {
                    path: self
                        .kv
                        .path()
                        .map_or_else(|| PathBuf::from("<memory>"), PathBuf::from),
                    detail,
                }
            }
            other => other,
        }
    }

    pub(crate) fn damaged(&self, detail: impl Into<String>) -> StoreError {
        self.with_path(StoreError::Damaged {
            path: PathBuf::new(),
            detail: detail.into(),
        })
    }

    pub(crate) fn queue_outputs(&mut self, id: u32, outs: &mut Vec<Output>) {
        for o in outs.drain(..) {
            match o {
                Output::Chunk {
                    tier,
                    window,
                    bytes,
                    added,
                } => {
                    self.sealed += 1;
                    self.sealed_samples += added;
                    let group = id / tier.pack_series();
                    self.pending_packs
                        .entry((tier as u8, window, group))
                        .or_default()
                        .push((id, bytes));
                }
                Output::Snapshot(bytes) => self.pending_ops.push(KvOp::Put(keys::open(id), bytes)),
            }
        }
    }

    fn id_for(&mut self, key: &SeriesKey) -> Result<u32, StoreError> {
        if let Some(&id) = self.ids.get(key) {
            return Ok(id);
        }
        validate(key)?;
        let id = u32::try_from(self.infos.len()).map_err(|_| StoreError::InvalidKey {
            key: key.to_string(),
            reason: "too many series",
        })?;
        let info = SeriesInfo {
            key: key.clone(),
            precision: self.cfg.precision.for_metric(&key.metric),
        };
        self.pending_ops
            .push(KvOp::Put(keys::series(id), encode_info(&info)));
        self.ids.insert(key.clone(), id);
        self.infos.push(info);
        self.open.push(None);
        Ok(id)
    }

    pub(crate) fn append(&mut self, batch: &[(SeriesKey, Sample)]) -> Result<(), StoreError> {
        // Taken all the same while the store cannot open again (a disk still full): the
        // samples wait in memory for a flush that can write them.
        let _ = self.kv.ready();
        let q = self.cfg.ts_quantum_ms;
        let mut outs = Vec::new();
        for (key, s) in batch {
            if !(-MAX_ABS_TS..MAX_ABS_TS).contains(&s.ts_ms) {
                self.dropped_late += 1;
                continue;
            }
            let id = self.id_for(key)?;
            let ts = floor_to(s.ts_ms.saturating_add(q / 2), q);
            let precision = self.infos[id as usize].precision;
            let v =
                quantize(s.value, precision).map_or(Stored::Exact(s.value.to_bits()), Stored::Q);
            let pushed = {
                let Self {
                    kv,
                    open,
                    now,
                    next_wal_seq,
                    pending_packs,
                    ..
                } = &mut *self;
                let st = open[id as usize].get_or_insert_with(|| SeriesState::new(precision, q));
                let mut load = |t: Tier, w: i64| load_chunk(kv, pending_packs, t, w, id);
                let r = st.push(ts, v, false, *next_wal_seq, &mut load, &mut outs);
                if let Ok(Some(_)) = r {
                    *now = (*now).max(ts);
                    st.last_seen = *now;
                }
                r
            };
            match pushed.map_err(|e| self.with_path(e))? {
                None => self.dropped_late += 1,
                Some(ctx) => {
                    let v = match v {
                        Stored::Q(x) => Stored::Q(x.wrapping_sub(ctx)),
                        Stored::Exact(b) => Stored::Exact(b),
                    };
                    self.pending_rows.push(WalRow { id, ts_ms: ts, v });
                }
            }
            self.queue_outputs(id, &mut outs);
        }
        if self.pending_rows.len() >= self.cfg.max_pending_samples {
            self.flush()?;
        }
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> Result<FlushReport, StoreError> {
        // Sealing below reads chunks: a store a failed write closed opens again first.
        self.kv.ready()?;
        let mut report = FlushReport::default();
        let mut outs = Vec::new();
        for id in 0..self.open.len() {
            let idle = self.open[id]
                .as_ref()
                .is_some_and(|s| self.now.saturating_sub(s.last_seen) > self.cfg.idle_after_ms);
            if let Some(mut st) = self.open[id].take_if(|_| idle) {
                let id = id as u32;
                let (kv, pending) = (&self.kv, &self.pending_packs);
                let mut load = |t: Tier, w: i64| load_chunk(kv, pending, t, w, id);
                st.seal_all(&mut load, &mut outs)
                    .map_err(|e| self.with_path(e))?;
                self.queue_outputs(id, &mut outs);
                self.pending_ops.push(KvOp::Del(keys::open(id)));
            }
        }
        let seq = self.next_wal_seq;
        let record = (!self.pending_rows.is_empty())
            .then(|| wal::encode(&mut self.pending_rows, self.cfg.ts_quantum_ms));
        // Every log record older than the oldest open raw chunk is covered by sealed chunks.
        let keep_from = self
            .open
            .iter()
            .flatten()
            .filter_map(|s| s.raw.as_ref().map(|r| r.first_wal_seq))
            .min();
        let reset = self.wal_oldest.is_some() && keep_from.is_none_or(|k| k >= seq);
        // What a failed write leaves to the next flush: rows not in the log, and changes
        // (sealed packs, deletions) not in sled. A full disk must not lose the samples the
        // console is still showing.
        let packs = std::mem::take(&mut self.pending_packs);
        let sealed_ops = std::mem::take(&mut self.pending_ops);
        let expired = self.expire();
        let expire_ops = std::mem::take(&mut self.pending_ops);
        let wrote = match expired {
            Ok(n) => {
                report.chunks_expired = n;
                self.write_out(
                    seq,
                    record.as_deref(),
                    reset,
                    &packs,
                    &sealed_ops,
                    &expire_ops,
                )
            }
            Err(e) => Err((e, Durable::default())),
        };
        match wrote {
            Ok(()) => {
                report.samples = self.pending_rows.len() as u64;
                report.chunks_sealed = std::mem::take(&mut self.sealed);
                self.pending_rows.clear();
            }
            Err((e, durable)) => {
                if durable.rows {
                    self.pending_rows.clear();
                }
                if !durable.changes {
                    self.pending_packs = packs;
                    self.pending_ops = sealed_ops;
                    self.pending_ops.extend(expire_ops);
                }
                self.shed_unwritten();
                return Err(e);
            }
        }
        self.kv.maintain()?;
        Ok(report)
    }

    /// Writes a flush out: the log record of the rows (`seq`), then the packs and deletions
    /// to sled; with `reset`, sled first and then a fresh log holding only the record. On an
    /// error it says which of the two became durable.
    fn write_out(
        &mut self,
        seq: u64,
        record: Option<&[u8]>,
        reset: bool,
        packs: &PendingPacks,
        sealed_ops: &[KvOp],
        expire_ops: &[KvOp],
    ) -> Result<(), (StoreError, Durable)> {
        let nothing = Durable::default();
        let mut ops = sealed_ops.to_vec();
        for ((tier, window, group), entries) in packs {
            let key = keys::chunk(Tier::ALL[usize::from(*tier)], *window, *group);
            let existing = self.kv.get(&key).map_err(|e| (e, nothing))?;
            let merged = pack::merge(existing.as_deref(), entries.clone())
                .map_err(|e| (self.damaged(format!("pack: {e}")), nothing))?;
            ops.push(KvOp::Put(key, merged));
        }
        ops.extend_from_slice(expire_ops);
        if !ops.is_empty() {
            ops.push(KvOp::Put(keys::META.to_vec(), self.meta()));
        }
        let logged = |e: &mut Self| {
            if record.is_some() {
                e.next_wal_seq = seq + 1;
                e.wal_oldest.get_or_insert(seq);
                e.wal_records += 1;
            }
        };
        // The log may only forget records once the chunks that replace them are durable.
        if !reset {
            self.kv
                .wal_write(record.map(|r| (seq, r)), false)
                .map_err(|e| (e, nothing))?;
            logged(self);
        }
        if !ops.is_empty() {
            let rows = Durable {
                rows: !reset,
                changes: false,
            };
            self.kv.apply(ops).map_err(|e| (e, rows))?;
            self.kv.sync().map_err(|e| (e, rows))?;
        }
        if reset {
            // Failed, the log keeps its old records (covered by sled now) until a later
            // flush resets it.
            let changes = Durable {
                rows: false,
                changes: true,
            };
            self.kv
                .wal_write(record.map(|r| (seq, r)), true)
                .map_err(|e| (e, changes))?;
            self.wal_oldest = None;
            self.wal_records = 0;
            logged(self);
        }
        Ok(())
    }

    /// After a failed flush, the rows still to log are capped at `max_pending_samples` (the
    /// oldest go first): a disk full for hours must not fill memory. The open chunks keep
    /// them in memory, and sealing a chunk stores them all the same; only a restart before
    /// that loses them.
    fn shed_unwritten(&mut self) {
        let cap = self.cfg.max_pending_samples.max(1);
        if self.pending_rows.len() > cap {
            self.pending_rows.sort_by_key(|r| r.ts_ms);
            let excess = self.pending_rows.len() - cap / 2;
            self.pending_rows.drain(..excess);
            self.unlogged += excess as u64;
        }
    }

    /// Queues deletion of chunks past each tier's retention; returns how many.
    fn expire(&mut self) -> Result<u64, StoreError> {
        if self.now == i64::MIN {
            return Ok(0);
        }
        let mut n = 0;
        for tier in Tier::ALL {
            let before = expired_before(tier, self.now, &self.cfg.retention);
            if before <= self.retained_before[tier.index()] {
                continue;
            }
            let (lo, hi) = keys::chunks_before(tier, before);
            for (k, v) in self.kv.range(&lo, &hi)? {
                if tier == Tier::Raw {
                    let entries =
                        pack::decode(&v).map_err(|e| self.damaged(format!("pack: {e}")))?;
                    for (_, chunk) in entries {
                        let rows =
                            raw_rows(chunk).map_err(|e| self.damaged(format!("chunk: {e}")))?;
                        self.sealed_samples = self.sealed_samples.saturating_sub(rows);
                    }
                }
                self.pending_ops.push(KvOp::Del(k));
                n += 1;
            }
            self.retained_before[tier.index()] = before;
        }
        Ok(n)
    }

    /// Raw samples held: sealed chunks plus open chunks.
    pub(crate) fn samples(&self) -> u64 {
        self.sealed_samples
            + self
                .open
                .iter()
                .flatten()
                .map(SeriesState::open_samples)
                .sum::<u64>()
    }

    pub(crate) fn wal_records(&self) -> u64 {
        self.wal_records
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
