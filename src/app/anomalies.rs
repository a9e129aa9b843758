//! What is unusual now: streaming detectors on each VM's and host's key series, fed with
//! 5-minute averages of the live values (the rows the detectors are built for), warmed from a
//! week of history when an entity first appears. An alarm is journaled with its explanation
//! and stays active until the series scores back under the threshold.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::analysis::STEP_MS;
use crate::analytics::anomaly::ensemble::{Ensemble, EnsembleConfig};
use crate::domain::{Metric, Unit};

/// Series watched for anomalies, per VM and per host.
pub const VM_METRICS: [Metric; 4] = [
    Metric::CpuPct,
    Metric::MemUsedBytes,
    Metric::DiskWrBps,
    Metric::NetRxBps,
];
pub const HOST_METRICS: [Metric; 2] = [Metric::HostCpuPct, Metric::HostMemUsedBytes];

/// History replayed into a new detector: a week of rows at least (see
/// [`Anomalies::warmup_ms`]).
pub const WARMUP_MS: i64 = 7 * 24 * 3_600_000;

/// An alarm that is still on.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    pub since_ms: i64,
    /// "cpu 97 %, 6.1 MADs above the 24 h median".
    pub text: String,
    /// Score relative to the threshold (≥ 1 alarms).
    pub score: f64,
}

/// One series' detector and the 5-minute row being accumulated.
#[derive(Debug, Clone)]
struct Detector {
    ensemble: Ensemble,
    /// Start of the open row, its sum and count.
    row: Option<(i64, f64, u32)>,
    /// Start of the last row fed to the ensemble: rows missed after it are fed as gaps, so
    /// the time-of-day detector keeps its place through outages and downtime.
    last: Option<i64>,
    /// Start of the first row fed, for lining the live rows up after the warm-up's history.
    first: Option<i64>,
    /// Closed rows since the detector was created, replayed after a late warm-up.
    recent: Vec<f64>,
    warmed: bool,
}

impl Detector {
    fn new(cfg: &EnsembleConfig) -> Self {
        Self {
            ensemble: Ensemble::new(cfg.clone()),
            row: None,
            last: None,
            first: None,
            recent: Vec::new(),
            warmed: false,
        }
    }

    /// Feeds the row that started at `start` (NaN for a gap), after a gap for every row
    /// missed since the last one (see [`gap_rows`]).
    fn feed(&mut self, start: i64, row: f64) -> crate::analytics::anomaly::ensemble::Decision {
        let missed = self.last.map_or(0, |l| (start - l) / STEP_MS - 1);
        for _ in 0..gap_rows(missed) {
            self.remember(f64::NAN);
            self.ensemble.update(f64::NAN);
        }
        self.last = Some(start);
        self.first.get_or_insert(start);
        self.remember(row);
        self.ensemble.update(row)
    }

    /// Keeps the last day of fed rows for a warm-up that arrives late (none once warmed).
    fn remember(&mut self, row: f64) {
        if self.warmed {
            return;
        }
        if self.recent.len() >= 288 {
            self.recent.remove(0);
        }
        self.recent.push(row);
    }
}

/// Gap rows to feed for `missed` rows without data: all of them up to a week, beyond that
/// a week plus what keeps the time of day (feeding more would change nothing else).
fn gap_rows(missed: i64) -> i64 {
    const WEEK: i64 = 2016;
    match missed {
        m if m <= 0 => 0,
        m if m > WEEK => WEEK + (m - WEEK) % 288,
        m => m,
    }
}

/// All detectors and the alarms that are on. Detectors are compared by nothing but their
/// keys: their internals are windows of past rows.
#[derive(Debug, Clone, Default)]
pub struct Anomalies {
    detectors: HashMap<(String, Metric), Detector>,
    pub active: BTreeMap<(String, Metric), Anomaly>,
    /// Entities whose warm-up was asked for.
    pub warming: HashSet<String>,
    /// The detectors' settings (`[anomaly]` in the config file).
    pub config: EnsembleConfig,
}

