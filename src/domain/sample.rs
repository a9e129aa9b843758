//! Raw counters reported by a poll and the live rates derived from two of them.

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

/// The counters of one VM at one instant, as a poll read them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterSample {
    pub uuid: String,
    pub state: VmState,
    /// Total guest CPU time in ns (from `virDomainGetInfo`, read from /proc without QMP).
    pub cpu_time_ns: Option<u64>,
    pub vcpus: u32,
    pub net: Option<NetCounters>,
}

/// Rates between two samples of the same VM.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct LiveRates {
    /// CPU use as a share of the VM's vCPUs (100 % = every vCPU busy).
    pub cpu_pct: Option<f64>,
    pub net_rx_bps: Option<f64>,
    pub net_tx_bps: Option<f64>,
}

fn per_second(prev: u64, cur: u64, dt_s: f64) -> Option<f64> {
    // A counter that went backwards was reset (VM restarted): no rate rather than a spike.
    #[allow(clippy::cast_precision_loss)]
    cur.checked_sub(prev).map(|d| d as f64 / dt_s)
}

/// Rates from `prev` (taken at `prev_ms`) to `cur` (at `cur_ms`). Missing or reset counters
/// and non-increasing time give `None` for that rate, never a negative or huge value.
#[must_use]
pub fn rates(prev: &CounterSample, prev_ms: i64, cur: &CounterSample, cur_ms: i64) -> LiveRates {
    if cur_ms <= prev_ms || prev.uuid != cur.uuid {
        return LiveRates::default();
    }
    #[allow(clippy::cast_precision_loss)]
    let dt_s = (cur_ms - prev_ms) as f64 / 1000.0;
    let cpu_pct = match (prev.cpu_time_ns, cur.cpu_time_ns) {
        (Some(old_cpu), Some(new_cpu)) if cur.vcpus > 0 && cur.state.is_active() => {
            per_second(old_cpu, new_cpu, dt_s)
                .map(|ns| (ns / 1e9 / f64::from(cur.vcpus) * 100.0).clamp(0.0, 100.0))
        }
        _ => None,
    };
    let (net_rx_bps, net_tx_bps) = match (prev.net, cur.net) {
        (Some(old_net), Some(new_net)) => (
            per_second(old_net.rx_bytes, new_net.rx_bytes, dt_s),
            per_second(old_net.tx_bytes, new_net.tx_bytes, dt_s),
        ),
        _ => (None, None),
    };
    LiveRates {
        cpu_pct,
        net_rx_bps,
        net_tx_bps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(cpu: u64, rx: u64, vcpus: u32) -> CounterSample {
        CounterSample {
            uuid: "u".into(),
            state: VmState::Running,
            cpu_time_ns: Some(cpu),
            vcpus,
            net: Some(NetCounters {
                rx_bytes: rx,
                ..NetCounters::default()
            }),
        }
    }

    #[test]
    fn one_busy_vcpu_of_two_is_fifty_percent() {
        let r = rates(&s(0, 0, 2), 0, &s(2_000_000_000, 4000, 2), 2000);
        assert!((r.cpu_pct.unwrap() - 50.0).abs() < 1e-9);
        assert!((r.net_rx_bps.unwrap() - 2000.0).abs() < 1e-9);
    }

    #[test]
    fn counter_reset_after_restart_gives_no_rate_instead_of_a_spike() {
        let r = rates(&s(9_000_000_000, 10_000, 1), 0, &s(1_000, 10, 1), 5000);
        assert_eq!(r.cpu_pct, None);
        assert_eq!(r.net_rx_bps, None);
    }

    #[test]
    fn time_not_moving_forward_gives_nothing() {
        assert_eq!(
            rates(&s(0, 0, 1), 5000, &s(10, 10, 1), 5000),
            LiveRates::default()
        );
    }
}
