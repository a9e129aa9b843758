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
    /// Cadence of the monitor-backed stats (balloon, block, vcpu) for VMs not on screen.
    pub monitor_interval: Option<String>,
    pub history: Option<HistoryFile>,
}

/// `[history]`: where metrics history lives and how long each tier is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFile {
    /// Database directory [default: `$XDG_STATE_HOME/novacron/history`].
    pub path: Option<String>,
    /// false: keep history in memory only for this run.
    pub enabled: Option<bool>,
    /// Raw samples, e.g. "48h".
    pub raw_retention: Option<String>,
    /// 1-minute rollups, e.g. "30d".
    pub minute_retention: Option<String>,
    /// 1-hour rollups, e.g. "400d".
    pub hour_retention: Option<String>,
}
