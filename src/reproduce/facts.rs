//! The measurements of facts F1–F4 and F7 from single runs (`Run`), and the helpers the
//! other facts share: window means of a recorded metric, mean and sd over replicas, and
//! `scan`, which runs a config over one axis as a sweep of the engine (F5 and F6 are
//! scans; their measurements are in `f5` and `f6`).

use super::{Fact, ReproduceError, Run, m};
use crate::observe::{self, Outcomes, Recorder};
use crate::sweep::{Executor, Job, Spec};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

/// Mean of metric `name` over the last `window` recorded steps (NaN when none).
pub(super) fn tail_mean(rec: &Recorder, name: &str, window: usize) -> f64 {
    let v = rec.get(name).unwrap_or(&[]);
    let t = &v[v.len().saturating_sub(window.max(1))..];
    if t.is_empty() { f64::NAN } else { t.iter().sum::<f64>() / t.len() as f64 }
}

/// Mean of metric `name` over the `window` steps before step `shock` (NaN when none).
fn pre_mean(rec: &Recorder, name: &str, shock: usize, window: usize) -> f64 {
    let v = rec.get(name).unwrap_or(&[]);
    let hi = shock.min(v.len());
    let t = &v[hi.saturating_sub(window.max(1))..hi];
    if t.is_empty() { f64::NAN } else { t.iter().sum::<f64>() / t.len() as f64 }
}

/// F1: segment shares by talent decile after the shock.
pub fn measure_f1(b: &Run, mf: Option<&[[f64; 3]; 10]>) -> Fact {
    let d = &b.deciles;
    let mid_ai = (2..8).map(|i| d[i][1]).sum::<f64>() / 6.0;
    let peak = (0..10).max_by(|&i, &j| d[i][1].total_cmp(&d[j][1])).unwrap_or(0);
    let holds = d[0][0] > d[9][0] && d[9][2] > d[0][2] && mid_ai > d[9][1] && mid_ai > 0.0;
    let mut measures = vec![
        m("exit_bottom_decile", d[0][0], "1", "exit share of the lowest talent decile"),
        m("exit_top_decile", d[9][0], "1", "exit share of the highest talent decile"),
        m("ai_middle_deciles", mid_ai, "1", "mean AI share of deciles 3-8"),
        m("ai_top_decile", d[9][1], "1", "AI share of the highest decile"),
        m("ai_bottom_decile", d[0][1], "1", "AI share of the lowest decile"),
        m("ai_peak_decile", peak as f64 + 1.0, "decile", "decile (1-10) with the largest AI share"),
        m("human_bottom_decile", d[0][2], "1", "human share of the lowest decile"),
        m("human_top_decile", d[9][2], "1", "human share of the highest decile"),
    ];
    if let Some(mf) = mf {
        measures.push(m(
            "meanfield_ai_middle_deciles",
            (2..8).map(|i| mf[i][1]).sum::<f64>() / 6.0,
            "1",
            "the same in the mean field",
        ));
    }
    let mut series: Vec<(String, Vec<f64>)> = ["exit", "ai", "human"]
        .iter()
        .enumerate()
        .map(|(k, n)| (format!("decile_share_{n}"), (0..10).map(|i| d[i][k]).collect()))
        .collect();
    if let Some(mf) = mf {
        series.extend(
            ["exit", "ai", "human"]
                .iter()
                .enumerate()
                .map(|(k, n)| (format!("meanfield_decile_share_{n}"), (0..10).map(|i| mf[i][k]).collect())),
        );
    }
    Fact {
        id: "F1",
        title: "Bifurcation: segments order by talent",
        criterion: "exit share of the bottom decile > top decile; human share of the top decile > bottom decile; mean AI share of deciles 3-8 > AI share of the top decile".into(),
        holds,
        measures,
        series,
        figure: None,
    }
}

/// F2: the middle-class hollow in the quality distribution.
pub fn measure_f2(b: &Run) -> Fact {
    let shock = b.cfg.technology.shock_step;
    let q_max = b.cfg.market.q_max as f64;
    let qbar = b.cfg.technology.qbar_a as f64;
    let pre = b.rec.snapshots.iter().filter(|s| s.step < shock).max_by_key(|s| s.step);
    let post = b.rec.snapshots.iter().filter(|s| s.step >= shock).max_by_key(|s| s.step);
    let (Some(pre), Some(post)) = (pre, post) else {
        return Fact {
            id: "F2",
            title: "Middle-class hollow",
            criterion: "needs snapshots before and after the shock".into(),
            holds: false,
            measures: vec![],
            series: vec![],
            figure: None,
        };
    };
    let h = observe::hollow(pre, post, q_max, qbar);
    let holds = h.depth > 0.2 && h.ai_band_share > 0.5 && h.dip < 1.0;
    Fact {
        id: "F2",
        title: "Middle-class hollow",
        criterion: "hollow depth (1 - middle-tercile retention / top-tercile retention of human units) > 0.2; > 50% of AI units within 10% below the ceiling; a dip (< 1) between the AI band and the human mode".into(),
        holds,
        measures: vec![
            m("hollow_depth", h.depth, "1", "1 - r_mid / r_top, r = human units after / before by pre-shock tercile"),
            m("ai_band_share", h.ai_band_share, "1", "share of AI units within 10% below the AI ceiling"),
            m("quality_dip", h.dip, "1", "least density between the AI band and the human mode over the mode's density"),
            m("q33", h.q33, "quality", "lower edge of the pre-shock middle tercile"),
            m("q67", h.q67, "quality", "upper edge of the pre-shock middle tercile"),
        ],
        series: vec![
            ("human_units_pre".into(), pre.units_quality[1].clone()),
            ("human_units_post".into(), post.units_quality[1].clone()),
            ("ai_units_post".into(), post.units_quality[0].clone()),
            // The histograms' bin edges and the market curves' (the figure draws the
            // histograms on the curves' bins: within one curve bin every quality earns the
            // same, so how creators spread inside it is the best response's tie-breaking).
            ("quality_edges".into(), uniform_edges(q_max, pre.units_quality[1].len())),
            ("curve_edges".into(), uniform_edges(q_max, b.cfg.market.bins as usize)),
        ],
        figure: None,
    }
}

