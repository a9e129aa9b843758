//! Analytics speed: forecasts for 500 series of two days (every model, and the automatic
//! choice alone; target < 1 s), and the anomaly ensemble's cost per sample over series of
//! one, four and eight weeks (flat per sample: O(log n) windows, not O(n)).
//!
//! `cargo bench --bench analytics`
#![allow(clippy::cast_precision_loss)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use novacron::analytics::anomaly::ensemble::{Ensemble, EnsembleConfig};
use novacron::analytics::forecast::{forecast, forecast_all, ForecastConfig, ModelKind};

/// CloudWatch-like rows: a daily wave per series, noise, rare spikes (xorshift, seeded).
fn series(k: u64, n: usize) -> Vec<f64> {
    let mut rng = 12_345u64 + k;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 1_000_000) as f64 / 1e6
    };
    (0..n)
        .map(|i| {
            let base = 20.0
                + (k % 7) as f64 * 5.0
                + 10.0 * (i as f64 / 288.0 * std::f64::consts::TAU).sin();
            base + 5.0 * next() + if next() > 0.99 { 60.0 } else { 0.0 }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cfg = ForecastConfig::default();
    let data: Vec<Vec<f64>> = (0..500).map(|k| series(k, 576)).collect();
    let mut g = c.benchmark_group("forecast_500_series_x_2_days");
    g.sample_size(10);
    g.bench_function("every model (forecast_all)", |b| {
        b.iter(|| {
            data.iter()
                .map(|ys| forecast_all(black_box(ys), 72, &cfg).map_or(0, |v| v.len()))
                .sum::<usize>()
        });
    });
    g.bench_function("automatic choice", |b| {
        b.iter(|| {
            data.iter()
                .filter(|ys| forecast(black_box(ys), 72, ModelKind::Auto, &cfg).is_ok())
                .count()
        });
    });
    g.finish();

    let mut g = c.benchmark_group("ensemble_per_sample");
    for weeks in [1usize, 4, 8] {
        let ys = series(1, 288 * 7 * weeks);
        g.throughput(Throughput::Elements(ys.len() as u64));
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("{weeks} weeks")),
            &ys,
            |b, ys| {
                b.iter(|| {
                    let mut e = Ensemble::new(EnsembleConfig::default());
                    ys.iter()
                        .filter(|&&x| e.update(black_box(x)).is_anomaly)
                        .count()
                });
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
