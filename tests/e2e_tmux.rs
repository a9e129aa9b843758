//! End to end in a real terminal (tmux): launch the console on the lab, see the lab VMs,
//! suspend and resume one with keys, quit, and check the terminal is restored; signals and
//! ctrl-z restore it too.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::lab;
use common::tmux::{new_session, row_of, Tmux};

#[test]
fn suspend_and_resume_with_keys_then_quit_restores_the_terminal() {
    if !lab::available() {
        return;
    }
    // Start from a running nclab-idle whatever an earlier run left behind.
    let _ = lab::virsh(&["resume", "nclab-idle"]);
    let t = Tmux::start("nc-e2e-keys", "-c qemu:///system");
    // The lab may run extra guests that push some base ones below the fold: see the first
    // rows, then filter to each base VM in turn.
    let s = t.wait_screen("the lab VMs", Duration::from_secs(15), |s| {
        s.contains("│nclab-busy ")
    });
    assert!(s.contains("local ●"), "header shows the connection:\n{s}");
    for vm in ["nclab-disk", "nclab-net", "nclab-idle"] {
        t.keys(&["/"]);
        t.keys(&["-l", vm]);
        t.keys(&["Enter"]);
        // The filter in the title: enter has landed (the row alone may show unfiltered).
        t.wait_screen(vm, Duration::from_secs(5), |s| {
            !row_of(s, vm).is_empty() && s.contains(&format!("filter {vm}"))
        });
        // Wait for esc to land: an ESC followed at once by '/' reads as alt-/.
        t.keys(&["Escape"]);
        t.wait_screen("filter cleared", Duration::from_secs(5), |s| {
            !s.contains("· filter")
        });
    }

    t.keys(&["/"]);
    t.keys(&["-l", "nclab-idle"]);
    t.keys(&["Enter"]);
    t.wait_screen("filtered to nclab-idle", Duration::from_secs(5), |s| {
        s.contains("filter nclab-idle") && !s.contains("nclab-busy")
    });

    t.keys(&["p"]);
    let s = t.wait_screen("paused", Duration::from_secs(10), |s| {
        row_of(s, "nclab-idle").contains("paused (user)")
    });
    assert!(
        s.contains("suspend done"),
        "journal records the operation:\n{s}"
    );
    assert!(
        s.contains("virsh -c qemu:///system suspend nclab-idle"),
        "journal shows the virsh command:\n{s}"
    );
    let out = lab::virsh(&["domstate", "nclab-idle"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "paused");

    t.keys(&["p"]);
    t.wait_screen("running again", Duration::from_secs(10), |s| {
        row_of(s, "nclab-idle").contains("running (unpaused)") && s.contains("resume done")
    });

    t.keys(&["q"]);
    assert_eq!(t.wait_exit().trim(), "EXIT=0");
    t.assert_restored();
}

/// SIGTERM, SIGHUP, SIGINT and SIGQUIT each end the console with the terminal restored, and
/// the exit status a shell gives a process the signal ended (128 + its number), so a
/// wrapper can tell them from `q`.
#[test]
fn terminating_signals_restore_the_terminal_and_exit_128_plus_the_signal() {
    for (sig, code) in [("TERM", 143), ("HUP", 129), ("INT", 130), ("QUIT", 131)] {
        let t = Tmux::start(
            &format!("nc-e2e-sig{sig}"),
            "-c test:///default --no-history",
        );
        t.wait_screen("the table", Duration::from_secs(15), |s| {
            s.contains("│test ")
        });
        signal(&t.pid(), sig);
        assert_eq!(t.wait_exit().trim(), format!("EXIT={code}"), "SIG{sig}");
        t.assert_restored();
    }
}

/// ctrl-z in an interactive shell: the console gives the terminal back and the shell reports
/// it stopped; `fg` takes the terminal again and the whole screen is drawn; a session that
/// closes meanwhile ends it as a hang-up. Under `sh -c`
/// (no job control) nothing could bring it back: ctrl-z says so and the console goes on.
#[test]
fn ctrl_z_stops_the_console_to_its_shell_and_fg_redraws_it() {
    let dir = tempfile::tempdir().unwrap();
    let session = "nc-e2e-ctrlz";
    let tmux = |args: &[&str]| {
        assert!(Command::new("tmux").args(args).status().unwrap().success());
    };
    new_session(session, &["bash", "--norc", "--noprofile", "-i"]);
    let screen = || {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let wait = |what: &str, pred: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let line = format!(
        "XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config {} -c test:///default \
         --no-history",
        env!("CARGO_BIN_EXE_novacron"),
        d = dir.path().display()
    );
    tmux(&["send-keys", "-t", session, &line, "Enter"]);
    wait("the table", &|s| s.contains("│test "));
    tmux(&["send-keys", "-t", session, "C-z"]);
    wait("the shell's report", &|s| {
        s.contains("Stopped") && !s.contains("┌ VMs")
    });
    tmux(&["send-keys", "-t", session, "fg", "Enter"]);
    wait("the table again", &|s| {
        s.contains("│test ") && s.contains("┌ VMs")
    });
    tmux(&["send-keys", "-t", session, "q"]);
    wait("the prompt", &|s| !s.contains("┌ VMs"));
    tmux(&["send-keys", "-t", session, "echo EXIT=$?", "Enter"]);
    wait("the exit", &|s| s.contains("EXIT=0"));

    // Stopped, then the session closes (an ssh connection dropped): the shell sends SIGHUP
    // and SIGCONT, the terminal is gone, and the console ends as hung up (129), not with a
    // terminal error. A wrapper that ignores the hang-up records the status (and SIGTERM,
    // which tmux may send the pane's processes as well).
    tmux(&["send-keys", "-t", session, "clear", "Enter"]);
    let code = dir.path().join("code");
    let wrapped = format!(
        "sh -c 'trap \"\" HUP TERM; {line}; echo $? > {}'",
        code.display()
    );
    tmux(&["send-keys", "-t", session, &wrapped, "Enter"]);
    wait("the table", &|s| s.contains("│test "));
    tmux(&["send-keys", "-t", session, "C-z"]);
    wait("the shell's report", &|s| {
        s.contains("Stopped") && !s.contains("┌ VMs")
    });
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", session])
        .output();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !code.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        std::fs::read_to_string(&code).unwrap_or_default().trim(),
        "129",
        "exit status after the session closed under the stopped console"
    );

    let t = Tmux::start("nc-e2e-ctrlz-sh", "-c test:///default --no-history");
    t.wait_screen("the table", Duration::from_secs(15), |s| {
        s.contains("│test ")
    });
    t.keys(&["C-z"]);
    t.wait_screen("why not", Duration::from_secs(5), |s| {
        s.contains("no shell to return to")
    });
    t.keys(&["q"]);
    assert_eq!(t.wait_exit().trim(), "EXIT=0");
    t.assert_restored();
}

fn signal(pid: &str, sig: &str) {
    assert!(!pid.is_empty(), "novacron pid");
    assert!(Command::new("kill")
        .args([&format!("-{sig}"), "--", pid])
        .status()
        .unwrap()
        .success());
}

/// A read-only console started first holds nothing the console that records needs: that one
/// still starts, and the watcher reads the history through it from then on.
#[test]
fn a_watcher_started_first_does_not_lock_out_the_console_that_records() {
    let watcher = Tmux::start("nc-e2e-early-watcher", "-c test:///default --read-only");
    watcher.wait_screen("the watcher", Duration::from_secs(15), |s| {
        s.contains("[read-only]") && s.contains("history not read yet") && s.contains("│test")
    });
    let shared = watcher.dir.path().to_path_buf();
    let recorder = Tmux::start_in(
        "nc-e2e-late-recorder",
        tempfile::tempdir().unwrap(),
        &shared,
        "-c test:///default",
    );
    let s = recorder.wait_screen("the recording console", Duration::from_secs(15), |s| {
        s.contains("│test") || s.contains("EXIT=")
    });
    assert!(!s.contains("locked"), "{s}");
    assert!(shared.join("state/novacron/history.sock").exists());
    recorder.keys(&["q"]);
    assert_eq!(recorder.wait_exit().trim(), "EXIT=0");
    watcher.keys(&["q"]);
    assert_eq!(watcher.wait_exit().trim(), "EXIT=0");
}

#[test]
fn a_second_console_is_refused_and_a_read_only_one_watches_alongside() {
    if !lab::available() {
        return;
    }
    let first = Tmux::start("nc-e2e-first", "-c qemu:///system");
    first.wait_screen("the first console", Duration::from_secs(15), |s| {
        s.contains("│nclab-")
    });
    let shared = first.dir.path().to_path_buf();

    let watcher = Tmux::start_in(
        "nc-e2e-watch",
        tempfile::tempdir().unwrap(),
        &shared,
        "-c qemu:///system --read-only",
    );
    // The banner comes before the connection: wait for the VMs too.
    watcher.wait_screen("the read-only console", Duration::from_secs(15), |s| {
        s.contains("[read-only]")
            && s.contains("history read from the console")
            && s.contains("│nclab-")
    });

    let refused = Tmux::start_in(
        "nc-e2e-second",
        tempfile::tempdir().unwrap(),
        &shared,
        "-c qemu:///system",
    );
    assert_eq!(refused.wait_exit().trim(), "EXIT=2");
    let msg = refused.wait_screen("the refusal", Duration::from_secs(5), |s| {
        s.contains("already managing")
    });
    assert!(msg.contains("--read-only"), "{msg}");
}

/// `:connect` to a URI the daemon refuses says why once and stops; `:disconnect` removes that
/// host and the console goes on with the lab.
#[test]
fn a_refused_connect_is_not_retried_and_disconnect_removes_the_host() {
    if !lab::available() {
        return;
    }
    let t = Tmux::start("nc-e2e-links", "-c qemu:///system --read-only");
    t.wait_screen("the table", Duration::from_secs(15), |s| {
        s.contains("│nclab-") && s.contains("local ●")
    });
    t.keys(&[":"]);
    t.keys(&["-l", "connect qemu:///nonexistent"]);
    t.keys(&["Enter"]);
    t.wait_screen("the refusal", Duration::from_secs(20), |s| {
        s.contains("local#2 ✗ failed (H)") && s.contains("connect failed: cannot connect")
    });
    // The host pane has room for the whole reason and says what to do.
    t.keys(&["H"]);
    t.keys(&["j"]);
    let s = t.wait_screen("the reason", Duration::from_secs(5), |s| {
        s.contains("not retried: cannot connect to qemu:///nonexistent")
    });
    // The reason wraps at word boundaries.
    assert!(s.contains("unexpected qemu"), "{s}");
    assert!(s.contains("local#2 removes it"), "{s}");
    t.keys(&["Escape"]);
    t.keys(&[":"]);
    t.keys(&["-l", "disconnect qemu:///nonexistent"]);
    t.keys(&["Enter"]);
    let s = t.wait_screen("one host again", Duration::from_secs(10), |s| {
        s.contains("local ●") && !s.contains("failed (H)")
    });
    assert!(s.contains("disconnect qemu:///nonexistent"), "{s}");
    assert!(s.contains("│nclab-busy"), "the lab's VMs stay:\n{s}");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit().trim(), "EXIT=0");
}

