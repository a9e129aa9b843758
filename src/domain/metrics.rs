//! Derived metric series: what the console charts, stores and alerts on, computed from raw
//! counters. Each stats group keeps its own previous sample because the groups arrive at
//! different cadences (cheap ones every poll, monitor-backed ones more rarely). A counter that
//! goes backwards (VM restarted) yields no value for that step, never a negative or huge one.

use serde::Serialize;

use super::{BalloonStats, BlockCounters, CounterSample, HostCounters, NetCounters};

/// A derived per-VM or per-host series. `name()` is its series name in the history store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// CPU use as a share of the VM's vCPUs.
    CpuPct,
    /// CPU use as a share of the host's CPUs.
    CpuHostPct,
    MemUsedBytes,
    DiskRdBps,
    DiskWrBps,
    DiskRdIops,
    DiskWrIops,
    DiskRdLatMs,
    DiskWrLatMs,
    NetRxBps,
    NetTxBps,
    NetRxPps,
    NetTxPps,
    NetErrsPerS,
    NetDropsPerS,
    /// Host: busy share of all CPUs.
    HostCpuPct,
    HostMemUsedBytes,
    /// Host: vCPUs of running VMs per physical CPU.
    HostVcpuRatio,
    /// Host: memory of running VMs as a share of physical memory.
    HostMemCommittedPct,
}

/// How a value should be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Percent,
    Bytes,
    BytesPerSec,
    PerSec,
    Millis,
    Ratio,
}

impl Unit {
    /// What a raw number of this unit counts, for headless output: "bytes/s".
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Unit::Percent => "%",
            Unit::Bytes => "bytes",
            Unit::BytesPerSec => "bytes/s",
            Unit::PerSec => "per second",
            Unit::Millis => "ms",
            Unit::Ratio => "ratio",
        }
    }
}

impl Metric {
    pub const VM: [Metric; 15] = [
        Metric::CpuPct,
        Metric::CpuHostPct,
        Metric::MemUsedBytes,
        Metric::DiskRdBps,
        Metric::DiskWrBps,
        Metric::DiskRdIops,
        Metric::DiskWrIops,
        Metric::DiskRdLatMs,
        Metric::DiskWrLatMs,
        Metric::NetRxBps,
        Metric::NetTxBps,
        Metric::NetRxPps,
        Metric::NetTxPps,
        Metric::NetErrsPerS,
        Metric::NetDropsPerS,
    ];
    pub const HOST: [Metric; 4] = [
        Metric::HostCpuPct,
        Metric::HostMemUsedBytes,
        Metric::HostVcpuRatio,
        Metric::HostMemCommittedPct,
    ];

    /// What an operator calls the series: "cpu", "memory", "disk writes"; else its name.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Metric::CpuPct | Metric::HostCpuPct => "cpu",
            Metric::MemUsedBytes | Metric::HostMemUsedBytes => "memory",
            Metric::DiskWrBps => "disk writes",
            Metric::NetRxBps => "network in",
            _ => self.name(),
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Metric::CpuPct | Metric::HostCpuPct => "cpu_pct",
            Metric::CpuHostPct => "cpu_host_pct",
            Metric::MemUsedBytes | Metric::HostMemUsedBytes => "mem_used_bytes",
            Metric::DiskRdBps => "disk_rd_bps",
            Metric::DiskWrBps => "disk_wr_bps",
            Metric::DiskRdIops => "disk_rd_iops",
            Metric::DiskWrIops => "disk_wr_iops",
            Metric::DiskRdLatMs => "disk_rd_lat_ms",
            Metric::DiskWrLatMs => "disk_wr_lat_ms",
            Metric::NetRxBps => "net_rx_bps",
            Metric::NetTxBps => "net_tx_bps",
            Metric::NetRxPps => "net_rx_pps",
            Metric::NetTxPps => "net_tx_pps",
            Metric::NetErrsPerS => "net_errs_per_s",
            Metric::NetDropsPerS => "net_drops_per_s",
            Metric::HostVcpuRatio => "vcpu_ratio",
            Metric::HostMemCommittedPct => "mem_committed_pct",
        }
    }

    #[must_use]
    pub fn unit(self) -> Unit {
        match self {
            Metric::CpuPct
            | Metric::CpuHostPct
            | Metric::HostCpuPct
            | Metric::HostMemCommittedPct => Unit::Percent,
            Metric::MemUsedBytes | Metric::HostMemUsedBytes => Unit::Bytes,
            Metric::DiskRdBps | Metric::DiskWrBps | Metric::NetRxBps | Metric::NetTxBps => {
                Unit::BytesPerSec
            }
            Metric::DiskRdLatMs | Metric::DiskWrLatMs => Unit::Millis,
            Metric::HostVcpuRatio => Unit::Ratio,
            _ => Unit::PerSec,
        }
    }

    /// Parses a VM metric's series name, or a short alias (`cpu`, `mem`, `disk`, `net`).
    #[must_use]
    pub fn parse_vm(s: &str) -> Option<Metric> {
        match s {
            "cpu" => Some(Metric::CpuPct),
            "mem" | "memory" => Some(Metric::MemUsedBytes),
            "disk" => Some(Metric::DiskWrBps),
            "net" | "network" => Some(Metric::NetRxBps),
            _ => Metric::VM.into_iter().find(|m| m.name() == s),
        }
    }
}

