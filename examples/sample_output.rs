//! Writes a small real run file (500 creators, 1,000 buyers, 20 steps, the shock at step
//! 10, CPU backend) to check the h5py example of docs/output.md against:
//! `cargo run --release --example sample_output -- OUT.h5`. The set-up of
//! tests/hdf5_roundtrip.rs's small run, written with the metadata `hollow run` writes.

use anyhow::{Context, Result, bail};
use hollow::backend::cpu::CpuBackend;
use hollow::config::Config;
use hollow::io::hdf5::{RunMeta, write_run};
use hollow::observe::{Recorder, settled_at};
use hollow::sim::Simulation;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

fn main() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        bail!("usage: cargo run --release --example sample_output -- OUT.h5");
    };
    let out = PathBuf::from(out);
    let mut cfg = Config::default();
    cfg.top.creators = 500;
    cfg.top.buyers = 1000;
    cfg.top.steps = 20;
    cfg.technology.shock_step = 10;
    let mut sim = Simulation::new(cfg.clone(), |s| Box::new(CpuBackend::new(s, 1)));
    let mut rec = Recorder::new();
    sim.run(cfg.top.steps, &mut rec, &AtomicBool::new(false), |_| {});
    let mut meta = RunMeta::new(&cfg, "cpu", "1 rayon thread");
    meta.outcomes = sim.outcomes(&rec);
    // As `hollow run` records it (src/cli.rs, write_output).
    meta.settled = settled_at(
        &rec,
        cfg.technology.shock_step.min(rec.len() as u32),
        cfg.equilibrium.window as usize,
        cfg.equilibrium.tol as f64,
    );
    write_run(&out, &meta, &rec).with_context(|| format!("writing the sample run file {}", out.display()))?;
    println!("wrote {} ({} steps)", out.display(), rec.len());
    Ok(())
}
