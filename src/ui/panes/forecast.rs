//! Forecast view: recent history, the forecast and its 80 %/95 % bands, the model chosen and
//! its backtest error on this series.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph, Wrap};
use ratatui::Frame;

use crate::analysis::{rows_text, ForecastResult, STEP_MS};
use crate::app::State;
use crate::ui::format::metric;
use crate::ui::theme::Theme;

fn block<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title))
}

fn ds(
    d: &[(f64, f64)],
    style: ratatui::style::Style,
    kind: GraphType,
    marker: Marker,
) -> Dataset<'_> {
    Dataset::default()
        .marker(marker)
        .graph_type(kind)
        .style(style)
        .data(d)
}

/// The markers of history, forecast, 80 % and 95 % bands: braille in colour; without
/// colour, each its own shape, as the legend shows.
fn markers(theme: &Theme) -> [Marker; 4] {
    if theme.color {
        [Marker::Braille; 4]
    } else {
        [Marker::Braille, Marker::Block, Marker::Dot, Marker::Braille]
    }
}

/// How far back the chart reaches and its time labels: as much history as the forecast
/// reaches ahead, as far as there is any, and six hours at least. ratatui spreads labels
/// evenly (and only approximately over their ticks), so "now" is a label only when it is
/// the middle; otherwise the chart marks it with a vertical rule.
fn time_axis(history_ms: i64, ahead_ms: i64, ahead_label: &str) -> (i64, Vec<String>) {
    const H: i64 = 3_600_000;
    let ahead = ahead_ms.max(H);
    let unit = if ahead >= 24 * H { 6 * H } else { H };
    let back = history_ms.min(ahead).max(6 * H);
    let back = back.div_euclid(unit) * unit + if back % unit == 0 { 0 } else { unit };
    let mut labels = vec![format!("-{}", ago(back)), format!("+{ahead_label}")];
    if back == ahead {
        labels.insert(1, "now".to_string());
    }
    (back, labels)
}

/// " (shut off, last row 15:05)" for a VM that is not running: its forecast continues its
/// history, not what it does while off or paused. " (no rows since 15:05)" when the history
/// stopped a while ago (no console recorded it, its host is down): the forecast starts from
/// that row.
fn vm_state_note(state: &State) -> String {
    let v = &state.forecast;
    let last = || {
        v.result
            .as_ref()
            .and_then(crate::analysis::ForecastResult::last_row_ms)
            .map(|t| crate::ui::format::clock(t, state.tz_offset_s)[..5].to_string())
    };
    let vm = v.vm.as_ref().and_then(|id| state.vms.get(id));
    match vm.map(|e| e.vm.state) {
        Some(s) if s != crate::domain::VmState::Running => {
            let last = last()
                .map(|t| format!(", last row {t}"))
                .unwrap_or_default();
            format!(" ({}{last})", s.label())
        }
        _ if v
            .result
            .as_ref()
            .is_some_and(crate::analysis::ForecastResult::stale) =>
        {
            last()
                .map(|t| format!(" (no rows since {t})"))
                .unwrap_or_default()
        }
        _ => String::new(),
    }
}

#[allow(clippy::cast_precision_loss)]
fn hours(ms: i64) -> f64 {
    ms as f64 / 3_600_000.0
}

/// A summary row: its label, and its text wrapped under itself within a pane `width`
/// columns wide (a mix of three members does not fit 80 columns).
fn labelled(label: &str, text: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let room = usize::from(width).saturating_sub(2 + super::LABEL).max(10);
    super::labelled(
        label,
        text,
        room,
        0,
        (theme.dim, ratatui::style::Style::default()),
    )
}

fn summary_lines(
    r: &ForecastResult,
    unit: crate::domain::Unit,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let f = &r.forecast;
    let at = |i: usize| {
        if let Some(wait) = r.band_wait() {
            return format!("{} ({wait})", metric(f.point[i], unit));
        }
        format!(
            "{} (80 %: {} – {}, 95 %: {} – {})",
            metric(f.point[i], unit),
            metric(f.lo80[i], unit),
            metric(f.hi80[i], unit),
            metric(f.lo95[i], unit),
            metric(f.hi95[i], unit)
        )
    };
    let n = f.point.len();
    let mut lines = labelled("next row", &at(0), width, theme);
    if n > 1 {
        lines.extend(labelled(
            &format!("in {}", rows_text(n)),
            &at(n - 1),
            width,
            theme,
        ));
    }
    let bt = r.backtest_summary().unwrap_or_else(|| r.backtest_wait());
    let model = format!(
        "{} · {} of history",
        f.model.name(),
        crate::ui::format::plural(r.rows_used, "row")
    );
    lines.extend(labelled("model", &model, width, theme));
    // What the automatic choice combined, per range of steps ("≤1h", ">1h").
    for p in &f.mix {
        let label = match (f.mix.len(), p.first_step) {
            (1, _) => "mix".to_string(),
            (_, 1) => format!("mix ≤{}", rows_text(p.last_step)),
            (_, first) => format!("mix >{}", rows_text(first - 1)),
        };
        lines.extend(labelled(&label, &p.text(), width, theme));
    }
    lines.extend(labelled("backtest", &bt, width, theme));
    lines
}

