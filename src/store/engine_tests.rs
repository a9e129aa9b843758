#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::many_single_char_names
)]

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;

use super::super::codec::{dequantize, quantize};
use super::super::kv::{Kv, MemKv};
use super::super::retention::Retention;
use super::super::rollup::floor_to;
use super::super::{Point, Query, Sample, SeriesKey, StoreConfig, StoreError, Tier};
use super::Engine;

const T0: i64 = 1_700_000_017_000;

fn key(i: usize) -> SeriesKey {
    let metric = ["cpu_pct", "net_rx_bps", "load"][i % 3];
    SeriesKey::vm("h", &format!("vm{i}"), metric)
}

/// Every accepted sample, quantised as the store keeps it: the brute-force reference.
#[derive(Default)]
struct Reference {
    series: BTreeMap<SeriesKey, Vec<(i64, f64)>>,
}

impl Reference {
    fn push(&mut self, cfg: &StoreConfig, k: &SeriesKey, s: Sample) {
        let q = cfg.ts_quantum_ms;
        let ts = floor_to(s.ts_ms + q / 2, q);
        let v = self.series.entry(k.clone()).or_default();
        if v.last().is_some_and(|&(t, _)| ts <= t) {
            return;
        }
        let p = cfg.precision.for_metric(&k.metric);
        v.push((
            ts,
            quantize(s.value, p).map_or(s.value, |x| dequantize(x, p)),
        ));
    }

    fn buckets(&self, k: &SeriesKey, from: i64, to: i64, step: i64) -> Vec<Point> {
        let mut m: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for &(t, v) in self.series.get(k).into_iter().flatten() {
            if t >= from && t < to && v.is_finite() {
                m.entry(floor_to(t, step)).or_default().push(v);
            }
        }
        m.into_iter()
            .map(|(ts, vs)| Point {
                ts_ms: ts,
                min: vs.iter().copied().fold(f64::INFINITY, f64::min),
                max: vs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                avg: vs.iter().sum::<f64>() / vs.len() as f64,
                count: vs.len() as u32,
            })
            .collect()
    }
}

fn assert_points_eq(got: &[Point], want: &[Point]) {
    assert_eq!(got.len(), want.len(), "bucket count");
    for (g, w) in got.iter().zip(want) {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
        assert!(g.ts_ms == w.ts_ms && g.count == w.count, "{g:?} != {w:?}");
        assert!(
            close(g.min, w.min) && close(g.max, w.max) && close(g.avg, w.avg),
            "{g:?} != {w:?}"
        );
    }
}

/// Feeds `hours` of 3 series at `every_ms` with occasional gaps, late and non-finite samples.
fn feed(
    e: &mut Engine<impl Kv>,
    r: &mut Reference,
    hours: i64,
    every_ms: i64,
    seed: u64,
    flush_every: usize,
    flaky: bool,
) {
    let mut x = seed | 1;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let steps = hours * 3_600_000 / every_ms;
    for step in 0..steps {
        let mut batch = Vec::new();
        for i in 0..3 {
            if rnd() % 50 == 0 {
                continue; // gap
            }
            let jitter = (rnd() % 300) as i64 - 150;
            let late = if rnd() % 200 == 0 { -3 * every_ms } else { 0 };
            let value = match rnd() % 400 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                _ => (rnd() % 100_000) as f64 / 997.0 * if i == 1 { 1000.0 } else { 1.0 },
            };
            let s = Sample {
                ts_ms: T0 + step * every_ms + jitter + late,
                value,
            };
            r.push(&e.cfg, &key(i), s);
            batch.push((key(i), s));
        }
        e.append(&batch).unwrap();
        if step as usize % flush_every == 0 {
            // A failing disk (FlakyKv) fails some flushes; the next one catches up.
            if let Err(err) = e.flush() {
                assert!(flaky, "{err}");
            }
        }
    }
}

fn query(e: &Engine<impl Kv>, k: &SeriesKey, from: i64, to: i64, step: i64) -> (Tier, Vec<Point>) {
    let r = e
        .query(&Query {
            key: k.clone(),
            from_ms: from,
            to_ms: to,
            max_points: None,
            step_ms: Some(step),
        })
        .unwrap();
    assert_eq!(r.step_ms, step);
    (r.tier, r.points)
}