/// Where a VM's memory-in-use figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemSource {
    /// The guest's own view via the balloon driver: available − unused.
    Guest,
    /// The QEMU process's resident memory (includes caches the guest could drop).
    Rss,
    /// No guest view yet and the RSS held back: a VM whose balloon driver reports (or may
    /// still start to) would otherwise record QEMU's RSS for its first seconds and the
    /// guest's far smaller view after, two measures in one series.
    Waiting,
}

/// How long after a VM is first sampled its memory waits for the guest's view before the
/// QEMU RSS is recorded instead (a guest's balloon driver reports within seconds of boot).
pub const RSS_GRACE_MS: i64 = 120_000;

/// Keeps the previous counters per stats group of one VM and turns new ones into rates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VmRates {
    cpu: Option<(i64, u64)>,
    net: Option<(i64, NetCounters)>,
    block: Option<(i64, BlockCounters)>,
    pub mem_source: Option<MemSource>,
    /// When sampling started (since the last reset), for [`RSS_GRACE_MS`].
    since_ms: Option<i64>,
    /// The guest has reported its own view (kept across resets: a property of the guest),
    /// so its memory series never switches to the RSS.
    guest_seen: bool,
}

#[allow(clippy::cast_precision_loss)]
fn rate(prev: u64, cur: u64, dt_s: f64) -> Option<f64> {
    cur.checked_sub(prev).map(|d| d as f64 / dt_s)
}

fn dt(prev_ms: i64, ts_ms: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (ts_ms > prev_ms).then(|| (ts_ms - prev_ms) as f64 / 1000.0)
}

fn mem_used(b: &BalloonStats) -> Option<(f64, MemSource)> {
    match (b.available_kib, b.unused_kib) {
        #[allow(clippy::cast_precision_loss)]
        (Some(a), Some(u)) if a >= u => Some(((a - u) as f64 * 1024.0, MemSource::Guest)),
        #[allow(clippy::cast_precision_loss)]
        _ => b.rss_kib.map(|r| (r as f64 * 1024.0, MemSource::Rss)),
    }
}

impl VmRates {
    /// Forgets previous counters (the VM stopped), so the next sample starts fresh.
    pub fn reset(&mut self) {
        *self = Self {
            guest_seen: self.guest_seen,
            ..Self::default()
        };
    }

