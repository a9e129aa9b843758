//! Lifecycle operations on one domain, returning libvirt's message on failure.

use virt::connect::Connect;

use crate::domain::Op;

/// Runs `op` on the domain with `uuid`. The error is libvirt's message, e.g.
/// "Requested operation is not valid: domain is not running".
///
/// # Errors
/// When the domain cannot be found or libvirt refuses the operation.
pub fn run_op(conn: &Connect, uuid: &str, op: Op) -> Result<(), String> {
    let dom = conn
        .lookup_domain_by_uuid_string(uuid)
        .map_err(|e| super::message(&e))?;
    let r = match op {
        Op::Start => dom.create(),
        Op::Shutdown => dom.shutdown(),
        Op::Reboot => dom.reboot(0),
        Op::Reset => dom.reset(),
        Op::Suspend => dom.suspend(),
        Op::Resume => dom.resume(),
        Op::Destroy => dom.destroy(),
    };
    r.map_err(|e| super::message(&e))
}
