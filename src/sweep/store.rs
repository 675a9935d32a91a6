//! The sweep file: one HDF5 file per sweep, shard or checkpoint (they are the same
//! format; a checkpoint is a file whose `complete` is 0). [`write`] stores a
//! [`SweepFile`] atomically (`<path>.tmp`, fsync, rename, through `io::output`), [`read`]
//! loads it back, and [`cell_stats`] gives the per-cell mean/std (numeric) or
//! mode/agreement (categorical) that are stored next to the raw values. A file holds a grid
//! (any number of axes) or a run list, and optionally per-step series of every run.
//! Attributes and datasets are written with `io::h5`, as in run files. Layout in
//! `docs/sweeps.md`.

use super::spec::{self, Axis, RunTable, Scale};
use super::{Shard, SweepError};
use crate::io::h5::{Ctx, OutputError, get, get_str, get_str_list, put, put_described, put_str, put_str_list};
use crate::io::output::Output;
use crate::observe::{METRICS, outcome_categories, outcome_description, outcome_unit};
use ::hdf5::File;
use std::path::Path;

/// Root attribute `format` of a sweep file.
pub const FORMAT: &str = "hollow-sweep";
/// Root attribute `format_version`; bump it when the layout changes. Version 2 names the
/// metric groups' unit attribute `units` (was `unit`) and describes every dataset (hollow
/// reads neither attribute); version 3 allows any number of axes, run lists (`plan`,
/// `/runs`) and per-step series (`series`, `/grid/<name>_by_step`), and lays out one- and
/// two-axis grids as version 2 did. This build reads versions 1 to 3.
pub const FORMAT_VERSION: u32 = 3;
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
    /// The axes of a grid (empty for a run list).
    pub axes: Vec<Axis>,
    /// The runs of a run list (`None` for a grid).
    pub runs: Option<RunTable>,
    /// Outcome names, in dataset order.
    pub metrics: Vec<String>,
    /// Per cell (row-major over the axes; of a run list, by run): all replicas computed.
    pub done: Vec<bool>,
    /// `values[metric][cell * replicas + replica]`, NaN where not done.
    pub values: Vec<Vec<f64>>,
    /// Seed of every run, `cell * replicas + replica` (0 where not done).
    pub run_seeds: Vec<u64>,
    /// Per-step metrics recorded for every run (`Spec::series`), and their values:
    /// `series_values[k][(cell * replicas + replica) * steps + step]`, NaN where not done.
    pub series: Vec<String>,
    pub series_values: Vec<Vec<f64>>,
}

