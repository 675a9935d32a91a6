//! Command-line interface: clap definitions and subcommand dispatch. Each subcommand is a
//! thin shell over the library (config loading, `Simulation`, output writers).
//! Also owns the two things only a process has: the stop signals (SIGINT, SIGTERM, SIGHUP
//! end every long command cleanly, see [`Signals`]) and the exit codes ([`exit_code`]).

use crate::backend::{Backend, cpu::CpuBackend};
use crate::config::{self, Config};
use crate::observe::{Outcomes, Recorder};
use crate::sim::Simulation;
use crate::state::State;
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

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

/// The stop signals. `signal-hook` rather than `ctrlc`: it records which signal arrived,
/// so an interrupted command exits 130 (SIGINT) or 143 (SIGTERM, what Slurm sends) after
/// saving, and every signal only raises the flag (no second-signal exit that would lose
/// the output). The long loops poll `stop`.
pub struct Signals {
    pub stop: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl Signals {
    /// Installs the handlers for SIGINT, SIGTERM and SIGHUP.
    pub fn install() -> Result<Signals> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        #[cfg(unix)]
        let signals = [SIGINT, SIGTERM, signal_hook::consts::SIGHUP];
        #[cfg(not(unix))]
        let signals = [SIGINT, SIGTERM];
        let stop = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        for sig in signals {
            signal_hook::flag::register_usize(sig, which.clone(), sig as usize)
                .and_then(|_| signal_hook::flag::register(sig, stop.clone()))
                .with_context(|| format!("installing the handler of signal {sig}"))?;
        }
        Ok(Signals { stop, which })
    }

    /// The signal that asked to stop, if any.
    pub fn received(&self) -> Option<i32> {
        match self.which.load(Ordering::SeqCst) {
            0 if !self.stop.load(Ordering::SeqCst) => None,
            // The flag can be seen before the number; SIGINT is the usual one.
            0 => Some(signal_hook::consts::SIGINT),
            n => Some(n as i32),
        }
    }

    /// The error an interrupted command ends with, after saving.
    pub fn interrupted(&self, msg: String) -> anyhow::Error {
        let signal = self.received().unwrap_or(signal_hook::consts::SIGINT);
        let name = match signal {
            signal_hook::consts::SIGINT => "SIGINT".to_string(),
            signal_hook::consts::SIGTERM => "SIGTERM".to_string(),
            #[cfg(unix)]
            signal_hook::consts::SIGHUP => "SIGHUP".to_string(),
            n => format!("signal {n}"),
        };
        CliError::Interrupted { signal, msg: format!("{name}: {msg}") }.into()
    }
}

#[derive(Parser)]
#[command(name = "hollow", version, about = "Agent-based content market under a generative-AI supply shock")]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// Which backend runs the step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    Cpu,
    Gpu,
    /// The GPU when an adapter is found, else the CPU.
    Auto,
}

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
    /// Run a parameter sweep (phase diagram) from a sweep spec; an existing output of the
    /// same spec is resumed (docs/sweeps.md).
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
    /// A hollow file as a tidy CSV table: a sweep one row per cell × replica (axis keys and
    /// metrics as columns), a run one row per step, a reproduce file (facts.h5) one row per
    /// measured number.
    Export {
        /// A run, sweep or facts file written by hollow.
        file: PathBuf,
        /// Output path (default: FILE with the extension .csv); "-" writes to stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Table format: csv (Parquet is not built in).
        #[arg(long, default_value = "csv")]
        format: String,
        /// Replace an existing output (hollow never replaces a file it did not write).
        #[arg(long)]
        force: bool,
    },
}

