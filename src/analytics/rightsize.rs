//! Right-sizing: usage percentiles → recommended vCPUs and memory, idle VMs; their monthly
//! cost is in [`super::pricing`].

use serde::Serialize;

#[cfg(test)]
use super::stats::count_f64;
use super::stats::{finite, quantile_sorted};
use super::AnalyticsError;

pub use super::pricing::{
    cheapest_instance, monthly_cost, savings, InstanceType, PriceTable, Savings, HOURS_PER_MONTH,
};

pub(super) const GIB: f64 = 1_073_741_824.0;

/// Settings; defaults: size for p95 with 20 % headroom once a day of 5-minute samples exists,
/// idle below 2 % CPU, 1 KiB/s of network and 64 KiB/s of disk I/O for a week of 5-minute
/// samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RightsizeConfig {
    /// Quantile sized for (0.95 = p95; 0.5 to 0.999).
    pub quantile: f64,
    /// Multiplier on the sized percentile.
    pub headroom: f64,
    pub idle_cpu_percent: f64,
    pub idle_network_bytes_per_s: f64,
    /// Disk reads + writes an idle VM stays under (a guest's own logging is a few KiB/s; a
    /// VM writing steadily is doing work even with its CPU quiet).
    pub idle_disk_bytes_per_s: f64,
    /// CPU samples any verdict needs (a day of 5-minute samples): sizing a VM on its first
    /// minutes would shrink whatever had not been busy yet.
    pub min_samples: usize,
    /// Samples an idle verdict needs: 90 % of a week of 5-minute samples, so a restart or a
    /// short outage of the recorder does not hide an idle VM.
    pub idle_min_samples: usize,
    /// Memory is recommended in multiples of this.
    pub memory_step_bytes: u64,
}

impl Default for RightsizeConfig {
    fn default() -> Self {
        Self {
            quantile: 0.95,
            headroom: 1.2,
            idle_cpu_percent: 2.0,
            idle_network_bytes_per_s: 1024.0,
            idle_disk_bytes_per_s: 65_536.0,
            min_samples: 288,
            idle_min_samples: idle_rows(288 * 7),
            memory_step_bytes: 512 << 20,
        }
    }
}

/// Samples an idle verdict needs over a window of `rows` 5-minute rows: 90 % of them.
#[must_use]
pub const fn idle_rows(rows: usize) -> usize {
    rows.saturating_mul(9) / 10
}

/// Usage samples over the window, aligned or not (each is summarised on its own).
#[derive(Debug, Clone, Copy)]
pub struct Usage<'a> {
    /// CPU busy, percent of the VM's vCPUs (100 = all vCPUs busy).
    pub cpu_percent: &'a [f64],
    /// Memory used by the guest, bytes.
    pub memory_bytes: &'a [f64],
    /// Network bytes per second, in + out.
    pub network_bytes_per_s: &'a [f64],
    /// Disk bytes per second, read + written; empty for a VM without disks.
    pub disk_bytes_per_s: &'a [f64],
}

/// Percentiles of one metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Percentiles of the finite values; `None` when there are none.
    #[must_use]
    pub fn of(xs: &[f64]) -> Option<Self> {
        let mut v = finite(xs);
        v.sort_by(f64::total_cmp);
        Some(Self {
            p50: quantile_sorted(&v, 0.5)?,
            p95: quantile_sorted(&v, 0.95)?,
            p99: quantile_sorted(&v, 0.99)?,
            max: *v.last()?,
        })
    }
}

/// A right-sizing verdict for one VM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub cpu: Percentiles,
    pub memory: Percentiles,
    /// The quantile sized for (`[rightsize] quantile`) and the CPU percent and memory bytes
    /// at it, which the recommendation rests on.
    pub quantile: f64,
    pub cpu_sized: f64,
    pub memory_sized: f64,
    pub current_vcpus: u32,
    pub current_memory_bytes: u64,
    pub vcpus: u32,
    pub memory_bytes: u64,
    pub idle: bool,
    /// One line for humans.
    pub reason: String,
}

