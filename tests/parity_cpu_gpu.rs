//! The GPU backend against the CPU reference: the WGSL generator is bit-identical to
//! src/rng.rs; integer stages (scan, matching, sold counts, histogram counts) match the
//! CPU exactly from the same inputs; float stages agree within the tolerances below; a
//! 100-step run at 10^5 agents tells the same story as the CPU, and so does a short run
//! under the Q-learning decision rule (whose stages are also compared from the same
//! inputs); GPU runs are bit-for-bit reproducible; the chunked unit arrays change
//! nothing; a lost device or a population too large for the adapter is a clear error.
//!
//! These tests need a wgpu adapter (software Vulkan is enough) and FAIL, never skip,
//! without one, printing what to install.
//!
//! Tolerances (docs/gpu.md): WGSL's exp, log, pow and cos are not correctly rounded and
//! may differ from Rust's by a few ulps, and GPU float sums are tree-ordered f32:
//! - per-agent floats of one stage from identical inputs: |gpu - cpu| <= 1e-5 (1 + |cpu|);
//! - aggregates of `reduce`: relative 1e-5 (absolute 1e-3 near zero); counts exact;
//! - discrete choices that compare floats (mode revision, the x grid argmax): at most
//!   1 in 10^3 creators may differ, from ulp-level near-ties (so may the Q-learning
//!   argmax over Q-values);
//! - a whole run (100 steps at 10^5 agents; 60 Q-learning steps at 6,000): segment shares
//!   within 0.02 and welfare per buyer within 3% of its scale at every step (as in
//!   docs/gpu.md), since per-agent near-ties make the two trajectories different draws of
//!   the same process.

use hollow::backend::cpu::CpuBackend;
use hollow::backend::gpu::{self, GpuEnsemble, GpuOptions};
use hollow::backend::{Backend, Totals};
use hollow::config::{Config, CostBasis, Decision};
use hollow::model::market::Curves;
use hollow::model::rules;
use hollow::observe::Recorder;
use hollow::rng;
use hollow::sim::Simulation;
use hollow::state::*;
use std::sync::atomic::AtomicBool;

fn new_gpu(state: State, cfg: &Config, opts: &GpuOptions) -> GpuEnsemble {
    GpuEnsemble::one(state, cfg, opts)
        .unwrap_or_else(|e| panic!("GPU backend unavailable: {e}\n{}", gpu::no_adapter_help()))
}

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= abs + rel * a.abs().max(b.abs())
}

#[track_caller]
fn assert_close_f32(what: &str, cpu: &[f32], gpu: &[f32], tol: f32) {
    assert_eq!(cpu.len(), gpu.len(), "{what}: lengths");
    // NaN on either side counts as a difference.
    let ok = |i: usize| (cpu[i] - gpu[i]).abs() <= tol * (1.0 + cpu[i].abs());
    let bad: Vec<usize> = (0..cpu.len()).filter(|&i| !ok(i)).collect();
    assert!(
        bad.is_empty(),
        "{what}: {} of {} differ, first at {}: cpu {} gpu {}",
        bad.len(),
        cpu.len(),
        bad[0],
        cpu[bad[0]],
        gpu[bad[0]]
    );
}

fn pairs(v: &[[f32; 2]], k: usize) -> Vec<f32> {
    v.iter().map(|p| p[k]).collect()
}

// ---------------------------------------------------------------------------------------
// (a) The generator.

const RNG_PROBE: &str = r#"
@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;
const OUT: u32 = 12u;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    enter(0u);
    let i = gid.x;
    if (i >= arrayLength(&input) / 6u) { return; }
    let c = vec4<u32>(input[6u * i], input[6u * i + 1u], input[6u * i + 2u], input[6u * i + 3u]);
    let n = input[6u * i + 4u];
    let x = input[6u * i + 5u];
    let w = philox4x32_10(c, p.key);
    let o = OUT * i;
    output[o] = w.x;
    output[o + 1u] = w.y;
    output[o + 2u] = w.z;
    output[o + 3u] = w.w;
    output[o + 4u] = bitcast<u32>(unit_f32(w.x));
    output[o + 5u] = bitcast<u32>(unit_open_f32(w.y));
    output[o + 6u] = below(w.z, n);
    output[o + 7u] = permute30(x & 0x3fffffffu, p.perm_key);
    output[o + 8u] = claim_key(x & 0x3fffffffu, p.perm_key);
    output[o + 9u] = hash32(x);
    output[o + 10u] = bitcast<u32>(normal_f32(w.x, w.y));
    output[o + 11u] = draw4(p.key, x, c.y, stream_word(STREAM_SEARCH, c.z & 15u), c.w).x;
}
"#;

