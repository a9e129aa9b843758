//! Integration against libvirt's in-process test driver (`test:///default`, no daemon):
//! inventory, every operation through the worker, scale from a node file. The headless
//! commands against the same driver are in `cli_test_driver.rs`.

mod common;

use std::time::Duration;

use tokio::sync::mpsc;

use novacron::domain::{Op, VmState};
use novacron::provider::libvirt::state::LifecycleEvent;
use novacron::provider::libvirt::{inventory, open, ops, spawn_host, HostOptions};
use novacron::provider::{ConnStatus, DomainEventKind, ProviderCmd, ProviderEvent};

const T: Duration = Duration::from_secs(10);

/// `test:///default` is one driver per process, shared by every connection to it: the tests
/// here that change its domain take turns, or one sees the state another left (a resume
/// refused because a parallel test had just destroyed the domain).
static DEFAULT_DRIVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[test]
fn inventory_reads_the_default_domain() {
    let conn = open("test:///default", false).unwrap();
    let vms = inventory::read_inventory(&conn, 0, true).unwrap();
    let vm = vms
        .iter()
        .find(|v| v.name == "test")
        .expect("the test driver's domain");
    assert_eq!(vm.vcpus, 2);
    assert_eq!(vm.disks[0].target, "vda");
    assert_eq!(vm.nics[0].mac, "aa:bb:cc:dd:ee:ff");
    assert!(vm.persistent);
    // The running ID, as virsh shows it, only while the domain runs.
    assert_eq!(vm.dom_id.is_some(), vm.state.is_active(), "{vm:?}");
    let dom = conn.lookup_domain_by_name("test").unwrap();
    assert_eq!(vm.dom_id, dom.id());
}

/// A connection to the default driver and the UUID of its domain `test`.
fn default_domain() -> (virt::connect::Connect, String) {
    let conn = open("test:///default", false).unwrap();
    let uuid = conn
        .lookup_domain_by_name("test")
        .unwrap()
        .uuid_string()
        .unwrap();
    (conn, uuid)
}

fn state_of(conn: &virt::connect::Connect, uuid: &str) -> VmState {
    let d = conn.lookup_domain_by_uuid_string(uuid).unwrap();
    inventory::read_vm(0, &d, false).unwrap().state
}

/// Brings the default driver's domain back to running, whatever a test before left.
fn start_from_running() {
    let (conn, uuid) = default_domain();
    if state_of(&conn, &uuid) == VmState::Paused {
        ops::run_op(&conn, &uuid, Op::Resume).unwrap();
    }
    if state_of(&conn, &uuid) == VmState::ShutOff {
        ops::run_op(&conn, &uuid, Op::Start).unwrap();
    }
    assert_eq!(state_of(&conn, &uuid), VmState::Running);
}

#[test]
fn every_operation_changes_the_state_it_should() {
    let _turn = DEFAULT_DRIVER.blocking_lock();
    start_from_running();
    let (conn, uuid) = default_domain();
    let state = || state_of(&conn, &uuid);
    let steps = [
        (Op::Suspend, VmState::Paused),
        (Op::Resume, VmState::Running),
        (Op::Reboot, VmState::Running),
        (Op::Reset, VmState::Running),
        (Op::Shutdown, VmState::ShutOff),
        (Op::Start, VmState::Running),
        (Op::Destroy, VmState::ShutOff),
        (Op::Start, VmState::Running),
    ];
    for (op, expected) in steps {
        ops::run_op(&conn, &uuid, op).unwrap_or_else(|e| panic!("{op}: {e}"));
        assert_eq!(state(), expected, "after {op}");
    }
    // A refusal on a live connection, not an outcome unknown.
    let Err(novacron::provider::OpError::Refused(err)) = ops::run_op(&conn, &uuid, Op::Resume)
    else {
        panic!("resume of a running VM was not refused");
    };
    assert!(
        err.contains("not paused") || err.contains("not valid"),
        "libvirt's message: {err}"
    );
}

