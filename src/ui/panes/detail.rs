//! Detail of the selected VM: state and resources, devices, and charts of CPU, memory, disk
//! and network over the chosen range (history from the store, extended live).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use crate::app::live::Live;
use crate::app::state::VmEntry;
use crate::app::State;
use crate::domain::{MemSource, Metric, Unit};
use crate::ui::format::{kib, metric, wrap_words};
use crate::ui::theme::Theme;
use crate::ui::widgets::{time_chart, Now, Series};
use crate::ui::wrap::wrap_spans;

fn block<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title))
}

fn kv<'a>(k: &str, v: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        // Eight columns, and one space at least after a longer label ("emulator").
        Span::styled(format!("{k:<7} "), theme.dim),
        Span::raw(v),
    ])
}

/// "12.3%" or "stale" or "-", for the info lines.
fn live_value(state: &State, e: &VmEntry, m: Metric) -> String {
    let live = &e.metrics.live;
    match live.value(m) {
        None => "-".into(),
        Some(_) if live.is_stale(m, state.now_ms, &state.settings.cadence) => "stale".into(),
        Some(v) => metric(v, m.unit()),
    }
}

fn info<'a>(state: &State, e: &VmEntry, theme: &Theme) -> Vec<Line<'a>> {
    let vm = &e.vm;
    let mem_src = match e.metrics.rates.mem_source {
        Some(MemSource::Guest) => " (guest view)",
        Some(MemSource::Rss) => " (QEMU RSS: no guest stats)",
        Some(MemSource::Waiting) => " (waiting for guest stats)",
        None => "",
    };
    let v = |m| live_value(state, e, m);
    let entity = crate::app::ingest::vm_entity(state.host_uri(vm.id.host), &vm.id.uuid);
    let unusual: Vec<Line> = state
        .anomalies
        .of(&entity)
        .map(|(_, a)| {
            Line::from(vec![
                Span::styled(format!("{:<7} ", "unusual"), theme.error),
                Span::styled(
                    format!(
                        "{} (since {})",
                        a.text,
                        crate::ui::format::clock(a.since_ms, state.tz_offset_s)
                    ),
                    theme.error,
                ),
            ])
        })
        .collect();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<7} ", "state"), theme.dim),
            Span::styled(vm.state_text(), theme.state(vm.state)),
        ]),
        kv(
            "cpu",
            format!(
                "{} of {} vCPU · {} of host",
                v(Metric::CpuPct),
                vm.vcpus,
                v(Metric::CpuHostPct)
            ),
            theme,
        ),
        kv(
            "memory",
            format!(
                "{} used{mem_src} · {} of {} max",
                v(Metric::MemUsedBytes),
                kib(vm.mem_kib),
                kib(vm.max_mem_kib)
            ),
            theme,
        ),
        kv(
            "disk",
            format!(
                "rd {} wr {} · {} iops · {} lat",
                v(Metric::DiskRdBps),
                v(Metric::DiskWrBps),
                v(Metric::DiskWrIops),
                v(Metric::DiskWrLatMs)
            ),
            theme,
        ),
        kv(
            "net",
            format!(
                "rx {} tx {} · {} drops",
                v(Metric::NetRxBps),
                v(Metric::NetTxBps),
                v(Metric::NetDropsPerS)
            ),
            theme,
        ),
        kv(
            "ip",
            if vm.ips.is_empty() {
                "-".into()
            } else {
                vm.ips.join(", ")
            },
            theme,
        ),
    ];
    lines.splice(1..1, unusual);
    lines
}

