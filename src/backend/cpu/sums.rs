//! `reduce`'s sums over one chunk of buyers or of creators: the plain loops (the rule, and
//! what a CPU without AVX2 runs) and the same sums in AVX2 registers.
//!
//! Every float sum is one accumulator taking its agents in index order, so the totals are
//! those of the plain loop bit for bit; what the AVX2 versions change is only what waits on
//! what. In the plain creator loop the sums by mode and the mode's branches (a coin flip to
//! the predictor: 42% of the creators are AI at step 64 at 10^6) made one long dependent
//! chain; kept in registers in one loop they spilled (docs/performance.md). Here the sums by
//! mode are the lanes of one register (lane `m` takes the value, the others -0.0, which
//! adds to any sum without changing its bits), and the creator loop is split into passes
//! over a block of creators small enough to stay in L1, each pass with few accumulators.

use super::{AI, AI_BIT, Buyers, CH_AI, CH_HUMAN, Creators, HUMAN, JUNK_BIT, NONE, Totals, bin_of, kept, rules};
use crate::model::market::bin_of_clamped;
use crate::model::params::StepParams;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;
use std::ops::Range;

/// Adds the buyers `r`'s utility, search costs (`k_cost` per search), directedness and
/// purchases to `t`.
pub(super) fn buyer_sums(b: &Buyers, r: Range<usize>, k_cost: f64, t: &mut Totals) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { buyer_sums_avx2(b, r, k_cost, t) };
    }
    buyer_sums_plain(b, r, k_cost, t)
}

/// Adds the creators `r`'s counts, sums and histogram to `t` (`decile` by creator).
pub(super) fn creator_sums(c: &Creators, decile: &[u8], r: Range<usize>, p: &StepParams, t: &mut Totals) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { creator_sums_avx2(c, decile, r, p, t) };
    }
    creator_sums_plain(c, decile, r, p, t)
}

fn buyer_sums_plain(b: &Buyers, r: Range<usize>, k_cost: f64, t: &mut Totals) {
    for j in r {
        t.active += u64::from(b.searches[j] > 0);
        let [u, paid] = b.gain[j];
        t.utility += u as f64;
        t.search_costs += b.searches[j] as f64 * k_cost;
        t.d_sum += b.d[j] as f64;
        // Masks, not branches (whether a buyer bought, and what, is unpredictable; written
        // as `if`, these compiled to branches and reduce took 23.4 ms instead of 17.5 at
        // 10^6 on one thread): adding +0.0 leaves these non-negative sums' bits as they
        // are, so the totals are those of the branches.
        let bo = b.bought[j];
        let bought = bo != NONE;
        let (ai, junk) = (bought && bo & AI_BIT != 0, bought && bo & JUNK_BIT != 0);
        let paid = paid as f64;
        t.matched += u64::from(bought);
        t.spend += kept(bought, paid);
        t.matched_ai += u64::from(ai);
        t.spend_ai += kept(ai, paid);
        t.matched_junk += u64::from(junk);
        t.junk_paid += kept(junk, paid);
    }
}

fn creator_sums_plain(c: &Creators, decile: &[u8], r: Range<usize>, p: &StepParams, t: &mut Totals) {
    let (bins, np) = (p.bins as usize, t.provider_sold.len());
    for i in r {
        let m = c.mode[i] as usize;
        t.mode_count[m] += 1;
        t.decile_mode[decile[i] as usize][m] += 1;
        t.x_sum[m] += c.x[i] as f64;
        t.talent_sum[m] += c.talent[i] as f64;
        let (cap, sold) = (c.cap[i], c.sold[i]);
        let [q, _] = c.offer[i];
        // Re-skilling (Q-learning) costs even with nothing on offer.
        t.profit -= rules::cost_with_reskill(m as u32, 0, 0, c.reskill[i], p);
        if cap == 0 {
            continue;
        }
        let rev = c.revenue[i] as f64;
        t.profit += rev - rules::cost_of(m as u32, cap, sold, p);
        t.revenue[m] += rev;
        t.revenue_sq += rev * rev;
        let ch = if m as u32 == AI { CH_AI } else { CH_HUMAN };
        t.offered[ch] += cap as u64;
        t.sold[ch] += sold as u64;
        if m as u32 == AI {
            t.vol_sum += c.vol[i] as f64;
            t.provider_sold[(c.provider[i] as usize).min(np - 1)] += sold as u64;
        }
        let cell = &mut t.hist.cells[ch * bins + bin_of(q, p.q_max, p.bins) as usize];
        cell[0] += cap as f64;
        cell[1] += sold as f64;
        cell[2] += rev;
    }
}

