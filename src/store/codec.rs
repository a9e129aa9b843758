//! Chunk codec: turns a run of samples (or rollup points) of one series into bytes and back.
//!
//! Values are quantised to the series' [`Precision`] before encoding (`q = round(v·10^d)`),
//! because the last bits of a derived rate (12.345678901 %) are noise that defeats any float
//! compressor; the quantised integers then compress like counters. Timestamps are stored in
//! units of the store's timestamp quantum. Values that cannot be quantised (NaN, ±inf,
//! |q| > 2^50) are kept bit-exact as *exceptions*.
//!
//! ```text
//! raw chunk    = kind=1  decimals:i8  ts_unit_ms:varint  n_exc:varint (row_gap:varint f64_le)*
//!                frame[cols: ts/unit, q]
//! rollup chunk = kind=2  decimals:i8  ts_unit_ms:varint  frame[cols: ts/unit, min, max, sum, count]
//! frame        = rows:varint (first:zz-varint first_delta:zz-varint)*cols  blocks (see bits.rs)
//! ```
//!
//! Encoders are streaming (blocks are coded as soon as they fill) so an open chunk costs
//! about its encoded size in memory plus one pending block.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::many_single_char_names
)] // bit-level coding: every narrowing cast is of a value masked or range-checked just before

use super::bits::{
    decode_block, encode_block, get_varint, put_varint, unzigzag, zigzag, BitReader, BitWriter,
    ColState, BLOCK,
};
use super::rollup::RollupPoint;
use super::{Precision, Sample};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("chunk is truncated")]
    Truncated,
    #[error("chunk is corrupt: {0}")]
    Corrupt(&'static str),
}

const KIND_RAW: u8 = 1;
const KIND_ROLLUP: u8 = 2;
/// Largest |q| kept as an integer: small enough that `q → f64 → q` is exact.
const MAX_Q: f64 = (1u64 << 50) as f64;
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Quantises `v` to `decimals` (negative: tens, hundreds…); `None` if it cannot be an integer.
pub(crate) fn quantize(v: f64, p: Precision) -> Option<i64> {
    let d = p.decimals();
    let scale = POW10[usize::from(d.unsigned_abs())];
    let s = if d >= 0 { v * scale } else { v / scale };
    let r = s.round();
    if r.is_finite() && r.abs() <= MAX_Q {
        Some(r as i64)
    } else {
        None
    }
}

pub(crate) fn dequantize(q: i64, p: Precision) -> f64 {
    let d = p.decimals();
    let scale = POW10[usize::from(d.unsigned_abs())];
    if d >= 0 {
        q as f64 / scale
    } else {
        q as f64 * scale
    }
}

/// Streaming encoder of a frame of `cols` integer columns.
#[derive(Debug, Clone)]
pub(crate) struct FrameEncoder {
    rows: usize,
    first: Vec<i64>,
    first_delta: Vec<i64>,
    state: Vec<ColState>,
    pending: Vec<Vec<i64>>,
    bits: BitWriter,
}

