//! Output of the two analytic layers: the static equilibrium's HDF5 file and figures
//! (`hollow equilibrium`) and the mean field's run-format file (`hollow meanfield`, the
//! same layout as a `hollow run` file, so the two overlay by series name). The layouts
//! are described in docs/output.md.

use crate::config::Config;
use crate::io::error::OutputError;
use crate::io::plot::{self, AI_C, EXIT_C, HUMAN_C, Panel, Series, Style};
use crate::io::tables::TableFile;
use crate::layers::equilibrium::{StaticEquilibrium, StaticOptions, frontier, quality_histogram};
use crate::observe::{Outcomes, Recorder, SNAP_BINS};
use std::path::{Path, PathBuf};

/// Value of the root attribute `format` of an equilibrium file.
pub const EQUILIBRIUM_FORMAT: &str = "hollow-equilibrium";

/// Scalars of one equilibrium, as (attribute name, value, meaning).
pub fn equilibrium_scalars(e: &StaticEquilibrium) -> Vec<(&'static str, f64, &'static str)> {
    vec![
        ("c_ai", e.c_ai, "AI marginal cost c_A solved at (money/unit)"),
        ("f_ai", e.f_ai, "AI fixed cost F_A solved at (money/step)"),
        ("share_exit", e.shares[0], "share of creators in exit"),
        ("share_ai", e.shares[1], "share of creators in AI mode"),
        ("share_human", e.shares[2], "share of creators in human craft"),
        ("cut_exit_ai", e.cut_exit_ai, "lowest talent at which AI breaks even or human craft pays (to 2 / precision)"),
        (
            "cut_ai_human",
            e.cut_ai_human,
            "lowest talent from which human craft strictly beats AI and exit (to 2 / precision)",
        ),
        ("execution_weight", e.w, "execution weight w at the fixed point (novelty premium)"),
        ("ai_unit_share", e.ai_unit_share, "AI share of units offered"),
        ("units_ai", e.units_per_buyer[0], "AI units offered per buyer"),
        ("units_human", e.units_per_buyer[1], "human units offered per buyer"),
        ("sold_ai", e.sold_per_buyer[0], "AI units sold per buyer"),
        ("sold_human", e.sold_per_buyer[1], "human units sold per buyer"),
        ("matches", e.matched, "units bought per buyer"),
        ("consumer_surplus", e.cs, "consumer surplus per buyer, congestion included"),
        ("producer_surplus", e.ps, "producer surplus per buyer (creators and providers)"),
        ("congestion", e.congestion, "congestion cost per buyer"),
        ("tax_revenue", e.tax, "tax revenue per buyer"),
        ("subsidies", e.subsidy, "subsidies per buyer"),
        ("welfare", e.welfare, "total welfare per buyer"),
        ("residual_market", e.residual_market, "largest |demand/supply - target| of a good priced above its floor"),
        ("residual_choice", e.residual_choice, "largest profit a class forgoes against its best segment"),
    ]
}

/// Writes the pre- and post-shock equilibria to `path` (groups `/pre` and `/post`).
pub fn write_equilibrium(
    path: &Path,
    cfg: &Config,
    opts: &StaticOptions,
    pre: &StaticEquilibrium,
    post: &StaticEquilibrium,
) -> Result<(), OutputError> {
    write_equilibrium_to(crate::io::output::Output::create(path, &[], false)?, cfg, opts, pre, post)
}

