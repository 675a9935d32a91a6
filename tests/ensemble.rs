//! Ensembles (many markets in lockstep, sweeps on the GPU): a market's numbers must not
//! depend on the ensemble it runs in. Checked three ways: the lockstep driver over
//! separate CPU backends equals independent simulations bit for bit; a GPU ensemble of
//! unlike markets (seeds, costs, volume caps, decision rules) equals each market run alone
//! on the GPU bit for bit, chunked unit arrays included; and a GPU sweep gives the same
//! file whatever the ensemble size, and the CPU sweep's numbers within float tolerance.
//! GPU tests run on whatever adapter wgpu finds (lavapipe in CI) and fail, never skip,
//! without one.

mod common;

use hollow::backend::cpu::CpuBackend;
use hollow::backend::gpu::{self, GpuEnsemble, GpuOptions};
use hollow::backend::{Backend, Separate};
use hollow::config::{Config, Decision};
use hollow::observe::Recorder;
use hollow::sim::{Market, Simulation, run_lockstep};
use hollow::state::State;
use hollow::sweep::{self, CpuExecutor, GpuExecutor, Options, Spec};
use std::sync::atomic::AtomicBool;

/// Three unlike markets of one shape: different seeds, AI costs, volume caps, decision
/// rules and collapse settings.
fn unlike_markets(creators: u32, buyers: u32, steps: u32) -> Vec<Config> {
    let mut out = Vec::new();
    for m in 0..3u32 {
        let mut c = common::small(creators, buyers, steps, 15);
        c.top.seed = 11 + u64::from(m);
        c.technology.ai_cost_scale = [0.3, 1.0, 4.0][m as usize];
        c.technology.ai_volume_max = [16, 64, 8][m as usize];
        c.market.pollution = 0.5 * m as f32;
        if m == 1 {
            c.decisions.decision = Decision::QLearning;
        }
        if m == 2 {
            c.collapse.enabled = true;
        }
        out.push(c);
    }
    out
}

fn bits(rec: &Recorder) -> Vec<Vec<u64>> {
    rec.columns.iter().map(|c| c.iter().map(|v| v.to_bits()).collect()).collect()
}

fn alone(cfg: &Config, make: impl FnOnce(State) -> Box<dyn Backend>) -> Recorder {
    let mut sim = Simulation::new(cfg.clone(), make);
    let mut rec = Recorder::new();
    sim.run(cfg.top.steps, &mut rec, &AtomicBool::new(false), |_| {});
    assert!(sim.error().is_none(), "{:?}", sim.error());
    rec
}

/// Runs `cfgs` in lockstep on the ensemble `make` builds from their initial states.
fn lockstep(cfgs: &[Config], make: impl FnOnce(Vec<State>) -> Box<dyn hollow::backend::Ensemble>) -> Vec<Recorder> {
    let states: Vec<State> = cfgs.iter().map(State::init).collect();
    let mut markets: Vec<Market> = cfgs.iter().zip(&states).map(|(c, s)| Market::new(c.clone(), s)).collect();
    let mut ens = make(states);
    let mut recs = vec![Recorder::new(); cfgs.len()];
    run_lockstep(&mut markets, ens.as_mut(), cfgs[0].top.steps, &mut recs, &AtomicBool::new(false), |_| {})
        .expect("lockstep run");
    assert!(markets.iter().all(|m| m.t == cfgs[0].top.steps));
    recs
}

fn gpu_or_explain<T>(r: Result<T, gpu::GpuError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}\n{}", gpu::no_adapter_help()))
}

#[test]
fn lockstep_over_separate_cpu_backends_equals_independent_runs() {
    let cfgs = unlike_markets(300, 600, 40);
    let recs = lockstep(&cfgs, |states| {
        Box::new(Separate(states.into_iter().map(|s| Box::new(CpuBackend::new(s, 1)) as Box<dyn Backend>).collect()))
    });
    for (m, (cfg, rec)) in cfgs.iter().zip(&recs).enumerate() {
        let solo = alone(cfg, |s| Box::new(CpuBackend::new(s, 1)));
        assert_eq!(bits(rec), bits(&solo), "market {m}: lockstep differs from its run alone");
    }
    // The markets really differ, so the comparison could have caught a mix-up.
    assert_ne!(bits(&recs[0]), bits(&recs[2]));
}

