//! Per-agent rules of the step, as scalar functions of one agent's fields and the step's
//! parameters. The CPU backend calls them element by element; each shader in `shaders/`
//! mirrors the function of the same name (the parity tests hold them together).

use super::market::{self, CH_AI, CH_HUMAN, Costs};
use super::params::{AI, EXIT, HUMAN, StepParams};
use super::technology::{human_factor, q_ai};
use crate::rng;

/// Nominal quality of a creator's units in `mode` (exit creators are valued as human).
#[inline]
pub fn nominal_quality(mode: u32, talent: f32, x: f32, p: &StepParams) -> f32 {
    nominal_quality_and_factor(mode, talent, x, f32::NAN, p).0
}

/// `nominal_quality` and the human factor `human_factor(x)` it was computed from: `known`
/// where that is not NaN (the caller's promise that it is `human_factor(x, p.w, p.inv_z)`),
/// else computed (two `powf`) in human craft and exit; in AI mode, whose quality does not
/// use it, `known` as it is. `decide` needs the same factor for the human profit at x, and
/// the CPU keeps it while x does not move rather than compute it again.
#[inline]
pub fn nominal_quality_and_factor(mode: u32, talent: f32, x: f32, known: f32, p: &StepParams) -> (f32, f32) {
    if mode == AI {
        (q_ai(talent, x, p.alpha_a, p.qbar_a), known)
    } else {
        // q_human(talent, x, w, inv_z), its factor kept.
        let hf = if known.is_nan() { human_factor(x, p.w, p.inv_z) } else { known };
        (talent * hf, hf)
    }
}

/// Units emitted: 0 in exit, 1 in human craft, floor(v + U[0,1)) in [1, v_max] in AI mode.
/// `u` gives the random word; it is called only in AI mode (draws are addressed, so one
/// not drawn changes no other; the CPU skips the Philox block for everyone else).
#[inline]
pub fn capacity(mode: u32, vol: f32, u: impl FnOnce() -> u32, vmax: f32) -> u32 {
    match mode {
        // vol + U >= 0, so truncation is floor.
        AI => ((vol + rng::unit_f32(u())) as u32).clamp(1, vmax as u32),
        HUMAN => 1,
        _ => 0,
    }
}

/// A standard normal from one word (Box–Muller on two 16-bit halves; tails cut at 4.7 sd).
/// Signal noise needs no more, and it saves a second Philox call per sample.
#[inline]
pub fn normal16(w: u32) -> f32 {
    normal16_radius(w >> 16) * normal16_angle(w & 0xffff)
}

/// The radius factor of `normal16` from the word's high half `hi` (< 2^16): sqrt(-2 ln u1).
/// Each half takes only 2^16 values, so the CPU tabulates both factors once per process
/// (`backend::cpu`), which gives the same bits as computing them.
#[inline]
pub fn normal16_radius(hi: u32) -> f32 {
    let u1 = (hi + 1) as f32 * (1.0 / 65536.0);
    (-2.0 * u1.ln()).sqrt()
}

/// The angle factor of `normal16` from the word's low half `lo` (< 2^16): cos(2 pi u2).
#[inline]
pub fn normal16_angle(lo: u32) -> f32 {
    let u2 = lo as f32 * (1.0 / 65536.0);
    (std::f32::consts::TAU * u2).cos()
}

/// Channel of one search sample: true for human. With probability d the pick is directed
/// and lands on a human unit with probability `label_accuracy`; otherwise it follows the
/// (curated) human share h. An empty channel sends the pick to the other one.
#[inline]
pub fn sample_is_human(u_dir: u32, u_chan: u32, d: f32, p: &StepParams) -> bool {
    // One comparison against the threshold of the pick's kind (no branch to mispredict).
    let threshold = std::hint::select_unpredictable(rng::unit_f32(u_dir) < d, p.label_accuracy, p.h_share);
    let human = rng::unit_f32(u_chan) < threshold;
    if p.n_human_units == 0 {
        false
    } else if p.n_ai_units == 0 {
        true
    } else {
        human
    }
}

