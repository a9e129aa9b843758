//! libvirt provider: connection workers, events, bulk stats, inventory, operations.
//!
//! `unsafe` is confined to `events` (callbacks), `stats` (bulk stats records) and `ffi`
//! (two calls the `virt` crate gets wrong).

pub mod conn;
pub mod events;
mod ffi;
pub mod inventory;
pub mod ops;
pub mod poll;
pub mod state;
pub mod stats;
pub mod xml;

pub use conn::{open, spawn_host, HostHandle, HostOptions, Opening, OPEN_DEADLINE};

/// libvirt's message without the `[code=…, domain=…]` suffix `virt` appends in `Display`.
#[must_use]
pub fn message(e: &virt::error::Error) -> String {
    e.message().to_string()
}

/// The calling thread's last libvirt error message.
#[must_use]
pub fn last_error_message() -> String {
    message(&virt::error::Error::last_error())
}
