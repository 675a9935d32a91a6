//! Parameter sweeps (phase diagrams): many simulations over a grid of config keys (any
//! number of axes) or over an explicit list of runs, with replicas. [`spec`] parses and
//! validates the sweep spec; [`exec`] is the executor seam (CPU, and GPU ensembles);
//! [`store`] is the HDF5 sweep file; this module is the driver that cuts the cells into
//! blocks, runs the blocks of one shard, checkpoints after blocks (atomically) so an
//! interrupted sweep resumes without recomputing finished cells, and merges shard files.
//! A sweep is many ordinary `Simulation`s, not a different engine.

pub mod analysis;
pub mod exec;
pub mod spec;
pub mod store;

pub use exec::{CpuExecutor, Executor, Finished, GpuExecutor, Job};
pub use spec::{Axis, RunPlan, RunTable, Scale, SeedMode, Spec};
pub use store::SweepFile;

use crate::io::output::Output;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What went wrong in a sweep; every message names the file (and key) involved.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{file}: {msg}")]
    SpecParse { file: String, msg: String },
    #[error("{file}: key `{key}`: {reason}")]
    Spec { file: String, key: String, reason: String },
    /// Reading or writing a file (I/O, HDF5, a file that is not what it should be): the
    /// same errors, with file and operation, as run outputs.
    #[error(transparent)]
    File(#[from] crate::io::OutputError),
    #[error("{file}: cannot resume: {reason}")]
    Resume { file: String, reason: String },
    #[error("merge: {0}")]
    Merge(String),
    /// A merge that wrote the cells it had, with some missing (`hollow merge` exits 75).
    #[error("merge: {0}")]
    Incomplete(String),
    #[error("--shard {arg}: {reason}")]
    Shard { arg: String, reason: String },
    #[error("executor: {0}")]
    Executor(String),
}

/// Which blocks a process computes: every `count`-th block starting at `index` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn owns_block(&self, block: usize) -> bool {
        block % self.count as usize == self.index as usize
    }
}

