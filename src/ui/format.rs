//! Text formatting shared by panes: sizes, rates, times, durations.

/// KiB → "96M", "3.5G", "512K": the shortest readable form.
#[must_use]
pub fn kib(k: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let v = k as f64;
    if k >= 1024 * 1024 {
        trim(v / 1024.0 / 1024.0, "G")
    } else if k >= 1024 {
        trim(v / 1024.0, "M")
    } else {
        format!("{k}K")
    }
}

fn trim(v: f64, unit: &str) -> String {
    if (v - v.round()).abs() < 0.05 || v >= 100.0 {
        format!("{v:.0}{unit}")
    } else {
        format!("{v:.1}{unit}")
    }
}

pub use crate::domain::format::{bytes, clock, metric, plural, rate};
use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};

/// A duration in whole seconds → "12 s", "3 min 5 s", "2 h 1 min", "13 d 23 h".
#[must_use]
pub fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, (s / 60) % 60)
    } else {
        format!("{} d {} h", s / 86_400, (s / 3600) % 24)
    }
}

/// The terminal columns `text` takes: two for a CJK character or an emoji, none for a
/// combining mark.
#[must_use]
pub fn width(text: &str) -> usize {
    text.width()
}

/// How many of `chars`, from the first, fit in `room` columns.
fn fitting(chars: impl Iterator<Item = char>, mut room: usize) -> usize {
    chars
        .take_while(|c| {
            let w = c.width().unwrap_or(0);
            let ok = w <= room;
            room = room.saturating_sub(w);
            ok
        })
        .count()
}

/// `text` in `width` columns, its end replaced by "…" when it does not fit.
#[must_use]
pub fn fit(text: &str, width: u16) -> String {
    let w = usize::from(width);
    if text.width() <= w {
        text.to_string()
    } else {
        // Columns, not characters: a cut CJK name keeps its "…" inside the width.
        let keep = fitting(text.chars(), w.saturating_sub(1));
        let mut s: String = text.chars().take(keep).collect();
        s.push('…');
        s
    }
}

/// `text` in `width` columns, its middle replaced by "…" when it does not fit: names that
/// differ at their end (web-prod-eu-west-01, -02) stay told apart. The end keeps the
/// smaller half.
#[must_use]
pub fn fit_middle(text: &str, width: u16) -> String {
    let w = usize::from(width);
    if text.width() <= w || w < 5 {
        return fit(text, width);
    }
    let room = w - 1;
    let tail_room = room / 2;
    let tail_n = fitting(text.chars().rev(), tail_room);
    let tail: String = {
        let mut t: Vec<char> = text.chars().rev().take(tail_n).collect();
        t.reverse();
        t.into_iter().collect()
    };
    let head_n = fitting(text.chars(), room - tail.width());
    let mut s: String = text.chars().take(head_n).collect();
    s.push('…');
    s.push_str(&tail);
    s
}

/// `text` in lines of at most `width` characters, broken between words and at its own line
/// breaks; lines after the first start with `indent` spaces. A word longer than a line is cut.
#[must_use]
pub fn wrap_words(text: &str, width: usize, indent: usize) -> Vec<String> {
    wrap_tagged(text.chars().map(|c| (c, ())), width, indent, ())
        .into_iter()
        .map(|l| l.into_iter().map(|(c, ())| c).collect())
        .collect()
}

/// [`wrap_words`] on at most `max` lines: when it needs more, the last one kept ends in "…".
#[must_use]
pub fn wrap_words_at_most(text: &str, width: usize, indent: usize, max: usize) -> Vec<String> {
    let mut lines = wrap_words(text, width, indent);
    if lines.len() > max.max(1) {
        lines.truncate(max.max(1));
        if let Some(last) = lines.last_mut() {
            *last = fit(
                &format!("{last}…"),
                u16::try_from(width).unwrap_or(u16::MAX),
            );
        }
    }
    lines
}

