//! The tiered poll, designed from the measured costs in DESIGN.md: every interval the groups
//! that need no QEMU monitor round trip (state, interface counters, CPU time via `GetInfo`) plus
//! host CPU/memory; the monitor-backed groups (balloon, block, vcpu) on a slower cadence for
//! all VMs, and at the fast cadence only for the VMs the app says are on screen. All bulk
//! calls use NOWAIT so a VM stuck in a job cannot stall the poll.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use virt::connect::Connect;
use virt::domain::Domain;
use virt::sys;

use super::stats::{self, groups, DomainStatsRecord};
use super::{ffi, state};
use crate::domain::{BalloonStats, BlockCounters, CounterSample, HostCounters, NetCounters};
use crate::provider::LibvirtError;

/// The monitor-backed groups.
pub const MONITOR_GROUPS: u32 = groups::BALLOON | groups::BLOCK | groups::VCPU;
const ACTIVE_NOWAIT: u32 = sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE | stats::NOWAIT;

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

/// The cheap poll: state and interface counters for all active domains in one bulk call, plus
/// `virDomainGetInfo` per domain for CPU time, which libvirt reads from /proc.
///
/// # Errors
/// libvirt's error when the bulk call fails.
pub fn cheap(conn: &Connect) -> Result<Vec<CounterSample>, LibvirtError> {
    let recs = stats::all_domain_stats(conn, groups::STATE | groups::INTERFACE, ACTIVE_NOWAIT)?;
    Ok(recs
        .into_iter()
        .map(|r| {
            let info = r.dom.info().ok();
            let d = decode(&r.record);
            let mut s = CounterSample::new(r.record.uuid.clone(), state::vm_state(d.state));
            s.cpu_time_ns = info.as_ref().map(|i| i.cpu_time);
            s.vcpus = info.as_ref().map_or(0, |i| i.nr_virt_cpu);
            s.net = d.net;
            s
        })
        .collect())
}

/// A sample of the monitor-backed groups of one record.
#[must_use]
pub fn monitor_sample(rec: &DomainStatsRecord) -> CounterSample {
    let d = decode(rec);
    let mut s = CounterSample::new(rec.uuid.clone(), state::vm_state(d.state));
    s.block = d.block;
    s.balloon = d.balloon;
    s.vcpu_times_ns = d.vcpu_times_ns;
    s
}

/// The monitor-backed groups, for all active domains (`doms` = None) or just these.
///
/// # Errors
/// libvirt's error when the bulk call fails.
pub fn monitor(
    conn: &Connect,
    doms: Option<&[Domain]>,
) -> Result<Vec<CounterSample>, LibvirtError> {
    let groups = MONITOR_GROUPS | groups::STATE;
    let recs = match doms {
        None => stats::all_domain_stats(conn, groups, ACTIVE_NOWAIT)?,
        Some(d) => stats::list_domain_stats(d, groups, stats::NOWAIT)?,
    };
    Ok(recs
        .iter()
        .filter(|r| r.record.params.len() > 2)
        .map(|r| monitor_sample(&r.record))
        .collect())
}

fn field(v: &[(String, u64)], name: &str) -> u64 {
    v.iter().find(|(k, _)| k == name).map_or(0, |(_, x)| *x)
}

/// Host CPU time split and memory from the node APIs.
///
/// # Errors
/// libvirt's error.
pub fn host(conn: &Connect, cpus: u32) -> Result<HostCounters, LibvirtError> {
    let cpu = ffi::node_cpu_stats(conn)?;
    let mem = ffi::node_memory_stats(conn)?;
    let busy = field(&cpu, "kernel") + field(&cpu, "user");
    Ok(HostCounters {
        cpus,
        cpu_busy_ns: busy,
        cpu_total_ns: busy + field(&cpu, "idle") + field(&cpu, "iowait"),
        mem_total_kib: field(&mem, "total"),
        mem_free_kib: field(&mem, "free"),
        mem_buffers_kib: field(&mem, "buffers"),
        mem_cached_kib: field(&mem, "cached"),
    })
}

/// What one poll tick produced.
#[derive(Debug, Default)]
pub struct Tick {
    pub cheap: Vec<CounterSample>,
    pub monitor: Vec<CounterSample>,
    pub host: Option<HostCounters>,
    /// Wall time of the cheap part (the per-interval cost).
    pub cheap_ms: f64,
}

/// Schedules the tiers of one connection.
#[derive(Debug)]
pub struct Poller {
    pub interval: Duration,
    pub slow_interval: Duration,
    last_slow: Option<Instant>,
    /// UUIDs of the VMs on screen: their monitor groups come every interval.
    pub watched: HashSet<String>,
    pub overruns: u64,
    cpus: u32,
}

impl Poller {
    #[must_use]
    pub fn new(interval: Duration, slow_interval: Duration) -> Self {
        Self {
            interval,
            slow_interval,
            last_slow: None,
            watched: HashSet::new(),
            overruns: 0,
            cpus: 0,
        }
    }

    /// Runs the tiers due now.
    ///
    /// # Errors
    /// The cheap tier's error (the connection is likely gone); failures of the other tiers are
    /// logged and leave their part empty.
    pub fn tick(&mut self, conn: &Connect) -> Result<Tick, LibvirtError> {
        let t0 = Instant::now();
        let cheap = cheap(conn)?;
        let cheap_ms = t0.elapsed().as_secs_f64() * 1000.0;
        if self.cpus == 0 {
            self.cpus = conn.node_info().map_or(0, |n| n.cpus);
        }
        let host = host(conn, self.cpus)
            .map_err(|e| tracing::debug!("host stats unavailable: {e}"))
            .ok();
        let slow_due = self
            .last_slow
            .is_none_or(|t| t.elapsed() >= self.slow_interval);
        let monitor_result = if slow_due {
            self.last_slow = Some(Instant::now());
            monitor(conn, None)
        } else if self.watched.is_empty() {
            Ok(Vec::new())
        } else {
            let doms: Vec<Domain> = self
                .watched
                .iter()
                .filter_map(|u| conn.lookup_domain_by_uuid_string(u).ok())
                .filter(|d| d.is_active().unwrap_or(false))
                .collect();
            monitor(conn, Some(&doms))
        };
        let monitor = monitor_result
            .map_err(|e| tracing::debug!("monitor-backed stats skipped: {e}"))
            .unwrap_or_default();
        if t0.elapsed() > self.interval {
            // The next tick is scheduled from now, so the ticks this one overran are skipped.
            self.overruns += 1;
        }
        Ok(Tick {
            cheap,
            monitor,
            host,
            cheap_ms,
        })
    }
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
