//! Snapshot tests of every screen at 80×24, the size the layout is designed for.
#![allow(clippy::cast_precision_loss)]

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::app::fixtures::{state, T0};
use crate::app::{update, Action, InputKey, Msg, State};
use crate::domain::{CounterSample, Metric, NetCounters, VmState};
use crate::provider::{ConnStatus, ProviderEvent};
use crate::ui::{render, Theme};

pub(super) fn draw(s: &State, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = Theme::new(&crate::config::theme::ThemeColors::default(), false);
    t.draw(|f| render(s, &theme, f)).unwrap();
    t.backend().to_string()
}

fn busy_state() -> State {
    let mut s = state();
    for (t, ns, rx) in [(0u64, 0u64, 0u64), (5_000, 4_900_000_000, 512_000)] {
        let mut sample = CounterSample::new("0-web-1", VmState::Running);
        sample.cpu_time_ns = Some(ns);
        sample.vcpus = 1;
        // The guest uses 700 MiB of its 2 GiB.
        sample.balloon = Some(crate::domain::BalloonStats {
            current_kib: 2 << 20,
            maximum_kib: 2 << 20,
            available_kib: Some(2 << 20),
            unused_kib: Some((2 << 20) - 700 * 1024),
            usable_kib: None,
            rss_kib: None,
        });
        sample.net = Some(NetCounters {
            rx_bytes: rx,
            tx_bytes: rx / 2,
            ..NetCounters::default()
        });
        let samples = vec![sample];
        let ts = T0 + i64::try_from(t).unwrap();
        update(
            &mut s,
            Msg::Provider(ProviderEvent::Samples {
                host: 0,
                ts_ms: ts,
                samples,
            }),
            ts,
        );
    }
    s
}

#[test]
fn table_with_pending_op_and_journal() {
    let mut s = busy_state();
    update(&mut s, Msg::Action(Action::Down), T0);
    let eff = update(&mut s, Msg::Action(Action::ToggleSuspend), T0 + 6_000);
    assert_eq!(eff.len(), 1);
    insta::assert_snapshot!(draw(&s, 80, 24));
}

#[test]
fn journal_shows_failures_and_events() {
    let mut s = busy_state();
    update(&mut s, Msg::Action(Action::Top), T0);
    update(&mut s, Msg::Action(Action::Down), T0);
    update(&mut s, Msg::Action(Action::Down), T0);
    let eff = update(&mut s, Msg::Action(Action::Reboot), T0 + 7_000);
    let crate::app::Effect::Provider {
        cmd: crate::provider::ProviderCmd::Op { id, .. },
        ..
    } = &eff[0]
    else {
        panic!("{eff:?}");
    };
    let err = Err("Timed out during operation: cannot acquire state change lock".into());
    update(
        &mut s,
        Msg::Provider(ProviderEvent::OpResult {
            id: *id,
            result: err,
        }),
        T0 + 7_100,
    );
    insta::assert_snapshot!(draw(&s, 80, 24));
}

/// A day-shaped curve for chart snapshots: `n` points over the last 5 minutes.
fn history(n: i64, scale: f64) -> Vec<(i64, f64)> {
    (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let x = i as f64 / n as f64;
            (
                T0 - 300_000 + i * 300_000 / n,
                scale * (0.5 + 0.4 * (x * 6.0).sin()),
            )
        })
        .collect()
}

