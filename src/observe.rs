//! What a run records, declared once by name: the per-step metrics (HDF5 dataset name,
//! unit, description and how each is computed from a step's summary), per-agent
//! snapshots as histograms, the equilibrium (settling) check, and the outcome statistics
//! (collapse depth and duration, welfare before and after, ...) that `run`'s summary,
//! `reproduce` and `sweep` all share.

use crate::backend::Totals;
use crate::model::welfare::Welfare;
use crate::state::{AI, HUMAN, State};

/// Everything known about one step after `reduce`.
#[derive(Clone, Debug, Default)]
pub struct StepSummary {
    pub step: u32,
    pub n_creators: f64,
    pub n_buyers: f64,
    pub c_ai: f64,
    pub f_ai: f64,
    pub w: f64,
    pub qbar_a: f64,
    pub sigma: f64,
    pub ai_share_offered: f64,
    pub congestion_stock: f64,
    pub totals: Totals,
    pub welfare: Welfare,
    pub hhi: f64,
}

/// A recorded quantity.
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    pub description: &'static str,
    pub eval: fn(&StepSummary) -> f64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

macro_rules! metrics {
    ($( $name:literal, $unit:literal, $desc:literal, |$s:ident| $e:expr; )*) => {
        /// Every per-step metric, in dataset order.
        pub static METRICS: &[Metric] = &[ $( Metric { name: $name, unit: $unit, description: $desc, eval: |$s| $e }, )* ];
    };
}

metrics! {
    "step", "step", "Step index", |s| s.step as f64;
    "ai_cost", "money/unit", "AI marginal cost c_A per unit generated", |s| s.c_ai;
    "ai_fixed_cost", "money/step", "AI fixed cost F_A per step", |s| s.f_ai;
    "share_exit", "1", "Share of creators in exit", |s| ratio(s.totals.mode_count[0] as f64, s.n_creators);
    "share_ai", "1", "Share of creators in AI-assisted mode", |s| ratio(s.totals.mode_count[1] as f64, s.n_creators);
    "share_human", "1", "Share of creators in human craft", |s| ratio(s.totals.mode_count[2] as f64, s.n_creators);
    "active_buyers", "1", "Share of buyers active (searching) this step", |s| ratio(s.totals.active as f64, s.n_buyers);
    "matches", "1/buyer", "Units bought per buyer", |s| ratio(s.totals.matched as f64, s.n_buyers);
    "units_ai", "units/buyer", "AI units offered per buyer", |s| ratio(s.totals.offered[0] as f64, s.n_buyers);
    "units_human", "units/buyer", "Human units offered per buyer", |s| ratio(s.totals.offered[1] as f64, s.n_buyers);
    "ai_unit_share", "1", "AI share of units offered", |s| s.ai_share_offered;
    "ai_sold_share", "1", "AI share of units sold (synthetic share rho)", |s| ratio(s.totals.sold[0] as f64, (s.totals.sold[0] + s.totals.sold[1]) as f64);
    "sell_through_ai", "1", "Units sold over units offered, AI channel", |s| ratio(s.totals.sold[0] as f64, s.totals.offered[0] as f64);
    "sell_through_human", "1", "Units sold over units offered, human channel", |s| ratio(s.totals.sold[1] as f64, s.totals.offered[1] as f64);
    "junk_share_sold", "1", "Share of units bought that were junk", |s| ratio(s.totals.matched_junk as f64, s.totals.matched as f64);
    "mean_price_paid", "money/unit", "Average price per unit bought", |s| ratio(s.totals.spend, s.totals.matched as f64);
    "signal_noise", "quality", "Signal noise sigma_t", |s| s.sigma;
    "execution_weight", "1", "Execution weight w_t (novelty premium)", |s| s.w;
    "qbar_a", "quality", "AI quality ceiling qbar_A", |s| s.qbar_a;
    "congestion_stock", "units/buyer", "AI volume per buyer D_A", |s| s.congestion_stock;
    "consumer_surplus", "money/buyer", "Consumer surplus per buyer (search costs and congestion included)", |s| s.welfare.cs;
    "producer_surplus", "money/buyer", "Producer surplus per buyer (creators and providers)", |s| s.welfare.ps;
    "tax_revenue", "money/buyer", "Policy tax revenue per buyer", |s| s.welfare.tax;
    "subsidies", "money/buyer", "Provenance subsidies paid per buyer", |s| s.welfare.subsidy;
    "welfare", "money/buyer", "Total welfare per buyer, CS + PS + taxes - subsidies", |s| s.welfare.total;
    "pollution_loss", "money/buyer", "Congestion + prices paid for junk + search costs, per buyer", |s| s.welfare.pollution_loss;
    "congestion", "money/buyer", "Congestion cost borne per buyer", |s| s.welfare.congestion;
    "hhi", "1", "Revenue HHI over creators and providers", |s| s.hhi;
    "mean_x_ai", "1", "Mean creative share x of AI creators", |s| ratio(s.totals.x_sum[1], s.totals.mode_count[1] as f64);
    "mean_x_human", "1", "Mean creative share x of human creators", |s| ratio(s.totals.x_sum[2], s.totals.mode_count[2] as f64);
    "mean_x_exit", "1", "Mean creative share x of exited creators", |s| ratio(s.totals.x_sum[0], s.totals.mode_count[0] as f64);
    "mean_talent_ai", "talent", "Mean talent of AI creators", |s| ratio(s.totals.talent_sum[1], s.totals.mode_count[1] as f64);
    "mean_talent_human", "talent", "Mean talent of human creators", |s| ratio(s.totals.talent_sum[2], s.totals.mode_count[2] as f64);
    "revenue_human_mean", "money", "Mean revenue per human creator", |s| ratio(s.totals.revenue[2], s.totals.mode_count[2] as f64);
    "revenue_ai_mean", "money", "Mean revenue per AI creator", |s| ratio(s.totals.revenue[1], s.totals.mode_count[1] as f64);
    "ai_volume_mean", "units", "Mean chosen AI volume v of AI creators", |s| ratio(s.totals.vol_sum, s.totals.mode_count[1] as f64);
    "directedness", "1", "Mean buyer directedness d toward human offers", |s| ratio(s.totals.d_sum, s.n_buyers);
}