impl FrameEncoder {
    pub(crate) fn new(cols: usize) -> Self {
        Self {
            rows: 0,
            first: vec![0; cols],
            first_delta: vec![0; cols],
            state: vec![ColState::default(); cols],
            pending: vec![Vec::with_capacity(BLOCK); cols],
            bits: BitWriter::default(),
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Approximate heap bytes held, for memory accounting.
    pub(crate) fn mem_bytes(&self) -> usize {
        self.bits.byte_len() + self.pending.len() * BLOCK * 8 + self.first.len() * 32
    }

    pub(crate) fn push(&mut self, row: &[i64]) {
        for (c, &x) in row.iter().enumerate().take(self.first.len()) {
            match self.rows {
                0 => {
                    self.first[c] = x;
                    self.state[c] = ColState {
                        prev: x,
                        prev_delta: 0,
                    };
                }
                1 => {
                    self.first_delta[c] = x.wrapping_sub(self.first[c]);
                    self.state[c].prev_delta = self.first_delta[c];
                    self.pending[c].push(x);
                }
                _ => self.pending[c].push(x),
            }
        }
        self.rows += 1;
        if self.pending.first().is_some_and(|p| p.len() == BLOCK) {
            self.flush_block();
        }
    }

    fn flush_block(&mut self) {
        for (pending, state) in self.pending.iter_mut().zip(self.state.iter_mut()) {
            if !pending.is_empty() {
                encode_block(&mut self.bits, state, pending);
                pending.clear();
            }
        }
    }

    pub(crate) fn finish(mut self, out: &mut Vec<u8>) {
        self.flush_block();
        put_varint(out, self.rows as u64);
        if self.rows > 0 {
            for (&f, &d) in self.first.iter().zip(&self.first_delta) {
                put_varint(out, zigzag(f));
                put_varint(out, zigzag(d));
            }
        }
        out.extend_from_slice(&self.bits.finish());
    }
}

/// Decodes a frame of `cols` columns into row-major values.
pub(crate) fn decode_frame(data: &[u8], cols: usize) -> Result<(usize, Vec<i64>), CodecError> {
    let mut pos = 0;
    let rows = usize::try_from(get_varint(data, &mut pos)?)
        .map_err(|_| CodecError::Corrupt("row count"))?;
    if rows == 0 {
        return Ok((0, Vec::new()));
    }
    // A block of BLOCK rows costs at least 3 bits per column: bound the allocation by the input.
    if rows > 1 + data.len() * 8 / 3 * BLOCK {
        return Err(CodecError::Corrupt("row count larger than the chunk"));
    }
    let mut state = Vec::with_capacity(cols);
    let mut out = vec![0i64; rows * cols];
    for slot in out.iter_mut().take(cols) {
        let f = unzigzag(get_varint(data, &mut pos)?);
        let d = unzigzag(get_varint(data, &mut pos)?);
        *slot = f;
        state.push(ColState {
            prev: f,
            prev_delta: d,
        });
    }
    let mut r = BitReader::new(&data[pos..]);
    let mut col_buf = [0i64; BLOCK];
    let mut row = 1;
    while row < rows {
        let n = BLOCK.min(rows - row);
        for (c, st) in state.iter_mut().enumerate() {
            decode_block(&mut r, st, &mut col_buf[..n])?;
            for (i, &x) in col_buf[..n].iter().enumerate() {
                out[(row + i) * cols + c] = x;
            }
        }
        row += n;
    }
    Ok((rows, out))
}

/// A value as stored: quantised, or kept bit-exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stored {
    Q(i64),
    Exact(u64),
}

/// Streaming encoder for a raw-tier chunk.
#[derive(Debug, Clone)]
pub(crate) struct RawEncoder {
    precision: Precision,
    ts_unit: i64,
    frame: FrameEncoder,
    exceptions: Vec<(usize, u64)>,
    last_q: i64,
    last_ts: i64,
}

impl RawEncoder {
    pub(crate) fn new(precision: Precision, ts_unit_ms: i64) -> Self {
        Self {
            precision,
            ts_unit: ts_unit_ms.max(1),
            frame: FrameEncoder::new(2),
            exceptions: Vec::new(),
            last_q: 0,
            last_ts: i64::MIN,
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.frame.rows()
    }

    pub(crate) fn last_q(&self) -> i64 {
        self.last_q
    }

    pub(crate) fn last_ts(&self) -> i64 {
        self.last_ts
    }

    pub(crate) fn mem_bytes(&self) -> usize {
        self.frame.mem_bytes() + self.exceptions.len() * 16
    }

    /// Appends a sample whose timestamp is a multiple of the unit.
    pub(crate) fn push(&mut self, ts_ms: i64, v: Stored) {
        let q = match v {
            Stored::Q(q) => q,
            Stored::Exact(bits) => {
                self.exceptions.push((self.frame.rows(), bits));
                self.last_q
            }
        };
        self.frame.push(&[ts_ms.div_euclid(self.ts_unit), q]);
        self.last_q = q;
        self.last_ts = ts_ms;
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![KIND_RAW, self.precision.decimals() as u8];
        put_varint(&mut out, self.ts_unit.unsigned_abs());
        put_varint(&mut out, self.exceptions.len() as u64);
        let mut prev = 0;
        for &(row, bits) in &self.exceptions {
            put_varint(&mut out, (row - prev) as u64);
            out.extend_from_slice(&bits.to_le_bytes());
            prev = row;
        }
        self.frame.clone().finish(&mut out);
        out
    }
}

fn header(data: &[u8], kind: u8) -> Result<(Precision, i64, usize), CodecError> {
    if data.first() != Some(&kind) {
        return Err(CodecError::Corrupt("unexpected chunk kind"));
    }
    let d = *data.get(1).ok_or(CodecError::Truncated)? as i8;
    let precision = Precision::new(d).ok_or(CodecError::Corrupt("precision out of range"))?;
    let mut pos = 2;
    let unit = i64::try_from(get_varint(data, &mut pos)?)
        .map_err(|_| CodecError::Corrupt("timestamp unit"))?;
    Ok((precision, unit, pos))
}

/// The exact values kept beside a frame (a raw chunk's, a log record's): their count, then
/// per value the rows since the previous one and its 8 bytes, read from `pos` on.
pub(crate) fn read_exceptions(
    data: &[u8],
    pos: &mut usize,
) -> Result<Vec<(usize, u64)>, CodecError> {
    let n_exc = get_varint(data, pos)?;
    let mut exceptions = Vec::new();
    let mut row = 0usize;
    for _ in 0..n_exc {
        let step = usize::try_from(get_varint(data, pos)?).map_err(|_| CodecError::Truncated)?;
        // Damaged bytes can hold any step: past usize it is corrupt, not an overflow panic.
        row = row
            .checked_add(step)
            .ok_or(CodecError::Corrupt("exception row"))?;
        let b: [u8; 8] = data
            .get(*pos..*pos + 8)
            .and_then(|s| s.try_into().ok())
            .ok_or(CodecError::Truncated)?;
        exceptions.push((row, u64::from_le_bytes(b)));
        *pos += 8;
    }
    Ok(exceptions)
}

/// Decodes a raw chunk into stored values (for re-encoding) with their timestamps.
pub(crate) fn decode_raw_stored(
    data: &[u8],
) -> Result<(Precision, Vec<(i64, Stored)>), CodecError> {
    let (precision, unit, mut pos) = header(data, KIND_RAW)?;
    let exceptions = read_exceptions(data, &mut pos)?;
    let (rows, vals) = decode_frame(&data[pos..], 2)?;
    let mut out = Vec::with_capacity(rows);
    let mut exc = exceptions.iter().peekable();
    for (i, pair) in vals.chunks_exact(2).enumerate() {
        let ts = pair[0].wrapping_mul(unit);
        let v = match exc.peek() {
            Some(&&(r, bits)) if r == i => {
                exc.next();
                Stored::Exact(bits)
            }
            _ => Stored::Q(pair[1]),
        };
        out.push((ts, v));
    }
    Ok((precision, out))
}

/// Number of samples in a raw chunk, read from its header.
pub(crate) fn raw_rows(data: &[u8]) -> Result<u64, CodecError> {
    let (_, _, mut pos) = header(data, KIND_RAW)?;
    let n_exc = get_varint(data, &mut pos)?;
    for _ in 0..n_exc {
        get_varint(data, &mut pos)?;
        pos += 8;
    }
    get_varint(data, &mut pos)
}

/// Decodes a raw chunk into samples.
///
/// # Errors
/// [`CodecError`] if the bytes are not a complete raw chunk.
pub fn decode_raw(data: &[u8]) -> Result<Vec<Sample>, CodecError> {
    let (p, stored) = decode_raw_stored(data)?;
    Ok(stored
        .into_iter()
        .map(|(ts_ms, v)| Sample {
            ts_ms,
            value: match v {
                Stored::Q(q) => dequantize(q, p),
                Stored::Exact(bits) => f64::from_bits(bits),
            },
        })
        .collect())
}

/// Encodes samples (timestamps must be multiples of `ts_unit_ms`) as one raw chunk.
#[must_use]
pub fn encode_raw(samples: &[Sample], precision: Precision, ts_unit_ms: i64) -> Vec<u8> {
    let mut enc = RawEncoder::new(precision, ts_unit_ms);
    for s in samples {
        let v = quantize(s.value, precision).map_or(Stored::Exact(s.value.to_bits()), Stored::Q);
        enc.push(s.ts_ms, v);
    }
    enc.to_bytes()
}

/// Streaming encoder for a rollup-tier chunk (values in quantised units).
#[derive(Debug, Clone)]
pub(crate) struct RollupEncoder {
    precision: Precision,
    ts_unit: i64,
    frame: FrameEncoder,
}

impl RollupEncoder {
    pub(crate) fn new(precision: Precision, ts_unit_ms: i64) -> Self {
        Self {
            precision,
            ts_unit: ts_unit_ms.max(1),
            frame: FrameEncoder::new(5),
        }
    }

    pub(crate) fn mem_bytes(&self) -> usize {
        self.frame.mem_bytes()
    }

    pub(crate) fn push(&mut self, p: &RollupPoint) {
        let ts = p.ts_ms.div_euclid(self.ts_unit);
        self.frame
            .push(&[ts, p.min, p.max, p.sum, i64::from(p.count)]);
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![KIND_ROLLUP, self.precision.decimals() as u8];
        put_varint(&mut out, self.ts_unit.unsigned_abs());
        self.frame.clone().finish(&mut out);
        out
    }
}

/// Decodes a rollup chunk; values stay in quantised units of the returned precision.
pub(crate) fn decode_rollup(data: &[u8]) -> Result<(Precision, Vec<RollupPoint>), CodecError> {
    let (precision, unit, pos) = header(data, KIND_ROLLUP)?;
    let (_, vals) = decode_frame(&data[pos..], 5)?;
    let points = vals
        .chunks_exact(5)
        .map(|r| RollupPoint {
            ts_ms: r[0].wrapping_mul(unit),
            min: r[1],
            max: r[2],
            sum: r[3],
            count: u32::try_from(r[4]).unwrap_or(u32::MAX),
        })
        .collect();
    Ok((precision, points))
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
