//! Chart data for the detail and host panes: which entity and range are shown, the history
//! loaded for them, live points appended as polls arrive, and the freeze switch.

use std::collections::BTreeMap;

use super::ingest::{host_entity, vm_entity};
use super::state::{Screen, State};
use super::Effect;
use crate::domain::Metric;

/// Time ranges `+`/`-` step through, in ms, with their labels.
pub const RANGES: [(i64, &str); 6] = [
    (5 * 60_000, "5m"),
    (3_600_000, "1h"),
    (6 * 3_600_000, "6h"),
    (24 * 3_600_000, "24h"),
    (7 * 24 * 3_600_000, "7d"),
    (30 * 24 * 3_600_000, "30d"),
];

/// Points asked of the store per series: about one per column of a wide chart.
pub const MAX_POINTS: usize = 240;

/// Series charted for a VM and for a host.
pub const VM_METRICS: [Metric; 7] = [
    Metric::CpuPct,
    Metric::MemUsedBytes,
    Metric::DiskRdBps,
    Metric::DiskWrBps,
    Metric::NetRxBps,
    Metric::NetTxBps,
    Metric::DiskWrIops,
];
pub const HOST_METRICS: [Metric; 4] = Metric::HOST;

/// Per point of a series, the lowest and highest sample of its bucket: `(ts, min, max)`.
pub type Spread = Vec<(i64, f64, f64)>;

/// What the charts show now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Charts {
    /// History entity (`vm/<uri>/<uuid>` or `host/<uri>`); empty when nothing is charted.
    pub entity: String,
    pub range_idx: usize,
    pub frozen: bool,
    /// Request id of the load in flight or last applied.
    pub request: u64,
    pub loading: bool,
    /// End of the window: now, or the moment the view was frozen.
    pub to_ms: i64,
    pub series: BTreeMap<Metric, Vec<(i64, f64)>>,
    /// The buckets' lows and highs beside `series`, point for point: a longer range's
    /// averages smooth its peaks away, its titles' min and max must not.
    pub spread: BTreeMap<Metric, Spread>,
}

impl Charts {
    #[must_use]
    pub fn range_ms(&self) -> i64 {
        RANGES[self.range_idx.min(RANGES.len() - 1)].0
    }

    #[must_use]
    pub fn range_label(&self) -> &'static str {
        RANGES[self.range_idx.min(RANGES.len() - 1)].1
    }

    #[must_use]
    pub fn from_ms(&self) -> i64 {
        self.to_ms - self.range_ms()
    }
}

/// The entity the current screen charts, with its metrics.
fn wanted(state: &State) -> Option<(String, Vec<Metric>)> {
    match state.view.screen {
        Screen::Detail => state.selected().map(|e| {
            (
                vm_entity(state.host_uri(e.vm.id.host), &e.vm.id.uuid),
                VM_METRICS.to_vec(),
            )
        }),
        Screen::Host => state
            .cursor_host()
            .map(|h| (host_entity(&h.uri), HOST_METRICS.to_vec())),
        _ => None,
    }
}

fn load(state: &mut State, entity: String, metrics: Vec<Metric>) -> Vec<Effect> {
    let c = &mut state.charts;
    c.request += 1;
    c.entity.clone_from(&entity);
    c.loading = true;
    c.series.clear();
    c.spread.clear();
    if !c.frozen {
        c.to_ms = state.now_ms;
    }
    vec![Effect::LoadHistory {
        request: c.request,
        entity,
        metrics,
        from_ms: c.from_ms(),
        to_ms: c.to_ms,
        max_points: MAX_POINTS,
    }]
}

/// Asks for history when the charted entity changed (screen, selection).
pub fn sync(state: &mut State) -> Vec<Effect> {
    match wanted(state) {
        Some((entity, metrics)) if entity != state.charts.entity => {
            // A freeze holds the charts it was pressed on, not the next VM's or host's.
            state.charts.frozen = false;
            load(state, entity, metrics)
        }
        Some(_) => Vec::new(),
        None => {
            state.charts.frozen = false;
            state.charts.entity.clear();
            state.charts.series.clear();
            state.charts.spread.clear();
            Vec::new()
        }
    }
}

/// `+` (shorter) / `-` (longer) through [`RANGES`]; reloads the history.
pub fn zoom(state: &mut State, longer: bool) -> Vec<Effect> {
    if wanted(state).is_none() {
        super::opflow::flash(
            state,
            "+ and - change the time range of the detail and host panes' charts and the \
             forecast's horizon; none is shown here",
            false,
        );
        return Vec::new();
    }
    let i = state.charts.range_idx;
    state.charts.range_idx = if longer {
        (i + 1).min(RANGES.len() - 1)
    } else {
        i.saturating_sub(1)
    };
    if state.charts.range_idx == i {
        return Vec::new();
    }
    reload(state)
}

fn reload(state: &mut State) -> Vec<Effect> {
    match wanted(state) {
        Some((entity, metrics)) => load(state, entity, metrics),
        None => Vec::new(),
    }
}

/// `f`: freeze the window (no live appends, no sliding) or unfreeze and catch up.
pub fn toggle_freeze(state: &mut State) -> Vec<Effect> {
    if wanted(state).is_none() {
        super::opflow::flash(
            state,
            "f freezes the charts of the detail and host panes; none are shown here",
            false,
        );
        return Vec::new();
    }
    state.charts.frozen = !state.charts.frozen;
    if state.charts.frozen {
        Vec::new()
    } else {
        reload(state)
    }
}

