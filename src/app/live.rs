//! Live metrics in the state: the latest value of every derived series per VM and host, a
//! short CPU history for the table's sparkline, and the staleness rule.

use std::collections::{BTreeMap, VecDeque};

use crate::domain::{HostRates, Metric, VmRates};

/// Points kept for the table's CPU sparkline.
pub const SPARK_LEN: usize = 48;

/// The latest derived values of one entity (VM or host), with when they were measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Live {
    pub latest: BTreeMap<Metric, (i64, f64)>,
    /// Recent CPU % values, oldest first.
    pub spark: VecDeque<f64>,
}

impl Live {
    #[must_use]
    pub fn value(&self, m: Metric) -> Option<f64> {
        self.latest.get(&m).map(|(_, v)| *v)
    }

    /// Records derived values measured at `ts_ms`.
    pub fn record(&mut self, ts_ms: i64, values: &[(Metric, f64)]) {
        for (m, v) in values {
            self.latest.insert(*m, (ts_ms, *v));
            if matches!(m, Metric::CpuPct | Metric::HostCpuPct) {
                if self.spark.len() == SPARK_LEN {
                    self.spark.pop_front();
                }
                self.spark.push_back(*v);
            }
        }
    }

    /// Drops values (the VM stopped: its last rates no longer describe it).
    pub fn clear(&mut self) {
        self.latest.clear();
    }

    /// Whether `m`'s value is older than two of its collection intervals.
    #[must_use]
    pub fn is_stale(&self, m: Metric, now_ms: i64, cadence: &Cadence) -> bool {
        self.latest
            .get(&m)
            .is_some_and(|(ts, _)| now_ms - ts > 2 * cadence.interval_ms(m))
    }
}

/// Collection intervals, to judge staleness: monitor-backed metrics come on the slow tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    pub fast_ms: i64,
    pub slow_ms: i64,
}

impl Default for Cadence {
    fn default() -> Self {
        Self {
            fast_ms: 5_000,
            slow_ms: 30_000,
        }
    }
}

impl Cadence {
    #[must_use]
    pub fn interval_ms(&self, m: Metric) -> i64 {
        match m {
            Metric::MemUsedBytes
            | Metric::DiskRdBps
            | Metric::DiskWrBps
            | Metric::DiskRdIops
            | Metric::DiskWrIops
            | Metric::DiskRdLatMs
            | Metric::DiskWrLatMs => self.slow_ms,
            _ => self.fast_ms,
        }
    }
}

/// Per-VM metric state: counters for rates plus the live values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VmMetrics {
    pub rates: VmRates,
    pub live: Live,
}

/// Per-host metric state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostMetrics {
    pub rates: HostRates,
    pub live: Live,
    pub cpus: u32,
    pub mem_total_kib: u64,
    /// False when the driver gives the host's size but no CPU or memory statistics.
    pub node_stats: bool,
    /// Polls skipped because the previous one overran its interval.
    pub overruns: u64,
    /// Wall time of the last poll tick.
    pub last_poll_ms: f64,
    /// Storage pools as last read.
    pub pools: Vec<crate::domain::PoolUsage>,
}

impl HostMetrics {
    /// The driver gave the host's size but gives no CPU or memory statistics (the test
    /// driver): the busy and used figures will never come.
    #[must_use]
    pub fn size_only(&self) -> bool {
        !self.node_stats && self.cpus > 0
    }
}
