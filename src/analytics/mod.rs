//! Pure analytics over metric slices: anomaly detectors, forecasts, capacity and right-sizing.
//!
//! This module owns the numbers, not their sources or sinks: every function takes slices (or
//! plain structs) and returns plain data. It never does I/O and never imports ratatui,
//! crossterm, virt or tokio. Gaps are `f64::NAN`; functions skip them instead of panicking.

pub mod anomaly;
pub mod backtest;
pub mod capacity;
pub mod events;
pub mod forecast;
pub mod pricing;
pub mod rightsize;
pub mod shift;
pub mod stats;

/// Errors of the analytics functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalyticsError {
    /// Not enough finite values to do what was asked.
    #[error("need at least {needed} finite values, got {got}")]
    TooShort { needed: usize, got: usize },
    /// A parameter outside its valid range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
}
