//! Safe wrapper around libvirt's event loop, domain event callbacks and the connection close
//! callback, which the `virt` crate does not expose.
//!
//! This module is the only place that registers C callbacks; `unsafe` for events lives here.
//! Callbacks run on the single event-loop thread started by [`ensure_event_loop`]; they copy
//! what they need into owned values and hand them to a Rust closure, never blocking.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_uint, c_ulonglong, c_void};
use std::sync::{Arc, OnceLock};

use virt::connect::Connect;
use virt::sys;

use super::state::{lifecycle_event, LifecycleEvent};
use crate::provider::LibvirtError;

/// What a domain event says, decoded from libvirt's per-event callback arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEventKind {
    Lifecycle(LifecycleEvent),
    Reboot,
    BalloonChange { actual_kib: u64 },
    DeviceAdded(String),
    DeviceRemoved(String),
    JobCompleted,
    MetadataChange,
}

/// One domain event with the domain's identity, copied out of libvirt's structures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDomainEvent {
    pub uuid: String,
    pub name: String,
    pub kind: DomainEventKind,
}

pub type EventSink = dyn Fn(RawDomainEvent) + Send + Sync;
type CloseSink = dyn Fn(CloseReason) + Send + Sync;

/// Why libvirt closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Error,
    Eof,
    Keepalive,
    Client,
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Error => "connection error",
            Self::Eof => "connection closed by the server",
            Self::Keepalive => "keepalive timed out (link dead)",
            Self::Client => "closed by client",
        })
    }
}

static EVENT_LOOP: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers libvirt's default event loop implementation and runs it on a dedicated thread.
///
/// Must be called before any connection is opened, or keepalive and events do not work on
/// that connection. Idempotent.
///
/// # Errors
/// When libvirt refuses to register the implementation or the thread cannot be spawned.
pub fn ensure_event_loop() -> Result<(), LibvirtError> {
    EVENT_LOOP
        .get_or_init(|| {
            // libvirt's default error handler prints to stderr, which would draw over the TUI;
            // every error is read back with virGetLastError instead.
            virt::error::clear_error_callback();
            // SAFETY: plain libvirt initialisation calls with no pointers involved.
            let rc = unsafe { sys::virInitialize() };
            if rc < 0 {
                return Err("virInitialize failed".into());
            }
            let rc = unsafe { sys::virEventRegisterDefaultImpl() };
            if rc < 0 {
                return Err(super::last_error_message());
            }
            std::thread::Builder::new()
                .name("libvirt-events".into())
                .spawn(|| loop {
                    // SAFETY: runs one iteration of the default loop registered above.
                    if unsafe { sys::virEventRunDefaultImpl() } < 0 {
                        tracing::error!(
                            "libvirt event loop iteration failed: {}",
                            super::last_error_message()
                        );
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                })
                .map(|_| ())
                .map_err(|e| format!("cannot spawn libvirt event thread: {e}"))
        })
        .clone()
        .map_err(LibvirtError::EventLoop)
}

/// Callbacks registered on one connection; dropping it deregisters all of them.
pub struct EventRegistration {
    conn: Connect,
    callback_ids: Vec<c_int>,
    close_registered: bool,
}

struct SinkBox {
    sink: Arc<EventSink>,
}

struct CloseBox {
    sink: Box<CloseSink>,
}

impl EventRegistration {
    /// Subscribes to lifecycle, reboot, balloon, device added/removed, job completed and
    /// metadata events for every domain on `conn`, and to the connection close callback.
    ///
    /// # Errors
    /// The first registration libvirt refuses; already registered callbacks are removed.
    pub fn register(
        conn: &Connect,
        on_event: &Arc<EventSink>,
        on_close: Box<CloseSink>,
    ) -> Result<Self, LibvirtError> {
        let mut reg = Self {
            conn: conn.clone(),
            callback_ids: Vec::new(),
            close_registered: false,
        };
        // The event ids are small enumeration values, far from i32::MAX.
        #[allow(clippy::cast_possible_wrap)]
        let table: [(c_int, sys::virConnectDomainEventGenericCallback); 7] = [
            (
                sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE as c_int,
                // SAFETY: libvirt calls each callback with the signature of its event id;
                // the generic type is only how the registration API is declared.
                Some(unsafe { generic(lifecycle_cb as *const ()) }),
            ),
            (
                sys::VIR_DOMAIN_EVENT_ID_REBOOT as c_int,
                Some(unsafe { generic(reboot_cb as *const ()) }),
            ),
            (
                sys::VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE as c_int,
                Some(unsafe { generic(balloon_cb as *const ()) }),
            ),
            (
                sys::VIR_DOMAIN_EVENT_ID_DEVICE_ADDED as c_int,
                Some(unsafe { generic(device_added_cb as *const ()) }),
            ),
            (
                sys::VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED as c_int,
                Some(unsafe { generic(device_removed_cb as *const ()) }),
            ),
            (
                sys::VIR_DOMAIN_EVENT_ID_JOB_COMPLETED as c_int,
                Some(unsafe { generic(job_completed_cb as *const ()) }),
            ),
            (
                sys::VIR_DOMAIN_EVENT_ID_METADATA_CHANGE as c_int,
                Some(unsafe { generic(metadata_cb as *const ()) }),
            ),
        ];
        for (event_id, cb) in table {
            let opaque = Box::into_raw(Box::new(SinkBox {
                sink: Arc::clone(on_event),
            }));
            // SAFETY: conn is a live connection we hold a reference to; opaque is a leaked box
            // that libvirt hands back to `free_sink` exactly once.
            let id = unsafe {
                sys::virConnectDomainEventRegisterAny(
                    conn.as_ptr(),
                    std::ptr::null_mut(),
                    event_id,
                    cb,
                    opaque.cast::<c_void>(),
                    Some(free_sink),
                )
            };
            if id < 0 {
                // SAFETY: registration failed, so libvirt did not take ownership of opaque.
                drop(unsafe { Box::from_raw(opaque) });
                return Err(LibvirtError::Call {
                    what: format!("register domain event {event_id}"),
                    message: super::last_error_message(),
                });
            }
            reg.callback_ids.push(id);
        }
        let close = Box::into_raw(Box::new(CloseBox { sink: on_close }));
        // SAFETY: as above, ownership of `close` passes to libvirt on success.
        let rc = unsafe {
            sys::virConnectRegisterCloseCallback(
                conn.as_ptr(),
                Some(close_cb),
                close.cast::<c_void>(),
                Some(free_close),
            )
        };
        if rc < 0 {
            // SAFETY: registration failed, so we still own the box.
            drop(unsafe { Box::from_raw(close) });
            // Not fatal (the test driver has no close callback); keepalive still reports errors
            // through failing calls.
            tracing::debug!(
                "close callback not registered: {}",
                super::last_error_message()
            );
        } else {
            reg.close_registered = true;
        }
        Ok(reg)
    }
}

impl Drop for EventRegistration {
    fn drop(&mut self) {
        for id in self.callback_ids.drain(..) {
            // SAFETY: id came from a successful registration on this connection.
            let _ = unsafe { sys::virConnectDomainEventDeregisterAny(self.conn.as_ptr(), id) };
        }
        if self.close_registered {
            // SAFETY: we registered exactly this function on this connection.
            let _ = unsafe {
                sys::virConnectUnregisterCloseCallback(self.conn.as_ptr(), Some(close_cb))
            };
        }
    }
}

/// Casts a concrete callback to the generic type the registration API is declared with.
unsafe fn generic(
    f: *const (),
) -> unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void) {
    std::mem::transmute::<
        *const (),
        unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void),
    >(f)
}

