//! The HDF5 run file: [`write_run`] stores a run's metadata, every per-step metric of
//! [`crate::observe::METRICS`] and the snapshots/curves of a [`Recorder`]; [`read_run`]
//! loads it back into a [`RunFile`]. The layout is documented in `docs/output.md` and
//! nowhere else; what is recorded (names, units, histograms) is declared in
//! `observe.rs`, not here. Writing is atomic and checked: `<path>.tmp` first, then a rename,
//! through [`crate::io::output::Output`] (which refuses to replace files that are not ours).

use crate::config::Config;
use crate::observe::{METRICS, OUTCOMES, Outcomes, Recorder, Settled, Snapshot};
use ::hdf5::types::VarLenUnicode;
use ::hdf5::{Dataset, File, Group, H5Type, Location};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Value of the root attribute `format`: what kind of file this is.
pub const FORMAT: &str = "hollow-run";
/// Value of the root attribute `format_version`; bump it when the layout changes.
pub const FORMAT_VERSION: u32 = 1;
/// Deflate level of every dataset (1 fast .. 9 small).
const DEFLATE_LEVEL: u8 = 4;
/// Largest chunk, in elements, of a dataset (1-D series are chunked along time).
const MAX_CHUNK_ELEMS: usize = 1 << 16;
/// Row labels of the per-mode histograms.
const MODE_ROWS: &str = "exit, AI, human";
/// Row labels of the per-channel histograms and curves.
const CHANNEL_ROWS: &str = "AI, human";

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

/// What went wrong reading or writing a run file; every message names the file.
#[derive(thiserror::Error, Debug)]
pub enum OutputError {
    #[error("{file}: {doing} failed: {source}")]
    Io {
        file: String,
        doing: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: HDF5 error while {doing}: {source}")]
    Hdf5 {
        file: String,
        doing: String,
        #[source]
        source: ::hdf5::Error,
    },
    #[error("{file}: {reason}")]
    Format { file: String, reason: String },
    /// The output path may not be replaced (see `io::output`).
    #[error("{file}: refusing to write the output there: {reason}")]
    Refused { file: String, reason: String },
    /// Another process holds the output's lock.
    #[error(
        "{file}: another process is writing this output (it holds the lock on {lock}); wait for it to finish, \
         or choose another output path"
    )]
    Locked { file: String, lock: String },
}

/// Attaches the file and the operation to HDF5 errors.
trait Ctx<T> {
    fn ctx(self, file: &str, doing: impl FnOnce() -> String) -> Result<T, OutputError>;
}

impl<T> Ctx<T> for ::hdf5::Result<T> {
    fn ctx(self, file: &str, doing: impl FnOnce() -> String) -> Result<T, OutputError> {
        self.map_err(|source| OutputError::Hdf5 { file: file.to_string(), doing: doing(), source })
    }
}

fn format_err(file: &str, reason: impl Into<String>) -> OutputError {
    OutputError::Format { file: file.to_string(), reason: reason.into() }
}

// ---------------------------------------------------------------------------------------
// Time

/// The current time as RFC 3339 UTC, e.g. `2025-11-27T19:45:00Z`.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs as i64)
}

