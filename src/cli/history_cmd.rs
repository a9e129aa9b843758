//! `novacron metrics …` and `novacron history stats`: read the history store headless.

use std::fmt::Write as _;
use std::time::Duration;

use super::headless::{emit, find_vm};
use super::Failure;
use crate::app::ingest::vm_entity;
use crate::config::Config;
use crate::domain::Metric;
use crate::store::read_copy;
use crate::store::remote::{socket_path, RemoteStore};
use crate::store::{
    HistoryStore, Point, Query, QueryResult, SeriesKey, SledStore, StoreConfig, Tier,
};

/// The history database: read through the running console when one has it open (sled
/// allows one process), else opened here.
pub(super) fn open(cfg: &Config) -> Result<Box<dyn HistoryStore>, Failure> {
    let Some(path) = &cfg.history_path else {
        return Err(Failure::usage(
            "history is off (--no-history, or enabled = false under [history] in the config \
             file): there is no history database to read",
        ));
    };
    if !crate::store::sled_store::holds_history(path) {
        // Reading must not create one (sled would, in any directory).
        return Err(Failure::usage(if path.is_file() {
            format!(
                "{} is a file, not a history database (pass --history DIR)",
                path.display()
            )
        } else if path.join("db").is_file() && path.join("wal.log").is_file() {
            // sled's files without its conf: a database, damaged, not "none" (as the console
            // says it).
            crate::store::StoreError::Damaged {
                path: path.clone(),
                detail: "it has sled's db and wal.log but not its conf file".into(),
            }
            .to_string()
        } else if path.exists() {
            format!(
                "no history database at {}: the directory holds none (run the console to record one, or pass --history PATH)",
                path.display()
            )
        } else if let Some(file) = path.ancestors().skip(1).find(|a| a.is_file()) {
            format!(
                "no history database can be at {}: {} is a file, not a directory",
                path.display(),
                file.display()
            )
        } else {
            format!(
                "no history database at {} yet: run the console first (or pass --history PATH)",
                path.display()
            )
        }));
    }
    let sock = socket_path(path);
    if let Some(remote) = RemoteStore::connect(&sock) {
        tracing::info!(
            "reading the history through the console at {}",
            sock.display()
        );
        return Ok(Box::new(remote));
    }
    // Another report (a cron job, say) may hold the database for a moment: take turns.
    match SledStore::open_waiting(path, &store_config(cfg), LOCK_PATIENCE) {
        Ok(s) => Ok(Box::new(s)),
        // A read-only mount, a backup, another user's database: sled opens only what it
        // can write, so read a copy of it as it is now.
        Err(e) => {
            let Some(why) = read_copy::not_writable(&e).map(ToString::to_string) else {
                return Err(Failure::usage(e.to_string()));
            };
            // $TMPDIR as the shell means it: unset or empty is /tmp.
            let tmp = std::env::var_os("TMPDIR")
                .filter(|t| !t.is_empty())
                .map_or_else(|| std::path::PathBuf::from("/tmp"), Into::into);
            let dir = read_copy::copy_dir_under(&tmp);
            // ctrl-c, kill or a closed session while it is read: the copy goes too.
            super::out_file::remove_on_signal(&dir);
            let copy = read_copy::open_copy(path, store_config(cfg), &dir)
                .map_err(|e| Failure::usage(e.to_string()))?;
            eprintln!(
                "novacron: {} cannot be written here ({}); reading a copy of it as it is now",
                path.display(),
                why
            );
            Ok(Box::new(copy))
        }
    }
}

/// The store settings the config asks for (its retention), for the console and reports alike.
pub(super) fn store_config(cfg: &Config) -> StoreConfig {
    StoreConfig {
        retention: cfg.retention,
        ..StoreConfig::default()
    }
}

/// How long a command waits for a database another process holds without serving it.
pub(super) const LOCK_PATIENCE: Duration = Duration::from_secs(5);

/// A `--metric` argument: a VM series name or an alias.
pub(super) fn metric_arg(metric: &str) -> Result<Metric, Failure> {
    Metric::parse_vm(metric).ok_or_else(|| {
        let names: Vec<&str> = Metric::VM.iter().map(|m| m.name()).collect();
        Failure::usage(format!(
            "unknown metric {metric:?}; use cpu, mem, disk, net or one of: {}",
            names.join(", ")
        ))
    })
}

