//! The one `tokio::select!` loop: terminal input, provider reports, the 1 s tick and signals
//! go through `app::update`; effects are dispatched to host workers. It never blocks: libvirt
//! calls live on the worker threads.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc::{self, UnboundedSender};

use super::history::History;
use super::{input, terminal};
use crate::app::live::Cadence;
use crate::app::state::Settings;
use crate::app::{update, Effect, Msg, State};
use crate::config::Config;
use crate::lock::HostLock;
use crate::provider::libvirt::{spawn_host, HostHandle, HostOptions};
use crate::provider::{ConnStatus, ProviderCmd, ProviderEvent};
use crate::store::writer::SharedStore;
use crate::ui::{self, Theme};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Everything the loop owns besides the state.
struct Runtime {
    hosts: Vec<Option<HostHandle>>,
    tx: UnboundedSender<ProviderEvent>,
    msg_tx: UnboundedSender<Msg>,
    opts: HostOptions,
    history: History,
    analysis: crate::config::analysis::AnalysisSettings,
    /// Per-host console locks held by this console (none when read-only), by host id.
    locks: HashMap<usize, HostLock>,
    /// ctrl-z or SIGTSTP asked the loop to stop the console to the shell.
    background: bool,
}

impl Runtime {
    fn connect(&mut self, host: usize, uri: &str) {
        // A console that may change VMs manages a host alone, as at start: a host added with
        // :connect that another console manages is refused with that console's pid.
        if !self.opts.read_only && !self.locks.contains_key(&host) {
            match crate::lock::lock_host(&crate::logging::state_dir(), uri) {
                Ok(l) => {
                    self.locks.insert(host, l);
                }
                Err(e) => {
                    let _ = self.tx.send(ProviderEvent::Status {
                        host,
                        status: ConnStatus::Failed {
                            error: e.to_string(),
                        },
                    });
                    return;
                }
            }
        }
        let opts = HostOptions {
            uri: uri.to_string(),
            ..self.opts.clone()
        };
        let handle = match spawn_host(host, opts, self.tx.clone()) {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::error!(%uri, "cannot start worker: {e}");
                None
            }
        };
        if self.hosts.len() <= host {
            self.hosts.resize_with(host + 1, || None);
        }
        self.hosts[host] = handle;
    }

    /// Runs effects; returns messages to feed back (e.g. a failed send).
    fn run(&mut self, effects: Vec<Effect>) -> Vec<Msg> {
        let mut back = Vec::new();
        for e in effects {
            match e {
                Effect::Provider { host, cmd } => {
                    let id = match &cmd {
                        ProviderCmd::Op { id, .. } => Some(*id),
                        _ => None,
                    };
                    let sent = self
                        .hosts
                        .get(host)
                        .and_then(Option::as_ref)
                        .is_some_and(|h| h.send(cmd));
                    if let (false, Some(id)) = (sent, id) {
                        back.push(Msg::Provider(ProviderEvent::OpResult {
                            id,
                            result: Err("host worker is not running".into()),
                        }));
                    }
                }
                Effect::Connect { host, uri } => self.connect(host, &uri),
                Effect::Disconnect { host } => {
                    // Dropping the handle tells the worker to stop; the host's lock goes with
                    // it, so another console may manage it.
                    if let Some(h) = self.hosts.get_mut(host) {
                        *h = None;
                    }
                    self.locks.remove(&host);
                }
                Effect::Record(points) => self.history.record(points),
                Effect::LoadHistory {
                    request,
                    entity,
                    metrics,
                    from_ms,
                    to_ms,
                    max_points,
                } => self.history.load(
                    self.msg_tx.clone(),
                    request,
                    entity,
                    metrics,
                    (from_ms, to_ms),
                    max_points,
                ),
                Effect::LoadForecast {
                    request,
                    entity,
                    metric,
                    horizon_rows,
                    ceiling,
                } => self.history.forecast(
                    self.msg_tx.clone(),
                    request,
                    (entity, metric),
                    horizon_rows,
                    ceiling,
                ),
                Effect::WarmDetectors {
                    entity,
                    metrics,
                    until_ms,
                    lookback_ms,
                } => {
                    self.history.warm(
                        self.msg_tx.clone(),
                        entity,
                        metrics,
                        until_ms - lookback_ms..until_ms,
                    );
                }
                Effect::LoadCapacity { request, hosts } => {
                    self.history.capacity(
                        self.msg_tx.clone(),
                        request,
                        hosts,
                        self.analysis.capacity.clone(),
                    );
                }
                Effect::LoadRightsize { request, vms } => {
                    self.history.rightsize(
                        self.msg_tx.clone(),
                        request,
                        vms,
                        self.analysis.clone(),
                    );
                }
                Effect::ScrollLogs(s) => crate::ui::panes::logs::scroll(s),
                Effect::Quit => {}
                Effect::Background => self.background = true,
            }
        }
        back
    }
}

