//! Rendering: a pure function of the state. Never calls a provider, never mutates state.

pub mod format;
pub mod panes;
pub mod theme;
pub mod widgets;
pub mod wrap;

#[cfg(test)]
mod snapshot_analysis_tests;
#[cfg(test)]
mod snapshot_tests;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::app::rows::JOURNAL_HEIGHT;
use crate::app::state::Screen;
use crate::app::State;
pub use theme::Theme;

pub use crate::app::MIN_SIZE;

/// Draws the whole screen.
pub fn render(state: &State, theme: &Theme, f: &mut Frame) {
    let area = f.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        too_small(state, theme, f, area);
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(panes::footer::height(state, area.width)),
    ])
    .areas(area);
    panes::header::render(state, theme, f, header);
    match state.view.screen {
        Screen::Table => {
            let [table, journal] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(JOURNAL_HEIGHT)])
                    .areas(body);
            panes::table::render(state, theme, f, table);
            panes::journal::render(state, theme, f, journal);
        }
        Screen::Detail => panes::detail::render(state, theme, f, body),
        Screen::Host => panes::host::render(state, theme, f, body),
        Screen::Forecast => panes::forecast::render(state, theme, f, body),
        Screen::Capacity => panes::capacity::render(state, theme, f, body),
        Screen::Rightsize => panes::rightsize::render(state, theme, f, body),
        Screen::Help => panes::help::render(state, theme, f, body),
        Screen::Logs => panes::logs::render(theme, f, body),
    }
    panes::footer::render(state, theme, f, footer);
    panes::overlay::render(state, theme, f, body);
    drop_bidi_controls(f.buffer_mut());
}

/// Drops directional formatting characters from what is drawn: they have no width, so
/// ratatui keeps them in the cell before, and a terminal would reorder the rest of the line
/// (a VM name "web\u{202E}1-gnirts" shows its tail backwards over the columns after it).
fn drop_bidi_controls(buf: &mut ratatui::buffer::Buffer) {
    use crate::domain::format::is_bidi_control;
    for cell in &mut buf.content {
        if cell.symbol().chars().any(is_bidi_control) {
            let kept: String = cell
                .symbol()
                .chars()
                .filter(|c| !is_bidi_control(*c))
                .collect();
            cell.set_symbol(if kept.is_empty() { " " } else { &kept });
        }
    }
}

fn too_small(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let msg = vec![
        Line::styled(
            format!(
                "Terminal is {}×{}; novacron needs at least {}×{}.",
                area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
            ),
            theme.warning,
        ),
        Line::from(format!(
            "Enlarge the window ({} quits).",
            state.quit_keys().replace(' ', " or ")
        )),
    ];
    f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
}
