//! Capacity job: when a host's CPU or memory, or a storage pool, crosses its threshold (the
//! forecast crossing with its 95 % band), and how many more VMs of a shape fit.

use serde::Serialize;

use super::{read_lookback, trim_leading_gaps, STEP_MS};
use crate::analytics::capacity::{
    headroom, time_to_threshold, Crossing, Headroom, HostResources, VmShape,
};
use crate::analytics::forecast::{ForecastConfig, ModelKind};
use crate::store::HistoryStore;

/// Capacity settings (validated from the config file's `[capacity]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacitySettings {
    /// Usage share that counts as exhausted, percent.
    pub threshold_pct: f64,
    /// How far ahead to look, in 5-minute rows.
    pub horizon_rows: usize,
    pub shape: VmShape,
    pub cpu_overcommit: f64,
    pub host_reserved_bytes: u64,
}

impl Default for CapacitySettings {
    fn default() -> Self {
        Self {
            threshold_pct: 90.0,
            horizon_rows: 2016,
            shape: VmShape {
                vcpus: 2,
                memory_bytes: 4 << 30,
            },
            cpu_overcommit: 4.0,
            host_reserved_bytes: 1 << 30,
        }
    }
}

/// A pool as the poller last read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolInput {
    pub name: String,
    pub capacity: u64,
    pub allocation: u64,
}

/// What the job needs to know about one host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostInput {
    pub uri: String,
    pub cpus: u32,
    pub memory_bytes: u64,
    pub vcpus_allocated: u32,
    pub memory_allocated_bytes: u64,
    pub pools: Vec<PoolInput>,
    /// False when the driver gives the host's size but no CPU or memory statistics (the
    /// test driver): its cpu and memory rows will never have history.
    pub usage_stats: bool,
}

/// One resource of one host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityRow {
    pub host: String,
    pub resource: String,
    /// Latest usage, percent.
    pub current_pct: Option<f64>,
    pub crossing: Option<Crossing>,
    /// Why there is no crossing (no history yet).
    pub note: Option<String>,
}

impl CapacityRow {
    /// Rows already past the threshold first, then the soonest expected crossing, then the
    /// soonest pessimistic one; resources that do not cross within the horizon last.
    fn sort_key(&self) -> (u8, usize, usize) {
        match &self.crossing {
            Some(c) if c.already => (0, 0, 0),
            Some(c) => (
                1,
                c.expected.unwrap_or(usize::MAX),
                c.earliest.unwrap_or(usize::MAX),
            ),
            None => (2, usize::MAX, usize::MAX),
        }
    }
}

/// Headroom of one host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostHeadroom {
    pub host: String,
    /// `None` until the host's CPU count and memory are known (`text` says so).
    pub headroom: Option<Headroom>,
    pub text: String,
}

/// The capacity report: rows sorted by time to exhaustion, and headroom per host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityReport {
    pub rows: Vec<CapacityRow>,
    pub headroom: Vec<HostHeadroom>,
    pub threshold_pct: f64,
    pub step_ms: i64,
}

/// A usage series in percent: `metric` of `entity`, divided by `total` when given, and
/// whether the row in progress already holds samples (see [`super::Lookback`]).
fn pct_series(
    store: &dyn HistoryStore,
    entity: &str,
    metric: &str,
    total: Option<f64>,
    now_ms: i64,
) -> Result<(Vec<f64>, bool), String> {
    let read = read_lookback(store, entity, metric, now_ms).map_err(|e| format!("history: {e}"))?;
    let rows = trim_leading_gaps(&read.rows);
    let pct = match total {
        Some(t) if t > 0.0 => rows.iter().map(|v| v / t * 100.0).collect(),
        // Bytes against an unknown size would read as a percentage in the billions.
        Some(_) if rows.iter().any(|v| v.is_finite()) => return Err("memory size unknown".into()),
        Some(_) | None => rows.to_vec(),
    };
    Ok((pct, read.in_progress))
}

/// The empty rows since the last with data, when there are more than
/// [`super::STALE_ROWS`] of them (and some row has data).
fn stale_gap(series: &[f64]) -> Option<usize> {
    let (recorded, gap) = super::split_trailing_gap(series);
    (!recorded.is_empty() && gap > super::STALE_ROWS).then_some(gap)
}

