//! Tests of building the configuration from flags, the config file and the environment.

use super::*;
use std::io::Write;

#[test]
fn a_range_error_writes_its_bounds_as_a_user_would() {
    let day = Duration::from_secs(86_400);
    let e = parse_duration("100d", Duration::from_secs(3_600), day * 90).unwrap_err();
    assert_eq!(e, "\"100d\" is out of range; allowed 1h to 90d");
    let e = parse_duration("0", Duration::from_secs(1), day * 400).unwrap_err();
    assert_eq!(e, "\"0\" is out of range; allowed 1s to 400d");
    let e = parse_duration("1s", Duration::from_secs(300), Duration::from_secs(90)).unwrap_err();
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
        e.contains(&f.path().display().to_string()) && e.contains("90s") && e.contains("1s to 1m"),
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
fn history_on_the_command_line_wins_over_the_file_and_an_empty_path_is_refused() {
    let (_f, o) = with_file("[history]\nenabled = false\n");
    assert_eq!(load(&o, None, false).unwrap().history_path, None);
    let o2 = Overrides {
        history: Some("/cli/h".into()),
        ..o
    };
    assert_eq!(
        load(&o2, None, false).unwrap().history_path,
        Some(PathBuf::from("/cli/h"))
    );
    // Off, an empty path is no matter.
    let (_f, o) = with_file("[history]\nenabled = false\npath = \"\"\n");
    assert_eq!(load(&o, None, false).unwrap().history_path, None);
    let (f, o) = with_file("[history]\npath = \"\"\n");
    let e = load(&o, None, false).unwrap_err().to_string();
    assert!(
        e.contains(&f.path().display().to_string()) && e.contains("history.path: is empty"),
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

#[test]
fn a_value_of_the_wrong_type_is_named_in_the_files_terms() {
    for (text, plain) in [
        ("[capacity]\nthreshold = \"90%\"\n", "expected a number"),
        (
            "[capacity]\nvm_vcpus = -1\n",
            "a whole number, not negative",
        ),
        ("capacity = 5\n", "expected a [capacity] table"),
        ("capacity = [1, 2]\n", "expected a [capacity] table"),
        ("capacity = [1]\n", "expected a [capacity] table"),
        ("prices = { instance_type = [5] }\n", "expected a table"),
        (
            "[capacity]\nvm_vcpus = 99999999999999999999\n",
            "(too large)",
        ),
    ] {
        let (_f, o) = with_file(text);
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains(plain)
                && !e.contains("f64")
                && !e.contains("struct")
                && !e.contains("elements")
                && !e.contains("i128")
                && !e.contains("invalid length")
                && !e.contains("instancetype"),
            "{e}"
        );
    }
}

#[test]
fn a_daemon_named_twice_in_two_spellings_is_one_host() {
    let o = Overrides {
        connect: vec!["qemu:///system".into(), "qemu:///%73ystem".into()],
        ..Overrides::default()
    };
    assert_eq!(load(&o, None, false).unwrap().uris, ["qemu:///system"]);
}

#[test]
fn an_empty_keymap_or_theme_is_refused_naming_the_key() {
    for key in ["keymap", "theme"] {
        let (f, o) = with_file(&format!("{key} = \"\"\n"));
        let e = load(&o, None, false).unwrap_err().to_string();
        assert!(
            e.contains(&f.path().display().to_string()) && e.contains(&format!("{key}: is empty")),
            "{e}"
        );
    }
}
