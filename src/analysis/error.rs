//! Why a forecast has nothing to show. Typed, so the console can tell "no sample yet, ask
//! again in a few seconds" from a reason that will not change by asking.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ForecastError {
    /// The lookback holds no sample at all: a console just started may record the first
    /// one seconds later.
    #[error("no {0} recorded in the last two weeks")]
    NothingRecorded(String),
    /// Nothing recorded yet of a series this console records (a running VM, a connected
    /// host): its first samples are on their way.
    #[error("no {0} recorded yet: this console's first samples are being written (asking again every 10 s)")]
    Starting(String),
    /// Samples are being recorded, but no 5-minute row is complete yet.
    #[error(
        "no history of {label} yet: analytics work on 5-minute averages, the first is due at {due}"
    )]
    NotYet { label: String, due: String },
    /// The model could not run on the rows read.
    #[error("cannot forecast {metric}: {reason}")]
    Model { metric: String, reason: String },
    /// Anything else, said in full: the history store failed, the VM has no such device.
    #[error("{0}")]
    Unavailable(String),
}

impl ForecastError {
    /// Whether asking again soon may give a forecast: only when nothing was recorded yet.
    #[must_use]
    pub fn retry_soon(&self) -> bool {
        matches!(self, Self::NothingRecorded(_) | Self::Starting(_))
    }
}