/// A timestamp as RFC 3339 UTC, for headless output.
pub(super) fn time(ts: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ts).map_or_else(
        || ts.to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// Output format of `metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// `novacron metrics NAME [--metric cpu] [--since 1h] [--json|--csv]`.
pub fn metrics(
    cfg: &Config,
    name: &str,
    metric: &str,
    since: &str,
    format: Format,
) -> Result<(), Failure> {
    let m = metric_arg(metric)?;
    let since = crate::config::validate::parse_duration(
        since,
        Duration::from_secs(1),
        Duration::from_secs(400 * 86_400),
    )
    .map_err(|e| Failure::usage(format!("--since: {e}")))?;
    let super::headless::FoundVm {
        uri,
        uuid,
        name: vm_name,
        ..
    } = find_vm(cfg, name)?;
    // The VM's own name, when it was given by UUID or ID.
    let name = vm_name.as_str();
    let store = open(cfg)?;
    let now = chrono::Utc::now().timestamp_millis();
    let from = now - i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
    let q = Query {
        key: SeriesKey::new(vm_entity(&uri, &uuid), m.name()),
        from_ms: from,
        to_ms: now + 1,
        max_points: Some(1000),
        // Buckets of a round size (1 h, not 43 min 12 s), still at most 1000 of them.
        step_ms: Some(round_step((now + 1 - from).saturating_add(999) / 1000)),
    };
    let mut r = store.query(&q).map_err(|e| Failure::usage(e.to_string()))?;
    let polled = unbucketed(store.as_ref(), &q, &r)?;
    let as_polled = polled.is_some();
    if let Some((tier, points)) = polled {
        r.tier = tier;
        r.points = points;
        // Each point stands alone: raw samples at their own times (no step), rollups at
        // their tier's.
        r.step_ms = match r.tier {
            Tier::Raw => 0,
            t => t.resolution_ms(1),
        };
    }

    let mut out = String::new();
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = r
                .points
                .iter()
                .map(|p| {
                    serde_json::json!({"ts_ms": p.ts_ms, "time": time(p.ts_ms), "value": p.avg,
                        "min": p.min, "max": p.max, "count": p.count})
                })
                .collect();
            let doc = serde_json::json!({"vm": name, "uri": uri, "metric": m.name(),
                "tier": format!("{:?}", r.tier).to_lowercase(), "step_ms": r.step_ms,
                "as_polled": as_polled, "points": rows});
            out =
                serde_json::to_string_pretty(&doc).map_err(|e| Failure::op(e.to_string()))? + "\n";
        }
        Format::Csv => {
            out.push_str("timestamp,value,min,max,count\n");
            for p in &r.points {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{}",
                    time(p.ts_ms),
                    p.avg,
                    p.min,
                    p.max,
                    p.count
                );
            }
        }
        Format::Table => table(&mut out, name, &uri, m, &r, as_polled),
    }
    emit(&out)?;
    Ok(())
}

/// The smallest round bucket width (5 s, 1 min, 15 min, 1 h, 6 h, 1 d, …) of at least `ms`.
fn round_step(ms: i64) -> i64 {
    const S: i64 = 1000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;
    const D: i64 = 24 * H;
    const LADDER: [i64; 17] = [
        S,
        5 * S,
        10 * S,
        15 * S,
        30 * S,
        M,
        2 * M,
        5 * M,
        10 * M,
        15 * M,
        30 * M,
        H,
        2 * H,
        3 * H,
        6 * H,
        12 * H,
        D,
    ];
    LADDER
        .into_iter()
        .find(|&s| s >= ms)
        .unwrap_or_else(|| (ms.saturating_add(D - 1) / D).saturating_mul(D))
}

/// The `metrics` table: a line saying what the rows are, then one row per point.
fn table(out: &mut String, name: &str, uri: &str, m: Metric, r: &QueryResult, as_polled: bool) {
    // Samples as polled, or averaged into buckets (a rollup tier, or raw samples
    // bucketed to keep the answer within its point budget).
    let every = match r.step_ms {
        s if s >= 3_600_000 => format!("{} h", s / 3_600_000),
        s if s >= 60_000 => format!("{} min", s / 60_000),
        s => format!("{} s", s / 1000),
    };
    let resolution = match r.tier {
        _ if !as_polled => {
            format!("averaged per {every}; each time is the start of its {every}")
        }
        Tier::Raw => "as polled".to_string(),
        Tier::Minute => "as polled, to the minute".to_string(),
        Tier::Hour => "as polled, to the hour".to_string(),
    };
    let _ = writeln!(
        out,
        "{name} {} on {uri}, {} ({resolution})",
        m.name(),
        crate::domain::format::plural(r.points.len(), "point"),
    );
    let v = |x: f64| crate::domain::format::metric(x, m.unit());
    for p in &r.points {
        let _ = write!(out, "{}  {:>9}", time(p.ts_ms), v(p.avg));
        // A single sample is its own min and max.
        let _ = if as_polled {
            writeln!(out)
        } else {
            writeln!(out, "  (min {} max {})", v(p.min), v(p.max))
        };
    }
    if r.points.is_empty() {
        let _ = writeln!(
            out,
            "nothing recorded in this range: the VM was not running, no console was \
             recording, or it has no device of this kind (disk, network)"
        );
    }
}

