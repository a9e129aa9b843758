#![allow(clippy::cast_precision_loss)]
//! `novacron backtest` and `novacron detect` on generated series (the benchmark data is not
//! used by tests): output formats of the protocol, known answers, and bad input.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

mod out_files;

/// Writes `n` rows 5 minutes apart from 2024-01-01 00:00:00.
pub(crate) fn write_series(path: &Path, n: usize, f: impl Fn(usize) -> f64) {
    let mut s = String::from("timestamp,value\n");
    for i in 0..n {
        let _ = writeln!(s, "{},{}", ts(i), f(i));
    }
    std::fs::write(path, s).unwrap();
}

/// The time of row `i`: 5 minutes apart from 2024-01-01 00:00:00, across months.
pub(crate) fn ts(i: usize) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let t = start + chrono::Duration::minutes(i64::try_from(i * 5).unwrap());
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub(crate) fn cli() -> Command {
    Command::cargo_bin("novacron").unwrap()
}

#[test]
fn backtest_writes_the_protocol_csv_and_scores_a_daily_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("daily.csv");
    // Three days of a daily wave with a little deterministic noise.
    write_series(&csv, 864, |i| {
        50.0 + 20.0 * (i as f64 / 288.0 * std::f64::consts::TAU).sin()
            + ((i * 7919) % 13) as f64 / 13.0
    });
    let out = dir.path().join("forecasts.csv");
    let assert = cli()
        .arg("backtest")
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let auto = doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "auto")
        .unwrap();
    let naive = doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "naive")
        .unwrap();
    assert!(auto["median_mase"][0].as_f64().unwrap() < naive["median_mase"][0].as_f64().unwrap());
    let cov = auto["median_coverage95"][1].as_f64().unwrap();
    assert!((0.8..=1.0).contains(&cov), "95 % interval coverage {cov}");

    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("series,origin_ts,step,forecast,lo95,hi95")
    );
    // Origins 576, 588, … while origin + 72 <= 864: 576..=792 → 19 origins × 72 steps.
    assert_eq!(lines.clone().count(), 19 * 72);
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first[0], "daily");
    assert_eq!(first[1], ts(575), "origin_ts is the last observed row");
    assert_eq!(first[2], "1");
    let (f, lo, hi): (f64, f64, f64) = (
        first[3].parse().unwrap(),
        first[4].parse().unwrap(),
        first[5].parse().unwrap(),
    );
    assert!(lo <= f && f <= hi);
}

/// `spiky.csv`: 2000 rows of noise around 25 with a three-row spike at rows 1500..1503.
pub(crate) fn spiky(dir: &Path) -> PathBuf {
    let csv = dir.join("spiky.csv");
    write_series(&csv, 2000, |i| {
        if (1500..1503).contains(&i) {
            400.0
        } else {
            20.0 + ((i * 7919) % 11) as f64
        }
    });
    csv
}

#[test]
fn detect_flags_a_spike_and_scores_it_against_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let csv = spiky(dir.path());
    let windows = dir.path().join("windows.json");
    std::fs::write(
        &windows,
        format!(
            "{{\"spiky.csv\": [[\"{}.000000\", \"{}.000000\"]]}}",
            ts(1490),
            ts(1520)
        ),
    )
    .unwrap();
    let out = dir.path().join("anomalies.csv");
    cli()
        .arg("detect")
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .arg("--windows")
        .arg(&windows)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "pooled: precision 1.000  recall 1.000",
        ))
        // The event itself, listed with its window (one row: an alarm is not repeated).
        .stdout(
            predicate::str::is_match(format!(
                "(?m)^  spiky +{} +1 row  peak [0-9.]+  in window {} – {}$",
                ts(1500),
                ts(1490),
                ts(1520)
            ))
            .unwrap(),
        );
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("series,timestamp,score,is_anomaly")
    );
    assert_eq!(text.lines().count(), 2001, "one decision per row");
    let spike: Vec<&str> = text.lines().nth(1501).unwrap().split(',').collect();
    assert_eq!(
        (spike[0], spike[1], spike[3]),
        ("spiky", ts(1500).as_str(), "1")
    );
}

/// A series named after a host keeps its dots in the windows file, and a CSV written with
/// every field quoted (as spreadsheets and RFC 4180 do) reads as the plain one.
#[test]
fn a_quoted_csv_of_a_dotted_series_scores_against_its_windows() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read_to_string(spiky(dir.path())).unwrap();
    let mut quoted = String::new();
    for l in plain.lines() {
        let (t, v) = l.split_once(',').unwrap();
        let _ = writeln!(quoted, "\"{t}\",\"{v}\"");
    }
    let csv = dir.path().join("web01.example.com.csv");
    std::fs::write(&csv, quoted).unwrap();
    let windows = dir.path().join("windows.json");
    std::fs::write(
        &windows,
        format!(
            "{{\"web01.example.com\": [[\"{}\", \"{}\"]]}}",
            ts(1490),
            ts(1520)
        ),
    )
    .unwrap();
    // Without .csv too: the name is the file name, dots and all.
    let bare = dir.path().join("bare").join("web01.example.com");
    std::fs::create_dir(dir.path().join("bare")).unwrap();
    std::fs::copy(&csv, &bare).unwrap();
    for file in [&csv, &bare] {
        cli()
            .arg("detect")
            .arg(file)
            .arg("--windows")
            .arg(&windows)
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "pooled: precision 1.000  recall 1.000",
            ));
    }
}

