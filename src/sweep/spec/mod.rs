//! Sweep specs: the TOML file that names a base config, what to run — a grid of any
//! number of axes over numeric config keys, or an explicit list of runs, each a table of
//! overrides — replicas, steps, fixed overrides, the outcomes and per-step series to
//! record; parsing, validation (every error names the spec file and the key), the cells
//! (grid points or listed runs), per-cell configs and seeds, and the spec hash that ties
//! checkpoints and shards to one spec. Running a spec is `super::run`'s job, storing it
//! `super::store`'s.

use super::SweepError;
use crate::config::{self, Config};
use crate::observe::{self, DERIVED_OUTCOMES, OUTCOMES};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

mod parse;
use parse::*;
pub use parse::{fnv1a64, known_metrics};

/// Version of the canonical text the spec hash is taken over; bump it when the meaning of
/// a spec changes, so old checkpoints are not resumed with new semantics.
const HASH_VERSION: u32 = 1;
/// Cells per block when the spec does not say.
pub const DEFAULT_BLOCK: u32 = 16;
/// Most cells a sweep may have (the grid is held in memory, `cells × replicas × metrics` f64).
pub const MAX_CELLS: usize = 1 << 22;
/// Most axes a grid may have: validation builds the config of every corner of the grid
/// (2^axes of them), and a grid of more axes than this is better split into several specs.
pub const MAX_AXES: usize = 16;
/// Most per-step values (`cells × replicas × steps × series`) a sweep may record: they are
/// held in memory and rewritten with every checkpoint (8 bytes each, before compression).
pub const MAX_SERIES_VALUES: u64 = 1 << 27;

/// How the values of an axis are spaced (and how its plot axis is drawn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    Log,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Scale::Linear => "linear",
            Scale::Log => "log",
        }
    }
    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "linear" => Some(Scale::Linear),
            "log" => Some(Scale::Log),
            _ => None,
        }
    }
}

/// One axis of the grid: a numeric config key and its values (strictly increasing).
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Config key as used by `--set`, e.g. `technology.ai_cost_scale`.
    pub key: String,
    /// Label for plots (defaults to the key).
    pub label: String,
    pub scale: Scale,
    pub values: Vec<f64>,
}

impl Axis {
    pub fn len(&self) -> usize {
        self.values.len()
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// One entry of a run list (`[[run]]`): the config overrides of that run, numeric keys in
/// key order (a TOML table has no other).
#[derive(Clone, Debug, PartialEq)]
pub struct RunPlan {
    pub overrides: Vec<(String, f64)>,
}

/// The runs of a run list as a sweep file stores them: every key some run overrides (in
/// key order), and its value in each run (the run's override, else the base config's value).
#[derive(Clone, Debug, PartialEq)]
pub struct RunTable {
    /// Runs in the list (a run may override nothing: the base config itself).
    pub runs: usize,
    pub keys: Vec<String>,
    /// `values[key][run]`.
    pub values: Vec<Vec<f64>>,
}

impl RunTable {
    /// "key=value, key=value" of run `i` (every key of the table), for messages.
    pub fn describe(&self, i: usize) -> String {
        let kv: Vec<String> = self.keys.iter().zip(&self.values).map(|(k, v)| format!("{k}={}", v[i])).collect();
        if kv.is_empty() { format!("run {i}") } else { format!("run {i}: {}", kv.join(", ")) }
    }
}

/// How seeds are derived for the runs of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedMode {
    /// A different seed for every (cell, replica): independent noise in every cell.
    PerCell,
    /// The same seed for a replica in every cell (common random numbers): differences
    /// between neighbouring cells are not blurred by sampling noise.
    Common,
}

impl SeedMode {
    pub fn name(self) -> &'static str {
        match self {
            SeedMode::PerCell => "per_cell",
            SeedMode::Common => "common",
        }
    }
    pub fn parse(s: &str) -> Option<SeedMode> {
        match s {
            "per_cell" => Some(SeedMode::PerCell),
            "common" => Some(SeedMode::Common),
            _ => None,
        }
    }
}