/// The unit index of a sample given its channel and pick word.
#[inline]
pub fn sample_unit(human: bool, u_pick: u32, p: &StepParams) -> u32 {
    // The channel is a coin flip per sample: a conditional move, not a branch.
    let (first, count) = std::hint::select_unpredictable(human, (p.n_ai_units, p.n_human_units), (0, p.n_ai_units));
    first + rng::below(u_pick, count)
}

/// Whether AI unit `unit` is junk this step.
#[inline]
pub fn is_junk(unit: u32, p: &StepParams) -> bool {
    unit < p.n_ai_units && junk_of_word(rng::draw4(p.key, unit, p.step, rng::Stream::Junk as u32, 0)[0], p)
}

/// Whether an AI unit whose junk word (the first of its `Stream::Junk` draw) is `w` is junk.
#[inline]
pub fn junk_of_word(w: u32, p: &StepParams) -> bool {
    rng::unit_f32(w) < p.junk_share
}

/// The buyer rule after matching. Returns (U', active', u_human', u_ai', d', u, paid) given
/// this step's purchase (quality true, price, was it AI) or none. `u_return` gives the
/// random word of an inactive buyer's return; it is called only for inactive buyers.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn buyer_update(
    theta: f32,
    util: f32,
    active: bool,
    exp: [f32; 2],
    d: f32,
    searches: u32,
    purchase: Option<(f32, f32, bool)>,
    u_return: impl FnOnce() -> u32,
    p: &StepParams,
) -> (f32, bool, [f32; 2], f32, f32, f32) {
    if !active {
        return (util, rng::unit_f32(u_return()) < p.eps_c, exp, d, 0.0, 0.0);
    }
    let mut exp = exp;
    let (mut u, paid) = match purchase {
        Some((q, price, ai)) => {
            let v = theta * q - price;
            let ch = if ai { 1 } else { 0 };
            exp[ch] += p.lam_u * (v - exp[ch]);
            (v, price)
        }
        None => (0.0, 0.0),
    };
    u -= (searches * p.k) as f32 * p.search_cost;
    let felt = if p.cong_in_u != 0 { u - p.congestion } else { u };
    let util = util + p.lam_c * (felt - util);
    let d = if p.ai_present != 0 {
        let s = exp[0] - exp[1];
        let sign = if s > 0.0 {
            1.0
        } else if s < 0.0 {
            -1.0
        } else {
            0.0
        };
        (d + p.lam_d * sign).clamp(0.0, 1.0)
    } else {
        d
    };
    (util, util >= 0.0, exp, d, u, paid)
}

/// The creator's accounts after matching: (revenue, price', vol'). Profit is revenue minus
/// `cost_of` (fixed and variable costs, taxes, less subsidies).
#[inline]
pub fn account(mode: u32, price: f32, vol: f32, cap: u32, sold: u32, p: &StepParams) -> (f32, f32, f32) {
    account_with(mode, price, vol, cap, sold, || price_step(sold, cap, p), p)
}

/// The price step exp(price_speed (2 r - 1)) at sell-through r = sold / cap.
#[inline]
pub fn price_step(sold: u32, cap: u32, p: &StepParams) -> f32 {
    let r = sold as f32 / cap as f32;
    (p.price_speed * (2.0 * r - 1.0)).exp()
}

/// `account` with the price step given by `step` (called only where a price moves):
/// `price_step` itself, or a backend's table of it (the CPU's `PriceSteps`).
#[inline]
pub fn account_with(
    mode: u32,
    price: f32,
    vol: f32,
    cap: u32,
    sold: u32,
    step: impl FnOnce() -> f32,
    p: &StepParams,
) -> (f32, f32, f32) {
    if mode == EXIT || cap == 0 {
        return (0.0, price, vol);
    }
    let sold_f = sold as f32;
    let r = sold_f / cap as f32;
    let revenue = price * sold_f;
    let step = step();
    if mode == HUMAN {
        (revenue, (price * step).max(p.c_human), vol)
    } else {
        let margin = r * (price - p.api_fee) - p.c_ai - p.unit_tax;
        let v = (vol * (p.vol_speed * margin / price.max(0.05)).exp()).clamp(1.0, p.ai_volume_max);
        // Generation is sunk once a unit exists: the price may fall to the fee, but the
        // platform's floor (ai_floor) stops it there, and then volume takes the strain.
        (revenue, (price * step).max(p.ai_floor), v)
    }
}