/// `buyer_sums` four buyers at a time. Each buyer's four sums that every buyer adds to
/// (utility, search costs, directedness, spending under the purchase's mask) are a row of a
/// 4x4 transpose of the four buyers' columns, added to one register in buyer order; the two
/// by channel likewise to another; the counts are lanes of integer registers. A buyer then
/// costs two vector adds and a few shuffles, where the plain loop spends a dozen
/// instructions on masks and moves between integer and float registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn buyer_sums_avx2(b: &Buyers, r: Range<usize>, k_cost: f64, t: &mut Totals) {
    let (gain, searches, d, bought) =
        (&b.gain[r.clone()], &b.searches[r.clone()], &b.d[r.clone()], &b.bought[r.clone()]);
    let n = gain.len() / 4 * 4;
    // What a buyer who did not buy pays: +0.0, as in the plain loop (`kept`).
    let zero_pd = _mm256_setzero_pd();
    let k = _mm256_set1_pd(k_cost);
    let (none, ai_bit, junk_bit) =
        (_mm_set1_epi32(NONE as i32), _mm_set1_epi32(AI_BIT as i32), _mm_set1_epi32(JUNK_BIT as i32));
    let (sign, two31) = (_mm_set1_epi32(i32::MIN), _mm256_set1_pd(2147483648.0));
    // Utilities in the low half, payments in the high (gain is [utility, paid] per buyer).
    let split = _mm256_set_epi32(7, 5, 3, 1, 6, 4, 2, 0);
    let mut every = _mm256_set_pd(t.spend, t.d_sum, t.search_costs, t.utility);
    let mut by_channel = _mm_set_pd(t.junk_paid, t.spend_ai);
    // Counts in 32-bit lanes: a lane counts a quarter of the range, a chunk (2^14) in `reduce`.
    debug_assert!(n / 4 <= u32::MAX as usize);
    let (mut active, mut matched, mut matched_ai, mut matched_junk) =
        (_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128());
    for j in (0..n).step_by(4) {
        // SAFETY: j + 4 <= n <= the slices' length; unaligned loads.
        let (g, s, dd, bo) = unsafe {
            (
                _mm256_loadu_ps(gain.as_ptr().add(j).cast()),
                _mm_loadu_si128(searches.as_ptr().add(j).cast()),
                _mm_loadu_ps(d.as_ptr().add(j)),
                _mm_loadu_si128(bought.as_ptr().add(j).cast()),
            )
        };
        let zero = _mm_setzero_si128();
        let is_bought = _mm_andnot_si128(_mm_cmpeq_epi32(bo, none), _mm_set1_epi32(-1));
        let ai = _mm_andnot_si128(_mm_cmpeq_epi32(_mm_and_si128(bo, ai_bit), zero), is_bought);
        let junk = _mm_andnot_si128(_mm_cmpeq_epi32(_mm_and_si128(bo, junk_bit), zero), is_bought);
        active = _mm_sub_epi32(active, _mm_andnot_si128(_mm_cmpeq_epi32(s, zero), _mm_set1_epi32(-1)));
        matched = _mm_sub_epi32(matched, is_bought);
        matched_ai = _mm_sub_epi32(matched_ai, ai);
        matched_junk = _mm_sub_epi32(matched_junk, junk);
        let g = _mm256_permutevar8x32_ps(g, split);
        let u = _mm256_cvtps_pd(_mm256_castps256_ps128(g));
        let paid = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(g));
        // u32 to f64 exactly: as i32 with the top bit flipped, then 2^31 back.
        let s = _mm256_mul_pd(_mm256_add_pd(_mm256_cvtepi32_pd(_mm_xor_si128(s, sign)), two31), k);
        let dd = _mm256_cvtps_pd(dd);
        let wide = |m: __m128i| _mm256_castsi256_pd(_mm256_cvtepi32_epi64(m));
        let spend = _mm256_blendv_pd(zero_pd, paid, wide(is_bought));
        every = add_rows(every, u, s, dd, spend);
        let (pa, pj) = (_mm256_blendv_pd(zero_pd, paid, wide(ai)), _mm256_blendv_pd(zero_pd, paid, wide(junk)));
        let (lo, hi) = (_mm256_unpacklo_pd(pa, pj), _mm256_unpackhi_pd(pa, pj));
        by_channel = _mm_add_pd(by_channel, _mm256_castpd256_pd128(lo));
        by_channel = _mm_add_pd(by_channel, _mm256_castpd256_pd128(hi));
        by_channel = _mm_add_pd(by_channel, _mm256_extractf128_pd::<1>(lo));
        by_channel = _mm_add_pd(by_channel, _mm256_extractf128_pd::<1>(hi));
    }
    [t.utility, t.search_costs, t.d_sum, t.spend] = lanes(every);
    let mut c = [0f64; 2];
    // SAFETY: `c` holds the register's two lanes.
    unsafe { _mm_storeu_pd(c.as_mut_ptr(), by_channel) };
    [t.spend_ai, t.junk_paid] = c;
    let lane_sum = |v: __m128i| {
        let mut a = [0u32; 4];
        // SAFETY: `a` holds the register's four lanes.
        unsafe { _mm_storeu_si128(a.as_mut_ptr().cast(), v) };
        a.iter().map(|&x| x as u64).sum::<u64>()
    };
    t.active += lane_sum(active);
    t.matched += lane_sum(matched);
    t.matched_ai += lane_sum(matched_ai);
    t.matched_junk += lane_sum(matched_junk);
    buyer_sums_plain(b, r.start + n..r.end, k_cost, t);
}

