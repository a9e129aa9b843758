//! The capacity and recommendations panes: what to ask the analysis jobs (built from the
//! inventory) and the reports they return.

use super::forecast_view::analysis_row;
use super::ingest::vm_entity;
use super::state::{Screen, State};
use super::Effect;
use crate::analysis::capacity::{CapacityReport, HostInput, PoolInput};
use crate::analysis::rightsize::{RightsizeRow, VmInput};

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
    /// The selected row (j/k), kept in view; recommendations show its evidence.
    pub scroll: usize,
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
}

fn host_inputs(state: &State) -> Vec<HostInput> {
    state
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let running = state
                .vms
                .values()
                .filter(|e| e.vm.id.host == i && e.vm.state.is_active());
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

/// `C` / `:capacity`: asks for the capacity report of every host.
pub fn open_capacity(state: &mut State) -> Vec<Effect> {
    state.view.go(Screen::Capacity);
    state.reports.scroll = 0;
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
    state.reports.scroll = 0;
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
        state.reports.scroll = state.reports.scroll.min(last);
        state.reports.capacity_loading = false;
    }
}

/// The recommendations for request `request`.
pub fn on_rightsize(state: &mut State, request: u64, rows: Vec<RightsizeRow>, currency: String) {
    if request == state.reports.rightsize_request {
        state.reports.scroll = state.reports.scroll.min(rows.len().saturating_sub(1));
        state.reports.rightsize = Some(rows);
        state.reports.currency = currency;
        state.reports.rightsize_loading = false;
    }
}
