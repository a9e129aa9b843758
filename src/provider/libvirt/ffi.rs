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
    let rc = unsafe { sys::virDomainGetState(dom.as_ptr(), &raw mut state, &raw mut reason, 0) };
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
            &raw mut ifaces,
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

fn node_params<T>(
    what: &str,
    call: impl Fn(*mut T, &mut c_int) -> c_int,
    field: impl Fn(&T) -> (&[std::os::raw::c_char; 80], u64),
) -> Result<Vec<(String, u64)>, LibvirtError>
where
    T: Copy,
{
    let mut n: c_int = 0;
    // First call with no buffer asks for the number of parameters.
    if call(std::ptr::null_mut(), &mut n) < 0 {
        return Err(call_error(what));
    }
    let len = usize::try_from(n).unwrap_or(0);
    if len == 0 {
        return Ok(Vec::new());
    }
    let mut buf: Vec<std::mem::MaybeUninit<T>> = Vec::with_capacity(len);
    // SAFETY: capacity for `len` entries; libvirt writes at most `n` of them.
    unsafe { buf.set_len(len) };
    if call(buf.as_mut_ptr().cast::<T>(), &mut n) < 0 {
        return Err(call_error(what));
    }
    let filled = usize::try_from(n).unwrap_or(0).min(len);
    Ok(buf[..filled]
        .iter()
        .map(|p| {
            // SAFETY: libvirt initialised the first `filled` entries.
            let p = unsafe { p.assume_init_ref() };
            let (name, value) = field(p);
            // SAFETY: libvirt NUL-terminates the fixed-size field name.
            let name = unsafe { CStr::from_ptr(name.as_ptr()) }
                .to_string_lossy()
                .into_owned();
            (name, value)
        })
        .collect())
}

/// Host CPU time split for all CPUs (`kernel`, `user`, `idle`, `iowait`, ns).
///
/// # Errors
/// libvirt's error.
pub fn node_cpu_stats(conn: &virt::connect::Connect) -> Result<Vec<(String, u64)>, LibvirtError> {
    node_params(
        "virNodeGetCPUStats",
        // SAFETY: conn is live; buffer and count come from node_params.
        |buf, n| unsafe {
            sys::virNodeGetCPUStats(conn.as_ptr(), sys::VIR_NODE_CPU_STATS_ALL_CPUS, buf, n, 0)
        },
        |p: &sys::virNodeCPUStats| (&p.field, p.value),
    )
}

/// Host memory (`total`, `free`, `buffers`, `cached`, KiB).
///
/// # Errors
/// libvirt's error.
pub fn node_memory_stats(
    conn: &virt::connect::Connect,
) -> Result<Vec<(String, u64)>, LibvirtError> {
    node_params(
        "virNodeGetMemoryStats",
        // SAFETY: as above.
        |buf, n| unsafe {
            sys::virNodeGetMemoryStats(
                conn.as_ptr(),
                sys::VIR_NODE_MEMORY_STATS_ALL_CELLS,
                buf,
                n,
                0,
            )
        },
        |p: &sys::virNodeMemoryStats| (&p.field, p.value),
    )
}

/// Per-vCPU CPU time in ns, from `virDomainGetVcpus` (libvirt reads /proc, no QEMU monitor).
///
/// # Errors
/// libvirt's error.
pub fn vcpu_times(dom: &Domain, max: u32) -> Result<Vec<u64>, LibvirtError> {
    let len = usize::try_from(max.max(1)).unwrap_or(1);
    // SAFETY: virVcpuInfo is plain data; zero is a valid initial value.
    let mut buf: Vec<sys::virVcpuInfo> = vec![unsafe { std::mem::zeroed() }; len];
    let cap = c_int::try_from(len).unwrap_or(c_int::MAX);
    // SAFETY: buf holds `cap` entries; no CPU maps are asked for.
    let n = unsafe {
        sys::virDomainGetVcpus(dom.as_ptr(), buf.as_mut_ptr(), cap, std::ptr::null_mut(), 0)
    };
    if n < 0 {
        return Err(call_error("virDomainGetVcpus"));
    }
    Ok(buf
        .iter()
        .take(usize::try_from(n).unwrap_or(0))
        .map(|v| v.cpuTime)
        .collect())
}
