//! Reading `timestamp,value` CSV series and labelled anomaly windows for `backtest`/`detect`.
//! Errors name the file, the line and what was expected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use super::Failure;

/// One series: its name (the file name without `.csv`), row timestamps and values (a missing value → NaN gap).
pub struct Series {
    pub name: String,
    /// Row times: every row has one, none before the row above it.
    pub times: Vec<NaiveDateTime>,
    pub values: Vec<f64>,
}

/// Reads a `timestamp,value` CSV with a header line.
pub fn read_csv(path: &Path) -> Result<Series, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    // Spreadsheets save CSV with a byte-order mark.
    let mut lines = text.trim_start_matches('\u{feff}').lines().enumerate();
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
    if text.trim().is_empty() {
        return Err(Failure::usage(format!(
            "{}: the file is empty; expected the header `timestamp,value` and a row per sample",
            path.display()
        )));
    }
    let head = fields(header);
    if head.len() != 2 || !head[0].trim().eq_ignore_ascii_case("timestamp") {
        return Err(Failure::usage(format!(
            "{}: line 1 is {header:?}; expected the header `timestamp,value`",
            path.display()
        )));
    }
    let (mut values, mut lines_of) = (Vec::new(), Vec::new());
    let mut times: Vec<NaiveDateTime> = Vec::new();
    for (i, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let [t, v] = fields(line).try_into().map_err(|_| {
            Failure::usage(format!(
                "{}: line {}: {line:?} is not `timestamp,value`",
                path.display(),
                i + 1
            ))
        })?;
        let at = time_of(path, i + 1, t.trim(), times.last().zip(lines_of.last()))?;
        times.push(at);
        lines_of.push(i + 1);
        values.push(value(v.trim()).ok_or_else(|| {
            Failure::usage(format!(
                "{}: line {}: value {:?} is not a number within ±1e150; leave it empty (or NaN) for a missing row",
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
    // The file name without `.csv`: a series named after a host keeps its dots, as its
    // windows key does ([`window_series`]).
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |s| window_series(&s.to_string_lossy()).to_string(),
    );
    Ok(Series {
        name,
        times,
        values,
    })
}

/// The time of the row at `line`, which must not come before the previous row's (`prev`: its
/// time and line): the models and detectors read the rows above as the past. Equal times
/// pass: exported series repeat a timestamp at a daylight-saving change, and steps are
/// counted in rows.
fn time_of(
    path: &Path,
    line: usize,
    text: &str,
    prev: Option<(&NaiveDateTime, &usize)>,
) -> Result<NaiveDateTime, Failure> {
    let at = parse_ts(text).ok_or_else(|| {
        Failure::usage(format!(
            "{}: line {line}: timestamp {text:?} is not a date and time: write YYYY-MM-DD \
             HH:MM:SS (UTC), or ISO 8601 with T, fractional seconds, Z or an offset such as \
             +02:00",
            path.display()
        ))
    })?;
    match prev {
        Some((before, prev_line)) if at < *before => Err(Failure::usage(format!(
            "{}: line {line}: timestamp {text:?} is before line {prev_line}'s ({}); rows must \
             be in time order",
            path.display(),
            before.format(TS_FORMAT)
        ))),
        _ => Ok(at),
    }
}

/// The fields of a CSV line, as RFC 4180 writes them: a field in double quotes may hold
/// commas, and `""` inside it is one quote. An unclosed quote runs to the end of the line.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        let field = out.last_mut();
        match (c, quoted, field) {
            ('"', true, Some(f)) if chars.peek() == Some(&'"') => {
                chars.next();
                f.push('"');
            }
            ('"', true, _) => quoted = false,
            // An opening quote, after nothing but blanks.
            ('"', false, Some(f)) if f.trim().is_empty() => {
                f.clear();
                quoted = true;
            }
            (',', false, _) => out.push(String::new()),
            (c, _, Some(f)) => f.push(c),
            (_, _, None) => {}
        }
    }
    out
}

/// A value: a number, or NaN for a missing one (empty, `NaN`, `NA`, `null`); `None` otherwise.
fn value(v: &str) -> Option<f64> {
    if v.is_empty() || ["nan", "na", "null"].contains(&v.to_ascii_lowercase().as_str()) {
        return Some(f64::NAN);
    }
    // Beyond ±1e150 the squares the model fits sum overflow to infinity (and past 1e300 the
    // differences the scores divide by).
    v.parse::<f64>().ok().filter(|x| x.abs() <= 1e150)
}

/// Reads every input; two that would share a series name (the file name without `.csv`) are refused, since
/// nothing in the output could tell their rows apart.
///
/// # Errors
/// The first file that cannot be read, or the two files that share a name.
pub fn read_all(files: &[PathBuf]) -> Result<Vec<Series>, Failure> {
    let series: Vec<Series> = files
        .iter()
        .map(|f| read_csv(f))
        .collect::<Result<_, _>>()?;
    for (i, s) in series.iter().enumerate() {
        if let Some(j) = series[..i].iter().position(|o| o.name == s.name) {
            return Err(Failure::usage(format!(
                "{} and {} are both series {:?}; rename one (the file name is the series name)",
                files[j].display(),
                files[i].display(),
                s.name
            )));
        }
    }
    Ok(series)
}

/// A timestamp as `YYYY-MM-DD HH:MM:SS`, from that form or ISO 8601 (`T`, fractional
/// seconds, a trailing `Z`, or an offset, read as the same instant in UTC).
#[must_use]
pub fn parse_ts(text: &str) -> Option<NaiveDateTime> {
    // With an offset (+02:00): the same instant in UTC, as the other forms are read.
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
        return Some(d.naive_utc());
    }
    let t = text.trim().trim_end_matches('Z');
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
}

const TS_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A series' timestamps in one comparable form, for scoring against windows.
#[must_use]
pub fn canonical_ts(s: &Series) -> Vec<String> {
    s.times
        .iter()
        .map(|d| d.format(TS_FORMAT).to_string())
        .collect()
}

/// Labelled anomaly windows per series (file name without `.csv`), in [`TS_FORMAT`].
pub struct Windows {
    path: PathBuf,
    by_series: BTreeMap<String, Vec<(String, String)>>,
}

impl Windows {
    /// The windows of `series`.
    ///
    /// # Errors
    /// When the file has no entry for it: scoring it as "no windows" would count every event
    /// false without a word.
    pub fn of(&self, series: &str) -> Result<&[(String, String)], Failure> {
        self.by_series
            .get(series)
            .map(Vec::as_slice)
            .ok_or_else(|| {
                let names: Vec<&str> = self.by_series.keys().map(String::as_str).collect();
                let has = if names.is_empty() {
                    "it names no series (a series without windows is listed with [])".to_string()
                } else {
                    format!("it has: {}", names.join(", "))
                };
                Failure::usage(format!(
                    "{} has no windows for series {series:?}; {has}",
                    self.path.display()
                ))
            })
    }
}

/// Reads `windows.json` of the nab-aws format: `{"series": [["start", "end"], …]}`.
///
/// # Errors
/// An unreadable file, bad JSON, or a window that is not two timestamps in order.
/// The series a windows key names: the key itself, or for NAB's own layout
/// ("realAWSCloudwatch/NAME.csv") its file name without `.csv`. Only `.csv` goes: a series
/// named after a host ("web01.example.com") keeps its dots.
fn window_series(key: &str) -> &str {
    let name = key.rsplit('/').next().unwrap_or(key);
    match name.len().checked_sub(4) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".csv") => {
            &name[..cut]
        }
        _ => name,
    }
}