/// The points of `q` (answered by `r`) one row each, at its own time rather than its bucket's
/// start (which moved with `--since`), when they fit in the answer's budget: the raw samples
/// when they hold the whole range (it lies in the raw tier, or nothing older was recorded)
/// and number at most `q.max_points`, else a rollup tier's points at the start of their
/// minute or hour when no bucket holds more than one. `None`: the buckets stand.
fn unbucketed(
    store: &dyn HistoryStore,
    q: &Query,
    r: &QueryResult,
) -> Result<Option<(Tier, Vec<Point>)>, Failure> {
    let fail = |e: crate::store::StoreError| Failure::usage(e.to_string());
    let raw = store.raw_range(&q.key, q.from_ms, q.to_ms).map_err(fail)?;
    let fits = raw.len() <= q.max_points.unwrap_or(usize::MAX);
    // A rollup tier's points, each at the start of its minute or hour.
    let native = || {
        let q = Query {
            max_points: None,
            step_ms: Some(r.tier.resolution_ms(1)),
            ..q.clone()
        };
        store.query(&q).map(|a| a.points).map_err(fail)
    };
    // Raw samples from within the rollup's first minute or hour on hold all it does (a young
    // database, or one whose console ran only lately). The rollup's points, read for that,
    // are kept for the answer below.
    let mut rollup = None;
    let whole = match r.tier {
        Tier::Raw => true,
        _ if !fits || raw.is_empty() => false,
        t => {
            let points = native()?;
            let from_start = points
                .first()
                .is_none_or(|p| raw[0].ts_ms < p.ts_ms.saturating_add(t.resolution_ms(1)));
            rollup = Some(points);
            from_start
        }
    };
    if whole && fits {
        let points = raw
            .into_iter()
            .map(|s| Point {
                ts_ms: s.ts_ms,
                min: s.value,
                max: s.value,
                avg: s.value,
                count: 1,
            })
            .collect();
        return Ok(Some((Tier::Raw, points)));
    }
    // Else a rollup tier's own points, when no bucket of `r` holds more than one.
    if r.tier == Tier::Raw || r.points.iter().any(|p| p.count > 1) {
        return Ok(None);
    }
    let points = match rollup {
        Some(points) => points,
        None => native()?,
    };
    Ok(Some((r.tier, points)))
}

/// `novacron history stats [--json]`.
pub fn stats(cfg: &Config, json: bool) -> Result<(), Failure> {
    let store = open(cfg)?;
    let mut s = store.stats().map_err(|e| Failure::usage(e.to_string()))?;
    // The database asked about, not the private copy a read-only one is read from.
    if cfg.history_path.is_some() {
        s.path.clone_from(&cfg.history_path);
    }
    if json {
        emit(&(serde_json::to_string_pretty(&s).map_err(|e| Failure::op(e.to_string()))? + "\n"))?;
        return Ok(());
    }
    let path = s
        .path
        .as_ref()
        .map_or_else(String::new, |p| p.display().to_string());
    #[allow(clippy::cast_precision_loss)]
    let mib = s.bytes_on_disk as f64 / 1024.0 / 1024.0;
    emit(&format!(
        "history      {path}\nseries       {}\nsamples      {}\non disk      {} bytes ({mib:.1} MiB)\nper sample   {:.2} bytes\n",
        s.series, s.samples, s.bytes_on_disk, s.bytes_per_sample
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::round_step;

    #[test]
    fn buckets_are_round_and_never_smaller_than_asked() {
        let min = 60_000;
        // 30 days in 1000 rows: 43.2 min asked, 1 h given.
        assert_eq!(round_step((30 * 24 * 60 * min) / 1000), 60 * min);
        assert_eq!(round_step(1), 1000);
        assert_eq!(round_step(5_000), 5_000);
        assert_eq!(round_step(5_001), 10_000);
        assert_eq!(round_step(20 * min), 30 * min);
        // Past a day: whole days.
        assert_eq!(round_step(36 * 60 * min), 2 * 24 * 60 * min);
    }
}
