//! What a shape costs a month from the config's price table (per vCPU-hour, per GiB-hour,
//! per EC2 instance type), and what a right-sizing recommendation saves.

use serde::Serialize;

use super::rightsize::{bytes_gib, Recommendation};

/// Hours in an average month (365.25 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.5;

/// Prices from the config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PriceTable {
    pub per_vcpu_hour: f64,
    pub per_gib_hour: f64,
    pub instance_types: Vec<InstanceType>,
}

/// An EC2 instance type and its hourly price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceType {
    pub name: String,
    pub vcpus: u32,
    pub memory_gib: f64,
    pub per_hour: f64,
}

/// Monthly cost of a shape at the per-vCPU and per-GiB prices.
#[must_use]
pub fn monthly_cost(vcpus: u32, memory_bytes: u64, prices: &PriceTable) -> f64 {
    (f64::from(vcpus) * prices.per_vcpu_hour + bytes_gib(memory_bytes) * prices.per_gib_hour)
        * HOURS_PER_MONTH
}

/// The cheapest instance type that holds the shape.
#[must_use]
pub fn cheapest_instance(
    vcpus: u32,
    memory_bytes: u64,
    prices: &PriceTable,
) -> Option<&InstanceType> {
    prices
        .instance_types
        .iter()
        .filter(|t| t.vcpus >= vcpus && t.memory_gib >= bytes_gib(memory_bytes))
        .min_by(|a, b| a.per_hour.total_cmp(&b.per_hour))
}

/// Current and recommended monthly cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Savings {
    pub current_monthly: f64,
    pub recommended_monthly: f64,
    pub monthly_savings: f64,
    /// Cheapest instance type for the recommendation, when the table lists types.
    pub instance_type: Option<String>,
}

