//! The operations journal: newest at the bottom, with outcome and the equivalent virsh command.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use crate::app::state::JournalStatus;
use crate::app::State;
use crate::ui::format::clock;
use crate::ui::theme::Theme;
use crate::ui::wrap::wrap_spans;

fn status<'a>(s: &JournalStatus, theme: &Theme) -> Span<'a> {
    let style = match s {
        JournalStatus::Pending | JournalStatus::Accepted => theme.pending,
        JournalStatus::Done => theme.ok,
        JournalStatus::Failed(_) => theme.error,
        JournalStatus::Warning(_) => theme.warning,
        JournalStatus::Event => theme.dim,
        JournalStatus::Note => Style::default(),
    };
    Span::styled(s.text(), style)
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let n = usize::from(area.height.saturating_sub(2));
    let width = usize::from(area.width.saturating_sub(2));
    let skip = state.journal.len().saturating_sub(n);
    // A long reason wraps under the entry (after its time) instead of being cut; the pane
    // shows the newest lines.
    let mut wrapped: Vec<Line> = state
        .journal
        .iter()
        .skip(skip)
        .flat_map(|e| {
            // With several hosts a VM's name alone does not say which one, nor does it once
            // its host is gone and another is the only one left.
            let gone = !state.hosts.iter().any(|h| h.uri == e.host);
            let host = if !e.host_label.is_empty() && (state.hosts.len() > 1 || gone) {
                format!("@{}", e.host_label)
            } else {
                String::new()
            };
            let who = if e.vm.is_empty() {
                String::new()
            } else {
                format!(" {}{host}", e.vm)
            };
            let mut spans = vec![
                Span::styled(clock(e.ts_ms, state.tz_offset_s), theme.dim),
                Span::raw(format!("{who} {} ", e.what)),
                status(&e.status, theme),
            ];
            // The line's time is the last repeat's: say when they began.
            if e.repeat > 1 {
                spans.push(Span::styled(
                    format!(
                        " ×{} since {}",
                        e.repeat,
                        clock(e.first_ms, state.tz_offset_s)
                    ),
                    theme.dim,
                ));
            }
            if let Some(v) = &e.virsh {
                spans.push(Span::styled(format!("  $ {v}"), theme.dim));
            }
            wrap_spans(&spans, width, 9)
        })
        .collect();
    let lines = wrapped.split_off(wrapped.len().saturating_sub(n));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Journal ", theme.title));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use crate::app::fixtures::state;
    use crate::app::opflow::journal;
    use crate::app::state::JournalStatus;
    use crate::app::State;
    use crate::ui::panes::drawn;

    #[test]
    fn an_entry_keeps_its_host_after_the_host_is_disconnected() {
        let mut s = state();
        let (uri, label) = (s.hosts[1].uri.clone(), s.hosts[1].label.clone());
        journal(
            &mut s,
            &uri,
            "web-2",
            "stopped (destroyed)".into(),
            JournalStatus::Event,
            None,
        );
        let screen = |s: &State| drawn(super::render, s, (60, 4));
        assert!(
            screen(&s).contains(&format!("web-2@{label} stopped")),
            "{}",
            screen(&s)
        );
        // With one host left, an entry of another still names its own.
        s.hosts.retain(|h| h.uri != uri);
        assert!(
            screen(&s).contains(&format!("web-2@{label} stopped")),
            "{}",
            screen(&s)
        );
        // An entry of the only host does not.
        let only = s.hosts[0].uri.clone();
        journal(
            &mut s,
            &only,
            "web-1",
            "started (booted)".into(),
            JournalStatus::Event,
            None,
        );
        assert!(screen(&s).contains(" web-1 started"), "{}", screen(&s));
    }

    #[test]
    fn repeats_say_since_when() {
        let mut s = state();
        journal(
            &mut s,
            "qemu:///system",
            "web-1",
            "rebooted".into(),
            JournalStatus::Event,
            None,
        );
        if let Some(e) = s.journal.back_mut() {
            e.repeat = 6;
            e.first_ms = e.ts_ms - 4_000;
        }
        let screen = drawn(super::render, &s, (80, 7));
        assert!(screen.contains("×6 since "), "{screen}");
    }
}
