//! A child process ingests into a real sled history database and is killed with SIGKILL
//! mid-ingest; the database must reopen cleanly and hold every sample that a flush had
//! acknowledged (so at most the last flush interval is lost), with the exact values.
//!
//! The child is this test binary re-executed with `NOVACRON_CRASH_CHILD=<dir>`.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::many_single_char_names
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use novacron::store::{HistoryStore, Query, Sample, SeriesKey, SledStore, StoreConfig};

const CHILD_ENV: &str = "NOVACRON_CRASH_CHILD";
const SERIES: usize = 50;
const STEP_MS: i64 = 5_000;
/// Batches per flush: the "flush interval" of this test in poll steps.
const BATCHES_PER_FLUSH: i64 = 3;
const T0: i64 = 1_700_000_040_000;

fn key(i: usize) -> SeriesKey {
    SeriesKey::vm(
        "crash-host",
        &format!("vm-{i:03}"),
        if i % 2 == 0 { "cpu_pct" } else { "net_rx_bps" },
    )
}

/// Deterministic value of series `i` at step `n`, already at the metric's precision.
fn value(i: usize, n: i64) -> f64 {
    let x = ((n * 31 + i as i64 * 17) % 1000) as f64;
    if i % 2 == 0 {
        x / 10.0
    } else {
        x * 1024.0
    }
}

fn ack_file(dir: &Path) -> PathBuf {
    dir.join("acked-step")
}

fn read_ack(dir: &Path) -> Option<i64> {
    std::fs::read_to_string(ack_file(dir))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Child: ingest forever from where the database left off, acknowledging each flush.
fn child(dir: &Path) -> ! {
    let db = dir.join("history");
    let mut store = SledStore::open(&db, StoreConfig::default()).expect("child open");
    let mut n = store
        .latest(&key(0))
        .expect("latest")
        .map_or(0, |s| (s.ts_ms - T0) / STEP_MS + 1);
    loop {
        let batch: Vec<(SeriesKey, Sample)> = (0..SERIES)
            .map(|i| {
                (
                    key(i),
                    Sample {
                        ts_ms: T0 + n * STEP_MS,
                        value: value(i, n),
                    },
                )
            })
            .collect();
        store.append(&batch).expect("append");
        if n % BATCHES_PER_FLUSH == BATCHES_PER_FLUSH - 1 {
            store.flush().expect("flush");
            let tmp = dir.join("acked-step.tmp");
            let mut f = std::fs::File::create(&tmp).expect("ack");
            write!(f, "{n}").expect("ack");
            f.sync_all().expect("ack");
            std::fs::rename(&tmp, ack_file(dir)).expect("ack");
        }
        n += 1;
    }
}

fn run_and_kill(dir: &Path, wait_for_acks: i64, extra_ms: u64) {
    let before = read_ack(dir).unwrap_or(-1);
    let mut c = Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "sigkill_mid_ingest_loses_at_most_one_flush_interval",
            "--nocapture",
        ])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let deadline = Instant::now() + Duration::from_secs(60);
    while read_ack(dir).unwrap_or(-1) < before + wait_for_acks * BATCHES_PER_FLUSH {
        assert!(Instant::now() < deadline, "child made no progress");
        assert!(c.try_wait().expect("wait").is_none(), "child exited early");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(extra_ms));
    c.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    c.wait().expect("reap");
}

fn verify(dir: &Path) -> i64 {
    let acked = read_ack(dir).expect("an acknowledged flush");
    let store = SledStore::open(&dir.join("history"), StoreConfig::default())
        .expect("reopen after SIGKILL");
    let mut newest = i64::MIN;
    for i in 0..SERIES {
        let got = store
            .raw_range(&key(i), T0, i64::MAX / 4)
            .expect("raw_range");
        // every acknowledged sample is there, exactly; anything after is a contiguous prefix
        let expect_at_least = usize::try_from(acked + 1).expect("steps");
        assert!(
            got.len() >= expect_at_least,
            "series {i}: {} samples, acknowledged {expect_at_least}",
            got.len()
        );
        for (n, s) in got.iter().enumerate() {
            let n = i64::try_from(n).expect("n");
            assert_eq!(
                (s.ts_ms, s.value),
                (T0 + n * STEP_MS, value(i, n)),
                "series {i} step {n}"
            );
        }
        let flushed_after_ack = got.len() as i64 - (acked + 1);
        assert!(
            flushed_after_ack <= BATCHES_PER_FLUSH,
            "only one flush can be unacknowledged: {flushed_after_ack}"
        );
        newest = newest.max(got.last().map_or(i64::MIN, |s| s.ts_ms));
        let q = Query {
            key: key(i),
            from_ms: T0,
            to_ms: newest + 1,
            max_points: Some(200),
            step_ms: None,
        };
        let r = store.query(&q).expect("query after crash");
        assert!(!r.points.is_empty());
    }
    (newest - T0) / STEP_MS
}

#[test]
fn sigkill_mid_ingest_loses_at_most_one_flush_interval() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // several kill points, including ones right after a chunk window boundary (720 steps)
    for (round, (acks, extra)) in [(40, 0), (300, 3), (5, 11), (20, 1), (250, 7), (1, 0)]
        .into_iter()
        .enumerate()
    {
        run_and_kill(dir.path(), acks, extra);
        let newest = verify(dir.path());
        eprintln!(
            "round {round}: recovered through step {newest}, acknowledged {}",
            read_ack(dir.path()).unwrap_or(-1)
        );
    }
}