#[test]
fn wgsl_philox_permute30_and_below_are_bit_identical_to_rust() {
    let n = 20_000u32;
    let mut input = Vec::with_capacity(6 * n as usize);
    for i in 0..n {
        // Counters and arguments spread over the whole u32 range, extremes included.
        let h = |s: u32| rng::hash32(i.wrapping_mul(0x9E37_79B9) ^ s);
        let edge = match i % 7 {
            0 => 0,
            1 => u32::MAX,
            _ => h(11),
        };
        input.extend([h(1), h(2), edge, h(4), [1, 2, 3, 1000, u32::MAX, h(5), 1 << 31][i as usize % 7], h(6)]);
    }
    let key = rng::key_of(0xDEAD_BEEF_1234_5678);
    let pk = rng::perm_key(key, 17, 1);
    let p = StepParams { key, perm_key: pk, ..Default::default() };
    let out = gpu::run_probe(RNG_PROBE, &p, &input, 12 * n as usize, n, &GpuOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", gpu::no_adapter_help()));
    for i in 0..n as usize {
        let r = &input[6 * i..6 * i + 6];
        let o = &out[12 * i..12 * i + 12];
        let w = rng::philox4x32_10([r[0], r[1], r[2], r[3]], key);
        let x = r[5];
        let expect = [
            w[0],
            w[1],
            w[2],
            w[3],
            rng::unit_f32(w[0]).to_bits(),
            rng::unit_open_f32(w[1]).to_bits(),
            rng::below(w[2], r[4]),
            rng::permute30(x & 0x3fff_ffff, pk),
            rng::claim_key(x & 0x3fff_ffff, pk),
            rng::hash32(x),
        ];
        assert_eq!(&o[..10], &expect, "thread {i}, input {r:?}");
        let normal = rng::normal_f32(w[0], w[1]);
        let g = f32::from_bits(o[10]);
        assert!((g - normal).abs() <= 1e-5 * (1.0 + normal.abs()), "normal_f32 at {i}: cpu {normal} gpu {g}");
        let d = rng::draw4(key, x, r[1], rng::stream_word(rng::Stream::Search, r[2] & 15), r[3]);
        assert_eq!(o[11], d[0], "draw4 at {i}");
    }
}

// ---------------------------------------------------------------------------------------
// (b), (c) Stages from the same inputs.

/// A config of `nc` creators and `nb` buyers, AI volumes up to `vmax`.
fn config(nc: u32, nb: u32, vmax: u32) -> Config {
    let mut c = Config::default();
    c.top.creators = nc;
    c.top.buyers = nb;
    c.technology.ai_volume_max = vmax;
    c
}

/// The initial population with every mode present, varied volumes, skills, prices,
/// providers and directedness, and some inactive buyers.
fn varied_state(cfg: &Config) -> State {
    let mut s = State::init(cfg);
    let vmax = cfg.technology.ai_volume_max as f32;
    let (lo, hi) = (cfg.technology.x_lo, cfg.technology.x_hi);
    let c = &mut s.creators;
    for i in 0..c.len() {
        let h = rng::hash32(i as u32 ^ 0x5bd1_e995);
        let u = |k: u32| rng::unit_f32(rng::hash32(h ^ k));
        c.mode[i] = [EXIT, AI, HUMAN, HUMAN, AI][h as usize % 5];
        c.vol[i] = 1.0 + (vmax - 1.0) * u(1);
        c.x[i] = lo + (hi - lo) * u(2);
        c.offer[i][1] = 0.05 + 2.0 * u(3);
        c.provider[i] = h % cfg.technology.n_providers;
    }
    let b = &mut s.buyers;
    for j in 0..b.len() {
        let h = rng::hash32(j as u32 ^ 0x1b87_3593);
        b.d[j] = rng::unit_f32(h);
        b.active[j] = u32::from(h % 10 != 0);
        b.util[j] = rng::unit_f32(rng::hash32(h)) - 0.2;
    }
    s
}

/// The step parameters of step `t` as the simulation builds them.
fn params_of(cfg: &Config, t: u32) -> StepParams {
    let mut sim = Simulation::new(cfg.clone(), |s| Box::new(CpuBackend::new(s, 1)));
    sim.t = t;
    let mut p = sim.params();
    // After the shock, so AI units are cheap and plentiful.
    p.c_ai = 0.02;
    p
}

/// What the simulation sets once the unit counts are known.
fn after_scan(p: &mut StepParams, n_ai: u32, n_h: u32, sigma: f32) {
    p.n_ai_units = n_ai;
    p.n_human_units = n_h;
    let total = (n_ai + n_h) as f32;
    let ai_share = if total > 0.0 { n_ai as f32 / total } else { 0.0 };
    p.h_share = 1.0 - ai_share;
    p.sigma = sigma;
    p.ai_present = u32::from(n_ai > 0);
    p.congestion = 0.05;
}

#[test]
fn offers_and_scan_lay_out_units_exactly_as_the_cpu() {
    let cfg = config(50_000, 2_000, 64);
    let s = varied_state(&cfg);
    let p = params_of(&cfg, 60);
    let mut cpu = CpuBackend::new(s.clone(), 2);
    let mut gpu = new_gpu(s, &cfg, &GpuOptions::default());
    cpu.offers(&p);
    gpu.offers(&p);
    let (cs, gs) = (cpu.state(), gpu.state());
    assert_eq!(cs.creators.cap, gs.creators.cap, "capacities");
    assert!(gs.creators.sold.iter().all(|&x| x == 0));
    assert_close_f32("nominal quality", &pairs(&cs.creators.offer, 0), &pairs(&gs.creators.offer, 0), 1e-5);
    assert_eq!(pairs(&cs.creators.offer, 1), pairs(&gs.creators.offer, 1), "offers leave prices alone");
    let tc = cpu.scan(&p);
    let tg = gpu.scan(&p);
    assert_eq!(tc, tg, "(n_ai, n_human)");
    assert!(tc.0 > 0 && tc.1 > 0);
    assert_eq!(cpu.state().creators.offset, gpu.state().creators.offset, "offsets");
    let (co, cc) = cpu.units();
    let (go, gc) = gpu.units();
    assert_eq!(co, go, "unit owners");
    assert_eq!(cc, gc, "claims reset");
    assert!(gpu.error().is_none());
}

#[test]
fn a_multi_level_scan_matches_the_cpu() {
    // Over 2^20 creators: three scan levels (block sums of block sums).
    let cfg = config(1_100_000, 1_000, 3);
    let s = varied_state(&cfg);
    let p = params_of(&cfg, 60);
    let mut cpu = CpuBackend::new(s.clone(), 2);
    let mut gpu = new_gpu(s, &cfg, &GpuOptions::default());
    assert!(gpu.plan().levels.len() >= 2, "levels {:?}", gpu.plan().levels);
    cpu.offers(&p);
    gpu.offers(&p);
    let t = cpu.scan(&p);
    assert_eq!(t, gpu.scan(&p));
    // Offsets of no units at all would agree trivially.
    assert!(t.0 > 0 && t.1 > 0, "units (AI, human) {t:?}");
    assert_eq!(cpu.state().creators.offset, gpu.state().creators.offset, "offsets");
    assert_eq!(cpu.units(), gpu.units(), "owners and claims");
}

fn assert_totals(cpu: &Totals, gpu: &Totals) {
    // Counts exactly.
    assert_eq!(
        (cpu.active, cpu.matched, cpu.matched_ai, cpu.matched_junk),
        (gpu.active, gpu.matched, gpu.matched_ai, gpu.matched_junk),
        "buyer counts"
    );
    assert_eq!(cpu.mode_count, gpu.mode_count, "mode counts");
    assert_eq!(cpu.decile_mode, gpu.decile_mode, "decile x mode counts");
    assert_eq!((cpu.offered, cpu.sold), (gpu.offered, gpu.sold), "units offered and sold");
    assert_eq!(cpu.provider_sold, gpu.provider_sold, "provider sales");
    assert_eq!(cpu.hist.cells.len(), gpu.hist.cells.len());
    for (k, (a, b)) in cpu.hist.cells.iter().zip(&gpu.hist.cells).enumerate() {
        assert_eq!((a[0], a[1]), (b[0], b[1]), "histogram counts of cell {k}");
        assert!(close(a[2], b[2], 1e-5, 1e-3), "histogram revenue of cell {k}: {} vs {}", a[2], b[2]);
    }
    // Sums within the stated tolerance.
    let f = [
        ("utility", cpu.utility, gpu.utility),
        ("spend", cpu.spend, gpu.spend),
        ("spend_ai", cpu.spend_ai, gpu.spend_ai),
        ("junk_paid", cpu.junk_paid, gpu.junk_paid),
        ("search_costs", cpu.search_costs, gpu.search_costs),
        ("d_sum", cpu.d_sum, gpu.d_sum),
        ("revenue_sq", cpu.revenue_sq, gpu.revenue_sq),
        ("profit", cpu.profit, gpu.profit),
        ("vol_sum", cpu.vol_sum, gpu.vol_sum),
    ];
    for (n, a, b) in f {
        assert!(close(a, b, 1e-5, 1e-3), "{n}: cpu {a} gpu {b}");
    }
    for m in 0..3 {
        assert!(close(cpu.x_sum[m], gpu.x_sum[m], 1e-5, 1e-3), "x_sum[{m}]");
        assert!(close(cpu.talent_sum[m], gpu.talent_sum[m], 1e-5, 1e-3), "talent_sum[{m}]");
        assert!(close(cpu.revenue[m], gpu.revenue[m], 1e-5, 1e-3), "revenue[{m}]");
    }
}

/// Buyers holding a proposal after `search` (the rest hold NONE).
fn proposals_made(s: &State) -> usize {
    s.buyers.proposal.iter().filter(|&&u| u != NONE).count()
}

/// Buyers who bought this step.
fn purchases(s: &State) -> usize {
    s.buyers.bought.iter().filter(|&&b| b != NONE).count()
}

/// Every stage of a step on both backends from the same inputs: the GPU starts from the
/// CPU's state after `offers`, so search sees bit-identical offers.
/// Puts tastes on a 1/64 grid and qualities on a 1/1024 grid: theta * q is then exact in
/// f32, so a score rounds once whether or not the GPU compiler fuses it into an FMA.
fn quantize_scores(s: &mut State) {
    for t in &mut s.buyers.theta {
        *t = (*t * 64.0).round() / 64.0;
    }
    for o in &mut s.creators.offer {
        o[0] = (o[0] * 1024.0).round() / 1024.0;
    }
}

#[test]
fn every_stage_matches_the_cpu_from_the_same_inputs() {
    let cfg = config(20_000, 60_000, 16);
    let s = varied_state(&cfg);
    let mut p = params_of(&cfg, 60);
    let mut first = CpuBackend::new(s, 2);
    first.offers(&p);
    let mut s = first.state();
    quantize_scores(&mut s);
    let mut cpu = CpuBackend::new(s.clone(), 2);
    let mut gpu = new_gpu(s, &cfg, &GpuOptions::default());
    let (n_ai, n_h) = cpu.scan(&p);
    assert_eq!(gpu.scan(&p), (n_ai, n_h));
    // No signal noise: scores are then one exact product and one rounded difference, so
    // the matching must agree bit for bit.
    after_scan(&mut p, n_ai, n_h, 0.0);
    let mut proposed = 0;
    for r in 0..cfg.market.rounds {
        p.round = r;
        p.perm_key = rng::perm_key(p.key, p.step, r);
        cpu.search(&p);
        gpu.search(&p);
        let (cs, gs) = (cpu.state(), gpu.state());
        assert_eq!(cs.buyers.proposal, gs.buyers.proposal, "round {r}: proposals");
        proposed += proposals_made(&cs);
        assert_eq!(cs.buyers.searches, gs.buyers.searches, "round {r}: searches");
        assert_eq!(cpu.units().1, gpu.units().1, "round {r}: claims after search");
        cpu.resolve(&p);
        gpu.resolve(&p);
        let (cs, gs) = (cpu.state(), gpu.state());
        assert_eq!(cs.buyers.bought, gs.buyers.bought, "round {r}: purchases");
        assert_eq!(cs.creators.sold, gs.creators.sold, "round {r}: sold counts");
        assert_eq!(cpu.units().1, gpu.units().1, "round {r}: claims after resolve");
    }
    let cs = cpu.state();
    // Two empty proposal and purchase lists would pass every comparison above.
    assert!(proposed > 10_000, "search proposed {proposed} times in all rounds: the test would prove little");
    assert!(purchases(&cs) > 1000, "{} purchases: the test would prove little", purchases(&cs));
    assert!(cs.buyers.bought.iter().any(|&b| b != NONE && b & JUNK_BIT != 0), "junk sold");

    cpu.buyers(&p);
    gpu.buyers(&p);
    let (cb, gb) = (cpu.state().buyers, gpu.state().buyers);
    assert_close_f32("U", &cb.util, &gb.util, 1e-5);
    assert_close_f32("d", &cb.d, &gb.d, 1e-5);
    assert_close_f32("u_human", &pairs(&cb.exp, 0), &pairs(&gb.exp, 0), 1e-5);
    assert_close_f32("u_ai", &pairs(&cb.exp, 1), &pairs(&gb.exp, 1), 1e-5);
    assert_close_f32("utility", &pairs(&cb.gain, 0), &pairs(&gb.gain, 0), 1e-5);
    assert_close_f32("paid", &pairs(&cb.gain, 1), &pairs(&gb.gain, 1), 1e-5);
    let flips = cb.active.iter().zip(&gb.active).filter(|(a, b)| a != b).count();
    assert!(flips <= cb.active.len() / 1000, "active flags: {flips} differ");

    cpu.accounts(&p);
    gpu.accounts(&p);
    let (cc, gc) = (cpu.state().creators, gpu.state().creators);
    assert_close_f32("revenue", &cc.revenue, &gc.revenue, 1e-5);
    assert_close_f32("price", &pairs(&cc.offer, 1), &pairs(&gc.offer, 1), 1e-5);
    assert_close_f32("vol", &cc.vol, &gc.vol, 1e-5);
    let on_floor = (0..cc.mode.len()).filter(|&i| cc.mode[i] == AI && cc.offer[i][1] == p.ai_floor).count();
    assert!(
        on_floor > 100,
        "the platform floor binds for AI prices ({on_floor} creators): the test would prove little"
    );

    let st = cpu.state();
    let deciles = st.deciles();
    // q_max = 4 is a power of two, so the quantized qualities fall in the same bins even
    // where the GPU divides approximately.
    assert_eq!(cfg.market.q_max, 4.0);
    let tc = cpu.reduce(&p, &deciles);
    let tg = gpu.reduce(&p, &deciles);
    assert_totals(&tc, &tg);

    let mut curves = Curves::prior(cfg.market.bins, cfg.market.q_max, 1.0, cfg.market.price_init);
    curves.update(&tc.hist, 0.5);
    p.revise = 0.5;
    // Entrants expect (and start at) a volume unlike any initial one.
    p.vol_expect = 9.5;
    let modes_before = cpu.state().creators.mode;
    cpu.decide(&p, &curves.rp);
    gpu.decide(&p, &curves.rp);
    let (cc, gc) = (cpu.state().creators, gpu.state().creators);
    let n = cc.mode.len();
    let switched = modes_before.iter().zip(&cc.mode).filter(|(a, b)| a != b).count();
    let entrants: Vec<usize> = (0..cc.mode.len()).filter(|&i| modes_before[i] != AI && cc.mode[i] == AI).collect();
    assert!(entrants.len() > 100, "few AI entrants ({}): the test would prove little", entrants.len());
    assert!(entrants.iter().all(|&i| cc.vol[i] == 9.5 && cc.offer[i][1] >= p.ai_floor), "entrants start at v*");
    assert!(switched > n / 20, "decide revised few modes ({switched}): the test would prove little");
    let differ: Vec<usize> = (0..n).filter(|&i| cc.mode[i] != gc.mode[i] || (cc.x[i] - gc.x[i]).abs() > 1e-4).collect();
    assert!(differ.len() <= n / 1000, "decide: {} of {n} creators differ (first {:?})", differ.len(), differ.first());
    let same: Vec<usize> = (0..n).filter(|i| !differ.contains(i)).collect();
    let pick = |v: &[f32]| same.iter().map(|&i| v[i]).collect::<Vec<f32>>();
    assert_close_f32("x after decide", &pick(&cc.x), &pick(&gc.x), 1e-5);
    assert_close_f32("price after decide", &pick(&pairs(&cc.offer, 1)), &pick(&pairs(&gc.offer, 1)), 1e-5);
    assert_close_f32("vol after decide", &pick(&cc.vol), &pick(&gc.vol), 1e-5);
    let pc: Vec<u32> = same.iter().map(|&i| cc.provider[i]).collect();
    let pg: Vec<u32> = same.iter().map(|&i| gc.provider[i]).collect();
    assert_eq!(pc, pg, "providers");
    assert!(gpu.error().is_none(), "{:?}", gpu.error());
    // Per-stage GPU times of this step, where the adapter has timestamps.
    if gpu.has_timestamps() {
        let times = gpu.stage_times().unwrap_or_default();
        let names: Vec<&str> = times.iter().map(|t| t.0).collect();
        assert_eq!(names, hollow::sim::STAGES, "one time per stage");
        assert!(times.iter().all(|t| t.1 >= 0.0 && t.1 < 60.0), "{times:?}");
    }
}

#[test]
fn a_lost_device_is_a_clear_error_not_a_hang_or_panic() {
    let cfg = config(2_000, 4_000, 8);
    let mut gpu = new_gpu(State::init(&cfg), &cfg, &GpuOptions::default());
    let mut sim = Simulation::new(cfg.clone(), |s| Box::new(new_gpu(s, &cfg, &GpuOptions::default())));
    sim.step();
    assert!(sim.backend().error().is_none());
    // Device stage times reach the simulation's user through the trait.
    assert_eq!(sim.backend().stage_times().map(|t| t.len()), gpu.has_timestamps().then_some(8));
    let p = params_of(&cfg, 0);
    gpu.offers(&p);
    gpu.lose_device_for_test();
    assert_eq!(gpu.scan(&p), (0, 0));
    gpu.search(&p);
    let t = gpu.reduce(&p, &State::init(&cfg).deciles());
    assert_eq!(t.matched, 0);
    let e = gpu.error().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("device lost"), "{e}");
    assert!(gpu.failure().is_some());
}

