//! The capacity and recommendations panes: what to ask the analysis jobs (built from the
//! inventory) and the reports they return.

use super::forecast_view::{self, analysis_row};
use super::ingest::vm_entity;
use super::opflow::flash;
use super::state::{Screen, State};
use super::{Action, Effect};
use crate::analysis::capacity::{CapacityReport, HostInput, PoolInput};
use crate::analysis::rightsize::{RightsizeRow, VmInput};
use crate::domain::{Metric, VmId};

/// Reports and the requests in flight.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reports {
    pub capacity: Option<CapacityReport>,
    pub capacity_request: u64,
    pub rightsize: Option<Vec<RightsizeRow>>,
    pub rightsize_request: u64,
    pub currency: String,
    /// A capacity request is in flight.
    pub capacity_loading: bool,
    /// A recommendations request is in flight.
    pub rightsize_loading: bool,
    /// The selected row (j/k) of the capacity pane, kept in view.
    pub capacity_row: usize,
    /// The selected row of the recommendations pane, whose evidence it shows. Each pane
    /// keeps its own, so going back from one to the other lands where it was.
    pub rightsize_row: usize,
    /// The 5-minute row the last request was made in.
    pub row: i64,
}

impl Reports {
    /// Rows of the report `screen` shows (0 for other screens or before it arrives).
    #[must_use]
    pub fn rows(&self, screen: Screen) -> usize {
        match screen {
            Screen::Capacity => self.capacity.as_ref().map_or(0, |r| r.rows.len()),
            Screen::Rightsize => self.rightsize.as_ref().map_or(0, Vec::len),
            _ => 0,
        }
    }

    /// The selected row of the report `screen` shows (0 for other screens).
    #[must_use]
    pub fn cursor(&self, screen: Screen) -> usize {
        match screen {
            Screen::Capacity => self.capacity_row,
            Screen::Rightsize => self.rightsize_row,
            _ => 0,
        }
    }

    /// Selects row `row` of the report `screen` shows, as far as its last row.
    pub fn set_cursor(&mut self, screen: Screen, row: usize) {
        let row = row.min(self.rows(screen).saturating_sub(1));
        match screen {
            Screen::Capacity => self.capacity_row = row,
            Screen::Rightsize => self.rightsize_row = row,
            _ => {}
        }
    }
}

fn host_inputs(state: &State) -> Vec<HostInput> {
    state
        .hosts
        .iter()
        .map(|h| {
            let running = state
                .vms
                .values()
                .filter(|e| e.vm.id.host == h.id && e.vm.state.is_active());
            let (vcpus, mem_kib) =
                running.fold((0u32, 0u64), |(c, m), e| (c + e.vm.vcpus, m + e.vm.mem_kib));
            HostInput {
                uri: h.uri.clone(),
                cpus: h.metrics.cpus,
                memory_bytes: h.metrics.mem_total_kib * 1024,
                vcpus_allocated: vcpus,
                memory_allocated_bytes: mem_kib * 1024,
                pools: h
                    .metrics
                    .pools
                    .iter()
                    .map(|p| PoolInput {
                        name: p.name.clone(),
                        capacity: p.capacity,
                        allocation: p.allocation,
                    })
                    .collect(),
                usage_stats: !h.metrics.size_only(),
            }
        })
        .collect()
}

fn vm_inputs(state: &State) -> Vec<VmInput> {
    state
        .vms
        .values()
        .map(|e| VmInput {
            entity: vm_entity(state.host_uri(e.vm.id.host), &e.vm.id.uuid),
            name: e.vm.name.clone(),
            host: state.host_label(e.vm.id.host).to_string(),
            vcpus: e.vm.vcpus,
            memory_bytes: e.vm.max_mem_kib * 1024,
        })
        .collect()
}

/// The VM of the recommendation under the cursor.
fn rightsize_vm(state: &State) -> Option<VmId> {
    let row = state
        .reports
        .rightsize
        .as_ref()?
        .get(state.reports.rightsize_row)?;
    state
        .vms
        .values()
        .find(|e| e.vm.name == row.name && state.host_label(e.vm.id.host) == row.host)
        .map(|e| e.vm.id.clone())
}

/// On an analysis pane, `enter` and `F` mean the pane's own row, not the table's selection
/// it hides; `None` for every other key and screen.
pub fn row_action(state: &mut State, a: Action) -> Option<Vec<Effect>> {
    match (state.view.screen, a) {
        (Screen::Rightsize, Action::OpenDetail) => Some(detail_selected(state)),
        (Screen::Capacity, Action::OpenDetail | Action::Forecast)
        | (Screen::Rightsize, Action::Forecast) => Some(forecast_selected(state)),
        _ => None,
    }
}

