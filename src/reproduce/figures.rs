//! The figures of a reproduction: one PNG per fact (`draw_fact`, from the series and
//! measures the fact carries, so the figure shows what was measured) and `paper.png` of
//! the paper's set-up. Drawing itself is `io::plot`'s.

use super::{Fact, ReproduceError, Run};
use crate::io::labels::{label, with_unit};
use crate::io::plot::{self, AI_C, EXIT_C, HUMAN_C, PALETTE, Panel, Series, Style};
use crate::model::welfare::ExpansionRegime;
use std::path::{Path, PathBuf};

/// `paper.png` in `dir`: the human share and the median human revenue of up to eight
/// replicas of the paper's set-up.
pub(super) fn paper_figure(dir: &Path, runs: &[Run]) -> Result<PathBuf, ReproduceError> {
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
            y_label: with_unit("share_human"),
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
pub(super) fn draw_fact(path: &Path, f: &Fact) -> Result<(), ReproduceError> {
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
            let q = f.measures.iter().find(|x| x.name == "q67").map_or(f64::NAN, |x| x.value);
            let q33 = f.measures.iter().find(|x| x.name == "q33").map_or(f64::NAN, |x| x.value);
            // The histograms are drawn on the market curves' bins: the histograms' finer bins
            // alternate full and empty (a comb) because within one curve bin every quality
            // earns the same and creators' best responses bunch at one end of it.
            let (from, to) = (get("quality_edges"), get("curve_edges"));
            let on_curve_bins = |v: Vec<f64>| {
                if from.len() == v.len() + 1 && to.len() >= 2 {
                    plot::hist_points(&plot::rebin(&v, &from, &to), to[0], to[to.len() - 1])
                } else {
                    plot::hist_points(&v, 0.0, from.last().copied().unwrap_or(4.0))
                }
            };
            let width = if to.len() >= 2 { to[1] - to[0] } else { f64::NAN };
            let x_label = format!("nominal quality q (in the market curves' {} bins)", to.len().saturating_sub(1));
            let y_label = format!("units per bin (width {width})");
            let human_post = on_curve_bins(get("human_units_post"));
            let ai_post = on_curve_bins(get("ai_units_post"));
            // AI output piles up in the ceiling's bin: clip it so the human mass stays visible.
            let top = 1.3 * human_post.iter().map(|p| p.1).fold(1.0, f64::max);
            let spike = ai_post.iter().map(|p| p.1).fold(0.0, f64::max);
            let (all_title, all_range) = if spike > top {
                (format!("All units offered after the shock (AI peak {spike:.0}, clipped)"), Some((0.0, top)))
            } else {
                ("All units offered after the shock".to_string(), None)
            };
            vec![
                Panel {
                    title: "Human units offered by quality".into(),
                    x_label: x_label.clone(),
                    y_label: y_label.clone(),
                    series: vec![
                        Series::new(
                            "before the shock",
                            on_curve_bins(get("human_units_pre")),
                            (150, 150, 150),
                            Style::Steps,
                        ),
                        Series::new("after the shock", human_post.clone(), HUMAN_C, Style::Steps),
                    ],
                    marks: vec![(q33, "tercile".into()), (q, "tercile".into())],
                    ..Default::default()
                },
                Panel {
                    title: all_title,
                    x_label,
                    y_label,
                    series: vec![
                        Series::new("AI", ai_post, AI_C, Style::Steps),
                        Series::new("human", human_post, HUMAN_C, Style::Steps),
                    ],
                    y_range: all_range,
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
            y_label: "creative share x".into(),
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
                        title: format!("{} = {}: {regime}", label("market.pollution"), pol as f32),
                        x_label: "AI expansion 1/s (log scale)".into(),
                        y_label: with_unit("welfare_final"),
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
                    y_label: with_unit("welfare_final"),
                    series: bars(get("welfare")),
                    x_categories: names.clone(),
                    ..Default::default()
                },
                Panel {
                    title: "AI share of creators".into(),
                    x_label: "regime".into(),
                    y_label: with_unit("share_ai"),
                    series: bars(get("share_ai")),
                    x_categories: names,
                    ..Default::default()
                },
            ]
        }
        "F7" => vec![Panel {
            title: "Revenue HHI (creators and providers)".into(),
            x_label: "step".into(),
            y_label: with_unit("hhi"),
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