/// Index of a metric by name.
pub fn metric_index(name: &str) -> Option<usize> {
    METRICS.iter().position(|m| m.name == name)
}

/// Bins of the snapshot histograms.
pub const SNAP_BINS: usize = 64;

/// Half-width of the log-talent axis of the snapshot histograms: ±4 standard deviations.
pub fn talent_span(talent_sigma: f32) -> f32 {
    4.0 * talent_sigma.max(0.05)
}

/// Per-agent distributions at one step, by mode (exit, AI, human).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub step: u32,
    /// Creators by nominal quality on [0, q_max), by mode.
    pub quality: [Vec<f64>; 3],
    /// Units offered by quality, by channel (AI, human): the quality distribution buyers face.
    pub units_quality: [Vec<f64>; 2],
    /// Creators by creative share on [0, 1), by mode.
    pub creative: [Vec<f64>; 3],
    /// Creators by log talent on [-4 sigma, 4 sigma), by mode.
    pub talent: [Vec<f64>; 3],
    /// Market curves (R, P) by channel and bin at this step.
    pub curves: Vec<[f32; 2]>,
}

impl Snapshot {
    pub fn of(step: u32, s: &State, q_max: f32, talent_sigma: f32, curves: &[[f32; 2]]) -> Snapshot {
        let z = || vec![0.0; SNAP_BINS];
        let mut out = Snapshot {
            step,
            quality: [z(), z(), z()],
            units_quality: [z(), z()],
            creative: [z(), z(), z()],
            talent: [z(), z(), z()],
            curves: curves.to_vec(),
        };
        let bin = |v: f32, lo: f32, hi: f32| {
            (((v - lo) / (hi - lo) * SNAP_BINS as f32).floor().max(0.0) as usize).min(SNAP_BINS - 1)
        };
        let span = talent_span(talent_sigma);
        let c = &s.creators;
        for i in 0..c.len() {
            let m = c.mode[i] as usize;
            let q = c.offer[i][0];
            out.quality[m][bin(q, 0.0, q_max)] += 1.0;
            out.creative[m][bin(c.x[i], 0.0, 1.0)] += 1.0;
            out.talent[m][bin(c.talent[i].ln(), -span, span)] += 1.0;
            if c.mode[i] == AI || c.mode[i] == HUMAN {
                let ch = if c.mode[i] == AI { 0 } else { 1 };
                out.units_quality[ch][bin(q, 0.0, q_max)] += c.cap[i] as f64;
            }
        }
        out
    }
}