#[test]
fn oversized_populations_are_clear_errors_not_panics() {
    // 1.1 M creators x 4096 units exceed the u32 unit ids.
    let cfg = config(1_100_000, 10, 4096);
    let e = GpuEnsemble::one(State::init(&cfg), &cfg, &GpuOptions::default()).err().map(|e| e.to_string());
    let e = e.unwrap_or_default();
    assert!(e.contains("ai_volume_max"), "{e}");
    // Forced 4 KiB bindings: a 16-byte creator field of 1000 creators does not fit.
    let cfg = config(1_000, 10, 4);
    let opts = GpuOptions { max_binding_bytes: Some(4096), ..Default::default() };
    let e = GpuEnsemble::one(State::init(&cfg), &cfg, &opts).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("creators") && e.contains("16-byte"), "{e}");
    // An adapter name that matches nothing lists the adapters found.
    let opts = GpuOptions { adapter: Some("no such adapter 123".into()), ..Default::default() };
    let e = GpuEnsemble::one(State::init(&cfg), &cfg, &opts).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("no such adapter 123") && e.contains("adapters found"), "{e}");
}

/// A state for the Q-learning rule: a third of the creators mid-way through a re-skilling
/// spell (1 to 5 steps left), a third with initialised Q-tables of varied values and last
/// actions, the rest never decided (their first call initialises the table).
fn q_state(cfg: &Config) -> State {
    let mut s = varied_state(cfg);
    let c = &mut s.creators;
    for i in 0..c.len() {
        let h = rng::hash32(i as u32 ^ 0x2545_f491);
        let u = |k: u32| rng::unit_f32(rng::hash32(h ^ k));
        let action = (h >> 8) % 4;
        c.reskill[i] = match h % 3 {
            0 => rules::RESKILL_INIT | (rules::Q_RESKILL << rules::RESKILL_ACTION_SHIFT) | (1 + (h >> 4) % 5),
            1 => rules::RESKILL_INIT | (action << rules::RESKILL_ACTION_SHIFT),
            _ => 0,
        };
        if h % 3 != 2 {
            c.qvals[i] = [2.0 * u(1) - 1.0, 2.0 * u(2) - 1.0, 2.0 * u(3) - 1.0, 2.0 * u(4) - 1.0];
        }
    }
    s
}

