//! Bit I/O and the column block coder shared by every on-disk record of the history store.
//!
//! A *frame* holds `rows × cols` signed 64-bit integers. Row 0 and the first delta of every
//! column go into a byte header (zigzag LEB128); rows 1.. are coded in blocks of [`BLOCK`]
//! rows, column after column. For each block and column the encoder picks the cheapest of
//! three transforms (raw value, delta, delta-of-delta) and a Rice parameter `k`, so a
//! constant column costs 3 bits per block and a noisy one close to its entropy:
//!
//! ```text
//! column block = transform:2  nonzero:1  [sparse:1  k:6  (residual | flag [residual of u−1])*]
//! residual     = unary(u >> k) '0' low_k_bits(u)        when u >> k < QMAX
//!              | '1'×QMAX  (bitlen(u)-1):6  bits(u)     otherwise (escape for bursts)
//! ```
//! A sparse block spends one flag bit per row and codes only the non-zero residuals, which
//! suits byte and packet rates that are zero except during bursts.
//!
//! This module only moves bits; it knows nothing of timestamps, floats or keys.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::many_single_char_names
)] // bit-level coding: every narrowing cast is of a value masked or range-checked just before

use super::codec::CodecError;

/// Rows per block: small enough to adapt to bursts, large enough that headers stay cheap.
pub(crate) const BLOCK: usize = 32;
/// Longest unary quotient before the escape code.
const QMAX: u64 = 16;

#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    acc: u64,
    nbits: u32,
}

impl BitWriter {
    /// Appends the low `n` bits of `v` (n ≤ 64), most significant first.
    pub(crate) fn write(&mut self, v: u64, n: u32) {
        if n > 32 {
            self.write_small((v >> 32) & ((1u64 << (n - 32)) - 1), n - 32);
            self.write_small(v & 0xFFFF_FFFF, 32);
        } else if n > 0 {
            self.write_small(v & ((1u64 << n) - 1), n);
        }
    }

    fn write_small(&mut self, v: u64, n: u32) {
        self.acc = (self.acc << n) | v;
        self.nbits += n;
        while self.nbits >= 8 {
            self.nbits -= 8;
            self.buf.push((self.acc >> self.nbits) as u8);
        }
        self.acc &= (1u64 << self.nbits) - 1;
    }

    pub(crate) fn byte_len(&self) -> usize {
        self.buf.len() + usize::from(self.nbits > 0)
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        if self.nbits > 0 {
            self.buf.push((self.acc << (8 - self.nbits)) as u8);
        }
        self.buf
    }
}

pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.data.len() * 8 - self.pos
    }

    /// The next 64 bits (zero-padded past the end), valid for at least 57 of them.
    fn peek64(&self) -> u64 {
        let start = self.pos / 8;
        let mut word = [0u8; 8];
        let end = (start + 8).min(self.data.len());
        word[..end - start].copy_from_slice(&self.data[start..end]);
        u64::from_be_bytes(word) << (self.pos % 8)
    }

    pub(crate) fn read(&mut self, n: u32) -> Result<u64, CodecError> {
        if n == 0 {
            return Ok(0);
        }
        if n as usize > self.remaining() {
            return Err(CodecError::Truncated);
        }
        if n > 56 {
            let hi = self.read(n - 32)?;
            let lo = self.read(32)?;
            return Ok((hi << 32) | lo);
        }
        let v = self.peek64() >> (64 - n);
        self.pos += n as usize;
        Ok(v)
    }

    fn read_rice(&mut self, k: u32) -> Result<u64, CodecError> {
        let ones = u64::from((!self.peek64()).leading_zeros());
        if ones >= QMAX {
            self.skip(QMAX as usize)?;
            let len = self.read(6)? as u32 + 1;
            return self.read(len);
        }
        self.skip(ones as usize + 1)?;
        let low = self.read(k)?;
        Ok((ones << k) | low)
    }

    fn skip(&mut self, n: usize) -> Result<(), CodecError> {
        if n > self.remaining() {
            return Err(CodecError::Truncated);
        }
        self.pos += n;
        Ok(())
    }
}

pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn get_varint(data: &[u8], pos: &mut usize) -> Result<u64, CodecError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*pos).ok_or(CodecError::Truncated)?;
        *pos += 1;
        v |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(CodecError::Corrupt("varint longer than 64 bits"))
}

fn rice_cost(u: u64, k: u32) -> u64 {
    let q = u >> k;
    if q < QMAX {
        q + 1 + u64::from(k)
    } else {
        QMAX + 6 + u64::from(64 - u.leading_zeros())
    }
}

/// Cheapest Rice parameter for `us` and its cost in bits.
fn best_k(us: &[u64]) -> (u32, u64) {
    let total: u128 = us.iter().map(|&u| u128::from(u)).sum();
    if total == 0 {
        return (0, us.len() as u64);
    }
    let mean = (total / us.len() as u128).max(1);
    let guess = mean.ilog2();
    let mut best = (0, u64::MAX);
    for k in guess.saturating_sub(2)..=(guess + 1).min(63) {
        let cost: u64 = us.iter().map(|&u| rice_cost(u, k)).sum();
        if cost < best.1 {
            best = (k, cost);
        }
    }
    best
}