/// Costs a creator paid this step: fixed and variable costs and taxes, less subsidies.
/// The human cost is per unit sold, or per unit produced (`cap`) with
/// `human_cost_produced` (`technology.human_cost_basis = "produced"`).
#[inline]
pub fn cost_of(mode: u32, cap: u32, sold: u32, p: &StepParams) -> f64 {
    let (cap, sold) = (cap as f32, sold as f32);
    (match mode {
        AI => p.f_ai + p.adoption_tax + (p.c_ai + p.unit_tax) * cap + p.api_fee * sold,
        HUMAN => (p.c_human - p.subsidy) * if p.human_cost_produced != 0 { cap } else { sold },
        _ => 0.0,
    }) as f64
}

/// Costs of the expected-profit formulas from the step parameters.
#[inline]
pub fn costs_of(p: &StepParams) -> Costs {
    Costs {
        c_human: p.c_human,
        subsidy: p.subsidy,
        c_ai: p.c_ai,
        f_ai: p.f_ai,
        api_fee: p.api_fee,
        unit_tax: p.unit_tax,
        adoption_tax: p.adoption_tax,
    }
}

/// The AI volume v* a creator in `mode` with volume `vol` expects to produce in AI mode:
/// its own if it is an AI creator, otherwise what AI creators produce (`vol_expect`).
#[inline]
pub fn expected_volume(mode: u32, vol: f32, p: &StepParams) -> f32 {
    if mode == AI { vol } else { p.vol_expect }
}

/// Expected profit of a productive mode at creative share x, whose human quality
/// factor `hf = human_factor(x)` the caller supplies (shared across creators on a grid);
/// `v_star` is the AI volume it expects (`expected_volume`).
#[inline]
pub fn mode_profit(mode: u32, talent: f32, x: f32, hf: f32, v_star: f32, rp: &[[f32; 2]], p: &StepParams) -> f32 {
    let c = costs_of(p);
    if mode == AI {
        let q = q_ai(talent, x, p.alpha_a, p.qbar_a);
        market::expected_profit_ai(market::curve_at(rp, p.bins, p.q_max, CH_AI, q), &c, v_star)
    } else {
        market::expected_profit_human(market::curve_at(rp, p.bins, p.q_max, CH_HUMAN, talent * hf), &c)
    }
}

/// The creative-share grid of the best response: `x_grid` points on [x_lo, x_hi].
#[inline]
pub fn grid_x(g: u32, p: &StepParams) -> f32 {
    let n = p.x_grid.max(2);
    p.x_lo + (p.x_hi - p.x_lo) * g as f32 / (n - 1) as f32
}

/// `human_factor` at every grid point, computed once per step.
pub fn grid_factors(p: &StepParams) -> Vec<f32> {
    (0..p.x_grid.max(2)).map(|g| human_factor(grid_x(g, p), p.w, p.inv_z)).collect()
}

/// Grid points whose curve bins `decide` computes together (a block the compiler
/// vectorises; the grid has at most 256 points).
const GRID_BLOCK: usize = 32;

