//! The best response as a function of talent, tabulated once per step (the CPU's fast path
//! of `rules::best_share` in large markets).
//!
//! A grid point's value depends on a creator only through the curve bin its quality falls
//! in, and that quality is talent times a per-point constant (the human factor, or α x_g for
//! AI, capped at q̄_A): so every point's bin is a step function of talent (of α talent for
//! AI), non-decreasing, and all of them together change only at a few hundred talents. Between
//! two such talents the scan of `best_share` sees the same values in the same order. This
//! module finds those talents exactly (by bisection over the f32 values, with the float
//! operations the scan uses) and, per interval between them, what the scan would conclude;
//! a creator's best response is then a search among the talents and one comparison with its
//! current profit, instead of the bound and the 19-point scan. Built only for large markets:
//! a table costs about as much as deciding a few thousand creators.

use super::{BestResponse, costs_of};
use crate::mask;
use crate::model::market::{self, Costs};
use crate::model::params::StepParams;

/// Distinct AI margins kept per interval, largest first: a creator's answer needs the first
/// of them and those whose profit rounds to the same value (rare); past these, the scan.
const AI_TOP: usize = 4;

/// One mode's table: the keys (talent for human craft, α·talent for AI) at which some grid
/// point's bin changes, ascending, and per interval between them what the scan finds.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Side {
    /// Interval j holds the keys k with `cuts[j - 1] <= k < cuts[j]` (from 0, to +inf);
    /// `PER_CELL` NaN follow the cuts (`real_cuts` leaves them out), so `interval` can always
    /// compare that many.
    cuts: Vec<f32>,
    /// Human: per interval, the largest non-NaN value and the first point holding it
    /// (`u8::MAX`: every value NaN). AI: the distinct non-NaN margins, largest first, each
    /// with the first point holding it, `AI_TOP` per interval (NaN-padded), and how many
    /// there are in all.
    best: Vec<[(f32, u8); AI_TOP]>,
    count: Vec<u8>,
    /// A key's cell is `(key * scale) as usize` capped at the last; `start[cell]` counts the
    /// cuts of lower cells (all below the key: the cell is non-decreasing in the key), so
    /// only the cuts of the key's own cell are compared, about one: a binary search over
    /// the cuts mispredicted a branch at most of its steps.
    scale: f32,
    start: Vec<u32>,
}

/// The most cuts a cell may hold (`Side::interval` compares this many).
const PER_CELL: usize = 4;
/// The most cells a side may have (256 KiB of starts).
const MAX_CELLS: usize = 1 << 16;

/// Both modes' tables of one step; empty (`None` from `best_share`) where they do not apply.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TalentTables {
    human: Side,
    ai: Side,
    /// Whether the tables hold for this step (see `fill`).
    valid: bool,
}

impl TalentTables {
    /// Builds the tables of `br` (its grid and value tables filled) for step `p`, where the
    /// bins are non-decreasing step functions of talent: a positive `q_max`, a grid of
    /// non-negative finite factors and shares of at most 32 points, at most 64 bins, finite
    /// costs and a q̄_A that is not NaN.
    pub(crate) fn fill(&mut self, br: &BestResponse, p: &StepParams) {
        let n = br.points;
        let c = costs_of(p);
        let grid = br.hf[..n].iter().chain(&br.x[..n]);
        self.valid = p.q_max > 0.0
            && p.bins >= 1
            && p.bins <= 64
            && n <= 32
            && !p.qbar_a.is_nan()
            && c.f_ai.is_finite()
            && c.adoption_tax.is_finite()
            && grid.clone().all(|&v| v.is_finite() && v >= 0.0);
        if !self.valid {
            return;
        }
        let bin = |q: f32| market::bin_of_clamped(q, p.q_max, p.bins);
        // The qualities `best_share_scalar` computes, from the key.
        let human_bin = |g: usize, talent: f32| bin(talent * br.hf[g]);
        let ai_bin = |g: usize, at: f32| bin(q_ai_of_key(at, br.x[g], p.qbar_a));
        let human = self.human.fill(n, p.bins, human_bin, |bins| {
            let mut best = (f32::NAN, u8::MAX);
            for (g, &b) in bins.iter().enumerate() {
                let v = br.profit_h[b as usize];
                // The first point of the largest value: a strictly greater one replaces it.
                if v > best.0 || (best.1 == u8::MAX && !v.is_nan()) {
                    best = (v, g as u8);
                }
            }
            ([best, (f32::NAN, u8::MAX), (f32::NAN, u8::MAX), (f32::NAN, u8::MAX)], u8::from(best.1 != u8::MAX))
        });
        let ai = self.ai.fill(n, p.bins, ai_bin, |bins| {
            let mut distinct: Vec<(f32, u8)> = Vec::with_capacity(bins.len());
            for (g, &b) in bins.iter().enumerate() {
                let m = br.margin_ai[b as usize];
                if !m.is_nan() && !distinct.iter().any(|&(d, _)| d == m) {
                    distinct.push((m, g as u8));
                }
            }
            // Largest first (no NaN is left).
            distinct.sort_by(|a, b| b.0.partial_cmp(&a.0).expect("no NaN"));
            let mut top = [(f32::NAN, u8::MAX); AI_TOP];
            for (t, &d) in top.iter_mut().zip(&distinct) {
                *t = d;
            }
            (top, distinct.len() as u8)
        });
        self.valid = human && ai;
    }