/// A parsed, validated sweep spec.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The spec file as named by the user (for messages).
    pub file: String,
    /// The spec file's text, stored verbatim in the output.
    pub text: String,
    /// The base config file (resolved against the spec's directory) and its text.
    pub base_file: PathBuf,
    pub base_text: String,
    /// The axes of a grid, the first varying slowest (cells are numbered row-major: the
    /// last axis varies fastest); empty for a run list.
    pub axes: Vec<Axis>,
    /// The runs of a run list (`[[run]]`), cell i being run i; empty for a grid.
    pub runs: Vec<RunPlan>,
    pub replicas: u32,
    /// Steps of every run (the base config's when the spec does not say).
    pub steps: u32,
    /// Base seed the per-run seeds are derived from (the base config's when not given).
    pub seed: u64,
    pub seeds: SeedMode,
    /// Cells per block: the unit of sharding and of checkpoint timing.
    pub block: u32,
    /// Shards the sweep is split into when run as a job array (`shards = N`), so that
    /// `--shard I` alone names a shard. Not part of the hash: sharding never changes the
    /// numbers, and shard files of any split merge.
    pub shards: Option<u32>,
    /// Outcome names to record (from `observe::OUTCOMES` and `DERIVED_OUTCOMES`).
    pub metrics: Vec<String>,
    /// Per-step metrics (`observe::METRICS` names) to record for every run; often empty.
    pub series: Vec<String>,
    /// Fixed overrides `key=value` from `[set]`, applied before the axes.
    pub set: Vec<String>,
    /// The base config with `[set]` and `steps` applied: what every cell starts from.
    pub base: Config,
    /// Hash of the canonical spec (see [`Spec::canonical`]), `fnv1a64:<hex>`.
    pub hash: String,
}

/// Numeric config keys (`table.key` or `key`) and whether each is an integer.
pub fn numeric_keys() -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut add = |table: &str, docs: Vec<config::FieldDoc>| {
        for d in docs {
            let integer = match d.default {
                toml::Value::Integer(_) => true,
                toml::Value::Float(_) => false,
                _ => continue,
            };
            let key = if table.is_empty() { d.key.to_string() } else { format!("{table}.{}", d.key) };
            out.push((key, integer));
        }
    };
    add(config::Top::TABLE, config::Top::docs());
    add(config::Technology::TABLE, config::Technology::docs());
    add(config::Collapse::TABLE, config::Collapse::docs());
    add(config::Market::TABLE, config::Market::docs());
    add(config::Decisions::TABLE, config::Decisions::docs());
    add(config::Policy::TABLE, config::Policy::docs());
    add(config::Equilibrium::TABLE, config::Equilibrium::docs());
    out
}

/// The top-level keys a spec may have.
const SPEC_KEYS: &[&str] =
    &["base", "replicas", "steps", "seed", "seeds", "block", "shards", "metrics", "series", "axis", "run", "set"];
const AXIS_KEYS: &[&str] = &["key", "label", "scale", "from", "to", "n", "values"];

impl Spec {
    /// Reads and validates a spec file; the base config path is relative to its directory.
    pub fn load(path: &Path) -> Result<Spec, SweepError> {
        let file = path.display().to_string();
        // An unreadable spec is a bad input (exit 3), not an output error.
        let text = config::read_text(path).map_err(|e| SweepError::SpecParse {
            file: file.clone(),
            msg: format!("cannot read the sweep spec: {e}"),
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        Spec::from_str_named(&text, &file, dir)
    }

    /// Parses spec `text` (named `file` in errors); `dir` is where `base` is looked up.
    pub fn from_str_named(text: &str, file: &str, dir: &Path) -> Result<Spec, SweepError> {
        let bad = |key: &str, reason: String| SweepError::Spec { file: file.to_string(), key: key.to_string(), reason };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| SweepError::SpecParse { file: file.to_string(), msg: e.to_string() })?;
        if let Some(k) = table.keys().find(|k| !SPEC_KEYS.contains(&k.as_str())) {
            return Err(bad(k, format!("unknown key; a sweep spec has {}", SPEC_KEYS.join(", "))));
        }

        // Base config.
        let base_rel = match table.get("base") {
            Some(toml::Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(bad("base", "must be a string: the base config path, relative to the spec file".into()));
            }
            None => return Err(bad("base", "missing: name the base config, e.g. base = \"baseline.toml\"".into())),
        };
        let base_file = dir.join(&base_rel);
        let base_text = config::read_text(&base_file).map_err(|e| {
            bad(
                "base",
                format!("cannot read base config {} ({e}); the path is relative to the spec file", base_file.display()),
            )
        })?;

        // Scalars.
        let replicas = get_uint(&table, "replicas", file)?.unwrap_or(1);
        if !(1..=1_000_000).contains(&replicas) {
            return Err(bad("replicas", format!("must be in [1, 1000000], got {replicas}")));
        }
        let steps = get_uint(&table, "steps", file)?;
        if let Some(s) = steps {
            if !(1..=10_000_000).contains(&s) {
                return Err(bad("steps", format!("must be in [1, 10000000], got {s}")));
            }
        }
        let block = get_uint(&table, "block", file)?.unwrap_or(u64::from(DEFAULT_BLOCK));
        if !(1..=1_000_000).contains(&block) {
            return Err(bad("block", format!("must be in [1, 1000000] cells, got {block}")));
        }
        let shards = get_uint(&table, "shards", file)?;
        let seed = get_uint(&table, "seed", file)?;
        let seeds = match table.get("seeds") {
            None => SeedMode::PerCell,
            Some(toml::Value::String(s)) => SeedMode::parse(s)
                .ok_or_else(|| bad("seeds", format!("must be \"per_cell\" or \"common\", got \"{s}\"")))?,
            Some(_) => return Err(bad("seeds", "must be the string \"per_cell\" or \"common\"".into())),
        };

        // Metrics.
        let known: Vec<&str> = observe::outcome_names().collect();
        let metrics: Vec<String> = match table.get("metrics") {
            None => vec![
                "share_ai".into(),
                "share_human".into(),
                "welfare_final".into(),
                "welfare_change".into(),
                "dominant_segment".into(),
            ],
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("metrics", "must be a list of outcome names (strings)".into()))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(bad(
                    "metrics",
                    "must be a list of outcome names, e.g. [\"welfare_final\", \"share_ai\"]".into(),
                ));
            }
        };
        if metrics.is_empty() {
            return Err(bad("metrics", "is empty: name at least one outcome".into()));
        }
        for (i, m) in metrics.iter().enumerate() {
            if !known.contains(&m.as_str()) {
                return Err(bad("metrics", format!("unknown outcome \"{m}\"; known: {}", known.join(", "))));
            }
            if metrics[..i].contains(m) {
                return Err(bad("metrics", format!("\"{m}\" is listed twice")));
            }
        }