/// What the best response reads, prepared once per step: the creative-share grid (x_g and
/// `human_factor(x_g)`) and, per curve bin, the expected human profit and the AI margin.
/// A grid point's value depends on the point only through the curve bin its quality falls
/// in, so `decide` computes every point's bin (vectorised) and reads its value from these:
/// the values `mode_profit` gives, compared in the same order. Every vector is padded with
/// zeros to whole registers (`grid`'s vector scan loads them directly); `points` and `bins`
/// say how much of each is real.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BestResponse {
    /// Grid points (`p.x_grid`, at least 2).
    pub points: usize,
    /// x_g per grid point (`grid_x`), then zeros to a multiple of eight.
    pub x: Vec<f32>,
    /// human_factor(x_g) per grid point (`grid_factors`), then zeros.
    pub hf: Vec<f32>,
    /// `expected_profit_human` per bin of the human curve, then zeros to at least 32 entries.
    pub profit_h: Vec<f32>,
    /// `market::margin_ai` per bin of the AI curve, then zeros to at least 32 entries.
    pub margin_ai: Vec<f32>,
    /// Whether this CPU has AVX2 (`best_share`'s vector scan), checked by `fill`.
    pub avx2: bool,
    /// The smallest and largest human factor and creative share on the grid.
    pub hf_range: [f32; 2],
    pub x_range: [f32; 2],
    /// The largest of `profit_h[lo..=hi]` and of `margin_ai[lo..=hi]` at `[lo * bins + hi]`,
    /// NaN left out (-inf if all are NaN); empty when the curves have more than
    /// `RANGE_BINS` bins. `best_share`'s bound on what any grid point can reach.
    pub range_h: Vec<f32>,
    pub range_ai: Vec<f32>,
    /// Whether `fill` tabulates the best response by talent (`talent`): worth it for large
    /// markets only (a table costs about what deciding a few thousand creators does).
    pub by_talent: bool,
    /// The best response by talent (`rules::talent`), when `by_talent` and it applies.
    pub(crate) talent: talent::TalentTables,
}

/// Curves with at most this many bins get `BestResponse`'s range tables (`bins^2` entries).
const RANGE_BINS: usize = 64;

impl BestResponse {
    /// The tables of step `p` against curves `rp`.
    pub fn new(p: &StepParams, rp: &[[f32; 2]]) -> Self {
        let mut b = Self::default();
        b.fill(p, rp);
        b
    }

    /// Refills the tables for step `p`, keeping their allocations.
    pub fn fill(&mut self, p: &StepParams, rp: &[[f32; 2]]) {
        #[cfg(target_arch = "x86_64")]
        {
            self.avx2 = std::arch::is_x86_feature_detected!("avx2");
        }
        let n = p.x_grid.max(2) as usize;
        self.points = n;
        let padded = n.div_ceil(8) * 8;
        self.x.clear();
        self.x.extend((0..n as u32).map(|g| grid_x(g, p)));
        self.hf.clear();
        self.hf.extend(self.x.iter().map(|&x| human_factor(x, p.w, p.inv_z)));
        self.x.resize(padded, 0.0);
        self.hf.resize(padded, 0.0);
        let c = costs_of(p);
        let bins = p.bins as usize;
        let table_len = bins.max(grid::TABLE_REGS * 8);
        self.profit_h.clear();
        self.profit_h.extend(rp[CH_HUMAN * bins..][..bins].iter().map(|&cell| market::expected_profit_human(cell, &c)));
        self.profit_h.resize(table_len, 0.0);
        self.margin_ai.clear();
        self.margin_ai.extend(rp[CH_AI * bins..][..bins].iter().map(|&cell| market::margin_ai(cell, &c)));
        self.margin_ai.resize(table_len, 0.0);
        self.fill_ranges(bins);
        let mut t = std::mem::take(&mut self.talent);
        if self.by_talent {
            t.fill(self, p);
        } else {
            t.clear();
        }
        self.talent = t;
    }

    /// The grid's ranges and the range tables, from the grid and the value tables.
    pub(crate) fn fill_ranges(&mut self, bins: usize) {
        let (grid_hf, grid_x) = (&self.hf[..self.points], &self.x[..self.points]);
        let range =
            |v: &[f32]| v.iter().fold([f32::INFINITY, f32::NEG_INFINITY], |[lo, hi], &a| [lo.min(a), hi.max(a)]);
        (self.hf_range, self.x_range) = (range(grid_hf), range(grid_x));
        // A NaN factor or share puts its point in bin 0, outside the range: no bound then.
        let bounded = bins <= RANGE_BINS && !grid_hf.iter().chain(grid_x).any(|v| v.is_nan());
        for (out, table) in [(&mut self.range_h, &self.profit_h), (&mut self.range_ai, &self.margin_ai)] {
            out.clear();
            if bounded {
                out.resize(bins * bins, f32::NEG_INFINITY);
                for lo in 0..bins {
                    let mut m = f32::NEG_INFINITY;
                    for hi in lo..bins {
                        // `max` leaves NaN out.
                        m = m.max(table[hi]);
                        out[lo * bins + hi] = m;
                    }
                }
            }
        }
    }