/// The devices pane's lines, each value wrapped under itself within `width` (a disk's path
/// and a NIC's network are long at 80 columns).
fn devices<'a>(e: &VmEntry, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let vm = &e.vm;
    let mut rows: Vec<(String, String)> = vm
        .disks
        .iter()
        .map(|d| {
            let v = format!("{} {} {} {}", d.device, d.bus, d.format, d.source);
            (d.target.clone(), v)
        })
        .collect();
    rows.extend(vm.nics.iter().map(|n| {
        let v = format!("{} {} {} {} {}", n.mac, n.kind, n.source, n.model, n.target);
        ("nic".to_string(), v)
    }));
    let flags = format!(
        "autostart {} · {}",
        if vm.autostart { "yes" } else { "no" },
        if vm.persistent {
            "persistent"
        } else {
            "transient"
        }
    );
    rows.push(("flags".into(), flags));
    // Identity before the emulator details: a short pane loses its last lines.
    rows.push(("uuid".into(), vm.id.uuid.clone()));
    rows.extend(vm.summary.iter().cloned());
    rows.into_iter()
        .flat_map(|(k, v)| {
            let key = format!("{k:<7} ");
            let pad = key.chars().count();
            wrap_words(&v, width.saturating_sub(pad), 0)
                .into_iter()
                .enumerate()
                .map(|(i, part)| {
                    let lead = if i == 0 { key.clone() } else { " ".repeat(pad) };
                    Line::from(vec![Span::styled(lead, theme.dim), Span::raw(part)])
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// At most `rows` lines; when some do not fit, the last row says how many are left out
/// (a pane that silently ends looks complete), and `hint` how to see them.
fn fit_lines<'a>(
    mut lines: Vec<Line<'a>>,
    rows: usize,
    hint: &str,
    theme: &Theme,
) -> Vec<Line<'a>> {
    if lines.len() > rows && rows > 0 {
        let hidden = lines.len() - (rows - 1);
        lines.truncate(rows - 1);
        lines.push(Line::styled(
            format!("… {hidden} more lines{hint}"),
            theme.dim,
        ));
    }
    lines
}

/// One chart of a grid.
pub struct ChartSpec<'a> {
    pub title: &'a str,
    pub unit: Unit,
    /// The series it draws, with their labels.
    pub metrics: Vec<(Metric, &'a str)>,
    /// What it says while there is nothing to draw.
    pub empty: &'a str,
}

impl<'a> ChartSpec<'a> {
    /// A chart that says "no data yet" until its first point.
    #[must_use]
    pub fn new(title: &'a str, unit: Unit, metrics: Vec<(Metric, &'a str)>) -> Self {
        Self {
            title,
            unit,
            metrics,
            empty: "no data yet",
        }
    }

    /// Says `why`, when there is one, instead of "no data yet" (nothing will ever come).
    #[must_use]
    pub fn empty_when(self, why: Option<&'a str>) -> Self {
        match why {
            Some(why) => Self { empty: why, ..self },
            None => self,
        }
    }
}

/// The 2×2 chart grid shared by the VM detail and the host pane.
/// `live` is the entity's live metrics: the titles' "now" (none while the charts are frozen).
pub fn chart_grid(
    state: &State,
    theme: &Theme,
    f: &mut Frame,
    (area, live): (Rect, &Live),
    charts: &[ChartSpec],
) {
    let c = &state.charts;
    let range = (c.from_ms(), c.to_ms, c.range_label());
    let [top, bottom] =
        Layout::vertical([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(area);
    let cells: Vec<Rect> = [top, bottom]
        .into_iter()
        .flat_map(|r| {
            let [a, b]: [Rect; 2] =
                Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(r);
            [a, b]
        })
        .collect();
    let styles = [theme.accent, theme.warning];
    for (spec, rect) in charts.iter().zip(cells) {
        let series: Vec<Series> = spec
            .metrics
            .iter()
            .zip(styles)
            .map(|((m, label), style)| Series {
                label,
                style,
                points: c.series.get(m).map_or(&[][..], Vec::as_slice),
                spread: c.spread.get(m).map_or(&[][..], Vec::as_slice),
                now: match live.value(*m) {
                    _ if c.frozen => Now::LastPoint,
                    Some(v) if !live.is_stale(*m, state.now_ms, &state.settings.cadence) => {
                        Now::Live(v)
                    }
                    _ => Now::Unknown,
                },
            })
            .collect();
        time_chart(
            f, rect, theme, spec.title, spec.unit, range, &series, spec.empty,
        );
    }
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(e) = state.selected() else {
        f.render_widget(
            Paragraph::new("no VM selected").block(block(" Detail ".into(), theme)),
            area,
        );
        return;
    };
    // The summary takes what its lines need (at most 60 %), the devices the rest: a disk's
    // path and a NIC's network are the long lines.
    let info_lines = info(state, e, theme);
    let want = u16::try_from(info_lines.iter().map(Line::width).max().unwrap_or(0) + 2)
        .unwrap_or(u16::MAX);
    let left_w = want.min(area.width.saturating_mul(60) / 100);
    // A summary line too long for its share wraps under its value rather than losing its end,
    // and the panes grow for it while the charts keep 12 rows.
    let info_lines: Vec<Line> = info_lines
        .iter()
        .flat_map(|l| wrap_spans(&l.spans, usize::from(left_w.saturating_sub(2)), 8))
        .collect();
    let base = if area.height >= 30 { 10 } else { 8 };
    let need = u16::try_from(info_lines.len() + 2).unwrap_or(u16::MAX);
    // `enter` in the pane gives the devices the charts' rows.
    // `enter` in the pane gives the devices the whole pane, where paths need not wrap.
    if state.view.all_devices {
        let title =
            super::title_with_name(" ", &e.vm.name, " · devices (enter: charts) ", area.width);
        let lines = devices(e, theme, usize::from(area.width.saturating_sub(2)));
        let lines = fit_lines(lines, usize::from(area.height.saturating_sub(2)), "", theme);
        f.render_widget(Paragraph::new(lines).block(block(title, theme)), area);
        return;
    }
    let info_h = need.min(area.height.saturating_sub(12)).max(base);
    let [top, charts] =
        Layout::vertical([Constraint::Length(info_h), Constraint::Min(6)]).areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(10)]).areas(top);
    let c = &state.charts;
    let mode = if c.frozen {
        " · frozen (f resumes)"
    } else {
        ""
    };
    let loading = if c.loading { " · loading…" } else { "" };
    // With several hosts the name alone does not say which VM the keys act on.
    let host = if state.hosts.len() > 1 {
        format!(" on {}", state.host_label(e.vm.id.host))
    } else {
        String::new()
    };
    let after = format!("{host} · last {}{mode}{loading} ", c.range_label());
    let title = super::title_with_name(" ", &e.vm.name, &after, left.width);
    f.render_widget(Paragraph::new(info_lines).block(block(title, theme)), left);
    f.render_widget(
        Paragraph::new(fit_lines(
            devices(e, theme, usize::from(right.width.saturating_sub(2))),
            usize::from(right.height.saturating_sub(2)),
            " (enter: all)",
            theme,
        ))
        .block(block(" Devices ".into(), theme)),
        right,
    );
    chart_grid(
        state,
        theme,
        f,
        (charts, &e.metrics.live),
        &[
            // One series: no label to repeat the title ("CPU cpu 12%").
            ChartSpec::new("CPU", Unit::Percent, vec![(Metric::CpuPct, "")]),
            ChartSpec::new("Memory", Unit::Bytes, vec![(Metric::MemUsedBytes, "used")]),
            ChartSpec::new(
                "Disk",
                Unit::BytesPerSec,
                vec![(Metric::DiskRdBps, "rd"), (Metric::DiskWrBps, "wr")],
            )
            .empty_when(e.vm.missing_device(Metric::DiskWrBps)),
            ChartSpec::new(
                "Network",
                Unit::BytesPerSec,
                vec![(Metric::NetRxBps, "rx"), (Metric::NetTxBps, "tx")],
            )
            .empty_when(e.vm.missing_device(Metric::NetRxBps)),
        ],
    );
}