/// Seconds since the Unix epoch as RFC 3339 UTC.
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
    write_snapshots(&f, file, rec, cfg)?;
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
    let g = ordered_group(f, file, "timeseries")?;
    put_str_list(&g, file, "metrics", METRICS.iter().map(|m| m.name))?;
    let mut written = Vec::with_capacity(METRICS.len());
    for (m, col) in METRICS.iter().zip(&rec.columns) {
        let ds = put_dataset(&g, file, m.name, &[col.len()], col)?;
        put_str(&ds, file, "units", m.unit)?;
        put_str(&ds, file, "description", m.description)?;
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

fn write_snapshots(f: &File, file: &str, rec: &Recorder, cfg: &Config) -> Result<(), OutputError> {
    let snaps = ordered_group(f, file, "snapshots")?;
    let curves = ordered_group(f, file, "curves")?;
    let q_max = f64::from(cfg.market.q_max);
    let span = f64::from(crate::observe::talent_span(cfg.technology.talent_sigma));
    for s in &rec.snapshots {
        let name = step_name(s.step);
        let g = snaps.create_group(&name).ctx(file, || format!("creating group /snapshots/{name}"))?;
        put(&g, file, "step", s.step)?;
        let hists = [
            Hist {
                name: "quality",
                rows: &s.quality,
                row_labels: MODE_ROWS,
                axis: "nominal quality q of the creator's units",
                lo: 0.0,
                hi: q_max,
                units: "creators",
                description: "Creators by nominal quality, by mode",
            },
            Hist {
                name: "units_quality",
                rows: &s.units_quality,
                row_labels: CHANNEL_ROWS,
                axis: "nominal quality q",
                lo: 0.0,
                hi: q_max,
                units: "units",
                description: "Units offered by nominal quality, by channel",
            },
            Hist {
                name: "creative",
                rows: &s.creative,
                row_labels: MODE_ROWS,
                axis: "creative share x",
                lo: 0.0,
                hi: 1.0,
                units: "creators",
                description: "Creators by creative share, by mode",
            },
            Hist {
                name: "talent",
                rows: &s.talent,
                row_labels: MODE_ROWS,
                axis: "log talent ln S",
                lo: -span,
                hi: span,
                units: "creators",
                description: "Creators by log talent, by mode",
            },
        ];
        for h in hists {
            let bins = h.rows.first().map_or(0, Vec::len);
            if h.rows.iter().any(|r| r.len() != bins) {
                return Err(format_err(
                    file,
                    format!("snapshot at step {}: rows of {} differ in length", s.step, h.name),
                ));
            }
            let flat: Vec<f64> = h.rows.concat();
            let ds = put_dataset(&g, file, h.name, &[h.rows.len(), bins], &flat)?;
            put_str(&ds, file, "rows", h.row_labels)?;
            put_str(&ds, file, "axis", h.axis)?;
            put(&ds, file, "range_lo", h.lo)?;
            put(&ds, file, "range_hi", h.hi)?;
            put(&ds, file, "bins", bins as u64)?;
            put_str(&ds, file, "units", h.units)?;
            put_str(&ds, file, "description", h.description)?;
        }
        if s.curves.len() % 2 != 0 {
            return Err(format_err(
                file,
                format!("snapshot at step {}: odd number of curve cells ({})", s.step, s.curves.len()),
            ));
        }
        let bins = s.curves.len() / 2;
        let flat: Vec<f32> = s.curves.iter().flatten().copied().collect();
        let ds = put_dataset(&curves, file, &name, &[2, bins, 2], &flat)?;
        put(&ds, file, "step", s.step)?;
        put_str(&ds, file, "dims", "channel (AI, human) x quality bin x (sell-through R, price P)")?;
        put_str(&ds, file, "rows", CHANNEL_ROWS)?;
        put_str(&ds, file, "axis", "nominal quality q")?;
        put(&ds, file, "range_lo", 0.0_f64)?;
        put(&ds, file, "range_hi", q_max)?;
        put(&ds, file, "bins", bins as u64)?;
        put_str(&ds, file, "units", "R: 1 (units sold / offered); P: money/unit sold")?;
        put_str(
            &ds,
            file,
            "description",
            "Market curves creators see: EMAs of sell-through R and price per unit sold P",
        )?;
    }
    Ok(())
}

/// One snapshot histogram and the attributes that describe its bins.
struct Hist<'a> {
    name: &'a str,
    rows: &'a [Vec<f64>],
    row_labels: &'a str,
    axis: &'a str,
    lo: f64,
    hi: f64,
    units: &'a str,
    description: &'a str,
}