pub fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { config, output, backend, opts, quiet, trace, force, json } => {
            cmd_run(&config, &output, backend, &opts, quiet, trace, force, json)
        }
        Cmd::Config { defaults, markdown, file } => cmd_config(defaults, markdown, file.as_deref()),
        Cmd::Info { config } => cmd_info(config.as_deref()),
        Cmd::Bench { config, backend, measure, warmup, peak_gbps, opts } => {
            cmd_bench(&config, &backend, measure, warmup, peak_gbps, &opts)
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
                return cmd_sweep_plan(&spec, shard.as_deref(), backend, threads);
            }
            let checkpoint = checkpoint_interval(checkpoint_secs)?;
            let exec = sweep_executor(backend, threads, batch, streams)?;
            let flags = SweepFlags { fresh, force, quiet, max_blocks, checkpoint };
            cmd_sweep(&spec, output, shard.as_deref(), exec.as_ref(), &flags)
        }
        Cmd::Plot { what } => cmd_plot(what),
        Cmd::Merge { output, shards, force } => cmd_merge(&output, &shards, force),
        Cmd::Export { file, output, format, force } => cmd_export(&file, output, &format, force),
        Cmd::Equilibrium { config, output, png_dir, sell_through, set, force } => {
            cmd_equilibrium(&config, &output, png_dir.as_deref(), sell_through, &set, force)
        }
        Cmd::Meanfield { config, output, opts, trace, force } => cmd_meanfield(&config, &output, &opts, trace, force),
        Cmd::Reproduce { out, scale, replicas, fact_replicas, only, configs, backend, threads, quiet } => {
            cmd_reproduce(out, scale, (replicas, fact_replicas), only, configs, backend, threads, quiet)
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

/// Builds the backend named by `kind` over `state`; returns it and a note for the user.
pub fn make_backend(kind: BackendKind, state: State, cfg: &Config, threads: usize) -> Result<Box<dyn Backend>> {
    match kind {
        BackendKind::Cpu => Ok(Box::new(CpuBackend::new(state, threads))),
        BackendKind::Gpu | BackendKind::Auto => gpu_backend(kind, state, cfg, threads),
    }
}

/// The one rule of `--backend auto` (run and sweep alike): a hardware adapter if there is
/// one, else the CPU; a software adapter (lavapipe) only when named by HOLLOW_ADAPTER,
/// because emulated Vulkan is slower than the CPU backend.
pub fn auto_takes_gpu() -> bool {
    std::env::var_os("HOLLOW_ADAPTER").is_some() || crate::backend::gpu::has_hardware_adapter()
}

fn gpu_backend(kind: BackendKind, state: State, cfg: &Config, threads: usize) -> Result<Box<dyn Backend>> {
    use crate::backend::gpu::{GpuEnsemble, GpuOptions};
    let opts = GpuOptions { adapter: std::env::var("HOLLOW_ADAPTER").ok(), ..Default::default() };
    if kind == BackendKind::Auto {
        if !auto_takes_gpu() {
            eprintln!(
                "backend auto: no hardware GPU adapter (set HOLLOW_ADAPTER to use a software one); using the CPU"
            );
            return Ok(Box::new(CpuBackend::new(state, threads)));
        }
        // Keep a copy: a failed GPU start must not cost the population.
        return match GpuEnsemble::one(state.clone(), cfg, &opts) {
            Ok(g) => {
                eprintln!("backend auto: using the GPU");
                Ok(Box::new(g))
            }
            Err(e) => {
                eprintln!("backend auto: no usable GPU ({e}); using the CPU");
                Ok(Box::new(CpuBackend::new(state, threads)))
            }
        };
    }
    Ok(Box::new(GpuEnsemble::one(state, cfg, &opts)?))
}

fn cmd_config(defaults: bool, markdown: bool, file: Option<&Path>) -> Result<()> {
    if markdown {
        print!("{}", config::reference_markdown());
    } else if let Some(f) = file {
        let cfg = Config::load(f, &[])?;
        print!("{}", cfg.to_toml());
    } else if defaults {
        print!("{}", config::defaults_toml());
    } else {
        return Err(usage("nothing to do: give --defaults, --markdown or a config file to check"));
    }
    Ok(())
}

fn cmd_info(config: Option<&Path>) -> Result<()> {
    println!("hollow {}", env!("CARGO_PKG_VERSION"));
    println!(
        "backends: cpu ({} threads available), gpu (wgpu; set HOLLOW_ADAPTER=NAME to pick an adapter)",
        rayon::current_num_threads()
    );
    let adapters = crate::backend::gpu::adapters();
    if adapters.is_empty() {
        println!("GPU adapters: none found. {}", crate::backend::gpu::no_adapter_help());
    } else {
        println!("GPU adapters:");
        for a in adapters {
            println!("  {a}");
        }
    }
    println!(
        "memory per agent: creator {} B, buyer {} B, unit {} B (at most technology.ai_volume_max units per creator)",
        crate::state::Creators::BYTES_PER_AGENT,
        crate::state::Buyers::BYTES_PER_AGENT,
        crate::state::Units::BYTES_PER_UNIT
    );
    if let Some(p) = config {
        let cfg = Config::load(p, &[])?;
        println!("{}: {}", p.display(), memory_line(&cfg));
    }
    Ok(())
}

fn memory_line(cfg: &Config) -> String {
    format!(
        "{} creators, {} buyers: at most {:.2} GiB of agent state",
        cfg.top.creators,
        cfg.top.buyers,
        crate::state::memory_bytes(cfg) as f64 / (1u64 << 30) as f64
    )
}

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

/// Progress of a long command on stderr: a bar on a terminal; otherwise (a batch job's log,
/// where a bar shows nothing until the end) a plain line "progress: done/total unit (x%),
/// rate, ETA" every `HOLLOW_PROGRESS_SECS` seconds (default 30) and when it ends.
struct Progress {
    bar: indicatif::ProgressBar,
    log: Option<std::sync::Mutex<ProgressLog>>,
    unit: &'static str,
}

struct ProgressLog {
    every: f64,
    started: Instant,
    last: Option<Instant>,
    /// Position when the rate's clock started (work found done does not count).
    base: u64,
    pos: u64,
    len: u64,
}

impl Progress {
    fn new(len: u64, quiet: bool, unit: &'static str) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = if quiet || !terminal {
            indicatif::ProgressBar::hidden()
        } else {
            let pb = indicatif::ProgressBar::new(len);
            let template = format!(
                "{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {unit}  {{per_sec}}  ETA {{eta}}"
            );
            pb.set_style(indicatif::ProgressStyle::with_template(&template).expect("static template"));
            pb
        };
        let every = std::env::var("HOLLOW_PROGRESS_SECS").ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(30.0);
        let log = (!quiet && !terminal).then(|| {
            std::sync::Mutex::new(ProgressLog { every, started: Instant::now(), last: None, base: 0, pos: 0, len })
        });
        Progress { bar, log, unit }
    }

    /// A new total, and `pos` already done before the rate's clock starts (a resumed sweep).
    fn restart(&self, len: u64, pos: u64) {
        self.bar.set_length(len);
        self.bar.set_position(pos);
        self.bar.reset_eta();
        self.bar.reset_elapsed();
        if let Some(l) = &self.log {
            let mut l = l.lock().unwrap_or_else(|p| p.into_inner());
            (l.len, l.base, l.pos, l.started) = (len, pos, pos, Instant::now());
        }
    }

    fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
        if let Some(l) = &self.log {
            let mut l = l.lock().unwrap_or_else(|p| p.into_inner());
            l.pos = pos;
            if l.last.is_none_or(|t| t.elapsed().as_secs_f64() >= l.every) {
                l.last = Some(Instant::now());
                eprintln!("{}", l.line(self.unit));
            }
        }
    }

    fn println(&self, line: String) {
        if self.bar.is_hidden() { eprintln!("{line}") } else { self.bar.println(line) }
    }

    /// Clears the bar; in a log, the last progress line.
    fn finish(&self) {
        self.bar.finish_and_clear();
        if let Some(l) = &self.log {
            eprintln!("{}", l.lock().unwrap_or_else(|p| p.into_inner()).line(self.unit));
        }
    }
}

impl ProgressLog {
    fn line(&self, unit: &str) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = (self.pos - self.base.min(self.pos)) as f64 / secs.max(1e-9);
        let left = self.len.saturating_sub(self.pos) as f64;
        let eta = if rate > 0.0 { format!("ETA {}", fmt_secs(left / rate)) } else { "ETA unknown".into() };
        let pct = 100.0 * self.pos as f64 / self.len.max(1) as f64;
        format!("progress: {}/{} {unit} ({pct:.1}%), {rate:.3} {unit}/s, {eta}", self.pos, self.len)
    }
}

/// Seconds as "1h 02m", "3m 07s" or "12s".
fn fmt_secs(s: f64) -> String {
    let s = s.round().max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s / 60 % 60),
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_run(
    path: &Path,
    output: &Path,
    kind: BackendKind,
    opts: &RunOpts,
    quiet: bool,
    trace: u32,
    force: bool,
    json: bool,
) -> Result<()> {
    // First: a signal from here on is a clean stop, not a kill.
    let signals = Signals::install()?;
    let cfg = load_config(path, opts)?;
    // Before the simulation: an output that cannot or may not be written fails now.
    let out = crate::io::output::Output::create(output, &[path], force)?;
    let stop = signals.stop.clone();
    let steps = cfg.top.steps;
    let threads = opts.threads;
    let cfg2 = cfg.clone();
    let mut backend_err = None;
    let mut sim = Simulation::new(cfg.clone(), |state| match make_backend(kind, state.clone(), &cfg2, threads) {
        Ok(b) => b,
        Err(e) => {
            backend_err = Some(e);
            Box::new(CpuBackend::new(state, 1))
        }
    });
    if let Some(e) = backend_err {
        return Err(e);
    }
    let info = sim.backend().info();
    if !quiet {
        eprintln!(
            "hollow {}: {} — {} steps, seed {}, backend {} ({}); {}",
            env!("CARGO_PKG_VERSION"),
            path.display(),
            steps,
            cfg.top.seed,
            info.name,
            info.device,
            memory_line(&cfg)
        );
    }
    let pb = Progress::new(steps as u64, quiet, "steps");
    let started = Instant::now();
    let traced = TRACED;
    let say = |line: String| pb.println(line);
    if trace > 0 {
        say(format!("{:>6} {}", "step", traced.map(|n| format!("{n:>13}")).join(" ")));
    }
    let mut next = Recorder::new();
    while sim.t < steps && !stop.load(Ordering::Relaxed) {
        sim.run(sim.t + 1, &mut next, &stop, |t| pb.set_position(t as u64));
        if trace > 0 && (sim.t - 1) % trace == 0 {
            let row: Vec<String> = traced
                .iter()
                .map(|n| format!("{:>13.4}", next.get(n).and_then(|v| v.last()).unwrap_or(&f64::NAN)))
                .collect();
            say(format!("{:>6} {}", sim.t - 1, row.join(" ")));
        }
    }
    // The rate counts the simulation only, not the mean-field check or the writing.
    let secs = started.elapsed().as_secs_f64();
    let rec = next;
    pb.finish();
    let complete = sim.t >= steps && sim.error().is_none();
    let outcomes = sim.outcomes(&rec);
    let mf = if complete {
        if !quiet {
            eprintln!("mean-field check: running the mean field of this config ({steps} steps)");
        }
        meanfield_check(&cfg, &outcomes, &stop)
    } else {
        MeanfieldCheck::Skipped
    };
    let mf_attrs = mf.attrs();
    write_output(&out, &cfg, &info, &rec, complete, &outcomes, &mf_attrs)?;
    if json {
        println!("{}", summary_json(&cfg, &info, &rec, &outcomes, complete, secs, output, &mf_attrs));
    } else {
        print_summary(&cfg, &rec, &outcomes, complete, secs, output);
        print_meanfield_check(&mf);
    }
    if let Some(e) = sim.error() {
        // A backend failure is the program's (exit 70, unclassified).
        bail!(
            "the {} backend failed at step {}: {e}; wrote the {} steps before it to {} (marked incomplete)",
            info.name,
            rec.len(),
            rec.len(),
            output.display()
        );
    }
    // A signal that came after all the work (steps and check) was done cost nothing: success.
    let cut_short = !complete || matches!(mf, MeanfieldCheck::Skipped);
    if signals.received().is_some() && cut_short {
        return Err(signals.interrupted(if complete {
            format!(
                "interrupted during the mean-field check; wrote the complete run to {} (mean-field check marked skipped)",
                output.display()
            )
        } else {
            format!(
                "interrupted after {} of {} steps; wrote what was simulated to {} (marked incomplete, mean-field \
                 check skipped)",
                sim.t,
                steps,
                output.display()
            )
        }));
    }
    Ok(())
}