/// Creators a pass of `creator_sums_avx2` takes at once: their fields (45 bytes each)
/// stay in L1 from the first pass to the last.
const BLOCK: usize = 256;

/// `creator_sums` in passes over blocks of `BLOCK` creators. The main pass adds every
/// float sum but the histogram's to three registers, whose lanes are the three modes and
/// one more sum: x by mode and AI volume, talent by mode and squared revenue, revenue by
/// mode and profit (a creator's value in its mode's lane and, under its mask, the fourth;
/// -0.0 in the others), four creators at a time (`add_rows`). Before it, a loop computes
/// what each creator adds to profit; after it, one computes each creator's histogram cell
/// and the last counts and adds the histogram. None branches on the mode, nor the main
/// pass on whether anything was offered. A block in which someone pays for re-skilling
/// (Q-learning) takes the plain loop, since profit then takes two adds a creator; otherwise
/// the cost subtracted is +0.0, which changes no sum's bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn creator_sums_avx2(c: &Creators, decile: &[u8], r: Range<usize>, p: &StepParams, t: &mut Totals) {
    let (bins, np) = (p.bins as usize, t.provider_sold.len());
    let neg0 = _mm256_set1_pd(-0.0);
    // The registers from `t`'s sums, and back (`flush`): around a block the plain loop takes.
    let load = |t: &Totals| {
        (
            _mm256_set_pd(t.vol_sum, t.x_sum[2], t.x_sum[1], t.x_sum[0]),
            _mm256_set_pd(t.revenue_sq, t.talent_sum[2], t.talent_sum[1], t.talent_sum[0]),
            _mm256_set_pd(t.profit, t.revenue[2], t.revenue[1], t.revenue[0]),
        )
    };
    let (mut x_vol, mut talent_sq, mut rev_profit) = load(t);
    let flush = |t: &mut Totals, x_vol: __m256d, talent_sq: __m256d, rev_profit: __m256d| {
        let ([x0, x1, x2, vol], [t0, t1, t2, sq], [r0, r1, r2, profit]) =
            (lanes(x_vol), lanes(talent_sq), lanes(rev_profit));
        (t.x_sum, t.vol_sum, t.talent_sum, t.revenue_sq, t.revenue, t.profit) =
            ([x0, x1, x2], vol, [t0, t1, t2], sq, [r0, r1, r2], profit);
    };
    // Provider counts of creators that sold nothing through a provider go to spare slots
    // (one of four in turn, so that no count waits on the one before).
    let mut provider_sold = vec![0u64; np + 4];
    let mut hist_units = vec![[0u64; 2]; 2 * bins];
    // Counts by (decile, mode) of the blocks taken here; the counts by mode are their sums.
    let mut dm = [[0u64; 3]; 10];
    // Whole groups of four creators here, the rest (fewer than four) by the plain loop.
    let end = r.start + (r.end - r.start) / 4 * 4;
    let mut i0 = r.start;
    while i0 < end {
        let blk = i0..(i0 + BLOCK).min(end);
        i0 = blk.end;
        let (mode, cap, sold, revenue) =
            (&c.mode[blk.clone()], &c.cap[blk.clone()], &c.sold[blk.clone()], &c.revenue[blk.clone()]);
        let trains = c.reskill[blk.clone()]
            .iter()
            .zip(mode)
            .any(|(&rs, &m)| rules::cost_with_reskill(m, 0, 0, rs, p).to_bits() != 0);
        if trains {
            flush(t, x_vol, talent_sq, rev_profit);
            creator_sums_plain(c, decile, blk, p, t);
            (x_vol, talent_sq, rev_profit) = load(t);
            continue;
        }
        let (x, talent, vol) = (&c.x[blk.clone()], &c.talent[blk.clone()], &c.vol[blk.clone()]);
        // What profit gains from each creator: revenue less `rules::cost_of` of its mode,
        // picked from both modes' (0 on exit) without a branch.
        let mut gain = [0f64; BLOCK];
        for (k, g) in gain[..mode.len()].iter_mut().enumerate() {
            let (m, cap, sold) = (mode[k], cap[k], sold[k]);
            let (cost_ai, cost_h) = (rules::cost_of(AI, cap, sold, p), rules::cost_of(HUMAN, cap, sold, p));
            let cost = (cost_ai.to_bits() & u64::from(m == AI).wrapping_neg())
                | (cost_h.to_bits() & u64::from(m == HUMAN).wrapping_neg());
            *g = revenue[k] as f64 - f64::from_bits(cost);
        }
        // Four creators at a time: each sum's four values for them are the columns of a
        // 4x4 block (a column per lane: masked by mode, and the fourth sum), and its rows,
        // one a creator, are added in creator order.
        for k in (0..mode.len()).step_by(4) {
            // SAFETY: `k + 4 <= mode.len()` (a block is a whole number of groups of four)
            // and every field slice has `mode.len()` entries; unaligned loads.
            let ld = |v: &[f32]| unsafe { _mm256_cvtps_pd(_mm_loadu_ps(v.as_ptr().add(k))) };
            let ldi = |v: &[u32]| unsafe { _mm_loadu_si128(v.as_ptr().add(k).cast()) };
            let (m, on) =
                (ldi(mode), _mm_xor_si128(_mm_cmpeq_epi32(ldi(cap), _mm_setzero_si128()), _mm_set1_epi32(-1)));
            let wide = |m: __m128i| _mm256_castsi256_pd(_mm256_cvtepi32_epi64(m));
            let is = |mode: u32| _mm_cmpeq_epi32(m, _mm_set1_epi32(mode as i32));
            let (e0, e1, e2) = (is(0), is(1), is(2));
            let (x, v, tl, rev) = (ld(x), ld(vol), ld(talent), ld(revenue));
            // SAFETY: as above, `gain` has `mode.len()` entries.
            let g = unsafe { _mm256_loadu_pd(gain.as_ptr().add(k)) };
            let keep = |v: __m256d, m: __m128i| _mm256_blendv_pd(neg0, v, wide(m));
            x_vol = add_rows(x_vol, keep(x, e0), keep(x, e1), keep(x, e2), keep(v, _mm_and_si128(is(AI), on)));
            let sq = _mm256_mul_pd(rev, rev);
            talent_sq = add_rows(talent_sq, keep(tl, e0), keep(tl, e1), keep(tl, e2), keep(sq, on));
            let (r0, r1, r2) = (_mm_and_si128(e0, on), _mm_and_si128(e1, on), _mm_and_si128(e2, on));
            rev_profit = add_rows(rev_profit, keep(rev, r0), keep(rev, r1), keep(rev, r2), keep(g, on));
        }
        // Each creator's histogram cell first, in a loop of its own (which vectorises): in
        // the loop that adds to the cells, a cell's address then waits on no division, and
        // a creator's load of its cell is not issued ahead of a store to the same cell whose
        // address was still being computed.
        let mut cells = [0u32; BLOCK];
        for ((cell, &m), offer) in cells.iter_mut().zip(mode).zip(&c.offer[blk.clone()]) {
            *cell = u32::from(m != AI) * bins as u32 + bin_of_clamped(offer[0], p.q_max, p.bins);
        }
        let (decile, provider) = (&decile[blk.clone()], &c.provider[blk]);
        for k in 0..mode.len() {
            let m = mode[k] as usize;
            dm[decile[k] as usize][m] += 1;
            let on = cap[k] != 0;
            // Both slots computed, one picked: a branch on the mode would be a coin flip.
            let (own, spare) = ((provider[k] as usize).min(np - 1), np + (k & 3));
            let slot = spare ^ ((own ^ spare) & usize::from(m as u32 == AI && on).wrapping_neg());
            provider_sold[slot] += u64::from(sold[k]);
            if !on {
                continue;
            }
            let cell = cells[k] as usize;
            let units = &mut hist_units[cell];
            units[0] += u64::from(cap[k]);
            units[1] += u64::from(sold[k]);
            t.hist.cells[cell][2] += revenue[k] as f64;
        }
    }
    flush(t, x_vol, talent_sq, rev_profit);
    creator_sums_plain(c, decile, end..r.end, p, t);
    for (by_mode, counts) in t.decile_mode.iter_mut().zip(&dm) {
        for ((a, n), b) in by_mode.iter_mut().zip(counts).zip(&mut t.mode_count) {
            *a += n;
            *b += n;
        }
    }
    for (a, b) in t.provider_sold.iter_mut().zip(&provider_sold) {
        *a += b;
    }
    for (ch, cells) in hist_units.chunks(bins).enumerate() {
        for (cell, units) in t.hist.cells[ch * bins..].iter_mut().zip(cells) {
            // Sums of whole numbers below 2^53 are exact in any order: the plain loop's.
            cell[0] += units[0] as f64;
            cell[1] += units[1] as f64;
            t.offered[ch] += units[0];
            t.sold[ch] += units[1];
        }
    }
}

