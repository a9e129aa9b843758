//! Merges CLI flags, the config file and built-in defaults (in that order of precedence) into
//! a validated [`Config`]. Every error names the file or flag, the bad value and what is allowed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::file::ConfigFile;
use super::keymap::{Keymap, KeymapError};
use super::theme::{parse_theme, ThemeColors, ThemeError};

/// What the CLI said; `None`/empty means "not given".
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub connect: Vec<String>,
    pub read_only: bool,
    pub shutdown_timeout: Option<String>,
    pub interval: Option<String>,
    pub keymap: Option<PathBuf>,
    pub theme: Option<PathBuf>,
    pub no_color: bool,
    pub history: Option<PathBuf>,
    pub no_history: bool,
}

/// The validated configuration the app runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub uris: Vec<String>,
    pub read_only: bool,
    pub shutdown_timeout: Duration,
    pub poll_interval: Duration,
    pub keymap: Keymap,
    pub theme: ThemeColors,
    pub color: bool,
    pub monitor_interval: Duration,
    /// `None`: history in memory only (`--no-history`).
    pub history_path: Option<PathBuf>,
    pub retention: crate::store::Retention,
    pub analysis: super::analysis::AnalysisSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{origin}: {message}")]
    Value { origin: String, message: String },
    #[error(transparent)]
    Keymap(#[from] KeymapError),
    #[error(transparent)]
    Theme(#[from] ThemeError),
}

/// Where the config file is looked for when `--config` is not given.
#[must_use]
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "novacron").map(|d| d.config_dir().join("config.toml"))
}

/// A path from the config file: `~/…` is under `$HOME`, as in a shell.
fn home_path(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ if p == "~" => std::env::var_os("HOME").map_or_else(|| PathBuf::from(p), PathBuf::from),
        _ => PathBuf::from(p),
    }
}

/// A path from the config file `file_name`: `~/…` as [`home_path`], a relative one from the
/// config file's directory (not wherever novacron happens to be started).
fn config_path(p: &str, file_name: &str) -> PathBuf {
    let path = home_path(p);
    match Path::new(file_name).parent() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path,
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Parses a duration like "60s", "2m", "1m 30s" or a bare number of seconds and checks it lies
/// in `min..=max`.
///
/// # Errors
/// A message naming the value, the units and the allowed range.
pub fn parse_duration(value: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let range = format!("allowed {} to {}", span(min), span(max));
    let text = value.trim();
    if text.starts_with('-') {
        return Err(format!("{value:?} is negative; {range}"));
    }
    let d = humantime::parse_duration(text)
        .or_else(|_| text.parse::<u64>().map(Duration::from_secs))
        .map_err(|_| {
            format!(
                "{value:?} is not a duration; write a number and a unit: s, m (minutes), h, \
                 d, w or M (months), e.g. \"90s\", \"2m\", \"1h 30m\", or a bare number of \
                 seconds; {range}"
            )
        })?;
    if d < min || d > max {
        return Err(format!("{value:?} is out of range; {range}"));
    }
    Ok(d)
}

/// A bound as it would be written: "90d", "6h", "5m", "30s" (humantime wrote 90 days as
/// "2months 29days 2h 52m 48s", counting a month as 30.44 days).
fn span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => humantime::format_duration(d).to_string(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s if d.subsec_nanos() == 0 => format!("{s}s"),
        _ => humantime::format_duration(d).to_string(),
    }
}

