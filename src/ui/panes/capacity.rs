//! `C`: capacity, sorted by time to exhaustion: for each host's CPU, memory and storage pools,
//! when the forecast crosses the threshold (with the 95 % band), and the headroom per host.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use crate::analysis::capacity::CapacityRow;
use crate::app::State;
use crate::ui::theme::Theme;

/// "3 h", "2 d 4 h", "never (7 d)" for a crossing `rows` 5-minute rows ahead.
#[must_use]
pub fn when(rows: Option<usize>, horizon: usize) -> String {
    let Some(r) = rows else {
        return format!("> {}", span(horizon));
    };
    span(r)
}

/// The 95 % band of a crossing: earliest (pessimistic) – latest (optimistic); one "> 7 d"
/// when even the pessimistic side stays clear over the horizon (a blank read as unknown).
#[must_use]
pub fn band(earliest: Option<usize>, latest: Option<usize>, horizon: usize) -> String {
    match (earliest, latest) {
        (None, _) => when(None, horizon),
        (e, l) => format!("{} – {}", when(e, horizon), when(l, horizon)),
    }
}

fn span(rows: usize) -> String {
    let minutes = rows * 5;
    match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m if m % 1440 < 60 => format!("{} d", m / 1440),
        m => format!("{} d {} h", m / 1440, (m % 1440) / 60),
    }
}

/// A row; a note (why there is no crossing) wraps within the band column, `band_w` wide,
/// the row growing to hold it rather than cutting it.
fn row<'a>(r: &CapacityRow, label: &str, band_w: u16, theme: &Theme) -> Row<'a> {
    let now = r
        .current_pct
        .map_or_else(|| "-".into(), |p| format!("{p:.1}%"));
    let (expected, band, style) = match &r.crossing {
        Some(c) if c.already => ("now".to_string(), String::new(), theme.error),
        Some(c) => (
            when(c.expected, c.horizon),
            // Why the trend starts where it does: a level change since which it is fitted.
            match &r.basis {
                Some(basis) => format!("{} · {basis}", band(c.earliest, c.latest, c.horizon)),
                None => band(c.earliest, c.latest, c.horizon),
            },
            if c.expected.is_some() {
                theme.warning
            } else {
                theme.text
            },
        ),
        // The note (why there is no crossing) gets the band's wider column.
        None => (
            "-".to_string(),
            r.note.clone().unwrap_or_default(),
            theme.dim,
        ),
    };
    let model = model_of(r);
    let band = crate::ui::format::wrap_words(&band, usize::from(band_w.max(1)), 0);
    let height = u16::try_from(band.len().max(1)).unwrap_or(1);
    let band_style = if r.crossing.is_some() {
        theme.text
    } else {
        theme.dim
    };
    let band: Vec<Line> = band
        .into_iter()
        .map(|l| Line::from(Span::styled(l, band_style)))
        .collect();
    Row::new(vec![
        Cell::from(label.to_string()),
        Cell::from(r.resource.clone()),
        Cell::from(Line::from(now).right_aligned()),
        Cell::from(Span::styled(expected, style)),
        Cell::from(band),
        Cell::from(Span::styled(model, theme.dim)),
    ])
    .height(height)
}

/// A host's label, or its URI once it is no longer connected.
fn host_label<'a>(state: &'a State, uri: &'a str) -> &'a str {
    state.host_label_of(uri).unwrap_or(uri)
}

/// Each host's headroom, wrapped under its text (a busy host's adds why it is not room).
fn headroom_lines(
    state: &State,
    c: &crate::analysis::capacity::CapacityReport,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let room = usize::from(width).saturating_sub(2 + super::LABEL).max(10);
    c.headroom
        .iter()
        .flat_map(|h| {
            super::labelled(
                host_label(state, &h.host),
                &h.text,
                room,
                0,
                (theme.dim, ratatui::style::Style::default()),
            )
        })
        .collect()
}

/// The model a row's crossing came from; none for a fill past the threshold as read, with
/// no forecast (horizon 0).
#[must_use]
pub fn model_of(r: &CapacityRow) -> &'static str {
    r.crossing
        .as_ref()
        .filter(|c| c.horizon > 0)
        .map_or("", |c| c.model.name())
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let rep = &state.reports;
    let loading = if rep.capacity_loading {
        " · computing…"
    } else {
        ""
    };
    let Some(c) = &rep.capacity else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Span::styled(format!(" Capacity{loading} "), theme.title));
        f.render_widget(
            Paragraph::new(Span::styled("computing…", theme.dim)).block(block),
            area,
        );
        return;
    };
    let label = |uri: &str| host_label(state, uri).to_string();
    let room = headroom_lines(state, c, area.width, theme);
    let room_h = u16::try_from(room.len()).unwrap_or(1);
    let [table_area, room_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(room_h + 2)]).areas(area);
    let title = super::fit_title(
        format!(
            " Capacity · time until usage crosses {:.0}%, soonest first{loading} (j/k select, esc back) ",
            c.threshold_pct
        ),
        format!(" Capacity · crosses {:.0}%{loading} (j/k, esc) ", c.threshold_pct),
        area.width,
    );
    // HOST and RESOURCE as wide as their names ("pool novacron-lab" was cut to "pool
    // novacro"); the band, which also carries the notes, takes what is left.
    let host_w = super::column_width(&c.rows, |r| label(&r.host), 4);
    let resource_w = super::column_width(&c.rows, |r| r.resource.clone(), 8);
    let widths = [
        Constraint::Length(host_w),
        Constraint::Length(resource_w),
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Min(22),
        Constraint::Length(11),
    ];
    // The band column's width as the table lays it out (flex start, one column apart,
    // inside the borders), for the notes to wrap in.
    let band_w = Layout::horizontal(widths)
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, table_area.width.saturating_sub(2), 1))[4]
        .width;
    let rows: Vec<Row> = c
        .rows
        .iter()
        .map(|r| row(r, &label(&r.host), band_w, theme))
        .collect();
    let table = Table::new(rows, widths)
        .row_highlight_style(theme.selected)
        .header(
            Row::new([
                "HOST",
                "RESOURCE",
                "NOW",
                "CROSSES IN",
                "95 % BAND",
                "MODEL",
            ])
            .style(theme.title),
        )
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(title, theme.title)),
        );
    // The selected row is kept in view (a fresh state each frame: render stays pure).
    let mut view = TableState::default().with_selected(Some(rep.capacity_row));
    f.render_stateful_widget(table, table_area, &mut view);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Headroom ", theme.title));
    f.render_widget(Paragraph::new(room).block(block), room_area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_times_read_naturally() {
        assert_eq!(when(Some(6), 2016), "30 min");
        assert_eq!(when(Some(36), 2016), "3 h");
        assert_eq!(when(Some(600), 2016), "2 d 2 h");
        assert_eq!(when(None, 2016), "> 7 d");
        assert_eq!(band(Some(12), None, 2016), "1 h – > 7 d");
        assert_eq!(band(None, None, 2016), "> 7 d");
    }
}