#[test]
fn detect_windows_are_parsed_checked_and_must_name_every_series() {
    let dir = tempfile::tempdir().unwrap();
    let csv = spiky(dir.path());
    let windows = dir.path().join("windows.json");
    let detect = |json: String| {
        std::fs::write(&windows, json).unwrap();
        cli()
            .arg("detect")
            .arg(&csv)
            .arg("--windows")
            .arg(&windows)
            .assert()
    };
    // ISO 8601 with a T scores the same as the benchmark's own form.
    let iso = |i| ts(i).replace(' ', "T");
    detect(format!(
        "{{\"spiky.csv\": [[\"{}\", \"{}Z\"]]}}",
        iso(1490),
        iso(1520)
    ))
    .success()
    .stdout(predicate::str::contains(
        "pooled: precision 1.000  recall 1.000",
    ));
    detect(format!(
        "{{\"other.csv\": [[\"{}\", \"{}\"]]}}",
        ts(1490),
        ts(1520)
    ))
    .code(2)
    .stderr(predicate::str::contains(
        "no windows for series \"spiky\"; it has: other",
    ));
    detect("{}".to_string())
        .code(2)
        .stderr(predicate::str::contains("it names no series"));
    detect(format!(
        "{{\"spiky.csv\": [[\"{}\", \"{}\"]]}}",
        ts(1520),
        ts(1490)
    ))
    .code(2)
    .stderr(predicate::str::contains("ends before it starts"));
    detect(format!(
        "{{\"spiky.csv\": [[\"{}\", \"garbage\"]]}}",
        ts(1490)
    ))
    .code(2)
    .stderr(predicate::str::contains("not YYYY-MM-DD HH:MM:SS"));
    // A row's bad timestamp is named by file and line, as a bad value is.
    let text = std::fs::read_to_string(&csv)
        .unwrap()
        .replacen(&ts(3), "3pm", 1);
    std::fs::write(&csv, text).unwrap();
    detect(format!(
        "{{\"spiky.csv\": [[\"{}\", \"{}\"]]}}",
        ts(1490),
        ts(1520)
    ))
    .code(2)
    .stderr(predicate::str::contains(
        "spiky.csv: line 5: timestamp \"3pm\"",
    ));
}

#[test]
fn bad_input_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "timestamp,value\n2024-01-01 00:00:00,1\nnot a row\n").unwrap();
    cli().arg("backtest").arg(&csv).assert().code(2).stderr(
        predicate::str::contains("bad.csv: line 3")
            .and(predicate::str::contains("timestamp,value")),
    );
    std::fs::write(&csv, "").unwrap();
    cli()
        .arg("detect")
        .arg(&csv)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.csv: the file is empty"));
    for bad in ["abc", "-1.7e308", "2e200"] {
        std::fs::write(
            &csv,
            format!("timestamp,value\n2024-01-01 00:00:00,{bad}\n"),
        )
        .unwrap();
        cli().arg("detect").arg(&csv).assert().code(2).stderr(
            predicate::str::contains(format!("bad.csv: line 2: value \"{bad}\" is not a number"))
                .and(predicate::str::contains("leave it empty")),
        );
    }
    // Timestamps are checked whether or not windows are given: each a date and time, none
    // before the one above (a repeated one passes: steps are rows).
    for (rows, said) in [
        (
            "2024-01-01 00:00:00,1\nsoon,2\n",
            "line 3: timestamp \"soon\" is not a date and time: write YYYY-MM-DD",
        ),
        (
            "2024-01-01 00:00:00,1\n2024-02-30 00:00:00,2\n",
            "line 3: timestamp \"2024-02-30 00:00:00\" is not a date and time",
        ),
        (
            // 00:30 at +02:00 is 22:30 the day before, in UTC.
            "2024-01-01 00:00:00,1\n2024-01-01T00:30:00+02:00,2\n",
            "line 3: timestamp \"2024-01-01T00:30:00+02:00\" is before line 2's (2024-01-01 00:00:00)",
        ),
        (
            "2024-01-01 00:05:00,1\n2024-01-01 00:00:00,2\n",
            "line 3: timestamp \"2024-01-01 00:00:00\" is before line 2's (2024-01-01 00:05:00)",
        ),
        (
            "2024-01-01 00:05:00,1\n2024-01-01 00:05:00,2\n\n2024-01-01T00:04:59Z,3\n",
            "line 5: timestamp \"2024-01-01T00:04:59Z\" is before line 3's",
        ),
    ] {
        std::fs::write(&csv, format!("timestamp,value\n{rows}")).unwrap();
        for cmd in ["detect", "backtest"] {
            cli().arg(cmd).arg(&csv).assert().code(2).stderr(
                predicate::str::contains(format!("bad.csv: {said}"))
                    .and(predicate::str::contains("panicked").not()),
            );
        }
    }
    std::fs::write(
        &csv,
        "timestamp,value\n2024-01-01 00:00:00,\n2024-01-01 00:05:00,NaN\n",
    )
    .unwrap();
    cli()
        .arg("detect")
        .arg(&csv)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad.csv: all 2 values are missing",
        ));
    // Too short for the protocol's first origin: said, instead of a table of NaN.
    let short = dir.path().join("short.csv");
    write_series(&short, 647, |i| (i % 7) as f64);
    cli().arg("backtest").arg(&short).assert().code(2).stderr(
        predicate::str::contains("short.csv: 647 rows is too short to backtest")
            .and(predicate::str::contains("needs 648 rows at least")),
    );
    write_series(&short, 648, |i| (i % 7) as f64);
    cli().arg("backtest").arg(&short).assert().success();
    // Reading history from a directory that holds none says so and writes nothing there.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("keep.txt"), b"mine").unwrap();
    cli()
        .args(["history", "stats", "--history"])
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the directory holds none"));
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);
    cli()
        .args(["detect", "/nonexistent/x.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/x.csv"));
}

