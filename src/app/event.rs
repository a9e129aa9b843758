//! Messages the reducer consumes: user intents, text typed into overlays, provider reports
//! and the clock.

use super::Action;
use crate::provider::ProviderEvent;

/// A key typed while an overlay (filter, palette, confirmation) owns the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKey {
    Char(char),
    Backspace,
    /// ctrl-w: delete the word before the cursor (and the spaces after it).
    DeleteWord,
    /// ctrl-u: clear the line.
    ClearLine,
    Enter,
    Esc,
    Tab,
}

/// Everything `update` reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Action(Action),
    Input(InputKey),
    /// Text the terminal pasted (bracketed paste): typed into an open filter or palette
    /// line, never taken as keys (a pasted "y" must not answer a confirmation).
    Paste(String),
    Provider(ProviderEvent),
    /// Once a second: timeouts, "disconnected Ns" counters, flash expiry.
    Tick,
    Resize(u16, u16),
    /// History loaded for chart request `request`.
    History {
        request: u64,
        series: Vec<(crate::domain::Metric, Vec<(i64, f64)>)>,
        /// Per series, each point's bucket low and high (`(ts, min, max)`), where the store
        /// rolled samples up; a series missing here spans its averages only.
        spread: Vec<(crate::domain::Metric, super::charts::Spread)>,
    },
    /// A forecast computed for request `request`.
    Forecast {
        request: u64,
        result: Result<crate::analysis::ForecastResult, crate::analysis::ForecastError>,
    },
    /// Anomaly detectors of a new entity, per metric, warmed from its history before
    /// `until_ms`.
    DetectorHistory {
        entity: String,
        until_ms: i64,
        series: Vec<(
            crate::domain::Metric,
            crate::analytics::anomaly::ensemble::Ensemble,
        )>,
        /// The entity's latest raw CPU % values, oldest first, to backfill its sparkline.
        recent_cpu: Vec<f64>,
    },
    /// The capacity report for request `request`.
    Capacity {
        request: u64,
        report: crate::analysis::capacity::CapacityReport,
    },
    /// Right-sizing verdicts for request `request`, and the price table's currency.
    Rightsize {
        request: u64,
        rows: Vec<crate::analysis::rightsize::RightsizeRow>,
        currency: String,
    },
    /// The history writer failed (disk full, database damaged).
    HistoryError(String),
    /// SIGTERM / SIGHUP: leave cleanly.
    Terminate,
}
