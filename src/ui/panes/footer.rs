//! The bottom line: a flash message, the open input line, or key hints from the keymap.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::state::Overlay;
use crate::app::State;
use crate::ui::theme::Theme;

/// Operations, hidden from a read-only console's hints (it cannot run them).
const OPS: [(&str, &str); 5] = [
    ("start", "start"),
    ("shutdown", "shut"),
    ("reboot", "reboot"),
    ("toggle_suspend", "pause"),
    ("destroy", "destroy"),
];

/// The other hints, after the operations.
const HINTS: [(&str, &str); 4] = [
    ("filter", "filter"),
    ("palette", "cmd"),
    ("help", "help"),
    ("quit", "quit"),
];

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let line = match &state.view.overlay {
        Some(Overlay::Filter { buf }) => Line::from(vec![
            Span::styled("/", theme.accent),
            Span::raw(buf.clone()),
            Span::styled("█", theme.accent),
            Span::styled("   enter keep · esc clear · !text inverts", theme.dim),
        ]),
        Some(Overlay::Palette { buf, .. }) => Line::from(vec![
            Span::styled(":", theme.accent),
            Span::raw(buf.clone()),
            Span::styled("█", theme.accent),
            Span::styled("   tab complete · enter run · esc cancel", theme.dim),
        ]),
        _ => {
            if let Some(fl) = &state.flash {
                Line::from(Span::styled(
                    crate::ui::format::fit(&fl.text, area.width),
                    if fl.error { theme.error } else { theme.ok },
                ))
            } else {
                let mut spans = Vec::new();
                let read_only = state.settings.read_only;
                // Operations only where the reducer runs them.
                let ops = if read_only || !state.vm_in_view() {
                    &OPS[..0]
                } else {
                    &OPS[..]
                };
                for &(action, label) in ops.iter().chain(&HINTS) {
                    if let Some(h) = state.help.iter().find(|h| h.action == action) {
                        let key = h.keys.split(' ').next().unwrap_or("");
                        spans.push(Span::styled(key.to_string(), theme.accent));
                        spans.push(Span::styled(format!(" {label}  "), theme.dim));
                    }
                }
                Line::from(spans)
            }
        }
    };
    f.render_widget(Paragraph::new(line), area);
}
