//! A history database this process cannot write (here: a read-only bind mount of a real sled
//! database) is read through a private copy: the reports print what they print from the
//! writable original, say so on stderr, and leave no copy behind.

mod common;

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;

use common::{row_start_with_slack, seed_analysis_history, SEEDED_VM};

/// Unmounts the read-only view when the test ends, passed or not.
struct Mount<'a>(&'a Path);

impl Drop for Mount<'_> {
    fn drop(&mut self) {
        let _ = Process::new("umount").arg(self.0).status();
    }
}

fn report(dir: &Path, uri: &str, history: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("novacron")
        .unwrap()
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("TMPDIR", dir.join("tmp"))
        .args(["-c", uri, "--history"])
        .arg(history)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_read_only_history_is_read_through_a_copy() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: a read-only bind mount needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tmp")).unwrap();
    let (history, ro) = (dir.path().join("history"), dir.path().join("ro"));
    let uri = seed_analysis_history(dir.path(), &history, row_start_with_slack());
    let args = ["metrics", SEEDED_VM, "--metric", "cpu", "--since", "1d"];
    let writable = report(dir.path(), &uri, &history, &args);
    assert!(writable.status.success(), "{writable:?}");

    std::fs::create_dir(&ro).unwrap();
    let bind = Process::new("mount")
        .arg("--bind")
        .arg(&history)
        .arg(&ro)
        .status();
    assert!(bind.is_ok_and(|s| s.success()), "bind mount failed");
    let _mounted = Mount(&ro);
    let remount = Process::new("mount")
        .args(["-o", "remount,ro,bind"])
        .arg(&ro)
        .status();
    assert!(
        remount.is_ok_and(|s| s.success()),
        "remount read-only failed"
    );
    assert!(
        std::fs::write(ro.join("probe"), b"x").is_err(),
        "the view is writable"
    );

    let read = report(dir.path(), &uri, &ro, &args);
    let stderr = String::from_utf8_lossy(&read.stderr);
    assert!(read.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&read.stdout),
        String::from_utf8_lossy(&writable.stdout),
        "the copy reads as the original"
    );
    assert!(
        stderr.contains("cannot be written here (Read-only file system")
            && stderr.contains("reading a copy of it as it is now"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path().join("tmp")).unwrap().collect();
    assert!(left.is_empty(), "the copy is left behind: {left:?}");

    // A $TMPDIR that is not there is named, and not made.
    let missing = dir.path().join("no/such");
    let failed = Command::cargo_bin("novacron")
        .unwrap()
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("TMPDIR", &missing)
        .arg("--history")
        .arg(&ro)
        .args(["history", "stats"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "and copying it to {}/novacron-history-copy-",
            missing.display()
        )) && stderr.contains("set TMPDIR to a directory with room"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("no").exists(),
        "$TMPDIR's parents are not made"
    );
}

/// Another user's write-protected backup (files 0444, directories 0555), read by a user who
/// is not root: the private copy is made writable for sled, and the report names the
/// database asked about, not the copy.
#[test]
fn another_users_write_protected_backup_is_read_by_a_plain_user() {
    use std::os::unix::fs::PermissionsExt as _;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: switching to user nobody needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (history, tmp) = (dir.path().join("history"), dir.path().join("tmp"));
    seed_analysis_history(dir.path(), &history, row_start_with_slack());
    std::fs::create_dir(&tmp).unwrap();
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    mode(dir.path(), 0o755).unwrap();
    mode(&tmp, 0o1777).unwrap();
    let status = Process::new("chmod")
        .args(["-R", "a-w,a+rX"])
        .arg(&history)
        .status()
        .unwrap();
    assert!(status.success());
    let out = Process::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "env",
            "HOME=/",
        ])
        .arg(format!("TMPDIR={}", tmp.display()))
        .arg(env!("CARGO_BIN_EXE_novacron"))
        .arg("--history")
        .arg(&history)
        .args(["history", "stats"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("(Permission denied"), "{stderr}");
    assert!(
        stdout.contains(&format!("history      {}\n", history.display()))
            && stdout.contains("samples      2304"),
        "{stdout}"
    );
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "the copy is left behind: {left:?}");
    // The test's own files go with the tempdir: give them back their write bits.
    let _ = Process::new("chmod")
        .args(["-R", "u+w"])
        .arg(&history)
        .status();
}
