//! The HDF5 run file: [`write_run`] stores a run's metadata and every per-step metric of
//! [`crate::observe::METRICS`] (the snapshots and curves of a [`Recorder`] through
//! `io::snapshots`); [`read_run`] loads it back into a [`RunFile`]. The layout is
//! documented in `docs/output.md` and nowhere else; what is recorded (names, units,
//! histograms) is declared in `observe.rs`, not here. Writing is atomic and checked:
//! `<path>.tmp` first, then a rename, through [`crate::io::output::Output`] (which refuses
//! to replace files that are not ours). Attributes and datasets are written with `io::h5`.

use crate::config::Config;
use crate::io::h5::{self, Ctx, get, get_str, get_str_list, put, put_str, put_str_list};
use crate::io::snapshots;
use crate::observe::{METRICS, OUTCOMES, Outcomes, Recorder, Settled, Snapshot};
use ::hdf5::{Dataset, File};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::io::error::OutputError;
pub use crate::io::h5::now_rfc3339;

/// Value of the root attribute `format`: what kind of file this is.
pub const FORMAT: &str = "hollow-run";
/// Value of the root attribute `format_version`; bump it when the layout changes. Version
/// 2 added the stacked snapshot variables and their dimension scales to `/snapshots`
/// (a reader of version 1 takes them for misnamed snapshot groups).
pub const FORMAT_VERSION: u32 = 2;

/// Everything about a run that is not a time series: stored as root attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMeta {
    /// `hollow` version that wrote the file (`env!("CARGO_PKG_VERSION")`).
    pub version: String,
    /// The run's config as TOML text (`Config::to_toml`).
    pub config_toml: String,
    pub seed: u64,
    /// "cpu" or "gpu".
    pub backend: String,
    /// What ran it, e.g. "2 rayon threads" or the GPU adapter's name.
    pub device: String,
    /// Creation time, RFC 3339 UTC (see [`now_rfc3339`]).
    pub created: String,
    pub steps_requested: u32,
    /// False when the run was interrupted (Ctrl-C) before `steps_requested` steps.
    pub complete: bool,
    pub settled: Option<Settled>,
    pub outcomes: Outcomes,
}

impl RunMeta {
    /// Metadata for a complete, unsettled run of `cfg` created now; the caller fills in
    /// `complete`, `settled` and `outcomes` when it knows them.
    pub fn new(cfg: &Config, backend: &str, device: &str) -> RunMeta {
        RunMeta {
            version: env!("CARGO_PKG_VERSION").to_string(),
            config_toml: cfg.to_toml(),
            seed: cfg.top.seed,
            backend: backend.to_string(),
            device: device.to_string(),
            created: now_rfc3339(),
            steps_requested: cfg.top.steps,
            complete: true,
            settled: None,
            outcomes: Outcomes::default(),
        }
    }
}

/// Units and description of a stored series (its dataset attributes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesInfo {
    pub units: String,
    pub description: String,
}

/// A run file read back.
#[derive(Clone, Debug)]
pub struct RunFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// `format_version` of the file.
    pub format_version: u32,
    pub meta: RunMeta,
    /// Steps recorded (the length of every series).
    pub steps_done: u32,
    /// Every dataset of `/timeseries`, by name.
    pub series: BTreeMap<String, Vec<f64>>,
    /// Units and description of every series, by name.
    pub series_info: BTreeMap<String, SeriesInfo>,
    /// Series names in the order they were declared (`METRICS` of the writer).
    pub series_order: Vec<String>,
    /// Steps with a snapshot, ascending.
    pub snapshot_steps: Vec<u32>,
    /// The snapshots (histograms and curves), in `snapshot_steps` order.
    pub snapshots: Vec<Snapshot>,
}

impl RunFile {
    /// One series by name.
    pub fn series(&self, name: &str) -> Option<&[f64]> {
        self.series.get(name).map(Vec::as_slice)
    }

