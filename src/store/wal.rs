//! Write-ahead records: every flush writes one record with the samples appended since the
//! previous flush, so a crash loses at most one flush interval without rewriting open chunks.
//! On disk they live in `wal.log` beside sled's files rather than in the sled tree: sled
//! would rewrite a whole 16-entry leaf every few inserts, and the log is dropped wholesale
//! (truncated) as soon as every open raw chunk started after its last record.
//!
//! ```text
//! wal.log = frame*    frame = len:u32le crc32:u32le seq:u64le record   (crc over seq+record)
//! ```
//! A torn or corrupt tail (kill -9 mid-write) is cut off at the last good frame; a bad frame
//! with others after it is damage, reported and left as it is.
//!
//! ```text
//! record = kind=3  ts_unit_ms:varint  n_exc:varint (row_gap:varint f64_le)*
//!          frame[cols: series id, ts/unit, value − context]      (rows sorted by series)
//! ```
//! The context of a row is the previous quantised value in the same raw chunk (0 for a new
//! chunk), so a steady series costs about what it costs in its chunk.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::many_single_char_names
)] // bit-level coding: every narrowing cast is of a value masked or range-checked just before

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::bits::{get_varint, put_varint};
use super::codec::{decode_frame, read_exceptions, CodecError, FrameEncoder, Stored};

const KIND_WAL: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WalRow {
    pub(crate) id: u32,
    pub(crate) ts_ms: i64,
    /// `Q` holds value − context.
    pub(crate) v: Stored,
}

pub(crate) fn encode(rows: &mut [WalRow], ts_unit: i64) -> Vec<u8> {
    rows.sort_by_key(|r| r.id);
    let mut out = vec![KIND_WAL];
    put_varint(&mut out, ts_unit.unsigned_abs());
    let exc: Vec<(usize, u64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r.v {
            Stored::Exact(b) => Some((i, b)),
            Stored::Q(_) => None,
        })
        .collect();
    put_varint(&mut out, exc.len() as u64);
    let mut prev = 0;
    for (i, b) in exc {
        put_varint(&mut out, (i - prev) as u64);
        out.extend_from_slice(&b.to_le_bytes());
        prev = i;
    }
    let mut frame = FrameEncoder::new(3);
    for r in rows.iter() {
        let v = match r.v {
            Stored::Q(q) => q,
            Stored::Exact(_) => 0,
        };
        frame.push(&[i64::from(r.id), r.ts_ms.div_euclid(ts_unit.max(1)), v]);
    }
    frame.finish(&mut out);
    out
}

pub(crate) fn decode(data: &[u8]) -> Result<Vec<WalRow>, CodecError> {
    if data.first() != Some(&KIND_WAL) {
        return Err(CodecError::Corrupt("not a log record"));
    }
    let mut pos = 1;
    let unit =
        i64::try_from(get_varint(data, &mut pos)?).map_err(|_| CodecError::Corrupt("unit"))?;
    let exc = read_exceptions(data, &mut pos)?;
    let (_, vals) = decode_frame(&data[pos..], 3)?;
    let mut exc = exc.into_iter().peekable();
    let mut out = Vec::with_capacity(vals.len() / 3);
    for (i, r) in vals.chunks_exact(3).enumerate() {
        let id = u32::try_from(r[0]).map_err(|_| CodecError::Corrupt("series id"))?;
        let v = match exc.peek() {
            Some(&(j, b)) if j == i => {
                exc.next();
                Stored::Exact(b)
            }
            _ => Stored::Q(r[2]),
        };
        out.push(WalRow {
            id,
            ts_ms: r[1].wrapping_mul(unit),
            v,
        });
    }
    Ok(out)
}

pub(crate) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for part in parts {
        for &b in *part {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (0xEDB8_8320 & 0u32.wrapping_sub(crc & 1));
            }
        }
    }
    !crc
}

/// What a damaged log holds, for the operator deciding to move it aside: the samples not
/// yet sealed into chunks, since the first row of its first intact record.
fn holds_since(records: &super::kv::Records) -> String {
    let first = records
        .iter()
        .filter_map(|(_, r)| decode(r).ok())
        .flat_map(|rows| rows.into_iter().map(|r| r.ts_ms))
        .min()
        .and_then(chrono::DateTime::from_timestamp_millis);
    match first {
        Some(t) => format!(
            "it holds the samples recorded since {} that are not yet sealed into chunks",
            t.format("%Y-%m-%d %H:%M UTC")
        ),
        None => "it holds the samples not yet sealed into chunks (its first record is the \
                 damaged one, so since when is not known)"
            .into(),
    }
}

/// The append-only log file.
pub(crate) struct WalFile {
    file: File,
    pub(crate) path: PathBuf,
    len: u64,
}

