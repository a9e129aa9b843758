//! The forecast view's state: which series is forecast, how far ahead, and the result of the
//! last request (computed off the loop, see `analysis::forecast_series`).

use super::ingest::{host_entity, vm_entity};
use super::opflow::flash;
use super::state::{Screen, State};
use super::Effect;
use crate::analysis::{ForecastError, ForecastResult};
use crate::domain::{HostId, Metric, VmId};

/// Horizons `+`/`-` step through: label and 5-minute rows.
pub const HORIZONS: [(&str, usize); 4] = [("1h", 12), ("6h", 72), ("24h", 288), ("7d", 2016)];

/// Metrics `tab` cycles through, for a VM and for a host.
pub const VM_METRICS: [Metric; 4] = [
    Metric::CpuPct,
    Metric::MemUsedBytes,
    Metric::DiskWrBps,
    Metric::NetRxBps,
];
pub const HOST_METRICS: [Metric; 2] = [Metric::HostCpuPct, Metric::HostMemUsedBytes];

/// What the forecast view shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastView {
    pub entity: String,
    /// "web-1" or "host local" (the host's label, as in the header).
    pub label: String,
    pub host_scope: bool,
    /// The VM forecast, so the view can say when it is not running.
    pub vm: Option<VmId>,
    pub metric: Metric,
    pub horizon_idx: usize,
    pub request: u64,
    pub loading: bool,
    pub result: Option<ForecastResult>,
    pub error: Option<ForecastError>,
    /// The 5-minute row ([`analysis_row`]) the last request was made in.
    pub row: i64,
    /// When the last request was made.
    pub asked_ms: i64,
    /// Opened from a capacity row whose crossing another model made: how the two differ.
    pub capacity_note: Option<String>,
}

/// The 5-minute row whose average a job started at `now_ms` can read: rows are written as
/// the poller's samples are flushed (every few seconds), so a row counts 10 s after it ends.
#[must_use]
pub fn analysis_row(now_ms: i64) -> i64 {
    (now_ms - 10_000).div_euclid(crate::analysis::STEP_MS)
}

impl Default for ForecastView {
    fn default() -> Self {
        Self {
            entity: String::new(),
            label: String::new(),
            host_scope: false,
            vm: None,
            metric: Metric::CpuPct,
            horizon_idx: 1,
            request: 0,
            loading: false,
            result: None,
            error: None,
            row: 0,
            asked_ms: 0,
            capacity_note: None,
        }
    }
}

impl ForecastView {
    #[must_use]
    pub fn horizon(&self) -> (&'static str, usize) {
        HORIZONS[self.horizon_idx.min(HORIZONS.len() - 1)]
    }
}

/// Asks for the forecast the view shows; what it showed stays until the answer (the title
/// says "computing…"), so a refresh does not blank the view.
fn request(state: &mut State) -> Vec<Effect> {
    let f = &mut state.forecast;
    f.row = analysis_row(state.now_ms);
    f.asked_ms = state.now_ms;
    f.request += 1;
    f.loading = true;
    vec![Effect::LoadForecast {
        request: f.request,
        entity: f.entity.clone(),
        metric: f.metric.name(),
        horizon_rows: f.horizon().1,
        ceiling: ceiling(state),
    }]
}

/// What the forecast series cannot exceed: memory in use stops at the VM's maximum memory
/// or the host's memory, whatever a trend says.
#[allow(clippy::cast_precision_loss)]
fn ceiling(state: &State) -> Option<f64> {
    let f = &state.forecast;
    let kib = match f.metric {
        // Only the guest's own figure stops there: QEMU's RSS, read when the guest gives
        // none, includes QEMU's overhead.
        Metric::MemUsedBytes => {
            let e = state.vms.get(f.vm.as_ref()?)?;
            if e.metrics.rates.mem_source != Some(crate::domain::MemSource::Guest) {
                return None;
            }
            e.vm.max_mem_kib
        }
        Metric::HostMemUsedBytes => {
            let h = state
                .hosts
                .iter()
                .find(|h| host_entity(&h.uri) == f.entity)?;
            h.metrics.mem_total_kib
        }
        _ => return None,
    };
    (kib > 0).then_some(kib as f64 * 1024.0)
}