/// Recommends vCPUs and memory for a VM of `current_vcpus` / `current_memory_bytes`.
///
/// # Errors
/// [`AnalyticsError::TooShort`] when CPU has fewer than `cfg.min_samples` finite samples or
/// memory has none.
pub fn recommend(
    current_vcpus: u32,
    current_memory_bytes: u64,
    usage: &Usage<'_>,
    cfg: &RightsizeConfig,
) -> Result<Recommendation, AnalyticsError> {
    let needed = cfg.min_samples.max(1);
    let got = finite(usage.cpu_percent).len();
    if got < needed {
        return Err(AnalyticsError::TooShort { needed, got });
    }
    let short = AnalyticsError::TooShort { needed: 1, got: 0 };
    let cpu = Percentiles::of(usage.cpu_percent).ok_or_else(|| short.clone())?;
    let memory = Percentiles::of(usage.memory_bytes).ok_or(short)?;
    let sized = |xs: &[f64]| {
        let mut v = finite(xs);
        v.sort_by(f64::total_cmp);
        quantile_sorted(&v, cfg.quantile.clamp(0.0, 1.0)).unwrap_or(f64::NAN)
    };
    let (cpu_sized, memory_sized) = (sized(usage.cpu_percent), sized(usage.memory_bytes));
    let busy_vcpus = cpu_sized / 100.0 * f64::from(current_vcpus) * cfg.headroom;
    let vcpus = u32::try_from(ceil_u64(busy_vcpus).max(1)).unwrap_or(u32::MAX);
    let step = cfg.memory_step_bytes.max(1);
    #[allow(clippy::cast_precision_loss)]
    let steps = ceil_u64(memory_sized * cfg.headroom / step as f64).max(1);
    let outgrown = memory_sized * cfg.headroom > bytes_f64(current_memory_bytes);
    // Rounding up to a whole step must not grow a VM whose usage fits what it has (a 96 MiB
    // guest using 28 MiB was told to take 512 MiB): more memory only when usage needs it.
    let memory_bytes = if outgrown || current_memory_bytes == 0 {
        steps.saturating_mul(step)
    } else {
        steps.saturating_mul(step).min(current_memory_bytes)
    };
    // Idle needs evidence of a quiet network too: a VM whose traffic was never recorded is
    // not idle for want of a figure.
    let net = Percentiles::of(usage.network_bytes_per_s);
    let disk = Percentiles::of(usage.disk_bytes_per_s);
    let long_enough = got >= cfg.idle_min_samples;
    let quiet_cpu = cpu.p95 < cfg.idle_cpu_percent;
    let quiet_net = net.is_some_and(|n| n.p95 < cfg.idle_network_bytes_per_s);
    let disk_busy = disk.filter(|d| d.p95 >= cfg.idle_disk_bytes_per_s);
    let idle = long_enough && quiet_cpu && quiet_net && disk_busy.is_none();
    let p = percentile_label(cfg.quantile);
    let reason = if idle {
        let disk_text = disk.map_or_else(String::new, |d| {
            format!(", disk p95 {}/s", rate_text(d.p95))
        });
        format!(
            "idle: CPU p95 {:.1} %, network p95 {}/s{disk_text} over {got} rows of 5 min",
            cpu.p95,
            rate_text(net.map_or(0.0, |n| n.p95))
        )
    } else {
        let sizing = format!(
            "CPU p{p} {cpu_sized:.1} % of {current_vcpus} vCPU → {vcpus} vCPU; memory p{p} {} \
             → {}",
            gib_text(memory_sized),
            gib_text(bytes_f64(memory_bytes))
        );
        // CPU quiet, yet not idle: say what kept it from the verdict (too few samples, no
        // network figures, traffic, disk writes).
        let why = match (net, disk_busy) {
            _ if !quiet_cpu => None,
            _ if !long_enough => Some(format!(
                "only {got} of the {} rows of 5 min it needs are recorded",
                cfg.idle_min_samples
            )),
            (None, _) => Some("no network recorded".to_string()),
            (Some(n), _) if n.p95 >= cfg.idle_network_bytes_per_s => {
                Some(format!("network p95 {}/s", rate_text(n.p95)))
            }
            (_, Some(d)) => Some(format!("disk p95 {}/s", rate_text(d.p95))),
            _ => None,
        };
        match why {
            Some(w) => format!("{sizing}; CPU quiet but {w}, so not called idle"),
            None => sizing,
        }
    };
    Ok(Recommendation {
        cpu,
        memory,
        quantile: cfg.quantile,
        cpu_sized,
        memory_sized,
        current_vcpus,
        current_memory_bytes,
        vcpus,
        memory_bytes,
        idle,
        reason,
    })
}