/// The read worked and holds no value, not even in the row in progress.
fn recorded_nothing(read: &Result<(Vec<f64>, bool), String>) -> bool {
    matches!(read, Ok((v, false)) if !v.iter().any(|x| x.is_finite()))
}

fn row(
    host: &str,
    resource: String,
    read: Result<(Vec<f64>, bool), String>,
    s: &CapacitySettings,
    end: i64,
    tz_offset_s: i32,
) -> CapacityRow {
    let stale = read.as_ref().ok().and_then(|(series, _)| stale_gap(series));
    let (current_pct, crossing, note) = match (read, stale) {
        (Err(e), _) => (None, None, Some(e)),
        // A last row hours old is not "now", and a crossing from it not current: a host
        // whose poller is down, or history no console has recorded since.
        (Ok(_), Some(gap)) => (
            None,
            None,
            Some(super::no_rows_since(end, gap, tz_offset_s)),
        ),
        (Ok((series, in_progress)), None) => {
            let current_pct = series.iter().rev().find(|v| v.is_finite()).copied();
            let rows = series.iter().filter(|v| v.is_finite()).count();
            let (model, cfg) = capacity_model(&series);
            match time_to_threshold(&series, s.threshold_pct, true, s.horizon_rows, model, &cfg) {
                // A week ahead from under an hour of rows is noise: only a crossing that has
                // already happened is said.
                Ok(c) if !c.already && rows < super::MIN_BAND_ROWS => (
                    current_pct,
                    None,
                    Some(format!("collecting: {rows}/{} rows", super::MIN_BAND_ROWS)),
                ),
                Ok(c) => (current_pct, Some(c), None),
                Err(e) => (
                    current_pct,
                    None,
                    Some(match (current_pct, in_progress) {
                        (None, true) => format!("first data {}", super::due_at(end, tz_offset_s)),
                        (None, false) => "nothing recorded".into(),
                        _ => e.to_string(),
                    }),
                ),
            }
        }
    };
    CapacityRow {
        host: host.to_string(),
        resource,
        current_pct,
        crossing,
        note,
    }
}

/// Rows of history before time to exhaustion follows the trend: two days, the least from
/// which a trend and a daily cycle can be told apart (a line through one day of a ±20 %
/// cycle tilts by 0.13 % a row and would fill a flat host in a day).
pub const TREND_MIN_ROWS: usize = 576;

/// The model behind a crossing. Exhaustion is days ahead, beyond what the automatic choice
/// is backtested on (hours) and where its damped and flat members would hide steady growth:
/// with two days of history or more, the least-squares trend over all of it (up to the
/// two-week lookback) plus the daily profile around it, fitted together, so a busy hour's
/// peak crosses first, with a Student-t band that widens with the distance; before that,
/// the automatic choice.
fn capacity_model(series: &[f64]) -> (ModelKind, ForecastConfig) {
    let cfg = ForecastConfig::default();
    if series.iter().filter(|v| v.is_finite()).count() < TREND_MIN_ROWS {
        return (ModelKind::Auto, cfg);
    }
    (
        ModelKind::TrendDaily,
        ForecastConfig {
            trend_window: series.len(),
            ..cfg
        },
    )
}

