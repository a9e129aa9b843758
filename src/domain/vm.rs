//! A virtual machine as the console sees it, independent of the provider that reported it.

use serde::Serialize;
use std::fmt;

/// Index of a connection in the order it was given (`-c` flags or config).
pub type HostId = usize;

/// Identity of a VM across hosts: the connection it lives on and the provider's stable id
/// (libvirt UUID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct VmId {
    pub host: HostId,
    pub uuid: String,
}

/// Coarse lifecycle state, mirroring libvirt's `virDomainState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    NoState,
    Running,
    Blocked,
    Paused,
    ShuttingDown,
    ShutOff,
    Crashed,
    PmSuspended,
}

impl VmState {
    /// Whether the guest has a live QEMU process (and so can report metrics).
    #[must_use]
    pub fn is_active(self) -> bool {
        // libvirt reports "crashed" only for a domain kept after its crash (on_crash =
        // preserve), whose QEMU still runs; one destroyed after a crash is "shut off
        // (crashed)".
        !matches!(self, Self::ShutOff | Self::NoState)
    }

    /// Whether the guest is running its workload: active and not paused or suspended (a
    /// paused guest reads 0 % CPU, which is not what it does).
    #[must_use]
    pub fn is_working(self) -> bool {
        self.is_active() && !matches!(self, Self::Paused | Self::PmSuspended | Self::Crashed)
    }

    /// The word virsh uses, so operators read the same thing in both tools.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::NoState => "no state",
            Self::Running => "running",
            Self::Blocked => "blocked",
            Self::Paused => "paused",
            Self::ShuttingDown => "in shutdown",
            Self::ShutOff => "shut off",
            Self::Crashed => "crashed",
            Self::PmSuspended => "pmsuspended",
        }
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A disk from the domain XML.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DiskInfo {
    pub target: String,
    pub device: String,
    pub bus: String,
    pub source: String,
    pub format: String,
}

/// A network interface from the domain XML.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NicInfo {
    pub mac: String,
    pub kind: String,
    pub source: String,
    pub model: String,
    pub target: String,
}

/// One VM in the inventory. Memory is in KiB as libvirt reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vm {
    pub id: VmId,
    pub name: String,
    /// libvirt's ID while the domain runs (what `virsh list` shows); `None` when it is off.
    pub dom_id: Option<u32>,
    pub state: VmState,
    /// libvirt's reason for the state, e.g. "destroyed", "user", "booted".
    pub reason: String,
    pub vcpus: u32,
    pub mem_kib: u64,
    pub max_mem_kib: u64,
    pub autostart: bool,
    pub persistent: bool,
    pub ips: Vec<String>,
    pub disks: Vec<DiskInfo>,
    pub nics: Vec<NicInfo>,
    /// Emulator/arch/machine summary from the XML, for the detail pane.
    pub summary: Vec<(String, String)>,
}

impl Vm {
    /// "web-1 has no disks attached: no disk writes to forecast" when the VM has no
    /// device of the kind `metric` measures: the console's F and `novacron forecast` say it
    /// instead of "nothing recorded".
    #[must_use]
    pub fn no_forecast(&self, metric: super::Metric) -> Option<String> {
        let why = self.missing_device(metric)?;
        Some(format!(
            "{} has {why}: no {} to forecast",
            self.name,
            metric.label()
        ))
    }

    /// "no disks attached" or "no network interfaces" when the VM has no device of the kind
    /// `metric` measures (nothing will ever be recorded for it).
    #[must_use]
    pub fn missing_device(&self, metric: super::Metric) -> Option<&'static str> {
        use super::Metric::{
            DiskRdBps, DiskRdIops, DiskRdLatMs, DiskWrBps, DiskWrIops, DiskWrLatMs,
        };
        use super::Metric::{NetDropsPerS, NetErrsPerS, NetRxBps, NetRxPps, NetTxBps, NetTxPps};
        match metric {
            DiskRdBps | DiskWrBps | DiskRdIops | DiskWrIops | DiskRdLatMs | DiskWrLatMs => {
                self.disks.is_empty().then_some("no disks attached")
            }
            NetRxBps | NetTxBps | NetRxPps | NetTxPps | NetErrsPerS | NetDropsPerS => {
                self.nics.is_empty().then_some("no network interfaces")
            }
            _ => None,
        }
    }

    /// "shut off (destroyed)", "paused (user)", or just "running" when the reason adds nothing.
    #[must_use]
    pub fn state_text(&self) -> String {
        if self.reason.is_empty() || self.reason == "unknown" {
            self.state.label().to_string()
        } else {
            format!("{} ({})", self.state.label(), self.reason)
        }
    }
}
