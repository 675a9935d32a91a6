//! Phase-diagram figures that read welfare along the AI-expansion axis of a sweep file
//! (`sweep::analysis`): the welfare-maximising cost scale s*(row) with its spread over
//! replicas and the laissez-faire line s = 1, drawn over any heatmap of the file, and the
//! regime map (monotone gains / gains with a dip / inverted U / harmful from entry, per row,
//! with the cells where AI lowers welfare below the no-AI run outlined); and, for any
//! heatmap of a sweep file, the outline of where a categorical outcome changes.

use super::heatmap::{self, ColourScale, Heatmap, Overlay, PlotAxis, Regimes};
use super::plot::FigureError;
use crate::model::welfare::ExpansionRegime;
use crate::sweep::analysis::{self, Expansion};
use crate::sweep::store::SweepFile;
use std::path::Path;

/// s*(row) with whiskers over replicas (on the rows where some AI beats none: elsewhere the
/// best is no AI, which the regime map shows), and the laissez-faire line s = 1 (where it
/// is on the axis), in the file's axis order.
pub fn optimum_overlays(sf: &SweepFile, e: &Expansion) -> Vec<Overlay> {
    let xy = |s: f64, v: f64| if e.s_axis == 0 { (s, v) } else { (v, s) };
    let rows: Vec<_> =
        e.rows.iter().filter(|r| r.regime.is_some_and(|g| g != ExpansionRegime::HarmfulFromEntry)).collect();
    let star = Overlay {
        label: "s* (welfare-maximising)".into(),
        points: rows.iter().map(|r| xy(r.s_star, r.value)).collect(),
        // Whiskers run along x, so only when s is the x axis.
        x_spread: if e.s_axis == 0 { rows.iter().map(|r| (r.s_star_lo, r.s_star_hi)).collect() } else { Vec::new() },
        dashed: false,
    };
    let mut out = vec![star];
    let s = &sf.axes[e.s_axis].values;
    let (lo, hi) = (s.iter().cloned().fold(f64::INFINITY, f64::min), s.iter().cloned().fold(0.0, f64::max));
    if (lo..=hi).contains(&1.0) {
        let other = &sf.axes[1 - e.s_axis].values;
        let (a, b) = (other[0], other[other.len() - 1]);
        out.push(Overlay {
            label: "laissez-faire (s = 1)".into(),
            points: vec![xy(1.0, a), xy(1.0, b)],
            x_spread: Vec::new(),
            dashed: true,
        });
    }
    out
}

/// s* and the laissez-faire line over a heatmap of the welfare metric `metric` of a sweep
/// over the AI cost scale, and what the subtitle says of them; `None` for another metric or
/// a sweep without that axis (or with too little to analyse).
pub fn welfare_optimum(sf: &SweepFile, metric: &str) -> Option<(Vec<Overlay>, &'static str)> {
    match analysis::expansion(sf) {
        Ok(e) if metric.starts_with("welfare_") => {
            Some((optimum_overlays(sf, &e), "dots: s* per row, whiskers: its range over replicas"))
        }
        _ => None,
    }
}

/// The outline of where the categorical outcome `name` changes, over a heatmap of `metric`,
/// and what the subtitle says of it when `name` is not `metric` itself: that it is the same
/// in every cell, or that the lines are its changes. Promises no lines that are not drawn.
pub fn regime_outline(sf: &SweepFile, metric: &str, name: String) -> (Regimes, Option<String>) {
    let (grid, present) = analysis::category_grid(sf, &name);
    let labels = crate::observe::outcome_categories(&name).unwrap_or(&[]);
    let shown = super::labels::label(&name);
    let note = match present.as_slice() {
        [one] if name != metric => {
            let l = labels.get(*one as usize).copied().unwrap_or("?");
            Some(format!("{shown}: {l} in every cell"))
        }
        [_, _, ..] if name != metric => Some(format!("lines: {shown} changes")),
        _ => None,
    };
    let labels = labels.iter().map(|s| s.to_string()).collect();
    // Regions of the plotted metric itself need no name in their labels.
    let regimes = Regimes { labels, name: if name == metric { String::new() } else { shown.to_string() }, grid };
    (regimes, note)
}

/// The regime map of `sf` to `path`: each cell coloured by its row's regime, the cells
/// where mean welfare is below the no-AI run outlined, s* and s = 1 drawn over it.
pub fn draw_regime_map(
    path: &Path,
    sf: &SweepFile,
    e: &Expansion,
    x: PlotAxis,
    y: PlotAxis,
    subtitle: String,
    size: (u32, u32),
) -> Result<(), FigureError> {
    let (n1, n2) = sf.shape();
    let mut z = vec![f64::NAN; n1 * n2];
    let mut gain = vec![f64::NAN; n1 * n2];
    for (row, r) in e.rows.iter().enumerate() {
        for (k, g) in r.gain.iter().enumerate() {
            let c = if e.s_axis == 0 { k * n2 + row } else { row * n2 + k };
            z[c] = r.regime.map_or(f64::NAN, |g| g.index() as f64);
            // Below the no-AI run by more than the tolerance: AI lowers welfare there.
            gain[c] = f64::from(u8::from(*g >= -analysis::TOL));
        }
    }
    let sep = heatmap::SEP;
    let bounds: Vec<String> =
        analysis::boundaries(e).iter().map(|(a, b, l)| format!("{l} from {}", fmt_between(*a, *b))).collect();
    let subtitle = if bounds.is_empty() { subtitle } else { format!("{subtitle}{sep}{}", bounds.join(", ")) };
    heatmap::draw_heatmap(
        path,
        &Heatmap {
            title: "Welfare regime of AI expansion, by row (against the no-AI run at the largest s)".into(),
            subtitle,
            x,
            y,
            z,
            colour: ColourScale::Categorical {
                labels: ExpansionRegime::LABELS.iter().map(|s| s.to_string()).collect(),
            },
            regimes: Some(Regimes {
                name: String::new(),
                labels: vec!["AI below no AI".into(), "AI at or above no AI".into()],
                grid: gain,
            }),
            overlays: optimum_overlays(sf, e),
            size,
        },
    )
}

/// A boundary between two grid values, printed to the precision that tells them apart.
fn fmt_between(a: f64, b: f64) -> String {
    let digits = (-(b - a).abs().log10()).ceil().clamp(0.0, 6.0) as usize + 1;
    format!("{:.*}–{:.*}", digits, a, digits, b)
}
