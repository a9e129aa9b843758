//! The event loop's side of the history store: the writer thread for recording and blocking
//! tasks for chart queries, whose answers come back as messages.

use tokio::sync::mpsc::UnboundedSender;

use crate::analysis::capacity::{CapacitySettings, HostInput};
use crate::analysis::rightsize::VmInput;
use crate::analytics::anomaly::ensemble::{Ensemble, EnsembleConfig};
use crate::app::ingest::RecordPoint;
use crate::app::Msg;
use crate::config::analysis::AnalysisSettings;
use crate::domain::Metric;
use crate::store::writer::{lock, HistoryWriter, SharedStore, WriterEvent};
use crate::store::{HistoryStore, Query, Sample, SeriesKey, StoreError};

/// Recorded points as the store's batch type.
#[must_use]
pub fn to_batch(points: Vec<RecordPoint>) -> Vec<(SeriesKey, Sample)> {
    points
        .into_iter()
        .map(|p| {
            let sample = Sample {
                ts_ms: p.ts_ms,
                value: p.value,
            };
            (SeriesKey::new(p.entity, p.metric), sample)
        })
        .collect()
}

/// An open store with its writer.
pub struct History {
    pub store: SharedStore,
    writer: Option<HistoryWriter>,
}

/// A failed write as a running console says it: "--no-history" would need a restart, and
/// nothing is lost yet (the rows are kept and written by the next flush that can).
fn running_text(e: &StoreError) -> String {
    match e {
        StoreError::Io { path, source } if source.kind() == std::io::ErrorKind::NotFound => {
            format!("history: {}: {source}", path.display())
        }
        StoreError::Io { path, source } => format!(
            "history: writing {} failed ({source}); samples are kept and written once it \
             works: free space or fix permissions",
            path.display()
        ),
        other => format!("history: {other}"),
    }
}

impl History {
    /// Starts the writer; its failures are reported to the app as messages.
    ///
    /// # Errors
    /// When the writer thread cannot start.
    pub fn start(
        store: SharedStore,
        flush: std::time::Duration,
        tx: UnboundedSender<Msg>,
    ) -> Result<Self, StoreError> {
        // The log says a failure once, not at every flush it lasts (5 s apart).
        let last = std::sync::Mutex::new(None::<String>);
        let writer = HistoryWriter::spawn(store.clone(), flush, move |ev| {
            let mut last = last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match ev {
                WriterEvent::Failed(e) => {
                    let text = running_text(&e);
                    if last.as_deref() != Some(text.as_str()) {
                        tracing::error!("{text}");
                        *last = Some(text.clone());
                    }
                    let _ = tx.send(Msg::HistoryError(text));
                }
                WriterEvent::Flushed(_) => {
                    if last.take().is_some() {
                        tracing::info!("history: writing again");
                    }
                }
            }
        })?;
        Ok(Self {
            store,
            writer: Some(writer),
        })
    }

    /// Queues points for the writer; a full queue (disk too slow) drops them with a warning.
    pub fn record(&self, points: Vec<RecordPoint>) {
        let batch = to_batch(points);
        if let Some(w) = &self.writer {
            if let Err(e) = w.send(batch) {
                tracing::warn!("history: batch dropped: {e}");
            }
        }
    }

