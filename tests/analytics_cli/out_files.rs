//! `--out`: the file is complete or absent, never an input, keeps every digit, quotes odd
//! names, goes to standard output on request, and writes the protocol's UTC times.

use super::*;

#[test]
fn out_files_are_complete_or_absent_and_never_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    for d in [&a, &b] {
        write_series(&d.join("s.csv"), 700, |i| (i % 7) as f64);
    }
    cli()
        .arg("detect")
        .arg(a.join("s.csv"))
        .arg(b.join("s.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("are both series \"s\""));
    let input = a.join("s.csv");
    let before = std::fs::read(&input).unwrap();
    cli()
        .arg("backtest")
        .arg(&input)
        .arg("--out")
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is also an input"));
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is untouched"
    );
    // A byte-order mark (spreadsheets write one) is not part of the header.
    let bom = dir.path().join("bom.csv");
    let text = std::fs::read_to_string(&input).unwrap();
    std::fs::write(&bom, format!("\u{feff}{text}")).unwrap();
    let out = dir.path().join("d.csv");
    cli()
        .arg("detect")
        .arg(&bom)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 701);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        4,
        "no temp file left"
    );
}

#[test]
fn out_rows_keep_their_precision_quote_odd_names_and_can_go_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    // An error rate around 2e-6: six decimals would write every number as 0.000002.
    let csv = dir.path().join("err,rate.csv");
    write_series(&csv, 660, |i| 2e-6 + ((i * 7919) % 13) as f64 * 1e-7);
    let out = dir.path().join("f.csv");
    cli()
        .arg("backtest")
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2 * 72, "origins 576 and 588");
    for row in &rows {
        // The name holds a comma: quoted, so the row still has six fields after it.
        let rest = row
            .strip_prefix("\"err,rate\",")
            .unwrap_or_else(|| panic!("{row}"));
        let v: Vec<f64> = rest
            .split(',')
            .skip(2)
            .map(|x| x.parse().unwrap())
            .collect();
        assert!(
            v[1] <= v[0] && v[0] <= v[2] && v[1] < v[2],
            "a band, not one number: {row}"
        );
        // More than six decimals: not rounded to a whole millionth.
        assert!(
            v.iter().any(|x| (x * 1e6 - (x * 1e6).round()).abs() > 1e-3),
            "{row}"
        );
    }

    // `--out -`: the rows on standard output, the table on standard error.
    let assert = cli()
        .arg("backtest")
        .arg(&csv)
        .arg("--out")
        .arg("-")
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert_eq!(stdout, text, "the same rows as the file");
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr);
    assert!(stderr.contains("median across 1 series"), "{stderr}");
    assert!(!dir.path().join("-").exists());

    // /dev/stdout when standard output is a pipe: written straight, not renamed into.
    cli()
        .arg("detect")
        .arg(&csv)
        .arg("--out")
        .arg("/dev/stdout")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "series,timestamp,score,is_anomaly\n\"err,rate\",2024-01-01 00:00:00,",
        ));
}

#[test]
fn out_to_the_file_stdout_already_is_and_a_reader_that_leaves() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("s.csv");
    write_series(&csv, 20_000, |i| 10.0 + (i % 7) as f64);
    // `--out /dev/stdout > file`: opening the path again would write over the table from the
    // file's start; the rows go through standard output itself, the table to stderr.
    let file = dir.path().join("redirected.txt");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("novacron"))
        .args(["detect", csv.to_str().unwrap(), "--out", "/dev/stdout"])
        .stdout(std::fs::File::create(&file).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("series,timestamp,score,is_anomaly\n"),
        "{}",
        &text[..80]
    );
    assert_eq!(text.lines().count(), 20_001, "every row, nothing torn");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("series "),
        "the table on stderr"
    );

    // `--out - | head`: the reader goes away; that is not an error.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("novacron"))
        .args(["detect", csv.to_str().unwrap(), "--out", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("Broken pipe"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A run stopped by a signal (ctrl-c, `kill`, a dropped ssh session) leaves neither its
/// temporary file nor a partial `--out`, and ends with the signal's exit code.
#[test]
fn a_signal_leaves_no_temporary_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("long.csv");
    write_series(&csv, 40_000, |i| {
        10.0 + (i % 288) as f64 * 0.1 + (i % 7) as f64
    });
    let out = dir.path().join("f.csv");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("novacron"))
        .args([
            "backtest",
            csv.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let temp = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().contains(".tmp-"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !temp() {
        assert!(std::time::Instant::now() < deadline, "no temporary file");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15), "{status:?}");
    assert!(!temp(), "the temporary file is removed");
    assert!(!out.exists(), "no partial result under the final name");
}

/// `--out` writes the protocol's time format in UTC whatever form the input had, and the
/// scores in full.
#[test]
fn detect_out_times_are_the_protocols_utc() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("iso.csv");
    std::fs::write(
        &csv,
        "timestamp,value\n2024-01-01T02:00:00+02:00,1\n2024-01-01T00:05:00Z,2\n",
    )
    .unwrap();
    let out = cli()
        .arg("detect")
        .arg(&csv)
        .args(["--out", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(
        rows,
        ["iso,2024-01-01 00:00:00,0,0", "iso,2024-01-01 00:05:00,0,0"]
    );
}

/// Origins with no observed row before them get no forecast: the file has rows for the
/// others only, and the table says how many were left out.
#[test]
fn origins_with_nothing_before_them_are_counted_not_silently_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("late.csv");
    let mut text = String::from("timestamp,value\n");
    for i in 0..700 {
        let v = if i < 600 {
            String::new()
        } else {
            (10 + i % 7).to_string()
        };
        let _ = writeln!(text, "{},{v}", ts(i));
    }
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("f.csv");
    cli()
        .arg("backtest")
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "note: late: 3 of 5 origins have no observed row before them and get no forecast \
             (no rows in --out)",
        ));
    let rows = std::fs::read_to_string(&out).unwrap().lines().count();
    assert_eq!(
        rows,
        1 + 2 * 72,
        "the two origins with history, 72 steps each"
    );
    // --json has it too.
    let json = cli()
        .arg("backtest")
        .arg(&csv)
        .arg("--json")
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(doc["notes"][0]
        .as_str()
        .is_some_and(|n| n.starts_with("late: 3 of 5 origins")));
}
