//! The config file as written by users (serde types, unknown keys rejected).

use serde::Deserialize;

/// `~/.config/novacron/config.toml`. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// libvirt URIs to connect to, e.g. `["qemu:///system", "qemu+ssh://kvm2/system"]`.
    pub connect: Option<Vec<String>>,
    /// Open every connection read-only and disable operations.
    pub read_only: Option<bool>,
    /// How long a graceful shutdown may take before force-off is offered, e.g. "60s", "2m".
    pub shutdown_timeout: Option<String>,
    /// Metric poll interval, "1s" to "60s".
    pub poll_interval: Option<String>,
    /// A keymap file whose actions override the defaults.
    pub keymap: Option<String>,
    /// A theme file.
    pub theme: Option<String>,
}
