//! Test fixtures: a state with a few VMs on two hosts, shared by reducer and pane tests.

use super::state::{Settings, State};
use super::{update, Msg};
use crate::config::Keymap;
use crate::domain::{DiskInfo, NicInfo, Vm, VmId, VmState};
use crate::provider::{ConnStatus, ProviderEvent};

/// 2026-11-23 12:00:00 UTC.
pub const T0: i64 = 1_795_435_200_000;

#[must_use]
pub fn vm(host: usize, name: &str, state: VmState, vcpus: u32, mem_mib: u64) -> Vm {
    Vm {
        id: VmId {
            host,
            uuid: format!("{host}-{name}"),
        },
        name: name.to_string(),
        // A stand-in for libvirt's: distinct per running VM.
        dom_id: state
            .is_active()
            .then(|| u32::try_from(name.len() * 10 + vcpus as usize).unwrap_or(0)),
        state,
        reason: match state {
            VmState::Running => "booted".into(),
            VmState::Paused => "user".into(),
            VmState::ShutOff => "shutdown".into(),
            _ => String::new(),
        },
        vcpus,
        mem_kib: mem_mib * 1024,
        max_mem_kib: mem_mib * 1024,
        autostart: name.starts_with("web"),
        persistent: true,
        ips: if state == VmState::Running {
            vec![format!("10.213.7.{}/24", 10 + name.len())]
        } else {
            Vec::new()
        },
        disks: vec![DiskInfo {
            target: "vda".into(),
            device: "disk".into(),
            bus: "virtio".into(),
            source: format!("/var/lib/libvirt/images/{name}.qcow2"),
            format: "qcow2".into(),
        }],
        nics: vec![NicInfo {
            mac: "52:54:00:aa:bb:01".into(),
            kind: "network".into(),
            source: "novacron-lab".into(),
            model: "virtio".into(),
            target: "vnet0".into(),
        }],
        summary: vec![
            ("type".into(), "qemu".into()),
            ("arch".into(), "x86_64".into()),
        ],
    }
}

/// Two hosts connected; web-1 (running), db-main (running), batch (paused) on host 0 and
/// web-2 (shut off) on host 1.
#[must_use]
pub fn state() -> State {
    let uris = vec![
        "qemu:///system".to_string(),
        "qemu+ssh://kvm2/system".to_string(),
    ];
    let help = Keymap::default_keymap()
        .map(|k| k.help_lines())
        .unwrap_or_default();
    let mut s = State::new(&uris, Settings::default(), help, T0);
    for host in 0..2 {
        update(
            &mut s,
            Msg::Provider(ProviderEvent::Status {
                host,
                status: ConnStatus::Connected {
                    hostname: format!("h{host}"),
                },
            }),
            T0,
        );
    }
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory {
            host: 0,
            vms: vec![
                vm(0, "web-1", VmState::Running, 2, 2048),
                vm(0, "db-main", VmState::Running, 4, 8192),
                vm(0, "batch", VmState::Paused, 1, 512),
            ],
        }),
        T0,
    );
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory {
            host: 1,
            vms: vec![vm(1, "web-2", VmState::ShutOff, 2, 1024)],
        }),
        T0,
    );
    s
}

/// `vm` as its host's worker reports it after a change (added, or its state moved).
pub fn updated(s: &mut State, vm: Vm) {
    update(
        s,
        Msg::Provider(ProviderEvent::VmUpdated {
            host: vm.id.host,
            vm: Box::new(vm),
        }),
        T0,
    );
}

/// The names of the visible rows, in order.
#[must_use]
pub fn names(s: &State) -> Vec<String> {
    s.rows.iter().map(|id| s.vms[id].vm.name.clone()).collect()
}
