//! The sweep file: one HDF5 file per sweep, shard or checkpoint (they are the same
//! format; a checkpoint is a file whose `complete` is 0). [`write`] stores a
//! [`SweepFile`] atomically (`<path>.tmp`, fsync, rename, through `io::output`), [`read`] loads it back, and
//! [`cell_stats`] gives the per-cell mean/std (numeric) or mode/agreement (categorical)
//! that are stored next to the raw values. Layout in `docs/sweeps.md`.

use super::spec::{Axis, Scale};
use super::{Shard, SweepError};
use crate::io::hdf5::OutputError;
use crate::io::output::Output;
use crate::observe::{outcome_categories, outcome_unit};
use ::hdf5::types::VarLenUnicode;
use ::hdf5::{File, Group, H5Type, Location};
use std::path::Path;

/// Root attribute `format` of a sweep file.
pub const FORMAT: &str = "hollow-sweep";
/// Root attribute `format_version`; bump it when the layout changes.
pub const FORMAT_VERSION: u32 = 1;
const DEFLATE_LEVEL: u8 = 4;

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
    let f = File::create(tmp).map_err(h5(file, format!("creating {}", tmp.display())))?;
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

    let axes = f.create_group("axes").map_err(h5(file, "creating group /axes".into()))?;
    for (i, a) in s.axes.iter().enumerate() {
        let ds = dataset(&axes, file, &format!("axis{i}"), &[a.len()], &a.values)?;
        put_str(&ds, file, "key", &a.key)?;
        put_str(&ds, file, "label", &a.label)?;
        put_str(&ds, file, "scale", a.scale.name())?;
    }
    let done: Vec<u8> = s.done.iter().map(|&d| u8::from(d)).collect();
    dataset(&f, file, "done", &[n1, n2], &done)?;
    dataset(&f, file, "run_seeds", &[n1, n2, r], &s.run_seeds)?;
    let mg = f.create_group("metrics").map_err(h5(file, "creating group /metrics".into()))?;
    for (name, v) in s.metrics.iter().zip(&s.values) {
        let g = mg.create_group(name).map_err(h5(file, format!("creating group /metrics/{name}")))?;
        put_str(&g, file, "unit", outcome_unit(name).unwrap_or(""))?;
        let cats = outcome_categories(name);
        put_str(&g, file, "kind", if cats.is_some() { "categorical" } else { "numeric" })?;
        if let Some(c) = cats {
            put_str_list(&g, file, "categories", c.iter().copied())?;
        }
        dataset(&g, file, "values", &[n1, n2, r], v)?;
        let (a, b) = cell_stats(v, r, cats.is_some());
        let (na, nb) = if cats.is_some() { ("mode", "agreement") } else { ("mean", "std") };
        dataset(&g, file, na, &[n1, n2], &a)?;
        dataset(&g, file, nb, &[n1, n2], &b)?;
    }
    write_grid(&f, file, s)?;
    f.close().map_err(h5(file, format!("closing {}", tmp.display())))
}

/// `/grid`: every metric's runs again, as one variable over the axis keys and `replica`,
/// whose values are dimension scales attached to it (`io::dimscale`), so netCDF readers
/// (`xarray.open_dataset(FILE, engine="h5netcdf", group="grid")`) get named dimensions
/// with their coordinates. A copy of `/metrics/*/values` (the runs' outcomes are small).
fn write_grid(f: &File, file: &str, s: &SweepFile) -> Result<(), SweepError> {
    use crate::io::dimscale;
    let r = s.replicas as usize;
    let g = f.create_group("grid").map_err(h5(file, "creating group /grid".into()))?;
    let scale_err = |what: String| move |e: ::hdf5::Error| fmt_err(file, &format!("{what}: {e}"));
    let mut scales = Vec::new();
    for a in &s.axes {
        let ds = dataset(&g, file, &a.key, &[a.len()], &a.values)?;
        put_str(&ds, file, "long_name", &a.label)?;
        dimscale::set_scale(&ds, &a.key).map_err(scale_err(format!("making /grid/{} a dimension scale", a.key)))?;
        scales.push(ds);
    }
    let replicas: Vec<u32> = (0..s.replicas).collect();
    let ds = dataset(&g, file, "replica", &[r], &replicas)?;
    dimscale::set_scale(&ds, "replica").map_err(scale_err("making /grid/replica a dimension scale".into()))?;
    scales.push(ds);
    let shape: Vec<usize> = s.axes.iter().map(|a| a.len()).chain([r]).collect();
    let mut vars = Vec::new();
    for (name, v) in s.metrics.iter().zip(&s.values) {
        let ds = dataset(&g, file, name, &shape, v)?;
        put_str(&ds, file, "units", outcome_unit(name).unwrap_or(""))?;
        let what = match outcome_categories(name) {
            Some(c) => format!("{name} of every run (category index: {})", c.join(", ")),
            None => format!("{name} of every run"),
        };
        put_str(&ds, file, "description", &format!("{what}, by axis values and replica; NaN where not done"))?;
        vars.push(ds);
    }
    let vars: Vec<&::hdf5::Dataset> = vars.iter().collect();
    let scales: Vec<&::hdf5::Dataset> = scales.iter().collect();
    dimscale::attach(f, &vars, &scales).map_err(scale_err("attaching the /grid dimension scales".into()))
}

