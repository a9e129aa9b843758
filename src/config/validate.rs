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

/// Where history lives (None: memory only) and how long each tier is kept.
fn history(
    o: &Overrides,
    cf: &ConfigFile,
    file_name: &str,
) -> Result<(Option<PathBuf>, crate::store::Retention), ConfigError> {
    let hf = cf.history.clone().unwrap_or_default();
    let path = if o.no_history || hf.enabled == Some(false) {
        None
    } else {
        o.history
            .clone()
            .or_else(|| hf.path.as_deref().map(|p| config_path(p, file_name)))
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
            message: e.to_string().trim().to_string(),
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
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_range_error_writes_its_bounds_as_a_user_would() {
        let day = Duration::from_secs(86_400);
        let e = parse_duration("100d", Duration::from_secs(3_600), day * 90).unwrap_err();
        assert_eq!(e, "\"100d\" is out of range; allowed 1h to 90d");
        let e = parse_duration("0", Duration::from_secs(1), day * 400).unwrap_err();
        assert_eq!(e, "\"0\" is out of range; allowed 1s to 400d");
        let e =
            parse_duration("1s", Duration::from_secs(300), Duration::from_secs(90)).unwrap_err();
        assert!(e.ends_with("allowed 5m to 90s"), "{e}");
    }

    #[test]
    fn a_bad_duration_lists_the_units_and_the_range() {
        let (lo, hi) = (Duration::from_secs(1), Duration::from_secs(400 * 86_400));
        let e = parse_duration("10x", lo, hi).unwrap_err();
        assert!(e.starts_with("\"10x\" is not a duration; write a number and a unit: s, m"));
        assert!(e.ends_with("; allowed 1s to 400d"), "{e}");
        let e = parse_duration("-5m", lo, hi).unwrap_err();
        assert_eq!(e, "\"-5m\" is negative; allowed 1s to 400d");
        assert_eq!(parse_duration("90", lo, hi), Ok(Duration::from_secs(90)));
        assert_eq!(
            parse_duration(" 1h 30m ", lo, hi),
            Ok(Duration::from_secs(5400))
        );
    }

    fn with_file(text: &str) -> (tempfile::NamedTempFile, Overrides) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let o = Overrides {
            config: Some(f.path().to_path_buf()),
            ..Overrides::default()
        };
        (f, o)
    }

    #[test]
    fn cli_beats_file_beats_env_beats_default() {
        let (_f, mut o) = with_file("connect = [\"test:///default\"]\nshutdown_timeout = \"2m\"\n");
        let c = load(&o, Some("qemu:///session"), false).unwrap();
        assert_eq!(c.uris, vec!["test:///default"]);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(120));
        o.connect = vec!["qemu:///system".into()];
        o.shutdown_timeout = Some("5s".into());
        let c = load(&o, None, false).unwrap();
        assert_eq!(c.uris, vec!["qemu:///system"]);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(5));
        let (_g, o) = with_file("");
        assert_eq!(
            load(&o, Some("qemu:///session"), false).unwrap().uris,
            vec!["qemu:///session"]
        );
        assert_eq!(load(&o, None, true).unwrap().uris, vec!["qemu:///system"]);
        assert!(!load(&o, None, true).unwrap().color);
    }

    #[test]
    fn a_bad_env_uri_names_the_variable_and_a_repeated_uri_is_one_host() {
        let (_f, mut o) = with_file("");
        let e = load(&o, Some("bogus"), false).unwrap_err().to_string();
        assert!(
            e.contains("$LIBVIRT_DEFAULT_URI") && e.contains("\"bogus\""),
            "{e}"
        );
        o.connect = vec![
            "test:///default".into(),
            "qemu:///system".into(),
            "test:///default".into(),
        ];
        let c = load(&o, None, false).unwrap();
        assert_eq!(c.uris, vec!["test:///default", "qemu:///system"]);
    }

    #[test]
    fn config_paths_start_at_home_and_keymap_toml_beside_the_config_is_read() {
        assert_eq!(
            home_path("~/hist"),
            PathBuf::from(std::env::var("HOME").unwrap()).join("hist")
        );
        assert_eq!(home_path("/abs/~/x"), PathBuf::from("/abs/~/x"));
        assert_eq!(home_path("rel"), PathBuf::from("rel"));
        // Relative to the config file, wherever novacron is started from.
        assert_eq!(
            config_path("mytheme.toml", "/etc/novacron/config.toml"),
            PathBuf::from("/etc/novacron/mytheme.toml")
        );
        assert_eq!(
            config_path("/abs/t.toml", "/etc/n/config.toml"),
            PathBuf::from("/abs/t.toml")
        );
        assert_eq!(config_path("rel", ""), PathBuf::from("rel"));
    }

    #[test]
    fn an_empty_connect_list_is_refused_not_read_as_the_default() {
        let (_f, o) = with_file("connect = []\n");
        let e = load(&o, Some("qemu:///system"), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("connect") && e.contains("is empty"), "{e}");
        // -c on the command line still wins over the file.
        let o = Overrides {
            connect: vec!["test:///default".into()],
            ..o
        };
        assert_eq!(load(&o, None, false).unwrap().uris, vec!["test:///default"]);
    }

    #[test]
    fn a_coarser_tier_kept_less_long_than_a_finer_one_is_refused() {
        let (_f, o) = with_file("[history]\nraw_retention = \"48h\"\nminute_retention = \"1h\"\n");
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains("history.minute_retention") && e.contains("shorter than raw_retention"),
            "{e}"
        );
    }

    #[test]
    fn unknown_key_names_the_file_and_key() {
        let (f, o) = with_file("conect = [\"qemu:///system\"]\n");
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains(&f.path().display().to_string()) && e.contains("conect"),
            "{e}"
        );
    }

    #[test]
    fn an_unreadable_keymap_or_theme_names_the_key_or_flag_that_named_it() {
        let (f, o) = with_file("keymap = \"/nonexistent/keymap.toml\"\n");
        let e = load(&o, None, false).unwrap_err().to_string();
        let want = format!(
            "{}: keymap: cannot read /nonexistent/keymap.toml",
            f.path().display()
        );
        assert!(e.starts_with(&want), "{e}");
        let o = Overrides {
            theme: Some("/nonexistent/theme.toml".into()),
            ..Overrides::default()
        };
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.starts_with("--theme: cannot read /nonexistent/theme.toml"),
            "{e}"
        );
    }

    #[test]
    fn a_bare_number_is_seconds_and_one_uri_is_a_list() {
        let (_f, o) = with_file("connect = \"test:///default\"\npoll_interval = 5\n");
        let c = load(&o, None, false).unwrap();
        assert_eq!(c.uris, vec!["test:///default"]);
        assert_eq!(c.poll_interval, Duration::from_secs(5));
        let (_f, o) = with_file("connect = 5\n");
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains("connect") && e.contains("a URI or a list of URIs"),
            "{e}"
        );
        let (_f, o) = with_file("poll_interval = true\n");
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(e.contains("poll_interval") && e.contains("\"90s\""), "{e}");
    }

    #[test]
    fn bad_values_name_origin_value_and_range() {
        let (f, o) = with_file("poll_interval = \"90s\"\n");
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains(&f.path().display().to_string())
                && e.contains("90s")
                && e.contains("1s to 1m"),
            "{e}"
        );
        let o = Overrides {
            connect: vec!["localhost".into()],
            ..Overrides::default()
        };
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains("--connect") && e.contains("\"localhost\"") && e.contains("qemu:///system"),
            "{e}"
        );
        let o = Overrides {
            shutdown_timeout: Some("soon".into()),
            ..Overrides::default()
        };
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains("--shutdown-timeout") && e.contains("\"soon\""),
            "{e}"
        );
    }

    #[test]
    fn the_rightsize_window_must_fit_in_the_minute_tier() {
        let (_f, o) =
            with_file("[history]\nminute_retention = \"30d\"\n[rightsize]\nwindow = \"45d\"\n");
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains("rightsize.window") && e.contains("45d") && e.contains("30d"),
            "{e}"
        );
        let (_f, o) =
            with_file("[history]\nminute_retention = \"60d\"\n[rightsize]\nwindow = \"45d\"\n");
        assert!(load(&o, None, false).is_ok());
    }

    #[test]
    fn history_location_and_retention() {
        let (_f, o) = with_file("[history]\npath = \"/data/h\"\nraw_retention = \"12h\"\n");
        let c = load(&o, None, false).unwrap();
        assert_eq!(c.history_path, Some(PathBuf::from("/data/h")));
        assert_eq!(c.retention.raw, Duration::from_secs(12 * 3600));
        let o2 = Overrides {
            history: Some("/cli/h".into()),
            ..o.clone()
        };
        assert_eq!(
            load(&o2, None, false).unwrap().history_path,
            Some(PathBuf::from("/cli/h"))
        );
        let o3 = Overrides {
            no_history: true,
            ..o
        };
        assert_eq!(load(&o3, None, false).unwrap().history_path, None);
        let (f, o) = with_file("[history]\nraw_retention = \"1s\"\n");
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains(&f.path().display().to_string())
                && e.contains("history.raw_retention")
                && e.contains("\"1s\""),
            "{e}"
        );
        let (_f, o) = with_file("[history]\nretention = \"1d\"\n");
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains("unknown field") && e.contains("retention"),
            "{e}"
        );
    }

    #[test]
    fn missing_explicit_config_file_is_an_error_naming_it() {
        let o = Overrides {
            config: Some("/nonexistent/novacron.toml".into()),
            ..Overrides::default()
        };
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/novacron.toml"), "{e}");
    }
}
