//! The key-value surface over sled: one tree for the history, the write-ahead log file
//! beside it, sled's errors mapped to [`StoreError`] with the path, and the estimate of
//! what sled holds in memory that decides when to reopen it (`sled_reopen.rs`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::kv::{Kv, KvOp, Pairs, Records};
use super::sled_blobs::Swept;
use super::sled_reopen::{open_db, set_open_here};
use super::wal::WalFile;
use super::{StoreConfig, StoreError};

pub(crate) const PID_FILE: &str = "owner.pid";

/// A value read with `get` pulls in the whole sled leaf that holds it (up to 17 packs of
/// similar size), so it counts as this many times its size towards the reopen budget.
const LEAF_PER_VALUE: u64 = 16;

/// Flushes between two reopens at least (a minute at the default 5 s), so that reads
/// (charts, reports) cannot make the store reopen sled at every flush.
const MIN_FLUSHES_BETWEEN_REOPENS: u64 = 12;

pub(crate) struct SledKv {
    /// `None` only after a reopen failed; writes and `maintain` try to open it again.
    pub(crate) db: Option<sled::Db>,
    pub(crate) path: PathBuf,
    pub(crate) sled_config: sled::Config,
    wal: WalFile,
    recovered: Records,
    /// Estimated bytes of pages sled holds in memory since it was opened.
    loaded: AtomicU64,
    flushes_since_open: u64,
    pub(crate) reopen_after: u64,
    pub(crate) reopens: u64,
    /// Orphaned blob files deleted since the store opened.
    pub(crate) swept: Swept,
}

impl SledKv {
    pub(crate) fn open(path: &Path, cfg: &StoreConfig) -> Result<Self, StoreError> {
        let io_err = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        fs::create_dir_all(path).map_err(io_err)?;
        let sled_config = sled::Config::new()
            .path(path)
            .cache_capacity(cfg.cache_bytes)
            .flush_every_ms(None)
            .segment_size(cfg.segment_bytes)
            .mode(sled::Mode::LowSpace);
        let db = open_db(path, &sled_config)?;
        fs::write(path.join(PID_FILE), std::process::id().to_string()).map_err(io_err)?;
        let (wal, recovered) = WalFile::open(&path.join("wal.log")).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                StoreError::DamagedFile {
                    path: path.to_path_buf(),
                    file: "wal.log",
                    detail: e.to_string(),
                }
            } else {
                io_err(e)
            }
        })?;
        let mut kv = Self {
            db: Some(db),
            path: path.to_path_buf(),
            sled_config,
            wal,
            recovered,
            loaded: AtomicU64::new(0),
            flushes_since_open: 0,
            reopen_after: cfg.reopen_after_bytes,
            reopens: 0,
            swept: Swept::default(),
        };
        set_open_here(path, true);
        kv.after_open();
        Ok(kv)
    }

    pub(crate) fn err(&self, e: sled::Error) -> StoreError {
        map_sled_error(&self.path, e)
    }

    pub(crate) fn db(&self) -> Result<&sled::Db, StoreError> {
        self.db.as_ref().ok_or_else(|| StoreError::Io {
            path: self.path.clone(),
            source: io::Error::other("the storage engine could not be reopened"),
        })
    }

    /// The database, opening it again first if a reopen failed.
    fn db_mut(&mut self) -> Result<&sled::Db, StoreError> {
        if self.db.is_none() {
            self.reopen()?;
        }
        self.db()
    }

    /// After an I/O error (a full disk) sled keeps failing every write until it is reopened:
    /// it is closed here and opened again by the next flush ([`Kv::ready`]), which finds
    /// what sled had made durable before.
    fn close_after_io_error(&mut self, r: Result<(), StoreError>) -> Result<(), StoreError> {
        if matches!(r, Err(StoreError::Io { .. })) {
            let _ = self.close();
        }
        r
    }

    fn count_loaded(&self, bytes: u64) {
        self.loaded.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn reset_loaded(&mut self) {
        *self.loaded.get_mut() = 0;
        self.flushes_since_open = 0;
    }
}

/// sled wraps an OS error in one whose text is the first's debug dump (`Os { code: 28, kind:
/// StorageFull, … }`): the OS error again, which reads "No space left on device (os error 28)".
pub(crate) fn plain_io(e: io::Error) -> io::Error {
    if e.raw_os_error().is_some() {
        return e;
    }
    let text = e.to_string();
    text.split_once("Os { code: ")
        .and_then(|(_, rest)| rest.split(',').next())
        .and_then(|code| code.trim().parse().ok())
        .map_or(e, io::Error::from_raw_os_error)
}

