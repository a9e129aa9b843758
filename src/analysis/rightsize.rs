//! Right-sizing job: each VM's CPU, memory and network over a window → recommended vCPUs and
//! memory, idle verdicts and, with a price table, monthly cost and savings.

use serde::Serialize;

use super::{grid, STEP_MS};
use crate::analytics::rightsize::{
    recommend, savings, PriceTable, Recommendation, RightsizeConfig, Savings, Usage,
};
use crate::store::{HistoryStore, StoreError};

/// What the job needs to know about one VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmInput {
    pub entity: String,
    pub name: String,
    pub host: String,
    pub vcpus: u32,
    pub memory_bytes: u64,
}

/// One VM's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RightsizeRow {
    pub name: String,
    pub host: String,
    pub recommendation: Option<Recommendation>,
    pub savings: Option<Savings>,
    /// 5-minute rows of CPU history the verdict rests on.
    pub samples: usize,
    /// No verdict yet only because the history is younger than `min_history`.
    pub collecting: bool,
    /// Why there is no verdict.
    pub note: Option<String>,
}

impl RightsizeRow {
    /// Idle VMs first, then the biggest savings (or the biggest cut in vCPUs and memory).
    fn sort_key(&self) -> (u8, i64) {
        let Some(r) = &self.recommendation else {
            return (3, 0);
        };
        #[allow(clippy::cast_possible_truncation)]
        let money = self
            .savings
            .as_ref()
            .map_or(0, |s| (s.monthly_savings * 100.0) as i64);
        let cut = i64::from(r.current_vcpus) - i64::from(r.vcpus)
            + i64::try_from(r.current_memory_bytes.saturating_sub(r.memory_bytes) >> 30)
                .unwrap_or(0);
        let oversized = r.vcpus < r.current_vcpus || r.memory_bytes < r.current_memory_bytes;
        match (r.idle, oversized) {
            (true, _) => (0, -money),
            (false, true) => (1, -(money.max(cut))),
            (false, false) => (2, 0),
        }
    }
}