/// How a non-zero block is coded: Rice on every residual, or (sparse) a zero flag per
/// residual and Rice on the non-zero ones minus one — bursts in a mostly idle series.
#[derive(Clone, Copy)]
struct Plan {
    sparse: bool,
    k: u32,
    bits: u64,
}

fn plan(us: &[u64]) -> Option<Plan> {
    if us.iter().all(|&u| u == 0) {
        return None;
    }
    let (k, bits) = best_k(us);
    let dense = Plan {
        sparse: false,
        k,
        bits: bits + 7,
    };
    let mut nz = [0u64; BLOCK];
    let mut n = 0;
    for &u in us.iter().filter(|&&u| u != 0) {
        nz[n] = u - 1;
        n += 1;
    }
    let (ks, bs) = best_k(&nz[..n]);
    let sparse = Plan {
        sparse: true,
        k: ks,
        bits: bs + us.len() as u64 + 7,
    };
    Some(if sparse.bits < dense.bits {
        sparse
    } else {
        dense
    })
}

fn write_rice(w: &mut BitWriter, u: u64, k: u32) {
    let q = u >> k;
    if q < QMAX {
        w.write((1u64 << q) - 1, q as u32);
        w.write(0, 1);
        w.write(u, k);
    } else {
        w.write((1u64 << QMAX) - 1, QMAX as u32);
        let len = 64 - u.leading_zeros();
        w.write(u64::from(len - 1), 6);
        w.write(u, len);
    }
}

#[derive(Clone, Copy)]
enum Transform {
    Raw = 0,
    Delta = 1,
    DeltaOfDelta = 2,
}

/// Running state of one column: the previous value and previous delta.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ColState {
    pub(crate) prev: i64,
    pub(crate) prev_delta: i64,
}

impl ColState {
    fn residual(self, x: i64, t: Transform) -> i64 {
        match t {
            Transform::Raw => x,
            Transform::Delta => x.wrapping_sub(self.prev),
            Transform::DeltaOfDelta => x.wrapping_sub(self.prev).wrapping_sub(self.prev_delta),
        }
    }

    fn undo(self, r: i64, t: Transform) -> i64 {
        match t {
            Transform::Raw => r,
            Transform::Delta => self.prev.wrapping_add(r),
            Transform::DeltaOfDelta => self.prev.wrapping_add(self.prev_delta).wrapping_add(r),
        }
    }

    pub(crate) fn advance(&mut self, x: i64) {
        self.prev_delta = x.wrapping_sub(self.prev);
        self.prev = x;
    }
}

/// Encodes one block (`values` holds one column's rows) and advances `state`.
pub(crate) fn encode_block(w: &mut BitWriter, state: &mut ColState, values: &[i64]) {
    let n = values.len().min(BLOCK);
    let mut best: Option<(Transform, Option<Plan>, [u64; BLOCK])> = None;
    for t in [Transform::Delta, Transform::DeltaOfDelta, Transform::Raw] {
        let mut us = [0u64; BLOCK];
        let mut s = *state;
        for (slot, &x) in us.iter_mut().zip(&values[..n]) {
            *slot = zigzag(s.residual(x, t));
            s.advance(x);
        }
        let p = plan(&us[..n]);
        let bits = p.map_or(0, |p| p.bits);
        if best
            .as_ref()
            .is_none_or(|b| bits < b.1.map_or(0, |p| p.bits))
        {
            best = Some((t, p, us));
        }
    }
    let Some((t, p, us)) = best else { return };
    w.write(t as u64, 2);
    match p {
        None => w.write(0, 1),
        Some(p) => {
            w.write(1, 1);
            w.write(u64::from(p.sparse), 1);
            w.write(u64::from(p.k), 6);
            for &u in &us[..n] {
                if p.sparse {
                    w.write(u64::from(u != 0), 1);
                    if u != 0 {
                        write_rice(w, u - 1, p.k);
                    }
                } else {
                    write_rice(w, u, p.k);
                }
            }
        }
    }
    for &x in &values[..n] {
        state.advance(x);
    }
}

/// Decodes one block of `out.len()` rows of one column.
pub(crate) fn decode_block(
    r: &mut BitReader<'_>,
    state: &mut ColState,
    out: &mut [i64],
) -> Result<(), CodecError> {
    let t = match r.read(2)? {
        0 => Transform::Raw,
        1 => Transform::Delta,
        2 => Transform::DeltaOfDelta,
        _ => return Err(CodecError::Corrupt("unknown block transform")),
    };
    let nonzero = r.read(1)? == 1;
    let (sparse, k) = if nonzero {
        (r.read(1)? == 1, r.read(6)? as u32)
    } else {
        (false, 0)
    };
    for slot in out.iter_mut() {
        let u = if !nonzero {
            0
        } else if sparse {
            if r.read(1)? == 1 {
                r.read_rice(k)?.wrapping_add(1)
            } else {
                0
            }
        } else {
            r.read_rice(k)?
        };
        let x = state.undo(unzigzag(u), t);
        state.advance(x);
        *slot = x;
    }
    Ok(())
}

#[cfg(test)]
#[path = "bits_tests.rs"]
mod tests;
