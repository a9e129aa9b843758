//! Poll cost on the real daemon (the lab on <qemu:///system)>: the cheap per-interval poll
//! (state + interface bulk stats + `GetInfo` per VM, no QEMU monitor round trip) against the
//! all-groups bulk call it replaces. Target: ≤ 7 ms per poll with 24 running VMs.
//!
//! Scale the lab first: `assets/lab/lab.sh up --extra 20` (24 running guests), then
//! `cargo bench --bench poll`. Skips with a message when <qemu:///system> is not reachable.

use criterion::{criterion_group, criterion_main, Criterion};

use novacron::provider::libvirt::stats::{all_domain_stats, NOWAIT};
use novacron::provider::libvirt::{open, poll};

fn bench(c: &mut Criterion) {
    let Ok(conn) = open("qemu:///system", true) else {
        eprintln!("poll bench skipped: qemu:///system not reachable (run assets/lab/lab.sh up --extra 20)");
        return;
    };
    let running = poll::cheap(&conn).map_or(0, |s| s.len());
    eprintln!("poll bench: {running} running domains on qemu:///system");
    let mut g = c.benchmark_group(format!("poll_{running}_vms"));
    g.bench_function("cheap: state+interface bulk + GetInfo per VM", |b| {
        b.iter(|| poll::cheap(&conn).expect("poll"));
    });
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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