#[test]
fn queries_match_brute_force_at_every_tier() {
    let mut e = Engine::new(MemKv::default(), StoreConfig::default());
    let mut r = Reference::default();
    feed(&mut e, &mut r, 30, 5_000, 7, 3, false);
    let from = floor_to(T0, 3_600_000) + 3_600_000;
    let to = from + 26 * 3_600_000;
    for i in 0..3 {
        let k = key(i);
        for (step, tier) in [
            (5_000, Tier::Raw),
            (60_000, Tier::Minute),
            (300_000, Tier::Minute),
            (3_600_000, Tier::Hour),
        ] {
            let (t, got) = query(&e, &k, from, to, step);
            assert_eq!(t, tier);
            assert_points_eq(&got, &r.buckets(&k, from, to, step));
        }
        // ranges ending in the open (unsealed) window see the newest data too
        let end = e.now + 1;
        let (_, got) = query(
            &e,
            &k,
            floor_to(end, 60_000) - 3_600_000,
            floor_to(end, 60_000) + 60_000,
            60_000,
        );
        assert_points_eq(
            &got,
            &r.buckets(
                &k,
                floor_to(end, 60_000) - 3_600_000,
                floor_to(end, 60_000) + 60_000,
                60_000,
            ),
        );
    }
    assert!(e.dropped_late > 0, "the feed includes late samples");
}

#[test]
fn raw_range_returns_every_accepted_sample_bit_exact() {
    let mut e = Engine::new(MemKv::default(), StoreConfig::default());
    let mut r = Reference::default();
    feed(&mut e, &mut r, 3, 5_000, 11, 1, false);
    for i in 0..3 {
        let got = e.raw_range(&key(i), i64::MIN / 4, i64::MAX / 4).unwrap();
        let want = &r.series[&key(i)];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.ts_ms, g.value.to_bits()), (w.0, w.1.to_bits()));
        }
        assert_eq!(
            e.latest(&key(i)).unwrap().map(|s| s.ts_ms),
            want.last().map(|w| w.0)
        );
    }
    assert_eq!(
        e.samples(),
        r.series.values().map(|v| v.len() as u64).sum::<u64>()
    );
}

#[test]
fn recovery_keeps_everything_flushed_and_loses_only_the_unflushed_interval() {
    let cfg = StoreConfig::default();
    let mut e = Engine::new(MemKv::default(), cfg.clone());
    let mut r = Reference::default();
    feed(&mut e, &mut r, 7, 5_000, 3, 1, false);
    e.flush().unwrap();
    let unflushed = Sample {
        ts_ms: e.now + 5_000,
        value: 1.0,
    };
    e.append(&[(key(0), unflushed)]).unwrap();
    let kv = e.kv; // "kill -9": no flush
    let e = Engine::open(kv, cfg).unwrap();
    assert_eq!(
        e.latest(&key(0)).unwrap().map(|s| s.ts_ms),
        r.series[&key(0)].last().map(|w| w.0)
    );
    let from = floor_to(T0, 3_600_000);
    let to = from + 8 * 3_600_000;
    for i in 0..3 {
        for step in [5_000, 60_000, 3_600_000] {
            assert_points_eq(
                &query(&e, &key(i), from, to, step).1,
                &r.buckets(&key(i), from, to, step),
            );
        }
    }
}

/// A disk that refuses some writes: every third log write and every fifth sled write fail,
/// before anything is written (`ENOSPC`).
#[derive(Default)]
struct FlakyKv {
    inner: MemKv,
    failing: bool,
    /// Every write fails (a disk that stays full).
    full: bool,
    writes: u64,
}

impl FlakyKv {
    fn refuse(&mut self, every: u64) -> Result<(), StoreError> {
        self.writes += 1;
        if self.full || (self.failing && self.writes % every == 1) {
            return Err(StoreError::Io {
                path: "flaky".into(),
                source: std::io::Error::from_raw_os_error(28),
            });
        }
        Ok(())
    }
}

