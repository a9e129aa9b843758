//! `L`: the tracing log, via tui-logger.

use std::sync::LazyLock;

use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};
use ratatui::Frame;
use tui_logger::{TuiLoggerWidget, TuiWidgetEvent, TuiWidgetState};

use crate::app::LogScroll;
use crate::ui::theme::Theme;

/// Where the pane is in the log: like the log buffer itself, tui-logger keeps it globally.
static VIEW: LazyLock<TuiWidgetState> = LazyLock::new(TuiWidgetState::new);

/// Moves the pane through the log (the reducer's [`crate::app::Effect::ScrollLogs`]).
pub fn scroll(s: LogScroll) {
    VIEW.transition(match s {
        LogScroll::Back => TuiWidgetEvent::PrevPageKey,
        LogScroll::Forward => TuiWidgetEvent::NextPageKey,
        LogScroll::Live => TuiWidgetEvent::EscapeKey,
    });
}

pub fn render(theme: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            " Logs (k/pgup back, j/pgdn forward, G live, esc back) ",
            theme.title,
        ));
    let w = TuiLoggerWidget::default()
        .state(&VIEW)
        .block(block)
        .style_error(theme.error)
        .style_warn(theme.warning)
        .style_info(theme.text)
        .style_debug(theme.dim)
        .style_trace(theme.dim);
    f.render_widget(w, area);
}
