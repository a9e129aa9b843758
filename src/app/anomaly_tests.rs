//! Reducer tests for anomalies: a warm detector's alarm is journaled, marked on the VM and
//! cleared when the readings are back, or when the VM stops running.

use super::analysis_tests::samples;
use super::fixtures::{state, T0};
use super::{update, Msg};
use crate::domain::{Metric, VmId, VmState};

/// Feeds web-1 a row of `pct` % CPU (60 samples 5 s apart, two vCPUs) after `clock`
/// (ns of CPU time, ms of wall time).
fn cpu_row(s: &mut super::State, clock: &mut (u64, i64), pct: u64) {
    for _ in 0..60 {
        clock.0 += pct * 100_000_000;
        clock.1 += 5_000;
        samples(s, clock.1, clock.0);
    }
}

const WEB1: &str = "vm/qemu:///system/0-web-1";

/// web-1 with warm detectors, two ordinary rows and a 99 % row that raised an alarm.
fn web1_alarmed() -> (super::State, (u64, i64)) {
    let mut s = state();
    let week: Vec<f64> = (0..2016)
        .map(|i| 20.0 + f64::from((i * 7919) % 13))
        .collect();
    s.anomalies.warming.insert(WEB1.to_string());
    let warmed = crate::analytics::anomaly::ensemble::Ensemble::warmed(
        s.anomalies.config_for(Metric::CpuPct),
        &week,
    );
    update(
        &mut s,
        Msg::DetectorHistory {
            entity: WEB1.into(),
            until_ms: 0,
            series: vec![(Metric::CpuPct, warmed)],
            recent_cpu: vec![11.0, 12.0],
        },
        T0,
    );
    let mut clock = (0, 0);
    for pct in [25, 25, 99] {
        cpu_row(&mut s, &mut clock, pct);
    }
    assert!(
        s.anomalies.any(WEB1),
        "the 99 % row raised an alarm when the next row began"
    );
    (s, clock)
}

#[test]
fn an_anomaly_is_journaled_marked_and_cleared() {
    let (mut s, mut clock) = web1_alarmed();
    let line = s
        .journal
        .iter()
        .find(|j| j.what.starts_with("unusual: cpu"))
        .expect("journaled");
    assert!(line.what.contains("above"), "{}", line.what);
    cpu_row(&mut s, &mut clock, 25);
    assert!(!s.anomalies.any(WEB1), "back to normal");
    assert!(s.journal.iter().any(|j| j.what == "cpu back to normal"));
}

#[test]
fn a_vm_that_shuts_off_or_pauses_has_no_alarm() {
    for stopped in [VmState::ShutOff, VmState::Paused] {
        vm_in_state_has_no_alarm(stopped);
    }
}

fn vm_in_state_has_no_alarm(stopped: VmState) {
    let (mut s, _) = web1_alarmed();
    let id = VmId {
        host: 0,
        uuid: "0-web-1".into(),
    };
    let mut vm = s.vms[&id].vm.clone();
    vm.state = stopped;
    super::fixtures::updated(&mut s, vm);
    assert!(!s.anomalies.any(WEB1), "a {stopped:?} VM has no alarm");
    assert_eq!(
        s.journal.back().map(|j| j.what.as_str()),
        Some("unusual readings end: not running")
    );
}
