//! Everything a key can ask for. Keymaps bind key strings to these names.

use serde::{Deserialize, Serialize};

use crate::domain::{Op, VmState};

/// A user intent, independent of the key that triggered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Background,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    OpenDetail,
    Back,
    SortName,
    SortCpu,
    SortMemory,
    SortPrev,
    SortNext,
    Filter,
    Palette,
    Help,
    Logs,
    Hosts,
    ZoomIn,
    ZoomOut,
    Freeze,
    Forecast,
    CycleMetric,
    Capacity,
    Rightsize,
    Start,
    Shutdown,
    Reboot,
    Reset,
    ToggleSuspend,
    Destroy,
}

impl Action {
    pub const ALL: [Action; 33] = [
        Action::Quit,
        Action::Background,
        Action::Up,
        Action::Down,
        Action::Top,
        Action::Bottom,
        Action::PageUp,
        Action::PageDown,
        Action::OpenDetail,
        Action::Back,
        Action::SortName,
        Action::SortCpu,
        Action::SortMemory,
        Action::SortPrev,
        Action::SortNext,
        Action::Filter,
        Action::Palette,
        Action::Help,
        Action::Logs,
        Action::Hosts,
        Action::ZoomIn,
        Action::ZoomOut,
        Action::Freeze,
        Action::Forecast,
        Action::CycleMetric,
        Action::Capacity,
        Action::Rightsize,
        Action::Start,
        Action::Shutdown,
        Action::Reboot,
        Action::Reset,
        Action::ToggleSuspend,
        Action::Destroy,
    ];

    /// The name used in keymap files.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Background => "background",
            Action::Up => "up",
            Action::Down => "down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::OpenDetail => "open_detail",
            Action::Back => "back",
            Action::SortName => "sort_name",
            Action::SortCpu => "sort_cpu",
            Action::SortMemory => "sort_memory",
            Action::SortPrev => "sort_prev",
            Action::SortNext => "sort_next",
            Action::Filter => "filter",
            Action::Palette => "palette",
            Action::Help => "help",
            Action::Logs => "logs",
            Action::Hosts => "hosts",
            Action::ZoomIn => "zoom_in",
            Action::ZoomOut => "zoom_out",
            Action::Freeze => "freeze",
            Action::Forecast => "forecast",
            Action::CycleMetric => "cycle_metric",
            Action::Capacity => "capacity",
            Action::Rightsize => "rightsize",
            Action::Start => "start",
            Action::Shutdown => "shutdown",
            Action::Reboot => "reboot",
            Action::Reset => "reset",
            Action::ToggleSuspend => "toggle_suspend",
            Action::Destroy => "destroy",
        }
    }

    /// One line for `?` and `--help`.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit novacron",
            Action::Background => "stop to the shell (fg resumes)",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::Top => "go to the first row",
            Action::Bottom => "go to the last row",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::OpenDetail => "detail pane of the table's VM; in it, all devices or the charts",
            Action::Back => "back / close / clear the filter",
            Action::SortName => "sort by name (again: reverse)",
            Action::SortCpu => "sort by CPU % (again: reverse)",
            Action::SortMemory => "sort by memory (again: reverse)",
            Action::SortPrev => "sort by the previous column",
            Action::SortNext => "sort by the next column",
            Action::Filter => "filter the VM table by name, host, state or IP (!text inverts)",
            Action::Palette => "command palette (:start web-1, :connect URI)",
            Action::Help => "this help",
            Action::Logs => "logs pane",
            Action::Hosts => "host summary pane (j/k pick the host)",
            Action::ZoomIn => "charts: shorter time range; forecast: shorter horizon",
            Action::ZoomOut => "charts: longer time range; forecast: longer horizon",
            Action::Freeze => "charts: freeze / resume live updates",
            Action::Forecast => "forecast of the selected VM, or of the row in H, C and O",
            Action::CycleMetric => "forecast: next metric (cpu, memory, disk, network)",
            Action::Capacity => "capacity: time until CPU, memory or a pool runs out; headroom",
            Action::Rightsize => "recommendations: oversized and idle VMs, with the evidence",
            Action::Start => "start the VM",
            Action::Shutdown => "graceful shutdown (ACPI), force-off offered after the timeout",
            Action::Reboot => "reboot (ACPI)",
            Action::Reset => "hard reset (asks, default No)",
            Action::ToggleSuspend => "suspend / resume",
            Action::Destroy => "destroy: force off (asks, default No)",
        }
    }

    /// The lifecycle operation this action maps to, when it is one (suspend/resume is decided
    /// by the VM's state).
    #[must_use]
    pub fn op(self) -> Option<Op> {
        match self {
            Action::Start => Some(Op::Start),
            Action::Shutdown => Some(Op::Shutdown),
            Action::Reboot => Some(Op::Reboot),
            Action::Reset => Some(Op::Reset),
            Action::Destroy => Some(Op::Destroy),
            _ => None,
        }
    }

    /// The operation this action runs on a VM in `state`: `p` resumes a paused VM and
    /// suspends any other.
    #[must_use]
    pub fn op_on(self, state: VmState) -> Option<Op> {
        match self {
            Action::ToggleSuspend if state == VmState::Paused => Some(Op::Resume),
            Action::ToggleSuspend => Some(Op::Suspend),
            a => a.op(),
        }
    }

    /// Parses a keymap action name.
    #[must_use]
    pub fn from_name(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde_and_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.name()));
        }
    }
}
