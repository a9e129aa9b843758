//! The reducer: the only place `State` changes. Pure apart from the `tracing` journal log.

use super::charts;
use super::event::{InputKey, Msg};
use super::forecast_view;
use super::ingest;
use super::links;
use super::navigate::{back, jump, open_detail, open_filter, scroll, toggle_screen};
use super::opflow::{self, flash};
use super::palette::{self, Command};
use super::provider_events::on_provider;
use super::reports;
use super::rows;
use super::state::{Overlay, Screen, SortKey, State};
use super::{Action, Effect, LogScroll};
use crate::domain::{HostId, VmId};

/// Applies one message at time `now_ms` and returns the effects to run.
pub fn update(state: &mut State, msg: Msg, now_ms: i64) -> Vec<Effect> {
    state.now_ms = now_ms;
    let tick = matches!(msg, Msg::Tick);
    let before =
        matches!(msg, Msg::Action(_) | Msg::Input(_) | Msg::Paste(_)).then(|| where_am_i(state));
    let mut effects = dispatch(state, msg);
    // A footer message is about what was on screen: a key that moves to another screen,
    // dialog or VM takes it away (unless that key said something itself).
    if let Some((flash, place)) = before {
        if state.flash == flash && where_am_i(state).1 != place {
            state.flash = None;
        }
    }
    opflow::settle_offers(state, tick);
    effects.extend(charts::sync(state));
    effects.extend(watch_visible(state));
    effects
}

type Place = (
    Screen,
    Option<std::mem::Discriminant<Overlay>>,
    Option<VmId>,
);

/// The footer message and what the operator is looking at: the screen, the dialog and the
/// selected VM.
fn where_am_i(state: &State) -> (Option<super::state::Flash>, Place) {
    (
        state.flash.clone(),
        (
            state.view.screen,
            state.view.overlay.as_ref().map(std::mem::discriminant),
            selected_id(state),
        ),
    )
}

fn dispatch(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        // Below the minimum size the screen only asks for a bigger window: quitting and
        // closing an overlay are all that may happen, never an operation or a confirmation
        // the operator cannot see.
        Msg::Action(a) if state.too_small() && !matches!(a, Action::Quit | Action::Background) => {
            Vec::new()
        }
        Msg::Input(InputKey::Char(c)) if state.too_small() && state.quit_char() == Some(c) => {
            quit(state)
        }
        Msg::Input(k) if state.too_small() && k != InputKey::Esc => Vec::new(),
        Msg::Action(a) => on_action(state, a),
        Msg::Input(k) => on_input(state, k),
        Msg::Paste(text) => {
            on_paste(state, &text);
            Vec::new()
        }
        Msg::Provider(ev) => on_provider(state, ev),
        Msg::Forecast { request, result } => {
            forecast_view::on_result(state, request, result);
            Vec::new()
        }
        Msg::DetectorHistory {
            entity,
            until_ms,
            series,
            recent_cpu,
        } => {
            for (m, warmed) in series {
                state.anomalies.warm(&entity, m, until_ms, warmed);
            }
            ingest::backfill_spark(state, &entity, &recent_cpu);
            Vec::new()
        }
        Msg::Capacity { request, report } => {
            reports::on_capacity(state, request, report);
            Vec::new()
        }
        Msg::Rightsize {
            request,
            rows,
            currency,
        } => {
            reports::on_rightsize(state, request, rows, currency);
            Vec::new()
        }
        Msg::HistoryError(e) => {
            opflow::flash(state, e, true);
            Vec::new()
        }
        Msg::History {
            request,
            series,
            spread,
        } => {
            charts::on_history(state, request, series, spread);
            Vec::new()
        }
        Msg::Tick => {
            if state
                .flash
                .as_ref()
                .is_some_and(|f| f.until_ms <= state.now_ms)
            {
                state.flash = None;
            }
            opflow::on_tick(state);
            let mut eff = forecast_view::on_tick(state);
            eff.extend(reports::on_tick(state));
            eff
        }
        Msg::Resize(w, h) => {
            state.size = (w, h);
            rows::clamp_cursor(state);
            Vec::new()
        }
        Msg::Terminate => quit(state),
    }
}

fn quit(state: &mut State) -> Vec<Effect> {
    state.quit = true;
    vec![Effect::Quit]
}

fn selected_id(state: &State) -> Option<VmId> {
    state.selected().map(|e| e.vm.id.clone())
}