unsafe extern "C" fn free_sink(opaque: *mut c_void) {
    drop(Box::from_raw(opaque.cast::<SinkBox>()));
}

unsafe extern "C" fn free_close(opaque: *mut c_void) {
    drop(Box::from_raw(opaque.cast::<CloseBox>()));
}

unsafe extern "C" fn close_cb(_conn: sys::virConnectPtr, reason: c_int, opaque: *mut c_void) {
    let Some(b) = opaque.cast::<CloseBox>().as_ref() else {
        return;
    };
    let reason = match c_uint::try_from(reason).unwrap_or(c_uint::MAX) {
        sys::VIR_CONNECT_CLOSE_REASON_EOF => CloseReason::Eof,
        sys::VIR_CONNECT_CLOSE_REASON_KEEPALIVE => CloseReason::Keepalive,
        sys::VIR_CONNECT_CLOSE_REASON_CLIENT => CloseReason::Client,
        _ => CloseReason::Error,
    };
    (b.sink)(reason);
}

unsafe fn deliver(dom: sys::virDomainPtr, opaque: *mut c_void, kind: DomainEventKind) {
    let Some(b) = opaque.cast::<SinkBox>().as_ref() else {
        return;
    };
    let name = cstr_owned(sys::virDomainGetName(dom));
    let mut buf = [0 as c_char; 64];
    let uuid = if sys::virDomainGetUUIDString(dom, buf.as_mut_ptr()) == 0 {
        cstr_owned(buf.as_ptr())
    } else {
        String::new()
    };
    (b.sink)(RawDomainEvent { uuid, name, kind });
}

unsafe fn cstr_owned(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

unsafe extern "C" fn lifecycle_cb(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    event: c_int,
    detail: c_int,
    opaque: *mut c_void,
) -> c_int {
    deliver(
        dom,
        opaque,
        DomainEventKind::Lifecycle(lifecycle_event(event, detail)),
    );
    0
}

unsafe extern "C" fn reboot_cb(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    opaque: *mut c_void,
) {
    deliver(dom, opaque, DomainEventKind::Reboot);
}

unsafe extern "C" fn balloon_cb(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    actual: c_ulonglong,
    opaque: *mut c_void,
) {
    deliver(
        dom,
        opaque,
        DomainEventKind::BalloonChange { actual_kib: actual },
    );
}

unsafe extern "C" fn device_added_cb(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    alias: *const c_char,
    opaque: *mut c_void,
) {
    deliver(dom, opaque, DomainEventKind::DeviceAdded(cstr_owned(alias)));
}

unsafe extern "C" fn device_removed_cb(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    alias: *const c_char,
    opaque: *mut c_void,
) {
    deliver(
        dom,
        opaque,
        DomainEventKind::DeviceRemoved(cstr_owned(alias)),
    );
}

unsafe extern "C" fn job_completed_cb(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    _params: sys::virTypedParameterPtr,
    _nparams: c_int,
    opaque: *mut c_void,
) {
    deliver(dom, opaque, DomainEventKind::JobCompleted);
}

unsafe extern "C" fn metadata_cb(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    _kind: c_int,
    _nsuri: *const c_char,
    opaque: *mut c_void,
) {
    deliver(dom, opaque, DomainEventKind::MetadataChange);
}
