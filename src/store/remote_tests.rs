use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

use super::*;
use crate::store::{MemoryStore, StoreConfig};

const T0: i64 = 1_700_000_000_000;

fn served() -> (tempfile::TempDir, SharedStore, QueryServer) {
    let dir = tempfile::tempdir().unwrap();
    let mut mem = MemoryStore::new(StoreConfig::default());
    let key = SeriesKey::new("vm/abc", "cpu_pct");
    let batch: Vec<(SeriesKey, Sample)> = (0..120)
        .map(|i| {
            (
                key.clone(),
                Sample {
                    ts_ms: T0 + i * 5_000,
                    value: f64::from(u32::try_from(i % 10).unwrap()),
                },
            )
        })
        .collect();
    mem.append(&batch).unwrap();
    mem.flush().unwrap();
    let store: SharedStore = Arc::new(Mutex::new(Box::new(mem)));
    let server =
        QueryServer::start(store.clone(), socket_path(&dir.path().join("history"))).unwrap();
    (dir, store, server)
}

#[test]
fn the_socket_sits_beside_the_database() {
    assert_eq!(
        socket_path(Path::new("/var/lib/nc/history")),
        Path::new("/var/lib/nc/history.sock")
    );
    assert_eq!(
        socket_path(Path::new("/var/lib/nc/history/")),
        Path::new("/var/lib/nc/history.sock")
    );
}

#[test]
fn every_spelling_of_the_path_finds_the_same_socket() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir_all(real.join("history")).unwrap();
    std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
    let want = socket_path(&real.join("history"));
    assert_eq!(socket_path(&dir.path().join("link/history")), want);
    assert_eq!(socket_path(&dir.path().join("real/./history/")), want);
}

#[test]
fn a_kept_connection_follows_a_restarted_console() {
    let (dir, store, server) = served();
    let remote = RemoteStore::connect(server.path()).unwrap();
    assert!(remote.stats().is_ok());
    // The console restarts: its old connections close, a new socket takes the same path.
    drop(server);
    let server = QueryServer::start(store, socket_path(&dir.path().join("history"))).unwrap();
    assert!(remote.stats().is_ok(), "reconnects once");
    // No private directory is left behind from binding.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("history.sock")],
        "{left:?}"
    );
    drop(server);
}