    /// Derives every metric the sample allows; groups missing from it yield nothing.
    pub fn ingest(&mut self, s: &CounterSample, ts_ms: i64, host_cpus: u32) -> Vec<(Metric, f64)> {
        let mut out = Vec::new();
        let since = *self.since_ms.get_or_insert(ts_ms);
        if let Some(ns) = s.cpu_time_ns {
            if let Some((pts, pns)) = self.cpu {
                if let Some(r) = dt(pts, ts_ms).and_then(|d| rate(pns, ns, d)) {
                    let busy_pct = r / 1e9 * 100.0;
                    if s.vcpus > 0 {
                        out.push((
                            Metric::CpuPct,
                            (busy_pct / f64::from(s.vcpus)).clamp(0.0, 100.0),
                        ));
                    }
                    if host_cpus > 0 {
                        out.push((
                            Metric::CpuHostPct,
                            (busy_pct / f64::from(host_cpus)).clamp(0.0, 100.0),
                        ));
                    }
                }
            }
            self.cpu = Some((ts_ms, ns));
        }
        if let Some(n) = s.net {
            if let Some((pts, p)) = self.net {
                if let Some(d) = dt(pts, ts_ms) {
                    let pairs = [
                        (Metric::NetRxBps, p.rx_bytes, n.rx_bytes),
                        (Metric::NetTxBps, p.tx_bytes, n.tx_bytes),
                        (Metric::NetRxPps, p.rx_pkts, n.rx_pkts),
                        (Metric::NetTxPps, p.tx_pkts, n.tx_pkts),
                        (
                            Metric::NetErrsPerS,
                            p.rx_errs + p.tx_errs,
                            n.rx_errs + n.tx_errs,
                        ),
                        (
                            Metric::NetDropsPerS,
                            p.rx_drop + p.tx_drop,
                            n.rx_drop + n.tx_drop,
                        ),
                    ];
                    out.extend(
                        pairs
                            .into_iter()
                            .filter_map(|(m, a, b)| rate(a, b, d).map(|v| (m, v))),
                    );
                }
            }
            self.net = Some((ts_ms, n));
        }
        if let Some(b) = s.block {
            if let Some((pts, p)) = self.block {
                if let Some(d) = dt(pts, ts_ms) {
                    let pairs = [
                        (Metric::DiskRdBps, p.rd_bytes, b.rd_bytes),
                        (Metric::DiskWrBps, p.wr_bytes, b.wr_bytes),
                        (Metric::DiskRdIops, p.rd_reqs, b.rd_reqs),
                        (Metric::DiskWrIops, p.wr_reqs, b.wr_reqs),
                    ];
                    out.extend(
                        pairs
                            .into_iter()
                            .filter_map(|(m, a, c)| rate(a, c, d).map(|v| (m, v))),
                    );
                    out.extend(latency(
                        Metric::DiskRdLatMs,
                        (p.rd_reqs, p.rd_times_ns),
                        (b.rd_reqs, b.rd_times_ns),
                    ));
                    out.extend(latency(
                        Metric::DiskWrLatMs,
                        (p.wr_reqs, p.wr_times_ns),
                        (b.wr_reqs, b.wr_times_ns),
                    ));
                }
            }
            self.block = Some((ts_ms, b));
        }
        if let Some((bytes, src)) = s.balloon.as_ref().and_then(mem_used) {
            let record = match src {
                MemSource::Guest => {
                    self.guest_seen = true;
                    true
                }
                _ => !self.guest_seen && ts_ms - since >= RSS_GRACE_MS,
            };
            if record {
                out.push((Metric::MemUsedBytes, bytes));
            }
            self.mem_source = Some(if record { src } else { MemSource::Waiting });
        }
        out
    }
}

/// Mean latency of the requests completed between two samples, in ms; 0 when none completed.
fn latency(m: Metric, prev: (u64, u64), cur: (u64, u64)) -> Option<(Metric, f64)> {
    let reqs = cur.0.checked_sub(prev.0)?;
    let ns = cur.1.checked_sub(prev.1)?;
    #[allow(clippy::cast_precision_loss)]
    let ms = if reqs == 0 {
        0.0
    } else {
        ns as f64 / reqs as f64 / 1e6
    };
    Some((m, ms))
}

/// Host-level rates: keeps the previous CPU counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostRates {
    cpu: Option<(u64, u64)>,
}

impl HostRates {
    /// Host CPU %, memory used, and the overcommit ratios from the running VMs' sizes.
    pub fn ingest(
        &mut self,
        h: &HostCounters,
        running_vcpus: u64,
        running_mem_kib: u64,
    ) -> Vec<(Metric, f64)> {
        let mut out = Vec::new();
        if h.node_stats {
            self.busy_and_used(h, &mut out);
        }
        #[allow(clippy::cast_precision_loss)]
        {
            if h.cpus > 0 {
                out.push((
                    Metric::HostVcpuRatio,
                    running_vcpus as f64 / f64::from(h.cpus),
                ));
            }
            if h.mem_total_kib > 0 {
                out.push((
                    Metric::HostMemCommittedPct,
                    running_mem_kib as f64 / h.mem_total_kib as f64 * 100.0,
                ));
            }
        }
        out
    }