    /// The recorded run as a [`Recorder`] (columns in this build's `METRICS` order), for
    /// plotting and summaries from a file. Fails when the file lacks one of the metrics.
    pub fn to_recorder(&self) -> Result<Recorder, OutputError> {
        let mut rec = Recorder::new();
        for (col, m) in rec.columns.iter_mut().zip(METRICS) {
            let s = self.series(m.name).ok_or_else(|| OutputError::Format {
                file: self.path.display().to_string(),
                reason: format!(
                    "no series /timeseries/{} (written by hollow {}; this build records it); rerun with this version",
                    m.name, self.meta.version
                ),
            })?;
            *col = s.to_vec();
        }
        rec.snapshots = self.snapshots.clone();
        Ok(rec)
    }
}

fn format_err(file: &str, reason: impl Into<String>) -> OutputError {
    OutputError::format(file, reason)
}

// ---------------------------------------------------------------------------------------
// Writing

/// Writes a run to `path` atomically: the file is written to `<path>.tmp` in the same
/// directory and renamed over `path` only once complete, so an existing file at `path` is
/// either replaced whole or left untouched; on error the temporary file is removed.
pub fn write_run(path: &Path, meta: &RunMeta, rec: &Recorder) -> Result<(), OutputError> {
    write_run_with(path, meta, rec, &[])
}

/// [`write_run`] plus extra f64 root attributes `extra` (name, value): the mean-field
/// comparison of `hollow run` (`meanfield_*`, see docs/output.md) and the layer a
/// `hollow meanfield` file comes from.
pub fn write_run_with(path: &Path, meta: &RunMeta, rec: &Recorder, extra: &[(String, f64)]) -> Result<(), OutputError> {
    // Checked before the output is touched: a bad run leaves no temporary file.
    check_run(&path.display().to_string(), meta, rec)?;
    let out = crate::io::output::Output::create(path, &[], false)?;
    write_run_to(&out, meta, rec, extra)
}

/// The run's config, parsed back from its text, once the recorder is known to be whole.
fn check_run(file: &str, meta: &RunMeta, rec: &Recorder) -> Result<Config, OutputError> {
    let file = file.to_string();
    let cfg: Config = toml::from_str(&meta.config_toml)
        .map_err(|e| format_err(&file, format!("the run's config text does not parse as a hollow config: {e}")))?;
    if rec.columns.len() != METRICS.len() {
        return Err(format_err(
            &file,
            format!(
                "recorder has {} columns but {} metrics are declared; build it with Recorder::new",
                rec.columns.len(),
                METRICS.len()
            ),
        ));
    }
    if let Some((m, c)) = METRICS.iter().zip(&rec.columns).find(|(_, c)| c.len() != rec.len()) {
        return Err(format_err(
            &file,
            format!(
                "recorder column {} has {} values, {} steps are recorded; fill it with Recorder::push",
                m.name,
                c.len(),
                rec.len()
            ),
        ));
    }
    Ok(cfg)
}

/// [`write_run_with`] into an [`Output`](crate::io::output::Output) taken earlier (before
/// the simulation, with the command's inputs and `--force`): fills its temporary file and
/// renames it over the path; on error the temporary file is removed and an existing file
/// at the path is left untouched.
pub fn write_run_to(
    out: &crate::io::output::Output,
    meta: &RunMeta,
    rec: &Recorder,
    extra: &[(String, f64)],
) -> Result<(), OutputError> {
    let file = out.path().display().to_string();
    let cfg = check_run(&file, meta, rec)?;
    let result = write_file(out.tmp(), &file, meta, rec, &cfg, extra).and_then(|()| out.commit());
    if result.is_err() {
        out.discard();
    }
    result
}