        // Fixed overrides.
        let mut set = Vec::new();
        match table.get("set") {
            None => {}
            Some(toml::Value::Table(t)) => flatten_set("", t, &mut set),
            Some(_) => return Err(bad("set", "must be a table of config keys, e.g. [set] creators = 3334".into())),
        }
        for s in &set {
            let key = s.split('=').next().unwrap_or("");
            if key == "seed" || key == "steps" {
                return Err(bad(
                    &format!("set.{key}"),
                    format!("give `{key}` as a top-level key of the spec, not in [set]"),
                ));
            }
        }
        let mut base_sets = set.clone();
        if let Some(s) = steps {
            base_sets.push(format!("steps={s}"));
        }
        let base_name = base_file.display().to_string();
        let base = Config::from_str_named(&base_text, &base_name, &base_sets)
            .and_then(|c| crate::state::check_memory(&c, &base_name).map(|()| c))
            .map_err(|e| bad("set", format!("the base config with these overrides is invalid: {e}")))?;
        let steps = base.top.steps;
        let seed = seed.unwrap_or(base.top.seed);

        // Per-step series.
        let series = parse_series(&table, file)?;

        // What to run: a grid of axes or a list of runs.
        let numeric = numeric_keys();
        let (axes, runs) = match (table.get("axis"), table.get("run")) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "run",
                    "give either [[axis]] tables (a grid) or [[run]] tables (a list of runs), not both".into(),
                ));
            }
            (None, None) => {
                return Err(bad(
                    "axis",
                    "missing: give [[axis]] tables (a grid over config keys) or [[run]] tables (a list of runs)".into(),
                ));
            }
            (Some(toml::Value::Array(a)), None) => {
                if a.is_empty() || a.len() > MAX_AXES {
                    return Err(bad("axis", format!("a grid has 1 to {MAX_AXES} axes, got {}", a.len())));
                }
                let mut axes: Vec<Axis> = Vec::new();
                for (i, v) in a.iter().enumerate() {
                    let axis = parse_axis(i, v, &numeric, file)?;
                    if let Some(k) = axes.iter().position(|b| b.key == axis.key) {
                        let which = if k == 0 { "the first axis".to_string() } else { format!("axis[{k}]") };
                        return Err(bad(&format!("axis[{i}].key"), format!("`{}` is already {which}", axis.key)));
                    }
                    axes.push(axis);
                }
                (axes, Vec::new())
            }
            (Some(_), None) => {
                return Err(bad("axis", "must be an array of tables: write each axis as [[axis]]".into()));
            }
            (None, Some(toml::Value::Array(a))) => {
                if a.is_empty() {
                    return Err(bad("run", "is empty: give at least one [[run]] table".into()));
                }
                let runs =
                    a.iter().enumerate().map(|(i, v)| parse_run(i, v, &numeric, file)).collect::<Result<_, _>>()?;
                (Vec::new(), runs)
            }
            (None, Some(_)) => {
                return Err(bad("run", "must be an array of tables: write each run as [[run]]".into()));
            }
        };
        let cells = if runs.is_empty() {
            axes.iter().map(Axis::len).try_fold(1usize, |n, k| n.checked_mul(k)).unwrap_or(usize::MAX)
        } else {
            runs.len()
        };
        if cells > MAX_CELLS {
            let what = if runs.is_empty() { "axis" } else { "run" };
            return Err(bad(
                what,
                format!("{cells} cells is more than the {MAX_CELLS} a sweep may have; split it into several specs"),
            ));
        }
        let per_step = cells as u64 * replicas * u64::from(steps) * series.len() as u64;
        if per_step > MAX_SERIES_VALUES {
            return Err(bad(
                "series",
                format!(
                    "{} series × {cells} cells × {replicas} replicas × {steps} steps is {per_step} values ({:.1} GiB), \
                     more than the {MAX_SERIES_VALUES} a sweep may hold in memory and rewrite at every checkpoint; \
                     record fewer series, or split the sweep",
                    series.len(),
                    per_step as f64 * 8.0 / f64::from(1u32 << 30)
                ),
            ));
        }

        let mut spec = Spec {
            file: file.to_string(),
            text: text.to_string(),
            base_file,
            base_text,
            axes,
            runs,
            replicas: replicas as u32,
            steps,
            seed,
            seeds,
            block: block as u32,
            shards: shards.map(|n| n.min(u64::from(u32::MAX)) as u32),
            metrics,
            series,
            set,
            base,
            hash: String::new(),
        };
        if let Some(n) = shards {
            let blocks = spec.n_blocks();
            if n == 0 || n as usize > blocks {
                return Err(bad(
                    "shards",
                    format!(
                        "must be in [1, {blocks}] (the blocks of {} cells: a shard runs whole blocks), got {n}; \
                         lower `block` for more shards",
                        spec.block
                    ),
                ));
            }
        }
        spec.check_axis_values()?;
        spec.check_runs()?;
        spec.hash = format!("fnv1a64:{:016x}", fnv1a64(spec.canonical().as_bytes()));
        Ok(spec)
    }

    /// Checks that every axis value gives a valid config on its own, and that every corner
    /// of the grid does (all 2^N combinations of the axes' first and last values: cross-key
    /// rules such as x_lo < x_hi); every run still validates its own config, so an inner
    /// cell that breaks a rule fails with its key.
    fn check_axis_values(&self) -> Result<(), SweepError> {
        for (a, axis) in self.axes.iter().enumerate() {
            for &v in &axis.values {
                let mut sets = self.base_sets();
                sets.push(override_arg(&axis.key, v));
                Config::from_str_named(&self.base_text, &self.base_file.display().to_string(), &sets)
                    .and_then(|c| crate::state::check_memory(&c, &self.base_file.display().to_string()))
                    .map_err(|e| SweepError::Spec {
                        file: self.file.clone(),
                        key: format!("axis[{a}]"),
                        reason: format!("value {v} of `{}` gives an invalid config: {e}", axis.key),
                    })?;
            }
        }
        if self.axes.len() >= 2 {
            for corner in 0..1usize << self.axes.len() {
                // Bit a of `corner` picks the first or the last value of axis a; an axis of
                // one value gives the same corner twice, which is checked once.
                if self.axes.iter().enumerate().any(|(a, x)| x.len() == 1 && corner >> a & 1 == 1) {
                    continue;
                }
                let idx: Vec<usize> = self
                    .axes
                    .iter()
                    .enumerate()
                    .map(|(a, x)| if corner >> a & 1 == 1 { x.len() - 1 } else { 0 })
                    .collect();
                self.cell_config(self.cell_at(&idx), 0)?;
            }
        }
        Ok(())
    }

    /// Checks that every run of a run list gives a valid config (also its memory), naming
    /// the run and its overrides.
    fn check_runs(&self) -> Result<(), SweepError> {
        for (i, run) in self.runs.iter().enumerate() {
            let base = self.base_file.display().to_string();
            self.run_config(i).and_then(|c| crate::state::check_memory(&c, &base).map(|()| c)).map_err(|e| {
                SweepError::Spec {
                    file: self.file.clone(),
                    key: format!("run[{i}]"),
                    reason: format!(
                        "its overrides ({}) give an invalid config: {e}",
                        describe_overrides(&run.overrides)
                    ),
                }
            })?;
        }
        Ok(())
    }

    /// The config of run `i` of a run list, before its seed is set.
    fn run_config(&self, i: usize) -> Result<Config, crate::config::ConfigError> {
        let mut sets = self.base_sets();
        sets.extend(self.runs[i].overrides.iter().map(|(k, v)| override_arg(k, *v)));
        Config::from_str_named(&self.base_text, &self.base_file.display().to_string(), &sets)
    }

    /// `[set]` overrides plus `steps`: what every cell applies before its axis values.
    fn base_sets(&self) -> Vec<String> {
        let mut s = self.set.clone();
        s.push(format!("steps={}", self.steps));
        s
    }

    /// True for a run list (`[[run]]`), false for a grid.
    pub fn is_run_list(&self) -> bool {
        !self.runs.is_empty()
    }

    /// The extent of every dimension of the cells: the axis lengths of a grid (first axis
    /// first), or the number of runs of a run list.
    pub fn dims(&self) -> Vec<usize> {
        if self.is_run_list() { vec![self.runs.len()] } else { self.axes.iter().map(Axis::len).collect() }
    }

    /// The cells as a matrix (n1, n2): for one or two axes the grid's shape (n2 = 1 for one
    /// axis); with more, n2 runs over all axes but the first, row-major. A run list is (runs, 1).
    pub fn shape(&self) -> (usize, usize) {
        let d = self.dims();
        (d[0], d[1..].iter().product())
    }
    /// "3 × 4 × 2 cells" of a grid, "5 runs" of a run list: the extent, for messages.
    pub fn describe_dims(&self) -> String {
        describe_dims(&self.dims(), self.is_run_list())
    }
    pub fn n_cells(&self) -> usize {
        self.dims().iter().product()
    }
    pub fn n_blocks(&self) -> usize {
        self.n_cells().div_ceil(self.block as usize)
    }
    /// Cells of block `b`.
    pub fn block_cells(&self, b: usize) -> std::ops::Range<usize> {
        let bs = self.block as usize;
        (b * bs).min(self.n_cells())..((b + 1) * bs).min(self.n_cells())
    }
    pub fn block_of(&self, cell: usize) -> usize {
        cell / self.block as usize
    }
    /// Matrix indices (i, j) of a cell in [`Spec::shape`] (row-major: the second axis varies
    /// fastest): for one or two axes, the grid indices.
    pub fn cell_index(&self, cell: usize) -> (usize, usize) {
        let n2 = self.shape().1;
        (cell / n2, cell % n2)
    }
    /// Index along every dimension of a cell (row-major: the last axis varies fastest).
    pub fn cell_indices(&self, cell: usize) -> Vec<usize> {
        unravel(cell, &self.dims())
    }
    /// The cell at grid indices `idx` (one per axis).
    pub fn cell_at(&self, idx: &[usize]) -> usize {
        ravel(idx, &self.dims())
    }
    /// "key=value, key=value" of a cell (of a run list: "run i: key=value, ..."), for messages.
    pub fn describe_cell(&self, cell: usize) -> String {
        match self.runs.get(cell) {
            Some(run) if self.is_run_list() => {
                if run.overrides.is_empty() {
                    format!("run {cell}: the base config")
                } else {
                    format!("run {cell}: {}", describe_overrides(&run.overrides))
                }
            }
            _ => self
                .axes
                .iter()
                .zip(self.cell_indices(cell))
                .map(|(a, k)| format!("{}={}", a.key, a.values[k]))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The runs of a run list as stored (every overridden key, its value in every run);
    /// `None` for a grid.
    pub fn run_table(&self) -> Option<RunTable> {
        if !self.is_run_list() {
            return None;
        }
        // In key order: a table of runs reads the same whichever run names a key first.
        let mut keys: Vec<String> = self.runs.iter().flat_map(|r| &r.overrides).map(|(k, _)| k.clone()).collect();
        keys.sort();
        keys.dedup();
        let base: toml::Table = self.base.to_toml().parse().unwrap_or_default();
        let values = keys
            .iter()
            .map(|k| {
                let fallback = config_number(&base, k).unwrap_or(f64::NAN);
                self.runs
                    .iter()
                    .map(|r| r.overrides.iter().find(|(rk, _)| rk == k).map_or(fallback, |(_, v)| *v))
                    .collect()
            })
            .collect();
        Some(RunTable { runs: self.runs.len(), keys, values })
    }

    /// Seed of replica `r` of `cell`: a fixed mix of the base seed, the cell (unless seeds
    /// are common) and the replica, so it depends on nothing else (not on threads, shards
    /// or the order of execution).
    pub fn seed_of(&self, cell: usize, replica: u32) -> u64 {
        let cell_part = match self.seeds {
            SeedMode::PerCell => cell as u64,
            SeedMode::Common => u64::MAX,
        };
        let mut h = splitmix64(self.seed ^ 0x6877_5f73_7765_6570); // "hw_sweep"
        h = splitmix64(h ^ cell_part);
        // 63 bits: a seed must pass through TOML (`hollow run --seed`) to reproduce a cell.
        splitmix64(h ^ u64::from(replica)) >> 1
    }

    /// The full config of replica `r` of `cell`: base, `[set]`, steps, the cell's axis
    /// values (or its run's overrides), seed.
    pub fn cell_config(&self, cell: usize, replica: u32) -> Result<Config, SweepError> {
        let mut cfg = if self.is_run_list() {
            self.run_config(cell).map_err(|e| SweepError::Spec {
                file: self.file.clone(),
                key: format!("run[{cell}]"),
                reason: format!("gives an invalid config: {e}"),
            })?
        } else {
            let mut sets = self.base_sets();
            for (a, k) in self.axes.iter().zip(self.cell_indices(cell)) {
                sets.push(override_arg(&a.key, a.values[k]));
            }
            Config::from_str_named(&self.base_text, &self.base_file.display().to_string(), &sets).map_err(|e| {
                SweepError::Spec {
                    file: self.file.clone(),
                    key: "axis".into(),
                    reason: format!("cell ({}) gives an invalid config: {e}", self.describe_cell(cell)),
                }
            })?
        };
        cfg.top.seed = self.seed_of(cell, replica);
        Ok(cfg)
    }

    /// The text the spec hash is taken over: everything that decides the numbers in the
    /// output (resolved base config, axes or runs bit for bit, replicas, seeds, block,
    /// metrics, series) and nothing that does not (comments, key order, file names). Lines
    /// that a one- or two-axis grid without series does not have are left out for it, so
    /// such specs keep the hash they had before run lists and series existed.
    pub fn canonical(&self) -> String {
        let mut s = format!("hollow-sweep-spec {HASH_VERSION}\n[base]\n{}\n", self.base.to_toml());
        for a in &self.axes {
            let _ = write!(s, "axis {} {}:", a.key, a.scale.name());
            for v in &a.values {
                let _ = write!(s, " {:016x}", v.to_bits());
            }
            s.push('\n');
        }
        for (i, r) in self.runs.iter().enumerate() {
            let _ = write!(s, "run {i}:");
            // By key: the order a run lists its overrides in does not change the run.
            let mut o: Vec<&(String, f64)> = r.overrides.iter().collect();
            o.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, v) in o {
                let _ = write!(s, " {k}={:016x}", v.to_bits());
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "replicas {}\nsteps {}\nseed {}\nseeds {}\nblock {}",
            self.replicas,
            self.steps,
            self.seed,
            self.seeds.name(),
            self.block
        );
        let _ = writeln!(s, "metrics {}", self.metrics.join(" "));
        if !self.series.is_empty() {
            let _ = writeln!(s, "series {}", self.series.join(" "));
        }
        s
    }
}

/// "3 × 4 × 2 cells" of a grid of these dims, "5 runs" of a run list.
pub fn describe_dims(dims: &[usize], run_list: bool) -> String {
    if run_list {
        let n = dims.iter().product::<usize>();
        return format!("{n} run{}", if n == 1 { "" } else { "s" });
    }
    let grid = dims.iter().map(usize::to_string).collect::<Vec<_>>().join(" × ");
    format!("{grid} cells")
}

/// Row-major indices of flat index `cell` in a grid of `dims` (the last varies fastest).
pub fn unravel(mut cell: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for (i, &n) in dims.iter().enumerate().rev() {
        idx[i] = cell % n.max(1);
        cell /= n.max(1);
    }
    idx
}

/// The flat row-major index of grid indices `idx` in a grid of `dims`.
pub fn ravel(idx: &[usize], dims: &[usize]) -> usize {
    idx.iter().zip(dims).fold(0, |acc, (&i, &n)| acc * n + i)
}
