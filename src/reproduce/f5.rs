//! Fact F5: welfare against AI expansion at three pollution levels. Owns the cost-scale
//! grid, the curves (from sweeps of the engine, or from the mean field for comparison),
//! how levels share runs, and the regime classification of each curve.

use super::facts::{mean_sd, scan};
use super::setup::load;
use super::{Fact, Measure, ReproduceError, m};
use crate::config::Config;
use crate::layers::meanfield::MeanFieldOptions;
use crate::model::welfare::{ExpansionRegime, expansion_regime};
use crate::observe::Outcomes;
use crate::sweep::Executor;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// The AI cost scales of the F5 sweep: two decades, log-spaced, denser in the middle
/// decade where AI entry sets in.
pub const F5_SCALES: &[f64] = &[0.1, 0.15, 0.22, 0.32, 0.46, 0.6, 0.8, 1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.6, 6.8, 10.0];
/// A cost scale at which no AI enters: F5's no-AI reference.
pub const F5_NO_AI: f64 = 100.0;

/// One pollution level of F5: welfare and the flood by cost scale (ascending, the no-AI
/// scale last) and replica.
#[derive(Clone, Debug)]
pub struct F5Curve {
    /// "low", "high" or "severe".
    pub tag: String,
    pub pollution: f64,
    pub scales: Vec<f64>,
    /// `welfare[i][r]`: final welfare at `scales[i]` in replica r.
    pub welfare: Vec<Vec<f64>>,
    /// Means over replicas: AI share of creators, AI units per buyer, congestion per buyer.
    pub share_ai: Vec<f64>,
    pub units_ai: Vec<f64>,
    pub congestion: Vec<f64>,
}

/// The F5 levels: configs whose market.pollution sets the level.
pub const F5_LEVELS: [(&str, &str); 3] = [
    ("low", "facts_low_pollution.toml"),
    ("high", "facts_high_pollution.toml"),
    ("severe", "facts_severe_pollution.toml"),
];

/// The F5 curves of `F5_LEVELS` at `size` (creators, buyers) with `replicas` replicas,
/// run as sweeps on `exec` (see `f5_assemble` for how levels share runs).
pub fn f5_curves(
    configs: &Path,
    exec: &dyn Executor,
    stop: &AtomicBool,
    size: (u32, u32),
    replicas: u32,
    say: &dyn Fn(&str),
) -> Result<Vec<F5Curve>, ReproduceError> {
    let sets = [format!("creators={}", size.0), format!("buyers={}", size.1)];
    f5_assemble(configs, &sets, &|name, scales| {
        say(&format!("F5 {name}: {} cost scales x {replicas} replicas", scales.len()));
        scan(configs, exec, stop, name, &sets, ("technology.ai_cost_scale", scales), replicas)
    })
}

/// The F5 curves of the mean field (one "replica" per point: it is deterministic), for
/// the configs' economics at `size` (the mean field's own closures do not depend on N, but
/// the config's population sets which curve cells count as observed).
pub fn f5_curves_meanfield(configs: &Path, size: (u32, u32)) -> Result<Vec<F5Curve>, ReproduceError> {
    use rayon::prelude::*;
    let sets = [format!("creators={}", size.0), format!("buyers={}", size.1)];
    f5_assemble(configs, &sets, &|name, scales| {
        let cfg = load(configs, name, &sets)?;
        Ok(scales
            .par_iter()
            .map(|&s| {
                let mut c = cfg.clone();
                c.technology.ai_cost_scale = s as f32;
                let rec = crate::layers::meanfield::run_meanfield(&c, MeanFieldOptions::default());
                let e = &c.equilibrium;
                vec![Outcomes::of(&rec, c.technology.shock_step, e.window as usize, e.tol as f64)]
            })
            .collect())
    })
}

/// Runs a config (by name) at each AI cost scale: outcomes by scale and replica.
type RunScales<'a> = dyn Fn(&str, &[f64]) -> Result<Vec<Vec<Outcomes>>, ReproduceError> + 'a;