/// libxml2 and libvirt print their own warnings on stderr ("I/O warning : failed to load
/// external entity"): while the console owns the terminal they go to a file beside the log,
/// not over the screen, and the shell gets its stderr back afterwards.
#[test]
fn library_warnings_do_not_draw_over_the_screen() {
    let t = Tmux::start("nc-e2e-stderr", "-c test:///default --read-only");
    t.wait_screen("the table", Duration::from_secs(15), |s| {
        s.contains("│test")
    });
    t.keys(&[":"]);
    t.keys(&["-l", "connect test:///nonexistent/novacron-e2e.xml"]);
    t.keys(&["Enter"]);
    let s = t.wait_screen("the refusal", Duration::from_secs(10), |s| {
        s.contains("failed (H)")
    });
    assert!(!s.contains("I/O warning"), "{s}");
    assert!(
        s.starts_with("novacron │"),
        "the header stays on the first line:\n{s}"
    );
    t.keys(&["q"]);
    assert_eq!(t.wait_exit().trim(), "EXIT=0");
    let after = t.screen();
    assert!(!after.contains("I/O warning"), "{after}");
    let file = t.dir.path().join("state/novacron/novacron.stderr");
    let kept = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(kept.contains("failed to load external entity"), "{kept:?}");
}

/// A second console recording the same history database is refused at once (the first
/// answers on its socket): not after the wait a report holding it for a moment gets.
#[test]
fn a_second_console_on_the_same_history_is_refused_at_once() {
    let a = Tmux::start("nc-e2e-hist-a", "-c test:///default");
    a.wait_screen("console A", Duration::from_secs(15), |s| {
        s.contains("│test")
    });
    let shared = a.dir.path().to_path_buf();
    let t0 = Instant::now();
    let b = Tmux::start_in(
        "nc-e2e-hist-b",
        tempfile::tempdir().unwrap(),
        &shared,
        "-c test:///default",
    );
    assert_eq!(b.wait_exit().trim(), "EXIT=2");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let msg = b.wait_screen("the refusal", Duration::from_secs(5), |s| {
        s.contains("locked by another novacron") || s.contains("already managing")
    });
    assert!(msg.contains("novacron"), "{msg}");
    a.keys(&["q"]);
    assert_eq!(a.wait_exit().trim(), "EXIT=0");
}

