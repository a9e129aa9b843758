//! Capacity: when a resource crosses a threshold, and how many more VMs of a shape fit.

use serde::Serialize;

use super::forecast::{forecast, ForecastConfig, ModelKind};
use super::stats::last_finite;
use super::AnalyticsError;

/// When a forecast crosses a threshold, in rows after the last sample (1 = next row).
/// `None` means not within the horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Crossing {
    pub threshold: f64,
    /// True for a ceiling (usage rising to it), false for a floor (free space falling to it).
    pub rising: bool,
    /// Already at or past the threshold at the last sample.
    pub already: bool,
    /// First step where the point forecast crosses.
    pub expected: Option<usize>,
    /// First step where the 95 % band reaches the threshold (the pessimistic side).
    pub earliest: Option<usize>,
    /// First step where the whole 95 % band is past the threshold (the optimistic side).
    pub latest: Option<usize>,
    /// Steps forecast.
    pub horizon: usize,
    /// Model that produced the forecast.
    pub model: ModelKind,
}

/// Forecasts `history` `horizon` rows ahead with `model` and finds the threshold crossing
/// (memory, CPU or pool usage, in the history's unit). `rising`: the threshold is a ceiling
/// crossed from below (usage); otherwise a floor crossed from above (free space).
///
/// # Errors
/// [`AnalyticsError::TooShort`] without a finite sample.
pub fn time_to_threshold(
    history: &[f64],
    threshold: f64,
    rising: bool,
    horizon: usize,
    model: ModelKind,
    cfg: &ForecastConfig,
) -> Result<Crossing, AnalyticsError> {
    let last = last_finite(history).ok_or(AnalyticsError::TooShort { needed: 1, got: 0 })?;
    let f = forecast(history, horizon, model, cfg)?;
    let past = |v: f64| {
        if rising {
            v >= threshold
        } else {
            v <= threshold
        }
    };
    let first = |vs: &[f64]| vs.iter().position(|&v| past(v)).map(|i| i + 1);
    let (pessimistic, optimistic) = if rising {
        (&f.hi95, &f.lo95)
    } else {
        (&f.lo95, &f.hi95)
    };
    Ok(Crossing {
        threshold,
        rising,
        already: past(last),
        expected: first(&f.point),
        earliest: first(pessimistic),
        latest: first(optimistic),
        horizon,
        model: f.model,
    })
}

/// A host's schedulable resources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostResources {
    pub cpus: u32,
    /// vCPUs allowed per physical CPU (1.0 = no overcommit).
    pub cpu_overcommit: f64,
    pub vcpus_allocated: u32,
    pub memory_bytes: u64,
    /// Memory to keep free for the host itself.
    pub memory_reserved_bytes: u64,
    pub memory_allocated_bytes: u64,
}

/// A VM shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VmShape {
    pub vcpus: u32,
    pub memory_bytes: u64,
}

/// What limits the headroom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Cpu,
    Memory,
}

/// How many more VMs of a shape fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headroom {
    pub fits: u64,
    pub limited_by: Limit,
    pub shape: VmShape,
}

impl Headroom {
    /// "room for 7 more 2 vCPU / 4 GiB VMs by allocation (memory runs out first)": what the
    /// VMs are given (vCPUs against the overcommit, memory against the host's), not what
    /// they use.
    #[must_use]
    pub fn describe(&self) -> String {
        #[allow(clippy::cast_precision_loss)]
        let gib = self.shape.memory_bytes as f64 / f64::from(1u32 << 30);
        let memory = if gib < 1.0 {
            format!("{:.0} MiB", gib * 1024.0)
        } else if gib.fract().abs() < 1e-9 {
            format!("{gib:.0} GiB")
        } else {
            format!("{gib:.1} GiB")
        };
        let plural = if self.fits == 1 { "" } else { "s" };
        let limit = match self.limited_by {
            Limit::Cpu => "vCPUs run out first",
            Limit::Memory => "memory runs out first",
        };
        format!(
            "room for {} more {} vCPU / {memory} VM{plural} by allocation ({limit})",
            self.fits, self.shape.vcpus
        )
    }
}