/// [`write_equilibrium`] into an output taken earlier (checked and locked before the work).
pub fn write_equilibrium_to(
    out: crate::io::output::Output,
    cfg: &Config,
    opts: &StaticOptions,
    pre: &StaticEquilibrium,
    post: &StaticEquilibrium,
) -> Result<(), OutputError> {
    let t = TableFile::create_in(out, EQUILIBRIUM_FORMAT)?;
    t.attr_str("/", "config", &cfg.to_toml())?;
    t.attr("/", "classes", opts.classes as f64)?;
    t.attr("/", "sell_through", opts.sell_through)?;
    t.attr("/", "precision", opts.precision)?;
    t.attr("/", "noise", opts.noise)?;
    let q_max = cfg.market.q_max as f64;
    for (g, e) in [("/pre", pre), ("/post", post)] {
        for (name, v, _) in equilibrium_scalars(e) {
            t.attr(g, name, v)?;
        }
        let k = e.talent.len();
        let flat2 = |v: &[[f64; 2]]| v.iter().flatten().copied().collect::<Vec<f64>>();
        let flat3 = |v: &[[f64; 3]]| v.iter().flatten().copied().collect::<Vec<f64>>();
        t.dataset(g, "talent", &[k], &e.talent, "talent", "talent S of each equal-mass class")?;
        t.dataset(g, "share", &[k, 3], &flat3(&e.share), "1", "share of the class in (exit, AI, human)")?;
        t.dataset(
            g,
            "profit",
            &[k, 3],
            &flat3(&e.profit),
            "money/step",
            "profit of (exit, AI, human) at equilibrium prices",
        )?;
        t.dataset(g, "frontier", &[k], &frontier(e), "money/step", "profit frontier max(0, pi_A, pi_H)")?;
        t.dataset(
            g,
            "quality",
            &[k, 2],
            &flat2(&e.quality),
            "quality",
            "nominal quality of the class's units in (AI, human)",
        )?;
        t.dataset(g, "creative", &[k, 2], &flat2(&e.creative), "1", "best-response creative share in (AI, human)")?;
        t.dataset(g, "price", &[k, 2], &flat2(&e.price), "money/unit", "price of the class's good in (AI, human)")?;
        t.dataset(
            g,
            "sold_share",
            &[k, 2],
            &flat2(&e.sold_share),
            "1",
            "share of the good's units sold in (AI, human)",
        )?;
        t.dataset(g, "volume", &[k], &e.volume, "units", "AI volume chosen")?;
        let n = e.theta.len();
        t.dataset(g, "theta", &[n], &e.theta, "money/quality", "buyers' taste grid")?;
        t.dataset(
            g,
            "theta_quality",
            &[n],
            &e.theta_quality,
            "quality",
            "nominal quality each taste buys (NaN: none)",
        )?;
        t.dataset(g, "theta_price", &[n], &e.theta_price, "money/unit", "price each taste pays (NaN: none)")?;
        let (sig, alpha, qbar) =
            (cfg.technology.talent_sigma as f64, cfg.technology.alpha_a as f64, cfg.technology.qbar_a as f64);
        let h = quality_histogram(e, q_max, SNAP_BINS, false, sig, alpha, qbar);
        t.dataset(
            g,
            "units_quality",
            &[2, SNAP_BINS],
            &h.concat(),
            "units/creator",
            "units offered by nominal quality on [0, q_max), rows AI, human",
        )?;
        let h = quality_histogram(e, q_max, SNAP_BINS, true, sig, alpha, qbar);
        t.dataset(
            g,
            "sold_quality",
            &[2, SNAP_BINS],
            &h.concat(),
            "units/creator",
            "units sold by nominal quality on [0, q_max), rows AI, human",
        )?;
        // Coordinates, so xarray names every dimension: the classes by their talent, the
        // modes and channels by label, tastes by theta, quality bins by their centres.
        let w = q_max / SNAP_BINS as f64;
        let centres: Vec<f64> = (0..SNAP_BINS).map(|i| (i as f64 + 0.5) * w).collect();
        t.dataset(g, "q", &[SNAP_BINS], &centres, "quality", "centre of each nominal-quality bin on [0, q_max)")?;
        t.label_scale(g, "mode", &["exit", "AI", "human"], "creator mode")?;
        t.label_scale(g, "channel", &["AI", "human"], "channel of a good")?;
        for name in ["talent", "theta", "q"] {
            t.scale(g, name)?;
        }
        let by_class: &[&str] = &["talent"];
        let class_mode: &[&str] = &["talent", "mode"];
        let class_channel: &[&str] = &["talent", "channel"];
        let by_taste: &[&str] = &["theta"];
        let channel_q: &[&str] = &["channel", "q"];
        t.dims(
            g,
            &[
                ("share", class_mode),
                ("profit", class_mode),
                ("frontier", by_class),
                ("quality", class_channel),
                ("creative", class_channel),
                ("price", class_channel),
                ("sold_share", class_channel),
                ("volume", by_class),
                ("theta_quality", by_taste),
                ("theta_price", by_taste),
                ("units_quality", channel_q),
                ("sold_quality", channel_q),
            ],
        )?;
    }
    t.finish()
}