/// Builds the report for `hosts` from the history in `store` up to `now_ms`; notes write
/// times `tz_offset_s` east of UTC.
pub fn capacity(
    store: &dyn HistoryStore,
    hosts: &[HostInput],
    s: &CapacitySettings,
    now_ms: i64,
    tz_offset_s: i32,
) -> CapacityReport {
    let end = now_ms - now_ms.rem_euclid(STEP_MS);
    let mut rows = Vec::new();
    let mut room = Vec::new();
    for h in hosts {
        let entity = format!("host/{}", h.uri);
        #[allow(clippy::cast_precision_loss)]
        let mem_total = h.memory_bytes as f64;
        let cpu = pct_series(store, &entity, "cpu_pct", None, now_ms);
        let mem = pct_series(store, &entity, "mem_used_bytes", Some(mem_total), now_ms);
        // What is past the threshold now: headroom counts what VMs are allocated, which
        // says nothing of a host already busy.
        let mut past = Vec::new();
        for (resource, read) in [("cpu", cpu), ("memory", mem)] {
            let never = !h.usage_stats && recorded_nothing(&read);
            let mut r = row(&h.uri, resource.into(), read, s, end, tz_offset_s);
            if never {
                r.note = Some("no usage figures from this driver".into());
            }
            if let Some(p) = r.current_pct.filter(|p| *p >= s.threshold_pct) {
                past.push(format!("{resource} {p:.1}%"));
            }
            rows.push(r);
        }
        for p in &h.pools {
            let entity = format!("pool/{}/{}", h.uri, p.name);
            let read = pct_series(store, &entity, "used_pct", None, now_ms);
            let empty = recorded_nothing(&read);
            let mut r = row(
                &h.uri,
                format!("pool {}", p.name),
                read,
                s,
                end,
                tz_offset_s,
            );
            // The pool's fill as just read, when no history holds it yet (headless, or
            // the console's first row): the operator still sees how full it is.
            if r.current_pct.is_none() && p.capacity > 0 {
                #[allow(clippy::cast_precision_loss)]
                let live = p.allocation as f64 / p.capacity as f64 * 100.0;
                r.current_pct = Some(live);
                if empty {
                    r.note = Some("no history to forecast from".into());
                }
            }
            rows.push(r);
        }
        let hr = headroom(
            &HostResources {
                cpus: h.cpus,
                cpu_overcommit: s.cpu_overcommit,
                vcpus_allocated: h.vcpus_allocated,
                memory_bytes: h.memory_bytes,
                memory_reserved_bytes: s.host_reserved_bytes,
                memory_allocated_bytes: h.memory_allocated_bytes,
            },
            s.shape,
        );
        // A host whose node info was not read yet would look full.
        let known = h.cpus > 0 && h.memory_bytes > 0;
        room.push(HostHeadroom {
            host: h.uri.clone(),
            text: match (known, past.is_empty()) {
                (true, true) => hr.describe(),
                (true, false) => format!(
                    "{}, but {} already past {:.0}%",
                    hr.describe(),
                    past.join(" and "),
                    s.threshold_pct
                ),
                (false, _) => {
                    "headroom unknown: no CPU count and memory from this host yet".to_string()
                }
            },
            headroom: known.then_some(hr),
        });
    }
    rows.sort_by_key(CapacityRow::sort_key);
    CapacityReport {
        rows,
        headroom: room,
        threshold_pct: s.threshold_pct,
        step_ms: STEP_MS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, Sample, SeriesKey, StoreConfig};

    const NOW: i64 = 1_795_435_200_000; // 2026-11-23 12:00:00 UTC

    fn sample(entity: &str, metric: &str, ts_ms: i64, value: f64) -> (SeriesKey, Sample) {
        (SeriesKey::new(entity, metric), Sample { ts_ms, value })
    }

    /// One sample per 5-minute row, the last `rows` rows before `NOW`, of `value(row)`.
    fn rows_before_now(
        entity: &str,
        metric: &str,
        rows: i64,
        value: impl Fn(f64) -> f64,
    ) -> Vec<(SeriesKey, Sample)> {
        (0..rows)
            .map(|i| {
                #[allow(clippy::cast_precision_loss)]
                let v = value(i as f64);
                sample(entity, metric, NOW - (rows - i) * STEP_MS + 1_000, v)
            })
            .collect()
    }

    fn store_of(batch: &[(SeriesKey, Sample)]) -> MemoryStore {
        let mut store = MemoryStore::new(StoreConfig::default());
        store.append(batch).unwrap();
        store.flush().unwrap();
        store
    }

    /// Host "h": 8 CPUs, 32 GiB.
    fn host(vcpus_allocated: u32, memory_allocated_bytes: u64, pools: Vec<PoolInput>) -> HostInput {
        HostInput {
            uri: "h".into(),
            cpus: 8,
            memory_bytes: 32 << 30,
            vcpus_allocated,
            memory_allocated_bytes,
            pools,
            usage_stats: true,
        }
    }

    #[test]
    fn a_filling_pool_sorts_before_a_flat_cpu_and_headroom_counts_vms() {
        let mut batch = rows_before_now("pool/h/data", "used_pct", 600, |i| 50.0 + 0.05 * i);
        batch.extend(rows_before_now("host/h", "cpu_pct", 600, |_| 20.0));
        batch.extend(rows_before_now("host/h", "mem_used_bytes", 600, |_| 8e9));
        let pools = vec![PoolInput {
            name: "data".into(),
            capacity: 100,
            allocation: 80,
        }];
        let hosts = [host(10, 12 << 30, pools)];
        let r = capacity(
            &store_of(&batch),
            &hosts,
            &CapacitySettings::default(),
            NOW,
            0,
        );
        assert_eq!(r.rows[0].resource, "pool data", "{:?}", r.rows);
        let c = r.rows[0].crossing.as_ref().unwrap();
        // 80 % now, rising 0.05 % per row: 90 % about 200 rows (~17 h) ahead.
        let at = c.expected.unwrap();
        assert!((150..=260).contains(&at), "crossing in {at} rows");
        assert!(c.earliest.unwrap() <= at);
        let cpu = r.rows.iter().find(|x| x.resource == "cpu").unwrap();
        assert_eq!(
            cpu.crossing.as_ref().unwrap().expected,
            None,
            "flat 20 % never reaches 90 %"
        );
        // 8 CPUs × 4 = 32 vCPUs, 10 used → 11 more 2-vCPU VMs; memory 32−1−12 = 19 GiB → 4 of 4 GiB.
        assert_eq!(r.headroom[0].headroom.as_ref().unwrap().fits, 4);
        assert_eq!(
            r.headroom[0].text,
            "room for 4 more 2 vCPU / 4 GiB VMs by allocation (memory runs out first)"
        );
    }

    #[test]
    fn headroom_by_allocation_says_when_usage_is_already_past_the_threshold() {
        let mut batch = rows_before_now("host/h", "cpu_pct", 600, |_| 95.0);
        batch.extend(rows_before_now("host/h", "mem_used_bytes", 600, |_| 8e9));
        let r = capacity(
            &store_of(&batch),
            &[host(10, 12 << 30, Vec::new())],
            &CapacitySettings::default(),
            NOW,
            0,
        );
        assert_eq!(
            r.headroom[0].text,
            "room for 4 more 2 vCPU / 4 GiB VMs by allocation (memory runs out first), \
             but cpu 95.0% already past 90%"
        );
    }

    #[test]
    fn memory_of_a_host_of_unknown_size_is_not_read_as_a_percentage() {
        let batch = rows_before_now("host/h", "mem_used_bytes", 600, |_| 8e9);
        let mut h = host(0, 0, Vec::new());
        h.memory_bytes = 0;
        let r = capacity(
            &store_of(&batch),
            &[h],
            &CapacitySettings::default(),
            NOW,
            0,
        );
        let mem = r.rows.iter().find(|x| x.resource == "memory").unwrap();
        assert_eq!((mem.current_pct, &mem.crossing), (None, &None));
        assert_eq!(mem.note.as_deref(), Some("memory size unknown"));
        // No headroom figure either: "fits 0" would say the host is full.
        assert_eq!(r.headroom[0].headroom, None);
        assert!(
            r.headroom[0].text.contains("unknown"),
            "{}",
            r.headroom[0].text
        );
    }

    #[test]
    fn under_an_hour_of_rows_says_collecting_unless_already_past() {
        // Two rows rising fast: a week's projection from them would be noise.
        let mut batch = rows_before_now("host/h", "cpu_pct", 2, |i| 70.0 + 3.0 * i);
        batch.extend(rows_before_now("host/h", "mem_used_bytes", 2, |_| 31e9));
        let hosts = [host(0, 0, Vec::new())];
        let r = capacity(
            &store_of(&batch),
            &hosts,
            &CapacitySettings::default(),
            NOW,
            0,
        );
        let cpu = r.rows.iter().find(|x| x.resource == "cpu").unwrap();
        assert_eq!(cpu.crossing, None);
        assert_eq!(cpu.note.as_deref(), Some("collecting: 2/12 rows"));
        assert_eq!(cpu.current_pct, Some(73.0));
        // 31 GB of 32 GiB is past 90 % already: that is said from the first row.
        let mem = r.rows.iter().find(|x| x.resource == "memory").unwrap();
        assert!(mem.crossing.as_ref().is_some_and(|c| c.already), "{mem:?}");
        // With an hour of rows the projection is made.
        let batch = rows_before_now("host/h", "cpu_pct", 12, |i| 70.0 + 1.0 * i);
        let r = capacity(
            &store_of(&batch),
            &hosts,
            &CapacitySettings::default(),
            NOW,
            0,
        );
        assert!(r.rows[0].crossing.is_some(), "{:?}", r.rows[0]);
    }

    #[test]
    fn a_daily_peak_crosses_before_the_trend_through_the_day() {
        // Three days: 40 % rising 0.01 a row, ±35 around it each day. The line reaches
        // 90 % in 4136 rows, past the week; the afternoon peaks top 90 % in about two days.
        let batch = rows_before_now("host/h", "cpu_pct", 864, |t| {
            40.0 + 0.01 * t + 35.0 * (std::f64::consts::TAU * t / 288.0).sin()
        });
        let hosts = [host(0, 0, Vec::new())];
        let r = capacity(
            &store_of(&batch),
            &hosts,
            &CapacitySettings::default(),
            NOW,
            0,
        );
        let c = r.rows[0].crossing.as_ref().unwrap();
        assert_eq!(
            (r.rows[0].resource.as_str(), c.model),
            ("cpu", ModelKind::TrendDaily)
        );
        // The peak of day 6 (row 1512) is the first over 90 %; it gets there at row 1509
        // (40 + 15.09 + 35 cos(2π·3/288) = 90.01), step 1509 − 864 + 1.
        assert_eq!(c.expected, Some(646), "{c:?}");
        assert!(c.earliest.unwrap() <= 646 && c.latest.unwrap_or(usize::MAX) >= 646);
    }

    #[test]
    fn without_a_complete_row_the_note_tells_recording_from_nothing() {
        let now = NOW + 100_000; // 100 s into a 5-minute row
        let store = store_of(&[sample("host/h", "cpu_pct", now - 50_000, 12.0)]);
        let hosts = [host(0, 0, Vec::new())];
        let r = capacity(&store, &hosts, &CapacitySettings::default(), now, 0);
        let note = |res: &str| {
            let row = r.rows.iter().find(|x| x.resource == res).unwrap();
            assert!(row.crossing.is_none() && row.current_pct.is_none());
            row.note.clone().unwrap()
        };
        // The row in progress started at 12:00 and completes at 12:05.
        assert_eq!(note("cpu"), "first data 12:05 UTC");
        assert_eq!(note("memory"), "nothing recorded");
    }

    #[test]
    fn history_that_stopped_hours_ago_is_not_now() {
        // A host at 95 % until 06:00, nothing recorded since: neither "95 %" nor "now".
        let batch: Vec<_> = (0..500)
            .map(|i| sample("host/h", "cpu_pct", NOW - (571 - i) * STEP_MS + 1_000, 95.0))
            .collect();
        let r = capacity(
            &store_of(&batch),
            &[host(0, 0, Vec::new())],
            &CapacitySettings::default(),
            NOW,
            0,
        );
        let cpu = r.rows.iter().find(|x| x.resource == "cpu").unwrap();
        assert_eq!((cpu.current_pct, &cpu.crossing), (None, &None));
        assert_eq!(
            cpu.note.as_deref(),
            Some("no rows since 06:00 UTC (6h ago)")
        );
    }

    #[test]
    fn a_pool_without_history_shows_its_fill_as_read() {
        let pools = vec![PoolInput {
            name: "data".into(),
            capacity: 200,
            allocation: 50,
        }];
        let r = capacity(
            &store_of(&[]),
            &[host(0, 0, pools)],
            &CapacitySettings::default(),
            NOW,
            0,
        );
        let row = r.rows.iter().find(|x| x.resource == "pool data").unwrap();
        assert_eq!(row.current_pct, Some(25.0));
        assert!(row.crossing.is_none());
        assert_eq!(row.note.as_deref(), Some("no history to forecast from"));
    }

    #[test]
    fn a_driver_without_statistics_says_so_instead_of_nothing_recorded() {
        let hosts = [HostInput {
            usage_stats: false,
            ..host(0, 0, Vec::new())
        }];
        let r = capacity(&store_of(&[]), &hosts, &CapacitySettings::default(), NOW, 0);
        for res in ["cpu", "memory"] {
            let row = r.rows.iter().find(|x| x.resource == res).unwrap();
            assert_eq!(
                row.note.as_deref(),
                Some("no usage figures from this driver")
            );
        }
    }
}
