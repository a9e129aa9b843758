//! Capacity job: when a host's CPU or memory, or a storage pool, crosses its threshold (the
//! forecast crossing with its 95 % band), and how many more VMs of a shape fit.

use serde::Serialize;

use super::{read_lookback, trim_leading_gaps, STEP_MS};
use crate::analytics::capacity::{
    headroom, time_to_threshold, Crossing, Headroom, HostResources, VmShape,
};
use crate::analytics::forecast::{ForecastConfig, ModelKind};
use crate::analytics::shift::{level_shifts, LevelShift};
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
    /// When the level last changed for good (a VM started or stopped), if it did within the
    /// history read: the crossing is forecast from the rows since, not through the step.
    pub level_shift_ms: Option<i64>,
    /// That change in words: "since a +20.0 pt step 1d 4h ago".
    pub basis: Option<String>,
}

#[cfg(test)]
impl CapacityRow {
    /// A row of `resource` at `current_pct` with no crossing, for tests of the views.
    #[must_use]
    pub fn bare(host: &str, resource: &str, current_pct: Option<f64>) -> Self {
        Self {
            host: host.into(),
            resource: resource.into(),
            current_pct,
            crossing: None,
            note: None,
            level_shift_ms: None,
            basis: None,
        }
    }
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
    let mut level_shift = None;
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
            let (from, model, cfg) = capacity_model(&series);
            if let Some(shift) = from {
                let ago = series.len() - shift.row;
                let at = end - i64::try_from(ago).unwrap_or(i64::MAX) * STEP_MS;
                level_shift = Some((at, shift_text(shift.jump, ago)));
            }
            let history = &series[from.map_or(0, |s| s.row)..];
            match time_to_threshold(history, s.threshold_pct, true, s.horizon_rows, model, &cfg) {
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
        level_shift_ms: level_shift.as_ref().map(|(at, _)| *at),
        basis: level_shift.map(|(_, text)| text),
    }
}

/// "since a +20.0 pt step 1d 4h ago" for a step of `jump` percentage points
/// `ago` rows before the grid boundary.
fn shift_text(jump: f64, ago: usize) -> String {
    format!("since a {jump:+.1} pt step {} ago", super::rows_text(ago))
}

/// Rows of history before time to exhaustion follows the trend: two days, the least from
/// which a trend and a daily cycle can be told apart (a line through one day of a ±20 %
/// cycle tilts by 0.13 % a row and would fill a flat host in a day).
pub const TREND_MIN_ROWS: usize = 576;

/// The least step, in percentage points, that restarts the trend: a smaller one is real on a
/// quiet host but moves no crossing.
pub const MIN_STEP_POINTS: f64 = 1.0;

/// Steps the same way that make a staircase: growth, not a new level (see [`capacity_model`]).
pub const STAIRCASE_STEPS: usize = 3;

/// Rows a level must hold before capacity forecasts from it alone: three hours, so a burst of
/// an hour or two is not taken for a new level.
pub const SHIFT_MIN_ROWS: usize = 36;

/// The model behind a crossing, and the level change its rows start at. Exhaustion is days
/// ahead, beyond what the automatic choice is backtested on (hours) and where its damped and
/// flat members would hide steady growth: with two days of history or more, the
/// least-squares trend over all of it (up to the two-week lookback) plus the daily profile
/// around it, fitted together, so a busy hour's peak crosses first, with a Student-t band
/// that widens with the distance; before that, the automatic choice.
///
/// A lasting step in that history (a VM started or stopped) would tilt the line into growth
/// that is not there: the rows from the last step on are used instead, with the trend once
/// they reach two days and the automatic choice (a level) until then. A staircase, though
/// ([`STAIRCASE_STEPS`] or more steps all the same way: a VM deployed every day), is how
/// the host grows, and the trend runs through it.
fn capacity_model(series: &[f64]) -> (Option<LevelShift>, ModelKind, ForecastConfig) {
    let cfg = ForecastConfig::default();
    let finite = |ys: &[f64]| ys.iter().filter(|v| v.is_finite()).count();
    if finite(series) < TREND_MIN_ROWS {
        return (None, ModelKind::Auto, cfg);
    }
    let mut steps = level_shifts(series, cfg.season, SHIFT_MIN_ROWS);
    steps.retain(|s| s.jump.abs() >= MIN_STEP_POINTS);
    let staircase = steps.len() >= STAIRCASE_STEPS
        && (steps.iter().all(|s| s.jump > 0.0) || steps.iter().all(|s| s.jump < 0.0));
    let shift = steps.last().copied().filter(|_| !staircase);
    let rows = &series[shift.map_or(0, |s| s.row)..];
    if finite(rows) < TREND_MIN_ROWS {
        return (shift, ModelKind::Auto, cfg);
    }
    (
        shift,
        ModelKind::TrendDaily,
        ForecastConfig {
            trend_window: rows.len(),
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
                // Full already, history or not: said first, as the fill just read (no
                // forecast, so no crossing steps).
                if live >= s.threshold_pct && r.crossing.is_none() {
                    r.crossing = Some(Crossing {
                        threshold: s.threshold_pct,
                        rising: true,
                        already: true,
                        expected: None,
                        earliest: None,
                        latest: None,
                        horizon: 0,
                        model: ModelKind::Naive,
                    });
                }
            }
            if let Some(fill) = r.current_pct.filter(|f| *f >= s.threshold_pct) {
                past.push(format!("pool {} {fill:.1}%", p.name));
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
#[path = "capacity_tests.rs"]
mod tests;
