//! The sweep file: one HDF5 file per sweep, shard or checkpoint (they are the same
//! format; a checkpoint is a file whose `complete` is 0). [`write`] stores a
//! [`SweepFile`] atomically (`<path>.tmp`, fsync, rename, through `io::output`), [`read`]
//! loads it back, and [`cell_stats`] gives the per-cell mean/std (numeric) or
//! mode/agreement (categorical) that are stored next to the raw values. Attributes and
//! datasets are written with `io::h5`, as in run files. Layout in `docs/sweeps.md`.

use super::spec::{Axis, Scale};
use super::{Shard, SweepError};
use crate::io::h5::{Ctx, OutputError, get, get_str, get_str_list, put, put_described, put_str, put_str_list};
use crate::io::output::Output;
use crate::observe::{outcome_categories, outcome_description, outcome_unit};
use ::hdf5::File;
use std::path::Path;

/// Root attribute `format` of a sweep file.
pub const FORMAT: &str = "hollow-sweep";
/// Root attribute `format_version`; bump it when the layout changes. Version 2 names the
/// metric groups' unit attribute `units` (was `unit`) and describes every dataset; this
/// build reads versions 1 and 2 (hollow reads neither attribute).
pub const FORMAT_VERSION: u32 = 2;
/// The oldest `format_version` this build reads.
const OLDEST_READABLE: u32 = 1;

/// A sweep's results and everything needed to interpret, resume or merge them.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepFile {
    pub format_version: u32,
    pub hollow_version: String,
    /// RFC 3339 UTC time of writing.
    pub created: String,
    /// The spec file's text, verbatim, and its name as given.
    pub spec_text: String,
    pub spec_file: String,
    /// `Spec::hash`: files with equal hashes hold cells of the same sweep.
    pub spec_hash: String,
    /// The resolved base config (base file + `[set]` + steps) as TOML.
    pub base_config: String,
    pub seed: u64,
    /// "per_cell" or "common".
    pub seeds: String,
    pub steps: u32,
    pub replicas: u32,
    pub block: u32,
    /// Which blocks this file is responsible for (0/1 for a whole sweep).
    pub shard: Shard,
    /// True when every cell of `shard` is done.
    pub complete: bool,
    /// What computed the cells (`Executor::describe`, or a list after a merge).
    pub executor: String,
    pub axes: Vec<Axis>,
    /// Outcome names, in dataset order.
    pub metrics: Vec<String>,
    /// Per cell (row-major over the axes): all replicas computed.
    pub done: Vec<bool>,
    /// `values[metric][cell * replicas + replica]`, NaN where not done.
    pub values: Vec<Vec<f64>>,
    /// Seed of every run, `cell * replicas + replica` (0 where not done).
    pub run_seeds: Vec<u64>,
}

impl SweepFile {
    pub fn shape(&self) -> (usize, usize) {
        (self.axes[0].len(), self.axes.get(1).map_or(1, Axis::len))
    }
    pub fn n_cells(&self) -> usize {
        self.done.len()
    }
    pub fn cells_done(&self) -> usize {
        self.done.iter().filter(|&&d| d).count()
    }
    /// Raw values of one metric, `cell * replicas + replica`.
    pub fn metric(&self, name: &str) -> Option<&[f64]> {
        self.metrics.iter().position(|m| m == name).map(|i| self.values[i].as_slice())
    }
}

/// Per-cell summary over replicas. Numeric outcomes: (mean, sample standard deviation;
/// NaN with one replica). Categorical outcomes: (most frequent category, ties to the lower
/// one; share of replicas in it). Cells not done, and numeric cells with a NaN replica, give NaN.
pub fn cell_stats(values: &[f64], replicas: usize, categorical: bool) -> (Vec<f64>, Vec<f64>) {
    values
        .chunks(replicas.max(1))
        .map(|v| {
            if v.iter().any(|x| x.is_nan()) {
                return (f64::NAN, f64::NAN);
            }
            let n = v.len() as f64;
            if categorical {
                let mut best = (f64::NAN, 0usize);
                let mut sorted = v.to_vec();
                sorted.sort_by(f64::total_cmp);
                for c in sorted.chunk_by(|a, b| a == b) {
                    if c.len() > best.1 {
                        best = (c[0], c.len());
                    }
                }
                (best.0, best.1 as f64 / n)
            } else {
                let mean = v.iter().sum::<f64>() / n;
                let std = if v.len() > 1 {
                    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
                } else {
                    f64::NAN
                };
                (mean, std)
            }
        })
        .unzip()
}

