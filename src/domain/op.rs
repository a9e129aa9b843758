//! Lifecycle operations an operator can ask for, with their names and safety class.

use serde::Serialize;

use super::VmState;
use std::fmt;
use std::str::FromStr;

/// A lifecycle operation on one VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Start,
    Shutdown,
    Reboot,
    Reset,
    Suspend,
    Resume,
    Destroy,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::Start,
        Op::Shutdown,
        Op::Reboot,
        Op::Reset,
        Op::Suspend,
        Op::Resume,
        Op::Destroy,
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Op::Start => "start",
            Op::Shutdown => "shutdown",
            Op::Reboot => "reboot",
            Op::Reset => "reset",
            Op::Suspend => "suspend",
            Op::Resume => "resume",
            Op::Destroy => "destroy",
        }
    }

    /// Operations that lose guest state without the guest's cooperation need a confirmation.
    #[must_use]
    pub fn is_destructive(self) -> bool {
        matches!(self, Op::Reset | Op::Destroy)
    }

    /// The equivalent virsh command, shown in the journal so operators can repeat it by hand.
    #[must_use]
    pub fn virsh(self, uri: &str, name: &str) -> String {
        format!(
            "virsh -c {} {} {}",
            shell_word(uri),
            self.name(),
            shell_word(name)
        )
    }
}

/// `s` as one shell word: as it is when it holds nothing a shell reads specially, else in
/// single quotes (`'\''` for a quote inside), so the journal's command pastes as it is.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@+=,%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl Op {
    /// Why this operation cannot apply to a VM in `state`, for the cases that are certain;
    /// libvirt still has the last word on the others. `keys`: the console's resume and
    /// destroy keys, named in the hints (`None` for the command line).
    #[must_use]
    pub fn wrong_state(self, state: VmState, keys: Option<(char, char)>) -> Option<String> {
        use VmState::{Crashed, Paused, PmSuspended, ShutOff};
        let (resume, destroy) = keys.map_or_else(
            || ("resume it".to_string(), "destroy it".to_string()),
            |(r, d)| (format!("resume it ({r})"), format!("destroy it ({d})")),
        );
        let why = match (self, state) {
            (Op::Shutdown | Op::Destroy, ShutOff) => "is already shut off".into(),
            (Op::Reboot | Op::Reset | Op::Suspend | Op::Resume, ShutOff) => "is shut off".into(),
            (Op::Start, Paused) => format!("is paused; {resume} instead"),
            // An ACPI request to a paused guest waits, and fires when it is resumed.
            (Op::Shutdown | Op::Reboot, Paused) => format!("is paused; {resume} first"),
            (Op::Suspend, Paused) => "is already paused".into(),
            (Op::Start | Op::Shutdown | Op::Reboot | Op::Suspend | Op::Resume, Crashed) => {
                format!("has crashed (kept for inspection); {destroy} to start it again")
            }
            (Op::Suspend | Op::Resume, PmSuspended) => {
                "is suspended by its guest (S3); wake it with virsh dompmwakeup".into()
            }
            (Op::Start, s) if s.is_active() => "is already running".into(),
            (Op::Resume, s) if s != Paused => "is not paused".into(),
            _ => return None,
        };
        Some(why)
    }
}

#[cfg(test)]
mod shell_tests {
    use super::*;

    #[test]
    fn the_virsh_command_pastes_into_a_shell() {
        assert_eq!(
            Op::Suspend.virsh("qemu:///system", "web-1"),
            "virsh -c qemu:///system suspend web-1"
        );
        assert_eq!(
            Op::Start.virsh("qemu+unix:///system?socket=/run/x&y", "it's"),
            "virsh -c 'qemu+unix:///system?socket=/run/x&y' start 'it'\\''s'"
        );
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An operation name that is not one of [`Op::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation {given:?}; expected one of: start, shutdown, reboot, reset, suspend, resume, destroy")]
pub struct OpParseError {
    pub given: String,
}

impl FromStr for Op {
    type Err = OpParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Op::ALL
            .into_iter()
            .find(|op| op.name() == s)
            .ok_or_else(|| OpParseError {
                given: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str() {
        for op in Op::ALL {
            assert_eq!(op.name().parse::<Op>(), Ok(op));
        }
        assert!("halt"
            .parse::<Op>()
            .unwrap_err()
            .to_string()
            .contains("\"halt\""));
    }

    #[test]
    fn only_reset_and_destroy_need_confirmation() {
        let destructive: Vec<_> = Op::ALL.into_iter().filter(|o| o.is_destructive()).collect();
        assert_eq!(destructive, vec![Op::Reset, Op::Destroy]);
    }
}
