//! Reading the history of a running console from another process.
//!
//! sled lets one process open a database, and the console keeps its history open while it
//! runs, so `novacron forecast`, `metrics`, `capacity`, `rightsize` and `history stats` run
//! beside it would find it locked. The console therefore serves reads on a Unix socket
//! beside the database ([`socket_path`]: `history.sock` for `history`), mode 0600, and the
//! headless commands try that socket before opening the database themselves. The protocol
//! is one JSON request per line and one JSON reply per line; only reads are served.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::writer::{lock, SharedStore};
use super::{
    FlushReport, HistoryStore, Query, QueryResult, Sample, SeriesInfo, SeriesKey, StoreError,
    StoreStats,
};

/// How long either side waits for the other's line.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The socket of the console that has the database at `history` open.
#[must_use]
pub fn socket_path(history: &Path) -> PathBuf {
    let mut s = history.components().as_path().as_os_str().to_os_string();
    s.push(".sock");
    PathBuf::from(s)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Request {
    Query(Query),
    RawRange {
        key: SeriesKey,
        from_ms: i64,
        to_ms: i64,
    },
    Latest(SeriesKey),
    ListSeries,
    Stats,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reply<T> {
    Ok(T),
    Err(String),
}

fn answer(store: &SharedStore, line: &str) -> String {
    fn reply<T: Serialize>(r: Result<T, StoreError>) -> String {
        let r = r.map_or_else(|e| Reply::Err(e.to_string()), Reply::Ok);
        serde_json::to_string(&r).unwrap_or_else(|e| format!(r#"{{"err":"reply: {e}"}}"#))
    }
    let req: Request = match serde_json::from_str(line) {
        Ok(r) => r,
        Err(e) => {
            let r: Reply<()> = Reply::Err(format!("not a request ({e})"));
            return serde_json::to_string(&r).unwrap_or_default();
        }
    };
    let s = lock(store);
    match req {
        Request::Query(q) => reply(s.query(&q)),
        Request::RawRange {
            key,
            from_ms,
            to_ms,
        } => reply(s.raw_range(&key, from_ms, to_ms)),
        Request::Latest(key) => reply(s.latest(&key)),
        Request::ListSeries => reply(s.list_series()),
        Request::Stats => reply(s.stats()),
    }
}

fn serve_client(store: &SharedStore, stream: UnixStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut out = stream.try_clone()?;
    for line in BufReader::new(stream).lines() {
        let mut reply = answer(store, &line?);
        reply.push('\n');
        out.write_all(reply.as_bytes())?;
    }
    Ok(())
}

/// Serves reads of the console's store on [`socket_path`] until dropped; the socket file
/// goes with it.
pub struct QueryServer {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    /// The connections being served, to close when the server goes.
    clients: Clients,
}

type Clients = Arc<Mutex<Vec<(u64, UnixStream)>>>;

fn clients(c: &Clients) -> std::sync::MutexGuard<'_, Vec<(u64, UnixStream)>> {
    c.lock().unwrap_or_else(PoisonError::into_inner)
}

impl QueryServer {
    /// Binds the socket (replacing a stale one left by a console that died) and serves.
    ///
    /// # Errors
    /// The socket cannot be bound or given mode 0600.
    pub fn start(store: SharedStore, path: PathBuf) -> std::io::Result<Self> {
        if path.exists() {
            // This process holds the database, so no live console serves it: stale.
            std::fs::remove_file(&path)?;
        }
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let served: Clients = Arc::default();
        let open = served.clone();
        std::thread::Builder::new()
            .name("history-serve".into())
            .spawn(move || {
                for (id, stream) in (0u64..).zip(listener.incoming()) {
                    if stopping.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let Ok(handle) = stream.try_clone() else {
                        continue;
                    };
                    clients(&open).push((id, handle));
                    let (store, open) = (store.clone(), open.clone());
                    let _ = std::thread::Builder::new()
                        .name("history-client".into())
                        .spawn(move || {
                            if let Err(e) = serve_client(&store, stream) {
                                tracing::debug!("history client: {e}");
                            }
                            clients(&open).retain(|(i, _)| *i != id);
                        });
                }
            })?;
        Ok(Self {
            path,
            stop,
            clients: served,
        })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for QueryServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag and ends. It is not joined: if the socket
        // file was removed under us (its directory deleted), nothing can wake it, and a
        // console on its way out must not wait for it.
        let _ = UnixStream::connect(&self.path);
        for (_, c) in clients(&self.clients).drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The history of a running console, read through its socket. Writes are refused.
pub struct RemoteStore {
    path: PathBuf,
    conn: Mutex<(BufReader<UnixStream>, UnixStream)>,
    /// Writes are dropped instead of refused (a read-only console beside the one recording).
    discard_writes: bool,
}

impl RemoteStore {
    /// Connects to the console serving [`socket_path`]; `None` when none answers there.
    #[must_use]
    pub fn connect(path: &Path) -> Option<Self> {
        let stream = UnixStream::connect(path).ok()?;
        stream.set_read_timeout(Some(TIMEOUT)).ok()?;
        stream.set_write_timeout(Some(TIMEOUT)).ok()?;
        let out = stream.try_clone().ok()?;
        Some(Self {
            path: path.to_path_buf(),
            conn: Mutex::new((BufReader::new(stream), out)),
            discard_writes: false,
        })
    }

    /// For a read-only console watching beside the one that records: what it would write,
    /// the other console writes already, so its writes are dropped rather than refused.
    #[must_use]
    pub fn discarding_writes(mut self) -> Self {
        self.discard_writes = true;
        self
    }

    fn fail(&self, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Remote {
            path: self.path.clone(),
            detail: detail.to_string(),
        }
    }

    fn io_fail(&self, e: &std::io::Error) -> StoreError {
        use std::io::ErrorKind::{BrokenPipe, ConnectionReset, UnexpectedEof};
        if matches!(e.kind(), BrokenPipe | ConnectionReset | UnexpectedEof) {
            self.gone()
        } else {
            self.fail(e)
        }
    }

    fn gone(&self) -> StoreError {
        self.fail("that console has exited; start this one again to read the history itself")
    }

    fn call<T: for<'de> Deserialize<'de>>(&self, req: &Request) -> Result<T, StoreError> {
        let mut line = serde_json::to_string(req).map_err(|e| self.fail(e))?;
        line.push('\n');
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let (reader, writer) = &mut *conn;
        writer
            .write_all(line.as_bytes())
            .map_err(|e| self.io_fail(&e))?;
        let mut reply = String::new();
        if reader.read_line(&mut reply).map_err(|e| self.io_fail(&e))? == 0 {
            return Err(self.gone());
        }
        match serde_json::from_str(&reply).map_err(|e| self.fail(e))? {
            Reply::Ok(v) => Ok(v),
            Reply::Err(e) => Err(self.fail(e)),
        }
    }

    fn read_only(&self) -> StoreError {
        self.fail("read-only here; that console writes it")
    }
}

impl HistoryStore for RemoteStore {
    fn append(&mut self, _batch: &[(SeriesKey, Sample)]) -> Result<(), StoreError> {
        if self.discard_writes {
            return Ok(());
        }
        Err(self.read_only())
    }

    fn flush(&mut self) -> Result<FlushReport, StoreError> {
        if self.discard_writes {
            return Ok(FlushReport::default());
        }
        Err(self.read_only())
    }

    fn query(&self, q: &Query) -> Result<QueryResult, StoreError> {
        self.call(&Request::Query(q.clone()))
    }

    fn raw_range(
        &self,
        key: &SeriesKey,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Sample>, StoreError> {
        self.call(&Request::RawRange {
            key: key.clone(),
            from_ms,
            to_ms,
        })
    }

    fn latest(&self, key: &SeriesKey) -> Result<Option<Sample>, StoreError> {
        self.call(&Request::Latest(key.clone()))
    }

    fn list_series(&self) -> Result<Vec<SeriesInfo>, StoreError> {
        self.call(&Request::ListSeries)
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.call(&Request::Stats)
    }

    fn path(&self) -> Option<&Path> {
        None
    }
}

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;
