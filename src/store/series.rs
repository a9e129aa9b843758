//! In-memory state of one open series: its unsealed raw chunk, the partial minute and hour
//! buckets, and the unsealed rollup chunks; sealing happens here, persisting does not.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::many_single_char_names
)] // bit-level coding: every narrowing cast is of a value masked or range-checked just before

use super::bits::{get_varint, put_varint, unzigzag, zigzag};
use super::codec::{
    decode_raw_stored, decode_rollup, CodecError, RawEncoder, RollupEncoder, Stored,
};
use super::rollup::{floor_to, Bucket, RollupPoint};
use super::{Precision, StoreError, Tier};

/// A chunk that just closed, or a snapshot of the series to persist with it.
pub(crate) enum Output {
    /// `added` is the number of raw samples the store did not hold in a sealed chunk before.
    Chunk {
        tier: Tier,
        window: i64,
        bytes: Vec<u8>,
        added: u64,
    },
    Snapshot(Vec<u8>),
}

/// Looks up a sealed chunk so a series that comes back into a window extends it.
pub(crate) type Loader<'a> = dyn FnMut(Tier, i64) -> Result<Option<Vec<u8>>, StoreError> + 'a;

#[derive(Debug, Clone)]
pub(crate) struct OpenRaw {
    pub(crate) window: i64,
    pub(crate) enc: RawEncoder,
    pub(crate) first_wal_seq: u64,
    /// Rows that came from an already sealed chunk of the same window.
    reopened: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct OpenRollup {
    pub(crate) window: i64,
    pub(crate) enc: RollupEncoder,
}

#[derive(Debug, Clone)]
pub(crate) struct SeriesState {
    pub(crate) precision: Precision,
    ts_unit: i64,
    pub(crate) raw: Option<OpenRaw>,
    /// Newest timestamp in the raw tier (sealed or open); older samples are refused.
    raw_last: i64,
    /// Newest timestamp already folded into the rollups (replay must not fold it twice).
    rolled_through: i64,
    /// Data clock when the series last received a sample (for idle detection).
    pub(crate) last_seen: i64,
    minute: Bucket,
    hour: Bucket,
    m1: Option<OpenRollup>,
    h1: Option<OpenRollup>,
}

impl SeriesState {
    pub(crate) fn new(precision: Precision, ts_unit: i64) -> Self {
        Self {
            precision,
            ts_unit,
            raw: None,
            raw_last: i64::MIN,
            rolled_through: i64::MIN,
            last_seen: i64::MIN,
            minute: Bucket::new(Tier::Minute.resolution_ms(0)),
            hour: Bucket::new(Tier::Hour.resolution_ms(0)),
            m1: None,
            h1: None,
        }
    }

    /// Appends a sample; returns the value context used by the write-ahead log (the previous
    /// quantised value in the same raw chunk), or `None` if the sample is not newer.
    /// With `relative`, a quantised value is an offset from that context (log replay).
    /// When the raw chunk seals, a snapshot of the rollup state follows it in `out`.
    pub(crate) fn push(
        &mut self,
        ts: i64,
        v: Stored,
        relative: bool,
        wal_seq: u64,
        load: &mut Loader<'_>,
        out: &mut Vec<Output>,
    ) -> Result<Option<i64>, StoreError> {
        if ts <= self.raw_last {
            return Ok(None);
        }
        let window = floor_to(ts, Tier::Raw.chunk_window_ms());
        let mut sealed_through = None;
        if self.raw.as_ref().is_some_and(|r| r.window != window) {
            self.seal_raw(out);
            sealed_through = Some(self.raw_last);
        }
        if self.raw.is_none() {
            let mut enc = RawEncoder::new(self.precision, self.ts_unit);
            if let Some(bytes) = load(Tier::Raw, window)? {
                let (_, stored) = decode_raw_stored(&bytes).map_err(|e| damaged(&e))?;
                for (t, s) in stored {
                    enc.push(t, s);
                }
                self.raw_last = self.raw_last.max(enc.last_ts());
            }
            let reopened = enc.rows();
            self.raw = Some(OpenRaw {
                window,
                enc,
                first_wal_seq: wal_seq,
                reopened,
            });
        }
        let accepted = match self.raw.as_mut() {
            Some(raw) if ts > self.raw_last => {
                let ctx = raw.enc.last_q();
                let v = match v {
                    Stored::Q(r) if relative => Stored::Q(ctx.wrapping_add(r)),
                    other => other,
                };
                raw.enc.push(ts, v);
                self.raw_last = ts;
                Some((ctx, v))
            }
            _ => None,
        };
        if let Some((_, v)) = accepted {
            if ts > self.rolled_through {
                self.cascade(ts, v, load, out)?;
            }
        }
        if let Some(through) = sealed_through {
            out.push(Output::Snapshot(self.snapshot(through)));
        }
        Ok(accepted.map(|(ctx, _)| ctx))
    }

