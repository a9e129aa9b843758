//! Plain data shared by every layer: VM identity, state, inventory records and operations.
//!
//! Owns no behaviour that touches I/O; must not import ratatui, crossterm or virt.

pub mod format;
mod metrics;
mod op;
mod sample;
mod vm;

pub use metrics::{HostRates, MemSource, Metric, Unit, VmRates};
pub use op::{Op, OpParseError};
pub use sample::{
    BalloonStats, BlockCounters, CounterSample, HostCounters, NetCounters, PoolUsage,
};
pub use vm::{DiskInfo, HostId, NicInfo, Vm, VmId, VmState};