impl Kv for FlakyKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }
    fn range(&self, lo: &[u8], hi: &[u8]) -> Result<super::super::kv::Pairs, StoreError> {
        self.inner.range(lo, hi)
    }
    fn count(&self, lo: &[u8], hi: &[u8]) -> Result<u64, StoreError> {
        self.inner.count(lo, hi)
    }
    fn apply(&mut self, ops: Vec<super::super::kv::KvOp>) -> Result<(), StoreError> {
        self.refuse(5)?;
        self.inner.apply(ops)
    }
    fn sync(&mut self) -> Result<(), StoreError> {
        self.inner.sync()
    }
    fn disk_bytes(&self) -> Result<u64, StoreError> {
        self.inner.disk_bytes()
    }
    fn wal_take(&mut self) -> super::super::kv::Records {
        self.inner.wal_take()
    }
    fn wal_write(&mut self, record: Option<(u64, &[u8])>, reset: bool) -> Result<(), StoreError> {
        self.refuse(3)?;
        self.inner.wal_write(record, reset)
    }
    fn path(&self) -> Option<&std::path::Path> {
        None
    }
}

#[test]
fn flushes_a_full_disk_refused_lose_nothing_once_one_succeeds() {
    let cfg = StoreConfig::default();
    let mut e = Engine::new(FlakyKv::default(), cfg.clone());
    let mut r = Reference::default();
    e.kv.failing = true;
    // Seven hours with flushes failing now and then: hourly chunks seal meanwhile.
    feed(&mut e, &mut r, 7, 5_000, 3, 1, true);
    e.kv.failing = false;
    e.flush().unwrap();
    assert!(e.kv.writes > 100, "the disk was asked");
    let e = Engine::open(e.kv.inner, cfg).unwrap(); // "kill -9" after the flush
    assert_eq!(e.unlogged, 0);
    let from = floor_to(T0, 3_600_000);
    let to = from + 8 * 3_600_000;
    for i in 0..3 {
        assert_eq!(
            e.latest(&key(i)).unwrap().map(|s| s.ts_ms),
            r.series[&key(i)].last().map(|w| w.0)
        );
        for step in [5_000, 60_000, 3_600_000] {
            assert_points_eq(
                &query(&e, &key(i), from, to, step).1,
                &r.buckets(&key(i), from, to, step),
            );
        }
    }
}

#[test]
fn a_disk_full_for_long_holds_at_most_the_newest_rows_to_log() {
    let cfg = StoreConfig {
        max_pending_samples: 100,
        ..StoreConfig::default()
    };
    let mut e = Engine::new(FlakyKv::default(), cfg.clone());
    e.kv.full = true;
    let k = key(0);
    for i in 0..50 {
        let batch: Vec<_> = (0..10)
            .map(|j| {
                let s = Sample {
                    ts_ms: T0 + (i * 10 + j) * 1_000,
                    value: 1.0,
                };
                (k.clone(), s)
            })
            .collect();
        // Each append past the cap tries a flush, which the disk refuses.
        let _ = e.append(&batch);
        assert!(e.pending_rows.len() <= 110, "{}", e.pending_rows.len());
    }
    assert!(e.unlogged > 0);
    e.kv.full = false;
    e.flush().unwrap();
    let e = Engine::open(e.kv.inner, cfg).unwrap();
    // The newest rows were kept for the log.
    assert_eq!(
        e.latest(&k).unwrap().map(|s| s.ts_ms),
        Some(T0 + 499 * 1_000)
    );
}

#[test]
fn retention_removes_expired_windows_like_the_brute_force_rule() {
    let cfg = StoreConfig {
        retention: Retention {
            raw: Duration::from_secs(2 * 3600),
            minute: Duration::from_secs(5 * 3600),
            hour: Duration::from_secs(30 * 3600),
        },
        ..StoreConfig::default()
    };
    let mut e = Engine::new(MemKv::default(), cfg.clone());
    let mut r = Reference::default();
    feed(&mut e, &mut r, 12, 10_000, 5, 6, false);
    e.flush().unwrap();
    for tier in Tier::ALL {
        let horizon = cfg.retention.horizon(tier, e.now);
        let win = tier.chunk_window_ms();
        for (k, _) in
            e.kv.range(&[b'C', tier as u8], &[b'C', tier as u8 + 1])
                .unwrap()
        {
            let w = i64::from_be_bytes(k[2..10].try_into().unwrap()) ^ i64::MIN;
            assert!(
                w + win > horizon,
                "{tier:?} window {w} should have expired (horizon {horizon})"
            );
            assert_eq!(k.len(), 14);
        }
    }
    // raw data older than the horizon is gone; newer data is complete
    let horizon = cfg.retention.horizon(Tier::Raw, e.now);
    let cut = floor_to(horizon, 3_600_000) + 3_600_000;
    assert!(e
        .raw_range(&key(0), i64::MIN / 4, floor_to(horizon, 3_600_000))
        .unwrap()
        .is_empty());
    let kept = e.raw_range(&key(0), cut, i64::MAX / 4).unwrap();
    let want: Vec<i64> = r.series[&key(0)]
        .iter()
        .map(|w| w.0)
        .filter(|&t| t >= cut)
        .collect();
    assert_eq!(kept.iter().map(|s| s.ts_ms).collect::<Vec<_>>(), want);
    let expect_samples: u64 = r
        .series
        .values()
        .flatten()
        .filter(|(t, _)| floor_to(*t, 3_600_000) + 3_600_000 > horizon)
        .count() as u64;
    assert_eq!(e.samples(), expect_samples);
}

