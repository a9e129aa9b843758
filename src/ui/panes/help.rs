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
    // The verbs go after the palette's own key, whatever the keymap made it.
    let palette = state.keys_of("palette").unwrap_or("");
    for (i, line) in help_lines().into_iter().enumerate() {
        let key = if i == 0 { palette } else { "" }.to_string();
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

#[cfg(test)]
mod tests {

    #[test]
    fn the_palette_verbs_follow_the_palette_key_as_remapped() {
        let mut s = crate::app::fixtures::state();
        let screen = |s: &crate::app::State| super::super::drawn(super::render, s, (80, 60));
        let verbs = |text: &str| {
            let l = text.lines().find(|l| l.contains("palette verbs:")).unwrap();
            l.trim_start_matches(['"', '│'])
                .split_whitespace()
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(verbs(&screen(&s)), ":");
        for h in s.help.iter_mut().filter(|h| h.action == "palette") {
            h.keys = "ctrl-p".into();
        }
        assert_eq!(verbs(&screen(&s)), "ctrl-p");
    }
}
