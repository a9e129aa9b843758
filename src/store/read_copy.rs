//! Reading a history database this process cannot write (a read-only mount, a backup, another
//! user's files): sled opens only what it can write, so reports read a private copy.

use std::io;
use std::path::{Path, PathBuf};

use super::sled_store::SledStore;
use super::{StoreConfig, StoreError};

/// Why the database could not be opened, when it is because it cannot be written here.
#[must_use]
pub fn not_writable(e: &StoreError) -> Option<&io::Error> {
    match e {
        StoreError::Io { source, .. }
            if matches!(
                source.kind(),
                io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            Some(source)
        }
        _ => None,
    }
}

/// A copy of the database at `path` in a fresh directory under `tmp`, opened; the copy is
/// removed when the store is dropped. The console's socket and sled's lock are not copied.
///
/// # Errors
/// [`StoreError::Io`] naming the file that could not be read or the copy that could not be
/// written; the errors of [`SledStore::open`] for the copy, named by the original path.
pub fn open_copy(path: &Path, cfg: StoreConfig, tmp: &Path) -> Result<SledStore, StoreError> {
    let dir = tmp.join(format!(
        "novacron-history-copy-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let copied = copy_dir(path, &dir)
        .and_then(|()| SledStore::open(&dir, cfg).map_err(|e| rename_path(e, &dir, path)));
    match copied {
        Ok(mut store) => {
            store.remove_on_drop = Some(dir);
            Ok(store)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(e)
        }
    }
}

/// Copies the regular files and directories under `from` to `to` (created).
fn copy_dir(from: &Path, to: &Path) -> Result<(), StoreError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, source }
    };
    std::fs::create_dir_all(to).map_err(io_err(to))?;
    for entry in std::fs::read_dir(from).map_err(io_err(from))? {
        let entry = entry.map_err(io_err(from))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(io_err(&src))?;
        if kind.is_dir() {
            copy_dir(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(io_err(&src))?;
        }
    }
    Ok(())
}

/// An error about the copy, told about the database it is a copy of.
fn rename_path(e: StoreError, copy: &Path, original: &Path) -> StoreError {
    let fix = |p: PathBuf| {
        p.strip_prefix(copy)
            .map_or_else(|_| original.to_path_buf(), |rest| original.join(rest))
    };
    match e {
        StoreError::Damaged { path, detail } => StoreError::Damaged {
            path: fix(path),
            detail,
        },
        StoreError::DamagedFile { path, file, detail } => StoreError::DamagedFile {
            path: fix(path),
            file,
            detail,
        },
        StoreError::Incompatible { path, detail } => StoreError::Incompatible {
            path: fix(path),
            detail,
        },
        StoreError::NotADatabase { path, what } => StoreError::NotADatabase {
            path: fix(path),
            what,
        },
        StoreError::Io { path, source } => StoreError::Io {
            path: fix(path),
            source,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{HistoryStore, Sample, SeriesKey};

    #[test]
    fn a_copy_reads_the_samples_and_goes_away_when_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, tmp) = (dir.path().join("db"), dir.path().join("tmp"));
        std::fs::create_dir(&tmp).expect("tmp");
        let key = SeriesKey::new("vm/test:///default/u", "cpu_pct");
        {
            let mut s = SledStore::open(&db, StoreConfig::default()).expect("open");
            let batch: Vec<_> = (0..50)
                .map(|i| {
                    (
                        key.clone(),
                        Sample {
                            ts_ms: 1_700_000_000_000 + i * 5_000,
                            value: 1.0,
                        },
                    )
                })
                .collect();
            s.append(&batch).expect("append");
            s.flush().expect("flush");
        }
        let copy = open_copy(&db, StoreConfig::default(), &tmp).expect("copy");
        let got = copy.raw_range(&key, 0, i64::MAX).expect("read the copy");
        assert_eq!(got.len(), 50);
        assert_eq!(std::fs::read_dir(&tmp).expect("list").count(), 1);
        drop(copy);
        assert_eq!(
            std::fs::read_dir(&tmp).expect("list").count(),
            0,
            "the copy is removed"
        );
    }

    #[test]
    fn only_a_write_refusal_counts_as_not_writable() {
        let io = |kind| StoreError::Io {
            path: "/h".into(),
            source: io::Error::from(kind),
        };
        assert!(not_writable(&io(io::ErrorKind::ReadOnlyFilesystem)).is_some());
        assert!(not_writable(&io(io::ErrorKind::PermissionDenied)).is_some());
        assert!(not_writable(&io(io::ErrorKind::StorageFull)).is_none());
        assert!(not_writable(&StoreError::WriterStopped).is_none());
    }
}
