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

/// The counter `field` names, if it is one.
fn block_counter<'a>(b: &'a mut Option<BlockCounters>, field: &str) -> Option<&'a mut u64> {
    // Only counters make a block entry: when NOWAIT skips a VM whose job is busy, libvirt
    // still sends block.count and the disk names, and zeros would read as a counter reset.
    let pick: fn(&mut BlockCounters) -> &mut u64 = match field {
        "rd.bytes" => |b| &mut b.rd_bytes,
        "wr.bytes" => |b| &mut b.wr_bytes,
        "rd.reqs" => |b| &mut b.rd_reqs,
        "wr.reqs" => |b| &mut b.wr_reqs,
        "rd.times" => |b| &mut b.rd_times_ns,
        "wr.times" => |b| &mut b.wr_times_ns,
        _ => return None,
    };
    Some(pick(b.get_or_insert_with(BlockCounters::default)))
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
                if let Some(c) = rest
                    .split_once('.')
                    .and_then(|(_, field)| block_counter(&mut d.block, field))
                {
                    *c += x;
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
    fn a_block_group_skipped_by_nowait_is_absent_not_zero() {
        let mut r = rec(&[("state.state", 1), ("block.count", 1)]);
        r.params
            .push(("block.0.name".into(), ParamValue::Str("vda".into())));
        assert_eq!(decode(&r).block, None);
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