/// `step_00042`: the name of a snapshot group and curve dataset.
fn step_name(step: u32) -> String {
    format!("step_{step:05}")
}

/// A group whose members list in creation order (h5py and h5ls honour it).
fn ordered_group(parent: &Group, file: &str, name: &str) -> Result<Group, OutputError> {
    use ::hdf5::plist::group_create::LinkCreationOrder;
    parent
        .create_group_builder()
        .with_gcpl(|p| p.link_creation_order(LinkCreationOrder::Indexed))
        .create(name)
        .ctx(file, || format!("creating group /{name}"))
}

/// A chunked, shuffled, deflate-compressed dataset of `shape` holding `data` (C order).
fn put_dataset<T: H5Type>(
    g: &Group,
    file: &str,
    name: &str,
    shape: &[usize],
    data: &[T],
) -> Result<Dataset, OutputError> {
    let path = || format!("{}/{name}", g.name());
    if shape.iter().product::<usize>() != data.len() {
        return Err(format_err(file, format!("{}: {} values do not fill shape {shape:?}", path(), data.len())));
    }
    let mut b = g.new_dataset::<T>();
    // Chunking needs every dimension non-zero; an empty dataset is stored contiguous.
    if shape.iter().all(|&d| d > 0) {
        let mut chunk = shape.to_vec();
        let inner: usize = shape[1..].iter().product();
        chunk[0] = chunk[0].min((MAX_CHUNK_ELEMS / inner.max(1)).max(1));
        b = b.chunk(chunk);
        if ::hdf5::filters::deflate_available() {
            b = b.shuffle().deflate(DEFLATE_LEVEL);
        }
    }
    let ds = b.shape(shape).create(name).ctx(file, || format!("creating dataset {}", path()))?;
    if !data.is_empty() {
        ds.write_raw(data).ctx(file, || format!("writing dataset {}", path()))?;
    }
    Ok(ds)
}

/// A scalar attribute.
fn put<T: H5Type>(loc: &Location, file: &str, name: &str, value: T) -> Result<(), OutputError> {
    loc.new_attr::<T>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .ctx(file, || format!("writing attribute {name} of {}", loc.name()))
}

fn to_vlu(loc: &Location, file: &str, name: &str, value: &str) -> Result<VarLenUnicode, OutputError> {
    value.parse::<VarLenUnicode>().map_err(|e| {
        format_err(
            file,
            format!(
                "attribute {name} of {} cannot be stored as HDF5 text ({e}); remove NUL characters from it",
                loc.name()
            ),
        )
    })
}

/// A variable-length UTF-8 string attribute.
fn put_str(loc: &Location, file: &str, name: &str, value: &str) -> Result<(), OutputError> {
    let v = to_vlu(loc, file, name, value)?;
    put(loc, file, name, v)
}

