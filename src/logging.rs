//! Logging: `tracing` to a file under the XDG state dir and, while the TUI runs, to the
//! tui-logger pane. Nothing is printed on the terminal while the TUI owns it.

use std::path::{Path, PathBuf};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The directory for logs, locks and (later) history: `$XDG_STATE_HOME/novacron`.
#[must_use]
pub fn state_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "novacron")
        .and_then(|d| d.state_dir().map(Path::to_path_buf))
        .unwrap_or_else(|| std::env::temp_dir().join("novacron"))
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("NOVACRON_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Keeps the file writer flushing until dropped.
pub struct LogGuard {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Sets up logging for the TUI: file + tui-logger pane. Returns the log file path.
///
/// # Errors
/// When the state dir cannot be created.
pub fn init_tui(dir: &Path) -> std::io::Result<(LogGuard, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("novacron.log");
    let appender = tracing_appender::rolling::never(dir, "novacron.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let _ = tui_logger::init_logger(tui_logger::LevelFilter::Debug);
    tui_logger::set_default_level(tui_logger::LevelFilter::Info);
    let _ = tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(filter()),
        )
        .with(tui_logger::TuiTracingSubscriberLayer.with_filter(filter()))
        .try_init();
    Ok((LogGuard { _file: Some(guard) }, path))
}

/// Logging for headless commands: warnings and errors to stderr, as `novacron: warning: …`
/// lines like the commands' own errors (no timestamps or escape codes in a report's stderr).
/// sled's own lines ("empty/corrupt configuration file found") are left out: the store says
/// what they mean in its error, once, in novacron's words.
pub fn init_cli() -> LogGuard {
    let f =
        EnvFilter::try_from_env("NOVACRON_LOG").unwrap_or_else(|_| EnvFilter::new("warn,sled=off"));
    let _ = tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .event_format(CliFormat)
                .with_filter(f),
        )
        .try_init();
    LogGuard { _file: None }
}

/// `novacron: warning: message key=value`.
struct CliFormat;

impl<S, N> fmt::FormatEvent<S, N> for CliFormat
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &fmt::FmtContext<'_, S, N>,
        mut w: fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        write!(w, "novacron: {}: ", level_word(*event.metadata().level()))?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

fn level_word(level: tracing::Level) -> &'static str {
    match level {
        tracing::Level::ERROR => "error",
        tracing::Level::WARN => "warning",
        tracing::Level::INFO => "info",
        tracing::Level::DEBUG => "debug",
        tracing::Level::TRACE => "trace",
    }
}