/// Every stage under `decision = "q_learning"` from the same inputs: capacities at half
/// output while re-skilling (`capacity_q`), the reduce profit with re-skilling costs
/// (`cost_with_reskill`), and the Q-learning decision (`decide_q`) with its Q-tables and
/// packed re-skilling words.
#[test]
fn every_stage_matches_the_cpu_under_q_learning() {
    q_learning_stages_match(false);
}

/// The same with every opt-in of the paper's second pass: the human cost per unit
/// produced (`cost_of` in reduce and in decide's reward), untried actions at `q_init`, the
/// outside option as a known Q(exit) and reversible modes (`decide_q`).
#[test]
fn every_stage_matches_the_cpu_under_the_q_learning_opt_ins() {
    q_learning_stages_match(true);
}

fn q_learning_stages_match(opt_ins: bool) {
    let mut cfg = config(20_000, 60_000, 16);
    cfg.decisions.decision = Decision::QLearning;
    if opt_ins {
        cfg.technology.human_cost_basis = CostBasis::Produced;
        cfg.decisions.q_init = 0.3;
        cfg.decisions.q_outside = 0.05;
        cfg.decisions.q_reversible = true;
    }
    let s = q_state(&cfg);
    let mut p = params_of(&cfg, 60);
    assert_eq!(p.decision, 1, "q_learning reaches the step parameters");
    if opt_ins {
        assert!(p.step >= cfg.technology.shock_step, "after the shock");
        assert_eq!((p.human_cost_produced, p.q_reversible, p.q_init, p.q_outside), (1, 1, 0.3, 0.05));
    }
    // More exploration than the default, so every action is taken by someone.
    p.q_epsilon = 0.2;
    let reskilling = |s: &State| s.creators.reskill.iter().filter(|&&r| rules::reskill_left(r) > 0).count();
    let n = s.creators.len();
    assert!(reskilling(&s) > n / 4);

    // offers from the same state: capacities exact.
    let mut cpu = CpuBackend::new(s.clone(), 2);
    let mut gpu = new_gpu(s.clone(), &cfg, &GpuOptions::default());
    cpu.offers(&p);
    gpu.offers(&p);
    let (cs, gs) = (cpu.state(), gpu.state());
    assert_eq!(cs.creators.cap, gs.creators.cap, "capacities (capacity_q)");
    let half = (0..n)
        .filter(|&i| cs.creators.mode[i] == HUMAN && rules::reskill_left(s.creators.reskill[i]) > 0)
        .map(|i| cs.creators.cap[i])
        .collect::<Vec<u32>>();
    let idle = half.iter().filter(|&&k| k == 0).count();
    assert!(
        idle > half.len() / 4 && idle < 3 * half.len() / 4,
        "re-skilling humans offer half the time: {idle} of {} idle",
        half.len()
    );
    assert_close_f32("nominal quality", &pairs(&cs.creators.offer, 0), &pairs(&gs.creators.offer, 0), 1e-5);
    drop(gpu);

    // The rest from the CPU's offers, quantized as in the logit test so matching is exact.
    let mut s = cs;
    quantize_scores(&mut s);
    let mut cpu = CpuBackend::new(s.clone(), 2);
    let mut gpu = new_gpu(s, &cfg, &GpuOptions::default());
    let (n_ai, n_h) = cpu.scan(&p);
    assert_eq!(gpu.scan(&p), (n_ai, n_h));
    assert_eq!(cpu.units(), gpu.units(), "unit owners and claims");
    after_scan(&mut p, n_ai, n_h, 0.0);
    let mut proposed = 0;
    for r in 0..cfg.market.rounds {
        p.round = r;
        p.perm_key = rng::perm_key(p.key, p.step, r);
        cpu.search(&p);
        gpu.search(&p);
        proposed += proposals_made(&cpu.state());
        cpu.resolve(&p);
        gpu.resolve(&p);
        let (cs, gs) = (cpu.state(), gpu.state());
        assert_eq!(cs.buyers.bought, gs.buyers.bought, "round {r}: purchases");
        assert_eq!(cs.creators.sold, gs.creators.sold, "round {r}: sold counts");
    }
    // Empty purchase and sold lists would pass the comparisons above.
    let cs = cpu.state();
    assert!(proposed > 10_000, "search proposed {proposed} times in all rounds: the test would prove little");
    assert!(purchases(&cs) > 1000, "{} purchases: the test would prove little", purchases(&cs));
    let sold: u64 = cs.creators.sold.iter().map(|&k| u64::from(k)).sum();
    assert_eq!(sold, purchases(&cs) as u64, "every purchase is a unit sold");
    cpu.buyers(&p);
    gpu.buyers(&p);
    cpu.accounts(&p);
    gpu.accounts(&p);
    let (cc, gc) = (cpu.state().creators, gpu.state().creators);
    assert_close_f32("revenue", &cc.revenue, &gc.revenue, 1e-5);
    assert_close_f32("price", &pairs(&cc.offer, 1), &pairs(&gc.offer, 1), 1e-5);

    // reduce: the profit carries every re-skilling creator's training cost.
    let deciles = cpu.state().deciles();
    let tc = cpu.reduce(&p, &deciles);
    let tg = gpu.reduce(&p, &deciles);
    assert_totals(&tc, &tg);
    let st = cpu.state();
    let training: f64 = st.creators.reskill.iter().map(|&r| rules::cost_with_reskill(EXIT, 0, 0, r, &p)).sum();
    assert!(training > 100.0 * f64::from(p.reskill_cost), "training costs {training}");

    // decide: decide_q on both, from the same accounts.
    let mut curves = Curves::prior(cfg.market.bins, cfg.market.q_max, 1.0, cfg.market.price_init);
    curves.update(&tc.hist, 0.5);
    let before = st.creators;
    cpu.decide(&p, &curves.rp);
    gpu.decide(&p, &curves.rp);
    let (cc, gc) = (cpu.state().creators, gpu.state().creators);
    let switched = (0..n).filter(|&i| before.mode[i] != cc.mode[i]).count();
    let started = (0..n)
        .filter(|&i| rules::reskill_left(before.reskill[i]) == 0 && rules::reskill_left(cc.reskill[i]) > 0)
        .count();
    let initialised = (0..n).filter(|&i| before.reskill[i] & rules::RESKILL_INIT == 0).count();
    assert!(
        switched > n / 50 && started > n / 50 && initialised > n / 5,
        "decide_q did little ({switched} switched, {started} started re-skilling, {initialised} \
         first tables): the test would prove little"
    );
    assert!(cc.reskill.iter().all(|&r| r & rules::RESKILL_INIT != 0), "every table initialised");
    if opt_ins {
        let back = (0..n).filter(|&i| before.mode[i] != HUMAN && cc.mode[i] == HUMAN).count();
        assert!(back > n / 100, "reversible: {back} creators returned to human craft");
        let known = (0..n).filter(|&i| cc.qvals[i][3] == p.q_outside / (1.0 - p.q_gamma)).count();
        assert_eq!(known, n, "Q(exit) is the outside option's value");
    }
    let differ: Vec<usize> = (0..n)
        .filter(|&i| cc.mode[i] != gc.mode[i] || cc.reskill[i] != gc.reskill[i] || (cc.x[i] - gc.x[i]).abs() > 1e-4)
        .collect();
    assert!(differ.len() <= n / 1000, "decide_q: {} of {n} creators differ (first {:?})", differ.len(), differ.first());
    let same: Vec<usize> = (0..n).filter(|i| !differ.contains(i)).collect();
    let pick = |v: &[f32]| same.iter().map(|&i| v[i]).collect::<Vec<f32>>();
    assert_close_f32("x after decide_q", &pick(&cc.x), &pick(&gc.x), 1e-5);
    assert_close_f32("price after decide_q", &pick(&pairs(&cc.offer, 1)), &pick(&pairs(&gc.offer, 1)), 1e-5);
    assert_close_f32("vol after decide_q", &pick(&cc.vol), &pick(&gc.vol), 1e-5);
    for a in 0..4 {
        let q = |c: &Creators| same.iter().map(|&i| c.qvals[i][a]).collect::<Vec<f32>>();
        assert_close_f32(&format!("Q[{a}] after decide_q"), &q(&cc), &q(&gc), 1e-5);
    }
    let pc: Vec<u32> = same.iter().map(|&i| cc.provider[i]).collect();
    let pg: Vec<u32> = same.iter().map(|&i| gc.provider[i]).collect();
    assert_eq!(pc, pg, "providers");
    assert!(gpu.error().is_none(), "{:?}", gpu.error());
}