/// F5's curves from `run(config name, scales)`, which gives outcomes by scale and replica.
/// Pollution enters only the welfare accounting unless congestion_in_participation is set
/// (MODEL.md), so levels whose configs differ from the high level's only in
/// market.pollution reuse its runs: W(beta) = W(beta_run) + (beta_run - beta) L, L the
/// run's congestion load ln(1 + cong_eta D_A) (its congestion cost over beta_run). Any
/// other level is run on its own.
fn f5_assemble(configs: &Path, sets: &[String], run: &RunScales) -> Result<Vec<F5Curve>, ReproduceError> {
    let mut scales: Vec<f64> = F5_SCALES.to_vec();
    scales.push(F5_NO_AI);
    let cfgs: Vec<Config> = F5_LEVELS.iter().map(|(_, f)| load(configs, f, sets)).collect::<Result<_, _>>()?;
    let behaviour = |c: &Config| {
        let mut c = c.clone();
        c.market.pollution = 0.0;
        c
    };
    let hi = 1;
    let high = (cfgs[hi].market.pollution as f64, run(F5_LEVELS[hi].1, &scales)?);
    let mut out = Vec::new();
    for (k, (tag, name)) in F5_LEVELS.iter().enumerate() {
        let c = &cfgs[k];
        let pollution = c.market.pollution as f64;
        let reuse =
            k == hi || (!c.market.congestion_in_participation && high.0 > 0.0 && behaviour(c) == behaviour(&cfgs[hi]));
        let (b_run, runs) = if reuse { (high.0, high.1.clone()) } else { (pollution, run(name, &scales)?) };
        // Welfare at this level from a run at b_run: only the congestion term differs.
        let load = |o: &Outcomes| if b_run > 0.0 { o.congestion_final / b_run } else { 0.0 };
        let at = |o: &Outcomes| if reuse { o.welfare_final + (b_run - pollution) * load(o) } else { o.welfare_final };
        let mean = |f: &dyn Fn(&Outcomes) -> f64, v: &[Outcomes]| v.iter().map(f).sum::<f64>() / v.len().max(1) as f64;
        out.push(F5Curve {
            tag: tag.to_string(),
            pollution,
            scales: scales.clone(),
            welfare: runs.iter().map(|v| v.iter().map(at).collect()).collect(),
            share_ai: runs.iter().map(|v| mean(&|o| o.share_ai, v)).collect(),
            units_ai: runs.iter().map(|v| mean(&|o| o.units_ai_final, v)).collect(),
            congestion: runs
                .iter()
                .map(|v| mean(&|o| if reuse { pollution * load(o) } else { o.congestion_final }, v))
                .collect(),
        });
    }
    Ok(out)
}

/// Differences of welfare below this count as ties in F5's regimes (money per buyer).
pub const F5_TOL: f64 = crate::model::welfare::EXPANSION_TOL;

/// The shape of one F5 curve: its regime, the index of its peak along rising expansion
/// over the AI-present scales, and those scales. `None` when AI never enters.
fn f5_shape(c: &F5Curve) -> Option<(ExpansionRegime, usize, Vec<f64>)> {
    let n = c.scales.len();
    let mean = |i: usize| mean_sd(&c.welfare[i]).0;
    let no_ai = mean(n - 1);
    // AI-present points, by rising expansion (falling s).
    let idx: Vec<usize> = (0..n - 1).rev().filter(|&i| c.share_ai[i] > 0.005).collect();
    let w: Vec<f64> = idx.iter().map(|&i| mean(i)).collect();
    let (regime, peak) = expansion_regime(&w, no_ai, F5_TOL)?;
    Some((regime, peak, idx.iter().map(|&i| c.scales[i]).collect()))
}

