//! Reads domains into [`Vm`] records, and the cheap per-poll counters.

use virt::connect::Connect;
use virt::domain::Domain;

use super::{ffi, message, state, xml};
use crate::domain::{HostId, Vm, VmId};
use crate::provider::LibvirtError;

fn call(what: &str, e: &virt::error::Error) -> LibvirtError {
    LibvirtError::Call {
        what: what.to_string(),
        message: message(e),
    }
}

/// Reads one domain. IP addresses are looked up only when `with_ips` and the VM runs,
/// because the lease lookup is a round trip to the network driver.
///
/// # Errors
/// The first libvirt call that fails (the domain may have vanished meanwhile).
pub fn read_vm(host: HostId, dom: &Domain, with_ips: bool) -> Result<Vm, LibvirtError> {
    let name = dom.name().map_err(|e| call("virDomainGetName", &e))?;
    let uuid = dom
        .uuid_string()
        .map_err(|e| call("virDomainGetUUIDString", &e))?;
    let (raw_state, raw_reason) = ffi::domain_state(dom)?;
    let vm_state = state::vm_state(raw_state);
    let info = dom.info().map_err(|e| call("virDomainGetInfo", &e))?;
    let xml_summary = dom
        .xml_desc(0)
        .ok()
        .and_then(|x| xml::parse_domain_xml(&x).ok())
        .unwrap_or_default();
    let ips = if with_ips && vm_state.is_active() {
        ffi::lease_addresses(dom).unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Vm {
        id: VmId { host, uuid },
        name,
        dom_id: dom.id(),
        state: vm_state,
        reason: state::state_reason(vm_state, raw_reason).to_string(),
        vcpus: info.nr_virt_cpu,
        mem_kib: info.memory,
        max_mem_kib: info.max_mem,
        autostart: dom.autostart().unwrap_or(false),
        persistent: dom.is_persistent().unwrap_or(false),
        ips,
        disks: xml_summary.disks,
        nics: xml_summary.nics,
        summary: xml_summary.summary,
    })
}

/// Reads every domain on the connection, active and inactive.
///
/// # Errors
/// When the domain list itself cannot be read; a domain that vanishes while being read is
/// skipped.
pub fn read_inventory(
    conn: &Connect,
    host: HostId,
    with_ips: bool,
) -> Result<Vec<Vm>, LibvirtError> {
    let doms = conn
        .list_all_domains(0)
        .map_err(|e| call("virConnectListAllDomains", &e))?;
    Ok(doms
        .iter()
        .filter_map(|d| read_vm(host, d, with_ips).ok())
        .collect())
}

/// Finds a domain by exact name, UUID or running ID (as `virsh` does), or says which names
/// are close.
///
/// # Errors
/// [`LibvirtError::NoSuchVm`] with up to three suggestions.
pub fn lookup_by_name(conn: &Connect, uri: &str, name: &str) -> Result<Domain, LibvirtError> {
    if let Ok(d) = conn.lookup_domain_by_name(name) {
        // A VM named "4" beside a running VM with ID 4 (or named as another's UUID): virsh
        // takes the ID (or UUID), the journal's virsh line would act on the other one.
        // Neither is guessed.
        let by_id = name
            .parse::<u32>()
            .ok()
            .and_then(|id| conn.lookup_domain_by_id(id).ok())
            .or_else(|| {
                (name.len() == 36 && name.matches('-').count() == 4)
                    .then(|| conn.lookup_domain_by_uuid_string(name).ok())
                    .flatten()
            });
        if let Some(other) = by_id {
            let (a, b) = (
                d.uuid_string().unwrap_or_default(),
                other.uuid_string().unwrap_or_default(),
            );
            if a != b {
                return Err(LibvirtError::NameIsAnId {
                    name: name.to_string(),
                    uri: uri.to_string(),
                    by_id: other.name().unwrap_or_default(),
                    name_uuid: a,
                    id_uuid: b,
                });
            }
        }
        return Ok(d);
    }
    if name.len() == 36 && name.matches('-').count() == 4 {
        if let Ok(d) = conn.lookup_domain_by_uuid_string(name) {
            return Ok(d);
        }
    }
    if let Ok(id) = name.parse::<u32>() {
        if let Ok(d) = conn.lookup_domain_by_id(id) {
            return Ok(d);
        }
    }
    let names: Vec<String> = conn
        .list_all_domains(0)
        .map(|ds| ds.iter().filter_map(|d| d.name().ok()).collect())
        .unwrap_or_default();
    Err(LibvirtError::NoSuchVm {
        name: name.to_string(),
        uri: uri.to_string(),
        suggestions: close_names(name, &names),
    })
}

/// Up to three names within a small edit distance of `name` (or containing it), closest first.
#[must_use]
pub fn close_names(name: &str, names: &[String]) -> Vec<String> {
    // Case is not a typo worth an edit each: NCLAB-BUSY is nclab-busy.
    let name = name.to_lowercase();
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|n| {
            let lower = n.to_lowercase();
            let d = strsim::levenshtein(&name, &lower);
            let near = d <= (name.len() / 3).max(2)
                || lower.contains(&name)
                || name.contains(lower.as_str());
            near.then_some((d, n))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_suggest_typos_and_substrings() {
        let names: Vec<String> = ["web-1", "web-2", "db-main", "cache"]
            .map(String::from)
            .to_vec();
        assert_eq!(close_names("web1", &names), vec!["web-1", "web-2"]);
        assert_eq!(close_names("db", &names), vec!["db-main"]);
        assert!(close_names("zzzzzzzz", &names).is_empty());
        assert_eq!(close_names("DB-MAIN", &names), vec!["db-main"]);
    }
}
