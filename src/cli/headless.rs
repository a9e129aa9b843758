//! Headless commands for scripts and tests: the same provider core as the console.

use std::time::{Duration, Instant};

use serde::Serialize;
use virt::connect::Connect;

use super::hosts::Reached;
use super::text_table::text_table;
use super::Failure;
use crate::config::Config;
use crate::domain::{Op, Vm, VmState};
use crate::provider::libvirt::{inventory, ops};
use crate::provider::LibvirtError;
use crate::ui::format::kib;

/// Writes to stdout. A closed pipe (`novacron list | head`) ends output quietly, not a panic;
/// any other failure (a full disk, an I/O error) is exit 1, not a silent success.
///
/// # Errors
/// Exit 1 naming the write error.
pub fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::op(format!("writing the output: {e}")))
        }
        _ => Ok(()),
    }
}

#[derive(Serialize)]
struct ListedVm<'a> {
    uri: &'a str,
    #[serde(flatten)]
    vm: &'a Vm,
    state_text: String,
}

/// `novacron list [--json]`.
///
/// # Errors
/// Exit 2 when a connection or the inventory read fails.
pub fn list(cfg: &Config, json: bool) -> Result<(), Failure> {
    // The hosts that answer are listed; each one that does not is an error on stderr, and
    // the exit code says the list is incomplete.
    let mut reached = match Reached::open(cfg, false) {
        Ok(r) => r,
        // No host answered: a script reading --json still gets a list to parse (empty);
        // stderr and the exit code say why.
        Err(f) if json => {
            emit("[]\n")?;
            return Err(f);
        }
        Err(f) => return Err(f),
    };
    let mut all: Vec<(String, Vm)> = Vec::new();
    let conns = std::mem::take(&mut reached.conns);
    for (host, (uri, conn)) in conns.iter().enumerate() {
        match inventory::read_inventory(conn, host, true) {
            Ok(vms) => all.extend(vms.into_iter().map(|v| (uri.clone(), v))),
            Err(e) => reached.fail(uri, e),
        }
    }
    let result = reached.finish("listed");
    all.sort_by(|a, b| a.1.name.cmp(&b.1.name).then(a.0.cmp(&b.0)));
    if json {
        let rows: Vec<ListedVm> = all
            .iter()
            .map(|(uri, vm)| ListedVm {
                uri,
                vm,
                state_text: vm.state_text(),
            })
            .collect();
        let text = serde_json::to_string_pretty(&rows).map_err(|e| Failure::op(e.to_string()))?;
        emit(&format!("{text}\n"))?;
        return result;
    }
    emit(&list_table(&all))?;
    result
}

/// The text table of `list`, its columns as wide as their longest value.
fn list_table(all: &[(String, Vm)]) -> String {
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|(uri, vm)| {
            vec![
                vm.name.clone(),
                uri.clone(),
                vm.state_text(),
                vm.vcpus.to_string(),
                // What the VM holds over its maximum: a headless read has no usage figures
                // (the console's MEM column is memory in use over what it holds).
                format!("{}/{}", kib(vm.mem_kib), kib(vm.max_mem_kib)),
                // As the console's IP column: the address, its prefix length left to --json.
                vm.ips.first().map_or_else(
                    || "-".into(),
                    |ip| ip.split('/').next().unwrap_or(ip).to_string(),
                ),
                (if vm.autostart { "yes" } else { "no" }).to_string(),
            ]
        })
        .collect();
    text_table(
        &["NAME", "URI", "STATE", "VCPU", "MEM/MAX", "IP", "AUTOSTART"],
        &rows,
        &[3, 4],
    )
}

