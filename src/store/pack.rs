//! Packs: the sealed chunks of a group of series for one tier and window, stored as one sled
//! value (`keys::chunk(tier, window, group)`).
//!
//! sled keeps values inline in 16-entry leaves and rewrites a leaf on every tenth update, so
//! one small value per chunk costs about twice its size on disk at steady state and a page
//! table entry in memory for ever. Grouping `Tier::pack_series` series per value makes the
//! leaves large enough that sled stores them as blob files, which it deletes once they are
//! replaced (or the store does, `sled_blobs.rs`): the space on disk stays close to the live
//! data.
//!
//! ```text
//! pack = version=1  n:varint  (id_delta:varint len:varint)*n  chunk bytes in the same order
//! ```

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::many_single_char_names
)] // bit-level coding: every narrowing cast is of a value masked or range-checked just before

use super::bits::{get_varint, put_varint};
use super::codec::CodecError;

/// Parses a pack into `(series id, chunk bytes)` in id order.
pub(crate) fn decode(data: &[u8]) -> Result<Vec<(u32, &[u8])>, CodecError> {
    if data.first() != Some(&1) {
        return Err(CodecError::Corrupt("not a chunk pack"));
    }
    let mut pos = 1;
    let n = get_varint(data, &mut pos)?;
    if n > data.len() as u64 {
        return Err(CodecError::Corrupt("pack entry count"));
    }
    let mut index = Vec::with_capacity(n as usize);
    let mut id = 0u64;
    for i in 0..n {
        let delta = get_varint(data, &mut pos)?;
        id = if i == 0 {
            delta
        } else {
            id.saturating_add(delta)
        };
        let len =
            usize::try_from(get_varint(data, &mut pos)?).map_err(|_| CodecError::Truncated)?;
        index.push((
            u32::try_from(id).map_err(|_| CodecError::Corrupt("pack series id"))?,
            len,
        ));
    }
    let mut out = Vec::with_capacity(index.len());
    for (id, len) in index {
        let bytes = data
            .get(pos..pos.saturating_add(len))
            .ok_or(CodecError::Truncated)?;
        out.push((id, bytes));
        pos += len;
    }
    Ok(out)
}

pub(crate) fn find(data: &[u8], id: u32) -> Result<Option<&[u8]>, CodecError> {
    Ok(decode(data)?
        .into_iter()
        .find(|(i, _)| *i == id)
        .map(|(_, b)| b))
}

/// `existing` with the entries of `new` added or replaced.
pub(crate) fn merge(
    existing: Option<&[u8]>,
    new: Vec<(u32, Vec<u8>)>,
) -> Result<Vec<u8>, CodecError> {
    let mut all: std::collections::BTreeMap<u32, Vec<u8>> = match existing {
        Some(d) => decode(d)?
            .into_iter()
            .map(|(i, b)| (i, b.to_vec()))
            .collect(),
        None => std::collections::BTreeMap::new(),
    };
    all.extend(new);
    let mut out = vec![1];
    put_varint(&mut out, all.len() as u64);
    let mut prev = 0;
    for (i, (&id, b)) in all.iter().enumerate() {
        put_varint(&mut out, u64::from(if i == 0 { id } else { id - prev }));
        put_varint(&mut out, b.len() as u64);
        prev = id;
    }
    for b in all.values() {
        out.extend_from_slice(b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn merge_then_find_returns_the_newest_entry(
            a in prop::collection::btree_map(0u32..5000, prop::collection::vec(any::<u8>(), 0..50), 0..20),
            b in prop::collection::btree_map(0u32..5000, prop::collection::vec(any::<u8>(), 0..50), 0..20),
        ) {
            let first = merge(None, a.clone().into_iter().collect()).unwrap();
            let both = merge(Some(&first), b.clone().into_iter().collect()).unwrap();
            for id in a.keys().chain(b.keys()) {
                let want = b.get(id).or_else(|| a.get(id)).unwrap();
                prop_assert_eq!(find(&both, *id).unwrap(), Some(want.as_slice()));
            }
            prop_assert_eq!(decode(&both).unwrap().len(), a.keys().chain(b.keys()).collect::<std::collections::BTreeSet<_>>().len());
        }

        #[test]
        fn garbage_is_an_error_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode(&bytes);
        }
    }
}