/// Headroom of `host` for VMs of `shape`.
#[must_use]
pub fn headroom(host: &HostResources, shape: VmShape) -> Headroom {
    // The epsilon keeps a product like 100 × 0.29 (28.999…) from losing a vCPU.
    let vcpu_cap = (f64::from(host.cpus) * host.cpu_overcommit.max(0.0) + 1e-9).floor();
    let free_vcpus = (vcpu_cap - f64::from(host.vcpus_allocated)).max(0.0);
    let by_cpu = if shape.vcpus == 0 {
        u64::MAX
    } else {
        float_to_u64(free_vcpus / f64::from(shape.vcpus))
    };
    let free_mem = host
        .memory_bytes
        .saturating_sub(host.memory_reserved_bytes)
        .saturating_sub(host.memory_allocated_bytes);
    let by_mem = free_mem.checked_div(shape.memory_bytes).unwrap_or(u64::MAX);
    let (fits, limited_by) = if by_cpu <= by_mem {
        (by_cpu, Limit::Cpu)
    } else {
        (by_mem, Limit::Memory)
    };
    Headroom {
        fits,
        limited_by,
        shape,
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn float_to_u64(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.floor().min(1e18) as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn linear_growth_crosses_on_time() {
        let ys: Vec<f64> = (0..300).map(|i| 50.0 + 0.1 * f64::from(i)).collect();
        // Last value 79.9; 90 is 101 rows away.
        let c = time_to_threshold(
            &ys,
            90.0,
            true,
            200,
            ModelKind::LinearTrend,
            &ForecastConfig::default(),
        )
        .unwrap();
        assert!(c.rising && !c.already);
        assert_eq!(c.expected, Some(101));
        assert!(c.earliest.unwrap() <= 101 && c.latest.unwrap() >= 101);
    }

    #[test]
    fn flat_series_never_crosses() {
        let c = time_to_threshold(
            &[10.0; 100],
            90.0,
            true,
            50,
            ModelKind::Auto,
            &ForecastConfig::default(),
        )
        .unwrap();
        assert_eq!((c.expected, c.earliest, c.latest), (None, None, None));
        assert!(time_to_threshold(
            &[],
            1.0,
            true,
            5,
            ModelKind::Auto,
            &ForecastConfig::default()
        )
        .is_err());
    }

    #[test]
    fn headroom_counts_the_scarcer_resource() {
        let host = HostResources {
            cpus: 16,
            cpu_overcommit: 2.0,
            vcpus_allocated: 18,
            memory_bytes: 64 * GIB,
            memory_reserved_bytes: 4 * GIB,
            memory_allocated_bytes: 36 * GIB,
        };
        let h = headroom(
            &host,
            VmShape {
                vcpus: 2,
                memory_bytes: 4 * GIB,
            },
        );
        assert_eq!((h.fits, h.limited_by), (6, Limit::Memory));
        assert_eq!(
            h.describe(),
            "room for 6 more 2 vCPU / 4 GiB VMs by allocation (memory runs out first)"
        );
        let none = headroom(
            &HostResources {
                vcpus_allocated: 40,
                ..host
            },
            VmShape {
                vcpus: 2,
                memory_bytes: GIB,
            },
        );
        assert_eq!((none.fits, none.limited_by), (0, Limit::Cpu));
    }

    #[test]
    fn overcommit_products_keep_their_vcpus_and_small_shapes_read_in_mib() {
        let host = HostResources {
            cpus: 100,
            cpu_overcommit: 0.29, // 28.999… in floating point
            vcpus_allocated: 0,
            memory_bytes: 1 << 40,
            memory_reserved_bytes: 0,
            memory_allocated_bytes: 0,
        };
        let shape = VmShape {
            vcpus: 1,
            memory_bytes: 64 << 20,
        };
        let h = headroom(&host, shape);
        assert_eq!((h.fits, h.limited_by), (29, Limit::Cpu));
        assert_eq!(
            h.describe(),
            "room for 29 more 1 vCPU / 64 MiB VMs by allocation (vCPUs run out first)"
        );
    }
}