    /// A value no grid point of this creator's scan exceeds: the largest table value between
    /// the bins of its lowest and highest grid quality (the bins of the others lie between:
    /// the quality is monotone in the factor or share for talent >= 0, and the bin in the
    /// quality), as the mode's value (`profit_ai_of_margin` is monotone in the margin for
    /// v* >= 0). +inf where that does not hold or there are no range tables.
    #[inline]
    pub(crate) fn bound(&self, talent: f32, ai: bool, v_star: f32, p: &StepParams) -> f32 {
        let bins = p.bins as usize;
        // A bin is monotone in quality only for q_max > 0 (a config's is at least 0.001).
        if !(talent >= 0.0) || !(p.q_max > 0.0) || self.range_h.is_empty() {
            return f32::INFINITY;
        }
        let bin = |q: f32| market::bin_of_clamped(q, p.q_max, p.bins) as usize;
        if ai {
            let at = p.alpha_a * talent;
            if !(at >= 0.0) || !(v_star >= 0.0) {
                return f32::INFINITY;
            }
            let [x0, x1] = self.x_range;
            let m = self.range_ai[bin((at * x0).min(p.qbar_a)) * bins + bin((at * x1).min(p.qbar_a))];
            if m == f32::NEG_INFINITY { m } else { market::profit_ai_of_margin(m, &costs_of(p), v_star) }
        } else {
            let [f0, f1] = self.hf_range;
            self.range_h[bin(talent * f0) * bins + bin(talent * f1)]
        }
    }
}

/// Result of a creator's decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decided {
    pub mode: u32,
    pub x: f32,
    pub price: f32,
    pub vol: f32,
    pub provider: u32,
}

/// The logit decision and skill drift of one creator. `w` are four random words; `br`
/// the step's grid and tables (`BestResponse::new(p, rp)`); `hf_x` gives
/// `human_factor(x, p.w, p.inv_z)` (called only when the human profit at x is compared).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn decide(
    talent: f32,
    x: f32,
    mode: u32,
    price: f32,
    vol: f32,
    provider: u32,
    w: [u32; 4],
    rp: &[[f32; 2]],
    br: &BestResponse,
    p: &StepParams,
    hf_x: impl FnOnce() -> f32,
) -> Decided {
    let v_star = expected_volume(mode, vol, p);
    let revise = rng::unit_f32(w[0]) < p.revise;
    // A creator that does not revise reads only the profit of the mode it is in (an exited
    // one compares both): the other is not computed (the human one costs two powf).
    let pi_ai = if revise || mode == AI || mode == EXIT {
        // AI quality does not depend on the human factor.
        mode_profit(AI, talent, x, 0.0, v_star, rp, p)
    } else {
        0.0
    };
    let pi_h = if revise || mode != AI { mode_profit(HUMAN, talent, x, hf_x(), v_star, rp, p) } else { 0.0 };
    let mut new_mode = mode;
    if revise {
        new_mode = market::logit_choice([0.0, pi_ai, pi_h], p.logit, rng::unit_f32(w[1]));
    }
    // Skill drift toward the best response of the better productive mode.
    let target_mode = if new_mode == EXIT { if pi_ai > pi_h { AI } else { HUMAN } } else { new_mode };
    let ai = target_mode == AI;
    let best = if ai { pi_ai } else { pi_h };
    let x_star = best_share(talent, x, ai, best, v_star, br, p);
    let new_x = (x + p.eta * (x_star - x)).clamp(p.x_lo, p.x_hi);
    let mut out = Decided { mode: new_mode, x: new_x, price, vol, provider };
    if new_mode != mode && new_mode != EXIT {
        let ch = if new_mode == AI { CH_AI } else { CH_HUMAN };
        let q = nominal_quality(new_mode, talent, new_x, p);
        let floor = if new_mode == AI { p.ai_floor } else { p.c_human };
        out.price = market::curve_at(rp, p.bins, p.q_max, ch, q)[1].max(floor);
        if new_mode == AI {
            // An entrant produces what it expected to: what AI creators produce.
            out.vol = v_star;
            out.provider = rng::below(w[2], p.n_providers);
        }
    }
    out
}

