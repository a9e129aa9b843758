//! Scoring of anomaly decisions against labelled windows, following the nab-aws protocol:
//! the first `min(floor(0.15 n), 750)` rows are ignored, consecutive flagged rows form one
//! event, an event is true when any of its rows lies inside a window, recall counts windows
//! with a flagged row (every window holding it, where windows overlap), and false events are
//! counted per day of scored rows outside the windows (288 rows a day).

use serde::Serialize;

/// Rows per day at 5-minute spacing: the protocol's unit for false events per day.
pub const ROWS_PER_DAY: f64 = 288.0;

/// How one series' decisions score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EventScore {
    pub events: usize,
    pub true_events: usize,
    pub false_events: usize,
    pub windows: usize,
    pub windows_hit: usize,
    /// Scored rows outside every window / 288.
    pub days: f64,
}

impl EventScore {
    /// Sums scores over series (pooled).
    #[must_use]
    pub fn pooled(all: &[EventScore]) -> EventScore {
        all.iter().fold(EventScore::default(), |a, s| EventScore {
            events: a.events + s.events,
            true_events: a.true_events + s.true_events,
            false_events: a.false_events + s.false_events,
            windows: a.windows + s.windows,
            windows_hit: a.windows_hit + s.windows_hit,
            days: a.days + s.days,
        })
    }

    #[must_use]
    pub fn precision(&self) -> f64 {
        ratio(self.true_events, self.events)
    }

    #[must_use]
    pub fn recall(&self) -> f64 {
        ratio(self.windows_hit, self.windows)
    }

    #[must_use]
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }

    #[must_use]
    pub fn false_per_day(&self) -> f64 {
        if self.days > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            let f = self.false_events as f64;
            f / self.days
        } else {
            0.0
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Rows the protocol leaves out of the score at the start of a series of `n` rows (the
/// detectors' warm-up): `min(floor(0.15 n), 750)`.
#[must_use]
pub fn warmup_rows(n: usize) -> usize {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let skip = ((0.15 * n as f64).floor()) as usize;
    skip.min(750).min(n)
}

/// One event: consecutive flagged rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// First row.
    pub start: usize,
    /// One past the last row.
    pub end: usize,
    /// Indices of the windows that hold one of its rows.
    pub windows: Vec<usize>,
}

/// The scored events of `flags` (one per row, after the warm-up) for rows stamped `ts`,
/// with the inclusive `windows` of timestamps each touches. Timestamps compare as strings,
/// so they must share one fixed-width format.
#[must_use]
pub fn events(ts: &[String], flags: &[bool], windows: &[(String, String)]) -> Vec<Event> {
    let n = ts.len().min(flags.len());
    let holds = |w: &(String, String), t: usize| {
        ts[t].as_str() >= w.0.as_str() && ts[t].as_str() <= w.1.as_str()
    };
    let mut out = Vec::new();
    let mut t = warmup_rows(n);
    while t < n {
        if !flags[t] {
            t += 1;
            continue;
        }
        let start = t;
        while t < n && flags[t] {
            t += 1;
        }
        let touched = (0..windows.len())
            .filter(|&w| (start..t).any(|r| holds(&windows[w], r)))
            .collect();
        out.push(Event {
            start,
            end: t,
            windows: touched,
        });
    }
    out
}

/// Scores `flags` (one per row) for rows stamped `ts` against inclusive `windows` of
/// timestamps, as [`events`] reads them.
#[must_use]
pub fn score_events(ts: &[String], flags: &[bool], windows: &[(String, String)]) -> EventScore {
    let n = ts.len().min(flags.len());
    let outside = (warmup_rows(n)..n)
        .filter(|&t| {
            !windows
                .iter()
                .any(|w| ts[t].as_str() >= w.0.as_str() && ts[t].as_str() <= w.1.as_str())
        })
        .count();
    let evs = events(ts, flags, windows);
    let mut hit = vec![false; windows.len()];
    for w in evs.iter().flat_map(|e| &e.windows) {
        hit[*w] = true;
    }
    let true_events = evs.iter().filter(|e| !e.windows.is_empty()).count();
    EventScore {
        events: evs.len(),
        true_events,
        false_events: evs.len() - true_events,
        windows: windows.len(),
        windows_hit: hit.iter().filter(|h| **h).count(),
        #[allow(clippy::cast_precision_loss)]
        days: outside as f64 / ROWS_PER_DAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("t{i:05}")).collect()
    }

    #[test]
    fn events_windows_and_warmup_follow_the_protocol() {
        let ts = ts(1000);
        let mut flags = vec![false; 1000];
        flags[100] = true; // inside the ignored first 150 rows
        for f in &mut flags[300..303] {
            *f = true; // one event, inside the window
        }
        flags[600] = true; // false event
        flags[602] = true; // another false event
        let windows = vec![
            ("t00290".to_string(), "t00310".to_string()),
            ("t00800".to_string(), "t00810".to_string()),
        ];
        let s = score_events(&ts, &flags, &windows);
        assert_eq!((s.events, s.true_events, s.false_events), (3, 1, 2));
        assert_eq!((s.windows, s.windows_hit), (2, 1));
        assert!((s.precision() - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.recall() - 0.5).abs() < 1e-12);
        // 850 scored rows, 21 + 11 of them inside the windows.
        assert!((s.days - 818.0 / 288.0).abs() < 1e-12);
    }

    #[test]
    fn a_flagged_row_in_two_overlapping_windows_hits_both() {
        let ts = ts(1000);
        let mut flags = vec![false; 1000];
        flags[305] = true;
        let windows = vec![
            ("t00290".to_string(), "t00310".to_string()),
            ("t00300".to_string(), "t00320".to_string()),
        ];
        let s = score_events(&ts, &flags, &windows);
        assert_eq!((s.events, s.true_events, s.windows_hit), (1, 1, 2));
    }

    #[test]
    fn nothing_flagged_scores_zero_without_dividing_by_zero() {
        let s = score_events(&ts(10), &[false; 10], &[]);
        assert_eq!((s.precision(), s.recall(), s.f1()), (0.0, 0.0, 0.0));
    }
}
