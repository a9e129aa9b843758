//! The tiered poll, designed from the measured costs in DESIGN.md (each stats group that asks
//! QEMU's monitor costs about 1 ms per running VM, one VM after another inside libvirtd, and
//! most of it is QEMU's CPU: QEMU reads a QMP request one byte per main-loop pass):
//!
//! - cheap tier, every interval: state and interface counters for all active VMs in one bulk
//!   NOWAIT call, plus `virDomainGetInfo` per VM (CPU time from /proc), plus host CPU/memory;
//! - monitor tier: guest memory through the bulk balloon group (NOWAIT), block counters through
//!   the bulk block group for just the VMs that have disks (NOWAIT; the group costs three
//!   monitor round trips even for a VM without disks), and per-vCPU times through
//!   `virDomainGetVcpus` (read from /proc, no monitor). Each VM is due once per
//!   `slow_interval`, spread over the ticks in between so no tick carries the whole fleet;
//!   the VMs the app watches (the one open in the detail pane) are due every tick.
//!
//! NOWAIT keeps a VM stuck in a job from stalling the bulk calls; `virDomainGetVcpus` takes no
//! job. A tick that overruns its interval is counted and the ticks it overran are skipped.

pub mod decode;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use virt::connect::Connect;
use virt::domain::Domain;
use virt::sys;

use super::stats::{self, groups, StatsWithDomain};
use super::{ffi, state};
use crate::domain::{CounterSample, HostCounters, PoolUsage};
use crate::provider::LibvirtError;
pub use decode::{decode, Decoded};

const ACTIVE_NOWAIT: u32 = sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE | stats::NOWAIT;

/// The cheap tier, with a handle on each domain for the monitor tier.
///
/// # Errors
/// libvirt's error when the bulk call fails.
pub fn cheap_with_domains(conn: &Connect) -> Result<Vec<(CounterSample, Domain)>, LibvirtError> {
    let recs = stats::all_domain_stats(conn, groups::STATE | groups::INTERFACE, ACTIVE_NOWAIT)?;
    let sample = |StatsWithDomain { record, dom }: StatsWithDomain| {
        let info = dom.info().ok();
        let d = decode(&record);
        let mut s = CounterSample::new(record.uuid, state::vm_state(d.state));
        s.cpu_time_ns = info.as_ref().map(|i| i.cpu_time);
        s.vcpus = info.as_ref().map_or(0, |i| i.nr_virt_cpu);
        s.net = d.net;
        (s, dom)
    };
    Ok(recs.into_iter().map(sample).collect())
}

/// The cheap tier: state, interface counters and CPU time of every active VM.
///
/// # Errors
/// libvirt's error when the bulk call fails.
pub fn cheap(conn: &Connect) -> Result<Vec<CounterSample>, LibvirtError> {
    Ok(cheap_with_domains(conn)?
        .into_iter()
        .map(|(s, _)| s)
        .collect())
}

/// The monitor tier for `doms` (active domains, with their vCPU counts); `with_disks` names the
/// VMs whose block counters are worth a monitor round trip.
///
/// # Errors
/// The balloon call's error; the block and vCPU parts are best effort.
#[allow(clippy::implicit_hasher)]
pub fn monitor(
    doms: &[(Domain, u32)],
    with_disks: &HashSet<String>,
) -> Result<Vec<CounterSample>, LibvirtError> {
    if doms.is_empty() {
        return Ok(Vec::new());
    }
    let all: Vec<Domain> = doms.iter().map(|(d, _)| d.clone()).collect();
    let mut out: HashMap<String, CounterSample> = HashMap::new();
    for r in parallel_stats(&all, groups::STATE | groups::BALLOON)? {
        let d = decode(&r.record);
        let mut s = CounterSample::new(r.record.uuid.clone(), state::vm_state(d.state));
        s.balloon = d.balloon;
        out.insert(r.record.uuid, s);
    }
    let disky: Vec<Domain> = all
        .iter()
        .filter(|d| d.uuid_string().is_ok_and(|u| with_disks.contains(&u)))
        .cloned()
        .collect();
    match stats::list_domain_stats(&disky, groups::BLOCK, stats::NOWAIT) {
        Ok(recs) => {
            for r in recs {
                if let Some(s) = out.get_mut(&r.record.uuid) {
                    s.block = decode(&r.record).block;
                }
            }
        }
        Err(e) => tracing::debug!("block stats skipped: {e}"),
    }
    for (dom, vcpus) in doms {
        if let (Ok(uuid), Ok(times)) = (dom.uuid_string(), ffi::vcpu_times(dom, *vcpus)) {
            if let Some(s) = out.get_mut(&uuid) {
                s.vcpu_times_ns = Some(times);
            }
        }
    }
    Ok(out.into_values().collect())
}

