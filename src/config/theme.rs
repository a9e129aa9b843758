//! Theme files: named colours for each role the UI draws. The shipped default is
//! `themes/default.toml`, embedded; a test asserts it equals [`ThemeColors::default`].

use serde::Deserialize;

/// The shipped theme.
pub const DEFAULT_THEME: &str = include_str!("../../themes/default.toml");

/// The 16 ANSI colour names (plus "reset") a theme may use.
pub const COLOR_NAMES: [&str; 17] = [
    "reset",
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "gray",
    "darkgray",
    "lightred",
    "lightgreen",
    "lightyellow",
    "lightblue",
    "lightmagenta",
    "lightcyan",
    "white",
];

/// Colour names per UI role, as in the theme file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThemeColors {
    pub text: String,
    pub dim: String,
    pub accent: String,
    pub border: String,
    pub title: String,
    pub selected_fg: String,
    pub selected_bg: String,
    pub running: String,
    pub paused: String,
    pub stopped: String,
    pub crashed: String,
    pub pending: String,
    pub ok: String,
    pub error: String,
    pub warning: String,
}

impl Default for ThemeColors {
    fn default() -> Self {
        let s = |v: &str| v.to_string();
        Self {
            text: s("reset"),
            dim: s("darkgray"),
            accent: s("cyan"),
            border: s("darkgray"),
            title: s("white"),
            selected_fg: s("black"),
            selected_bg: s("cyan"),
            running: s("green"),
            paused: s("yellow"),
            stopped: s("darkgray"),
            crashed: s("red"),
            pending: s("yellow"),
            ok: s("green"),
            error: s("lightred"),
            warning: s("yellow"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    colors: ThemeColors,
}

/// A theme file that cannot be used, naming the file, the field and the allowed values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ThemeError {
    pub file: String,
    pub message: String,
}

/// Parses and validates a theme file.
///
/// # Errors
/// Bad TOML, unknown or missing fields, or a colour name outside [`COLOR_NAMES`].
pub fn parse_theme(file: &str, text: &str) -> Result<ThemeColors, ThemeError> {
    // The whole message: it shows the line, so a wrong type names its key.
    let t: ThemeFile = toml::from_str(text).map_err(|e| ThemeError {
        file: file.to_string(),
        message: e.to_string().trim().to_string(),
    })?;
    let c = &t.colors;
    let fields = [
        ("text", &c.text),
        ("dim", &c.dim),
        ("accent", &c.accent),
        ("border", &c.border),
        ("title", &c.title),
        ("selected_fg", &c.selected_fg),
        ("selected_bg", &c.selected_bg),
        ("running", &c.running),
        ("paused", &c.paused),
        ("stopped", &c.stopped),
        ("crashed", &c.crashed),
        ("pending", &c.pending),
        ("ok", &c.ok),
        ("error", &c.error),
        ("warning", &c.warning),
    ];
    for (field, value) in fields {
        if !COLOR_NAMES.contains(&value.as_str()) {
            return Err(ThemeError {
                file: file.to_string(),
                message: format!(
                    "colors.{field} = {value:?} is not a colour; use one of: {}",
                    COLOR_NAMES.join(", ")
                ),
            });
        }
    }
    Ok(t.colors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_theme_file_equals_the_default() {
        assert_eq!(
            parse_theme("themes/default.toml", DEFAULT_THEME).unwrap(),
            ThemeColors::default()
        );
    }

    #[test]
    fn bad_colour_names_the_field_and_choices() {
        let bad = DEFAULT_THEME.replace("accent = \"cyan\"", "accent = \"puce\"");
        let e = parse_theme("mine.toml", &bad).unwrap_err().to_string();
        assert!(
            e.contains("mine.toml")
                && e.contains("colors.accent")
                && e.contains("\"puce\"")
                && e.contains("lightcyan"),
            "{e}"
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let bad = DEFAULT_THEME.replace("[colors]", "[colors]\nsparkle = \"red\"");
        let e = parse_theme("mine.toml", &bad).unwrap_err().to_string();
        assert!(e.contains("sparkle"), "{e}");
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_key() {
        let bad = DEFAULT_THEME.replace("border = ", "border = 5 #");
        let e = parse_theme("mine.toml", &bad).unwrap_err().to_string();
        assert!(
            e.contains("mine.toml") && e.contains("border = 5") && e.contains("expected a string"),
            "{e}"
        );
    }
}
