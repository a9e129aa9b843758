//! The console's history store: opened as the config asks (sled on disk, memory with
//! `--no-history`, or a recording console's socket for a read-only one), and served to the
//! headless commands run beside it.

use super::{history_cmd, Failure};

/// Opens the history store the config asks for: sled on disk, or memory with `--no-history`.
/// A read-only console never opens the database (sled allows one process, and the console
/// that records must be able to): it reads through that console's socket.
pub(super) fn open_store(
    cfg: &crate::config::Config,
) -> Result<
    (
        crate::store::writer::SharedStore,
        Option<crate::tui::event_loop::StoreNote>,
    ),
    Failure,
> {
    use crate::app::state::JournalStatus;
    use crate::store::remote::{socket_path, RemoteStore};
    use crate::store::{HistoryStore, MemoryStore, SledStore};
    let sc = history_cmd::store_config(cfg);
    let mut note = None;
    let store: Box<dyn HistoryStore> = match &cfg.history_path {
        // A read-only console never holds the database: that would lock out the console
        // that records. It reads through the recording console's socket, now or once one
        // runs, and drops what it would write.
        Some(p) if cfg.read_only => {
            let remote = RemoteStore::new(&socket_path(p));
            note = Some(if remote.connected() {
                (
                    format!("read from the console that records {}", p.display()),
                    JournalStatus::Note,
                )
            } else {
                (
                    "not read yet: a read-only console reads it from the console that \
                     records it, and none runs"
                        .to_string(),
                    JournalStatus::Note,
                )
            });
            Box::new(remote.discarding_writes())
        }
        // One that records waits for a report holding the database to finish; a console
        // holding it (its socket answers) will not, so that is said at once.
        Some(p) => match SledStore::open_waiting(p, &sc, lock_patience(p)) {
            Ok(s) => Box::new(s),
            Err(e) => return Err(Failure::usage(e.to_string())),
        },
        None => Box::new(MemoryStore::new(sc)),
    };
    Ok((std::sync::Arc::new(std::sync::Mutex::new(store)), note))
}

/// How long a recording console waits for the history database: a report holding it takes
/// turns, but another console recording it answers on its socket and would hold it for good.
fn lock_patience(path: &std::path::Path) -> std::time::Duration {
    use crate::store::remote::{socket_path, RemoteStore};
    if RemoteStore::new(&socket_path(path)).connected() {
        std::time::Duration::ZERO
    } else {
        history_cmd::LOCK_PATIENCE
    }
}

/// Serves the console's history database to headless commands run beside it (see
/// [`crate::store::remote`]); a console that cannot bind the socket runs without it.
pub(super) fn serve_history(
    store: &crate::store::writer::SharedStore,
) -> Option<crate::store::remote::QueryServer> {
    use crate::store::remote::{socket_path, QueryServer};
    let path = crate::store::writer::lock(store).path()?.to_path_buf();
    let sock = socket_path(&path);
    QueryServer::start(store.clone(), sock.clone())
        .inspect_err(|e| {
            tracing::warn!(
                "cannot serve the history on {}: {e}; headless reports wait for this console to exit",
                sock.display()
            );
        })
        .ok()
}