/// The word wrap behind [`wrap_words`] and `ui::wrap::wrap_spans`: characters carrying a tag
/// (a style, or nothing) broken into lines at spaces and line breaks, as [`wrap_words`] says.
/// The spaces it writes (between words, and the indent) carry `blank`.
pub fn wrap_tagged<T: Copy>(
    chars: impl IntoIterator<Item = (char, T)>,
    width: usize,
    indent: usize,
    blank: T,
) -> Vec<Vec<(char, T)>> {
    let width = width.max(1);
    let indent = indent.min(width / 2);
    let pad = vec![(' ', blank); indent];
    // Paragraphs (split at line breaks) of words (split at spaces).
    let mut paras: Vec<Vec<Vec<(char, T)>>> = vec![vec![Vec::new()]];
    for (c, t) in chars {
        match c {
            '\n' => paras.push(vec![Vec::new()]),
            ' ' => {
                if let Some(p) = paras.last_mut() {
                    p.push(Vec::new());
                }
            }
            _ => {
                if let Some(w) = paras.last_mut().and_then(|p| p.last_mut()) {
                    w.push((c, t));
                }
            }
        }
    }
    let mut lines: Vec<Vec<(char, T)>> = Vec::new();
    let mut line: Vec<(char, T)> = Vec::new();
    // Terminal columns, not characters: a CJK character or an emoji takes two.
    let cols = |cs: &[(char, T)]| {
        cs.iter()
            .map(|(c, _)| c.width().unwrap_or(0))
            .sum::<usize>()
    };
    // Where the words of `line` start: 0 on the first line, else `indent`.
    let mut start = 0;
    for (i, para) in paras.into_iter().enumerate() {
        if i > 0 {
            lines.push(std::mem::replace(&mut line, pad.clone()));
            start = indent;
        }
        for mut word in para {
            loop {
                let len = cols(&line);
                let gap = usize::from(len > start);
                if len + gap + cols(&word) <= width {
                    if gap == 1 {
                        line.push((' ', blank));
                    }
                    line.append(&mut word);
                    break;
                }
                if len == start {
                    // Longer than a whole line: as much as fits, the rest on the next (at
                    // least one character, so a wide one on a narrow line still moves on).
                    let fits = fitting(word.iter().map(|(c, _)| *c), width - len).max(1);
                    line.extend(word.drain(..fits));
                }
                lines.push(std::mem::replace(&mut line, pad.clone()));
                start = indent;
            }
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_count_as_the_columns_they_take() {
        use unicode_width::UnicodeWidthStr as _;
        // Each CJK character takes two columns: 6 characters, 12 columns.
        let lines = wrap_words("suspend 'b-数据库-291' done", 12, 2);
        assert!(lines.iter().all(|l| l.width() <= 12), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), "suspend'b-数据库-291'done");
        let cut = fit("b-数据库-291-long", 8);
        assert!(cut.width() <= 8 && cut.ends_with('…'), "{cut}");
        assert_eq!(fit("b-🚀-1", 6), "b-🚀-1");
        // A wide character on a line too narrow for it still moves on.
        assert_eq!(wrap_words("数据", 1, 0).concat(), "数据");
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(kib(98_304), "96M");
        assert_eq!(kib(3_670_016), "3.5G");
        assert_eq!(kib(512), "512K");
        assert_eq!(rate(2_048.0), "2.0K/s");
        assert_eq!(clock(3_723_000, 0), "01:02:03");
        assert_eq!(clock(0, -3600), "23:00:00");
        assert_eq!(ago(185_000), "3 min 5 s");
        assert_eq!(ago(7_260_000), "2 h 1 min");
        assert_eq!(ago((13 * 24 + 23) * 3_600_000 + 55 * 60_000), "13 d 23 h");
        assert_eq!(bytes(100_663_296.0), "96M");
        assert_eq!(metric(12.34, crate::domain::Unit::Percent), "12.3%");
    }

    #[test]
    fn lines_break_between_words_and_continue_indented() {
        let text =
            "05:37:22 I cli: log: /var/log/x.log novacron starting uris: [\"qemu:///system\"]";
        assert_eq!(
            wrap_words(text, 40, 11),
            [
                "05:37:22 I cli: log: /var/log/x.log",
                "           novacron starting uris:",
                "           [\"qemu:///system\"]",
            ]
        );
    }

    #[test]
    fn a_word_longer_than_a_line_is_cut_and_line_breaks_are_kept() {
        let text = "E x: /a/very/long/path/that/does/not/fit/anywhere ok\nsecond line";
        let lines = wrap_words(text, 30, 6);
        assert_eq!(
            lines,
            [
                "E x:",
                "      /a/very/long/path/that/d",
                "      oes/not/fit/anywhere ok",
                "      second line",
            ]
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 30));
    }

    #[test]
    fn any_width_gives_lines_that_fit() {
        let text = "12:00:00 W provider::libvirt::conn: disconnected: Cannot recv data: ssh: connect to host kvm2 port 22: Connection refused";
        for width in 1..90 {
            let lines = wrap_words(text, width, 11);
            assert!(
                lines.iter().all(|l| l.chars().count() <= width),
                "{width}: {lines:?}"
            );
            let words: String = lines.concat().split_whitespace().collect();
            let want: String = text.split_whitespace().collect();
            assert_eq!(words, want, "nothing lost at width {width}");
        }
    }
}