#[test]
fn detail_of_the_selected_vm_with_charts() {
    let mut s = busy_state();
    update(&mut s, Msg::Action(Action::Bottom), T0);
    update(&mut s, Msg::Action(Action::Up), T0);
    update(&mut s, Msg::Action(Action::OpenDetail), T0);
    let request = s.charts.request;
    let series = vec![
        (Metric::CpuPct, history(60, 100.0)),
        (Metric::MemUsedBytes, history(60, 64.0 * 1024.0 * 1024.0)),
        (Metric::DiskWrBps, history(60, 2e6)),
        (Metric::NetRxBps, history(60, 1e5)),
        (Metric::NetTxBps, history(60, 5e4)),
    ];
    update(
        &mut s,
        Msg::History {
            request,
            series,
            spread: Vec::new(),
        },
        T0,
    );
    insta::assert_snapshot!(draw(&s, 80, 24));
    insta::assert_snapshot!("detail_wide", draw(&s, 120, 40));
    // enter again: every device line in the whole pane, then back.
    update(&mut s, Msg::Action(Action::OpenDetail), T0);
    let all = draw(&s, 80, 24);
    assert!(
        all.contains("web-1 · devices (enter: charts)")
            && all.contains("uuid")
            && all.contains("/var/lib/libvirt/images/web-1.qcow2"),
        "{all}"
    );
    assert!(
        !all.contains("more lines") && !all.contains("┌ CPU"),
        "{all}"
    );
    update(&mut s, Msg::Action(Action::OpenDetail), T0);
    assert!(draw(&s, 80, 24).contains("more lines (enter: all)"));
}

#[test]
fn detail_of_a_vm_without_devices_says_so_instead_of_waiting_for_data() {
    let mut s = state();
    let mut bare = crate::app::fixtures::vm(0, "bare", VmState::Running, 1, 96);
    bare.disks.clear();
    bare.nics.clear();
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Inventory {
            host: 0,
            vms: vec![bare],
        }),
        T0,
    );
    update(&mut s, Msg::Action(Action::Top), T0);
    update(&mut s, Msg::Action(Action::OpenDetail), T0);
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("no disks attached"), "{screen}");
    assert!(screen.contains("no network interfaces"), "{screen}");
    // The charts of what the VM has still wait for data.
    assert_eq!(screen.matches("no data yet").count(), 2, "{screen}");
}

#[test]
fn a_read_only_footer_offers_no_operations() {
    let mut s = state();
    let footer = |s: &State| draw(s, 100, 24).lines().last().unwrap_or("").to_string();
    assert!(footer(&s).contains("destroy"), "{}", footer(&s));
    s.settings.read_only = true;
    let f = footer(&s);
    assert!(!f.contains("destroy") && !f.contains("start"), "{f}");
    assert!(
        f.contains("filter") && f.contains("help") && f.contains("quit"),
        "{f}"
    );
}

#[test]
fn host_pane_with_capacity_and_charts() {
    let mut s = state();
    let c = |busy, total| crate::domain::HostCounters {
        node_stats: true,
        cpus: 2,
        cpu_busy_ns: busy,
        cpu_total_ns: total,
        mem_total_kib: 24 * 1024 * 1024,
        mem_free_kib: 20 * 1024 * 1024,
        mem_buffers_kib: 0,
        mem_cached_kib: 1024 * 1024,
    };
    for (t, busy, total) in [(0, 0, 0), (5_000, 5_000_000_000, 10_000_000_000)] {
        update(
            &mut s,
            Msg::Provider(ProviderEvent::HostSample {
                host: 0,
                ts_ms: T0 + t,
                counters: c(busy, total),
                poll_ms: 1.4,
                overruns: 0,
                pools: None,
            }),
            T0 + t,
        );
    }
    update(&mut s, Msg::Action(Action::Hosts), T0 + 5_000);
    let request = s.charts.request;
    update(
        &mut s,
        Msg::History {
            request,
            series: vec![(Metric::HostCpuPct, history(40, 60.0))],
            spread: Vec::new(),
        },
        T0 + 5_000,
    );
    insta::assert_snapshot!(draw(&s, 80, 24));
}

#[test]
fn help_lists_the_live_keymap() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Help), T0);
    insta::assert_snapshot!(draw(&s, 80, 40));
}

#[test]
fn destroy_confirmation_defaults_to_no() {
    let mut s = state();
    update(&mut s, Msg::Action(Action::Destroy), T0);
    insta::assert_snapshot!(draw(&s, 80, 24));
}

