//! `L`: the tracing log, via tui-logger.

use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};
use ratatui::Frame;
use tui_logger::TuiLoggerWidget;

use crate::ui::theme::Theme;

pub fn render(theme: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Logs (esc back) ", theme.title));
    let w = TuiLoggerWidget::default()
        .block(block)
        .style_error(theme.error)
        .style_warn(theme.warning)
        .style_info(theme.text)
        .style_debug(theme.dim)
        .style_trace(theme.dim);
    f.render_widget(w, area);
}
