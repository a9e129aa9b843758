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

pub use crate::domain::format::{bytes, metric, plural, rate};

/// Milliseconds since the epoch → "HH:MM:SS" at `offset_s` from UTC.
#[must_use]
pub fn clock(ts_ms: i64, offset_s: i32) -> String {
    let secs = ts_ms.div_euclid(1000) + i64::from(offset_s);
    let day = secs.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", day / 3600, (day / 60) % 60, day % 60)
}

/// A duration in whole seconds → "12 s", "3 min 5 s", "2 h 1 min".
#[must_use]
pub fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3600, (s / 60) % 60)
    }
}

/// `text` in `width` columns, its end replaced by "…" when it does not fit.
#[must_use]
pub fn fit(text: &str, width: u16) -> String {
    let w = usize::from(width);
    if text.chars().count() <= w {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(w.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(kib(98_304), "96M");
        assert_eq!(kib(3_670_016), "3.5G");
        assert_eq!(kib(512), "512K");
        assert_eq!(rate(2_048.0), "2.0K/s");
        assert_eq!(clock(3_723_000, 0), "01:02:03");
        assert_eq!(clock(0, -3600), "23:00:00");
        assert_eq!(ago(185_000), "3 min 5 s");
        assert_eq!(bytes(100_663_296.0), "96M");
        assert_eq!(metric(12.34, crate::domain::Unit::Percent), "12.3%");
    }
}