/// The creative share of the first grid point whose expected profit in AI mode (`ai`) or
/// human craft beats `best` (the profit at the current share `x`) and every earlier point;
/// `x` if none does: `mode_profit` maximised over the grid point by point, each point's
/// value read from its curve bin. `x` at once where `BestResponse::bound` says no point can
/// beat `best`; otherwise the vector scan where the CPU has one, else the scalar scan.
#[inline]
pub(crate) fn best_share(
    talent: f32,
    x: f32,
    ai: bool,
    best: f32,
    v_star: f32,
    br: &BestResponse,
    p: &StepParams,
) -> f32 {
    if let Some(share) = br.talent.best_share(talent, x, ai, best, v_star, br, p) {
        return share;
    }
    // A creator whose current profit no grid point can beat keeps its share without a scan
    // (in a settled market, most: their share already gives the best bin within reach).
    if !(br.bound(talent, ai, v_star, p) > best) {
        return x;
    }
    #[cfg(target_arch = "x86_64")]
    if br.avx2 && br.points <= grid::SIMD_POINTS {
        // SAFETY: `fill` found AVX2 on this CPU and padded the grid; it is within the
        // vector scan's size.
        return unsafe { grid::best_share_avx2(talent, x, ai, best, v_star, br, p) };
    }
    best_share_scalar(talent, x, ai, best, v_star, br, p)
}

/// `best_share`'s scan point by point (any grid, any CPU; the vector scan's reference). The
/// bins of a block of points are computed first (independent of each other, so the compiler
/// vectorises them); the scan that follows compares the same values in the same order as the
/// point-by-point loop.
#[inline]
pub(crate) fn best_share_scalar(
    talent: f32,
    x: f32,
    ai: bool,
    mut best: f32,
    v_star: f32,
    br: &BestResponse,
    p: &StepParams,
) -> f32 {
    let c = costs_of(p);
    let mut x_star = x;
    let n = br.points;
    for (xs, hfs) in br.x[..n].chunks(GRID_BLOCK).zip(br.hf[..n].chunks(GRID_BLOCK)) {
        // The qualities `mode_profit` computes, and their bins (`curve_at`).
        let mut bins = [0u32; GRID_BLOCK];
        if ai {
            for (b, &xg) in bins.iter_mut().zip(xs) {
                *b = market::bin_of_clamped(q_ai(talent, xg, p.alpha_a, p.qbar_a), p.q_max, p.bins);
            }
            for (&b, &xg) in bins.iter().zip(xs) {
                let v = market::profit_ai_of_margin(br.margin_ai[b as usize], &c, v_star);
                if v > best {
                    best = v;
                    x_star = xg;
                }
            }
        } else {
            for (b, &gf) in bins.iter_mut().zip(hfs) {
                *b = market::bin_of_clamped(talent * gf, p.q_max, p.bins);
            }
            for (&b, &xg) in bins.iter().zip(xs) {
                let v = br.profit_h[b as usize];
                if v > best {
                    best = v;
                    x_star = xg;
                }
            }
        }
    }
    x_star
}

// ---------------------------------------------------------------------------------------
// The paper's Q-learning rule (`decision = "q_learning"`, MODEL.md step 6). A creator
// keeps Q-values over {stay, re-skill, adopt AI, exit} in `qvals`; the word `reskill`
// packs the rest of its learning state (no extra buffer on either backend):
// bits 0..16 the re-skilling steps left, bits 16..18 the last action, bit 18 whether the
// Q-table has been initialised. Under the logit rule the word stays 0.

