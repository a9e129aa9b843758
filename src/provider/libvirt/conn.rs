//! One worker thread per libvirt connection: it owns the `Connect`, keeps it alive, reconnects
//! with backoff, reconciles the inventory after a reconnect, polls cheap counters and runs
//! operations. The app talks to it only through channels.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use virt::connect::Connect;

use super::events::{self, CloseReason, EventRegistration, RawDomainEvent};
use super::poll::Poller;
use super::{inventory, message, ops};
use crate::domain::HostId;
use crate::provider::{ConnStatus, LibvirtError, ProviderCmd, ProviderEvent};

/// How a host connection is opened and polled.
#[derive(Debug, Clone)]
pub struct HostOptions {
    pub uri: String,
    pub read_only: bool,
    pub poll_interval: Duration,
    /// Cadence of the monitor-backed stats groups for VMs not on screen.
    pub slow_interval: Duration,
    /// IP addresses (DHCP leases) are re-read every this many polls.
    pub ip_refresh_polls: u32,
    /// Keepalive: a probe every `keepalive_interval` seconds, dead after `keepalive_count` misses.
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
}

impl HostOptions {
    #[must_use]
    pub fn new(uri: &str) -> Self {
        Self {
            uri: uri.to_string(),
            read_only: false,
            poll_interval: Duration::from_secs(5),
            slow_interval: Duration::from_secs(30),
            ip_refresh_polls: 6,
            keepalive_interval: 5,
            keepalive_count: 3,
        }
    }
}

/// The app's handle on a host worker.
pub struct HostHandle {
    pub id: HostId,
    pub uri: String,
    tx: Sender<ProviderCmd>,
    join: Option<JoinHandle<()>>,
}

impl HostHandle {
    /// Sends a command; a worker that has exited is reported as an error by the caller.
    #[must_use]
    pub fn send(&self, cmd: ProviderCmd) -> bool {
        self.tx.send(cmd).is_ok()
    }
}

impl Drop for HostHandle {
    fn drop(&mut self) {
        let _ = self.tx.send(ProviderCmd::Stop);
        // Never join: a worker may be stuck in a TCP connect to an unreachable host.
        drop(self.join.take());
    }
}

/// Opens a connection, read-only when asked.
///
/// # Errors
/// [`LibvirtError::Connect`] with libvirt's message (unknown driver, unreachable host, …).
pub fn open(uri: &str, read_only: bool) -> Result<Connect, LibvirtError> {
    events::ensure_event_loop()?;
    let r = if read_only {
        Connect::open_read_only(Some(uri))
    } else {
        Connect::open(Some(uri))
    };
    r.map_err(|e| LibvirtError::Connect {
        uri: uri.to_string(),
        message: message(&e),
        lasting: lasting(&e),
    })
}

/// Whether an error from opening a connection is about the URI itself rather than the way
/// to the host: a driver's "unexpected qemu URI path", a driver that is not loaded, a test
/// driver file that is not XML. Sockets, ssh, DNS, RPC and timeouts may pass, so they are
/// retried.
fn lasting(e: &virt::error::Error) -> bool {
    use virt::enumutil::Enum::Known;
    use virt::error::ErrorNumber as N;
    !matches!(
        e.code(),
        Known(N::SystemError | N::Rpc | N::OperationTimeout | N::UnknownHost | N::AuthUnavailable)
    )
}

/// How long a connection may take to open. A host that accepts the TCP connection but never
/// answers (a hung libvirtd, a firewall that swallows replies, an ssh that waits for a banner)
/// would otherwise block forever: libvirt's open has no deadline of its own.
pub const OPEN_DEADLINE: Duration = Duration::from_secs(15);

/// A connection being opened on a thread of its own, so the caller can stop waiting for it.
///
/// The thread cannot be cancelled: a host that never answers keeps it blocked. Waiting on the
/// same attempt again (instead of starting another) bounds that to one thread per host.
pub struct Opening {
    uri: String,
    rx: Receiver<Result<Connect, LibvirtError>>,
}