/// VMs per bulk call when a monitor-backed group is split over threads.
const PER_CALL: usize = 6;

/// One bulk NOWAIT call per `PER_CALL` domains, made from parallel threads: libvirtd serves
/// each call on its own worker, so the monitor round trips of different calls overlap instead
/// of queueing one VM after another.
fn parallel_stats(doms: &[Domain], groups: u32) -> Result<Vec<StatsWithDomain>, LibvirtError> {
    if doms.len() <= PER_CALL {
        return stats::list_domain_stats(doms, groups, stats::NOWAIT);
    }
    std::thread::scope(|sc| {
        let handles: Vec<_> = doms
            .chunks(PER_CALL)
            .map(|c| sc.spawn(move || stats::list_domain_stats(c, groups, stats::NOWAIT)))
            .collect();
        let mut out = Vec::new();
        for h in handles {
            match h.join() {
                Ok(r) => out.extend(r?),
                Err(_) => {
                    return Err(LibvirtError::Call {
                        what: "virDomainListGetStats".into(),
                        message: "stats thread panicked".into(),
                    })
                }
            }
        }
        Ok(out)
    })
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
        node_stats: true,
        cpus,
        cpu_busy_ns: busy,
        cpu_total_ns: busy + field(&cpu, "idle") + field(&cpu, "iowait"),
        mem_total_kib: field(&mem, "total"),
        mem_free_kib: field(&mem, "free"),
        mem_buffers_kib: field(&mem, "buffers"),
        mem_cached_kib: field(&mem, "cached"),
    })
}

