//! From a libvirt event to a drawn frame, on the real daemon: a second connection suspends
//! or resumes `nclab-idle` (as another shell running virsh would); we time from the moment
//! the API call returns until the worker's update has gone through `app::update` and the
//! frame showing the new state is drawn. Target ≤ 250 ms.
//!
//! Needs the lab: `assets/lab/lab.sh up`, then `cargo bench --bench event_latency`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use novacron::app::state::Settings;
use novacron::app::{update, Msg, State};
use novacron::domain::VmState;
use novacron::provider::libvirt::{open, spawn_host, HostOptions};
use novacron::ui::{render, Theme};

const VM: &str = "nclab-idle";

fn vm_state(s: &State) -> Option<VmState> {
    s.vms.values().find(|e| e.vm.name == VM).map(|e| e.vm.state)
}

fn bench(c: &mut Criterion) {
    let Ok(actor) = open("qemu:///system", false) else {
        eprintln!(
            "event_latency bench skipped: qemu:///system not reachable (assets/lab/lab.sh up)"
        );
        return;
    };
    let Ok(dom) = actor.lookup_domain_by_name(VM) else {
        eprintln!("event_latency bench skipped: {VM} not defined (assets/lab/lab.sh up)");
        return;
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut opts = HostOptions::new("qemu:///system");
    opts.poll_interval = Duration::from_secs(60);
    let _host = spawn_host(0, opts, tx).expect("worker");
    let mut state = State::new(
        &["qemu:///system".to_string()],
        Settings::default(),
        Vec::new(),
        0,
    );
    let theme = Theme::default();
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    while vm_state(&state).is_none() {
        let ev = rx.blocking_recv().expect("worker alive");
        update(&mut state, Msg::Provider(ev), 0);
    }
    c.bench_function("event to frame (suspend/resume nclab-idle)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let want = if vm_state(&state) == Some(VmState::Paused) {
                    dom.resume().expect("resume");
                    VmState::Running
                } else {
                    dom.suspend().expect("suspend");
                    VmState::Paused
                };
                let t0 = Instant::now();
                while vm_state(&state) != Some(want) {
                    let ev = rx.blocking_recv().expect("worker alive");
                    update(&mut state, Msg::Provider(ev), 0);
                }
                term.draw(|f| render(&state, &theme, f)).expect("draw");
                total += t0.elapsed();
            }
            total
        });
    });
    if vm_state(&state) == Some(VmState::Paused) {
        let _ = dom.resume();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
