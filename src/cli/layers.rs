//! The analytic layers on the command line: `hollow equilibrium` (the static layer before and
//! after the shock) and `hollow meanfield` (the mean-field layer in the run-file layout), and
//! the mean-field check that `hollow run` makes of every complete run.

use super::progress::Signals;
use super::run::print_summary;
use super::{CliError, RunOpts, load_config, trace_header, trace_row, usage};
use crate::config::{self, Config};
use crate::observe::{Outcomes, Recorder};
use anyhow::Result;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub(super) fn cmd_equilibrium(
    path: &Path,
    output: &Path,
    png_dir: Option<&Path>,
    sell_through: f64,
    set: &[String],
    force: bool,
) -> Result<()> {
    use crate::layers::equilibrium::{StaticOptions, pre_and_post};
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

pub(super) fn cmd_meanfield(path: &Path, output: &Path, opts: &RunOpts, trace: u32, force: bool) -> Result<()> {
    use crate::layers::meanfield::{MeanField, MeanFieldOptions};
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
    if trace > 0 {
        eprintln!("{}", trace_header());
    }
    while mf.t < cfg.top.steps && !signals.stop.load(Ordering::Relaxed) {
        mf.run(mf.t + 1, &mut rec);
        if trace > 0 && (mf.t - 1) % trace == 0 {
            eprintln!("{}", trace_row(mf.t - 1, &rec));
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
pub(super) enum MeanfieldCheck {
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
    pub(super) fn attrs(&self) -> Vec<(String, f64)> {
        match self {
            MeanfieldCheck::Done(a) => a.clone(),
            MeanfieldCheck::NotModelled => Vec::new(),
            MeanfieldCheck::Skipped => vec![("meanfield_skipped".to_string(), 1.0)],
        }
    }
}

/// Runs the mean field of `cfg` step by step, so a stop signal ends it at once.
pub(super) fn meanfield_check(cfg: &Config, abm: &Outcomes, stop: &AtomicBool) -> MeanfieldCheck {
    use crate::layers::meanfield::{MeanField, MeanFieldOptions};
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

pub(super) fn print_meanfield_check(check: &MeanfieldCheck) {
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
