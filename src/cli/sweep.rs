//! `hollow sweep` (a parameter sweep to a sweep file, resumed where it stopped; with
//! `--dry-run` only its plan and a time estimate), `hollow merge` (shard files into one sweep
//! file) and `hollow export` (any hollow file as a CSV or Parquet table).

use super::progress::{Progress, Signals, fmt_secs};
use super::{BackendKind, CliError, auto_takes_gpu, usage};
use crate::backend::cpu::CpuBackend;
use crate::observe::Recorder;
use crate::sim::Simulation;
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The sweep executor for `--backend`: `auto` takes the GPU when wgpu finds an adapter.
pub(super) fn sweep_executor(
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
pub(super) fn checkpoint_interval(secs: f64) -> Result<std::time::Duration> {
    if !(secs.is_finite() && (0.0..=MAX_CHECKPOINT_SECS).contains(&secs)) {
        return Err(usage(format!(
            "--checkpoint-secs: must be a number of seconds in [0, {MAX_CHECKPOINT_SECS}], got {secs}"
        )));
    }
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| usage(format!("--checkpoint-secs {secs}: {e}")))
}

/// `hollow sweep --dry-run`: what the sweep (or its shard) would run and how long the CPU
/// executor would take on this machine, from a calibration run of one cell; writes nothing.
pub(super) fn cmd_sweep_plan(spec_path: &Path, shard: Option<&str>, kind: BackendKind, threads: usize) -> Result<()> {
    use crate::sweep::{Shard, Spec, shard_blocks};
    let spec = Spec::load(spec_path)?;
    let shard: Shard = shard.map_or(Ok(Shard::ALL), |s| Shard::resolve(s, &spec))?;
    let cells: usize = shard_blocks(&spec, shard).map(|b| spec.block_cells(b).len()).sum();
    let runs = cells as u64 * u64::from(spec.replicas);
    let agents = u64::from(spec.base.top.creators) + u64::from(spec.base.top.buyers);
    let agent_steps = runs as f64 * f64::from(spec.steps) * agents as f64;
    let plan = if spec.is_run_list() {
        format!("a run list; {cells} runs")
    } else {
        let n = spec.axes.len();
        format!("{n} ax{}, {}; {cells} cells", if n == 1 { "is" } else { "es" }, spec.describe_dims())
    };
    println!(
        "{}{}: {plan} × {} replicas = {runs} runs of {} steps on {agents}-agent markets: {agent_steps:.3e} agent-steps",
        spec_path.display(),
        if shard == Shard::ALL { String::new() } else { format!(" shard {shard}") },
        spec.replicas,
        spec.steps
    );
    if !spec.series.is_empty() {
        let values = runs * u64::from(spec.steps) * spec.series.len() as u64;
        println!(
            "per-step series ({}): {values} values, {} held in memory and written with every checkpoint \
             (before compression)",
            spec.series.join(", "),
            fmt_bytes(values * 8)
        );
    }
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
        "estimate for the CPU executor with {workers} threads: {} ({:.2} s per run; calibrated on {k} steps of {}, \
         replica 0 on one thread, shock at step {}, just now: an estimate, not a measurement)",
        fmt_secs(runs as f64 * per_run / workers as f64),
        per_run,
        if spec.is_run_list() { spec.describe_cell(cell) } else { format!("cell {}", spec.describe_cell(cell)) },
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

/// A byte count in B, kB, MB or GB (powers of 1000), for estimates.
fn fmt_bytes(b: u64) -> String {
    let b = b as f64;
    match b {
        _ if b < 1e3 => format!("{b} B"),
        _ if b < 1e6 => format!("{:.1} kB", b / 1e3),
        _ if b < 1e9 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.1} GB", b / 1e9),
    }
}

/// The flags of `hollow sweep` that are not the spec, shard or executor.
#[derive(Clone, Copy)]
pub(super) struct SweepFlags {
    pub(super) fresh: bool,
    pub(super) force: bool,
    pub(super) quiet: bool,
    pub(super) max_blocks: Option<usize>,
    pub(super) checkpoint: std::time::Duration,
}

pub(super) fn cmd_sweep(
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
    let shape = spec.describe_dims();
    if !quiet {
        eprintln!(
            "sweep {}: {shape} × {} replicas, {} steps each, {} creators + {} buyers per market; {} blocks of {} cells{}; {}",
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

pub(super) fn cmd_merge(output: &Path, shards: &[PathBuf], force: bool) -> Result<()> {
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

pub(super) fn cmd_export(file: &Path, output: Option<PathBuf>, format: Option<&str>, force: bool) -> Result<()> {
    use crate::io::export::{self, TableFormat};
    // Named, or the output's extension (`-o t.parquet`), else CSV, the format a spreadsheet opens.
    let format = match format {
        Some(name) => {
            TableFormat::from_name(name).ok_or_else(|| usage(format!("--format {name}: expected csv or parquet")))?
        }
        None => match output.as_deref().and_then(Path::extension) {
            Some(e) if e == "parquet" => TableFormat::Parquet,
            _ => TableFormat::Csv,
        },
    };
    let input = |e: crate::io::OutputError| CliError::Input(e.to_string());
    let kind = export::file_format(file).map_err(input)?;
    let table = match kind.as_str() {
        crate::sweep::store::FORMAT => {
            export::sweep_table(&crate::sweep::store::read(file).map_err(|e| CliError::Input(e.to_string()))?)
        }
        crate::io::hdf5::FORMAT => export::run_table(&crate::io::read_run(file).map_err(input)?),
        "hollow-facts" => export::facts_table(file).map_err(input)?,
        other => return Err(CliError::Input(format!("{}: cannot export a {other} file", file.display())).into()),
    };
    let output = output.unwrap_or_else(|| file.with_extension(format.extension()));
    let bytes = table.encode(format, &output.display().to_string())?;
    if output.as_os_str() == "-" {
        use std::io::Write as _;
        std::io::stdout().lock().write_all(&bytes).map_err(|e| anyhow::anyhow!("stdout: writing: {e}"))?;
        return Ok(());
    }
    let out = crate::io::output::Output::create(&output, &[file], force)?;
    std::fs::write(out.tmp(), &bytes).map_err(|e| anyhow::anyhow!("{}: writing: {e}", output.display()))?;
    out.commit()?;
    eprintln!("wrote {} ({} rows)", output.display(), table.rows);
    Ok(())
}