fn write_output(
    out: &crate::io::output::Output,
    cfg: &Config,
    info: &crate::backend::BackendInfo,
    rec: &Recorder,
    complete: bool,
    outcomes: &Outcomes,
    meanfield: &[(String, f64)],
) -> Result<()> {
    let mut meta = crate::io::hdf5::RunMeta::new(cfg, &info.name, &info.device);
    meta.complete = complete;
    meta.outcomes = *outcomes;
    meta.settled = crate::observe::settled_at(
        rec,
        cfg.technology.shock_step.min(rec.len() as u32),
        cfg.equilibrium.window as usize,
        cfg.equilibrium.tol as f64,
    );
    crate::io::hdf5::write_run_to(out, &meta, rec, meanfield)?;
    Ok(())
}

/// The run summary as one JSON object: what `print_summary` says, by the names of the run
/// file's attributes (`outcome_*`, `meanfield_*`); NaN and infinities become null.
#[allow(clippy::too_many_arguments)]
fn summary_json(
    cfg: &Config,
    info: &crate::backend::BackendInfo,
    rec: &Recorder,
    o: &Outcomes,
    complete: bool,
    secs: f64,
    output: &Path,
    meanfield: &[(String, f64)],
) -> String {
    use serde_json::{Map, Value, json};
    let num = |v: f64| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
    let n = rec.len();
    let agents = (cfg.top.creators as f64 + cfg.top.buyers as f64) * n as f64;
    let outcomes: Map<String, Value> =
        crate::observe::outcome_names().map(|k| (k.to_string(), num(o.value(k).unwrap_or(f64::NAN)))).collect();
    let mf: Map<String, Value> = meanfield.iter().map(|(k, v)| (k.clone(), num(*v))).collect();
    json!({
        "output": output.display().to_string(),
        // A string: seeds above 2^53 are not exact JSON numbers.
        "seed": cfg.top.seed.to_string(),
        "creators": cfg.top.creators,
        "buyers": cfg.top.buyers,
        "steps": n,
        "steps_requested": cfg.top.steps,
        "complete": complete,
        "seconds": num(secs),
        "agent_steps_per_second": num(agents / secs.max(1e-9)),
        "backend": info.name,
        "device": info.device,
        "outcomes": outcomes,
        "meanfield": mf,
    })
    .to_string()
}

fn print_summary(cfg: &Config, rec: &Recorder, o: &Outcomes, complete: bool, secs: f64, output: &Path) {
    let n = rec.len();
    let agents = (cfg.top.creators as f64 + cfg.top.buyers as f64) * n as f64;
    println!(
        "{} steps in {:.1} s ({:.3e} agent-steps/s){}",
        n,
        secs,
        agents / secs.max(1e-9),
        if complete { "" } else { " — INCOMPLETE" }
    );
    println!("final segment shares: exit {:.3}  AI {:.3}  human {:.3}", o.share_exit, o.share_ai, o.share_human);
    println!(
        "welfare per buyer: before shock {:.4}, lowest after {:.4}, final {:.4}",
        o.welfare_pre, o.welfare_min, o.welfare_final
    );
    println!(
        "collapse: depth {:.1}% of pre-shock welfare, {} steps below both levels, active buyers dip {:.1}%",
        100.0 * o.collapse_depth,
        o.collapse_duration,
        100.0 * o.active_dip
    );
    println!("revenue HHI: {:.4} before, {:.4} after", o.hhi_pre, o.hhi_final);
    if o.settle_step.is_nan() {
        println!("equilibrium check: not settled within the run");
    } else {
        println!("equilibrium check: settled from step {}", o.settle_step);
    }
    println!("output: {}", output.display());
}

