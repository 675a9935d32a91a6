//! `hollow run` (one simulation to a run file, its summary and mean-field check), `hollow
//! info`, `hollow config` and `hollow bench` (the throughput table and, for the CPU, each
//! stage against its measured bound).

use super::layers::{MeanfieldCheck, meanfield_check, print_meanfield_check};
use super::progress::{Progress, Signals};
use super::{BackendKind, RunOpts, load_config, make_backend, trace_header, trace_row, usage};
use crate::config::{self, Config};
use crate::observe::{Outcomes, Recorder};
use crate::sim::Simulation;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub(super) fn cmd_config(defaults: bool, markdown: bool, file: Option<&Path>) -> Result<()> {
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

pub(super) fn cmd_info(config: Option<&Path>) -> Result<()> {
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

#[allow(clippy::too_many_arguments)]
pub(super) fn cmd_run(
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
    let mut sim = Simulation::try_new(cfg.clone(), |state| make_backend(kind, state, &cfg2, threads))?;
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
    if trace > 0 {
        pb.println(trace_header());
    }
    let mut next = Recorder::new();
    while sim.t < steps && !stop.load(Ordering::Relaxed) {
        sim.run(sim.t + 1, &mut next, &stop, |t| pb.set_position(t as u64));
        if trace > 0 && (sim.t - 1) % trace == 0 {
            pb.println(trace_row(sim.t - 1, &next));
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

pub(super) fn print_summary(cfg: &Config, rec: &Recorder, o: &Outcomes, complete: bool, secs: f64, output: &Path) {
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

pub(super) fn cmd_bench(
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
    // decide's time per creator against one profit evaluation (docs/performance.md).
    let mut decide_per_creator: Option<(f64, f64)> = None;
    for &kind in kinds {
        let cfg2 = cfg.clone();
        let sim = Simulation::try_new(cfg.clone(), |state| make_backend(kind, state, &cfg2, opts.threads));
        let mut sim = match sim {
            Ok(s) => s,
            Err(e) => return Err(e).with_context(|| format!("backend {kind:?}")),
        };
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
            let creators = sim.backend().state().creators;
            let eval = crate::backend::limits::profit_eval_secs(&creators, &sim.last_params, &sim.curves.rp);
            // Seconds of one thread per creator: the stage ran on `info.threads` threads.
            let decide_s = stage_ms[crate::backend::Stage::Decide.index()] / 1e3;
            decide_per_creator = Some((decide_s * info.threads as f64 / cfg.top.creators.max(1) as f64, eval));
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
            let (b, by) = limits::stage_bound(&work[i], &l);
            println!(
                "| {name} | {:.2} | {:.2} | {by} | {:.1}× |",
                stage_ms[i],
                b * 1e3,
                stage_ms[i] / (b * 1e3).max(1e-12)
            );
        }
    }
    if let Some((per_creator, eval)) = decide_per_creator {
        println!(
            "\ndecide: {:.1} ns per creator per thread = {:.1}× one profit evaluation ({:.1} ns: `rules::mode_profit` \
             measured now, one thread, on this run's creators and curves)",
            per_creator * 1e9,
            per_creator / eval,
            eval * 1e9
        );
    }
    if kinds.contains(&BackendKind::Gpu) {
        println!(
            "\nGPU stage columns are device time (timestamp queries) where the adapter has them; \
                  MB/step is the traffic model of `backend::traffic_bytes`; roofline = GB/s over --peak-gbps."
        );
    }
    Ok(())
}
