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

/// Where a copy of a database goes under `tmp`: a fresh directory named by this process.
#[must_use]
pub fn copy_dir_under(tmp: &Path) -> PathBuf {
    tmp.join(format!(
        "novacron-history-copy-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ))
}

/// A copy of the database at `path` in the new directory `dir` (see [`copy_dir_under`];
/// its parent must exist, and it is private to this user), opened; the copy is removed when
/// the store is dropped, or here on an error. Symbolic links are followed; the console's
/// socket is not copied.
///
/// # Errors
/// [`StoreError::CopyFailed`] naming the file that could not be read or the copy that
/// could not be written; the errors of [`SledStore::open`] for the copy, named by the
/// original path.
pub fn open_copy(path: &Path, cfg: StoreConfig, dir: &Path) -> Result<SledStore, StoreError> {
    if dir.starts_with(path) {
        return Err(StoreError::CopyFailed {
            path: path.to_path_buf(),
            copy: dir.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "the copy would be inside it"),
        });
    }
    let copied = copy_dir(path, dir)
        .map_err(|source| StoreError::CopyFailed {
            path: path.to_path_buf(),
            copy: dir.to_path_buf(),
            source,
        })
        .and_then(|()| SledStore::open(dir, cfg).map_err(|e| rename_path(e, dir, path)));
    match copied {
        Ok(mut store) => {
            store.remove_on_drop = Some(dir.to_path_buf());
            Ok(store)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(dir);
            Err(e)
        }
    }
}

/// Copies the files and directories under `from` (following links) to `to`, created private
/// to this user (0700, files 0600 whatever their modes were: sled opens them to write).
fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    let named = |p: &Path| {
        let p = p.to_path_buf();
        move |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", p.display()))
    };
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(to)
        .map_err(named(to))?;
    for entry in std::fs::read_dir(from).map_err(named(from))? {
        let src = entry.map_err(named(from))?.path();
        let dst = to.join(src.file_name().unwrap_or_default());
        // Followed: a database whose files are links reads as the files they name.
        let Ok(meta) = std::fs::metadata(&src) else {
            continue;
        };
        if meta.is_dir() {
            copy_dir(&src, &dst)?;
        } else if meta.is_file() {
            std::fs::copy(&src, &dst).map_err(named(&dst))?;
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o600))
                .map_err(named(&dst))?;
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
        let copy = open_copy(&db, StoreConfig::default(), &copy_dir_under(&tmp)).expect("copy");
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