/// When and where a run settled.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Settled {
    pub step: u32,
    pub share_ai: f64,
    pub share_human: f64,
    pub welfare: f64,
}

/// The settling test: over the last `window` steps (all after `from`), every watched
/// series moves by less than `tol` (shares absolutely, welfare relative to its mean).
pub fn settled_at(series: &Recorder, from: u32, window: usize, tol: f64) -> Option<Settled> {
    let ai = series.series(metric_index("share_ai")?);
    let hu = series.series(metric_index("share_human")?);
    let we = series.series(metric_index("welfare")?);
    let n = ai.len();
    let start = from as usize;
    if window < 2 {
        return None;
    }
    for end in (start + window)..=n {
        let range = |v: &[f64]| {
            let w = &v[end - window..end];
            let (lo, hi) = w.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            (hi - lo, w.iter().sum::<f64>() / window as f64)
        };
        let (ra, ma) = range(ai);
        let (rh, mh) = range(hu);
        let (rw, mw) = range(we);
        if ra < tol && rh < tol && rw < tol * mw.abs().max(1e-3) {
            return Some(Settled { step: (end - window) as u32, share_ai: ma, share_human: mh, welfare: mw });
        }
    }
    None
}

/// The per-step metrics of a run, one column per entry of `METRICS`, plus snapshots.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// `columns[metric][step]`.
    pub columns: Vec<Vec<f64>>,
    pub snapshots: Vec<Snapshot>,
}

impl Recorder {
    pub fn new() -> Self {
        Self { columns: vec![Vec::new(); METRICS.len()], snapshots: Vec::new() }
    }
    pub fn push(&mut self, s: &StepSummary) {
        if self.columns.len() != METRICS.len() {
            self.columns = vec![Vec::new(); METRICS.len()];
        }
        for (col, m) in self.columns.iter_mut().zip(METRICS) {
            col.push((m.eval)(s));
        }
    }
    /// Steps recorded.
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// One metric over time.
    pub fn series(&self, idx: usize) -> &[f64] {
        &self.columns[idx]
    }
    /// One metric over time, by name.
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        metric_index(name).map(|i| self.series(i))
    }
}

/// Outcome statistics of a shock run, shared by `run`'s summary, `reproduce` and `sweep`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outcomes {
    /// Mean over the last `window` steps.
    pub share_exit: f64,
    pub share_ai: f64,
    pub share_human: f64,
    pub welfare_final: f64,
    /// Mean over the `window` steps before the shock (or the first steps without a shock).
    pub welfare_pre: f64,
    /// Lowest welfare after the shock (NaN when no step is after it).
    pub welfare_min: f64,
    /// (pre - min) / |pre|: how deep the transition dip goes below the pre-shock level.
    pub collapse_depth: f64,
    /// Steps after the shock with welfare below both the pre-shock and final levels.
    pub collapse_duration: f64,
    /// Lowest share of active buyers after the shock, relative to pre-shock.
    pub active_dip: f64,
    pub hhi_pre: f64,
    pub hhi_final: f64,
    /// First step of the settled window (NaN if never settled).
    pub settle_step: f64,
    /// AI units offered per buyer and the congestion cost per buyer, means over the last
    /// `window` steps: the flood and what it costs (F5, F6).
    pub units_ai_final: f64,
    pub congestion_final: f64,
}

/// Names of the outcome statistics, in the order of `Outcomes::values`.
pub const OUTCOMES: &[&str] = &[
    "share_exit",
    "share_ai",
    "share_human",
    "welfare_final",
    "welfare_pre",
    "welfare_min",
    "collapse_depth",
    "collapse_duration",
    "active_dip",
    "hhi_pre",
    "hhi_final",
    "settle_step",
    "units_ai_final",
    "congestion_final",
];

