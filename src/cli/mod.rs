//! Command line: clap definitions, the TUI entry and the headless commands. Exit codes:
//! 0 ok, 1 operation failed (libvirt's message), 2 usage or connection error, 128 + N ended by
//! signal N.

mod analytics_cmd;
mod console_store;
mod headless;
mod history_cmd;
mod hosts;
mod out_file;
mod report_cmd;
mod series_io;
mod text_table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::config::{self, Keymap, Overrides};
use crate::domain::Op;

/// Keyboard-driven operations console for KVM/libvirt hosts.
#[derive(Debug, Parser)]
#[command(name = "novacron", version, about, long_about = None)]
pub struct Cli {
    #[arg(
        short = 'c',
        long = "connect",
        value_name = "URI",
        global = true,
        help = "libvirt URI; repeat for several hosts [default: $LIBVIRT_DEFAULT_URI, else qemu:///system]"
    )]
    pub connect: Vec<String>,
    /// Open connections read-only and disable every operation
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Config file [default: ~/.config/novacron/config.toml]
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
    /// Graceful shutdown timeout before force-off is offered, e.g. 60s, 2m [default: 60s]
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub shutdown_timeout: Option<String>,
    /// Metric poll interval, 1s to 60s [default: 5s]
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub interval: Option<String>,
    /// Keymap file overriding the default bindings
    #[arg(long, value_name = "PATH")]
    pub keymap: Option<PathBuf>,
    /// Theme file
    #[arg(long, value_name = "PATH")]
    pub theme: Option<PathBuf>,
    /// No colours (also when `NO_COLOR` is set)
    #[arg(long)]
    pub no_color: bool,
    /// Metrics history database directory [default: ~/.local/state/novacron/history]
    #[arg(long, value_name = "PATH", global = true)]
    pub history: Option<PathBuf>,
    /// Keep metrics history in memory only, for this run
    #[arg(long, global = true, conflicts_with = "history")]
    pub no_history: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List VMs on every connection
    List {
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Run a lifecycle operation on a VM; waits for the new state (reboot and reset: until libvirt accepts them)
    Vm {
        /// The operation
        #[arg(value_enum)]
        op: OpArg,
        /// VM name, UUID or running ID
        name: String,
        /// For shutdown: how long to wait for the guest to power off, 1s to 1h, e.g. 90 (seconds), 2m [default: the configured shutdown timeout]
        #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
        timeout: Option<String>,
        /// For shutdown: force the VM off (destroy) when the timeout expires
        #[arg(long)]
        force: bool,
    },
    /// Print a VM's metric history from the history database
    Metrics {
        /// VM name, UUID or running ID
        name: String,
        /// cpu, mem, disk, net, or a series name such as `disk_wr_iops`
        #[arg(long, default_value = "cpu")]
        metric: String,
        /// How far back, 1s to 400d, e.g. 5m, 1h, 7d (M is months, m minutes)
        #[arg(long, default_value = "1h", allow_hyphen_values = true)]
        since: String,
        /// JSON output
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// CSV output
        #[arg(long)]
        csv: bool,
    },
    /// Rolling-origin backtest of every forecast model on timestamp,value CSVs
    Backtest {
        /// CSV files with a `timestamp,value` header, one row per step
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write every forecast of the automatic choice here (`series,origin_ts,step,forecast,lo95,hi95`)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Stream timestamp,value CSVs through the anomaly detectors
    /// (detector settings: the config file's [anomaly] section)
    Detect {
        /// CSV files with a `timestamp,value` header, one row per step
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write one decision per row here (`series,timestamp,score,is_anomaly`)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Labelled anomaly windows ({"series": [[start, end], ...]}) to score the decisions
        #[arg(long, value_name = "FILE")]
        windows: Option<PathBuf>,
    },
    /// Forecast a VM's metric from its history, with 80 % and 95 % intervals
    Forecast {
        /// VM name, UUID or running ID; or a host's label or URI (cpu or mem)
        name: String,
        /// cpu, mem, disk, net, or a series name such as `disk_wr_iops`
        #[arg(long, default_value = "cpu")]
        metric: String,
        /// How far ahead, 5m to 30d, e.g. 1h, 6h, 2d
        #[arg(long, default_value = "6h", allow_hyphen_values = true)]
        horizon: String,
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// When each host's CPU, memory and storage pools cross the capacity threshold; headroom
    Capacity {
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Right-sizing: oversized and idle VMs, with the evidence and (with prices) the savings
    Rightsize {
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// The history database
    History {
        #[command(subcommand)]
        command: HistoryCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Series count, samples, bytes on disk and bytes per sample
    Stats {
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OpArg {
    Start,
    Shutdown,
    Reboot,
    Reset,
    Suspend,
    Resume,
    Destroy,
}

impl From<OpArg> for Op {
    fn from(o: OpArg) -> Op {
        match o {
            OpArg::Start => Op::Start,
            OpArg::Shutdown => Op::Shutdown,
            OpArg::Reboot => Op::Reboot,
            OpArg::Reset => Op::Reset,
            OpArg::Suspend => Op::Suspend,
            OpArg::Resume => Op::Resume,
            OpArg::Destroy => Op::Destroy,
        }
    }
}

/// Exit status with the message printed to stderr.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    #[must_use]
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    #[must_use]
    pub fn op(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// Stop without a word, exit 0: the reader of standard output went away (`| head`).
    #[must_use]
    pub fn quiet() -> Self {
        Self {
            code: 0,
            message: String::new(),
        }
    }
}

/// The value of `--flag VALUE` or `--flag=VALUE` in raw args, for building `--help` before
/// clap has parsed them.
fn raw_flag(args: &[String], flag: &str) -> Option<String> {
    let eq = format!("{flag}=");
    args.iter().enumerate().find_map(|(i, a)| {
        if a == flag {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&eq).map(str::to_string)
        }
    })
}

/// The key list `--help` documents: from the keymap the console would use with these args.
fn help_keys(args: &[String]) -> String {
    let o = Overrides {
        config: raw_flag(args, "--config").map(PathBuf::from),
        keymap: raw_flag(args, "--keymap").map(PathBuf::from),
        ..Overrides::default()
    };
    // A keymap that cannot be used is said here too, not hidden behind the default keys.
    match config::load(&o, None, false).map(|c| c.keymap) {
        Ok(k) => k.help_text(),
        Err(e) => format!(
            "  (this keymap or config cannot be used: {e}; the default keys:)\n{}",
            Keymap::default_keymap()
                .map(|k| k.help_text())
                .unwrap_or_default()
        ),
    }
}

/// Builds the clap command with the key bindings appended to `--help`.
#[must_use]
pub fn command(args: &[String]) -> clap::Command {
    let keys = help_keys(args);
    let verbs: Vec<String> = crate::app::palette::help_lines()
        .iter()
        .map(|l| format!("  {}", l.trim_start()))
        .collect();
    let mut cmd = Cli::command().after_help(format!(
        "Keys in the console (the same list as `?`):\n{keys}\n\nPalette (:) verbs, each VM named by name, UUID or running ID:\n{}\n\nExit codes: 0 ok, 1 operation failed, 2 usage or connection error, 128+N ended by signal N.",
        verbs.join("\n").replace("palette verbs: ", "")
    ));
    // Global options reach a subcommand when the command is built, unless it has its own
    // argument of that id: give those that have no use for one a hidden copy, so their
    // --help does not list it (`unused_option` refuses it). `history`'s own subcommands
    // get theirs too.
    for (sub, unused, _) in UNUSED {
        let hidden: Vec<clap::Arg> = cmd
            .get_arguments()
            .filter(|a| unused.contains(&a.get_id().as_str()))
            .map(|a| a.clone().hide(true))
            .collect();
        cmd = cmd.mut_subcommand(sub, |mut c| {
            let nested: Vec<String> = c
                .get_subcommands()
                .map(|n| n.get_name().to_string())
                .collect();
            for name in nested {
                c = c.mut_subcommand(name, |n| n.args(hidden.clone()));
            }
            c.args(hidden)
        });
    }
    cmd
}

/// The global options (clap ids) each subcommand has no use for: the CSV commands connect
/// to nothing and keep no history (`detect` reads the config's `[anomaly]`), `list` and `vm`
/// read no history, `history` connects to nothing.
const UNUSED: [(&str, &[&str], &str); 5] = [
    (
        "backtest",
        &["connect", "read_only", "history", "no_history", "config"],
        CSV_WORK,
    ),
    (
        "detect",
        &["connect", "read_only", "history", "no_history"],
        CSV_WORK,
    ),
    ("list", &["history", "no_history"], "which reads no history"),
    ("vm", &["history", "no_history"], "which reads no history"),
    (
        "history",
        &["connect", "read_only"],
        "which reads the history database, not hosts",
    ),
];

const CSV_WORK: &str = "which works on CSV files, not on hosts or their history";

/// An option given to a subcommand that has no use for it: the subcommand, the flag and why.
fn unused_option(cli: &Cli) -> Option<(&'static str, &'static str, &'static str)> {
    let sub = match cli.command {
        Some(Command::Backtest { .. }) => "backtest",
        Some(Command::Detect { .. }) => "detect",
        Some(Command::List { .. }) => "list",
        Some(Command::Vm { .. }) => "vm",
        Some(Command::History { .. }) => "history",
        _ => return None,
    };
    let given = [
        ("connect", "--connect", !cli.connect.is_empty()),
        ("read_only", "--read-only", cli.read_only),
        ("history", "--history", cli.history.is_some()),
        ("no_history", "--no-history", cli.no_history),
        ("config", "--config", cli.config.is_some()),
    ];
    let (_, unused, why) = UNUSED.iter().find(|(s, _, _)| *s == sub)?;
    given
        .into_iter()
        .find(|(id, _, set)| *set && unused.contains(id))
        .map(|(_, flag, _)| (sub, flag, *why))
}

/// Entry point used by `main`.
#[must_use]
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let matches = match command(&args).try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                // Not eprintln!, which panics when stderr is gone (a closed ssh session).
                let _ = std::io::Write::write_fmt(
                    &mut std::io::stderr(),
                    format_args!(
                        "novacron: {}\n",
                        crate::domain::format::printable_message(&f.message)
                    ),
                );
            }
            ExitCode::from(f.code)
        }
    }
}

fn overrides(cli: &Cli) -> Overrides {
    Overrides {
        config: cli.config.clone(),
        connect: cli.connect.clone(),
        read_only: cli.read_only,
        shutdown_timeout: cli.shutdown_timeout.clone(),
        interval: cli.interval.clone(),
        keymap: cli.keymap.clone(),
        theme: cli.theme.clone(),
        no_color: cli.no_color,
        history: cli.history.clone(),
        no_history: cli.no_history,
    }
}

/// The shutdown wait of `novacron vm`: `--timeout` in the range `--shutdown-timeout` allows,
/// and `--timeout`/`--force` only where they mean something.
fn vm_timeout(
    op: Op,
    timeout: Option<&str>,
    force: bool,
    default: std::time::Duration,
) -> Result<std::time::Duration, Failure> {
    use std::time::Duration;
    if op != Op::Shutdown && (timeout.is_some() || force) {
        let given = match (timeout.is_some(), force) {
            (true, true) => "--timeout and --force apply",
            (true, false) => "--timeout applies",
            _ => "--force applies",
        };
        return Err(Failure::usage(format!(
            "{given} to `vm shutdown` only, not to `vm {op}`"
        )));
    }
    let Some(t) = timeout else {
        return Ok(default);
    };
    config::validate::parse_duration(t, Duration::from_secs(1), Duration::from_secs(3600))
        .map_err(|e| Failure::usage(format!("--timeout: {e}")))
}

fn run(cli: Cli) -> Result<(), Failure> {
    if let Some((sub, flag, why)) = unused_option(&cli) {
        return Err(Failure::usage(format!(
            "{flag} has no use with `novacron {sub}`, {why}"
        )));
    }
    // The backtest reads only its CSVs: hosts and the config file are none of its business.
    if let Some(Command::Backtest { files, out, json }) = &cli.command {
        return analytics_cmd::backtest(files, out.as_deref(), *json);
    }
    let env_uri = std::env::var("LIBVIRT_DEFAULT_URI").ok();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let cfg = config::load(&overrides(&cli), env_uri.as_deref(), no_color)
        .map_err(|e| Failure::usage(e.to_string()))?;
    match cli.command {
        None => tui(cfg),
        Some(Command::List { json }) => {
            let _g = crate::logging::init_cli();
            headless::list(&cfg, json)
        }
        Some(Command::Vm {
            op,
            name,
            timeout,
            force,
        }) => {
            let op: Op = op.into();
            let timeout = vm_timeout(op, timeout.as_deref(), force, cfg.shutdown_timeout)?;
            let _g = crate::logging::init_cli();
            headless::vm(&cfg, op, &name, timeout, force)
        }
        Some(Command::Metrics {
            name,
            metric,
            since,
            json,
            csv,
        }) => {
            let _g = crate::logging::init_cli();
            let format = match (json, csv) {
                (true, _) => history_cmd::Format::Json,
                (_, true) => history_cmd::Format::Csv,
                _ => history_cmd::Format::Table,
            };
            history_cmd::metrics(&cfg, &name, &metric, &since, format)
        }
        Some(Command::Forecast {
            name,
            metric,
            horizon,
            json,
        }) => {
            let _g = crate::logging::init_cli();
            report_cmd::forecast(&cfg, &name, &metric, &horizon, json)
        }
        Some(Command::Capacity { json }) => {
            let _g = crate::logging::init_cli();
            report_cmd::capacity(&cfg, json)
        }
        Some(Command::Rightsize { json }) => {
            let _g = crate::logging::init_cli();
            report_cmd::rightsize(&cfg, json)
        }
        // Answered above, before the config is read; the same call if it ever gets here.
        Some(Command::Backtest { files, out, json }) => {
            analytics_cmd::backtest(&files, out.as_deref(), json)
        }
        Some(Command::Detect {
            files,
            out,
            windows,
        }) => analytics_cmd::detect(
            &files,
            out.as_deref(),
            windows.as_deref(),
            &cfg.analysis.anomaly,
        ),
        Some(Command::History {
            command: HistoryCommand::Stats { json },
        }) => {
            let _g = crate::logging::init_cli();
            history_cmd::stats(&cfg, json)
        }
    }
}

fn tui(cfg: config::Config) -> Result<(), Failure> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return Err(Failure::usage(
            "the console needs a terminal on stdout; for scripts use `novacron list` or `novacron vm …`",
        ));
    }
    // A dumb terminal (an editor's shell buffer, some serial consoles) cannot place the
    // cursor: the console would scroll garbage.
    if std::env::var("TERM").is_ok_and(|t| t == "dumb") {
        return Err(Failure::usage(
            "TERM=dumb: this terminal cannot draw the console (no cursor addressing); run it \
             in a terminal such as xterm-256color, or use the headless commands (`novacron \
             list`, `novacron vm …`, `novacron metrics …`)",
        ));
    }
    let dir = crate::logging::state_dir();
    let mut locks = Vec::new();
    if !cfg.read_only {
        for uri in &cfg.uris {
            locks.push(
                crate::lock::lock_host(&dir, uri).map_err(|e| Failure::usage(e.to_string()))?,
            );
        }
    }
    let (_guard, log_path) = crate::logging::init_tui(&dir)
        .map_err(|e| Failure::usage(format!("cannot create state dir {}: {e}", dir.display())))?;
    tracing::info!(
        "novacron starting on {} (log {})",
        cfg.uris.join(", "),
        log_path.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the async runtime: {e}")))?;
    let (store, note) = console_store::open_store(&cfg)?;
    let server = console_store::serve_history(&store);
    let res = rt.block_on(crate::tui::event_loop::run(cfg, store, note, locks));
    drop(server);
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match res.map_err(|e| Failure::usage(format!("{e:#}")))? {
        // Ended by a signal: 128 + its number, as a shell reports it, and nothing to say.
        Some(sig) => Err(Failure {
            code: u8::try_from(128 + sig).unwrap_or(1),
            message: String::new(),
        }),
        None => Ok(()),
    }
}
