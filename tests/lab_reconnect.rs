//! Killing and restarting libvirtd ends in a reconnected, reconciled inventory: the worker
//! reports the disconnect, retries with backoff, and after reconnecting replaces its
//! inventory, including a change that happened while it could not receive events.
//!
//! Its own test binary because it stops the shared daemon.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use common::lab::{self, TestVm};
use novacron::domain::VmState;
use novacron::provider::libvirt::{spawn_host, HostOptions};
use novacron::provider::{ConnStatus, ProviderEvent};

fn libvirtd_pids() -> Vec<String> {
    let out = Command::new("pidof")
        .arg("libvirtd")
        .output()
        .expect("pidof");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Makes sure libvirtd runs again whatever happens in the test.
struct DaemonGuard;

impl DaemonGuard {
    fn start() {
        if libvirtd_pids().is_empty() {
            let st = Command::new("libvirtd")
                .arg("-d")
                .status()
                .expect("start libvirtd");
            assert!(st.success());
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while !lab::virsh(&["version"]).status.success() {
            assert!(Instant::now() < deadline, "libvirtd did not come back");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        Self::start();
    }
}

fn qemu_pid(name: &str) -> String {
    std::fs::read_to_string(format!("/run/libvirt/qemu/{name}.pid"))
        .expect("qemu pid file")
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_and_restarting_libvirtd_ends_reconnected_and_reconciled() {
    if !lab::available() {
        return;
    }
    let test_vm = TestVm::define("nctest-recon", "idle");
    test_vm.start_and_boot();
    let _guard = DaemonGuard;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut opts = HostOptions::new(lab::URI);
    opts.poll_interval = Duration::from_secs(1);
    let _host = spawn_host(0, opts, tx).unwrap();
    common::wait_for(&mut rx, Duration::from_secs(30), "first inventory", |e| {
        matches!(e, ProviderEvent::Inventory { vms, .. } if vms.iter().any(|v| v.name == "nctest-recon" && v.state == VmState::Running))
    })
    .await;

    let qemu = qemu_pid("nctest-recon");
    for pid in libvirtd_pids() {
        let st = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        assert!(st.success());
    }
    common::wait_for(&mut rx, Duration::from_secs(30), "disconnected", |e| {
        matches!(
            e,
            ProviderEvent::Status {
                status: ConnStatus::Disconnected { .. },
                ..
            }
        )
    })
    .await;

    // While the daemon is away the guest dies: no event can report it, only reconciliation.
    assert!(Command::new("kill")
        .args(["-TERM", &qemu])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::path::Path::new(&format!("/proc/{qemu}")).exists() {
        assert!(Instant::now() < deadline, "qemu {qemu} did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }

    DaemonGuard::start();
    common::wait_for(&mut rx, Duration::from_secs(60), "reconnected", |e| {
        matches!(
            e,
            ProviderEvent::Status {
                status: ConnStatus::Connected { .. },
                ..
            }
        )
    })
    .await;
    let ev = common::wait_for(
        &mut rx,
        Duration::from_secs(30),
        "reconciled inventory",
        |e| matches!(e, ProviderEvent::Inventory { .. }),
    )
    .await;
    let ProviderEvent::Inventory { vms, .. } = ev else {
        unreachable!()
    };
    let recon = vms
        .iter()
        .find(|v| v.name == "nctest-recon")
        .expect("test VM in inventory");
    assert_eq!(
        recon.state,
        VmState::ShutOff,
        "the guest that died while disconnected is shut off"
    );
    let idle = vms
        .iter()
        .find(|v| v.name == "nclab-idle")
        .expect("lab VM in inventory");
    assert!(
        idle.state.is_active(),
        "untouched guests survive a daemon restart"
    );
}