    /// Host CPU % (from the second sample on) and memory used, from the node statistics.
    fn busy_and_used(&mut self, h: &HostCounters, out: &mut Vec<(Metric, f64)>) {
        if let Some((pbusy, ptotal)) = self.cpu {
            if let (Some(busy), Some(total)) = (
                h.cpu_busy_ns.checked_sub(pbusy),
                h.cpu_total_ns.checked_sub(ptotal),
            ) {
                if total > 0 {
                    #[allow(clippy::cast_precision_loss)]
                    out.push((
                        Metric::HostCpuPct,
                        (busy as f64 / total as f64 * 100.0).clamp(0.0, 100.0),
                    ));
                }
            }
        }
        self.cpu = Some((h.cpu_busy_ns, h.cpu_total_ns));
        let used = h
            .mem_total_kib
            .saturating_sub(h.mem_free_kib + h.mem_buffers_kib + h.mem_cached_kib);
        #[allow(clippy::cast_precision_loss)]
        out.push((Metric::HostMemUsedBytes, used as f64 * 1024.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VmState;

    fn sample(cpu: u64, rx: u64, wr: u64, wr_reqs: u64, wr_ns: u64) -> CounterSample {
        let mut s = CounterSample::new("u", VmState::Running);
        s.cpu_time_ns = Some(cpu);
        s.vcpus = 2;
        s.net = Some(NetCounters {
            rx_bytes: rx,
            ..NetCounters::default()
        });
        s.block = Some(BlockCounters {
            wr_bytes: wr,
            wr_reqs,
            wr_times_ns: wr_ns,
            ..BlockCounters::default()
        });
        s
    }

    fn get(v: &[(Metric, f64)], m: Metric) -> Option<f64> {
        v.iter().find(|(k, _)| *k == m).map(|(_, x)| *x)
    }

    #[test]
    fn first_sample_has_no_rates_second_has_all() {
        let mut r = VmRates::default();
        assert!(r.ingest(&sample(0, 0, 0, 0, 0), 0, 4).is_empty());
        let v = r.ingest(&sample(2_000_000_000, 4000, 8192, 4, 8_000_000), 2000, 4);
        assert_eq!(
            get(&v, Metric::CpuPct),
            Some(50.0),
            "1 s of CPU per s over 2 vCPUs"
        );
        assert_eq!(
            get(&v, Metric::CpuHostPct),
            Some(25.0),
            "… over 4 host CPUs"
        );
        assert_eq!(get(&v, Metric::NetRxBps), Some(2000.0));
        assert_eq!(get(&v, Metric::DiskWrBps), Some(4096.0));
        assert_eq!(get(&v, Metric::DiskWrIops), Some(2.0));
        assert_eq!(get(&v, Metric::DiskWrLatMs), Some(2.0));
    }

    #[test]
    fn counter_reset_after_restart_gives_no_value_never_a_spike() {
        let mut r = VmRates::default();
        r.ingest(&sample(9_000_000_000, 10_000, 10_000, 10, 10), 0, 4);
        let v = r.ingest(&sample(1_000, 10, 10, 1, 1), 5000, 4);
        for m in [
            Metric::CpuPct,
            Metric::NetRxBps,
            Metric::DiskWrBps,
            Metric::DiskWrIops,
            Metric::DiskWrLatMs,
        ] {
            assert_eq!(get(&v, m), None, "{m:?} after a reset: {v:?}");
        }
        assert_eq!(
            get(&v, Metric::NetTxBps),
            Some(0.0),
            "an unchanged counter is a real zero"
        );
        let v = r.ingest(&sample(501_000, 510, 10, 1, 1), 10_000, 4);
        assert_eq!(
            get(&v, Metric::NetRxBps),
            Some(100.0),
            "rates resume from the reset counters"
        );
    }

    #[test]
    fn time_not_moving_forward_gives_nothing() {
        let mut r = VmRates::default();
        r.ingest(&sample(0, 0, 0, 0, 0), 5000, 4);
        assert!(r.ingest(&sample(10, 10, 10, 1, 1), 5000, 4).is_empty());
    }

    #[test]
    fn memory_prefers_the_guest_view_and_says_so() {
        let mut r = VmRates::default();
        let mut s = CounterSample::new("u", VmState::Running);
        s.balloon = Some(BalloonStats {
            available_kib: Some(1000),
            unused_kib: Some(400),
            rss_kib: Some(900),
            ..BalloonStats::default()
        });
        assert_eq!(
            get(&r.ingest(&s, 0, 1), Metric::MemUsedBytes),
            Some(600.0 * 1024.0)
        );
        assert_eq!(r.mem_source, Some(MemSource::Guest));
        // The guest stops reporting: a gap, not the RSS in the guest's series, also after
        // a restart (the guest will report again).
        s.balloon = Some(BalloonStats {
            rss_kib: Some(900),
            ..BalloonStats::default()
        });
        assert_eq!(get(&r.ingest(&s, 1, 1), Metric::MemUsedBytes), None);
        assert_eq!(r.mem_source, Some(MemSource::Waiting));
        r.reset();
        assert_eq!(get(&r.ingest(&s, 10, 1), Metric::MemUsedBytes), None);
        let late = r.ingest(&s, 10 + RSS_GRACE_MS, 1);
        assert_eq!(get(&late, Metric::MemUsedBytes), None);
    }

    #[test]
    fn memory_of_a_guest_without_stats_is_its_rss_after_a_grace() {
        let mut r = VmRates::default();
        let mut s = CounterSample::new("u", VmState::Running);
        s.balloon = Some(BalloonStats {
            rss_kib: Some(900),
            ..BalloonStats::default()
        });
        // A booting guest's balloon driver may not report yet: nothing recorded.
        assert_eq!(get(&r.ingest(&s, 0, 1), Metric::MemUsedBytes), None);
        assert_eq!(r.mem_source, Some(MemSource::Waiting));
        assert_eq!(
            get(&r.ingest(&s, RSS_GRACE_MS, 1), Metric::MemUsedBytes),
            Some(900.0 * 1024.0)
        );
        assert_eq!(r.mem_source, Some(MemSource::Rss));
    }

    #[test]
    fn host_cpu_and_overcommit() {
        let mut h = HostRates::default();
        let c = |busy, total| HostCounters {
            node_stats: true,
            cpus: 2,
            cpu_busy_ns: busy,
            cpu_total_ns: total,
            mem_total_kib: 1000,
            mem_free_kib: 200,
            mem_buffers_kib: 100,
            mem_cached_kib: 100,
        };
        let first = h.ingest(&c(0, 0), 6, 1500);
        assert_eq!(get(&first, Metric::HostCpuPct), None);
        assert_eq!(get(&first, Metric::HostVcpuRatio), Some(3.0));
        assert_eq!(get(&first, Metric::HostMemCommittedPct), Some(150.0));
        assert_eq!(get(&first, Metric::HostMemUsedBytes), Some(600.0 * 1024.0));
        let v = h.ingest(&c(500, 2000), 6, 1500);
        assert_eq!(get(&v, Metric::HostCpuPct), Some(25.0));
    }

    #[test]
    fn a_host_without_node_statistics_still_has_its_overcommit() {
        // The test driver: node info gives the size, there are no CPU or memory counters.
        let size_only = HostCounters {
            cpus: 16,
            mem_total_kib: 8 << 20,
            ..HostCounters::default()
        };
        let mut h = HostRates::default();
        for _ in 0..2 {
            let v = h.ingest(&size_only, 4, 2 << 20);
            assert_eq!(get(&v, Metric::HostVcpuRatio), Some(0.25));
            assert_eq!(get(&v, Metric::HostMemCommittedPct), Some(25.0));
            // Zero counters are not "0 % busy" nor "all memory used".
            assert_eq!(get(&v, Metric::HostCpuPct), None);
            assert_eq!(get(&v, Metric::HostMemUsedBytes), None);
        }
    }
}
