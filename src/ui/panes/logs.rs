//! `L`: the tracing log, via tui-logger.

use std::sync::LazyLock;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};
use ratatui::Frame;
use tui_logger::{ExtLogRecord, LogFormatter, TuiLoggerWidget, TuiWidgetEvent, TuiWidgetState};

use crate::app::LogScroll;
use crate::ui::format::wrap_words;
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
        .formatter(Box::new(Formatter {
            styles: [theme.error, theme.warning, theme.text, theme.dim, theme.dim],
        }));
    f.render_widget(w, area);
}

/// Where a continued line starts: under the message, after "HH:MM:SS L ".
const INDENT: usize = 11;

/// One record as `HH:MM:SS L target: message`, wrapped between words (tui-logger's own
/// formatter cuts words, and spends a third of an 80-column line on the source file).
struct Formatter {
    /// Error, warn, info, debug, trace.
    styles: [Style; 5],
}

impl LogFormatter for Formatter {
    fn min_width(&self) -> u16 {
        20
    }

    fn format(&self, width: usize, evt: &ExtLogRecord) -> Vec<Line<'_>> {
        let level = evt.level as usize;
        let style = self.styles[level.clamp(1, 5) - 1];
        let letter = evt.level.as_str().chars().next().unwrap_or('?');
        let target = evt.target().trim_start_matches("novacron::");
        let text = format!(
            "{} {letter} {target}: {}",
            evt.timestamp.strftime("%H:%M:%S"),
            evt.msg().trim()
        );
        wrap_words(&text, width, INDENT)
            .into_iter()
            .map(|l| Line::from(Span::styled(l, style)))
            .collect()
    }
}
