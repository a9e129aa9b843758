//! The local libvirt lab (`assets/lab/lab.sh`) as seen from tests.
//!
//! Lab tests need `qemu:///system` with the lab up. Without it they are skipped with a
//! message, unless `NOVACRON_REQUIRE_LAB=1` (set by `assets/test.sh` and CI), which turns a
//! missing lab into a failure so CI can never pass by skipping.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub const URI: &str = "qemu:///system";

fn lab_sh() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/lab/lab.sh")
}

pub fn virsh(args: &[&str]) -> std::process::Output {
    Command::new("virsh")
        .arg("-c")
        .arg(URI)
        .args(args)
        .output()
        .expect("run virsh")
}

/// True when the lab is usable; panics when it is required but missing.
pub fn available() -> bool {
    let ok = virsh(&["domstate", "nclab-idle"]).status.success();
    if !ok {
        assert!(
            std::env::var("NOVACRON_REQUIRE_LAB").as_deref() != Ok("1"),
            "NOVACRON_REQUIRE_LAB=1 but the lab is not up: run `assets/lab/lab.sh up`"
        );
        eprintln!("skipping: the lab is not up (assets/lab/lab.sh up); set NOVACRON_REQUIRE_LAB=1 to fail instead");
    }
    ok
}

fn console_log(name: &str) -> PathBuf {
    let dir = std::env::var("NOVACRON_LAB_IMAGES")
        .unwrap_or_else(|_| "/var/lib/libvirt/images/novacron-lab".into());
    PathBuf::from(dir)
        .join("logs")
        .join(format!("{name}.console.log"))
}

/// Size of a guest's console log, to wait for output written after this point.
pub fn console_offset(name: &str) -> u64 {
    std::fs::metadata(console_log(name)).map_or(0, |m| m.len())
}

/// Waits until the guest's init has taken a DHCP lease (it then also listens for the ACPI
/// power button) in console output written after `offset`.
pub fn wait_booted(name: &str, offset: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read(console_log(name)).unwrap_or_default();
        let start = usize::try_from(offset).unwrap_or(0).min(text.len());
        if String::from_utf8_lossy(&text[start..]).contains("nclab: lease ") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} did not boot within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A lab guest defined for one test and removed when dropped.
pub struct TestVm {
    pub name: String,
}

impl TestVm {
    pub fn define(name: &str, role: &str) -> Self {
        let _ = Command::new(lab_sh()).args(["undefine", name]).output();
        let out = Command::new(lab_sh())
            .args(["define", name, role])
            .output()
            .expect("run lab.sh");
        assert!(
            out.status.success(),
            "lab.sh define {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            name: name.to_string(),
        }
    }

    pub fn start_and_boot(&self) {
        let off = console_offset(&self.name);
        let out = virsh(&["start", &self.name]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        wait_booted(&self.name, off, Duration::from_secs(120));
    }
}

impl Drop for TestVm {
    fn drop(&mut self) {
        let _ = Command::new(lab_sh())
            .args(["undefine", &self.name])
            .output();
    }
}
