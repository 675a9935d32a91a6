//! Command-line interface: the clap definitions ([`Cli`], [`Cmd`]), the dispatch of
//! subcommands ([`main`]), the exit codes ([`exit_code`]) and what several commands share
//! (run options, config loading, backend choice, `--trace` lines). Each command group has
//! its own file, a thin shell over the library: `run` (run, info, config, bench), `sweep`
//! (sweep, merge, export), `plot`, `layers` (equilibrium, meanfield), `reproduce`; stop
//! signals and progress are in `progress`.

mod layers;
mod plot;
mod progress;
mod reproduce;
mod run;
mod sweep;

pub use plot::PlotCmd;
pub use progress::Signals;
pub use reproduce::ScaleArg;

use crate::backend::Backend;
use crate::config::{self, Config};
use crate::observe::Recorder;
use crate::state::State;
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Exit codes (README, "Exit codes"); clap exits with 2 on a usage error by itself.
pub mod exit {
    /// A bad argument (clap's own, or one checked after parsing).
    pub const USAGE: i32 = 2;
    /// A bad config, sweep spec or input file.
    pub const INPUT: i32 = 3;
    /// An output that may not or cannot be written, or another I/O failure.
    pub const OUTPUT: i32 = 4;
    /// A failure of the program itself (a backend or executor error, a bug).
    pub const INTERNAL: i32 = 70;
    /// `merge`: the merged file was written, but shards are missing or incomplete; merge
    /// again once they are done (EX_TEMPFAIL: try again later).
    pub const INCOMPLETE: i32 = 75;
}

/// An error of the command line that carries its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Output(String),
    /// Stopped by `signal` after saving what was done; exits 128 + signal.
    #[error("{msg}")]
    Interrupted { signal: i32, msg: String },
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    CliError::Usage(msg.into()).into()
}

/// The exit code of a failed command: the first error in the chain that says what kind it is.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    use crate::io::hdf5::OutputError;
    use crate::sweep::SweepError;
    let output = |o: &OutputError| match o {
        // A file that is not what it should be is a bad input.
        OutputError::Format { .. } => exit::INPUT,
        _ => exit::OUTPUT,
    };
    for cause in e.chain() {
        if let Some(c) = cause.downcast_ref::<CliError>() {
            return match c {
                CliError::Usage(_) => exit::USAGE,
                CliError::Input(_) => exit::INPUT,
                CliError::Output(_) => exit::OUTPUT,
                CliError::Interrupted { signal, .. } => 128 + signal,
            };
        }
        if cause.is::<config::ConfigError>() {
            return exit::INPUT;
        }
        if let Some(s) = cause.downcast_ref::<SweepError>() {
            return match s {
                SweepError::File(o) => output(o),
                SweepError::Resume { .. } => exit::OUTPUT,
                SweepError::Executor(_) => exit::INTERNAL,
                SweepError::Incomplete(_) => exit::INCOMPLETE,
                _ => exit::INPUT,
            };
        }
        if let Some(o) = cause.downcast_ref::<OutputError>() {
            return output(o);
        }
        if let Some(r) = cause.downcast_ref::<crate::reproduce::ReproduceError>() {
            return match r {
                crate::reproduce::ReproduceError::Config(_) => exit::INPUT,
                crate::reproduce::ReproduceError::Other(_) => exit::INTERNAL,
                _ => exit::OUTPUT,
            };
        }
        if cause.is::<crate::io::tables::TableError>() || cause.is::<std::io::Error>() {
            return exit::OUTPUT;
        }
    }
    exit::INTERNAL
}

#[derive(Parser)]
#[command(name = "hollow", version, about = "Agent-based content market under a generative-AI supply shock")]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

pub use crate::backend::BackendKind;

