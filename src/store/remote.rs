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

/// The socket of the console that has the database at `history` open: a sibling of the
/// database directory, resolved (symlinks too) so every spelling of the path finds it.
#[must_use]
pub fn socket_path(history: &Path) -> PathBuf {
    let resolved = std::fs::canonicalize(history).unwrap_or_else(|_| history.to_path_buf());
    let mut s = resolved.components().as_path().as_os_str().to_os_string();
    s.push(".sock");
    PathBuf::from(s)
}

/// Binds `path` with mode 0600 from the start: the socket is made in a private (0700)
/// directory beside it and renamed into place, so no one else can connect in between.
fn bind_private(path: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::DirBuilderExt;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let dir = path.with_file_name(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let inner = dir.join("s");
    let bound = UnixListener::bind(&inner).and_then(|l| {
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&inner, path)?;
        Ok(l)
    });
    let _ = std::fs::remove_dir_all(&dir);
    match bound {
        // The private path is longer than the socket's; near the 108-byte limit of a socket
        // path, bind in place and set the mode at once instead.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            let l = UnixListener::bind(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            Ok(l)
        }
        other => other,
    }
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

/// Serves one connection until the client closes it. No read timeout: a read-only console
/// keeps its connection for its whole run and may ask nothing for a long while.
fn serve_client(store: &SharedStore, stream: UnixStream) -> std::io::Result<()> {
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
        let listener = bind_private(&path)?;
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
                    let Ok(stream) = stream else {
                        // Out of descriptors, say: do not spin on the error.
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    };
                    let Ok(handle) = stream.try_clone() else {
                        continue;
                    };
                    clients(&open).push((id, handle));
                    let (store, done) = (store.clone(), open.clone());
                    let spawned = std::thread::Builder::new()
                        .name("history-client".into())
                        .spawn(move || {
                            if let Err(e) = serve_client(&store, stream) {
                                tracing::debug!("history client: {e}");
                            }
                            clients(&done).retain(|(i, _)| *i != id);
                        });
                    if spawned.is_err() {
                        clients(&open).retain(|(i, _)| *i != id);
                    }
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

/// One connection to the serving console.
struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    fn open(path: &Path) -> std::io::Result<Self> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        Ok(Self {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        })
    }

    /// Sends one request line and reads its reply line.
    fn exchange(&mut self, line: &str) -> std::io::Result<String> {
        self.writer.write_all(line.as_bytes())?;
        let mut reply = String::new();
        if self.reader.read_line(&mut reply)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(reply)
    }
}

/// The history of a running console, read through its socket. Writes are refused.
///
/// The connection is kept between calls. After any failure it is dropped, so a reply that
/// arrives late can never be read as the answer to the next request; the next call connects
/// again, and a call whose kept connection was closed under it reconnects once.
pub struct RemoteStore {
    path: PathBuf,
    conn: Mutex<Option<Conn>>,
    /// Writes are dropped instead of refused (a read-only console beside the one recording).
    discard_writes: bool,
}

impl RemoteStore {
    /// Connects to the console serving [`socket_path`]; `None` when none answers there.
    #[must_use]
    pub fn connect(path: &Path) -> Option<Self> {
        let store = Self::new(path);
        store.connected().then_some(store)
    }

    /// The history served at `path`, connected now if a console answers there, else at the
    /// first call after one does.
    #[must_use]
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            conn: Mutex::new(Conn::open(path).ok()),
            discard_writes: false,
        }
    }

    /// Whether a connection is open (as of the last call).
    #[must_use]
    pub fn connected(&self) -> bool {
        self.conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
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
        use std::io::ErrorKind::{
            BrokenPipe, ConnectionRefused, ConnectionReset, NotFound, TimedOut, UnexpectedEof,
            WouldBlock,
        };
        match e.kind() {
            BrokenPipe | ConnectionReset | UnexpectedEof | ConnectionRefused | NotFound => {
                self.fail("no console that records it is running now; read again once one is")
            }
            WouldBlock | TimedOut => self.fail(format!(
                "that console did not answer within {} s",
                TIMEOUT.as_secs()
            )),
            _ => self.fail(e),
        }
    }

    fn call<T: for<'de> Deserialize<'de>>(&self, req: &Request) -> Result<T, StoreError> {
        use std::io::ErrorKind::{BrokenPipe, ConnectionReset, UnexpectedEof};
        let mut line = serde_json::to_string(req).map_err(|e| self.fail(e))?;
        line.push('\n');
        let mut slot = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let mut reused = slot.is_some();
        let reply = loop {
            let mut conn = match slot.take() {
                Some(c) => c,
                None => Conn::open(&self.path).map_err(|e| self.io_fail(&e))?,
            };
            match conn.exchange(&line) {
                Ok(reply) => {
                    *slot = Some(conn);
                    break reply;
                }
                // A kept connection the console closed (it restarted, or dropped an idle
                // client): connect again once.
                Err(e)
                    if reused
                        && matches!(e.kind(), BrokenPipe | ConnectionReset | UnexpectedEof) =>
                {
                    reused = false;
                }
                Err(e) => return Err(self.io_fail(&e)),
            }
        };
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