fn dispatch(state: &mut State, rt: &mut Runtime, msg: Msg) {
    let mut queue = vec![msg];
    while let Some(m) = queue.pop() {
        let effects = update(state, m, now_ms());
        queue.extend(rt.run(effects));
    }
}

/// What the journal says at start about where the history comes from, when it is not the
/// console's own database.
pub type StoreNote = (String, crate::app::state::JournalStatus);

/// Runs the console until the user quits or a terminating signal arrives, and gives that
/// signal's number. The terminal is restored on every path out, including errors. `locks`:
/// the console locks of `cfg.uris`, in that order (empty when read-only).
///
/// # Errors
/// Terminal I/O errors.
pub async fn run(
    cfg: Config,
    store: SharedStore,
    note: Option<StoreNote>,
    locks: Vec<HostLock>,
) -> anyhow::Result<Option<i32>> {
    let theme = Theme::new(&cfg.theme, cfg.color);
    let settings = Settings {
        read_only: cfg.read_only,
        shutdown_timeout_ms: i64::try_from(cfg.shutdown_timeout.as_millis()).unwrap_or(i64::MAX),
        job_control: terminal::job_control(),
        ..Settings::default()
    };
    let mut state = State::new(&cfg.uris, settings, cfg.keymap.help_lines(), now_ms());
    state.tz_offset_s = crate::domain::format::local_offset_s();
    state.anomalies.config = cfg.analysis.anomaly.clone();
    state.settings.cadence = Cadence {
        fast_ms: millis(cfg.poll_interval),
        slow_ms: millis(cfg.monitor_interval),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    let mut opts = HostOptions::new("");
    opts.read_only = cfg.read_only;
    opts.poll_interval = cfg.poll_interval;
    opts.slow_interval = cfg.monitor_interval;
    let history = History::start(store, Duration::from_secs(5), msg_tx.clone())?;
    let mut rt = Runtime {
        hosts: Vec::new(),
        tx,
        msg_tx,
        opts,
        history,
        analysis: cfg.analysis.clone(),
        locks: locks.into_iter().enumerate().collect(),
        background: false,
    };
    // The terminal first: a first connection's library warnings go to the file, not the shell.
    let stderr_file = crate::logging::state_dir().join("novacron.stderr");
    let mut term = terminal::init(&stderr_file).context("cannot set up the terminal")?;
    for (i, uri) in cfg.uris.iter().enumerate() {
        rt.connect(i, uri);
    }
    if let Some((note, status)) = note {
        crate::app::opflow::journal(&mut state, "novacron", "history", note, status, None);
    }

    let mut chans = Channels {
        provider: &mut rx,
        internal: &mut msg_rx,
    };
    let result = event_loop(
        &mut term,
        &mut state,
        &mut rt,
        &mut chans,
        &LoopConfig {
            cfg: &cfg,
            theme: &theme,
            stderr_file: &stderr_file,
        },
    )
    .await;
    terminal::restore();
    // restore() showed the cursor. ratatui's own drop would show it again and, on a terminal
    // gone with its session, print the failure with eprintln!, which panics on a stderr that
    // is gone too (exit 101 instead of 129). Nothing else in it needs dropping.
    std::mem::forget(term);
    rt.history.stop();
    drop(rt);
    result
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

struct Channels<'a> {
    provider: &'a mut mpsc::UnboundedReceiver<ProviderEvent>,
    internal: &'a mut mpsc::UnboundedReceiver<Msg>,
}

struct LoopConfig<'a> {
    cfg: &'a Config,
    theme: &'a Theme,
    stderr_file: &'a std::path::Path,
}