/// The equilibrium figures: `equilibrium_frontier.png` (profits by talent with the
/// frontier and cut-offs; segment shares by talent) and `equilibrium_quality.png` (units
/// by quality before and after the shock; prices by quality). Returns the paths.
pub fn equilibrium_figures(
    dir: &Path,
    cfg: &Config,
    pre: &StaticEquilibrium,
    post: &StaticEquilibrium,
) -> Result<Vec<PathBuf>, plot::FigureError> {
    let mut out = Vec::new();
    let pts = |e: &StaticEquilibrium, f: &dyn Fn(usize) -> f64| {
        (0..e.talent.len()).map(|c| (e.talent[c], f(c))).collect::<Vec<_>>()
    };
    let fr = frontier(post);
    let mut panels = Vec::new();
    for (title, e) in [("after the shock", post), ("before the shock", pre)] {
        let fr_e = frontier(e);
        panels.push(Panel {
            title: format!("Profit by talent, {title}"),
            x_label: "talent S (log scale)".into(),
            y_label: "profit per step".into(),
            log_x: true,
            series: vec![
                Series::new("AI", pts(e, &|c| e.profit[c][1]), AI_C, Style::Line),
                Series::new("human", pts(e, &|c| e.profit[c][2]), HUMAN_C, Style::Line),
                Series::new("frontier max(0, AI, human)", pts(e, &|c| fr_e[c]), (0, 0, 0), Style::Dashed),
            ],
            marks: cut_marks(e),
            y_range: Some((
                -0.2 * fr.iter().cloned().fold(0.1, f64::max),
                1.05 * fr.iter().cloned().fold(0.1, f64::max),
            )),
            ..Default::default()
        });
    }
    panels.push(Panel {
        title: "Segment shares by talent, after the shock".into(),
        x_label: "talent S (log scale)".into(),
        y_label: "share of the class".into(),
        log_x: true,
        series: vec![
            Series::new("exit", pts(post, &|c| post.share[c][0]), EXIT_C, Style::Line),
            Series::new("AI", pts(post, &|c| post.share[c][1]), AI_C, Style::Line),
            Series::new("human", pts(post, &|c| post.share[c][2]), HUMAN_C, Style::Line),
        ],
        y_range: Some((0.0, 1.05)),
        ..Default::default()
    });
    let p = dir.join("equilibrium_frontier.png");
    plot::draw_figure(&p, "Static equilibrium: the kinked profit frontier and the segments", &panels, 3, (560, 420))?;
    out.push(p);

    let q_max = cfg.market.q_max as f64;
    let (sig, alpha, qbar) =
        (cfg.technology.talent_sigma as f64, cfg.technology.alpha_a as f64, cfg.technology.qbar_a as f64);
    let hp = quality_histogram(pre, q_max, SNAP_BINS, true, sig, alpha, qbar);
    let hq = quality_histogram(post, q_max, SNAP_BINS, true, sig, alpha, qbar);
    let top = hp[1].iter().chain(&hq[1]).cloned().fold(0.0, f64::max);
    let spike = hq[0].iter().cloned().fold(0.0, f64::max);
    let panels = vec![
        Panel {
            title: "Human units sold by quality".into(),
            x_label: "nominal quality q".into(),
            y_label: "units per creator and step".into(),
            series: vec![
                Series::new("before the shock", plot::hist_points(&hp[1], 0.0, q_max), (150, 150, 150), Style::Steps),
                Series::new("after the shock", plot::hist_points(&hq[1], 0.0, q_max), HUMAN_C, Style::Steps),
            ],
            marks: vec![(qbar, "AI ceiling".into())],
            ..Default::default()
        },
        Panel {
            title: format!("All units sold after the shock (AI peak {spike:.2}, clipped)"),
            x_label: "nominal quality q".into(),
            y_label: "units per creator and step".into(),
            series: vec![
                Series::new("AI", plot::hist_points(&hq[0], 0.0, q_max), AI_C, Style::Steps),
                Series::new("human", plot::hist_points(&hq[1], 0.0, q_max), HUMAN_C, Style::Steps),
            ],
            marks: vec![(qbar, "AI ceiling".into())],
            y_range: Some((0.0, 1.3 * top.max(1e-9))),
            ..Default::default()
        },
        Panel {
            title: "Prices by quality".into(),
            x_label: "nominal quality q".into(),
            y_label: "price".into(),
            series: vec![
                Series::new("human, before", price_points(pre, 1), (150, 150, 150), Style::Line),
                Series::new("human, after", price_points(post, 1), HUMAN_C, Style::Line),
                Series::new("AI, after", price_points(post, 0), AI_C, Style::Points),
            ],
            ..Default::default()
        },
    ];
    let p = dir.join("equilibrium_quality.png");
    plot::draw_figure(
        &p,
        "Static equilibrium: the quality distribution before and after the shock",
        &panels,
        3,
        (560, 420),
    )?;
    out.push(p);
    Ok(out)
}

