//! `novacron forecast`, `capacity` and `rightsize`: the analysis jobs over the history store,
//! headless.

use std::fmt::Write as _;
use std::time::Duration;

use super::headless::{emit, find_vm};
use super::history_cmd::{metric_arg, open, time};
use super::hosts::Reached;
use super::text_table::text_table;
use super::Failure;
use crate::app::ingest::vm_entity;
use crate::config::Config;

/// `novacron forecast NAME|HOST [--metric cpu] [--horizon 6h] [--json]`.
pub fn forecast(
    cfg: &Config,
    name: &str,
    metric: &str,
    horizon: &str,
    json: bool,
) -> Result<(), Failure> {
    let m = metric_arg(metric)?;
    let h = crate::config::validate::parse_duration(
        horizon,
        Duration::from_secs(300),
        Duration::from_secs(30 * 86_400),
    )
    .map_err(|e| Failure::usage(format!("--horizon: {e}")))?;
    // Whole five-minute rows, rounded up: 7.5m forecasts 10 minutes, not 5.
    let rows = usize::try_from(h.as_millis().div_ceil(300_000))
        .unwrap_or(1)
        .max(1);
    // A host by its label or URI, as F gives it in the host pane, when no VM has that name
    // (as the palette reads it).
    let found = match (find_vm(cfg, name), host_named(cfg, name)) {
        (Ok(found), _) => found,
        (Err(_), Some((uri, label))) => return forecast_host(cfg, (&uri, &label), m, rows, json),
        (Err(e), None) => return Err(e),
    };
    let super::headless::FoundVm {
        uri,
        uuid,
        name: vm_name,
        vm,
    } = found;
    // As the console says it: a VM with no disk has no disk history, not "none recorded".
    if let Some(why) = vm.as_ref().and_then(|v| v.no_forecast(m)) {
        return Err(Failure::op(why));
    }
    // "running", "shut off", "paused": the state alone, for scripts (the reason is in the note).
    let state_text = vm.as_ref().map(|v| v.state.label().to_string());
    // Not running: the forecast continues its history, not what it does while off.
    let not_running = vm
        .as_ref()
        .filter(|v| v.state != crate::domain::VmState::Running)
        .map(crate::domain::Vm::state_text);
    // The VM's own name, when it was given by UUID or ID.
    let name = vm_name.as_str();
    let store = open(cfg)?;
    let now = chrono::Utc::now().timestamp_millis();
    let r = crate::analysis::forecast_series(
        store.as_ref(),
        &vm_entity(&uri, &uuid),
        m.name(),
        now,
        rows,
        crate::domain::format::local_offset_s(),
    )
    .map_err(|e| match &not_running {
        Some(text) => Failure::op(format!("{name} ({text}): {e}")),
        None => Failure::op(format!("{name}: {e}")),
    })?
    // Memory in use stops at the VM's maximum, whatever a trend says.
    .capped_at(
        vm.as_ref()
            .filter(|_| m == crate::domain::Metric::MemUsedBytes)
            .map(|v| bytes_of_kib(v.max_mem_kib)),
    );

    print_forecast(
        &Subject {
            host: false,
            name,
            uri: &uri,
            state_text: state_text.as_deref(),
            not_running: not_running.as_deref(),
        },
        m,
        rows,
        &r,
        json,
    )
}

/// What a forecast is of: a VM (with its state), or a host.
struct Subject<'a> {
    host: bool,
    name: &'a str,
    uri: &'a str,
    state_text: Option<&'a str>,
    not_running: Option<&'a str>,
}

/// The host `name` names among those configured (its label or URI), for a host forecast.
fn host_named(cfg: &Config, name: &str) -> Option<(String, String)> {
    let labels = crate::app::state::host_labels(&cfg.uris);
    cfg.uris
        .iter()
        .zip(labels)
        .find(|(u, l)| l == name || u.as_str() == name)
        .map(|(u, l)| (u.clone(), l))
}

#[allow(clippy::cast_precision_loss)]
fn bytes_of_kib(kib: u64) -> f64 {
    kib as f64 * 1024.0
}