impl SweepFile {
    /// The extent of every dimension of the cells: the axis lengths, or the run count.
    pub fn dims(&self) -> Vec<usize> {
        match &self.runs {
            Some(r) => vec![r.runs],
            None => self.axes.iter().map(Axis::len).collect(),
        }
    }
    /// The cells as a matrix (n1, n2), as [`super::Spec::shape`]: a one- or two-axis
    /// grid's shape (n2 = 1 for one axis).
    pub fn shape(&self) -> (usize, usize) {
        let d = self.dims();
        (d.first().copied().unwrap_or(0), d.iter().skip(1).product())
    }
    pub fn is_run_list(&self) -> bool {
        self.runs.is_some()
    }
    /// Index along every dimension of a cell (row-major).
    pub fn cell_indices(&self, cell: usize) -> Vec<usize> {
        spec::unravel(cell, &self.dims())
    }
    /// "key=value, ..." of a cell, or "run i: key=value, ..." of a run list, for messages.
    pub fn describe_cell(&self, cell: usize) -> String {
        match &self.runs {
            Some(r) => r.describe(cell),
            None => self
                .axes
                .iter()
                .zip(self.cell_indices(cell))
                .map(|(a, k)| format!("{}={}", a.key, a.values[k]))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
    /// "3 × 4 × 2 cells" or "5 runs".
    pub fn describe_dims(&self) -> String {
        spec::describe_dims(&self.dims(), self.is_run_list())
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
    /// Raw values of one per-step series, `(cell * replicas + replica) * steps + step`.
    pub fn series(&self, name: &str) -> Option<&[f64]> {
        self.series.iter().position(|m| m == name).map(|i| self.series_values[i].as_slice())
    }
    /// The sub-grid with axis `a` fixed at value index `i` for every `(a, i)` of `fixed`:
    /// a file of the remaining axes (in their order) holding those cells' runs, as if
    /// it had been swept alone (`complete` when all its cells are done). Of a grid only.
    pub fn slice(&self, fixed: &[(usize, usize)]) -> SweepFile {
        let dims = self.dims();
        let keep: Vec<usize> = (0..self.axes.len()).filter(|a| !fixed.iter().any(|(f, _)| f == a)).collect();
        let kept_dims: Vec<usize> = keep.iter().map(|&a| dims[a]).collect();
        let n: usize = kept_dims.iter().product();
        let (r, steps) = (self.replicas as usize, self.steps as usize);
        let mut out = self.clone();
        out.axes = keep.iter().map(|&a| self.axes[a].clone()).collect();
        out.done = Vec::with_capacity(n);
        out.values.iter_mut().for_each(Vec::clear);
        out.run_seeds.clear();
        out.series_values.iter_mut().for_each(Vec::clear);
        let mut idx = vec![0; dims.len()];
        for &(a, i) in fixed {
            idx[a] = i;
        }
        for cell in 0..n {
            for (&a, i) in keep.iter().zip(spec::unravel(cell, &kept_dims)) {
                idx[a] = i;
            }
            let from = spec::ravel(&idx, &dims);
            out.done.push(self.done[from]);
            for (o, v) in out.values.iter_mut().zip(&self.values) {
                o.extend_from_slice(&v[from * r..(from + 1) * r]);
            }
            out.run_seeds.extend_from_slice(&self.run_seeds[from * r..(from + 1) * r]);
            for (o, v) in out.series_values.iter_mut().zip(&self.series_values) {
                o.extend_from_slice(&v[from * r * steps..(from + 1) * r * steps]);
            }
        }
        out.complete = out.done.iter().all(|&d| d);
        out
    }
    /// The shape `/done` and the per-cell datasets of `/metrics` are stored in: one
    /// dimension per axis (or the runs of a run list), except that a one-axis grid keeps
    /// the second dimension of length 1 it has always had, so readers of older files
    /// keep working.
    fn stored_dims(&self) -> Vec<usize> {
        let mut d = self.dims();
        if self.runs.is_none() && d.len() == 1 {
            d.push(1);
        }
        d
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
    let dims = s.stored_dims();
    let r = s.replicas as usize;
    let cells: usize = dims.iter().product();
    let per_run = s.steps as usize;
    if s.done.len() != cells
        || s.values.len() != s.metrics.len()
        || s.values.iter().any(|v| v.len() != cells * r)
        || s.run_seeds.len() != cells * r
        || s.series_values.len() != s.series.len()
        || s.series_values.iter().any(|v| v.len() != cells * r * per_run)
        || s.runs.as_ref().is_some_and(|t| !s.axes.is_empty() || t.values.iter().any(|v| v.len() != cells))
    {
        return Err(fmt_err(file, "internal: sweep data does not match its grid shape"));
    }
    let with_r = |extra: &[usize]| dims.iter().copied().chain(extra.iter().copied()).collect::<Vec<usize>>();
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
    put_str(&f, file, "plan", if s.is_run_list() { PLAN_RUNS } else { PLAN_GRID })?;
    put_str_list(&f, file, "axis_keys", s.axes.iter().map(|a| a.key.as_str()))?;
    put_str_list(&f, file, "metrics", s.metrics.iter().map(String::as_str))?;
    put_str_list(&f, file, "series", s.series.iter().map(String::as_str))?;

    match &s.runs {
        None => {
            let axes = f.create_group("axes").ctx(file, || "creating group /axes".into())?;
            for (i, a) in s.axes.iter().enumerate() {
                let ds =
                    put_described(&axes, file, &format!("axis{i}"), &[a.len()], &a.values, "", &axis_description(a))?;
                put_str(&ds, file, "key", &a.key)?;
                put_str(&ds, file, "label", &a.label)?;
                put_str(&ds, file, "scale", a.scale.name())?;
            }
        }
        Some(t) => {
            put_str_list(&f, file, "run_keys", t.keys.iter().map(String::as_str))?;
            let g = f.create_group("runs").ctx(file, || "creating group /runs".into())?;
            for (k, v) in t.keys.iter().zip(&t.values) {
                put_described(&g, file, k, &[t.runs], v, "", &run_key_description(k))?;
            }
        }
    }
    let done: Vec<u8> = s.done.iter().map(|&d| u8::from(d)).collect();
    put_described(&f, file, "done", &dims, &done, "", "1 where all replicas of the cell are stored, by cell")?;
    let seeds_doing = "seed of every run, by cell and replica (0 where not done)";
    put_described(&f, file, "run_seeds", &with_r(&[r]), &s.run_seeds, "", seeds_doing)?;
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
            &with_r(&[r]),
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
        put_described(&g, file, na, &dims, &a, units, &format!("{what}: {da}, by cell"))?;
        put_described(&g, file, nb, &dims, &b, ub, &format!("{what}: {db}, by cell"))?;
    }
    write_grid(&f, file, s)?;
    f.close().ctx(file, || format!("closing {}", tmp.display()))?;
    Ok(())
}

/// Root attribute `plan`: what the cells are (absent in files before version 3: a grid).
const PLAN_GRID: &str = "grid";
const PLAN_RUNS: &str = "runs";
/// The `/grid` name of a per-step series: outcome and series names overlap (`share_ai`).
pub fn series_var(name: &str) -> String {
    format!("{name}_by_step")
}

/// What an axis dataset holds: the swept config key and its label.
fn axis_description(a: &Axis) -> String {
    if a.label == a.key {
        format!("values of the swept config key {}", a.key)
    } else {
        format!("values of the swept config key {} ({})", a.key, a.label)
    }
}

/// What a run-list key's dataset holds.
fn run_key_description(key: &str) -> String {
    format!("value of the config key {key} in each run: the run's override, else the base config's")
}

/// `/grid`: every metric's runs again, as one variable over the axis keys (or `run`) and
/// `replica`, whose values are dimension scales attached to it (`io::dimscale`), so netCDF
/// readers (`xarray.open_dataset(FILE, engine="h5netcdf", group="grid")`) get named
/// dimensions with their coordinates. A copy of `/metrics/*/values` (the runs' outcomes are
/// small). A run list's overridden keys are variables along `run`, named as coordinates
/// of every metric (the CF `coordinates` attribute). Per-step series live only here
/// (they are large), along the same dimensions and `step`.
fn write_grid(f: &File, file: &str, s: &SweepFile) -> Result<(), SweepError> {
    use crate::io::dimscale;
    let r = s.replicas as usize;
    let g = f.create_group("grid").ctx(file, || "creating group /grid".into())?;
    let mut scales = Vec::new();
    let mut coords = Vec::new();
    match &s.runs {
        None => {
            for a in &s.axes {
                let ds = put_described(&g, file, &a.key, &[a.len()], &a.values, "", &axis_description(a))?;
                put_str(&ds, file, "long_name", &a.label)?;
                dimscale::set_scale(&ds, &a.key).ctx(file, || format!("making /grid/{} a dimension scale", a.key))?;
                scales.push(ds);
            }
        }
        Some(t) => {
            let runs: Vec<u32> = (0..t.runs as u32).collect();
            let ds =
                put_described(&g, file, "run", &[t.runs], &runs, "", "run number: the spec's [[run]] tables in order")?;
            dimscale::set_scale(&ds, "run").ctx(file, || "making /grid/run a dimension scale".into())?;
            scales.push(ds);
            for (k, v) in t.keys.iter().zip(&t.values) {
                coords.push(put_described(&g, file, k, &[t.runs], v, "", &run_key_description(k))?);
            }
        }
    }
    let replicas: Vec<u32> = (0..s.replicas).collect();
    let ds = put_described(&g, file, "replica", &[r], &replicas, "", "replica number (its seed is in /run_seeds)")?;
    dimscale::set_scale(&ds, "replica").ctx(file, || "making /grid/replica a dimension scale".into())?;
    scales.push(ds);
    let shape: Vec<usize> = s.dims().into_iter().chain([r]).collect();
    let by = if s.is_run_list() { "by run and replica" } else { "by axis values and replica" };
    let coordinates = s.runs.as_ref().map(|t| t.keys.join(" ")).filter(|c| !c.is_empty());
    let mut vars = Vec::new();
    for (name, v) in s.metrics.iter().zip(&s.values) {
        let what = outcome_description(name).unwrap_or(name);
        let what = match outcome_categories(name) {
            Some(c) => format!("{what}, every run (category index: {})", c.join(", ")),
            None => format!("{what}, every run"),
        };
        let description = format!("{what}, {by}; NaN where not done");
        let ds = put_described(&g, file, name, &shape, v, outcome_unit(name).unwrap_or(""), &description)?;
        if let Some(c) = &coordinates {
            put_str(&ds, file, "coordinates", c)?;
        }
        vars.push(ds);
    }
    let mut series_vars = Vec::new();
    if !s.series.is_empty() {
        let steps: Vec<u32> = (0..s.steps).collect();
        let step = put_described(&g, file, "step", &[steps.len()], &steps, "step", "step index, as in a run file")?;
        dimscale::set_scale(&step, "step").ctx(file, || "making /grid/step a dimension scale".into())?;
        let shape: Vec<usize> = shape.iter().copied().chain([steps.len()]).collect();
        for (name, v) in s.series.iter().zip(&s.series_values) {
            let m = METRICS.iter().find(|m| m.name == name);
            let description = format!(
                "{} at every step of every run, {by} and step; NaN where not done",
                m.map_or(name.as_str(), |m| m.description)
            );
            let ds = put_described(&g, file, &series_var(name), &shape, v, m.map_or("", |m| m.unit), &description)?;
            if let Some(c) = &coordinates {
                put_str(&ds, file, "coordinates", c)?;
            }
            series_vars.push(ds);
        }
        scales.push(step);
    }
    // Outcomes along every scale but `step` (the last, when there are series); series along all.
    let all: Vec<&::hdf5::Dataset> = scales.iter().collect();
    let plain = &all[..all.len() - usize::from(!s.series.is_empty())];
    let mut links: Vec<(&::hdf5::Dataset, &[&::hdf5::Dataset])> = vars.iter().map(|v| (v, plain)).collect();
    links.extend(series_vars.iter().map(|v| (v, &all[..])));
    // A run list's key variables run along `run`, the first scale.
    links.extend(coords.iter().map(|v| (v, &plain[..1])));
    dimscale::attach_each(f, &links).ctx(file, || "attaching the /grid dimension scales".into())?;
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
    let steps: u32 = get(&f, file, "steps")?;
    // Files before version 3 hold a grid and no series.
    let plan = if has_attr(&f, "plan") { get_str(&f, file, "plan")? } else { PLAN_GRID.to_string() };
    let series = if has_attr(&f, "series") { get_str_list(&f, file, "series")? } else { Vec::new() };
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
    let done: Vec<u8> = f.dataset("done").and_then(|d| d.read_raw()).ctx(file, || "reading /done".into())?;
    let runs = match plan.as_str() {
        PLAN_GRID => {
            if axes.is_empty() {
                return Err(fmt_err(file, "a grid without axes (attribute axis_keys is empty)"));
            }
            None
        }
        PLAN_RUNS => {
            let n = done.len();
            let keys = get_str_list(&f, file, "run_keys")?;
            let values = keys
                .iter()
                .map(|k| {
                    let v: Vec<f64> = f
                        .dataset(&format!("runs/{k}"))
                        .and_then(|d| d.read_raw())
                        .ctx(file, || format!("reading /runs/{k}"))?;
                    if v.len() != n {
                        return Err(fmt_err(file, format!("/runs/{k} has {} values for {n} runs", v.len())));
                    }
                    Ok(v)
                })
                .collect::<Result<Vec<_>, SweepError>>()?;
            Some(RunTable { runs: n, keys, values })
        }
        other => return Err(fmt_err(file, format!("unknown plan \"{other}\" (expected grid or runs)"))),
    };
    let cells = match &runs {
        Some(t) => t.runs,
        None => axes.iter().map(Axis::len).product::<usize>(),
    };
    let r = replicas as usize;
    let read_flat = |name: &str, len: usize| -> Result<Vec<f64>, SweepError> {
        let v: Vec<f64> = f.dataset(name).and_then(|d| d.read_raw()).ctx(file, || format!("reading /{name}"))?;
        if v.len() != len {
            return Err(fmt_err(file, format!("/{name} has {} values, the grid needs {len}", v.len())));
        }
        Ok(v)
    };
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
    let series_values = series
        .iter()
        .map(|m| read_flat(&format!("grid/{}", series_var(m)), cells * r * steps as usize))
        .collect::<Result<Vec<_>, _>>()?;
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
        steps,
        replicas,
        block: get(&f, file, "block")?,
        shard: Shard { index: get(&f, file, "shard_index")?, count: get(&f, file, "shard_count")? },
        complete: get::<u8>(&f, file, "complete")? != 0,
        executor: get_str(&f, file, "executor")?,
        axes,
        runs,
        metrics,
        done: done.into_iter().map(|d| d != 0).collect(),
        values,
        run_seeds,
        series,
        series_values,
    })
}

/// Whether `f` has the root attribute `name` (attributes added in later format versions).
fn has_attr(f: &File, name: &str) -> bool {
    f.attr_names().is_ok_and(|n| n.iter().any(|a| a == name))
}

fn fmt_err(file: &str, reason: impl Into<String>) -> SweepError {
    OutputError::format(file, reason).into()
}