/// Active storage pools, refreshed first so a directory pool's free space is current.
///
/// # Errors
/// libvirt's error listing the pools; a pool that fails to refresh or report is skipped.
pub fn pools(conn: &Connect) -> Result<Vec<PoolUsage>, LibvirtError> {
    let list = conn
        .list_all_storage_pools(sys::VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        .map_err(|e| LibvirtError::Call {
            what: "virConnectListAllStoragePools".into(),
            message: super::message(&e),
        })?;
    Ok(list
        .iter()
        .filter_map(|p| {
            let _ = p.refresh(0);
            let info = p.info().ok()?;
            Some(PoolUsage {
                name: p.name().ok()?,
                capacity: info.capacity,
                allocation: info.allocation,
                available: info.available,
            })
        })
        .collect())
}

/// What one poll tick produced.
#[derive(Debug, Default)]
pub struct Tick {
    pub cheap: Vec<CounterSample>,
    pub monitor: Vec<CounterSample>,
    pub host: Option<HostCounters>,
    pub pools: Option<Vec<PoolUsage>>,
    /// Wall time of the whole tick, ms.
    pub tick_ms: f64,
}

/// Schedules the tiers of one connection.
#[derive(Debug)]
pub struct Poller {
    pub interval: Duration,
    pub slow_interval: Duration,
    /// When each VM's monitor tier was last read.
    last_monitor: HashMap<String, Instant>,
    /// VMs whose monitor tier is read every tick (open in the detail pane).
    pub watched: HashSet<String>,
    /// VMs with at least one disk, from the inventory.
    pub with_disks: HashSet<String>,
    pub overruns: u64,
    /// The node info (CPUs, memory in KiB), read once.
    node: Option<(u32, u64)>,
    last_pools: Option<Instant>,
}

impl Poller {
    #[must_use]
    pub fn new(interval: Duration, slow_interval: Duration) -> Self {
        Self {
            interval,
            slow_interval,
            last_monitor: HashMap::new(),
            watched: HashSet::new(),
            with_disks: HashSet::new(),
            overruns: 0,
            node: None,
            last_pools: None,
        }
    }

    /// The VMs whose monitor tier is due this tick: the watched ones, then the longest unread,
    /// at most the share of the fleet that keeps every VM within `slow_interval`.
    #[must_use]
    pub fn due(&self, active: &[String], now: Instant) -> Vec<String> {
        let ticks =
            (self.slow_interval.as_secs_f64() / self.interval.as_secs_f64().max(0.001)).max(1.0);
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let share = (active.len() as f64 / ticks).ceil() as usize;
        let mut stale: Vec<(Option<Instant>, &String)> = active
            .iter()
            .filter(|u| !self.watched.contains(*u))
            .map(|u| (self.last_monitor.get(u).copied(), u))
            .filter(|(t, _)| {
                t.is_none_or(|t| now.duration_since(t) + self.interval >= self.slow_interval)
            })
            .collect();
        stale.sort();
        let mut due: Vec<String> = active
            .iter()
            .filter(|u| self.watched.contains(*u))
            .cloned()
            .collect();
        due.extend(stale.into_iter().take(share).map(|(_, u)| u.clone()));
        due
    }

    /// Runs the tiers due now.
    ///
    /// # Errors
    /// The cheap tier's error (the connection is likely gone); failures of the other tiers are
    /// logged and leave their part empty.
    pub fn tick(&mut self, conn: &Connect) -> Result<Tick, LibvirtError> {
        self.tick_at(conn, Instant::now())
    }

    /// [`tick`](Self::tick) as if it were `t0` (benchmarks replay a slow interval quickly).
    ///
    /// # Errors
    /// As `tick`.
    pub fn tick_at(&mut self, conn: &Connect, t0: Instant) -> Result<Tick, LibvirtError> {
        let started = Instant::now();
        let cheap = cheap_with_domains(conn)?;
        if self.node.is_none() {
            self.node = conn.node_info().ok().map(|n| (n.cpus, n.memory));
        }
        // A driver without node statistics still has a size: the overcommit ratios and
        // capacity need it, and "unknown" would be wrong.
        let host = host(conn, self.node.map_or(0, |(cpus, _)| cpus)).map_or_else(
            |e| {
                tracing::debug!("host stats unavailable: {e}");
                self.node.map(|(cpus, mem_total_kib)| HostCounters {
                    cpus,
                    mem_total_kib,
                    ..HostCounters::default()
                })
            },
            Some,
        );
        let active: Vec<String> = cheap.iter().map(|(s, _)| s.uuid.clone()).collect();
        let due: HashSet<String> = self.due(&active, t0).into_iter().collect();
        let doms: Vec<(Domain, u32)> = cheap
            .iter()
            .filter(|(s, _)| due.contains(&s.uuid))
            .map(|(s, d)| (d.clone(), s.vcpus))
            .collect();
        let monitor = monitor(&doms, &self.with_disks)
            .map_err(|e| tracing::debug!("monitor-backed stats skipped: {e}"))
            .unwrap_or_default();
        for s in &monitor {
            self.last_monitor.insert(s.uuid.clone(), t0);
        }
        self.last_monitor.retain(|u, _| active.contains(u));
        let pools = if self
            .last_pools
            .is_none_or(|t| t0.duration_since(t) >= self.slow_interval)
        {
            self.last_pools = Some(t0);
            pools(conn)
                .map_err(|e| tracing::debug!("storage pools skipped: {e}"))
                .ok()
        } else {
            None
        };
        let elapsed = started.elapsed();
        if elapsed > self.interval {
            // The next tick is scheduled from now, so the ticks this one overran are skipped.
            self.overruns += 1;
        }
        Ok(Tick {
            cheap: cheap.into_iter().map(|(s, _)| s).collect(),
            monitor,
            host,
            pools,
            tick_ms: elapsed.as_secs_f64() * 1000.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_reads_spread_over_the_slow_interval_and_watched_vms_come_every_tick() {
        let mut p = Poller::new(Duration::from_secs(5), Duration::from_secs(30));
        let active: Vec<String> = (0..24).map(|i| format!("vm{i:02}")).collect();
        p.watched.insert("vm07".into());
        let t0 = Instant::now();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for k in 0..6u32 {
            let now = t0 + Duration::from_secs(5) * k;
            let due = p.due(&active, now);
            assert!(due.contains(&"vm07".to_string()), "watched every tick");
            assert!(
                due.len() <= 1 + 4,
                "24 VMs over 6 ticks: at most 4 more per tick, got {}",
                due.len()
            );
            for u in due {
                p.last_monitor.insert(u.clone(), now);
                *seen.entry(u).or_default() += 1;
            }
        }
        assert_eq!(
            seen.len(),
            24,
            "every VM read once per slow interval: {seen:?}"
        );
        assert_eq!(seen["vm07"], 6);
        let oldest = p
            .last_monitor
            .iter()
            .min_by_key(|(_, t)| **t)
            .map(|(u, _)| u.clone())
            .unwrap();
        let again = p.due(&active, t0 + Duration::from_secs(30));
        assert!(
            again.contains(&oldest),
            "the oldest read ({oldest}) comes due again: {again:?}"
        );
    }
}