// ---------------------------------------------------------------------------------------
// Writing

/// Writes `s` to `out` atomically: to its temporary file in the same directory, synced,
/// then renamed over the path, so a reader (or a resumed sweep) sees the old file or the
/// new one, never half of one — also when the process is killed mid-write. `out` was
/// checked and locked when it was taken (`io::output`).
pub fn write(out: &Output, s: &SweepFile) -> Result<(), SweepError> {
    let file = out.path().display().to_string();
    let result = write_file(out.tmp(), &file, s).and_then(|()| out.commit().map_err(SweepError::from));
    if result.is_err() {
        out.discard();
    }
    result
}

fn write_file(tmp: &Path, file: &str, s: &SweepFile) -> Result<(), SweepError> {
    let (n1, n2) = s.shape();
    let r = s.replicas as usize;
    let cells = n1 * n2;
    if s.done.len() != cells
        || s.values.len() != s.metrics.len()
        || s.values.iter().any(|v| v.len() != cells * r)
        || s.run_seeds.len() != cells * r
    {
        return Err(fmt_err(file, "internal: sweep data does not match its grid shape"));
    }
    let f = File::create(tmp).ctx(file, || format!("creating {}", tmp.display()))?;
    put_str(&f, file, "format", FORMAT)?;
    put(&f, file, "format_version", FORMAT_VERSION)?;
    put_str(&f, file, "hollow_version", &s.hollow_version)?;
    put_str(&f, file, "created", &s.created)?;
    put_str(&f, file, "spec", &s.spec_text)?;
    put_str(&f, file, "spec_file", &s.spec_file)?;
    put_str(&f, file, "spec_hash", &s.spec_hash)?;
    put_str(&f, file, "base_config", &s.base_config)?;
    put(&f, file, "seed", s.seed)?;
    put_str(&f, file, "seeds", &s.seeds)?;
    put(&f, file, "steps", s.steps)?;
    put(&f, file, "replicas", s.replicas)?;
    put(&f, file, "block", s.block)?;
    put(&f, file, "n_cells", cells as u64)?;
    put(&f, file, "cells_done", s.cells_done() as u64)?;
    put(&f, file, "shard_index", s.shard.index)?;
    put(&f, file, "shard_count", s.shard.count)?;
    put(&f, file, "complete", u8::from(s.complete))?;
    put_str(&f, file, "executor", &s.executor)?;
    put_str_list(&f, file, "axis_keys", s.axes.iter().map(|a| a.key.as_str()))?;
    put_str_list(&f, file, "metrics", s.metrics.iter().map(String::as_str))?;

    let axes = f.create_group("axes").ctx(file, || "creating group /axes".into())?;
    for (i, a) in s.axes.iter().enumerate() {
        let ds = put_described(&axes, file, &format!("axis{i}"), &[a.len()], &a.values, "", &axis_description(a))?;
        put_str(&ds, file, "key", &a.key)?;
        put_str(&ds, file, "label", &a.label)?;
        put_str(&ds, file, "scale", a.scale.name())?;
    }
    let done: Vec<u8> = s.done.iter().map(|&d| u8::from(d)).collect();
    put_described(&f, file, "done", &[n1, n2], &done, "", "1 where all replicas of the cell are stored, by cell")?;
    let seeds_doing = "seed of every run, by cell and replica (0 where not done)";
    put_described(&f, file, "run_seeds", &[n1, n2, r], &s.run_seeds, "", seeds_doing)?;
    let mg = f.create_group("metrics").ctx(file, || "creating group /metrics".into())?;
    for (name, v) in s.metrics.iter().zip(&s.values) {
        let g = mg.create_group(name).ctx(file, || format!("creating group /metrics/{name}"))?;
        let units = outcome_unit(name).unwrap_or("");
        let what = outcome_description(name).unwrap_or(name);
        put_str(&g, file, "units", units)?;
        let cats = outcome_categories(name);
        put_str(&g, file, "kind", if cats.is_some() { "categorical" } else { "numeric" })?;
        if let Some(c) = cats {
            put_str_list(&g, file, "categories", c.iter().copied())?;
        }
        put_described(
            &g,
            file,
            "values",
            &[n1, n2, r],
            v,
            units,
            &format!("{what}: every run, by cell and replica; NaN where not done"),
        )?;
        let (a, b) = cell_stats(v, r, cats.is_some());
        let (na, nb) = if cats.is_some() { ("mode", "agreement") } else { ("mean", "std") };
        let (da, db, ub) = if cats.is_some() {
            (
                "most frequent category over the replicas (ties to the lower)",
                "share of the replicas in the most frequent category",
                "1",
            )
        } else {
            ("mean over the replicas", "sample standard deviation over the replicas (NaN with one replica)", units)
        };
        put_described(&g, file, na, &[n1, n2], &a, units, &format!("{what}: {da}, by cell"))?;
        put_described(&g, file, nb, &[n1, n2], &b, ub, &format!("{what}: {db}, by cell"))?;
    }
    write_grid(&f, file, s)?;
    f.close().ctx(file, || format!("closing {}", tmp.display()))?;
    Ok(())
}