/// `n + 1` edges of `n` equal bins on [0, q_max].
fn uniform_edges(q_max: f64, n: usize) -> Vec<f64> {
    (0..=n).map(|i| q_max * i as f64 / n.max(1) as f64).collect()
}

/// F3: the non-monotonic transition (collapse, then selective recovery).
pub fn measure_f3(b: &Run, mf: Option<&Recorder>, control: Option<&Run>) -> Fact {
    let o = &b.outcomes;
    let shock = b.cfg.technology.shock_step as usize;
    let w = b.cfg.equilibrium.window as usize;
    let dip = |name: &str| {
        let v = b.rec.get(name).unwrap_or(&[]);
        let pre = pre_mean(&b.rec, name, shock, w);
        let fin = tail_mean(&b.rec, name, w);
        let min = v.get(shock..).unwrap_or(&[]).iter().cloned().fold(f64::INFINITY, f64::min);
        (pre, min, fin)
    };
    let (mp, mmin, mfin) = dip("matches");
    let (ap, amin, afin) = dip("active_buyers");
    let welfare_dip = o.welfare_min < o.welfare_pre.min(o.welfare_final) - 0.05 * o.welfare_pre.abs();
    let recovery = o.welfare_final - o.welfare_min > 0.1 * o.welfare_pre.abs();
    let holds = welfare_dip && recovery && o.collapse_duration >= 5.0;
    let mut series = vec![];
    for n in ["welfare", "active_buyers", "matches", "share_exit", "share_ai", "share_human"] {
        series.push((n.to_string(), b.rec.get(n).unwrap_or(&[]).to_vec()));
        if let Some(r) = mf {
            series.push((format!("meanfield_{n}"), r.get(n).unwrap_or(&[]).to_vec()));
        }
    }
    if let Some(c) = control {
        series.push(("control_welfare".into(), c.rec.get("welfare").unwrap_or(&[]).to_vec()));
    }
    Fact {
        id: "F3",
        title: "Non-monotonic transition: collapse, then selective recovery",
        criterion: "welfare after the shock falls below both the pre-shock and the final level by > 5% of pre-shock welfare, for >= 5 steps, and recovers by > 10% of it".into(),
        holds,
        measures: vec![
            m("welfare_pre", o.welfare_pre, "money/buyer", "mean welfare over the window before the shock"),
            m("welfare_min", o.welfare_min, "money/buyer", "lowest welfare after the shock"),
            m("welfare_final", o.welfare_final, "money/buyer", "mean welfare over the last window"),
            m("collapse_depth", o.collapse_depth, "1", "(pre - min) / |pre|"),
            m("collapse_duration", o.collapse_duration, "steps", "steps with welfare below both pre-shock and final levels"),
            m("matches_pre", mp, "1/buyer", "units bought per buyer before the shock"),
            m("matches_min", mmin, "1/buyer", "lowest after the shock"),
            m("matches_final", mfin, "1/buyer", "final"),
            m("active_pre", ap, "1", "active buyers before the shock"),
            m("active_min", amin, "1", "lowest after the shock"),
            m("active_final", afin, "1", "final"),
            m("settle_step", o.settle_step, "step", "first step of the settled window (NaN: never)"),
        ],
        series,
        figure: None,
    }
}