/// The verdict in one word, as the recommendations pane and `novacron rightsize` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Idle,
    /// Fewer vCPUs or less memory would do.
    Oversized,
    /// Usage needs more than the VM has.
    Undersized,
    Fits,
}

impl Verdict {
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Oversized => "oversized",
            Self::Undersized => "undersized",
            Self::Fits => "fits",
        }
    }
}

impl Recommendation {
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        if self.idle {
            Verdict::Idle
        } else if self.vcpus < self.current_vcpus || self.memory_bytes < self.current_memory_bytes {
            Verdict::Oversized
        } else if self.vcpus > self.current_vcpus || self.memory_bytes > self.current_memory_bytes {
            Verdict::Undersized
        } else {
            Verdict::Fits
        }
    }
}

/// "95" for 0.95, "99.9" for 0.999: the percentile as operators write it.
#[must_use]
pub fn percentile_label(q: f64) -> String {
    let p = q * 100.0;
    if (p - p.round()).abs() < 1e-6 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    }
}

/// A byte rate for the evidence line: "42 B", "1.9 MiB" (the caller adds "/s").
fn rate_text(b: f64) -> String {
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

/// "1.4 GiB", or "28 MiB" under a GiB, for the evidence line.
fn gib_text(b: f64) -> String {
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.0} MiB", b / (1024.0 * 1024.0))
    }
}

#[allow(clippy::cast_precision_loss)]
fn bytes_f64(b: u64) -> f64 {
    b as f64
}

pub(super) fn bytes_gib(b: u64) -> f64 {
    bytes_f64(b) / GIB
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn ceil_u64(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.ceil().min(1e18) as u64
    } else {
        0
    }
}

#[cfg(test)]
fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / count_f64(xs.len())
}