/// With signal noise the scores go through WGSL's log and cos; a proposal may then flip
/// only where two samples tie to within an ulp.
#[test]
fn search_with_signal_noise_matches_the_cpu_up_to_near_ties() {
    let cfg = config(20_000, 60_000, 16);
    let s = varied_state(&cfg);
    let mut p = params_of(&cfg, 60);
    let mut cpu = CpuBackend::new(s, 2);
    cpu.offers(&p);
    let mut gpu = new_gpu(cpu.state(), &cfg, &GpuOptions::default());
    let (n_ai, n_h) = cpu.scan(&p);
    gpu.scan(&p);
    after_scan(&mut p, n_ai, n_h, 0.3);
    p.perm_key = rng::perm_key(p.key, p.step, 0);
    cpu.search(&p);
    gpu.search(&p);
    let (cs, gs) = (cpu.state(), gpu.state());
    let n = cs.buyers.proposal.len();
    // All-NONE proposals on both sides would agree perfectly.
    let made = proposals_made(&cs);
    assert!(made > n / 2, "{made} of {n} buyers proposed: the test would prove little");
    let differ = cs.buyers.proposal.iter().zip(&gs.buyers.proposal).filter(|(a, b)| a != b).count();
    assert!(differ <= n / 1000, "{differ} of {n} proposals differ");
}