fn cmd_bench(
    path: &Path,
    kinds: &[BackendKind],
    measure: u32,
    warmup: u32,
    peak_gbps: Option<f64>,
    opts: &RunOpts,
) -> Result<()> {
    let cfg = load_config(path, opts)?;
    let agents = cfg.top.creators as f64 + cfg.top.buyers as f64;
    let stages = crate::sim::STAGES.map(|s| format!(" {s} ms |")).concat();
    println!("| backend | device | creators | buyers | agent-steps/s | ms/step |{stages} MB/step | GB/s | roofline |");
    println!("|---|---|---|---|---|---|{}---|---|---|", "---|".repeat(crate::sim::STAGES.len()));
    use crate::backend::StageWork;
    let mut bounds: Vec<(String, Vec<f64>, [StageWork; crate::sim::STAGES.len()], (usize, usize))> = Vec::new();
    for &kind in kinds {
        let cfg2 = cfg.clone();
        let mut err = None;
        let mut sim =
            Simulation::new(cfg.clone(), |state| match make_backend(kind, state.clone(), &cfg2, opts.threads) {
                Ok(b) => b,
                Err(e) => {
                    err = Some(e);
                    Box::new(CpuBackend::new(state, 1))
                }
            });
        if let Some(e) = err {
            return Err(e).with_context(|| format!("backend {kind:?}"));
        }
        for _ in 0..warmup {
            sim.step();
        }
        let before = sim.stage_secs;
        let mut device = [0.0f64; crate::sim::STAGES.len()];
        let mut has_device_times = false;
        let mut bytes = 0.0;
        let mut work = [crate::backend::StageWork::default(); crate::sim::STAGES.len()];
        let mut units = 0.0f64;
        let t0 = Instant::now();
        for _ in 0..measure {
            let (s, _) = sim.step();
            bytes += crate::backend::traffic_bytes(&sim.last_params, &s.totals, cfg.market.rounds).iter().sum::<f64>();
            for (acc, w) in
                work.iter_mut().zip(crate::backend::stage_work(&sim.last_params, &s.totals, cfg.market.rounds))
            {
                acc.stream_bytes += w.stream_bytes;
                acc.random_loads += w.random_loads;
                acc.philox_blocks += w.philox_blocks;
            }
            units = units.max((sim.last_params.n_ai_units + sim.last_params.n_human_units) as f64);
            if let Some(times) = sim.backend().stage_times() {
                has_device_times = true;
                for (name, secs) in times {
                    if let Some(i) = crate::sim::STAGES.iter().position(|&s| s == name) {
                        device[i] += secs;
                    }
                }
            }
        }
        let dt = t0.elapsed().as_secs_f64() / measure.max(1) as f64;
        if let Some(e) = sim.error() {
            bail!("backend {kind:?} failed during the benchmark: {e}");
        }
        let info = sim.backend().info();
        let m = measure.max(1) as f64;
        // Device timestamps where the backend has them, else the host's wall clock per stage.
        let per_stage: String = if has_device_times {
            device.iter().map(|d| format!(" {:.2} |", d * 1e3 / m)).collect()
        } else {
            sim.stage_secs.iter().zip(before).map(|(a, b)| format!(" {:.1} |", (a - b) * 1e3 / m)).collect()
        };
        let gbps = bytes / m / dt / 1e9;
        let roof = peak_gbps.map_or("—".to_string(), |p| format!("{:.1}%", 100.0 * gbps / p));
        println!(
            "| {} | {} | {} | {} | {:.3e} | {:.1} |{per_stage} {:.0} | {:.2} | {roof} |",
            info.name,
            info.device,
            cfg.top.creators,
            cfg.top.buyers,
            agents / dt,
            dt * 1e3,
            bytes / m / 1e6,
            gbps,
        );
        if kind == BackendKind::Cpu {
            let stage_ms: Vec<f64> = sim.stage_secs.iter().zip(before).map(|(a, b)| (a - b) * 1e3 / m).collect();
            let state = cfg.top.creators as usize * 64 + cfg.top.buyers as usize * 44;
            bounds.push((
                info.device.clone(),
                stage_ms,
                work.map(|w| StageWork {
                    stream_bytes: w.stream_bytes / m,
                    random_loads: w.random_loads / m,
                    philox_blocks: w.philox_blocks / m,
                }),
                (units as usize * 16, state),
            ));
        }
    }
    // The CPU's measured limits and each stage's time against its bound (docs/performance.md).
    for (device, stage_ms, work, (gather_bytes, stream_bytes)) in &bounds {
        use crate::backend::limits;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot start the thread pool: {e}"))?;
        let l = limits::measure(&pool, *gather_bytes, *stream_bytes);
        println!(
            "\nCPU limits ({device}, measured now): random 16-byte loads {:.3e}/s over {:.0} MB (the unit records), \
             streaming read {:.2} GB/s over {:.0} MB (the agent state), Philox {:.3e} blocks/s",
            l.gather_per_s,
            l.gather_bytes as f64 / 1e6,
            l.stream_bytes_per_s / 1e9,
            l.stream_bytes as f64 / 1e6,
            l.philox_per_s
        );
        println!("\n| stage | ms/step | bound ms/step | bound by | time / bound |\n|---|---|---|---|---|");
        for (i, name) in crate::sim::STAGES.iter().enumerate() {
            let (b, by) = limits::stage_bound(i, &work[i], &l);
            println!(
                "| {name} | {:.2} | {:.2} | {by} | {:.1}× |",
                stage_ms[i],
                b * 1e3,
                stage_ms[i] / (b * 1e3).max(1e-12)
            );
        }
    }
    if kinds.contains(&BackendKind::Gpu) {
        println!(
            "\nGPU stage columns are device time (timestamp queries) where the adapter has them; \
                  MB/step is the traffic model of `backend::traffic_bytes`; roofline = GB/s over --peak-gbps."
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// sweep, plot, merge (docs/sweeps.md)

/// Figures from output files.
#[derive(Subcommand)]
pub enum PlotCmd {
    /// Phase diagram of one outcome of a sweep file: a heatmap over the two axes (a line
    /// with a ±1 std band for a one-axis sweep), regime boundaries outlined.
    Phase {
        /// Sweep file (from `hollow sweep` or `hollow merge`).
        file: PathBuf,
        /// Outcome to show (one of the file's metrics).
        metric: String,
        /// Output PNG (default: <file stem>_<metric>.png next to the file).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Per-cell statistic of a numeric metric over replicas: mean or std.
        #[arg(long, default_value = "mean")]
        stat: String,
        /// Categorical metric whose changes are outlined ("none" to draw no boundaries;
        /// default: the metric itself if categorical, else the first of dominant_segment
        /// and welfare_regime that is recorded and changes on the grid).
        #[arg(long)]
        regimes: Option<String>,
        /// Colour map: auto (diverging around zero when values have both signs), viridis, diverging.
        #[arg(long, default_value = "auto")]
        cmap: String,
        /// Image size in pixels, WIDTHxHEIGHT.
        #[arg(long, default_value = "1100x800")]
        size: String,
        /// Draw no welfare-maximising s* and laissez-faire line (drawn by default on a
        /// welfare metric of a sweep over technology.ai_cost_scale).
        #[arg(long)]
        no_optimum: bool,
    },
    /// Time series of run files, one panel per metric, the shock marked; several files are
    /// overlaid (or, with --band, drawn as the mean and ±1 sd of replicas); a run's own
    /// mean-field check is drawn as a dashed level over its last window.
    Run {
        /// Run files (from `hollow run`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Series to draw (names of /timeseries; default: welfare, share_ai, share_human, congestion).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// Output PNG (default: <first file stem>_run.png next to it).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Treat the files as replicas: mean and ±1 sd band instead of one line each.
        #[arg(long)]
        band: bool,
    },
    /// Regime map of a sweep over technology.ai_cost_scale and another key (pollution):
    /// per row, how welfare responds to AI expansion against the no-AI run (the largest
    /// s): monotone gains, gains with a dip, inverted U, harmful from entry; with s* and
    /// s = 1. Needs the metrics welfare_final and share_ai.
    Regimes {
        /// Sweep file.
        file: PathBuf,
        /// Output PNG (default: <file stem>_regimes.png next to the file).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Image size in pixels, WIDTHxHEIGHT.
        #[arg(long, default_value = "1100x800")]
        size: String,
    },
}

/// The sweep executor for `--backend`: `auto` takes the GPU when wgpu finds an adapter.
fn sweep_executor(
    kind: BackendKind,
    threads: usize,
    batch: usize,
    streams: usize,
) -> Result<Box<dyn crate::sweep::Executor>> {
    use crate::backend::gpu::GpuOptions;
    use crate::sweep::{CpuExecutor, GpuExecutor};
    let use_gpu = match kind {
        BackendKind::Cpu => false,
        BackendKind::Gpu => true,
        BackendKind::Auto => {
            let gpu = auto_takes_gpu();
            eprintln!(
                "backend auto: {}",
                if gpu {
                    "using the GPU executor"
                } else {
                    "no hardware GPU adapter (set HOLLOW_ADAPTER to use a software one); using the CPU executor"
                }
            );
            gpu
        }
    };
    if use_gpu {
        let opts = GpuOptions { adapter: std::env::var("HOLLOW_ADAPTER").ok(), ..Default::default() };
        Ok(Box::new(GpuExecutor::new(opts, batch, streams).map_err(|e| anyhow::anyhow!("--backend gpu: {e}"))?))
    } else {
        Ok(Box::new(CpuExecutor::new(threads)?))
    }
}

/// Longest `--checkpoint-secs` (a day): beyond it a checkpoint would never come.
const MAX_CHECKPOINT_SECS: f64 = 86_400.0;

/// `--checkpoint-secs` as a duration, refused unless in [0, MAX_CHECKPOINT_SECS].
fn checkpoint_interval(secs: f64) -> Result<std::time::Duration> {
    if !(secs.is_finite() && (0.0..=MAX_CHECKPOINT_SECS).contains(&secs)) {
        return Err(usage(format!(
            "--checkpoint-secs: must be a number of seconds in [0, {MAX_CHECKPOINT_SECS}], got {secs}"
        )));
    }
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| usage(format!("--checkpoint-secs {secs}: {e}")))
}

/// The flags of `hollow sweep` that are not the spec, shard or executor.
/// `hollow sweep --dry-run`: what the sweep (or its shard) would run and how long the CPU
/// executor would take on this machine, from a calibration run of one cell; writes nothing.
fn cmd_sweep_plan(spec_path: &Path, shard: Option<&str>, kind: BackendKind, threads: usize) -> Result<()> {
    use crate::sweep::{Shard, Spec, shard_blocks};
    let spec = Spec::load(spec_path)?;
    let shard: Shard = shard.map_or(Ok(Shard::ALL), |s| Shard::resolve(s, &spec))?;
    let cells: usize = shard_blocks(&spec, shard).map(|b| spec.block_cells(b).len()).sum();
    let runs = cells as u64 * u64::from(spec.replicas);
    let agents = u64::from(spec.base.top.creators) + u64::from(spec.base.top.buyers);
    let agent_steps = runs as f64 * f64::from(spec.steps) * agents as f64;
    println!(
        "{}{}: {cells} cells × {} replicas = {runs} runs of {} steps on {agents}-agent markets: {agent_steps:.3e} agent-steps",
        spec_path.display(),
        if shard == Shard::ALL { String::new() } else { format!(" shard {shard}") },
        spec.replicas,
        spec.steps
    );
    // Calibration: the middle cell, replica 0, on one thread (as the CPU executor runs it),
    // with its shock moved to step 10 so that 20 of the 30 steps carry the AI flood.
    let cell = spec.n_cells() / 2;
    let mut cfg = spec.cell_config(cell, 0)?;
    let k = cfg.top.steps.min(30);
    cfg.top.steps = k;
    cfg.technology.shock_step = cfg.technology.shock_step.min(10);
    let mut sim = Simulation::new(cfg, |s| Box::new(CpuBackend::new(s, 1)));
    let started = Instant::now();
    sim.run(k, &mut Recorder::new(), &AtomicBool::new(false), |_| {});
    let per_run = started.elapsed().as_secs_f64() / f64::from(k.max(1)) * f64::from(spec.steps);
    let workers = if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads };
    println!(
        "estimate for the CPU executor with {workers} threads: {} ({:.2} s per run; calibrated on {k} steps of cell \
         {} replica 0 on one thread, shock at step {}, just now: an estimate, not a measurement)",
        fmt_secs(runs as f64 * per_run / workers as f64),
        per_run,
        spec.describe_cell(cell),
        k.min(10)
    );
    if kind != BackendKind::Cpu {
        println!(
            "the GPU executor is not calibrated by --dry-run: its rate depends on the ensemble size and the device \
             (README, Benchmarks: 188 runs/s of 1.5·10^4-agent, 400-step markets on an H200)"
        );
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct SweepFlags {
    fresh: bool,
    force: bool,
    quiet: bool,
    max_blocks: Option<usize>,
    checkpoint: std::time::Duration,
}

fn cmd_sweep(
    spec_path: &Path,
    output: Option<PathBuf>,
    shard: Option<&str>,
    exec: &dyn crate::sweep::Executor,
    flags: &SweepFlags,
) -> Result<()> {
    use crate::sweep::{self, Options, Shard, Spec};
    let SweepFlags { fresh, force, quiet, max_blocks, checkpoint } = *flags;
    // First: a signal from here on is a clean stop, not a kill.
    let signals = Signals::install()?;
    let spec = Spec::load(spec_path)?;
    let shard: Shard = match shard {
        Some(s) => Shard::resolve(s, &spec)?,
        None => Shard::ALL,
    };
    let output = output.unwrap_or_else(|| {
        let stem = spec_path.file_stem().map_or("sweep".into(), |s| s.to_string_lossy().into_owned());
        if shard == Shard::ALL {
            PathBuf::from(format!("{stem}.h5"))
        } else {
            PathBuf::from(format!("{stem}.shard{}of{}.h5", shard.index, shard.count))
        }
    });
    let (n1, n2) = spec.shape();
    let shape = if spec.axes.len() == 2 { format!("{n1} × {n2}") } else { format!("{n1}") };
    if !quiet {
        eprintln!(
            "sweep {}: {shape} cells × {} replicas, {} steps each, {} creators + {} buyers per market; {} blocks of {} cells{}; {}",
            spec_path.display(),
            spec.replicas,
            spec.steps,
            spec.base.top.creators,
            spec.base.top.buyers,
            spec.n_blocks(),
            spec.block,
            if shard == Shard::ALL {
                String::new()
            } else {
                format!(", shard {shard} ({} blocks)", sweep::shard_blocks(&spec, shard).count())
            },
            exec.describe()
        );
    }
    let stop = signals.stop.clone();
    let pb = Progress::new(0, quiet, "cells");
    let first = AtomicBool::new(true);
    let progress = |p: sweep::Progress| {
        if first.swap(false, Ordering::SeqCst) {
            // Cells found done in a resumed file do not count toward the rate.
            pb.restart(p.cells_total as u64, p.cells_done as u64);
            if p.cells_done > 0 {
                pb.println(format!(
                    "resuming {}: {} of {} cells already done",
                    output.display(),
                    p.cells_done,
                    p.cells_total
                ));
            }
        } else {
            pb.set_position(p.cells_done as u64);
        }
    };
    let opts = Options { fresh, shard, max_blocks, checkpoint_interval: checkpoint, force };
    let report = sweep::run(&spec, &output, &opts, exec, &stop, &progress)?;
    pb.finish();
    if report.cells_computed == 0 && report.complete {
        println!(
            "{}: all {} cells already done; nothing to compute (--fresh starts over)",
            output.display(),
            report.cells_total
        );
        return Ok(());
    }
    let secs = report.seconds.max(1e-9);
    println!(
        "computed {} cells ({} runs) in {:.1} s: {:.3} cells/s, {:.3} runs/s ({})",
        report.cells_computed,
        report.runs_computed,
        report.seconds,
        report.cells_computed as f64 / secs,
        report.runs_computed as f64 / secs,
        report.executor
    );
    if let Some(t) = exec.time_report() {
        println!("{t}");
    }
    println!(
        "output: {} ({} of {} cells done)",
        output.display(),
        report.cells_before + report.cells_computed,
        report.cells_total
    );
    if !report.complete {
        let msg = format!(
            "stopped with {} of {} cells done; the finished cells are saved in {}: run the same command again to resume",
            report.cells_before + report.cells_computed,
            report.cells_total,
            output.display()
        );
        if signals.received().is_some() {
            return Err(signals.interrupted(msg));
        }
        bail!(msg);
    }
    Ok(())
}

fn cmd_merge(output: &Path, shards: &[PathBuf], force: bool) -> Result<()> {
    let r = crate::sweep::merge_partial(output, shards, force)?;
    println!(
        "merged {} files, {} of {} cells (spec {}) into {}",
        r.files,
        r.cells_done,
        r.cells,
        r.spec_hash,
        output.display()
    );
    if !r.complete {
        return Err(r.incomplete_error(output).into());
    }
    Ok(())
}

fn cmd_plot(what: PlotCmd) -> Result<()> {
    match what {
        PlotCmd::Phase { file, metric, output, stat, regimes, cmap, size, no_optimum } => {
            cmd_plot_phase(&file, &metric, output, &stat, regimes.as_deref(), &cmap, &size, !no_optimum)
        }
        PlotCmd::Regimes { file, output, size } => cmd_plot_regimes(&file, output, &size),
        PlotCmd::Run { files, metrics, output, band } => cmd_plot_run(&files, metrics, output, band),
    }
}

fn cmd_export(file: &Path, output: Option<PathBuf>, format: &str, force: bool) -> Result<()> {
    use crate::io::export;
    if format != "csv" {
        return Err(usage(format!("--format {format}: expected csv (Parquet is not built in; see README)")));
    }
    let input = |e: crate::io::OutputError| CliError::Input(e.to_string());
    let kind = export::file_format(file).map_err(input)?;
    let table = match kind.as_str() {
        crate::sweep::store::FORMAT => {
            export::sweep_csv(&crate::sweep::store::read(file).map_err(|e| CliError::Input(e.to_string()))?)
        }
        crate::io::hdf5::FORMAT => export::run_csv(&crate::io::read_run(file).map_err(input)?),
        "hollow-facts" => export::facts_csv(file).map_err(input)?,
        other => return Err(CliError::Input(format!("{}: cannot export a {other} file", file.display())).into()),
    };
    let output = output.unwrap_or_else(|| file.with_extension("csv"));
    if output.as_os_str() == "-" {
        print!("{table}");
        return Ok(());
    }
    let out = crate::io::output::Output::create(&output, &[file], force)?;
    std::fs::write(out.tmp(), &table).map_err(|e| anyhow::anyhow!("{}: writing: {e}", output.display()))?;
    out.commit()?;
    eprintln!("wrote {} ({} rows)", output.display(), table.lines().count().saturating_sub(1));
    Ok(())
}

/// The default figure path: `<stem of file>_<suffix>.png` beside `file` (`default` when it has
/// no stem).
fn png_beside(file: &Path, default: &str, suffix: &str) -> PathBuf {
    let stem = file.file_stem().map_or(default.into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}_{suffix}.png"))
}

/// A figure size `WIDTHxHEIGHT`.
fn parse_size(size: &str) -> Result<(u32, u32)> {
    size.split_once('x')
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)))
        .filter(|&(w, h)| (300..=8000).contains(&w) && (200..=8000).contains(&h))
        .ok_or_else(|| {
            usage(format!("--size {size}: expected WIDTHxHEIGHT in pixels, e.g. 1100x800 (300..8000 × 200..8000)"))
        })
}

