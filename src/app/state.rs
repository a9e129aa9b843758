//! Everything the console knows: hosts, VMs with their live rates, pending operations, the
//! journal, and the view state (selection, sort, filter, overlays) kept apart from the data.
//! Changed only by `update`; read by `ui::render`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::anomalies::Anomalies;
use super::charts::Charts;
use super::forecast_view::ForecastView;
pub use super::host_labels::{host_label, host_labels};
use super::live::{Cadence, HostMetrics, VmMetrics};
use super::reports::Reports;
use crate::domain::{HostId, Op, Vm, VmId};
use crate::provider::{ConnStatus, OpId};

/// One connection as the header shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HostView {
    /// Given once and never reused: a removed host's late events cannot land on another.
    pub id: HostId,
    pub uri: String,
    /// Short name for the host column ("kvm2", "system", "test").
    pub label: String,
    pub status: ConnStatus,
    /// When `status` last changed, for "disconnected 12 s".
    pub since_ms: i64,
    /// It has been connected at least once (a later connection is a reconnection).
    pub ever_up: bool,
    /// Reconnected, and its inventory not re-read since: that inventory tells what changed
    /// while the host was away.
    pub reconciling: bool,
    pub metrics: HostMetrics,
}

impl HostView {
    /// A host about to be connected for the first time.
    #[must_use]
    pub fn new(id: HostId, uri: &str, label: String, now_ms: i64) -> Self {
        Self {
            id,
            uri: uri.to_string(),
            label,
            status: ConnStatus::Connecting,
            since_ms: now_ms,
            ever_up: false,
            reconciling: false,
            metrics: HostMetrics::default(),
        }
    }
}

/// A VM row: inventory data plus what the polls derived.
#[derive(Debug, Clone, PartialEq)]
pub struct VmEntry {
    pub vm: Vm,
    pub metrics: VmMetrics,
    pub pending: Option<OpId>,
}

/// Where an operation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpStage {
    /// Sent to the worker, libvirt has not answered.
    Sent,
    /// libvirt accepted it; waiting for the event that confirms it.
    Accepted { at_ms: i64 },
}

/// An operation between the key press and its confirming event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOp {
    pub id: OpId,
    pub vm: VmId,
    pub name: String,
    pub op: Op,
    pub stage: OpStage,
    pub event_seen: bool,
    pub journal_seq: u64,
}

/// Outcome column of the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalStatus {
    Pending,
    Accepted,
    Done,
    Failed(String),
    Warning(String),
    /// A libvirt event.
    Event,
    /// The console's own remark (history, anomalies ending): no status tag.
    Note,
}

impl JournalStatus {
    /// The words of the outcome column ("waiting for event", "failed: …"); empty for a note.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Self::Pending => "pending".into(),
            Self::Accepted => "waiting for event".into(),
            Self::Done => "done".into(),
            Self::Failed(m) => format!("failed: {m}"),
            Self::Warning(m) => format!("warning: {m}"),
            Self::Event => "event".into(),
            Self::Note => String::new(),
        }
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub seq: u64,
    pub ts_ms: i64,
    pub host: String,
    /// The host's label when the entry was made: the entry keeps it after the host is
    /// disconnected and its label handed to another.
    pub host_label: String,
    pub vm: String,
    pub what: String,
    pub status: JournalStatus,
    pub virsh: Option<String>,
    /// The same event this many times in a row (libvirt sends three for one reboot).
    pub repeat: u32,
    /// When the first of the repeats came (`ts_ms` is the last's).
    pub first_ms: i64,
}

pub const JOURNAL_MAX: usize = 500;

/// Which full-screen view is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Table,
    Detail,
    Host,
    Forecast,
    Capacity,
    Rightsize,
    Help,
    Logs,
}

/// Sortable table columns, in the order `<`/`>` walk them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Host,
    State,
    Cpu,
    Vcpus,
    Memory,
}

impl SortKey {
    pub const ORDER: [SortKey; 6] = [
        SortKey::Name,
        SortKey::Host,
        SortKey::State,
        SortKey::Cpu,
        SortKey::Vcpus,
        SortKey::Memory,
    ];

    /// Numbers sort biggest first by default, as in top; text sorts A→Z.
    #[must_use]
    pub fn default_descending(self) -> bool {
        matches!(self, SortKey::Cpu | SortKey::Vcpus | SortKey::Memory)
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Host => "host",
            SortKey::State => "state",
            SortKey::Cpu => "cpu",
            SortKey::Vcpus => "vcpus",
            SortKey::Memory => "memory",
        }
    }
}