/// History arrived for request `request`.
pub fn on_history(
    state: &mut State,
    request: u64,
    series: Vec<(Metric, Vec<(i64, f64)>)>,
    spread: Vec<(Metric, Spread)>,
) {
    if request != state.charts.request {
        return;
    }
    let c = &mut state.charts;
    c.loading = false;
    let mut spread: BTreeMap<Metric, Spread> = spread.into_iter().collect();
    for (m, mut pts) in series {
        let mut lows_highs = match spread.remove(&m) {
            Some(s) if s.len() == pts.len() => s,
            _ => pts.iter().map(|&(t, v)| (t, v, v)).collect(),
        };
        // Live points that arrived while loading are newer than the history: keep them.
        let last = pts.last().map_or(i64::MIN, |p| p.0);
        if let Some(live) = c.series.remove(&m) {
            pts.extend(live.into_iter().filter(|p| p.0 > last));
        }
        if let Some(live) = c.spread.remove(&m) {
            lows_highs.extend(live.into_iter().filter(|p| p.0 > last));
        }
        c.series.insert(m, pts);
        c.spread.insert(m, lows_highs);
    }
}

/// A poll produced `values` for `entity`: extend the charts if they show it and are live.
pub fn on_live(state: &mut State, entity: &str, ts_ms: i64, values: &[(Metric, f64)]) {
    let c = &mut state.charts;
    if c.frozen || c.entity != entity {
        return;
    }
    c.to_ms = ts_ms.max(c.to_ms);
    let from = c.from_ms();
    let step = c.range_ms() / i64::try_from(MAX_POINTS).unwrap_or(240);
    for (m, v) in values {
        let pts = c.series.entry(*m).or_default();
        let spread = c.spread.entry(*m).or_default();
        if pts.last().is_none_or(|(t, _)| ts_ms - t >= step) {
            pts.push((ts_ms, *v));
            spread.push((ts_ms, *v, *v));
        }
        let stale = pts.iter().take_while(|(t, _)| *t < from).count();
        pts.drain(..stale);
        let stale = spread.iter().take_while(|(t, ..)| *t < from).count();
        spread.drain(..stale);
    }
}

/// current/min/max/avg of a series, for chart titles: min and max from the buckets' own
/// lows and highs in `spread` when given (else from the points). The average is over time:
/// each point counts for the time until the next one (a chart of minute buckets extended by
/// 5-second live samples would otherwise weigh the last minutes twelvefold), at most twice the
/// usual step, so the point before a gap (a VM that was off) does not stand for the gap.
#[must_use]
pub fn summary(points: &[(i64, f64)], spread: &[(i64, f64, f64)]) -> Option<(f64, f64, f64, f64)> {
    let cur = points.last()?.1;
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for (_, v) in points {
        min = min.min(*v);
        max = max.max(*v);
    }
    for (_, lo, hi) in spread {
        min = min.min(*lo);
        max = max.max(*hi);
    }
    Some((cur, min, max, time_mean(points)))
}

/// The mean of `points` weighted by the time each stands for (see [`summary`]).
#[allow(clippy::cast_precision_loss)]
fn time_mean(points: &[(i64, f64)]) -> f64 {
    let plain = || points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let mut steps: Vec<i64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
    if steps.iter().all(|&d| d <= 0) {
        return plain();
    }
    let mut sorted = steps.clone();
    sorted.sort_unstable();
    let usual = sorted[sorted.len() / 2].max(1);
    // The newest point counts for as long as the one before it (its own cadence).
    steps.push(steps.last().copied().unwrap_or(usual));
    let (mut sum, mut weight) = (0.0, 0.0);
    for ((_, v), d) in points.iter().zip(steps) {
        let w = d.clamp(0, 2 * usual) as f64;
        sum += v * w;
        weight += w;
    }
    if weight > 0.0 {
        sum / weight
    } else {
        plain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_is_over_time_not_over_points() {
        // An hour at 10 % in minute buckets, then a minute of 5-second samples at 100 %.
        let mut pts: Vec<(i64, f64)> = (0..60).map(|m| (m * 60_000, 10.0)).collect();
        pts.extend((0..12).map(|i| (3_600_000 + i * 5_000, 100.0)));
        let (cur, min, max, avg) = summary(&pts, &[]).unwrap();
        assert_eq!((cur, min, max), (100.0, 10.0, 100.0));
        // 60 min at 10 and ~1 min at 100: about 11.5, where a mean of points says 25.
        assert!((avg - 11.5).abs() < 0.5, "{avg}");
        // A gap (the VM off for a day) does not make the point before it count for a day.
        let gap = [
            (0, 0.0),
            (60_000, 0.0),
            (120_000, 50.0),
            (86_400_000, 0.0),
            (86_460_000, 0.0),
        ];
        let (_, _, _, avg) = summary(&gap, &[]).unwrap();
        assert!(avg < 20.0, "{avg}");
        // Evenly spaced: the plain mean; one point: itself.
        let even = [(0, 1.0), (10, 2.0), (20, 3.0)];
        assert!((summary(&even, &[]).unwrap().3 - 2.0).abs() < 1e-12);
        assert!((summary(&[(5, 7.0)], &[]).unwrap().3 - 7.0).abs() < 1e-12);
        assert!(summary(&[], &[]).is_none());
    }
}