pub fn read_windows(path: &Path) -> Result<Windows, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let raw: BTreeMap<String, Vec<Vec<String>>> = serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!(
            "{}: {e}; expected {{\"series\": [[\"start\", \"end\"], …]}}",
            path.display()
        ))
    })?;
    let bad = |k: &str, w: &[String], why: &str| {
        Failure::usage(format!("{}: {k}: the window {w:?} {why}", path.display()))
    };
    let by_series = raw
        .into_iter()
        .map(|(k, ws)| {
            let ws = ws
                .iter()
                .map(|w| {
                    let [a, b] = w.as_slice() else {
                        return Err(bad(&k, w, "is not [start, end]"));
                    };
                    let (Some(a), Some(b)) = (parse_ts(a), parse_ts(b)) else {
                        return Err(bad(
                            &k,
                            w,
                            "has a timestamp that is not YYYY-MM-DD HH:MM:SS",
                        ));
                    };
                    if a > b {
                        return Err(bad(&k, w, "ends before it starts"));
                    }
                    Ok((
                        a.format(TS_FORMAT).to_string(),
                        b.format(TS_FORMAT).to_string(),
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((window_series(&k).to_string(), ws))
        })
        .collect::<Result<_, Failure>>()?;
    Ok(Windows {
        path: path.to_path_buf(),
        by_series,
    })
}

#[cfg(test)]
mod tests {
    use super::{fields, window_series};

    #[test]
    fn quoted_fields_are_read_as_rfc_4180_writes_them() {
        assert_eq!(
            fields("2024-01-01 00:00:00,5"),
            ["2024-01-01 00:00:00", "5"]
        );
        assert_eq!(
            fields("\"2024-01-01 00:00:00\",\"5.5\""),
            ["2024-01-01 00:00:00", "5.5"]
        );
        assert_eq!(fields("\"a,b\",\"say \"\"hi\"\"\""), ["a,b", "say \"hi\""]);
        assert_eq!(fields("t,"), ["t", ""]);
        assert_eq!(fields("t,5,6").len(), 3);
    }

    #[test]
    fn a_windows_key_names_its_series_keeping_dots_that_are_not_csv() {
        assert_eq!(window_series("web01.example.com"), "web01.example.com");
        assert_eq!(
            window_series("realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv"),
            "ec2_cpu_utilization_5f5533"
        );
        assert_eq!(window_series("disk.CSV"), "disk");
        assert_eq!(window_series("é.csv"), "é");
    }
}
