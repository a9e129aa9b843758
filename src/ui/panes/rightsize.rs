//! `O`: right-sizing recommendations: idle VMs first, then oversized ones by savings, each
//! with the evidence (percentiles over the window) and, with a price table, the money.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use crate::analysis::rightsize::RightsizeRow;
use crate::analytics::rightsize::{percentile_label, Verdict};
use crate::app::State;
use crate::ui::format::{bytes, fit_middle};
use crate::ui::theme::Theme;
use crate::ui::wrap::wrap_spans;

/// Widths of the VERDICT, VCPU and MEMORY columns, and the least of CPU95 and MEM95 (as
/// wide as their header, "CPU99.9" for the 0.999 quantile).
const NUMBERS: [u16; 4] = [10, 6, 11, 6];

/// "EUR15/mo → EUR9", or nothing without prices.
fn money(r: &RightsizeRow, currency: &str) -> String {
    r.savings.as_ref().map_or_else(String::new, |s| {
        format!(
            "{currency}{:.0}/mo → {currency}{:.0}",
            s.current_monthly, s.recommended_monthly
        )
    })
}

#[allow(clippy::cast_precision_loss)]
fn row<'a>(r: &RightsizeRow, currency: &str, name_w: u16, theme: &Theme) -> Row<'a> {
    // Cut in the middle, as the VM table cuts it: node-prod-01 and -02 stay apart.
    let name = Cell::from(fit_middle(&r.name, name_w));
    let Some(rec) = &r.recommendation else {
        return Row::new(vec![
            name,
            Cell::from(r.host.clone()),
            Cell::from(Span::styled(
                if r.collecting {
                    "collecting"
                } else {
                    "no data"
                },
                theme.dim,
            )),
        ]);
    };
    let verdict = rec.verdict();
    let style = match verdict {
        Verdict::Idle => theme.warning,
        Verdict::Oversized => theme.accent,
        Verdict::Undersized => theme.error,
        Verdict::Fits => theme.ok,
    };
    let verdict = verdict.word().to_string();
    let money = money(r, currency);
    Row::new(vec![
        name,
        Cell::from(r.host.clone()),
        Cell::from(Span::styled(verdict, style)),
        Cell::from(format!("{} → {}", rec.current_vcpus, rec.vcpus)),
        Cell::from(format!(
            "{} → {}",
            bytes(rec.current_memory_bytes as f64),
            bytes(rec.memory_bytes as f64)
        )),
        Cell::from(format!("{:.1}%", rec.cpu_sized)),
        Cell::from(bytes(rec.memory_sized)),
        Cell::from(money),
    ])
}

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let rep = &state.reports;
    let loading = if rep.rightsize_loading {
        " · computing…"
    } else {
        ""
    };
    let block = |t: String| {
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Span::styled(t, theme.title))
    };
    let Some(rows) = &rep.rightsize else {
        f.render_widget(
            Paragraph::new(Span::styled("computing…", theme.dim))
                .block(block(format!(" Recommendations{loading} "))),
            area,
        );
        return;
    };
    let selected = rows.get(rep.rightsize_row);
    let evidence = selected
        .map(|r| match &r.recommendation {
            // An idle verdict already counts its samples.
            Some(x) if x.idle => format!("{}: {}", r.name, x.reason),
            Some(x) => format!("{}: {} ({} rows of 5 min)", r.name, x.reason, r.samples),
            None => format!("{}: {}", r.name, r.note.clone().unwrap_or_default()),
        })
        .unwrap_or_default();
    // Without a price table the order is by the cut in vCPUs and memory.
    let by = if rows.iter().any(|r| r.savings.is_some()) {
        "savings"
    } else {
        "the biggest cut"
    };
    let title = super::fit_title(
        format!(" Recommendations · idle first, then by {by}{loading} (j/k select, esc back) "),
        format!(" Recommendations{loading} (j/k, esc) "),
        area.width,
    );
    // Every column as wide as what it holds (a cut price reads as another price); what is
    // left goes after COST, not into a VM column wider than any name.
    let name_w = super::column_width(rows, |r| r.name.clone(), 8);
    let host_w = super::column_width(rows, |r| r.host.clone(), 4);
    let cost_w = super::column_width(rows, |r| money(r, &rep.currency), 4);
    // What the VM column gets when the pane is narrow: names cut there end in "…".
    // The sizing quantile's columns, CPU95 and MEM95 by default (evidence: `[rightsize]`).
    let p = rows
        .iter()
        .find_map(|r| r.recommendation.as_ref())
        .map_or_else(|| "95".to_string(), |r| percentile_label(r.quantile));
    let (cpu_head, mem_head) = (format!("CPU{p}"), format!("MEM{p}"));
    let q_w = u16::try_from(cpu_head.len()).unwrap_or(6).max(NUMBERS[3]);
    let fixed = host_w + NUMBERS[..3].iter().sum::<u16>() + 2 * q_w + cost_w + 7 + 2;
    let name_w = name_w.min(area.width.saturating_sub(fixed).max(4));
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|r| row(r, &rep.currency, name_w, theme))
        .collect();
    let table = Table::new(
        table_rows,
        [
            // At most as wide as the names; the first to give way when the pane is narrow,
            // before any number is cut.
            Constraint::Max(name_w),
            Constraint::Length(host_w),
            Constraint::Length(NUMBERS[0]),
            Constraint::Length(NUMBERS[1]),
            Constraint::Length(NUMBERS[2]),
            Constraint::Length(q_w),
            Constraint::Length(q_w),
            Constraint::Min(cost_w),
        ],
    )
    .header(
        Row::new([
            "VM".to_string(),
            "HOST".into(),
            "VERDICT".into(),
            "VCPU".into(),
            "MEMORY".into(),
            cpu_head,
            mem_head,
            "COST".into(),
        ])
        .style(theme.title),
    )
    .row_highlight_style(theme.selected)
    .block(block(title));
    // The evidence whole, as far as the table keeps its header and three rows.
    let lines = wrap_spans(
        &[Span::raw(evidence)],
        usize::from(area.width.saturating_sub(2)),
        0,
    );
    let room = area.height.saturating_sub(6 + 2).max(2);
    let e_h = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .clamp(2, room)
        + 2;
    let [t, e] = ratatui::layout::Layout::vertical([Constraint::Min(4), Constraint::Length(e_h)])
        .areas(area);
    // The selected row (whose evidence is shown) is kept in view.
    let mut view = TableState::default().with_selected(Some(rep.rightsize_row));
    f.render_stateful_widget(table, t, &mut view);
    f.render_widget(Paragraph::new(lines).block(block(" Evidence ".into())), e);
}