impl PartialEq for Anomalies {
    fn eq(&self, other: &Self) -> bool {
        self.active == other.active && self.warming == other.warming
    }
}

/// What a closed row decided, for the journal.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Raised(Anomaly),
    Cleared,
}

/// The detectors' settings for series `m`: the smallest change worth an alarm in its unit,
/// so a series flat at 0 all week (an idle disk) does not call its first small burst
/// billions of deviations away.
fn config_for(cfg: &EnsembleConfig, m: Metric) -> EnsembleConfig {
    let min_scale = match m.unit() {
        // A percentage point of CPU, an operation or millisecond per second.
        Unit::Percent | Unit::PerSec | Unit::Millis => 1.0,
        Unit::Bytes => 64.0 * 1024.0 * 1024.0,
        Unit::BytesPerSec => 64.0 * 1024.0,
        Unit::Ratio => 0.01,
    };
    EnsembleConfig {
        min_scale,
        ..cfg.clone()
    }
}

impl Anomalies {
    /// Whether `entity` has an alarm on any series.
    #[must_use]
    pub fn any(&self, entity: &str) -> bool {
        self.active.keys().any(|(e, _)| e == entity)
    }

    /// The alarms of `entity`.
    pub fn of<'a>(
        &'a self,
        entity: &'a str,
    ) -> impl Iterator<Item = (&'a Metric, &'a Anomaly)> + 'a {
        self.active
            .iter()
            .filter(move |((e, _), _)| e == entity)
            .map(|((_, m), a)| (m, a))
    }

    /// A live value; when it starts a new 5-minute row, the previous row is decided.
    pub fn push(&mut self, entity: &str, m: Metric, ts_ms: i64, value: f64) -> Option<Change> {
        if !value.is_finite() {
            return None;
        }
        let key = (entity.to_string(), m);
        let det = self
            .detectors
            .entry(key.clone())
            .or_insert_with(|| Detector::new(&config_for(&self.config, m)));
        let start = ts_ms - ts_ms.rem_euclid(STEP_MS);
        let closed = match det.row {
            Some((s, sum, n)) if s == start => {
                det.row = Some((s, sum + value, n + 1));
                return None;
            }
            Some((s, sum, n)) if s < start => Some((s, sum / f64::from(n.max(1)))),
            Some(_) => return None,
            None => None,
        };
        det.row = Some((start, value, 1));
        let (row_start, row) = closed?;
        let d = det.feed(row_start, row);
        let was = self.active.contains_key(&key);
        if d.is_anomaly && !was {
            let name = m.label();
            let text = d.explanation.as_ref().map_or_else(
                || format!("{name} unusual"),
                |x| x.describe(name, |v| crate::domain::format::metric(v, m.unit())),
            );
            let a = Anomaly {
                since_ms: row_start,
                text,
                score: d.score,
            };
            self.active.insert(key, a.clone());
            return Some(Change::Raised(a));
        }
        if was && d.score < 1.0 {
            self.active.remove(&key);
            return Some(Change::Cleared);
        }
        if let Some(a) = self.active.get_mut(&key) {
            a.score = d.score;
        }
        None
    }

    /// A new detector's ensemble, warmed off the event loop from the history before
    /// `until_ms` (built with [`Anomalies::config_for`] and [`Ensemble::warmed`]): the rows
    /// that arrived live meanwhile are replayed on it, after a gap for any row between the
    /// history and the first live one (alarms in the past are not raised now).
    pub fn warm(&mut self, entity: &str, m: Metric, until_ms: i64, mut warmed: Ensemble) {
        if !self.warming.contains(entity) {
            // Forgotten (the VM went away) while its history was being read.
            return;
        }
        let det = self
            .detectors
            .entry((entity.to_string(), m))
            .or_insert_with(|| Detector::new(&config_for(&self.config, m)));
        if det.warmed {
            return;
        }
        let first = det.first.unwrap_or(until_ms);
        for _ in 0..gap_rows((first - until_ms) / STEP_MS) {
            warmed.update(f64::NAN);
        }
        for x in std::mem::take(&mut det.recent) {
            warmed.update(x);
        }
        det.ensemble = warmed;
        det.warmed = true;
    }

    /// The detectors' settings for series `m` (see [`config_for`]).
    #[must_use]
    pub fn config_for(&self, m: Metric) -> EnsembleConfig {
        config_for(&self.config, m)
    }

    /// History a new detector replays: the novelty window, and never less than a week (the
    /// time-of-day profile's days).
    #[must_use]
    pub fn warmup_ms(&self) -> i64 {
        let novelty = i64::try_from(self.config.novelty_window)
            .unwrap_or(i64::MAX / STEP_MS)
            .saturating_mul(STEP_MS);
        novelty.max(WARMUP_MS)
    }

    /// VM `entity` stopped running (or was paused): its open rows are dropped (a row must
    /// not span the downtime), its alarms end and so does their refractory day, so what
    /// comes after the restart may alarm at once. Whether any alarm was on.
    pub fn stopped(&mut self, entity: &str) -> bool {
        let mut ended = false;
        for m in VM_METRICS {
            let key = (entity.to_string(), m);
            if let Some(d) = self.detectors.get_mut(&key) {
                d.row = None;
                d.ensemble.end_refractory();
            }
            ended |= self.active.remove(&key).is_some();
        }
        ended
    }

    /// Forgets an entity that is gone.
    pub fn forget(&mut self, entity: &str) {
        self.detectors.retain(|(e, _), _| e != entity);
        self.active.retain(|(e, _), _| e != entity);
        self.warming.remove(entity);
    }
}

