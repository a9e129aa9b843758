//! Integration against the real daemon (`qemu:///system`) and real TCG guests of the lab:
//! every lifecycle operation round-trips through the worker and its event arrives, and a
//! change made with virsh from another shell reaches the app.

mod common;

use std::time::{Duration, Instant};

use tokio::sync::mpsc::{self, UnboundedReceiver};

use common::lab::{self, TestVm};
use novacron::domain::{Op, Vm, VmState};
use novacron::provider::libvirt::state::LifecycleEvent;
use novacron::provider::libvirt::{spawn_host, HostHandle, HostOptions};
use novacron::provider::{DomainEventKind, ProviderCmd, ProviderEvent};

fn worker() -> (HostHandle, UnboundedReceiver<ProviderEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut opts = HostOptions::new(lab::URI);
    opts.poll_interval = Duration::from_secs(2);
    (spawn_host(0, opts, tx).expect("worker"), rx)
}

async fn find_vm(rx: &mut UnboundedReceiver<ProviderEvent>, name: &str) -> Vm {
    let ev = common::wait_for(
        rx,
        Duration::from_secs(30),
        "inventory with the test VM",
        |e| match e {
            ProviderEvent::Inventory { vms, .. } => vms.iter().any(|v| v.name == name),
            ProviderEvent::VmUpdated { vm, .. } => vm.name == name,
            _ => false,
        },
    )
    .await;
    match ev {
        ProviderEvent::Inventory { vms, .. } => vms.into_iter().find(|v| v.name == name).unwrap(),
        ProviderEvent::VmUpdated { vm, .. } => *vm,
        _ => unreachable!(),
    }
}

