//! Word wrapping of styled text: a line of coloured spans broken between words into lines
//! no wider than the pane, each piece keeping its colour ([`wrap_tagged`] does the wrapping).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::format::wrap_tagged;

/// `spans` in lines of at most `width` characters, broken at spaces and line breaks; lines
/// after the first start with `indent` spaces. A word longer than a line is cut across lines.
#[must_use]
pub fn wrap_spans(spans: &[Span<'_>], width: usize, indent: usize) -> Vec<Line<'static>> {
    let chars = spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)));
    wrap_tagged(chars, width, indent, Style::default())
        .into_iter()
        .map(to_line)
        .collect()
}

/// Characters back into spans, one per run of the same style.
fn to_line(chars: Vec<(char, Style)>) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = None;
    for (c, s) in chars {
        if style.is_some_and(|st| st != s) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                style.unwrap_or_default(),
            ));
        }
        style = Some(s);
        text.push(c);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style.unwrap_or_default()));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Stylize};

    use super::*;

    fn text(l: &Line) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn words_wrap_and_keep_their_colours() {
        let red = Style::default().fg(Color::Red);
        let spans = [
            Span::raw("12:00:01 web-1 shutdown "),
            Span::styled("failed: domain is not running", red),
        ];
        let lines = wrap_spans(&spans, 24, 9);
        let texts: Vec<String> = lines.iter().map(text).collect();
        assert_eq!(
            texts,
            [
                "12:00:01 web-1 shutdown",
                "         failed: domain",
                "         is not running"
            ]
        );
        assert!(lines.iter().all(|l| l.width() <= 24));
        // "failed:" keeps red; the indent and the first line do not take it.
        let failed = lines[1].spans.iter().find(|s| s.content.contains("failed"));
        assert_eq!(failed.map(|s| s.style), Some(red));
        assert!(lines[0].spans.iter().all(|s| s.style == Style::default()));
        assert_eq!(lines[1].spans[0].content.trim(), "", "indent unstyled");
    }

    #[test]
    fn a_word_longer_than_the_line_is_cut_not_lost() {
        let lines = wrap_spans(
            &[Span::raw("ab qemu+ssh://a-very-long-host/system").bold()],
            12,
            2,
        );
        let all: String = lines.iter().map(|l| text(l).trim().to_string()).collect();
        assert_eq!(all, "abqemu+ssh://a-very-long-host/system");
        assert!(lines.iter().all(|l| l.width() <= 12), "{lines:?}");
        assert_eq!(
            wrap_spans(&[], 10, 2).len(),
            1,
            "empty input, one empty line"
        );
        assert_eq!(text(&wrap_spans(&[Span::raw("fits")], 10, 2)[0]), "fits");
    }
}