#[cfg(test)]
#[allow(clippy::cast_precision_loss)]
mod tests {
    use super::*;

    const T0: i64 = 1_795_435_200_000;

    /// Warms `e`'s detector of `m` from `rows` as the console does: asked for, then built.
    fn warm(a: &mut Anomalies, e: &str, m: Metric, rows: &[f64]) {
        a.warming.insert(e.to_string());
        a.warm(e, m, T0, Ensemble::warmed(a.config_for(m), rows));
    }

    fn noisy(i: usize) -> f64 {
        20.0 + ((i * 7919) % 13) as f64
    }

    #[test]
    fn a_spike_after_a_warm_week_raises_then_clears() {
        let mut a = Anomalies::default();
        let week: Vec<f64> = (0..2016).map(noisy).collect();
        warm(&mut a, "vm/x/u", Metric::CpuPct, &week);
        let mut t = T0;
        let mut push = |a: &mut Anomalies, v: f64| {
            // Two samples per row; the change (if any) comes when the next row starts.
            let c1 = a.push("vm/x/u", Metric::CpuPct, t, v);
            let c2 = a.push("vm/x/u", Metric::CpuPct, t + 150_000, v);
            t += STEP_MS;
            c1.or(c2)
        };
        for i in 0..5 {
            assert_eq!(push(&mut a, noisy(i)), None);
        }
        assert_eq!(
            push(&mut a, 98.0),
            None,
            "the spike row is decided when it closes"
        );
        match push(&mut a, noisy(6)) {
            Some(Change::Raised(x)) => assert!(x.text.starts_with("cpu 98.0%, "), "{}", x.text),
            other => panic!("expected an alarm, got {other:?}"),
        }
        assert!(a.any("vm/x/u"));
        assert_eq!(
            push(&mut a, noisy(7)),
            Some(Change::Cleared),
            "back to normal clears it"
        );
        assert!(!a.any("vm/x/u"));
    }

