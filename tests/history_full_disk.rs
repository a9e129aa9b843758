//! A real sled history database on a file system that fills up: the flushes the disk refuses
//! fail, and once there is room again the next flush writes everything they held, so a
//! clean close and a reopen find every sample (sled itself stops writing after an I/O error
//! until it is reopened, which the store does).
//!
//! Needs a small tmpfs, mounted by the test (root); where mounting is not allowed it is
//! skipped with a message, unless `NOVACRON_REQUIRE_LAB=1` (CI), which makes that a failure.

#![allow(clippy::cast_precision_loss)] // series indices under 1000 as values

use std::path::Path;
use std::process::Command;

use novacron::store::{HistoryStore, Query, Sample, SeriesKey, SledStore, StoreConfig};

const T0: i64 = 1_700_000_040_000;
const SERIES: usize = 200;

fn key(i: usize) -> SeriesKey {
    SeriesKey::vm("qemu:///system", &format!("vm{i}"), "cpu_pct")
}

/// Mounts a tmpfs of `kib` KiB on `dir`; false where that is not allowed.
fn mount_small(dir: &Path, kib: u32) -> bool {
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("NOVACRON_REQUIRE_LAB").as_deref() != Ok("1"),
            "NOVACRON_REQUIRE_LAB=1 but a tmpfs cannot be mounted (run as root)"
        );
        eprintln!("skipping: cannot mount a tmpfs here (needs root)");
    }
    ok
}

struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

/// Fills the file system `dir` is on with a file, leaving `spare` bytes of it unwritten.
fn fill(dir: &Path, spare: u64) -> std::path::PathBuf {
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    for size in [64 << 10, 4 << 10, 1] {
        let chunk = vec![0u8; size];
        while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    }
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(spare)).unwrap();
    filler
}

/// Points of series `i` in the `n` seconds from `T0`, one a second as written.
fn points(store: &SledStore, i: usize, n: i64) -> usize {
    store
        .query(&Query {
            key: key(i),
            from_ms: T0,
            to_ms: T0 + n * 1_000,
            max_points: None,
            step_ms: Some(1_000),
        })
        .unwrap()
        .points
        .len()
}

/// Room for the small log records but not for sled's pages: sled fails writes (the store
/// closes it and opens it again at the next flush), and once there is room nothing is lost.
#[test]
fn sled_failing_a_write_is_reopened_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    if !mount_small(dir.path(), 2048) {
        return;
    }
    let _unmount = Unmount(dir.path());
    let db = dir.path().join("history");
    // Series that stop are sealed after 5 s of data time: each flush then writes to sled.
    let cfg = StoreConfig {
        idle_after_ms: 5_000,
        ..StoreConfig::default()
    };
    let mut store = SledStore::open(&db, cfg.clone()).unwrap();
    let mut expected = vec![0usize; SERIES];
    let mut n = 0;
    let mut round = |store: &mut SledStore, live: std::ops::Range<usize>, n: &mut i64| {
        let batch: Vec<_> = live
            .map(|i| {
                expected[i] += 1;
                let s = Sample {
                    ts_ms: T0 + *n * 1_000,
                    value: i as f64,
                };
                (key(i), s)
            })
            .collect();
        let _ = store.append(&batch);
        *n += 1;
        store.flush().is_err()
    };
    for _ in 0..5 {
        assert!(!round(&mut store, 0..SERIES, &mut n));
    }
    // A little room: log records fit, sled's pages soon do not.
    let filler = fill(dir.path(), 24 << 10);
    let mut refused = 0;
    for k in 0..40 {
        // A different tenth of the series stops every few rounds: sealing, so sled writes.
        let stop = (k / 4) * SERIES / 10;
        if round(&mut store, stop..SERIES, &mut n) {
            refused += 1;
        }
    }
    assert!(refused > 0, "the full disk refused no flush");
    std::fs::remove_file(&filler).unwrap();
    store.flush().unwrap();
    drop(store);
    let store = SledStore::open(&db, cfg).unwrap();
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(points(&store, i, n), *want, "series {i}");
    }
}

#[test]
fn samples_recorded_while_the_disk_was_full_are_written_once_it_has_room() {
    let dir = tempfile::tempdir().unwrap();
    if !mount_small(dir.path(), 1024) {
        return;
    }
    let _unmount = Unmount(dir.path());
    let db = dir.path().join("history");
    let mut store = SledStore::open(&db, StoreConfig::default()).unwrap();
    let batch = |n: i64| -> Vec<(SeriesKey, Sample)> {
        (0..SERIES)
            .map(|i| {
                let s = Sample {
                    ts_ms: T0 + n * 1_000,
                    value: f64::from(u32::try_from(n % 100).unwrap()) + i as f64 / 7.0,
                };
                (key(i), s)
            })
            .collect()
    };
    let mut n = 0;
    for _ in 0..10 {
        store.append(&batch(n)).unwrap();
        n += 1;
    }
    store.flush().unwrap();
    // Fill the file system, then keep recording: flushes fail.
    let filler = fill(dir.path(), 0);
    let mut refused = 0;
    for _ in 0..120 {
        let _ = store.append(&batch(n));
        n += 1;
        if store.flush().is_err() {
            refused += 1;
        }
    }
    assert!(refused > 0, "the full disk refused no flush");
    // Room again: the next flush writes what the refused ones held.
    std::fs::remove_file(&filler).unwrap();
    store.flush().unwrap();
    drop(store);
    let store = SledStore::open(&db, StoreConfig::default()).unwrap();
    for i in 0..SERIES {
        assert_eq!(
            points(&store, i, n),
            usize::try_from(n).unwrap(),
            "series {i}"
        );
    }
}