#[test]
fn extreme_query_bounds_are_safe() {
    let mut e = Engine::new(MemKv::default(), StoreConfig::default());
    let k = key(0);
    let all = Query {
        key: k.clone(),
        from_ms: i64::MIN,
        to_ms: i64::MAX,
        max_points: Some(10),
        step_ms: None,
    };
    assert!(e.query(&all).unwrap().points.is_empty());
    e.append(&[(
        k.clone(),
        Sample {
            ts_ms: T0,
            value: 1.0,
        },
    )])
    .unwrap();
    assert_eq!(
        e.query(&all)
            .unwrap()
            .points
            .iter()
            .map(|p| p.count)
            .sum::<u32>(),
        1
    );
    assert_eq!(e.raw_range(&k, i64::MIN, i64::MAX).unwrap().len(), 1);
    let raw = Query {
        step_ms: Some(1),
        max_points: None,
        ..all
    };
    assert_eq!(
        e.query(&raw).unwrap().tier,
        Tier::Hour,
        "range older than every tier's horizon"
    );
}

#[test]
fn idle_series_is_sealed_and_extended_when_it_returns() {
    let cfg = StoreConfig {
        idle_after_ms: 60_000,
        ..StoreConfig::default()
    };
    let mut e = Engine::new(MemKv::default(), cfg);
    let t = floor_to(T0, 3_600_000);
    let (a, b) = (key(0), key(1));
    e.append(&[
        (
            a.clone(),
            Sample {
                ts_ms: t,
                value: 1.0,
            },
        ),
        (
            b.clone(),
            Sample {
                ts_ms: t,
                value: 1.0,
            },
        ),
    ])
    .unwrap();
    for i in 1..40 {
        e.append(&[(
            b.clone(),
            Sample {
                ts_ms: t + i * 5_000,
                value: 2.0,
            },
        )])
        .unwrap();
        e.flush().unwrap();
    }
    assert!(e.open[0].is_none(), "idle series dropped from memory");
    e.append(&[(
        a.clone(),
        Sample {
            ts_ms: t + 200_000,
            value: 3.0,
        },
    )])
    .unwrap();
    e.flush().unwrap();
    let got: Vec<f64> = e
        .raw_range(&a, t, t + 3_600_000)
        .unwrap()
        .iter()
        .map(|s| s.value)
        .collect();
    assert_eq!(got, vec![1.0, 3.0]);
    let q = query(&e, &a, t, t + 3_600_000, 3_600_000).1;
    assert_eq!((q.len(), q[0].count, q[0].max), (1, 2, 3.0));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    /// Random flush points and crash points: what was flushed is exactly what comes back.
    #[test]
    fn recovery_at_random_points_matches_brute_force(seed in 1u64.., hours in 1i64..5, flush_every in 1usize..40) {
        let cfg = StoreConfig::default();
        let mut e = Engine::new(MemKv::default(), cfg.clone());
        let mut r = Reference::default();
        feed(&mut e, &mut r, hours, 5_000, seed, flush_every, false);
        e.flush().unwrap();
        let e = Engine::open(e.kv, cfg).unwrap();
        let from = floor_to(T0, 3_600_000);
        let to = from + (hours + 1) * 3_600_000;
        for i in 0..3 {
            for step in [5_000, 60_000, 3_600_000] {
                assert_points_eq(&query(&e, &key(i), from, to, step).1, &r.buckets(&key(i), from, to, step));
            }
        }
    }
}