    fn cascade(
        &mut self,
        ts: i64,
        v: Stored,
        load: &mut Loader<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), StoreError> {
        if let Some(m) = self.minute.advance(ts) {
            self.emit_minute(m, load, out)?;
        }
        if let Some(h) = self.hour.advance(ts) {
            self.emit(Tier::Hour, h, load, out)?;
        }
        if let Stored::Q(q) = v {
            self.minute.add(&RollupPoint::single(ts, q));
        }
        self.rolled_through = ts;
        Ok(())
    }

    fn emit_minute(
        &mut self,
        m: RollupPoint,
        load: &mut Loader<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), StoreError> {
        if let Some(h) = self.hour.advance(m.ts_ms) {
            self.emit(Tier::Hour, h, load, out)?;
        }
        self.hour.add(&m);
        self.emit(Tier::Minute, m, load, out)
    }

    /// Appends a finished point to its tier's open chunk; a chunk is sealed as soon as its
    /// last possible point is in, so snapshots rarely carry minute data.
    fn emit(
        &mut self,
        tier: Tier,
        p: RollupPoint,
        load: &mut Loader<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), StoreError> {
        let win = tier.chunk_window_ms();
        let window = floor_to(p.ts_ms, win);
        let precision = self.precision;
        let slot = if tier == Tier::Minute {
            &mut self.m1
        } else {
            &mut self.h1
        };
        if slot.as_ref().is_some_and(|o| o.window != window) {
            if let Some(o) = slot.take() {
                out.push(Output::Chunk {
                    tier,
                    window: o.window,
                    bytes: o.enc.to_bytes(),
                    added: 0,
                });
            }
        }
        if slot.is_none() {
            let mut enc = RollupEncoder::new(precision, tier.resolution_ms(0));
            if let Some(bytes) = load(tier, window)? {
                for q in decode_rollup(&bytes).map_err(|e| damaged(&e))?.1 {
                    enc.push(&q);
                }
            }
            *slot = Some(OpenRollup { window, enc });
        }
        if let Some(o) = slot.as_mut() {
            o.enc.push(&p);
        }
        if p.ts_ms + tier.resolution_ms(0) >= window + win {
            if let Some(o) = slot.take() {
                out.push(Output::Chunk {
                    tier,
                    window: o.window,
                    bytes: o.enc.to_bytes(),
                    added: 0,
                });
            }
        }
        Ok(())
    }

    fn seal_raw(&mut self, out: &mut Vec<Output>) {
        if let Some(r) = self.raw.take() {
            let added = r.enc.rows().saturating_sub(r.reopened) as u64;
            out.push(Output::Chunk {
                tier: Tier::Raw,
                window: r.window,
                bytes: r.enc.to_bytes(),
                added,
            });
        }
    }

    /// Raw samples held in the open chunk that no sealed chunk holds yet.
    pub(crate) fn open_samples(&self) -> u64 {
        self.raw
            .as_ref()
            .map_or(0, |r| r.enc.rows().saturating_sub(r.reopened) as u64)
    }

    /// Closes every bucket and chunk (the series went idle); the state is empty afterwards.
    pub(crate) fn seal_all(
        &mut self,
        load: &mut Loader<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), StoreError> {
        self.seal_raw(out);
        if let Some(m) = self.minute.current.take() {
            self.emit_minute(m, load, out)?;
        }
        if let Some(h) = self.hour.current.take() {
            self.emit(Tier::Hour, h, load, out)?;
        }
        for tier in [Tier::Minute, Tier::Hour] {
            let slot = if tier == Tier::Minute {
                &mut self.m1
            } else {
                &mut self.h1
            };
            if let Some(o) = slot.take() {
                out.push(Output::Chunk {
                    tier,
                    window: o.window,
                    bytes: o.enc.to_bytes(),
                    added: 0,
                });
            }
        }
        Ok(())
    }

    /// Unsealed chunk bytes of a tier, if any.
    pub(crate) fn open_chunk(&self, tier: Tier) -> Option<(i64, Vec<u8>)> {
        match tier {
            Tier::Raw => self.raw.as_ref().map(|r| (r.window, r.enc.to_bytes())),
            Tier::Minute => self.m1.as_ref().map(|o| (o.window, o.enc.to_bytes())),
            Tier::Hour => self.h1.as_ref().map(|o| (o.window, o.enc.to_bytes())),
        }
    }