/// Q-learning actions, as indices into `qvals`.
pub const Q_STAY: u32 = 0;
pub const Q_RESKILL: u32 = 1;
pub const Q_ADOPT: u32 = 2;
pub const Q_EXIT: u32 = 3;
/// Masks and flags of the packed `reskill` word.
pub const RESKILL_LEFT: u32 = 0xffff;
pub const RESKILL_ACTION_SHIFT: u32 = 16;
pub const RESKILL_INIT: u32 = 1 << 18;

/// Re-skilling steps left in a packed `reskill` word.
#[inline]
pub fn reskill_left(word: u32) -> u32 {
    word & RESKILL_LEFT
}

/// Units emitted, with re-skilling at half output: `capacity`, except that a creator
/// re-skilling this step offers its human unit with probability one half, or half its
/// AI volume. (Identical to `capacity` when not re-skilling, so both rules call it.)
/// `u` gives the random word, called only when the count depends on it.
#[inline]
pub fn capacity_q(mode: u32, vol: f32, u: impl FnOnce() -> u32, vmax: f32, reskill: u32) -> u32 {
    if reskill_left(reskill) == 0 {
        return capacity(mode, vol, u, vmax);
    }
    match mode {
        HUMAN => u32::from(rng::unit_f32(u()) < 0.5),
        AI => capacity(AI, 0.5 * vol, u, vmax),
        _ => 0,
    }
}

/// Costs a creator paid this step, re-skilling included: `cost_of` plus `reskill_cost`
/// while re-skilling (a creator may re-skill with nothing to offer this step).
#[inline]
pub fn cost_with_reskill(mode: u32, cap: u32, sold: u32, reskill: u32, p: &StepParams) -> f64 {
    let training = if reskill_left(reskill) > 0 { p.reskill_cost as f64 } else { 0.0 };
    (if cap > 0 { cost_of(mode, cap, sold, p) } else { 0.0 }) + training
}

/// Result of a Q-learning decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecidedQ {
    pub d: Decided,
    pub qvals: [f32; 4],
    pub reskill: u32,
}

/// The Q-learning step of one creator after its accounts: `profit` is this step's profit
/// (revenue less `cost_with_reskill`). The Q-value of the last action moves toward
/// profit + q_gamma max Q; on the first call Q(stay) starts at the current profit's
/// discounted value profit / (1 - q_gamma), Q(re-skill) and Q(adopt) at `q_init` and
/// Q(exit) at 0, so staying looks good until experience says otherwise (the recognition
/// lag). With an outside option (`q_outside > 0`, from the shock on) Q(exit) is its known
/// value q_outside / (1 - q_gamma) every step.
/// With `q_reversible` stay means human craft from any mode (see below). A creator in a re-skilling spell
/// moves reskill_delta / reskill_steps of its skill share from technical to creative
/// each step and chooses nothing; otherwise it picks an action epsilon-greedily (ties
/// to the lower index): stay; re-skill (a spell of reskill_steps; as stay when exited);
/// adopt AI (entering at the market price for its AI quality, a fresh volume and a random
/// provider; as stay when already AI); exit. `w` are four random words.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn decide_q(
    talent: f32,
    x: f32,
    mode: u32,
    price: f32,
    vol: f32,
    provider: u32,
    qvals: [f32; 4],
    reskill: u32,
    profit: f32,
    w: [u32; 4],
    rp: &[[f32; 2]],
    p: &StepParams,
) -> DecidedQ {
    let mut q = qvals;
    let mut out = Decided { mode, x, price, vol, provider };
    let gamma = p.q_gamma;
    let discount = (1.0 - gamma).max(1e-3);
    // An outside option is a known payoff, not learned: Q(exit) is its discounted value.
    let known_exit = p.q_outside > 0.0;
    let q_exit = if known_exit { p.q_outside / discount } else { q[3] };
    if reskill & RESKILL_INIT == 0 {
        q = [profit / discount, p.q_init, p.q_init, if known_exit { q_exit } else { 0.0 }];
    } else {
        q[3] = q_exit;
        let best = q[0].max(q[1]).max(q[2]).max(q[3]);
        let a = ((reskill >> RESKILL_ACTION_SHIFT) & 3) as usize;
        if !(known_exit && a == Q_EXIT as usize) {
            q[a] += p.q_alpha * (profit + gamma * best - q[a]);
        }
    }
    let mut left = reskill_left(reskill);
    if left > 0 {
        left -= 1;
        out.x = (x + p.reskill_delta / p.reskill_steps.max(1) as f32).clamp(p.x_lo, p.x_hi);
        return DecidedQ { d: out, qvals: q, reskill: RESKILL_INIT | (Q_RESKILL << RESKILL_ACTION_SHIFT) | left };
    }
    let action = if rng::unit_f32(w[0]) < p.q_epsilon {
        rng::below(w[1], 4)
    } else {
        let mut a = 0;
        for i in 1..4 {
            if q[i] > q[a] {
                a = i;
            }
        }
        a as u32
    };
    match action {
        Q_RESKILL if mode != EXIT => left = p.reskill_steps.min(RESKILL_LEFT),
        Q_ADOPT if mode != AI => {
            out.mode = AI;
            let q_a = nominal_quality(AI, talent, x, p);
            out.price = market::curve_at(rp, p.bins, p.q_max, CH_AI, q_a)[1].max(p.ai_floor);
            out.vol = p.vol_expect;
            out.provider = rng::below(w[2], p.n_providers);
        }
        Q_EXIT => out.mode = EXIT,
        // With q_reversible, stay is human craft: an AI or exited creator returns to it at
        // the market price for its human quality.
        Q_STAY if p.q_reversible != 0 && mode != HUMAN => {
            out.mode = HUMAN;
            let q_h = nominal_quality(HUMAN, talent, x, p);
            out.price = market::curve_at(rp, p.bins, p.q_max, CH_HUMAN, q_h)[1].max(p.c_human);
        }
        _ => {}
    }
    DecidedQ { d: out, qvals: q, reskill: RESKILL_INIT | (action << RESKILL_ACTION_SHIFT) | left }
}