#[test]
fn detect_follows_the_anomaly_threshold_of_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bump.csv");
    // Noise of 20..30, then one row at 60: about nine MADs above the median.
    write_series(&csv, 2000, |i| {
        if i == 1500 {
            60.0
        } else {
            20.0 + ((i * 7919) % 11) as f64
        }
    });
    let flagged = |threshold: &str| {
        let cfg = dir.path().join(format!("t{threshold}.toml"));
        std::fs::write(&cfg, format!("[anomaly]\nthreshold = {threshold}\n")).unwrap();
        let out = dir.path().join(format!("a{threshold}.csv"));
        cli()
            .arg("detect")
            .arg(&csv)
            .arg("--out")
            .arg(&out)
            .arg("--config")
            .arg(&cfg)
            .assert()
            .success();
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .skip(1)
            .filter(|l| l.ends_with(",1"))
            .map(|l| l.split(',').nth(1).unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(flagged("3"), vec![ts(1500)]);
    assert!(flagged("15").is_empty(), "a 9-MAD bump is below 15");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[anomaly]\nthreshold = 0\n").unwrap();
    cli()
        .arg("detect")
        .arg(&csv)
        .arg("--config")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("anomaly.threshold").and(predicate::str::contains("1 to 20")),
        );
}

#[test]
fn a_series_without_a_mase_scale_is_named_not_silently_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let flat = dir.path().join("flat.csv");
    write_series(&flat, 660, |_| 5.0);
    let wave = dir.path().join("wave.csv");
    write_series(&wave, 660, |i| 10.0 + (i % 7) as f64);
    cli()
        .arg("backtest")
        .arg(&flat)
        .arg(&wave)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("MASE n/a for flat")
                .and(predicate::str::contains(
                    "MASE medians are over the other 1 series",
                ))
                .and(predicate::str::contains("NaN").not()),
        );
}

#[test]
fn commands_list_and_take_only_the_options_they_use() {
    let help = |sub: &str| {
        let out = cli().args([sub, "--help"]).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let backtest = help("backtest");
    let detect = help("detect");
    for flag in ["--connect", "--read-only", "--history", "--no-history"] {
        assert!(!backtest.contains(flag), "backtest --help lists {flag}");
        assert!(!detect.contains(flag), "detect --help lists {flag}");
    }
    assert!(!backtest.contains("--config"), "backtest reads no config");
    assert!(
        detect.contains("--config"),
        "detect's settings are in the config"
    );
    // The console's help still lists them.
    let main = String::from_utf8(cli().arg("--help").output().unwrap().stdout).unwrap();
    assert!(main.contains("--connect") && main.contains("--history"));

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("s.csv");
    write_series(&csv, 700, |i| (i % 7) as f64);
    cli()
        .args(["backtest", "-c", "test:///default"])
        .arg(&csv)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--connect has no use with `novacron backtest`",
        ));
    cli()
        .args(["detect", "--history"])
        .arg(dir.path())
        .arg(&csv)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--history has no use with `novacron detect`",
        ));
    // The same for the host commands: `list` and `vm` read no history, `history` connects
    // to nothing; their --help leaves those out too.
    for (args, refusal) in [
        (
            &["list", "--history", "/nonexistent"][..],
            "--history has no use with `novacron list`, which reads no history",
        ),
        (
            &["vm", "start", "test", "--no-history"][..],
            "--no-history has no use with `novacron vm`",
        ),
        (
            &["history", "stats", "-c", "test:///default"][..],
            "--connect has no use with `novacron history`, which reads the history database",
        ),
    ] {
        cli()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(refusal));
    }
    let list = help("list");
    assert!(
        !list.contains("--history") && list.contains("--connect"),
        "{list}"
    );
    let stats = String::from_utf8(
        cli()
            .args(["history", "stats", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        !stats.contains("--connect") && stats.contains("--history"),
        "{stats}"
    );
}
