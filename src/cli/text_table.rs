//! Plain-text tables for headless output: each column as wide as its longest value (header
//! included), one space between columns, the last column unpadded.

use std::fmt::Write as _;

/// `header` and `rows` as aligned text, the columns in `right` aligned to the right.
#[must_use]
pub fn text_table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let head: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    let all = || std::iter::once(&head).chain(rows);
    let widths: Vec<usize> = (0..head.len())
        .map(|c| {
            all()
                .map(|r| r.get(c).map_or(0, |v| v.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let last = head.len().saturating_sub(1);
    let mut text = String::new();
    for r in all() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (v, &w))| match c {
                _ if c == last => v.clone(),
                _ if right.contains(&c) => format!("{v:>w$}"),
                _ => format!("{v:<w$}"),
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
}