/// Finds `name` (or a UUID or ID) on exactly one connection, with suggestions when it is
/// nowhere: its URI, connection, UUID and name. `NAME@LABEL`, the form the console's journal
/// and palette use for a name on several hosts, picks the host by its label.
fn find<'a>(
    conns: &'a [(String, Connect)],
    all_uris: &[String],
    name: &str,
) -> Result<(&'a str, &'a Connect, String, String), Failure> {
    if name.trim().is_empty() {
        return Err(Failure::usage(
            "the VM name is empty; `novacron list` shows the names",
        ));
    }
    let uris: Vec<String> = conns.iter().map(|(u, _)| u.clone()).collect();
    // Labels as the console gives them, over every configured host: one that did not
    // answer still counts in the numbering (local#1, local#2).
    let all_labels = crate::app::state::host_labels(all_uris);
    let labels: Vec<String> = uris
        .iter()
        .map(|u| {
            all_uris.iter().position(|a| a == u).map_or_else(
                || crate::app::state::host_label(u),
                |i| all_labels[i].clone(),
            )
        })
        .collect();
    let mut found = Vec::new();
    let mut suggestions: Vec<(usize, String)> = Vec::new();
    for (i, (uri, conn)) in conns.iter().enumerate() {
        match inventory::lookup_by_name(conn, uri, name) {
            Ok(d) => found.push((
                uri.as_str(),
                conn,
                d.uuid_string().unwrap_or_default(),
                d.name().unwrap_or_else(|_| name.to_string()),
            )),
            Err(LibvirtError::NoSuchVm { suggestions: s, .. }) => {
                suggestions.extend(s.into_iter().map(|n| (i, n)));
            }
            Err(e) => return Err(Failure::usage(e.to_string())),
        }
    }
    // A name may hold '@' itself: the label form is read only when the whole is no name.
    if found.is_empty() {
        if let Some((vm, label)) = name.rsplit_once('@') {
            if let Some(i) = labels.iter().position(|l| l == label) {
                return find(&conns[i..=i], all_uris, vm);
            }
        }
    }
    let at = |i: usize, n: &str| format!("{n}@{}", labels[i]);
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            // A suggestion on several hosts is given with its host, as the palette takes it.
            let shown: Vec<String> = suggestions
                .iter()
                .map(|(i, n)| {
                    if suggestions.iter().filter(|(_, m)| m == n).count() > 1 {
                        at(*i, n)
                    } else {
                        n.clone()
                    }
                })
                .collect();
            Err(Failure::usage(
                LibvirtError::NoSuchVm {
                    name: name.to_string(),
                    uri: uris.join(", "),
                    suggestions: shown,
                }
                .to_string(),
            ))
        }
        _ => {
            let picks: Vec<String> = found
                .iter()
                .map(|f| {
                    let i = uris.iter().position(|u| u == f.0).unwrap_or(0);
                    at(i, name)
                })
                .collect();
            Err(Failure::usage(format!(
                "{name:?} exists on {}; choose one as {} or with -c URI",
                found.iter().map(|f| f.0).collect::<Vec<_>>().join(" and "),
                picks.join(" or ")
            )))
        }
    }
}

/// Resolves a VM name (UUID, ID) to its URI, UUID and name, for reports that only read.
/// Hosts that do not answer are skipped with a warning when the VM is found on another; when
/// it is found nowhere, the error names them too.
///
/// # Errors
/// Exit 2: no host answered, the VM is on none that did, or on more than one.
pub fn find_vm(cfg: &Config, name: &str) -> Result<FoundVm, Failure> {
    let reached = Reached::open(cfg, true)?;
    let unreachable = reached.failed.join("; ");
    match find(&reached.conns, &cfg.uris, name) {
        Ok((uri, conn, uuid, real)) => {
            if !reached.failed.is_empty() {
                eprintln!(
                    "novacron: warning: {}",
                    crate::domain::format::printable_message(&format!(
                        "{unreachable}; read {real} from {uri}"
                    ))
                );
            }
            Ok(FoundVm {
                uri: uri.to_string(),
                vm: read_vm(conn, &uuid),
                uuid,
                name: real,
            })
        }
        Err(e) if !reached.failed.is_empty() => Err(Failure::usage(format!(
            "{}\nand these hosts did not answer: {unreachable}",
            e.message
        ))),
        Err(e) => Err(e),
    }
}

