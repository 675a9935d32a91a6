//! `hollow export`: hollow's HDF5 files as tidy CSV tables for pandas, R or a spreadsheet.
//! A sweep becomes one row per cell and replica (its seed, one column per axis key — of a
//! run list, per overridden key — one per metric; categorical metrics by label); a run one
//! row per step (one column per
//! series); a `reproduce` file (`facts.h5`) one row per measured number. Empty fields are
//! values not computed (NaN). Knows the file layouts through their readers; writes nothing
//! itself (the caller writes the text through the guarded output).

use super::OutputError;
use crate::sweep::store::SweepFile;
use std::fmt::Write as _;
use std::path::Path;

/// What kind of hollow file `path` is: its root attribute `format`.
pub fn file_format(path: &Path) -> Result<String, OutputError> {
    super::output::hollow_format(path).ok_or_else(|| OutputError::Format {
        file: path.display().to_string(),
        reason: "not an HDF5 file written by hollow (no `format` attribute starting with hollow-)".into(),
    })
}

/// A CSV field: numbers in Rust's shortest round-trip form, NaN as empty.
fn num(v: f64) -> String {
    if v.is_nan() { String::new() } else { format!("{v}") }
}

/// A CSV field for text: quoted when it holds a comma, a quote or a line break.
fn text(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// One row per cell and replica, in cell order (cells not done have empty metrics). A
/// grid's rows name the cell and give every axis value; a run list's name the run and give
/// the value of every overridden key in it (the base config's where it does not override).
pub fn sweep_csv(sf: &SweepFile) -> String {
    let (first, keys, values): (&str, Vec<&str>, Vec<&[f64]>) = match &sf.runs {
        Some(t) => ("run", t.keys.iter().map(String::as_str).collect(), t.values.iter().map(Vec::as_slice).collect()),
        None => ("cell", sf.axes.iter().map(|a| a.key.as_str()).collect(), Vec::new()),
    };
    let mut out = format!("{first},replica,seed");
    for k in &keys {
        let _ = write!(out, ",{}", text(k));
    }
    for m in &sf.metrics {
        let _ = write!(out, ",{}", text(m));
    }
    out.push('\n');
    let r = sf.replicas as usize;
    for cell in 0..sf.n_cells() {
        let coords: Vec<f64> = match &sf.runs {
            Some(_) => values.iter().map(|v| v[cell]).collect(),
            None => sf.axes.iter().zip(sf.cell_indices(cell)).map(|(a, i)| a.values[i]).collect(),
        };
        for q in 0..r {
            let at = cell * r + q;
            let _ = write!(out, "{cell},{q},{}", sf.run_seeds[at]);
            for v in &coords {
                let _ = write!(out, ",{}", num(*v));
            }
            for (m, name) in sf.metrics.iter().enumerate() {
                let v = sf.values[m][at];
                let field = match crate::observe::outcome_categories(name) {
                    Some(labels) if v.is_finite() => text(labels.get(v as usize).copied().unwrap_or("")),
                    _ => num(v),
                };
                let _ = write!(out, ",{field}");
            }
            out.push('\n');
        }
    }
    out
}

/// One row per step, one column per series (in the order they were declared).
pub fn run_csv(rf: &super::RunFile) -> String {
    let names: Vec<&String> = rf.series_order.iter().filter(|n| rf.series.contains_key(*n)).collect();
    let mut out = names.iter().map(|n| text(n)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for t in 0..rf.steps_done as usize {
        let row: Vec<String> = names.iter().map(|n| num(rf.series[*n].get(t).copied().unwrap_or(f64::NAN))).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// One row per measured number of a `reproduce` file: fact id, measure, value.
pub fn facts_csv(path: &Path) -> Result<String, OutputError> {
    let file = path.display().to_string();
    let err = |e: ::hdf5::Error| OutputError::Format { file: file.clone(), reason: e.to_string() };
    let f = ::hdf5::File::open(path).map_err(err)?;
    let mut out = String::from("id,measure,value\n");
    for g in f.member_names().map_err(err)? {
        let group = f.group(&g).map_err(err)?;
        for a in group.attr_names().map_err(err)? {
            // Text attributes (title, criterion) are not numbers of the table.
            if let Ok(v) = group.attr(&a).and_then(|x| x.read_scalar::<f64>()) {
                let _ = writeln!(out, "{},{},{}", text(&g), text(&a), num(v));
            }
        }
    }
    Ok(out)
}
