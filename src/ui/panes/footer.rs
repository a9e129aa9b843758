//! The bottom line: a flash message, the open input line, or key hints from the keymap.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::app::state::Overlay;
use crate::app::Action;
use crate::app::State;
use crate::ui::theme::Theme;

/// Operations, hidden from a read-only console's hints (it cannot run them). Reset is last:
/// on a narrow line it is the first to give way. The suspend key says what the help and the
/// journal say ("suspend", or "resume" on a paused VM).
const OPS: [(&str, &str); 6] = [
    ("start", "start"),
    ("shutdown", "shut"),
    ("reboot", "reboot"),
    ("toggle_suspend", "suspend"),
    ("destroy", "destroy"),
    ("reset", "reset"),
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
        _ if state.flash.is_some() => {
            if let Some(fl) = &state.flash {
                render_flash(&fl.text, fl.error, theme, f, area);
            }
            return;
        }
        // The dialog answers y and n (or esc) alone: no other key, not even quit.
        Some(Overlay::Confirm(_)) => Line::from(vec![
            Span::styled("y", theme.accent),
            Span::styled(" yes  ", theme.dim),
            Span::styled("n", theme.accent),
            Span::styled(" no  ", theme.dim),
            Span::styled("esc", theme.accent),
            Span::styled(" no", theme.dim),
        ]),
        _ => {
            let read_only = state.settings.read_only;
            // Operations only where the reducer runs them, on a VM (not on an empty table).
            let ops = if read_only || !state.vm_in_view() || state.selected().is_none() {
                &OPS[..0]
            } else {
                &OPS[..]
            };
            // Only the operations the selected VM's state allows (a shut-off VM offers
            // start, a paused one resume and destroy), and p says which it will do.
            let vm_state = state.selected().map(|e| e.vm.state);
            let paused = vm_state == Some(crate::domain::VmState::Paused);
            // While its operation is in progress only destroy may act (it can overtake a
            // shutdown the guest ignores); the others would be refused.
            let busy = state.selected().is_some_and(|e| e.pending.is_some());
            let allowed = |action: &str| {
                let is_op = OPS.iter().any(|(a, _)| *a == action);
                if busy && is_op && action != "destroy" {
                    return false;
                }
                let op = Action::from_name(action).zip(vm_state);
                match op.and_then(|(a, s)| Some((a.op_on(s)?, s))) {
                    Some((op, s)) => op.wrong_state(s, None).is_none(),
                    None => true,
                }
            };
            let pick = |list: &[(&str, &'static str)]| -> Vec<(String, &'static str)> {
                list.iter()
                    .filter(|(action, _)| allowed(action))
                    .map(|&(action, label)| match label {
                        "suspend" if paused => (action, "resume"),
                        _ => (action, label),
                    })
                    .filter_map(|(action, label)| Some((first_key(state, action)?, label)))
                    .collect()
            };
            let (mut ops, mut rest) = (pick(ops), pick(&HINTS));
            // Whole hints only: the operations give way first, so help and quit stay; a
            // hint is never cut to a key without its word (the last needs no gap after it).
            let wide = |h: &[(String, &str)]| -> usize {
                h.iter()
                    .map(|(k, l)| k.chars().count() + l.chars().count() + 3)
                    .sum()
            };
            while wide(&ops) + wide(&rest) > usize::from(area.width) + 2 {
                if ops.pop().is_none() && rest.pop().is_none() {
                    break;
                }
            }
            let hints = ops.into_iter().chain(rest);
            let spans: Vec<Span> = hints
                .flat_map(|(key, label)| {
                    [
                        Span::styled(key, theme.accent),
                        Span::styled(format!(" {label}  "), theme.dim),
                    ]
                })
                .collect();
            Line::from(spans)
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

/// The first key bound to `action`, as the help writes it.
fn first_key(state: &State, action: &str) -> Option<String> {
    let keys = state.keys_of(action)?;
    Some(keys.split(' ').next().unwrap_or("").to_string())
}

/// The footer's height: a message longer than the line takes up to [`FLASH_LINES`] lines,
/// the panes above giving way while it shows, rather than losing its end or covering them.
#[must_use]
pub fn height(state: &State, width: u16) -> u16 {
    match (&state.view.overlay, &state.flash) {
        (Some(Overlay::Filter { .. } | Overlay::Palette { .. }), _) | (_, None) => 1,
        (_, Some(fl)) => u16::try_from(flash_lines(&fl.text, width).len().max(1)).unwrap_or(1),
    }
}

fn render_flash(text: &str, error: bool, theme: &Theme, f: &mut Frame, area: Rect) {
    let style = if error { theme.error } else { theme.ok };
    let text: Vec<Line> = flash_lines(text, area.width)
        .into_iter()
        .map(|l| Line::from(Span::styled(l, style)))
        .collect();
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(text), area);
}

/// Most lines a flash message takes; a longer one ends in "…".
const FLASH_LINES: usize = 3;

/// The flash message wrapped between words to `width`, continuation lines indented.
fn flash_lines(text: &str, width: u16) -> Vec<String> {
    crate::ui::format::wrap_words_at_most(text, usize::from(width), 2, FLASH_LINES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(state: &State, w: u16) -> String {
        super::super::drawn(render, state, (w, 1))
    }

    #[test]
    fn long_custom_keys_drop_whole_hints_operations_first() {
        let mut s = crate::app::fixtures::state();
        // web-1, running: every operation but start.
        s.view.cursor = s
            .rows
            .iter()
            .position(|id| s.vms[id].vm.name == "web-1")
            .unwrap();
        assert!(hints(&s, 80).starts_with("S shut"), "{}", hints(&s, 80));
        for h in &mut s.help {
            h.keys = format!("ctrl-alt-{}", h.keys);
        }
        let l = hints(&s, 80);
        assert!(l.trim_end().ends_with("ctrl-alt-q quit"), "{l}");
        assert!(l.contains("ctrl-alt-? help"), "{l}");
        // Every key shown has its word after it.
        let words: Vec<&str> = l.split_whitespace().collect();
        assert!(words.len() % 2 == 0 && !l.contains("destroy"), "{l}");
    }

    #[test]
    fn the_suspend_key_says_resume_on_a_paused_vm() {
        let mut s = crate::app::fixtures::state();
        let select = |s: &mut crate::app::State, name: &str| {
            s.view.cursor = s
                .rows
                .iter()
                .position(|id| s.vms[id].vm.name == name)
                .unwrap();
        };
        select(&mut s, "web-1");
        assert!(hints(&s, 80).contains("p suspend"), "{}", hints(&s, 80));
        select(&mut s, "batch");
        assert!(hints(&s, 80).contains("p resume"), "{}", hints(&s, 80));
        // Only what the state allows: a paused VM is not started, shut down or rebooted,
        // a shut-off one only started.
        assert!(
            hints(&s, 80).starts_with("p resume  D destroy"),
            "{}",
            hints(&s, 80)
        );
        select(&mut s, "web-2");
        assert!(
            hints(&s, 80).starts_with("s start  / filter"),
            "{}",
            hints(&s, 80)
        );
        // A filter that matches nothing leaves no VM to act on.
        s.rows.clear();
        assert!(
            hints(&s, 80).starts_with("/ filter  : cmd"),
            "{}",
            hints(&s, 80)
        );
    }

    #[test]
    fn reset_shows_at_80_columns_and_a_busy_vm_offers_destroy_alone() {
        let mut s = crate::app::fixtures::state();
        crate::app::update_tests::select(&mut s, "web-1");
        let l = hints(&s, 80);
        assert!(
            l.starts_with("S shut  r reboot  p suspend  D destroy  R reset  / filter"),
            "{l}"
        );
        crate::app::update_tests::act(&mut s, Action::Shutdown);
        s.flash = None;
        let l = hints(&s, 80);
        assert!(l.starts_with("D destroy  / filter"), "{l}");
        // A confirmation answers y and n alone.
        crate::app::update_tests::select(&mut s, "db-main");
        crate::app::update_tests::act(&mut s, Action::Destroy);
        let l = hints(&s, 80);
        assert!(
            l.starts_with("y yes  n no  esc no") && !l.contains("quit"),
            "{l}"
        );
    }

    #[test]
    fn a_long_flash_wraps_onto_at_most_three_lines() {
        assert_eq!(flash_lines("short", 80), vec!["short"]);
        let long = "disconnected qemu+ssh://kvm2/system: 3 VMs removed from the table";
        let two = flash_lines(long, 40);
        assert_eq!(two.len(), 2);
        assert!(two.iter().all(|l| l.chars().count() <= 40));
        assert!(two[1].starts_with("  "), "{two:?}");
        let words: Vec<&str> = two.iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(words.join(" "), long, "nothing lost");
        let huge = "word ".repeat(100);
        let three = flash_lines(&huge, 40);
        assert_eq!(three.len(), 3);
        assert!(three[2].ends_with('…') && three[2].chars().count() <= 40);
    }
}
