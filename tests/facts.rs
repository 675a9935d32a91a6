//! The stylized facts of MODEL.md, measured as `hollow reproduce` measures them
//! (src/reproduce/) on the shipped scenario configs, at populations that run in
//! seconds: F1-F4 and F7 on the base scenario and its no-shock control, F5's three
//! regimes (monotone gains, inverted U, harmful from entry), F6 at equal AI adoption, and
//! the paper's set-up (its Q-learning creators, the recognition phase, who stays).

use hollow::backend::cpu::CpuBackend;
use hollow::config::Config;
use hollow::reproduce::{self, Run};
use hollow::state::State;
use hollow::sweep::CpuExecutor;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

fn config(name: &str, creators: u32) -> Config {
    let mut c = Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(name), &[]).unwrap();
    c.top.creators = creators;
    c.top.buyers = 2 * creators;
    c
}

fn cpu(s: State, _: &Config) -> Result<Box<dyn hollow::backend::Backend>, String> {
    Ok(Box::new(CpuBackend::new(s, 0)))
}

fn run(cfg: &Config) -> Run {
    reproduce::run_sim(cfg, &cpu, false).unwrap()
}

/// The base scenario and its control at 4,000 creators, run once for all tests.
fn base() -> &'static (Run, Run) {
    static RUNS: OnceLock<(Run, Run)> = OnceLock::new();
    RUNS.get_or_init(|| (run(&config("baseline.toml", 4_000)), run(&config("no_shock.toml", 4_000))))
}

fn show(f: &reproduce::Fact) {
    eprintln!("{} holds: {} ({})", f.id, f.holds, f.criterion);
    for m in &f.measures {
        eprintln!("    {} = {:.4} {}", m.name, m.value, m.unit);
    }
}

#[test]
fn f1_segments_order_by_talent() {
    let f = reproduce::measure_f1(&base().0, None);
    show(&f);
    assert!(f.holds);
}

#[test]
fn f2_the_middle_of_the_quality_distribution_hollows() {
    let f = reproduce::measure_f2(&base().0);
    show(&f);
    assert!(f.holds);
}

#[test]
fn f3_the_transition_collapses_then_recovers() {
    let (b, c) = base();
    let f = reproduce::measure_f3(b, None, Some(c));
    show(&f);
    assert!(f.holds);
}

#[test]
fn f4_humans_move_toward_creativity_against_the_control() {
    let (b, c) = base();
    let f = reproduce::measure_f4(b, Some(c));
    show(&f);
    assert!(f.holds);
}

#[test]
fn f7_revenue_concentrates_after_the_shock() {
    let (b, c) = base();
    let f = reproduce::measure_f7(b, Some(c));
    show(&f);
    assert!(f.holds);
    assert!(c.outcomes.hhi_final < 1.2 * c.outcomes.hhi_pre, "no concentration without the shock");
}

fn configs() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

#[test]
fn f5_welfare_rises_at_low_pollution_peaks_inside_at_high_and_falls_from_entry_at_severe() {
    use hollow::model::welfare::ExpansionRegime::*;
    let exec = CpuExecutor::new(0).unwrap();
    let curves = reproduce::f5_curves(&configs(), &exec, &AtomicBool::new(false), (2_000, 4_000), 2, &|_| {}).unwrap();
    let f = reproduce::measure_f5(&curves);
    show(&f);
    let get = |n: &str| f.measures.iter().find(|m| m.name == n).unwrap().value;
    assert_eq!(get("low_regime") as usize, MonotoneGains.index(), "low pollution: monotone gains");
    assert_eq!(get("high_regime") as usize, InvertedU.index(), "high pollution: inverted U");
    assert_eq!(get("severe_regime") as usize, HarmfulFromEntry.index(), "severe pollution: harmful from entry");
    assert!(f.holds);
    // The peak stands clear of the replica spread on both sides.
    assert!(get("high_peak_minus_no_ai") > 3.0 * get("high_peak_minus_no_ai_sd").max(0.005));
    assert!(get("high_peak_minus_most_expansion") > 3.0 * get("high_peak_minus_most_expansion_sd").max(0.005));
    // The flood: AI units per buyer grow with expansion (the platform floor), so congestion
    // keeps growing; at the high level the most expansion has several times the units of
    // the peak's.
    let high = curves.iter().find(|c| c.tag == "high").unwrap();
    let peak = high.scales.iter().position(|&s| s == get("high_peak_scale")).unwrap();
    assert!(high.units_ai[0] > 2.0 * high.units_ai[peak], "{:?}", high.units_ai);
    // Pollution levels that differ only in pollution share their runs: the no-AI welfare
    // is the same number at every level.
    assert_eq!(get("low_welfare_no_ai"), get("high_welfare_no_ai"));
}

#[test]
fn f6_an_output_tax_beats_input_regulation_at_equal_adoption() {
    let exec = CpuExecutor::new(0).unwrap();
    let stop = AtomicBool::new(false);
    let f = reproduce::measure_f6(&configs(), &exec, &stop, "facts_high_pollution.toml", (3_000, 6_000), 2, &|_| {})
        .unwrap();
    show(&f);
    let get = |n: &str| f.measures.iter().find(|m| m.name == n).unwrap().value;
    assert!(get("adoption_gap").abs() <= 0.03, "equal adoption reached: {}", get("adoption_gap"));
    assert!(f.holds, "welfare gain of the unit tax: {}", get("unit_minus_adoption_welfare"));
}

