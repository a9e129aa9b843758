//! The top line: one status per connection.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::State;
use crate::domain::format::plural;
use crate::provider::ConnStatus;
use crate::ui::format::ago;
use crate::ui::theme::Theme;

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled("novacron", theme.title)];
    for h in &state.hosts {
        spans.push(Span::styled(" │ ", theme.border));
        spans.push(Span::styled(h.label.clone(), theme.accent));
        let count = state.vms.keys().filter(|id| id.host == h.id).count();
        let (text, style) = match &h.status {
            ConnStatus::Connecting => (" connecting…".to_string(), theme.pending),
            ConnStatus::Connected { .. } => (format!(" ● {}", plural(count, "VM")), theme.ok),
            // With several hosts one long libvirt message would push the others off the
            // line: the header keeps a badge and the host pane (H) gives the reason.
            ConnStatus::Disconnected { .. } if state.hosts.len() > 1 => (
                format!(" ✗ down {} (H)", ago(state.now_ms - h.since_ms)),
                theme.error,
            ),
            ConnStatus::Failed { .. } if state.hosts.len() > 1 => {
                (" ✗ failed (H)".to_string(), theme.error)
            }
            ConnStatus::Disconnected { .. } | ConnStatus::Failed { .. } => (
                format!(" {}", super::host::down_text(state, h).unwrap_or_default()),
                theme.error,
            ),
        };
        spans.push(Span::styled(text, style));
    }
    if state.settings.read_only {
        spans.push(Span::styled("  [read-only]", theme.warning));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