fn dataset<T: H5Type>(
    g: &Group,
    file: &str,
    name: &str,
    shape: &[usize],
    data: &[T],
) -> Result<::hdf5::Dataset, SweepError> {
    let path = format!("{}/{name}", g.name().trim_end_matches('/'));
    let mut b = g.new_dataset::<T>();
    if ::hdf5::filters::deflate_available() && shape.iter().all(|&d| d > 0) {
        b = b.chunk(shape.to_vec()).shuffle().deflate(DEFLATE_LEVEL);
    }
    let ds = b.shape(shape).create(name).map_err(h5(file, format!("creating dataset {path}")))?;
    ds.write_raw(data).map_err(h5(file, format!("writing dataset {path}")))?;
    Ok(ds)
}

fn put<T: H5Type>(loc: &Location, file: &str, name: &str, v: T) -> Result<(), SweepError> {
    loc.new_attr::<T>()
        .create(name)
        .and_then(|a| a.write_scalar(&v))
        .map_err(h5(file, format!("writing attribute {name}")))
}

fn vlu(file: &str, name: &str, v: &str) -> Result<VarLenUnicode, SweepError> {
    v.parse::<VarLenUnicode>().map_err(|e| {
        fmt_err(file, format!("attribute {name} cannot be stored as HDF5 text ({e}); remove NUL characters"))
    })
}

fn put_str(loc: &Location, file: &str, name: &str, v: &str) -> Result<(), SweepError> {
    put(loc, file, name, vlu(file, name, v)?)
}

fn put_str_list<'a>(
    loc: &Location,
    file: &str,
    name: &str,
    vs: impl Iterator<Item = &'a str>,
) -> Result<(), SweepError> {
    let v = vs.map(|s| vlu(file, name, s)).collect::<Result<Vec<_>, _>>()?;
    loc.new_attr::<VarLenUnicode>()
        .shape(v.len())
        .create(name)
        .and_then(|a| a.write_raw(&v[..]))
        .map_err(h5(file, format!("writing attribute {name}")))
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
    let f = File::open(path).map_err(h5(file, "opening it as HDF5 (is it a hollow sweep file?)".into()))?;
    let format =
        get_str(&f, file, "format").map_err(|_| fmt_err(file, "not a hollow sweep file (no `format` attribute)"))?;
    if format != FORMAT {
        return Err(fmt_err(file, format!("is a \"{format}\" file, not a \"{FORMAT}\" file")));
    }
    let format_version: u32 = get(&f, file, "format_version")?;
    if format_version != FORMAT_VERSION {
        return Err(fmt_err(
            file,
            format!("sweep format version {format_version}; this build reads version {FORMAT_VERSION}"),
        ));
    }
    let replicas: u32 = get(&f, file, "replicas")?;
    let keys = get_str_list(&f, file, "axis_keys")?;
    let mut axes = Vec::new();
    for i in 0..keys.len() {
        let ds = f.dataset(&format!("axes/axis{i}")).map_err(h5(file, format!("opening /axes/axis{i}")))?;
        let scale = get_str(&ds, file, "scale")?;
        axes.push(Axis {
            key: get_str(&ds, file, "key")?,
            label: get_str(&ds, file, "label")?,
            scale: Scale::parse(&scale)
                .ok_or_else(|| fmt_err(file, format!("/axes/axis{i}: unknown scale \"{scale}\"")))?,
            values: ds.read_raw().map_err(h5(file, format!("reading /axes/axis{i}")))?,
        });
    }
    if axes.is_empty() || axes.len() > 2 {
        return Err(fmt_err(file, format!("has {} axes; a sweep has one or two", axes.len())));
    }
    let cells = axes.iter().map(Axis::len).product::<usize>();
    let r = replicas as usize;
    let read_flat = |name: &str, len: usize| -> Result<Vec<f64>, SweepError> {
        let v: Vec<f64> = f.dataset(name).and_then(|d| d.read_raw()).map_err(h5(file, format!("reading /{name}")))?;
        if v.len() != len {
            return Err(fmt_err(file, format!("/{name} has {} values, the grid needs {len}", v.len())));
        }
        Ok(v)
    };
    let done: Vec<u8> = f.dataset("done").and_then(|d| d.read_raw()).map_err(h5(file, "reading /done".into()))?;
    if done.len() != cells {
        return Err(fmt_err(file, format!("/done has {} cells, the axes give {cells}", done.len())));
    }
    let run_seeds: Vec<u64> =
        f.dataset("run_seeds").and_then(|d| d.read_raw()).map_err(h5(file, "reading /run_seeds".into()))?;
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

fn get<T: H5Type>(loc: &Location, file: &str, name: &str) -> Result<T, SweepError> {
    loc.attr(name)
        .map_err(|_| fmt_err(file, format!("no attribute {name}: not a complete hollow sweep file")))?
        .read_scalar()
        .map_err(h5(file, format!("reading attribute {name}")))
}

fn get_str(loc: &Location, file: &str, name: &str) -> Result<String, SweepError> {
    get::<VarLenUnicode>(loc, file, name).map(|s| s.as_str().to_string())
}

fn get_str_list(loc: &Location, file: &str, name: &str) -> Result<Vec<String>, SweepError> {
    let v: Vec<VarLenUnicode> = loc
        .attr(name)
        .map_err(|_| fmt_err(file, format!("no attribute {name}: not a complete hollow sweep file")))?
        .read_raw()
        .map_err(h5(file, format!("reading attribute {name}")))?;
    Ok(v.into_iter().map(|s| s.as_str().to_string()).collect())
}

fn h5(file: &str, doing: String) -> impl FnOnce(::hdf5::Error) -> SweepError {
    let file = file.to_string();
    move |source| OutputError::Hdf5 { file, doing, source }.into()
}

fn fmt_err(file: &str, reason: impl Into<String>) -> SweepError {
    OutputError::Format { file: file.to_string(), reason: reason.into() }.into()
}
