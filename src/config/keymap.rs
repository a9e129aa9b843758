//! Keymaps: TOML files mapping action names to key strings. The shipped default is
//! `keymaps/default.toml`, embedded in the binary; a user file overrides actions it names.
//!
//! Unknown action names, bad key strings and a key bound to two actions are errors that name
//! the file, the key and the valid choices.

use std::collections::BTreeMap;
use std::fmt;

use crate::app::Action;

/// The shipped keymap, embedded so the binary works without files.
pub const DEFAULT_KEYMAP: &str = include_str!("../../keymaps/default.toml");

/// A key without terminal-library types: a code plus ctrl/alt modifiers. Shift is folded into
/// the character (`S` is shift-s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    Char(char),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    Esc,
    Tab,
    Backspace,
    Delete,
    F(u8),
}

const NAMED: [(&str, KeyCode); 13] = [
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
];

impl Key {
    #[must_use]
    pub fn plain(code: KeyCode) -> Self {
        Self {
            code,
            ctrl: false,
            alt: false,
        }
    }

    /// Parses "j", "S", "ctrl-c", "alt-x", "pgdn", "space", "f1", "<".
    ///
    /// # Errors
    /// A description of what is allowed.
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut key = Key::plain(KeyCode::Esc);
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                key.ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                key.alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        key.code = match (chars.next(), chars.next()) {
            // Terminals send ctrl with a letter only, and ctrl-i/ctrl-m/ctrl-[ as tab,
            // enter and esc: a binding the terminal can never send is refused.
            (Some(c), None) if key.ctrl && !c.is_ascii_lowercase() => {
                return Err(format!(
                    "{s:?} cannot be typed: a terminal sends ctrl- with a lowercase letter only{}",
                    if c.is_ascii_uppercase() {
                        format!(" (write ctrl-{})", c.to_ascii_lowercase())
                    } else {
                        String::new()
                    }
                ));
            }
            (Some(c @ ('i' | 'm')), None) if key.ctrl && !key.alt => {
                return Err(format!(
                    "{s:?} arrives as {}; bind {} instead",
                    if c == 'i' { "tab" } else { "enter" },
                    if c == 'i' { "tab" } else { "enter" }
                ));
            }
            // Many terminals send ^H for the Backspace key: a binding would fire on it.
            (Some('h'), None) if key.ctrl && !key.alt => {
                return Err(format!(
                    "{s:?} is what many terminals send for backspace; bind another key"
                ));
            }
            (Some(c), None) => KeyCode::Char(c),
            _ if rest == "space" => KeyCode::Char(' '),
            _ => {
                if let Some(n) = rest.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    if (1..=12).contains(&n) {
                        KeyCode::F(n)
                    } else {
                        return Err(format!("function key {rest:?} out of range f1..f12"));
                    }
                } else if let Some((_, c)) = NAMED.iter().find(|(n, _)| *n == rest) {
                    *c
                } else {
                    return Err(format!(
                        "unknown key {s:?}; use a single character, space, f1..f12, {}, optionally prefixed by ctrl- or alt-",
                        NAMED.map(|(n, _)| n).join(", ")
                    ));
                }
            }
        };
        Ok(key)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => {
                let name = NAMED
                    .iter()
                    .find(|(_, c)| *c == code)
                    .map_or("?", |(n, _)| n);
                f.write_str(name)
            }
        }
    }
}

/// A keymap error, naming the file and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: unknown action {action:?}; valid actions: {valid}")]
    UnknownAction {
        file: String,
        action: String,
        valid: String,
    },
    #[error("{file}: action {action:?}: {message}")]
    BadKey {
        file: String,
        action: String,
        message: String,
    },
    #[error(
        "{file}: key {key:?} is bound to both {first:?} and {second:?}; bind each key once{hint}"
    )]
    Duplicate {
        file: String,
        key: String,
        first: String,
        second: String,
        /// How to free a key a default binding holds (a default added in a later release).
        hint: String,
    },
}

/// Key → action, plus action → keys for help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    by_key: BTreeMap<Key, Action>,
    by_action: BTreeMap<Action, Vec<Key>>,
}