/// In the logs pane the moving keys page through tui-logger's buffer.
fn logs_scroll(a: Action) -> Option<LogScroll> {
    match a {
        Action::Up | Action::PageUp | Action::Top => Some(LogScroll::Back),
        Action::Down | Action::PageDown => Some(LogScroll::Forward),
        Action::Bottom => Some(LogScroll::Live),
        _ => None,
    }
}

fn on_action(state: &mut State, a: Action) -> Vec<Effect> {
    let page = isize::try_from(rows::table_body_height(state.size.1)).unwrap_or(10);
    if state.view.screen == Screen::Logs {
        if let Some(s) = logs_scroll(a) {
            return vec![Effect::ScrollLogs(s)];
        }
    }
    if let Some(effects) = reports::row_action(state, a) {
        return effects;
    }
    match a {
        Action::Quit => return quit(state),
        Action::Background if state.settings.job_control => return vec![Effect::Background],
        Action::Background => flash(
            state,
            "no shell to return to: the console was not started by a shell with job \
             control (but by ssh or tmux directly, or sh -c), so nothing could bring it \
             back; q quits",
            true,
        ),
        Action::Up => scroll(state, -1),
        Action::Down => scroll(state, 1),
        Action::PageUp => scroll(state, -page),
        Action::PageDown => scroll(state, page),
        Action::Top => jump(state, false),
        Action::Bottom => jump(state, true),
        Action::OpenDetail => open_detail(state),
        Action::Back => back(state),
        Action::SortName => rows::sort_by(state, SortKey::Name),
        Action::SortCpu => rows::sort_by(state, SortKey::Cpu),
        Action::SortMemory => rows::sort_by(state, SortKey::Memory),
        Action::SortPrev => rows::shift_sort(state, false),
        Action::SortNext => rows::shift_sort(state, true),
        Action::Filter => open_filter(state),
        Action::Palette => {
            state.view.overlay = Some(Overlay::Palette {
                buf: String::new(),
                completions: palette::completions(state, ""),
            });
        }
        Action::Help => toggle_screen(state, Screen::Help),
        Action::Logs => toggle_screen(state, Screen::Logs),
        Action::Hosts => toggle_screen(state, Screen::Host),
        Action::ZoomIn | Action::ZoomOut if state.view.screen == Screen::Forecast => {
            return forecast_view::change_horizon(state, a == Action::ZoomOut);
        }
        Action::ZoomIn => return charts::zoom(state, false),
        Action::ZoomOut => return charts::zoom(state, true),
        Action::Forecast => {
            if state.view.screen == Screen::Host {
                return forecast_view::open_host(state);
            }
            if let Some(id) = selected_id(state) {
                return forecast_view::open_vm(state, &id);
            }
            flash(state, "no VM selected", true);
        }
        Action::Capacity => return reports::open_capacity(state),
        Action::Rightsize => return reports::open_rightsize(state),
        Action::CycleMetric => {
            if state.view.screen == Screen::Forecast {
                return forecast_view::cycle_metric(state);
            }
            flash(
                state,
                "tab switches the forecast's metric; F opens the forecast of the selected VM",
                false,
            );
        }
        Action::Freeze => return charts::toggle_freeze(state),
        Action::ToggleSuspend
        | Action::Start
        | Action::Shutdown
        | Action::Reboot
        | Action::Reset
        | Action::Destroy
            if !state.vm_in_view() =>
        {
            // An operation from there would act on a VM the user cannot see.
            flash(
                state,
                "operations work from the VM table or a VM's detail pane (esc to go back)",
                true,
            );
        }
        Action::ToggleSuspend => {
            if let Some(e) = state.selected() {
                let (id, op) = (e.vm.id.clone(), a.op_on(e.vm.state));
                if let Some(op) = op {
                    return opflow::request(state, &id, op);
                }
            }
            flash(state, "no VM selected", true);
        }
        Action::Start | Action::Shutdown | Action::Reboot | Action::Reset | Action::Destroy => {
            if let (Some(op), Some(id)) = (a.op(), selected_id(state)) {
                return opflow::request(state, &id, op);
            }
            flash(state, "no VM selected", true);
        }
    }
    Vec::new()
}

/// How long a force-off offer that appeared on its own ignores `y`.
const OFFER_SETTLE_MS: i64 = 750;

