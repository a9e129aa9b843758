//! The console's own footprint while idle on the lab: CPU share of one core and resident
//! memory of the real binary running in a real terminal (tmux), sampled from /proc over a
//! 60 s window after a 10 s warm-up. Targets: ≤ 1 % of a core, ≤ 40 MiB RSS.
//!
//! Needs the lab and tmux: `assets/lab/lab.sh up`, then `cargo bench --bench idle`.
//! (A plain harness, not criterion: one long window measures this better than iterations.)

use std::process::Command;
use std::time::{Duration, Instant};

fn ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit(')').next()?;
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; `after` starts at field 3.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn status_kib(pid: &str, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn find_pid(marker: &str) -> Option<String> {
    let out = Command::new("pgrep")
        .args(["-x", "novacron"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|e| String::from_utf8_lossy(&e).contains(marker))
        })
        .map(str::to_string)
}

#[allow(clippy::cast_precision_loss)]
fn main() {
    if std::env::args().all(|a| a != "--bench") {
        // `cargo test --benches` runs this binary without --bench: nothing to measure then.
        return;
    }
    if !Command::new("virsh")
        .args(["-c", "qemu:///system", "domstate", "nclab-idle"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("idle bench skipped: the lab is not up (assets/lab/lab.sh up)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().display().to_string();
    let bin = env!("CARGO_BIN_EXE_novacron");
    let cmd = format!(
        "XDG_STATE_HOME={marker} XDG_CONFIG_HOME={marker} {bin} -c qemu:///system; sleep 5"
    );
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", "nc-idle-bench"])
        .output();
    let ok = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            "nc-idle-bench",
            "-x",
            "100",
            "-y",
            "30",
            "sh",
            "-c",
            &cmd,
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "tmux new-session failed");
    let t = Instant::now();
    let pid = loop {
        if let Some(p) = find_pid(&marker) {
            break p;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "novacron did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(10));
    let hz = 100.0; // USER_HZ on Linux
    let (t0, c0) = (Instant::now(), ticks(&pid).expect("stat"));
    let rss0 = status_kib(&pid, "VmRSS:").unwrap_or(0);
    std::thread::sleep(Duration::from_secs(60));
    let (t1, c1) = (Instant::now(), ticks(&pid).expect("stat"));
    let rss1 = status_kib(&pid, "VmRSS:").unwrap_or(0);
    let hwm = status_kib(&pid, "VmHWM:").unwrap_or(0);
    let _ = Command::new("tmux")
        .args(["send-keys", "-t", "nc-idle-bench", "q"])
        .status();
    let cpu = (c1 - c0) as f64 / hz / (t1 - t0).as_secs_f64() * 100.0;
    println!(
        "idle/cpu_percent_of_one_core  {cpu:.2} %   (target ≤ 1 %)  {}",
        if cpu <= 1.0 { "ok" } else { "OVER" }
    );
    println!(
        "idle/rss_mib                   {:.1} MiB at start of window, {:.1} MiB at end, peak {:.1} MiB   (target ≤ 40 MiB)  {}",
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0,
        hwm as f64 / 1024.0,
        if hwm <= 40 * 1024 { "ok" } else { "OVER" }
    );
}
