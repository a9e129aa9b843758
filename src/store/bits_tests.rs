use super::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn bits_round_trip(items in prop::collection::vec((any::<u64>(), 0u32..=64), 0..200)) {
        let mut w = BitWriter::default();
        for &(v, n) in &items {
            w.write(v, n);
        }
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for &(v, n) in &items {
            let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            prop_assert_eq!(r.read(n).unwrap(), v & mask);
        }
    }

    #[test]
    fn block_round_trip(values in prop::collection::vec(any::<i64>(), 1..=BLOCK),
                        prev in any::<i64>(), prev_delta in any::<i64>()) {
        let mut w = BitWriter::default();
        let mut s = ColState { prev, prev_delta };
        encode_block(&mut w, &mut s, &values);
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        let mut d = ColState { prev, prev_delta };
        let mut out = vec![0; values.len()];
        decode_block(&mut r, &mut d, &mut out).unwrap();
        prop_assert_eq!(out, values);
    }

    #[test]
    fn varint_and_zigzag_round_trip(v in any::<i64>()) {
        let mut out = Vec::new();
        put_varint(&mut out, zigzag(v));
        let mut pos = 0;
        prop_assert_eq!(unzigzag(get_varint(&out, &mut pos).unwrap()), v);
        prop_assert_eq!(pos, out.len());
    }
}

#[test]
fn constant_block_costs_three_bits() {
    let mut w = BitWriter::default();
    let mut s = ColState {
        prev: 7,
        prev_delta: 0,
    };
    encode_block(&mut w, &mut s, &[7; BLOCK]);
    assert_eq!(w.byte_len(), 1);
}

#[test]
fn truncated_input_is_an_error_not_a_panic() {
    let mut r = BitReader::new(&[0xFF]);
    assert!(r.read(9).is_err());
    let mut s = ColState::default();
    let mut out = [0i64; 4];
    assert!(decode_block(&mut BitReader::new(&[0b0110_0000]), &mut s, &mut out).is_err());
}
