#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::many_single_char_names
)]

use super::*;
use proptest::prelude::*;

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6f64..1e6,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0f64),
        1 => any::<f64>(),
        1 => (0u64..1u64 << 40).prop_map(|x| x as f64 * 1e9),
        1 => (0i64..1000).prop_map(|x| x as f64 / 100.0),
    ]
}

fn expected(v: f64, p: Precision) -> u64 {
    quantize(v, p).map_or(v.to_bits(), |q| dequantize(q, p).to_bits())
}

proptest! {
    /// Any timestamps (unordered, duplicated, negative) and any floats (NaN, ±inf, huge)
    /// come back as the quantised value, or bit-exact when they cannot be quantised.
    #[test]
    fn raw_chunk_round_trips(
        rows in prop::collection::vec((-(1i64 << 40)..(1i64 << 40), any_value()), 0..300),
        d in Precision::MIN_DECIMALS..=Precision::MAX_DECIMALS,
        unit in prop_oneof![Just(1i64), Just(1000), Just(60_000)],
    ) {
        let p = Precision::new(d).unwrap();
        let samples: Vec<Sample> = rows.iter().map(|&(t, v)| Sample { ts_ms: t * unit, value: v }).collect();
        let bytes = encode_raw(&samples, p, unit);
        let back = decode_raw(&bytes).unwrap();
        prop_assert_eq!(back.len(), samples.len());
        for (a, b) in back.iter().zip(&samples) {
            prop_assert_eq!(a.ts_ms, b.ts_ms);
            prop_assert_eq!(a.value.to_bits(), expected(b.value, p), "{} vs {}", a.value, b.value);
        }
        prop_assert_eq!(raw_rows(&bytes).unwrap(), samples.len() as u64);
    }

    #[test]
    fn quantised_values_survive_the_float_round_trip(
        q in -(1i64 << 50)..=(1i64 << 50),
        d in Precision::MIN_DECIMALS..=Precision::MAX_DECIMALS,
    ) {
        let p = Precision::new(d).unwrap();
        prop_assert_eq!(quantize(dequantize(q, p), p), Some(q));
    }

    #[test]
    fn rollup_chunk_round_trips(
        pts in prop::collection::vec((0i64..1_000_000, any::<i64>(), any::<i64>(), any::<i64>(), any::<u32>()), 0..200),
    ) {
        let mut enc = RollupEncoder::new(Precision::new(2).unwrap(), 60_000);
        let points: Vec<RollupPoint> = pts.iter().map(|&(t, min, max, sum, count)| RollupPoint {
            ts_ms: t * 60_000, min, max, sum, count,
        }).collect();
        for p in &points {
            enc.push(p);
        }
        let (prec, back) = decode_rollup(&enc.to_bytes()).unwrap();
        prop_assert_eq!(prec.decimals(), 2);
        prop_assert_eq!(back, points);
    }

    /// Damaged chunks are errors, never panics or huge allocations.
    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), kind in 1u8..=2) {
        let mut b = bytes;
        if let Some(first) = b.first_mut() {
            *first = kind;
        }
        let _ = decode_raw(&b);
        let _ = decode_rollup(&b);
        let _ = raw_rows(&b);
    }

    #[test]
    fn truncation_is_detected_or_harmless(cut in 0usize..100) {
        let samples: Vec<Sample> = (0..100).map(|i| Sample { ts_ms: i * 5000, value: (i as f64).sin() * 50.0 }).collect();
        let bytes = encode_raw(&samples, Precision::new(2).unwrap(), 1000);
        let cut = cut.min(bytes.len().saturating_sub(1));
        prop_assert!(decode_raw(&bytes[..cut]).is_err());
    }
}

#[test]
fn regular_series_compresses_below_one_bit_per_timestamp() {
    let samples: Vec<Sample> = (0..720)
        .map(|i| Sample {
            ts_ms: 1_700_000_000_000 + i * 5000,
            value: 4_294_967_296.0,
        })
        .collect();
    let bytes = encode_raw(&samples, Precision::new(0).unwrap(), 1000);
    assert!(bytes.len() < 60, "{} bytes", bytes.len());
    assert_eq!(decode_raw(&bytes).unwrap(), samples);
    let long: Vec<Sample> = (0..100_000)
        .map(|i| Sample {
            ts_ms: i * 1000,
            value: 1.0,
        })
        .collect();
    assert_eq!(
        decode_raw(&encode_raw(&long, Precision::new(0).unwrap(), 1000)).unwrap(),
        long
    );
}

#[test]
fn empty_and_single_sample_chunks_round_trip() {
    let p = Precision::new(3).unwrap();
    assert!(decode_raw(&encode_raw(&[], p, 1000)).unwrap().is_empty());
    let one = [Sample {
        ts_ms: -5000,
        value: 1.5,
    }];
    assert_eq!(decode_raw(&encode_raw(&one, p, 1000)).unwrap(), one);
}