/// The host's memory as the console's poller reads it, if the host answers within a few
/// seconds (the forecast itself reads only history, so it does not wait long for it).
fn host_memory(uri: &str) -> Option<f64> {
    use crate::provider::libvirt::conn::Opening;
    let conn = Opening::start(uri, true)
        .ok()?
        .wait(std::time::Duration::from_secs(3))
        .ok()?
        .ok()?;
    let node = conn.node_info().ok()?;
    let (kib, _) = node_memory_kib(&conn, uri, &node);
    (kib > 0).then_some(bytes_of_kib(kib))
}

/// The host's memory as the console's poller reads it (the node's memory statistics, what
/// `mem_used_bytes` is recorded against), and whether it has them: a driver without the
/// statistics has `nodeinfo`'s figure, as in the console.
fn node_memory_kib(
    conn: &virt::connect::Connect,
    uri: &str,
    node: &virt::connect::NodeInfo,
) -> (u64, bool) {
    crate::provider::libvirt::poll::host(conn, node.cpus).map_or_else(
        |e| {
            tracing::debug!("{uri}: no node memory statistics ({e}); using node info");
            (node.memory, false)
        },
        |h| (h.mem_total_kib, true),
    )
}

/// `novacron forecast HOST`: a host's CPU or memory, as `F` gives it in the host pane.
fn forecast_host(
    cfg: &Config,
    (uri, label): (&str, &str),
    m: crate::domain::Metric,
    rows: usize,
    json: bool,
) -> Result<(), Failure> {
    use crate::domain::Metric;
    let m = match m {
        Metric::CpuPct => Metric::HostCpuPct,
        Metric::MemUsedBytes => Metric::HostMemUsedBytes,
        other => {
            return Err(Failure::usage(format!(
                "a host's forecast is of cpu or mem, not {}",
                other.name()
            )))
        }
    };
    let store = open(cfg)?;
    let r = crate::analysis::forecast_series(
        store.as_ref(),
        &crate::app::ingest::host_entity(uri),
        m.name(),
        chrono::Utc::now().timestamp_millis(),
        rows,
        crate::domain::format::local_offset_s(),
    )
    .map_err(|e| Failure::op(format!("host {label}: {e}")))?
    .capped_at(
        (m == Metric::HostMemUsedBytes)
            .then(|| host_memory(uri))
            .flatten(),
    );
    let subject = Subject {
        host: true,
        name: label,
        uri,
        state_text: None,
        not_running: None,
    };
    print_forecast(&subject, m, rows, &r, json)
}

/// The horizon as forecast, in whole five-minute rows: `--horizon 7m` forecasts "10 min",
/// 300 rows "1 d 1 h".
fn rows_span(rows: usize) -> String {
    let min = rows.saturating_mul(5);
    let (d, h, m) = (min / 1440, min / 60 % 24, min % 60);
    let parts = [(d, "d"), (h, "h"), (m, "min")];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    text.join(" ")
}

