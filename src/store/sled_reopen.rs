//! Giving sled's memory back: closing and reopening the database, and closing it so that it
//! deletes every blob file it no longer needs.
//!
//! Why: every chunk pack lives in a sled leaf stored as a blob file (see
//! [`StoreConfig::segment_bytes`](super::StoreConfig::segment_bytes)). sled 0.34's page cache
//! charges a blob page by the size of its pointer in the log (about 30 bytes, `log_size`
//! in `pagecache/mod.rs`) and only weighs evictions once a shard has queued 64 accesses
//! (256 shards, `lru.rs`), so pages it reads or writes stay in memory until the database
//! is closed: the process grew by the size of the data written (1.6 MB/h at 2000 series).
//! The store therefore reopens sled at a flush once the packs it wrote or read since the
//! open reach [`StoreConfig::reopen_after_bytes`](super::StoreConfig::reopen_after_bytes).
//!
//! Two things make a naive close/reopen wrong:
//! - The lock: sled writes its log from a thread pool, and a write job keeps the file (and
//!   its `flock`) for a moment after `Db::flush` returns and the `Db` is dropped. The open
//!   waits for a lock held by this process's own closed instance (`sled_kv::open_db`).
//! - Blob files: sled deletes the blob of a replaced page only when the log segment that
//!   recorded the replacement is retired (`deferred_rm_blob` in `pagecache/segment.rs`),
//!   which needs the log to move on about two segments. Deletions still deferred at close
//!   are forgotten, and recovery only removes blobs newer than the log, so each close
//!   orphaned the blobs of the packs last rewritten (≈ 330 KB at 2000 series). Before it
//!   closes, the store makes sled defer the deletion of a canary blob of its own and then
//!   writes small filler values (to a separate tree, never blobs) until the canary is
//!   gone: segments retire in order, so every deletion deferred before it has happened.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use super::sled_kv::{open_db, set_open_here, SledKv};
use super::StoreError;

/// sled tree that holds the canary and the filler (empty between closes).
const PAD_TREE: &[u8] = b"novacron/pad";
const CANARY: &[u8] = b"canary";
const FILL: &[u8] = b"fill";
/// Filler writes before giving up on the canary (about 12 segments).
const MAX_FILL: usize = 64;

impl SledKv {
    /// Closes sled (without orphaning blobs) and opens it again, dropping its cache.
    pub(crate) fn reopen(&mut self) -> Result<(), StoreError> {
        self.close()?;
        let db = open_db(&self.path, &self.sled_config)?;
        self.db = Some(db);
        self.reopens += 1;
        Ok(())
    }

    /// Settles sled's deferred blob deletions, then drops the database.
    pub(crate) fn close(&mut self) -> Result<(), StoreError> {
        let Some(db) = self.db.take() else {
            return Ok(());
        };
        let settled = if self.wrote {
            settle(&db, &self.path, self.segment_bytes)
        } else {
            Ok(true)
        };
        self.reset_loaded();
        // Dropping flushes and fsyncs the log; sled panics if that fails.
        let dropped = catch_unwind(AssertUnwindSafe(move || drop(db)));
        set_open_here(&self.path, false);
        if dropped.is_err() {
            return Err(StoreError::Damaged {
                path: self.path.clone(),
                detail: "the storage engine failed while closing".into(),
            });
        }
        if !settled.map_err(|e| self.err(e))? {
            tracing::warn!(
                path = %self.path.display(),
                "sled did not confirm its pending blob deletions before closing; some blob files may stay behind"
            );
        }
        Ok(())
    }
}

/// Makes sled carry out every blob deletion it has deferred; `Ok(false)` if the canary
/// did not go within [`MAX_FILL`] writes.
fn settle(db: &sled::Db, path: &Path, segment: usize) -> Result<bool, sled::Error> {
    let pad = db.open_tree(PAD_TREE)?;
    let blob_dir = path.join("blobs");
    db.flush()?;
    let before = blob_names(&blob_dir)?;
    // A value over a quarter segment is written as a blob file of its own.
    pad.insert(CANARY, vec![0u8; segment / 4 + 256])?;
    db.flush()?;
    let canary: Vec<String> = blob_names(&blob_dir)?
        .difference(&before)
        .cloned()
        .collect();
    pad.remove(CANARY)?;
    // sled rewrites a page after ten updates; the rewrite defers the canary's deletion to
    // the segment being written now, which is after every earlier deferral.
    for i in 0u8..12 {
        pad.insert([i], &b""[..])?;
        pad.remove([i])?;
    }
    // (sled skips a write that does not change the value.)
    let mut filler = vec![0u8; segment / 8];
    let mut gone = false;
    for i in 0..MAX_FILL {
        filler[0] = u8::try_from(i % 251).unwrap_or(0) + 1;
        pad.insert(FILL, filler.as_slice())?;
        db.flush()?;
        if canary.iter().all(|f| !blob_dir.join(f).exists()) {
            gone = true;
            break;
        }
    }
    pad.remove(FILL)?;
    db.flush()?;
    eprintln!(
        "DEBUG settle: canary {canary:?} gone {gone} blobs now {}",
        blob_names(&blob_dir)?.len()
    );
    Ok(gone && !canary.is_empty())
}

fn blob_names(dir: &Path) -> io::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for e in fs::read_dir(dir)? {
        names.insert(e?.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}