/// A VM found by name, UUID or ID: where it is, its own name, and the VM as read now.
pub struct FoundVm {
    pub uri: String,
    pub uuid: String,
    pub name: String,
    /// The VM as read, when it could be: its state, and the devices that say which
    /// metrics it can have.
    pub vm: Option<crate::domain::Vm>,
}

fn read_vm(conn: &Connect, uuid: &str) -> Option<crate::domain::Vm> {
    let dom = conn.lookup_domain_by_uuid_string(uuid).ok()?;
    inventory::read_vm(0, &dom, false).ok()
}

/// What a stopped transient VM is said to be, being gone.
const TRANSIENT_GONE: &str = "gone (a transient VM is removed when it stops)";

/// libvirt says there is no domain with that UUID (not that it could not be asked).
fn no_such_domain(conn: &Connect, uuid: &str) -> bool {
    use virt::enumutil::Enum::Known;
    matches!(
        conn.lookup_domain_by_uuid_string(uuid),
        Err(e) if e.code() == Known(virt::error::ErrorNumber::NoDomain)
    )
}

fn current_state(conn: &Connect, uuid: &str) -> Option<(VmState, String)> {
    read_vm(conn, uuid).map(|vm| (vm.state, vm.state_text()))
}

/// The state an operation leads to, when it leads to a stable one.
fn target_state(op: Op) -> Option<fn(VmState) -> bool> {
    match op {
        Op::Start | Op::Resume => Some(|s| matches!(s, VmState::Running | VmState::Blocked)),
        Op::Suspend => Some(|s| s == VmState::Paused),
        Op::Shutdown | Op::Destroy => Some(|s| s == VmState::ShutOff),
        Op::Reboot | Op::Reset => None,
    }
}

fn wait_for(
    conn: &Connect,
    uuid: &str,
    done: fn(VmState) -> bool,
    timeout: Duration,
    stop: &Interrupt,
) -> Option<String> {
    // A connection that broke answers nothing more: stop at once, not at the timeout (an
    // hour for a long shutdown); the caller says the connection was lost.
    let read = || match current_state(conn, uuid) {
        None if !conn.is_alive().unwrap_or(false) => Err(()),
        // libvirt removes a transient VM (`virsh create`) once it stops: gone is shut off.
        None if done(VmState::ShutOff) && no_such_domain(conn, uuid) => {
            Ok(Some((VmState::ShutOff, TRANSIENT_GONE.to_string())))
        }
        other => Ok(other),
    };
    poll_until(read, done, timeout, || stop.hit().is_some())
}

/// INT, TERM and HUP (ctrl-c, `kill`, a closed ssh session) while `vm` waits for the VM:
/// the request is out already, so the wait ends saying so instead of dying silently.
struct Interrupt(Vec<(i32, std::sync::Arc<std::sync::atomic::AtomicBool>)>);

impl Interrupt {
    fn watch() -> Self {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        Self(
            [SIGINT, SIGTERM, SIGHUP]
                .into_iter()
                .filter_map(|sig| {
                    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                    signal_hook::flag::register(sig, flag.clone())
                        .ok()
                        .map(|_| (sig, flag))
                })
                .collect(),
        )
    }

    /// The signal that came, if one did.
    fn hit(&self) -> Option<i32> {
        self.0
            .iter()
            .find(|(_, f)| f.load(std::sync::atomic::Ordering::Relaxed))
            .map(|(sig, _)| *sig)
    }

    /// The failure `vm` ends with: what was sent, what was not, exit 128 + the signal.
    fn failure(&self, what: &str) -> Option<Failure> {
        let sig = self.hit()?;
        Some(Failure {
            code: u8::try_from(128 + sig).unwrap_or(1),
            message: what.to_string(),
        })
    }
}