/// The forecast as text or, with `json`, as the `--json` document.
fn print_forecast(
    subject: &Subject,
    m: crate::domain::Metric,
    rows: usize,
    r: &crate::analysis::ForecastResult,
    json: bool,
) -> Result<(), Failure> {
    let (name, uri) = (subject.name, subject.uri);
    if json {
        let doc = forecast_json(subject, m, r);
        emit(
            &(serde_json::to_string_pretty(&doc).map_err(|e| Failure::op(e.to_string()))? + "\n"),
        )?;
        return Ok(());
    }
    let mut out = format!(
        "{name} {} ({}) on {uri}: {} forecast of {} of 5 min ({}) from {} of history{}; backtest {}\n",
        m.name(),
        m.unit().name(),
        r.forecast.model.name(),
        crate::domain::format::plural(rows, "row"),
        rows_span(rows),
        crate::domain::format::plural(r.rows_used, "row"),
        r.band_wait()
            .map_or_else(String::new, |w| format!(" ({w})")),
        r.backtest_summary()
            .unwrap_or_else(|| format!("n/a: {}", r.backtest_wait()))
    );
    if let Some(mix) = crate::analytics::forecast::mix::steps_text(&r.forecast.mix) {
        let _ = writeln!(out, "mix: {mix}");
    }
    if let Some(note) = history_note(name, subject.not_running, r) {
        let _ = writeln!(out, "note: {note}");
    }
    let largest = r.forecast.point.iter().copied().fold(0.0_f64, f64::max);
    let (div, in_unit) = table_scale(m.unit(), largest);
    let _ = writeln!(
        out,
        "{:<21} {:>12} {:>12} {:>12} {:>12} {:>12}  ({in_unit})",
        "time", "forecast", "lo95", "lo80", "hi80", "hi95"
    );
    // As in the console's forecast view (`--json` keeps them).
    let bands = r.bands_meaningful();
    for i in 0..r.forecast.point.len() {
        let ts = r.start_ms + i64::try_from(i).unwrap_or(0) * crate::analysis::STEP_MS;
        let f = &r.forecast;
        let band = |v: f64| {
            if bands {
                format!("{:.3}", v / div)
            } else {
                "-".into()
            }
        };
        let _ = writeln!(
            out,
            "{:<21} {:>12.3} {:>12} {:>12} {:>12} {:>12}",
            time(ts),
            f.point[i] / div,
            band(f.lo95[i]),
            band(f.lo80[i]),
            band(f.hi80[i]),
            band(f.hi95[i])
        );
    }
    emit(&out)?;
    Ok(())
}

/// What the text table writes values in: bytes and rates scaled to the forecast's largest
/// value (30408704 bytes reads 29.000 MiB); `--json` keeps the raw numbers.
fn table_scale(unit: crate::domain::Unit, largest: f64) -> (f64, String) {
    use crate::domain::Unit;
    let per_s = match unit {
        Unit::Bytes => "",
        Unit::BytesPerSec => "/s",
        other => return (1.0, other.name().to_string()),
    };
    let (div, name) = [
        (1_073_741_824.0, "GiB"),
        (1_048_576.0, "MiB"),
        (1024.0, "KiB"),
    ]
    .into_iter()
    .find(|(d, _)| largest >= *d)
    .unwrap_or((1.0, "bytes"));
    (div, format!("{name}{per_s}"))
}

/// Why the forecast does not start from a row just recorded: the VM is not running, or
/// nothing recorded it for a while.
fn history_note(
    name: &str,
    not_running: Option<&str>,
    r: &crate::analysis::ForecastResult,
) -> Option<String> {
    let last = r.last_row_ms().map_or_else(|| "-".into(), time);
    if let Some(text) = not_running {
        return Some(format!(
            "{name} is {text}; its last row is from {last}: the forecast continues that history"
        ));
    }
    r.stale().then(|| {
        format!(
            "no rows since {last}: no console recorded {name} since then (none ran, or its \
             host was down); the forecast starts from that row, its bands wider for the gap"
        )
    })
}

/// The `forecast --json` document: `vm` and `vm_state` for a VM, `host` for a host.
fn forecast_json(
    subject: &Subject,
    m: crate::domain::Metric,
    r: &crate::analysis::ForecastResult,
) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = (0..r.forecast.point.len())
        .map(|i| {
            let ts = r.start_ms + i64::try_from(i).unwrap_or(0) * crate::analysis::STEP_MS;
            serde_json::json!({"ts_ms": ts, "time": time(ts), "forecast": r.forecast.point[i],
                "lo80": r.forecast.lo80[i], "hi80": r.forecast.hi80[i],
                "lo95": r.forecast.lo95[i], "hi95": r.forecast.hi95[i]})
        })
        .collect();
    let mut doc = serde_json::json!({"uri": subject.uri, "metric": m.name(), "unit": m.unit().name(), "model": r.forecast.model.name(), "mix": r.forecast.mix,
        "backtest_mase": r.backtest_mase, "backtest_smape": r.backtest_smape, "backtest_origins": r.backtest_origins,
        "history_rows": r.rows_used, "step_ms": crate::analysis::STEP_MS,
        "last_row_ms": r.last_row_ms(), "gap_rows": r.gap_rows,
        // Under an hour of history the bands describe those few rows, not the series.
        "intervals_meaningful": r.bands_meaningful(), "forecast": steps});
    // A VM with its state; a host, which has none, named as a host.
    if let Some(o) = doc.as_object_mut() {
        if subject.host {
            o.insert("host".into(), subject.name.into());
        } else {
            o.insert("vm".into(), subject.name.into());
            o.insert("vm_state".into(), subject.state_text.into());
        }
    }
    doc
}

