//! Bulk domain statistics via `virConnectGetAllDomainStats`, called directly because the
//! `virt` crate neither parses the typed parameters nor frees the records.
//!
//! `unsafe` for stats lives here: one call, copy every parameter into owned Rust values, free
//! the list with `virDomainStatsRecordListFree`. Decoding of the parameters is pure and tested.

use std::ffi::CStr;
use std::os::raw::{c_char, c_uint};

use virt::connect::Connect;
use virt::domain::Domain;
use virt::sys;

use crate::provider::LibvirtError;

/// One typed parameter value, owned.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl ParamValue {
    /// The value as an unsigned counter, when it is numeric and not negative.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::UInt(v) => Some(v),
            Self::Int(v) => u64::try_from(v).ok(),
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Self::Float(v) if v >= 0.0 => Some(v as u64),
            _ => None,
        }
    }
}

/// The statistics record of one domain: its identity and every parameter libvirt returned.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainStatsRecord {
    pub uuid: String,
    pub name: String,
    pub params: Vec<(String, ParamValue)>,
}

/// A record together with a referenced handle to its domain, for follow-up per-domain calls.
pub struct StatsWithDomain {
    pub record: DomainStatsRecord,
    pub dom: Domain,
}

impl DomainStatsRecord {
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&ParamValue> {
        self.params.iter().find(|(k, _)| k == field).map(|(_, v)| v)
    }

    #[must_use]
    pub fn u64(&self, field: &str) -> Option<u64> {
        self.get(field).and_then(ParamValue::as_u64)
    }
}

/// Stats groups, as `virDomainStatsTypes` bits.
pub mod groups {
    use virt::sys;
    pub const STATE: u32 = sys::VIR_DOMAIN_STATS_STATE;
    pub const CPU_TOTAL: u32 = sys::VIR_DOMAIN_STATS_CPU_TOTAL;
    pub const BALLOON: u32 = sys::VIR_DOMAIN_STATS_BALLOON;
    pub const VCPU: u32 = sys::VIR_DOMAIN_STATS_VCPU;
    pub const INTERFACE: u32 = sys::VIR_DOMAIN_STATS_INTERFACE;
    pub const BLOCK: u32 = sys::VIR_DOMAIN_STATS_BLOCK;
}

/// Flag asking libvirt not to wait for a domain's job lock (libvirt >= 4.5), so a VM stuck in
/// a job cannot stall the whole poll.
pub const NOWAIT: u32 = sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;

/// Fetches the given stats groups for every domain in one call.
///
/// # Errors
/// libvirt's error when the call fails (e.g. the connection is gone).
pub fn all_domain_stats(
    conn: &Connect,
    stats: u32,
    flags: u32,
) -> Result<Vec<StatsWithDomain>, LibvirtError> {
    let mut records: *mut sys::virDomainStatsRecordPtr = std::ptr::null_mut();
    // SAFETY: conn is live; libvirt allocates `records`, which `collect` frees.
    let n = unsafe {
        sys::virConnectGetAllDomainStats(
            conn.as_ptr(),
            stats as c_uint,
            &raw mut records,
            flags as c_uint,
        )
    };
    // SAFETY: records/n come straight from the call above.
    unsafe { collect("virConnectGetAllDomainStats", n, records) }
}

/// Fetches the given stats groups for just these domains in one call (the VMs on screen).
///
/// # Errors
/// libvirt's error when the call fails.
pub fn list_domain_stats(
    doms: &[Domain],
    stats: u32,
    flags: u32,
) -> Result<Vec<StatsWithDomain>, LibvirtError> {
    if doms.is_empty() {
        return Ok(Vec::new());
    }
    // SAFETY: the pointers stay valid while `doms` is borrowed; the array is NULL-terminated
    // as the API requires.
    let mut ptrs: Vec<sys::virDomainPtr> = doms.iter().map(|d| unsafe { d.as_ptr() }).collect();
    ptrs.push(std::ptr::null_mut());
    let mut records: *mut sys::virDomainStatsRecordPtr = std::ptr::null_mut();
    // SAFETY: as above; libvirt allocates `records`, which `collect` frees.
    let n = unsafe {
        sys::virDomainListGetStats(
            ptrs.as_mut_ptr(),
            stats as c_uint,
            &raw mut records,
            flags as c_uint,
        )
    };
    // SAFETY: records/n come straight from the call above.
    unsafe { collect("virDomainListGetStats", n, records) }
}

/// Copies `n` records out and frees the list.
unsafe fn collect(
    what: &str,
    n: std::os::raw::c_int,
    records: *mut sys::virDomainStatsRecordPtr,
) -> Result<Vec<StatsWithDomain>, LibvirtError> {
    if n < 0 {
        return Err(LibvirtError::Call {
            what: what.into(),
            message: super::last_error_message(),
        });
    }
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for i in 0..usize::try_from(n).unwrap_or(0) {
        let rec = *records.add(i);
        if rec.is_null() {
            continue;
        }
        // The extra reference taken on the domain is owned by the `Domain` wrapper from then on.
        let record = copy_record(&*rec);
        if sys::virDomainRef((*rec).dom) == 0 {
            out.push(StatsWithDomain {
                record,
                dom: Domain::from_ptr((*rec).dom),
            });
        }
    }
    if !records.is_null() {
        // Frees the records, their parameters and domain references, and the array.
        sys::virDomainStatsRecordListFree(records);
    }
    Ok(out)
}

unsafe fn copy_record(rec: &sys::_virDomainStatsRecord) -> DomainStatsRecord {
    let name = cstr(sys::virDomainGetName(rec.dom));
    let mut buf = [0 as c_char; 64];
    let uuid = if sys::virDomainGetUUIDString(rec.dom, buf.as_mut_ptr()) == 0 {
        cstr(buf.as_ptr())
    } else {
        String::new()
    };
    let params = copy_params(rec.params, usize::try_from(rec.nparams).unwrap_or(0));
    DomainStatsRecord { uuid, name, params }
}

/// Copies `n` typed parameters into owned values; unknown types are skipped.
///
/// # Safety
/// `params` must point to `n` initialised parameters whose string values are valid C strings.
#[must_use]
pub unsafe fn copy_params(
    params: *const sys::virTypedParameter,
    n: usize,
) -> Vec<(String, ParamValue)> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let p = &*params.add(i);
        let field = cstr(p.field.as_ptr());
        let value = match c_uint::try_from(p.type_).unwrap_or(c_uint::MAX) {
            sys::VIR_TYPED_PARAM_INT => ParamValue::Int(i64::from(p.value.i)),
            sys::VIR_TYPED_PARAM_UINT => ParamValue::UInt(u64::from(p.value.ui)),
            sys::VIR_TYPED_PARAM_LLONG => ParamValue::Int(p.value.l),
            sys::VIR_TYPED_PARAM_ULLONG => ParamValue::UInt(p.value.ul),
            sys::VIR_TYPED_PARAM_DOUBLE => ParamValue::Float(p.value.d),
            sys::VIR_TYPED_PARAM_BOOLEAN => ParamValue::Bool(p.value.b != 0),
            sys::VIR_TYPED_PARAM_STRING => ParamValue::Str(cstr(p.value.s)),
            _ => continue,
        };
        out.push((field, value));
    }
    out
}

unsafe fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}
