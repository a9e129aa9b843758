//! `H`: one host at a time (j/k switch): its link (with the reason when down), capacity figures, the poll's own cost, and charts of
//! host CPU and memory.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::detail::{chart_grid, ChartSpec};
use super::LABEL;
use crate::app::state::HostView;
use crate::app::State;
use crate::domain::{Metric, Unit};
use crate::provider::ConnStatus;
use crate::ui::format::{ago, fit, kib, metric};
use crate::ui::theme::Theme;

/// Why a host is down and what happens next; `None` while it is up or connecting.
#[must_use]
pub fn down_text(state: &State, h: &HostView) -> Option<String> {
    match &h.status {
        ConnStatus::Connecting | ConnStatus::Connected { .. } => None,
        ConnStatus::Disconnected { error, retry_in } => Some(format!(
            "✗ disconnected {}, retrying every {} s: {error}",
            ago(state.now_ms - h.since_ms),
            retry_in.as_secs()
        )),
        ConnStatus::Failed { error } => Some(format!(
            "✗ not retried: {error} (:connect {} tries again, :disconnect {} removes it)",
            h.uri, h.label
        )),
    }
}

/// The host's link: connected to whom, or down since when and why. The reason a host is
/// down is the one long line: it wraps between words under itself rather than being cut.
fn link(state: &State, h: &HostView, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let (text, style) = match &h.status {
        ConnStatus::Connecting => ("connecting…".to_string(), theme.pending),
        ConnStatus::Connected { hostname } => (format!("● connected to {hostname}"), theme.ok),
        _ => (down_text(state, h).unwrap_or_default(), theme.error),
    };
    // The title names the host by its label; its URI leads the link line.
    let text = format!("{}  {text}", h.uri);
    super::labelled(
        "link",
        &text,
        width.saturating_sub(LABEL),
        2,
        (theme.dim, style),
    )
}

/// The figures under the title: link, CPU, memory, VMs, the poll's cost.
fn figures(
    state: &State,
    h: &HostView,
    theme: &Theme,
    link: Vec<Line<'static>>,
) -> Vec<Line<'static>> {
    let m = &h.metrics;
    // A host that is away reports nothing: its last figures are marked, as the table's are.
    let up = matches!(h.status, ConnStatus::Connected { .. });
    let v = |x: Metric| {
        if m.live.is_stale(x, state.now_ms, &state.settings.cadence) {
            return "stale".to_string();
        }
        m.live
            .value(x)
            .map_or_else(|| "-".into(), |val| metric(val, x.unit()))
    };
    let on_host = || state.vms.values().filter(|e| e.vm.id.host == h.id);
    // Paused VMs hold their memory but run nothing: counted apart from the running ones.
    let paused = on_host()
        .filter(|e| e.vm.state == crate::domain::VmState::Paused)
        .count();
    let running = on_host().filter(|e| e.vm.state.is_active()).count() - paused;
    let total = on_host().count();
    let seen = if up { "" } else { ", as last seen" };
    let vms = if paused > 0 {
        format!("{running} running, {paused} paused of {total}{seen}")
    } else {
        format!("{running} running of {total}{seen}")
    };
    let unknown = |n: u64, text: String| if n == 0 { "unknown".to_string() } else { text };
    // The test driver has a size but no statistics: say so rather than show "-" forever.
    let (busy, used, no_stats) = if m.size_only() {
        (
            String::new(),
            String::new(),
            " · no usage figures from this driver",
        )
    } else {
        // "stale busy of 2 CPUs" reads wrong: a stale figure says so before the count.
        let figure = |x: Metric, word: &str| match v(x) {
            stale if stale == "stale" => "usage stale · ".to_string(),
            val => format!("{val} {word} of "),
        };
        (
            figure(Metric::HostCpuPct, "busy"),
            figure(Metric::HostMemUsedBytes, "used"),
            "",
        )
    };
    let mut lines = link;
    lines.extend([
        Line::from(vec![
            Span::styled(format!("{:<10}", "cpu"), theme.dim),
            Span::raw(unknown(
                u64::from(m.cpus),
                format!(
                    "{busy}{} CPUs · vCPU:pCPU {}{no_stats}",
                    m.cpus,
                    v(Metric::HostVcpuRatio)
                ),
            )),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<10}", "memory"), theme.dim),
            Span::raw(unknown(
                m.mem_total_kib,
                format!(
                    "{used}{} · running VMs hold {}{no_stats}",
                    kib(m.mem_total_kib),
                    v(Metric::HostMemCommittedPct)
                ),
            )),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<10}", "vms"), theme.dim),
            Span::raw(vms),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<10}", "poll"), theme.dim),
            Span::raw(if up {
                format!(
                    "{:.1} ms per poll tick · {} skipped (overran)",
                    m.last_poll_ms, m.overruns
                )
            } else {
                format!(
                    "none while disconnected (the last took {:.1} ms)",
                    m.last_poll_ms
                )
            }),
        ]),
    ]);
    lines
}

