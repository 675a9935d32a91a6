//! The scenario set-up of a reproduction: loading the configs of `--configs`, the
//! populations of each `Scale`, and the paper's set-up (configs/paper_small.toml) with
//! its nine headline numbers (`paper_rows`, one `PaperRow` each). The runs themselves are
//! made by `run_sim` (mod.rs).

use super::facts::tail_mean;
use super::{ReproduceError, Run, Scale};
use crate::config::Config;
use crate::state::{EXIT, HUMAN};
use std::path::Path;

/// One of the paper's headline numbers beside ours.
#[derive(Clone, Debug)]
pub struct PaperRow {
    pub name: &'static str,
    pub paper: f64,
    pub mean: f64,
    pub sd: f64,
    pub unit: &'static str,
    pub definition: &'static str,
}

/// Loads scenario `name` from `dir` with the `key=value` overrides `sets`.
pub(super) fn load(dir: &Path, name: &str, sets: &[String]) -> Result<Config, ReproduceError> {
    Ok(Config::load(&dir.join(name), sets)?)
}

/// Population overrides of a scale: (base runs, sweep runs); `None` keeps the config's.
pub(super) fn sizes(scale: Scale) -> (Option<(u32, u32)>, (u32, u32)) {
    match scale {
        Scale::Small => (Some((10_000, 20_000)), (5_000, 10_000)),
        Scale::Full => (None, (100_000, 200_000)),
    }
}

/// `cfg` with the population `size` (creators, buyers); `None` keeps the config's.
pub(super) fn with_size(mut cfg: Config, size: Option<(u32, u32)>) -> Config {
    if let Some((c, b)) = size {
        cfg.top.creators = c;
        cfg.top.buyers = b;
    }
    cfg
}

/// The paper's headline numbers from replicas of configs/paper_small.toml.
pub fn paper_rows(runs: &[Run]) -> Vec<PaperRow> {
    let per: Vec<[f64; 9]> = runs.iter().map(paper_numbers).collect();
    let stat = |k: usize| {
        let v: Vec<f64> = per.iter().map(|p| p[k]).filter(|x| x.is_finite()).collect();
        let n = v.len() as f64;
        if v.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        let mean = v.iter().sum::<f64>() / n;
        let sd = if v.len() > 1 { (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
        (mean, sd)
    };
    let rows: [(&str, f64, &str, &str); 9] = [
        (
            "recognition_lag",
            40.0,
            "steps",
            "steps after the shock until the human share of creators first falls below 95% of its pre-shock level (paper: human share ~98% over T = 0-40)",
        ),
        (
            "median_human_revenue_collapse",
            -0.892,
            "1",
            "lowest 10-step mean of the median human creator's revenue after the shock, relative to the 10 steps before it",
        ),
        ("survivor_share", 0.18, "1", "share of creators in human craft at the end"),
        (
            "final_human_share",
            0.164,
            "1",
            "human share of units sold over the last window (the paper's 'human share settles at 16.4%')",
        ),
        (
            "survivor_technical_shift",
            -0.120,
            "skill",
            "survivors' mean change of technical skill S (1 - x), pre-shock to end",
        ),
        ("survivor_creative_shift", 0.148, "skill", "survivors' mean change of creative skill S x"),
        (
            "creative_technical_ratio",
            2.71,
            "1",
            "survivors' mean x / (1 - x) over that of creators who exited, at the end",
        ),
        ("hhi_pre", 0.0174, "1", "revenue HHI before the shock"),
        ("hhi_final", 0.1462, "1", "revenue HHI over the last window"),
    ];
    rows.iter()
        .enumerate()
        .map(|(k, &(name, paper, unit, definition))| {
            let (mean, sd) = stat(k);
            PaperRow { name, paper, mean, sd, unit, definition }
        })
        .collect()
}

/// The nine numbers of one replica, in `paper_rows` order.
fn paper_numbers(r: &Run) -> [f64; 9] {
    let shock = r.cfg.technology.shock_step as usize;
    let w = r.cfg.equilibrium.window as usize;
    let hs = r.rec.get("share_human").unwrap_or(&[]);
    let pre_h = if shock > 0 && shock <= hs.len() { hs[shock - 1] } else { f64::NAN };
    let lag = hs
        .iter()
        .enumerate()
        .skip(shock)
        .find(|(_, v)| **v < 0.95 * pre_h)
        .map_or(f64::NAN, |(t, _)| (t - shock) as f64);
    let mr = &r.median_human_revenue;
    let smooth = |lo: usize| {
        mr[lo..(lo + 10).min(mr.len())].iter().sum::<f64>() / (lo + 10).min(mr.len()).saturating_sub(lo).max(1) as f64
    };
    let pre_rev = if shock >= 10 { smooth(shock - 10) } else { f64::NAN };
    let min_rev = (shock..mr.len().saturating_sub(9)).map(smooth).fold(f64::INFINITY, f64::min);
    let collapse = if pre_rev > 0.0 && min_rev.is_finite() { (min_rev - pre_rev) / pre_rev } else { f64::NAN };
    let survivor = tail_mean(&r.rec, "share_human", 1);
    let sold_h = tail_mean(&r.rec, "ai_sold_share", w);
    let final_human = 1.0 - sold_h;
    let (mut dt, mut ds, mut n) = (0.0, 0.0, 0.0);
    let (mut ratio_s, mut ns, mut ratio_e, mut ne) = (0.0, 0.0, 0.0, 0.0);
    if let (Some(pre), Some(end)) = (&r.pre, &r.end) {
        for i in 0..end.creators.len() {
            let s = end.creators.talent[i] as f64;
            let (x0, x1) = (pre.creators.x[i] as f64, end.creators.x[i] as f64);
            let ratio = x1 / (1.0 - x1).max(1e-9);
            if end.creators.mode[i] == HUMAN {
                dt += s * ((1.0 - x1) - (1.0 - x0));
                ds += s * (x1 - x0);
                n += 1.0;
                ratio_s += ratio;
                ns += 1.0;
            } else if end.creators.mode[i] == EXIT {
                ratio_e += ratio;
                ne += 1.0;
            }
        }
    }
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let ratio = div(div(ratio_s, ns), div(ratio_e, ne));
    [lag, collapse, survivor, final_human, div(dt, n), div(ds, n), ratio, r.outcomes.hhi_pre, r.outcomes.hhi_final]
}
