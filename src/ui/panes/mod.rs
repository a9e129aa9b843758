//! One pane per file, each a pure `render` of the state.

pub mod capacity;
pub mod detail;
pub mod footer;
pub mod forecast;
pub mod header;
pub mod help;
pub mod host;
pub mod journal;
pub mod logs;
pub mod overlay;
pub mod rightsize;
pub mod table;

/// Width of the name column of a labelled row ("link", "model", a host's label).
pub const LABEL: usize = 10;

/// A labelled row: `label` in its column, `text` wrapped within `room` columns under
/// itself (continuation lines indented `indent`); only the first line carries the label.
/// The host pane's figures, the forecast summary and capacity's headroom are drawn so.
#[must_use]
pub fn labelled(
    label: &str,
    text: &str,
    room: usize,
    indent: usize,
    (label_style, text_style): (ratatui::style::Style, ratatui::style::Style),
) -> Vec<ratatui::text::Line<'static>> {
    use ratatui::text::{Line, Span};
    // A label as wide as its column would run into the text: it gets a line of its own.
    let own_line = crate::ui::format::width(label) >= LABEL;
    let head = own_line.then(|| Line::from(Span::styled(label.to_string(), label_style)));
    let body = crate::ui::format::wrap_words(text, room.max(1), indent)
        .into_iter()
        .enumerate()
        .map(move |(i, l)| {
            let label = if i == 0 && !own_line { label } else { "" };
            Line::from(vec![
                Span::styled(format!("{label:<LABEL$}"), label_style),
                Span::styled(l, text_style),
            ])
        });
    head.into_iter().chain(body).collect()
}

/// A pane title: `long` when it fits in `width` (borders included), else `short`.
#[must_use]
pub fn fit_title(long: String, short: String, width: u16) -> String {
    if crate::ui::format::width(&long) + 2 <= usize::from(width) {
        long
    } else {
        short
    }
}

/// A title made of `before`, a `name` and `after` in `width` (borders included): the name
/// gives way first and is cut with "…" (it keeps at least 4 characters); only then is the
/// end cut.
#[must_use]
pub fn title_with_name(before: &str, name: &str, after: &str, width: u16) -> String {
    let room = usize::from(width).saturating_sub(2);
    let fixed = crate::ui::format::width(before) + crate::ui::format::width(after);
    let name = if fixed + crate::ui::format::width(name) <= room {
        name.to_string()
    } else {
        let keep = room.saturating_sub(fixed).max(4);
        crate::ui::format::fit(name, u16::try_from(keep).unwrap_or(u16::MAX))
    };
    crate::ui::format::fit(
        &format!("{before}{name}{after}"),
        u16::try_from(room).unwrap_or(u16::MAX),
    )
}

/// A pane's `render` drawn over the whole of a `w`×`h` test terminal: its rows as text, one
/// per line, trailing spaces kept.
#[cfg(test)]
pub fn drawn(
    render: impl Fn(
        &crate::app::State,
        &crate::ui::theme::Theme,
        &mut ratatui::Frame,
        ratatui::layout::Rect,
    ),
    state: &crate::app::State,
    (w, h): (u16, u16),
) -> String {
    let backend = ratatui::backend::TestBackend::new(w, h);
    let mut t = ratatui::Terminal::new(backend).expect("test terminal");
    let theme = crate::ui::theme::Theme::new(&crate::config::theme::ThemeColors::default(), false);
    t.draw(|f| render(state, &theme, f, f.area()))
        .expect("draw");
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A column as wide as the widest text `text` gives for `rows`, and at least `min`.
#[must_use]
pub fn column_width<T>(rows: &[T], text: impl Fn(&T) -> String, min: usize) -> u16 {
    let widest = rows.iter().map(|r| text(r).chars().count()).max();
    u16::try_from(widest.unwrap_or(0).max(min)).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::title_with_name;

    #[test]
    fn a_long_name_gives_way_before_the_rest_of_the_title() {
        let name = "a-very-long-virtual-machine-name-from-a-template";
        let t = title_with_name(" Forecast · ", name, " · cpu · next 6h ", 40);
        assert_eq!(t.chars().count(), 38, "{t}");
        assert!(t.ends_with(" · cpu · next 6h "), "{t}");
        assert!(t.contains(" · a-very-l… · "), "{t}");
        // Room for all of it: nothing is cut.
        let wide = title_with_name(" Forecast · ", name, " · cpu ", 120);
        assert_eq!(wide, format!(" Forecast · {name} · cpu "));
        // Too narrow even for the rest: the end goes, marked.
        let narrow = title_with_name(" Forecast · ", name, " · cpu · next 6h ", 20);
        assert!(
            narrow.ends_with('…') && narrow.chars().count() == 18,
            "{narrow}"
        );
    }
}