/// Axis `i` of a sweep file, for a figure.
fn sweep_axis(sf: &crate::sweep::SweepFile, i: usize) -> crate::io::heatmap::PlotAxis {
    let a = &sf.axes[i];
    crate::io::heatmap::PlotAxis {
        label: a.label.clone(),
        values: a.values.clone(),
        log: a.scale == crate::sweep::Scale::Log,
    }
}

/// What a figure of a sweep file says under its title: the spec, the grid, the seeds, and
/// a warning when cells are missing.
fn sweep_subtitle(file: &Path, sf: &crate::sweep::SweepFile) -> String {
    let sep = crate::io::heatmap::SEP;
    let spec_name =
        Path::new(&sf.spec_file).file_name().map_or(sf.spec_file.clone(), |n| n.to_string_lossy().into_owned());
    let (n1, n2) = sf.shape();
    let grid = if sf.axes.len() == 2 { format!("{n1} × {n2}") } else { n1.to_string() };
    let r = sf.replicas;
    let subtitle = format!(
        "{spec_name}{sep}{grid} cells × {r} replica{}, {} steps, {} seeds{sep}spec {}",
        if r == 1 { "" } else { "s" },
        sf.steps,
        sf.seeds.replace('_', "-"),
        sf.spec_hash
    );
    let (done, cells) = (sf.cells_done(), sf.n_cells());
    if done < cells {
        eprintln!("warning: {} holds {done} of {cells} cells; missing cells are drawn grey", file.display());
        return format!("INCOMPLETE: {done} of {cells} cells{sep}{subtitle}");
    }
    subtitle
}