/// Savings of `rec` at `prices`; an idle VM's recommendation costs nothing (stop it).
///
/// Both shapes are priced the same way, so a VM that needs no change saves nothing: by the
/// cheapest instance type that holds each when both fit a listed type, else by the per-vCPU
/// and per-GiB prices. `None` when that leaves a shape without a price (a table of instance
/// types only, and a shape larger than any of them): a saving against a cost of 0 is made up.
#[must_use]
pub fn savings(rec: &Recommendation, prices: &PriceTable) -> Option<Savings> {
    let current = cheapest_instance(rec.current_vcpus, rec.current_memory_bytes, prices);
    let recommended = cheapest_instance(rec.vcpus, rec.memory_bytes, prices);
    let (current_monthly, cost, instance) = match (current, recommended) {
        (Some(c), Some(r)) => (
            c.per_hour * HOURS_PER_MONTH,
            r.per_hour * HOURS_PER_MONTH,
            Some(r.name.clone()),
        ),
        _ if prices.per_vcpu_hour > 0.0 || prices.per_gib_hour > 0.0 => (
            monthly_cost(rec.current_vcpus, rec.current_memory_bytes, prices),
            monthly_cost(rec.vcpus, rec.memory_bytes, prices),
            None,
        ),
        _ => return None,
    };
    // An idle VM is to be stopped: it is recommended no instance type.
    let (recommended_monthly, instance) = if rec.idle {
        (0.0, None)
    } else {
        (cost, instance)
    };
    Some(Savings {
        current_monthly,
        recommended_monthly,
        monthly_savings: current_monthly - recommended_monthly,
        instance_type: instance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::rightsize::{few, recommend, RightsizeConfig, Usage, GIB};

    const G: u64 = 1 << 30;

    #[test]
    fn with_instance_types_only_both_shapes_are_priced_by_type() {
        let prices = PriceTable {
            per_vcpu_hour: 0.0,
            per_gib_hour: 0.0,
            instance_types: vec![
                InstanceType {
                    name: "m5.large".into(),
                    vcpus: 2,
                    memory_gib: 8.0,
                    per_hour: 0.096,
                },
                InstanceType {
                    name: "m5.xlarge".into(),
                    vcpus: 4,
                    memory_gib: 16.0,
                    per_hour: 0.192,
                },
            ],
        };
        let usage = |cpu: f64| (vec![cpu; 10], vec![3.0 * GIB; 10]);
        let (cpu, mem) = usage(20.0);
        let rec = |cpu: &[f64]| {
            let u = Usage {
                cpu_percent: cpu,
                memory_bytes: &mem,
                network_bytes_per_s: &[],
                disk_bytes_per_s: &[],
            };
            recommend(4, 16 * G, &u, &few()).unwrap()
        };
        // 20 % of 4 vCPUs → 1 vCPU, 3.5 GiB: from an m5.xlarge to an m5.large.
        let s = savings(&rec(&cpu), &prices).unwrap();
        assert!(
            (s.current_monthly - 0.192 * HOURS_PER_MONTH).abs() < 1e-6,
            "{s:?}"
        );
        assert!(
            (s.monthly_savings - 0.096 * HOURS_PER_MONTH).abs() < 1e-6,
            "{s:?}"
        );
        // Busy enough for the shape it has: no saving, not a negative one.
        let (busy, _) = usage(70.0);
        let s = savings(&rec(&busy), &prices).unwrap();
        assert!(s.monthly_savings.abs() < 1e-6, "{s:?}");
        // 16 vCPU / 64 GiB fits no listed type and there are no unit prices: no figure,
        // rather than a saving or a loss against a cost of 0.
        let big = Usage {
            cpu_percent: &busy,
            memory_bytes: &mem,
            network_bytes_per_s: &[],
            disk_bytes_per_s: &[],
        };
        let r = recommend(16, 64 * G, &big, &few()).unwrap();
        assert_eq!(savings(&r, &prices), None, "{r:?}");
        // An idle VM is to be stopped: it costs nothing and is given no type.
        let mut idle = rec(&cpu);
        idle.idle = true;
        let s = savings(&idle, &prices).unwrap();
        assert_eq!((s.recommended_monthly, s.instance_type), (0.0, None));
    }

    #[test]
    fn savings_use_the_cheapest_fitting_type() {
        let prices = PriceTable {
            per_vcpu_hour: 0.02,
            per_gib_hour: 0.005,
            instance_types: vec![
                InstanceType {
                    name: "t3.small".into(),
                    vcpus: 2,
                    memory_gib: 2.0,
                    per_hour: 0.0208,
                },
                InstanceType {
                    name: "t3.medium".into(),
                    vcpus: 2,
                    memory_gib: 4.0,
                    per_hour: 0.0416,
                },
            ],
        };
        let cpu = vec![20.0; 10];
        let mem = vec![3.0 * GIB; 10];
        let usage = Usage {
            cpu_percent: &cpu,
            memory_bytes: &mem,
            network_bytes_per_s: &[],
            disk_bytes_per_s: &[],
        };
        // 2 vCPU / 4 GiB fits a t3.medium, 8 vCPU / 32 GiB no listed type: both shapes are
        // priced per unit, not one per unit and the other by type.
        let r = recommend(8, 32 * G, &usage, &few()).unwrap();
        let s = savings(&r, &prices).unwrap();
        assert_eq!(s.instance_type, None);
        assert!((s.current_monthly - (8.0 * 0.02 + 32.0 * 0.005) * HOURS_PER_MONTH).abs() < 1e-6);
        let want = (2.0 * 0.02 + 4.0 * 0.005) * HOURS_PER_MONTH;
        assert!((s.recommended_monthly - want).abs() < 1e-6, "{s:?}");
        // Both fit a type: both priced by type, the cheapest that holds each.
        let r = recommend(2, 4 * G, &usage, &few()).unwrap();
        let s = savings(&r, &prices).unwrap();
        assert_eq!(s.instance_type.as_deref(), Some("t3.medium"));
        assert!(
            (s.current_monthly - 0.0416 * HOURS_PER_MONTH).abs() < 1e-6,
            "{s:?}"
        );
        assert!(recommend(
            1,
            1,
            &Usage {
                cpu_percent: &[],
                ..usage
            },
            &RightsizeConfig::default()
        )
        .is_err());
    }
}
