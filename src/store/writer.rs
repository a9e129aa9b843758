//! The dedicated writer: a thread that owns the write side of a store, takes batches from a
//! bounded channel and flushes every `flush_interval`, so the async app never waits on disk.
//!
//! ```ignore
//! let store: SharedStore = Arc::new(Mutex::new(Box::new(SledStore::open(&path, cfg.clone())?)));
//! let writer = HistoryWriter::spawn(store.clone(), cfg.flush_interval, move |ev| { let _ = tx.send(ev); })?;
//! writer.send(batch)?;                          // from the poll loop, never blocks
//! tokio::task::spawn_blocking(move || store.lock().map(|s| s.query(&q)));   // reads
//! ```

use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{FlushReport, HistoryStore, Sample, SeriesKey, StoreError};

pub type SharedStore = Arc<Mutex<Box<dyn HistoryStore>>>;

/// Batches queued before `send` reports the writer as full (about 5 minutes at 5 s polls).
const QUEUE: usize = 64;

#[derive(Debug)]
pub enum WriterEvent {
    Flushed(FlushReport),
    Failed(StoreError),
}

enum Msg {
    Batch(Vec<(SeriesKey, Sample)>),
    Flush,
}

pub struct HistoryWriter {
    tx: Option<SyncSender<Msg>>,
    handle: Option<JoinHandle<()>>,
}

/// A poisoned lock only means another thread panicked mid-call; the store itself is usable.
pub fn lock(store: &SharedStore) -> MutexGuard<'_, Box<dyn HistoryStore>> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl HistoryWriter {
    /// # Errors
    /// [`StoreError::Io`] if the thread cannot be started.
    pub fn spawn(
        store: SharedStore,
        flush_interval: Duration,
        on_event: impl Fn(WriterEvent) + Send + 'static,
    ) -> Result<Self, StoreError> {
        let (tx, rx) = sync_channel(QUEUE);
        let path = lock(&store)
            .path()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let handle = std::thread::Builder::new()
            .name("history-writer".into())
            .spawn(move || run(&store, &rx, flush_interval, &on_event))
            .map_err(|source| StoreError::Io { path, source })?;
        Ok(Self {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Queues a batch without blocking.
    ///
    /// # Errors
    /// [`StoreError::WriterStopped`] if the writer is behind by a full queue or has stopped.
    pub fn send(&self, batch: Vec<(SeriesKey, Sample)>) -> Result<(), StoreError> {
        let tx = self.tx.as_ref().ok_or(StoreError::WriterStopped)?;
        tx.try_send(Msg::Batch(batch)).map_err(|e| match e {
            TrySendError::Full(_) | TrySendError::Disconnected(_) => StoreError::WriterStopped,
        })
    }

    /// Asks for a flush now (e.g. before showing stats).
    pub fn flush_soon(&self) {
        if let Some(tx) = &self.tx {
            let _ = tx.try_send(Msg::Flush);
        }
    }

    /// Flushes what is queued and stops the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for HistoryWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run(store: &SharedStore, rx: &Receiver<Msg>, every: Duration, on_event: &dyn Fn(WriterEvent)) {
    let mut due = Instant::now() + every;
    let mut dirty = false;
    loop {
        let wait = due.saturating_duration_since(Instant::now());
        let (mut force, mut stop) = (false, false);
        match rx.recv_timeout(wait) {
            Ok(Msg::Batch(b)) => {
                if let Err(e) = lock(store).append(&b) {
                    on_event(WriterEvent::Failed(e));
                }
                dirty = true;
            }
            Ok(Msg::Flush) => force = true,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => (force, stop) = (true, true),
        }
        let now = Instant::now();
        if force || (dirty && now >= due) {
            match lock(store).flush() {
                Ok(r) => on_event(WriterEvent::Flushed(r)),
                Err(e) => on_event(WriterEvent::Failed(e)),
            }
            dirty = false;
        }
        if now >= due {
            due = now + every;
        }
        if stop {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, StoreConfig};
    use std::sync::mpsc::channel;

    #[test]
    fn batches_are_appended_and_flushed_on_stop() {
        let store: SharedStore = Arc::new(Mutex::new(Box::new(MemoryStore::new(
            StoreConfig::default(),
        ))));
        let (tx, rx) = channel();
        let w = HistoryWriter::spawn(store.clone(), Duration::from_secs(3600), move |ev| {
            let _ = tx.send(ev);
        })
        .unwrap();
        let key = SeriesKey::host("h", "load");
        for i in 0..10 {
            w.send(vec![(
                key.clone(),
                Sample {
                    ts_ms: i * 5_000,
                    value: 1.0,
                },
            )])
            .unwrap();
        }
        w.stop();
        let flushed: u64 = rx
            .try_iter()
            .map(|e| match e {
                WriterEvent::Flushed(r) => r.samples,
                WriterEvent::Failed(e) => panic!("{e}"),
            })
            .sum();
        assert_eq!(flushed, 10);
        assert_eq!(lock(&store).raw_range(&key, 0, 60_000).unwrap().len(), 10);
    }
}