    /// The bucket still accumulating at `tier`'s resolution (hour includes the open minute).
    pub(crate) fn partial(&self, tier: Tier) -> Option<RollupPoint> {
        match tier {
            Tier::Raw => None,
            Tier::Minute => self.minute.current,
            Tier::Hour => match (self.hour.current, self.minute.current) {
                (Some(mut h), Some(m)) if floor_to(m.ts_ms, 3_600_000) == h.ts_ms => {
                    h.merge(&m);
                    Some(h)
                }
                (Some(h), _) => Some(h),
                (None, Some(m)) => Some(RollupPoint {
                    ts_ms: floor_to(m.ts_ms, 3_600_000),
                    ..m
                }),
                (None, None) => None,
            },
        }
    }

    pub(crate) fn mem_bytes(&self) -> usize {
        let r = self.raw.as_ref().map_or(0, |r| r.enc.mem_bytes());
        let m = self.m1.as_ref().map_or(0, |o| o.enc.mem_bytes());
        let h = self.h1.as_ref().map_or(0, |o| o.enc.mem_bytes());
        std::mem::size_of::<Self>() + r + m + h
    }

    /// Everything except the open raw chunk (which the write-ahead log restores);
    /// `sealed_through` is the newest timestamp in sealed raw chunks.
    pub(crate) fn snapshot(&self, sealed_through: i64) -> Vec<u8> {
        let mut out = vec![1, self.precision.decimals() as u8];
        put_varint(&mut out, zigzag(sealed_through));
        put_varint(&mut out, zigzag(self.rolled_through));
        for b in [&self.minute.current, &self.hour.current] {
            match b {
                Some(p) => {
                    out.push(1);
                    for x in [p.ts_ms, p.min, p.max, p.sum, i64::from(p.count)] {
                        put_varint(&mut out, zigzag(x));
                    }
                }
                None => out.push(0),
            }
        }
        for o in [&self.m1, &self.h1] {
            match o {
                Some(o) => {
                    out.push(1);
                    put_varint(&mut out, zigzag(o.window));
                    let bytes = o.enc.to_bytes();
                    put_varint(&mut out, bytes.len() as u64);
                    out.extend_from_slice(&bytes);
                }
                None => out.push(0),
            }
        }
        out
    }

    pub(crate) fn restore(data: &[u8], ts_unit: i64) -> Result<Self, CodecError> {
        let corrupt = CodecError::Corrupt("series snapshot");
        if data.first() != Some(&1) {
            return Err(corrupt);
        }
        let d = *data.get(1).ok_or(CodecError::Truncated)? as i8;
        let mut s = Self::new(Precision::new(d).ok_or(corrupt.clone())?, ts_unit);
        let mut pos = 2;
        let zz = |pos: &mut usize| get_varint(data, pos).map(unzigzag);
        s.raw_last = zz(&mut pos)?;
        s.rolled_through = zz(&mut pos)?;
        for tier in [Tier::Minute, Tier::Hour] {
            let flag = *data.get(pos).ok_or(CodecError::Truncated)?;
            pos += 1;
            if flag == 1 {
                let mut v = [0i64; 5];
                for x in &mut v {
                    *x = zz(&mut pos)?;
                }
                let count = u32::try_from(v[4]).map_err(|_| corrupt.clone())?;
                let p = RollupPoint {
                    ts_ms: v[0],
                    min: v[1],
                    max: v[2],
                    sum: v[3],
                    count,
                };
                let b = if tier == Tier::Minute {
                    &mut s.minute
                } else {
                    &mut s.hour
                };
                b.current = Some(p);
            }
        }
        for tier in [Tier::Minute, Tier::Hour] {
            let flag = *data.get(pos).ok_or(CodecError::Truncated)?;
            pos += 1;
            if flag == 1 {
                let window = zz(&mut pos)?;
                let len =
                    usize::try_from(get_varint(data, &mut pos)?).map_err(|_| corrupt.clone())?;
                let bytes = data
                    .get(pos..pos.saturating_add(len))
                    .ok_or(CodecError::Truncated)?;
                pos += len;
                let mut enc = RollupEncoder::new(s.precision, tier.resolution_ms(0));
                for p in decode_rollup(bytes)?.1 {
                    enc.push(&p);
                }
                let slot = Some(OpenRollup { window, enc });
                if tier == Tier::Minute {
                    s.m1 = slot;
                } else {
                    s.h1 = slot;
                }
            }
        }
        Ok(s)
    }
}

fn damaged(e: &CodecError) -> StoreError {
    StoreError::Damaged {
        path: std::path::PathBuf::new(),
        detail: e.to_string(),
    }
}
