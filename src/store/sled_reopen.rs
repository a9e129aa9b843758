//! Opening sled, and giving its memory back by closing and reopening it.
//!
//! Why reopen: every chunk pack lives in a sled leaf stored as a blob file (see
//! [`StoreConfig::segment_bytes`](super::StoreConfig::segment_bytes)). sled 0.34's page
//! cache charges a blob page by the size of its pointer in the log (about 30 bytes:
//! `log_size` in `pagecache/mod.rs`) and weighs evictions only once one of its 256 shards
//! has queued 64 accesses (`lru.rs`), so every page it reads or writes stays in memory
//! until the database is closed: the process grew by what it wrote (1.6 MB/h at 2000
//! series, 22 → 111 MB in three days). The public API has no other way to drop a page, so
//! at the end of a flush, once the pages sled took in since it opened reach
//! [`StoreConfig::reopen_after_bytes`](super::StoreConfig::reopen_after_bytes) (estimated
//! in `sled_kv.rs`), the store closes sled and opens it again (a few ms; nothing else waits
//! but readers of the store, which the writer holds meanwhile).
//!
//! What a correct reopen needs:
//! - No handle left: the `Db` is owned by `SledKv` only (no `Tree` clones, no background
//!   flusher thread: `flush_every_ms(None)`); dropping it flushes and fsyncs the log.
//! - The lock: sled writes its log from a thread pool, and a job can keep the file (and its
//!   `flock`) for a moment after `Db::flush` returned and the `Db` is gone, so an open that
//!   finds the lock held by this process, while no open store of this process has the
//!   path, waits for it. Opening at once is what failed before ("could not acquire lock").
//! - Blob files: sled forgets the deletions still pending at close, and never deletes some
//!   others, so every open sweeps the blob files no page points to (`sled_blobs.rs`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::sled_blobs::sweep;
use super::sled_kv::{map_sled_error, SledKv};
use super::StoreError;

/// How long an open waits for a lock that only this process's closed sled still holds.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Databases this process has open (canonical paths), to tell a lock held by a live store
/// of ours from one held by a closed sled whose last write job is still running.
static OPEN_PATHS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn open_paths() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    OPEN_PATHS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn set_open_here(path: &Path, open: bool) {
    let path = canonical(path);
    let mut paths = open_paths();
    if open {
        paths.push(path);
    } else if let Some(i) = paths.iter().position(|p| *p == path) {
        paths.swap_remove(i);
    }
}

/// Opens sled, mapping its errors (and panics, which it uses for some corruption) to ours.
pub(crate) fn open_db(path: &Path, config: &sled::Config) -> Result<sled::Db, StoreError> {
    let deadline = Instant::now() + LOCK_WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        let result = match catch_unwind(AssertUnwindSafe(|| config.open())) {
            Ok(r) => r.map_err(|e| map_sled_error(path, e)),
            Err(_) => Err(StoreError::Damaged {
                path: path.to_path_buf(),
                detail: "the storage engine failed while recovering its log".into(),
            }),
        };
        match result {
            Err(StoreError::Locked { pid: Some(pid), .. })
                if pid == std::process::id()
                    && Instant::now() < deadline
                    && !open_paths().contains(&canonical(path)) =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

impl SledKv {
    /// Closes sled and opens it again, which empties its cache.
    pub(crate) fn reopen(&mut self) -> Result<(), StoreError> {
        self.close()?;
        self.db = Some(open_db(&self.path, &self.sled_config)?);
        set_open_here(&self.path, true);
        self.reopens += 1;
        self.after_open();
        super::heap::release_free_memory();
        Ok(())
    }

    /// Flushes and drops the database.
    pub(crate) fn close(&mut self) -> Result<(), StoreError> {
        let Some(db) = self.db.take() else {
            return Ok(());
        };
        self.reset_loaded();
        let flushed = db.flush();
        // Dropping flushes and fsyncs the log again; sled panics if that fails.
        let dropped = catch_unwind(AssertUnwindSafe(move || drop(db)));
        set_open_here(&self.path, false);
        flushed.map_err(|e| self.err(e))?;
        dropped.map_err(|_| StoreError::Damaged {
            path: self.path.clone(),
            detail: "the storage engine failed while closing".into(),
        })?;
        Ok(())
    }

    /// Deletes the blob files sled left behind. Never fails the open: files a sweep cannot
    /// remove stay for the next one.
    pub(crate) fn after_open(&mut self) {
        match sweep(&self.path) {
            Ok(s) => {
                self.swept.files += s.files;
                self.swept.bytes += s.bytes;
                if s.skipped {
                    tracing::warn!(
                        "{}: sled's snapshot was not as expected; orphaned blob files kept",
                        self.path.display()
                    );
                }
            }
            Err(e) => tracing::warn!(
                "{}: sweeping orphaned sled blob files: {e}",
                self.path.display()
            ),
        }
    }
}