/// F4: asymmetric skill reconfiguration against the no-shock control.
pub fn measure_f4(b: &Run, control: Option<&Run>) -> Fact {
    let shock = b.cfg.technology.shock_step;
    let w = b.cfg.equilibrium.window as usize;
    let (q_max, qbar) = (b.cfg.market.q_max as f64, b.cfg.technology.qbar_a as f64);
    let shift = observe::fact_outcome(&b.rec, "x_human_shift", shock, w, q_max, qbar).unwrap_or(f64::NAN);
    let cshift =
        control.and_then(|c| observe::fact_outcome(&c.rec, "x_human_shift", shock, w, q_max, qbar)).unwrap_or(f64::NAN);
    let x_ai = tail_mean(&b.rec, "mean_x_ai", w);
    let holds = shift - cshift.max(0.0) > 0.02;
    // No AI creators, no mean: NaN (not plotted) rather than the metric's 0.
    let x_ai_series: Vec<f64> = b
        .rec
        .get("mean_x_ai")
        .unwrap_or(&[])
        .iter()
        .zip(b.rec.get("share_ai").unwrap_or(&[]))
        .map(|(&x, &s)| if s > 0.0 { x } else { f64::NAN })
        .collect();
    let mut series = vec![
        ("mean_x_human".into(), b.rec.get("mean_x_human").unwrap_or(&[]).to_vec()),
        ("mean_x_ai".into(), x_ai_series),
    ];
    if let Some(c) = control {
        series.push(("control_mean_x_human".into(), c.rec.get("mean_x_human").unwrap_or(&[]).to_vec()));
    }
    Fact {
        id: "F4",
        title: "Asymmetric skill reconfiguration",
        criterion:
            "human creators' mean creative share rises by > 0.02 more after the shock than in the no-shock control"
                .into(),
        holds,
        measures: vec![
            m("x_human_shift", shift, "1", "change of human creators' mean creative share, pre-shock to final window"),
            m("control_x_human_shift", cshift, "1", "the same in the no-shock control"),
            m(
                "x_human_final",
                tail_mean(&b.rec, "mean_x_human", w),
                "1",
                "final mean creative share of human creators",
            ),
            m("x_ai_final", x_ai, "1", "final mean creative share of AI creators"),
        ],
        series,
        figure: None,
    }
}

/// F7: revenue concentration rises after the shock.
pub fn measure_f7(b: &Run, control: Option<&Run>) -> Fact {
    let o = &b.outcomes;
    let mut series = vec![("hhi".into(), b.rec.get("hhi").unwrap_or(&[]).to_vec())];
    let mut measures = vec![
        m("hhi_pre", o.hhi_pre, "1", "revenue HHI before the shock"),
        m("hhi_final", o.hhi_final, "1", "revenue HHI over the last window"),
        m("hhi_ratio", o.hhi_final / o.hhi_pre.max(1e-300), "1", "final over pre-shock"),
    ];
    if let Some(c) = control {
        series.push(("control_hhi".into(), c.rec.get("hhi").unwrap_or(&[]).to_vec()));
        measures.push(m("control_hhi_final", c.outcomes.hhi_final, "1", "the no-shock control's final HHI"));
    }
    Fact {
        id: "F7",
        title: "Concentration: revenue HHI rises after the shock",
        criterion: "final revenue HHI > 1.5 x the pre-shock HHI".into(),
        holds: o.hhi_final > 1.5 * o.hhi_pre,
        measures,
        series,
        figure: None,
    }
}

/// Runs replicas `0..replicas` of config `base` (a file in `configs`) with `sets` applied,
/// at each value of `axis`, as a sweep of the engine on `exec` (so these scans are the
/// same runs `hollow sweep` would make, on any executor). Returns the outcomes by axis
/// value and replica. Replica r has the same seed at every value (common random numbers).
pub fn scan(
    configs: &Path,
    exec: &dyn Executor,
    stop: &AtomicBool,
    base: &str,
    sets: &[String],
    axis: (&str, &[f64]),
    replicas: u32,
) -> Result<Vec<Vec<Outcomes>>, ReproduceError> {
    let mut text = format!(
        "base = {base:?}\nreplicas = {replicas}\nseeds = \"common\"\nmetrics = [\"welfare_final\"]\n\
         [[axis]]\nkey = {:?}\nvalues = {:?}\n[set]\n",
        axis.0, axis.1
    );
    for s in sets {
        let (k, v) = s.split_once('=').unwrap_or((s, ""));
        let _ = writeln!(text, "{k} = {v}");
    }
    let name = format!("{base} over {}", axis.0);
    let spec = Spec::from_str_named(&text, &name, configs).map_err(|e| ReproduceError::Other(e.to_string()))?;
    let jobs: Vec<Job> =
        (0..axis.1.len()).flat_map(|cell| (0..replicas).map(move |replica| Job { cell, replica })).collect();
    let got: Mutex<Vec<Option<Result<Outcomes, String>>>> = Mutex::new(vec![None; jobs.len()]);
    exec.run(&spec, &jobs, stop, &|i, r| {
        got.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r.map(|f| f.outcomes).map_err(|e| e.to_string()));
    })
    .map_err(|e| ReproduceError::Other(format!("{name}: {e}")))?;
    let got = got.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut out = vec![Vec::with_capacity(replicas as usize); axis.1.len()];
    for (job, r) in jobs.iter().zip(got) {
        match r {
            Some(Ok(o)) => out[job.cell].push(o),
            Some(Err(e)) => return Err(ReproduceError::Other(format!("{name}: {e}"))),
            None => return Err(ReproduceError::Other(format!("{name}: a run did not finish (stopped)"))),
        }
    }
    Ok(out)
}

/// Mean and sample sd of `v` (NaN when empty; sd NaN with fewer than two values).
pub(super) fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 { (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { f64::NAN };
    (m, sd)
}
