//! `H`: one host at a time (j/k switch): its link (with the reason when down), capacity figures, the poll's own cost, and charts of
//! host CPU and memory.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::detail::{chart_grid, ChartSpec};
use crate::app::state::HostView;
use crate::app::State;
use crate::domain::{Metric, Unit};
use crate::provider::ConnStatus;
use crate::ui::format::{ago, kib, metric};
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

/// The host's link: connected to whom, or down since when and why.
fn link(state: &State, h: &HostView, theme: &Theme) -> Span<'static> {
    match &h.status {
        ConnStatus::Connecting => Span::styled("connecting…", theme.pending),
        ConnStatus::Connected { hostname } => {
            Span::styled(format!("● connected to {hostname}"), theme.ok)
        }
        _ => Span::styled(down_text(state, h).unwrap_or_default(), theme.error),
    }
}

/// The figures under the title: link, CPU, memory, VMs, the poll's cost.
fn figures<'a>(state: &State, h: &HostView, theme: &Theme, link: Span<'a>) -> Vec<Line<'a>> {
    let m = &h.metrics;
    let v = |x: Metric| {
        m.live
            .value(x)
            .map_or_else(|| "-".into(), |val| metric(val, x.unit()))
    };
    let running = state
        .vms
        .values()
        .filter(|e| e.vm.id.host == h.id && e.vm.state.is_active())
        .count();
    let total = state.vms.keys().filter(|id| id.host == h.id).count();
    let unknown = |n: u64, text: String| if n == 0 { "unknown".to_string() } else { text };
    vec![
        Line::from(vec![
            Span::styled(format!("{:<10}", "link"), theme.dim),
            link,
        ]),
        Line::from(vec![
            Span::styled(format!("{:<10}", "cpu"), theme.dim),
            Span::raw(unknown(
                u64::from(m.cpus),
                format!(
                    "{} busy of {} CPUs · vCPU:pCPU {}",
                    v(Metric::HostCpuPct),
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
                    "{} used of {} · running VMs hold {}",
                    v(Metric::HostMemUsedBytes),
                    kib(m.mem_total_kib),
                    v(Metric::HostMemCommittedPct)
                ),
            )),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<10}", "vms"), theme.dim),
            Span::raw(format!("{running} running of {total}")),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<10}", "poll"), theme.dim),
            Span::raw(format!(
                "{:.1} ms per poll tick · {} skipped (overran)",
                m.last_poll_ms, m.overruns
            )),
        ]),
    ]
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(h) = state.cursor_host() else {
        return;
    };
    let link = link(state, h, theme);
    // The reason a host is down is the one long line: it wraps rather than being cut.
    let inner = usize::from(area.width.saturating_sub(2)).max(1);
    let link_rows = (10 + link.content.chars().count()).div_ceil(inner);
    let lines = figures(state, h, theme, link);
    let top_rows = u16::try_from(6 + link_rows).unwrap_or(7);
    let [top, charts] =
        Layout::vertical([Constraint::Length(top_rows), Constraint::Min(6)]).areas(area);
    let title = format!(
        " Host {} ({}/{}) · {}  (j/k host, +/- range, f freeze, esc back) ",
        h.uri,
        state.view.host_cursor + 1,
        state.hosts.len(),
        state.charts.range_label()
    );
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
    chart_grid(
        state,
        theme,
        f,
        charts,
        &[
            ChartSpec::new(
                "Host CPU",
                Unit::Percent,
                vec![(Metric::HostCpuPct, "busy")],
            ),
            ChartSpec::new(
                "Host memory",
                Unit::Bytes,
                vec![(Metric::HostMemUsedBytes, "used")],
            ),
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
