//! The console in a real terminal: a detached tmux session per console, its screen read with
//! `capture-pane`, keys sent with `send-keys`, its exit code and terminal mode recorded.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub session: String,
    pub dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts `novacron ARGS` in a detached 100×30 tmux session. After novacron exits, the
    /// shell records its exit code and `stty -a` (the terminal mode it left behind).
    pub fn start(session: &str, args: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let xdg = dir.path().to_path_buf();
        Self::start_in(session, dir, &xdg, args)
    }

    /// As `start`, with the state and config dirs under `xdg` (shared by consoles that must
    /// meet) and the exit code and stty record in `dir`.
    pub fn start_in(session: &str, dir: tempfile::TempDir, xdg: &Path, args: &str) -> Self {
        let bin = env!("CARGO_BIN_EXE_novacron");
        let (d, x) = (dir.path().display(), xdg.display());
        let script = format!(
            "XDG_STATE_HOME={x}/state XDG_CONFIG_HOME={x}/config {bin} {args}; echo \"EXIT=$?\" > {d}/exit; stty -a > {d}/stty; echo SHELL-BACK; sleep 60"
        );
        new_session(session, &["sh", "-c", &script]);
        Self {
            session: session.into(),
            dir,
        }
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    pub fn wait_screen(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    pub fn wait_exit(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new(&self.dir.path().join("stty")).exists() || self.file("stty").is_empty() {
            assert!(
                Instant::now() < deadline,
                "novacron did not exit; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.file("exit")
    }

    /// The pid of this session's novacron: the process whose environment names our dir.
    pub fn pid(&self) -> String {
        let out = Command::new("pgrep")
            .args(["-x", "novacron"])
            .output()
            .unwrap();
        let marker = self.dir.path().display().to_string();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| String::from_utf8_lossy(&env).contains(&marker))
            })
            .unwrap_or_default()
            .to_string()
    }

    /// The terminal is back in cooked mode with echo, and the alternate screen is gone.
    pub fn assert_restored(&self) {
        let stty = self.file("stty");
        assert!(
            stty.contains(" icanon") && stty.contains(" echo"),
            "terminal left in raw mode: {stty}"
        );
        let s = self.wait_screen("shell output after exit", Duration::from_secs(5), |s| {
            s.contains("SHELL-BACK")
        });
        assert!(!s.contains("┌ VMs"), "alternate screen not left:\n{s}");
    }
}

/// A detached 100×30 tmux session `session` running `cmd`, replacing one of that name.
pub fn new_session(session: &str, cmd: &[&str]) {
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", session])
        .output();
    // Tests run in parallel on one tmux server, which exits when its last session ends: a
    // new session asked for just then meets "server exited unexpectedly". Ask again.
    let mut tries = 0;
    loop {
        let out = Command::new("tmux")
            .args(["new-session", "-d", "-s", session, "-x", "100", "-y", "30"])
            .args(cmd)
            .output()
            .expect("tmux");
        if out.status.success() {
            return;
        }
        tries += 1;
        assert!(
            tries < 10,
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .output();
    }
}

/// The table row of VM `name` (not the title line that may name it in the filter).
pub fn row_of<'a>(screen: &'a str, name: &str) -> &'a str {
    let cell = format!("│{name} ");
    screen.lines().find(|l| l.contains(&cell)).unwrap_or("")
}