fn cmd_plot_run(files: &[PathBuf], metrics: Vec<String>, output: Option<PathBuf>, band: bool) -> Result<()> {
    use crate::io::runplot::{RunToPlot, draw_runs, meanfield_levels};
    let mut runs = Vec::new();
    for f in files {
        let file = crate::io::read_run(f).map_err(|e| CliError::Input(e.to_string()))?;
        let cfg = Config::from_str_named(&file.meta.config_toml, &f.display().to_string(), &[])
            .map_err(|e| CliError::Input(format!("{}: its stored config: {e}", f.display())))?;
        let name = f.file_stem().map_or(String::new(), |s| s.to_string_lossy().into_owned());
        runs.push(RunToPlot {
            label: format!("{name} (seed {})", file.meta.seed),
            meanfield: meanfield_levels(f),
            shock: cfg.technology.shock_step.min(file.steps_done),
            window: cfg.equilibrium.window,
            file,
        });
    }
    let metrics = if metrics.is_empty() {
        ["welfare", "share_ai", "share_human", "congestion"].map(String::from).to_vec()
    } else {
        metrics
    };
    if let Some(m) = metrics.iter().find(|m| runs.iter().any(|r| r.file.series(m).is_none())) {
        let have = runs[0].file.series_order.join(", ");
        return Err(usage(format!("--metric {m}: not a series of these run files; they have {have}")));
    }
    let output = output.unwrap_or_else(|| png_beside(&files[0], "run", "run"));
    draw_runs(&output, &runs, &metrics, band)?;
    println!("wrote {}", output.display());
    Ok(())
}

