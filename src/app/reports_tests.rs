//! The analysis panes' own rows: F and enter on the capacity and recommendation panes act
//! on the row under the cursor, not on the table's selection they hide.

use super::fixtures::{state, T0};
use super::forecast_view_tests::forecast_request;
use super::state::Screen;
use super::update_tests::{act, select};
use super::{update, Action, Effect, Msg};
use crate::analysis::capacity::{CapacityReport, CapacityRow};
use crate::analysis::rightsize::RightsizeRow;

#[test]
fn f_and_enter_on_an_analysis_pane_act_on_its_row_not_the_hidden_selection() {
    let mut s = state();
    select(&mut s, "web-1");
    // The host pane hides the table: enter there does not open its selection's detail.
    act(&mut s, Action::Hosts);
    act(&mut s, Action::OpenDetail);
    assert_eq!(s.view.screen, Screen::Host);
    act(&mut s, Action::Back);
    act(&mut s, Action::Rightsize);
    let label = s.host_label(0).to_string();
    let row = |name: &str| RightsizeRow {
        name: name.into(),
        host: label.clone(),
        recommendation: None,
        savings: None,
        samples: 0,
        collecting: false,
        note: None,
    };
    let request = s.reports.rightsize_request;
    let rows = vec![row("web-1"), row("db-main")];
    update(
        &mut s,
        Msg::Rightsize {
            request,
            rows,
            currency: String::new(),
        },
        T0,
    );
    act(&mut s, Action::Down);
    let (_, metric, _, entity) = forecast_request(&act(&mut s, Action::Forecast));
    assert_eq!(
        (metric, entity.as_str()),
        ("cpu_pct", "vm/qemu:///system/0-db-main")
    );
    act(&mut s, Action::Back);
    assert_eq!(s.view.screen, Screen::Rightsize);
    act(&mut s, Action::OpenDetail);
    assert_eq!(s.view.screen, Screen::Detail);
    assert_eq!(s.selected().map(|e| e.vm.name.as_str()), Some("db-main"));
    // The next poll rebuilds the rows: the pane and the keys stay on db-main.
    super::rows::rebuild(&mut s);
    assert_eq!(s.selected().map(|e| e.vm.name.as_str()), Some("db-main"));
}

#[test]
fn f_on_a_capacity_row_forecasts_its_host_resource() {
    let mut s = state();
    select(&mut s, "web-1");
    // Capacity: the memory row forecasts the host's memory; a pool says why not.
    let eff = act(&mut s, Action::Capacity);
    let Some(Effect::LoadCapacity { request, .. }) = eff.first().cloned() else {
        panic!("{eff:?}");
    };
    let row = |resource: &str| CapacityRow::bare("qemu:///system", resource, Some(10.0));
    let report = CapacityReport {
        rows: vec![row("cpu"), row("memory"), row("pool a")],
        headroom: Vec::new(),
        threshold_pct: 90.0,
        step_ms: crate::analysis::STEP_MS,
    };
    update(&mut s, Msg::Capacity { request, report }, T0);
    act(&mut s, Action::Down);
    let (_, metric, _, entity) = forecast_request(&act(&mut s, Action::OpenDetail));
    assert_eq!(
        (metric, entity.as_str()),
        ("mem_used_bytes", "host/qemu:///system")
    );
    assert_eq!(
        s.forecast.capacity_note, None,
        "no crossing, nothing to tell apart"
    );
    act(&mut s, Action::Back);
    // A crossing by the two-week trend: the view says why its own line may differ.
    if let Some(c) = s.reports.capacity.as_mut() {
        c.rows[1].crossing = Some(crate::analytics::capacity::Crossing {
            threshold: 90.0,
            rising: true,
            already: false,
            expected: Some(1170),
            earliest: Some(900),
            latest: None,
            horizon: 2016,
            model: crate::analytics::forecast::ModelKind::TrendDaily,
        });
    }
    forecast_request(&act(&mut s, Action::OpenDetail));
    let note = s.forecast.capacity_note.clone().unwrap_or_default();
    assert!(
        note.starts_with("capacity's 90% crossing follows trend_daily"),
        "{note}"
    );
    act(&mut s, Action::CycleMetric);
    assert_eq!(s.forecast.capacity_note, None, "it was about memory");
    act(&mut s, Action::Back);
    act(&mut s, Action::Down);
    assert!(act(&mut s, Action::Forecast).is_empty());
    assert_eq!(s.view.screen, Screen::Capacity);
    assert!(
        s.flash.as_ref().is_some_and(|f| f.text.contains("pool")),
        "{:?}",
        s.flash
    );
}