fn on_input(state: &mut State, k: InputKey) -> Vec<Effect> {
    let Some(overlay) = state.view.overlay.take() else {
        return Vec::new();
    };
    match overlay {
        Overlay::Confirm(c) => match k {
            // An offer that just appeared on its own ignores y for a moment.
            InputKey::Char('y' | 'Y') if c.offer && state.now_ms - c.shown_ms < OFFER_SETTLE_MS => {
                let text = format!("{} {}: this offer just appeared; y again", c.op, c.name);
                flash(state, text, false);
                state.view.overlay = Some(Overlay::Confirm(c));
            }
            InputKey::Char('y' | 'Y') => return opflow::send(state, &c.vm, &c.name, c.op),
            InputKey::Char('n' | 'N') | InputKey::Esc | InputKey::Enter => {
                flash(state, format!("{} {}: cancelled", c.op, c.name), false);
            }
            _ => state.view.overlay = Some(Overlay::Confirm(c)),
        },
        Overlay::Filter { mut buf } => match k {
            InputKey::Esc => {
                state.view.filter.clear();
                rows::rebuild(state);
                rows::back_to_filter_origin(state);
                state.view.filter_origin = None;
            }
            // Kept: esc on a kept filter that lists nothing goes back to it too.
            InputKey::Enter => {}
            InputKey::Backspace
            | InputKey::DeleteWord
            | InputKey::ClearLine
            | InputKey::Char(_) => {
                edit(&mut buf, k);
                set_filter_line(state, buf);
            }
            InputKey::Tab => state.view.overlay = Some(Overlay::Filter { buf }),
        },
        Overlay::Palette { mut buf, .. } => match k {
            InputKey::Esc => {}
            InputKey::Enter => return run_command(state, &buf),
            InputKey::Tab => {
                let completed = palette::complete(state, &buf);
                set_palette_line(state, completed);
            }
            InputKey::Backspace
            | InputKey::DeleteWord
            | InputKey::ClearLine
            | InputKey::Char(_) => {
                edit(&mut buf, k);
                set_palette_line(state, buf);
            }
        },
    }
    Vec::new()
}

/// Pasted text into the filter or the palette line, as one line: a newline or tab (a
/// copied table cell) is a space, other control characters are dropped. Elsewhere nothing.
fn on_paste(state: &mut State, text: &str) {
    let line: String = text
        .trim_end()
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    match state.view.overlay.take() {
        Some(Overlay::Filter { buf }) => set_filter_line(state, buf + &line),
        Some(Overlay::Palette { buf, .. }) => set_palette_line(state, buf + &line),
        other => state.view.overlay = other,
    }
}

/// The filter line is now `buf`: the table narrows as it is typed.
fn set_filter_line(state: &mut State, buf: String) {
    state.view.filter.clone_from(&buf);
    rows::rebuild(state);
    rows::back_to_filter_origin(state);
    state.view.overlay = Some(Overlay::Filter { buf });
}

/// The palette line is now `buf`, with what it could complete to.
fn set_palette_line(state: &mut State, buf: String) {
    let completions = palette::completions(state, &buf);
    state.view.overlay = Some(Overlay::Palette { buf, completions });
}

fn edit(buf: &mut String, k: InputKey) {
    match k {
        InputKey::Backspace => {
            buf.pop();
        }
        InputKey::DeleteWord => {
            let kept = buf.trim_end().rfind(' ').map_or(0, |i| i + 1);
            buf.truncate(kept);
        }
        InputKey::ClearLine => buf.clear(),
        InputKey::Char(c) => buf.push(c),
        InputKey::Enter | InputKey::Esc | InputKey::Tab => {}
    }
}

fn run_command(state: &mut State, line: &str) -> Vec<Effect> {
    match palette::parse(line) {
        Err(e) => flash(state, e, true),
        Ok(Command::Quit) => return quit(state),
        Ok(Command::Connect(uri)) => return links::connect(state, uri),
        Ok(Command::Disconnect(host)) => return links::disconnect(state, &host),
        Ok(Command::Op { op, vm }) => {
            if let Some(id) = resolve(state, &vm, "VM") {
                return opflow::request(state, &id, op);
            }
        }
        Ok(Command::Capacity) => return reports::open_capacity(state),
        Ok(Command::Rightsize) => return reports::open_rightsize(state),
        Ok(Command::Forecast(None)) => return on_action(state, Action::Forecast),
        Ok(Command::Forecast(Some(which))) => {
            // A host by its label or URI, when no VM has that name.
            let host = state.host_named(&which).map(|i| state.hosts[i].id);
            match host {
                Some(h) if state.find_by_name(&which).is_empty() => {
                    return forecast_view::open_host_metric(
                        state,
                        h,
                        crate::domain::Metric::HostCpuPct,
                    );
                }
                _ => {
                    if let Some(id) = resolve(state, &which, "VM or host") {
                        return forecast_view::open_vm(state, &id);
                    }
                }
            }
        }
    }
    Vec::new()
}

