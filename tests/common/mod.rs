//! Helpers shared by integration tests.
#![allow(dead_code)]

pub mod lab;
pub mod tmux;

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;

use novacron::provider::ProviderEvent;

/// Writes a libvirt test-driver node file with `n` domains; every fifth one is shut off.
/// Returns the `test:///…` URI.
pub fn node_file(dir: &Path, n: usize) -> String {
    let mut xml = String::from("<node>\n");
    for i in 0..n {
        let runstate = if i % 5 == 4 {
            "<test:runstate xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>5</test:runstate>"
        } else {
            ""
        };
        let _ = writeln!(
            xml,
            "<domain type='test'><name>vm-{i:04}</name><uuid>00000000-0000-4000-8000-{i:012}</uuid>\
             <memory unit='MiB'>{}</memory><vcpu>{}</vcpu><os><type>hvm</type></os>{runstate}</domain>",
            512 * (1 + i % 8),
            1 + i % 4
        );
    }
    xml.push_str("</node>\n");
    let path: PathBuf = dir.join("node.xml");
    std::fs::write(&path, xml).expect("write node file");
    format!("test://{}", path.display())
}

/// Receives provider events until `pred` matches one, or panics after `timeout` with what
/// was seen.
pub async fn wait_for<F>(
    rx: &mut UnboundedReceiver<ProviderEvent>,
    timeout: Duration,
    what: &str,
    mut pred: F,
) -> ProviderEvent
where
    F: FnMut(&ProviderEvent) -> bool,
{
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(got) = tokio::time::timeout(left, rx.recv()).await else {
            panic!(
                "timed out after {timeout:?} waiting for {what}; saw:\n{}",
                seen.join("\n")
            );
        };
        let Some(ev) = got else {
            panic!("channel closed while waiting for {what}");
        };
        if pred(&ev) {
            return ev;
        }
        seen.push(format!("{ev:?}").chars().take(160).collect::<String>());
    }
}

/// The start of the current 5-minute row, after waiting out its last 30 s: a test that
/// seeds history up to it and reads it back must not see a row boundary pass meanwhile
/// (the row in progress would complete, with whatever a console recorded into it).
#[must_use]
pub fn row_start_with_slack() -> i64 {
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        let into = now.rem_euclid(300_000);
        if into < 270_000 {
            return now - into;
        }
        std::thread::sleep(Duration::from_millis(
            u64::try_from(300_000 - into).unwrap_or(0) + 50,
        ));
    }
}

/// The VM of [`seed_analysis_history`]: 4 vCPUs, 4 GiB, running.
pub const SEEDED_VM: &str = "app-1";
const SEEDED_UUID: &str = "00000000-0000-4000-8000-00000000a001";
const DAY_MS: i64 = 86_400_000;

/// The seeded VM's CPU percent at `ts_ms`: a daily wave between 10 and 30 %.
#[must_use]
pub fn seeded_vm_cpu(ts_ms: i64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let phase = (ts_ms.rem_euclid(DAY_MS) as f64) / (DAY_MS as f64);
    20.0 + 10.0 * (std::f64::consts::TAU * phase).sin()
}

/// A test-driver host with one VM ([`SEEDED_VM`]) and two days of 5-minute history ending at
/// `now_ms` in a real sled database at `history`: the VM's CPU follows [`seeded_vm_cpu`]
/// (plus a little deterministic noise) with 1 GiB of memory in use, and the host's CPU rises
/// from 40 % to 70 % (so it crosses 90 % about 32 h after `now_ms`). Returns the URI.
pub fn seed_analysis_history(dir: &Path, history: &Path, now_ms: i64) -> String {
    #[allow(clippy::cast_precision_loss)]
    seed_analysis_history_with(dir, history, now_ms, |i| 40.0 + 30.0 * i as f64 / 576.0)
}

/// The URI [`seed_analysis_history`] gives for `dir`: its node file's.
#[must_use]
pub fn analysis_uri(dir: &Path) -> String {
    format!("test://{}", dir.join("analysis-node.xml").display())
}

/// [`seed_analysis_history`] with the host's CPU percent at row `i` of the 576 (before the
/// noise) from `host_cpu`.
pub fn seed_analysis_history_with(
    dir: &Path,
    history: &Path,
    now_ms: i64,
    host_cpu: impl Fn(i64) -> f64,
) -> String {
    use novacron::store::{HistoryStore, Sample, SeriesKey, SledStore, StoreConfig};
    let node = dir.join("analysis-node.xml");
    std::fs::write(
        &node,
        format!(
            "<node><domain type='test'><name>{SEEDED_VM}</name><uuid>{SEEDED_UUID}</uuid>\
             <memory unit='MiB'>4096</memory><vcpu>4</vcpu><os><type>hvm</type></os></domain></node>\n"
        ),
    )
    .expect("write node file");
    let uri = analysis_uri(dir);
    let vm = format!("vm/{uri}/{SEEDED_UUID}");
    let host = format!("host/{uri}");
    let rows: i64 = 576;
    let mut batch = Vec::new();
    for i in 0..rows {
        let ts = now_ms - (rows - i) * 300_000 + 1_000;
        #[allow(clippy::cast_precision_loss)]
        let noise = ((i * 7919) % 13) as f64 * 0.1 - 0.6;
        for (entity, metric, value) in [
            (&vm, "cpu_pct", seeded_vm_cpu(ts) + noise),
            (&vm, "mem_used_bytes", f64::from(1u32 << 30)),
            (&vm, "net_rx_bps", 50_000.0),
            (&host, "cpu_pct", host_cpu(i) + noise),
        ] {
            batch.push((SeriesKey::new(entity, metric), Sample { ts_ms: ts, value }));
        }
    }
    let mut store = SledStore::open(history, StoreConfig::default()).expect("open history");
    store.append(&batch).expect("append");
    store.flush().expect("flush");
    uri
}
