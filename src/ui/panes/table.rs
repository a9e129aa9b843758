//! The VM table: one row per visible VM, the cursor row highlighted, sort and filter in the
//! title. Only the rows on screen are built, so 1000 VMs cost no more than 20.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};
use ratatui::Frame;

use crate::app::state::{SortKey, VmEntry};
use crate::app::State;
use crate::ui::format::kib;
use crate::ui::theme::Theme;

const HEADERS: [(&str, Option<SortKey>); 8] = [
    ("NAME", Some(SortKey::Name)),
    ("HOST", Some(SortKey::Host)),
    ("STATE", Some(SortKey::State)),
    ("CPU%", Some(SortKey::Cpu)),
    ("VCPU", Some(SortKey::Vcpus)),
    ("MEM", Some(SortKey::Memory)),
    ("IP", None),
    ("AUTO", None),
];

const WIDTHS: [Constraint; 8] = [
    Constraint::Min(8),
    Constraint::Length(6),
    Constraint::Length(19),
    Constraint::Length(5),
    Constraint::Length(4),
    Constraint::Length(9),
    Constraint::Length(15),
    Constraint::Length(4),
];

fn state_cell<'a>(state: &State, e: &VmEntry, theme: &Theme) -> Cell<'a> {
    if let Some(op) = e.pending.and_then(|id| state.ops.get(&id)) {
        return Cell::from(Span::styled(format!("{}…", op.op), theme.pending));
    }
    Cell::from(Span::styled(e.vm.state_text(), theme.state(e.vm.state)))
}

fn row<'a>(state: &State, e: &VmEntry, theme: &Theme) -> Row<'a> {
    let cpu = e
        .rates
        .cpu_pct
        .map_or_else(|| "-".to_string(), |c| format!("{c:.1}"));
    let ip =
        e.vm.ips
            .first()
            .map(|ip| ip.split('/').next().unwrap_or(ip).to_string())
            .unwrap_or_default();
    Row::new(vec![
        Cell::from(e.vm.name.clone()),
        Cell::from(state.host_label(e.vm.id.host).to_string()),
        state_cell(state, e, theme),
        Cell::from(Line::from(cpu).right_aligned()),
        Cell::from(Line::from(e.vm.vcpus.to_string()).right_aligned()),
        Cell::from(format!("{}/{}", kib(e.vm.mem_kib), kib(e.vm.max_mem_kib))),
        Cell::from(ip),
        Cell::from(if e.vm.autostart { "yes" } else { "no" }),
    ])
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
    let header = Row::new(HEADERS.iter().map(|(h, key)| {
        let style = if *key == Some(state.view.sort) {
            theme.accent
        } else {
            theme.title
        };
        Cell::from(Span::styled(*h, style))
    }));
    let body_height = usize::from(area.height.saturating_sub(3));
    let offset = state.view.offset;
    let rows: Vec<Row> = state
        .rows
        .iter()
        .skip(offset)
        .take(body_height)
        .filter_map(|id| state.vms.get(id))
        .map(|e| row(state, e, theme))
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title(state), theme.title));
    let table = Table::new(rows, WIDTHS)
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
