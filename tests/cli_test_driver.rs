//! The headless commands (`list`, `vm`, `--help`, `history stats`) against libvirt's test
//! driver (`test:///default` or a node file, no daemon): exit codes, messages, the checks
//! made before anything is sent. Each run is its own process with its own driver.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

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
        c.args(["-c", &ua, "-c", &ub]).args(args);
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
        .arg("--history")
        .arg(&h)
        .args(["history", "stats"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is damaged (it has sled's db and wal.log but not its conf file)",
        ));
}