impl Opening {
    /// Starts opening `uri`.
    ///
    /// # Errors
    /// When the event loop cannot be started or the thread cannot be spawned.
    pub fn start(uri: &str, read_only: bool) -> Result<Self, LibvirtError> {
        events::ensure_event_loop()?;
        let (tx, rx) = mpsc::channel();
        let u = uri.to_string();
        std::thread::Builder::new()
            .name("libvirt-open".into())
            .spawn(move || {
                let _ = tx.send(open(&u, read_only));
            })
            .map_err(|e| LibvirtError::EventLoop(format!("cannot spawn a thread: {e}")))?;
        Ok(Self {
            uri: uri.to_string(),
            rx,
        })
    }

    /// The connection, or `Err(self)` when it has not answered within `wait`.
    ///
    /// # Errors
    /// `Ok(Err(_))` is libvirt's own error; `Err(self)` is "still waiting".
    pub fn wait(self, wait: Duration) -> Result<Result<Connect, LibvirtError>, Self> {
        match self.rx.recv_timeout(wait) {
            Ok(r) => Ok(r),
            Err(RecvTimeoutError::Timeout) => Err(self),
            Err(RecvTimeoutError::Disconnected) => Ok(Err(LibvirtError::Connect {
                uri: self.uri.clone(),
                message: "the thread opening the connection ended without an answer".into(),
                lasting: false,
            })),
        }
    }

    /// The error for an attempt that has waited `waited` without an answer.
    #[must_use]
    pub fn no_answer(&self, waited: Duration) -> LibvirtError {
        LibvirtError::Connect {
            uri: self.uri.clone(),
            message: format!(
                "no answer after {} s (the host accepts the connection but libvirt does not reply)",
                waited.as_secs()
            ),
            lasting: false,
        }
    }
}

/// The URI the console opens: over ssh, with `no_tty=1`, so ssh runs in batch mode. The
/// console owns the terminal; an ssh prompt (an unknown host key, a password) would be
/// printed over it and take the operator's keys. A host that needs one fails with ssh's
/// message instead: accept the key or load the agent in a shell first.
#[must_use]
pub fn batch_uri(uri: &str) -> String {
    let scheme = uri.split("://").next().unwrap_or("");
    if !scheme.ends_with("+ssh") || uri.contains("no_tty=") {
        return uri.to_string();
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}no_tty=1")
}

/// Starts the worker thread for one host.
///
/// # Errors
/// When the event loop cannot be started or the thread cannot be spawned.
pub fn spawn_host(
    id: HostId,
    opts: HostOptions,
    app: UnboundedSender<ProviderEvent>,
) -> Result<HostHandle, LibvirtError> {
    events::ensure_event_loop()?;
    let (tx, rx) = mpsc::channel();
    let worker = Worker {
        id,
        opts: opts.clone(),
        app,
        self_tx: tx.clone(),
        rx,
    };
    let join = std::thread::Builder::new()
        .name(format!("host-{id}"))
        .spawn(move || worker.run())
        .map_err(|e| LibvirtError::EventLoop(format!("cannot spawn worker thread: {e}")))?;
    Ok(HostHandle {
        id,
        uri: opts.uri,
        tx,
        join: Some(join),
    })
}

struct Worker {
    id: HostId,
    opts: HostOptions,
    app: UnboundedSender<ProviderEvent>,
    self_tx: Sender<ProviderCmd>,
    rx: Receiver<ProviderCmd>,
}

/// Why a connected session ended.
enum SessionEnd {
    Stop,
    Lost(String),
}

const BACKOFF_MAX: Duration = Duration::from_secs(30);

impl Worker {
    fn emit(&self, ev: ProviderEvent) -> bool {
        self.app.send(ev).is_ok()
    }

    fn status(&self, status: ConnStatus) -> bool {
        self.emit(ProviderEvent::Status {
            host: self.id,
            status,
        })
    }

