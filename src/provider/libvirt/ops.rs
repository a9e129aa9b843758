//! Lifecycle operations on one domain, returning libvirt's message on failure.

use virt::connect::Connect;

use crate::domain::Op;
use crate::provider::OpError;

/// Runs `op` on the domain with `uuid`. The error is libvirt's message, e.g.
/// "Requested operation is not valid: domain is not running", or, when the connection
/// broke before libvirt answered, that the outcome is unknown.
///
/// # Errors
/// When the domain cannot be found or libvirt refuses the operation.
pub fn run_op(conn: &Connect, uuid: &str, op: Op) -> Result<(), OpError> {
    let dom = conn
        .lookup_domain_by_uuid_string(uuid)
        .map_err(|e| OpError::Refused(super::message(&e)))?;
    let r = match op {
        Op::Start => dom.create(),
        Op::Shutdown => dom.shutdown(),
        Op::Reboot => dom.reboot(0),
        Op::Reset => dom.reset(),
        Op::Suspend => dom.suspend(),
        Op::Resume => dom.resume(),
        Op::Destroy => dom.destroy(),
    };
    // "End of file while reading data" reads as a refusal, but the call may have been
    // carried out before the connection broke.
    r.map(drop).map_err(|e| {
        let message = super::message(&e);
        if conn.is_alive().unwrap_or(false) {
            OpError::Refused(message)
        } else {
            OpError::Unknown(message)
        }
    })
}
