//! History store benchmarks (criterion).
//!
//! * `history/bytes_per_sample`: 100 VMs × 20 series × 24 h at 5 s through the store API,
//!   flushed every poll, then the database directory is measured (printed; target ≤ 2 B).
//! * `history/ingest`, `history/ingest_flush_each_poll`: samples/s through `append` + `flush`.
//! * `history/query_24h_1min`: one series, last 24 h at 1-minute resolution (target ≤ 5 ms).
//!
//! `NOVACRON_BENCH_HOURS` sets the simulated span (default 24 h under `cargo bench`, 1 h
//! when `cargo test` runs the bench once).

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::many_single_char_names
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use novacron::store::{HistoryStore, Query, SledStore, StoreConfig, Tier};

fn hours() -> u64 {
    std::env::var("NOVACRON_BENCH_HOURS")
        .ok()
        .and_then(|h| h.parse().ok())
        // `cargo test --all-targets` runs benches once without `--bench`: an hour is enough
        // to check they work.
        .unwrap_or(if std::env::args().any(|a| a == "--bench") {
            24
        } else {
            1
        })
}

/// Builds the simulated day once; returns the store, its dir guard and the fleet (for keys).
fn day_store() -> (SledStore, tempfile::TempDir, sim::Fleet, i64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = SledStore::open(dir.path(), StoreConfig::default()).expect("open");
    let mut fleet = sim::Fleet::new(100, 42);
    let steps = hours() * 720;
    let mut batch = Vec::new();
    let t = Instant::now();
    // RSS every simulated 4 h: the store's memory must stay flat over a day.
    let mut rss = Vec::new();
    for step in 0..steps {
        fleet.tick(&mut batch);
        store.append(&batch).expect("append");
        store.flush().expect("flush");
        if step % (4 * 720) == 4 * 720 - 1 {
            rss.push(format!(
                "{}h {:.1}",
                (step + 1) / 720,
                sim::rss_kib().0 as f64 / 1024.0
            ));
        }
    }
    eprintln!("history/rss_mib over the simulated day: {}", rss.join(", "));
    let stats = store.stats().expect("stats");
    let usage = store.disk_usage().expect("usage");
    eprintln!(
        "history/bytes_per_sample: {} samples, {} series, {} B on disk ({} B allocated) = {:.3} B/sample \
         (target <= 2), built in {:.1} s",
        stats.samples,
        stats.series,
        usage.apparent,
        usage.allocated,
        usage.apparent as f64 / stats.samples as f64,
        t.elapsed().as_secs_f64()
    );
    let end = fleet.t0 + steps as i64 * fleet.interval_ms;
    (store, dir, fleet, end)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("history");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));

    // 10 minutes of data for 2000 series per iteration: `ingest` flushes once at the end (the
    // writer flushes every 5 s of wall time, i.e. rarely at 1 M samples/s), `ingest_flush_each_poll`
    // flushes (and fsyncs the log) after every 2000-sample poll.
    let polls = 120;
    g.throughput(Throughput::Elements(polls * 2000));
    for (name, flush_each) in [("ingest", false), ("ingest_flush_each_poll", true)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store = SledStore::open(dir.path(), StoreConfig::default()).expect("open");
                    let mut fleet = sim::Fleet::new(100, 1);
                    let batches: Vec<_> = (0..polls)
                        .map(|_| {
                            let mut b = Vec::new();
                            fleet.tick(&mut b);
                            b
                        })
                        .collect();
                    (store, dir, batches)
                },
                |(mut store, dir, batches)| {
                    for b in &batches {
                        store.append(b).expect("append");
                        if flush_each {
                            store.flush().expect("flush");
                        }
                    }
                    store.flush().expect("flush");
                    (store, dir)
                },
                BatchSize::PerIteration,
            );
        });
    }

    let (store, _dir, fleet, end) = day_store();
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("query_24h_1min", |b| {
        b.iter(|| {
            i = (i + 7) % fleet.keys.len();
            let q = Query {
                key: fleet.keys[i].clone(),
                from_ms: end - 86_400_000,
                to_ms: end,
                max_points: Some(1440),
                step_ms: None,
            };
            let r = store.query(&q).expect("query");
            assert_eq!(r.tier, Tier::Minute);
            black_box(r.points.len())
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

#[allow(dead_code)] // shared with the scratch measurement binaries
mod sim {
    // Simulated fleet: N VMs × 20 metrics at a fixed poll interval, values shaped like what the
    // libvirt poller derives (rates from counter deltas, so long float tails).

    use novacron::store::{Sample, SeriesKey};

    pub const METRICS: [&str; 20] = [
        "cpu_pct",
        "cpu_steal_pct",
        "vcpu0_pct",
        "vcpu1_pct",
        "mem_used_bytes",
        "mem_avail_bytes",
        "balloon_bytes",
        "disk_rd_bps",
        "disk_wr_bps",
        "disk_rd_iops",
        "disk_wr_iops",
        "net_rx_bps",
        "net_tx_bps",
        "net_rx_pps",
        "net_tx_pps",
        "net_rx_drop_total",
        "disk_rd_bytes_total",
        "net_rx_bytes_total",
        "cpu_seconds",
        "state",
    ];

    pub struct Rng(u64);
    impl Rng {
        pub fn new(seed: u64) -> Self {
            Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        pub fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        pub fn f(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
        pub fn normal(&mut self) -> f64 {
            let (a, b) = (self.f().max(1e-12), self.f());
            (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
        }
        pub fn chance(&mut self, p: f64) -> bool {
            self.f() < p
        }
    }

    struct Vm {
        class: u8, // 0 idle, 1 moderate, 2 busy
        cpu_base: f64,
        mem: f64,
        avail: f64,
        balloon: f64,
        counters: [f64; 3],
        cpu_s: f64,
        drops: f64,
        burst: u32,
    }

    pub struct Fleet {
        pub keys: Vec<SeriesKey>,
        vms: Vec<Vm>,
        rng: Rng,
        pub interval_ms: i64,
        pub t0: i64,
        pub step: u64,
    }

    impl Fleet {
        pub fn new(n_vms: usize, seed: u64) -> Self {
            let mut rng = Rng::new(seed);
            let mut keys = Vec::new();
            let mut vms = Vec::new();
            for i in 0..n_vms {
                let uuid = format!("{:08x}-0000-4000-8000-{:012x}", rng.next_u64() as u32, i);
                let host = format!("kvm{}", i % 4);
                for m in METRICS {
                    keys.push(SeriesKey::vm(&host, &uuid, m));
                }
                let class = match rng.f() {
                    x if x < 0.4 => 0,
                    x if x < 0.8 => 1,
                    _ => 2,
                };
                let cpu_base = match class {
                    0 => 0.5 + rng.f() * 1.5,
                    1 => 5.0 + rng.f() * 15.0,
                    _ => 20.0 + rng.f() * 60.0,
                };
                let mem = (1u64 << 30) as f64 * (1.0 + (rng.next_u64() % 8) as f64);
                vms.push(Vm {
                    class,
                    cpu_base,
                    mem: (mem * (0.3 + 0.5 * rng.f())).round(),
                    avail: (mem * 0.4).round(),
                    balloon: mem,
                    counters: [0.0; 3],
                    cpu_s: rng.f() * 1e6,
                    drops: 0.0,
                    burst: 0,
                });
            }
            // 2024-01-01 00:17:00 UTC: deliberately not aligned to a chunk window.
            Self {
                keys,
                vms,
                rng,
                interval_ms: 5_000,
                t0: 1_704_068_220_000,
                step: 0,
            }
        }

        pub fn series(&self) -> usize {
            self.keys.len()
        }

        /// The next poll: one sample per series, all stamped with the tick time (+ jitter).
        pub fn tick(&mut self, out: &mut Vec<(SeriesKey, Sample)>) {
            out.clear();
            let jitter = (self.rng.next_u64() % 40) as i64;
            let ts = self.t0 + self.step as i64 * self.interval_ms + jitter;
            let secs = self.interval_ms as f64 / 1000.0;
            let phase = (self.step as f64 / 720.0).sin();
            for (vi, vm) in self.vms.iter_mut().enumerate() {
                let r = &mut self.rng;
                let noise = [0.3, 1.0, 3.0][vm.class as usize];
                let cpu =
                    (vm.cpu_base * (1.0 + 0.3 * phase) + noise * r.normal()).clamp(0.0, 100.0);
                // derived from cpu time deltas in ns: long float tails
                let cpu_ns = (cpu / 100.0 * secs * 1e9).round();
                let cpu_pct = cpu_ns / (secs * 1e9) * 100.0;
                let steal = if r.chance(0.05) { r.f() * 0.5 } else { 0.0 };
                let v0 = (cpu_pct * (0.5 + 0.1 * r.normal())).clamp(0.0, 100.0);
                let v1 = (2.0 * cpu_pct - v0).clamp(0.0, 100.0);
                if r.chance(0.002) {
                    vm.mem += ((r.next_u64() % 64) as f64 - 32.0) * 1_048_576.0;
                    vm.avail = (vm.balloon - vm.mem) * 0.8;
                }
                if vm.burst == 0 && r.chance([0.003, 0.02, 0.05][vm.class as usize]) {
                    vm.burst = 1 + (r.next_u64() % 24) as u32;
                }
                let bursting = vm.burst > 0;
                vm.burst = vm.burst.saturating_sub(1);
                let sector_ops = |r: &mut Rng, base: f64| -> f64 {
                    if bursting {
                        (base * 50.0 * (0.5 + r.f())).round()
                    } else if r.chance(base / 10.0) {
                        (base * r.f() * 4.0).round()
                    } else {
                        0.0
                    }
                };
                let rd_ops = sector_ops(r, [0.1, 1.0, 4.0][vm.class as usize]);
                let wr_ops = sector_ops(r, [0.5, 3.0, 8.0][vm.class as usize]);
                let rd_bytes = rd_ops * 4096.0 * (1.0 + (r.next_u64() % 8) as f64);
                let wr_bytes = wr_ops * 4096.0 * (1.0 + (r.next_u64() % 4) as f64);
                let pkt_rate = [0.5, 20.0, 300.0][vm.class as usize] * (1.0 + 0.5 * phase);
                let rx_p = (pkt_rate * secs * (1.0 + 0.3 * r.normal()).max(0.0)).round();
                let tx_p = (rx_p * (0.6 + 0.2 * r.f())).round();
                let rx_b = (rx_p * (64.0 + r.f() * 1400.0)).round();
                let tx_b = (tx_p * (64.0 + r.f() * 600.0)).round();
                if r.chance(0.001) {
                    vm.drops += 1.0;
                }
                vm.counters[0] += rd_bytes;
                vm.counters[1] += rx_b;
                vm.cpu_s += cpu_ns / 1e9;
                let values = [
                    cpu_pct,
                    steal,
                    v0,
                    v1,
                    vm.mem,
                    vm.avail,
                    vm.balloon,
                    rd_bytes / secs,
                    wr_bytes / secs,
                    rd_ops / secs,
                    wr_ops / secs,
                    rx_b / secs,
                    tx_b / secs,
                    rx_p / secs,
                    tx_p / secs,
                    vm.drops,
                    vm.counters[0],
                    vm.counters[1],
                    vm.cpu_s,
                    1.0,
                ];
                for (mi, v) in values.into_iter().enumerate() {
                    out.push((
                        self.keys[vi * 20 + mi].clone(),
                        Sample {
                            ts_ms: ts,
                            value: v,
                        },
                    ));
                }
            }
            self.step += 1;
        }
    }

    pub fn rss_kib() -> (u64, u64) {
        let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let get = |k: &str| {
            s.lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (get("VmRSS:"), get("VmHWM:"))
    }
}