/// The VM a palette argument names, or a flash saying why there is none (`what` the verb
/// takes: "VM", or "VM or host" for :forecast).
fn resolve(state: &mut State, vm: &str, what: &str) -> Option<VmId> {
    // A VM named "4" on a host where another runs as ID 4 (or has that UUID): virsh, and the
    // journal's virsh line, would take the other one. Neither is guessed.
    if let Some((named, other)) = state.name_taken_by_id(vm) {
        let at = |e: &crate::app::state::VmEntry| {
            if state.hosts.len() > 1 {
                format!("{}@{}", e.vm.name, state.host_label(e.vm.id.host))
            } else {
                e.vm.name.clone()
            }
        };
        let text = format!(
            "{vm:?} is the name of one VM and the running ID or UUID of {}: give the UUID of \
             the one you mean ({} for the VM named {}, {} for {})",
            at(other),
            named.vm.id.uuid,
            at(named),
            other.vm.id.uuid,
            at(other)
        );
        flash(state, text, true);
        return None;
    }
    let found: Vec<VmId> = state
        .find_by_name(vm)
        .iter()
        .map(|e| e.vm.id.clone())
        .collect();
    match found.as_slice() {
        [id] => return Some(id.clone()),
        [] => {
            let hint = suggestions(state, vm);
            let takes = if what == "VM" {
                "a VM's name, UUID or running ID"
            } else {
                "a VM's name, UUID or running ID, or a host's label or URI"
            };
            flash(
                state,
                format!("no {what} named {vm:?} ({takes}){hint}"),
                true,
            );
        }
        _ => flash(
            state,
            format!("{vm:?} exists on several hosts; name one as {vm}@HOST (the header's label)"),
            true,
        ),
    }
    None
}

/// "; did you mean web-1, web-2?" for a name no VM has: names near it (or near the part
/// before an `@` that names no host), each with its host's label where several hosts
/// have a VM of that name, as the palette takes them.
fn suggestions(state: &State, typed: &str) -> String {
    let mut by_name: std::collections::BTreeMap<&str, Vec<&str>> =
        std::collections::BTreeMap::new();
    for e in state.vms.values() {
        by_name
            .entry(e.vm.name.as_str())
            .or_default()
            .push(state.host_label(e.vm.id.host));
    }
    let names: Vec<String> = by_name.keys().map(|n| (*n).to_string()).collect();
    let bare = typed.rsplit_once('@').map_or(typed, |(n, _)| n);
    let close = crate::provider::libvirt::inventory::close_names(bare, &names);
    let shown: Vec<String> = close
        .iter()
        .flat_map(|n| match by_name.get(n.as_str()) {
            Some(labels) if labels.len() > 1 => labels.iter().map(|l| format!("{n}@{l}")).collect(),
            _ => vec![n.clone()],
        })
        .collect();
    if shown.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", shown.join(", "))
    }
}

/// Tells each host which of its VMs show monitor-backed metrics (memory in use, disk,
/// per-vCPU) on screen, when that set changed, so those are polled at the fast cadence. Today
/// that is the VM open in the detail pane: the table's columns all come from the cheap tier.
fn watch_visible(state: &mut State) -> Vec<Effect> {
    let visible: Vec<&VmId> = match state.view.screen {
        Screen::Detail => state.rows.get(state.view.cursor).into_iter().collect(),
        _ => Vec::new(),
    };
    let mut want: std::collections::BTreeMap<HostId, Vec<String>> =
        std::collections::BTreeMap::new();
    for id in visible {
        want.entry(id.host).or_default().push(id.uuid.clone());
    }
    let mut effects = Vec::new();
    for host in state.hosts.iter().map(|h| h.id).collect::<Vec<_>>() {
        let now = want.remove(&host).unwrap_or_default();
        let before = state.watched.get(&host).cloned().unwrap_or_default();
        if now != before {
            effects.push(Effect::Provider {
                host,
                cmd: crate::provider::ProviderCmd::Watch(now.clone()),
            });
            state.watched.insert(host, now);
        }
    }
    effects
}
