//! Application core: state, the messages that change it, the reducer and the effects it asks
//! for. No ratatui, crossterm or libvirt calls here; the event loop in `tui` drives it.

mod action;
#[cfg(test)]
mod analysis_tests;
pub mod anomalies;
#[cfg(test)]
mod anomaly_tests;
pub mod charts;
mod effect;
mod event;
#[doc(hidden)]
pub mod fixtures;
pub mod forecast_view;
#[cfg(test)]
mod forecast_view_tests;
mod host_labels;
pub mod ingest;
mod links;
#[cfg(test)]
mod links_tests;
pub mod live;
mod navigate;
pub mod opflow;
#[cfg(test)]
mod opflow_tests;
pub mod palette;
mod provider_events;
pub mod reports;
#[cfg(test)]
mod reports_tests;
pub mod rows;
#[cfg(test)]
mod safety_tests;
pub mod state;
mod update;
#[cfg(test)]
pub(crate) mod update_tests;

pub use action::Action;
pub use effect::{Effect, LogScroll};
pub use event::{InputKey, Msg};
pub use state::{State, MIN_SIZE};
pub use update::update;
