//! Decoding of bulk stats records into counters: one pass over the typed parameters, summing
//! per-device counters. Pure; no libvirt calls.

use crate::domain::{BalloonStats, BlockCounters, NetCounters};
use crate::provider::libvirt::stats::DomainStatsRecord;

/// Everything a stats record carries that the console uses, decoded in one pass over its
/// parameters (per-device counters summed over devices).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    pub state: i32,
    pub net: Option<NetCounters>,
    pub block: Option<BlockCounters>,
    pub balloon: Option<BalloonStats>,
    pub vcpu_times_ns: Option<Vec<u64>>,
}

fn add_net(n: &mut NetCounters, field: &str, x: u64) {
    match field {
        "rx.bytes" => n.rx_bytes += x,
        "tx.bytes" => n.tx_bytes += x,
        "rx.pkts" => n.rx_pkts += x,
        "tx.pkts" => n.tx_pkts += x,
        "rx.errs" => n.rx_errs += x,
        "tx.errs" => n.tx_errs += x,
        "rx.drop" => n.rx_drop += x,
        "tx.drop" => n.tx_drop += x,
        _ => {}
    }
}

fn add_block(b: &mut BlockCounters, field: &str, x: u64) {
    match field {
        "rd.bytes" => b.rd_bytes += x,
        "wr.bytes" => b.wr_bytes += x,
        "rd.reqs" => b.rd_reqs += x,
        "wr.reqs" => b.wr_reqs += x,
        "rd.times" => b.rd_times_ns += x,
        "wr.times" => b.wr_times_ns += x,
        _ => {}
    }
}

fn set_balloon(b: &mut BalloonStats, field: &str, x: u64) {
    match field {
        "current" => b.current_kib = x,
        "maximum" => b.maximum_kib = x,
        "available" => b.available_kib = Some(x),
        "unused" => b.unused_kib = Some(x),
        "usable" => b.usable_kib = Some(x),
        "rss" => b.rss_kib = Some(x),
        _ => {}
    }
}

/// Decodes a stats record. Groups absent from it stay `None`.
#[must_use]
pub fn decode(rec: &DomainStatsRecord) -> Decoded {
    let mut d = Decoded::default();
    for (key, value) in &rec.params {
        let Some(x) = value.as_u64() else { continue };
        let Some((group, rest)) = key.split_once('.') else {
            continue;
        };
        match group {
            "state" if rest == "state" => d.state = i32::try_from(x).unwrap_or(0),
            "net" => {
                let n = d.net.get_or_insert_with(NetCounters::default);
                if let Some((_, field)) = rest.split_once('.') {
                    add_net(n, field, x);
                }
            }
            "block" => {
                let b = d.block.get_or_insert_with(BlockCounters::default);
                if let Some((_, field)) = rest.split_once('.') {
                    add_block(b, field, x);
                }
            }
            "balloon" => set_balloon(d.balloon.get_or_insert_with(BalloonStats::default), rest, x),
            "vcpu" => {
                let v = d.vcpu_times_ns.get_or_insert_with(Vec::new);
                if let Some(i) = rest
                    .strip_suffix(".time")
                    .and_then(|i| i.parse::<usize>().ok())
                {
                    if v.len() <= i {
                        v.resize(i + 1, 0);
                    }
                    v[i] = x;
                }
            }
            _ => {}
        }
    }
    // A balloon group without `current` is not a balloon reading.
    if d.balloon.is_some_and(|b| b.current_kib == 0) {
        d.balloon = None;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::libvirt::stats::ParamValue;

    fn rec(params: &[(&str, u64)]) -> DomainStatsRecord {
        DomainStatsRecord {
            uuid: "u".into(),
            name: "n".into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_string(), ParamValue::UInt(*v)))
                .collect(),
        }
    }

    #[test]
    fn decodes_and_sums_devices_in_one_pass() {
        let mut r = rec(&[
            ("state.state", 1),
            ("net.count", 2),
            ("net.0.rx.bytes", 100),
            ("net.1.rx.bytes", 50),
            ("net.1.tx.drop", 3),
            ("block.count", 2),
            ("block.0.wr.bytes", 4096),
            ("block.1.wr.bytes", 4096),
            ("block.1.wr.times", 9),
            ("balloon.current", 98_304),
            ("balloon.available", 90_000),
            ("balloon.unused", 60_000),
            ("vcpu.current", 2),
            ("vcpu.0.time", 7),
            ("vcpu.1.time", 8),
        ]);
        r.params
            .push(("block.0.name".into(), ParamValue::Str("vda".into())));
        let d = decode(&r);
        assert_eq!(d.state, 1);
        let n = d.net.unwrap();
        assert_eq!((n.rx_bytes, n.tx_drop), (150, 3));
        let b = d.block.unwrap();
        assert_eq!((b.wr_bytes, b.wr_times_ns), (8192, 9));
        assert_eq!(d.balloon.unwrap().unused_kib, Some(60_000));
        assert_eq!(d.vcpu_times_ns, Some(vec![7, 8]));
    }

    #[test]
    fn absent_groups_stay_absent() {
        let d = decode(&rec(&[("state.state", 5), ("state.reason", 2)]));
        assert_eq!(
            d,
            Decoded {
                state: 5,
                ..Decoded::default()
            }
        );
    }
}