// ---------------------------------------------------------------------------------------
// (d), (e), (f) Whole runs.

fn run_sim(cfg: &Config, make: impl FnOnce(State) -> Box<dyn Backend>) -> Recorder {
    let mut sim = Simulation::new(cfg.clone(), make);
    let mut rec = Recorder::new();
    sim.run(cfg.top.steps, &mut rec, &AtomicBool::new(false), |_| {});
    assert!(sim.backend().error().is_none(), "backend failed: {:?}", sim.backend().error());
    rec
}

fn run_gpu(cfg: &Config, opts: &GpuOptions) -> Recorder {
    let (cfg2, opts) = (cfg.clone(), opts.clone());
    run_sim(cfg, move |s| Box::new(new_gpu(s, &cfg2, &opts)))
}

fn bits(r: &Recorder) -> Vec<Vec<u64>> {
    r.columns.iter().map(|c| c.iter().map(|v| v.to_bits()).collect()).collect()
}

/// 100 steps at 10^5 agents through the shock: the GPU tells the CPU's story. Near-ties
/// resolved differently by a few ulps make the two runs different draws of the same
/// process, so the comparison is statistical (tolerances in the file header).
#[test]
fn a_100_step_run_at_1e5_agents_gives_the_cpu_shares_and_welfare() {
    let mut cfg = config(33_000, 67_000, 64);
    cfg.top.steps = 100;
    let rc = run_sim(&cfg, |s| Box::new(CpuBackend::new(s, 0)));
    let rg = run_gpu(&cfg, &GpuOptions::default());
    assert_eq!(rc.len(), 100);
    assert_eq!(rg.len(), 100);
    for name in ["share_ai", "share_human", "share_exit", "active_buyers", "ai_unit_share"] {
        let (a, b) = (rc.get(name).unwrap_or_default(), rg.get(name).unwrap_or_default());
        for t in 0..100 {
            assert!((a[t] - b[t]).abs() <= 0.02, "{name} at step {t}: cpu {} gpu {}", a[t], b[t]);
        }
    }
    let (a, b) = (rc.get("welfare").unwrap_or_default(), rg.get("welfare").unwrap_or_default());
    let scale = a.iter().map(|x| x.abs()).fold(0.0, f64::max);
    for t in 0..100 {
        assert!((a[t] - b[t]).abs() <= 0.03 * scale, "welfare at step {t}: cpu {} gpu {} (scale {scale})", a[t], b[t]);
    }
    // The shock happened: AI took a large share on both.
    assert!(a.len() == 100 && rc.get("share_ai").unwrap_or_default()[99] > 0.3);
}

