//! Side effects the reducer asks for; the event loop runs them and reports back as messages.

use crate::domain::HostId;
use crate::provider::ProviderCmd;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a command to a host's worker.
    Provider { host: HostId, cmd: ProviderCmd },
    /// Start a worker for a host just added to `State::hosts` at this index.
    Connect { host: HostId, uri: String },
    /// Leave the loop and restore the terminal.
    Quit,
}
