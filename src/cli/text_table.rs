//! Plain-text tables for headless output: each column as wide as its longest value (header
//! included), one space between columns, the last column unpadded.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr as _;

use crate::domain::format::printable;

/// `header` and `rows` as aligned text, the columns in `right` aligned to the right. Widths
/// are terminal columns (a CJK name takes two per character); values are made
/// [`printable`], so a name cannot reorder or break the lines.
#[must_use]
pub fn text_table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let head: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    let shown: Vec<Vec<String>> = std::iter::once(&head)
        .chain(rows)
        .map(|r| r.iter().map(|v| printable(v).into_owned()).collect())
        .collect();
    let widths: Vec<usize> = (0..head.len())
        .map(|c| {
            shown
                .iter()
                .map(|r| r.get(c).map_or(0, |v| v.width()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let last = head.len().saturating_sub(1);
    let mut text = String::new();
    for r in &shown {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (v, &w))| {
                let pad = " ".repeat(w.saturating_sub(v.width()));
                match c {
                    _ if c == last => v.clone(),
                    _ if right.contains(&c) => format!("{pad}{v}"),
                    _ => format!("{v}{pad}"),
                }
            })
            .collect();
        let _ = writeln!(text, "{}", line.join(" "));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_longest_value_and_the_last_is_not_padded() {
        let rows = vec![
            vec!["web-1".to_string(), "2".into(), "ok".into()],
            vec!["db".to_string(), "16".into(), "a longer note".into()],
        ];
        assert_eq!(
            text_table(&["NAME", "N", "NOTE"], &rows, &[1]),
            "NAME   N NOTE\nweb-1  2 ok\ndb    16 a longer note\n"
        );
    }

    #[test]
    fn wide_names_align_by_columns_and_cannot_reorder_the_line() {
        let rows = vec![
            vec!["数据库".to_string(), "1".into()],
            vec!["a\u{202E}b\tc".to_string(), "2".into()],
        ];
        // 数据库 takes six columns; the override is dropped, the tab shown as '?'.
        assert_eq!(
            text_table(&["NAME", "N"], &rows, &[]),
            "NAME   N\n数据库 1\nab?c   2\n"
        );
    }
}