pub(crate) fn map_sled_error(path: &Path, e: sled::Error) -> StoreError {
    let path = path.to_path_buf();
    match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            let pid = fs::read_to_string(path.join(PID_FILE))
                .ok()
                .and_then(|s| s.trim().parse().ok());
            StoreError::Locked { path, pid }
        }
        sled::Error::Io(source) => StoreError::Io {
            path,
            source: plain_io(source),
        },
        sled::Error::Unsupported(s) => StoreError::Incompatible { path, detail: s },
        // sled's own text is a debug dump ("at file offset Some(Inline(158841)) backtrace ()").
        sled::Error::Corruption { .. } => StoreError::Damaged {
            path,
            detail: "sled found corrupt data in its files".into(),
        },
        other => StoreError::Damaged {
            path,
            detail: other.to_string(),
        },
    }
}

impl Kv for SledKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let v = self.db()?.get(key).map_err(|e| self.err(e))?;
        if let Some(v) = &v {
            self.count_loaded(v.len() as u64 * LEAF_PER_VALUE);
        }
        Ok(v.map(|v| v.to_vec()))
    }

    fn range(&self, lo: &[u8], hi: &[u8]) -> Result<Pairs, StoreError> {
        if lo >= hi {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let mut bytes = 0;
        for r in self.db()?.range(lo..hi) {
            let (k, v) = r.map_err(|e| self.err(e))?;
            bytes += (k.len() + v.len()) as u64;
            out.push((k.to_vec(), v.to_vec()));
        }
        self.count_loaded(bytes);
        Ok(out)
    }

    fn count(&self, lo: &[u8], hi: &[u8]) -> Result<u64, StoreError> {
        if lo >= hi {
            return Ok(0);
        }
        // Counting keys still pulls every leaf, values included, into memory.
        let (mut n, mut bytes) = (0, 0);
        for r in self.db()?.range(lo..hi) {
            let (k, v) = r.map_err(|e| self.err(e))?;
            n += 1;
            bytes += (k.len() + v.len()) as u64;
        }
        self.count_loaded(bytes);
        Ok(n)
    }

    fn apply(&mut self, ops: Vec<KvOp>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut bytes = 0;
        for op in ops {
            match op {
                KvOp::Put(k, v) => {
                    bytes += (k.len() + v.len()) as u64;
                    batch.insert(k, v);
                }
                KvOp::Del(k) => batch.remove(k),
            }
        }
        self.count_loaded(bytes);
        let db = self.db_mut()?;
        let r = db.apply_batch(batch).map_err(|e| self.err(e));
        self.close_after_io_error(r)
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        let db = self.db_mut()?;
        let r = db.flush().map(|_| ()).map_err(|e| self.err(e));
        self.close_after_io_error(r)
    }

    fn ready(&mut self) -> Result<(), StoreError> {
        // A tmp cleaner or an rm -rf under a running console: sled and the log would go on
        // writing into files no directory holds, lost at exit without a word.
        if !self.path.join("conf").exists() {
            return Err(StoreError::Io {
                path: self.path.clone(),
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    "the database directory was removed while recording; nothing more is \
                     kept until the console restarts",
                ),
            });
        }
        self.db_mut().map(drop)
    }

    fn disk_bytes(&self) -> Result<u64, StoreError> {
        dir_usage(&self.path)
            .map(|(a, _)| a)
            .map_err(|source| StoreError::Io {
                path: self.path.clone(),
                source,
            })
    }

    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn wal_take(&mut self) -> Records {
        std::mem::take(&mut self.recovered)
    }

    fn wal_write(&mut self, record: Option<(u64, &[u8])>, reset: bool) -> Result<(), StoreError> {
        self.wal
            .write(record, reset)
            .map_err(|source| StoreError::Io {
                path: self.wal.path.clone(),
                source,
            })
    }

    /// Reopens sled once the pages it holds are estimated to reach the budget.
    fn maintain(&mut self) -> Result<(), StoreError> {
        self.flushes_since_open += 1;
        let due = self.reopen_after > 0
            && *self.loaded.get_mut() >= self.reopen_after
            && self.flushes_since_open >= MIN_FLUSHES_BETWEEN_REOPENS;
        if due || self.db.is_none() {
            self.reopen()?;
        }
        Ok(())
    }
}

impl Drop for SledKv {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// `(apparent, allocated)` bytes of the files under `dir`.
pub(crate) fn dir_usage(dir: &Path) -> io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            let (a, b) = dir_usage(&entry.path())?;
            total = (total.0 + a, total.1 + b);
        } else {
            total = (total.0 + meta.len(), total.1 + meta.blocks() * 512);
        }
    }
    Ok(total)
}
