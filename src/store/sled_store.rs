//! The on-disk history: the engine over one sled tree in a directory of its own, plus the
//! write-ahead log file `wal.log` and `owner.pid` beside sled's files.
//!
//! sled is opened with a small page cache (default 8 MiB instead of its 1 GiB), no
//! background flusher (the writer flushes every `flush_interval`, the durability bound) and
//! 128 KiB log segments, so every chunk pack becomes a blob file that sled deletes as soon
//! as it is replaced (see [`StoreConfig::segment_bytes`]). A second process gets sled's
//! file-lock error, reported as [`StoreError::Locked`] with the pid from `owner.pid`; a file
//! sled cannot recover (an error or a panic inside sled) is [`StoreError::Damaged`], and a
//! database created with other sled settings is [`StoreError::Incompatible`]. All name the
//! path and the way out (`--history PATH`, `--no-history`).

use std::fs;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use super::engine::Engine;
use super::kv::{Kv, KvOp, Pairs, Records};
use super::wal::WalFile;
use super::{StoreConfig, StoreError};

const PID_FILE: &str = "owner.pid";

pub(crate) struct SledKv {
    db: sled::Db,
    path: PathBuf,
    wal: WalFile,
    recovered: Records,
}

/// Bytes used by the database directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskUsage {
    /// Sum of file lengths.
    pub apparent: u64,
    /// Blocks allocated by the file system.
    pub allocated: u64,
    /// sled's own figure (`Db::size_on_disk`).
    pub sled: u64,
}

impl SledKv {
    fn err(&self, e: sled::Error) -> StoreError {
        map_sled_error(&self.path, e)
    }
}

fn open_db(path: &Path, config: &sled::Config) -> Result<sled::Db, StoreError> {
    match catch_unwind(AssertUnwindSafe(|| config.open())) {
        Ok(r) => r.map_err(|e| map_sled_error(path, e)),
        Err(_) => Err(StoreError::Damaged {
            path: path.to_path_buf(),
            detail: "the storage engine failed while recovering its log".into(),
        }),
    }
}

fn map_sled_error(path: &Path, e: sled::Error) -> StoreError {
    let path = path.to_path_buf();
    match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            let pid = fs::read_to_string(path.join(PID_FILE))
                .ok()
                .and_then(|s| s.trim().parse().ok());
            StoreError::Locked { path, pid }
        }
        sled::Error::Io(source) => StoreError::Io { path, source },
        sled::Error::Unsupported(s) => StoreError::Incompatible { path, detail: s },
        other => StoreError::Damaged {
            path,
            detail: other.to_string(),
        },
    }
}

impl Kv for SledKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.err(e))
    }

    fn range(&self, lo: &[u8], hi: &[u8]) -> Result<Pairs, StoreError> {
        if lo >= hi {
            return Ok(Vec::new());
        }
        self.db
            .range(lo..hi)
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| self.err(e))
            })
            .collect()
    }

    fn count(&self, lo: &[u8], hi: &[u8]) -> Result<u64, StoreError> {
        if lo >= hi {
            return Ok(0);
        }
        let mut n = 0;
        for r in self.db.range(lo..hi).keys() {
            r.map_err(|e| self.err(e))?;
            n += 1;
        }
        Ok(n)
    }

    fn apply(&mut self, ops: Vec<KvOp>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for op in ops {
            match op {
                KvOp::Put(k, v) => batch.insert(k, v),
                KvOp::Del(k) => batch.remove(k),
            }
        }
        self.db.apply_batch(batch).map_err(|e| self.err(e))
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(|e| self.err(e))
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
}

fn dir_usage(dir: &Path) -> io::Result<(u64, u64)> {
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

pub struct SledStore {
    pub(crate) engine: Engine<SledKv>,
}

impl SledStore {
    /// Opens (or creates) the history database in directory `path`.
    ///
    /// # Errors
    /// [`StoreError::Locked`] if another process has it open, [`StoreError::Damaged`] or
    /// [`StoreError::Incompatible`] if it cannot be read, [`StoreError::Io`] otherwise.
    pub fn open(path: &Path, cfg: StoreConfig) -> Result<Self, StoreError> {
        let io_err = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        fs::create_dir_all(path).map_err(io_err)?;
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(cfg.cache_bytes)
            .flush_every_ms(
                cfg.sled_gc_every
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            )
            .segment_size(cfg.segment_bytes)
            .mode(sled::Mode::LowSpace);
        let db = open_db(path, &config)?;
        fs::write(path.join(PID_FILE), std::process::id().to_string()).map_err(io_err)?;
        let (wal, recovered) = WalFile::open(&path.join("wal.log")).map_err(io_err)?;
        let kv = SledKv {
            db,
            path: path.to_path_buf(),
            wal,
            recovered,
        };
        let engine = catch_unwind(AssertUnwindSafe(|| Engine::open(kv, cfg))).map_err(|_| {
            StoreError::Damaged {
                path: path.to_path_buf(),
                detail: "the storage engine failed while reading".into(),
            }
        })??;
        Ok(Self { engine })
    }

    /// Directory size: apparent, allocated, and sled's own figure.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the directory cannot be listed.
    pub fn disk_usage(&self) -> Result<DiskUsage, StoreError> {
        let kv = &self.engine.kv;
        let (apparent, allocated) = dir_usage(&kv.path).map_err(|source| StoreError::Io {
            path: kv.path.clone(),
            source,
        })?;
        let sled = kv.db.size_on_disk().map_err(|e| kv.err(e))?;
        Ok(DiskUsage {
            apparent,
            allocated,
            sled,
        })
    }
}

impl Drop for SledStore {
    /// Best effort: a clean shutdown keeps the samples of the last interval too.
    fn drop(&mut self) {
        let _ = self.engine.flush();
    }
}

delegate_history_store!(SledStore);

#[cfg(test)]
#[path = "sled_store_tests.rs"]
mod tests;
