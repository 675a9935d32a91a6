//! What a sweep over the AI cost scale says about welfare (MODEL.md F5): for each value of
//! the other axis (pollution, say), the welfare-maximising cost scale s* with its spread
//! over replicas, and the regime of welfare along AI expansion against the no-AI run (the
//! largest s). Also which categorical outcome (segment, welfare regime) a phase diagram
//! outlines and its grid of per-cell values, and the two-axis slice of a grid of more axes
//! that a figure shows (`--at KEY=VALUE`). Pure arithmetic on a `SweepFile`; `hollow plot
//! phase` draws s* and the outlines on its heatmap and `hollow plot regimes` the regime map.

use super::store::{self, SweepFile};
use crate::model::welfare::{ExpansionRegime, expansion_regime};

/// The config key of the AI-expansion axis.
pub const COST_SCALE_KEY: &str = "technology.ai_cost_scale";
/// Differences of mean welfare below this count as ties (money per buyer), as in
/// `reproduce`'s F5.
pub const TOL: f64 = crate::model::welfare::EXPANSION_TOL;
/// A cell counts as having AI when its mean AI share of creators exceeds this.
const AI_PRESENT: f64 = 0.005;

/// One value of the other axis.
#[derive(Clone, Debug)]
pub struct Row {
    /// The other axis's value (e.g. the pollution intensity).
    pub value: f64,
    /// The cost scale of the highest mean welfare, and the smallest and largest cost scale
    /// of a single replica's highest welfare.
    pub s_star: f64,
    pub s_star_lo: f64,
    pub s_star_hi: f64,
    /// Mean welfare without AI (the largest cost scale).
    pub no_ai: f64,
    /// The regime along AI expansion (`None` when AI never enters on the row).
    pub regime: Option<ExpansionRegime>,
    /// Mean welfare minus `no_ai`, by cost scale (the s axis's order).
    pub gain: Vec<f64>,
}

/// The analysis of a two-axis sweep with a cost-scale axis.
#[derive(Clone, Debug)]
pub struct Expansion {
    /// Index of the cost-scale axis in the file (0 or 1); the other axis is the rows.
    pub s_axis: usize,
    pub rows: Vec<Row>,
}

/// Analyses `sf`; an error says what the file lacks.
pub fn expansion(sf: &SweepFile) -> Result<Expansion, String> {
    if sf.axes.len() != 2 {
        return Err(format!("needs a two-axis sweep with a {COST_SCALE_KEY} axis; this one has {}", sf.axes.len()));
    }
    let s_axis = sf.axes.iter().position(|a| a.key == COST_SCALE_KEY).ok_or_else(|| {
        format!(
            "no {COST_SCALE_KEY} axis (axes: {})",
            sf.axes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>().join(", ")
        )
    })?;
    let need = |m: &str| {
        sf.metric(m).ok_or_else(|| format!("needs the metric {m}; the sweep recorded {}", sf.metrics.join(", ")))
    };
    let (w, ai) = (need("welfare_final")?, need("share_ai")?);
    let r = sf.replicas as usize;
    let (n1, n2) = sf.shape();
    let (ns, nrow) = if s_axis == 0 { (n1, n2) } else { (n2, n1) };
    let s = &sf.axes[s_axis].values;
    let cell = |k: usize, row: usize| if s_axis == 0 { k * n2 + row } else { row * n2 + k };
    let mean = |v: &[f64], c: usize| v[c * r..(c + 1) * r].iter().sum::<f64>() / r as f64;
    // The no-AI reference is the largest cost scale, which must have no AI.
    let last = (0..ns).max_by(|&a, &b| s[a].total_cmp(&s[b])).ok_or("empty cost-scale axis")?;
    let mut rows = Vec::with_capacity(nrow);
    for row in 0..nrow {
        if let Some(k) = (0..ns).find(|&k| !sf.done[cell(k, row)]) {
            return Err(format!("cell s = {} of row {row} is not done", s[k]));
        }
        if mean(ai, cell(last, row)) > AI_PRESENT {
            return Err(format!(
                "AI still enters at the largest cost scale s = {} (row {row}): extend the axis to a no-AI scale",
                s[last]
            ));
        }
        let no_ai = mean(w, cell(last, row));
        let means: Vec<f64> = (0..ns).map(|k| mean(w, cell(k, row))).collect();
        let best = |f: &dyn Fn(usize) -> f64| (0..ns).fold(last, |b, k| if f(k) > f(b) { k } else { b });
        let k_star = best(&|k| means[k]);
        let per: Vec<f64> = (0..r).map(|q| s[best(&|k| w[cell(k, row) * r + q])]).collect();
        // Along rising expansion: AI-present cells by falling s.
        let mut order: Vec<usize> = (0..ns).filter(|&k| mean(ai, cell(k, row)) > AI_PRESENT).collect();
        order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
        let curve: Vec<f64> = order.iter().map(|&k| means[k]).collect();
        rows.push(Row {
            value: sf.axes[1 - s_axis].values[row],
            s_star: s[k_star],
            s_star_lo: per.iter().cloned().fold(f64::INFINITY, f64::min),
            s_star_hi: per.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            no_ai,
            regime: expansion_regime(&curve, no_ai, TOL).map(|x| x.0),
            gain: means.iter().map(|m| m - no_ai).collect(),
        });
    }
    Ok(Expansion { s_axis, rows })
}

