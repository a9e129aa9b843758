//! Deleting the blob files sled 0.34 forgets, right after each open.
//!
//! sled stores a page over a quarter segment as a file `blobs/<lsn>` (every chunk pack
//! leaf here, see [`StoreConfig::segment_bytes`](super::StoreConfig::segment_bytes)) and
//! leaves two kinds of them behind for ever (measured: 49 files, 5.6 MB, 5.6 % of the
//! database after 72 simulated hours at 2000 series):
//! - a page that is a single blob pointer and is then replaced by a split, merge or free
//!   keeps its file (`mark_replace` in `pagecache/segment.rs` skips it, to serve the case
//!   of a blob pointer merely moved by segment cleaning);
//! - a replaced blob is deleted only when the log segment that recorded the replacement
//!   is retired, and deletions still pending when the database closes are forgotten.
//!
//! Recovery (every open) writes a snapshot of the whole page table, `snap.<lsn>`, holding
//! every page's disk pointers. Right after an open, before anything is written, a blob
//! file older than the snapshot that no page points to can never be read again, and is
//! deleted. The snapshot is sled's own format (`Snapshot` in `serialization.rs`); anything
//! unexpected in it (checksum, length, an unknown tag, trailing bytes, a referenced blob
//! that is missing) means nothing is deleted.
//!
//! ```text
//! snap   = body  len:u64le  crc32(body):u32le
//! body   = stable_lsn:i64le(0 = none, n ≥ 0 stored as n+1)  active_segment:varint  page*
//! page   = 0 lsn:i64le ptr  |  n:u8(≥1) (lsn:i64le ptr size:varint)×n
//! ptr    = 0 offset:varint  |  1 offset:varint blob_lsn:i64le
//! varint = sled's: ≤240 in one byte, 241–248 and 249 two and three, 250–255 3–8 LE bytes
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::Path;

use super::wal::crc32;

/// What a sweep found and removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Swept {
    pub(crate) files: u64,
    pub(crate) bytes: u64,
    /// The snapshot could not be read as expected, so nothing was deleted.
    pub(crate) skipped: bool,
}

/// Deletes blob files no page of the just-opened database `dir` points to.
pub(crate) fn sweep(dir: &Path) -> io::Result<Swept> {
    let mut out = Swept::default();
    let Some(snap) = newest_snapshot(dir)? else {
        return Ok(out);
    };
    let Some((stable, referenced)) = parse(&fs::read(snap)?) else {
        out.skipped = true;
        return Ok(out);
    };
    let blob_dir = dir.join("blobs");
    let mut present = Vec::new();
    for entry in fs::read_dir(&blob_dir)? {
        let entry = entry?;
        if let Some(lsn) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i64>().ok())
        {
            present.push((lsn, entry.path()));
        }
    }
    let names: BTreeSet<i64> = present.iter().map(|(l, _)| *l).collect();
    if !referenced.is_subset(&names) {
        out.skipped = true;
        return Ok(out);
    }
    for (lsn, path) in present {
        if lsn < stable && !referenced.contains(&lsn) {
            let len = fs::metadata(&path).map_or(0, |m| m.len());
            match fs::remove_file(&path) {
                Ok(()) => {
                    out.files += 1;
                    out.bytes += len;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(out)
}

fn newest_snapshot(dir: &Path) -> io::Result<Option<std::path::PathBuf>> {
    let mut newest: Option<(String, std::path::PathBuf)> = None;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.starts_with("snap.")
            && !name.ends_with(".generating")
            && newest.as_ref().is_none_or(|(n, _)| name > *n)
        {
            newest = Some((name, entry.path()));
        }
    }
    Ok(newest.map(|(_, p)| p))
}

/// `(stable lsn, blob lsns referenced by any page)`, or `None` if `file` is not exactly a
/// snapshot as described in the module docs.
pub(crate) fn parse(file: &[u8]) -> Option<(i64, BTreeSet<i64>)> {
    let body_len = file.len().checked_sub(12)?;
    let (body, trailer) = file.split_at(body_len);
    let len = u64::from_le_bytes(trailer[..8].try_into().ok()?);
    let crc = u32::from_le_bytes(trailer[8..].try_into().ok()?);
    if usize::try_from(len).ok()? != body.len() || crc32(&[body]) != crc {
        return None;
    }
    let mut r = Reader(body);
    let stable = match r.i64()? {
        0 => return None,
        n if n < 0 => n,
        n => n - 1,
    };
    r.varint()?; // active segment
    let mut blobs = BTreeSet::new();
    while !r.0.is_empty() {
        match r.byte()? {
            0 => {
                r.i64()?;
                r.ptr(&mut blobs)?;
            }
            n => {
                for _ in 0..n {
                    r.i64()?;
                    r.ptr(&mut blobs)?;
                    r.varint()?;
                }
            }
        }
    }
    Some((stable, blobs))
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn varint(&mut self) -> Option<u64> {
        let first = self.byte()?;
        Some(match first {
            0..=240 => u64::from(first),
            241..=248 => 240 + 256 * (u64::from(first) - 241) + u64::from(self.byte()?),
            249 => {
                let b = self.take(2)?;
                2288 + 256 * u64::from(b[0]) + u64::from(b[1])
            }
            _ => {
                let mut le = [0u8; 8];
                let n = usize::from(first - 247);
                le[..n].copy_from_slice(self.take(n)?);
                u64::from_le_bytes(le)
            }
        })
    }

    fn ptr(&mut self, blobs: &mut BTreeSet<i64>) -> Option<()> {
        match self.byte()? {
            0 => {
                self.varint()?;
            }
            1 => {
                self.varint()?;
                blobs.insert(self.i64()?);
            }
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
#[path = "sled_blobs_tests.rs"]
mod tests;
