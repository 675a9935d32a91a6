//! `hollow reproduce`: runs the fact scenarios (configs/baseline.toml, no_shock.toml,
//! facts_low_pollution.toml, facts_high_pollution.toml and paper_small.toml), measures
//! the stylized facts F1–F7 of MODEL.md and the paper's headline numbers, and writes
//! `facts.h5`, `facts.md`, `facts.csv` and one PNG per fact. Each fact's measurement and
//! its pass criterion are defined here once (`measure_*`), so the tests in tests/facts.rs,
//! the summary and the docs all read the same numbers.

use crate::backend::Backend;
use crate::config::{Config, ConfigError};
use crate::io::plot::{self, AI_C, EXIT_C, FigureError, HUMAN_C, PALETTE, Panel, Series, Style};
use crate::io::tables::{TableError, TableFile};
use crate::model::meanfield::{MeanField, MeanFieldOptions};
use crate::model::welfare::{ExpansionRegime, expansion_regime};
use crate::observe::{self, Outcomes, Recorder, SNAP_BINS};
use crate::sim::Simulation;
use crate::state::{EXIT, HUMAN, State};
use crate::sweep::{Executor, Job, Spec};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

/// How big the fact runs are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Minutes on two CPU cores: 10^4 creators in the base runs, 5 x 10^3 in the sweeps.
    Small,
    /// The configs' own populations in the base runs (10^6), 10^5 in the sweeps.
    Full,
}

/// Options of a reproduction.
#[derive(Clone, Debug)]
pub struct Options {
    pub out: PathBuf,
    pub scale: Scale,
    /// Replicas (seeds) of the paper's set-up.
    pub replicas: u32,
    /// Replicas (seeds) of every point of the F5 and F6 scans.
    pub fact_replicas: u32,
    /// Fact ids to run ("F1".."F7", "paper"); empty runs all.
    pub only: Vec<String>,
    /// Directory of the scenario configs.
    pub configs: PathBuf,
    /// No progress lines on stderr.
    pub quiet: bool,
}

/// Builds a backend over a state for a config (the CLI's `make_backend`).
pub type MakeBackend<'a> = dyn Fn(State, &Config) -> Result<Box<dyn Backend>, String> + 'a;

/// What went wrong in a reproduction; every message names the file or scenario.
#[derive(Debug, thiserror::Error)]
pub enum ReproduceError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Figure(#[from] FigureError),
    #[error("{0}")]
    Other(String),
}

/// One measured number of a fact.
#[derive(Clone, Debug)]
pub struct Measure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub meaning: String,
}

fn m(name: &str, value: f64, unit: &'static str, meaning: &str) -> Measure {
    Measure { name: name.to_string(), value, unit, meaning: meaning.to_string() }
}

/// A fact's measurement.
#[derive(Clone, Debug)]
pub struct Fact {
    pub id: &'static str,
    pub title: &'static str,
    /// The pass criterion in words, and whether it is met.
    pub criterion: String,
    pub holds: bool,
    pub measures: Vec<Measure>,
    /// Series behind the figure, stored in the HDF5 group.
    pub series: Vec<(String, Vec<f64>)>,
    pub figure: Option<PathBuf>,
}

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

/// Everything a reproduction measured.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub facts: Vec<Fact>,
    pub paper: Vec<PaperRow>,
    pub files: Vec<PathBuf>,
}

/// A finished simulation with what the facts need.
pub struct Run {
    pub cfg: Config,
    pub rec: Recorder,
    pub outcomes: Outcomes,
    /// Share of each talent decile (rows) in (exit, AI, human), mean over the last window.
    pub deciles: [[f64; 3]; 10],
    /// States at the step before the shock and at the end (when asked for).
    pub pre: Option<State>,
    pub end: Option<State>,
    /// Median revenue of human creators per step (when asked for).
    pub median_human_revenue: Vec<f64>,
}

