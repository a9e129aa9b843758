//! Providers report inventory, events and counters as owned messages and run operations.
//!
//! A provider never touches UI state: it receives [`ProviderCmd`]s and sends
//! [`ProviderEvent`]s over channels. Only libvirt exists today; EC2 will be a sibling module.

pub mod libvirt;

use std::time::Duration;

use crate::domain::{CounterSample, HostCounters, HostId, Op, PoolUsage, Vm};

pub use libvirt::events::DomainEventKind;

/// Errors from libvirt calls, carrying libvirt's own message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LibvirtError {
    /// `lasting`: libvirt refused the URI itself (a wrong path, a driver that is not there),
    /// which trying again cannot cure; a refused socket or an unreachable host may pass.
    #[error("cannot connect to {uri}: {message}")]
    Connect {
        uri: String,
        message: String,
        lasting: bool,
    },
    #[error("{what}: {message}")]
    Call { what: String, message: String },
    #[error("no domain named {name:?} on {uri}{}", suggestion(.suggestions))]
    NoSuchVm {
        name: String,
        uri: String,
        suggestions: Vec<String>,
    },
    #[error("libvirt event loop: {0}")]
    EventLoop(String),
    /// A number that is one VM's name and another's running ID: virsh would take the ID.
    #[error(
        "{name:?} on {uri} is the name of one VM and the running ID or UUID of {by_id}: give \
         the UUID of the one you mean ({name_uuid} for the VM named {name:?}, {id_uuid} for \
         {by_id})"
    )]
    NameIsAnId {
        name: String,
        uri: String,
        by_id: String,
        name_uuid: String,
        id_uuid: String,
    },
}

fn suggestion(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

/// Request id of an operation, chosen by the app so results can be matched to the journal.
pub type OpId = u64;

/// A command for one host's worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderCmd {
    /// Run `op` on the domain with this UUID; the result comes back as [`ProviderEvent::OpResult`].
    Op {
        id: OpId,
        uuid: String,
        name: String,
        op: Op,
    },
    /// Re-read one domain (after an event) and send [`ProviderEvent::VmUpdated`] or `VmRemoved`.
    RefreshVm { uuid: String },
    /// Re-read the whole inventory.
    Refresh,
    /// These VMs are on screen: poll their monitor-backed stats every interval.
    Watch(Vec<String>),
    /// The connection's close callback fired.
    ConnectionClosed(String),
    /// Stop the worker (the app is quitting).
    Stop,
}

/// Connection status of one host, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnStatus {
    Connecting,
    Connected {
        hostname: String,
    },
    Disconnected {
        error: String,
        retry_in: Duration,
    },
    /// The first connection failed in a way retrying cannot cure: the worker has stopped.
    Failed {
        error: String,
    },
}

/// Something a provider worker tells the app.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    Status {
        host: HostId,
        status: ConnStatus,
    },
    /// The complete inventory of a host: replaces what the app knew (reconciliation).
    Inventory {
        host: HostId,
        vms: Vec<Vm>,
    },
    /// Boxed: a `Vm` is large and this travels through every channel and `Msg`.
    VmUpdated {
        host: HostId,
        vm: Box<Vm>,
    },
    VmRemoved {
        host: HostId,
        uuid: String,
    },
    DomainEvent {
        host: HostId,
        uuid: String,
        name: String,
        kind: DomainEventKind,
    },
    Samples {
        host: HostId,
        ts_ms: i64,
        samples: Vec<CounterSample>,
    },
    /// Host counters from a cheap poll, with what that poll cost and how many were skipped.
    HostSample {
        host: HostId,
        ts_ms: i64,
        counters: HostCounters,
        poll_ms: f64,
        overruns: u64,
        /// Storage pools, when this tick read them (every monitor interval).
        pools: Option<Vec<PoolUsage>>,
    },
    OpResult {
        id: OpId,
        result: Result<(), OpError>,
    },
}

/// Why an operation did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// libvirt refused it, or it was never sent: libvirt's message, or why.
    #[error("{0}")]
    Refused(String),
    /// The connection broke before libvirt answered: it may or may not have been done.
    #[error(
        "the connection was lost before libvirt answered ({0}); whether it was done is unknown"
    )]
    Unknown(String),
}

impl From<String> for OpError {
    fn from(message: String) -> Self {
        Self::Refused(message)
    }
}

impl From<&str> for OpError {
    fn from(message: &str) -> Self {
        Self::Refused(message.to_string())
    }
}

impl ProviderEvent {
    /// The host it comes from; an operation's result is matched by its id instead.
    #[must_use]
    pub fn host(&self) -> Option<HostId> {
        match self {
            Self::Status { host, .. }
            | Self::Inventory { host, .. }
            | Self::VmUpdated { host, .. }
            | Self::VmRemoved { host, .. }
            | Self::DomainEvent { host, .. }
            | Self::Samples { host, .. }
            | Self::HostSample { host, .. } => Some(*host),
            Self::OpResult { .. } => None,
        }
    }
}
