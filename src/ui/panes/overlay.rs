//! Modal boxes drawn over the screen: the confirmation dialog and palette completions.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::app::state::{Confirm, Overlay};
use crate::app::State;
use crate::ui::theme::Theme;

fn confirm(c: &Confirm, theme: &Theme, f: &mut Frame, area: Rect) {
    let r = area.centered(
        Constraint::Length(area.width.min(64)),
        Constraint::Length(6),
    );
    let text = vec![
        Line::from(c.prompt.clone()),
        Line::from(vec![
            Span::styled("y", theme.accent),
            Span::raw(" yes    "),
            Span::styled("N", theme.accent),
            Span::raw(" no (default: enter, esc)"),
        ]),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.warning)
        .title(Span::styled(format!(" Confirm {} ", c.op), theme.warning));
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: true }).block(block),
        r,
    );
}

fn completions(items: &[String], theme: &Theme, f: &mut Frame, area: Rect) {
    if items.is_empty() {
        return;
    }
    let n = u16::try_from(items.len().min(8)).unwrap_or(8);
    let r = Rect {
        x: area.x,
        y: area.bottom().saturating_sub(n + 3),
        width: area.width.min(40),
        height: n + 2,
    };
    let lines: Vec<Line> = items
        .iter()
        .take(8)
        .map(|i| Line::from(i.clone()))
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" complete (tab) ", theme.dim));
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(block), r);
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    match &state.view.overlay {
        Some(Overlay::Confirm(c)) => confirm(c, theme, f, area),
        Some(Overlay::Palette { completions: c, .. }) => completions(c, theme, f, area),
        _ => {}
    }
}