/// Runs `cfg` to its end; `detail` also keeps states and the median human revenue
/// (small populations only: it copies the state every step).
pub fn run_sim(cfg: &Config, make: &MakeBackend, detail: bool) -> Result<Run, ReproduceError> {
    let mut err = None;
    let mut sim = Simulation::new(cfg.clone(), |s| match make(s.clone(), cfg) {
        Ok(b) => b,
        Err(e) => {
            err = Some(e);
            Box::new(crate::backend::cpu::CpuBackend::new(s, 1))
        }
    });
    if let Some(e) = err {
        return Err(ReproduceError::Other(format!("backend: {e}")));
    }
    let steps = cfg.top.steps;
    let shock = cfg.technology.shock_step;
    let window = cfg.equilibrium.window as usize;
    let mut rec = Recorder::new();
    let mut dec = [[0.0f64; 3]; 10];
    let mut dec_n = 0.0f64;
    let mut out = Run {
        cfg: cfg.clone(),
        rec: Recorder::new(),
        outcomes: Outcomes::default(),
        deciles: [[0.0; 3]; 10],
        pre: None,
        end: None,
        median_human_revenue: Vec::new(),
    };
    while sim.t < steps {
        let t = sim.t;
        let (s, snap) = sim.step();
        if t + window as u32 >= steps {
            for d in 0..10 {
                let n: u64 = s.totals.decile_mode[d].iter().sum();
                for mo in 0..3 {
                    dec[d][mo] += s.totals.decile_mode[d][mo] as f64 / n.max(1) as f64;
                }
            }
            dec_n += 1.0;
        }
        rec.push(&s);
        if let Some(snap) = snap {
            rec.snapshots.push(snap);
        }
        if detail {
            let st = sim.backend().state();
            let mut rev: Vec<f32> = (0..st.creators.len())
                .filter(|&i| st.creators.mode[i] == HUMAN)
                .map(|i| st.creators.revenue[i])
                .collect();
            rev.sort_by(f32::total_cmp);
            out.median_human_revenue.push(if rev.is_empty() { 0.0 } else { rev[rev.len() / 2] as f64 });
            if t + 1 == shock.min(steps) {
                out.pre = Some(st.clone());
            }
            if t + 1 == steps {
                out.end = Some(st);
            }
        }
    }
    for row in dec.iter_mut() {
        for v in row.iter_mut() {
            *v /= dec_n.max(1.0);
        }
    }
    out.deciles = dec;
    out.outcomes = sim.outcomes(&rec);
    out.rec = rec;
    Ok(out)
}

fn load(dir: &Path, name: &str, sets: &[String]) -> Result<Config, ReproduceError> {
    Ok(Config::load(&dir.join(name), sets)?)
}

/// Population overrides of a scale: (base runs, sweep runs); `None` keeps the config's.
fn sizes(scale: Scale) -> (Option<(u32, u32)>, (u32, u32)) {
    match scale {
        Scale::Small => (Some((10_000, 20_000)), (5_000, 10_000)),
        Scale::Full => (None, (100_000, 200_000)),
    }
}

fn with_size(mut cfg: Config, size: Option<(u32, u32)>) -> Config {
    if let Some((c, b)) = size {
        cfg.top.creators = c;
        cfg.top.buyers = b;
    }
    cfg
}

/// The AI cost scales of the F5 sweep: two decades, log-spaced, denser in the middle
/// decade where AI entry sets in.
pub const F5_SCALES: &[f64] = &[0.1, 0.15, 0.22, 0.32, 0.46, 0.6, 0.8, 1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.6, 6.8, 10.0];
/// A cost scale at which no AI enters: F5's no-AI reference.
pub const F5_NO_AI: f64 = 100.0;

