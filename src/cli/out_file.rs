//! The `--out` file of `backtest` and `detect`: written beside its final name and renamed
//! into place when complete, so a failed or interrupted run leaves no half-written file
//! behind, and never one of the command's own inputs. `-` is standard output.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use super::Failure;

/// Whether `--out` names standard output, where the rows go instead of the table: `-`, or a
/// path to the very file standard output is (`/dev/stdout`, or the file it is redirected
/// to). Opening that path again would write from its start, over what stdout writes.
#[must_use]
pub fn is_stdout(out: Option<&Path>) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(path) = out else { return false };
    if path == Path::new("-") {
        return true;
    }
    match (std::fs::metadata(path), std::fs::metadata("/dev/stdout")) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

pub struct OutFile {
    path: PathBuf,
    /// Where the rows go until [`OutFile::finish`]; `None` writes straight to `path` (a pipe,
    /// a device, standard output: nothing to rename).
    tmp: Option<PathBuf>,
    w: BufWriter<Box<dyn Write>>,
    stdout: bool,
}

impl OutFile {
    /// Opens `path` for writing, refusing it when it is one of `inputs`.
    ///
    /// # Errors
    /// Exit 2: `path` is an input, or cannot be created.
    pub fn create(path: &Path, inputs: &[PathBuf]) -> Result<Self, Failure> {
        if is_stdout(Some(path)) {
            return Ok(Self {
                path: PathBuf::from("standard output"),
                tmp: None,
                w: BufWriter::new(Box::new(std::io::stdout())),
                stdout: true,
            });
        }
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if let Some(i) = inputs.iter().find(|i| same(i, path)) {
            return Err(Failure::usage(format!(
                "--out {} is also an input ({}); choose another file",
                path.display(),
                i.display()
            )));
        }
        // A symlink stands for its target: the file written whole and renamed into place is
        // the target, beside it. A device or pipe is written straight, and so is whatever a
        // /dev/fd or /proc path stands for (/dev/stdout): its link names an open file, not a
        // place to rename into.
        let real = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => resolve(path),
            _ => path.to_path_buf(),
        };
        let special = [Path::new("/dev"), Path::new("/proc")]
            .iter()
            .any(|d| path.starts_with(d) || real.starts_with(d));
        let plain = !special && std::fs::metadata(path).map_or(true, |m| m.is_file());
        let cannot = |e: std::io::Error| {
            Failure::usage(format!("cannot create --out {}: {e}", path.display()))
        };
        let (f, tmp) = if plain {
            let mut name = real.file_name().unwrap_or_default().to_os_string();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            name.push(format!(".tmp-{}-{nanos}", std::process::id()));
            let tmp = real.with_file_name(name);
            watch_signals();
            // Listed before it exists, and the list held while it is made: a signal that
            // comes meanwhile finds it listed once the handler can read the list.
            let mut list = unfinished();
            list.push(tmp.clone());
            // create_new: never through a link someone planted at the temporary name.
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(|e| {
                    list.retain(|t| *t != tmp);
                    cannot(e)
                })?;
            drop(list);
            (f, Some(tmp))
        } else {
            (File::create(path).map_err(cannot)?, None)
        };
        Ok(Self {
            path: if plain { real } else { path.to_path_buf() },
            tmp,
            w: BufWriter::new(Box::new(f)),
            stdout: false,
        })
    }

    /// Writes one line.
    ///
    /// # Errors
    /// Exit 1 with the path when the write fails (a full disk).
    pub fn line(&mut self, args: std::fmt::Arguments) -> Result<(), Failure> {
        self.w
            .write_fmt(args)
            .and_then(|()| self.w.write_all(b"\n"))
            .map_err(|e| self.failed(&e))
    }

    fn failed(&self, e: &std::io::Error) -> Failure {
        if self.stdout && e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure::quiet();
        }
        Failure::op(format!("writing {}: {e}", self.path.display()))
    }

    /// Flushes and moves the file into place.
    ///
    /// # Errors
    /// Exit 1 when the last write or the rename fails.
    pub fn finish(mut self) -> Result<(), Failure> {
        self.w.flush().map_err(|e| self.failed(&e))?;
        if let Some(tmp) = self.tmp.take() {
            // Renamed with the list held, so a signal meanwhile finds either the temporary
            // file listed or the result in place, never a temporary file nobody removes.
            let mut list = unfinished();
            list.retain(|t| *t != tmp);
            std::fs::rename(&tmp, &self.path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                self.failed(&e)
            })?;
            drop(list);
        }
        Ok(())
    }
}

/// Temporary files being written; removed by [`watch_signals`]'s thread on a signal.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn unfinished() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    UNFINISHED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// On SIGINT, SIGTERM or SIGHUP (ctrl-c, `kill`, a closed ssh session) the temporary files
/// are removed before the process ends as the signal would have ended it (exit 128 + the
/// signal). Drop does not run on a signal, so without this each interrupted run left one.
fn watch_signals() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("out-signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    for tmp in unfinished().drain(..) {
                        if tmp.is_dir() {
                            let _ = std::fs::remove_dir_all(tmp);
                        } else {
                            let _ = std::fs::remove_file(tmp);
                        }
                    }
                    std::process::exit(128 + sig);
                }
            });
    });
}

/// Removes `path` (a file, or a directory and all in it) if a signal ends the process, as an
/// unfinished `--out` file is: for a report's private copy of a history database.
pub(super) fn remove_on_signal(path: &Path) {
    watch_signals();
    unfinished().push(path.to_path_buf());
}

/// Where a symlink points, followed to the end (the target need not exist yet).
fn resolve(link: &Path) -> PathBuf {
    let mut p = link.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(t) => p = p.parent().map_or_else(|| t.clone(), |d| d.join(&t)),
            Err(_) => break,
        }
    }
    p
}

impl Drop for OutFile {
    fn drop(&mut self) {
        // Not finished: an error ended the run; its partial rows are not a result.
        if let Some(tmp) = &self.tmp {
            unfinished().retain(|t| t != tmp);
            let _ = std::fs::remove_file(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_appears_only_when_finished_and_never_over_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("f.csv");
        let mut f = OutFile::create(&out, &[]).unwrap();
        f.line(format_args!("a,{}", 1)).unwrap();
        assert!(!out.exists(), "no half-written file under the final name");
        f.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "a,1\n");

        let mut g = OutFile::create(&out, &[]).unwrap();
        g.line(format_args!("partial")).unwrap();
        drop(g);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "a,1\n",
            "a run that failed leaves the old file as it was"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp left"
        );

        let e = OutFile::create(&out, &[dir.path().join(".").join("f.csv")])
            .err()
            .unwrap();
        assert!(e.message.contains("is also an input"), "{}", e.message);
    }

    #[test]
    fn a_symlink_is_written_through_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.csv");
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut f = OutFile::create(&link, &[]).unwrap();
        f.line(format_args!("x")).unwrap();
        f.finish().unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "x\n");

        // A failed run through the link leaves the target as it was, and no temp.
        let mut g = OutFile::create(&link, &[]).unwrap();
        g.line(format_args!("partial")).unwrap();
        drop(g);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "x\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