/// The console lock of a host follows `:disconnect` and `:connect`: a host one console has let
/// go of can be managed by another, and taking it back is refused while that one runs.
#[test]
fn host_locks_follow_connect_and_disconnect() {
    let a = Tmux::start("nc-e2e-lock-a", "-c test:///default --no-history");
    a.wait_screen("console A", Duration::from_secs(15), |s| {
        s.contains("│test")
    });
    a.keys(&[":"]);
    a.keys(&["-l", "disconnect test"]);
    a.keys(&["Enter"]);
    a.wait_screen("A without hosts", Duration::from_secs(5), |s| {
        !s.contains("│test")
    });
    let shared = a.dir.path().to_path_buf();
    let b = Tmux::start_in(
        "nc-e2e-lock-b",
        tempfile::tempdir().unwrap(),
        &shared,
        "-c test:///default --no-history",
    );
    let s = b.wait_screen("console B", Duration::from_secs(15), |s| {
        s.contains("│test") || s.contains("EXIT=")
    });
    assert!(!s.contains("already managing"), "{s}");
    a.keys(&[":"]);
    a.keys(&["-l", "connect test:///default"]);
    a.keys(&["Enter"]);
    let s = a.wait_screen("A refused", Duration::from_secs(10), |s| {
        s.contains("not retried")
    });
    assert!(s.contains("already managing"), "{s}");
    b.keys(&["q"]);
    assert_eq!(b.wait_exit().trim(), "EXIT=0");
    a.keys(&["q"]);
    assert_eq!(a.wait_exit().trim(), "EXIT=0");
}