/// What a confirmation dialog does when answered yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub vm: VmId,
    pub name: String,
    pub op: Op,
    pub prompt: String,
    /// The force-off offered after a shutdown timeout: withdrawn when the VM stops or starts
    /// by any other way, so a late "y" never destroys a later run of it.
    pub offer: bool,
    /// When it appeared: an offer the operator did not ask for ignores `y` for a moment, so
    /// a key meant for what was on screen before cannot answer it.
    pub shown_ms: i64,
}

/// Modal input on top of the current screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Filter {
        buf: String,
    },
    Palette {
        buf: String,
        completions: Vec<String>,
    },
    Confirm(Confirm),
}

/// View state: kept apart from the data so polls never move the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub screen: Screen,
    pub overlay: Option<Overlay>,
    /// Index into `State::rows`.
    pub cursor: usize,
    /// First visible row.
    pub offset: usize,
    pub selected: Option<VmId>,
    pub sort: SortKey,
    pub descending: bool,
    /// Active filter; a leading `!` inverts it.
    pub filter: String,
    /// The filter the rows were last built with: while it stands, the selected VM stays
    /// listed when it stops matching (paused under `/running`), so the next key acts on it.
    pub rows_filter: String,
    pub help_scroll: u16,
    /// Host shown by the host summary pane.
    pub host_cursor: usize,
    /// The screens `esc` goes back through, most recent last.
    pub came_from: Vec<Screen>,
    /// The operator has moved the cursor. Until then it stays on the first row while hosts
    /// answer one by one: following the first VM listed would leave it on a row the
    /// operator did not pick once the others arrive above it.
    pub chosen: bool,
    /// The detail pane shows every device line in place of the charts (`enter` again).
    pub all_devices: bool,
    /// The VM selected when the filter line opened, and whether the operator had picked it:
    /// the cursor goes back to it whenever the filter shows it again, and `esc` (which clears
    /// the filter) always does, so a filter that matched nothing does not leave the next key
    /// on the first row.
    pub filter_origin: Option<(VmId, bool)>,
}

impl View {
    /// Shows `screen`, remembering the current one for `esc`.
    pub fn go(&mut self, screen: Screen) {
        if screen != self.screen {
            self.came_from.retain(|s| *s != screen);
            self.came_from.push(self.screen);
            self.came_from.truncate(8);
            self.screen = screen;
        }
    }

    /// Back to the screen this one was opened from (the table when none).
    pub fn back(&mut self) {
        self.screen = self.came_from.pop().unwrap_or(Screen::Table);
    }
}

impl Default for View {
    fn default() -> Self {
        Self {
            screen: Screen::Table,
            overlay: None,
            cursor: 0,
            offset: 0,
            selected: None,
            sort: SortKey::Name,
            descending: false,
            filter: String::new(),
            rows_filter: String::new(),
            help_scroll: 0,
            host_cursor: 0,
            came_from: Vec::new(),
            chosen: false,
            all_devices: false,
            filter_origin: None,
        }
    }
}

/// Settings the reducer needs (already validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub read_only: bool,
    pub shutdown_timeout_ms: i64,
    /// An accepted operation with no confirming event after this long is flagged.
    pub event_timeout_ms: i64,
    pub cadence: Cadence,
    /// A shell with job control started the console, so ctrl-z can stop it and `fg` bring
    /// it back; not when started by ssh or tmux directly, or by `sh -c`.
    pub job_control: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            read_only: false,
            shutdown_timeout_ms: 60_000,
            event_timeout_ms: 30_000,
            cadence: Cadence::default(),
            job_control: true,
        }
    }
}

/// A one-line message in the footer until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub until_ms: i64,
    /// The VM whose operation in progress this says refused another: gone when that
    /// operation ends, not a few seconds later.
    pub busy: Option<crate::domain::VmId>,
}

/// One line of `?` help: keys, action name, description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLine {
    pub keys: String,
    pub action: String,
    pub description: String,
}

