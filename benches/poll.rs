//! Poll cost on the real daemon (the lab on `qemu:///system`): wall time, libvirtd CPU and the
//! guests' QEMU CPU (monitor round trips cost QEMU CPU as well):
//! - cheap tier: state+interface bulk (NOWAIT) + `GetInfo` per VM: every interval;
//!   target ≤ 7 ms per poll with 24 running VMs;
//! - monitor tier: balloon bulk + block bulk for VMs with disks (NOWAIT) + `GetVcpus` per VM,
//!   each VM once per `monitor_interval`, spread over the ticks;
//! - the full per-VM data set (both tiers at once), a steady-state poller tick, and all stats
//!   groups in one call for reference;
//! - a prometheus-libvirt-exporter scrape of the same VMs, when one listens on
//!   127.0.0.1:9177 (`NOVACRON_EXPORTER=host:port` to change; Debian package
//!   `prometheus-libvirt-exporter`, started with `--web.listen-address=127.0.0.1:9177`).
//!
//! Scale the lab first: `assets/lab/lab.sh up --extra 20` (24 running guests), then
//! `cargo bench --bench poll`. Skips with a message when `qemu:///system` is not reachable.

use std::io::{Read, Write};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};

use novacron::provider::libvirt::stats::{all_domain_stats, NOWAIT};
use novacron::provider::libvirt::{open, poll};

fn exporter_addr() -> String {
    std::env::var("NOVACRON_EXPORTER").unwrap_or_else(|_| "127.0.0.1:9177".into())
}

/// One scrape of the exporter; `None` when it is not listening.
fn scrape(addr: &str) -> Option<usize> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut body = Vec::new();
    s.read_to_end(&mut body).ok()?;
    Some(body.len())
}

/// utime + stime of a process, in clock ticks.
fn pid_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn libvirtd_ticks() -> Option<u64> {
    let out = std::process::Command::new("pidof")
        .arg("libvirtd")
        .output()
        .ok()?;
    pid_ticks(
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()?,
    )
}

/// CPU of the running guests' QEMU processes outside their vCPU threads (pid files under
/// /run/libvirt/qemu): QEMU reads a QMP request one byte per main-loop pass, so each monitor
/// round trip costs QEMU CPU too. The vCPU threads ("CPU n/TCG", "CPU n/KVM") are left out:
/// they run the guests, busy or not, whoever polls.
fn qemu_ticks() -> Option<u64> {
    let mut sum = 0;
    for e in std::fs::read_dir("/run/libvirt/qemu").ok()?.flatten() {
        if e.path().extension().is_none_or(|x| x != "pid") {
            continue;
        }
        // A guest that stops meanwhile leaves no pid file; driver.pid is libvirtd's own.
        let Ok(pid) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        let pid = pid.trim();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"));
        if !comm.is_ok_and(|c| c.starts_with("qemu")) {
            continue;
        }
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if !comm.starts_with("CPU ") {
                let tid = t.file_name().to_string_lossy().into_owned();
                sum += pid_ticks(&format!("{pid}/task/{tid}")).unwrap_or(0);
            }
        }
    }
    Some(sum)
}

/// What `n` calls cost, per call, in ms.
struct Cost {
    wall: f64,
    libvirtd: Option<f64>,
    qemu: Option<f64>,
}

/// Mean wall ms, and libvirtd and QEMU CPU ms, per call of `f` over `n` calls.
fn cost(n: u32, mut f: impl FnMut()) -> Cost {
    let (l0, q0) = (libvirtd_ticks(), qemu_ticks());
    let t0 = Instant::now();
    for _ in 0..n {
        f();
    }
    let wall = t0.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    let per_call = |a: Option<u64>, b: Option<u64>| {
        a.zip(b).map(|(a, b)| {
            f64::from(u32::try_from(b.saturating_sub(a)).unwrap_or(u32::MAX)) * 10.0 / f64::from(n)
        })
    };
    Cost {
        wall,
        libvirtd: per_call(l0, libvirtd_ticks()),
        qemu: per_call(q0, qemu_ticks()),
    }
}