/// The defaults, with a verdict from any number of samples (for tests).
#[cfg(test)]
pub(super) fn few() -> RightsizeConfig {
    RightsizeConfig {
        min_samples: 1,
        ..RightsizeConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    const G: u64 = 1 << 30;

    #[test_case(&[10.0; 100], 8, 1 ; "light load shrinks to one vCPU")]
    #[test_case(&[50.0; 100], 8, 5 ; "half of eight with headroom")]
    #[test_case(&[100.0; 100], 4, 5 ; "saturated grows")]
    fn vcpus_follow_p95(cpu: &[f64], current: u32, want: u32) {
        let mem = vec![2.0 * GIB; 100];
        let usage = Usage {
            cpu_percent: cpu,
            memory_bytes: &mem,
            network_bytes_per_s: &[],
            disk_bytes_per_s: &[],
        };
        let r = recommend(current, 8 * G, &usage, &few()).unwrap();
        assert_eq!(r.vcpus, want);
        assert_eq!(r.memory_bytes, 5 * (512 << 20)); // 2 GiB × 1.2 → 2.5 GiB
        assert!(!r.idle);
        assert!((mean(cpu) - cpu[0]).abs() < 1e-9);
    }

    #[test_case(96 << 20, 28.0 * 1_048_576.0, 96 << 20 ; "a small guest is not grown to a whole step")]
    #[test_case(96 << 20, 90.0 * 1_048_576.0, 512 << 20 ; "a small guest that fills its memory grows")]
    #[test_case(8 << 30, 2.0 * GIB, 5 * (512 << 20) ; "a large guest shrinks to whole steps")]
    fn memory_grows_only_when_usage_needs_it(current: u64, used: f64, want: u64) {
        let cpu = vec![10.0; 100];
        let mem = vec![used; 100];
        let usage = Usage {
            cpu_percent: &cpu,
            memory_bytes: &mem,
            network_bytes_per_s: &[],
            disk_bytes_per_s: &[],
        };
        let r = recommend(1, current, &usage, &few()).unwrap();
        assert_eq!(r.memory_bytes, want, "{}", r.reason);
        if used < GIB {
            assert!(r.reason.contains(" MiB →"), "{}", r.reason);
        }
    }

    #[test]
    fn idle_needs_a_week_of_quiet() {
        let cpu = vec![0.5; 2016];
        let mem = vec![GIB; 2016];
        let net = vec![100.0; 2016];
        let usage = Usage {
            cpu_percent: &cpu,
            memory_bytes: &mem,
            network_bytes_per_s: &net,
            disk_bytes_per_s: &[],
        };
        let r = recommend(2, 4 * G, &usage, &RightsizeConfig::default()).unwrap();
        assert!(r.idle, "{}", r.reason);
        let short = Usage {
            cpu_percent: &cpu[..100],
            ..usage
        };
        assert!(!recommend(2, 4 * G, &short, &few()).unwrap().idle);
        // Quiet for a day, but not recorded long enough: the evidence says so.
        let cfg = RightsizeConfig::default();
        let day = Usage {
            cpu_percent: &cpu[..288],
            ..usage
        };
        let r = recommend(2, 4 * G, &day, &cfg).unwrap();
        assert!(!r.idle);
        assert!(
            r.reason.ends_with(&format!(
                "CPU quiet but only 288 of the {} rows of 5 min it needs are recorded, so not called idle",
                cfg.idle_min_samples
            )),
            "{}",
            r.reason
        );
    }

    #[test]
    fn steady_disk_writes_keep_a_quiet_vm_from_being_called_idle() {
        let cpu = vec![0.5; 2016];
        let mem = vec![GIB; 2016];
        let net = vec![100.0; 2016];
        let disk = vec![1.9 * 1024.0 * 1024.0; 2016];
        let usage = Usage {
            cpu_percent: &cpu,
            memory_bytes: &mem,
            network_bytes_per_s: &net,
            disk_bytes_per_s: &disk,
        };
        let r = recommend(2, 4 * G, &usage, &RightsizeConfig::default()).unwrap();
        assert!(!r.idle, "{}", r.reason);
        assert!(r.reason.contains("disk p95 1.9 MiB/s"), "{}", r.reason);
        // A guest's own logging is still idle.
        let logging = vec![4096.0; 2016];
        let usage = Usage {
            disk_bytes_per_s: &logging,
            ..usage
        };
        let r = recommend(2, 4 * G, &usage, &RightsizeConfig::default()).unwrap();
        assert!(
            r.idle && r.reason.contains("disk p95 4.0 KiB/s"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn cpu_quiet_without_network_figures_is_not_idle() {
        let cpu = vec![0.5; 2016];
        let mem = vec![GIB; 2016];
        let usage = Usage {
            cpu_percent: &cpu,
            memory_bytes: &mem,
            network_bytes_per_s: &[f64::NAN; 2016],
            disk_bytes_per_s: &[],
        };
        let r = recommend(2, 4 * G, &usage, &RightsizeConfig::default()).unwrap();
        assert!(!r.idle, "{}", r.reason);
        assert!(r.reason.contains("no network recorded"), "{}", r.reason);
    }

    #[test]
    fn sized_for_the_configured_quantile_and_labelled_with_it() {
        // 0..99 %: p90 is 89.1 %, p95 94.05 %.
        let cpu: Vec<f64> = (0..100).map(f64::from).collect();
        let mem = vec![GIB; 100];
        let usage = Usage {
            cpu_percent: &cpu,
            memory_bytes: &mem,
            network_bytes_per_s: &[],
            disk_bytes_per_s: &[],
        };
        let cfg = RightsizeConfig {
            quantile: 0.9,
            headroom: 1.0,
            ..few()
        };
        let r = recommend(10, 4 * G, &usage, &cfg).unwrap();
        assert_eq!(r.vcpus, 9, "{}", r.reason);
        assert!(r.reason.contains("CPU p90 89.1 %"), "{}", r.reason);
        let cfg = RightsizeConfig {
            quantile: 0.999,
            ..cfg
        };
        let r = recommend(10, 4 * G, &usage, &cfg).unwrap();
        assert!(r.reason.contains("CPU p99.9 98.9 %"), "{}", r.reason);
    }

    #[test]
    fn no_verdict_before_a_day_of_samples() {
        let cpu = vec![1.0; 287];
        let mem = vec![GIB; 287];
        let usage = Usage {
            cpu_percent: &cpu,
            memory_bytes: &mem,
            network_bytes_per_s: &[],
            disk_bytes_per_s: &[],
        };
        assert_eq!(
            recommend(8, 16 * G, &usage, &RightsizeConfig::default()).unwrap_err(),
            AnalyticsError::TooShort {
                needed: 288,
                got: 287
            }
        );
        let day = vec![1.0; 288];
        let usage = Usage {
            cpu_percent: &day,
            ..usage
        };
        assert_eq!(
            recommend(8, 16 * G, &usage, &RightsizeConfig::default())
                .unwrap()
                .vcpus,
            1
        );
    }
}
