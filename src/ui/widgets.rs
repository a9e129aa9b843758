//! Small drawing helpers shared by panes: text sparklines and time-series charts.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use super::format::metric;
use super::theme::Theme;
use crate::app::charts::summary;
use crate::domain::Unit;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values as block characters, scaled to `0..=max`.
#[must_use]
pub fn spark_text(
    values: impl DoubleEndedIterator<Item = f64> + ExactSizeIterator,
    width: usize,
    max: f64,
) -> String {
    let n = values.len();
    let skip = n.saturating_sub(width);
    let mut s: String = " ".repeat(width.saturating_sub(n));
    for v in values.skip(skip) {
        let f = if max > 0.0 {
            (v / max).clamp(0.0, 1.0)
        } else {
            0.0
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = (f * 7.0).round() as usize;
        s.push(BARS[i.min(7)]);
    }
    s
}

/// One series of a chart: label, style, points (ms, value) and their buckets' lows and
/// highs (empty: the points alone).
pub struct Series<'a> {
    pub label: &'a str,
    pub style: Style,
    pub points: &'a [(i64, f64)],
    pub spread: &'a [(i64, f64, f64)],
    /// What the title's first figure says.
    pub now: Now,
}

/// The title's "now": at long ranges the last point is a bucket's average, up to a bucket
/// old, so it is the live value when there is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Now {
    /// The latest live value.
    Live(f64),
    /// The last point (frozen charts: the view is a moment in the past).
    LastPoint,
    /// No current value (the VM is off, the metric stopped coming): "-", the window's
    /// ↓ ↑ ø still shown.
    Unknown,
}

/// The title: each series' now, min, max and average, as much of that as `width` holds
/// (dropping the average, then min and max, before anything is cut).
fn chart_title<'a>(
    title: &str,
    unit: Unit,
    series: &[Series],
    theme: &Theme,
    width: u16,
) -> Line<'a> {
    let stats: Vec<_> = series
        .iter()
        .filter_map(|s| summary(s.points, s.spread).map(|st| (s, st)))
        .map(|(s, (cur, min, max, avg))| match s.now {
            // The live value is part of the range too: "now" never lies outside ↓ and ↑.
            Now::Live(now) => (s, (Some(now), min.min(now), max.max(now), avg)),
            Now::LastPoint => (s, (Some(cur), min, max, avg)),
            Now::Unknown => (s, (None, min, max, avg)),
        })
        .collect();
    let build = |detail: usize| {
        let mut spans = vec![Span::styled(format!(" {title} "), theme.title)];
        for (s, (cur, min, max, avg)) in &stats {
            let label = if s.label.is_empty() {
                String::new()
            } else {
                format!("{} ", s.label)
            };
            let now = cur.map_or_else(|| "-".to_string(), |v| metric(v, unit));
            spans.push(Span::styled(format!("{label}{now} "), s.style));
            let extra = match detail {
                2 => format!(
                    "↓{} ↑{} ø{} ",
                    metric(*min, unit),
                    metric(*max, unit),
                    metric(*avg, unit)
                ),
                1 => format!("↓{} ↑{} ", metric(*min, unit), metric(*max, unit)),
                _ => String::new(),
            };
            if !extra.is_empty() {
                spans.push(Span::styled(extra, theme.dim));
            }
        }
        Line::from(spans)
    };
    let room = usize::from(width.saturating_sub(2));
    (0..=2)
        .rev()
        .map(build)
        .find(|l| l.width() <= room)
        .unwrap_or_else(|| build(0))
}

/// Stretches of `points` (time order) without a gap: a step over three times the steps
/// around it ends one. Around it, not over the whole series: history rows a minute apart
/// are followed by live samples seconds apart, and neither is a gap in the other.
fn runs(points: &[(i64, f64)]) -> Vec<&[(i64, f64)]> {
    if points.is_empty() {
        return Vec::new();
    }
    let steps: Vec<i64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &step) in steps.iter().enumerate() {
        // The (upper) median of up to four steps on each side, on the stack: this runs
        // for every point of every chart each frame.
        let mut near = [0_i64; 8];
        let mut n = 0;
        let after = steps.get(i + 1..(i + 5).min(steps.len())).unwrap_or(&[]);
        for &x in steps[i.saturating_sub(4)..i].iter().chain(after) {
            near[n] = x;
            n += 1;
        }
        if n == 0 {
            continue;
        }
        let near = &mut near[..n];
        near.sort_unstable();
        if step > near[n / 2].max(1).saturating_mul(3) {
            out.push(&points[start..=i]);
            start = i + 1;
        }
    }
    out.push(&points[start..]);
    out
}