fn bench(c: &mut Criterion) {
    let Ok(conn) = open("qemu:///system", true) else {
        eprintln!("poll bench skipped: qemu:///system not reachable (run assets/lab/lab.sh up --extra 20)");
        return;
    };
    let running = poll::cheap(&conn).map_or(0, |s| s.len());
    eprintln!("poll bench: {running} running domains on qemu:///system");
    let mut g = c.benchmark_group(format!("poll_{running}_vms"));
    g.sample_size(30);
    g.bench_function("cheap tier: state+interface bulk + GetInfo per VM", |b| {
        b.iter(|| poll::cheap(&conn).expect("poll"));
    });
    let doms: Vec<(virt::domain::Domain, u32)> = poll::cheap_with_domains(&conn)
        .unwrap_or_default()
        .into_iter()
        .map(|(s, d)| (d, s.vcpus))
        .collect();
    let with_disks: std::collections::HashSet<String> =
        novacron::provider::libvirt::inventory::read_inventory(&conn, 0, false)
            .unwrap_or_default()
            .into_iter()
            .filter(|v| !v.disks.is_empty())
            .map(|v| v.id.uuid)
            .collect();
    g.bench_function(
        "monitor tier, whole fleet: balloon bulk + block bulk (VMs with disks) + GetVcpus",
        |b| {
            b.iter(|| poll::monitor(&doms, &with_disks).expect("monitor"));
        },
    );
    g.bench_function("reference: all stats groups bulk", |b| {
        b.iter(|| {
            all_domain_stats(
                &conn,
                0,
                virt::sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE | NOWAIT,
            )
            .expect("stats")
        });
    });
    let addr = exporter_addr();
    if scrape(&addr).is_some() {
        g.bench_function("prometheus-libvirt-exporter scrape", |b| {
            b.iter(|| scrape(&addr));
        });
    } else {
        eprintln!("no exporter on {addr}: scrape not compared");
    }
    g.finish();

    // libvirtd's and QEMU's CPU per call, which criterion cannot see.
    let n = 100;
    // The guests' QEMU main loops use some CPU with nobody polling: measure that rate and
    // count only the QEMU CPU above it.
    let idle = cost(1, || std::thread::sleep(std::time::Duration::from_secs(3)));
    let qemu_idle_per_ms = idle.qemu.map_or(0.0, |q| q / idle.wall);
    let ms = |x: Option<f64>| x.map_or("?".into(), |x| format!("{x:.2}"));
    let fmt = |c: Cost| {
        format!(
            "{:7.2} ms wall  {:>6} ms libvirtd CPU  {:>6} ms QEMU CPU",
            c.wall,
            ms(c.libvirtd),
            ms(c.qemu.map(|q| (q - qemu_idle_per_ms * c.wall).max(0.0)))
        )
    };
    let cheap = cost(n, || drop(poll::cheap(&conn)));
    let monitor = cost(n, || drop(poll::monitor(&doms, &with_disks)));
    let full = cost(n, || {
        drop(poll::cheap(&conn));
        drop(poll::monitor(&doms, &with_disks));
    });
    let mut poller = poll::Poller::new(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(30),
    );
    poller.with_disks.clone_from(&with_disks);
    // Replay ticks 5 s apart as fast as they run: the mean is the steady-state cost per tick.
    let base = Instant::now();
    let mut k = 0u32;
    let tick = cost(n, || {
        k += 1;
        drop(poller.tick_at(&conn, base + std::time::Duration::from_secs(5) * k));
    });
    println!("\nper call over {n} calls, {running} running VMs:");
    println!("  cheap tier (every interval)            {}", fmt(cheap));
    println!("  monitor tier (every monitor_interval)  {}", fmt(monitor));
    println!("  full data set, both tiers at once      {}", fmt(full));
    println!("  poller tick (5 s / 30 s, spread)       {}", fmt(tick));
    if scrape(&addr).is_some() {
        println!(
            "  prometheus-libvirt-exporter scrape     {}",
            fmt(cost(n, || {
                let _ = scrape(&addr);
            }))
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