/// `novacron capacity [--json]`: the capacity report of every connection, from its history.
pub fn capacity(cfg: &Config, json: bool) -> Result<(), Failure> {
    use crate::analysis::capacity::{HostInput, PoolInput};
    use crate::provider::libvirt::{inventory, poll};
    let mut hosts = Vec::new();
    let mut reached = Reached::open(cfg, true)?;
    let conns = std::mem::take(&mut reached.conns);
    for (uri, conn) in &conns {
        let node = match conn.node_info() {
            Ok(n) => n,
            Err(e) => {
                reached.fail(uri, crate::provider::libvirt::message(&e));
                continue;
            }
        };
        let vms = match inventory::read_inventory(conn, 0, false) {
            Ok(v) => v,
            Err(e) => {
                reached.fail(uri, e);
                continue;
            }
        };
        let running = vms.iter().filter(|v| v.state.is_active());
        let (vcpus, mem_kib) = running.fold((0u32, 0u64), |(c, m), v| (c + v.vcpus, m + v.mem_kib));
        let (mem_total_kib, usage_stats) = node_memory_kib(conn, uri, &node);
        hosts.push(HostInput {
            uri: uri.clone(),
            cpus: node.cpus,
            memory_bytes: mem_total_kib * 1024,
            vcpus_allocated: vcpus,
            memory_allocated_bytes: mem_kib * 1024,
            pools: poll::pools(conn)
                .unwrap_or_default()
                .into_iter()
                .map(|p| PoolInput {
                    name: p.name,
                    capacity: p.capacity,
                    allocation: p.allocation,
                })
                .collect(),
            usage_stats,
        });
    }
    let store = open(cfg)?;
    let now = chrono::Utc::now().timestamp_millis();
    let r = crate::analysis::capacity::capacity(
        store.as_ref(),
        &hosts,
        &cfg.analysis.capacity,
        now,
        crate::domain::format::local_offset_s(),
    );
    if json {
        emit(&(serde_json::to_string_pretty(&r).map_err(|e| Failure::op(e.to_string()))? + "\n"))?;
        return reached.finish("reported");
    }
    let when = crate::ui::panes::capacity::when;
    let mut out = format!(
        "time until usage crosses {:.0} %, soonest first:\n",
        r.threshold_pct
    );
    let _ = writeln!(
        out,
        "{:<24} {:<22} {:>7} {:>12}  {:<24} MODEL",
        "HOST", "RESOURCE", "NOW", "CROSSES IN", "95 % BAND"
    );
    for row in &r.rows {
        let now = row
            .current_pct
            .map_or_else(|| "-".into(), |p| format!("{p:.1}%"));
        let (expected, band) = match &row.crossing {
            Some(c) if c.already => ("now".to_string(), String::new()),
            Some(c) => (
                when(c.expected, c.horizon),
                crate::ui::panes::capacity::band(c.earliest, c.latest, c.horizon),
            ),
            // Why there is no crossing goes where the band would be, as in the console.
            None => ("-".to_string(), row.note.clone().unwrap_or_default()),
        };
        let model = crate::ui::panes::capacity::model_of(row);
        let _ = writeln!(
            out,
            "{:<24} {:<22} {:>7} {:>12}  {:<24} {model}",
            row.host, row.resource, now, expected, band
        );
        // Why the trend starts where it does, under its row.
        if let (Some(basis), Some(c)) = (&row.basis, &row.crossing) {
            if !c.already {
                let _ = writeln!(out, "{:<24} {basis}", "");
            }
        }
    }
    for h in &r.headroom {
        let _ = writeln!(out, "{}: {}", h.host, h.text);
    }
    emit(&out)?;
    reached.finish("reported")
}

