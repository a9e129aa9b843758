//! Snapshot tests of every screen at 80×24, the size the layout is designed for.
#![allow(clippy::cast_precision_loss)]

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::app::fixtures::{state, T0};
use crate::app::{update, Action, InputKey, Msg, State};
use crate::domain::{CounterSample, Metric, NetCounters, VmState};
use crate::provider::{ConnStatus, ProviderEvent};
use crate::ui::{render, Theme};

fn draw(s: &State, w: u16, h: u16) -> String {
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
    let err = Err("Timed out during operation: cannot acquire state change lock".to_string());
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
    // enter again: every device line in the charts' place, then back.
    update(&mut s, Msg::Action(Action::OpenDetail), T0);
    let all = draw(&s, 80, 24);
    assert!(
        all.contains("Devices (enter: charts)") && all.contains("uuid"),
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
        text.contains("✗ disconnected 12 s, retrying every 4 s: End of file"),
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

fn mix_part(
    first_step: usize,
    last_step: usize,
    members: &[(&str, f64)],
) -> crate::analytics::forecast::mix::MixPart {
    crate::analytics::forecast::mix::MixPart {
        first_step,
        last_step,
        members: members
            .iter()
            .map(|(m, share)| crate::analytics::forecast::mix::MemberShare {
                member: (*m).to_string(),
                share: *share,
            })
            .collect(),
    }
}

#[test]
fn forecast_view_with_bands() {
    use crate::analysis::{ForecastResult, STEP_MS};
    use crate::analytics::forecast::{Forecast, ModelKind};
    let mut s = state();
    update(&mut s, Msg::Action(Action::Bottom), T0);
    let eff = update(&mut s, Msg::Action(Action::Forecast), T0);
    let Some(crate::app::Effect::LoadForecast {
        request,
        metric,
        horizon_rows,
        ..
    }) = eff.first().cloned()
    else {
        panic!("{eff:?}")
    };
    assert_eq!((metric, horizon_rows), ("cpu_pct", 72));
    let history: Vec<(i64, f64)> = (0..144)
        .map(|i| {
            (
                T0 - (144 - i) * STEP_MS,
                40.0 + 10.0 * ((i as f64) / 20.0).sin(),
            )
        })
        .collect();
    let point: Vec<f64> = (0..72).map(|i| 45.0 + 0.1 * f64::from(i)).collect();
    let w = |k: f64| {
        point
            .iter()
            .enumerate()
            .map(|(i, p)| p + k * (1.0 + i as f64 / 10.0))
            .collect::<Vec<_>>()
    };
    let forecast = Forecast {
        model: ModelKind::Auto,
        lo80: w(-2.0),
        hi80: w(2.0),
        lo95: w(-3.0),
        hi95: w(3.0),
        point: point.clone(),
        mix: vec![
            mix_part(
                1,
                12,
                &[
                    ("median of 36 rows", 0.52),
                    ("holt", 0.3),
                    ("daily profile", 0.18),
                ],
            ),
            mix_part(
                13,
                72,
                &[("median of 288 rows", 0.6), ("daily profile", 0.4)],
            ),
        ],
    };
    let result = Ok(ForecastResult {
        entity: "vm/qemu+ssh://kvm2/system/1-web-2".into(),
        metric: "cpu_pct".into(),
        start_ms: T0,
        history,
        forecast,
        backtest_mase: Some(0.74),
        backtest_smape: Some(6.3),
        backtest_origins: 24,
    });
    update(&mut s, Msg::Forecast { request, result }, T0);
    insta::assert_snapshot!(draw(&s, 80, 24));
}

/// The capacity pane open on a report of five rows over two hosts.
fn capacity_state() -> State {
    use crate::analysis::capacity::{CapacityReport, CapacityRow, HostHeadroom};
    use crate::analytics::capacity::{Crossing, Headroom, Limit, VmShape};
    use crate::analytics::forecast::ModelKind;
    let mut s = state();
    let eff = update(&mut s, Msg::Action(Action::Capacity), T0);
    let Some(crate::app::Effect::LoadCapacity { request, hosts }) = eff.first().cloned() else {
        panic!("{eff:?}")
    };
    assert_eq!(hosts.len(), 2);
    assert_eq!(
        hosts[0].vcpus_allocated, 7,
        "web-1, db-main and the paused batch all hold their vCPUs"
    );
    let crossing = |expected, earliest, latest| Crossing {
        threshold: 90.0,
        rising: true,
        already: false,
        expected,
        earliest,
        latest,
        horizon: 2016,
        model: ModelKind::Auto,
    };
    let row = |host: &str, resource: &str, now: f64, c: Option<Crossing>| CapacityRow {
        host: host.into(),
        resource: resource.into(),
        current_pct: Some(now),
        crossing: c,
        note: None,
    };
    let shape = VmShape {
        vcpus: 2,
        memory_bytes: 4 << 30,
    };
    let report = CapacityReport {
        rows: vec![
            row(
                "qemu:///system",
                "pool images",
                84.2,
                Some(crossing(Some(40), Some(12), Some(300))),
            ),
            row(
                "qemu:///system",
                "memory",
                71.0,
                Some(crossing(Some(900), Some(400), None)),
            ),
            row(
                "qemu+ssh://kvm2/system",
                "cpu",
                12.0,
                Some(crossing(None, None, None)),
            ),
            CapacityRow {
                current_pct: None,
                note: Some("first data 07:45 UTC".into()),
                ..row("qemu+ssh://kvm2/system", "pool new", 0.0, None)
            },
        ],
        headroom: vec![
            HostHeadroom {
                host: "qemu:///system".into(),
                headroom: Some(Headroom {
                    fits: 3,
                    limited_by: Limit::Memory,
                    shape,
                }),
                text: "room for 3 more 2 vCPU / 4 GiB VMs".into(),
            },
            HostHeadroom {
                host: "qemu+ssh://kvm2/system".into(),
                headroom: Some(Headroom {
                    fits: 11,
                    limited_by: Limit::Cpu,
                    shape,
                }),
                text: "room for 11 more 2 vCPU / 4 GiB VMs".into(),
            },
        ],
        threshold_pct: 90.0,
        step_ms: 300_000,
    };
    update(&mut s, Msg::Capacity { request, report }, T0);
    s
}

#[test]
fn capacity_sorted_by_time_to_exhaustion_with_headroom() {
    insta::assert_snapshot!(draw(&capacity_state(), 80, 24));
}

#[test]
fn capacity_rows_are_selected_and_kept_in_view() {
    let mut s = capacity_state();
    // j never goes past the last row; g and G go to the first and the last.
    let rows = s.reports.capacity.as_ref().unwrap().rows.len();
    for _ in 0..rows + 3 {
        update(&mut s, Msg::Action(Action::Down), T0);
    }
    assert_eq!(s.reports.scroll, rows - 1);
    // j selects; when every row fits, none scrolls out of view.
    let screen = draw(&s, 80, 24);
    assert!(
        screen.contains("pool images") && screen.contains("pool new"),
        "{screen}"
    );
    // With more rows than fit, the selected last row is kept in view and the first goes.
    let mut long = s.clone();
    if let Some(c) = long.reports.capacity.as_mut() {
        let filler = c.rows[1].clone();
        c.rows.splice(1..1, std::iter::repeat_n(filler, 30));
    }
    update(&mut long, Msg::Action(Action::Bottom), T0);
    let screen = draw(&long, 80, 24);
    assert!(
        screen.contains("pool new") && !screen.contains("pool images"),
        "{screen}"
    );
    update(&mut s, Msg::Action(Action::Top), T0);
    assert_eq!(s.reports.scroll, 0);
    update(&mut s, Msg::Action(Action::Bottom), T0);
    assert_eq!(s.reports.scroll, rows - 1);
}

#[test]
fn recommendations_idle_first_with_evidence_and_money() {
    use crate::analysis::rightsize::RightsizeRow;
    use crate::analytics::rightsize::{Percentiles, Recommendation, Savings};
    let mut s = state();
    let eff = update(&mut s, Msg::Action(Action::Rightsize), T0);
    let Some(crate::app::Effect::LoadRightsize { request, vms }) = eff.first().cloned() else {
        panic!("{eff:?}")
    };
    assert_eq!(vms.len(), 4);
    let p = |p95: f64| Percentiles {
        p50: p95 / 2.0,
        p95,
        p99: p95 * 1.1,
        max: p95 * 1.2,
    };
    let rec = |cur: u32, vcpus: u32, cur_mem: u64, mem: u64, cpu: f64, idle: bool, reason: &str| {
        Recommendation {
            cpu: p(cpu),
            memory: p(1.5e9),
            current_vcpus: cur,
            current_memory_bytes: cur_mem,
            vcpus,
            memory_bytes: mem,
            idle,
            reason: reason.into(),
        }
    };
    let rows = vec![
        RightsizeRow {
            name: "batch-nightly-reporting-worker-eu-west".into(),
            host: "local".into(),
            recommendation: Some(rec(
                1,
                1,
                512 << 20,
                512 << 20,
                0.4,
                true,
                "idle: CPU p95 0.4 % and network p95 12 B/s over 2016 samples",
            )),
            savings: Some(Savings {
                current_monthly: 18.0,
                recommended_monthly: 0.0,
                monthly_savings: 18.0,
                instance_type: None,
            }),
            samples: 2016,
            collecting: false,
            note: None,
        },
        RightsizeRow {
            name: "db-main".into(),
            host: "local".into(),
            recommendation: Some(rec(
                4,
                2,
                8 << 30,
                2 << 30,
                31.0,
                false,
                "CPU p95 31.0 % of 4 vCPU → 2 vCPU; memory p95 1.4 GiB → 2.0 GiB",
            )),
            savings: Some(Savings {
                current_monthly: 88.0,
                recommended_monthly: 33.0,
                monthly_savings: 55.0,
                instance_type: None,
            }),
            samples: 2016,
            collecting: false,
            note: None,
        },
        RightsizeRow {
            name: "web-2".into(),
            host: "kvm2".into(),
            recommendation: None,
            savings: None,
            samples: 0,
            collecting: false,
            note: Some("no CPU usage recorded in the window".into()),
        },
    ];
    update(
        &mut s,
        Msg::Rightsize {
            request,
            rows,
            currency: "€".into(),
        },
        T0,
    );
    insta::assert_snapshot!(draw(&s, 80, 24));
}
