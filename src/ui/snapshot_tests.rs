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
    update(&mut s, Msg::Action(Action::Bottom), T0);
    let eff = update(&mut s, Msg::Action(Action::Reboot), T0 + 7_000);
    let crate::app::Effect::Provider {
        cmd: crate::provider::ProviderCmd::Op { id, .. },
        ..
    } = &eff[0]
    else {
        panic!("{eff:?}");
    };
    let err = Err("Requested operation is not valid: domain is not running".to_string());
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
    update(&mut s, Msg::History { request, series }, T0);
    insta::assert_snapshot!(draw(&s, 80, 24));
    insta::assert_snapshot!("detail_wide", draw(&s, 120, 40));
}

#[test]
fn host_pane_with_capacity_and_charts() {
    let mut s = state();
    let c = |busy, total| crate::domain::HostCounters {
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
}

#[test]
fn too_small_terminal_says_so() {
    insta::assert_snapshot!(draw(&state(), 60, 20));
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
    };
    let result = Ok(ForecastResult {
        entity: "vm/qemu+ssh://kvm2/system/1-web-2".into(),
        metric: "cpu_pct".into(),
        start_ms: T0,
        history,
        forecast,
        backtest_mase: Some(0.74),
        backtest_origins: 24,
    });
    update(&mut s, Msg::Forecast { request, result }, T0);
    insta::assert_snapshot!(draw(&s, 80, 24));
}