/// A 1-D attribute of variable-length UTF-8 strings.
fn put_str_list<'a>(
    loc: &Location,
    file: &str,
    name: &str,
    values: impl Iterator<Item = &'a str>,
) -> Result<(), OutputError> {
    let v = values.map(|s| to_vlu(loc, file, name, s)).collect::<Result<Vec<_>, _>>()?;
    loc.new_attr::<VarLenUnicode>()
        .shape(v.len())
        .create(name)
        .and_then(|a| a.write_raw(&v[..]))
        .ctx(file, || format!("writing attribute {name} of {}", loc.name()))
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

    let ts = open_group(&f, file, "timeseries")?;
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

    let snaps = open_group(&f, file, "snapshots")?;
    let curves = open_group(&f, file, "curves")?;
    let mut snapshots = Vec::new();
    for name in snaps.member_names().ctx(file, || "listing /snapshots".to_string())? {
        let step = name
            .strip_prefix("step_")
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(|| format_err(file, format!("/snapshots/{name} is not named step_<N>")))?;
        let g = snaps.group(&name).ctx(file, || format!("opening group /snapshots/{name}"))?;
        let curve = if curves.link_exists(&name) {
            let ds = curves.dataset(&name).ctx(file, || format!("opening dataset /curves/{name}"))?;
            let shape = ds.shape();
            if shape.len() != 3 || shape[0] != 2 || shape[2] != 2 {
                return Err(format_err(file, format!("/curves/{name} has shape {shape:?}, expected [2, bins, 2]")));
            }
            let flat: Vec<f32> = ds.read_raw().ctx(file, || format!("reading dataset /curves/{name}"))?;
            flat.chunks_exact(2).map(|c| [c[0], c[1]]).collect()
        } else {
            Vec::new()
        };
        snapshots.push(Snapshot {
            step,
            quality: get_rows(&g, file, "quality")?,
            units_quality: get_rows(&g, file, "units_quality")?,
            creative: get_rows(&g, file, "creative")?,
            talent: get_rows(&g, file, "talent")?,
            curves: curve,
        });
    }
    snapshots.sort_by_key(|s| s.step);
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

fn open_group(f: &File, file: &str, name: &str) -> Result<Group, OutputError> {
    if !f.link_exists(name) {
        return Err(format_err(file, format!("no group /{name}: not a complete hollow run file")));
    }
    f.group(name).ctx(file, || format!("opening group /{name}"))
}

/// A `[N, bins]` histogram dataset as N rows.
fn get_rows<const N: usize>(g: &Group, file: &str, name: &str) -> Result<[Vec<f64>; N], OutputError> {
    let path = format!("{}/{name}", g.name());
    if !g.link_exists(name) {
        return Err(format_err(file, format!("no dataset {path}")));
    }
    let ds = g.dataset(name).ctx(file, || format!("opening dataset {path}"))?;
    let shape = ds.shape();
    if shape.len() != 2 || shape[0] != N {
        return Err(format_err(file, format!("{path} has shape {shape:?}, expected [{N}, bins]")));
    }
    let flat: Vec<f64> = ds.read_raw().ctx(file, || format!("reading dataset {path}"))?;
    let bins = shape[1];
    Ok(std::array::from_fn(|i| flat[i * bins..(i + 1) * bins].to_vec()))
}

fn open_attr(loc: &Location, file: &str, name: &str) -> Result<::hdf5::Attribute, OutputError> {
    loc.attr(name).map_err(|_| {
        format_err(
            file,
            format!(
                "{} has no attribute {name}: not a hollow run file, or written by an incompatible version",
                loc.name()
            ),
        )
    })
}

fn get<T: H5Type>(loc: &Location, file: &str, name: &str) -> Result<T, OutputError> {
    open_attr(loc, file, name)?.read_scalar().ctx(file, || format!("reading attribute {name} of {}", loc.name()))
}

fn get_str(loc: &Location, file: &str, name: &str) -> Result<String, OutputError> {
    get::<VarLenUnicode>(loc, file, name).map(|s| s.as_str().to_string())
}

fn get_str_list(loc: &Location, file: &str, name: &str) -> Result<Vec<String>, OutputError> {
    let v: Vec<VarLenUnicode> =
        open_attr(loc, file, name)?.read_raw().ctx(file, || format!("reading attribute {name} of {}", loc.name()))?;
    Ok(v.into_iter().map(|s| s.as_str().to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn now_is_well_formed() {
        let s = now_rfc3339();
        assert_eq!(s.len(), 20, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T', "{s}");
    }

    #[test]
    fn outcomes_round_trip_through_values() {
        let v: [f64; OUTCOMES.len()] = std::array::from_fn(|i| i as f64 + 0.5);
        assert_eq!(outcomes_from(v).values(), v);
        assert_eq!(OUTCOMES.len(), v.len());
    }

    #[test]
    fn step_names_sort_by_step() {
        assert_eq!(step_name(7), "step_00007");
        assert!(step_name(99) < step_name(100));
    }
}