impl Outcomes {
    pub fn values(&self) -> [f64; OUTCOMES.len()] {
        [
            self.share_exit,
            self.share_ai,
            self.share_human,
            self.welfare_final,
            self.welfare_pre,
            self.welfare_min,
            self.collapse_depth,
            self.collapse_duration,
            self.active_dip,
            self.hhi_pre,
            self.hhi_final,
            self.settle_step,
            self.units_ai_final,
            self.congestion_final,
        ]
    }

    /// Computes outcomes of a recorded run with the shock at `shock` and a window `window`.
    pub fn of(r: &Recorder, shock: u32, window: usize, tol: f64) -> Outcomes {
        let n = r.len();
        if n == 0 {
            return Outcomes::default();
        }
        let col = |name: &str| r.get(name).expect("declared metric");
        let mean = |v: &[f64]| if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
        let tail = |v: &[f64]| mean(&v[n.saturating_sub(window)..]);
        let shock = (shock as usize).min(n);
        let pre = |v: &[f64]| if shock > 0 { mean(&v[shock.saturating_sub(window)..shock]) } else { v[0] };
        let we = col("welfare");
        let act = col("active_buyers");
        let hhi = col("hhi");
        let welfare_pre = pre(we);
        let welfare_final = tail(we);
        let after = &we[shock..];
        // No post-shock step (no shock within the run): there is no lowest welfare after it.
        let welfare_min = if after.is_empty() { f64::NAN } else { after.iter().cloned().fold(f64::INFINITY, f64::min) };
        let floor = welfare_pre.min(welfare_final);
        let act_pre = pre(act);
        let act_min = act[shock..].iter().cloned().fold(f64::INFINITY, f64::min);
        Outcomes {
            share_exit: tail(col("share_exit")),
            share_ai: tail(col("share_ai")),
            share_human: tail(col("share_human")),
            welfare_final,
            welfare_pre,
            welfare_min,
            collapse_depth: if after.is_empty() {
                0.0
            } else {
                ((welfare_pre - welfare_min) / welfare_pre.abs().max(1e-9)).max(0.0)
            },
            collapse_duration: after.iter().filter(|&&w| w < floor).count() as f64,
            active_dip: if act_pre > 0.0 && act_min.is_finite() { (act_pre - act_min) / act_pre } else { 0.0 },
            hhi_pre: pre(hhi),
            hhi_final: tail(hhi),
            settle_step: settled_at(r, shock as u32, window, tol).map_or(f64::NAN, |s| s.step as f64),
            units_ai_final: tail(col("units_ai")),
            congestion_final: tail(col("congestion")),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Derived outcomes (added for `sweep`; owned by the sweep engineer). Computed from
// `Outcomes` alone, so run files and `Outcomes::values` keep their layout; `sweep` and
// `reproduce` ask for any outcome by name through `outcome_value`.

/// Labels of the categorical outcome `dominant_segment`, by its value 0, 1, 2.
pub const SEGMENTS: &[&str] = &["exit", "AI", "human"];
/// Labels of the categorical outcome `welfare_regime`, by its value 0, 1.
pub const WELFARE_REGIMES: &[&str] = &["loss", "gain"];

/// Outcomes derived from the statistics in `OUTCOMES`.
pub const DERIVED_OUTCOMES: &[&str] = &["dominant_segment", "welfare_change", "welfare_regime"];

/// Every outcome a sweep can record: `OUTCOMES` then `DERIVED_OUTCOMES`.
pub fn outcome_names() -> impl Iterator<Item = &'static str> {
    OUTCOMES.iter().chain(DERIVED_OUTCOMES).copied()
}

/// Category labels of a categorical outcome (its values are indices into them); `None`
/// for a numeric outcome or an unknown name.
pub fn outcome_categories(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "dominant_segment" => Some(SEGMENTS),
        "welfare_regime" => Some(WELFARE_REGIMES),
        _ => None,
    }
}

/// What an outcome is, in a line (the `description` of its datasets in a sweep file);
/// `None` for an unknown name. docs/sweeps.md's table says the same at more length.
pub fn outcome_description(name: &str) -> Option<&'static str> {
    Some(match name {
        "share_exit" => "share of creators in exit, mean over the last window",
        "share_ai" => "share of creators in AI mode, mean over the last window",
        "share_human" => "share of creators in human craft, mean over the last window",
        "welfare_final" => "welfare per buyer, mean over the last window",
        "welfare_pre" => "welfare per buyer, mean over the window before the shock",
        "welfare_min" => "lowest welfare per buyer after the shock",
        "collapse_depth" => "depth of the post-shock welfare dip, (pre - min) / |pre|",
        "collapse_duration" => "steps after the shock with welfare below both pre-shock and final levels",
        "active_dip" => "lowest share of active buyers after the shock, as a fall relative to pre-shock",
        "hhi_pre" => "revenue HHI over the window before the shock",
        "hhi_final" => "revenue HHI over the last window",
        "settle_step" => "first step of the settled window after the shock (NaN if never settled)",
        "units_ai_final" => "AI units offered per buyer, mean over the last window",
        "congestion_final" => "congestion cost per buyer, mean over the last window",
        "dominant_segment" => "segment with the largest final share (0 exit, 1 AI, 2 human)",
        "welfare_change" => "welfare_final - welfare_pre",
        "welfare_regime" => "sign of welfare_change (0 loss, 1 gain; zero counts as gain)",
        _ => return None,
    })
}