/// Marks of the two cut-offs (one mark when they coincide).
fn cut_marks(e: &StaticEquilibrium) -> Vec<(f64, String)> {
    if (e.cut_exit_ai - e.cut_ai_human).abs() <= 1e-3 * e.cut_ai_human.abs() {
        vec![(e.cut_ai_human, "entry = human cut-off".into())]
    } else {
        vec![(e.cut_exit_ai, "entry".into()), (e.cut_ai_human, "human".into())]
    }
}

/// (quality, price) of the goods actually offered in channel `ch` (0 AI, 1 human).
fn price_points(e: &StaticEquilibrium, ch: usize) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = (0..e.talent.len())
        .filter(|&c| e.share[c][1 + ch] > 0.01)
        .map(|c| (e.quality[c][ch], e.price[c][ch]))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-12);
    v
}

/// Root attributes of a run compared with its mean field: the mean field's final shares,
/// welfare and settling step, and the gaps (ABM minus mean field) in the final window.
pub fn meanfield_gap(abm: &Outcomes, mf: &Outcomes) -> Vec<(String, f64)> {
    let gap_shares = (abm.share_exit - mf.share_exit)
        .abs()
        .max((abm.share_ai - mf.share_ai).abs())
        .max((abm.share_human - mf.share_human).abs());
    vec![
        ("meanfield_share_exit".into(), mf.share_exit),
        ("meanfield_share_ai".into(), mf.share_ai),
        ("meanfield_share_human".into(), mf.share_human),
        ("meanfield_welfare_final".into(), mf.welfare_final),
        ("meanfield_settle_step".into(), mf.settle_step),
        ("meanfield_gap_shares".into(), gap_shares),
        ("meanfield_gap_welfare".into(), abm.welfare_final - mf.welfare_final),
    ]
}

/// Largest absolute gap between two recorded runs in one series over the steps both hold.
pub fn series_gap(a: &Recorder, b: &Recorder, name: &str) -> f64 {
    match (a.get(name), b.get(name)) {
        (Some(x), Some(y)) => x.iter().zip(y).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max),
        _ => f64::NAN,
    }
}