impl WalFile {
    /// Opens the log and returns it with its intact records; a bad tail is truncated.
    pub(crate) fn open(path: &Path) -> io::Result<(Self, super::kv::Records)> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let mut records = Vec::new();
        let mut pos = 0usize;
        while let Some(hdr) = data.get(pos..pos + 16) {
            let len = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as usize;
            let crc = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
            let Some(body) = data.get(pos + 16..pos + 16 + len) else {
                break;
            };
            if crc32(&[&hdr[8..16], body]) != crc {
                // Every write is synced before the next one starts, so only the last frame
                // can be torn. A bad frame with records after it is damage: cutting there
                // would throw those records away without a word.
                let after = data.len() - (pos + 16 + len);
                // A crash can also leave the file longer than what reached the disk, the
                // rest zeros (the size was written before the data): that is a torn tail too.
                let zeros = data[pos..].iter().all(|&b| b == 0);
                if after > 0 && !zeros {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "the record at byte {pos} is damaged and {after} bytes of later \
                             records follow it; {}",
                            holds_since(&records)
                        ),
                    ));
                }
                break;
            }
            let mut seq = [0u8; 8];
            seq.copy_from_slice(&hdr[8..16]);
            records.push((u64::from_le_bytes(seq), body.to_vec()));
            pos += 16 + len;
        }
        let len = pos as u64;
        if len != data.len() as u64 {
            file.set_len(len)?;
            file.sync_all()?;
        }
        Ok((
            Self {
                file,
                path: path.to_path_buf(),
                len,
            },
            records,
        ))
    }

    /// Appends a record (after dropping every earlier one if `reset`) and syncs it.
    pub(crate) fn write(&mut self, record: Option<(u64, &[u8])>, reset: bool) -> io::Result<()> {
        if reset && self.len > 0 {
            self.file.set_len(0)?;
            self.len = 0;
            if record.is_none() {
                self.file.sync_all()?;
            }
        }
        if let Some((seq, body)) = record {
            let seq = seq.to_le_bytes();
            let len =
                u32::try_from(body.len()).map_err(|_| io::Error::other("log record over 4 GiB"))?;
            let mut frame = Vec::with_capacity(16 + body.len());
            frame.extend_from_slice(&len.to_le_bytes());
            frame.extend_from_slice(&crc32(&[&seq, body]).to_le_bytes());
            frame.extend_from_slice(&seq);
            frame.extend_from_slice(body);
            self.file.seek(SeekFrom::Start(self.len))?;
            self.file.write_all(&frame)?;
            self.file.sync_data()?;
            self.len += frame.len() as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
    }

    #[test]
    fn torn_tail_is_cut_at_the_last_good_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.log");
        let (mut w, recs) = WalFile::open(&path).unwrap();
        assert!(recs.is_empty());
        w.write(Some((1, b"one")), false).unwrap();
        w.write(Some((2, b"two")), false).unwrap();
        drop(w);
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() - 1]).unwrap();
        let (mut w, recs) = WalFile::open(&path).unwrap();
        assert_eq!(recs, vec![(1, b"one".to_vec())]);
        w.write(Some((3, b"three")), false).unwrap();
        w.write(Some((4, b"four")), true).unwrap();
        drop(w);
        let (_, recs) = WalFile::open(&path).unwrap();
        assert_eq!(recs, vec![(4, b"four".to_vec())]);
    }

    #[test]
    fn a_damaged_record_with_records_after_it_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.log");
        let (mut w, _) = WalFile::open(&path).unwrap();
        for (seq, body) in [(1, &b"one"[..]), (2, b"two"), (3, b"three")] {
            w.write(Some((seq, body)), false).unwrap();
        }
        drop(w);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[16 + 3 + 16 + 1] ^= 0xff; // inside record 2's body
        std::fs::write(&path, &bytes).unwrap();
        let e = WalFile::open(&path).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(
            e.to_string().contains("byte 19 is damaged and 21 bytes"),
            "{e}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing was cut");
    }

    #[test]
    fn a_damaged_log_says_since_when_its_samples_were_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.log");
        let (mut w, _) = WalFile::open(&path).unwrap();
        let t0 = 1_765_000_000_000; // 2025-12-06 05:46:40 UTC
        for seq in 0..3 {
            let mut rows = vec![WalRow {
                id: 0,
                ts_ms: t0 + seq * 60_000,
                v: Stored::Q(1),
            }];
            let body = encode(&mut rows, 1_000);
            w.write(Some((u64::try_from(seq).unwrap(), &body)), false)
                .unwrap();
        }
        drop(w);
        let mut bytes = std::fs::read(&path).unwrap();
        let second = bytes.len() / 3 + 18;
        bytes[second] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let e = WalFile::open(&path).err().unwrap().to_string();
        assert!(
            e.contains("since 2025-12-06 05:46 UTC that are not yet sealed"),
            "{e}"
        );
    }

    #[test]
    fn a_zero_filled_tail_is_torn_not_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.log");
        let (mut w, _) = WalFile::open(&path).unwrap();
        w.write(Some((1, b"one")), false).unwrap();
        drop(w);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend([0u8; 64]);
        std::fs::write(&path, &bytes).unwrap();
        let (_, recs) = WalFile::open(&path).unwrap();
        assert_eq!(recs, vec![(1, b"one".to_vec())]);
    }

    proptest! {
        #[test]
        fn record_round_trips_and_keeps_per_series_order(
            rows in prop::collection::vec((0u32..50, -1_000_000i64..1_000_000, any::<i64>(), any::<bool>()), 0..400)
        ) {
            let mut rows: Vec<WalRow> = rows.into_iter().map(|(id, t, v, exact)| WalRow {
                id,
                ts_ms: t * 1000,
                v: if exact { Stored::Exact(v as u64) } else { Stored::Q(v) },
            }).collect();
            let original = rows.clone();
            let bytes = encode(&mut rows, 1000);
            let decoded = decode(&bytes).unwrap();
            for id in 0..50 {
                let a: Vec<_> = original.iter().filter(|r| r.id == id).collect();
                let b: Vec<_> = decoded.iter().filter(|r| r.id == id).collect();
                prop_assert_eq!(a, b);
            }
        }
    }
}