/// Writes the whole file at `tmp` (errors name `file`, the final path).
fn write_file(
    tmp: &Path,
    file: &str,
    meta: &RunMeta,
    rec: &Recorder,
    cfg: &Config,
    extra: &[(String, f64)],
) -> Result<(), OutputError> {
    let f = File::create(tmp).ctx(file, || format!("creating temporary file {}", tmp.display()))?;
    write_root_attrs(&f, file, meta, rec)?;
    for (name, v) in extra {
        put(&f, file, name, *v)?;
    }
    write_timeseries(&f, file, rec)?;
    snapshots::write(&f, file, &rec.snapshots, cfg)?;
    f.close().ctx(file, || format!("closing temporary file {}", tmp.display()))
}

fn write_root_attrs(f: &File, file: &str, meta: &RunMeta, rec: &Recorder) -> Result<(), OutputError> {
    let steps_done = u32::try_from(rec.len()).map_err(|_| format_err(file, "more than u32::MAX steps recorded"))?;
    put_str(f, file, "format", FORMAT)?;
    put(f, file, "format_version", FORMAT_VERSION)?;
    put_str(f, file, "hollow_version", &meta.version)?;
    put_str(f, file, "config", &meta.config_toml)?;
    put(f, file, "seed", meta.seed)?;
    put_str(f, file, "backend", &meta.backend)?;
    put_str(f, file, "device", &meta.device)?;
    put_str(f, file, "created", &meta.created)?;
    put(f, file, "steps_requested", meta.steps_requested)?;
    put(f, file, "steps_done", steps_done)?;
    put(f, file, "complete", u8::from(meta.complete))?;
    let s = meta.settled;
    put(f, file, "settled_step", s.map_or(-1_i64, |s| i64::from(s.step)))?;
    put(f, file, "settled_share_ai", s.map_or(f64::NAN, |s| s.share_ai))?;
    put(f, file, "settled_share_human", s.map_or(f64::NAN, |s| s.share_human))?;
    put(f, file, "settled_welfare", s.map_or(f64::NAN, |s| s.welfare))?;
    for (name, v) in OUTCOMES.iter().zip(meta.outcomes.values()) {
        put(f, file, &format!("outcome_{name}"), v)?;
    }
    Ok(())
}

