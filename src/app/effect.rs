//! Side effects the reducer asks for; the event loop runs them and reports back as messages.

use super::ingest::RecordPoint;
use crate::domain::HostId;
use crate::provider::ProviderCmd;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a command to a host's worker.
    Provider { host: HostId, cmd: ProviderCmd },
    /// Start a worker for a host just added to `State::hosts` with this id (or again, for a
    /// host whose first connection failed).
    Connect { host: HostId, uri: String },
    /// Stop the worker of a host removed from `State::hosts`.
    Disconnect { host: HostId },
    /// Persist derived metric values in the history store.
    Record(Vec<RecordPoint>),
    /// Read history for the charts; the answer comes back as `Msg::History`.
    LoadHistory {
        request: u64,
        entity: String,
        metrics: Vec<crate::domain::Metric>,
        from_ms: i64,
        to_ms: i64,
        max_points: usize,
    },
    /// Forecast a series off the loop; the answer comes back as `Msg::Forecast`.
    LoadForecast {
        request: u64,
        entity: String,
        metric: &'static str,
        horizon_rows: usize,
        /// What the series cannot exceed (a VM's maximum memory, a host's memory), if known.
        ceiling: Option<f64>,
    },
    /// Read `lookback_ms` of history (the novelty window, a week at least) and replay it into
    /// a detector per metric, built with its settings, off the loop; the answer comes back
    /// as `Msg::DetectorHistory`.
    WarmDetectors {
        entity: String,
        metrics: Vec<(
            crate::domain::Metric,
            crate::analytics::anomaly::ensemble::EnsembleConfig,
        )>,
        /// The history read is `[until_ms - lookback_ms, until_ms)`: `until_ms` is the start
        /// of the row of the first live sample, where the live rows take over.
        until_ms: i64,
        lookback_ms: i64,
    },
    /// Build the capacity report off the loop (`Msg::Capacity`).
    LoadCapacity {
        request: u64,
        hosts: Vec<crate::analysis::capacity::HostInput>,
    },
    /// Build right-sizing verdicts off the loop (`Msg::Rightsize`).
    LoadRightsize {
        request: u64,
        vms: Vec<crate::analysis::rightsize::VmInput>,
    },
    /// Scroll the logs pane (its view lives with tui-logger's global buffer, not in `State`).
    ScrollLogs(LogScroll),
    /// Leave the loop and restore the terminal.
    Quit,
    /// Give the terminal back and stop the process until the shell continues it (`fg`).
    Background,
}

/// How the logs pane moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogScroll {
    /// A page back in time; leaves the live tail.
    Back,
    /// A page forward.
    Forward,
    /// Back to the live tail.
    Live,
}
