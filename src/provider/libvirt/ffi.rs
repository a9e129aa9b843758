//! Small safe wrappers for libvirt calls the `virt` crate gets wrong for our use: it ignores
//! `virDomainGetState` errors and leaks the records of `virDomainInterfaceAddresses`.

use std::ffi::CStr;
use std::os::raw::c_int;

use virt::domain::Domain;
use virt::sys;

use crate::provider::LibvirtError;

fn call_error(what: &str) -> LibvirtError {
    LibvirtError::Call {
        what: what.to_string(),
        message: super::last_error_message(),
    }
}

/// Raw `(state, reason)` of a domain.
///
/// # Errors
/// libvirt's error, e.g. when the domain vanished.
pub fn domain_state(dom: &Domain) -> Result<(i32, i32), LibvirtError> {
    let mut state: c_int = -1;
    let mut reason: c_int = -1;
    // SAFETY: dom is a live domain handle; the out-pointers are valid locals.
    let rc = unsafe { sys::virDomainGetState(dom.as_ptr(), &mut state, &mut reason, 0) };
    if rc < 0 {
        return Err(call_error("virDomainGetState"));
    }
    Ok((state, reason))
}

/// IP addresses of a running domain from the DHCP leases of its libvirt networks
/// (no guest agent needed). Each address is formatted `addr/prefix`.
///
/// # Errors
/// libvirt's error, e.g. when the domain is not running.
pub fn lease_addresses(dom: &Domain) -> Result<Vec<String>, LibvirtError> {
    let mut ifaces: *mut sys::virDomainInterfacePtr = std::ptr::null_mut();
    // SAFETY: libvirt allocates `ifaces`; every element and the array are freed below.
    let n = unsafe {
        sys::virDomainInterfaceAddresses(
            dom.as_ptr(),
            &mut ifaces,
            sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
            0,
        )
    };
    if n < 0 {
        return Err(call_error("virDomainInterfaceAddresses"));
    }
    let mut out = Vec::new();
    for i in 0..usize::try_from(n).unwrap_or(0) {
        // SAFETY: libvirt returned n valid interface pointers.
        let iface = unsafe { *ifaces.add(i) };
        if iface.is_null() {
            continue;
        }
        // SAFETY: iface is valid until virDomainInterfaceFree below.
        unsafe {
            let iref = &*iface;
            for j in 0..iref.naddrs as usize {
                let a = &*iref.addrs.add(j);
                if !a.addr.is_null() {
                    let addr = CStr::from_ptr(a.addr).to_string_lossy();
                    out.push(format!("{addr}/{}", a.prefix));
                }
            }
            sys::virDomainInterfaceFree(iface);
        }
    }
    if !ifaces.is_null() {
        // SAFETY: the array itself was allocated by libvirt with malloc.
        unsafe { libc::free(ifaces.cast()) };
    }
    Ok(out)
}
