//! Helpers shared by integration tests.
#![allow(dead_code)]

pub mod lab;

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
