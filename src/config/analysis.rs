//! Validation of the analysis sections of the config file: `[capacity]`, `[rightsize]`,
//! `[prices]` and `[anomaly]`. Every error names the file, the key, the value and what is allowed.

use std::time::Duration;

use super::file::ConfigFile;
use super::validate::{parse_duration, ConfigError};
use crate::analysis::capacity::CapacitySettings;
use crate::analytics::anomaly::ensemble::EnsembleConfig;
use crate::analytics::capacity::VmShape;
use crate::analytics::rightsize::{idle_rows, InstanceType, PriceTable, RightsizeConfig};

/// Validated analysis settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisSettings {
    pub capacity: CapacitySettings,
    pub rightsize: RightsizeConfig,
    pub rightsize_window: Duration,
    pub prices: Option<PriceTable>,
    pub currency: String,
    /// The anomaly detectors' settings (rows are 5 minutes, as the detectors see them).
    pub anomaly: EnsembleConfig,
}

fn check(file: &str, key: &str, v: f64, lo: f64, hi: f64) -> Result<f64, ConfigError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(ConfigError::Value {
            origin: format!("{file}: {key}"),
            message: format!("{v} is out of range; allowed {lo} to {hi}"),
        })
    }
}

fn duration(
    file: &str,
    key: &str,
    v: Option<&String>,
    default: Duration,
    min: u64,
    max: u64,
) -> Result<Duration, ConfigError> {
    v.map_or(Ok(default), |v| {
        parse_duration(v, Duration::from_secs(min), Duration::from_secs(max)).map_err(|message| {
            ConfigError::Value {
                origin: format!("{file}: {key}"),
                message,
            }
        })
    })
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn gib(g: f64) -> u64 {
    (g * f64::from(1u32 << 30)) as u64
}

/// `[prices]`: the price table and its currency symbol, or none.
fn prices(cf: &ConfigFile, file: &str) -> Result<(Option<PriceTable>, String), ConfigError> {
    Ok(match &cf.prices {
        None => (None, String::new()),
        Some(p) => {
            let types = p
                .instance_type
                .iter()
                .map(|t| {
                    check(
                        file,
                        &format!("prices.instance_type {}: per_hour", t.name),
                        t.per_hour,
                        0.0,
                        1e6,
                    )?;
                    check(
                        file,
                        &format!("prices.instance_type {}: memory_gib", t.name),
                        t.memory_gib,
                        0.0,
                        1e6,
                    )?;
                    check(
                        file,
                        &format!("prices.instance_type {}: vcpus", t.name),
                        f64::from(t.vcpus),
                        1.0,
                        1e6,
                    )?;
                    if p.instance_type.iter().filter(|o| o.name == t.name).count() > 1 {
                        return Err(ConfigError::Value {
                            origin: format!("{file}: prices.instance_type"),
                            message: format!("{:?} is listed twice; name each type once", t.name),
                        });
                    }
                    Ok(InstanceType {
                        name: t.name.clone(),
                        vcpus: t.vcpus,
                        memory_gib: t.memory_gib,
                        per_hour: t.per_hour,
                    })
                })
                .collect::<Result<Vec<_>, ConfigError>>()?;
            let table = PriceTable {
                per_vcpu_hour: p.per_vcpu_hour.map_or(Ok(0.0), |v| {
                    check(file, "prices.per_vcpu_hour", v, 0.0, 1e6)
                })?,
                per_gib_hour: p
                    .per_gib_hour
                    .map_or(Ok(0.0), |v| check(file, "prices.per_gib_hour", v, 0.0, 1e6))?,
                instance_types: types,
            };
            (
                Some(table),
                p.currency.clone().unwrap_or_else(|| "$".into()),
            )
        }
    })
}

/// Seconds in a day, for the duration ranges.
const DAY: u64 = 86_400;

/// Builds the analysis settings from the file's sections (defaults where absent).
pub fn analysis(cf: &ConfigFile, file: &str) -> Result<AnalysisSettings, ConfigError> {
    let c = cf.capacity.clone().unwrap_or_default();
    let d = CapacitySettings::default();
    let horizon = duration(
        file,
        "capacity.horizon",
        c.horizon.as_ref(),
        Duration::from_secs(7 * DAY),
        3600,
        90 * DAY,
    )?;
    let capacity = CapacitySettings {
        threshold_pct: c.threshold.map_or(Ok(d.threshold_pct), |v| {
            check(file, "capacity.threshold", v, 1.0, 100.0)
        })?,
        horizon_rows: usize::try_from(horizon.as_secs() / 300).unwrap_or(usize::MAX),
        shape: VmShape {
            vcpus: match c.vm_vcpus {
                Some(v) if (1..=1024).contains(&v) => v,
                Some(v) => {
                    return Err(ConfigError::Value {
                        origin: format!("{file}: capacity.vm_vcpus"),
                        message: format!("{v} is out of range; allowed 1 to 1024"),
                    })
                }
                None => d.shape.vcpus,
            },
            memory_bytes: c.vm_memory_gib.map_or(Ok(d.shape.memory_bytes), |v| {
                check(file, "capacity.vm_memory_gib", v, 0.0625, 16384.0).map(gib)
            })?,
        },
        cpu_overcommit: c.cpu_overcommit.map_or(Ok(d.cpu_overcommit), |v| {
            check(file, "capacity.cpu_overcommit", v, 0.1, 64.0)
        })?,
        host_reserved_bytes: c.host_reserved_gib.map_or(Ok(d.host_reserved_bytes), |v| {
            check(file, "capacity.host_reserved_gib", v, 0.0, 16384.0).map(gib)
        })?,
    };
    let (rightsize, rightsize_window) = rightsize(cf, file)?;
    let (prices, currency) = prices(cf, file)?;
    Ok(AnalysisSettings {
        capacity,
        rightsize,
        rightsize_window,
        prices,
        currency,
        anomaly: anomaly(cf, file)?,
    })
}

/// `[rightsize]`: the settings and the window; `min_history` (default a day, at most the
/// window) is kept as rows, capped at what an idle verdict needs (90 % of the window's).
fn rightsize(cf: &ConfigFile, file: &str) -> Result<(RightsizeConfig, Duration), ConfigError> {
    let r = cf.rightsize.clone().unwrap_or_default();
    let rd = RightsizeConfig::default();
    let rightsize = RightsizeConfig {
        quantile: r.quantile.map_or(Ok(rd.quantile), |v| {
            check(file, "rightsize.quantile", v, 0.5, 0.999)
        })?,
        headroom: r.headroom.map_or(Ok(rd.headroom), |v| {
            check(file, "rightsize.headroom", v, 1.0, 4.0)
        })?,
        idle_cpu_percent: r.idle_cpu_percent.map_or(Ok(rd.idle_cpu_percent), |v| {
            check(file, "rightsize.idle_cpu_percent", v, 0.0, 100.0)
        })?,
        ..rd
    };
    let rightsize_window = duration(
        file,
        "rightsize.window",
        r.window.as_ref(),
        Duration::from_secs(7 * DAY),
        3600,
        90 * DAY,
    )?;
    let min_history = duration(
        file,
        "rightsize.min_history",
        r.min_history.as_ref(),
        Duration::from_secs(DAY).min(rightsize_window),
        300,
        90 * DAY,
    )?;
    if min_history > rightsize_window {
        return Err(ConfigError::Value {
            origin: format!("{file}: rightsize.min_history"),
            message: format!(
                "{} is longer than rightsize.window ({}); allowed up to the window",
                r.min_history.as_deref().unwrap_or_default(),
                r.window.as_deref().unwrap_or("7d")
            ),
        });
    }
    let rows = |d: Duration| usize::try_from(d.as_secs() / 300).unwrap_or(usize::MAX);
    // Never more than idle needs: with min_history as long as the window, one restart
    // would otherwise hide the VM for the whole window.
    let idle_min_samples = idle_rows(rows(rightsize_window));
    Ok((
        RightsizeConfig {
            min_samples: rows(min_history).min(idle_min_samples),
            idle_min_samples,
            ..rightsize
        },
        rightsize_window,
    ))
}

/// `[anomaly]`: the detector ensemble's thresholds; windows are given as durations and kept
/// as 5-minute rows.
fn anomaly(cf: &ConfigFile, file: &str) -> Result<EnsembleConfig, ConfigError> {
    let a = cf.anomaly.clone().unwrap_or_default();
    let d = EnsembleConfig::default();
    let rows = |key: &str, v: Option<&String>, default: usize, min: u64, max: u64| {
        let default = Duration::from_secs(u64::try_from(default).unwrap_or(u64::MAX) * 300);
        duration(file, key, v, default, min, max)
            .map(|t| usize::try_from(t.as_secs() / 300).unwrap_or(usize::MAX))
    };
    Ok(EnsembleConfig {
        min_score: a.threshold.map_or(Ok(d.min_score), |v| {
            check(file, "anomaly.threshold", v, 1.0, 20.0)
        })?,
        novelty_margin: a.novelty_margin.map_or(Ok(d.novelty_margin), |v| {
            check(file, "anomaly.novelty_margin", v, 0.0, 5.0)
        })?,
        novelty_window: rows(
            "anomaly.novelty_window",
            a.novelty_window.as_ref(),
            d.novelty_window,
            3600,
            30 * 86_400,
        )?,
        refractory: rows(
            "anomaly.refractory",
            a.refractory.as_ref(),
            d.refractory,
            300,
            7 * 86_400,
        )?,
        ..d
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AnalysisSettings, ConfigError> {
        let cf: ConfigFile = toml::from_str(text).unwrap();
        analysis(&cf, "cfg.toml")
    }

    #[test]
    fn an_instance_type_needs_vcpus_and_a_name_of_its_own() {
        let t = |vcpus: u32, second: &str| {
            format!("[prices]\n[[prices.instance_type]]\nname = \"a\"\nvcpus = {vcpus}\nmemory_gib = 8\nper_hour = 0.1\n[[prices.instance_type]]\nname = \"{second}\"\nvcpus = 2\nmemory_gib = 8\nper_hour = 0.1\n")
        };
        let e = parse(&t(0, "b")).unwrap_err().to_string();
        assert!(e.contains("instance_type a: vcpus"), "{e}");
        let e = parse(&t(2, "a")).unwrap_err().to_string();
        assert!(e.contains("listed twice"), "{e}");
        assert!(parse(&t(2, "b")).is_ok());
    }

    #[test]
    fn defaults_and_overrides() {
        let a = parse("").unwrap();
        assert_eq!(a.capacity, CapacitySettings::default());
        assert!(a.prices.is_none());
        let a = parse("[capacity]\nthreshold = 80\nhorizon = \"2d\"\nvm_vcpus = 4\nvm_memory_gib = 8\n[prices]\nper_vcpu_hour = 0.02\n[[prices.instance_type]]\nname = \"m5.large\"\nvcpus = 2\nmemory_gib = 8\nper_hour = 0.096\n").unwrap();
        assert!((a.capacity.threshold_pct - 80.0).abs() < f64::EPSILON);
        assert_eq!(a.capacity.horizon_rows, 576);
        assert_eq!(
            a.capacity.shape,
            VmShape {
                vcpus: 4,
                memory_bytes: 8 << 30
            }
        );
        let p = a.prices.unwrap();
        assert_eq!(p.instance_types[0].name, "m5.large");
        assert_eq!(a.currency, "$");
    }

    #[test]
    fn anomaly_section_sets_the_detectors_in_rows() {
        assert_eq!(parse("").unwrap().anomaly, EnsembleConfig::default());
        let a = parse("[anomaly]\nthreshold = 4.5\nnovelty_margin = 0\nnovelty_window = \"2d\"\nrefractory = \"1h\"\n")
            .unwrap()
            .anomaly;
        assert!((a.min_score - 4.5).abs() < f64::EPSILON);
        assert!(a.novelty_margin.abs() < f64::EPSILON);
        assert_eq!((a.novelty_window, a.refractory), (576, 12));
        let e = parse("[anomaly]\nthreshold = 0.5\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("anomaly.threshold") && e.contains("0.5") && e.contains("1 to 20"),
            "{e}"
        );
        let e = parse("[anomaly]\nrefractory = \"1s\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("anomaly.refractory") && e.contains("1s"), "{e}");
    }

    #[test]
    fn rightsize_thresholds_follow_the_window() {
        let r = parse("").unwrap().rightsize;
        assert_eq!((r.min_samples, r.idle_min_samples), (288, 1814));
        let r = parse("[rightsize]\nwindow = \"3d\"\nmin_history = \"12h\"\n")
            .unwrap()
            .rightsize;
        // Idle over a 3-day window needs 90 % of its 864 rows, not a week's.
        assert_eq!((r.min_samples, r.idle_min_samples), (144, 777));
        // The default day shrinks to a shorter window, and a verdict never needs more rows
        // than idle does (90 % of the window's 24), or one restart would hide the VM.
        let r = parse("[rightsize]\nwindow = \"2h\"\n").unwrap().rightsize;
        assert_eq!((r.min_samples, r.idle_min_samples), (21, 21));
        let r = parse("[rightsize]\nwindow = \"2d\"\nmin_history = \"2d\"\n")
            .unwrap()
            .rightsize;
        assert_eq!((r.min_samples, r.idle_min_samples), (518, 518));
    }

    #[test]
    fn bad_values_name_file_key_and_range() {
        let e = parse("[capacity]\nthreshold = 120\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cfg.toml")
                && e.contains("capacity.threshold")
                && e.contains("120")
                && e.contains("1 to 100"),
            "{e}"
        );
        let e = parse("[rightsize]\nwindow = \"forever\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rightsize.window") && e.contains("forever"),
            "{e}"
        );
        let e = parse("[rightsize]\nwindow = \"3d\"\nmin_history = \"4d\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rightsize.min_history") && e.contains("4d") && e.contains("3d"),
            "{e}"
        );
        let e = parse("[prices]\nper_gib_hour = -1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("prices.per_gib_hour") && e.contains("-1"), "{e}");
    }
}
