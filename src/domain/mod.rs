//! Plain data shared by every layer: VM identity, state, inventory records and operations.
//!
//! Owns no behaviour that touches I/O; must not import ratatui, crossterm or virt.

mod op;
mod sample;
mod vm;

pub use op::{Op, OpParseError};
pub use sample::{rates, CounterSample, LiveRates, NetCounters};
pub use vm::{DiskInfo, HostId, NicInfo, Vm, VmId, VmState};