    /// Loads chart series on a blocking thread; the answer is `Msg::History`.
    pub fn load(
        &self,
        tx: UnboundedSender<Msg>,
        request: u64,
        entity: String,
        metrics: Vec<Metric>,
        range: (i64, i64),
        max_points: usize,
    ) {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let guard = lock(&store);
            let (series, spread): (Vec<_>, Vec<_>) = metrics
                .into_iter()
                .map(|m| {
                    let q = Query {
                        key: SeriesKey::new(entity.clone(), m.name()),
                        from_ms: range.0,
                        to_ms: range.1 + 1,
                        max_points: Some(max_points),
                        step_ms: None,
                    };
                    let points = guard.query(&q).map_or_else(
                        |e| {
                            tracing::warn!("history query {}: {e}", q.key);
                            Vec::new()
                        },
                        |r| r.points,
                    );
                    let avg = points.iter().map(|p| (p.ts_ms, p.avg)).collect();
                    let lows_highs = points.iter().map(|p| (p.ts_ms, p.min, p.max)).collect();
                    ((m, avg), (m, lows_highs))
                })
                .unzip();
            drop(guard);
            let _ = tx.send(Msg::History {
                request,
                series,
                spread,
            });
        });
    }

    /// Forecasts a series on a blocking thread; the answer is `Msg::Forecast`.
    pub fn forecast(
        &self,
        tx: UnboundedSender<Msg>,
        request: u64,
        (entity, metric): (String, &'static str),
        horizon_rows: usize,
        ceiling: Option<f64>,
    ) {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now().timestamp_millis();
            let tz = crate::domain::format::local_offset_s();
            let read = crate::analysis::read_lookback(lock(&store).as_ref(), &entity, metric, now);
            let result = read.and_then(|read| {
                crate::analysis::forecast_grid(&entity, metric, &read, horizon_rows, tz)
                    .map(|r| r.capped_at(ceiling))
            });
            let _ = tx.send(Msg::Forecast { request, result });
        });
    }

    /// Reads the 5-minute rows of `span` per metric and replays them into new anomaly
    /// detectors here, off the loop (a week is 2016 rows per series); the answer is
    /// `Msg::DetectorHistory`.
    pub fn warm(
        &self,
        tx: UnboundedSender<Msg>,
        entity: String,
        metrics: Vec<(Metric, EnsembleConfig)>,
        span: std::ops::Range<i64>,
    ) {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now().timestamp_millis();
            let (from, end) = (span.start, span.end);
            let series = metrics
                .into_iter()
                .filter_map(|(m, cfg)| {
                    let rows =
                        crate::analysis::grid(lock(&store).as_ref(), &entity, m.name(), from, end)
                            .ok()?;
                    let rows = crate::analysis::trim_leading_gaps(&rows);
                    Some((m, Ensemble::warmed(cfg, rows)))
                })
                .collect();
            let key = SeriesKey::new(entity.clone(), "cpu_pct");
            let recent_cpu = lock(&store)
                .raw_range(&key, now - 15 * 60_000, now + 1)
                .map(|s| s.into_iter().map(|x| x.value).collect())
                .unwrap_or_default();
            let _ = tx.send(Msg::DetectorHistory {
                entity,
                until_ms: end,
                series,
                recent_cpu,
            });
        });
    }

    /// Builds the capacity report on a blocking thread (`Msg::Capacity`). The store is held
    /// only while each series is read, inside the job.
    pub fn capacity(
        &self,
        tx: UnboundedSender<Msg>,
        request: u64,
        hosts: Vec<HostInput>,
        settings: CapacitySettings,
    ) {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now().timestamp_millis();
            let reader = Locked(&store);
            let report = crate::analysis::capacity::capacity(
                &reader,
                &hosts,
                &settings,
                now,
                crate::domain::format::local_offset_s(),
            );
            let _ = tx.send(Msg::Capacity { request, report });
        });
    }

    /// Builds right-sizing verdicts on a blocking thread (`Msg::Rightsize`).
    pub fn rightsize(
        &self,
        tx: UnboundedSender<Msg>,
        request: u64,
        vms: Vec<VmInput>,
        a: AnalysisSettings,
    ) {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now().timestamp_millis();
            let window = i64::try_from(a.rightsize_window.as_millis()).unwrap_or(i64::MAX);
            let reader = Locked(&store);
            let rows = crate::analysis::rightsize::rightsize(
                &reader,
                &vms,
                &a.rightsize,
                a.prices.as_ref(),
                window,
                now,
                crate::domain::format::local_offset_s(),
            );
            let _ = tx.send(Msg::Rightsize {
                request,
                rows,
                currency: a.currency,
            });
        });
    }

    /// Flushes and stops the writer (on quit).
    pub fn stop(&mut self) {
        if let Some(w) = self.writer.take() {
            w.stop();
        }
    }
}

/// A read-only view of the shared store that takes the lock per call, so a long analysis job
/// does not keep the writer waiting.
struct Locked<'a>(&'a SharedStore);

impl HistoryStore for Locked<'_> {
    fn append(&mut self, _: &[(SeriesKey, Sample)]) -> Result<(), StoreError> {
        Err(StoreError::WriterStopped)
    }
    fn flush(&mut self) -> Result<crate::store::FlushReport, StoreError> {
        Ok(crate::store::FlushReport::default())
    }
    fn query(&self, q: &Query) -> Result<crate::store::QueryResult, StoreError> {
        lock(self.0).query(q)
    }
    fn raw_range(
        &self,
        key: &SeriesKey,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Sample>, StoreError> {
        lock(self.0).raw_range(key, from_ms, to_ms)
    }
    fn latest(&self, key: &SeriesKey) -> Result<Option<Sample>, StoreError> {
        lock(self.0).latest(key)
    }
    fn list_series(&self) -> Result<Vec<crate::store::SeriesInfo>, StoreError> {
        lock(self.0).list_series()
    }
    fn stats(&self) -> Result<crate::store::StoreStats, StoreError> {
        lock(self.0).stats()
    }
    fn path(&self) -> Option<&std::path::Path> {
        None
    }
}