/// Unit of an outcome (for axis and colour-bar labels); `None` for an unknown name.
pub fn outcome_unit(name: &str) -> Option<&'static str> {
    Some(match name {
        "share_exit" | "share_ai" | "share_human" | "collapse_depth" | "active_dip" | "hhi_pre" | "hhi_final" => "1",
        "welfare_final" | "welfare_pre" | "welfare_min" | "welfare_change" => "money/buyer",
        "collapse_duration" => "steps",
        "settle_step" => "step",
        "units_ai_final" => "units/buyer",
        "congestion_final" => "money/buyer",
        "dominant_segment" | "welfare_regime" => "category",
        _ => return None,
    })
}

impl Outcomes {
    /// Which segment has the largest final share: 0 exit, 1 AI, 2 human (ties go to the
    /// earlier one, so the value is a pure function of the shares).
    pub fn dominant_segment(&self) -> f64 {
        let s = [self.share_exit, self.share_ai, self.share_human];
        let mut best = 0;
        for i in 1..3 {
            if s[i] > s[best] {
                best = i;
            }
        }
        best as f64
    }

    /// Welfare change across the shock: final minus pre-shock level (money/buyer).
    pub fn welfare_change(&self) -> f64 {
        self.welfare_final - self.welfare_pre
    }

    /// Any outcome by name (`OUTCOMES` or `DERIVED_OUTCOMES`); `None` for an unknown name.
    pub fn value(&self, name: &str) -> Option<f64> {
        if let Some(i) = OUTCOMES.iter().position(|&n| n == name) {
            return Some(self.values()[i]);
        }
        match name {
            "dominant_segment" => Some(self.dominant_segment()),
            "welfare_change" => Some(self.welfare_change()),
            // A change of exactly zero (no AI entry, nothing moved) counts as no loss.
            "welfare_regime" => {
                let c = self.welfare_change();
                Some(if c.is_nan() { f64::NAN } else { f64::from(c >= 0.0) })
            }
            _ => None,
        }
    }
}
// End of derived outcomes.

// ---------------------------------------------------------------------------------------
// Fact outcomes (added for `reproduce`, F2 and F4; owned by the layers/facts engineer).
// Computed from a recorder's snapshots and series, so run files and `Outcomes` keep their
// layout; `reproduce` (and a sweep, by name) asks for them through `fact_outcome`.

/// Names of the fact outcomes.
pub const FACT_OUTCOMES: &[&str] = &["hollow_depth", "ai_band_share", "quality_dip", "x_human_shift"];