#[test]
fn filter_line_and_disconnected_host() {
    let mut s = state();
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Status {
            host: 1,
            status: ConnStatus::Disconnected {
                error: "End of file while reading data".into(),
                retry_in: std::time::Duration::from_secs(4),
            },
        }),
        T0,
    );
    update(&mut s, Msg::Tick, T0 + 12_000);
    update(&mut s, Msg::Action(Action::Filter), T0 + 12_000);
    for c in "web".chars() {
        update(&mut s, Msg::Input(InputKey::Char(c)), T0 + 12_000);
    }
    insta::assert_snapshot!(draw(&s, 80, 24));
    // The header keeps a badge; the host pane gives the reason.
    update(&mut s, Msg::Input(InputKey::Enter), T0 + 12_000);
    update(&mut s, Msg::Action(Action::Hosts), T0 + 12_000);
    update(&mut s, Msg::Action(Action::Down), T0 + 12_000);
    let text = draw(&s, 80, 24);
    assert!(
        text.contains("qemu+ssh://kvm2/system  ✗ disconnected 12 s, retrying every 4 s: End")
            && text.contains("of file while reading data"),
        "{text}"
    );
    // A long reason wraps instead of losing its end (the actual cause, from ssh).
    let long = "cannot connect to qemu+ssh://127.0.0.1:1/system: Cannot recv data: ssh: \
                connect to host 127.0.0.1 port 1: Connection refused";
    update(
        &mut s,
        Msg::Provider(ProviderEvent::Status {
            host: 1,
            status: ConnStatus::Disconnected {
                error: long.into(),
                retry_in: std::time::Duration::from_secs(8),
            },
        }),
        T0 + 13_000,
    );
    let text = draw(&s, 80, 24);
    assert!(text.contains("Connection refused"), "{text}");
    assert!(text.contains("cpu       unknown"), "{text}");
}

#[test]
fn help_scrolled_to_the_end_shows_its_last_line() {
    let mut s = state();
    update(&mut s, Msg::Resize(80, 24), T0);
    update(&mut s, Msg::Action(Action::Help), T0);
    update(&mut s, Msg::Action(Action::Bottom), T0);
    let text = draw(&s, 80, 24);
    let last = crate::app::palette::VERBS.last().unwrap();
    let bottom = text.lines().rev().nth(2).unwrap();
    assert!(
        bottom.contains(last),
        "the last palette verb on the last row:\n{text}"
    );
}

#[test]
fn too_small_terminal_says_so() {
    insta::assert_snapshot!(draw(&state(), 60, 20));
}

#[test]
fn a_long_footer_message_takes_lines_from_the_panes_not_their_borders() {
    let mut s = state();
    crate::app::opflow::flash(
        &mut s,
        "disconnected qemu+ssh://kvm2.example/system: 3 VMs removed from the table, \
         reconnecting every 5 s; esc dismisses this message",
        true,
    );
    let screen = draw(&s, 80, 24);
    let rows: Vec<&str> = screen.lines().collect();
    // The message's lines are the last two; the journal's bottom border sits above them.
    assert!(rows[22].contains("disconnected qemu"), "{screen}");
    assert!(rows[23].contains("esc dismisses"), "{screen}");
    assert!(rows[21].contains('└') && rows[21].contains('┘'), "{screen}");
}

#[test]
fn a_name_cannot_reorder_the_terminal_line_it_is_drawn_on() {
    let mut s = state();
    for e in s.vms.values_mut().filter(|e| e.vm.name == "web-1") {
        e.vm.name = "web\u{202E}1-gnirts\u{2066}".into();
    }
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("web1-gnirts"), "{screen}");
    assert!(
        !screen.chars().any(crate::domain::format::is_bidi_control),
        "{screen}"
    );
}

#[test]
fn the_selected_row_stays_drawn_while_a_long_message_takes_table_rows() {
    let mut s = state();
    for i in 0..12 {
        crate::app::fixtures::updated(
            &mut s,
            crate::app::fixtures::vm(0, &format!("extra-{i:02}"), VmState::Running, 1, 512),
        );
    }
    // The last row the table shows at 80×24 with a one-line footer.
    let body = crate::app::rows::table_body_height(24);
    s.view.cursor = body - 1;
    let name = s.selected().unwrap().vm.name.clone();
    assert!(draw(&s, 80, 24).contains(&format!("│{name} ")));
    crate::app::opflow::flash(&mut s, "word ".repeat(40), true);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains(&format!("│{name} ")), "{name}:\n{screen}");
}
