//! The on-disk history: the engine over one sled tree in a directory of its own, plus the
//! write-ahead log file `wal.log` and `owner.pid` beside sled's files.
//!
//! sled is opened with a small page cache (default 8 MiB instead of its 1 GiB), no
//! background flusher (the writer flushes every `flush_interval`, the durability bound) and
//! 128 KiB log segments, so every chunk pack becomes a blob file that sled deletes as soon
//! as it is replaced (see [`StoreConfig::segment_bytes`]). sled's cache does not bound blob
//! pages, so the store reopens sled from time to time to keep memory flat (`sled_reopen.rs`,
//! [`StoreConfig::reopen_after_bytes`]). A second process gets sled's file-lock error,
//! reported as [`StoreError::Locked`] with the pid from `owner.pid`; a file sled cannot
//! recover (an error or a panic inside sled) is [`StoreError::Damaged`], and a database
//! created with other sled settings is [`StoreError::Incompatible`]. All name the path and
//! the way out (`--history PATH`, `--no-history`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use super::engine::Engine;
use super::sled_kv::{dir_usage, SledKv};
use super::{StoreConfig, StoreError};

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

/// See [`SledStore::upkeep`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SledUpkeep {
    /// Times sled was closed and reopened to drop the pages it holds in memory.
    pub reopens: u64,
    /// Blob files sled had left behind, deleted after an open.
    pub orphan_blobs_removed: u64,
    pub orphan_blob_bytes_removed: u64,
}

pub struct SledStore {
    pub(crate) engine: Engine<SledKv>,
    /// A private copy's directory ([`super::read_copy`]), removed on drop.
    pub(crate) remove_on_drop: Option<std::path::PathBuf>,
}

impl SledStore {
    /// Opens (or creates) the history database in directory `path`, waiting up to
    /// `patience` while another process holds it (a report taking its turn).
    ///
    /// # Errors
    /// [`StoreError::Locked`] if another process still has it open, [`StoreError::Damaged`]
    /// or [`StoreError::Incompatible`] if it cannot be read, [`StoreError::NotADatabase`] for
    /// a directory of other files, [`StoreError::Io`] otherwise.
    pub fn open_waiting(
        path: &Path,
        cfg: &StoreConfig,
        patience: std::time::Duration,
    ) -> Result<Self, StoreError> {
        let deadline = std::time::Instant::now() + patience;
        loop {
            match Self::open(path, cfg.clone()) {
                Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    /// Opens (or creates) the database at `path`.
    ///
    /// # Errors
    /// As [`open_waiting`](Self::open_waiting), without the wait.
    pub fn open(path: &Path, cfg: StoreConfig) -> Result<Self, StoreError> {
        refuse_foreign(path)?;
        let kv = SledKv::open(path, &cfg)?;
        let engine = catch_unwind(AssertUnwindSafe(|| Engine::open(kv, cfg))).map_err(|_| {
            StoreError::Damaged {
                path: path.to_path_buf(),
                detail: "the storage engine failed while reading".into(),
            }
        })??;
        Ok(Self {
            engine,
            remove_on_drop: None,
        })
    }

    /// What the store did to keep sled's memory and files in check since it opened.
    #[must_use]
    pub fn upkeep(&self) -> SledUpkeep {
        let kv = &self.engine.kv;
        SledUpkeep {
            reopens: kv.reopens,
            orphan_blobs_removed: kv.swept.files,
            orphan_blob_bytes_removed: kv.swept.bytes,
        }
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
        let sled = kv.db()?.size_on_disk().map_err(|e| kv.err(e))?;
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
        self.engine.kv.reopen_after = 0; // closing anyway
        let _ = self.engine.flush();
        if let Some(dir) = self.remove_on_drop.take() {
            // sled's files are still open; unlinked, they go when it closes.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

delegate_history_store!(SledStore);

#[cfg(test)]
#[path = "sled_store_tests.rs"]
mod tests;

/// sled's configuration file, which every database it made holds.
const MARKER: &str = "conf";

/// Whether `path` holds a history database: sled's `conf`, which begins `segment_size:`,
/// or, when it is damaged, beside sled's `blobs` directory. A directory that merely has a
/// file named `conf` is someone else's, and opening it would replace their `db`.
#[must_use]
pub fn holds_history(path: &Path) -> bool {
    use std::io::Read as _;
    let conf = path.join(MARKER);
    if !conf.is_file() {
        return false;
    }
    let mut head = [0u8; 13];
    let sled_conf = std::fs::File::open(&conf)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"segment_size:");
    sled_conf || path.join("blobs").is_dir()
}

/// A database is opened in a directory that is new, empty or already one: `--history /tmp`
/// must not scatter sled's files among others.
fn refuse_foreign(path: &Path) -> Result<(), StoreError> {
    let foreign = |what: &str| StoreError::NotADatabase {
        path: path.to_path_buf(),
        what: what.into(),
    };
    match std::fs::read_dir(path) {
        Ok(mut entries) => {
            if entries.next().is_some() && !holds_history(path) {
                // sled's own files without its conf: a database, damaged, not someone else's.
                if path.join("db").is_file() && path.join("wal.log").is_file() {
                    return Err(StoreError::Damaged {
                        path: path.to_path_buf(),
                        detail: "it has sled's db and wal.log but not its conf file".into(),
                    });
                }
                return Err(foreign("a directory holding other files"));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if path.exists() && !path.is_dir() => Err(foreign("a file")),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
