//! One interactive novacron per host: an advisory `flock` per connection URI under the state
//! dir, holding the owner's pid so the second instance can say who has it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// A held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct HostLock {
    _file: File,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another novacron (pid {pid}) is already managing {uri} (lock {path}); close it, or add --read-only to watch alongside it")]
    Held {
        uri: String,
        pid: String,
        path: String,
    },
    #[error("cannot create lock file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn file_name(uri: &str) -> String {
    let s: String = uri
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{s}.lock")
}

/// Takes the lock for `uri` in `dir`.
///
/// # Errors
/// [`LockError::Held`] naming the other instance's pid, or an I/O error naming the path.
pub fn lock_host(dir: &Path, uri: &str) -> Result<HostLock, LockError> {
    let path = dir.join("locks").join(file_name(uri));
    let io = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(path.parent().unwrap_or(dir)).map_err(io)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    // SAFETY: flock on a file descriptor we own.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        return Err(LockError::Held {
            uri: uri.to_string(),
            pid: pid.trim().to_string(),
            path: path.display().to_string(),
        });
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(HostLock { _file: file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_same_uri_names_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let _a = lock_host(dir.path(), "qemu:///system").unwrap();
        let e = lock_host(dir.path(), "qemu:///system")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&std::process::id().to_string())
                && e.contains("qemu:///system")
                && e.contains("--read-only"),
            "{e}"
        );
        let _c = lock_host(dir.path(), "test:///default").unwrap();
    }
}