/// The middle-class hollow (F2) between two snapshots: how much more of its middle than
/// of its top the human quality distribution loses, and how tightly AI output bunches.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Hollow {
    /// 1 - r_mid / r_top, r = human units after / before in the middle and top terciles of
    /// the pre-shock human quality distribution: > 0 when the middle empties faster.
    pub depth: f64,
    /// Share of AI units offered in the bins within 10% below the AI ceiling (inclusive of
    /// the ceiling's bin): the narrow band where AI output piles up.
    pub ai_band_share: f64,
    /// After the shock, the least density of all units (AI and human) strictly between the
    /// AI ceiling's bin and the human mode, over the density at the human mode: < 1 is a
    /// dip between the AI band and the human mass (NaN when they share a bin).
    pub dip: f64,
    /// Pre-shock quality terciles of human units (the band edges).
    pub q33: f64,
    pub q67: f64,
}

/// F2's statistics from the snapshots before (`pre`) and after (`post`) the shock;
/// `q_max` is the quality axis of the histograms, `qbar` the AI ceiling.
pub fn hollow(pre: &Snapshot, post: &Snapshot, q_max: f64, qbar: f64) -> Hollow {
    let h0 = &pre.units_quality[1];
    let h1 = &post.units_quality[1];
    let a1 = &post.units_quality[0];
    let n = h0.len().max(1);
    let width = q_max / n as f64;
    let total0: f64 = h0.iter().sum();
    let quantile = |p: f64| {
        let mut acc = 0.0;
        for (i, &v) in h0.iter().enumerate() {
            acc += v;
            if acc >= p * total0 {
                return i;
            }
        }
        n - 1
    };
    let (b33, b67) = (quantile(1.0 / 3.0), quantile(2.0 / 3.0));
    let sum = |h: &[f64], lo: usize, hi: usize| h[lo.min(n)..hi.min(n)].iter().sum::<f64>();
    let r_mid = sum(h1, b33, b67) / sum(h0, b33, b67).max(1e-300);
    let r_top = sum(h1, b67, n) / sum(h0, b67, n).max(1e-300);
    let ceiling = ((qbar / width).floor() as usize).min(n - 1);
    let band_lo = ((0.9 * qbar / width).floor() as usize).min(ceiling);
    let ai_total: f64 = a1.iter().sum();
    let band: f64 = sum(a1, band_lo, ceiling + 1);
    let mode = (0..n).max_by(|&i, &j| h1[i].total_cmp(&h1[j])).unwrap_or(0);
    let dip = if mode > ceiling + 1 {
        let least = (ceiling + 1..mode).map(|i| a1[i] + h1[i]).fold(f64::INFINITY, f64::min);
        least / (a1[mode] + h1[mode]).max(1e-300)
    } else {
        f64::NAN
    };
    Hollow {
        depth: if r_top > 0.0 { 1.0 - r_mid / r_top } else { f64::NAN },
        ai_band_share: if ai_total > 0.0 { band / ai_total } else { f64::NAN },
        dip,
        q33: b33 as f64 * width,
        q67: b67 as f64 * width,
    }
}

/// A fact outcome by name for a recorded run with the shock at `shock` (snapshots at the
/// step before the shock and at the last step are used); `None` for an unknown name.
/// `x_human_shift` is the change of the human creators' mean creative share from the
/// step before the shock to the mean over the last `window` steps (F4).
pub fn fact_outcome(rec: &Recorder, name: &str, shock: u32, window: usize, q_max: f64, qbar: f64) -> Option<f64> {
    if !FACT_OUTCOMES.contains(&name) {
        return None;
    }
    if name == "x_human_shift" {
        let x = rec.get("mean_x_human")?;
        let n = x.len();
        if n == 0 {
            return Some(f64::NAN);
        }
        let pre = x[(shock as usize).clamp(1, n) - 1];
        let tail = &x[n.saturating_sub(window.max(1))..];
        return Some(tail.iter().sum::<f64>() / tail.len() as f64 - pre);
    }
    let pre = rec.snapshots.iter().filter(|s| s.step < shock).max_by_key(|s| s.step);
    let post = rec.snapshots.iter().filter(|s| s.step >= shock).max_by_key(|s| s.step);
    let (Some(pre), Some(post)) = (pre, post) else { return Some(f64::NAN) };
    let h = hollow(pre, post, q_max, qbar);
    Some(match name {
        "hollow_depth" => h.depth,
        "ai_band_share" => h.ai_band_share,
        _ => h.dip,
    })
}
// End of fact outcomes.
