//! Scale on libvirt's test driver with a 1000-domain node file: the first paint (connect,
//! read the inventory, reduce it, draw 80×24) and the answer to a key press (reduce + draw).
//! Targets: first paint ≤ 1 s, key press ≤ 50 ms.
//!
//! `cargo bench --bench scale`

use std::fmt::Write;

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use novacron::app::state::Settings;
use novacron::app::{update, Action, Msg, State};
use novacron::config::Keymap;
use novacron::provider::libvirt::{inventory, open};
use novacron::provider::ProviderEvent;
use novacron::ui::{render, Theme};

fn node_file(dir: &std::path::Path, n: usize) -> String {
    let mut xml = String::from("<node>\n");
    for i in 0..n {
        let _ = writeln!(
            xml,
            "<domain type='test'><name>vm-{i:04}</name><memory unit='MiB'>{}</memory><vcpu>{}</vcpu><os><type>hvm</type></os></domain>",
            512 * (1 + i % 8),
            1 + i % 4
        );
    }
    xml.push_str("</node>\n");
    let p = dir.join("node.xml");
    std::fs::write(&p, xml).expect("node file");
    format!("test://{}", p.display())
}

fn first_paint(uri: &str, theme: &Theme, term: &mut Terminal<TestBackend>) -> State {
    let conn = open(uri, false).expect("open node file");
    let vms = inventory::read_inventory(&conn, 0, true).expect("inventory");
    let help = Keymap::default_keymap().expect("keymap").help_lines();
    let mut s = State::new(&[uri.to_string()], Settings::default(), help, 0);
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory { host: 0, vms }),
        0,
    );
    term.draw(|f| render(&s, theme, f)).expect("draw");
    s
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let uri = node_file(dir.path(), 1000);
    let theme = Theme::default();
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let mut g = c.benchmark_group("scale_1000_domains");
    g.sample_size(20);
    g.bench_function("first paint (connect + inventory + reduce + draw)", |b| {
        b.iter(|| first_paint(&uri, &theme, &mut term));
    });
    let mut s = first_paint(&uri, &theme, &mut term);
    g.bench_function("key press: down (reduce + draw)", |b| {
        b.iter(|| {
            update(&mut s, Msg::Action(Action::Down), 0);
            term.draw(|f| render(&s, &theme, f)).expect("draw");
        });
    });
    g.bench_function("key press: sort by memory (reduce + draw)", |b| {
        b.iter(|| {
            update(&mut s, Msg::Action(Action::SortMemory), 0);
            term.draw(|f| render(&s, &theme, f)).expect("draw");
        });
    });
    g.bench_function("key press: filter character (reduce + draw)", |b| {
        update(&mut s, Msg::Action(Action::Filter), 0);
        b.iter(|| {
            update(&mut s, Msg::Input(novacron::app::InputKey::Char('9')), 0);
            update(&mut s, Msg::Input(novacron::app::InputKey::Backspace), 0);
            term.draw(|f| render(&s, &theme, f)).expect("draw");
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