/// `novacron rightsize [--json]`: oversized and idle VMs over the configured window.
pub fn rightsize(cfg: &Config, json: bool) -> Result<(), Failure> {
    use crate::analysis::rightsize::VmInput;
    use crate::provider::libvirt::inventory;
    let mut vms = Vec::new();
    let mut reached = Reached::open(cfg, true)?;
    let conns = std::mem::take(&mut reached.conns);
    for (uri, conn) in &conns {
        let inventory = match inventory::read_inventory(conn, 0, false) {
            Ok(v) => v,
            Err(e) => {
                reached.fail(uri, e);
                continue;
            }
        };
        for v in inventory {
            vms.push(VmInput {
                entity: vm_entity(uri, &v.id.uuid),
                name: v.name,
                host: uri.clone(),
                vcpus: v.vcpus,
                memory_bytes: v.max_mem_kib * 1024,
            });
        }
    }
    let store = open(cfg)?;
    let now = chrono::Utc::now().timestamp_millis();
    let a = &cfg.analysis;
    let window = i64::try_from(a.rightsize_window.as_millis()).unwrap_or(i64::MAX);
    let rows = crate::analysis::rightsize::rightsize(
        store.as_ref(),
        &vms,
        &a.rightsize,
        a.prices.as_ref(),
        window,
        now,
        crate::domain::format::local_offset_s(),
    );
    if json {
        emit(
            &(serde_json::to_string_pretty(&rows).map_err(|e| Failure::op(e.to_string()))? + "\n"),
        )?;
        return reached.finish("reported");
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let (verdict, text) = match &r.recommendation {
                Some(rec) => {
                    let money = r.savings.as_ref().map_or_else(String::new, |s| {
                        let as_type = s
                            .instance_type
                            .as_ref()
                            .map_or_else(String::new, |t| format!(" as {t}"));
                        format!(
                            " · {c}{:.2}/month → {c}{:.2}{as_type}",
                            s.current_monthly,
                            s.recommended_monthly,
                            c = a.currency
                        )
                    });
                    (rec.verdict().word(), format!("{}{money}", rec.reason))
                }
                // The verdict column already says "collecting".
                None if r.collecting => {
                    let note = r.note.as_deref().unwrap_or_default();
                    let note = note.strip_prefix("collecting: ").unwrap_or(note);
                    ("collecting", note.to_string())
                }
                None => ("no data", r.note.clone().unwrap_or_default()),
            };
            vec![r.name.clone(), r.host.clone(), verdict.to_string(), text]
        })
        .collect();
    let out = text_table(&["NAME", "HOST", "VERDICT", "EVIDENCE"], &table, &[]);
    emit(&out)?;
    reached.finish("reported")
}

#[cfg(test)]
mod tests {
    use super::{rows_span, table_scale};
    use crate::domain::Unit;

    #[test]
    fn the_horizon_reads_as_the_rows_forecast() {
        assert_eq!(rows_span(2), "10 min");
        assert_eq!(rows_span(12), "1 h");
        assert_eq!(rows_span(72), "6 h");
        assert_eq!(rows_span(301), "1 d 1 h 5 min");
    }

    #[test]
    fn the_text_table_writes_bytes_and_rates_in_a_readable_unit() {
        assert_eq!(
            table_scale(Unit::Bytes, 30_408_704.0),
            (1_048_576.0, "MiB".into())
        );
        assert_eq!(
            table_scale(Unit::Bytes, 3e9),
            (1_073_741_824.0, "GiB".into())
        );
        assert_eq!(
            table_scale(Unit::BytesPerSec, 2048.0),
            (1024.0, "KiB/s".into())
        );
        assert_eq!(
            table_scale(Unit::BytesPerSec, 12.0),
            (1.0, "bytes/s".into())
        );
        assert_eq!(table_scale(Unit::Percent, 97.0), (1.0, "%".into()));
    }
}