    #[test]
    fn after_a_gap_the_alarm_dates_from_its_row_and_a_stop_ends_it() {
        let mut a = Anomalies::default();
        let week: Vec<f64> = (0..2016).map(noisy).collect();
        warm(&mut a, "vm/x/u", Metric::CpuPct, &week);
        let e = "vm/x/u";
        for i in 0..5 {
            a.push(e, Metric::CpuPct, T0 + i * STEP_MS, noisy(0));
        }
        // The spike row starts an hour after the last ordinary one: 11 rows missed.
        let spike = T0 + 16 * STEP_MS;
        assert_eq!(a.push(e, Metric::CpuPct, spike, 98.0), None);
        match a.push(e, Metric::CpuPct, spike + STEP_MS, noisy(1)) {
            Some(Change::Raised(x)) => assert_eq!(x.since_ms, spike),
            other => panic!("expected an alarm, got {other:?}"),
        }
        assert!(a.stopped(e), "the alarm was on");
        assert!(!a.any(e) && !a.stopped(e));
        // The row open at the stop is dropped: a restart an hour later decides nothing
        // from it.
        assert_eq!(
            a.push(e, Metric::CpuPct, spike + 20 * STEP_MS, noisy(2)),
            None
        );
    }

    #[test]
    fn an_idle_disk_alarms_on_real_writes_only_with_readable_units() {
        let e = "vm/x/u";
        let m = Metric::DiskWrBps;
        let mut a = Anomalies::default();
        warm(&mut a, e, m, &[0.0; 2016]);
        let row = |a: &mut Anomalies, i: i64, v: f64| {
            a.push(e, m, T0 + i * STEP_MS, v)
                .or(a.push(e, m, T0 + (i + 1) * STEP_MS, 0.0))
        };
        // 8 KiB/s after a week at 0: under the 64 KiB/s floor, not an alarm.
        assert_eq!(row(&mut a, 0, 8192.0), None);
        match row(&mut a, 2, 10.0 * 1024.0 * 1024.0) {
            Some(Change::Raised(x)) => {
                assert!(
                    x.text.starts_with("disk writes 10.0M/s, 160.0σ above"),
                    "{}",
                    x.text
                );
            }
            other => panic!("expected an alarm, got {other:?}"),
        }
    }

    #[test]
    fn live_rows_line_up_after_the_history_with_a_gap_between() {
        let (e, m) = ("vm/x/u", Metric::CpuPct);
        let mut a = Anomalies::default();
        a.warming.insert(e.to_string());
        // The history ends at T0; the detector's first live row starts two rows later.
        for i in 2..6 {
            a.push(e, m, T0 + i * STEP_MS, noisy(usize::try_from(i).unwrap()));
        }
        let history: Vec<f64> = (0..600).map(noisy).collect();
        a.warm(e, m, T0, Ensemble::warmed(a.config_for(m), &history));
        let mut all = history.clone();
        all.extend([f64::NAN, f64::NAN]);
        all.extend((2..5).map(noisy)); // rows 2, 3, 4 closed; row 5 is still open
        let want = Ensemble::warmed(a.config_for(m), &all);
        assert!(a.detectors[&(e.to_string(), m)].ensemble == want);
    }

    #[test]
    fn history_for_a_forgotten_entity_is_dropped() {
        let mut a = Anomalies::default();
        a.warm("vm/gone/u", Metric::CpuPct, T0, Ensemble::default());
        assert!(a.detectors.is_empty());
    }

    #[test]
    fn the_warm_up_covers_a_novelty_window_longer_than_a_week() {
        let mut a = Anomalies::default();
        assert_eq!(a.warmup_ms(), WARMUP_MS);
        a.config.novelty_window = 30 * 288;
        assert_eq!(a.warmup_ms(), 30 * 86_400_000);
        a.config.novelty_window = 12;
        assert_eq!(a.warmup_ms(), WARMUP_MS, "never under a week");
    }

    #[test]
    fn a_cold_detector_stays_quiet_on_ordinary_values() {
        let mut a = Anomalies::default();
        for i in 0..300 {
            let t = T0 + i64::try_from(i).unwrap() * STEP_MS;
            assert!(!matches!(
                a.push("vm/x/u", Metric::CpuPct, t, noisy(i)),
                Some(Change::Raised(_))
            ));
        }
    }
}