    /// No tables (this step decides by bound and scan).
    pub(crate) fn clear(&mut self) {
        self.valid = false;
    }

    /// `best_share(talent, x, ai, best, v_star, ..)` from the tables, or `None` where they do
    /// not decide it (no tables this step, a negative or NaN key or expected volume, or an AI
    /// tie beyond the margins kept).
    #[inline]
    pub(crate) fn best_share(
        &self,
        talent: f32,
        x: f32,
        ai: bool,
        best: f32,
        v_star: f32,
        br: &BestResponse,
        p: &StepParams,
    ) -> Option<f32> {
        if !self.valid {
            return None;
        }
        if !ai {
            if !(talent >= 0.0) {
                return None;
            }
            let (m, g) = self.human.best[self.human.interval(talent)][0];
            // The scan ends on the first point of the largest value if that beats `best`.
            let better = g != u8::MAX && m > best;
            // By mask: a select of floats compiles to a branch (`crate::mask`), and whether a
            // creator's best point beats its profit is a coin flip to the predictor.
            return Some(mask::pick(better, br.x[(g as usize).min(br.points - 1)], x));
        }
        let at = p.alpha_a * talent;
        if !(at >= 0.0) || !(v_star >= 0.0) {
            return None;
        }
        let j = self.ai.interval(at);
        let (top, count) = (&self.ai.best[j], self.ai.count[j] as usize);
        if count == 0 {
            return Some(x);
        }
        let c = costs_of(p);
        let top_value = profit(top[0].0, &c, v_star);
        // The profit is non-decreasing in the margin, so the points of the largest profit are
        // those of the first margins whose profit rounds to the same value; of them, the first.
        let mut first = top[0].1;
        for (e, &(m, g)) in top.iter().enumerate().take(count).skip(1) {
            if profit(m, &c, v_star) != top_value {
                break;
            }
            if e + 1 == AI_TOP && count > AI_TOP {
                return None;
            }
            first = first.min(g);
        }
        Some(mask::pick(top_value > best, br.x[first as usize], x))
    }
}

/// `q_ai(talent, x, alpha, qbar)` from the key `at = alpha * talent`: the same operations.
#[inline]
fn q_ai_of_key(at: f32, x: f32, qbar: f32) -> f32 {
    (at * x).min(qbar)
}

#[inline]
fn profit(m: f32, c: &Costs, v_star: f32) -> f32 {
    market::profit_ai_of_margin(m, c, v_star)
}

