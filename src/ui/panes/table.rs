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
use crate::provider::ConnStatus;
use crate::ui::format::{fit, fit_middle, kib, width};
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
            Col::Mem => 10,
            Col::Ip => 15,
        }
    }
}

/// What the rows on screen need: their longest name, state and address.
#[derive(Clone, Copy)]
struct Need {
    name: u16,
    host: u16,
    state: u16,
    ip: u16,
}

/// The columns and the widths of those that vary with the rows (name, state, address).
struct Columns {
    cols: Vec<Col>,
    name: u16,
    host: u16,
    state: u16,
    ip: u16,
}

/// The columns that fit `inner_width` for rows that need `need`. The whole name and state
/// come first: the sparkline, then autostart, are dropped before either is cut, and when
/// they must be cut anyway, the state keeps at least its word ("running", "shut off") and the
/// name the rest (cut in its middle, so names that differ at the end stay apart).
fn columns(multi_host: bool, inner_width: u16, need: Need) -> Columns {
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
    let name_need = need.name.clamp(4, 64);
    let state_need = need.state.clamp(5, 26);
    let ip = need.ip.clamp(2, 39);
    // Host labels are short names, or whole addresses that only differ at their end.
    let host = need.host.clamp(4, 39);
    // Width of everything but the name and state, separators included.
    let rest = |c: &[Col], host: u16| -> u16 {
        c.iter()
            .map(|c| match c {
                Col::Name | Col::State => 0,
                Col::Ip => ip + 1,
                Col::Host => host + 1,
                _ => c.width() + 1,
            })
            .sum::<u16>()
            + 1
    };
    if rest(&cols, host) + name_need + state_need > inner_width {
        cols.retain(|c| *c != Col::Spark);
    }
    // Then autostart, which matters least of what is left (the detail pane has it).
    if rest(&cols, host) + name_need + state_need > inner_width {
        cols.retain(|c| *c != Col::Auto);
    }
    // Still too narrow: a long host label gives way before the name and state do.
    let host = if rest(&cols, host) + name_need + state_need > inner_width {
        host.min(12)
    } else {
        host
    };
    let room = inner_width.saturating_sub(rest(&cols, host));
    // The name keeps 8 columns (fewer if it needs fewer) before the state is whole.
    let state = state_need
        .min(room.saturating_sub(name_need.min(8)))
        .max(8.min(state_need));
    // No wider than the longest name: on a wide terminal the spare columns go to the
    // right of the table, not into a gap between the name and the state.
    let name = room.saturating_sub(state).min(name_need).max(4);
    Columns {
        cols,
        name,
        host,
        state,
        ip,
    }
}

/// Memory in use in few characters: whole MiB ("28M"), GiB with a decimal under 10 ("1.5G").
fn whole(bytes: f64) -> String {
    let mib = bytes / 1_048_576.0;
    if mib >= 10_240.0 {
        format!("{:.0}G", mib / 1024.0)
    } else if mib >= 1024.0 {
        format!("{:.1}G", mib / 1024.0)
    } else {
        format!("{:.0}M", mib.max(0.0))
    }
}

/// The address shown for a VM: its first, without the prefix length.
fn first_ip(e: &VmEntry) -> String {
    e.vm.ips
        .first()
        .map(|ip| ip.split('/').next().unwrap_or(ip).to_string())
        .unwrap_or_default()
}