/// Opens the forecast of a VM's CPU.
pub fn open_vm(state: &mut State, id: &VmId) -> Vec<Effect> {
    let Some(e) = state.vms.get(id) else {
        flash(state, "no VM selected", true);
        return Vec::new();
    };
    let (entity, label) = (
        vm_entity(state.host_uri(id.host), &id.uuid),
        e.vm.name.clone(),
    );
    state.forecast = ForecastView {
        entity,
        label,
        vm: Some(id.clone()),
        horizon_idx: state.forecast.horizon_idx,
        request: state.forecast.request,
        ..ForecastView::default()
    };
    state.view.go(Screen::Forecast);
    request(state)
}

/// Opens the forecast of the host shown in the host pane.
pub fn open_host(state: &mut State) -> Vec<Effect> {
    match state.cursor_host().map(|h| h.id) {
        Some(host) => open_host_metric(state, host, Metric::HostCpuPct),
        None => Vec::new(),
    }
}

/// Opens the forecast of `metric` of host `host`.
pub fn open_host_metric(state: &mut State, host: HostId, metric: Metric) -> Vec<Effect> {
    let Some(h) = state.host(host) else {
        return Vec::new();
    };
    state.forecast = ForecastView {
        entity: host_entity(&h.uri),
        label: format!("host {}", h.label),
        host_scope: true,
        metric,
        horizon_idx: state.forecast.horizon_idx,
        request: state.forecast.request,
        ..ForecastView::default()
    };
    state.view.go(Screen::Forecast);
    request(state)
}

/// `tab`: the next metric of the same entity.
pub fn cycle_metric(state: &mut State) -> Vec<Effect> {
    let list: &[Metric] = if state.forecast.host_scope {
        &HOST_METRICS
    } else {
        &VM_METRICS
    };
    let i = list
        .iter()
        .position(|m| *m == state.forecast.metric)
        .unwrap_or(0);
    state.forecast.metric = list[(i + 1) % list.len()];
    state.forecast.result = None;
    state.forecast.error = None;
    // The capacity row's note was about the metric it opened on.
    state.forecast.capacity_note = None;
    request(state)
}

/// `+`/`-`: a shorter or longer horizon.
pub fn change_horizon(state: &mut State, longer: bool) -> Vec<Effect> {
    let i = state.forecast.horizon_idx;
    let j = if longer {
        (i + 1).min(HORIZONS.len() - 1)
    } else {
        i.saturating_sub(1)
    };
    if i == j {
        return Vec::new();
    }
    state.forecast.horizon_idx = j;
    request(state)
}

/// Each tick: an open forecast is computed again once a new 5-minute row can be read, so
/// the view follows the history instead of keeping what it showed when opened; one that
/// found no sample at all (opened in a console's first seconds) asks again every 10 s.
pub fn on_tick(state: &mut State) -> Vec<Effect> {
    let f = &state.forecast;
    let nothing_yet = f.error.as_ref().is_some_and(ForecastError::retry_soon)
        && state.now_ms - f.asked_ms >= 10_000;
    if state.view.screen == Screen::Forecast
        && !f.loading
        && !f.entity.is_empty()
        && (analysis_row(state.now_ms) > f.row || nothing_yet)
    {
        return request(state);
    }
    Vec::new()
}

/// The answer to request `request`.
pub fn on_result(state: &mut State, request: u64, result: Result<ForecastResult, ForecastError>) {
    let f = &mut state.forecast;
    if request != f.request {
        return;
    }
    f.loading = false;
    match result {
        Ok(r) => {
            f.result = Some(r);
            f.error = None;
        }
        Err(e) => {
            let e = match (no_device(state), e) {
                (Some(why), _) => ForecastError::Unavailable(why),
                (None, ForecastError::NothingRecorded(what)) if recording(state) => {
                    ForecastError::Starting(what)
                }
                (None, e) => e,
            };
            let f = &mut state.forecast;
            f.result = None;
            f.error = Some(e);
        }
    }
}

/// Whether this console records the forecast series now: it writes history (not a read-only
/// console), the VM runs and its poller has a figure for the metric (a driver may give none).
fn recording(state: &State) -> bool {
    let f = &state.forecast;
    !state.settings.read_only
        && f.vm
            .as_ref()
            .and_then(|id| state.vms.get(id))
            .is_some_and(|e| {
                e.vm.state == crate::domain::VmState::Running
                    && e.metrics.live.value(f.metric).is_some()
            })
}

/// Why a VM has no disk or network history when it has no such device: said as the detail
/// pane says it, not "nothing recorded in two weeks".
fn no_device(state: &State) -> Option<String> {
    let f = &state.forecast;
    state.vms.get(f.vm.as_ref()?)?.vm.no_forecast(f.metric)
}