/// Reads the state until `done` holds (its text) or `timeout` has passed (None); a read
/// that fails for good (`Err`) ends it at once (None).
fn poll_until(
    mut read: impl FnMut() -> Result<Option<(VmState, String)>, ()>,
    done: fn(VmState) -> bool,
    timeout: Duration,
    stopped: impl Fn() -> bool,
) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        if stopped() {
            return None;
        }
        // The last read starts after the deadline: a VM that got there during a slow read
        // or the sleep is done, not "still shut off".
        let late = Instant::now() >= deadline;
        match read() {
            Ok(Some((s, text))) if done(s) => return Some(text),
            Err(()) => return None,
            Ok(_) => {}
        }
        if late {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `vm shutdown --force` past its timeout: the destroy, and what the VM is then.
fn force_off(
    conn: &Connect,
    uuid: &str,
    name: &str,
    timeout: Duration,
    started: Instant,
    stop: &Interrupt,
) -> Result<(), Failure> {
    if let Err(e) = ops::run_op(conn, uuid, Op::Destroy) {
        // The guest may have powered off between the last read and the destroy (and a
        // transient one be gone).
        let now = current_state(conn, uuid).or_else(|| {
            no_such_domain(conn, uuid).then(|| (VmState::ShutOff, TRANSIENT_GONE.to_string()))
        });
        if let Some((VmState::ShutOff, text)) = now {
            tell(&format!(
                "{name}: shut down after the {} s timeout, before the force-off, \
                 in {:.1} s, now {text}\n",
                timeout.as_secs(),
                started.elapsed().as_secs_f64()
            ));
            return Ok(());
        }
        return Err(Failure::op(format!(
            "force-off of {name} after the shutdown timeout failed: {e}"
        )));
    }
    let text = wait_for(
        conn,
        uuid,
        |s| s == VmState::ShutOff,
        Duration::from_secs(30),
        stop,
    )
    .unwrap_or_else(|| "unknown".into());
    tell(&format!(
        "{name}: did not shut down within {} s; forced off (destroy), now {text}\n",
        timeout.as_secs()
    ));
    Ok(())
}

/// Says what an operation did. It is done whether or not stdout takes the text: exit 1
/// would tell a script to retry a destroy that already happened, so a failed write is only a
/// warning.
fn tell(text: &str) {
    if let Err(e) = emit(&crate::domain::format::printable_message(text)) {
        eprintln!(
            "novacron: warning: {} (the operation itself succeeded)",
            e.message
        );
    }
}

/// `novacron vm OP NAME [--timeout S] [--force]`.
///
/// # Errors
/// Exit 2 for usage/connection problems and unknown VMs, exit 1 when libvirt refuses the
/// operation or a shutdown times out without `--force`.
pub fn vm(cfg: &Config, op: Op, name: &str, timeout: Duration, force: bool) -> Result<(), Failure> {
    if cfg.read_only {
        return Err(Failure::usage("operations are disabled with --read-only"));
    }
    let reached = Reached::open(cfg, false)?;
    if !reached.failed.is_empty() {
        // A host that does not answer may hold a VM of that name too: acting on the one
        // found could be acting on the wrong VM.
        return Err(Failure::usage(format!(
            "{}\nnot acting on {name:?} while a host does not answer: it may hold a VM of \
             that name too; name the VM's host with -c URI",
            reached.failed.join("\n")
        )));
    }
    let conns = reached.conns;
    let (uri, conn, uuid, real) = find(&conns, &cfg.uris, name)?;
    let name = real.as_str();
    // As in the console: an operation that cannot apply to the VM's state is refused with
    // the reason, not sent and reported done (suspending a paused VM).
    if let Some(why) = current_state(conn, &uuid).and_then(|(s, _)| op.wrong_state(s, None)) {
        return Err(Failure::op(format!(
            "{op} {name}: {name} {why}; nothing was sent"
        )));
    }
    let started = Instant::now();
    ops::run_op(conn, &uuid, op).map_err(|e| {
        let check = match e {
            crate::provider::OpError::Unknown(_) => {
                format!("; see `virsh -c {uri} domstate {name}`")
            }
            crate::provider::OpError::Refused(_) => String::new(),
        };
        Failure::op(format!("{op} {name} on {uri}: {e}{check}"))
    })?;
    tracing::info!(
        "{uri}: {name}: {op} accepted; equivalent: {}",
        op.virsh(uri, name)
    );
    let Some(done) = target_state(op) else {
        tell(&format!("{name}: {op} accepted by libvirt\n"));
        return Ok(());
    };
    // Shutdown depends on the guest; the others settle within a few seconds.
    let wait = if op == Op::Shutdown {
        timeout
    } else {
        Duration::from_secs(30)
    };
    let stop = Interrupt::watch();
    if let Some(text) = wait_for(conn, &uuid, done, wait, &stop) {
        tell(&format!(
            "{name}: {op} done in {:.1} s, now {text}\n",
            started.elapsed().as_secs_f64()
        ));
        return Ok(());
    }
    let forced = if op == Op::Shutdown && force {
        "; no force-off was done"
    } else {
        ""
    };
    if let Some(f) = stop.failure(&format!(
        "{name}: interrupted while waiting: the {op} request was sent and libvirt accepted \
         it{forced}; see `virsh -c {uri} domstate {name}`"
    )) {
        return Err(f);
    }
    // A connection that broke while we waited knows nothing of the VM: say that, not
    // "still unknown", and not that --force would help.
    if !conn.is_alive().unwrap_or(false) {
        return Err(Failure::op(format!(
            "{name}: {op} accepted, then the connection to {uri} was lost while waiting for \
             it: whether it was done is unknown; see `virsh -c {uri} domstate {name}`"
        )));
    }
    let now = current_state(conn, &uuid).map_or_else(|| "unknown".to_string(), |s| s.1);
    if op == Op::Shutdown && force {
        return force_off(conn, &uuid, name, timeout, started, &stop);
    }
    let hint = if op == Op::Shutdown {
        "; add --force to force it off after the timeout"
    } else {
        ""
    };
    Err(Failure::op(format!(
        "{name}: {op} accepted but the VM is still {now} after {} s{hint}",
        wait.as_secs()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reached_during_a_slow_read_past_the_deadline_is_done() {
        // The first read starts before the deadline and ends after it, still running; the
        // VM is off by the next read.
        let mut calls = 0;
        let read = || {
            calls += 1;
            if calls == 1 {
                std::thread::sleep(Duration::from_millis(150));
                Ok(Some((VmState::Running, "running".to_string())))
            } else {
                Ok(Some((VmState::ShutOff, "shut off (shutdown)".to_string())))
            }
        };
        let got = poll_until(
            read,
            |s| s == VmState::ShutOff,
            Duration::from_millis(100),
            || false,
        );
        assert_eq!(got.as_deref(), Some("shut off (shutdown)"));
    }

    #[test]
    fn a_state_never_reached_times_out() {
        let read = || Ok(Some((VmState::Running, "running".to_string())));
        let t = Instant::now();
        assert_eq!(
            poll_until(
                read,
                |s| s == VmState::ShutOff,
                Duration::from_millis(200),
                || false
            ),
            None
        );
        assert!(t.elapsed() >= Duration::from_millis(200));
    }

    #[test]
    fn a_connection_that_broke_ends_the_wait_at_once() {
        let t = Instant::now();
        assert_eq!(
            poll_until(
                || Err(()),
                |s| s == VmState::ShutOff,
                Duration::from_secs(3600),
                || false
            ),
            None
        );
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_signal_ends_the_wait_at_once() {
        let t = Instant::now();
        let read = || Ok(Some((VmState::Running, "running".to_string())));
        assert_eq!(
            poll_until(
                read,
                |s| s == VmState::ShutOff,
                Duration::from_secs(3600),
                || true
            ),
            None
        );
        assert!(t.elapsed() < Duration::from_secs(1));
    }
}