#[tokio::test]
async fn worker_reports_inventory_ops_and_their_events() {
    let _turn = DEFAULT_DRIVER.lock().await;
    start_from_running();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let host = spawn_host(0, HostOptions::new("test:///default"), tx).unwrap();
    common::wait_for(&mut rx, T, "connected", |e| {
        matches!(
            e,
            ProviderEvent::Status {
                status: ConnStatus::Connected { .. },
                ..
            }
        )
    })
    .await;
    let inv = common::wait_for(&mut rx, T, "inventory", |e| {
        matches!(e, ProviderEvent::Inventory { .. })
    })
    .await;
    let ProviderEvent::Inventory { vms, .. } = inv else {
        unreachable!()
    };
    let vm = vms.iter().find(|v| v.name == "test").unwrap().clone();
    let ops = [
        (Op::Suspend, VmState::Paused),
        (Op::Resume, VmState::Running),
        (Op::Destroy, VmState::ShutOff),
        (Op::Start, VmState::Running),
    ];
    for (i, (op, expected)) in ops.into_iter().enumerate() {
        let id = 100 + i as u64;
        assert!(host.send(ProviderCmd::Op {
            id,
            uuid: vm.id.uuid.clone(),
            name: vm.name.clone(),
            op,
        }));
        // The API reply and the event-driven refresh race each other: accept either order.
        let (mut replied, mut updated) = (false, false);
        while !(replied && updated) {
            let ev = common::wait_for(&mut rx, T, "op result and updated state", |e| match e {
                ProviderEvent::OpResult { id: got, result } => *got == id && result.is_ok(),
                ProviderEvent::VmUpdated { vm: v, .. } => v.name == "test" && v.state == expected,
                _ => false,
            })
            .await;
            match ev {
                ProviderEvent::OpResult { .. } => replied = true,
                _ => updated = true,
            }
        }
    }
    // A refused operation comes back with libvirt's message.
    assert!(host.send(ProviderCmd::Op {
        id: 999,
        uuid: vm.id.uuid.clone(),
        name: vm.name.clone(),
        op: Op::Start,
    }));
    let ev = common::wait_for(&mut rx, T, "refusal", |e| {
        matches!(e, ProviderEvent::OpResult { id: 999, .. })
    })
    .await;
    let ProviderEvent::OpResult {
        result: Err(novacron::provider::OpError::Refused(msg)),
        ..
    } = ev
    else {
        panic!("{ev:?}")
    };
    assert!(msg.contains("already running"), "{msg}");
}

/// Starts a worker on `uri` and waits for its first failed connection: the status it gives.
async fn first_failure(
    uri: &str,
) -> (
    novacron::provider::libvirt::HostHandle,
    mpsc::UnboundedReceiver<ProviderEvent>,
    ConnStatus,
) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let host = spawn_host(0, HostOptions::new(uri), tx).unwrap();
    let ev = common::wait_for(&mut rx, T, "the first failure", |e| {
        matches!(
            e,
            ProviderEvent::Status {
                status: ConnStatus::Failed { .. } | ConnStatus::Disconnected { .. },
                ..
            }
        )
    })
    .await;
    let ProviderEvent::Status { status, .. } = ev else {
        unreachable!()
    };
    (host, rx, status)
}

/// A URI libvirt refuses as such (here the test driver's file is not there) is said once and
/// not retried: retrying every 30 s would only repeat the error. The worker stops.
#[tokio::test]
async fn worker_does_not_retry_a_uri_libvirt_refuses() {
    let uri = "test:///nonexistent/novacron-node.xml";
    let (_host, mut rx, status) = first_failure(uri).await;
    let ConnStatus::Failed { error } = status else {
        panic!("retried instead of failing: {status:?}");
    };
    assert!(error.contains(uri), "{error}");
    // The worker has ended: its channel closes with nothing more sent.
    let rest = tokio::time::timeout(T, rx.recv())
        .await
        .expect("worker ended");
    assert_eq!(rest, None);
}

/// A socket that is not there (libvirtd not started yet) is retried: it may come up.
#[tokio::test]
async fn worker_retries_a_host_that_does_not_answer_yet() {
    let uri = "qemu:///system?socket=/nonexistent/novacron-libvirt-sock";
    let (_host, mut rx, status) = first_failure(uri).await;
    assert!(
        matches!(status, ConnStatus::Disconnected { .. }),
        "{status:?}"
    );
    common::wait_for(&mut rx, T, "the retry", |e| {
        matches!(
            e,
            ProviderEvent::Status {
                status: ConnStatus::Connecting,
                ..
            }
        )
    })
    .await;
}

#[tokio::test]
async fn worker_emits_lifecycle_events() {
    let _turn = DEFAULT_DRIVER.lock().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let host = spawn_host(0, HostOptions::new("test:///default"), tx).unwrap();
    let inv = common::wait_for(&mut rx, T, "inventory", |e| {
        matches!(e, ProviderEvent::Inventory { .. })
    })
    .await;
    let ProviderEvent::Inventory { vms, .. } = inv else {
        unreachable!()
    };
    let vm = vms.into_iter().find(|v| v.name == "test").unwrap();
    let op = if vm.state == VmState::Paused {
        Op::Resume
    } else {
        Op::Suspend
    };
    assert!(host.send(ProviderCmd::Op {
        id: 1,
        uuid: vm.id.uuid.clone(),
        name: vm.name.clone(),
        op,
    }));
    common::wait_for(&mut rx, T, "lifecycle event", |e| {
        matches!(
            e,
            ProviderEvent::DomainEvent {
                kind: DomainEventKind::Lifecycle(
                    LifecycleEvent::Suspended(_) | LifecycleEvent::Resumed(_)
                ),
                ..
            }
        )
    })
    .await;
}

#[test]
fn a_thousand_domains_from_a_node_file() {
    let dir = tempfile::tempdir().unwrap();
    let uri = common::node_file(dir.path(), 1000);
    let conn = open(&uri, false).unwrap();
    let vms = inventory::read_inventory(&conn, 0, false).unwrap();
    assert_eq!(vms.len(), 1000);
    assert_eq!(
        vms.iter().filter(|v| v.state == VmState::ShutOff).count(),
        200
    );
}