/// The four lanes of `v`, lowest first.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn lanes(v: __m256d) -> [f64; 4] {
    let mut a = [0f64; 4];
    // SAFETY: `a` holds the register's four lanes.
    unsafe { _mm256_storeu_pd(a.as_mut_ptr(), v) };
    a
}

/// `acc` plus the rows of the 4x4 block whose columns are `c0`..`c3`, first row first.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn add_rows(acc: __m256d, c0: __m256d, c1: __m256d, c2: __m256d, c3: __m256d) -> __m256d {
    let (t0, t1) = (_mm256_unpacklo_pd(c0, c1), _mm256_unpackhi_pd(c0, c1));
    let (t2, t3) = (_mm256_unpacklo_pd(c2, c3), _mm256_unpackhi_pd(c2, c3));
    let acc = _mm256_add_pd(acc, _mm256_permute2f128_pd::<0x20>(t0, t2));
    let acc = _mm256_add_pd(acc, _mm256_permute2f128_pd::<0x20>(t1, t3));
    let acc = _mm256_add_pd(acc, _mm256_permute2f128_pd::<0x31>(t0, t2));
    _mm256_add_pd(acc, _mm256_permute2f128_pd::<0x31>(t1, t3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::market::Histogram;
    use crate::state::ID_MASK;

    /// A xorshift stream for test inputs.
    fn stream(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    /// A float for a test input: one in four a special or extreme value, else one of a
    /// thousand values in [-90, 280).
    fn value(next: &mut impl FnMut() -> u64) -> f32 {
        const SPECIAL: [f32; 9] = [0.0, -0.0, 1e-30, 3.7, -2.5, 1e30, f32::INFINITY, f32::NAN, 0.1];
        if next() % 4 == 0 { SPECIAL[next() as usize % SPECIAL.len()] } else { (next() % 1000) as f32 * 0.37 - 90.0 }
    }

    /// `value` without NaN, infinities and 1e30 (which, once in a sum, hide every later add).
    fn moderate(next: &mut impl FnMut() -> u64) -> f32 {
        let v = value(next);
        if v.abs() <= 1e6 { v } else { 1.25 }
    }

    /// Totals with every field set, as a chunk's totals are added to: the sums must carry on
    /// from what is there.
    fn started(np: usize, bins: usize) -> Totals {
        let mut t = Totals {
            utility: -3.5,
            spend: -0.0,
            spend_ai: -0.0,
            junk_paid: 0.5,
            search_costs: 7.0,
            d_sum: 0.125,
            x_sum: [1.0, -0.0, 2.0],
            talent_sum: [-0.0, 1.5, 0.0],
            revenue: [4.0, -0.0, 0.25],
            profit: -0.0,
            revenue_sq: -0.0,
            vol_sum: -0.0,
            active: 3,
            matched: 2,
            provider_sold: (0..np as u64).collect(),
            hist: Histogram::new(bins),
            ..Default::default()
        };
        t.hist.cells.iter_mut().enumerate().for_each(|(k, c)| *c = [k as f64, 1.0, 0.5 * k as f64]);
        t.decile_mode[3] = [1, 2, 3];
        t.mode_count = [1, 2, 3];
        t
    }

    /// `buyer_sums` (four buyers at a time in AVX2 where the CPU has it) gives the plain
    /// loop's totals bit for bit: utilities and payments with signed zeros, NaN, infinities
    /// and magnitudes far apart (where the order of the adds shows), purchases of each kind
    /// and none, search counts past 2^31, chunks that do not fill the last group of four.
    #[test]
    fn buyer_sums_are_the_plain_loop_s() {
        let mut next = stream(0x2545_f491_4f6c_dd1d);
        // The second pass of each size: nobody bought (the sums of payments stay where they
        // started, -0.0 for two of them).
        for (case, n) in [0usize, 1, 3, 4, 7, 8, 64, 1001].into_iter().flat_map(|n| [(0, n), (1, n)]) {
            let mut b = Buyers::default();
            for _ in 0..n {
                let mut f = || value(&mut next);
                b.gain.push([f(), f().abs()]);
                b.d.push(f());
                b.searches.push([0u32, 1, 7, 1 << 31, u32::MAX][next() as usize % 5]);
                let id = (next() as u32) & ID_MASK;
                let kinds = [NONE, id, id | AI_BIT, id | JUNK_BIT, id | AI_BIT | JUNK_BIT];
                b.bought.push(if case == 1 { NONE } else { kinds[next() as usize % 5] });
            }
            for k_cost in [0.013f64, 0.0, 1e10] {
                let (mut fast, mut plain) = (started(3, 4), started(3, 4));
                buyer_sums(&b, 0..n, k_cost, &mut fast);
                buyer_sums_plain(&b, 0..n, k_cost, &mut plain);
                assert_eq!(format!("{fast:?}"), format!("{plain:?}"), "{n} buyers, k_cost {k_cost}");
                // A range that starts and ends inside the buffer.
                if n > 6 {
                    let (mut fast, mut plain) = (started(3, 4), started(3, 4));
                    buyer_sums(&b, 3..n - 2, k_cost, &mut fast);
                    buyer_sums_plain(&b, 3..n - 2, k_cost, &mut plain);
                    assert_eq!(format!("{fast:?}"), format!("{plain:?}"), "buyers 3..{}", n - 2);
                }
            }
        }
    }

    /// `creator_sums` (in passes over blocks, AVX2 where the CPU has it) gives the plain
    /// loop's totals bit for bit: every mode, nothing offered, more providers named than
    /// there are, qualities outside [0, q_max] and NaN, revenues far apart in magnitude,
    /// costs of both modes (units produced or sold), blocks with and without re-skilling
    /// (whose cost takes the plain loop), ranges that cut blocks.
    #[test]
    fn creator_sums_are_the_plain_loop_s() {
        let mut next = stream(0x9e37_79b9_7f4a_7c15);
        let sizes = [0usize, 1, 2, 3, 5, 255, 256, 700, 2000];
        for (case, n) in (0..4).flat_map(|_| sizes).enumerate() {
            // Half the cases without NaN, infinities and 1e30, so that profit and the sums by mode
            // show every add; re-skilling in one block of a third of them.
            let value = if case % 2 == 0 { value } else { moderate };
            let trains_in = if case % 3 == 0 { Some(n / 2) } else { None };
            let mut c = Creators::default();
            let mut decile = vec![];
            for i in 0..n {
                c.x.push(value(&mut next));
                c.talent.push(value(&mut next));
                c.vol.push(value(&mut next));
                c.revenue.push(value(&mut next));
                let q = [value(&mut next), -0.5, 3.0, 9.999, 10.0, 11.0, f32::NAN][next() as usize % 7];
                c.offer.push([q, value(&mut next)]);
                c.mode.push((next() % 3) as u32);
                let cap = [0u32, 1, 3, 64, 1 << 20][next() as usize % 5];
                c.cap.push(cap);
                // Now and then sales with nothing offered, which the rule ignores.
                c.sold.push((next() as u32) % (cap + 2));
                c.provider.push((next() % 5) as u32);
                let training = trains_in.is_some_and(|j| j == i) || (trains_in.is_some() && next() % 50 == 0);
                c.reskill.push(if training { 3 } else { 0 });
                decile.push((next() % 10) as u8);
            }
            for produced in [0u32, 1] {
                let p = StepParams {
                    bins: 8,
                    q_max: 10.0,
                    f_ai: 0.3,
                    adoption_tax: 0.05,
                    c_ai: 0.01,
                    unit_tax: 0.002,
                    api_fee: 0.04,
                    c_human: 0.7,
                    subsidy: 0.1,
                    human_cost_produced: produced,
                    reskill_cost: 2.5,
                    ..Default::default()
                };
                for r in [0..n, n / 3..n - n / 4] {
                    let (mut fast, mut plain) = (started(3, 8), started(3, 8));
                    creator_sums(&c, &decile, r.clone(), &p, &mut fast);
                    creator_sums_plain(&c, &decile, r.clone(), &p, &mut plain);
                    assert_eq!(
                        format!("{fast:?}"),
                        format!("{plain:?}"),
                        "{n} creators, range {r:?}, produced {produced}"
                    );
                }
            }
        }
    }
}