/// A parse error in the config file's terms, not Rust's: "expected f64" is "expected a
/// number", "expected struct `CapacityFile`" is "expected a \[capacity\] table".
fn plain_types(message: &str) -> String {
    const STRUCT: &str = "expected struct ";
    let mut out = message.to_string();
    for (rust, plain) in [
        ("expected f64", "expected a number"),
        ("expected u8", "expected a whole number, not negative"),
        ("expected u16", "expected a whole number, not negative"),
        ("expected u32", "expected a whole number, not negative"),
        ("expected u64", "expected a whole number, not negative"),
        ("expected usize", "expected a whole number, not negative"),
        ("expected i64", "expected a whole number"),
        ("expected a sequence", "expected a list [ … ]"),
        (" as i128", " (too large)"),
    ] {
        out = out.replace(rust, plain);
    }
    // "expected struct CapacityFile": the section a key such as `capacity = 5` should be.
    if let Some(at) = out.find(STRUCT) {
        let from = at + STRUCT.len();
        let len = out[from..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(out.len() - from);
        // A section's struct is its name and File (CapacityFile: [capacity]); others are
        // tables inside one.
        let section = out[from..from + len]
            .strip_suffix("File")
            .map(str::to_lowercase)
            .filter(|s| {
                ["history", "capacity", "rightsize", "prices", "anomaly"].contains(&s.as_str())
            });
        let table = match section {
            Some(section) => format!("expected a [{section}] table"),
            None => "expected a table { … }".to_string(),
        };
        out.replace_range(at..from + len, &table);
    }
    // "invalid length 2, expected a [capacity] table with 6 elements": serde's count of the
    // table's fields, which says nothing to a config file's reader.
    if let Some(at) = out.find(" table with ") {
        if let Some(end) = out[at..].find(" elements") {
            out.replace_range(at + " table".len()..at + end + " elements".len(), "");
        }
    }
    // "invalid length 2, expected …": serde's count of what it got, which misleads.
    if let Some(at) = out.find("invalid length ") {
        if let Some(comma) = out[at..].find(", ") {
            out.replace_range(at..at + comma + 2, "");
        }
    }
    out
}

/// Where history lives (None: memory only) and how long each tier is kept.
fn history(
    o: &Overrides,
    cf: &ConfigFile,
    file_name: &str,
) -> Result<(Option<PathBuf>, crate::store::Retention), ConfigError> {
    let hf = cf.history.clone().unwrap_or_default();
    if hf.enabled != Some(false) && hf.path.as_deref().is_some_and(|p| p.trim().is_empty()) {
        return Err(ConfigError::Value {
            origin: format!("{file_name}: history.path"),
            message: "is empty; give a directory, or enabled = false for no history".into(),
        });
    }
    // The command line wins over the file: --history PATH records even where the file
    // says enabled = false.
    let path = if o.no_history {
        None
    } else if let Some(p) = &o.history {
        Some(p.clone())
    } else if hf.enabled == Some(false) {
        None
    } else {
        hf.path
            .as_deref()
            .map(|p| config_path(p, file_name))
            .or_else(|| crate::store::default_history_path(|k| std::env::var(k).ok()))
    };
    let day = 86_400;
    let keep = |key: &str, v: &Option<String>, default: Duration, min: u64, max: u64| match v {
        None => Ok(default),
        Some(v) => parse_duration(v, Duration::from_secs(min), Duration::from_secs(max)).map_err(
            |message| ConfigError::Value {
                origin: format!("{file_name}: history.{key}"),
                message,
            },
        ),
    };
    let d = crate::store::Retention::default();
    let retention = crate::store::Retention {
        raw: keep("raw_retention", &hf.raw_retention, d.raw, 600, 30 * day)?,
        minute: keep(
            "minute_retention",
            &hf.minute_retention,
            d.minute,
            3600,
            400 * day,
        )?,
        hour: keep(
            "hour_retention",
            &hf.hour_retention,
            d.hour,
            day,
            3650 * day,
        )?,
    };
    // A coarser tier that expires before a finer one would leave a hole in long ranges.
    let order = [
        ("raw_retention", retention.raw),
        ("minute_retention", retention.minute),
        ("hour_retention", retention.hour),
    ];
    for w in order.windows(2) {
        if w[1].1 < w[0].1 {
            return Err(ConfigError::Value {
                origin: format!("{file_name}: history.{}", w[1].0),
                message: format!(
                    "{} is shorter than {} ({}); each tier must keep at least as long as the \
                     finer one",
                    span(w[1].1),
                    w[0].0,
                    span(w[0].1)
                ),
            });
        }
    }
    Ok((path, retention))
}

/// Right-sizing reads 5-minute rows, which only the minute tier holds.
fn rightsize_fits_minute_tier(
    analysis: &super::analysis::AnalysisSettings,
    retention: &crate::store::Retention,
    file_name: &str,
) -> Result<(), ConfigError> {
    if analysis.rightsize_window <= retention.minute {
        return Ok(());
    }
    Err(ConfigError::Value {
        origin: format!("{file_name}: rightsize.window"),
        message: format!(
            "{} is longer than history.minute_retention ({}): right-sizing reads 5-minute \
             rows, which are kept that long; shorten the window or keep minute rows longer",
            span(analysis.rightsize_window),
            span(retention.minute)
        ),
    })
}

/// The keymap and theme: from their flags, else the config file's keys; a keymap.toml
/// beside the config file is read when neither names one.
fn keymap_and_theme(
    o: &Overrides,
    cf: &ConfigFile,
    file_name: &str,
) -> Result<(Keymap, ThemeColors), ConfigError> {
    // A file named by a flag (true) or by the config file's key of the same name that
    // cannot be read says which named it.
    let named = |name: &str, flag: &Option<PathBuf>, key: &Option<String>| {
        if key.as_deref().is_some_and(|k| k.trim().is_empty()) && flag.is_none() {
            return Err(ConfigError::Value {
                origin: format!("{file_name}: {name}"),
                message: format!("is empty; give a file, or remove the key for the default {name}"),
            });
        }
        let Some((p, from_flag)) = flag
            .clone()
            .map(|p| (p, true))
            .or_else(|| key.as_deref().map(|p| (config_path(p, file_name), false)))
        else {
            return Ok(None);
        };
        let text = read(&p).map_err(|e| ConfigError::Value {
            origin: if from_flag {
                format!("--{name}")
            } else {
                format!("{file_name}: {name}")
            },
            message: e.to_string(),
        })?;
        Ok::<_, ConfigError>(Some((p, text)))
    };
    // --keymap, else the file's `keymap`, else keymap.toml beside the config file (where the
    // shipped keymap tells users to put their changes).
    let keymap_text = match named("keymap", &o.keymap, &cf.keymap)? {
        Some(named) => Some(named),
        None => match o
            .config
            .clone()
            .or_else(default_config_path)
            .map(|c| c.with_file_name("keymap.toml"))
            .filter(|p| p.exists())
        {
            Some(p) => {
                let text = read(&p)?;
                Some((p, text))
            }
            None => None,
        },
    };
    let keymap = match keymap_text {
        Some((p, text)) => Keymap::load(Some((&p.display().to_string(), &text)))?,
        None => Keymap::default_keymap()?,
    };
    let theme = match named("theme", &o.theme, &cf.theme)? {
        Some((p, text)) => parse_theme(&p.display().to_string(), &text)?,
        None => ThemeColors::default(),
    };
    Ok((keymap, theme))
}

/// Builds the configuration. `env_uri` is `$LIBVIRT_DEFAULT_URI`, `no_color_env` whether
/// `NO_COLOR` is set.
///
/// # Errors
/// See [`ConfigError`].
pub fn load(
    o: &Overrides,
    env_uri: Option<&str>,
    no_color_env: bool,
) -> Result<Config, ConfigError> {
    let (file, file_name) = match &o.config {
        Some(p) => (Some(read(p)?), p.display().to_string()),
        None => match default_config_path().filter(|p| p.exists()) {
            Some(p) => (Some(read(&p)?), p.display().to_string()),
            None => (None, String::new()),
        },
    };
    let cf: ConfigFile = match file {
        Some(text) => toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: file_name.clone(),
            message: plain_types(e.to_string().trim()),
        })?,
        None => ConfigFile::default(),
    };
    let uris = super::uri::uris(o, &cf, &file_name, env_uri)?;
    let dur = |flag: (&str, &Option<String>),
               key: (&str, &Option<String>),
               default: Duration,
               min: u64,
               max: u64| {
        let (origin, value) = match (flag.1, key.1) {
            (Some(v), _) => (format!("--{}", flag.0), v.clone()),
            (None, Some(v)) => (format!("{file_name}: {}", key.0), v.clone()),
            (None, None) => return Ok(default),
        };
        parse_duration(&value, Duration::from_secs(min), Duration::from_secs(max))
            .map_err(|message| ConfigError::Value { origin, message })
    };
    let shutdown_timeout = dur(
        ("shutdown-timeout", &o.shutdown_timeout),
        ("shutdown_timeout", &cf.shutdown_timeout),
        Duration::from_secs(60),
        1,
        3600,
    )?;
    let poll_interval = dur(
        ("interval", &o.interval),
        ("poll_interval", &cf.poll_interval),
        Duration::from_secs(5),
        1,
        60,
    )?;
    let (keymap, theme) = keymap_and_theme(o, &cf, &file_name)?;
    let monitor_interval = dur(
        ("monitor-interval", &None),
        ("monitor_interval", &cf.monitor_interval),
        Duration::from_secs(30),
        5,
        600,
    )?;
    let (history_path, retention) = history(o, &cf, &file_name)?;
    let analysis = super::analysis::analysis(&cf, &file_name)?;
    rightsize_fits_minute_tier(&analysis, &retention, &file_name)?;
    Ok(Config {
        analysis,
        monitor_interval,
        history_path,
        retention,
        uris,
        read_only: o.read_only || cf.read_only.unwrap_or(false),
        shutdown_timeout,
        poll_interval,
        keymap,
        theme,
        color: !(o.no_color || no_color_env),
    })
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