/// The whole application state.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// In the order they were given or connected.
    pub hosts: Vec<HostView>,
    /// The id the next `:connect` gets.
    pub next_host: HostId,
    pub vms: BTreeMap<VmId, VmEntry>,
    /// Visible rows after filter and sort, in display order.
    pub rows: Vec<VmId>,
    pub view: View,
    pub charts: Charts,
    pub forecast: ForecastView,
    pub anomalies: Anomalies,
    pub reports: Reports,
    pub journal: VecDeque<JournalEntry>,
    pub journal_seq: u64,
    /// VMs last reported as on screen to each host's poller.
    pub watched: BTreeMap<HostId, Vec<String>>,
    pub ops: HashMap<OpId, PendingOp>,
    pub next_op: OpId,
    /// Force-off offers that came due while another overlay was open, shown once it closes.
    pub offers: VecDeque<Confirm>,
    /// Graceful shutdowns past their timeout, by VM: the journal line and when libvirt
    /// accepted it, so a guest that powers off late gets its line told so.
    pub late_shutdowns: HashMap<VmId, (u64, i64)>,
    pub settings: Settings,
    pub flash: Option<Flash>,
    pub help: Vec<HelpLine>,
    pub now_ms: i64,
    /// Local time offset from UTC for clock display, fixed at start.
    pub tz_offset_s: i32,
    pub size: (u16, u16),
    pub quit: bool,
}

/// Smallest terminal the layout is designed for; below it only a message is drawn.
pub const MIN_SIZE: (u16, u16) = (80, 24);

impl State {
    /// The terminal is below [`MIN_SIZE`]: nothing but a message is on screen, so no key may
    /// act on what the operator cannot see.
    #[must_use]
    pub const fn too_small(&self) -> bool {
        self.size.0 < MIN_SIZE.0 || self.size.1 < MIN_SIZE.1
    }

    /// The keymap's keys for `action`, as help shows them ("q ctrl-c"); `None` if unbound.
    #[must_use]
    pub fn keys_of(&self, action: &str) -> Option<&str> {
        self.help
            .iter()
            .find(|h| h.action == action)
            .map(|h| h.keys.as_str())
    }

    /// The keymap's keys for quitting, as help shows them ("q ctrl-c").
    #[must_use]
    pub fn quit_keys(&self) -> &str {
        self.keys_of("quit").unwrap_or("ctrl-c")
    }

    /// The quit key that is a plain character, if the keymap has one (`q` by default).
    #[must_use]
    pub fn quit_char(&self) -> Option<char> {
        self.quit_keys().split(' ').find_map(|k| {
            let mut c = k.chars();
            match (c.next(), c.next()) {
                (Some(ch), None) => Some(ch),
                _ => None,
            }
        })
    }

    #[must_use]
    pub fn new(uris: &[String], settings: Settings, help: Vec<HelpLine>, now_ms: i64) -> Self {
        let labels = host_labels(uris);
        Self {
            hosts: uris
                .iter()
                .zip(labels)
                .enumerate()
                .map(|(id, (uri, label))| HostView::new(id, uri, label, now_ms))
                .collect(),
            next_host: uris.len(),
            vms: BTreeMap::new(),
            rows: Vec::new(),
            view: View::default(),
            charts: Charts::default(),
            forecast: ForecastView::default(),
            anomalies: Anomalies::default(),
            reports: Reports::default(),
            journal: VecDeque::new(),
            journal_seq: 0,
            watched: BTreeMap::new(),
            ops: HashMap::new(),
            next_op: 1,
            offers: VecDeque::new(),
            late_shutdowns: HashMap::new(),
            settings,
            flash: None,
            help,
            now_ms,
            tz_offset_s: 0,
            size: (80, 24),
            quit: false,
        }
    }

    /// Whether the selected VM is in view, so operation keys may act on it: the table and
    /// the detail pane show it; the host and analysis panes hide the table.
    #[must_use]
    pub fn vm_in_view(&self) -> bool {
        matches!(self.view.screen, Screen::Table | Screen::Detail)
    }

    /// The VM under the cursor.
    #[must_use]
    pub fn selected(&self) -> Option<&VmEntry> {
        self.rows
            .get(self.view.cursor)
            .and_then(|id| self.vms.get(id))
    }

    /// The host with this id (ids are not positions: a host can be removed).
    #[must_use]
    pub fn host(&self, host: HostId) -> Option<&HostView> {
        self.hosts.iter().find(|h| h.id == host)
    }

    pub fn host_mut(&mut self, host: HostId) -> Option<&mut HostView> {
        self.hosts.iter_mut().find(|h| h.id == host)
    }

