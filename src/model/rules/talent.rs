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
    /// For the vector path (`decide_kept_avx2`), which loads a 16-byte record per creator
    /// (AVX2's gathers are slow on AMD): per cell, the `PER_CELL` cuts from its start; per
    /// interval, the first entry's value, its point (255 for none) as bits, the second
    /// entry's value and the count as bits.
    cell_cuts: Vec<[f32; PER_CELL]>,
    answers: Vec<[f32; 4]>,
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

    /// Whether the tables hold for this step.
    pub(crate) fn valid(&self) -> bool {
        self.valid
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

/// What `TalentTables::decide_kept_avx2` reads of a batch of creators.
pub(crate) struct KeptLanes<'a> {
    pub mode: &'a [u32],
    pub talent: &'a [f32],
    pub x: &'a [f32],
    pub vol: &'a [f32],
    /// `human_factor(x)` where it is known, NaN where not.
    pub hf: &'a [f32],
    /// Each creator's first word of `decide` (whether it revises).
    pub u: &'a [u32],
}

impl TalentTables {
    /// `rules::decide` for up to 64 creators, eight at a time, for those that do not revise:
    /// such a creator keeps its mode, price, volume and provider, and only its creative share
    /// moves, toward the best response of its mode (of the better productive mode if it has
    /// exited). Both modes' profits (from `br`'s value tables: `mode_profit`'s values) and
    /// both tables' answers are computed for every creator and the right ones picked by
    /// blends: a creator's mode is a coin flip to the branch predictor once creators adopt
    /// AI. Returns the creators it decided, bit i for creator i, with their new shares in
    /// `x_new`; the others (revising, a human factor not known where it is read, a case the
    /// tables leave to the scan, or past the last whole group of eight) are for `decide`.
    ///
    /// # Safety
    /// The CPU must have AVX2, the tables must be `valid` for step `p` and `br` filled for it.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn decide_kept_avx2(
        &self,
        c: KeptLanes,
        br: &BestResponse,
        p: &StepParams,
        x_new: &mut [f32; 64],
    ) -> u64 {
        use super::grid;
        use crate::model::params::{AI, EXIT};
        use crate::rng;
        use std::arch::x86_64::*;
        debug_assert!(self.valid && br.points >= 1);
        let n = c.mode.len().min(c.talent.len()).min(c.x.len()).min(c.vol.len()).min(c.hf.len()).min(c.u.len()).min(64);
        let costs = costs_of(p);
        let ps = _mm256_set1_ps;
        let zero = _mm256_setzero_ps();
        let last_point = _mm256_set1_epi32(br.points as i32 - 1);
        let bin = |q: __m256| grid::bins8(q, p);
        let profit_ai = |m: __m256, v_star: __m256| grid::profit_ai8(m, v_star, &costs);
        // The grid's shares, and the value tables where the curves have at most 32 bins (the
        // default), held in registers (`grid::entry32`), where an AVX2 gather is slow on AMD.
        let grid_x = grid::regs32(&br.x[..br.points]);
        let small = p.bins <= 32;
        let (margin_regs, profit_regs) = (grid::regs32(&br.margin_ai), grid::regs32(&br.profit_h));
        // SAFETY: the CPU has AVX2 (this function's contract); a bin is below `p.bins`, and
        // the value tables have at least `p.bins` entries.
        let gather_ps = |t: &[f32], i: __m256i| unsafe { _mm256_i32gather_ps::<4>(t.as_ptr(), i) };
        let margin_at = |i: __m256i| if small { grid::entry32(&margin_regs, i) } else { gather_ps(&br.margin_ai, i) };
        let profit_at = |i: __m256i| if small { grid::entry32(&profit_regs, i) } else { gather_ps(&br.profit_h, i) };
        // Rows `at[0..8]` of a table of four-float records, transposed: register k holds
        // field k of the eight rows, lane l that of row `at[l]`. (Closures, which take this
        // function's target features and are inlined: a function of its own was not.)
        let rows8 = |table: &[[f32; 4]], at: &[i32; 8]| {
            // SAFETY: the row is a `[f32; 4]` of the table (indexing checks it).
            let row = |l: usize| unsafe { _mm_loadu_ps(table[at[l] as usize].as_ptr()) };
            // Rows l and l + 4 share a register (low and high half); then a 4x4 transpose
            // in each half.
            let (a, b) = (_mm256_set_m128(row(4), row(0)), _mm256_set_m128(row(5), row(1)));
            let (c, d) = (_mm256_set_m128(row(6), row(2)), _mm256_set_m128(row(7), row(3)));
            let (ab_lo, ab_hi) = (_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
            let (cd_lo, cd_hi) = (_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
            [
                _mm256_shuffle_ps::<0x44>(ab_lo, cd_lo),
                _mm256_shuffle_ps::<0xEE>(ab_lo, cd_lo),
                _mm256_shuffle_ps::<0x44>(ab_hi, cd_hi),
                _mm256_shuffle_ps::<0xEE>(ab_hi, cd_hi),
            ]
        };
        // A side's answers (`Side::answers`) for the intervals of eight keys (any: NaN and
        // negatives find the first interval): first value, first point, second value, count.
        let answers8 = |side: &Side, key: __m256| {
            // `Side::cell`: the scaled key clamped to [0, cells - 1] before truncation (NaN
            // and negatives to 0), the cell the saturating conversion and `min` give
            // (truncation is monotone; cells - 1 is at most 2^16, exact in f32).
            let f = _mm256_max_ps(_mm256_mul_ps(key, ps(side.scale)), zero);
            let cell = _mm256_cvttps_epi32(_mm256_min_ps(f, ps((side.start.len() - 1) as f32)));
            let mut at = [0i32; 8];
            // SAFETY: `at` holds eight i32.
            unsafe { _mm256_storeu_si256(at.as_mut_ptr().cast(), cell) };
            let start: [i32; 8] = std::array::from_fn(|l| side.start[at[l] as usize] as i32);
            let cuts = rows8(&side.cell_cuts, &at);
            // The start plus the cuts at or below the key (-1 where one is; NaN never is):
            // `Side::interval`.
            // SAFETY: `start` holds eight i32.
            let mut j = unsafe { _mm256_loadu_si256(start.as_ptr().cast()) };
            for cut in cuts {
                j = _mm256_sub_epi32(j, _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LE_OQ>(cut, key)));
            }
            // SAFETY: as above.
            unsafe { _mm256_storeu_si256(at.as_mut_ptr().cast(), j) };
            rows8(&side.answers, &at)
        };
        let mut done = 0u64;
        for g in 0..n / 8 {
            let at8 = 8 * g;
            // SAFETY (these loads and the store below): creators at8 .. at8 + 8 are below n,
            // the length of every input (and at most 64, the length of `x_new`).
            let ld = |v: &[f32]| unsafe { _mm256_loadu_ps(v.as_ptr().add(at8)) };
            let mode = unsafe { _mm256_loadu_si256(c.mode.as_ptr().add(at8).cast()) };
            let (t, x, vol, hf) = (ld(c.talent), ld(c.x), ld(c.vol), ld(c.hf));
            let u = unsafe { _mm256_loadu_si256(c.u.as_ptr().add(at8).cast()) };
            let is_ai = _mm256_castsi256_ps(_mm256_cmpeq_epi32(mode, _mm256_set1_epi32(AI as i32)));
            let is_exit = _mm256_castsi256_ps(_mm256_cmpeq_epi32(mode, _mm256_set1_epi32(EXIT as i32)));
            let v_star = _mm256_blendv_ps(ps(p.vol_expect), vol, is_ai);
            // Both modes' profits: `q_ai` is (alpha * talent) * x, capped at qbar (min gives
            // the second operand, qbar, for a NaN product, as `f32::min` does).
            let alpha_t = _mm256_mul_ps(ps(p.alpha_a), t);
            let q_ai = _mm256_min_ps(_mm256_mul_ps(alpha_t, x), ps(p.qbar_a));
            let pi_ai = profit_ai(margin_at(bin(q_ai)), v_star);
            let pi_h = profit_at(bin(_mm256_mul_ps(t, hf)));
            let ai = _mm256_or_ps(is_ai, _mm256_and_ps(is_exit, _mm256_cmp_ps::<_CMP_GT_OQ>(pi_ai, pi_h)));
            let best = _mm256_blendv_ps(pi_h, pi_ai, ai);
            // The human table: the first point of the interval's largest value, if it beats best.
            let [mh, gh, _, _] = answers8(&self.human, t);
            let gh = _mm256_castps_si256(gh);
            let some_h = _mm256_castsi256_ps(_mm256_andnot_si256(
                _mm256_cmpeq_epi32(gh, _mm256_set1_epi32(i32::from(u8::MAX))),
                _mm256_set1_epi32(-1),
            ));
            let better_h = _mm256_and_ps(some_h, _mm256_cmp_ps::<_CMP_GT_OQ>(mh, best));
            let share_h = _mm256_blendv_ps(x, grid::entry32(&grid_x, _mm256_min_epi32(gh, last_point)), better_h);
            // The AI table: the largest margin's first point, unless the second margin's
            // profit ties with it (`best_share`'s loop over ties: left to it).
            let [m0, g0, m1, count] = answers8(&self.ai, alpha_t);
            let (g0, count) = (_mm256_castps_si256(g0), _mm256_castps_si256(count));
            let top_value = profit_ai(m0, v_star);
            let tie = _mm256_and_ps(
                _mm256_castsi256_ps(_mm256_cmpgt_epi32(count, _mm256_set1_epi32(1))),
                _mm256_cmp_ps::<_CMP_EQ_OQ>(profit_ai(m1, v_star), top_value),
            );
            let better_ai = _mm256_and_ps(
                _mm256_castsi256_ps(_mm256_cmpgt_epi32(count, _mm256_setzero_si256())),
                _mm256_cmp_ps::<_CMP_GT_OQ>(top_value, best),
            );
            let share_ai = _mm256_blendv_ps(x, grid::entry32(&grid_x, _mm256_min_epi32(g0, last_point)), better_ai);
            // The drift toward the chosen share, clamped as `f32::clamp` does (NaN passes).
            let x_star = _mm256_blendv_ps(share_h, share_ai, ai);
            let mut nx = _mm256_add_ps(x, _mm256_mul_ps(ps(p.eta), _mm256_sub_ps(x_star, x)));
            nx = _mm256_blendv_ps(nx, ps(p.x_lo), _mm256_cmp_ps::<_CMP_LT_OQ>(nx, ps(p.x_lo)));
            nx = _mm256_blendv_ps(nx, ps(p.x_hi), _mm256_cmp_ps::<_CMP_GT_OQ>(nx, ps(p.x_hi)));
            unsafe { _mm256_storeu_ps(x_new.as_mut_ptr().add(at8), nx) };
            // Which of them this decided: not revising (`rng::unit_f32(u) < revise`), the
            // human factor known unless in AI mode, and the chosen mode's table deciding.
            let unit = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32::<8>(u)), ps(rng::unit_f32(1 << 8)));
            let stays = _mm256_cmp_ps::<_CMP_NLT_UQ>(unit, ps(p.revise));
            let known_h = _mm256_cmp_ps::<_CMP_GE_OQ>(t, zero);
            let known_ai = _mm256_andnot_ps(
                tie,
                _mm256_and_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(alpha_t, zero), _mm256_cmp_ps::<_CMP_GE_OQ>(v_star, zero)),
            );
            let hf_ok = _mm256_or_ps(is_ai, _mm256_cmp_ps::<_CMP_ORD_Q>(hf, hf));
            let known = _mm256_blendv_ps(known_h, known_ai, ai);
            let ok = _mm256_and_ps(_mm256_and_ps(stays, hf_ok), known);
            done |= (_mm256_movemask_ps(ok) as u32 as u64) << at8;
        }
        done
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
        self.cell_cuts.clear();
        let cuts = &self.cuts;
        self.cell_cuts.extend(self.start.iter().map(|&j| std::array::from_fn(|k| cuts[j as usize + k])));
        self.answers.clear();
        self.answers.extend(
            self.best
                .iter()
                .zip(&self.count)
                .map(|(b, &n)| [b[0].0, f32::from_bits(u32::from(b[0].1)), b[1].0, f32::from_bits(u32::from(n))]),
        );
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

    /// `decide_kept_avx2` against `rules::decide` on random markets (curves with ties and NaN,
    /// every mode, negative, zero and NaN talents, negative volumes, unknown human factors):
    /// every creator it says it decided is one that does not revise, and `decide` gives it
    /// the same share, bit for bit, and leaves the rest as it was. It must decide most
    /// creators that do not revise.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_kept_modes_lanes_decide_as_decide() {
        use crate::model::params::{AI, EXIT, HUMAN};
        use crate::model::rules::decide;
        use crate::model::technology::human_factor;
        use crate::rng;
        assert!(std::arch::is_x86_feature_detected!("avx2"), "this test needs an x86-64 CPU with AVX2");
        let mut cases = crate::model::rules::ScanCases::new([31, 4]);
        let (mut tables, mut staying, mut decided, mut moved) = (0usize, 0usize, 0usize, 0usize);
        for case in 0..600 {
            let (mut p, _) = cases.problem(case);
            let mut u = || cases.u();
            (p.revise, p.eta, p.vol_expect, p.logit) = (0.2, 0.5 * u(), 4.0 * u(), 20.0);
            (p.c_ai, p.api_fee, p.c_human, p.ai_floor, p.n_providers) = (0.1 * u(), 0.02, 0.3 * u(), 0.1, 3);
            // Sell-through rates from a small set (ties of margins), and tiny ones, whose
            // distinct margins give profits that round to one value (the AI table's ties).
            let pool = [0.0, 0.5, 1.0, f32::NAN, 0.25, 1e-8, 2.5e-8];
            let rp: Vec<[f32; 2]> = (0..2 * p.bins)
                .map(|_| [if u() < 0.4 { pool[(u() * 7.0) as usize % 7] } else { u() }, 2.0 * u()])
                .collect();
            let mut br = BestResponse { by_talent: true, ..Default::default() };
            br.fill(&p, &rp);
            if !br.talent.valid() {
                continue;
            }
            tables += 1;
            let n = 64;
            let mode: Vec<u32> = (0..n).map(|_| [EXIT, AI, HUMAN][(u() * 3.0) as usize % 3]).collect();
            let talent: Vec<f32> = (0..n)
                .map(|i| match i % 16 {
                    0 => f32::NAN,
                    1 => -0.5,
                    2 => 0.0,
                    _ => 3.0 * u(),
                })
                .collect();
            let x: Vec<f32> = (0..n).map(|_| p.x_lo + (p.x_hi - p.x_lo) * u()).collect();
            let vol: Vec<f32> = (0..n).map(|i| if i % 11 == 0 { -1.0 } else { 8.0 * u() }).collect();
            let hf_true: Vec<f32> = x.iter().map(|&x| human_factor(x, p.w, p.inv_z)).collect();
            let hf: Vec<f32> =
                hf_true.iter().enumerate().map(|(i, &h)| if i % 13 == 0 { f32::NAN } else { h }).collect();
            let words: Vec<[u32; 4]> = (0..n).map(|_| std::array::from_fn(|_| (u() * 4.294_967e9) as u32)).collect();
            let first: Vec<u32> = words.iter().map(|w| w[0]).collect();
            let lanes = KeptLanes { mode: &mode, talent: &talent, x: &x, vol: &vol, hf: &hf, u: &first };
            let mut x_new = [0f32; 64];
            // SAFETY: the CPU has AVX2 (asserted above) and the tables are valid for `p`.
            let done = unsafe { br.talent.decide_kept_avx2(lanes, &br, &p, &mut x_new) };
            for i in 0..n {
                let revises = rng::unit_f32(words[i][0]) < p.revise;
                staying += usize::from(!revises);
                if done >> i & 1 == 0 {
                    continue;
                }
                decided += 1;
                let d = decide(talent[i], x[i], mode[i], 1.5, vol[i], 2, words[i], &rp, &br, &p, || hf_true[i]);
                assert!(!revises, "case {case}, creator {i} revises");
                assert_eq!(
                    (d.mode, d.price, d.vol.to_bits(), d.provider),
                    (mode[i], 1.5, vol[i].to_bits(), 2),
                    "case {case}, creator {i}"
                );
                assert_eq!(d.x.to_bits(), x_new[i].to_bits(), "case {case}, creator {i}: {} against {}", d.x, x_new[i]);
                moved += usize::from(d.x != x[i]);
            }
        }
        assert!(tables > 200 && decided > staying / 2 && moved > decided / 4, "{tables} {staying} {decided} {moved}");
    }

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