    fn run(self) {
        let mut backoff = Duration::from_secs(1);
        let mut poller = Poller::new(self.opts.poll_interval, self.opts.slow_interval);
        // An attempt that has not answered yet is waited on again, never started twice.
        let mut pending: Option<Opening> = None;
        let mut ever_up = false;
        loop {
            if !self.status(ConnStatus::Connecting) {
                return;
            }
            let attempt = match pending.take() {
                Some(p) => Ok(p),
                None => Opening::start(&batch_uri(&self.opts.uri), self.opts.read_only),
            };
            let opened = attempt.and_then(|p| match p.wait(OPEN_DEADLINE) {
                Ok(r) => r,
                Err(p) => {
                    let e = p.no_answer(OPEN_DEADLINE);
                    pending = Some(p);
                    Err(e)
                }
            });
            let error = match opened {
                Ok(conn) => {
                    backoff = Duration::from_secs(1);
                    ever_up = true;
                    match self.session(&conn, &mut poller) {
                        SessionEnd::Stop => return,
                        SessionEnd::Lost(e) => e,
                    }
                }
                // A URI that has never worked and that libvirt refuses as such is not
                // retried: the operator corrects it (`:connect`) or removes the host.
                Err(e @ LibvirtError::Connect { lasting: true, .. }) if !ever_up => {
                    tracing::warn!("{}: not retried: {e}", self.opts.uri);
                    self.status(ConnStatus::Failed {
                        error: e.to_string(),
                    });
                    return;
                }
                Err(e) => e.to_string(),
            };
            tracing::warn!(
                "{}: disconnected: {error}; retrying in {backoff:?}",
                self.opts.uri
            );
            if !self.status(ConnStatus::Disconnected {
                error,
                retry_in: backoff,
            }) {
                return;
            }
            if self.wait_disconnected(backoff) {
                return;
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Waits out the backoff, answering commands meanwhile. True when asked to stop.
    fn wait_disconnected(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(ProviderCmd::Stop) | Err(RecvTimeoutError::Disconnected) => return true,
                Ok(ProviderCmd::Op { id, .. }) => {
                    self.emit(ProviderEvent::OpResult {
                        id,
                        result: Err(format!("{} is disconnected", self.opts.uri).into()),
                    });
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => return false,
            }
        }
    }

    fn register_events(&self, conn: &Connect) -> Option<EventRegistration> {
        let app = self.app.clone();
        let me = self.self_tx.clone();
        let host = self.id;
        let on_event = Arc::new(move |ev: RawDomainEvent| {
            // Re-read the domain first so the table has its new state as soon as possible.
            let _ = me.send(ProviderCmd::RefreshVm {
                uuid: ev.uuid.clone(),
            });
            let _ = app.send(ProviderEvent::DomainEvent {
                host,
                uuid: ev.uuid,
                name: ev.name,
                kind: ev.kind,
            });
        });
        let me = self.self_tx.clone();
        let on_close = Box::new(move |r: CloseReason| {
            let _ = me.send(ProviderCmd::ConnectionClosed(r.to_string()));
        });
        match EventRegistration::register(conn, &(on_event as Arc<events::EventSink>), on_close) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(
                    "{}: domain events unavailable, relying on polls: {e}",
                    self.opts.uri
                );
                None
            }
        }
    }

    fn session(&self, conn: &Connect, poller: &mut Poller) -> SessionEnd {
        if let Err(e) = conn.set_keep_alive(self.opts.keepalive_interval, self.opts.keepalive_count)
        {
            tracing::debug!("{}: keepalive not set: {}", self.opts.uri, message(&e));
        }
        let _registration = self.register_events(conn);
        let hostname = conn.hostname().unwrap_or_else(|_| self.opts.uri.clone());
        self.status(ConnStatus::Connected { hostname });
        if let Err(e) = self.send_inventory(conn, poller) {
            return SessionEnd::Lost(e.to_string());
        }
        let mut next_poll = Instant::now();
        let mut polls: u32 = 0;
        loop {
            let left = next_poll.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(ProviderCmd::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    return SessionEnd::Stop
                }
                Ok(ProviderCmd::ConnectionClosed(why)) => return SessionEnd::Lost(why),
                Ok(ProviderCmd::Op { id, uuid, name, op }) => {
                    self.spawn_op(conn, id, uuid, name, op);
                }
                Ok(ProviderCmd::RefreshVm { uuid }) => self.refresh_vm(conn, &uuid),
                Ok(ProviderCmd::Watch(uuids)) => poller.watched = uuids.into_iter().collect(),
                Ok(ProviderCmd::Refresh) => {
                    if let Err(e) = self.send_inventory(conn, poller) {
                        return SessionEnd::Lost(e.to_string());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    next_poll = Instant::now() + self.opts.poll_interval;
                    polls = polls.wrapping_add(1);
                    if let Err(e) = self.poll(conn, poller, polls) {
                        if !conn.is_alive().unwrap_or(false) {
                            return SessionEnd::Lost(e.to_string());
                        }
                        tracing::debug!("{}: poll failed: {e}", self.opts.uri);
                    }
                }
            }
        }
    }