/// A time chart over `[from_ms, to_ms]` with a titled border giving each series'
/// now/min/max/avg, a y axis from 0 to the data's maximum in `unit`, and a time axis;
/// `empty` is what it says while no series has a point.
#[allow(clippy::too_many_arguments)]
pub fn time_chart(
    f: &mut Frame,
    area: Rect,
    theme: &Theme,
    title: &str,
    unit: Unit,
    range: (i64, i64, &str),
    series: &[Series],
    empty: &str,
) {
    let (from_ms, to_ms, range_label) = range;
    let mut ymax: f64 = match unit {
        Unit::Percent => 100.0,
        _ => 0.0,
    };
    for (_, _, max, _) in series.iter().filter_map(|s| summary(s.points, &[])) {
        if unit != Unit::Percent {
            ymax = ymax.max(max);
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(chart_title(title, unit, series, theme, area.width));
    if series.iter().all(|s| s.points.is_empty()) {
        f.render_widget(
            Paragraph::new(Span::styled(empty.to_owned(), theme.dim)).block(block),
            area,
        );
        return;
    }
    if ymax <= 0.0 {
        ymax = 1.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let to_x = |t: i64| (t - from_ms) as f64 / 1000.0;
    // One line per stretch of samples: a VM that was off, or a host that was away, leaves a
    // gap, not a straight line across it.
    let data: Vec<(usize, Vec<(f64, f64)>)> = series
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            runs(s.points)
                .into_iter()
                .map(move |run| (i, run.iter().map(|(t, v)| (to_x(*t), *v)).collect()))
        })
        .collect();
    let datasets: Vec<Dataset> = data
        .iter()
        .map(|(i, d)| {
            // Without colour a second series would look like the first: it gets dots.
            let marker = if theme.color || *i == 0 {
                Marker::Braille
            } else {
                Marker::Dot
            };
            // A lone sample has no line to draw: it is a point.
            let kind = if d.len() == 1 {
                GraphType::Scatter
            } else {
                GraphType::Line
            };
            Dataset::default()
                .marker(marker)
                .graph_type(kind)
                .style(series[*i].style)
                .data(d)
        })
        .collect();
    let x_axis = Axis::default()
        .style(theme.dim)
        .bounds([0.0, to_x(to_ms)])
        .labels(vec![Span::raw(format!("-{range_label}")), Span::raw("now")]);
    let y_axis = Axis::default()
        .style(theme.dim)
        .bounds([0.0, ymax])
        .labels(vec![
            Span::raw(metric(0.0, unit)),
            Span::raw(metric(ymax, unit)),
        ]);
    f.render_widget(
        Chart::new(datasets)
            .block(block)
            .x_axis(x_axis)
            .y_axis(y_axis),
        area,
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_gap_in_the_samples_splits_the_line() {
        let pts: Vec<(i64, f64)> = [0, 5, 10, 15, 100, 105, 110, 200]
            .into_iter()
            .map(|s| (s * 1000, 1.0))
            .collect();
        let lens: Vec<usize> = super::runs(&pts).iter().map(|r| r.len()).collect();
        assert_eq!(lens, [4, 3, 1]);
        assert_eq!(super::runs(&pts[..4]).len(), 1, "steady samples: one line");
        assert!(super::runs(&[]).is_empty());
        // Minute rows of history, then live samples 5 s apart: one line, whichever are
        // more; a 90 s stop among the live samples is a gap.
        let mut mixed: Vec<(i64, f64)> = (0..30).map(|i| (i * 60_000, 1.0)).collect();
        let live = 30 * 60_000;
        mixed.extend((0..100).map(|i| (live + i * 5_000, 1.0)));
        assert_eq!(super::runs(&mixed).len(), 1);
        let end = mixed.last().unwrap().0;
        mixed.extend((0..10).map(|i| (end + 90_000 + i * 5_000, 1.0)));
        let lens: Vec<usize> = super::runs(&mixed).iter().map(|r| r.len()).collect();
        assert_eq!(lens, [130, 10]);
    }

    use super::*;

    #[test]
    fn sparkline_scales_and_pads() {
        assert_eq!(
            spark_text([0.0, 50.0, 100.0].into_iter(), 5, 100.0),
            "  ▁▅█"
        );
        assert_eq!(spark_text([100.0; 10].into_iter(), 3, 100.0), "███");
    }

    #[test]
    fn the_title_says_now_from_the_live_value_when_given() {
        // Hour buckets at 7 d: the last one averaged 20 %, the VM is at 90 % now.
        let points = [(0, 10.0), (3_600_000, 20.0)];
        let s = |now| Series {
            label: "",
            style: Style::default(),
            points: &points,
            spread: &[],
            now,
        };
        let theme = Theme::default();
        let title = |now| chart_title("CPU", Unit::Percent, &[s(now)], &theme, 80).to_string();
        let last = title(Now::LastPoint);
        assert!(last.starts_with(" CPU 20.0% "), "{last}");
        let live = title(Now::Live(90.0));
        assert!(live.starts_with(" CPU 90.0% ↓10.0% ↑90.0% "), "{live}");
        // A VM shut off: its window's range stays, but nothing is "now".
        let off = title(Now::Unknown);
        assert!(off.starts_with(" CPU - ↓10.0% ↑20.0% "), "{off}");
    }
}