/// The rows where the regime changes: (value of the last row of the old regime, value of
/// the first of the new one, the new regime's label), for the docs and the figure.
pub fn boundaries(e: &Expansion) -> Vec<(f64, f64, &'static str)> {
    e.rows
        .windows(2)
        .filter(|w| w[0].regime != w[1].regime)
        .map(|w| (w[0].value, w[1].value, w[1].regime.map_or("no AI", |g| g.label())))
        .collect()
}

/// An axis a slice fixes: the value asked for (`--at KEY=VALUE`) and the grid value used.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixed {
    pub axis: usize,
    pub key: String,
    pub asked: f64,
    /// Index and value of the grid point nearest to `asked` (on a log axis, nearest in log).
    pub index: usize,
    pub value: f64,
}

impl Fixed {
    /// "key = value" (and what was asked, when it is not a grid value), for a subtitle.
    pub fn describe(&self) -> String {
        if self.asked == self.value {
            format!("{} = {}", self.key, self.value)
        } else {
            format!("{} = {} (nearest to {})", self.key, self.value, self.asked)
        }
    }
}

/// The slice of grid `sf` that leaves `keep` axes free, the others fixed by `at` (key and
/// value: each fixes its axis at the grid value nearest to the value; ties to the lower).
/// An error names the axis keys when `at` leaves more or fewer than `keep` axes free, names
/// a key that is not an axis or fixes one twice, or when `sf` is a run list.
pub fn slice_at(sf: &SweepFile, at: &[(String, f64)], keep: usize) -> Result<(SweepFile, Vec<Fixed>), String> {
    if let Some(t) = &sf.runs {
        return Err(format!(
            "holds a run list ({} runs), not a grid: a phase diagram needs axes; `hollow export` gives its runs as a table",
            t.runs
        ));
    }
    let keys: Vec<&str> = sf.axes.iter().map(|a| a.key.as_str()).collect();
    let list = keys.join(", ");
    let mut fixed: Vec<Fixed> = Vec::new();
    for (key, asked) in at {
        let Some(a) = keys.iter().position(|k| k == key) else {
            return Err(format!("--at {key}: `{key}` is not an axis of this sweep; its axes are {list}"));
        };
        if fixed.iter().any(|f| f.axis == a) {
            return Err(format!("--at {key}: `{key}` is fixed twice"));
        }
        let axis = &sf.axes[a];
        let log = axis.scale == super::Scale::Log;
        if log && *asked <= 0.0 {
            return Err(format!("--at {key}={asked}: `{key}` is a log axis; give a positive value"));
        }
        let dist = |v: f64| if log { (v.ln() - asked.ln()).abs() } else { (v - asked).abs() };
        let index = (0..axis.len()).fold(0, |b, i| if dist(axis.values[i]) < dist(axis.values[b]) { i } else { b });
        fixed.push(Fixed { axis: a, key: key.clone(), asked: *asked, index, value: axis.values[index] });
    }
    let free: Vec<&str> =
        keys.iter().enumerate().filter(|(a, _)| !fixed.iter().any(|f| f.axis == *a)).map(|(_, k)| *k).collect();
    let need = sf.axes.len().saturating_sub(keep);
    if free.len() != keep {
        let n = sf.axes.len();
        let axes = format!("this sweep has {n} ax{} ({list})", if n == 1 { "is" } else { "es" });
        return Err(if keep < 2 {
            format!("{axes}, drawn as a line: --at has nothing to fix")
        } else if free.len() > keep {
            format!(
                "{axes} and a figure shows two: fix {} more with --at KEY=VALUE (free now: {})",
                free.len() - keep,
                free.join(", ")
            )
        } else {
            format!("{axes} and a figure shows two: fix {need} of them with --at, not {}", at.len())
        });
    }
    fixed.sort_by_key(|f| f.axis);
    let pick: Vec<(usize, usize)> = fixed.iter().map(|f| (f.axis, f.index)).collect();
    Ok((sf.slice(&pick), fixed))
}

