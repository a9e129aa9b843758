//! `?`: every binding of the live keymap, then the palette verbs.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Row, Table};
use ratatui::Frame;

use crate::app::palette::help_lines;
use crate::app::State;
use crate::ui::theme::Theme;

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut rows: Vec<Row> = state
        .help
        .iter()
        .map(|h| {
            Row::new(vec![
                Cell::from(Span::styled(h.keys.clone(), theme.accent)),
                Cell::from(h.description.clone()),
            ])
        })
        .collect();
    rows.push(Row::new(vec![Cell::from(""), Cell::from("")]));
    for (i, line) in help_lines().into_iter().enumerate() {
        let key = if i == 0 { ":" } else { "" };
        rows.push(Row::new(vec![
            Cell::from(Span::styled(key, theme.accent)),
            Cell::from(line),
        ]));
    }
    let rows: Vec<Row> = rows
        .into_iter()
        .skip(usize::from(state.view.help_scroll))
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Help (j/k scroll, esc back) ", theme.title));
    f.render_widget(
        Table::new(rows, [Constraint::Length(14), Constraint::Min(20)]).block(block),
        area,
    );
}
