//! libvirt's numeric domain states, state reasons and lifecycle event codes, decoded into the
//! words virsh prints. Pure tables; no libvirt calls.

use crate::domain::VmState;

/// Maps `virDomainState` to [`VmState`].
#[must_use]
pub fn vm_state(raw: i32) -> VmState {
    match raw {
        1 => VmState::Running,
        2 => VmState::Blocked,
        3 => VmState::Paused,
        4 => VmState::ShuttingDown,
        5 => VmState::ShutOff,
        6 => VmState::Crashed,
        7 => VmState::PmSuspended,
        _ => VmState::NoState,
    }
}

/// The reason text virsh shows for a state (`virsh domstate --reason`).
#[must_use]
pub fn state_reason(state: VmState, reason: i32) -> &'static str {
    let table: &[&str] = match state {
        VmState::Running => &[
            "unknown",
            "booted",
            "migrated",
            "restored",
            "from snapshot",
            "unpaused",
            "migration canceled",
            "save canceled",
            "event wakeup",
            "crashed",
            "post-copy",
            "post-copy failed",
        ],
        VmState::Paused => &[
            "unknown",
            "user",
            "migrating",
            "saving",
            "dumping",
            "I/O error",
            "watchdog",
            "from snapshot",
            "shutting down",
            "creating snapshot",
            "crashed",
            "starting up",
            "post-copy",
            "post-copy failed",
            "api error",
        ],
        VmState::ShuttingDown => &["unknown", "user"],
        VmState::ShutOff => &[
            "unknown",
            "shutdown",
            "destroyed",
            "crashed",
            "migrated",
            "saved",
            "failed",
            "from snapshot",
            "daemon",
        ],
        VmState::Crashed => &["unknown", "panicked"],
        VmState::Blocked | VmState::PmSuspended | VmState::NoState => &["unknown"],
    };
    usize::try_from(reason)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
        .unwrap_or("unknown")
}

/// A decoded lifecycle event (`virDomainEventType` plus its detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleEvent {
    Defined(&'static str),
    Undefined(&'static str),
    Started(&'static str),
    Suspended(&'static str),
    Resumed(&'static str),
    Stopped(&'static str),
    Shutdown(&'static str),
    PmSuspended(&'static str),
    Crashed(&'static str),
    Unknown(i32),
}

impl LifecycleEvent {
    /// "stopped (destroyed)", "started (booted)": the journal line for the event.
    #[must_use]
    pub fn describe(self) -> String {
        let (what, detail) = match self {
            Self::Defined(d) => ("defined", d),
            Self::Undefined(d) => ("undefined", d),
            Self::Started(d) => ("started", d),
            Self::Suspended(d) => ("suspended", d),
            Self::Resumed(d) => ("resumed", d),
            Self::Stopped(d) => ("stopped", d),
            Self::Shutdown(d) => ("shutdown", d),
            Self::PmSuspended(d) => ("pmsuspended", d),
            Self::Crashed(d) => ("crashed", d),
            Self::Unknown(e) => return format!("event {e}"),
        };
        format!("{what} ({detail})")
    }
}

fn pick(table: &[&'static str], detail: i32) -> &'static str {
    usize::try_from(detail)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
        .unwrap_or("unknown")
}

/// Decodes the `event`/`detail` pair of a lifecycle callback.
#[must_use]
pub fn lifecycle_event(event: i32, detail: i32) -> LifecycleEvent {
    match event {
        0 => LifecycleEvent::Defined(pick(
            &["added", "updated", "renamed", "from snapshot"],
            detail,
        )),
        1 => LifecycleEvent::Undefined(pick(&["removed", "renamed"], detail)),
        2 => LifecycleEvent::Started(pick(
            &[
                "booted",
                "migrated",
                "restored",
                "from snapshot",
                "wakeup",
                "recreated",
            ],
            detail,
        )),
        3 => LifecycleEvent::Suspended(pick(
            &[
                "paused",
                "migrated",
                "I/O error",
                "watchdog",
                "restored",
                "from snapshot",
                "api error",
                "post-copy",
                "post-copy failed",
            ],
            detail,
        )),
        4 => LifecycleEvent::Resumed(pick(
            &[
                "unpaused",
                "migrated",
                "from snapshot",
                "post-copy",
                "post-copy failed",
            ],
            detail,
        )),
        5 => LifecycleEvent::Stopped(pick(
            &[
                "shutdown",
                "destroyed",
                "crashed",
                "migrated",
                "saved",
                // VIR_DOMAIN_EVENT_STOPPED_FAILED: QEMU died; the VM then reads "shut off
                // (crashed)", and the journal says it the same way.
                "crashed",
                "from snapshot",
            ],
            detail,
        )),
        6 => LifecycleEvent::Shutdown(pick(
            &["finished", "on guest request", "on host request"],
            detail,
        )),
        7 => LifecycleEvent::PmSuspended(pick(&["memory", "disk"], detail)),
        8 => LifecycleEvent::Crashed(pick(&["panicked", "crashloaded"], detail)),
        other => LifecycleEvent::Unknown(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(5, 2, "shut off (destroyed)" ; "destroyed")]
    #[test_case(3, 1, "paused (user)" ; "paused by user")]
    #[test_case(1, 1, "running (booted)" ; "booted")]
    #[test_case(5, 99, "shut off (unknown)" ; "reason out of range")]
    #[test_case(42, 0, "no state (unknown)" ; "state out of range")]
    fn state_and_reason_read_like_virsh(state: i32, reason: i32, expected: &str) {
        let s = vm_state(state);
        assert_eq!(
            format!("{} ({})", s.label(), state_reason(s, reason)),
            expected
        );
    }

    #[test_case(5, 1, "stopped (destroyed)" ; "destroy")]
    #[test_case(2, 0, "started (booted)" ; "boot")]
    #[test_case(3, 0, "suspended (paused)" ; "suspend")]
    #[test_case(4, 0, "resumed (unpaused)" ; "resume")]
    #[test_case(77, 0, "event 77" ; "unknown event")]
    fn lifecycle_events_describe_themselves(event: i32, detail: i32, expected: &str) {
        assert_eq!(lifecycle_event(event, detail).describe(), expected);
    }
}