mod grid;
mod talent;
pub(crate) use talent::KeptLanes;

/// Random best-response problems for the tests of the fast paths (`grid`, `talent`) against
/// `best_share_scalar`: grids of 2 to 32 points, 1 to 64 bins, and value tables with ties
/// (values from a small set), NaN and signed zeros.
#[cfg(test)]
pub(crate) struct ScanCases {
    key: [u32; 2],
    k: u32,
}

#[cfg(test)]
impl ScanCases {
    pub(crate) fn new(key: [u32; 2]) -> Self {
        Self { key, k: 0 }
    }

    /// The next uniform draw in [0, 1).
    pub(crate) fn u(&mut self) -> f32 {
        self.k += 1;
        rng::unit_f32(rng::draw4(self.key, self.k, 0, 0, 0)[0])
    }

    /// Step parameters and filled tables of problem `case`.
    pub(crate) fn problem(&mut self, case: u32) -> (StepParams, BestResponse) {
        let mut p = StepParams { x_lo: 0.02, x_hi: 0.98, f_ai: 0.3, adoption_tax: 0.05, ..Default::default() };
        p.x_grid = 2 + case % 31;
        p.bins = [1, 2, 7, 64, 16, 32, 33][case as usize % 7];
        p.q_max = 0.5 + 3.0 * self.u();
        p.alpha_a = 3.0 * self.u();
        p.qbar_a = 2.0 * self.u();
        p.w = 0.1 + 0.8 * self.u();
        p.inv_z = 1.0 / super::technology::z_of(p.w);
        let pool = [0.0, -0.0, 1.0, 2.5, -1.0, f32::NAN, 0.25];
        let mut br = BestResponse::new(&p, &vec![[1.0, 1.0]; 2 * p.bins as usize]);
        for v in br.profit_h.iter_mut().chain(br.margin_ai.iter_mut()) {
            *v = if self.u() < 0.5 { pool[(self.u() * 7.0) as usize % 7] } else { 4.0 * self.u() - 2.0 };
        }
        br.fill_ranges(p.bins as usize);
        (p, br)
    }
}
#[cfg(test)]
mod tests;
