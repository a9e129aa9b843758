//! The VM table: one row per visible VM, the cursor row highlighted, sort and filter in the
//! title. Only the rows on screen are built, so 1000 VMs cost no more than 20. The host column
//! appears with more than one connection; the CPU sparkline when the width allows it.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};
use ratatui::Frame;

use crate::app::state::{SortKey, VmEntry};
use crate::app::State;
use crate::domain::Metric;
use crate::ui::format::kib;
use crate::ui::theme::Theme;
use crate::ui::widgets::spark_text;

const SPARK: u16 = 7;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Host,
    State,
    Spark,
    Cpu,
    Vcpu,
    Mem,
    Ip,
    Auto,
}

impl Col {
    fn header(self) -> (&'static str, Option<SortKey>) {
        match self {
            Col::Name => ("NAME", Some(SortKey::Name)),
            Col::Host => ("HOST", Some(SortKey::Host)),
            Col::State => ("STATE", Some(SortKey::State)),
            Col::Spark => ("CPU", None),
            Col::Cpu => ("CPU%", Some(SortKey::Cpu)),
            Col::Vcpu => ("VCPU", Some(SortKey::Vcpus)),
            Col::Mem => ("MEM", Some(SortKey::Memory)),
            Col::Ip => ("IP", None),
            Col::Auto => ("AUTO", None),
        }
    }

    fn width(self) -> u16 {
        match self {
            Col::Name => 8,
            Col::Host => 6,
            Col::State => 19,
            Col::Spark => SPARK,
            Col::Cpu => 5,
            Col::Vcpu | Col::Auto => 4,
            Col::Mem => 9,
            Col::Ip => 15,
        }
    }
}

/// The columns that fit `inner_width`: the sparkline is dropped first.
fn columns(multi_host: bool, inner_width: u16) -> Vec<Col> {
    let mut cols = vec![Col::Name];
    if multi_host {
        cols.push(Col::Host);
    }
    cols.extend([
        Col::State,
        Col::Spark,
        Col::Cpu,
        Col::Vcpu,
        Col::Mem,
        Col::Ip,
        Col::Auto,
    ]);
    let need = |c: &[Col]| c.iter().map(|c| c.width() + 1).sum::<u16>() - 1;
    if need(&cols) > inner_width {
        cols.retain(|c| *c != Col::Spark);
    }
    cols
}

fn cell<'a>(state: &State, e: &VmEntry, col: Col, theme: &Theme) -> Cell<'a> {
    let live = &e.metrics.live;
    match col {
        Col::Name => {
            let entity = crate::app::ingest::vm_entity(state.host_uri(e.vm.id.host), &e.vm.id.uuid);
            if state.anomalies.any(&entity) {
                // Something about this VM is unusual now: the detail pane says what.
                Cell::from(Span::styled(format!("!{}", e.vm.name), theme.error))
            } else {
                Cell::from(e.vm.name.clone())
            }
        }
        Col::Host => Cell::from(state.host_label(e.vm.id.host).to_string()),
        Col::State => match e.pending.and_then(|id| state.ops.get(&id)) {
            Some(op) => Cell::from(Span::styled(format!("{}…", op.op), theme.pending)),
            None => Cell::from(Span::styled(e.vm.state_text(), theme.state(e.vm.state))),
        },
        Col::Spark => Cell::from(Span::styled(
            spark_text(live.spark.iter().copied(), usize::from(SPARK), 100.0),
            theme.accent,
        )),
        Col::Cpu => {
            if live.is_stale(Metric::CpuPct, state.now_ms, &state.settings.cadence) {
                Cell::from(Line::from(Span::styled("stale", theme.dim)).right_aligned())
            } else {
                let v = live
                    .value(Metric::CpuPct)
                    .map_or_else(|| "-".into(), |c| format!("{c:.1}"));
                Cell::from(Line::from(v).right_aligned())
            }
        }
        Col::Vcpu => Cell::from(Line::from(e.vm.vcpus.to_string()).right_aligned()),
        Col::Mem => Cell::from(format!("{}/{}", kib(e.vm.mem_kib), kib(e.vm.max_mem_kib))),
        Col::Ip => Cell::from(
            e.vm.ips
                .first()
                .map(|ip| ip.split('/').next().unwrap_or(ip).to_string())
                .unwrap_or_default(),
        ),
        Col::Auto => Cell::from(if e.vm.autostart { "yes" } else { "no" }),
    }
}

fn title(state: &State) -> String {
    let arrow = if state.view.descending { "▼" } else { "▲" };
    let mut t = format!(
        " VMs {}/{} · sort {} {arrow} ",
        state.rows.len(),
        state.vms.len(),
        state.view.sort.label()
    );
    if !state.view.filter.is_empty() {
        t.push_str("· filter ");
        t.push_str(&state.view.filter);
        t.push(' ');
    }
    t
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let cols = columns(state.hosts.len() > 1, area.width.saturating_sub(2));
    let header = Row::new(cols.iter().map(|c| {
        let (h, key) = c.header();
        let style = if key == Some(state.view.sort) {
            theme.accent
        } else {
            theme.title
        };
        Cell::from(Span::styled(h, style))
    }));
    let widths: Vec<Constraint> = cols
        .iter()
        .map(|c| {
            if *c == Col::Name {
                Constraint::Min(c.width())
            } else {
                Constraint::Length(c.width())
            }
        })
        .collect();
    let body_height = usize::from(area.height.saturating_sub(3));
    let offset = state.view.offset;
    let rows: Vec<Row> = state
        .rows
        .iter()
        .skip(offset)
        .take(body_height)
        .filter_map(|id| state.vms.get(id))
        .map(|e| Row::new(cols.iter().map(|c| cell(state, e, *c, theme))))
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title(state), theme.title));
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .row_highlight_style(theme.selected);
    let selected = (!state.rows.is_empty()).then(|| state.view.cursor.saturating_sub(offset));
    let mut ts = TableState::default().with_selected(selected);
    f.render_stateful_widget(table, area, &mut ts);
    if state.rows.is_empty() {
        let msg = if state.vms.is_empty() {
            "no VMs yet (waiting for the connection)"
        } else {
            "no VM matches the filter (esc clears it)"
        };
        let inner = Rect {
            x: area.x + 2,
            y: area.y + 2,
            width: area.width.saturating_sub(4),
            height: 1.min(area.height.saturating_sub(2)),
        };
        f.render_widget(Span::styled(msg, theme.dim), inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_issue_column_fits_80_columns_and_the_sparkline_yields_first() {
        let one = columns(false, 78);
        assert!(one.contains(&Col::Spark) && one.contains(&Col::Auto));
        let many = columns(true, 78);
        assert!(
            !many.contains(&Col::Spark),
            "two hosts at 80 columns: no room for the sparkline"
        );
        assert!(many.contains(&Col::Host) && many.contains(&Col::Ip) && many.contains(&Col::Auto));
        assert!(columns(true, 120).contains(&Col::Spark));
    }
}
