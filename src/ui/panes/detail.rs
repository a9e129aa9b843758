//! Detail of the selected VM: identity, state, resources, addresses, disks, NICs and the
//! XML summary.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};
use ratatui::Frame;

use crate::app::state::VmEntry;
use crate::app::State;
use crate::domain::Vm;
use crate::ui::format::{kib, rate};
use crate::ui::theme::Theme;

fn block<'a>(title: &'a str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title))
}

fn kv<'a>(k: &str, v: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{k:<11}"), theme.dim),
        Span::raw(v),
    ])
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let Some(e) = state.selected() else {
        f.render_widget(
            Paragraph::new("no VM selected").block(block(" Detail ", theme)),
            area,
        );
        return;
    };
    let vm = &e.vm;
    let height = |n: usize| {
        u16::try_from(n)
            .unwrap_or(u16::MAX)
            .saturating_add(3)
            .min(8)
    };
    let [props, disks, nics] = Layout::vertical([
        Constraint::Min(6),
        Constraint::Length(height(vm.disks.len())),
        Constraint::Length(height(vm.nics.len())),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(properties(state, e, theme)).block(block(" Detail (esc back) ", theme)),
        props,
    );
    f.render_widget(disk_table(vm, theme), disks);
    f.render_widget(nic_table(vm, theme), nics);
}

fn properties<'a>(state: &State, e: &VmEntry, theme: &Theme) -> Vec<Line<'a>> {
    let vm = &e.vm;
    let cpu = e
        .rates
        .cpu_pct
        .map_or_else(|| "-".into(), |c| format!("{c:.1} %"));
    let net = match (e.rates.net_rx_bps, e.rates.net_tx_bps) {
        (Some(rx), Some(tx)) => format!("rx {} tx {}", rate(rx), rate(tx)),
        _ => "-".into(),
    };
    let mut lines = vec![
        kv("name", vm.name.clone(), theme),
        kv("uuid", vm.id.uuid.clone(), theme),
        kv("host", state.host_uri(vm.id.host).to_string(), theme),
        Line::from(vec![
            Span::styled(format!("{:<11}", "state"), theme.dim),
            Span::styled(vm.state_text(), theme.state(vm.state)),
        ]),
        kv("vcpus", format!("{}   cpu {cpu}", vm.vcpus), theme),
        kv(
            "memory",
            format!("{} of {} max", kib(vm.mem_kib), kib(vm.max_mem_kib)),
            theme,
        ),
        kv("network", net, theme),
        kv(
            "ip",
            if vm.ips.is_empty() {
                "-".into()
            } else {
                vm.ips.join(", ")
            },
            theme,
        ),
        kv(
            "flags",
            format!(
                "autostart {} · {}",
                if vm.autostart { "yes" } else { "no" },
                if vm.persistent {
                    "persistent"
                } else {
                    "transient"
                }
            ),
            theme,
        ),
    ];
    lines.extend(vm.summary.iter().map(|(k, v)| kv(k, v.clone(), theme)));
    lines
}

fn disk_table<'a>(vm: &Vm, theme: &'a Theme) -> Table<'a> {
    let rows = vm.disks.iter().map(|d| {
        Row::new(vec![
            d.target.clone(),
            d.device.clone(),
            d.bus.clone(),
            d.format.clone(),
            d.source.clone(),
        ])
    });
    let widths = [
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Min(10),
    ];
    Table::new(rows, widths)
        .header(Row::new(["TARGET", "DEVICE", "BUS", "FORMAT", "SOURCE"]).style(theme.title))
        .block(block(" Disks ", theme))
}

fn nic_table<'a>(vm: &Vm, theme: &'a Theme) -> Table<'a> {
    let rows = vm.nics.iter().map(|n| {
        Row::new(vec![
            n.mac.clone(),
            n.kind.clone(),
            n.source.clone(),
            n.model.clone(),
            n.target.clone(),
        ])
    });
    let widths = [
        Constraint::Length(17),
        Constraint::Length(8),
        Constraint::Min(10),
        Constraint::Length(8),
        Constraint::Length(8),
    ];
    Table::new(rows, widths)
        .header(Row::new(["MAC", "TYPE", "SOURCE", "MODEL", "DEV"]).style(theme.title))
        .block(block(" NICs ", theme))
}
