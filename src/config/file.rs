//! The config file as written by users (serde types, unknown keys rejected).

use serde::{Deserialize, Deserializer};

/// A duration as written: "90s", "2m", or a bare number of seconds (`poll_interval = 5`).
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Seconds(u64),
        Float(f64),
    }
    Ok(Some(
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected a duration such as \"90s\", \"5m\", \"7d\" or a number of seconds",
            )
        })? {
            Raw::Text(t) => t,
            Raw::Seconds(n) => n.to_string(),
            Raw::Float(x) => x.to_string(),
        },
    ))
}

/// One URI or a list of them: `connect = "qemu:///system"` is a list of one.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    Ok(Some(
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a URI or a list of URIs, e.g. [\"qemu:///system\"]")
        })? {
            Raw::One(u) => vec![u],
            Raw::Many(v) => v,
        },
    ))
}

/// `~/.config/novacron/config.toml`. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// libvirt URIs to connect to, e.g. `["qemu:///system", "qemu+ssh://kvm2/system"]`.
    #[serde(default, deserialize_with = "one_or_many")]
    pub connect: Option<Vec<String>>,
    /// Open every connection read-only and disable operations.
    pub read_only: Option<bool>,
    /// How long a graceful shutdown may take before force-off is offered, e.g. "60s", "2m".
    #[serde(default, deserialize_with = "duration")]
    pub shutdown_timeout: Option<String>,
    /// Metric poll interval, "1s" to "60s".
    #[serde(default, deserialize_with = "duration")]
    pub poll_interval: Option<String>,
    /// A keymap file whose actions override the defaults.
    pub keymap: Option<String>,
    /// A theme file.
    pub theme: Option<String>,
    /// Cadence of the monitor-backed stats (balloon, block, vcpu) for VMs not on screen.
    #[serde(default, deserialize_with = "duration")]
    pub monitor_interval: Option<String>,
    pub history: Option<HistoryFile>,
    pub capacity: Option<CapacityFile>,
    pub rightsize: Option<RightsizeFile>,
    pub prices: Option<PricesFile>,
    pub anomaly: Option<AnomalyFile>,
}

/// `[anomaly]`: how unusual a sample must be before the detectors call it an anomaly.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyFile {
    /// Robust z (in robust σ, 1.4826 × MAD, from the 24 h median and the time-of-day profile)
    /// to alarm at all
    /// [default: 3].
    pub threshold: Option<f64>,
    /// How far beyond the recent range a value must go, as a share of that range's excursion
    /// from the median [default: 0.1].
    pub novelty_margin: Option<f64>,
    /// How far back "the recent range" reaches, e.g. "7d" [default: 7d].
    #[serde(default, deserialize_with = "duration")]
    pub novelty_window: Option<String>,
    /// Quiet time after an alarm on the same series, e.g. "24h" [default: 24h].
    #[serde(default, deserialize_with = "duration")]
    pub refractory: Option<String>,
}

/// `[capacity]`: when a resource counts as exhausted and the VM shape headroom is counted in.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityFile {
    /// Usage percent that counts as exhausted [default: 90].
    pub threshold: Option<f64>,
    /// How far ahead to forecast, e.g. "7d" [default: 7d].
    #[serde(default, deserialize_with = "duration")]
    pub horizon: Option<String>,
    /// The VM shape for headroom [default: 2 vCPU, 4 GiB].
    pub vm_vcpus: Option<u32>,
    pub vm_memory_gib: Option<f64>,
    /// vCPUs allowed per physical CPU [default: 4].
    pub cpu_overcommit: Option<f64>,
    /// Memory kept for the host itself [default: 1 GiB].
    pub host_reserved_gib: Option<f64>,
}

/// `[rightsize]`: the window and percentile VMs are sized from.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RightsizeFile {
    /// History considered, e.g. "7d" [default: 7d].
    #[serde(default, deserialize_with = "duration")]
    pub window: Option<String>,
    /// 0.95 or 0.99 [default: 0.95].
    pub quantile: Option<f64>,
    /// Multiplier on the percentile [default: 1.2].
    pub headroom: Option<f64>,
    /// CPU percent under which a VM with little network traffic is idle [default: 2].
    pub idle_cpu_percent: Option<f64>,
    /// History a VM needs before it gets any verdict, e.g. "1d" [default: 1d, at most the
    /// window; never more rows than an idle verdict needs, 90 % of the window's].
    #[serde(default, deserialize_with = "duration")]
    pub min_history: Option<String>,
}

/// `[prices]`: optional, for monthly cost and savings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricesFile {
    pub currency: Option<String>,
    pub per_vcpu_hour: Option<f64>,
    pub per_gib_hour: Option<f64>,
    #[serde(default)]
    pub instance_type: Vec<InstanceTypeFile>,
}

/// `[[prices.instance_type]]`, e.g. an EC2 type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceTypeFile {
    pub name: String,
    pub vcpus: u32,
    pub memory_gib: f64,
    pub per_hour: f64,
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
    #[serde(default, deserialize_with = "duration")]
    pub raw_retention: Option<String>,
    /// 1-minute rollups, e.g. "30d".
    #[serde(default, deserialize_with = "duration")]
    pub minute_retention: Option<String>,
    /// 1-hour rollups, e.g. "400d".
    #[serde(default, deserialize_with = "duration")]
    pub hour_retention: Option<String>,
}