/// Options shared by commands that run simulations.
#[derive(clap::Args, Clone, Debug)]
pub struct RunOpts {
    /// Override the seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override the number of steps.
    #[arg(long)]
    pub steps: Option<u32>,
    /// Override any config key: `--set market.k=8 --set creators=1000`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Worker threads of the CPU backend (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Run one simulation and write its HDF5 output.
    Run {
        /// Config file (TOML).
        config: PathBuf,
        /// Output file.
        #[arg(short, long, default_value = "hollow.h5")]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
        backend: BackendKind,
        #[command(flatten)]
        opts: RunOpts,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
        /// Print a line of key metrics every N steps (0 = never).
        #[arg(long, default_value_t = 0)]
        trace: u32,
        /// Replace an existing output that is not a hollow file (never an input, a link or a device).
        #[arg(long)]
        force: bool,
        /// Print the run summary as one JSON object on stdout instead of the text summary.
        #[arg(long)]
        json: bool,
    },
    /// Print configuration: `--defaults` prints every key with its default and meaning.
    Config {
        #[arg(long)]
        defaults: bool,
        /// Print the key reference as a Markdown table.
        #[arg(long)]
        markdown: bool,
        /// Validate a config file and print it with defaults filled in.
        file: Option<PathBuf>,
    },
    /// Version, backends, GPU adapters and memory per agent.
    Info {
        /// Also show the memory plan of this config.
        config: Option<PathBuf>,
    },
    /// Measure agent-steps per second and time per stage.
    Bench {
        config: PathBuf,
        /// Backends to measure, comma separated (cpu,gpu).
        #[arg(long, default_value = "cpu", value_delimiter = ',')]
        backend: Vec<BackendKind>,
        /// Steps to time (after warm-up; at least 1).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
        measure: u32,
        /// Warm-up steps (past the shock if you want AI volume in the measurement).
        #[arg(long, default_value_t = 2)]
        warmup: u32,
        /// The device's peak memory bandwidth in GB/s, for the roofline column
        /// (e.g. 3350 for an H100 SXM, 2000 for an H100 PCIe).
        #[arg(long)]
        peak_gbps: Option<f64>,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Run a parameter sweep (a grid over any number of config keys, or a list of runs)
    /// from a sweep spec; an existing output of the same spec is resumed (docs/sweeps.md).
    Sweep {
        /// Sweep spec (TOML), e.g. configs/phase_cost_pollution.toml.
        spec: PathBuf,
        /// Output file (default: the spec's name with .h5, or .shard<i>of<n>.h5 with --shard).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Start over, overwriting the output instead of resuming it.
        #[arg(long)]
        fresh: bool,
        /// Replace an existing output that is not a hollow file (never an input, a link or a device).
        #[arg(long)]
        force: bool,
        /// Run only every n-th block starting at block i (0-based), e.g. 3/8, or the index
        /// alone (3) when the spec has `shards = N`; merge the shard files with `hollow merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Worker threads (0 = all cores); each runs one single-threaded simulation.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// cpu: one simulation per thread; gpu: many markets per dispatch (ensembles);
        /// auto: the GPU when a hardware adapter is found (not lavapipe), else the CPU.
        #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
        backend: BackendKind,
        /// GPU: most markets per ensemble (0 = as many as about 2 GiB of GPU memory holds).
        #[arg(long, default_value_t = 0)]
        batch: usize,
        /// GPU: ensembles in flight at once, each from its own host thread (2 lets one's
        /// host work overlap another's GPU work, at twice the GPU memory).
        #[arg(long, default_value_t = 1)]
        streams: usize,
        /// Least seconds between checkpoints (0 = after every block).
        #[arg(long, default_value_t = 5.0)]
        checkpoint_secs: f64,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
        /// Stop after this many blocks (simulates an interruption; for tests).
        #[arg(long, hide = true)]
        max_blocks: Option<usize>,
        /// Print the cells, runs and agent-steps and an estimate of the time on this
        /// machine's CPUs (from a short calibration run), then stop; writes nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Figures from output files.
    Plot {
        #[command(subcommand)]
        what: PlotCmd,
    },
    /// The static layer: the frictionless equilibrium before and after the shock
    /// (segment cut-offs, prices, the profit frontier, quality distributions).
    Equilibrium {
        /// Config file (TOML).
        config: PathBuf,
        /// Output file (HDF5).
        #[arg(short, long, default_value = "equilibrium.h5")]
        output: PathBuf,
        /// Directory for the PNG figures (none without it).
        #[arg(long)]
        png_dir: Option<PathBuf>,
        /// Share of its units a creator sells at the rest point of its price rule:
        /// 1 is the Walrasian market, 0.5 the rest point of the ABM's price rule.
        #[arg(long, default_value_t = 1.0)]
        sell_through: f64,
        /// Override any config key: `--set technology.ai_cost_scale=10`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Replace an existing output that is not a hollow file (never an input, a link or a device).
        #[arg(long)]
        force: bool,
    },
    /// The mean-field layer: the deterministic N -> infinity limit of the step, written
    /// in the run-file layout so it overlays a `hollow run` file by series name.
    Meanfield {
        /// Config file (TOML).
        config: PathBuf,
        /// Output file (HDF5, run layout).
        #[arg(short, long, default_value = "meanfield.h5")]
        output: PathBuf,
        #[command(flatten)]
        opts: RunOpts,
        /// Print a line of key metrics every N steps (0 = never).
        #[arg(long, default_value_t = 0)]
        trace: u32,
        /// Replace an existing output that is not a hollow file (never an input, a link or a device).
        #[arg(long)]
        force: bool,
    },
    /// Run the fact scenarios and measure the stylized facts F1-F7 and the paper's
    /// headline numbers: facts.h5, facts.md, facts.csv and one PNG per fact.
    Reproduce {
        /// Output directory (created if missing).
        #[arg(long, default_value = "facts")]
        out: PathBuf,
        /// small: minutes on two cores; full: the configs' populations (10^6 creators).
        #[arg(long, value_enum, default_value_t = ScaleArg::Small)]
        scale: ScaleArg,
        /// Replicas (seeds) of the paper's set-up (at least 1).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
        replicas: u32,
        /// Replicas (seeds) of every point of the F5 and F6 scans (their spread is reported).
        #[arg(long, default_value_t = 4)]
        fact_replicas: u32,
        /// Only these facts, comma separated (F1..F7, paper).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Directory of the scenario configs.
        #[arg(long, default_value = "configs")]
        configs: PathBuf,
        /// Single runs on this backend; the F5/F6 scans as sweeps on its executor (gpu:
        /// many markets per dispatch).
        #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
        backend: BackendKind,
        /// Worker threads of the CPU backend (0 = all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// No progress lines.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Join the shard files of one sweep into one sweep file.
    Merge {
        /// The merged output file.
        output: PathBuf,
        /// Shard files (from `hollow sweep --shard i/n`).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Replace an existing output that is not a hollow file (never a shard, a link or a device).
        #[arg(long)]
        force: bool,
    },
    /// A hollow file as a tidy CSV or Parquet table: a sweep one row per cell × replica (axis keys, or
    /// a run list's overridden keys, and metrics as columns), a run one row per step, a
    /// reproduce file (facts.h5) one row per measured number.
    Export {
        /// A run, sweep or facts file written by hollow.
        file: PathBuf,
        /// Output path (default: FILE with the format's extension, .csv or .parquet); "-" writes to stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Table format: csv or parquet (default: parquet when OUT ends in .parquet, else csv).
        #[arg(long)]
        format: Option<String>,
        /// Replace an existing output (hollow never replaces a file it did not write).
        #[arg(long)]
        force: bool,
    },
}

pub fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { config, output, backend, opts, quiet, trace, force, json } => {
            run::cmd_run(&config, &output, backend, &opts, quiet, trace, force, json)
        }
        Cmd::Config { defaults, markdown, file } => run::cmd_config(defaults, markdown, file.as_deref()),
        Cmd::Info { config } => run::cmd_info(config.as_deref()),
        Cmd::Bench { config, backend, measure, warmup, peak_gbps, opts } => {
            run::cmd_bench(&config, &backend, measure, warmup, peak_gbps, &opts)
        }
        Cmd::Sweep {
            spec,
            output,
            fresh,
            force,
            shard,
            threads,
            backend,
            batch,
            streams,
            checkpoint_secs,
            quiet,
            max_blocks,
            dry_run,
        } => {
            if dry_run {
                return sweep::cmd_sweep_plan(&spec, shard.as_deref(), backend, threads);
            }
            let checkpoint = sweep::checkpoint_interval(checkpoint_secs)?;
            let exec = sweep::sweep_executor(backend, threads, batch, streams)?;
            let flags = sweep::SweepFlags { fresh, force, quiet, max_blocks, checkpoint };
            sweep::cmd_sweep(&spec, output, shard.as_deref(), exec.as_ref(), &flags)
        }
        Cmd::Plot { what } => plot::cmd_plot(what),
        Cmd::Merge { output, shards, force } => sweep::cmd_merge(&output, &shards, force),
        Cmd::Export { file, output, format, force } => sweep::cmd_export(&file, output, format.as_deref(), force),
        Cmd::Equilibrium { config, output, png_dir, sell_through, set, force } => {
            layers::cmd_equilibrium(&config, &output, png_dir.as_deref(), sell_through, &set, force)
        }
        Cmd::Meanfield { config, output, opts, trace, force } => {
            layers::cmd_meanfield(&config, &output, &opts, trace, force)
        }
        Cmd::Reproduce { out, scale, replicas, fact_replicas, only, configs, backend, threads, quiet } => {
            reproduce::cmd_reproduce(out, scale, (replicas, fact_replicas), only, configs, backend, threads, quiet)
        }
    }
}

/// Loads a config with the command-line overrides applied (they are validated like file keys).
pub fn load_config(path: &Path, opts: &RunOpts) -> Result<Config> {
    let mut sets = opts.set.clone();
    if let Some(s) = opts.seed {
        sets.push(format!("seed={s}"));
    }
    if let Some(s) = opts.steps {
        sets.push(format!("steps={s}"));
    }
    let cfg = Config::load(path, &sets)?;
    crate::state::check_memory(&cfg, &path.display().to_string())?;
    Ok(cfg)
}

/// Builds the backend named by `kind` over `state` (see `backend::create`).
pub fn make_backend(kind: BackendKind, state: State, cfg: &Config, threads: usize) -> Result<Box<dyn Backend>> {
    Ok(crate::backend::create(kind, state, cfg, threads)?)
}

pub use crate::backend::auto_takes_gpu;

/// Metrics printed by `--trace` (run and meanfield alike, so their lines compare).
const TRACED: [&str; 10] = [
    "share_exit",
    "share_ai",
    "share_human",
    "active_buyers",
    "matches",
    "ai_unit_share",
    "welfare",
    "hhi",
    "mean_x_human",
    "ai_volume_mean",
];

/// The header of the `--trace` table.
fn trace_header() -> String {
    format!("{:>6} {}", "step", TRACED.map(|n| format!("{n:>13}")).join(" "))
}

/// The `--trace` line of `step`: the last recorded value of each traced metric.
fn trace_row(step: u32, rec: &Recorder) -> String {
    let row: Vec<String> =
        TRACED.iter().map(|n| format!("{:>13.4}", rec.get(n).and_then(|v| v.last()).unwrap_or(&f64::NAN))).collect();
    format!("{:>6} {}", step, row.join(" "))
}