impl Shard {
    /// The shard `--shard` names: `I/N`, or `I` alone when the spec fixes `shards = N`
    /// (a job array's task id; `N` then must equal the spec's when given).
    pub fn resolve(arg: &str, spec: &Spec) -> Result<Shard, SweepError> {
        let err = |reason: String| SweepError::Shard { arg: arg.to_string(), reason };
        if let Some((i, n)) = arg.split_once('/') {
            // The spec's count first: `--shard 1/1` from a resubmitted task of an array
            // whose task count is 1 is the mistake to name.
            if let (Some(fixed), Ok(count)) = (spec.shards, n.trim().parse::<u32>()) {
                if count != fixed {
                    return Err(err(format!(
                        "{} fixes shards = {fixed}: give the index alone (--shard {}) or I/{fixed}",
                        spec.file,
                        i.trim()
                    )));
                }
            }
            return arg.parse();
        }
        let Some(count) = spec.shards else {
            return Err(err(format!(
                "a shard index alone needs `shards = N` in the spec ({} has none); give I/N, e.g. {}/4",
                spec.file,
                arg.trim()
            )));
        };
        let index: u32 = arg.trim().parse().map_err(|_| err("the shard index is not a non-negative integer".into()))?;
        if index >= count {
            return Err(err(format!(
                "{} has shards = {count}, so the index must be in 0..{} (a job array's --array=0-{})",
                spec.file,
                count - 1,
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = SweepError;
    /// `i/n` with `0 <= i < n`. (A job array names its shard by the index alone, with the
    /// count from the spec: [`Shard::resolve`].)
    fn from_str(s: &str) -> Result<Shard, SweepError> {
        let err = |reason: &str| SweepError::Shard { arg: s.to_string(), reason: reason.to_string() };
        let (i, n) = s.split_once('/').ok_or_else(|| err("expected i/n, e.g. 0/4"))?;
        let index: u32 = i.trim().parse().map_err(|_| err("the shard index i is not a non-negative integer"))?;
        let count: u32 = n.trim().parse().map_err(|_| err("the shard count n is not a positive integer"))?;
        if count == 0 {
            return Err(err("the shard count n must be at least 1"));
        }
        if index >= count {
            return Err(err("the shard index must be below the count (0-based: 0/4 .. 3/4)"));
        }
        Ok(Shard { index, count })
    }
}

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct Options {
    /// Ignore (and overwrite) an existing output file instead of resuming it.
    pub fresh: bool,
    pub shard: Shard,
    /// Stop after this many blocks finished in this call (a test hook that simulates an
    /// interruption at a block boundary; `None` runs to the end).
    pub max_blocks: Option<usize>,
    /// Least time between two checkpoints: a block that finishes sooner after the last
    /// checkpoint waits for the next (zero: after every block). The final state is always
    /// written, also on Ctrl-C; after a hard kill, at most this much work is redone.
    pub checkpoint_interval: Duration,
    /// Replace an output that is not a hollow file (`--force`; see `io::output`).
    pub force: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            fresh: false,
            shard: Shard::ALL,
            max_blocks: None,
            checkpoint_interval: Duration::from_secs(5),
            force: false,
        }
    }
}

/// Progress of a running sweep, counted in cells (a cell is done when all its replicas are).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Cells of this shard done, including those found done in the resumed file.
    pub cells_done: usize,
    /// Cells of this shard.
    pub cells_total: usize,
}

/// What a call of [`run`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Cells of the shard, and of the whole grid.
    pub cells_total: usize,
    pub grid_cells: usize,
    /// Cells found done in the output file at the start (resume).
    pub cells_before: usize,
    /// Cells computed by this call.
    pub cells_computed: usize,
    /// Runs (cell replicas) computed by this call, including those of unfinished cells.
    pub runs_computed: usize,
    pub blocks_total: usize,
    pub seconds: f64,
    /// All cells of the shard are done and the file says so.
    pub complete: bool,
    pub executor: String,
}

/// The blocks of `shard`.
pub fn shard_blocks(spec: &Spec, shard: Shard) -> impl Iterator<Item = usize> {
    (shard.index as usize..spec.n_blocks()).step_by(shard.count as usize)
}

/// An empty sweep file for `spec` (no cell done).
pub fn empty_file(spec: &Spec, shard: Shard, executor: &str) -> SweepFile {
    let cells = spec.n_cells();
    let runs = cells * spec.replicas as usize;
    SweepFile {
        format_version: store::FORMAT_VERSION,
        hollow_version: env!("CARGO_PKG_VERSION").to_string(),
        created: crate::io::now_rfc3339(),
        spec_text: spec.text.clone(),
        spec_file: spec.file.clone(),
        spec_hash: spec.hash.clone(),
        base_config: spec.base.to_toml(),
        seed: spec.seed,
        seeds: spec.seeds.name().to_string(),
        steps: spec.steps,
        replicas: spec.replicas,
        block: spec.block,
        shard,
        complete: false,
        executor: executor.to_string(),
        axes: spec.axes.clone(),
        runs: spec.run_table(),
        metrics: spec.metrics.clone(),
        done: vec![false; cells],
        values: vec![vec![f64::NAN; runs]; spec.metrics.len()],
        run_seeds: vec![0; runs],
        series: spec.series.clone(),
        series_values: vec![vec![f64::NAN; runs * spec.steps as usize]; spec.series.len()],
    }
}

/// The output file to continue: the existing one when it belongs to this spec and shard,
/// a new one when there is none or `fresh` is set.
fn open_output(spec: &Spec, out: &Path, opts: &Options, executor: &str) -> Result<SweepFile, SweepError> {
    let file = out.display().to_string();
    if opts.fresh || !out.exists() {
        return Ok(empty_file(spec, opts.shard, executor));
    }
    let resume = |reason: String| SweepError::Resume { file: file.clone(), reason };
    let mut old = store::read(out).map_err(|e| resume(format!("{e}; use --fresh to overwrite it")))?;
    if old.spec_hash != spec.hash {
        return Err(resume(format!(
            "it holds a sweep of another spec ({} from {}; {} has {}): the base config, axes, replicas, seeds, \
             block or metrics differ; use --fresh to start over, or another output file",
            old.spec_hash, old.spec_file, spec.file, spec.hash
        )));
    }
    if old.shard != opts.shard {
        return Err(resume(format!(
            "it holds shard {} and this run is shard {}; give the shard it was started with, or another output file",
            old.shard, opts.shard
        )));
    }
    if !old.executor.split("; ").any(|e| e == executor) {
        old.executor = format!("{}; {executor}", old.executor);
    }
    Ok(old)
}

/// Shared state of a running sweep, updated as jobs finish.
struct Live {
    sf: SweepFile,
    /// Replicas still to run, per cell (only pending cells are non-zero).
    replicas_left: Vec<u32>,
    /// Pending cells per block.
    cells_left: Vec<usize>,
    cells_done: usize,
    cells_computed: usize,
    runs_computed: usize,
    blocks_finished: usize,
    last_checkpoint: Instant,
    error: Option<SweepError>,
}

/// Runs (or resumes) the cells of `opts.shard` of `spec` with `exec`, writing `out`:
/// checkpoints after blocks (see `Options::checkpoint_interval`) and a final write, marked
/// complete when every cell of the shard is done. `stop` (Ctrl-C) ends it early with the
/// finished cells saved; the driver raises `stop` itself when `max_blocks` is reached.
/// `progress` is called as cells finish, from worker threads.
pub fn run(
    spec: &Spec,
    out: &Path,
    opts: &Options,
    exec: &dyn Executor,
    stop: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, SweepError> {
    let started = Instant::now();
    let executor = exec.describe();
    // Checked and locked before anything is read or computed; the spec and its base config
    // are inputs, never outputs.
    let target = Output::create(out, &[Path::new(&spec.file), &spec.base_file], opts.force)?;
    let mut sf = open_output(spec, out, opts, &executor)?;
    let r = spec.replicas as usize;
    let my_cells: Vec<usize> = shard_blocks(spec, opts.shard).flat_map(|b| spec.block_cells(b)).collect();
    let pending: Vec<usize> = my_cells.iter().copied().filter(|&c| !sf.done[c]).collect();
    let cells_before = my_cells.len() - pending.len();
    let mut report = Report {
        cells_total: my_cells.len(),
        grid_cells: spec.n_cells(),
        cells_before,
        cells_computed: 0,
        runs_computed: 0,
        blocks_total: shard_blocks(spec, opts.shard).count(),
        seconds: 0.0,
        complete: pending.is_empty(),
        executor: sf.executor.clone(),
    };
    if pending.is_empty() {
        if !sf.complete || opts.fresh || !out.exists() {
            sf.complete = true;
            store::write(&target, &sf)?;
        }
        return Ok(report);
    }
    sf.complete = false;
    // The file exists (with its header) from the start, so a sweep killed during its
    // first block still leaves something to resume and inspect.
    store::write(&target, &sf)?;

    let jobs: Vec<Job> =
        pending.iter().flat_map(|&cell| (0..spec.replicas).map(move |replica| Job { cell, replica })).collect();
    let mut cells_left = vec![0usize; spec.n_blocks()];
    let mut replicas_left = vec![0u32; spec.n_cells()];
    for &c in &pending {
        cells_left[spec.block_of(c)] += 1;
        replicas_left[c] = spec.replicas;
    }
    let live = Mutex::new(Live {
        sf,
        replicas_left,
        cells_left,
        cells_done: cells_before,
        cells_computed: 0,
        runs_computed: 0,
        blocks_finished: 0,
        last_checkpoint: Instant::now(),
        error: None,
    });
    progress(Progress { cells_done: cells_before, cells_total: my_cells.len() });

    let steps = spec.steps as usize;
    let done = |i: usize, res: Result<Finished, SweepError>| {
        let mut guard = live.lock().unwrap_or_else(|p| p.into_inner());
        let l = &mut *guard;
        let Finished { outcomes: o, series } = match res {
            Ok(f) => f,
            Err(e) => {
                l.error.get_or_insert(e);
                stop.store(true, Ordering::SeqCst);
                return;
            }
        };
        let Job { cell, replica } = jobs[i];
        let at = cell * r + replica as usize;
        // Some outcomes are NaN by definition (never settled, no post-shock step), but the
        // final shares and welfare are finite in every run that worked: a run where one is
        // not (diverged, or a failed executor) must not be saved as a done cell.
        if [o.share_exit, o.share_ai, o.share_human, o.welfare_final].iter().any(|v| !v.is_finite()) {
            l.error.get_or_insert(SweepError::Executor(format!(
                "cell {cell} ({}) replica {replica}: the run's final shares or welfare are not finite (NaN); \
                 the cell is not marked done and the finished cells are saved",
                spec.describe_cell(cell)
            )));
            stop.store(true, Ordering::SeqCst);
            return;
        }
        // A finished run has every asked-for series, one value per step; a cell stored
        // without them would be a hole in the file that resume never fills.
        if series.len() != spec.series.len() || series.iter().any(|s| s.len() != steps) {
            l.error.get_or_insert(SweepError::Executor(format!(
                "cell {cell} ({}) replica {replica}: the executor returned {} of the {} per-step series with {:?} \
                 steps each, not {steps}; the cell is not marked done and the finished cells are saved",
                spec.describe_cell(cell),
                series.len(),
                spec.series.len(),
                series.iter().map(Vec::len).collect::<Vec<_>>()
            )));
            stop.store(true, Ordering::SeqCst);
            return;
        }
        let values: Vec<f64> = spec.metrics.iter().map(|name| o.value(name).unwrap_or(f64::NAN)).collect();
        for (m, v) in values.into_iter().enumerate() {
            l.sf.values[m][at] = v;
        }
        for (stored, got) in l.sf.series_values.iter_mut().zip(&series) {
            stored[at * steps..(at + 1) * steps].copy_from_slice(got);
        }
        l.sf.run_seeds[at] = spec.seed_of(cell, replica);
        l.runs_computed += 1;
        l.replicas_left[cell] -= 1;
        if l.replicas_left[cell] > 0 {
            return;
        }
        l.sf.done[cell] = true;
        l.cells_done += 1;
        l.cells_computed += 1;
        progress(Progress { cells_done: l.cells_done, cells_total: my_cells.len() });
        let b = spec.block_of(cell);
        l.cells_left[b] -= 1;
        if l.cells_left[b] > 0 {
            return;
        }
        l.blocks_finished += 1;
        if opts.max_blocks.is_some_and(|m| l.blocks_finished >= m) {
            stop.store(true, Ordering::SeqCst);
        }
        if l.last_checkpoint.elapsed() >= opts.checkpoint_interval {
            if let Err(e) = store::write(&target, &l.sf) {
                l.error.get_or_insert(e);
                stop.store(true, Ordering::SeqCst);
            }
            l.last_checkpoint = Instant::now();
        }
    };
    let ran = exec.run(spec, &jobs, stop, &done);

    let mut l = live.into_inner().unwrap_or_else(|p| p.into_inner());
    l.sf.complete = my_cells.iter().all(|&c| l.sf.done[c]);
    l.sf.created = crate::io::now_rfc3339();
    // Save what is done whatever happened, then report the first failure.
    let saved = store::write(&target, &l.sf);
    ran?;
    if let Some(e) = l.error {
        return Err(e);
    }
    saved?;
    report.cells_computed = l.cells_computed;
    report.runs_computed = l.runs_computed;
    report.seconds = started.elapsed().as_secs_f64();
    report.complete = l.sf.complete;
    Ok(report)
}

/// What [`merge`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeReport {
    pub files: usize,
    /// Cells of the grid, and cells done in the merged file.
    pub cells: usize,
    pub cells_done: usize,
    pub spec_hash: String,
    /// Every cell is done (the merged file says `complete = 1`).
    pub complete: bool,
    /// Shards with cells not done, in index order (empty when complete).
    pub gaps: Vec<ShardGap>,
}

/// A shard whose cells are not all in the merged file.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardGap {
    pub shard: Shard,
    /// The files given for this shard (none: the shard is missing).
    pub files: Vec<String>,
    /// Cells of the shard done in the merged file, and cells of the shard.
    pub cells_done: usize,
    pub cells: usize,
}