/// Shares within `share_tol` and welfare within `welfare_tol` of its scale at every step.
#[track_caller]
fn assert_same_story(rc: &Recorder, rg: &Recorder, steps: usize, share_tol: f64, welfare_tol: f64) {
    assert_eq!(rc.len(), steps);
    assert_eq!(rg.len(), steps);
    for name in ["share_ai", "share_human", "share_exit", "active_buyers", "ai_unit_share"] {
        let (a, b) = (rc.get(name).unwrap_or_default(), rg.get(name).unwrap_or_default());
        for t in 0..steps {
            assert!((a[t] - b[t]).abs() <= share_tol, "{name} at step {t}: cpu {} gpu {}", a[t], b[t]);
        }
    }
    let (a, b) = (rc.get("welfare").unwrap_or_default(), rg.get("welfare").unwrap_or_default());
    let scale = a.iter().map(|x| x.abs()).fold(0.0, f64::max);
    for t in 0..steps {
        assert!(
            (a[t] - b[t]).abs() <= welfare_tol * scale,
            "welfare at step {t}: cpu {} gpu {} (scale {scale})",
            a[t],
            b[t]
        );
    }
}

/// A short Q-learning run through the shock (exploration starts there): the GPU tells the
/// CPU's story within the whole-run tolerances of the file header.
#[test]
fn a_short_q_learning_run_gives_the_cpu_shares_and_welfare() {
    let mut cfg = config(2_000, 4_000, 64);
    cfg.top.steps = 60;
    cfg.technology.shock_step = 20;
    cfg.decisions.decision = Decision::QLearning;
    let rc = run_sim(&cfg, |s| Box::new(CpuBackend::new(s, 0)));
    let rg = run_gpu(&cfg, &GpuOptions::default());
    assert_same_story(&rc, &rg, 60, 0.02, 0.03);
    // Q-learning did something after the shock: the mode shares moved.
    let ai = rc.get("share_ai").unwrap_or_default();
    let human = rc.get("share_human").unwrap_or_default();
    assert!(
        (ai[59] - ai[19]).abs() + (human[59] - human[19]).abs() > 0.02,
        "shares did not move: AI {} -> {}, human {} -> {}",
        ai[19],
        ai[59],
        human[19],
        human[59]
    );
}

