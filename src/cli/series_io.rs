//! Reading `timestamp,value` CSV series and labelled anomaly windows for `backtest`/`detect`.
//! Errors name the file, the line and what was expected.

use std::collections::BTreeMap;
use std::path::Path;

use super::Failure;

/// One series: its name (the file stem), row timestamps and values (a missing value → NaN gap).
pub struct Series {
    pub name: String,
    pub ts: Vec<String>,
    pub values: Vec<f64>,
}

/// Reads a `timestamp,value` CSV with a header line.
pub fn read_csv(path: &Path) -> Result<Series, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
    if !header.to_ascii_lowercase().starts_with("timestamp,") {
        return Err(Failure::usage(format!(
            "{}: line 1 is {header:?}; expected the header `timestamp,value`",
            path.display()
        )));
    }
    let (mut ts, mut values) = (Vec::new(), Vec::new());
    for (i, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((t, v)) = line.split_once(',') else {
            return Err(Failure::usage(format!(
                "{}: line {}: {line:?} is not `timestamp,value`",
                path.display(),
                i + 1
            )));
        };
        ts.push(t.trim().to_string());
        values.push(value(v.trim()).ok_or_else(|| {
            Failure::usage(format!(
                "{}: line {}: value {:?} is not a number; leave it empty (or NaN) for a missing row",
                path.display(),
                i + 1,
                v.trim()
            ))
        })?);
    }
    if values.is_empty() {
        return Err(Failure::usage(format!(
            "{}: no rows after the header",
            path.display()
        )));
    }
    if !values.iter().any(|v| v.is_finite()) {
        return Err(Failure::usage(format!(
            "{}: all {} values are missing",
            path.display(),
            values.len()
        )));
    }
    let name = path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    Ok(Series { name, ts, values })
}

/// A value: a number, or NaN for a missing one (empty, `NaN`, `NA`, `null`); `None` otherwise.
fn value(v: &str) -> Option<f64> {
    if v.is_empty() || ["nan", "na", "null"].contains(&v.to_ascii_lowercase().as_str()) {
        return Some(f64::NAN);
    }
    v.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Reads a windows file: `{"series": [["start", "end"], …]}`, timestamps cut to the CSVs'
/// `YYYY-MM-DD HH:MM:SS` width.
pub fn read_windows(path: &Path) -> Result<BTreeMap<String, Vec<(String, String)>>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let raw: BTreeMap<String, Vec<Vec<String>>> = serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!(
            "{}: {e}; expected {{\"series\": [[\"start\", \"end\"], …]}}",
            path.display()
        ))
    })?;
    raw.into_iter()
        .map(|(k, ws)| {
            let ws = ws
                .into_iter()
                .map(|w| match w.as_slice() {
                    [a, b] => Ok((cut(a), cut(b))),
                    _ => Err(Failure::usage(format!(
                        "{}: {k}: a window is {w:?}; expected [start, end]",
                        path.display()
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let stem = Path::new(&k)
                .file_stem()
                .map_or_else(|| k.clone(), |s| s.to_string_lossy().into_owned());
            Ok((stem, ws))
        })
        .collect()
}

fn cut(ts: &str) -> String {
    ts.chars().take(19).collect()
}
