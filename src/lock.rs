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

/// The daemon a URI reaches, as one spelling: `qemu+unix:///system` and
/// `qemu:///system?no_verify=1` are the same daemon as `qemu:///system`, and
/// `qemu+ssh://root@KVM2/system` as `qemu+ssh://kvm2/system`. A `socket=` parameter picks
/// another daemon, so it stays.
#[must_use]
pub fn daemon_key(uri: &str) -> String {
    // A #fragment means nothing to libvirt; %73 is an "s" spelt out.
    let uri = decode_percent(uri.split('#').next().unwrap_or(uri));
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri;
    };
    let (place, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = place.split_once('/').unwrap_or((place, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_ascii_lowercase();
    let scheme = match scheme.split_once('+') {
        Some((driver, "unix")) if host.is_empty() => driver,
        _ => scheme,
    };
    let socket: Vec<&str> = query
        .split('&')
        .filter(|p| p.starts_with("socket="))
        .collect();
    let path = path.trim_end_matches('/');
    if socket.is_empty() {
        format!("{scheme}://{host}/{path}")
    } else {
        format!("{scheme}://{host}/{path}?{}", socket.join("&"))
    }
}

/// `text` with each `%XX` replaced by the byte it stands for (left as it is when that does
/// not make UTF-8).
fn decode_percent(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

fn file_name(uri: &str) -> String {
    let s: String = daemon_key(uri)
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

    #[test]
    fn another_spelling_of_the_same_daemon_is_the_same_lock() {
        let dir = tempfile::tempdir().unwrap();
        let _a = lock_host(dir.path(), "qemu:///system").unwrap();
        for same in [
            "qemu+unix:///system",
            "qemu:///system?foo=bar",
            "qemu:///system/",
            "qemu:///system#frag",
            "qemu:///%73ystem",
        ] {
            assert!(lock_host(dir.path(), same).is_err(), "{same} got a lock");
        }
        let _b = lock_host(dir.path(), "qemu:///session").unwrap();
        let _c = lock_host(dir.path(), "qemu:///system?socket=/run/other.sock").unwrap();
        let _d = lock_host(dir.path(), "qemu+ssh://root@KVM2/system").unwrap();
        assert!(lock_host(dir.path(), "qemu+ssh://kvm2/system?no_tty=1").is_err());
    }
}