#[test]
fn gpu_ensemble_markets_equal_their_runs_alone_bit_for_bit() {
    // 2,500 creators: three scan blocks per market; 5,000 buyers: several reduce groups.
    let cfgs = unlike_markets(2_500, 5_000, 45);
    let refs: Vec<&Config> = cfgs.iter().collect();
    let plain = GpuOptions::default();
    let recs = lockstep(&cfgs, |states| Box::new(gpu_or_explain(GpuEnsemble::new(states, &refs, &plain))));
    // Small bindings split the unit arrays into chunks that cut across markets (15 chunks of
    // 32,768 16-byte unit records for 3 x 160,000 slots; at 256 KiB the 30 chunks would
    // exceed lavapipe's 32 storage buffers per stage, 7 of which search binds besides them).
    let small = GpuOptions { max_binding_bytes: Some(512 << 10), ..Default::default() };
    let chunked = lockstep(&cfgs, |states| {
        let e = gpu_or_explain(GpuEnsemble::new(states, &refs, &small));
        assert!(e.plan().n_chunks >= 4, "chunks: {}", e.plan().n_chunks);
        assert!(e.plan().groups_b >= 2, "reduce groups per market: {}", e.plan().groups_b);
        Box::new(e)
    });
    for (m, cfg) in cfgs.iter().enumerate() {
        let solo = alone(cfg, |s| Box::new(gpu_or_explain(GpuEnsemble::one(s, cfg, &plain))));
        assert_eq!(bits(&recs[m]), bits(&solo), "market {m}: ensemble differs from its GPU run alone");
        assert_eq!(bits(&chunked[m]), bits(&solo), "market {m}: chunked ensemble differs");
    }
    // AI entered somewhere (the comparison covers search, resolve and the AI channel).
    let ai = hollow::observe::METRICS.iter().position(|m| m.name == "share_ai").expect("share_ai metric");
    assert!(recs[0].columns[ai].iter().any(|&v| v > 0.05), "no AI entry in market 0");
}

#[test]
fn gpu_ensemble_refuses_markets_of_different_shapes() {
    let a = common::small(200, 400, 10, 5);
    let mut b = a.clone();
    b.top.creators = 300;
    let e = GpuEnsemble::new(vec![State::init(&a), State::init(&b)], &[&a, &b], &GpuOptions::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("market 1") && e.contains("same size"), "{e}");
    let mut c = a.clone();
    c.market.bins = a.market.bins + 4;
    let e = GpuEnsemble::new(vec![State::init(&a), State::init(&c)], &[&a, &c], &GpuOptions::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("bins"), "{e}");
}

const BASE: &str = "seed = 5\nsteps = 80\ncreators = 600\nbuyers = 1200\n[technology]\nshock_step = 20\n";

const SPEC: &str = r#"
base = "base.toml"
replicas = 2
block = 2
metrics = ["welfare_change", "share_ai", "share_human", "share_exit", "dominant_segment"]

[[axis]]
key = "technology.ai_cost_scale"
scale = "log"
from = 0.1
to = 30.0
n = 4

[[axis]]
key = "market.pollution"
values = [0.0, 1.5]
"#;

#[test]
fn gpu_sweep_is_independent_of_ensemble_size_and_matches_the_cpu_sweep() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("base.toml"), BASE).unwrap();
    std::fs::write(d.path().join("s.toml"), SPEC).unwrap();
    let spec = Spec::load(&d.path().join("s.toml")).unwrap();
    let go = |name: &str, exec: &dyn sweep::Executor| {
        let out = d.path().join(name);
        let r = sweep::run(&spec, &out, &Options::default(), exec, &AtomicBool::new(false), &|_| {}).unwrap();
        assert!(r.complete && r.runs_computed == 16, "{r:?}");
        sweep::store::read(&out).unwrap()
    };
    // One ensemble of all 16 runs; ensembles of 3 on two streams at once (each stream's
    // later ensembles reuse its first one's device and buffers; the last ensemble is
    // short); and an automatic ensemble on a device
    // whose 64 KiB bindings hold the qvals of only 6 markets, so it is halved until it fits.
    let all = go("all.h5", &GpuExecutor::new(GpuOptions::default(), 0, 1).expect("GPU adapter"));
    let threes = go("three.h5", &GpuExecutor::new(GpuOptions::default(), 3, 2).expect("GPU adapter"));
    let tight = GpuOptions { max_binding_bytes: Some(64 << 10), ..Default::default() };
    let halved = go("halved.h5", &GpuExecutor::new(tight, 0, 1).expect("GPU adapter"));
    let cpu = go("cpu.h5", &CpuExecutor::new(2).unwrap());
    assert!(all.executor.starts_with("gpu"), "{}", all.executor);
    for other in [&threes, &halved] {
        for (name, (a, b)) in all.metrics.iter().zip(all.values.iter().zip(&other.values)) {
            let ab: Vec<u64> = a.iter().map(|v| v.to_bits()).collect();
            let bb: Vec<u64> = b.iter().map(|v| v.to_bits()).collect();
            assert_eq!(ab, bb, "{name}: an ensemble of 16 and smaller ensembles differ");
        }
    }
    // Interrupted after the first block, then resumed: only the missing runs are computed
    // (the interrupted ensemble's are redone) and the file equals the uninterrupted one.
    let exec = GpuExecutor::new(GpuOptions::default(), 5, 1).expect("GPU adapter");
    let out = d.path().join("resumed.h5");
    let cut = Options { max_blocks: Some(1), ..Options::default() };
    let r1 = sweep::run(&spec, &out, &cut, &exec, &AtomicBool::new(false), &|_| {}).unwrap();
    assert!(!r1.complete && r1.cells_computed < 8, "{r1:?}");
    let r2 = sweep::run(&spec, &out, &Options::default(), &exec, &AtomicBool::new(false), &|_| {}).unwrap();
    assert!(r2.complete && r2.cells_before == r1.cells_computed && r2.cells_computed == 8 - r1.cells_computed);
    let resumed = sweep::store::read(&out).unwrap();
    for (name, (a, b)) in all.metrics.iter().zip(all.values.iter().zip(&resumed.values)) {
        let ab: Vec<u64> = a.iter().map(|v| v.to_bits()).collect();
        let bb: Vec<u64> = b.iter().map(|v| v.to_bits()).collect();
        assert_eq!(ab, bb, "{name}: the resumed sweep differs");
    }
    // GPU and CPU differ by float rounding only, which small markets amplify a little:
    // segment shares within 0.06, welfare change within 5% of its scale.
    for name in ["share_ai", "share_human", "share_exit", "welfare_change"] {
        let (g, c) = (all.metric(name).unwrap(), cpu.metric(name).unwrap());
        let tol = if name == "welfare_change" { 0.05 } else { 0.06 };
        for (k, (x, y)) in g.iter().zip(c).enumerate() {
            assert!(x.is_finite() && (x - y).abs() <= tol * (1.0 + y.abs()), "{name}[{k}]: gpu {x} vs cpu {y}");
        }
    }
    // The sweep is not flat: AI takes a larger share at low cost than at high cost.
    let ai = all.metric("share_ai").unwrap();
    assert!(ai[0] > ai[ai.len() - 1] + 0.2, "share_ai {ai:?}");
}