/// Stretches of consecutive rows (x in hours, one 5-minute step apart) of a history whose
/// missing rows were left out.
fn recorded_runs(hist: &[(f64, f64)]) -> impl Iterator<Item = &[(f64, f64)]> {
    let step_h = hours(STEP_MS);
    hist.chunk_by(move |a, b| b.0 - a.0 <= step_h * 1.5)
}

/// The summary's title, which is also the chart's legend.
fn legend<'a>(theme: &Theme, bands_hidden: bool) -> Line<'a> {
    let (forecast, band80) = if theme.color {
        ("━━", "⠒⠒")
    } else {
        ("██", "••")
    };
    let mut spans = vec![
        Span::styled(" Forecast summary ", theme.title),
        Span::styled("━━ history ", theme.accent),
        Span::styled(format!("{forecast} forecast "), theme.warning),
        Span::styled("⡇ now ", theme.dim),
    ];
    if !bands_hidden {
        spans.push(Span::styled(format!("{band80} 80 % "), theme.pending));
        spans.push(Span::styled("⠒⠒ 95 % ", theme.dim));
    }
    Line::from(spans)
}

/// The value axis: from zero (or below, for negative values) to the highest value, so a
/// flat series (lowest = highest) still gets an axis that shows it.
fn y_bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((0.0_f64, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    (lo, if hi > lo { hi } else { lo + 1.0 })
}

/// How far back the chart starts: "6h", or "7d" from two days on (not "-168h").
fn ago(ms: i64) -> String {
    let h = hours(ms);
    if h >= 48.0 {
        format!("{:.0}d", h / 24.0)
    } else {
        format!("{h:.0}h")
    }
}

const HEAD: &str = " Forecast · ";

/// The title, "Forecast · web-1 · cpu · next 6h" and the keys if they fit; a VM that is not
/// running says so after its name.
fn title(state: &State, width: u16) -> String {
    let v = &state.forecast;
    let (hlabel, _) = v.horizon();
    let loading = if v.loading { " · computing…" } else { "" };
    let name = format!("{}{}", v.label, vm_state_note(state));
    let tail = format!(" · {} · next {hlabel}{loading}", v.metric.label());
    // The keys go first, then the name gives way: the metric and horizon always show.
    let keys = [" (tab metric, +/- horizon, esc back) ", " (tab, +/-, esc) "]
        .into_iter()
        .find(|k| {
            let n = HEAD.chars().count() + name.chars().count() + tail.chars().count();
            n + k.chars().count() + 2 <= usize::from(width)
        })
        .unwrap_or(" ");
    super::title_with_name(HEAD, &name, &format!("{tail}{keys}"), width)
}

/// The view before a forecast is there: computing, or why there is none.
fn render_waiting(state: &State, theme: &Theme, f: &mut Frame, area: Rect, title: String) {
    let v = &state.forecast;
    let msg = v
        .error
        .as_ref()
        .map_or_else(|| "computing…".into(), ToString::to_string);
    // "No cpu recorded" of a VM that is off says why.
    let msg = match vm_state_note(state) {
        note if note.is_empty() || v.error.is_none() => msg,
        note => format!("{}{note}: {msg}", v.label),
    };
    f.render_widget(
        Paragraph::new(Span::styled(msg, theme.dim))
            .wrap(Wrap { trim: true })
            .block(block(title, theme)),
        area,
    );
}

#[allow(clippy::many_single_char_names)]
pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let v = &state.forecast;
    let (hlabel, _) = v.horizon();
    let title = title(state, area.width);
    let Some(r) = &v.result else {
        render_waiting(state, theme, f, area, title);
        return;
    };
    let unit = v.metric.unit();
    let mut summary = summary_lines(r, unit, area.width, theme);
    if let Some(note) = &v.capacity_note {
        summary.extend(labelled("capacity", note, area.width, theme));
    }
    let summary_rows = u16::try_from(summary.len()).unwrap_or(4).saturating_add(2);
    let [chart_area, text_area] =
        Layout::vertical([Constraint::Min(6), Constraint::Length(summary_rows)]).areas(area);
    let fc = &r.forecast;
    let n = fc.point.len();
    let span_ms = STEP_MS * i64::try_from(n).unwrap_or(0);
    let history_ms = r.history.first().map_or(0, |(t, _)| r.start_ms - t);
    let (back, labels) = time_axis(history_ms, span_ms, hlabel);
    let from = r.start_ms - back;
    let to = r.start_ms + span_ms;
    let x = |t: i64| hours(t - r.start_ms);
    let hist: Vec<(f64, f64)> = r
        .history
        .iter()
        .filter(|(t, _)| *t >= from)
        .map(|(t, v)| (x(*t), *v))
        .collect();
    // One line per stretch of recorded rows: a VM that was off for hours has a gap, not a
    // straight line across it.
    let hist_runs: Vec<&[(f64, f64)]> = recorded_runs(&hist).collect();
    let step_x = |i: usize| x(r.start_ms + STEP_MS * i64::try_from(i).unwrap_or(0));
    let series = |vals: &[f64]| -> Vec<(f64, f64)> {
        vals.iter()
            .enumerate()
            .map(|(i, v)| (step_x(i), *v))
            .collect()
    };
    let (point, lo95, hi95, lo80, hi80) = (
        series(&fc.point),
        series(&fc.lo95),
        series(&fc.hi95),
        series(&fc.lo80),
        series(&fc.hi80),
    );
    let hidden = !r.bands_meaningful();
    let band_values = [&lo95, &hi95].into_iter().filter(|_| !hidden).flatten();
    let (lo, hi) = y_bounds(hist.iter().chain(&point).chain(band_values).map(|p| p.1));
    let mut datasets = Vec::new();
    let [m_hist, m_point, m_80, m_95] = markers(theme);
    if !hidden {
        datasets.extend([
            ds(&lo95, theme.dim, GraphType::Scatter, m_95),
            ds(&hi95, theme.dim, GraphType::Scatter, m_95),
            ds(&lo80, theme.pending, GraphType::Scatter, m_80),
            ds(&hi80, theme.pending, GraphType::Scatter, m_80),
        ]);
    }
    // The rule at "now", where the history ends and the forecast starts.
    let rule = [(0.0, lo), (0.0, hi)];
    datasets.extend([
        ds(&rule, theme.dim, GraphType::Line, Marker::Braille),
        ds(&point, theme.warning, GraphType::Line, m_point),
    ]);
    datasets.extend(
        hist_runs
            .iter()
            .map(|run| ds(run, theme.accent, GraphType::Line, m_hist)),
    );
    let x_axis = Axis::default()
        .style(theme.dim)
        .bounds([x(from), x(to)])
        .labels(labels.into_iter().map(Span::raw).collect::<Vec<_>>());
    let y_axis = Axis::default()
        .style(theme.dim)
        .bounds([lo, hi])
        .labels(vec![
            Span::raw(metric(lo, unit)),
            Span::raw(metric(hi, unit)),
        ]);
    f.render_widget(
        // The legend is in the summary's title: inside the chart it hid the top right corner,
        // where a flat or rising forecast runs.
        Chart::new(datasets)
            .legend_position(None)
            .block(block(title, theme))
            .x_axis(x_axis)
            .y_axis(y_axis),
        chart_area,
    );
    f.render_widget(
        Paragraph::new(summary).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(legend(theme, hidden)),
        ),
        text_area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::forecast::{Forecast, ModelKind};

    #[test]
    fn a_long_name_gives_way_to_the_metric_and_horizon() {
        let mut s = crate::app::fixtures::state();
        s.forecast.label = "reporting-worker-nightly-batch-eu-west-1-replica-7".into();
        let t = title(&s, 80);
        assert!(t.chars().count() <= 78, "{t}");
        assert!(t.contains("… · cpu · next "), "{t}");
        // Wide enough: the whole name and the keys.
        let wide = title(&s, 160);
        assert!(
            wide.contains("replica-7 · cpu") && wide.contains("esc back"),
            "{wide}"
        );
    }

    #[test]
    fn the_history_line_breaks_where_rows_are_missing() {
        let h = hours(STEP_MS);
        // Rows 0–2, then the VM is off for an hour, then rows 15–16.
        let hist: Vec<(f64, f64)> = [0, 1, 2, 15, 16]
            .iter()
            .map(|&i| (h * f64::from(i), 1.0))
            .collect();
        let runs: Vec<usize> = recorded_runs(&hist).map(<[_]>::len).collect();
        assert_eq!(runs, [3, 2]);
        assert_eq!(recorded_runs(&[]).count(), 0);
    }

    #[test]
    fn a_summary_row_longer_than_the_pane_wraps_under_its_text() {
        let mix = "median over up to 144 rows 33 %, median over up to 288 rows 33 %, \
                   daily profile 34 %";
        let lines: Vec<String> = labelled("mix ≤1h", mix, 80, &Theme::default())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 78), "{lines:?}");
        assert!(lines[1].starts_with(&" ".repeat(10)), "{lines:?}");
        let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(words.join(" "), format!("mix ≤1h {mix}"));
        // A label as wide as its column gets a line of its own, not "≤55 minrobust…".
        let lines: Vec<String> =
            labelled("mix ≤55 min", "robust seasonal 33 %", 80, &Theme::default())
                .iter()
                .map(ToString::to_string)
                .collect();
        assert_eq!(
            lines,
            [
                "mix ≤55 min",
                &format!("{}robust seasonal 33 %", " ".repeat(10))
            ]
        );
    }

    fn text(rows: usize) -> String {
        let r = ForecastResult {
            entity: "vm/u/x".into(),
            metric: "cpu_pct".into(),
            start_ms: 0,
            history: (0..rows)
                .map(|i| (i64::try_from(i).unwrap(), 5.0))
                .collect(),
            forecast: Forecast {
                model: ModelKind::Auto,
                point: vec![5.0; 3],
                lo80: vec![5.0; 3],
                hi80: vec![5.0; 3],
                lo95: vec![5.0; 3],
                hi95: vec![5.0; 3],
                mix: Vec::new(),
            },
            backtest_mase: None,
            backtest_smape: None,
            backtest_origins: 0,
            gap_rows: 0,
            rows_used: rows,
            last_row_ms: None,
        };
        summary_lines(&r, crate::domain::Unit::Percent, 80, &Theme::default())
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_time_axis_counts_days_back_from_two_days() {
        assert_eq!(ago(6 * 3_600_000), "6h");
        assert_eq!(ago(47 * 3_600_000), "47h");
        assert_eq!(ago(168 * 3_600_000), "7d");
    }

    #[test]
    fn now_is_a_label_only_in_the_middle() {
        const H: i64 = 3_600_000;
        // 6 h back, 6 h ahead: "now" is the middle label.
        assert_eq!(
            time_axis(48 * H, 6 * H, "6h"),
            (6 * H, vec!["-6h".into(), "now".into(), "+6h".into()])
        );
        // 1 h ahead of 6 h back: no label would sit over the boundary; the rule marks it.
        assert_eq!(
            time_axis(48 * H, H, "1h"),
            (6 * H, vec!["-6h".into(), "+1h".into()])
        );
        // A week ahead of the two days there are, not five empty days of history.
        assert_eq!(
            time_axis(48 * H, 168 * H, "7d"),
            (48 * H, vec!["-2d".into(), "+7d".into()])
        );
        // Under six hours of history: still six hours back.
        assert_eq!(time_axis(H, 24 * H, "24h").0, 6 * H);
    }

    #[test]
    fn the_value_axis_shows_flat_and_negative_series() {
        let b = |v: &[f64]| y_bounds(v.iter().copied());
        assert_eq!(b(&[28e6, 28e6]), (0.0, 28e6));
        assert_eq!(b(&[0.0, 0.0]), (0.0, 1.0));
        assert_eq!(b(&[]), (0.0, 1.0));
        assert_eq!(b(&[f64::NAN, 3.0, -2.0]), (-2.0, 3.0));
    }

    #[test]
    fn a_band_from_a_few_rows_is_not_shown() {
        let t = text(2);
        assert!(
            t.contains("5.0% (intervals need 10 more rows of history, 50 min)"),
            "{t}"
        );
        // Three rows ahead: a backtest needs three more than two hours (27 rows).
        assert!(
            t.contains("backtest  a backtest at this horizon needs 2h 15 min of history"),
            "{t}"
        );
        assert!(text(12).contains("5.0% (80 %: 5.0% – 5.0%, 95 %: 5.0% – 5.0%)"));
    }
}