/// The same short run with the opt-ins of the paper's second pass (cost per unit
/// produced, q_init, an outside option, reversible modes, decaying exploration).
#[test]
fn a_short_q_learning_run_with_the_opt_ins_gives_the_cpu_shares_and_welfare() {
    let mut cfg = config(2_000, 4_000, 64);
    cfg.top.steps = 60;
    cfg.technology.shock_step = 20;
    cfg.technology.human_cost_basis = CostBasis::Produced;
    cfg.decisions.decision = Decision::QLearning;
    cfg.decisions.q_init = 0.3;
    cfg.decisions.q_outside = 0.05;
    cfg.decisions.q_reversible = true;
    cfg.decisions.q_epsilon_halflife = 20.0;
    let rc = run_sim(&cfg, |s| Box::new(CpuBackend::new(s, 0)));
    let rg = run_gpu(&cfg, &GpuOptions::default());
    assert_same_story(&rc, &rg, 60, 0.02, 0.03);
    let human = rc.get("share_human").unwrap_or_default();
    assert!((human[59] - human[19]).abs() > 0.02, "shares did not move: human {} -> {}", human[19], human[59]);
}

#[test]
fn two_gpu_runs_with_the_same_seed_are_identical_bit_for_bit() {
    let mut cfg = config(12_000, 24_000, 64);
    cfg.top.steps = 70;
    let a = run_gpu(&cfg, &GpuOptions::default());
    let b = run_gpu(&cfg, &GpuOptions::default());
    assert_eq!(bits(&a), bits(&b));
}

/// Forcing 128 KiB bindings splits the unit arrays into several chunks (creators' unit
/// ranges straddle chunk boundaries); nothing may change.
#[test]
fn chunked_unit_arrays_give_the_unchunked_results() {
    let mut cfg = config(3_000, 6_000, 64);
    cfg.top.steps = 70;
    let small = GpuOptions { max_binding_bytes: Some(128 << 10), ..Default::default() };
    let probe = new_gpu(State::init(&cfg), &cfg, &small);
    assert!(probe.plan().n_chunks >= 4, "chunks: {}", probe.plan().n_chunks);
    drop(probe);
    let a = run_gpu(&cfg, &GpuOptions::default());
    let b = run_gpu(&cfg, &small);
    assert_eq!(bits(&a), bits(&b));
    // And the final agent state and unit layout agree too.
    let mut sa = Simulation::new(cfg.clone(), |s| Box::new(new_gpu(s, &cfg, &GpuOptions::default())));
    let mut sb = Simulation::new(cfg.clone(), |s| Box::new(new_gpu(s, &cfg, &small)));
    for _ in 0..60 {
        sa.step();
        sb.step();
    }
    assert_eq!(sa.backend().state(), sb.backend().state());
    assert_eq!(sa.backend().units(), sb.backend().units());
}