impl std::fmt::Display for ShardGap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.files.is_empty() {
            write!(f, "shard {}: missing (no file of it given; {} cells)", self.shard, self.cells)
        } else {
            write!(
                f,
                "shard {}: incomplete ({} of {} cells done in {})",
                self.shard,
                self.cells_done,
                self.cells,
                self.files.join(", ")
            )
        }
    }
}

impl MergeReport {
    /// The error of a merge that left cells missing: which shards, and what to do.
    pub fn incomplete_error(&self, out: &Path) -> SweepError {
        let mut msg = format!(
            "{} holds {} of {} cells: the sweep is incomplete (saved with complete = 0)",
            out.display(),
            self.cells_done,
            self.cells
        );
        for g in &self.gaps {
            let _ = std::fmt::Write::write_fmt(&mut msg, format_args!("\n  {g}"));
        }
        msg.push_str(
            "\nrun (or resume) these shards with `hollow sweep SPEC --shard I`, then merge all shard files again",
        );
        SweepError::Incomplete(msg)
    }
}

/// Joins shard files of one sweep into a complete sweep file `out`. Refuses files of
/// different specs (hash), cells done in two files, and cells done in none, naming the
/// files and cells involved; a refused merge writes nothing.
pub fn merge(out: &Path, shards: &[PathBuf]) -> Result<MergeReport, SweepError> {
    merge_with(out, shards, false)
}