/// Six seeds of the paper's set-up (configs/paper_small.toml), run once for the paper tests.
fn paper_runs() -> &'static (Config, Vec<Run>) {
    static RUNS: OnceLock<(Config, Vec<Run>)> = OnceLock::new();
    RUNS.get_or_init(|| {
        let cfg = Config::load(&configs().join("paper_small.toml"), &[]).unwrap();
        let runs = (0..6)
            .map(|s| {
                let mut c = cfg.clone();
                c.top.seed = 1 + s;
                reproduce::run_sim(&c, &cpu, true).unwrap()
            })
            .collect();
        (cfg, runs)
    })
}

fn paper_rows() -> Vec<reproduce::PaperRow> {
    let rows = reproduce::paper_rows(&paper_runs().1);
    for r in &rows {
        eprintln!("{:<32} paper {:>8.4}  ours {:>8.4} ± {:.4}", r.name, r.paper, r.mean, r.sd);
    }
    rows
}

#[test]
fn paper_set_up_runs_q_learning_creators_through_the_shock() {
    let (cfg, runs) = paper_runs();
    assert_eq!((cfg.top.creators, cfg.top.buyers, cfg.technology.n_providers), (50, 1000, 3));
    let rows = paper_rows();
    let get = |n: &str| rows.iter().find(|r| r.name == n).unwrap();
    // Before the shock nobody explores, so nobody leaves human craft.
    for r in runs {
        let h = r.rec.get("share_human").unwrap();
        assert!(h[..cfg.technology.shock_step as usize].iter().all(|&v| v == 1.0), "all human before the shock");
        assert!(h[h.len() - 1] < 0.5, "most leave human craft after it");
    }
    // Re-skilling moves survivors' skill from technical to creative.
    assert!(get("survivor_creative_shift").mean > 0.0 && get("survivor_technical_shift").mean < 0.0);
    assert!(get("hhi_final").mean > get("hhi_pre").mean, "concentration rises");
}

/// The second pass (docs/model.md): the Q-learning opt-ins (rare exploration, an outside
/// option, fast forgetting, uncapped AI volume) give a recognition phase, then the
/// untalented leave human craft and the talented stay.
#[test]
fn paper_set_up_has_a_recognition_lag_then_the_talented_stay() {
    let (cfg, runs) = paper_runs();
    let rows = paper_rows();
    let get = |n: &str| rows.iter().find(|r| r.name == n).unwrap().mean;
    // 20 seeds (`hollow reproduce --only paper`): lag 25 +- 14 steps, survivors 26%,
    // HHI 0.027 -> 0.18, skill shifts -0.13 / +0.13.
    assert!(get("recognition_lag") >= 10.0, "a recognition lag: {}", get("recognition_lag"));
    let survivors = get("survivor_share");
    assert!((0.1..0.6).contains(&survivors), "survivors {survivors}");
    assert!(get("hhi_final") > 3.0 * get("hhi_pre"), "revenue concentrates");
    let shock = cfg.technology.shock_step as usize;
    for r in runs {
        // The talented stay: survivors' mean talent well above everyone's before the shock.
        let t = r.rec.get("mean_talent_human").unwrap();
        assert!(t[t.len() - 1] > 1.2 * t[shock - 1], "survivors' talent {} -> {}", t[shock - 1], t[t.len() - 1]);
    }
}

#[test]
fn model_collapse_erodes_the_ai_ceiling_and_hands_the_market_back_to_humans() {
    let mut cfg = config("baseline.toml", 3_000);
    cfg.collapse.enabled = true;
    let r = run(&cfg);
    let q = r.rec.get("qbar_a").unwrap();
    let shock = cfg.technology.shock_step as usize;
    assert_eq!(q[shock - 1], cfg.technology.qbar_a as f64, "no collapse before AI sells");
    assert!(q[q.len() - 1] < 0.5 * q[0], "synthetic sales erode the ceiling: {} -> {}", q[0], q[q.len() - 1]);
    let without = &base().0;
    assert!(
        r.outcomes.share_ai < 0.5 * without.outcomes.share_ai,
        "less AI: {} vs {}",
        r.outcomes.share_ai,
        without.outcomes.share_ai
    );
    assert!(r.outcomes.share_human > without.outcomes.share_human + 0.2, "humans return");
    // The mean field has the same collapse dynamics.
    let mf = hollow::layers::meanfield::run_meanfield(&cfg, Default::default());
    let o = hollow::observe::Outcomes::of(
        &mf,
        cfg.technology.shock_step,
        cfg.equilibrium.window as usize,
        cfg.equilibrium.tol as f64,
    );
    assert!(
        (o.share_ai - r.outcomes.share_ai).abs() < 0.05,
        "mean field AI share {} vs ABM {}",
        o.share_ai,
        r.outcomes.share_ai
    );
}
