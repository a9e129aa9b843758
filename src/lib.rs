//! novacron: a keyboard-driven terminal operations console for KVM/libvirt hosts.

pub mod analysis;
pub mod analytics;
pub mod app; // state, reducer, effects (no terminal code)
pub mod cli; // clap definitions, TUI entry, headless commands
pub mod config; // config file, keymaps, themes: parse and validate
pub mod domain; // plain data: VMs, states, operations, counters
pub mod lock; // one interactive instance per host
pub mod logging; // tracing to file and the logs pane
pub mod provider; // libvirt workers: inventory, events, stats, operations
pub mod store;
pub mod tui;
pub mod ui; // pure rendering of the state (ratatui) // terminal setup/restore, key input, the event loop // metrics history: sled engine, codec, rollups, retention // anomaly detection, forecasts, capacity, right-sizing: pure functions // history on a 5-minute grid → forecasts, capacity, right-sizing (blocking jobs)