    /// The host under the host pane's cursor.
    #[must_use]
    pub fn cursor_host(&self) -> Option<&HostView> {
        self.hosts.get(self.view.host_cursor)
    }

    #[must_use]
    pub fn host_label(&self, host: HostId) -> &str {
        self.host(host).map_or("?", |h| h.label.as_str())
    }

    /// Where the host a user names (by its label or URI, as `:disconnect` and `:forecast`
    /// take it) is in `hosts`.
    #[must_use]
    pub fn host_named(&self, which: &str) -> Option<usize> {
        self.hosts
            .iter()
            .position(|h| h.label == which || h.uri == which)
    }

    /// The label of the connected host with `uri`.
    #[must_use]
    pub fn host_label_of(&self, uri: &str) -> Option<&str> {
        self.hosts
            .iter()
            .find(|h| h.uri == uri)
            .map(|h| h.label.as_str())
    }

    #[must_use]
    pub fn host_uri(&self, host: HostId) -> &str {
        self.host(host).map_or("?", |h| h.uri.as_str())
    }

    /// The VM of `host` that `vm` names: by name, else by UUID, else by running ID (as virsh
    /// reads it, but name first, as the palette does).
    #[must_use]
    pub fn find_on_host(&self, host: HostId, vm: &str) -> Vec<&VmEntry> {
        let on: Vec<&VmEntry> = self.vms.values().filter(|e| e.vm.id.host == host).collect();
        let by_name: Vec<&VmEntry> = on.iter().copied().filter(|e| e.vm.name == vm).collect();
        if !by_name.is_empty() {
            return by_name;
        }
        let by_uuid: Vec<&VmEntry> = on
            .iter()
            .copied()
            .filter(|e| e.vm.id.uuid.eq_ignore_ascii_case(vm))
            .collect();
        if !by_uuid.is_empty() {
            return by_uuid;
        }
        vm.parse::<u32>().map_or_else(
            |_| Vec::new(),
            |id| on.into_iter().filter(|e| e.vm.dom_id == Some(id)).collect(),
        )
    }

    /// A VM named `vm` on a host where another VM has `vm` as its running ID or UUID: virsh
    /// (and the journal's virsh line) would take that other one. The pair, named VM first.
    #[must_use]
    pub fn name_taken_by_id(&self, vm: &str) -> Option<(&VmEntry, &VmEntry)> {
        let (bare, host) = match vm.rsplit_once('@') {
            Some((n, label)) => match self.hosts.iter().find(|h| h.label == label) {
                Some(h) => (n, Some(h.id)),
                None => (vm, None),
            },
            None => (vm, None),
        };
        let id = bare.parse::<u32>().ok();
        self.vms
            .values()
            .filter(|e| e.vm.name == bare && host.is_none_or(|h| e.vm.id.host == h))
            .find_map(|named| {
                self.vms
                    .values()
                    .find(|o| {
                        o.vm.id.host == named.vm.id.host
                            && o.vm.id != named.vm.id
                            && (id.is_some_and(|i| o.vm.dom_id == Some(i))
                                || o.vm.id.uuid.eq_ignore_ascii_case(bare))
                    })
                    .map(|other| (named, other))
            })
    }

    /// VMs whose name matches exactly, across hosts; else the VM with that UUID; else the
    /// running VMs with that libvirt ID (one per host), as virsh takes all three.
    #[must_use]
    pub fn find_by_name(&self, name: &str) -> Vec<&VmEntry> {
        let by_name: Vec<&VmEntry> = self.vms.values().filter(|e| e.vm.name == name).collect();
        if !by_name.is_empty() {
            return by_name;
        }
        // "web-1@kvm2", as the journal writes a VM with several hosts connected.
        if let Some((vm, label)) = name.rsplit_once('@') {
            if let Some(h) = self.hosts.iter().find(|h| h.label == label) {
                let on_host = self.find_on_host(h.id, vm);
                if !on_host.is_empty() {
                    return on_host;
                }
            }
        }
        let by_uuid: Vec<&VmEntry> = self
            .vms
            .values()
            .filter(|e| e.vm.id.uuid.eq_ignore_ascii_case(name))
            .collect();
        match name.parse::<u32>() {
            Ok(id) if by_uuid.is_empty() => self
                .vms
                .values()
                .filter(|e| e.vm.dom_id == Some(id))
                .collect(),
            _ => by_uuid,
        }
    }
}
