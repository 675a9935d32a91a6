//! Shared helpers of the integration tests: small configs and CPU simulations.
#![allow(dead_code)]

use hollow::backend::cpu::CpuBackend;
use hollow::config::Config;
use hollow::observe::Recorder;
use hollow::sim::Simulation;
use std::sync::atomic::AtomicBool;

/// A small shock scenario that runs in well under a second.
pub fn small(creators: u32, buyers: u32, steps: u32, shock: u32) -> Config {
    let mut c = Config::default();
    c.top.creators = creators;
    c.top.buyers = buyers;
    c.top.steps = steps;
    c.technology.shock_step = shock;
    c
}

pub fn cpu_sim(cfg: &Config, threads: usize) -> Simulation {
    Simulation::new(cfg.clone(), |s| Box::new(CpuBackend::new(s, threads)))
}

/// Runs a config to the end on the CPU and returns the recorder.
pub fn run_cpu(cfg: &Config, threads: usize) -> (Simulation, Recorder) {
    let mut sim = cpu_sim(cfg, threads);
    let mut rec = Recorder::new();
    sim.run(cfg.top.steps, &mut rec, &AtomicBool::new(false), |_| {});
    (sim, rec)
}