/// The title with the keys while they fit, then without them, then cut.
fn title(state: &State, h: &HostView, width: usize) -> String {
    // The label the header, capacity and recommendations call it by (the link line
    // gives its URI).
    let frozen = if state.charts.frozen {
        " · frozen (f resumes)"
    } else {
        ""
    };
    let head = format!(
        " Host {} ({}/{}) · last {}{frozen} ",
        h.label,
        state.view.host_cursor + 1,
        state.hosts.len(),
        state.charts.range_label()
    );
    let keys = " (j/k host, +/- range, f freeze, esc back) ";
    if head.chars().count() + keys.chars().count() <= width {
        head + keys
    } else if head.chars().count() + " (esc back) ".chars().count() <= width {
        head + " (esc back) "
    } else {
        fit(&head, u16::try_from(width).unwrap_or(u16::MAX))
    }
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(h) = state.cursor_host() else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Span::styled(" Host (esc back) ", theme.title));
        let text = "no hosts: every one was disconnected; :connect URI adds one";
        f.render_widget(
            Paragraph::new(Span::styled(text, theme.dim)).block(block),
            area,
        );
        return;
    };
    let inner = usize::from(area.width.saturating_sub(2)).max(1);
    let link = link(state, h, theme, inner);
    let top_rows = u16::try_from(6 + link.len()).unwrap_or(7);
    let lines = figures(state, h, theme, link);
    let [top, charts] =
        Layout::vertical([Constraint::Length(top_rows), Constraint::Min(6)]).areas(area);
    let title = title(state, h, inner);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        top,
    );
    let m = &h.metrics;
    let no_stats = m
        .size_only()
        .then_some("this driver gives no usage figures");
    chart_grid(
        state,
        theme,
        f,
        (charts, &h.metrics.live),
        &[
            ChartSpec::new(
                "Host CPU",
                Unit::Percent,
                vec![(Metric::HostCpuPct, "busy")],
            )
            .empty_when(no_stats),
            ChartSpec::new(
                "Host memory",
                Unit::Bytes,
                vec![(Metric::HostMemUsedBytes, "used")],
            )
            .empty_when(no_stats),
            ChartSpec::new(
                "vCPU per CPU",
                Unit::Ratio,
                vec![(Metric::HostVcpuRatio, "ratio")],
            ),
            ChartSpec::new(
                "Memory committed",
                Unit::Percent,
                vec![(Metric::HostMemCommittedPct, "held")],
            ),
        ],
    );
}

#[cfg(test)]
mod tests {

    use crate::app::fixtures::{state, T0};
    use crate::app::{update, Action, Msg};
    use crate::domain::HostCounters;
    use crate::provider::ProviderEvent;

    #[test]
    fn with_no_hosts_left_the_pane_says_how_to_add_one() {
        let mut s = state();
        s.hosts.clear();
        let screen = super::super::drawn(super::render, &s, (80, 24));
        assert!(screen.contains(":connect URI adds one"), "{screen}");
    }

    #[test]
    fn a_driver_with_a_size_but_no_statistics_says_so() {
        let mut s = state();
        // What the poller sends for the test driver: node info only.
        let counters = HostCounters {
            cpus: 16,
            mem_total_kib: 8 << 20,
            ..HostCounters::default()
        };
        update(
            &mut s,
            Msg::Provider(ProviderEvent::HostSample {
                host: 0,
                ts_ms: T0,
                counters,
                poll_ms: 0.1,
                overruns: 0,
                pools: None,
            }),
            T0,
        );
        update(&mut s, Msg::Action(Action::Hosts), T0);
        let screen = super::super::drawn(super::render, &s, (80, 24));
        assert!(screen.contains("16 CPUs · vCPU:pCPU"), "{screen}");
        assert!(
            !screen.contains("busy of") && !screen.contains("unknown"),
            "{screen}"
        );
        assert!(
            screen.contains("no usage figures from this driver"),
            "{screen}"
        );
        assert!(
            screen.contains("this driver gives no usage figures"),
            "{screen}"
        );
    }

    #[test]
    fn a_host_that_is_away_marks_its_last_figures() {
        let mut s = state();
        let c = |busy, total| HostCounters {
            node_stats: true,
            cpus: 2,
            cpu_busy_ns: busy,
            cpu_total_ns: total,
            mem_total_kib: 24 << 20,
            mem_free_kib: 20 << 20,
            ..HostCounters::default()
        };
        for (t, busy, total) in [(0, 0, 0), (5_000, 5_000_000_000, 10_000_000_000)] {
            let sample = ProviderEvent::HostSample {
                host: 0,
                ts_ms: T0 + t,
                counters: c(busy, total),
                poll_ms: 2.4,
                overruns: 0,
                pools: None,
            };
            update(&mut s, Msg::Provider(sample), T0 + t);
        }
        update(&mut s, Msg::Action(Action::Hosts), T0 + 5_000);
        let screen = super::super::drawn(super::render, &s, (80, 24));
        assert!(screen.contains("50.0% busy of 2 CPUs"), "{screen}");
        assert!(screen.contains("2.4 ms per poll tick"), "{screen}");
        let down = crate::provider::ConnStatus::Disconnected {
            error: "End of file while reading data".into(),
            retry_in: std::time::Duration::from_secs(5),
        };
        let status = ProviderEvent::Status {
            host: 0,
            status: down,
        };
        update(&mut s, Msg::Provider(status), T0 + 6_000);
        update(&mut s, Msg::Tick, T0 + 30_000);
        let screen = super::super::drawn(super::render, &s, (80, 24));
        assert!(
            screen.contains("usage stale · 2 CPUs") && !screen.contains("50.0%"),
            "{screen}"
        );
        assert!(screen.contains(", as last seen"), "{screen}");
        assert!(screen.contains("none while disconnected"), "{screen}");
    }
}
