//! The top line: one status per connection.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::state::HostView;
use crate::app::State;
use crate::domain::format::plural;
use crate::provider::ConnStatus;
use crate::ui::format::{ago, fit, width};
use crate::ui::theme::Theme;

const SEP: &str = " │ ";
const READ_ONLY: &str = "  [read-only]";

pub fn render(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled("novacron", theme.title)];
    let tail = if state.settings.read_only {
        READ_ONLY
    } else {
        ""
    };
    let budget = usize::from(area.width).saturating_sub(width("novacron") + width(tail));
    let mut segs: Vec<(String, String, Style)> = state
        .hosts
        .iter()
        .map(|h| {
            let (text, style) = status(state, h, theme);
            (h.label.clone(), text, style)
        })
        .collect();
    let all: usize = segs
        .iter()
        .map(|(l, t, _)| width(SEP) + width(l) + width(t))
        .sum();
    if all > budget {
        // Not every host fits: the ones that are down take the room first, so a failure
        // never hides in "+N more".
        let mut ranked: Vec<_> = state
            .hosts
            .iter()
            .map(|h| urgency(&h.status))
            .zip(segs)
            .collect();
        ranked.sort_by_key(|(rank, _)| *rank);
        segs = ranked.into_iter().map(|(_, seg)| seg).collect();
    }
    let mut used = 0;
    for (i, (label, text, style)) in segs.iter().enumerate() {
        let w = width(SEP) + width(label) + width(text);
        let rest = segs.len() - i - 1;
        let reserve = if rest > 0 { width(&more(rest)) } else { 0 };
        if used + w + reserve > budget {
            if i == 0 && rest == 0 {
                // One host, its reason too long: as much as fits, the whole of it in H.
                let room = budget.saturating_sub(width(SEP) + width(label) + width(" (H)"));
                spans.push(Span::styled(SEP, theme.border));
                spans.push(Span::styled(label.clone(), theme.accent));
                let cut = fit(text, u16::try_from(room).unwrap_or(u16::MAX));
                spans.push(Span::styled(format!("{cut} (H)"), *style));
            } else {
                // Hosts that do not fit are counted, not silently dropped.
                spans.push(Span::styled(more(segs.len() - i), theme.warning));
            }
            break;
        }
        used += w;
        spans.push(Span::styled(SEP, theme.border));
        spans.push(Span::styled(label.clone(), theme.accent));
        spans.push(Span::styled(text.clone(), *style));
    }
    if !tail.is_empty() {
        spans.push(Span::styled(tail, theme.warning));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The mark for hosts the line has no room for.
fn more(n: usize) -> String {
    format!("{SEP}+{n} more (H)")
}

/// Which hosts the header shows first when not all fit: the ones that are down.
fn urgency(status: &ConnStatus) -> u8 {
    match status {
        ConnStatus::Failed { .. } | ConnStatus::Disconnected { .. } => 0,
        ConnStatus::Connecting | ConnStatus::Connected { .. } => 1,
    }
}

/// A host's badge after its label.
fn status(state: &State, h: &HostView, theme: &Theme) -> (String, Style) {
    let count = state.vms.keys().filter(|id| id.host == h.id).count();
    match &h.status {
        ConnStatus::Connecting => (" connecting…".to_string(), theme.pending),
        ConnStatus::Connected { .. } => (format!(" ● {}", plural(count, "VM")), theme.ok),
        // With several hosts one long libvirt message would push the others off the
        // line: the header keeps a badge and the host pane (H) gives the reason.
        ConnStatus::Disconnected { .. } if state.hosts.len() > 1 => (
            format!(" ✗ down {} (H)", ago(state.now_ms - h.since_ms)),
            theme.error,
        ),
        ConnStatus::Failed { .. } if state.hosts.len() > 1 => {
            (" ✗ failed (H)".to_string(), theme.error)
        }
        ConnStatus::Disconnected { .. } | ConnStatus::Failed { .. } => (
            format!(" {}", super::host::down_text(state, h).unwrap_or_default()),
            theme.error,
        ),
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::app::fixtures::{state, T0};
    use crate::app::state::HostView;

    fn line(s: &State, w: u16) -> String {
        super::super::drawn(render, s, (w, 1))
    }

    /// The fixture's hosts and far2..far{n-1}, connecting.
    fn far_hosts(n: usize) -> State {
        let mut s = state();
        for i in 2..n {
            s.hosts.push(HostView::new(
                i,
                &format!("qemu+ssh://far{i}/system"),
                format!("far{i}"),
                T0,
            ));
        }
        s
    }

    #[test]
    fn hosts_without_room_are_counted_not_dropped() {
        let s = far_hosts(7);
        let l = line(&s, 80);
        assert!(l.contains("local ● 3 VMs"), "{l}");
        let shown = (2..7).filter(|i| l.contains(&format!("far{i} "))).count();
        let mark = format!("+{} more (H)", 5 - shown);
        assert!(shown < 5 && l.contains(&mark), "{l}");
        assert!(l.trim_end().chars().count() <= 80);
        // Wide enough: every host, no mark.
        let wide = line(&s, 240);
        assert!(
            !wide.contains("more (H)") && wide.contains("far6"),
            "{wide}"
        );
    }

    #[test]
    fn down_hosts_take_the_room_first() {
        let mut s = far_hosts(9);
        let last = s.hosts.len() - 1;
        s.hosts[last].status = ConnStatus::Failed {
            error: "no such host".into(),
        };
        let l = line(&s, 80);
        assert!(l.contains("far8 ✗ failed (H)"), "{l}");
        assert!(l.contains("more (H)"), "{l}");
        // When all fit, the order is the configured one.
        let wide = line(&s, 400);
        assert!(
            wide.find("local").unwrap() < wide.find("far8").unwrap(),
            "{wide}"
        );
    }

    #[test]
    fn a_lone_host_with_a_long_reason_points_at_the_host_pane() {
        let mut s = state();
        s.hosts.truncate(1);
        s.hosts[0].status = ConnStatus::Failed {
            error: "authentication failed: no agent is running and no key was given".into(),
        };
        let l = line(&s, 80);
        assert!(l.trim_end().ends_with("… (H)"), "{l}");
        s.settings.read_only = true;
        let ro = line(&s, 80);
        assert!(ro.trim_end().ends_with("[read-only]"), "{ro}");
    }
}