/// The categorical outcomes a phase diagram outlines when none is named, by preference.
pub const REGIME_METRICS: [&str; 2] = ["dominant_segment", "welfare_regime"];

/// The categorical outcome whose changes a phase diagram of `metric` outlines when none is
/// named: `metric` itself if categorical, else the first of [`REGIME_METRICS`] that `sf` recorded
/// and that changes somewhere on the grid (else the first recorded, so that the figure can
/// say it is the same everywhere); `None` when `sf` recorded none of them.
pub fn default_regimes(sf: &SweepFile, metric: &str) -> Option<String> {
    if crate::observe::outcome_categories(metric).is_some() {
        return Some(metric.to_string());
    }
    let recorded: Vec<&str> = REGIME_METRICS.into_iter().filter(|n| sf.metric(n).is_some()).collect();
    let varies = |n: &str| {
        let (g, _) = category_grid(sf, n);
        let first = g.iter().find(|v| v.is_finite());
        g.iter().any(|v| v.is_finite() && Some(v) != first)
    };
    recorded.iter().find(|n| varies(n)).or(recorded.first()).map(|n| n.to_string())
}

/// Per cell, the most frequent value over replicas of the categorical metric `name` (NaN
/// where a replica is missing; no cells when `sf` did not record it), and the distinct
/// values on the grid, ascending.
pub fn category_grid(sf: &SweepFile, name: &str) -> (Vec<f64>, Vec<f64>) {
    let grid = store::cell_stats(sf.metric(name).unwrap_or(&[]), sf.replicas as usize, true).0;
    let mut present: Vec<f64> = grid.iter().copied().filter(|v| v.is_finite()).collect();
    present.sort_by(f64::total_cmp);
    present.dedup();
    (grid, present)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{Axis, Scale, Shard};

    /// A 2 × 2 sweep file of two replicas with these metrics (`cell * 2 + replica`).
    fn file(metrics: &[(&str, [f64; 8])]) -> SweepFile {
        let axis =
            |key: &str| Axis { key: key.into(), label: key.into(), scale: Scale::Linear, values: vec![1.0, 2.0] };
        SweepFile {
            format_version: 1,
            hollow_version: String::new(),
            created: String::new(),
            spec_text: String::new(),
            spec_file: String::new(),
            spec_hash: String::new(),
            base_config: String::new(),
            seed: 0,
            seeds: "common".into(),
            steps: 1,
            replicas: 2,
            block: 4,
            shard: Shard::ALL,
            complete: true,
            executor: String::new(),
            axes: vec![axis("a"), axis("b")],
            runs: None,
            metrics: metrics.iter().map(|(n, _)| n.to_string()).collect(),
            done: vec![true; 4],
            values: metrics.iter().map(|(_, v)| v.to_vec()).collect(),
            run_seeds: vec![0; 8],
            series: Vec::new(),
            series_values: Vec::new(),
        }
    }

    const WELFARE: [f64; 8] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    const UNIFORM: [f64; 8] = [2.0; 8];
    const VARIES: [f64; 8] = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];

    #[test]
    fn the_outlined_outcome_is_the_first_that_changes_else_the_first_recorded() {
        let both = file(&[("welfare_final", WELFARE), ("dominant_segment", UNIFORM), ("welfare_regime", VARIES)]);
        assert_eq!(default_regimes(&both, "welfare_final").as_deref(), Some("welfare_regime"));
        // A categorical metric outlines itself.
        assert_eq!(default_regimes(&both, "dominant_segment").as_deref(), Some("dominant_segment"));
        let uniform = file(&[("welfare_final", WELFARE), ("dominant_segment", UNIFORM), ("welfare_regime", UNIFORM)]);
        assert_eq!(default_regimes(&uniform, "welfare_final").as_deref(), Some("dominant_segment"));
        assert_eq!(default_regimes(&file(&[("welfare_final", WELFARE)]), "welfare_final"), None);
    }

    #[test]
    fn a_category_grid_holds_each_cells_most_frequent_value_and_the_values_present() {
        // Cell 1's replicas disagree 1:1 (the smaller wins the tie); cell 3 lacks a replica.
        let f = file(&[("welfare_regime", [0.0, 0.0, 2.0, 1.0, 2.0, 2.0, 1.0, f64::NAN])]);
        let (grid, present) = category_grid(&f, "welfare_regime");
        assert_eq!(&grid[..3], &[0.0, 1.0, 2.0]);
        assert!(grid[3].is_nan());
        assert_eq!(present, vec![0.0, 1.0, 2.0]);
        assert!(category_grid(&f, "dominant_segment").0.is_empty());
    }
}