/// Sends `op` and waits for both libvirt's reply and the event that confirms it.
async fn round_trip(
    host: &HostHandle,
    rx: &mut UnboundedReceiver<ProviderEvent>,
    vm: &Vm,
    id: u64,
    op: Op,
    confirms: fn(&DomainEventKind) -> bool,
    timeout: Duration,
) {
    assert!(host.send(ProviderCmd::Op {
        id,
        uuid: vm.id.uuid.clone(),
        name: vm.name.clone(),
        op
    }));
    let (mut replied, mut confirmed) = (false, false);
    while !(replied && confirmed) {
        let ev = common::wait_for(rx, timeout, &format!("{op} reply and event"), |e| match e {
            ProviderEvent::OpResult { id: got, .. } => *got == id,
            ProviderEvent::DomainEvent { uuid, kind, .. } => *uuid == vm.id.uuid && confirms(kind),
            _ => false,
        })
        .await;
        match ev {
            ProviderEvent::OpResult { result, .. } => {
                result.unwrap_or_else(|e| panic!("{op} refused: {e}"));
                replied = true;
            }
            _ => confirmed = true,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines)]
async fn every_lifecycle_operation_round_trips_with_its_event() {
    if !lab::available() {
        return;
    }
    let test_vm = TestVm::define("nctest-ops", "idle");
    let (host, mut rx) = worker();
    let vm = find_vm(&mut rx, &test_vm.name).await;
    assert_eq!(vm.state, VmState::ShutOff);
    let t = Duration::from_secs(30);
    let boot = Duration::from_secs(120);

    let off = lab::console_offset(&vm.name);
    round_trip(
        &host,
        &mut rx,
        &vm,
        1,
        Op::Start,
        |k| matches!(k, DomainEventKind::Lifecycle(LifecycleEvent::Started(_))),
        t,
    )
    .await;
    lab::wait_booted(&vm.name, off, boot);

    round_trip(
        &host,
        &mut rx,
        &vm,
        2,
        Op::Suspend,
        |k| matches!(k, DomainEventKind::Lifecycle(LifecycleEvent::Suspended(_))),
        t,
    )
    .await;
    round_trip(
        &host,
        &mut rx,
        &vm,
        3,
        Op::Resume,
        |k| matches!(k, DomainEventKind::Lifecycle(LifecycleEvent::Resumed(_))),
        t,
    )
    .await;

    let off = lab::console_offset(&vm.name);
    round_trip(
        &host,
        &mut rx,
        &vm,
        4,
        Op::Reboot,
        |k| matches!(k, DomainEventKind::Reboot),
        boot,
    )
    .await;
    lab::wait_booted(&vm.name, off, boot);

    let off = lab::console_offset(&vm.name);
    round_trip(
        &host,
        &mut rx,
        &vm,
        5,
        Op::Reset,
        |k| matches!(k, DomainEventKind::Reboot),
        t,
    )
    .await;
    lab::wait_booted(&vm.name, off, boot);

    round_trip(
        &host,
        &mut rx,
        &vm,
        6,
        Op::Shutdown,
        |k| {
            matches!(
                k,
                DomainEventKind::Lifecycle(LifecycleEvent::Stopped("shutdown"))
            )
        },
        boot,
    )
    .await;
    round_trip(
        &host,
        &mut rx,
        &vm,
        7,
        Op::Start,
        |k| matches!(k, DomainEventKind::Lifecycle(LifecycleEvent::Started(_))),
        t,
    )
    .await;
    round_trip(
        &host,
        &mut rx,
        &vm,
        8,
        Op::Destroy,
        |k| {
            matches!(
                k,
                DomainEventKind::Lifecycle(LifecycleEvent::Stopped("destroyed"))
            )
        },
        t,
    )
    .await;

    // The table shows libvirt's reason for the new state. The update the event triggered
    // may have gone by while round_trip waited for the reply: ask for a fresh one.
    assert!(host.send(ProviderCmd::RefreshVm {
        uuid: vm.id.uuid.clone()
    }));
    let ev = common::wait_for(&mut rx, t, "shut off (destroyed)", |e| {
        matches!(e, ProviderEvent::VmUpdated { vm: v, .. } if v.name == vm.name && v.state == VmState::ShutOff)
    })
    .await;
    let ProviderEvent::VmUpdated { vm: after, .. } = ev else {
        unreachable!()
    };
    assert_eq!(after.state_text(), "shut off (destroyed)");

    // An operation the state does not allow comes back with libvirt's message.
    assert!(host.send(ProviderCmd::Op {
        id: 9,
        uuid: vm.id.uuid.clone(),
        name: vm.name.clone(),
        op: Op::Suspend
    }));
    let ev = common::wait_for(&mut rx, t, "refusal", |e| {
        matches!(e, ProviderEvent::OpResult { id: 9, .. })
    })
    .await;
    let ProviderEvent::OpResult {
        result: Err(novacron::provider::OpError::Refused(msg)),
        ..
    } = ev
    else {
        panic!("{ev:?}")
    };
    assert!(msg.contains("not running"), "libvirt's message: {msg}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_made_with_virsh_reaches_the_app_within_a_second() {
    if !lab::available() {
        return;
    }
    let test_vm = TestVm::define("nctest-virsh", "idle");
    test_vm.start_and_boot();
    let (_host, mut rx) = worker();
    let vm = find_vm(&mut rx, &test_vm.name).await;
    assert_eq!(vm.state, VmState::Running);
    for (cmd, expected) in [
        ("suspend", VmState::Paused),
        ("resume", VmState::Running),
        ("destroy", VmState::ShutOff),
    ] {
        let out = lab::virsh(&[cmd, &vm.name]);
        assert!(
            out.status.success(),
            "virsh {cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let t0 = Instant::now();
        common::wait_for(&mut rx, Duration::from_secs(1), &format!("{cmd} seen by the app"), |e| {
            matches!(e, ProviderEvent::VmUpdated { vm: v, .. } if v.name == vm.name && v.state == expected)
        })
        .await;
        eprintln!("virsh {cmd} → app state {expected:?} in {:?}", t0.elapsed());
    }
}

/// A transient VM (`virsh create`) is removed by libvirt once it stops: `vm destroy` says it
/// is gone and exits 0, rather than waiting 30 s and calling the done destroy unknown.
#[test]
fn vm_destroy_of_a_transient_vm_is_done_when_it_is_gone() {
    if !lab::available() {
        return;
    }
    let test_vm = TestVm::define("nctest-transient", "idle");
    let xml = lab::virsh(&["dumpxml", &test_vm.name]);
    assert!(xml.status.success());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("transient.xml");
    std::fs::write(&file, &xml.stdout).unwrap();
    assert!(lab::virsh(&["undefine", &test_vm.name]).status.success());
    let created = lab::virsh(&["create", file.to_str().unwrap()]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let t0 = Instant::now();
    let out = assert_cmd::Command::cargo_bin("novacron")
        .unwrap()
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .args(["-c", lab::URI, "vm", "destroy", &test_vm.name])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("gone (a transient VM is removed when it stops)"),
        "{text}"
    );
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
}

/// ctrl-c while `vm shutdown --force` waits on a guest that ignores ACPI: the console's
/// request is out, so it says what was sent and that no force-off was done, and exits 130.
#[test]
fn vm_shutdown_interrupted_says_what_was_sent_and_forces_nothing() {
    if !lab::available() {
        return;
    }
    let test_vm = TestVm::define("nctest-deaf", "idle");
    // acpi=off on the kernel line: the guest never sees the power button.
    let xml = lab::virsh(&["dumpxml", &test_vm.name]);
    let xml = String::from_utf8(xml.stdout)
        .unwrap()
        .replace("<cmdline>", "<cmdline>acpi=off ");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deaf.xml");
    std::fs::write(&file, xml).unwrap();
    assert!(lab::virsh(&["define", file.to_str().unwrap()])
        .status
        .success());
    test_vm.start_and_boot();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("novacron"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .args([
            "-c",
            lab::URI,
            "vm",
            "shutdown",
            &test_vm.name,
            "--timeout",
            "60",
            "--force",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: a signal to the child this test started.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let t0 = Instant::now();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert!(
        err.contains("interrupted while waiting: the shutdown request was sent")
            && err.contains("no force-off was done"),
        "{err}"
    );
    let state = lab::virsh(&["domstate", &test_vm.name]);
    assert!(String::from_utf8_lossy(&state.stdout).contains("running"));
}

/// `list` shows a lab guest's address as the console's IP column does (no prefix length),
/// and `--json` keeps what libvirt gave.
#[test]
fn list_shows_addresses_as_the_console_does() {
    if !lab::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("novacron")
            .unwrap()
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .args(["-c", lab::URI])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run(&["list"]);
    let row = text.lines().find(|l| l.starts_with("nclab-busy ")).unwrap();
    // The IP column comes after MEM/MAX ("96M/96M"), whatever words the state takes.
    let words: Vec<&str> = row.split_whitespace().collect();
    let mem = words
        .iter()
        .position(|w| w.ends_with('M') && w.contains('/'))
        .unwrap();
    let ip = words[mem + 1];
    assert!(ip.contains('.') && !ip.contains('/'), "{row}");
    let json = run(&["list", "--json"]);
    assert!(json.contains(&format!("{ip}/")), "{json}");
}
