//! The analysis panes end to end in a real terminal (tmux) over a real history database:
//! F, C and O on seeded history for a test-driver host (no lab needed).

mod common;

use std::process::Command;
use std::time::Duration;

use common::tmux::{row_of, Tmux};

/// F, C and O in a real terminal over a real history database: two days seeded on disk for
/// a test-driver host (no lab needed), then the panes show what the jobs computed.
#[test]
fn forecast_capacity_and_recommendation_panes_show_the_history() {
    let xdg = tempfile::tempdir().unwrap();
    let history = xdg.path().join("state/novacron/history");
    std::fs::create_dir_all(&history).unwrap();
    let now = common::row_start_with_slack();
    let uri = common::seed_analysis_history(xdg.path(), &history, now);
    let vm = common::SEEDED_VM;
    let t = Tmux::start_in(
        "nc-e2e-analysis",
        tempfile::tempdir().unwrap(),
        xdg.path(),
        &format!("-c {uri}"),
    );
    t.wait_screen("the VM", Duration::from_secs(15), |s| {
        !row_of(s, vm).is_empty()
    });

    // Each pane is waited for whole (a capture can land mid-draw), and esc must land before
    // the next key: ESC followed at once by a letter reads as alt-letter.
    let back = || {
        t.keys(&["Escape"]);
        t.wait_screen("the table", Duration::from_secs(5), |s| s.contains("┌ VMs"));
    };
    t.keys(&["F"]);
    let s = t.wait_screen("the forecast", Duration::from_secs(30), |s| {
        s.contains("backtest  sMAPE") && s.contains("+6h")
    });
    assert!(
        s.contains(&format!("Forecast · {vm} · cpu · next 6h")),
        "{s}"
    );
    assert!(s.contains("auto · 576 rows of history"), "{s}");
    assert!(s.contains("history") && s.contains("now"), "{s}");

    back();
    t.keys(&["C"]);
    let s = t.wait_screen("capacity", Duration::from_secs(30), |s| {
        // The test driver has no host statistics, but its node info gives the headroom.
        s.contains("trend_daily") && s.contains("room for ")
    });
    // The host's CPU rises 40 → 70 % over the two days: 90 % in 32 h.
    let cpu = s.lines().find(|l| l.contains(" cpu ")).unwrap_or("");
    // The last row is 69.95 % once stored.
    assert!(cpu.contains("70.0%") && cpu.contains("32 h"), "{s}");

    back();
    t.keys(&["O"]);
    let s = t.wait_screen("recommendations", Duration::from_secs(30), |s| {
        s.contains("oversized") && s.contains("rows of 5 min)")
    });
    assert!(row_of(&s, vm).contains("4 → 2"), "{s}");
    assert!(s.contains("(576 rows of 5 min)"), "evidence:\n{s}");

    // Headless reports run beside the console, which holds the database (sled allows one
    // process): they read it through the console's socket.
    let sock = history.with_extension("sock");
    assert!(sock.exists(), "{} while the console runs", sock.display());
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_novacron"))
            .env("XDG_STATE_HOME", xdg.path().join("state"))
            .env("XDG_CONFIG_HOME", xdg.path().join("config"))
            // `history` connects to nothing, and refuses -c.
            .args(["-c", uri.as_str()].iter().filter(|_| args[0] != "history"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "novacron {args:?} beside the console: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let fc = cli(&["forecast", vm, "--metric", "cpu", "--json"]);
    assert!(fc.contains("\"history_rows\": 576"), "{fc}");
    let stats = cli(&["history", "stats"]);
    assert!(stats.contains("series"), "{stats}");
    assert!(cli(&["capacity"]).contains("trend_daily"));

    t.keys(&["q"]);
    assert_eq!(t.wait_exit().trim(), "EXIT=0");
    t.assert_restored();
    assert!(!sock.exists(), "the socket goes with the console");
}

/// C in a real terminal over a real history database whose host CPU stepped from 20 to 60 %
/// fourteen hours ago: the row forecasts the new level and says why.
#[test]
fn capacity_pane_says_it_forecasts_from_the_last_step() {
    let xdg = tempfile::tempdir().unwrap();
    let history = xdg.path().join("state/novacron/history");
    std::fs::create_dir_all(&history).unwrap();
    let now = common::row_start_with_slack();
    let uri = common::seed_analysis_history_with(xdg.path(), &history, now, |i| {
        if i < 408 {
            20.0
        } else {
            60.0
        }
    });
    let t = Tmux::start_in(
        "nc-e2e-step",
        tempfile::tempdir().unwrap(),
        xdg.path(),
        &format!("-c {uri}"),
    );
    t.wait_screen("the VM", Duration::from_secs(15), |s| {
        !row_of(s, common::SEEDED_VM).is_empty()
    });
    t.keys(&["C"]);
    let s = t.wait_screen("capacity", Duration::from_secs(30), |s| {
        s.contains("room for ") && s.contains("pt step")
    });
    // "│test cpu  60.0% > 7 d  4 d 11 h – > 7 d · since a +39.2 pt step 14h ago  auto │"
    let cpu = s.lines().find(|l| l.contains(" cpu ")).unwrap_or("");
    assert!(
        cpu.contains("60.0%") && cpu.contains("since a +") && cpu.contains("step 14h ago"),
        "{s}"
    );
    assert!(
        cpu.contains("auto"),
        "five hours past the step are too few for a trend: {s}"
    );
    t.keys(&["q"]);
    assert_eq!(t.wait_exit().trim(), "EXIT=0");
}