#[test]
fn a_client_reads_what_the_console_holds_and_cannot_write() {
    let (_dir, store, server) = served();
    let mode = std::fs::metadata(server.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let mut remote = RemoteStore::connect(server.path()).unwrap();
    let key = SeriesKey::new("vm/abc", "cpu_pct");
    let q = Query {
        key: key.clone(),
        from_ms: T0,
        to_ms: T0 + 600_000,
        max_points: None,
        step_ms: Some(60_000),
    };
    let local = lock(&store).query(&q).unwrap();
    assert!(!local.points.is_empty());
    assert_eq!(remote.query(&q).unwrap(), local);
    assert_eq!(remote.stats().unwrap(), lock(&store).stats().unwrap());
    assert_eq!(
        remote.raw_range(&key, T0, T0 + 60_000).unwrap(),
        lock(&store).raw_range(&key, T0, T0 + 60_000).unwrap()
    );
    assert_eq!(
        remote.latest(&key).unwrap(),
        lock(&store).latest(&key).unwrap()
    );
    assert_eq!(
        remote.list_series().unwrap(),
        lock(&store).list_series().unwrap()
    );
    let unknown = SeriesKey::new("vm/nope", "cpu_pct");
    assert_eq!(remote.latest(&unknown).unwrap(), None);
    assert!(remote.latest(&key).unwrap().is_some());
    let e = remote.append(&[]).unwrap_err().to_string();
    assert!(e.contains("read-only here"), "{e}");
    assert!(remote.flush().is_err());
    // A read-only console's writes are dropped; the recording console's data stays as it was.
    let mut watcher = RemoteStore::connect(server.path())
        .unwrap()
        .discarding_writes();
    let late = (
        key.clone(),
        Sample {
            ts_ms: T0 + 10_000_000,
            value: 99.0,
        },
    );
    watcher.append(&[late]).unwrap();
    assert_eq!(watcher.flush().unwrap(), FlushReport::default());
    assert_eq!(
        watcher.latest(&key).unwrap(),
        lock(&store).latest(&key).unwrap()
    );
    assert_ne!(watcher.latest(&key).unwrap().map(|s| s.value), Some(99.0));
}

#[test]
fn a_stale_socket_is_replaced_and_the_socket_goes_with_the_server() {
    let (dir, store, server) = served();
    let path = server.path().to_path_buf();
    drop(server);
    assert!(!path.exists());
    assert!(RemoteStore::connect(&path).is_none());
    // A console that died leaves its socket file; the next one binds over it.
    std::fs::write(&path, b"").unwrap();
    let server = QueryServer::start(store, socket_path(&dir.path().join("history"))).unwrap();
    let remote = RemoteStore::connect(server.path()).unwrap();
    assert!(remote.stats().is_ok());
    drop(server);
    // The client learns the console went away instead of hanging.
    let e = remote.stats().unwrap_err().to_string();
    assert!(
        e.contains("no console that records it is running now"),
        "{e}"
    );
}

#[test]
fn garbage_gets_an_error_reply_not_a_dead_connection() {
    let (_dir, _store, server) = served();
    let mut s = UnixStream::connect(server.path()).unwrap();
    s.write_all(b"hello\n{\"stats\":null}\n").unwrap();
    let mut lines = BufReader::new(s).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with(r#"{"err":"not a request"#), "{first}");
    let second = lines.next().unwrap().unwrap();
    assert!(second.starts_with(r#"{"ok":"#), "{second}");
}

#[test]
fn dropping_the_server_does_not_wait_when_its_socket_file_is_gone() {
    let (dir, _store, server) = served();
    // The state directory deleted under a running console (a test's temporary directory, an
    // operator's rm): nothing can reach the accept loop any more.
    std::fs::remove_file(server.path()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(server);
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(5)).is_ok(),
        "drop hung on the accept loop"
    );
    drop(dir);
}

#[test]
fn a_gap_stored_as_nan_comes_back_as_nan() {
    let (_dir, store, server) = served();
    let key = SeriesKey::new("vm/abc", "mem_used_bytes");
    let gap = Sample {
        ts_ms: T0,
        value: f64::NAN,
    };
    let after = Sample {
        ts_ms: T0 + 5_000,
        value: 7.0,
    };
    {
        let mut s = lock(&store);
        s.append(&[(key.clone(), gap), (key.clone(), after)])
            .unwrap();
        s.flush().unwrap();
    }
    let remote = RemoteStore::connect(server.path()).unwrap();
    let got = remote.raw_range(&key, T0, T0 + 10_000).unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].value.is_nan(), "{got:?}");
    assert!((got[1].value - 7.0).abs() < 1e-9, "{got:?}");
    let q = Query {
        key,
        from_ms: T0,
        to_ms: T0 + 10_000,
        max_points: None,
        step_ms: None,
    };
    assert_eq!(
        remote.query(&q).unwrap().points.len(),
        lock(&store).query(&q).unwrap().points.len()
    );
}

#[test]
fn a_watcher_started_first_reads_once_a_console_serves() {
    let dir = tempfile::tempdir().unwrap();
    let sock = socket_path(&dir.path().join("history"));
    let watcher = RemoteStore::new(&sock).discarding_writes();
    assert!(!watcher.connected());
    let e = watcher.stats().unwrap_err().to_string();
    assert!(
        e.contains("no console that records it is running now"),
        "{e}"
    );
    let store: SharedStore = Arc::new(Mutex::new(Box::new(MemoryStore::new(
        StoreConfig::default(),
    ))));
    let server = QueryServer::start(store, sock).unwrap();
    assert!(watcher.stats().is_ok(), "connects at the first call after");
    assert!(watcher.connected());
    drop(server);
}
