//! Counters from the pollers → derived metrics in the state, and the points to record in
//! the history store.

use super::anomalies::Change;
use super::state::{JournalStatus, State};
use super::Effect;
use crate::domain::{CounterSample, HostCounters, HostId, Metric, PoolUsage, VmId};

/// One derived value to persist. Entities are stable across runs: `vm/<uri>/<uuid>`,
/// `host/<uri>`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPoint {
    pub entity: String,
    pub metric: &'static str,
    pub ts_ms: i64,
    pub value: f64,
}

/// History entity of a VM.
#[must_use]
pub fn vm_entity(uri: &str, uuid: &str) -> String {
    format!("vm/{uri}/{uuid}")
}

/// History entity of a host.
#[must_use]
pub fn host_entity(uri: &str) -> String {
    format!("host/{uri}")
}

/// A VM stopped running: its alarms end, journaled, and its detectors drop their open
/// rows (the next row comes after the downtime, which they see as a gap).
pub fn vm_stopped(state: &mut State, uri: &str, uuid: &str, name: &str) {
    if state.anomalies.stopped(&vm_entity(uri, uuid)) {
        super::opflow::journal(
            state,
            uri,
            name,
            "unusual readings end: not running".into(),
            JournalStatus::Note,
            None,
        );
    }
}

/// Feeds the anomaly detectors of `entity` and journals what they raise or clear; the first
/// values of an entity ask for a week of history to warm them.
fn detect(
    state: &mut State,
    entity: &str,
    name: &str,
    uri: &str,
    ts_ms: i64,
    values: &[(Metric, f64)],
    watched: &[Metric],
) -> Vec<Effect> {
    let mut effects = Vec::new();
    if !state.anomalies.warming.contains(entity) {
        state.anomalies.warming.insert(entity.to_string());
        effects.push(Effect::WarmDetectors {
            entity: entity.to_string(),
            metrics: watched
                .iter()
                .map(|&m| (m, state.anomalies.config_for(m)))
                .collect(),
            until_ms: ts_ms - ts_ms.rem_euclid(crate::analysis::STEP_MS),
            lookback_ms: state.anomalies.warmup_ms(),
        });
    }
    for (m, v) in values.iter().filter(|(m, _)| watched.contains(m)) {
        match state.anomalies.push(entity, *m, ts_ms, *v) {
            Some(Change::Raised(a)) => {
                super::opflow::journal(
                    state,
                    uri,
                    name,
                    format!("unusual: {}", a.text),
                    JournalStatus::Warning("anomaly".into()),
                    None,
                );
            }
            Some(Change::Cleared) => {
                super::opflow::journal(
                    state,
                    uri,
                    name,
                    format!("{} back to normal", m.label()),
                    JournalStatus::Note,
                    None,
                );
            }
            None => {}
        }
    }
    effects
}

fn points(entity: &str, ts_ms: i64, values: &[(Metric, f64)], out: &mut Vec<RecordPoint>) {
    out.extend(values.iter().map(|(m, v)| RecordPoint {
        entity: entity.to_string(),
        metric: m.name(),
        ts_ms,
        value: *v,
    }));
}

/// A poll's VM samples.
pub fn on_samples(
    state: &mut State,
    host: HostId,
    ts_ms: i64,
    samples: Vec<CounterSample>,
) -> Vec<Effect> {
    let uri = state.host_uri(host).to_string();
    let host_cpus = state.host(host).map_or(0, |h| h.metrics.cpus);
    let mut out = Vec::new();
    let mut effects = Vec::new();
    for s in samples {
        let id = VmId {
            host,
            uuid: s.uuid.clone(),
        };
        let Some(e) = state.vms.get_mut(&id) else {
            continue;
        };
        if !s.state.is_active() {
            e.metrics.rates.reset();
            e.metrics.live.clear();
            let name = e.vm.name.clone();
            vm_stopped(state, &uri, &s.uuid, &name);
            continue;
        }
        let values = e.metrics.rates.ingest(&s, ts_ms, host_cpus);
        e.metrics.live.record(ts_ms, &values);
        let entity = vm_entity(&uri, &s.uuid);
        let name = e.vm.name.clone();
        super::charts::on_live(state, &entity, ts_ms, &values);
        if s.state.is_working() {
            effects.extend(detect(
                state,
                &entity,
                &name,
                &uri,
                ts_ms,
                &values,
                &super::anomalies::VM_METRICS,
            ));
        } else {
            // Paused: its 0 % CPU is not what it does, so its detectors see a gap.
            vm_stopped(state, &uri, &s.uuid, &name);
        }
        points(&entity, ts_ms, &values, &mut out);
    }
    if !out.is_empty() {
        effects.push(Effect::Record(out));
    }
    effects
}

