//! Terminal key events → messages: overlay input when an overlay owns the keyboard, otherwise
//! the keymap's action.

use crossterm::event::{KeyCode as CtKey, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{InputKey, Msg, State};
use crate::config::{Key, KeyCode, Keymap};

/// Converts a crossterm key to the keymap's key type.
#[must_use]
pub fn to_key(ev: &KeyEvent) -> Option<Key> {
    let code = match ev.code {
        CtKey::Char(c) => KeyCode::Char(c),
        CtKey::Up => KeyCode::Up,
        CtKey::Down => KeyCode::Down,
        CtKey::Left => KeyCode::Left,
        CtKey::Right => KeyCode::Right,
        CtKey::PageUp => KeyCode::PageUp,
        CtKey::PageDown => KeyCode::PageDown,
        CtKey::Home => KeyCode::Home,
        CtKey::End => KeyCode::End,
        CtKey::Enter => KeyCode::Enter,
        CtKey::Esc => KeyCode::Esc,
        CtKey::Tab => KeyCode::Tab,
        CtKey::Backspace => KeyCode::Backspace,
        CtKey::Delete => KeyCode::Delete,
        CtKey::F(n) => KeyCode::F(n),
        _ => return None,
    };
    Some(Key {
        code,
        ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        alt: ev.modifiers.contains(KeyModifiers::ALT),
    })
}

/// The message for a key press in the current state, if any.
#[must_use]
pub fn translate(keymap: &Keymap, state: &State, ev: &KeyEvent) -> Option<Msg> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let key = to_key(ev)?;
    if state.view.overlay.is_some() {
        if key.ctrl && key.code == KeyCode::Char('c') {
            return Some(Msg::Input(InputKey::Esc));
        }
        let k = match key.code {
            KeyCode::Char(c) => InputKey::Char(c),
            KeyCode::Backspace => InputKey::Backspace,
            KeyCode::Enter => InputKey::Enter,
            KeyCode::Esc => InputKey::Esc,
            KeyCode::Tab => InputKey::Tab,
            _ => return None,
        };
        return Some(Msg::Input(k));
    }
    keymap.action(&key).map(Msg::Action)
}