fn parse_raw(file: &str, text: &str) -> Result<BTreeMap<Action, Vec<Key>>, KeymapError> {
    let raw: toml::Table = toml::from_str(text).map_err(|e| KeymapError::Syntax {
        file: file.to_string(),
        message: e.to_string().trim().to_string(),
    })?;
    let mut out = BTreeMap::new();
    for (name, value) in raw {
        // Each action takes a list of key strings: say so for the action, not in serde's words.
        let keys: Vec<String> = match &value {
            toml::Value::Array(items) if items.iter().all(toml::Value::is_str) => items
                .iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect(),
            other => {
                return Err(KeymapError::BadKey {
                    file: file.to_string(),
                    action: name.clone(),
                    message: format!(
                        "expected a list of key strings, such as {name} = [\"q\", \"ctrl-x\"]; \
                         found {} {other}",
                        other.type_str()
                    ),
                })
            }
        };
        let action = Action::from_name(&name).ok_or_else(|| KeymapError::UnknownAction {
            file: file.to_string(),
            action: name.clone(),
            valid: Action::ALL.map(Action::name).join(", "),
        })?;
        let keys = keys
            .iter()
            .map(|k| Key::parse(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| KeymapError::BadKey {
                file: file.to_string(),
                action: name.clone(),
                message,
            })?;
        out.insert(action, keys);
    }
    Ok(out)
}

impl Keymap {
    /// The embedded default keymap.
    ///
    /// # Errors
    /// Only if the shipped file is broken, which a test rules out.
    pub fn default_keymap() -> Result<Keymap, KeymapError> {
        Self::load(None)
    }

    /// The default keymap with `user` (file name, contents) applied on top: each action the
    /// user file names gets exactly the keys listed there.
    ///
    /// # Errors
    /// See [`KeymapError`].
    pub fn load(user: Option<(&str, &str)>) -> Result<Keymap, KeymapError> {
        let mut by_action = parse_raw("keymaps/default.toml (built in)", DEFAULT_KEYMAP)?;
        let mut mine = Vec::new();
        let file = match user {
            Some((file, text)) => {
                let user_map = parse_raw(file, text)?;
                mine.extend(user_map.keys().copied());
                by_action.extend(user_map);
                file
            }
            None => "keymaps/default.toml (built in)",
        };
        let mut by_key = BTreeMap::new();
        for (action, keys) in &by_action {
            for k in keys {
                if let Some(prev) = by_key.insert(*k, *action) {
                    // One side is a default the file does not name: say how to free the key.
                    let hint = [prev, *action]
                        .into_iter()
                        .find(|a| !mine.is_empty() && !mine.contains(a))
                        .map_or_else(String::new, |a| {
                            format!(
                                " (\"{k}\" is {}'s by default: give it another key in this \
                                 file, or none with {} = [])",
                                a.name(),
                                a.name()
                            )
                        });
                    return Err(KeymapError::Duplicate {
                        file: file.to_string(),
                        key: k.to_string(),
                        first: prev.name().to_string(),
                        second: action.name().to_string(),
                        hint,
                    });
                }
            }
        }
        // Keys that answer a confirmation must not also start what it confirms, and the way
        // out must stay.
        for (action, k) in [(Action::Destroy, 'y'), (Action::Reset, 'y')] {
            for c in [k, k.to_ascii_uppercase(), 'n', 'N'] {
                if by_action
                    .get(&action)
                    .is_some_and(|ks| ks.contains(&Key::plain(KeyCode::Char(c))))
                {
                    return Err(KeymapError::BadKey {
                        file: file.to_string(),
                        action: action.name().to_string(),
                        message: format!("{c:?} answers its own confirmation; bind another key"),
                    });
                }
            }
        }
        for action in [Action::Quit, Action::Back] {
            if by_action.get(&action).is_none_or(Vec::is_empty) {
                return Err(KeymapError::BadKey {
                    file: file.to_string(),
                    action: action.name().to_string(),
                    message: "needs at least one key".into(),
                });
            }
        }
        Ok(Keymap { by_key, by_action })
    }

    #[must_use]
    pub fn action(&self, key: &Key) -> Option<Action> {
        self.by_key.get(key).copied()
    }

    /// The keys bound to `action`, as written in keymap files.
    #[must_use]
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        self.by_action
            .get(&action)
            .map(|ks| ks.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    /// Lines for `?` and `--help`, in the order of [`Action::ALL`].
    #[must_use]
    pub fn help_lines(&self) -> Vec<crate::app::state::HelpLine> {
        Action::ALL
            .into_iter()
            .filter(|a| self.by_action.get(a).is_some_and(|k| !k.is_empty()))
            .map(|a| crate::app::state::HelpLine {
                keys: self.keys_for(a).join(" "),
                action: a.name().to_string(),
                description: a.description().to_string(),
            })
            .collect()
    }

    /// The help as plain text, for `novacron --help`.
    #[must_use]
    pub fn help_text(&self) -> String {
        let lines = self.help_lines();
        let w = lines.iter().map(|l| l.keys.len()).max().unwrap_or(0);
        lines
            .iter()
            .map(|l| format!("  {:w$}  {}", l.keys, l.description))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test]
    fn shipped_keymap_binds_every_action_once() {
        let km = Keymap::default_keymap().unwrap();
        for a in Action::ALL {
            assert!(!km.keys_for(a).is_empty(), "{} has no key", a.name());
        }
        assert_eq!(km.action(&Key::parse("S").unwrap()), Some(Action::Shutdown));
        assert_eq!(
            km.action(&Key::parse("ctrl-c").unwrap()),
            Some(Action::Quit)
        );
    }

    #[test]
    fn the_readme_key_table_is_the_help() {
        let readme = include_str!("../../README.md");
        let start = readme.find("| keys | action |").unwrap();
        let table: Vec<&str> = readme[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        let help: Vec<String> = Keymap::default_keymap()
            .unwrap()
            .help_lines()
            .iter()
            .map(|l| {
                let keys: Vec<String> = l.keys.split(' ').map(|k| format!("`{k}`")).collect();
                format!("| {} | {} |", keys.join(" "), l.description)
            })
            .collect();
        assert_eq!(table, help, "README's key table must be `?` as it is");
    }

    #[test_case("ctrl-c", "ctrl-c" ; "ctrl")]
    #[test_case("pgdn", "pgdn" ; "named")]
    #[test_case("space", "space" ; "space")]
    #[test_case("<", "<" ; "punctuation")]
    #[test_case("f5", "f5" ; "function")]
    fn keys_round_trip(s: &str, shown: &str) {
        assert_eq!(Key::parse(s).unwrap().to_string(), shown);
    }

    #[test_case("ctrl-", "unknown key" ; "empty after modifier")]
    #[test_case("f13", "out of range" ; "function key range")]
    #[test_case("hyper-x", "unknown key \"hyper-x\"" ; "unknown modifier")]
    fn bad_keys_explain_themselves(s: &str, fragment: &str) {
        let e = Key::parse(s).unwrap_err();
        assert!(e.contains(fragment), "{e}");
    }

    #[test]
    fn user_file_errors_name_file_key_and_choices() {
        let e = Keymap::load(Some(("my.toml", "explode = [\"x\"]")))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("my.toml") && e.contains("\"explode\"") && e.contains("toggle_suspend"),
            "{e}"
        );
        let e = Keymap::load(Some(("my.toml", "start = [\"j\"]")))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("my.toml") && e.contains("\"j\"") && e.contains("down"),
            "{e}"
        );
        // A key a default holds (one added in a later release, say): how to free it.
        let e = Keymap::load(Some(("my.toml", "zoom_out = [\"ctrl-z\"]")))
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(
                "(\"ctrl-z\" is background's by default: give it another key in this \
                 file, or none with background = [])"
            ),
            "{e}"
        );
        Keymap::load(Some((
            "my.toml",
            "zoom_out = [\"ctrl-z\"]\nbackground = []",
        )))
        .unwrap();
        let e = Keymap::load(Some(("my.toml", "start = [\"megakey\"]")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("my.toml") && e.contains("megakey"), "{e}");
        // A value of the wrong type names its action and the form it takes.
        for bad in [
            "start = \"s\"",
            "start = 5",
            "[start]\nkey = \"s\"",
            "start = [5]",
        ] {
            let e = Keymap::load(Some(("my.toml", bad)))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("my.toml")
                    && e.contains("action \"start\"")
                    && e.contains("start = [\"q\", \"ctrl-x\"]"),
                "{bad}: {e}"
            );
        }
        let e = Keymap::load(Some(("my.toml", "start = [\"s\"")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("my.toml") && e.contains("line 1"), "{e}");
    }

    #[test_case("reset = [\"ctrl-Q\"]", "write ctrl-q" ; "uppercase after ctrl")]
    #[test_case("freeze = [\"ctrl-m\"]", "arrives as enter" ; "ctrl-m is enter")]
    #[test_case("freeze = [\"ctrl-1\"]", "cannot be typed" ; "ctrl with a digit")]
    #[test_case("quit = [\"ctrl-h\"]", "send for backspace" ; "ctrl-h is backspace")]
    #[test_case("destroy = [\"y\"]", "answers its own confirmation" ; "destroy on y")]
    #[test_case("quit = []", "needs at least one key" ; "no way out")]
    fn user_file_keys_a_terminal_cannot_send_or_that_are_unsafe_are_refused(
        text: &str,
        says: &str,
    ) {
        let e = Keymap::load(Some(("my.toml", text)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("my.toml") && e.contains(says), "{e}");
    }

    #[test]
    fn user_file_rebinds_an_action() {
        let km = Keymap::load(Some(("my.toml", "start = [\"x\"]"))).unwrap();
        assert_eq!(km.action(&Key::parse("x").unwrap()), Some(Action::Start));
        assert_eq!(km.action(&Key::parse("s").unwrap()), None);
    }
}