fn cell<'a>(state: &State, e: &VmEntry, col: Col, w: &Columns, theme: &Theme) -> Cell<'a> {
    let live = &e.metrics.live;
    match col {
        Col::Name => {
            let entity = crate::app::ingest::vm_entity(state.host_uri(e.vm.id.host), &e.vm.id.uuid);
            if state.anomalies.any(&entity) {
                // Something about this VM is unusual now: the detail pane says what.
                Cell::from(Span::styled(
                    fit_middle(&format!("!{}", e.vm.name), w.name),
                    theme.error,
                ))
            } else {
                Cell::from(fit_middle(&e.vm.name, w.name))
            }
        }
        Col::Host => Cell::from(fit(state.host_label(e.vm.id.host), w.host)),
        Col::State => match e.pending.and_then(|id| state.ops.get(&id)) {
            Some(op) => Cell::from(Span::styled(
                fit(&format!("{}…", op.op), w.state),
                theme.pending,
            )),
            None => Cell::from(Span::styled(
                fit(&e.vm.state_text(), w.state),
                theme.state(e.vm.state),
            )),
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
        // Used of what the VM holds now, as the host pane says it: "28M/96M", "-/1G" when
        // nothing is measured (shut off, or the first poll).
        Col::Mem => {
            let fresh = e.vm.state.is_active()
                && !live.is_stale(Metric::MemUsedBytes, state.now_ms, &state.settings.cadence);
            let used = live
                .value(Metric::MemUsedBytes)
                .filter(|_| fresh)
                .map_or_else(|| "-".into(), whole);
            Cell::from(format!("{used}/{}", kib(e.vm.mem_kib)))
        }
        Col::Ip => Cell::from(first_ip(e)),
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
    let body_height = usize::from(area.height.saturating_sub(3));
    // The reducer scrolls for the usual layout; a footer message of several lines takes
    // rows from it for a few seconds, and the selected row must stay drawn (a key acts on
    // it), so the view scrolls here by what is missing.
    let offset = state
        .view
        .offset
        .max((state.view.cursor + 1).saturating_sub(body_height));
    let visible: Vec<&VmEntry> = state
        .rows
        .iter()
        .skip(offset)
        .take(body_height)
        .filter_map(|id| state.vms.get(id))
        .collect();
    // Widths from every VM, not the rows on screen: they hold still while the filter
    // narrows, the table scrolls, or nothing matches.
    let need = |f: &dyn Fn(&VmEntry) -> usize| {
        u16::try_from(state.vms.values().map(f).max().unwrap_or(0)).unwrap_or(u16::MAX)
    };
    // One more for the "!" of a VM with unusual readings: only a longest name can need it,
    // so the anomaly lookup (an entity string per VM) is made for those alone.
    let longest = need(&|e| width(&e.vm.name));
    let flagged = state
        .vms
        .values()
        .filter(|e| width(&e.vm.name) == usize::from(longest))
        .any(|e| {
            let uri = state.host_uri(e.vm.id.host);
            state
                .anomalies
                .any(&crate::app::ingest::vm_entity(uri, &e.vm.id.uuid))
        });
    let w = columns(
        state.hosts.len() > 1,
        area.width.saturating_sub(2),
        Need {
            name: longest.saturating_add(u16::from(flagged)),
            host: need(&|e| width(state.host_label(e.vm.id.host))),
            // A pending operation shows "shutdown…" where the state was.
            state: need(&|e| {
                let pending = e
                    .pending
                    .and_then(|id| state.ops.get(&id))
                    .map_or(0, |op| op.op.name().len() + 1);
                e.vm.state_text().chars().count().max(pending)
            }),
            ip: need(&|e| first_ip(e).chars().count()),
        },
    );
    let cols = &w.cols;
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
        .map(|c| match c {
            Col::Name => Constraint::Length(w.name),
            Col::State => Constraint::Length(w.state),
            Col::Ip => Constraint::Length(w.ip),
            Col::Host => Constraint::Length(w.host),
            _ => Constraint::Length(c.width()),
        })
        .collect();
    let rows: Vec<Row> = visible
        .iter()
        .map(|e| Row::new(cols.iter().map(|c| cell(state, e, *c, &w, theme))))
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
        let msg = empty_message(state);
        let inner = Rect {
            x: area.x + 2,
            y: area.y + 2,
            width: area.width.saturating_sub(4),
            height: 1.min(area.height.saturating_sub(2)),
        };
        f.render_widget(Span::styled(msg, theme.dim), inner);
    }
}

/// Why the table is empty, so an operator knows whether to wait, fix a host or clear a filter.
fn empty_message(state: &State) -> &'static str {
    if !state.vms.is_empty() {
        return "no VM matches the filter (esc clears it)";
    }
    let waiting = state.hosts.iter().any(|h| {
        matches!(
            h.status,
            ConnStatus::Connecting | ConnStatus::Disconnected { .. }
        )
    });
    if state.hosts.is_empty() {
        "no hosts (:connect URI adds one)"
    } else if waiting {
        "no VMs yet (waiting for the connection)"
    } else if state
        .hosts
        .iter()
        .all(|h| matches!(h.status, ConnStatus::Failed { .. }))
    {
        "no VMs: no host could be connected (see the header; :connect URI tries again)"
    } else {
        "no VMs are defined on the connected hosts"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_in_use_is_short() {
        assert_eq!(super::whole(29_464_576.0), "28M");
        assert_eq!(super::whole(1.5 * 1_073_741_824.0), "1.5G");
        assert_eq!(super::whole(24.0 * 1_073_741_824.0), "24G");
        assert_eq!(super::whole(-1.0), "0M");
    }

    use super::*;

    /// The lab: 10-character names, addresses like 10.213.7.228, states this long.
    fn lab(state: u16) -> Need {
        Need {
            name: 10,
            host: 5,
            state,
            ip: 12,
        }
    }

    #[test]
    fn a_longest_name_with_unusual_readings_keeps_room_for_its_mark() {
        let mut s = crate::app::fixtures::state();
        let screen = |s: &State| crate::ui::panes::drawn(render, s, (80, 12));
        // db-main, 7 columns, is the longest name: its row has no room to spare.
        assert!(screen(&s).contains("│db-main local"), "{}", screen(&s));
        let db = s.vms.values().find(|e| e.vm.name == "db-main").unwrap();
        let entity = crate::app::ingest::vm_entity(s.host_uri(0), &db.vm.id.uuid);
        s.anomalies.active.insert(
            (entity, crate::domain::Metric::CpuPct),
            crate::app::anomalies::Anomaly {
                since_ms: 0,
                text: "cpu 97 %".into(),
                score: 2.0,
            },
        );
        // Flagged, the name column grows by one for the "!" rather than cutting the name.
        assert!(screen(&s).contains("│!db-main local"), "{}", screen(&s));
    }

    #[test]
    fn an_empty_table_says_whether_to_wait_fix_a_host_or_clear_the_filter() {
        use crate::app::fixtures;
        let mut s = fixtures::state();
        s.rows.clear();
        assert!(empty_message(&s).contains("filter"));
        s.vms.clear();
        assert_eq!(
            empty_message(&s),
            "no VMs are defined on the connected hosts"
        );
        s.hosts[1].status = ConnStatus::Connecting;
        assert!(empty_message(&s).contains("waiting"));
        for h in &mut s.hosts {
            h.status = ConnStatus::Failed {
                error: "no such file".into(),
            };
        }
        assert!(empty_message(&s).contains("no host could be connected"));
        s.hosts.clear();
        assert!(empty_message(&s).contains(":connect URI"));
    }

    #[test]
    fn every_issue_column_fits_80_columns_and_the_sparkline_yields_first() {
        // The lab at 80 columns: 11-character names, "running (booted)".
        let one = columns(false, 78, lab(16));
        assert!(one.cols.contains(&Col::Spark) && one.cols.contains(&Col::Auto));
        assert_eq!(one.name, 10, "whole names");
        // A wide terminal leaves its spare columns after the table, not in the name.
        assert_eq!(columns(false, 138, lab(16)).name, 10);
        let many = columns(true, 78, lab(16));
        assert!(
            !many.cols.contains(&Col::Spark),
            "two hosts at 80 columns: no room for the sparkline"
        );
        assert!(many.cols.contains(&Col::Host) && many.cols.contains(&Col::Ip));
        assert!(many.name >= 10 && many.state >= 16);
        assert!(columns(true, 118, lab(16)).cols.contains(&Col::Spark));
        // Two hosts, one VM shut off (destroyed): still whole names.
        let off = columns(true, 78, lab(20));
        assert!(
            off.name >= 10 && off.state >= 20,
            "{} {}",
            off.name,
            off.state
        );
        // Names too long for 80 columns: the sparkline and autostart go, the state is whole.
        let long = columns(
            true,
            78,
            Need {
                name: 40,
                host: 5,
                state: 20,
                ip: 15,
            },
        );
        assert!(!long.cols.contains(&Col::Spark) && !long.cols.contains(&Col::Auto));
        assert_eq!(
            (long.state, long.name),
            (20, 13),
            "the state whole, the name the rest"
        );
        // Hosts named by address keep the whole address (10.0.0.5 and 10.0.0.6 differ last).
        let addr = columns(true, 118, Need { host: 8, ..lab(16) });
        assert_eq!(addr.host, 8);
        // A long host label gives way first when even the names would not fit.
        let long_host = columns(
            true,
            78,
            Need {
                host: 20,
                ..lab(20)
            },
        );
        assert_eq!(
            (long_host.host, long_host.name, long_host.state),
            (12, 9, 20)
        );
        assert_eq!(fit("web-prod-eu-west-01", 10), "web-prod-…");
        assert_eq!(fit("web-1", 10), "web-1");
    }

    #[test]
    fn a_cut_name_keeps_its_end_so_numbered_vms_stay_apart() {
        assert_eq!(fit_middle("rv-cluster-node-prod-01", 12), "rv-clu…od-01");
        assert_eq!(fit_middle("rv-cluster-node-prod-02", 12), "rv-clu…od-02");
        assert_eq!(fit_middle("web-1", 12), "web-1");
        // Wide characters count their columns on both sides.
        let cjk = fit_middle("名前テスト名前テスト", 9);
        assert!(width(&cjk) <= 9 && cjk.contains('…'), "{cjk}");
        // At 80 columns autostart goes before a 23-column name is cut.
        let c = columns(
            false,
            78,
            Need {
                name: 23,
                host: 4,
                state: 16,
                ip: 12,
            },
        );
        assert!(!c.cols.contains(&Col::Auto) && c.name == 23, "{}", c.name);
    }
}
