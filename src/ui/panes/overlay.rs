//! Modal boxes drawn over the screen: the confirmation dialog and palette completions.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::app::state::{Confirm, Overlay};
use crate::app::State;
use crate::ui::format::wrap_words_at_most;
use crate::ui::theme::Theme;

fn confirm(c: &Confirm, theme: &Theme, f: &mut Frame, area: Rect) {
    let width = area.width.min(64);
    // The box grows with the prompt (a long VM name wraps it) so the answer line always
    // shows; the prompt gives way first when even that does not fit.
    let inner = usize::from(width.saturating_sub(2));
    let room = usize::from(area.height.saturating_sub(4));
    let prompt = wrap_words_at_most(&c.prompt, inner, 0, room);
    let height = u16::try_from(prompt.len() + 4).unwrap_or(u16::MAX);
    let r = area.centered(Constraint::Length(width), Constraint::Length(height));
    let mut text: Vec<Line> = prompt.into_iter().map(Line::from).collect();
    text.extend([
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.accent),
            Span::raw(" yes    "),
            Span::styled("N", theme.accent),
            Span::raw(" no (default: enter, esc)"),
        ]),
    ]);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.warning)
        .title(Span::styled(format!(" Confirm {} ", c.op), theme.warning));
    clear_box(f.buffer_mut(), r);
    f.render_widget(Paragraph::new(text).block(block), r);
}

fn completions(items: &[String], theme: &Theme, f: &mut Frame, area: Rect) {
    if items.is_empty() {
        return;
    }
    let shown = if items.len() > 8 { 7 } else { items.len() };
    let more = items.len() - shown;
    let n = u16::try_from(shown + usize::from(more > 0)).unwrap_or(8);
    let r = Rect {
        x: area.x,
        y: area.bottom().saturating_sub(n + 3),
        width: area.width.min(40),
        height: n + 2,
    };
    let mut lines: Vec<Line> = items
        .iter()
        .take(shown)
        .map(|i| Line::from(i.clone()))
        .collect();
    if more > 0 {
        lines.push(Line::styled(
            format!("… {more} more (type to narrow)"),
            theme.dim,
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" complete (tab) ", theme.dim));
    clear_box(f.buffer_mut(), r);
    f.render_widget(Paragraph::new(lines).block(block), r);
}

/// Clears `r` for a box, and blanks a two-column character (a CJK name in the table)
/// whose second half falls under the box's left border: the terminal would draw it over
/// that border, and ratatui, skipping the cell a wide character covers, never redraws it.
fn clear_box(buf: &mut Buffer, r: Rect) {
    use ratatui::widgets::Widget as _;
    Clear.render(r, buf);
    let Some(x) = r.x.checked_sub(1) else {
        return;
    };
    for y in r.top()..r.bottom() {
        if let Some(cell) = buf.cell_mut((x, y)) {
            if crate::ui::format::width(cell.symbol()) > 1 {
                cell.set_symbol(" ");
            }
        }
    }
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    match &state.view.overlay {
        Some(Overlay::Confirm(c)) => confirm(c, theme, f, area),
        Some(Overlay::Palette { completions: c, .. }) => completions(c, theme, f, area),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_wide_character_under_a_box_edge_gives_way_to_the_border() {
        use ratatui::buffer::Buffer;
        use ratatui::layout::Rect;
        use ratatui::widgets::{Block, Borders, Widget as _};
        let area = Rect::new(0, 0, 12, 3);
        let before = Buffer::empty(area);
        let mut now = Buffer::empty(area);
        // "数" takes columns 3 and 4; the box starts at column 4.
        now.set_string(2, 1, "a数据", ratatui::style::Style::default());
        let r = Rect::new(4, 0, 6, 3);
        super::clear_box(&mut now, r);
        Block::default().borders(Borders::ALL).render(r, &mut now);
        let drawn: Vec<(u16, u16, String)> = before
            .diff(&now)
            .into_iter()
            .map(|(x, y, c)| (x, y, c.symbol().to_string()))
            .collect();
        assert!(
            drawn.contains(&(4, 1, "│".to_string())),
            "the border at column 4 reaches the terminal: {drawn:?}"
        );
        assert!(!drawn.iter().any(|(_, _, s)| s == "数"), "{drawn:?}");
    }

    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use crate::app::fixtures::{state, T0};
    use crate::app::state::Overlay;
    use crate::app::{update, Action, Msg};
    use crate::ui::{render, Theme};

    #[test]
    fn a_long_name_never_hides_the_answer_line() {
        let mut s = state();
        update(&mut s, Msg::Action(Action::Destroy), T0);
        let Some(Overlay::Confirm(c)) = &mut s.view.overlay else {
            panic!("no confirmation");
        };
        let name = "db-primary-eu-west-1-production-cluster-node-0001-with-a-very-long-name";
        c.prompt = format!(
            "destroy {name} on test? Force it off like pulling the plug; unsaved guest data is lost."
        );
        let theme = Theme::new(&crate::config::theme::ThemeColors::default(), false);
        for (w, h) in [(80, 24), (120, 30)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| render(&s, &theme, f)).unwrap();
            let screen = t.backend().to_string();
            assert!(screen.contains("y yes    N no"), "{w}×{h}:\n{screen}");
            assert!(screen.contains("guest data is lost."), "{w}×{h}:\n{screen}");
        }
    }
}
