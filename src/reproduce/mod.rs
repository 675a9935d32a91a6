//! `hollow reproduce`: runs the fact scenarios (configs/baseline.toml, no_shock.toml,
//! facts_low_pollution.toml, facts_high_pollution.toml and paper_small.toml), measures
//! the stylized facts F1–F7 of MODEL.md and the paper's headline numbers, and writes
//! `facts.h5`, `facts.md`, `facts.csv` and one PNG per fact. Each fact's measurement and
//! its pass criterion are defined once (`measure_*`), so the tests in tests/facts.rs,
//! the summary and the docs all read the same numbers.
//!
//! This module owns the options, the shared types and the orchestration (`reproduce`,
//! `run_sim`); the single runs go through `sim::Simulation::run` and the scans through
//! the sweep executors, so it has no time loop of its own. The measurements are in
//! `facts` (F1–F4, F7 and the scan helper), `f5` and `f6`; the scenario configs and the
//! paper's numbers in `setup`; the figures in `figures`; the files in `report`.

mod f5;
mod f6;
mod facts;
mod figures;
mod report;
mod setup;

pub use f5::{F5_LEVELS, F5_NO_AI, F5_SCALES, F5_TOL, F5Curve, f5_curves, f5_curves_meanfield, measure_f5};
pub use f6::{Regime, measure_f6};
pub use facts::{measure_f1, measure_f2, measure_f3, measure_f4, measure_f7, scan};
pub use report::markdown;
pub use setup::{PaperRow, paper_rows};

use crate::backend::Backend;
use crate::config::{Config, ConfigError};
use crate::io::plot::FigureError;
use crate::io::tables::TableError;
use crate::layers::meanfield::{MeanField, MeanFieldOptions};
use crate::observe::{Outcomes, Recorder, StepSummary};
use crate::sim::Simulation;
use crate::state::{HUMAN, State};
use crate::sweep::Executor;
use figures::{draw_fact, paper_figure};
use report::write_outputs;
use setup::{load, sizes, with_size};
use std::path::PathBuf;
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
/// (small populations only: it copies the state every step). The steps are
/// `Simulation::run`'s; what the facts need beyond the recorder is gathered after each.
pub fn run_sim(cfg: &Config, make: &MakeBackend, detail: bool) -> Result<Run, ReproduceError> {
    let mut sim = Simulation::try_new(cfg.clone(), |s| make(s, cfg))
        .map_err(|e| ReproduceError::Other(format!("backend: {e}")))?;
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
    // No stop signal: a fact run cut short would be measured as if it were whole.
    let never = AtomicBool::new(false);
    sim.run_with(steps, &mut rec, &never, |s: &StepSummary, be: &mut dyn Backend| {
        let t = s.step;
        if t + window as u32 >= steps {
            for d in 0..10 {
                let n: u64 = s.totals.decile_mode[d].iter().sum();
                for mo in 0..3 {
                    dec[d][mo] += s.totals.decile_mode[d][mo] as f64 / n.max(1) as f64;
                }
            }
            dec_n += 1.0;
        }
        if detail {
            let st = be.state();
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
    });
    // A failed backend ends the run early; measuring what is left would mislead.
    if let Some(e) = sim.error() {
        let (seed, n) = (cfg.top.seed, cfg.top.creators);
        return Err(ReproduceError::Other(format!(
            "run of seed {seed} ({n} creators): backend failed at step {}: {e}",
            sim.t
        )));
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
