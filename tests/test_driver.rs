//! Integration against libvirt's in-process test driver (`test:///default`, no daemon):
//! inventory, every operation through the worker and through the CLI, scale from a node file.

mod common;

use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
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

fn cli() -> Command {
    let mut c = Command::cargo_bin("novacron").unwrap();
    c.env_remove("LIBVIRT_DEFAULT_URI")
        .env("XDG_CONFIG_HOME", "/nonexistent");
    c
}

#[test]
fn cli_list_json_and_table() {
    let out = cli()
        .args(["-c", "test:///default", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v[0]["name"], "test");
    assert_eq!(v[0]["uri"], "test:///default");
    cli()
        .args(["-c", "test:///default", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("NAME").and(predicate::str::contains("test:///default")));
}

#[test]
fn cli_ops_exit_codes() {
    // Each CLI run gets a fresh test driver, where "test" is running.
    cli()
        .args(["-c", "test:///default", "vm", "suspend", "test"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("paused"));
    cli()
        .args([
            "-c",
            "test:///default",
            "vm",
            "shutdown",
            "test",
            "--timeout",
            "5",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("shut off"));
    cli()
        .args(["-c", "test:///default", "vm", "resume", "test"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not paused"));
    // Refused before libvirt is asked, with the state that stops it, as the console does.
    cli()
        .args(["-c", "test:///default", "vm", "start", "test"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "start test: test is already running; nothing was sent",
        ));
    cli()
        .args(["-c", "test:///default", "vm", "start", "tset"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no domain named \"tset\"")
                .and(predicate::str::contains("did you mean test")),
        );
    cli()
        .args(["-c", "test:///default", "--no-history", "forecast", ""])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the VM name is empty"));
    // Nothing listens there: an unreachable host is a connection error naming the URI.
    cli()
        .args(["-c", "qemu+tcp://127.0.0.2:16599/system", "list"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cannot connect to qemu+tcp://127.0.0.2:16599/system")
                .and(predicate::str::contains("Connection refused")),
        );
    // A script reading --json still gets a list to parse.
    cli()
        .args(["-c", "qemu+tcp://127.0.0.2:16599/system", "list", "--json"])
        .assert()
        .code(2)
        .stdout("[]\n")
        .stderr(predicate::str::contains("cannot connect to"));
    cli()
        .args(["-c", "nosuchdriver:///x", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "\"nosuchdriver\" is not a libvirt driver",
        ));
    cli()
        .args([
            "-c",
            "test:///default",
            "--read-only",
            "vm",
            "start",
            "test",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--read-only"));
    cli()
        .args(["vm", "explode", "test"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values"));
}

#[test]
fn cli_vm_timeout_is_checked_before_anything_is_sent() {
    for (args, says) in [
        (
            vec!["shutdown", "test", "--timeout", "18446744073709551615"],
            "allowed 1s to 1h",
        ),
        (
            vec!["shutdown", "test", "--timeout", "0"],
            "--timeout: \"0\" is out of range",
        ),
        (
            vec!["shutdown", "test", "--timeout", "2h"],
            "allowed 1s to 1h",
        ),
        (
            vec!["shutdown", "test", "--timeout", "-5m"],
            "--timeout: \"-5m\" is negative; allowed 1s to 1h",
        ),
        (
            vec!["suspend", "test", "--force"],
            "--force applies to `vm shutdown` only, not to `vm suspend`",
        ),
        (vec!["suspend", ""], "the VM name is empty"),
    ] {
        cli()
            .args(["-c", "test:///default", "vm"])
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says).and(predicate::str::contains("panicked").not()));
    }
}

#[test]
fn cli_vm_takes_a_uuid_or_id_as_virsh_does() {
    let out = cli()
        .args(["-c", "test:///default", "list", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let uuid = v[0]["id"]["uuid"]
        .as_str()
        .or_else(|| v[0]["uuid"].as_str())
        .unwrap()
        .to_string();
    for who in [uuid.as_str(), "1"] {
        cli()
            .args(["-c", "test:///default", "vm", "suspend", who])
            .assert()
            .code(0)
            .stdout(predicate::str::starts_with("test: suspend done"));
    }
    cli()
        .args(["-c", "test:///default", "vm", "suspend", "TEST"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean test"));
}

#[test]
fn cli_list_shows_the_hosts_that_answer_and_fails_for_the_others() {
    // A refused port, two ports that accept and never answer, and a good host.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_uri = format!("qemu+tcp://{}/system", silent.local_addr().unwrap());
    let silent2 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent2_uri = format!("qemu+tcp://{}/system", silent2.local_addr().unwrap());
    let started = std::time::Instant::now();
    cli()
        .args(["-c", "qemu+tcp://127.0.0.2:16599/system", "-c", &silent_uri])
        .args(["-c", &silent2_uri, "-c", "test:///default", "list"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stdout(predicate::str::contains("test:///default"))
        .stderr(
            predicate::str::contains("Connection refused")
                .and(predicate::str::contains(format!(
                    "cannot connect to {silent_uri}: no answer"
                )))
                .and(predicate::str::contains("no answer after 15 s"))
                .and(predicate::str::contains("listed the other hosts")),
        );
    // Opened side by side: one 15 s deadline for both silent hosts, not 15 s each.
    assert!(started.elapsed() < std::time::Duration::from_secs(25));
    drop((silent, silent2));
}

#[test]
fn cli_vm_that_succeeded_is_exit_0_even_when_stdout_fails() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("novacron"))
        .env_remove("LIBVIRT_DEFAULT_URI")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .args(["-c", "test:///default", "vm", "suspend", "test"])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("the operation itself succeeded"), "{err}");
    // A listing that could not be written is a failure.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("novacron"))
        .env_remove("LIBVIRT_DEFAULT_URI")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .args(["-c", "test:///default", "list"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn keymap_toml_beside_the_config_is_read_and_a_bad_one_is_said_in_help() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("novacron")).unwrap();
    let keymap = dir.path().join("novacron/keymap.toml");
    std::fs::write(&keymap, "quit = [\"x\", \"ctrl-c\"]\n").unwrap();
    let help = |c: &mut Command| {
        let out = c
            .env("XDG_CONFIG_HOME", dir.path())
            .arg("--help")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let text = help(&mut cli());
    assert!(text.contains("  x ctrl-c     quit novacron"), "{text}");
    std::fs::write(&keymap, "quit = [\"ctrl-Q\"]\n").unwrap();
    let text = help(&mut cli());
    assert!(
        text.contains("cannot be used") && text.contains("write ctrl-q"),
        "{text}"
    );
}

#[test]
fn cli_help_lists_the_keymap() {
    cli().arg("--help").assert().success().stdout(
        predicate::str::contains("Keys in the console")
            .and(predicate::str::contains("toggle").not())
            .and(predicate::str::contains("suspend / resume"))
            .and(predicate::str::contains("connect, disconnect, quit")),
    );
}

#[test]
fn cli_refuses_tui_without_a_terminal() {
    cli()
        .args(["-c", "test:///default"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a terminal"));
}

/// A name on two hosts: the error offers NAME@LABEL, the form the console's journal and
/// palette use, and the headless commands take it.
#[test]
fn a_name_on_two_hosts_is_picked_by_its_label() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ua, ub) = (
        common::node_file(a.path(), 3),
        common::node_file(b.path(), 3),
    );
    let run = |args: &[&str]| {
        let mut c = cli();
        c.args(["-c", &ua, "-c", &ub, "--no-history"]).args(args);
        c.assert()
    };
    run(&["vm", "suspend", "vm-0001"])
        .code(2)
        .stderr(predicate::str::contains(
            "choose one as vm-0001@test#1 or vm-0001@test#2",
        ));
    run(&["vm", "suspend", "vm-0001@test#2"])
        .success()
        .stdout(predicate::str::contains("vm-0001: suspend done"));
    // A close name on both hosts is suggested with each host.
    run(&["vm", "suspend", "vm-001"]).code(2).stderr(
        predicate::str::contains("vm-0001@test#1").and(predicate::str::contains("vm-0001@test#2")),
    );
}

/// A VM named "1" beside VM alpha running as ID 1: virsh would take the ID, so naming "1"
/// acts on neither and says how to name each.
#[test]
fn a_number_that_is_a_name_and_an_id_is_refused_with_both_uuids() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node.xml");
    let dom = |name: &str, tail: &str| {
        format!(
            "<domain type='test'><name>{name}</name><uuid>00000000-0000-4000-8000-0000000000{tail}</uuid>\
             <memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>"
        )
    };
    std::fs::write(
        &node,
        format!("<node>{}{}</node>", dom("alpha", "a1"), dom("1", "b1")),
    )
    .unwrap();
    let uri = format!("test://{}", node.display());
    cli()
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .args(["-c", &uri, "vm", "suspend", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is the name of one VM and the running ID or UUID of alpha",
        ))
        .stderr(predicate::str::contains(
            "00000000-0000-4000-8000-0000000000b1",
        ));
}

/// A history directory with sled's files but not its conf is said to be damaged, in the
/// words the console uses, not "the directory holds none".
#[test]
fn history_stats_on_a_database_without_its_conf_says_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h");
    std::fs::create_dir_all(&h).unwrap();
    std::fs::write(h.join("db"), b"x").unwrap();
    std::fs::write(h.join("wal.log"), b"").unwrap();
    cli()
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .args(["-c", "test:///default", "--history"])
        .arg(&h)
        .args(["history", "stats"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is damaged (it has sled's db and wal.log but not its conf file)",
        ));
}