/// Runs everything `opts` asks for and writes the outputs: single runs through `make`,
/// the F5 and F6 scans as sweeps on `exec`.
pub fn reproduce(
    opts: &Options,
    make: &MakeBackend,
    exec: &dyn Executor,
    stop: &AtomicBool,
) -> Result<Report, ReproduceError> {
    if !opts.out.is_dir() {
        std::fs::create_dir_all(&opts.out).map_err(|e| {
            ReproduceError::Other(format!("{}: cannot create the output directory: {e}", opts.out.display()))
        })?;
    }
    let want = |id: &str| opts.only.is_empty() || opts.only.iter().any(|o| o.eq_ignore_ascii_case(id));
    let say = |s: &str| {
        if !opts.quiet {
            eprintln!("reproduce: {s}");
        }
    };
    let (base_size, sweep_size) = sizes(opts.scale);
    let mut report = Report::default();
    let need_base = ["F1", "F2", "F3", "F4", "F7"].iter().any(|f| want(f));
    if need_base {
        let base = with_size(load(&opts.configs, "baseline.toml", &[])?, base_size);
        say(&format!("base scenario ({} creators, {} steps)", base.top.creators, base.top.steps));
        let b = run_sim(&base, make, false)?;
        let control = if want("F4") || want("F7") || want("F3") {
            let c = with_size(load(&opts.configs, "no_shock.toml", &[])?, base_size);
            say("no-shock control");
            Some(run_sim(&c, make, false)?)
        } else {
            None
        };
        let mf = if want("F1") || want("F3") {
            say("mean field of the base scenario");
            let mut mf = MeanField::new(&base, MeanFieldOptions::default());
            let mut rec = Recorder::new();
            mf.run(base.top.steps, &mut rec);
            Some((mf.decile_shares(), rec))
        } else {
            None
        };
        if want("F1") {
            report.facts.push(measure_f1(&b, mf.as_ref().map(|m| &m.0)));
        }
        if want("F2") {
            report.facts.push(measure_f2(&b));
        }
        if want("F3") {
            report.facts.push(measure_f3(&b, mf.as_ref().map(|m| &m.1), control.as_ref()));
        }
        if want("F4") {
            report.facts.push(measure_f4(&b, control.as_ref()));
        }
        if want("F7") {
            report.facts.push(measure_f7(&b, control.as_ref()));
        }
    }
    if want("F5") {
        let curves = f5_curves(&opts.configs, exec, stop, sweep_size, opts.fact_replicas, &say)?;
        let mut f = measure_f5(&curves);
        say("F5 in the mean field");
        let mf = measure_f5(&f5_curves_meanfield(&opts.configs, sweep_size)?);
        for x in mf.measures.iter().filter(|x| x.name.ends_with("_regime") || x.name.ends_with("_peak_scale")) {
            f.measures.push(Measure {
                name: format!("meanfield_{}", x.name),
                meaning: format!("mean field: {}", x.meaning),
                ..x.clone()
            });
        }
        report.facts.push(f);
    }
    if want("F6") {
        let f =
            measure_f6(&opts.configs, exec, stop, "facts_high_pollution.toml", sweep_size, opts.fact_replicas, &say)?;
        report.facts.push(f);
    }
    if want("paper") {
        let cfg = load(&opts.configs, "paper_small.toml", &[])?;
        say(&format!("paper set-up, {} replicas", opts.replicas));
        let mut runs = Vec::new();
        for r in 0..opts.replicas.max(1) {
            let mut c = cfg.clone();
            c.top.seed = cfg.top.seed.wrapping_add(r as u64);
            runs.push(run_sim(&c, make, true)?);
        }
        report.paper = paper_rows(&runs);
        report.files.push(paper_figure(&opts.out, &runs)?);
    }
    for f in report.facts.iter_mut() {
        let path = opts.out.join(format!("{}.png", f.id));
        draw_fact(&path, f)?;
        f.figure = Some(path.clone());
        report.files.push(path);
    }
    write_outputs(&opts.out, &report)?;
    report.files.extend(["facts.h5", "facts.md", "facts.csv"].iter().map(|n| opts.out.join(n)));
    Ok(report)
}

