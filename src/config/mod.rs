//! Configuration in three layers: file types (serde, unknown keys rejected) → validated
//! [`Config`] → what the app and render read. CLI flag > config file > built-in default.

pub mod analysis;
pub mod file;
pub mod keymap;
pub mod theme;
pub mod uri;
pub mod validate;

pub use keymap::{Key, KeyCode, Keymap};
pub use validate::{load, Config, ConfigError, Overrides};
