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
            // With several hosts a VM's name alone does not say which one.
            let host = state
                .hosts
                .iter()
                .find(|h| h.uri == e.host)
                .filter(|_| state.hosts.len() > 1)
                .map_or(String::new(), |h| format!("@{}", h.label));
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
            if e.repeat > 1 {
                spans.push(Span::styled(format!(" ×{}", e.repeat), theme.dim));
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
