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
            // The readline keys a shell user types without thinking; other ctrl and alt
            // chords are not text.
            KeyCode::Char('u') if key.ctrl => InputKey::ClearLine,
            KeyCode::Char('w') if key.ctrl => InputKey::DeleteWord,
            KeyCode::Char('h') if key.ctrl => InputKey::Backspace,
            KeyCode::Char(_) if key.ctrl || key.alt => return None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{state, T0};
    use crate::app::{update, Action};

    fn press(c: char, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(CtKey::Char(c), mods)
    }

    #[test]
    fn ctrl_chords_edit_the_line_instead_of_typing_letters() {
        let keymap = Keymap::default_keymap().unwrap();
        let mut s = state();
        update(&mut s, Msg::Action(Action::Filter), T0);
        for c in "web 1".chars() {
            let m = translate(&keymap, &s, &press(c, KeyModifiers::NONE)).unwrap();
            update(&mut s, m, T0);
        }
        let ctrl =
            |s: &crate::app::State, c| translate(&keymap, s, &press(c, KeyModifiers::CONTROL));
        assert_eq!(ctrl(&s, 'w'), Some(Msg::Input(InputKey::DeleteWord)));
        let m = ctrl(&s, 'w').unwrap();
        update(&mut s, m, T0);
        assert_eq!(s.view.filter, "web ");
        assert_eq!(ctrl(&s, 'h'), Some(Msg::Input(InputKey::Backspace)));
        assert_eq!(ctrl(&s, 'x'), None, "no stray x in the filter");
        assert_eq!(translate(&keymap, &s, &press('b', KeyModifiers::ALT)), None);
        let m = ctrl(&s, 'u').unwrap();
        update(&mut s, m, T0);
        assert_eq!(s.view.filter, "");
    }
}