impl Side {
    /// The cuts of `points` bin functions `bin(g, key)` (non-decreasing in key >= 0, values
    /// below `bins`) and, per interval, `answer` of the points' bins there.
    fn fill(
        &mut self,
        points: usize,
        bins: u32,
        bin: impl Fn(usize, f32) -> u32,
        answer: impl Fn(&[u32]) -> ([(f32, u8); AI_TOP], u8),
    ) -> bool {
        self.cuts.clear();
        let key = |b: u32| f32::from_bits(b);
        for g in 0..points {
            let top = bin(g, f32::INFINITY);
            for k in 1..=top.min(bins - 1) {
                // The least key (as f32 bits: non-negative floats order as their bits) whose
                // bin is at least k; +inf has it.
                let (mut lo, mut hi) = (0u32, f32::INFINITY.to_bits());
                if bin(g, key(lo)) >= k {
                    continue;
                }
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if bin(g, key(mid)) >= k { hi = mid } else { lo = mid }
                }
                self.cuts.push(key(hi));
            }
        }
        self.cuts.sort_by(|a, b| a.partial_cmp(b).expect("cuts are not NaN"));
        self.cuts.dedup();
        if !self.fill_cells() {
            return false;
        }
        let n = self.cuts.len();
        self.cuts.extend([f32::NAN; PER_CELL]);
        self.best.clear();
        self.count.clear();
        let mut at = vec![0u32; points];
        for j in 0..=n {
            let k = if j == 0 { 0.0 } else { self.cuts[j - 1] };
            for (g, b) in at.iter_mut().enumerate() {
                *b = bin(g, k);
            }
            let (best, count) = answer(&at);
            self.best.push(best);
            self.count.push(count);
        }
        true
    }

    /// The interval holding `key` (>= 0, not NaN): how many cuts are at or below it.
    #[inline]
    fn interval(&self, key: f32) -> usize {
        let j = self.start[self.cell(key)] as usize;
        // At most PER_CELL cuts share a cell, and NaN pads the cuts (never <= a key): a fixed
        // number of comparisons, added up, where a loop mispredicted its exit.
        let c = &self.cuts[j..j + PER_CELL];
        usize::from(c[0] <= key) + usize::from(c[1] <= key) + usize::from(c[2] <= key) + usize::from(c[3] <= key) + j
    }

    /// The cuts without their NaN padding.
    #[cfg(test)]
    fn real_cuts(&self) -> &[f32] {
        &self.cuts[..self.cuts.len().saturating_sub(PER_CELL)]
    }

    #[inline]
    fn cell(&self, key: f32) -> usize {
        // A saturating conversion: non-decreasing in the key, +inf to the last cell.
        ((key * self.scale) as usize).min(self.start.len() - 1)
    }

    /// Cells for the cuts, spread over the finite ones: four per cut, or as many more as it
    /// takes to have at most `PER_CELL` cuts in a cell. Returns false if no number up to
    /// `MAX_CELLS` does (cuts closer than that: the side then has no table). Runs before the
    /// padding is added.
    fn fill_cells(&mut self) -> bool {
        let top = self.cuts.iter().rev().find(|c| c.is_finite()).copied().unwrap_or(0.0);
        let mut cells = (4 * self.cuts.len()).max(1);
        while cells <= MAX_CELLS {
            self.scale = if top > 0.0 { cells as f32 / top } else { 0.0 };
            self.start.clear();
            self.start.resize(cells, 0);
            let (mut j, mut most) = (0, 0);
            for c in 0..cells {
                let first = j;
                while j < self.cuts.len() && self.cell(self.cuts[j]) < c {
                    j += 1;
                }
                self.start[c] = j as u32;
                if c > 0 {
                    most = most.max(j - first);
                }
            }
            most = most.max(self.cuts.len() - j);
            if most <= PER_CELL {
                return true;
            }
            cells *= 2;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rules::best_share_scalar;

    /// The tables' answer against the scalar scan on random grids, curves and creators, with
    /// ties (values from a small set), NaN and signed zeros in the tables, and negative, zero
    /// and NaN talents; the tables must decide most cases.
    #[test]
    fn the_tables_give_the_scalar_scans_share() {
        let mut cases = crate::model::rules::ScanCases::new([11, 5]);
        let (mut decided, mut asked, mut moved, mut valid) = (0usize, 0usize, 0usize, 0usize);
        for case in 0..1500 {
            let (p, br) = cases.problem(case);
            let mut u = || cases.u();
            let mut tables = TalentTables::default();
            tables.fill(&br, &p);
            // Cuts closer than the finest cells leave a side without a table (it must say so
            // with None, checked below as every other case is).
            valid += usize::from(tables.valid);
            for creator in 0..12 {
                let talent = match creator {
                    0 => f32::NAN,
                    1 => 0.0,
                    2 => -0.5,
                    // A talent on a cut, where an interval starts.
                    3 if !tables.human.real_cuts().is_empty() => {
                        let cuts = tables.human.real_cuts();
                        cuts[(u() * 1e6) as usize % cuts.len()]
                    }
                    _ => 3.0 * u(),
                };
                let x = u();
                let v_star = [1.0, 0.5 + 3.0 * u(), 0.0][creator % 3];
                let best = [f32::NEG_INFINITY, 0.0, u() - 0.5, f32::NAN, 1.0, -0.0][creator % 6];
                for ai in [false, true] {
                    let want = best_share_scalar(talent, x, ai, best, v_star, &br, &p);
                    asked += 1;
                    if let Some(got) = tables.best_share(talent, x, ai, best, v_star, &br, &p) {
                        decided += 1;
                        moved += usize::from(got != x);
                        assert_eq!(
                            got.to_bits(),
                            want.to_bits(),
                            "case {case} creator {creator} ai {ai}: {got} vs {want}"
                        );
                    }
                }
            }
        }
        assert!(valid * 10 > 1500 * 8, "tables for {valid} of 1500 steps");
        assert!(decided * 10 > asked * 7, "the tables decided {decided} of {asked}");
        assert!(moved * 5 > decided, "a grid point was chosen in {moved} of {decided}");
    }
}