/// What an axis dataset holds: the swept config key and its label.
fn axis_description(a: &Axis) -> String {
    if a.label == a.key {
        format!("values of the swept config key {}", a.key)
    } else {
        format!("values of the swept config key {} ({})", a.key, a.label)
    }
}

/// `/grid`: every metric's runs again, as one variable over the axis keys and `replica`,
/// whose values are dimension scales attached to it (`io::dimscale`), so netCDF readers
/// (`xarray.open_dataset(FILE, engine="h5netcdf", group="grid")`) get named dimensions
/// with their coordinates. A copy of `/metrics/*/values` (the runs' outcomes are small).
fn write_grid(f: &File, file: &str, s: &SweepFile) -> Result<(), SweepError> {
    use crate::io::dimscale;
    let r = s.replicas as usize;
    let g = f.create_group("grid").ctx(file, || "creating group /grid".into())?;
    let mut scales = Vec::new();
    for a in &s.axes {
        let ds = put_described(&g, file, &a.key, &[a.len()], &a.values, "", &axis_description(a))?;
        put_str(&ds, file, "long_name", &a.label)?;
        dimscale::set_scale(&ds, &a.key).ctx(file, || format!("making /grid/{} a dimension scale", a.key))?;
        scales.push(ds);
    }
    let replicas: Vec<u32> = (0..s.replicas).collect();
    let ds = put_described(&g, file, "replica", &[r], &replicas, "", "replica number (its seed is in /run_seeds)")?;
    dimscale::set_scale(&ds, "replica").ctx(file, || "making /grid/replica a dimension scale".into())?;
    scales.push(ds);
    let shape: Vec<usize> = s.axes.iter().map(|a| a.len()).chain([r]).collect();
    let mut vars = Vec::new();
    for (name, v) in s.metrics.iter().zip(&s.values) {
        let what = outcome_description(name).unwrap_or(name);
        let what = match outcome_categories(name) {
            Some(c) => format!("{what}, every run (category index: {})", c.join(", ")),
            None => format!("{what}, every run"),
        };
        let description = format!("{what}, by axis values and replica; NaN where not done");
        vars.push(put_described(&g, file, name, &shape, v, outcome_unit(name).unwrap_or(""), &description)?);
    }
    let vars: Vec<&::hdf5::Dataset> = vars.iter().collect();
    let scales: Vec<&::hdf5::Dataset> = scales.iter().collect();
    dimscale::attach(f, &vars, &scales).ctx(file, || "attaching the /grid dimension scales".into())?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reading

/// Reads a sweep (or shard, or checkpoint) file written by [`write`].
pub fn read(path: &Path) -> Result<SweepFile, SweepError> {
    let file = path.display().to_string();
    let file = file.as_str();
    if !path.is_file() {
        return Err(fmt_err(file, "no such file; check the path"));
    }
    let f = File::open(path).ctx(file, || "opening it as HDF5 (is it a hollow sweep file?)".into())?;
    let format =
        get_str(&f, file, "format").map_err(|_| fmt_err(file, "not a hollow sweep file (no `format` attribute)"))?;
    if format != FORMAT {
        return Err(fmt_err(file, format!("is a \"{format}\" file, not a \"{FORMAT}\" file")));
    }
    let format_version: u32 = get(&f, file, "format_version")?;
    if !(OLDEST_READABLE..=FORMAT_VERSION).contains(&format_version) {
        return Err(fmt_err(
            file,
            format!(
                "sweep format version {format_version}; this build reads versions {OLDEST_READABLE} to \
                 {FORMAT_VERSION} (upgrade hollow for a newer file)"
            ),
        ));
    }
    let replicas: u32 = get(&f, file, "replicas")?;
    let keys = get_str_list(&f, file, "axis_keys")?;
    let mut axes = Vec::new();
    for i in 0..keys.len() {
        let ds = f.dataset(&format!("axes/axis{i}")).ctx(file, || format!("opening /axes/axis{i}"))?;
        let scale = get_str(&ds, file, "scale")?;
        axes.push(Axis {
            key: get_str(&ds, file, "key")?,
            label: get_str(&ds, file, "label")?,
            scale: Scale::parse(&scale)
                .ok_or_else(|| fmt_err(file, format!("/axes/axis{i}: unknown scale \"{scale}\"")))?,
            values: ds.read_raw().ctx(file, || format!("reading /axes/axis{i}"))?,
        });
    }
    if axes.is_empty() || axes.len() > 2 {
        return Err(fmt_err(file, format!("has {} axes; a sweep has one or two", axes.len())));
    }
    let cells = axes.iter().map(Axis::len).product::<usize>();
    let r = replicas as usize;
    let read_flat = |name: &str, len: usize| -> Result<Vec<f64>, SweepError> {
        let v: Vec<f64> = f.dataset(name).and_then(|d| d.read_raw()).ctx(file, || format!("reading /{name}"))?;
        if v.len() != len {
            return Err(fmt_err(file, format!("/{name} has {} values, the grid needs {len}", v.len())));
        }
        Ok(v)
    };
    let done: Vec<u8> = f.dataset("done").and_then(|d| d.read_raw()).ctx(file, || "reading /done".into())?;
    if done.len() != cells {
        return Err(fmt_err(file, format!("/done has {} cells, the axes give {cells}", done.len())));
    }
    let run_seeds: Vec<u64> =
        f.dataset("run_seeds").and_then(|d| d.read_raw()).ctx(file, || "reading /run_seeds".into())?;
    if run_seeds.len() != cells * r {
        return Err(fmt_err(file, format!("/run_seeds has {} values, the grid needs {}", run_seeds.len(), cells * r)));
    }
    let metrics = get_str_list(&f, file, "metrics")?;
    let values =
        metrics.iter().map(|m| read_flat(&format!("metrics/{m}/values"), cells * r)).collect::<Result<Vec<_>, _>>()?;
    Ok(SweepFile {
        format_version,
        hollow_version: get_str(&f, file, "hollow_version")?,
        created: get_str(&f, file, "created")?,
        spec_text: get_str(&f, file, "spec")?,
        spec_file: get_str(&f, file, "spec_file")?,
        spec_hash: get_str(&f, file, "spec_hash")?,
        base_config: get_str(&f, file, "base_config")?,
        seed: get(&f, file, "seed")?,
        seeds: get_str(&f, file, "seeds")?,
        steps: get(&f, file, "steps")?,
        replicas,
        block: get(&f, file, "block")?,
        shard: Shard { index: get(&f, file, "shard_index")?, count: get(&f, file, "shard_count")? },
        complete: get::<u8>(&f, file, "complete")? != 0,
        executor: get_str(&f, file, "executor")?,
        axes,
        metrics,
        done: done.into_iter().map(|d| d != 0).collect(),
        values,
        run_seeds,
    })
}

fn fmt_err(file: &str, reason: impl Into<String>) -> SweepError {
    OutputError::format(file, reason).into()
}
