//! Key layout of the history database (one sled tree, big-endian so byte order = time order).
//!
//! ```text
//! "M"                                   meta: "NVH1", data clock, sealed-sample and dropped
//!                                       counts, next log sequence, retention progress per tier
//! "S" id:u32                            series: precision:i8 entity 0x00 metric
//! "C" tier:u8 window:i64* group:u32     pack of the sealed chunks of series group·N..group·N+N−1
//!                                       for one aligned window (N = `Tier::pack_series`)
//! "O" id:u32                            open-series snapshot taken when its raw chunk sealed
//!                                       (rollup encoders + partial buckets + last timestamp)
//! ```
//! The write-ahead log of open chunks is a separate file, `wal.log` (see `wal.rs`).
//! `*` i64 with the sign bit flipped so negative times sort first.
//!
//! Packs are keyed time-first so that sealing appends at the end of the keyspace (sled
//! rewrites only the rightmost leaves) and retention deletes a contiguous prefix per tier.
//! Windows: raw 1 h, minute 1 h, hour 1 day (`Tier::chunk_window_ms`). A series' data for
//! a range is found by point lookups of its group's pack for each window it spans.

#![allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)] // sign-bit flip is the point

use super::Tier;

pub(crate) const META: &[u8] = b"M";
pub(crate) const SERIES: u8 = b'S';
pub(crate) const CHUNK: u8 = b'C';
pub(crate) const OPEN: u8 = b'O';

fn flip(ts: i64) -> [u8; 8] {
    ((ts as u64) ^ (1 << 63)).to_be_bytes()
}

#[cfg(test)]
fn unflip(b: [u8; 8]) -> i64 {
    (u64::from_be_bytes(b) ^ (1 << 63)) as i64
}

pub(crate) fn series(id: u32) -> Vec<u8> {
    let mut k = vec![SERIES];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

pub(crate) fn open(id: u32) -> Vec<u8> {
    let mut k = vec![OPEN];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

pub(crate) fn chunk(tier: Tier, window: i64, group: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(14);
    k.push(CHUNK);
    k.push(tier as u8);
    k.extend_from_slice(&flip(window));
    k.extend_from_slice(&group.to_be_bytes());
    k
}

/// Keys of all chunks of `tier` whose window starts before `window_end` (exclusive).
pub(crate) fn chunks_before(tier: Tier, window_end: i64) -> (Vec<u8>, Vec<u8>) {
    let lo = vec![CHUNK, tier as u8];
    let mut hi = lo.clone();
    hi.extend_from_slice(&flip(window_end));
    (lo, hi)
}

pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut hi = prefix.to_vec();
    if let Some(last) = hi.last_mut() {
        *last += 1;
    }
    hi
}

/// `(tier index, window, id)` of a chunk key.
#[cfg(test)]
pub(crate) fn parse_chunk(k: &[u8]) -> Option<(u8, i64, u32)> {
    if k.len() != 14 || k[0] != CHUNK {
        return None;
    }
    let w: [u8; 8] = k[2..10].try_into().ok()?;
    let id: [u8; 4] = k[10..14].try_into().ok()?;
    Some((k[1], unflip(w), u32::from_be_bytes(id)))
}

pub(crate) fn parse_id(k: &[u8], tag: u8) -> Option<u32> {
    if k.len() != 5 || k[0] != tag {
        return None;
    }
    Some(u32::from_be_bytes(k[1..5].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn chunk_keys_sort_by_tier_then_time_then_series(
            a in (0u8..3, any::<i64>(), any::<u32>()), b in (0u8..3, any::<i64>(), any::<u32>())
        ) {
            let tier = |i| Tier::ALL[usize::from(i)];
            let ka = chunk(tier(a.0), a.1, a.2);
            let kb = chunk(tier(b.0), b.1, b.2);
            prop_assert_eq!(ka.cmp(&kb), a.cmp(&b));
            prop_assert_eq!(parse_chunk(&ka), Some(a));
        }
    }

    #[test]
    fn retention_range_excludes_the_cutoff_window() {
        let (lo, hi) = chunks_before(Tier::Raw, 7_200_000);
        let old = chunk(Tier::Raw, 3_600_000, u32::MAX);
        let kept = chunk(Tier::Raw, 7_200_000, 0);
        assert!(lo <= old && old < hi);
        assert!(kept >= hi);
        assert!(chunk(Tier::Minute, i64::MIN, 0) >= hi);
    }
}