    fn send_inventory(&self, conn: &Connect, poller: &mut Poller) -> Result<(), LibvirtError> {
        let vms = inventory::read_inventory(conn, self.id, true)?;
        poller.with_disks = vms
            .iter()
            .filter(|v| !v.disks.is_empty())
            .map(|v| v.id.uuid.clone())
            .collect();
        self.emit(ProviderEvent::Inventory { host: self.id, vms });
        Ok(())
    }

    fn refresh_vm(&self, conn: &Connect, uuid: &str) {
        let ev = match conn.lookup_domain_by_uuid_string(uuid) {
            Ok(dom) => match inventory::read_vm(self.id, &dom, false) {
                Ok(vm) => ProviderEvent::VmUpdated {
                    host: self.id,
                    vm: Box::new(vm),
                },
                Err(_) => ProviderEvent::VmRemoved {
                    host: self.id,
                    uuid: uuid.to_string(),
                },
            },
            Err(_) => ProviderEvent::VmRemoved {
                host: self.id,
                uuid: uuid.to_string(),
            },
        };
        self.emit(ev);
    }

    fn poll(&self, conn: &Connect, poller: &mut Poller, polls: u32) -> Result<(), LibvirtError> {
        let ts_ms = chrono::Utc::now().timestamp_millis();
        let tick = poller.tick(conn)?;
        if let Some(counters) = tick.host {
            self.emit(ProviderEvent::HostSample {
                host: self.id,
                ts_ms,
                counters,
                poll_ms: tick.tick_ms,
                overruns: poller.overruns,
                pools: tick.pools,
            });
        }
        for samples in [tick.cheap, tick.monitor] {
            if !samples.is_empty() {
                self.emit(ProviderEvent::Samples {
                    host: self.id,
                    ts_ms,
                    samples,
                });
            }
        }
        if self.opts.ip_refresh_polls > 0 && polls % self.opts.ip_refresh_polls == 0 {
            self.send_inventory(conn, poller)?;
        }
        Ok(())
    }

    /// Operations run on their own thread with a second reference to the connection, so a slow
    /// destroy (QEMU ignoring SIGTERM) does not stall polling and event handling.
    fn spawn_op(&self, conn: &Connect, id: u64, uuid: String, name: String, op: crate::domain::Op) {
        let conn = conn.clone();
        let app = self.app.clone();
        let uri = self.opts.uri.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("op-{id}"))
            .spawn(move || {
                let result = ops::run_op(&conn, &uuid, op);
                match &result {
                    Ok(()) => tracing::info!("{uri}: {name}: {op} accepted by libvirt"),
                    Err(e) => tracing::warn!("{uri}: {name}: {op} failed: {e}"),
                }
                let _ = app.send(ProviderEvent::OpResult { id, result });
            });
        if let Err(e) = spawned {
            self.emit(ProviderEvent::OpResult {
                id,
                result: Err(format!("cannot start operation thread: {e}").into()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::batch_uri;

    #[test]
    fn ssh_uris_open_in_batch_mode() {
        assert_eq!(
            batch_uri("qemu+ssh://kvm2/system"),
            "qemu+ssh://kvm2/system?no_tty=1"
        );
        assert_eq!(
            batch_uri("qemu+ssh://kvm2/system?keyfile=/k"),
            "qemu+ssh://kvm2/system?keyfile=/k&no_tty=1"
        );
        assert_eq!(
            batch_uri("qemu+ssh://kvm2/system?no_tty=0"),
            "qemu+ssh://kvm2/system?no_tty=0"
        );
        assert_eq!(batch_uri("qemu:///system"), "qemu:///system");
        assert_eq!(batch_uri("qemu+tcp://h/system"), "qemu+tcp://h/system");
    }
}