fn write_timeseries(f: &File, file: &str, rec: &Recorder) -> Result<(), OutputError> {
    let g = h5::ordered_group(f, file, "timeseries")?;
    put_str_list(&g, file, "metrics", METRICS.iter().map(|m| m.name))?;
    let mut written = Vec::with_capacity(METRICS.len());
    for (m, col) in METRICS.iter().zip(&rec.columns) {
        let ds = h5::put_described(&g, file, m.name, &[col.len()], col, m.unit, m.description)?;
        written.push(ds);
    }
    // `step` is the dimension every series runs along: a dimension scale, so netCDF readers
    // (xarray) index the group by it.
    if let Some(step) = written.iter().find(|d| d.name().ends_with("/step")) {
        let data: Vec<&Dataset> = written.iter().filter(|d| !d.name().ends_with("/step")).collect();
        crate::io::dimscale::set_scale(step, "step")
            .and_then(|_| crate::io::dimscale::attach(f, &data, &[step]))
            .ctx(file, || "attaching the step dimension scale in /timeseries".to_string())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reading

/// Reads a run file written by [`write_run`].
pub fn read_run(path: &Path) -> Result<RunFile, OutputError> {
    let file_name = path.display().to_string();
    let file = file_name.as_str();
    if !path.is_file() {
        return Err(OutputError::Io {
            file: file.to_string(),
            doing: "opening the run file".to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file; check the path"),
        });
    }
    let f = File::open(path).ctx(file, || "opening the file as HDF5 (is it a hollow run file?)".to_string())?;
    let format: String = get_str(&f, file, "format")?;
    if format != FORMAT {
        return Err(format_err(file, format!("attribute format is {format:?}, not {FORMAT:?}: not a hollow run file")));
    }
    let format_version: u32 = get(&f, file, "format_version")?;
    if format_version > FORMAT_VERSION {
        return Err(format_err(
            file,
            format!(
                "written in format version {format_version}, this build reads up to {FORMAT_VERSION}; upgrade hollow"
            ),
        ));
    }
    let settled_step: i64 = get(&f, file, "settled_step")?;
    let settled = if settled_step >= 0 {
        Some(Settled {
            step: u32::try_from(settled_step)
                .map_err(|_| format_err(file, format!("settled_step {settled_step} is out of range")))?,
            share_ai: get(&f, file, "settled_share_ai")?,
            share_human: get(&f, file, "settled_share_human")?,
            welfare: get(&f, file, "settled_welfare")?,
        })
    } else {
        None
    };
    let mut ov = [0.0; OUTCOMES.len()];
    for (v, name) in ov.iter_mut().zip(OUTCOMES) {
        *v = get(&f, file, &format!("outcome_{name}"))?;
    }
    let meta = RunMeta {
        version: get_str(&f, file, "hollow_version")?,
        config_toml: get_str(&f, file, "config")?,
        seed: get(&f, file, "seed")?,
        backend: get_str(&f, file, "backend")?,
        device: get_str(&f, file, "device")?,
        created: get_str(&f, file, "created")?,
        steps_requested: get(&f, file, "steps_requested")?,
        complete: get::<u8>(&f, file, "complete")? != 0,
        settled,
        outcomes: outcomes_from(ov),
    };
    let steps_done: u32 = get(&f, file, "steps_done")?;

    if !f.link_exists("timeseries") {
        return Err(format_err(file, "no group /timeseries: not a complete hollow run file"));
    }
    let ts = f.group("timeseries").ctx(file, || "opening group /timeseries".to_string())?;
    let series_order = get_str_list(&ts, file, "metrics")?;
    let mut series = BTreeMap::new();
    let mut series_info = BTreeMap::new();
    for name in ts.member_names().ctx(file, || "listing /timeseries".to_string())? {
        let ds = ts.dataset(&name).ctx(file, || format!("opening dataset /timeseries/{name}"))?;
        let v: Vec<f64> = ds.read_raw().ctx(file, || format!("reading dataset /timeseries/{name}"))?;
        if ds.ndim() != 1 || v.len() != steps_done as usize {
            return Err(format_err(
                file,
                format!("/timeseries/{name} has shape {:?}, expected [{steps_done}] (steps_done)", ds.shape()),
            ));
        }
        series_info.insert(
            name.clone(),
            SeriesInfo { units: get_str(&ds, file, "units")?, description: get_str(&ds, file, "description")? },
        );
        series.insert(name, v);
    }

    let snapshots = snapshots::read(&f, file)?;
    let snapshot_steps = snapshots.iter().map(|s| s.step).collect();
    Ok(RunFile {
        path: path.to_path_buf(),
        format_version,
        meta,
        steps_done,
        series,
        series_info,
        series_order,
        snapshot_steps,
        snapshots,
    })
}

/// Outcomes from their values in `OUTCOMES` order (the inverse of `Outcomes::values`).
fn outcomes_from(v: [f64; OUTCOMES.len()]) -> Outcomes {
    let [
        share_exit,
        share_ai,
        share_human,
        welfare_final,
        welfare_pre,
        welfare_min,
        collapse_depth,
        collapse_duration,
        active_dip,
        hhi_pre,
        hhi_final,
        settle_step,
        units_ai_final,
        congestion_final,
    ] = v;
    Outcomes {
        share_exit,
        share_ai,
        share_human,
        welfare_final,
        welfare_pre,
        welfare_min,
        collapse_depth,
        collapse_duration,
        active_dip,
        hhi_pre,
        hhi_final,
        settle_step,
        units_ai_final,
        congestion_final,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_values() {
        let v: [f64; OUTCOMES.len()] = std::array::from_fn(|i| i as f64 + 0.5);
        assert_eq!(outcomes_from(v).values(), v);
        assert_eq!(OUTCOMES.len(), v.len());
    }
}
