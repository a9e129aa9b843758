//! `novacron backtest` and `novacron detect`: the analytics run over `timestamp,value` CSVs,
//! following the protocol of the nab-aws benchmark row by row (a step is the next row).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::headless::emit;
use super::out_file::{is_stdout, OutFile};
use super::series_io::{canonical_ts, read_all, read_windows, Series};
use super::Failure;
use crate::analytics::anomaly::ensemble::EnsembleConfig;
use crate::analytics::backtest::{
    backtest_model, detect_rows, origins, BacktestSpec, HorizonScore,
};
use crate::analytics::events::{events, score_events, EventScore};
use crate::analytics::forecast::{ForecastConfig, ModelKind};

/// A CSV field: quoted (RFC 4180) when it holds a comma, a quote or a line break.
fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// The table or summary: on standard output, or on standard error when the rows go there
/// (`--out -`).
fn report(text: &str, out: Option<&Path>) -> Result<(), Failure> {
    if is_stdout(out) {
        eprint!("{text}");
        Ok(())
    } else {
        emit(text)
    }
}

/// A score cell: `n/a` where the score is undefined.
fn cell(x: f64, width: usize, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:>width$.decimals$}")
    } else {
        format!("{:>width$}", "n/a")
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
    }
}

#[derive(Serialize)]
struct SeriesScores {
    series: String,
    model: &'static str,
    scores: Vec<HorizonScore>,
}

#[derive(Serialize)]
struct ModelSummary {
    model: &'static str,
    median_mase: Vec<f64>,
    median_smape: Vec<f64>,
    median_coverage95: Vec<f64>,
    /// Worst ratio over series and horizons of this model's MASE to the naive model's.
    worst_vs_naive: f64,
}

