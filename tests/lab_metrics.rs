//! Metrics on the real lab: the worker's tiered poll feeds `app::update`, and the derived
//! values it records go through the history writer into a real sled database on disk. The
//! busy guest must show about a whole vCPU, the idle one almost nothing, the disk guest a
//! non-zero write rate and the net guest traffic; the database must hold the same story.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use common::lab;
use novacron::app::ingest::vm_entity;
use novacron::app::state::Settings;
use novacron::app::{update, Effect, Msg, State};
use novacron::domain::Metric;
use novacron::provider::libvirt::{spawn_host, HostOptions};
use novacron::store::writer::{lock, HistoryWriter, SharedStore};
use novacron::store::{Query, Sample, SeriesKey, SledStore, StoreConfig};

fn value(s: &State, vm: &str, m: Metric) -> Option<f64> {
    s.vms
        .values()
        .find(|e| e.vm.name == vm)?
        .metrics
        .live
        .value(m)
}

fn uuid(s: &State, vm: &str) -> String {
    s.vms
        .values()
        .find(|e| e.vm.name == vm)
        .map(|e| e.vm.id.uuid.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines)]
async fn busy_idle_disk_and_net_guests_show_what_they_do() {
    if !lab::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore = Arc::new(Mutex::new(Box::new(
        SledStore::open(&dir.path().join("history"), StoreConfig::default()).unwrap(),
    )));
    let writer = HistoryWriter::spawn(store.clone(), Duration::from_secs(1), |_| {}).unwrap();

    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut opts = HostOptions::new(lab::URI);
    opts.poll_interval = Duration::from_secs(1);
    opts.slow_interval = Duration::from_secs(2);
    let _host = spawn_host(0, opts, tx).unwrap();
    let mut state = State::new(&[lab::URI.to_string()], Settings::default(), Vec::new(), 0);

    // Twelve seconds of polls: enough for several rates from every tier.
    let deadline = Instant::now() + Duration::from_secs(12);
    let mut recorded: Vec<(SeriesKey, Sample)> = Vec::new();
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(ev)) = tokio::time::timeout(left, rx.recv()).await else {
            break;
        };
        let now = chrono::Utc::now().timestamp_millis();
        for e in update(&mut state, Msg::Provider(ev), now) {
            if let Effect::Record(points) = e {
                let batch = novacron::tui::history::to_batch(points);
                recorded.extend(batch.iter().cloned());
                writer.send(batch).unwrap();
            }
        }
    }

    let busy = value(&state, "nclab-busy", Metric::CpuPct).expect("busy cpu");
    let idle = value(&state, "nclab-idle", Metric::CpuPct).expect("idle cpu");
    let disk_wr = value(&state, "nclab-disk", Metric::DiskWrBps).expect("disk write rate");
    let net_tx = value(&state, "nclab-net", Metric::NetTxBps).expect("net tx rate");
    let mem = value(&state, "nclab-idle", Metric::MemUsedBytes).expect("idle memory");
    let host_cpu = state.hosts[0]
        .metrics
        .live
        .value(Metric::HostCpuPct)
        .expect("host cpu");
    eprintln!("busy {busy:.1} % idle {idle:.2} % disk wr {disk_wr:.0} B/s net tx {net_tx:.0} B/s idle mem {mem:.0} B host {host_cpu:.1} %");
    assert!(
        busy > 70.0,
        "the busy guest spins a whole vCPU: {busy:.1} %"
    );
    assert!(idle < 10.0, "the idle guest does nothing: {idle:.2} %");
    assert!(
        disk_wr > 100_000.0,
        "the disk guest writes about 2 MB/s: {disk_wr:.0} B/s"
    );
    assert!(
        net_tx > 500.0,
        "the net guest pings 5 times a second with 1 KB: {net_tx:.0} B/s"
    );
    assert!(
        mem > 1e6 && mem < 96.0 * 1024.0 * 1024.0,
        "memory in use within the 96 MiB guest: {mem}"
    );
    assert!(
        host_cpu > 20.0,
        "the host carries the busy guest: {host_cpu:.1} %"
    );

    // The database on disk holds exactly what was recorded (to the metric's precision).
    writer.stop();
    let key = SeriesKey::new(
        vm_entity(lab::URI, &uuid(&state, "nclab-busy")),
        Metric::CpuPct.name(),
    );
    let sent: Vec<Sample> = recorded
        .iter()
        .filter(|(k, _)| *k == key)
        .map(|(_, s)| *s)
        .collect();
    assert!(sent.len() >= 5, "one busy CPU value per poll: {sent:?}");
    let now = chrono::Utc::now().timestamp_millis();
    let stored = lock(&store).raw_range(&key, now - 60_000, now + 1).unwrap();
    assert_eq!(stored.len(), sent.len(), "stored {stored:?} sent {sent:?}");
    for (a, b) in stored.iter().zip(&sent) {
        assert!(
            (a.ts_ms - b.ts_ms).abs() <= 500,
            "timestamps are kept to the second: {a:?} vs {b:?}"
        );
        assert!((a.value - b.value).abs() <= 0.005, "{a:?} vs {b:?}");
    }
    let q = Query {
        key,
        from_ms: now - 60_000,
        to_ms: now + 1,
        max_points: Some(100),
        step_ms: None,
    };
    assert_eq!(lock(&store).query(&q).unwrap().points.len(), sent.len());
    assert!(lock(&store).stats().unwrap().series > 20);
}