/// [`merge`], replacing an `out` that is not a hollow file when `force` (never a shard).
pub fn merge_with(out: &Path, shards: &[PathBuf], force: bool) -> Result<MergeReport, SweepError> {
    let r = merge_files(out, shards, force, false)?;
    Ok(r)
}

/// Joins what the shard files hold, complete or not: refuses files of different specs and
/// overlapping cells (writing nothing), but writes the cells that are done when some are
/// missing, marked incomplete (`complete = 0`), and says which shards lack cells
/// ([`MergeReport::gaps`]; `hollow merge` then exits 75). Merging again once those shards
/// are done completes the file. `hollow merge` uses this: a merge after a job array, run
/// whatever state its tasks ended in, never waits and never hides a missing shard.
pub fn merge_partial(out: &Path, shards: &[PathBuf], force: bool) -> Result<MergeReport, SweepError> {
    merge_files(out, shards, force, true)
}

fn merge_files(out: &Path, shards: &[PathBuf], force: bool, partial: bool) -> Result<MergeReport, SweepError> {
    let inputs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    let target = Output::create(out, &inputs, force)?;
    let first_path = shards.first().ok_or_else(|| SweepError::Merge("no shard files given".into()))?;
    // A shard that cannot be read is a bad input of the merge, not an output error.
    let files = shards
        .iter()
        .map(|p| store::read(p).map_err(|e| SweepError::Merge(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let name = |i: usize| shards[i].display().to_string();
    let first = &files[0];
    for (i, f) in files.iter().enumerate().skip(1) {
        if f.spec_hash != first.spec_hash {
            return Err(SweepError::Merge(format!(
                "{} is a shard of another sweep than {} (spec hash {} from {} vs {} from {}); only shards of one spec can be merged",
                name(i),
                first_path.display(),
                f.spec_hash,
                f.spec_file,
                first.spec_hash,
                first.spec_file
            )));
        }
    }
    let n_cells = first.n_cells();
    let r = first.replicas as usize;
    let mut merged = first.clone();
    merged.done = vec![false; n_cells];
    merged.values.iter_mut().for_each(|v| v.fill(f64::NAN));
    merged.series_values.iter_mut().for_each(|v| v.fill(f64::NAN));
    merged.run_seeds.fill(0);
    let mut owner: Vec<Option<usize>> = vec![None; n_cells];
    let describe = |cell: usize| first.describe_cell(cell);
    let per_run = first.steps as usize;
    for (fi, f) in files.iter().enumerate() {
        for cell in (0..n_cells).filter(|&c| f.done[c]) {
            if let Some(other) = owner[cell] {
                return Err(SweepError::Merge(format!(
                    "{} and {} both hold cell {cell} ({}): overlapping shards (the same shard given twice, or shards of different --shard counts)",
                    name(other),
                    name(fi),
                    describe(cell)
                )));
            }
            owner[cell] = Some(fi);
            merged.done[cell] = true;
            for (mv, fv) in merged.values.iter_mut().zip(&f.values) {
                mv[cell * r..(cell + 1) * r].copy_from_slice(&fv[cell * r..(cell + 1) * r]);
            }
            merged.run_seeds[cell * r..(cell + 1) * r].copy_from_slice(&f.run_seeds[cell * r..(cell + 1) * r]);
            let span = cell * r * per_run..(cell + 1) * r * per_run;
            for (mv, fv) in merged.series_values.iter_mut().zip(&f.series_values) {
                mv[span.clone()].copy_from_slice(&fv[span.clone()]);
            }
        }
    }
    let missing: Vec<usize> = (0..n_cells).filter(|&c| owner[c].is_none()).collect();
    let block_size = first.block.max(1) as usize;
    if !partial {
        if let Some(&c) = missing.first() {
            let block = c / block_size;
            let count = first.shard.count as usize;
            let holder = files.iter().position(|f| f.shard.count as usize == count && f.shard.owns_block(block));
            let why = match holder {
                Some(i) => format!(
                    "{} (shard {}) is incomplete: resume it with `hollow sweep` and merge again",
                    name(i),
                    files[i].shard
                ),
                None => format!("no file of shard {}/{count} was given", block % count),
            };
            return Err(SweepError::Merge(format!(
                "{} of {n_cells} cells are in none of the files, first cell {c} ({}) of block {block}: {why}",
                missing.len(),
                describe(c)
            )));
        }
    }
    // Which shards lack cells: counted in the shards of the files' split (the largest
    // shard count given, which is the job array's when all its shards are given or any is).
    let count = files.iter().map(|f| f.shard.count).max().unwrap_or(1).max(1);
    let mut gaps = Vec::new();
    if !missing.is_empty() {
        for index in 0..count {
            let shard = Shard { index, count };
            let cells: Vec<usize> = (0..n_cells.div_ceil(block_size))
                .filter(|&b| shard.owns_block(b))
                .flat_map(|b| (b * block_size)..((b + 1) * block_size).min(n_cells))
                .collect();
            let done = cells.iter().filter(|&&c| merged.done[c]).count();
            if done == cells.len() {
                continue;
            }
            let given = files.iter().enumerate().filter(|(_, f)| f.shard == shard).map(|(i, _)| name(i)).collect();
            gaps.push(ShardGap { shard, files: given, cells_done: done, cells: cells.len() });
        }
    }
    let mut execs: Vec<&str> = Vec::new();
    for f in &files {
        for e in f.executor.split("; ") {
            if !execs.contains(&e) {
                execs.push(e);
            }
        }
    }
    merged.executor = execs.join("; ");
    merged.shard = Shard::ALL;
    merged.complete = missing.is_empty();
    merged.created = crate::io::now_rfc3339();
    store::write(&target, &merged)?;
    Ok(MergeReport {
        files: files.len(),
        cells: n_cells,
        cells_done: n_cells - missing.len(),
        spec_hash: merged.spec_hash,
        complete: merged.complete,
        gaps,
    })
}