/// `novacron backtest FILE.csv… [--out forecasts.csv] [--json]`.
pub fn backtest(files: &[PathBuf], out: Option<&Path>, json: bool) -> Result<(), Failure> {
    let series: Vec<Series> = read_all(files)?;
    let spec = BacktestSpec::default();
    if let Some((f, s)) = files
        .iter()
        .zip(&series)
        .find(|(_, s)| origins(s.values.len(), &spec).is_empty())
    {
        return Err(Failure::usage(format!(
            "{}: {} is too short to backtest; it needs {} rows at least ({} rows of warm-up, \
             then {} to score)",
            f.display(),
            crate::domain::format::plural(s.values.len(), "row"),
            spec.warmup + spec.max_horizon,
            spec.warmup,
            spec.max_horizon
        )));
    }
    let cfg = ForecastConfig::default();
    let mut writer = out.map(|p| OutFile::create(p, files)).transpose()?;
    if let Some(w) = writer.as_mut() {
        w.line(format_args!("series,origin_ts,step,forecast,lo95,hi95"))?;
    }
    let mut rows: Vec<SeriesScores> = Vec::new();
    // Origins the automatic choice had nothing to forecast from (no observed row before
    // them): no rows in --out, and said so.
    let mut unforecast: Vec<String> = Vec::new();
    for s in &series {
        for model in ModelKind::ALL {
            let bt = backtest_model(&s.values, model, &spec, &cfg);
            if model == ModelKind::Auto {
                let all = origins(s.values.len(), &spec).len();
                if bt.forecasts.len() < all {
                    unforecast.push(format!(
                        "{}: {} of {all} origins have no observed row before them and get no forecast{}",
                        s.name,
                        all - bt.forecasts.len(),
                        if out.is_some() { " (no rows in --out)" } else { "" }
                    ));
                }
                if let Some(w) = writer.as_mut() {
                    // The protocol's format, in UTC, whatever form the input used.
                    let times = canonical_ts(s);
                    for f in &bt.forecasts {
                        let origin_ts = field(&times[f.origin - 1]);
                        let name = field(&s.name);
                        for (k, ((y, lo), hi)) in
                            f.point.iter().zip(&f.lo95).zip(&f.hi95).enumerate()
                        {
                            // Shortest text that reads back as the same number: a file
                            // scored on its own gives the table's figures, at any scale.
                            w.line(format_args!("{name},{origin_ts},{},{y},{lo},{hi}", k + 1))?;
                        }
                    }
                }
            }
            rows.push(SeriesScores {
                series: s.name.clone(),
                model: model.name(),
                scores: bt.scores,
            });
        }
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    let summaries: Vec<ModelSummary> = ModelKind::ALL
        .iter()
        .map(|m| summarize(&rows, m.name(), spec.horizons.len()))
        .collect();
    if json {
        let doc = serde_json::json!({"horizons_rows": spec.horizons, "series": rows, "models": summaries,
            "notes": unforecast});
        report(
            &(serde_json::to_string_pretty(&doc).map_err(|e| Failure::op(e.to_string()))? + "\n"),
            out,
        )?;
        return Ok(());
    }
    let mut text = table(&rows, &summaries, series.len());
    for line in unforecast {
        let _ = writeln!(text, "note: {line}");
    }
    report(&text, out)
}

fn summarize(rows: &[SeriesScores], model: &'static str, horizons: usize) -> ModelSummary {
    let mine: Vec<&SeriesScores> = rows.iter().filter(|r| r.model == model).collect();
    let col = |h: usize, f: fn(&HorizonScore) -> f64| {
        median(mine.iter().map(|r| f(&r.scores[h])).collect())
    };
    let naive = |series: &str, h: usize| {
        rows.iter()
            .find(|r| r.model == "naive" && r.series == series)
            .map_or(f64::NAN, |r| r.scores[h].mase)
    };
    let worst = mine
        .iter()
        .flat_map(|r| (0..horizons).map(move |h| r.scores[h].mase / naive(&r.series, h)))
        .filter(|x| x.is_finite())
        // No finite ratio (a constant series: every MASE is 0/0) is unknown, not 0.
        .fold(f64::NAN, f64::max);
    ModelSummary {
        model,
        median_mase: (0..horizons).map(|h| col(h, |s| s.mase)).collect(),
        median_smape: (0..horizons).map(|h| col(h, |s| s.smape)).collect(),
        median_coverage95: (0..horizons).map(|h| col(h, |s| s.coverage95)).collect(),
        worst_vs_naive: worst,
    }
}

fn table(rows: &[SeriesScores], summaries: &[ModelSummary], n_series: usize) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<34} {:<16} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7}",
        "series", "model", "MASE 1h", "MASE 6h", "sMAPE1h", "sMAPE6h", "cov 1h", "cov 6h"
    );
    for r in rows {
        let (a, b) = (&r.scores[0], &r.scores[r.scores.len() - 1]);
        let _ = writeln!(
            t,
            "{:<34} {:<16} {} {} {} {} {} {}",
            r.series,
            r.model,
            cell(a.mase, 8, 3),
            cell(b.mase, 8, 3),
            cell(a.smape, 8, 1),
            cell(b.smape, 8, 1),
            cell(a.coverage95, 7, 3),
            cell(b.coverage95, 7, 3)
        );
    }
    let _ = writeln!(
        t,
        "\nmedian across {n_series} series (1 h = 12 rows, 6 h = 72 rows):"
    );
    // A score a series cannot have is left out of its median, and said so.
    let unscaled: Vec<&str> = rows
        .iter()
        .filter(|r| r.model == "naive" && r.scores.iter().any(|s| !s.mase.is_finite()))
        .map(|r| r.series.as_str())
        .collect();
    if !unscaled.is_empty() {
        let _ = writeln!(
            t,
            "  MASE n/a for {} (no scale: the history never changes from one observed row to \
             the next observed row); the MASE medians are over the other {} series",
            unscaled.join(", "),
            n_series - unscaled.len()
        );
    }
    let _ = writeln!(
        t,
        "{:<16} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>12}",
        "model", "MASE 1h", "MASE 6h", "sMAPE1h", "sMAPE6h", "cov 1h", "cov 6h", "worst/naive"
    );
    for s in summaries {
        let last = s.median_mase.len() - 1;
        let _ = writeln!(
            t,
            "{:<16} {} {} {} {} {} {} {}",
            s.model,
            cell(s.median_mase[0], 8, 3),
            cell(s.median_mase[last], 8, 3),
            cell(s.median_smape[0], 8, 1),
            cell(s.median_smape[last], 8, 1),
            cell(s.median_coverage95[0], 7, 3),
            cell(s.median_coverage95[last], 7, 3),
            cell(s.worst_vs_naive, 12, 3)
        );
    }
    t
}

