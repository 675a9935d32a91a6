//! `hollow reproduce`: checks its flags, hands the fact scenarios to `crate::reproduce` with a
//! backend factory and a sweep executor, and prints the facts, the paper's numbers and the
//! files written.

use super::progress::Signals;
use super::sweep::sweep_executor;
use super::{BackendKind, CliError, make_backend, usage};
use crate::config::Config;
use crate::state::State;
use anyhow::Result;
use clap::ValueEnum;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

/// Scale of `hollow reproduce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScaleArg {
    Small,
    Full,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn cmd_reproduce(
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