/// `F` (and `enter` in the capacity pane) on an analysis pane: the forecast of the row under
/// the cursor, not of the table's selection the pane hides.
fn forecast_selected(state: &mut State) -> Vec<Effect> {
    match state.view.screen {
        Screen::Rightsize => match rightsize_vm(state) {
            Some(id) => forecast_view::open_vm(state, &id),
            None => nothing(state, "no VM on this row"),
        },
        Screen::Capacity => {
            let Some(row) = state
                .reports
                .capacity
                .as_ref()
                .and_then(|c| c.rows.get(state.reports.capacity_row))
            else {
                return nothing(state, "no row selected");
            };
            let metric = match row.resource.as_str() {
                "cpu" => Metric::HostCpuPct,
                "memory" => Metric::HostMemUsedBytes,
                _ => {
                    return nothing(
                        state,
                        "a pool has no forecast view; its row shows when it fills",
                    )
                }
            };
            let note = capacity_note(row);
            match state.hosts.iter().find(|h| h.uri == row.host).map(|h| h.id) {
                Some(host) => {
                    let effects = forecast_view::open_host_metric(state, host, metric);
                    state.forecast.capacity_note = note;
                    effects
                }
                None => nothing(state, "that host is no longer connected"),
            }
        }
        _ => Vec::new(),
    }
}

/// Why the forecast view of a capacity row may not cross where the row says: the crossing
/// days ahead follows the two-week trend and daily profile, the view the automatic choice
/// backtested for hours ahead.
fn capacity_note(row: &crate::analysis::capacity::CapacityRow) -> Option<String> {
    use crate::analytics::forecast::ModelKind;
    let c = row.crossing.as_ref().filter(|c| !c.already)?;
    if c.model == ModelKind::Auto {
        // The same model, but over the rows since a step only (under two days of them).
        return row.basis.as_deref().map(|since| {
            format!(
                "capacity's {:.0}% crossing forecasts from the rows {since}; this view reads \
                 all the history, so its line may differ",
                c.threshold
            )
        });
    }
    let over = if row.basis.is_some() {
        "trend and daily profile since the level changed"
    } else {
        "two-week trend and daily profile"
    };
    // Short: at 80×24 every line it takes is one the chart loses.
    Some(format!(
        "capacity's {:.0}% crossing follows {} ({over}); this view's automatic choice, made \
         for hours ahead, may cross later or not at all",
        c.threshold,
        c.model.name()
    ))
}

/// `enter` on the recommendations pane: the detail pane of the row's VM, which becomes the
/// table's selection.
fn detail_selected(state: &mut State) -> Vec<Effect> {
    let Some(id) = rightsize_vm(state) else {
        return nothing(state, "no VM on this row");
    };
    let Some(at) = state.rows.iter().position(|r| *r == id) else {
        return nothing(state, "that VM is hidden by the filter; esc clears it");
    };
    state.view.cursor = at;
    state.view.chosen = true;
    // The selection follows the cursor, or the next rebuild of the rows (each poll) would
    // put the cursor back on the VM selected before, and the keys would act on that one.
    super::rows::clamp_cursor(state);
    state.view.go(Screen::Detail);
    Vec::new()
}

fn nothing(state: &mut State, why: &str) -> Vec<Effect> {
    flash(state, why, true);
    Vec::new()
}

/// `C` / `:capacity`: asks for the capacity report of every host.
pub fn open_capacity(state: &mut State) -> Vec<Effect> {
    state.view.go(Screen::Capacity);
    state.reports.capacity_row = 0;
    ask_capacity(state)
}

fn ask_capacity(state: &mut State) -> Vec<Effect> {
    state.reports.row = analysis_row(state.now_ms);
    state.reports.capacity_request += 1;
    state.reports.capacity_loading = true;
    vec![Effect::LoadCapacity {
        request: state.reports.capacity_request,
        hosts: host_inputs(state),
    }]
}

/// `O` / `:rightsize`: asks for recommendations for every VM.
pub fn open_rightsize(state: &mut State) -> Vec<Effect> {
    state.view.go(Screen::Rightsize);
    state.reports.rightsize_row = 0;
    ask_rightsize(state)
}

fn ask_rightsize(state: &mut State) -> Vec<Effect> {
    state.reports.row = analysis_row(state.now_ms);
    state.reports.rightsize_request += 1;
    state.reports.rightsize_loading = true;
    vec![Effect::LoadRightsize {
        request: state.reports.rightsize_request,
        vms: vm_inputs(state),
    }]
}

/// Each tick: an open report is asked for again once a new 5-minute row can be read; the
/// scroll position is kept.
pub fn on_tick(state: &mut State) -> Vec<Effect> {
    if analysis_row(state.now_ms) <= state.reports.row {
        return Vec::new();
    }
    let r = &state.reports;
    match state.view.screen {
        Screen::Capacity if !r.capacity_loading => ask_capacity(state),
        Screen::Rightsize if !r.rightsize_loading => ask_rightsize(state),
        _ => Vec::new(),
    }
}

/// The capacity report for request `request`.
pub fn on_capacity(state: &mut State, request: u64, report: CapacityReport) {
    if request == state.reports.capacity_request {
        let last = report.rows.len().saturating_sub(1);
        state.reports.capacity = Some(report);
        state.reports.capacity_row = state.reports.capacity_row.min(last);
        state.reports.capacity_loading = false;
    }
}

/// The recommendations for request `request`.
pub fn on_rightsize(state: &mut State, request: u64, rows: Vec<RightsizeRow>, currency: String) {
    if request == state.reports.rightsize_request {
        state.reports.rightsize_row = state
            .reports
            .rightsize_row
            .min(rows.len().saturating_sub(1));
        state.reports.rightsize = Some(rows);
        state.reports.currency = currency;
        state.reports.rightsize_loading = false;
    }
}
