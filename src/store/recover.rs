//! Opening an engine: the series registry, series snapshots and write-ahead log replay, and
//! the meta record that carries the data clock and counters across restarts.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)] // ids and decimals are range-checked

use std::path::PathBuf;

use super::bits::{get_varint, put_varint, unzigzag, zigzag};
use super::engine::{load_chunk, Engine};
use super::kv::Kv;
use super::series::SeriesState;
use super::{keys, wal, Precision, SeriesInfo, SeriesKey, StoreError, Tier};

const MAGIC: &[u8] = b"NVH1";

impl<K: Kv> Engine<K> {
    pub(crate) fn recover(&mut self) -> Result<(), StoreError> {
        if let Some(meta) = self.kv.get(keys::META)? {
            self.read_meta(&meta)?;
        }
        for (k, v) in self.kv.range(&[keys::SERIES], &[keys::SERIES + 1])? {
            let id =
                keys::parse_id(&k, keys::SERIES).ok_or_else(|| self.damaged("bad series key"))?;
            let info =
                decode_info(&v).ok_or_else(|| self.damaged(format!("bad series record {id}")))?;
            if id as usize != self.infos.len() {
                return Err(self.damaged(format!("series ids not dense at {id}")));
            }
            self.ids.insert(info.key.clone(), id);
            self.infos.push(info);
            self.open.push(None);
        }
        let unit = self.cfg.ts_quantum_ms;
        for (k, v) in self.kv.range(&[keys::OPEN], &[keys::OPEN + 1])? {
            let id = keys::parse_id(&k, keys::OPEN)
                .ok_or_else(|| self.damaged("bad open-series key"))?;
            let mut st = SeriesState::restore(&v, unit)
                .map_err(|e| self.damaged(format!("series {id}: {e}")))?;
            st.last_seen = self.now;
            if id as usize >= self.open.len() {
                return Err(self.damaged(format!("snapshot of unknown series {id}")));
            }
            self.open[id as usize] = Some(st);
        }
        let mut outs = Vec::new();
        for (seq, record) in self.kv.wal_take() {
            let rows =
                wal::decode(&record).map_err(|e| self.damaged(format!("log record {seq}: {e}")))?;
            for row in rows {
                let Some(precision) = self.infos.get(row.id as usize).map(|i| i.precision) else {
                    return Err(self.damaged(format!("log names unknown series {}", row.id)));
                };
                let Self {
                    kv,
                    open,
                    now,
                    pending_packs,
                    ..
                } = &mut *self;
                let st =
                    open[row.id as usize].get_or_insert_with(|| SeriesState::new(precision, unit));
                let mut load = |t: Tier, w: i64| load_chunk(kv, pending_packs, t, w, row.id);
                if st
                    .push(row.ts_ms, row.v, true, seq, &mut load, &mut outs)?
                    .is_some()
                {
                    *now = (*now).max(row.ts_ms);
                }
                self.queue_outputs(row.id, &mut outs);
            }
            self.wal_oldest.get_or_insert(seq);
            self.wal_records += 1;
            self.next_wal_seq = self.next_wal_seq.max(seq + 1);
        }
        let now = self.now;
        for st in self.open.iter_mut().flatten() {
            st.last_seen = now;
        }
        Ok(())
    }

    fn read_meta(&mut self, m: &[u8]) -> Result<(), StoreError> {
        if !m.starts_with(MAGIC) {
            return Err(StoreError::Incompatible {
                path: self.kv.path().map(PathBuf::from).unwrap_or_default(),
                detail: "unknown format marker".into(),
            });
        }
        let parsed = parse_meta(&m[MAGIC.len()..]);
        let (now, samples, dropped, seq, ret) =
            parsed.map_err(|e| self.damaged(format!("meta: {e}")))?;
        self.now = now;
        self.sealed_samples = samples;
        self.dropped_late = dropped;
        self.next_wal_seq = seq;
        self.retained_before = ret;
        Ok(())
    }

    pub(crate) fn meta(&self) -> Vec<u8> {
        let mut m = MAGIC.to_vec();
        put_varint(&mut m, zigzag(self.now));
        put_varint(&mut m, self.sealed_samples);
        put_varint(&mut m, self.dropped_late);
        put_varint(&mut m, self.next_wal_seq);
        for r in self.retained_before {
            put_varint(&mut m, zigzag(r));
        }
        m
    }
}

type Meta = (i64, u64, u64, u64, [i64; 3]);

fn parse_meta(m: &[u8]) -> Result<Meta, super::codec::CodecError> {
    let mut pos = 0;
    let now = unzigzag(get_varint(m, &mut pos)?);
    let samples = get_varint(m, &mut pos)?;
    let dropped = get_varint(m, &mut pos)?;
    let seq = get_varint(m, &mut pos)?;
    let mut ret = [0i64; 3];
    for r in &mut ret {
        *r = unzigzag(get_varint(m, &mut pos)?);
    }
    Ok((now, samples, dropped, seq, ret))
}

pub(crate) fn validate(key: &SeriesKey) -> Result<(), StoreError> {
    let bad = |reason| {
        Err(StoreError::InvalidKey {
            key: key.to_string(),
            reason,
        })
    };
    if key.entity.is_empty() || key.metric.is_empty() {
        return bad("entity and metric must not be empty");
    }
    if key.entity.contains('\0') || key.metric.contains('\0') {
        return bad("NUL is not allowed");
    }
    if key.entity.len() + key.metric.len() > 1024 {
        return bad("longer than 1024 bytes");
    }
    Ok(())
}

pub(crate) fn encode_info(info: &SeriesInfo) -> Vec<u8> {
    let mut v = vec![info.precision.decimals() as u8];
    v.extend_from_slice(info.key.entity.as_bytes());
    v.push(0);
    v.extend_from_slice(info.key.metric.as_bytes());
    v
}

fn decode_info(v: &[u8]) -> Option<SeriesInfo> {
    let precision = Precision::new(*v.first()? as i8)?;
    let rest = v.get(1..)?;
    let nul = rest.iter().position(|&b| b == 0)?;
    let entity = std::str::from_utf8(&rest[..nul]).ok()?;
    let metric = std::str::from_utf8(&rest[nul + 1..]).ok()?;
    Some(SeriesInfo {
        key: SeriesKey::new(entity, metric),
        precision,
    })
}