/// `novacron detect FILE.csv… [--out anomalies.csv] [--windows windows.json]`, with the
/// detector settings of the config file's `[anomaly]` section.
pub fn detect(
    files: &[PathBuf],
    out: Option<&Path>,
    windows: Option<&Path>,
    cfg: &EnsembleConfig,
) -> Result<(), Failure> {
    let series: Vec<Series> = read_all(files)?;
    let labels = windows.map(read_windows).transpose()?;
    let inputs: Vec<PathBuf> = files
        .iter()
        .cloned()
        .chain(windows.map(Path::to_path_buf))
        .collect();
    let mut writer = out.map(|p| OutFile::create(p, &inputs)).transpose()?;
    if let Some(w) = writer.as_mut() {
        w.line(format_args!("series,timestamp,score,is_anomaly"))?;
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<34} {:>6} {:>7} {:>6} {:>8} {:>6} {:>7} {:>8}",
        "series", "rows", "events", "true", "windows", "hit", "false", "false/d"
    );
    let mut scores: Vec<EventScore> = Vec::new();
    let mut listed = String::new();
    for s in &series {
        let dec = detect_rows(&s.values, cfg);
        let ts = canonical_ts(s);
        if let Some(w) = writer.as_mut() {
            let name = field(&s.name);
            // Times in the protocol's UTC format; scores in full, as the forecasts.
            for (ts, (score, flag)) in ts.iter().zip(&dec) {
                w.line(format_args!(
                    "{name},{},{score},{}",
                    field(ts),
                    u8::from(*flag)
                ))?;
            }
        }
        let flags: Vec<bool> = dec.iter().map(|d| d.1).collect();
        let wins = match &labels {
            Some(l) => l.of(&s.name)?,
            None => &[],
        };
        let sc = score_events(&ts, &flags, wins);
        list_events(&mut listed, s, &ts, &dec, wins, labels.is_some());
        let known = labels.is_some();
        let opt = |x: usize| if known { x.to_string() } else { "-".into() };
        let _ = writeln!(
            t,
            "{:<34} {:>6} {:>7} {:>6} {:>8} {:>6} {:>7} {:>8}",
            s.name,
            s.values.len(),
            sc.events,
            opt(sc.true_events),
            opt(sc.windows),
            opt(sc.windows_hit),
            opt(sc.false_events),
            if known {
                format!("{:.2}", sc.false_per_day())
            } else {
                "-".into()
            }
        );
        scores.push(sc);
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    if labels.is_some() {
        let p = EventScore::pooled(&scores);
        let precision = if p.events == 0 {
            "n/a (nothing flagged)".to_string()
        } else {
            format!("{:.3}", p.precision())
        };
        let _ = writeln!(
            t,
            "pooled: precision {precision}  recall {:.3} ({}/{} windows)  F1 {:.3}  false events {:.2} per series-day outside the windows",
            p.recall(),
            p.windows_hit,
            p.windows,
            p.f1(),
            p.false_per_day()
        );
    }
    if !listed.is_empty() {
        let _ = writeln!(
            t,
            "\nevents (consecutive flagged rows, past each series' warm-up rows):\n{listed}"
        );
    }
    report(&t, out)
}

/// One line per scored event of `s`: its rows' times, length, peak score and, with labelled
/// `windows`, whether it touches one.
fn list_events(
    out: &mut String,
    s: &Series,
    ts: &[String],
    dec: &[(f64, bool)],
    windows: &[(String, String)],
    labelled: bool,
) {
    let flags: Vec<bool> = dec.iter().map(|d| d.1).collect();
    for e in events(ts, &flags, windows) {
        let peak = dec[e.start..e.end]
            .iter()
            .map(|d| d.0)
            .fold(f64::NAN, f64::max);
        let verdict = match (labelled, e.windows.as_slice()) {
            (false, _) => String::new(),
            (true, []) => "  outside the windows".into(),
            (true, w) => format!(
                "  in window {}",
                w.iter()
                    .map(|i| format!("{} – {}", windows[*i].0, windows[*i].1))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let rows = e.end - e.start;
        let span = if rows == 1 {
            ts[e.start].clone()
        } else {
            format!("{} – {}", ts[e.start], ts[e.end - 1])
        };
        // A series that sat at one value scores in the quadrillions: powers of ten then.
        let peak = if peak.abs() >= 1e4 {
            format!("{peak:.1e}")
        } else {
            format!("{peak:.1}")
        };
        let _ = writeln!(
            out,
            "  {:<34} {span:<41} {rows:>4} {} peak {peak}{verdict}",
            s.name,
            if rows == 1 { "row " } else { "rows" },
        );
    }
}
