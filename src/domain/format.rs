//! Values with their units, compact ("12.3%", "1.2M/s", "96M"): shared by the panes and by
//! the journal lines the app writes (anomaly explanations).

use super::Unit;

/// Milliseconds since the epoch → "HH:MM:SS" at `offset_s` from UTC.
#[must_use]
pub fn clock(ts_ms: i64, offset_s: i32) -> String {
    let secs = ts_ms.div_euclid(1000) + i64::from(offset_s);
    let day = secs.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", day / 3600, (day / 60) % 60, day % 60)
}

/// The machine's offset from UTC now, in seconds east: what the console and the reports
/// pass to [`clock`] and to the analysis notes (read where they run, never in pure code).
#[must_use]
pub fn local_offset_s() -> i32 {
    chrono::Local::now().offset().local_minus_utc()
}

/// Unicode's directional formatting characters. A VM name holding one (libvirt allows
/// them) would reorder what the terminal draws after it on the line, so output drops them.
#[must_use]
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// `text` as a terminal can show it on one line: directional formatting characters dropped,
/// control characters (a tab, a carriage return in a name) shown as `?`.
#[must_use]
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    shown(text, |_| false)
}

/// [`printable`] for a message of several lines (an error naming a VM): its line breaks and
/// tabs stay.
#[must_use]
pub fn printable_message(text: &str) -> std::borrow::Cow<'_, str> {
    shown(text, |c| c == '\n' || c == '\t')
}

fn shown(text: &str, keep: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    let odd = |c: char| (c.is_control() && !keep(c)) || is_bidi_control(c);
    if !text.chars().any(odd) {
        return text.into();
    }
    text.chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| if odd(c) { '?' } else { c })
        .collect::<String>()
        .into()
}

/// "1 row", "12 rows".
#[must_use]
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Bytes per second → "1.2M/s".
#[must_use]
pub fn rate(bps: f64) -> String {
    if bps >= 1024.0 * 1024.0 {
        format!("{:.1}M/s", bps / 1024.0 / 1024.0)
    } else if bps >= 1024.0 {
        format!("{:.1}K/s", bps / 1024.0)
    } else {
        format!("{bps:.0}B/s")
    }
}

/// Bytes → "1.5G", "96M", "512K", "12B".
#[must_use]
pub fn bytes(b: f64) -> String {
    let k = 1024.0;
    if b >= k * k * k {
        format!("{:.1}G", b / k / k / k)
    } else if b >= k * k {
        format!("{:.0}M", b / k / k)
    } else if b >= k {
        format!("{:.0}K", b / k)
    } else {
        format!("{b:.0}B")
    }
}

/// A metric value with its unit, compact: "12.3%", "1.2M/s", "96M", "3.1ms", "4.0/s".
#[must_use]
pub fn metric(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Percent => format!("{v:.1}%"),
        Unit::Bytes => bytes(v),
        Unit::BytesPerSec => rate(v),
        Unit::PerSec => format!("{v:.1}/s"),
        Unit::Millis => format!("{v:.1}ms"),
        Unit::Ratio => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_keeps_a_messages_lines_but_not_its_direction_marks() {
        let name = "db\u{202E}1\rx";
        assert_eq!(printable(name), "db1?x");
        let message = format!("no VM {name}\n\tdid you mean db1?");
        assert_eq!(
            printable_message(&message),
            "no VM db1?x\n\tdid you mean db1?"
        );
        assert_eq!(printable(&message), "no VM db1?x??did you mean db1?");
        // Nothing to change: the text itself, not a copy.
        assert!(matches!(
            printable_message("a\nb"),
            std::borrow::Cow::Borrowed("a\nb")
        ));
    }
}