/// Runs until quit (`None`) or a terminating signal (its number: the exit status is 128 + it).
async fn event_loop(
    term: &mut terminal::Tui,
    state: &mut State,
    rt: &mut Runtime,
    chans: &mut Channels<'_>,
    lc: &LoopConfig<'_>,
) -> anyhow::Result<Option<i32>> {
    let (cfg, theme) = (lc.cfg, lc.theme);
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigquit = signal(SignalKind::quit())?;
    let mut sigtstp = signal(SignalKind::from_raw(libc::SIGTSTP))?;
    // Set by the signal handler itself: a hang-up that comes while the console is stopped
    // (the ssh session closed: SIGHUP, then SIGCONT) is seen before the loop runs again.
    let hung_up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _ = signal_hook::flag::register(libc::SIGHUP, hung_up.clone());
    let mut ended_by = None;
    let size = term.size()?;
    dispatch(state, rt, Msg::Resize(size.width, size.height));
    loop {
        if std::mem::take(&mut rt.background) {
            match terminal::background(term, lc.stderr_file) {
                Ok(()) => {
                    let size = term.size()?;
                    dispatch(state, rt, Msg::Resize(size.width, size.height));
                }
                // Its terminal is gone with the session: ended by the hang-up, not an error.
                Err(_) if hung_up.load(std::sync::atomic::Ordering::SeqCst) => {
                    dispatch(state, rt, Msg::Terminate);
                    return Ok(Some(libc::SIGHUP));
                }
                Err(e) => return Err(e).context("taking the terminal back"),
            }
        }
        term.draw(|f| ui::render(state, theme, f))?;
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => {
                    if let Some(msg) = input::translate(&cfg.keymap, state, &k) {
                        dispatch(state, rt, msg);
                    }
                }
                Some(Ok(Event::Resize(w, h))) => dispatch(state, rt, Msg::Resize(w, h)),
                Some(Ok(Event::Paste(text))) => dispatch(state, rt, Msg::Paste(text)),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("reading terminal input"),
                None => dispatch(state, rt, Msg::Terminate),
            },
            Some(pev) = chans.provider.recv() => {
                dispatch(state, rt, Msg::Provider(pev));
                // Coalesce a burst (a 1000-VM inventory, many events) into one frame.
                while let Ok(p) = chans.provider.try_recv() {
                    dispatch(state, rt, Msg::Provider(p));
                }
            }
            Some(m) = chans.internal.recv() => dispatch(state, rt, m),
            _ = tick.tick() => dispatch(state, rt, Msg::Tick),
            // As the key: the reducer decides whether anything could continue the console.
            _ = sigtstp.recv() => dispatch(state, rt, Msg::Action(crate::app::Action::Background)),
            _ = sigterm.recv() => ended_by = Some(libc::SIGTERM),
            _ = sighup.recv() => ended_by = Some(libc::SIGHUP),
            _ = sigint.recv() => ended_by = Some(libc::SIGINT),
            _ = sigquit.recv() => ended_by = Some(libc::SIGQUIT),
        }
        if ended_by.is_some() {
            dispatch(state, rt, Msg::Terminate);
        }
        if state.quit {
            return Ok(ended_by);
        }
    }
}