/// F5: welfare against AI expansion at low, high and severe pollution. Holds when the low
/// level shows monotone gains and the high level an inverted U (an interior peak above both
/// the no-AI run and the most expansion); the severe level's regime is reported (the third
/// regime, AI harmful from its first entry, where it exists).
pub fn measure_f5(curves: &[F5Curve]) -> Fact {
    let mut measures = Vec::new();
    let mut series = Vec::new();
    let mut regimes = Vec::new();
    for c in curves {
        let t = &c.tag;
        let shape = f5_shape(c);
        let n = c.scales.len();
        let r = c.welfare.first().map_or(0, |v| v.len());
        measures.push(m(&format!("{t}_pollution"), c.pollution, "1", "pollution intensity beta"));
        let regime = shape.as_ref().map(|s| s.0);
        regimes.push(regime);
        measures.push(Measure {
            name: format!("{t}_regime"),
            value: regime.map_or(f64::NAN, |g| g.index() as f64),
            unit: "category",
            meaning: format!(
                "{} ({})",
                regime.map_or("AI never enters", |g| g.label()),
                ExpansionRegime::LABELS
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("{i} {l}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
        let no_ai = mean_sd(&c.welfare[n - 1]);
        measures.push(m(&format!("{t}_welfare_no_ai"), no_ai.0, "money/buyer", "welfare without AI (s = 100), mean"));
        measures.push(m(&format!("{t}_welfare_no_ai_sd"), no_ai.1, "money/buyer", "its sd over replicas"));
        let end = mean_sd(&c.welfare[0]);
        measures.push(m(&format!("{t}_welfare_most_expansion"), end.0, "money/buyer", "welfare at s = 0.1, mean"));
        // The peak per replica, over the AI-present scales.
        if let Some((_, peak, sc)) = &shape {
            let present: Vec<usize> = (0..n - 1).filter(|&i| c.share_ai[i] > 0.005).collect();
            let per: Vec<(f64, f64, f64, f64)> = (0..r)
                .map(|k| {
                    let (i, w) = present
                        .iter()
                        .map(|&i| (i, c.welfare[i][k]))
                        .fold((usize::MAX, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
                    (c.scales[i], w, w - c.welfare[n - 1][k], w - c.welfare[0][k])
                })
                .collect();
            let col = |f: fn(&(f64, f64, f64, f64)) -> f64| per.iter().map(f).collect::<Vec<f64>>();
            let (pw, pw_sd) = mean_sd(&col(|p| p.1));
            let (pn, pn_sd) = mean_sd(&col(|p| p.2));
            let (pe, pe_sd) = mean_sd(&col(|p| p.3));
            let ps = col(|p| p.0);
            measures.push(m(&format!("{t}_peak_scale"), sc[*peak], "1", "cost scale s of the mean curve's peak"));
            measures.push(m(
                &format!("{t}_peak_scale_min"),
                ps.iter().cloned().fold(f64::INFINITY, f64::min),
                "1",
                "smallest s of a replica's peak",
            ));
            measures.push(m(
                &format!("{t}_peak_scale_max"),
                ps.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                "1",
                "largest s of a replica's peak",
            ));
            measures.push(m(&format!("{t}_welfare_peak"), pw, "money/buyer", "a replica's highest welfare, mean"));
            measures.push(m(&format!("{t}_welfare_peak_sd"), pw_sd, "money/buyer", "its sd over replicas"));
            measures.push(m(&format!("{t}_peak_minus_no_ai"), pn, "money/buyer", "peak minus no-AI welfare, mean"));
            measures.push(m(&format!("{t}_peak_minus_no_ai_sd"), pn_sd, "money/buyer", "its sd over replicas"));
            measures.push(m(&format!("{t}_peak_minus_most_expansion"), pe, "money/buyer", "peak minus s = 0.1, mean"));
            measures.push(m(&format!("{t}_peak_minus_most_expansion_sd"), pe_sd, "money/buyer", "its sd"));
        }
        let means: Vec<f64> = c.welfare.iter().map(|v| mean_sd(v).0).collect();
        let sds: Vec<f64> = c.welfare.iter().map(|v| mean_sd(v).1).collect();
        series.push((format!("{t}_scale"), c.scales.clone()));
        series.push((format!("{t}_welfare"), means));
        series.push((format!("{t}_welfare_sd"), sds));
        series.push((format!("{t}_share_ai"), c.share_ai.clone()));
        series.push((format!("{t}_units_ai"), c.units_ai.clone()));
        series.push((format!("{t}_congestion"), c.congestion.clone()));
    }
    let at = |tag: &str| curves.iter().position(|c| c.tag == tag).and_then(|i| regimes[i]);
    Fact {
        id: "F5",
        title: "Pollution decides welfare: monotone gains at low pollution, inverted U at high",
        criterion: format!(
            "welfare by AI expansion (16 cost scales s from 10 to 0.1, no-AI run at s = 100, mean over replicas; \
             differences below {F5_TOL} are ties): monotone gains at the low pollution level; at the high level an \
             inverted U, an interior peak above both the no-AI run and the most expansion"
        ),
        holds: at("low") == Some(ExpansionRegime::MonotoneGains) && at("high") == Some(ExpansionRegime::InvertedU),
        measures,
        series,
        figure: None,
    }
}