fn cmd_plot_regimes(file: &Path, output: Option<PathBuf>, size: &str) -> Result<()> {
    let sf = crate::sweep::store::read(file).map_err(|e| CliError::Input(e.to_string()))?;
    let size = parse_size(size)?;
    let e = crate::sweep::analysis::expansion(&sf).map_err(|m| CliError::Input(format!("{}: {m}", file.display())))?;
    let output = output.unwrap_or_else(|| png_beside(file, "sweep", "regimes"));
    let subtitle = sweep_subtitle(file, &sf);
    crate::io::phase::draw_regime_map(&output, &sf, &e, sweep_axis(&sf, 0), sweep_axis(&sf, 1), subtitle, size)?;
    for r in &e.rows {
        println!(
            "{:>10.4}  {:<20} s* = {:.3} (replicas {:.3}–{:.3}), no-AI welfare {:.4}",
            r.value,
            r.regime.map_or("no AI entry", |g| g.label()),
            r.s_star,
            r.s_star_lo,
            r.s_star_hi,
            r.no_ai
        );
    }
    println!("wrote {}", output.display());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn cmd_plot_phase(
    file: &Path,
    metric: &str,
    output: Option<PathBuf>,
    stat: &str,
    regimes: Option<&str>,
    cmap: &str,
    size: &str,
    optimum: bool,
) -> Result<()> {
    use crate::io::heatmap::{self, ColourScale, Heatmap, LinePlot, Regimes};
    use crate::observe::{outcome_categories, outcome_unit};
    use crate::sweep::store;
    // The sweep file is this command's input: a bad one is exit 3.
    let sf = store::read(file).map_err(|e| CliError::Input(e.to_string()))?;
    let size = parse_size(size)?;
    let Some(values) = sf.metric(metric) else {
        return Err(CliError::Input(format!(
            "{}: no metric \"{metric}\"; this sweep recorded {}",
            file.display(),
            sf.metrics.join(", ")
        ))
        .into());
    };
    let cats = outcome_categories(metric);
    let r = sf.replicas as usize;
    let (a, b) = store::cell_stats(values, r, cats.is_some());
    let (z, stat_name) = match (cats.is_some(), stat) {
        (true, _) => (a, "most frequent value".to_string()),
        (false, "mean") => (a, "mean".to_string()),
        (false, "std") => (b.clone(), "standard deviation".to_string()),
        (false, other) => return Err(usage(format!("--stat {other}: expected mean or std"))),
    };
    let diverging = match cmap {
        "auto" | "diverging" => true,
        "viridis" => false,
        other => return Err(usage(format!("--cmap {other}: expected auto, viridis or diverging"))),
    };
    // "1" (a share or index) and "category" say nothing on an axis.
    let value_label = match outcome_unit(metric).unwrap_or("") {
        "" | "1" | "category" => metric.to_string(),
        unit => format!("{metric} ({unit})"),
    };
    let title = format!("{metric}: {stat_name} over {r} replica{}", if r == 1 { "" } else { "s" });
    let sep = heatmap::SEP;
    let mut subtitle = sweep_subtitle(file, &sf);
    let axis = |i: usize| sweep_axis(&sf, i);
    let output = output.unwrap_or_else(|| png_beside(file, "sweep", metric));
    if sf.axes.len() == 1 {
        // The band is ±1 std around the mean; a plot of the std itself gets none.
        let std = if cats.is_some() || stat != "mean" { vec![f64::NAN; z.len()] } else { b };
        if std.iter().any(|v| v.is_finite()) {
            subtitle = format!("{subtitle}{sep}band: ±1 std over replicas");
        }
        heatmap::draw_line(
            &output,
            &LinePlot { title, subtitle, x: axis(0), y_label: value_label, mean: z, std, size },
        )?;
    } else {
        let regime_name = match regimes {
            Some("none") => None,
            Some(name) => {
                if outcome_categories(name).is_none() {
                    return Err(usage(format!(
                        "--regimes {name}: not a categorical outcome (categorical: dominant_segment, welfare_regime)"
                    )));
                }
                if sf.metric(name).is_none() {
                    return Err(CliError::Input(format!(
                        "--regimes {name}: {} did not record it; it has {}",
                        file.display(),
                        sf.metrics.join(", ")
                    ))
                    .into());
                }
                Some(name.to_string())
            }
            None if cats.is_some() => Some(metric.to_string()),
            // The first recorded categorical outcome that changes somewhere on the grid
            // (else the first recorded, so the subtitle can say it is uniform).
            None => {
                let recorded: Vec<&str> =
                    ["dominant_segment", "welfare_regime"].into_iter().filter(|n| sf.metric(n).is_some()).collect();
                let varies = |n: &str| {
                    let (g, _) = store::cell_stats(sf.metric(n).unwrap_or(&[]), r, true);
                    let first = g.iter().find(|v| v.is_finite());
                    g.iter().any(|v| v.is_finite() && Some(v) != first)
                };
                recorded.iter().find(|n| varies(n)).or(recorded.first()).map(|n| n.to_string())
            }
        };
        let regimes = regime_name.map(|name| {
            let grid = store::cell_stats(sf.metric(&name).unwrap_or(&[]), r, true).0;
            let mut present: Vec<f64> = grid.iter().copied().filter(|v| v.is_finite()).collect();
            present.sort_by(f64::total_cmp);
            present.dedup();
            let labels = outcome_categories(&name).unwrap_or(&[]);
            // Say so when there is no boundary to draw, rather than promise lines that are not there.
            match present.as_slice() {
                [one] if name != metric => {
                    let l = labels.get(*one as usize).copied().unwrap_or("?");
                    subtitle = format!("{subtitle}{sep}{name}: {l} in every cell");
                }
                [_, _, ..] if name != metric => subtitle = format!("{subtitle}{sep}lines: {name} changes"),
                _ => {}
            }
            let labels = outcome_categories(&name).unwrap_or(&[]).iter().map(|s| s.to_string()).collect();
            // Regions of the plotted metric itself need no name in their labels.
            Regimes { labels, name: if name == metric { String::new() } else { name }, grid }
        });
        let colour = match cats {
            Some(c) => ColourScale::Categorical { labels: c.iter().map(|s| s.to_string()).collect() },
            None => ColourScale::Continuous { label: value_label, diverging },
        };
        // On welfare over the AI cost scale: where welfare peaks, and laissez-faire.
        let overlays = match crate::sweep::analysis::expansion(&sf) {
            Ok(e) if optimum && metric.starts_with("welfare_") => {
                subtitle = format!("{subtitle}{sep}dots: s* per row, whiskers: its range over replicas");
                crate::io::phase::optimum_overlays(&sf, &e)
            }
            _ => Vec::new(),
        };
        heatmap::draw_heatmap(
            &output,
            &Heatmap { title, subtitle, x: axis(0), y: axis(1), z, colour, regimes, overlays, size },
        )?;
    }
    println!("wrote {}", output.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The analytic layers (static equilibrium, mean field) and the run's mean-field check.

fn cmd_equilibrium(
    path: &Path,
    output: &Path,
    png_dir: Option<&Path>,
    sell_through: f64,
    set: &[String],
    force: bool,
) -> Result<()> {
    use crate::model::equilibrium::{StaticOptions, pre_and_post};
    let cfg = Config::load(path, set)?;
    if !(sell_through > 0.0 && sell_through <= 1.0) {
        return Err(usage(format!("--sell-through must be in (0, 1], got {sell_through}")));
    }
    if let Some(d) = png_dir {
        if !d.is_dir() {
            return Err(CliError::Output(format!("--png-dir {}: directory does not exist", d.display())).into());
        }
    }
    let out = crate::io::output::Output::create(output, &[path], force)?;
    let opts = StaticOptions { sell_through, ..Default::default() };
    let (pre, post) = pre_and_post(&cfg, &opts);
    crate::io::layers::write_equilibrium_to(out, &cfg, &opts, &pre, &post)?;
    println!("static equilibrium of {} (sell-through {sell_through})", path.display());
    println!("{:<18} {:>12} {:>12}", "", "before shock", "after shock");
    for ((name, a, _), (_, b, _)) in
        crate::io::layers::equilibrium_scalars(&pre).into_iter().zip(crate::io::layers::equilibrium_scalars(&post))
    {
        println!("{name:<18} {a:>12.4} {b:>12.4}");
    }
    println!("output: {}", output.display());
    if let Some(d) = png_dir {
        for p in crate::io::layers::equilibrium_figures(d, &cfg, &pre, &post)? {
            println!("figure: {}", p.display());
        }
    }
    Ok(())
}

fn cmd_meanfield(path: &Path, output: &Path, opts: &RunOpts, trace: u32, force: bool) -> Result<()> {
    use crate::model::meanfield::{MeanField, MeanFieldOptions};
    let signals = Signals::install()?;
    let cfg = load_config(path, opts)?;
    let out = crate::io::output::Output::create(output, &[path], force)?;
    if cfg.decisions.decision != config::Decision::Logit {
        eprintln!("note: the mean field models decision = \"logit\"; this config's rule is replaced by it");
    }
    let started = Instant::now();
    let mo = MeanFieldOptions::default();
    let mut mf = MeanField::new(&cfg, mo);
    let mut rec = Recorder::new();
    let traced = TRACED;
    if trace > 0 {
        eprintln!("{:>6} {}", "step", traced.map(|n| format!("{n:>13}")).join(" "));
    }
    while mf.t < cfg.top.steps && !signals.stop.load(Ordering::Relaxed) {
        mf.run(mf.t + 1, &mut rec);
        if trace > 0 && (mf.t - 1) % trace == 0 {
            let row: Vec<String> = traced
                .iter()
                .map(|n| format!("{:>13.4}", rec.get(n).and_then(|v| v.last()).unwrap_or(&f64::NAN)))
                .collect();
            eprintln!("{:>6} {}", mf.t - 1, row.join(" "));
        }
    }
    let outcomes =
        Outcomes::of(&rec, cfg.technology.shock_step, cfg.equilibrium.window as usize, cfg.equilibrium.tol as f64);
    let device = format!("{} talent x {} taste classes", mf.opts.talent_classes, mf.opts.taste_classes);
    let mut meta = crate::io::hdf5::RunMeta::new(&cfg, "meanfield", &device);
    let complete = mf.t >= cfg.top.steps;
    meta.complete = complete;
    meta.outcomes = outcomes;
    meta.settled = crate::observe::settled_at(
        &rec,
        cfg.technology.shock_step.min(rec.len() as u32),
        cfg.equilibrium.window as usize,
        cfg.equilibrium.tol as f64,
    );
    let extra = vec![
        ("meanfield_talent_classes".to_string(), mf.opts.talent_classes as f64),
        ("meanfield_taste_classes".to_string(), mf.opts.taste_classes as f64),
    ];
    crate::io::hdf5::write_run_to(&out, &meta, &rec, &extra)?;
    print_summary(&cfg, &rec, &outcomes, complete, started.elapsed().as_secs_f64(), output);
    if !complete {
        return Err(signals.interrupted(format!(
            "interrupted after {} of {} steps; wrote what was computed to {} (marked incomplete)",
            mf.t,
            cfg.top.steps,
            output.display()
        )));
    }
    Ok(())
}

/// The run's comparison with its mean field (same config and steps).
enum MeanfieldCheck {
    /// Root attributes `meanfield_*` (docs/output.md).
    Done(Vec<(String, f64)>),
    /// The mean field does not model the run's decision rule.
    NotModelled,
    /// Not run: the run was interrupted, during its steps or during the check.
    Skipped,
}

impl MeanfieldCheck {
    /// The root attributes it adds to the run file; `meanfield_skipped` = 1 says it was
    /// skipped by an interruption (docs/output.md).
    fn attrs(&self) -> Vec<(String, f64)> {
        match self {
            MeanfieldCheck::Done(a) => a.clone(),
            MeanfieldCheck::NotModelled => Vec::new(),
            MeanfieldCheck::Skipped => vec![("meanfield_skipped".to_string(), 1.0)],
        }
    }
}

/// Runs the mean field of `cfg` step by step, so a stop signal ends it at once.
fn meanfield_check(cfg: &Config, abm: &Outcomes, stop: &AtomicBool) -> MeanfieldCheck {
    use crate::model::meanfield::{MeanField, MeanFieldOptions};
    if cfg.decisions.decision != config::Decision::Logit {
        return MeanfieldCheck::NotModelled;
    }
    let mut mf = MeanField::new(cfg, MeanFieldOptions::default());
    let mut rec = Recorder::new();
    while mf.t < cfg.top.steps {
        if stop.load(Ordering::Relaxed) {
            return MeanfieldCheck::Skipped;
        }
        mf.run(mf.t + 1, &mut rec);
    }
    let mf = Outcomes::of(&rec, cfg.technology.shock_step, cfg.equilibrium.window as usize, cfg.equilibrium.tol as f64);
    MeanfieldCheck::Done(crate::io::layers::meanfield_gap(abm, &mf))
}

fn print_meanfield_check(check: &MeanfieldCheck) {
    let attrs = match check {
        MeanfieldCheck::Done(a) => a,
        MeanfieldCheck::NotModelled => {
            println!("mean-field check: not run (the mean field does not model this decision rule)");
            return;
        }
        MeanfieldCheck::Skipped => {
            println!("mean-field check: skipped (interrupted)");
            return;
        }
    };
    let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map_or(f64::NAN, |(_, v)| *v);
    println!(
        "mean-field check: shares exit {:.3} AI {:.3} human {:.3}, welfare {:.4}; gap: shares {:.3}, welfare {:+.4}",
        get("meanfield_share_exit"),
        get("meanfield_share_ai"),
        get("meanfield_share_human"),
        get("meanfield_welfare_final"),
        get("meanfield_gap_shares"),
        get("meanfield_gap_welfare")
    );
}

/// Scale of `hollow reproduce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScaleArg {
    Small,
    Full,
}

#[allow(clippy::too_many_arguments)]
fn cmd_reproduce(
    out: PathBuf,
    scale: ScaleArg,
    (replicas, fact_replicas): (u32, u32),
    only: Vec<String>,
    configs: PathBuf,
    kind: BackendKind,
    threads: usize,
    quiet: bool,
) -> Result<()> {
    use crate::reproduce::{Options, Scale, reproduce};
    let known = ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "paper"];
    if let Some(bad) = only.iter().find(|o| !known.iter().any(|k| k.eq_ignore_ascii_case(o))) {
        return Err(usage(format!("--only {bad}: unknown fact; choose from {}", known.join(", "))));
    }
    if !configs.is_dir() {
        return Err(CliError::Input(format!("--configs {}: directory does not exist", configs.display())).into());
    }
    let signals = Signals::install()?;
    let opts = Options {
        out,
        scale: if scale == ScaleArg::Full { Scale::Full } else { Scale::Small },
        replicas,
        fact_replicas,
        only,
        configs,
        quiet,
    };
    if fact_replicas == 0 {
        return Err(usage("--fact-replicas must be at least 1".to_string()));
    }
    // A stop signal ends `reproduce` before its next simulation (every one starts with a
    // backend) and stops its scans (sweeps) where they are; each of its files is written
    // whole (temporary file, then rename) or not at all.
    let stop = signals.stop.clone();
    let make = |s: State, c: &Config| {
        if stop.load(Ordering::Relaxed) {
            return Err("interrupted".to_string());
        }
        make_backend(kind, s, c, threads).map_err(|e| format!("{e:#}"))
    };
    let exec = sweep_executor(kind, threads, 0, 1)?;
    let report = match reproduce(&opts, &make, exec.as_ref(), &signals.stop) {
        Err(e) if signals.received().is_some() => {
            return Err(signals.interrupted(format!("stopped before its next simulation ({e})")));
        }
        r => r?,
    };
    for f in &report.facts {
        println!("{} {:<4} {}", f.id, if f.holds { "yes" } else { "NO" }, f.title);
        for m in &f.measures {
            println!("     {:<34} {:>10.4} {}", m.name, m.value, m.unit);
        }
    }
    if !report.paper.is_empty() {
        println!("paper set-up ({replicas} replicas): {:<30} {:>10} {:>18}", "quantity", "paper", "ours (mean ± sd)");
        for p in &report.paper {
            println!("     {:<34} {:>10.4} {:>10.4} ± {:.4}", p.name, p.paper, p.mean, p.sd);
        }
    }
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