/// A host's counters, with the poll's own cost.
pub fn on_host_sample(
    state: &mut State,
    host: HostId,
    ts_ms: i64,
    counters: &HostCounters,
    poll_ms: f64,
    overruns: u64,
) -> Vec<Effect> {
    let (vcpus, mem_kib) = state
        .vms
        .values()
        .filter(|e| e.vm.id.host == host && e.vm.state.is_active())
        .fold((0u64, 0u64), |(c, m), e| {
            (c + u64::from(e.vm.vcpus), m + e.vm.mem_kib)
        });
    let uri = state.host_uri(host).to_string();
    let Some(h) = state.host_mut(host) else {
        return Vec::new();
    };
    h.metrics.cpus = counters.cpus;
    h.metrics.mem_total_kib = counters.mem_total_kib;
    h.metrics.node_stats = counters.node_stats;
    h.metrics.last_poll_ms = poll_ms;
    h.metrics.overruns = overruns;
    let values = h.metrics.rates.ingest(counters, vcpus, mem_kib);
    h.metrics.live.record(ts_ms, &values);
    let entity = host_entity(&uri);
    super::charts::on_live(state, &entity, ts_ms, &values);
    let label = format!("host {uri}");
    let mut effects = detect(
        state,
        &entity,
        &label,
        &uri,
        ts_ms,
        &values,
        &super::anomalies::HOST_METRICS,
    );
    let mut out = Vec::new();
    points(&entity, ts_ms, &values, &mut out);
    effects.push(Effect::Record(out));
    effects
}

/// Storage pools of a host: kept for the capacity pane and recorded as
/// `pool/<uri>/<name>` series (`used_pct`, `used_bytes`, `capacity_bytes`).
pub fn on_pools(state: &mut State, host: HostId, ts_ms: i64, pools: Vec<PoolUsage>) -> Vec<Effect> {
    let uri = state.host_uri(host).to_string();
    let mut out = Vec::new();
    for p in &pools {
        let entity = format!("pool/{uri}/{}", p.name);
        #[allow(clippy::cast_precision_loss)]
        let (used, cap) = (p.allocation as f64, p.capacity as f64);
        let mut values = vec![("used_bytes", used), ("capacity_bytes", cap)];
        if cap > 0.0 {
            values.push(("used_pct", used / cap * 100.0));
        }
        out.extend(values.into_iter().map(|(metric, value)| RecordPoint {
            entity: entity.clone(),
            metric,
            ts_ms,
            value,
        }));
    }
    if let Some(h) = state.host_mut(host) {
        h.metrics.pools = pools;
    }
    if out.is_empty() {
        Vec::new()
    } else {
        vec![Effect::Record(out)]
    }
}

/// Puts stored CPU values in front of an entity's sparkline, so the table shows history at
/// start rather than only this run's polls.
pub fn backfill_spark(state: &mut State, entity: &str, recent: &[f64]) {
    if recent.is_empty() {
        return;
    }
    let live = if let Some(h) = state
        .hosts
        .iter_mut()
        .find(|h| host_entity(&h.uri) == entity)
    {
        Some(&mut h.metrics.live)
    } else {
        // By host id, not position: a host connected again with :connect has a new id.
        let id = state
            .vms
            .values()
            .find(|e| vm_entity(state.host_uri(e.vm.id.host), &e.vm.id.uuid) == entity)
            .map(|e| e.vm.id.clone());
        id.and_then(|id| state.vms.get_mut(&id))
            .map(|e| &mut e.metrics.live)
    };
    if let Some(live) = live {
        let room = super::live::SPARK_LEN.saturating_sub(live.spark.len());
        for v in recent.iter().rev().take(room) {
            live.spark.push_front(*v);
        }
    }
}