#[test]
fn gpu_sweep_of_a_run_list_records_each_runs_series() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("base.toml"), BASE.replace("steps = 80", "steps = 30")).unwrap();
    let runs = "base = \"base.toml\"\nmetrics = [\"welfare_final\", \"share_ai\"]\nseries = [\"welfare\"]\n\
                [[run]]\ntechnology.ai_cost_scale = 0.1\n[[run]]\nmarket.pollution = 1.5\n[[run]]\n";
    std::fs::write(d.path().join("r.toml"), runs).unwrap();
    let spec = Spec::load(&d.path().join("r.toml")).unwrap();
    let go = |name: &str, exec: &dyn sweep::Executor| {
        let out = d.path().join(name);
        let r = sweep::run(&spec, &out, &Options::default(), exec, &AtomicBool::new(false), &|_| {}).unwrap();
        assert!(r.complete && r.runs_computed == 3, "{r:?}");
        sweep::store::read(&out).unwrap()
    };
    let all = go("all.h5", &GpuExecutor::new(GpuOptions::default(), 0, 1).expect("GPU adapter"));
    let pairs = go("pairs.h5", &GpuExecutor::new(GpuOptions::default(), 2, 1).expect("GPU adapter"));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let w = all.series("welfare").unwrap();
    assert_eq!(bits(w), bits(pairs.series("welfare").unwrap()), "the series depend on the ensemble size");
    // Each run's series is the one its outcomes come from: its final welfare is the mean
    // of the series over the last window, bit for bit.
    let window = spec.base.equilibrium.window as usize;
    for run in 0..3 {
        let s = &w[run * 30..(run + 1) * 30];
        let tail = s[30 - window..].iter().sum::<f64>() / window as f64;
        assert_eq!(tail.to_bits(), all.metric("welfare_final").unwrap()[run].to_bits(), "run {run}");
    }
    assert_ne!(bits(&w[..30]), bits(&w[60..]), "the runs differ");
}

#[test]
fn cli_sweep_on_the_gpu_writes_a_plottable_file() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("base.toml"), BASE.replace("steps = 80", "steps = 30")).unwrap();
    std::fs::write(d.path().join("s.toml"), SPEC).unwrap();
    let hollow = env!("CARGO_BIN_EXE_hollow");
    let out = d.path().join("g.h5");
    let o = std::process::Command::new(hollow)
        .args(["sweep", "-q", "--backend", "gpu", "--batch", "5", "--streams", "2", "-o"])
        .arg(&out)
        .arg(d.path().join("s.toml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("gpu:") && stdout.contains("8 cells") && stdout.contains("2 in flight"), "{stdout}");
    assert!(stdout.contains("µs per market-step"), "no time report: {stdout}");
    // `auto` takes the GPU only when it is real hardware (lavapipe is slower than the CPU).
    let o = std::process::Command::new(hollow)
        .args(["sweep", "-q", "--fresh", "--backend", "auto", "-o"])
        .arg(d.path().join("auto.h5"))
        .arg(d.path().join("s.toml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.contains("(gpu:"), gpu::has_hardware_adapter(), "{stdout}");
    let png = d.path().join("w.png");
    let o = std::process::Command::new(hollow)
        .args(["plot", "phase"])
        .arg(&out)
        .args(["welfare_change", "-o"])
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
}
