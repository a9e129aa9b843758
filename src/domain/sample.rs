//! Raw counters as a poll reads them; `metrics` turns them into rates.

use serde::Serialize;

use super::VmState;

/// Cumulative network counters, summed over a VM's interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct NetCounters {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_pkts: u64,
    pub tx_pkts: u64,
    pub rx_errs: u64,
    pub tx_errs: u64,
    pub rx_drop: u64,
    pub tx_drop: u64,
}

/// Cumulative block counters, summed over a VM's disks. Times are total ns spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BlockCounters {
    pub rd_bytes: u64,
    pub wr_bytes: u64,
    pub rd_reqs: u64,
    pub wr_reqs: u64,
    pub rd_times_ns: u64,
    pub wr_times_ns: u64,
}

/// Balloon figures in KiB; the guest-reported ones are absent without a balloon driver
/// reporting stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BalloonStats {
    pub current_kib: u64,
    pub maximum_kib: u64,
    pub available_kib: Option<u64>,
    pub unused_kib: Option<u64>,
    pub usable_kib: Option<u64>,
    pub rss_kib: Option<u64>,
}

/// The counters of one VM at one instant. Groups a poll did not read are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterSample {
    pub uuid: String,
    pub state: VmState,
    /// Total guest CPU time in ns (from `virDomainGetInfo`, read from /proc without QMP).
    pub cpu_time_ns: Option<u64>,
    pub vcpus: u32,
    pub net: Option<NetCounters>,
    pub block: Option<BlockCounters>,
    pub balloon: Option<BalloonStats>,
    /// Per-vCPU time in ns, from the vcpu group.
    pub vcpu_times_ns: Option<Vec<u64>>,
}

impl CounterSample {
    /// A sample with only the state set; pollers fill in the groups they read.
    #[must_use]
    pub fn new(uuid: impl Into<String>, state: VmState) -> Self {
        Self {
            uuid: uuid.into(),
            state,
            cpu_time_ns: None,
            vcpus: 0,
            net: None,
            block: None,
            balloon: None,
            vcpu_times_ns: None,
        }
    }
}

/// A storage pool's size, bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PoolUsage {
    pub name: String,
    pub capacity: u64,
    pub allocation: u64,
    pub available: u64,
}

/// Host counters: CPU time split (all CPUs, ns) and memory (KiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct HostCounters {
    /// False when the driver has no node CPU and memory statistics (the test driver): then
    /// only `cpus` and `mem_total_kib` (from the node info) are known and the rest is zero.
    pub node_stats: bool,
    pub cpus: u32,
    pub cpu_busy_ns: u64,
    pub cpu_total_ns: u64,
    pub mem_total_kib: u64,
    pub mem_free_kib: u64,
    pub mem_buffers_kib: u64,
    pub mem_cached_kib: u64,
}
