//! Criterion: time of one step on the CPU backend at 10^4, 10^5 and 10^6 creators (buyers
//! twice as many), measured after the shock so AI volume is in the market.
//! Run: `cargo bench --bench step` (the 10^6 case takes a few minutes on 2 cores).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hollow::backend::cpu::CpuBackend;
use hollow::config::Config;
use hollow::sim::Simulation;

fn step(c: &mut Criterion) {
    let mut g = c.benchmark_group("step_cpu");
    g.sample_size(10);
    for &n in &[10_000u32, 100_000, 1_000_000] {
        let mut cfg = Config::default();
        cfg.top.creators = n;
        cfg.top.buyers = 2 * n;
        cfg.technology.shock_step = 5;
        let mut sim = Simulation::new(cfg, |s| Box::new(CpuBackend::new(s, 0)));
        // Past the shock and into the AI flood.
        for _ in 0..30 {
            sim.step();
        }
        g.throughput(Throughput::Elements(3 * n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| b.iter(|| sim.step()));
    }
    g.finish();
}

criterion_group!(benches, step);
criterion_main!(benches);
