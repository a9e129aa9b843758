//! `novacron forecast`, `capacity` and `rightsize` on a real history database: two days of
//! a VM's and a host's metrics written to sled on disk, read back by the headless commands
//! against a libvirt test-driver host (the same jobs the console's F, C and O panes run; the
//! panes themselves are driven in a real terminal by `e2e_tmux`).

mod common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

use common::{row_start_with_slack, seed_analysis_history, seeded_vm_cpu, SEEDED_VM};

/// Runs `novacron -c URI --history DB ARGS…` with its state and config under `dir`, expects
/// success and returns what it prints.
fn run(dir: &Path, uri: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::cargo_bin("novacron")
        .unwrap()
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .args(["-c", uri, "--history"])
        .arg(dir.join("history"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "novacron {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// [`run`], and the JSON it prints.
fn json(dir: &Path, uri: &str, args: &[&str]) -> Value {
    let out = run(dir, uri, args);
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out));
    })
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn forecast_follows_the_daily_pattern_with_nested_bands() {
    let dir = tempfile::tempdir().unwrap();
    let now = row_start_with_slack();
    let uri = seed_analysis_history(dir.path(), &dir.path().join("history"), now);
    let doc = json(
        dir.path(),
        &uri,
        &[
            "forecast",
            SEEDED_VM,
            "--metric",
            "cpu",
            "--horizon",
            "6h",
            "--json",
        ],
    );
    assert_eq!(doc["model"], "auto");
    assert_eq!(doc["unit"], "%", "the numbers' unit");
    assert_eq!(doc["history_rows"], 576);
    assert_eq!(doc["intervals_meaningful"], true);
    assert_eq!(doc["vm_state"], "running");
    // Scored from origins in its second day, before the daily-profile members have the
    // half day of backtest evidence they need to get weight: within about 2.5 points on a
    // 10–30 % wave. (Its MASE is well above 1: the scale is one step of naive error on a
    // smooth series.)
    let smape = f(&doc["backtest_smape"]);
    assert!(smape < 20.0, "backtest sMAPE {smape} %");
    assert!(f(&doc["backtest_mase"]) > 0.0 && doc["backtest_origins"].as_u64() > Some(0));
    // What "auto" combined: the first hour and the rest (one range when they are the same),
    // each with shares summing to 1.
    let mix = doc["mix"].as_array().unwrap();
    let ranges: Vec<(u64, u64)> = mix
        .iter()
        .map(|p| {
            (
                p["first_step"].as_u64().unwrap(),
                p["last_step"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        ranges == [(1, 12), (13, 72)] || ranges == [(1, 72)],
        "{ranges:?}"
    );
    for p in mix {
        let members = p["members"].as_array().unwrap();
        assert!(!members.is_empty() && members.len() <= 3, "{p}");
        let total: f64 = members.iter().map(|m| f(&m["share"])).sum();
        assert!((total - 1.0).abs() < 1e-9, "{p}");
    }
    let rows = doc["forecast"].as_array().unwrap();
    assert_eq!(rows.len(), 72);
    for r in rows {
        let ts = r["ts_ms"].as_i64().unwrap();
        let want = seeded_vm_cpu(ts + 1_000);
        let (lo95, lo80, p, hi80, hi95) = (
            f(&r["lo95"]),
            f(&r["lo80"]),
            f(&r["forecast"]),
            f(&r["hi80"]),
            f(&r["hi95"]),
        );
        assert!((p - want).abs() < 3.0, "{}: {p} vs {want}", r["time"]);
        assert!(
            lo95 <= lo80 && lo80 <= p && p <= hi80 && hi80 <= hi95,
            "{}: bands {lo95} {lo80} {p} {hi80} {hi95}",
            r["time"]
        );
    }
}

#[test]
fn a_forecast_of_a_vm_that_is_off_says_so_and_when_its_history_ends() {
    let dir = tempfile::tempdir().unwrap();
    let now = row_start_with_slack();
    let uri = seed_analysis_history(dir.path(), &dir.path().join("history"), now);
    // The same VM, shut off (the test driver's run state 5).
    let node = uri.trim_start_matches("test://");
    let xml = std::fs::read_to_string(node).unwrap().replace(
        "<domain type='test'>",
        "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>",
    );
    std::fs::write(
        node,
        xml.replace("</os>", "</os><test:runstate>5</test:runstate>"),
    )
    .unwrap();
    let text = String::from_utf8(run(dir.path(), &uri, &["forecast", SEEDED_VM])).unwrap();
    assert!(
        text.contains(&format!("note: {SEEDED_VM} is shut off"))
            && text.contains("the forecast continues that history"),
        "{text}"
    );
    let doc = json(dir.path(), &uri, &["forecast", SEEDED_VM, "--json"]);
    assert_eq!(doc["vm_state"], "shut off", "the state alone, for scripts");
    assert!(doc["last_row_ms"].as_i64().unwrap() < now);
}

#[test]
fn capacity_finds_the_rising_host_cpu_and_rightsize_the_oversized_vm() {
    let dir = tempfile::tempdir().unwrap();
    let now = row_start_with_slack();
    let uri = seed_analysis_history(dir.path(), &dir.path().join("history"), now);

    let cap = json(dir.path(), &uri, &["capacity", "--json"]);
    let rows = cap["rows"].as_array().unwrap();
    assert_eq!(rows[0]["resource"], "cpu", "soonest first: {rows:?}");
    let c = &rows[0]["crossing"];
    // 40 → 70 % over two days: 90 % 32 h ahead (384 rows of 5 minutes), inside the band.
    assert_eq!(c["model"], "trend_daily");
    let expected = c["expected"].as_u64().unwrap();
    assert!(
        (370..=400).contains(&expected),
        "crossing in {expected} rows"
    );
    let (earliest, latest) = (c["earliest"].as_u64(), c["latest"].as_u64());
    assert!(earliest.is_some_and(|e| e <= 384), "{c}");
    assert!(latest.is_none_or(|l| l >= 384), "{c}");
    let memory = rows.iter().find(|r| r["resource"] == "memory").unwrap();
    assert!(memory["crossing"].is_null());
    // No memory history was written, and the test driver has no node statistics to
    // record it from: the note says the figures never come, not that none came yet.
    assert!(
        memory["note"] == "no usage figures from this driver",
        "{memory}"
    );
    // The test driver has no node statistics, but its node info gives the host's size.
    let room = &cap["headroom"][0];
    assert!(room["headroom"]["fits"].is_u64(), "{room}");
    assert!(
        room["text"].as_str().unwrap().starts_with("room for "),
        "{room}"
    );

    let rs = json(dir.path(), &uri, &["rightsize", "--json"]);
    let vm = &rs.as_array().unwrap()[0];
    assert_eq!(vm["name"], SEEDED_VM);
    let rec = &vm["recommendation"];
    // CPU p95 ≈ 30 % of 4 vCPUs × 1.2 headroom → 2 vCPUs; 1 GiB × 1.2 → 1.5 GiB.
    assert_eq!(rec["current_vcpus"], 4);
    assert_eq!(rec["vcpus"], 2, "{rec}");
    assert_eq!(rec["memory_bytes"], 3 * (512 << 20), "{rec}");
    assert_eq!(rec["idle"], false, "two days are not the week idle needs");
    assert_eq!(vm["samples"], 576);
    // The text names the verdict in a word, as the pane does, then the evidence.
    let text = String::from_utf8(run(dir.path(), &uri, &["rightsize"])).unwrap();
    let line = text.lines().find(|l| l.starts_with(SEEDED_VM)).unwrap();
    assert!(
        text.starts_with("NAME") && text.contains("VERDICT"),
        "{text}"
    );
    assert!(
        line.contains(" oversized ") && line.contains("CPU p95"),
        "{text}"
    );
}

/// A host whose CPU stepped from 20 % to 60 % fourteen hours ago and stayed there: capacity
/// forecasts the new level, and says why, instead of a trend through the step that would
/// cross 90 % within days.
#[test]
fn capacity_forecasts_a_host_from_its_last_step_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let now = row_start_with_slack();
    let uri =
        common::seed_analysis_history_with(dir.path(), &dir.path().join("history"), now, |i| {
            if i < 408 {
                20.0
            } else {
                60.0
            }
        });
    let cap = json(dir.path(), &uri, &["capacity", "--json"]);
    let cpu = cap["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "cpu")
        .unwrap();
    assert_eq!(cpu["crossing"]["model"], "auto", "{cpu}");
    assert!(cpu["crossing"]["expected"].is_null(), "{cpu}");
    assert!(cpu["level_shift_ms"].is_i64(), "{cpu}");
    let basis = cpu["basis"].as_str().unwrap();
    // 168 rows ago; the step read from three hours either side of it, noise and all.
    let jump: f64 = basis
        .strip_prefix("since a +")
        .and_then(|b| b.strip_suffix(" pt step 14h ago"))
        .and_then(|j| j.parse().ok())
        .unwrap_or_else(|| panic!("{basis}"));
    assert!((jump - 40.0).abs() < 1.5, "{basis}");
    // The text puts it under the row.
    let text = String::from_utf8(run(dir.path(), &uri, &["capacity"])).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.trim() == basis);
    assert!(
        at.is_some_and(|i| i > 0 && lines[i - 1].contains(" cpu ")),
        "{text}"
    );
}

/// Reports run at once (cron jobs at the same minute, no console running) take turns on the
/// database instead of failing on sled's lock.
#[test]
fn reports_run_at_once_take_turns_on_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let now = row_start_with_slack();
    let uri = seed_analysis_history(dir.path(), &dir.path().join("history"), now);
    let runs: Vec<std::thread::JoinHandle<Value>> = (0..4)
        .map(|i| {
            let (dir, uri) = (dir.path().to_path_buf(), uri.clone());
            std::thread::spawn(move || {
                let args: &[&str] = if i % 2 == 0 {
                    &["capacity", "--json"]
                } else {
                    &["forecast", SEEDED_VM, "--json"]
                };
                json(&dir, &uri, args)
            })
        })
        .collect();
    for r in runs {
        let doc = r.join().expect("a report failed");
        assert!(
            doc.get("rows").is_some() || doc.get("forecast").is_some(),
            "{doc}"
        );
    }
}

/// `novacron metrics` as a table: values in their unit, the resolution said, and an empty
/// range explained rather than printed as "0 points".
#[test]
fn metrics_table_speaks_units_and_explains_an_empty_range() {
    let dir = tempfile::tempdir().unwrap();
    let now = row_start_with_slack();
    let history = dir.path().join("history");
    // An hour recorded half a day before the two seeded days is past the raw retention: a
    // range reaching it is read from the minute rollups.
    let uri = common::analysis_uri(dir.path());
    let old = now - 60 * 3_600_000;
    append_cpu(&history, &uri, (0..12).map(|i| old + i * 300_000 + 1_000));
    assert_eq!(seed_analysis_history(dir.path(), &history, now), uri);
    let run = |args: &[&str]| String::from_utf8(run(dir.path(), &uri, args)).unwrap();
    let cpu = run(&["metrics", SEEDED_VM, "--metric", "cpu", "--since", "3d"]);
    let mut lines = cpu.lines();
    let head = lines.next().unwrap();
    assert!(
        head.contains("cpu_pct on") && head.contains("588 points (as polled, to the minute)"),
        "{cpu}"
    );
    let first = lines.next().unwrap();
    assert!(first.contains('%') && !first.contains("(min "), "{cpu}");
    // Past 1000 points, averages per bucket with their range.
    let week = run(&["metrics", SEEDED_VM, "--metric", "cpu", "--since", "30d"]);
    assert!(
        week.lines()
            .next()
            .unwrap()
            .contains("(averaged per 1 h; each time is the start of its 1 h)"),
        "{week}"
    );
    assert!(week.lines().nth(1).unwrap().contains("(min "), "{week}");
    // A rollup's points at their own minute, not the start of a 3-minute bucket.
    assert!(
        cpu.lines()
            .skip(1)
            .all(|l| l.contains("0:00Z ") || l.contains("5:00Z ")),
        "{cpu}"
    );
    // Each sample at its own time (1 s past the 5 minutes), whatever --since is.
    for since in ["1h", "61m", "7199s"] {
        let recent = run(&["metrics", SEEDED_VM, "--metric", "cpu", "--since", since]);
        let times: Vec<&str> = recent
            .lines()
            .skip(1)
            .filter_map(|l| l.split(' ').next())
            .collect();
        assert!(
            recent.lines().next().unwrap().contains("(as polled)"),
            "{recent}"
        );
        assert!(times.len() >= 11, "{recent}");
        assert!(
            times
                .iter()
                .all(|t| t.ends_with("0:01Z") || t.ends_with("5:01Z")),
            "--since {since}: {recent}"
        );
    }
    let doc: serde_json::Value = serde_json::from_str(&run(&[
        "metrics", SEEDED_VM, "--metric", "cpu", "--since", "1h", "--json",
    ]))
    .unwrap();
    assert_eq!(
        (&doc["as_polled"], &doc["step_ms"]),
        (&Value::Bool(true), &Value::from(0))
    );
    let ts = doc["points"][0]["ts_ms"].as_i64().unwrap();
    assert_eq!(ts.rem_euclid(300_000), 1_000, "{doc}");
    let mem = run(&["metrics", SEEDED_VM, "--metric", "mem", "--since", "2d"]);
    let value = mem.lines().nth(1).unwrap_or_default();
    assert!(
        value.contains("1.0G"),
        "memory as a size, not 1073741824.000: {mem}"
    );
    let disk = run(&[
        "metrics",
        SEEDED_VM,
        "--metric",
        "disk_rd_iops",
        "--since",
        "1h",
    ]);
    assert!(
        disk.contains("0 points") && disk.contains("nothing recorded"),
        "{disk}"
    );
}

/// Samples a few seconds apart fit the 1000 rows of `metrics`: printed as polled, each at its
/// own second, rather than averaged into buckets of range ÷ 1000.
/// Adds CPU samples of 20 % for the seeded VM at `times` to the database at `history`.
fn append_cpu(history: &Path, uri: &str, times: impl Iterator<Item = i64>) {
    use novacron::store::{HistoryStore, Sample, SeriesKey, SledStore, StoreConfig};
    let key = SeriesKey::new(
        format!("vm/{uri}/00000000-0000-4000-8000-00000000a001"),
        "cpu_pct",
    );
    let batch: Vec<(SeriesKey, Sample)> = times
        .map(|ts_ms| (key.clone(), Sample { ts_ms, value: 20.0 }))
        .collect();
    let mut store = SledStore::open(history, StoreConfig::default()).unwrap();
    store.append(&batch).unwrap();
    store.flush().unwrap();
}

#[test]
fn metrics_prints_dense_samples_as_polled_when_they_fit() {
    let dir = tempfile::tempdir().unwrap();
    let now = row_start_with_slack();
    let history = dir.path().join("history");
    let uri = seed_analysis_history(dir.path(), &history, now);
    append_cpu(
        &history,
        &uri,
        (0..250).map(|i| now - 280_000 + i * 1_000 + 500),
    );
    let out = String::from_utf8(run(
        dir.path(),
        &uri,
        &["metrics", SEEDED_VM, "--metric", "cpu", "--since", "1h"],
    ))
    .unwrap();
    let head = out.lines().next().unwrap();
    assert!(head.contains("(as polled)"), "{out}");
    let rows = out.lines().skip(1).count();
    assert!((250..=262).contains(&rows), "{rows} rows: {out}");
    // The raw tier holds all it has (the two days and the dense minutes, 826 samples): a
    // range reaching back past the raw retention prints them as polled too, each at its own
    // second, not minute rollups.
    let all = String::from_utf8(run(
        dir.path(),
        &uri,
        &["metrics", SEEDED_VM, "--metric", "cpu", "--since", "3d"],
    ))
    .unwrap();
    assert!(
        all.lines()
            .next()
            .unwrap()
            .contains("826 points (as polled)"),
        "{all}"
    );
    assert!(all.lines().nth(1).unwrap().contains(":01Z "), "{all}");
}

/// A VM without a disk has no disk history to forecast, and the CLI says why as the console
/// does, instead of "none recorded in two weeks" (nclab-busy has no disk in the lab).
#[test]
fn forecasting_a_metric_of_a_device_the_vm_lacks_says_so() {
    if !common::lab::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("novacron")
        .unwrap()
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .args(["-c", "qemu:///system", "--no-history"])
        .args(["forecast", "nclab-busy", "--metric", "disk"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "nclab-busy has no disks attached: no disk writes to forecast",
        ));
}

/// A host by its label or URI: its CPU, as F gives it in the host pane; it has no VM state.
#[test]
fn forecast_of_a_host_by_its_label() {
    let dir = tempfile::tempdir().unwrap();
    let now = row_start_with_slack();
    let uri = seed_analysis_history(dir.path(), &dir.path().join("history"), now);
    for name in ["test", uri.as_str()] {
        let doc = json(
            dir.path(),
            &uri,
            &["forecast", name, "--horizon", "1h", "--json"],
        );
        assert_eq!(doc["host"], "test", "{doc}");
        assert!(
            doc.get("vm").is_none() && doc.get("vm_state").is_none(),
            "{doc}"
        );
        assert_eq!(
            (doc["metric"].as_str(), doc["history_rows"].as_u64()),
            (Some("cpu_pct"), Some(576))
        );
        // The seeded host CPU rises from 40 % to 70 % over the two days.
        let first = f(&doc["forecast"][0]["forecast"]);
        assert!((60.0..80.0).contains(&first), "{first}");
    }
    let out = Command::cargo_bin("novacron")
        .unwrap()
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .args(["-c", &uri, "--history"])
        .arg(dir.path().join("history"))
        .args(["forecast", "test", "--metric", "disk"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a host's forecast is of cpu or mem"),
        "{out:?}"
    );
}