fn tail_mean(rec: &Recorder, name: &str, window: usize) -> f64 {
    let v = rec.get(name).unwrap_or(&[]);
    let t = &v[v.len().saturating_sub(window.max(1))..];
    if t.is_empty() { f64::NAN } else { t.iter().sum::<f64>() / t.len() as f64 }
}

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
        ],
        figure: None,
    }
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

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 { (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { f64::NAN };
    (m, sd)
}

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
                let rec = crate::model::meanfield::run_meanfield(&c, MeanFieldOptions::default());
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

/// A policy regime of F6: its outcomes per replica.
#[derive(Clone, Debug)]
pub struct Regime {
    pub name: String,
    pub setting: String,
    pub runs: Vec<Outcomes>,
}

impl Regime {
    fn mean(&self, f: fn(&Outcomes) -> f64) -> f64 {
        mean_sd(&self.runs.iter().map(f).collect::<Vec<_>>()).0
    }
    pub fn welfare(&self) -> f64 {
        self.mean(|o| o.welfare_final)
    }
    pub fn share_ai(&self) -> f64 {
        self.mean(|o| o.share_ai)
    }
    /// Welfare minus `other`'s, replica by replica (common seeds: paired).
    fn gains_over(&self, other: &Regime) -> Vec<f64> {
        self.runs.iter().zip(&other.runs).map(|(a, b)| a.welfare_final - b.welfare_final).collect()
    }
}

/// F6: welfare by policy regime at high pollution (config `cfg_name` at `size`, `replicas`
/// replicas). The unit tax at the Pigouvian rate and at a quarter of it, each against the
/// adoption tax whose mean AI share over the replicas matches (bisection); holds when the
/// Pigouvian pair's AI shares are within 0.03 and the unit tax's welfare gain, paired by
/// seed, is positive in every replica and everywhere more than three times the seed noise
/// (the sd of laissez-faire welfare over the same seeds).
pub fn measure_f6(
    configs: &Path,
    exec: &dyn Executor,
    stop: &AtomicBool,
    cfg_name: &str,
    size: (u32, u32),
    replicas: u32,
    say: &dyn Fn(&str),
) -> Result<Fact, ReproduceError> {
    let sets = [format!("creators={}", size.0), format!("buyers={}", size.1)];
    let cfg = load(configs, cfg_name, &sets)?;
    let run = |key: &str, v: f64, name: &str, setting: String| -> Result<Regime, ReproduceError> {
        say(&format!("F6 {name} ({setting}), {replicas} replicas"));
        let runs = scan(configs, exec, stop, cfg_name, &sets, (key, &[v]), replicas)?.remove(0);
        Ok(Regime { name: name.to_string(), setting, runs })
    };
    let lf = run("policy.unit_tax", 0.0, "laissez-faire", "no policy".into())?;
    // The Pigouvian rate: an AI unit raises D_A by 1/N_b now and by half as much each
    // step after (D_A = 0.5 D_A + units / N_b), 2/N_b in all, so it costs all buyers
    // 2 pollution cong_eta / (1 + cong_eta D_A) at the laissez-faire D_A.
    let d_a = 2.0 * lf.mean(|o| o.units_ai_final);
    let (beta, eta) = (cfg.market.pollution as f64, cfg.market.cong_eta as f64);
    let t_star = 2.0 * beta * eta / (1.0 + eta * d_a);
    let mut pairs = Vec::new();
    for (label, t) in [("quarter-Pigouvian", 0.25 * t_star), ("Pigouvian", t_star)] {
        let unit = run("policy.unit_tax", t, &format!("unit tax ({label})"), format!("unit_tax = {t:.4}"))?;
        let target = unit.share_ai();
        let adopt = match_adoption(target, &|a: f64| {
            run(
                "policy.adoption_tax",
                a,
                &format!("adoption tax (= {label} adoption)"),
                format!("adoption_tax = {a:.4}"),
            )
        })?
        .unwrap_or_else(|| lf.clone());
        pairs.push((unit, adopt));
    }
    let mut regimes = vec![lf.clone()];
    for (u, a) in &pairs {
        regimes.push(u.clone());
        regimes.push(a.clone());
    }
    for (key, v, name) in [
        ("policy.provenance_subsidy", 0.1, "provenance subsidy"),
        ("policy.label_accuracy", 0.5, "no provenance labels"),
        ("policy.curation", 0.3, "platform curation"),
    ] {
        regimes.push(run(key, v, name, format!("{} = {v}", key.trim_start_matches("policy.")))?);
    }
    let (q_unit, q_adopt) = &pairs[0];
    let (unit, adopt) = &pairs[1];
    let adoption_gap = unit.share_ai() - adopt.share_ai();
    let gains = unit.gains_over(adopt);
    let (gain, gain_sd) = mean_sd(&gains);
    let (q_gain, q_gain_sd) = mean_sd(&q_unit.gains_over(q_adopt));
    let min_gain = gains.iter().cloned().fold(f64::INFINITY, f64::min);
    // Seed noise: how much final welfare varies over seeds in a regime that does not tip
    // (laissez-faire). The adoption tax's own spread is no such noise near its matched
    // rate: there some seeds lose the AI sector and others keep it (docs/model.md, F6).
    let noise = mean_sd(&lf.runs.iter().map(|o| o.welfare_final).collect::<Vec<_>>()).1;
    let holds = adoption_gap.abs() <= 0.03 && min_gain > 0.0 && (replicas < 2 || min_gain > 3.0 * noise);
    let mut measures = vec![
        m("pigouvian_unit_tax", t_star, "money/unit", "2 beta eta / (1 + eta D_A) at the laissez-faire D_A"),
        m(
            "adoption_gap",
            adoption_gap,
            "1",
            "AI share under the Pigouvian unit tax minus under the matched adoption tax",
        ),
        m(
            "unit_minus_adoption_welfare",
            gain,
            "money/buyer",
            "welfare gain of the Pigouvian unit tax over the adoption tax with its AI adoption, mean over replicas",
        ),
        m("unit_minus_adoption_welfare_sd", gain_sd, "money/buyer", "its sd over replicas (paired by seed)"),
        m("unit_minus_adoption_min", min_gain, "money/buyer", "the smallest gain over replicas"),
        m("seed_noise", noise, "money/buyer", "sd of laissez-faire welfare over replicas"),
        m("quarter_adoption_gap", q_unit.share_ai() - q_adopt.share_ai(), "1", "the same gap for the quarter rate"),
        m("quarter_unit_minus_adoption_welfare", q_gain, "money/buyer", "the gain at a quarter of the Pigouvian rate"),
        m("quarter_unit_minus_adoption_welfare_sd", q_gain_sd, "money/buyer", "its sd over replicas"),
        m("replicas", replicas as f64, "1", "replicas (seeds) per regime"),
    ];
    for (i, r) in regimes.iter().enumerate() {
        let key =
            format!("{}_{}", i, r.name.split(' ').take(2).collect::<Vec<_>>().join("_").replace(['(', ')', '-'], ""));
        let (w, w_sd) = mean_sd(&r.runs.iter().map(|o| o.welfare_final).collect::<Vec<_>>());
        let meaning = |what: &str| format!("{what}, {} ({}), mean over replicas", r.name, r.setting);
        measures.push(Measure {
            name: format!("welfare_{key}"),
            value: w,
            unit: "money/buyer",
            meaning: meaning("welfare"),
        });
        measures.push(Measure {
            name: format!("welfare_sd_{key}"),
            value: w_sd,
            unit: "money/buyer",
            meaning: meaning("its sd"),
        });
        measures.push(Measure {
            name: format!("share_ai_{key}"),
            value: r.share_ai(),
            unit: "1",
            meaning: meaning("AI share of creators"),
        });
        measures.push(Measure {
            name: format!("units_ai_{key}"),
            value: r.mean(|o| o.units_ai_final),
            unit: "units/buyer",
            meaning: meaning("AI units per buyer"),
        });
    }
    let col = |f: fn(&Outcomes) -> f64| regimes.iter().map(|r| r.mean(f)).collect::<Vec<f64>>();
    Ok(Fact {
        id: "F6",
        title: "Governance: an output tax beats input regulation at equal AI adoption",
        criterion: "at high pollution, the unit tax at the Pigouvian rate against the adoption tax whose AI share matches it (within 0.03, mean over replicas): welfare higher under the unit tax in every replica (paired by seed), by more than three times the seed noise (sd of laissez-faire welfare over replicas)".into(),
        holds,
        measures,
        series: vec![
            ("welfare".into(), col(|o| o.welfare_final)),
            ("welfare_sd".into(), regimes.iter().map(|r| mean_sd(&r.runs.iter().map(|o| o.welfare_final).collect::<Vec<_>>()).1).collect()),
            ("share_ai".into(), col(|o| o.share_ai)),
            ("units_ai".into(), col(|o| o.units_ai_final)),
            ("congestion".into(), col(|o| o.congestion_final)),
        ],
        figure: None,
    })
}

/// The adoption tax whose runs have mean AI share `target` (bisection; the bracket doubles
/// until the tax is high enough); the regime closest to the target.
fn match_adoption(
    target: f64,
    run: &dyn Fn(f64) -> Result<Regime, ReproduceError>,
) -> Result<Option<Regime>, ReproduceError> {
    let mut best: Option<Regime> = None;
    let keep = |r: Regime, best: &mut Option<Regime>| {
        if best.as_ref().is_none_or(|b| (b.share_ai() - target).abs() > (r.share_ai() - target).abs()) {
            *best = Some(r);
        }
    };
    let (mut lo, mut hi) = (0.0f64, 0.5f64);
    for _ in 0..6 {
        let r = run(hi)?;
        let above = r.share_ai() > target;
        keep(r, &mut best);
        if !above {
            break;
        }
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..7 {
        let mid = 0.5 * (lo + hi);
        let r = run(mid)?;
        if r.share_ai() > target {
            lo = mid;
        } else {
            hi = mid;
        }
        keep(r, &mut best);
        if best.as_ref().is_some_and(|b| (b.share_ai() - target).abs() < 0.005) {
            break;
        }
    }
    Ok(best)
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

fn paper_figure(dir: &Path, runs: &[Run]) -> Result<PathBuf, ReproduceError> {
    let mut human = Vec::new();
    let mut rev = Vec::new();
    for (k, r) in runs.iter().enumerate().take(8) {
        let c = PALETTE[k % PALETTE.len()];
        human.push(Series::new(
            if k == 0 { "replicas" } else { "" },
            plot::series_points(r.rec.get("share_human").unwrap_or(&[])),
            c,
            Style::Line,
        ));
        rev.push(Series::new("", plot::series_points(&r.median_human_revenue), c, Style::Line));
    }
    let shock = runs.first().map_or(0.0, |r| r.cfg.technology.shock_step as f64);
    let panels = vec![
        Panel {
            title: "Human share of creators (paper set-up)".into(),
            x_label: "step".into(),
            y_label: "share".into(),
            series: human,
            marks: vec![(shock, "shock".into())],
            y_range: Some((0.0, 1.05)),
            ..Default::default()
        },
        Panel {
            title: "Median revenue of human creators".into(),
            x_label: "step".into(),
            y_label: "money per step".into(),
            series: rev,
            marks: vec![(shock, "shock".into())],
            ..Default::default()
        },
    ];
    let p = dir.join("paper.png");
    plot::draw_figure(
        &p,
        "The paper's set-up: 50 creators, 3 providers, 1,000 buyers, Q-learning",
        &panels,
        2,
        (620, 420),
    )?;
    Ok(p)
}

/// The figure of one fact.
fn draw_fact(path: &Path, f: &Fact) -> Result<(), ReproduceError> {
    let get = |n: &str| f.series.iter().find(|s| s.0 == n).map(|s| s.1.clone()).unwrap_or_default();
    let deciles = |v: Vec<f64>| v.iter().enumerate().map(|(i, &y)| (i as f64 + 1.0, y)).collect::<Vec<_>>();
    let panels: Vec<Panel> = match f.id {
        "F1" => {
            let mut s = vec![
                Series::new("exit", deciles(get("decile_share_exit")), EXIT_C, Style::Bars),
                Series::new("AI", deciles(get("decile_share_ai")), AI_C, Style::Bars),
                Series::new("human", deciles(get("decile_share_human")), HUMAN_C, Style::Bars),
            ];
            let mf = get("meanfield_decile_share_ai");
            if !mf.is_empty() {
                let cum: Vec<f64> = get("meanfield_decile_share_exit").iter().zip(&mf).map(|(a, b)| a + b).collect();
                s.push(Series::new("mean field: exit + AI", deciles(cum), (0, 0, 0), Style::Points));
            }
            vec![Panel {
                title: "Segment shares by talent decile (final window)".into(),
                x_label: "talent decile".into(),
                y_label: "share of the decile".into(),
                series: s,
                y_range: Some((0.0, 1.0)),
                ..Default::default()
            }]
        }
        "F2" => {
            let q = f.measures.iter().find(|x| x.name == "q67").map_or(4.0, |x| x.value);
            let q33 = f.measures.iter().find(|x| x.name == "q33").map_or(0.0, |x| x.value);
            let n = get("human_units_pre").len().max(1) as f64;
            let q_max = 4.0f64.max(q * 1.2);
            let pts = |v: Vec<f64>| plot::hist_points(&v, 0.0, q_max.max(n / SNAP_BINS as f64 * 4.0));
            vec![
                Panel {
                    title: "Human units offered by quality".into(),
                    x_label: "nominal quality q".into(),
                    y_label: "units".into(),
                    series: vec![
                        Series::new("before the shock", pts(get("human_units_pre")), (150, 150, 150), Style::Steps),
                        Series::new("after the shock", pts(get("human_units_post")), HUMAN_C, Style::Steps),
                    ],
                    marks: vec![(q33, "tercile".into()), (q, "tercile".into())],
                    ..Default::default()
                },
                Panel {
                    title: "All units offered after the shock".into(),
                    x_label: "nominal quality q".into(),
                    y_label: "units".into(),
                    series: vec![
                        Series::new("AI", pts(get("ai_units_post")), AI_C, Style::Steps),
                        Series::new("human", pts(get("human_units_post")), HUMAN_C, Style::Steps),
                    ],
                    ..Default::default()
                },
            ]
        }
        "F3" => {
            let ts = |n: &str, c, st, name: &str| Series::new(name, plot::series_points(&get(n)), c, st);
            let mut a = vec![
                ts("welfare", (0, 0, 0), Style::Line, "welfare (ABM)"),
                ts("active_buyers", PALETTE[2], Style::Line, "active buyers"),
                ts("matches", PALETTE[4], Style::Line, "matches"),
            ];
            if !get("meanfield_welfare").is_empty() {
                a.push(ts("meanfield_welfare", (0, 0, 0), Style::Dashed, "welfare (mean field)"));
            }
            if !get("control_welfare").is_empty() {
                a.push(ts("control_welfare", (150, 150, 150), Style::Line, "welfare, no shock"));
            }
            let mut b = vec![
                ts("share_exit", EXIT_C, Style::Line, "exit"),
                ts("share_ai", AI_C, Style::Line, "AI"),
                ts("share_human", HUMAN_C, Style::Line, "human"),
            ];
            if !get("meanfield_share_ai").is_empty() {
                b.push(ts("meanfield_share_ai", AI_C, Style::Dashed, "AI (mean field)"));
                b.push(ts("meanfield_share_human", HUMAN_C, Style::Dashed, "human (mean field)"));
            }
            vec![
                Panel {
                    title: "Welfare and the buyer side".into(),
                    x_label: "step".into(),
                    y_label: "per buyer".into(),
                    series: a,
                    ..Default::default()
                },
                Panel {
                    title: "Segment shares".into(),
                    x_label: "step".into(),
                    y_label: "share of creators".into(),
                    series: b,
                    y_range: Some((0.0, 1.0)),
                    ..Default::default()
                },
            ]
        }
        "F4" => vec![Panel {
            title: "Mean creative share x".into(),
            x_label: "step".into(),
            y_label: "x".into(),
            series: vec![
                Series::new("human, shock", plot::series_points(&get("mean_x_human")), HUMAN_C, Style::Line),
                Series::new(
                    "human, no shock",
                    plot::series_points(&get("control_mean_x_human")),
                    (150, 150, 150),
                    Style::Line,
                ),
                Series::new("AI", plot::series_points(&get("mean_x_ai")), AI_C, Style::Line),
            ],
            ..Default::default()
        }],
        "F5" => {
            let measure = |n: &str| f.measures.iter().find(|x| x.name == n);
            let tags: Vec<String> =
                f.series.iter().filter_map(|(n, _)| n.strip_suffix("_scale").map(str::to_string)).collect();
            tags.iter()
                .enumerate()
                .map(|(k, tag)| {
                    let sc = get(&format!("{tag}_scale"));
                    let w = get(&format!("{tag}_welfare"));
                    let sd = get(&format!("{tag}_welfare_sd"));
                    let x: Vec<f64> = sc.iter().map(|s| 1.0 / s).collect();
                    let pts = |v: &[f64]| x.iter().zip(v).map(|(a, b)| (*a, *b)).collect::<Vec<_>>();
                    let band = |sign: f64| pts(&w.iter().zip(&sd).map(|(m, s)| m + sign * s).collect::<Vec<_>>());
                    let no_ai = measure(&format!("{tag}_welfare_no_ai")).map_or(f64::NAN, |x| x.value);
                    let (lo, hi) =
                        (x.iter().cloned().fold(f64::INFINITY, f64::min), x.iter().cloned().fold(0.0, f64::max));
                    let c = PALETTE[[2, 4, 3][k % 3]];
                    let regime = measure(&format!("{tag}_regime"))
                        .and_then(|x| ExpansionRegime::LABELS.get(x.value as usize))
                        .copied()
                        .unwrap_or("no AI entry");
                    let pol = measure(&format!("{tag}_pollution")).map_or(f64::NAN, |x| x.value);
                    let mut marks = Vec::new();
                    if let (Some(p), "inverted U") = (measure(&format!("{tag}_peak_scale")), regime) {
                        marks.push((1.0 / p.value, format!("peak, s = {:.2}", p.value)));
                    }
                    // Pollution levels come from f32 config values: print them as written.
                    Panel {
                        title: format!("β = {}: {regime}", pol as f32),
                        x_label: "AI expansion 1/s (log scale)".into(),
                        y_label: "final welfare per buyer".into(),
                        log_x: true,
                        series: vec![
                            Series::new(
                                "no AI (s = 100)",
                                vec![(lo, no_ai), (hi, no_ai)],
                                (120, 120, 120),
                                Style::Dashed,
                            ),
                            Series::new("mean over replicas", pts(&w), c, Style::Line),
                            Series::new("", pts(&w), c, Style::Points),
                            Series::new("± 1 sd", band(1.0), c, Style::Dashed),
                            Series::new("", band(-1.0), c, Style::Dashed),
                        ],
                        marks,
                        ..Default::default()
                    }
                })
                .collect()
        }
        "F6" => {
            // Short names of the regimes, in the order measure_f6 lists them.
            let names: Vec<String> = [
                "laissez-faire",
                "unit tax ¼",
                "adoption ¼",
                "unit tax P",
                "adoption P",
                "subsidy",
                "no labels",
                "curation",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let bars = |v: Vec<f64>| {
                v.iter()
                    .enumerate()
                    .map(|(i, &y)| Series::new("", vec![(i as f64 + 1.0, y)], PALETTE[i % PALETTE.len()], Style::Bars))
                    .collect::<Vec<_>>()
            };
            vec![
                Panel {
                    title: "Final welfare by policy regime (¼: a quarter of the Pigouvian rate, P: the rate)".into(),
                    x_label: "regime (adoption: the adoption tax matched to the unit tax's AI share)".into(),
                    y_label: "welfare per buyer".into(),
                    series: bars(get("welfare")),
                    x_categories: names.clone(),
                    ..Default::default()
                },
                Panel {
                    title: "AI share of creators".into(),
                    x_label: "regime".into(),
                    y_label: "share".into(),
                    series: bars(get("share_ai")),
                    x_categories: names,
                    ..Default::default()
                },
            ]
        }
        "F7" => vec![Panel {
            title: "Revenue HHI (creators and providers)".into(),
            x_label: "step".into(),
            y_label: "HHI".into(),
            series: vec![
                Series::new("shock", plot::series_points(&get("hhi")), PALETTE[0], Style::Line),
                Series::new("no shock", plot::series_points(&get("control_hhi")), (150, 150, 150), Style::Line),
            ],
            ..Default::default()
        }],
        _ => return Ok(()),
    };
    let cols = if panels.len() == 3 { 3 } else { panels.len().min(2) };
    // One panel gets the width the title needs.
    let size = if panels.len() == 1 { (1000, 480) } else { (640, 440) };
    plot::draw_figure(
        path,
        &format!("{}: {} ({})", f.id, f.title, if f.holds { "holds" } else { "does not hold" }),
        &panels,
        cols,
        size,
    )?;
    Ok(())
}

/// facts.h5, facts.md and facts.csv.
fn write_outputs(dir: &Path, r: &Report) -> Result<(), ReproduceError> {
    let t = TableFile::create(&dir.join("facts.h5"), "hollow-facts")?;
    for f in &r.facts {
        let g = format!("/{}", f.id);
        t.attr_str(&g, "title", f.title)?;
        t.attr_str(&g, "criterion", &f.criterion)?;
        t.attr(&g, "holds", f64::from(u8::from(f.holds)))?;
        for x in &f.measures {
            t.attr(&g, &x.name, x.value)?;
        }
        for (name, v) in &f.series {
            t.dataset(&g, name, &[v.len()], v, "", "series behind the figure")?;
        }
    }
    for p in &r.paper {
        t.attr("/paper", &format!("{}_mean", p.name), p.mean)?;
        t.attr("/paper", &format!("{}_sd", p.name), p.sd)?;
        t.attr("/paper", &format!("{}_paper", p.name), p.paper)?;
    }
    t.finish()?;
    write_atomic(&dir.join("facts.md"), &markdown(r))?;
    let mut csv = String::from("id,measure,value,unit\n");
    for f in &r.facts {
        let _ = writeln!(csv, "{},holds,{},1", f.id, u8::from(f.holds));
        for x in &f.measures {
            let _ = writeln!(csv, "{},{},{},{}", f.id, x.name, x.value, x.unit);
        }
    }
    for p in &r.paper {
        let _ = writeln!(csv, "paper,{}_mean,{},{}", p.name, p.mean, p.unit);
        let _ = writeln!(csv, "paper,{}_sd,{},{}", p.name, p.sd, p.unit);
        let _ = writeln!(csv, "paper,{}_paper,{},{}", p.name, p.paper, p.unit);
    }
    write_atomic(&dir.join("facts.csv"), &csv)
}

/// The markdown summary: the fact table, each fact's numbers, the paper comparison.
pub fn markdown(r: &Report) -> String {
    let mut s = String::from("# Stylized facts, measured\n\n| id | fact | holds | criterion |\n|---|---|---|---|\n");
    for f in &r.facts {
        let _ =
            writeln!(s, "| {} | {} | {} | {} |", f.id, f.title, if f.holds { "yes" } else { "**no**" }, f.criterion);
    }
    for f in &r.facts {
        let _ = writeln!(s, "\n## {} — {}\n\n| measure | value | unit | meaning |\n|---|---|---|---|", f.id, f.title);
        for x in &f.measures {
            let _ = writeln!(s, "| {} | {:.4} | {} | {} |", x.name, x.value, x.unit, x.meaning);
        }
        if let Some(p) = &f.figure {
            let _ = writeln!(
                s,
                "\n![{}]({})",
                f.id,
                p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
            );
        }
    }
    if !r.paper.is_empty() {
        s.push_str("\n## The paper's set-up (configs/paper_small.toml), ours beside the paper's\n\n| quantity | paper | ours (mean ± sd over replicas) | unit | definition |\n|---|---|---|---|---|\n");
        for p in &r.paper {
            let _ = writeln!(
                s,
                "| {} | {} | {:.4} ± {:.4} | {} | {} |",
                p.name, p.paper, p.mean, p.sd, p.unit, p.definition
            );
        }
    }
    s
}

fn write_atomic(path: &Path, text: &str) -> Result<(), ReproduceError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| ReproduceError::Other(format!("{}: cannot write: {e}", path.display())))
}