/// Verdicts for `vms` over the last `window_ms` of history.
pub fn rightsize(
    store: &dyn HistoryStore,
    vms: &[VmInput],
    cfg: &RightsizeConfig,
    prices: Option<&PriceTable>,
    window_ms: i64,
    now_ms: i64,
    tz_offset_s: i32,
) -> Vec<RightsizeRow> {
    let end = now_ms - now_ms.rem_euclid(STEP_MS);
    let mut rows: Vec<RightsizeRow> = vms
        .iter()
        .map(|vm| verdict(store, vm, cfg, prices, (end - window_ms, end), tz_offset_s))
        .collect();
    rows.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// One VM's row from its history over `[from, end)`.
fn verdict(
    store: &dyn HistoryStore,
    vm: &VmInput,
    cfg: &RightsizeConfig,
    prices: Option<&PriceTable>,
    (from, end): (i64, i64),
    tz_offset_s: i32,
) -> RightsizeRow {
    let mut row = RightsizeRow {
        name: vm.name.clone(),
        host: vm.host.clone(),
        recommendation: None,
        savings: None,
        samples: 0,
        collecting: false,
        note: None,
    };
    let read = |m: &str| grid(store, &vm.entity, m, from, end);
    let series = (|| {
        Ok::<_, StoreError>((
            read("cpu_pct")?,
            read("mem_used_bytes")?,
            [read("net_rx_bps")?, read("net_tx_bps")?],
            [read("disk_rd_bps")?, read("disk_wr_bps")?],
        ))
    })();
    let (cpu, mem, net, disk) = match series {
        Ok(s) => s,
        Err(e) => {
            row.note = Some(format!("history: {e}"));
            return row;
        }
    };
    row.samples = cpu.iter().filter(|v| v.is_finite()).count();
    let needed = cfg.min_samples.max(1);
    // Recording, but the first 5-minute row is not complete yet: collecting, not "nothing".
    let first_due = row.samples == 0
        && grid(store, &vm.entity, "cpu_pct", end, end + STEP_MS)
            .is_ok_and(|r| r.iter().any(|v| v.is_finite()));
    row.collecting = first_due || (1..needed).contains(&row.samples);
    row.note = if first_due {
        Some(format!(
            "collecting: the first five-minute row of CPU is due at {}",
            super::due_at(end, tz_offset_s)
        ))
    } else if row.samples == 0 {
        Some("no CPU usage recorded in the window".to_string())
    } else if row.collecting {
        Some(format!(
            "collecting: sizing needs {needed} five-minute rows of CPU, {} so far",
            row.samples
        ))
    } else if !mem.iter().any(|v| v.is_finite()) {
        Some(
            "no memory usage recorded in the window (guests report it through their balloon driver)"
                .to_string(),
        )
    } else {
        None
    };
    if row.note.is_some() {
        return row;
    }
    let (net, disk) = (both_ways(&net), both_ways(&disk));
    let usage = Usage {
        cpu_percent: &cpu,
        memory_bytes: &mem,
        network_bytes_per_s: &net,
        disk_bytes_per_s: &disk,
    };
    match recommend(vm.vcpus, vm.memory_bytes, &usage, cfg) {
        Ok(mut r) => {
            row.savings = prices.and_then(|p| savings(&r, p));
            if prices.is_some() && row.savings.is_none() {
                r.reason.push_str(
                    "; no cost: a shape fits no listed instance type and no per-vCPU or \
                     per-GiB price is set",
                );
            }
            row.recommendation = Some(r);
        }
        Err(e) => row.note = Some(e.to_string()),
    }
    row
}

/// In + out (or read + written) per row; a row where only one direction was recorded counts
/// that one.
fn both_ways([a, b]: &[Vec<f64>; 2]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(a, b)| match (a.is_finite(), b.is_finite()) {
            (true, true) => a + b,
            (true, false) => *a,
            (false, true) => *b,
            (false, false) => f64::NAN,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, Sample, SeriesKey, StoreConfig};

    const NOW: i64 = 1_795_435_200_000;

    /// 2100 rows (a week and a bit) of a big VM at 10 % CPU and an idle one.
    fn week_of_two_vms() -> MemoryStore {
        let mut store = MemoryStore::new(StoreConfig::default());
        let mut batch = Vec::new();
        for i in 0..2100i64 {
            let ts = NOW - (2100 - i) * STEP_MS + 1_000;
            let put = |e: &str, m: &str, v: f64| {
                (
                    SeriesKey::new(e, m),
                    Sample {
                        ts_ms: ts,
                        value: v,
                    },
                )
            };
            batch.push(put("vm/h/big", "cpu_pct", 10.0));
            batch.push(put("vm/h/big", "mem_used_bytes", 2e9));
            batch.push(put("vm/h/big", "net_rx_bps", 5e5));
            batch.push(put("vm/h/idle", "cpu_pct", 0.5));
            batch.push(put("vm/h/idle", "mem_used_bytes", 1e8));
            batch.push(put("vm/h/idle", "net_rx_bps", 10.0));
        }
        store.append(&batch).unwrap();
        store.flush().unwrap();
        store
    }

    fn vm(e: &str, n: &str) -> VmInput {
        VmInput {
            entity: e.into(),
            name: n.into(),
            host: "h".into(),
            vcpus: 8,
            memory_bytes: 16 << 30,
        }
    }

    #[test]
    fn an_oversized_vm_gets_fewer_vcpus_and_an_idle_one_is_flagged() {
        let now = NOW;
        let store = week_of_two_vms();
        let prices = PriceTable {
            per_vcpu_hour: 0.01,
            per_gib_hour: 0.005,
            instance_types: Vec::new(),
        };
        let rows = rightsize(
            &store,
            &[vm("vm/h/big", "big"), vm("vm/h/idle", "idle")],
            &RightsizeConfig::default(),
            Some(&prices),
            7 * 86_400_000,
            now,
            0,
        );
        assert_eq!(rows[0].name, "idle", "idle VMs first");
        let young = rightsize(
            &store,
            &[vm("vm/h/big", "big"), vm("vm/h/none", "none")],
            &RightsizeConfig::default(),
            None,
            7 * 86_400_000,
            now - 1900 * STEP_MS,
            0,
        );
        assert_eq!(
            young[0].note.as_deref(),
            Some("collecting: sizing needs 288 five-minute rows of CPU, 200 so far")
        );
        assert!(young[0].collecting);
        assert_eq!(young[1].samples, 0);
        assert!(!young[1].collecting);
        assert_eq!(
            young[1].note.as_deref(),
            Some("no CPU usage recorded in the window")
        );
        // A VM recorded only inside the row in progress: its first row is due.
        let fresh = rightsize(
            &store,
            &[vm("vm/h/big", "big")],
            &RightsizeConfig::default(),
            None,
            7 * 86_400_000,
            now - 2100 * STEP_MS + 2_000,
            0,
        );
        assert!(fresh[0].collecting && fresh[0].samples == 0, "{fresh:?}");
        let note = fresh[0].note.as_deref().unwrap_or("");
        assert!(
            note.starts_with("collecting: the first five-minute row of CPU is due at "),
            "{note}"
        );
        assert!(rows[0].recommendation.as_ref().unwrap().idle);
        let big = rows[1].recommendation.as_ref().unwrap();
        assert!(!big.idle);
        assert_eq!(big.vcpus, 1, "10 % of 8 vCPUs × 1.2 = 0.96 → 1");
        assert!(rows[1].savings.as_ref().unwrap().monthly_savings > 0.0);
    }

    #[test]
    fn a_shape_without_a_price_says_why_there_is_no_cost() {
        let store = week_of_two_vms();
        // Instance types only, none big enough for the VM's 8 vCPUs.
        let types_only = PriceTable {
            per_vcpu_hour: 0.0,
            per_gib_hour: 0.0,
            instance_types: vec![crate::analytics::rightsize::InstanceType {
                name: "t3.small".into(),
                vcpus: 2,
                memory_gib: 2.0,
                per_hour: 0.02,
            }],
        };
        let rows = rightsize(
            &store,
            &[vm("vm/h/big", "big")],
            &RightsizeConfig::default(),
            Some(&types_only),
            7 * 86_400_000,
            NOW,
            0,
        );
        assert_eq!(rows[0].savings, None);
        let reason = &rows[0].recommendation.as_ref().unwrap().reason;
        assert!(
            reason.contains("no cost: a shape fits no listed instance type"),
            "{reason}"
        );
    }
}
