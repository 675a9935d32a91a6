//! The CPU backend: every stage as a rayon loop over agents calling the rules of
//! `model::rules`. Results do not depend on the thread count: random numbers are
//! addressed by agent, conflicts are settled by integer `fetch_min` on claim words, counts
//! by integer `fetch_add`, and float sums run over fixed-size chunks added in chunk order.
//! Nor on the order of evaluation, which is what the speed work uses (docs/performance.md):
//! `search` and `resolve` take buyers in small batches, drawing every sample and
//! prefetching every unit record of a batch before evaluating any, so the random loads
//! overlap; rules draw a random word only when they use it; with one thread no pool is
//! involved at all.

use super::{Backend, BackendInfo, Totals};
use crate::mask::kept;
use crate::model::market::{CH_AI, CH_HUMAN, Histogram, bin_of};
use crate::model::rules;
use crate::model::technology::human_factor;
use crate::rng::{self, Stream};
use crate::state::*;
use rayon::prelude::*;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU32;

mod factor;
mod gather;
mod sums;
use gather::{CHUNK_BUYERS, SEARCH_AHEAD, SearchChunk, Sharing};

/// Agents per chunk of the deterministic reductions and scans (fixed, so sums are
/// associated the same way on any thread count).
pub const CHUNK: usize = 1 << 14;

/// Views an exclusively borrowed `u32` slice as atomics (same size and alignment).
fn as_atomic(s: &mut [u32]) -> &[AtomicU32] {
    // SAFETY: AtomicU32 has the same in-memory representation as u32, and the `&mut`
    // borrow guarantees no other non-atomic access for the lifetime of the result.
    unsafe { &*(s as *mut [u32] as *const [AtomicU32]) }
}

/// A raw pointer that rayon tasks may share to write provably disjoint ranges.
#[derive(Clone, Copy)]
struct Disjoint(*mut [u32; UNIT_WORDS]);
unsafe impl Send for Disjoint {}
unsafe impl Sync for Disjoint {}

/// Words of a unit record: owner, claim, and the owner's (quality, price) bits copied in
/// at `scan`, so a search sample reads one cache line instead of three scattered ones. A
/// unit sold in `resolve` gets a NaN price as well as the claim `CLAIM_SOLD`: search then
/// reads only quality and price.
const UNIT_WORDS: usize = 4;
const U_OWNER: usize = 0;
const U_CLAIM: usize = 1;
const U_Q: usize = 2;
const U_PRICE: usize = 3;

/// The threads the stages run on: a rayon pool, or none. With one thread every stage runs
/// on the caller's thread: a sweep runs many single-threaded simulations side by side, and
/// handing each stage call to a one-thread pool cost a wake-up and a sleep per call, with
/// the pool's worker spinning beside the other simulations while it waited.
struct Workers {
    pool: Option<rayon::ThreadPool>,
    threads: usize,
}

impl Workers {
    /// `threads` workers (0 = all cores; 1 = inline, no pool).
    fn new(threads: usize) -> Self {
        if threads == 1 {
            return Self { pool: None, threads: 1 };
        }
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("rayon pool");
        let threads = pool.current_num_threads();
        Self { pool: Some(pool), threads }
    }

    /// Runs `f` on the workers (inline without a pool).
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// Whether stages share claim words and counts between threads.
    fn sharing(&self) -> Sharing {
        if self.pool.is_some() { Sharing::Threads } else { Sharing::Alone }
    }

    /// The least number of items a rayon task takes (`with_min_len`): `parallel` with a
    /// pool; all of them inline, so nothing is split and no other pool (a sweep's
    /// executor, whose worker the caller may be) takes part.
    fn min_len(&self, parallel: usize) -> usize {
        if self.pool.is_some() { parallel } else { usize::MAX }
    }
}

/// `rules::normal16` by table: both of its factors for every 16-bit half of the word,
/// computed once per process by the functions `normal16` multiplies, so a sample's noise
/// has the same bits for two loads (from 512 KiB) instead of a logarithm, a square root and
/// a cosine.
struct Normal16 {
    radius: Box<[f32; 1 << 16]>,
    angle: Box<[f32; 1 << 16]>,
}

impl Normal16 {
    fn get() -> &'static Normal16 {
        static TABLE: OnceLock<Normal16> = OnceLock::new();
        TABLE.get_or_init(|| {
            let table = |f: fn(u32) -> f32| -> Box<[f32; 1 << 16]> {
                (0..1u32 << 16).map(f).collect::<Vec<f32>>().into_boxed_slice().try_into().expect("2^16 entries")
            };
            Normal16 { radius: table(rules::normal16_radius), angle: table(rules::normal16_angle) }
        })
    }

    /// `rules::normal16(w)`.
    #[inline]
    fn at(&self, w: u32) -> f32 {
        self.radius[(w >> 16) as usize] * self.angle[(w & 0xffff) as usize]
    }
}

/// Starts loading the cache line holding `p` without waiting for it. A hint: it cannot
/// fault and changes no result; a no-op on targets without a stable prefetch instruction.
///
/// On x86-64 the line is brought to the L2 cache (`prefetcht1`), not to L1 (`prefetcht0`):
/// on the development machine (AMD EPYC, Zen 4) `search` took 56-60 instead of 65-69 ms per
/// step at 10^6 on one thread and `resolve` 15-17 instead of 20-21, the demand load then
/// finding the line in L2, which the out-of-order core hides. A miss prefetched to L1 holds
/// one of L1's few miss buffers for the whole trip to memory, and the prefetches after it
/// wait for a free one.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch does not access memory architecturally; any address is allowed.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T1>(p.cast::<i8>());
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: as above; PRFM never faults.
    unsafe {
        std::arch::asm!("prfm pldl1keep, [{0}]", in(reg) p, options(nostack, readonly, preserves_flags));
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = p;
}

pub struct CpuBackend {
    state: State,
    /// `[owner, claim, q bits, price bits]` per unit of this step.
    units: Vec<[u32; UNIT_WORDS]>,
    /// Each proposing buyer's claim key of this round, as `search` computed it, so that
    /// `resolve` compares it without computing the permutation again.
    claim_keys: Vec<u32>,
    /// Per chunk of buyers, the offsets of the buyers that searched in the last round
    /// (`searching[ci * CHUNK_BUYERS ..][.. n_searching[ci]]`, ascending), so that later
    /// rounds and `resolve` visit those instead of every buyer; valid for the (step, round)
    /// in `searching_of`.
    searching: Vec<u16>,
    n_searching: Vec<u32>,
    searching_of: Option<(u32, u32)>,
    workers: Workers,
    /// The best response's grid and per-bin profits, refilled every step (kept to reuse
    /// its allocations).
    best_response: rules::BestResponse,
    /// Per creator, the x at which `offers` last took its human factor and the factor, for
    /// the parameters in `factors_of` (for other parameters, none is valid). Before the
    /// shock w stands still and most creators keep their x, so `offers` reads them here, and
    /// `decide` always does (offers took them at the x decide starts from).
    factors: Vec<[f32; 2]>,
    factors_of: Option<FactorsOf>,
    /// Each creator's talent decile (`decile_of`) against the cuts whose bits are in
    /// `deciles_of`: talent does not change during a run, so `reduce` computes the deciles
    /// again only when the cuts do (nine comparisons per creator were a quarter of it).
    deciles: Vec<u8>,
    deciles_of: Option<[u32; 9]>,
    /// Markets from this many creators take the large-market paths (`LARGE_MARKET_CREATORS`).
    large_from: usize,
}

/// The step parameters `CpuBackend::factors` were taken with: (w, 1/Z(w)) bits.
type FactorsOf = (u32, u32);

fn factors_of(p: &StepParams) -> FactorsOf {
    (p.w.to_bits(), p.inv_z.to_bits())
}

/// A batch of creators for `offers_lanes`: their fields, human factors and words.
#[derive(Clone, Copy)]
struct OfferLanes<'a> {
    mode: &'a [u32],
    talent: &'a [f32],
    x: &'a [f32],
    vol: &'a [f32],
    reskill: &'a [u32],
    hf: &'a [f32],
    u: &'a [u32],
}

/// The offers of a batch of creators, written so that the compiler vectorises them: `q` is
/// `rules::nominal_quality_and_factor`'s quality and `cap` `rules::capacity_q`, from the human
/// factors `hf` (where the mode is human or exit) and the words `u` (where
/// `rules::capacity_q` reads one; anything elsewhere). Branches on the mode,
/// a coin flip to the predictor once creators adopt AI, cost more than computing every case.
#[inline(never)]
fn offers_lanes(c: OfferLanes, p: &StepParams, q: &mut [f32], cap: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { offers_lanes_avx2(c, p, q, cap) };
        return;
    }
    offers_lanes_body(c, p, q, cap);
}

/// `offers_lanes_body` compiled for AVX2, whose blends make the selects cheap.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn offers_lanes_avx2(c: OfferLanes, p: &StepParams, q: &mut [f32], cap: &mut [u32]) {
    offers_lanes_body(c, p, q, cap);
}

/// The outputs stay separate arguments: their `noalias` tells LLVM that no input overlaps
/// them (references inside a struct carry none), without which the loop is not vectorised.
#[inline(always)]
fn offers_lanes_body(c: OfferLanes, p: &StepParams, q: &mut [f32], cap: &mut [u32]) {
    let OfferLanes { mode, talent, x, vol, reskill, hf, u } = c;
    let n = q.len();
    let (mode, talent, x, vol, reskill, hf, u, cap) =
        (&mode[..n], &talent[..n], &x[..n], &vol[..n], &reskill[..n], &hf[..n], &u[..n], &mut cap[..n]);
    // The cap no larger than 2^24 (config allows 4096), and not NaN (f32::min drops a NaN):
    // what keeps the unchecked conversion below in range whatever `p` holds.
    let (alpha, qbar, vmax) = (p.alpha_a, p.qbar_a, p.ai_volume_max.min(16_777_216.0));
    for i in 0..n {
        let ai = mode[i] == AI;
        let q_ai = (alpha * talent[i] * x[i]).min(qbar);
        q[i] = if ai { q_ai } else { talent[i] * hf[i] };
        let reskilling = rules::reskill_left(reskill[i]) > 0;
        let uf = rng::unit_f32(u[i]);
        // 0.5 * vol is exact: the same bits as capacity(AI, 0.5 * vol).
        let v = if reskilling { 0.5 * vol[i] } else { vol[i] };
        // clamp(floor(v + U), 1, floor(vmax)) as floor(clamp(v + U, 1, vmax)): floor is
        // monotone, and max(NaN, 1) = 1 as `NaN as u32` = 0 clamps to 1. In range, the
        // conversion needs no saturation (which does not vectorise).
        let y = (v + uf).max(1.0).min(vmax);
        // SAFETY: y is in [1, 2^24] and not NaN (max and min drop NaNs), so it fits an i32.
        let c_ai = unsafe { y.to_int_unchecked::<i32>() } as u32;
        let c_human = if reskilling { u32::from(uf < 0.5) } else { 1 };
        cap[i] = if ai {
            c_ai
        } else if mode[i] == HUMAN {
            c_human
        } else {
            0
        };
    }
}

/// The fields of a block of buyers that `rules::buyer_update` updates.
struct BuyerFields<'a> {
    util: &'a mut [f32],
    active: &'a mut [u32],
    exp: &'a mut [[f32; 2]],
    d: &'a mut [f32],
    gain: &'a mut [[f32; 2]],
}

/// A block of buyers for `buyers_lanes`: what `rules::buyer_update` reads besides the fields
/// it updates.
#[derive(Clone, Copy)]
struct BuyerLanes<'a> {
    theta: &'a [f32],
    searches: &'a [u32],
    bought: &'a [u32],
    /// The bought creator's offer (anything where none was bought).
    offered: &'a [[f32; 2]],
    /// The return word (anything where the buyer is active).
    u: &'a [u32],
}

/// `rules::buyer_update` for a block of buyers: eight at a time with AVX2 where the CPU has
/// it (`buyers_lanes_avx2`), else (and for the last few) buyer by buyer.
#[inline(never)]
fn buyers_lanes(c: BuyerLanes, p: &StepParams, out: BuyerFields) {
    let BuyerFields { util, active, exp, d, gain } = out;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        done = unsafe { buyers_lanes_avx2(c, p, BuyerFields { util, active, exp, d, gain }) };
    }
    let BuyerLanes { theta, searches, bought, offered, u } = c;
    for i in done..util.len() {
        let bo = bought[i];
        let purchase = (bo != NONE).then(|| {
            let [q, price] = offered[i];
            (if bo & JUNK_BIT != 0 { 0.0 } else { q }, price, bo & AI_BIT != 0)
        });
        let r = rules::buyer_update(theta[i], util[i], active[i] != 0, exp[i], d[i], searches[i], purchase, || u[i], p);
        (util[i], exp[i], d[i]) = (r.0, r.2, r.3);
        active[i] = u32::from(r.1);
        gain[i] = [r.4, r.5];
    }
}

/// `rules::buyer_update` for the buyers of a block eight at a time, as many as fill whole
/// groups (returned): both the active and the inactive buyer's update, with and without a
/// purchase, computed for all eight and the right one selected. Whether a buyer bought, and
/// from which channel, is a coin flip to the branch predictor; written as selects in plain
/// Rust, the update compiled to branches again. The operations are the rule's, in its
/// order (no fused multiply-add), so the bits are the rule's; `f32::clamp` is written out
/// as it is defined, which keeps a NaN as the rule does.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn buyers_lanes_avx2(c: BuyerLanes, p: &StepParams, out: BuyerFields) -> usize {
    use std::arch::x86_64::*;
    let BuyerFields { util, active, exp, d, gain } = out;
    let n = util.len();
    let BuyerLanes { theta, searches, bought, offered, u } = c;
    assert!(
        [
            theta.len(),
            searches.len(),
            bought.len(),
            offered.len(),
            u.len(),
            active.len(),
            exp.len(),
            d.len(),
            gain.len()
        ]
        .iter()
        .all(|&l| l >= n),
        "buyers_lanes: a field shorter than the block"
    );
    // SAFETY (all loads and stores below): lane group g covers elements 8g .. 8g + 8 < n of
    // slices at least n long (asserted), read and written unaligned.
    let ld = |s: &[f32], i: usize| unsafe { _mm256_loadu_ps(s.as_ptr().add(i)) };
    let ldi = |s: &[u32], i: usize| unsafe { _mm256_loadu_si256(s.as_ptr().add(i).cast()) };
    // Eight pairs as two vectors (first and second of each pair), and back.
    let ld2 = |s: &[[f32; 2]], i: usize| unsafe {
        let (a, b) = (_mm256_loadu_ps(s.as_ptr().add(i).cast()), _mm256_loadu_ps(s.as_ptr().add(i + 4).cast()));
        let fix = |v: __m256| _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)));
        (fix(_mm256_shuffle_ps::<0b10_00_10_00>(a, b)), fix(_mm256_shuffle_ps::<0b11_01_11_01>(a, b)))
    };
    let st2 = |s: &mut [[f32; 2]], i: usize, x: __m256, y: __m256| unsafe {
        let (lo, hi) = (_mm256_unpacklo_ps(x, y), _mm256_unpackhi_ps(x, y));
        _mm256_storeu_ps(s.as_mut_ptr().add(i).cast(), _mm256_permute2f128_ps::<0x20>(lo, hi));
        _mm256_storeu_ps(s.as_mut_ptr().add(i + 4).cast(), _mm256_permute2f128_ps::<0x31>(lo, hi));
    };
    let f = _mm256_set1_ps;
    let bits = |m: u32| _mm256_set1_epi32(m as i32);
    let has_bit = |v: __m256i, m: u32| _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(v, bits(m)), bits(m)));
    let zero = _mm256_setzero_ps();
    let (lam_u, lam_c, lam_d, eps_c, cost, cong) =
        (f(p.lam_u), f(p.lam_c), f(p.lam_d), f(p.eps_c), f(p.search_cost), f(p.congestion));
    let n8 = n / 8 * 8;
    for i in (0..n8).step_by(8) {
        let bo = ldi(bought, i);
        let has = _mm256_xor_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(bo, bits(NONE))), _mm256_castsi256_ps(bits(!0)));
        let (ai, junk) = (has_bit(bo, AI_BIT), has_bit(bo, JUNK_BIT));
        let (q, price) = ld2(offered, i);
        let q = _mm256_andnot_ps(junk, q);
        let v = _mm256_sub_ps(_mm256_mul_ps(ld(theta, i), q), price);
        let (e0_old, e1_old) = ld2(exp, i);
        let e = _mm256_blendv_ps(e0_old, e1_old, ai);
        let e = _mm256_add_ps(e, _mm256_mul_ps(lam_u, _mm256_sub_ps(v, e)));
        let e0 = _mm256_blendv_ps(e0_old, e, _mm256_andnot_ps(ai, has));
        let e1 = _mm256_blendv_ps(e1_old, e, _mm256_and_ps(ai, has));
        let (u0, paid) = (_mm256_and_ps(v, has), _mm256_and_ps(price, has));
        // searches * k as f32 from u32: the high and low halves converted exactly, one
        // rounding in their sum, as the direct conversion rounds.
        let sk = _mm256_mullo_epi32(ldi(searches, i), bits(p.k));
        let sk = _mm256_add_ps(
            _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32::<16>(sk)), f(65536.0)),
            _mm256_cvtepi32_ps(_mm256_and_si256(sk, bits(0xffff))),
        );
        let ut = _mm256_sub_ps(u0, _mm256_mul_ps(sk, cost));
        let felt = if p.cong_in_u != 0 { _mm256_sub_ps(ut, cong) } else { ut };
        let util0 = ld(util, i);
        let util_a = _mm256_add_ps(util0, _mm256_mul_ps(lam_c, _mm256_sub_ps(felt, util0)));
        let s = _mm256_sub_ps(e0, e1);
        let sign = _mm256_or_ps(
            _mm256_and_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(s, zero), f(1.0)),
            _mm256_and_ps(_mm256_cmp_ps::<_CMP_LT_OQ>(s, zero), f(-1.0)),
        );
        let d0 = ld(d, i);
        let da = _mm256_add_ps(d0, _mm256_mul_ps(lam_d, sign));
        let da = _mm256_blendv_ps(da, zero, _mm256_cmp_ps::<_CMP_LT_OQ>(da, zero));
        let da = _mm256_blendv_ps(da, f(1.0), _mm256_cmp_ps::<_CMP_GT_OQ>(da, f(1.0)));
        let da = if p.ai_present != 0 { da } else { d0 };
        // The word's top 24 bits convert exactly as signed.
        let uf = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32::<8>(ldi(u, i))), f(1.0 / 16_777_216.0));
        let returns = _mm256_cmp_ps::<_CMP_LT_OQ>(uf, eps_c);
        let is_active = _mm256_xor_ps(
            _mm256_castsi256_ps(_mm256_cmpeq_epi32(ldi(active, i), _mm256_setzero_si256())),
            _mm256_castsi256_ps(bits(!0)),
        );
        let now_active = _mm256_blendv_ps(returns, _mm256_cmp_ps::<_CMP_GE_OQ>(util_a, zero), is_active);
        // SAFETY: as above.
        unsafe {
            _mm256_storeu_si256(
                active.as_mut_ptr().add(i).cast(),
                _mm256_and_si256(_mm256_castps_si256(now_active), bits(1)),
            );
            _mm256_storeu_ps(util.as_mut_ptr().add(i), _mm256_blendv_ps(util0, util_a, is_active));
            _mm256_storeu_ps(d.as_mut_ptr().add(i), _mm256_blendv_ps(d0, da, is_active));
        }
        st2(exp, i, _mm256_blendv_ps(e0_old, e0, is_active), _mm256_blendv_ps(e1_old, e1, is_active));
        st2(gain, i, _mm256_and_ps(ut, is_active), _mm256_and_ps(paid, is_active));
    }
    n8
}

/// The human factor kept in `CpuBackend::factors` for a creator now at `x`, or NaN.
#[inline]
fn kept_factor([at, hf]: [f32; 2], x: f32) -> f32 {
    if at.to_bits() == x.to_bits() { hf } else { f32::NAN }
}

/// `decide` for the creators of a batch that keep their mode, eight at a time
/// (`TalentTables::decide_kept_avx2`): bit i set where creator i was decided, its new share
/// in `x_new`. Only where `BestResponse::fill` found AVX2 and the talent tables hold.
#[allow(clippy::too_many_arguments)]
#[inline]
fn decide_kept(
    mode: &[u32],
    talent: &[f32],
    x: &[f32],
    vol: &[f32],
    kept: &[[f32; 2]],
    w: &[[u32; 4]; DRAW_BATCH],
    br: &rules::BestResponse,
    p: &StepParams,
    x_new: &mut [f32; DRAW_BATCH],
) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        let n = mode.len();
        let hf: [f32; DRAW_BATCH] = std::array::from_fn(|i| match (kept.get(i), x.get(i)) {
            (Some(&k), Some(&xi)) => kept_factor(k, xi),
            _ => f32::NAN,
        });
        let u: [u32; DRAW_BATCH] = std::array::from_fn(|i| w[i][0]);
        let c = rules::KeptLanes { mode, talent, x, vol, hf: &hf[..n], u: &u[..n] };
        // SAFETY: `fill` found AVX2 on this CPU and the tables valid for this step (checked
        // by the caller), and filled `br` for this step.
        unsafe { br.talent.decide_kept_avx2(c, br, p, x_new) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (mode, talent, x, vol, kept, w, br, p, x_new);
        0
    }
}

/// `offers` for a batch of creators of a large market (`LARGE_MARKET_CREATORS`): the
/// human factors from the per-thread memo, the mode's cases side by side (`offers_lanes`).
/// Shares repeat in the steps after the shock (460 distinct among 575 000 non-AI creators
/// at step 64 of the baseline at 10^6) while w moves every step, so a factor kept per
/// creator misses every step and the memo hits; later, as shares spread (74 000 distinct at
/// step 200), the memo misses and costs a lookup beside the two `powf`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn offers_large(
    p: &StepParams,
    valid: bool,
    u: &[u32; DRAW_BATCH],
    factor: &mut [[f32; 2]],
    offer: &mut [[f32; 2]],
    cap: &mut [u32],
    sold: &mut [u32],
    mode: &[u32],
    talent: &[f32],
    x: &[f32],
    vol: &[f32],
    reskill: &[u32],
) {
    let n = offer.len();
    // The human factors: kept where a creator's x and the parameters are those it was taken
    // at (before the shock, nearly all), else found in the memo (after it, nearly all), and
    // computed only for a human whose x the memo lacks. Taken for AI creators too where it
    // costs no `powf` (they go unused): tests of the mode, a coin flip, sit only on the rare
    // path.
    let mut hf = [0f32; DRAW_BATCH];
    factor::with(p.w, p.inv_z, |f| {
        for i in 0..n {
            hf[i] = if valid { kept_factor(factor[i], x[i]) } else { f32::NAN };
            if hf[i].is_nan() {
                hf[i] = f.get(x[i], mode[i] != AI);
                factor[i] = [x[i], hf[i]];
            }
        }
    });
    let mut q = [0f32; DRAW_BATCH];
    let c = OfferLanes { mode, talent, x, vol, reskill, hf: &hf[..n], u: &u[..n] };
    offers_lanes(c, p, &mut q[..n], &mut cap[..n]);
    for i in 0..n {
        offer[i][0] = q[i];
        sold[i] = 0;
    }
}

impl CpuBackend {
    /// A backend over `state` with `threads` worker threads (0 = all cores; 1 runs every
    /// stage on the calling thread).
    pub fn new(state: State, threads: usize) -> Self {
        Self {
            state,
            units: Vec::new(),
            claim_keys: Vec::new(),
            searching: Vec::new(),
            n_searching: Vec::new(),
            searching_of: None,
            workers: Workers::new(threads),
            best_response: Default::default(),
            factors: Vec::new(),
            factors_of: None,
            deciles: Vec::new(),
            deciles_of: None,
            large_from: LARGE_MARKET_CREATORS,
        }
    }

    /// Takes the large-market paths (`LARGE_MARKET_CREATORS`) in markets from `creators`
    /// creators on: the same results either way, which tests check on markets too small to
    /// take them by default.
    pub fn large_market_from(mut self, creators: usize) -> Self {
        self.large_from = creators;
        self
    }
}

impl Backend for CpuBackend {
    fn info(&self) -> BackendInfo {
        let threads = self.workers.threads;
        BackendInfo { name: "cpu".into(), device: format!("{threads} rayon threads"), threads }
    }

    fn offers(&mut self, p: &StepParams) {
        let c = &mut self.state.creators;
        let of = Some(factors_of(p));
        let valid = self.factors_of == of && self.factors.len() == c.len();
        let large = c.len() >= self.large_from;
        self.factors.resize(c.len(), [f32::NAN; 2]);
        self.factors_of = of;
        let min_len = self.workers.min_len(1);
        self.workers.install(|| {
            (
                self.factors.par_chunks_mut(DRAW_BATCH),
                c.offer.par_chunks_mut(DRAW_BATCH),
                c.cap.par_chunks_mut(DRAW_BATCH),
                c.sold.par_chunks_mut(DRAW_BATCH),
                c.mode.par_chunks(DRAW_BATCH),
                c.talent.par_chunks(DRAW_BATCH),
                c.x.par_chunks(DRAW_BATCH),
                c.vol.par_chunks(DRAW_BATCH),
                c.reskill.par_chunks(DRAW_BATCH),
            )
                .into_par_iter()
                .with_min_len(min_len)
                .enumerate()
                .for_each(|(ci, (factor, offer, cap, sold, mode, talent, x, vol, reskill))| {
                    // The word `capacity_q` reads, drawn for every creator of the batch (AI
                    // creators, who read one, are 42% of the creators at step 64 at 10^6).
                    let u = first_words_of_range(p, Stream::Offers, ci * DRAW_BATCH, offer.len());
                    if large {
                        offers_large(p, valid, &u, factor, offer, cap, sold, mode, talent, x, vol, reskill);
                        return;
                    }
                    for i in 0..offer.len() {
                        let known = if valid { kept_factor(factor[i], x[i]) } else { f32::NAN };
                        let hf;
                        (offer[i][0], hf) = rules::nominal_quality_and_factor(mode[i], talent[i], x[i], known, p);
                        // Where none was valid, every creator's is written (an AI creator's
                        // NaN): one kept from other parameters must not reach `decide`.
                        if hf.to_bits() != known.to_bits() || !valid {
                            factor[i] = [x[i], hf];
                        }
                        cap[i] = rules::capacity_q(mode[i], vol[i], || u[i], p.ai_volume_max, reskill[i]);
                        sold[i] = 0;
                    }
                });
        });
    }

    fn scan(&mut self, _p: &StepParams) -> (u32, u32) {
        let c = &mut self.state.creators;
        let (mode, cap, offset, offer) = (&c.mode, &c.cap, &mut c.offset, &c.offer);
        let min_len = self.workers.min_len(1);
        // Chunk totals per channel, then an exclusive scan over chunks; then one pass per
        // chunk writes both the creators' offsets and their units' records (the totals
        // say where the human channel starts), reading the creators once more, not twice.
        let sums: Vec<(u32, u32)> = self.workers.install(|| {
            mode.par_chunks(CHUNK)
                .zip(cap.par_chunks(CHUNK))
                .with_min_len(min_len)
                .map(|(m, k)| {
                    m.iter().zip(k).fold((0u32, 0u32), |(a, h), (&m, &k)| if m == AI { (a + k, h) } else { (a, h + k) })
                })
                .collect()
        });
        let mut starts = Vec::with_capacity(sums.len());
        let (mut n_ai, mut n_h) = (0u32, 0u32);
        for &(sa, sh) in &sums {
            starts.push((n_ai, n_h));
            n_ai += sa;
            n_h += sh;
        }
        let n = (n_ai + n_h) as usize;
        if self.units.capacity() < n {
            // Room to grow: the number of units moves from step to step.
            self.units = super::pages::huge_vec(0, n + n / 2, [0; UNIT_WORDS]);
        }
        self.units.resize(n, [0; UNIT_WORDS]);
        let out = Disjoint(self.units.as_mut_ptr());
        self.workers.install(|| {
            offset
                .par_chunks_mut(CHUNK)
                .zip(mode.par_chunks(CHUNK))
                .zip(cap.par_chunks(CHUNK))
                .zip(offer.par_chunks(CHUNK))
                .zip(&starts)
                .enumerate()
                .with_min_len(min_len)
                .for_each(|(ci, ((((o, m), k), of), &(mut a, mut h)))| {
                    let out = out;
                    for (l, (((o, &m), &k), of)) in o.iter_mut().zip(m).zip(k).zip(of).enumerate() {
                        let base = if m == AI {
                            *o = a;
                            a += k;
                            *o
                        } else {
                            *o = h;
                            h += k;
                            n_ai + *o
                        };
                        let rec = [(ci * CHUNK + l) as u32, CLAIM_EMPTY, of[0].to_bits(), of[1].to_bits()];
                        for u in base..base + k {
                            // SAFETY: [base, base + k) ranges of different creators are
                            // disjoint (exclusive prefix sums within each channel, the
                            // human channel after all n_ai AI units) and below n_ai + n_h.
                            unsafe { *out.0.add(u as usize) = rec };
                        }
                    }
                });
        });
        (n_ai, n_h)
    }

    fn search(&mut self, p: &StepParams) {
        let k = p.k as usize;
        assert!(k <= SEARCH_AHEAD, "search: k = {k} samples per buyer, at most {SEARCH_AHEAD} (market.k)");
        let b = &mut self.state.buyers;
        let units = as_atomic(bytemuck::cast_slice_mut(&mut self.units));
        let normal = Normal16::get();
        let sharing = self.workers.sharing();
        let min_len = self.workers.min_len(1);
        self.claim_keys.resize(b.proposal.len(), 0);
        self.searching.resize(b.proposal.len(), 0);
        self.n_searching.resize(b.proposal.len().div_ceil(CHUNK_BUYERS), 0);
        // The searchers of the round before, of this step: every buyer that may search now.
        let from_list = p.round > 0 && self.searching_of == Some((p.step, p.round - 1));
        self.workers.install(|| {
            (
                b.proposal.par_chunks_mut(CHUNK_BUYERS),
                self.claim_keys.par_chunks_mut(CHUNK_BUYERS),
                b.bought.par_chunks_mut(CHUNK_BUYERS),
                b.searches.par_chunks_mut(CHUNK_BUYERS),
                b.active.par_chunks(CHUNK_BUYERS),
                b.theta.par_chunks(CHUNK_BUYERS),
                b.d.par_chunks(CHUNK_BUYERS),
                self.searching.par_chunks_mut(CHUNK_BUYERS),
                self.n_searching.par_iter_mut(),
            )
                .into_par_iter()
                .with_min_len(min_len)
                .enumerate()
                .for_each(
                    |(ci, (proposal, claim_key, bought, searches, active, theta, d, list, n_list))| {
                        let j0 = (ci * CHUNK_BUYERS) as u32;
                        let list = gather::Searching { list, len: n_list, valid: from_list };
                        SearchChunk { j0, proposal, claim_key, bought, searches, active, theta, d }
                            .run(list, units, normal, sharing, p);
                    },
                );
        });
        self.searching_of = Some((p.step, p.round));
    }

    fn resolve(&mut self, p: &StepParams) {
        let b = &mut self.state.buyers;
        let units = as_atomic(bytemuck::cast_slice_mut(&mut self.units));
        let sold = as_atomic(&mut self.state.creators.sold);
        let sharing = self.workers.sharing();
        let min_len = self.workers.min_len(1);
        // Search of this round listed its searchers (and sized the lists to the buyers).
        let listed = self.searching_of == Some((p.step, p.round));
        self.workers.install(|| {
            (
                b.proposal.par_chunks_mut(CHUNK_BUYERS),
                self.claim_keys.par_chunks(CHUNK_BUYERS),
                b.bought.par_chunks_mut(CHUNK_BUYERS),
                self.searching.par_chunks(CHUNK_BUYERS),
                self.n_searching.par_iter(),
            )
                .into_par_iter()
                .with_min_len(min_len)
                .for_each(|(proposal, claim_key, bought, list, &n_list)| {
                    // Only this round's searchers can have proposed.
                    let searchers = listed.then(|| &list[..n_list as usize]);
                    gather::resolve_chunk(proposal, claim_key, bought, searchers, units, sold, sharing, p);
                });
        });
    }

    fn buyers(&mut self, p: &StepParams) {
        let b = &mut self.state.buyers;
        let offer = &self.state.creators.offer;
        let min_len = self.workers.min_len(1);
        // The sellers' offers of a block of buyers start loading one block ahead of its update,
        // one per buyer updated (a burst of a block's prefetches stalls on the miss buffers),
        // without a branch on whether the buyer bought (a coin flip to the predictor): one
        // that did not prefetches the first offer, in cache.
        let offer_of = |bo: u32| offer.as_ptr().wrapping_add(((bo != NONE) as usize) * (bo & ID_MASK) as usize);
        let prefetch_offers = |bought: &[u32]| {
            for &bo in bought {
                prefetch(offer_of(bo));
            }
        };
        self.workers.install(|| {
            (
                b.util.par_chunks_mut(CHUNK_BUYERS),
                b.active.par_chunks_mut(CHUNK_BUYERS),
                b.exp.par_chunks_mut(CHUNK_BUYERS),
                b.d.par_chunks_mut(CHUNK_BUYERS),
                b.gain.par_chunks_mut(CHUNK_BUYERS),
                b.theta.par_chunks(CHUNK_BUYERS),
                b.searches.par_chunks(CHUNK_BUYERS),
                b.bought.par_chunks(CHUNK_BUYERS),
            )
                .into_par_iter()
                .with_min_len(min_len)
                .enumerate()
                .for_each(|(ci, (util, active, exp, d, gain, theta, searches, bought))| {
                    prefetch_offers(&bought[..bought.len().min(DRAW_BATCH)]);
                    for j0 in (0..util.len()).step_by(DRAW_BATCH) {
                        let block = j0..(j0 + DRAW_BATCH).min(util.len());
                        let next = bought.get(block.end..(block.end + DRAW_BATCH).min(util.len())).unwrap_or(&[]);
                        // The inactive read their return word (the only buyers whose rule reads
                        // one): after the shock most of a block (72% of the buyers at step 64
                        // at 10^6), so the whole block's words are drawn.
                        let u = first_words_of_range(p, Stream::Buyers, ci * CHUNK_BUYERS + j0, block.len());
                        // The purchases' offers, loaded apart from the update so that the
                        // update has no load to wait on and no branch.
                        let mut offered = [[0f32; 2]; DRAW_BATCH];
                        for (l, j) in block.clone().enumerate() {
                            if let Some(&bo) = next.get(l) {
                                prefetch(offer_of(bo));
                            }
                            let bo = bought[j];
                            let at = usize::from(bo != NONE) * (bo & ID_MASK) as usize;
                            offered[l] = offer.get(at).copied().unwrap_or_default();
                        }
                        let n = block.len();
                        let c = BuyerLanes {
                            theta: &theta[block.clone()],
                            searches: &searches[block.clone()],
                            bought: &bought[block.clone()],
                            offered: &offered[..n],
                            u: &u[..n],
                        };
                        let out = BuyerFields {
                            util: &mut util[block.clone()],
                            active: &mut active[block.clone()],
                            exp: &mut exp[block.clone()],
                            d: &mut d[block.clone()],
                            gain: &mut gain[block],
                        };
                        buyers_lanes(c, p, out);
                    }
                });
        });
    }

    fn accounts(&mut self, p: &StepParams) {
        let c = &mut self.state.creators;
        // Large markets look up every cap's price steps; smaller ones only one unit's
        // (building the larger table costs more exponentials than a small market makes).
        let max_cap = if c.len() >= self.large_from { PRICE_STEP_CAPS } else { 1 };
        let steps = PriceSteps::new(p, max_cap);
        let min_len = self.workers.min_len(1);
        self.workers.install(|| {
            (
                c.revenue.par_chunks_mut(ACCOUNT_BATCH),
                c.offer.par_chunks_mut(ACCOUNT_BATCH),
                c.vol.par_chunks_mut(ACCOUNT_BATCH),
                c.mode.par_chunks(ACCOUNT_BATCH),
                c.cap.par_chunks(ACCOUNT_BATCH),
                c.sold.par_chunks(ACCOUNT_BATCH),
            )
                .into_par_iter()
                .with_min_len(min_len)
                .for_each(|(revenue, offer, vol, mode, cap, sold)| {
                    for i in 0..mode.len() {
                        let (m, k, s) = (mode[i], cap[i], sold[i]);
                        (revenue[i], offer[i][1], vol[i]) =
                            rules::account_with(m, offer[i][1], vol[i], k, s, || steps.get(s, k, p), p);
                    }
                });
        });
    }

    fn reduce(&mut self, p: &StepParams, deciles: &Deciles) -> Totals {
        let bins = p.bins as usize;
        let np = p.n_providers as usize;
        let b = &self.state.buyers;
        let c = &self.state.creators;
        let k_cost = (p.k as f32 * p.search_cost) as f64;
        let min_len = self.workers.min_len(1);
        let cuts = deciles.map(f32::to_bits);
        if self.deciles_of != Some(cuts) || self.deciles.len() != c.len() {
            self.deciles.resize(c.len(), 0);
            self.workers.install(|| {
                (&mut self.deciles, &c.talent)
                    .into_par_iter()
                    .with_min_len(min_len)
                    .for_each(|(d, &t)| *d = decile_of(t, deciles) as u8);
            });
            self.deciles_of = Some(cuts);
        }
        let decile = &self.deciles;
        let (buyer_parts, creator_parts) = self.workers.install(|| {
            let bp: Vec<Totals> = (0..b.len().div_ceil(CHUNK))
                .into_par_iter()
                .with_min_len(min_len)
                .map(|ci| {
                    let mut t = Totals::default();
                    sums::buyer_sums(b, ci * CHUNK..((ci + 1) * CHUNK).min(b.len()), k_cost, &mut t);
                    t
                })
                .collect();
            let cp: Vec<Totals> = (0..c.len().div_ceil(CHUNK))
                .into_par_iter()
                .with_min_len(min_len)
                .map(|ci| {
                    let mut t = Totals { provider_sold: vec![0; np], hist: Histogram::new(bins), ..Default::default() };
                    sums::creator_sums(c, decile, ci * CHUNK..((ci + 1) * CHUNK).min(c.len()), p, &mut t);
                    t
                })
                .collect();
            (bp, cp)
        });
        let mut t = Totals { provider_sold: vec![0; np], hist: Histogram::new(bins), ..Default::default() };
        for part in buyer_parts.iter().chain(&creator_parts) {
            add_totals(&mut t, part);
        }
        t
    }

    fn decide(&mut self, p: &StepParams, rp: &[[f32; 2]]) {
        let c = &mut self.state.creators;
        let min_len = self.workers.min_len(1);
        if p.decision == 1 {
            // The paper's Q-learning: the reward is this step's profit.
            self.workers.install(|| {
                (
                    c.mode.par_chunks_mut(DRAW_BATCH),
                    c.x.par_chunks_mut(DRAW_BATCH),
                    c.offer.par_chunks_mut(DRAW_BATCH),
                    c.vol.par_chunks_mut(DRAW_BATCH),
                    c.provider.par_chunks_mut(DRAW_BATCH),
                    c.qvals.par_chunks_mut(DRAW_BATCH),
                    c.reskill.par_chunks_mut(DRAW_BATCH),
                    c.talent.par_chunks(DRAW_BATCH),
                    c.revenue.par_chunks(DRAW_BATCH),
                    c.cap.par_chunks(DRAW_BATCH),
                    c.sold.par_chunks(DRAW_BATCH),
                )
                    .into_par_iter()
                    .with_min_len(min_len)
                    .enumerate()
                    .for_each(
                        |(ci, (mode, x, offer, vol, provider, qvals, reskill, talent, revenue, cap, sold))| {
                            let w = words_of_range(p, Stream::Decide, ci * DRAW_BATCH, mode.len());
                            for i in 0..mode.len() {
                                let profit = revenue[i] as f64
                                    - rules::cost_with_reskill(mode[i], cap[i], sold[i], reskill[i], p);
                                let d = rules::decide_q(
                                    talent[i],
                                    x[i],
                                    mode[i],
                                    offer[i][1],
                                    vol[i],
                                    provider[i],
                                    qvals[i],
                                    reskill[i],
                                    profit as f32,
                                    w[i],
                                    rp,
                                    p,
                                );
                                mode[i] = d.d.mode;
                                x[i] = d.d.x;
                                offer[i][1] = d.d.price;
                                vol[i] = d.d.vol;
                                provider[i] = d.d.provider;
                                qvals[i] = d.qvals;
                                reskill[i] = d.reskill;
                            }
                        },
                    );
            });
            return;
        }
        self.best_response.by_talent = c.len() >= self.large_from;
        self.best_response.fill(p, rp);
        let br = &self.best_response;
        // The factors `offers` took at these x, if it took them with these parameters.
        let factors = if self.factors_of == Some(factors_of(p)) { &self.factors[..] } else { &[] };
        let lanes = br.by_talent && br.avx2 && br.talent.valid();
        self.workers.install(|| {
            (
                c.mode.par_chunks_mut(DRAW_BATCH),
                c.x.par_chunks_mut(DRAW_BATCH),
                c.offer.par_chunks_mut(DRAW_BATCH),
                c.vol.par_chunks_mut(DRAW_BATCH),
                c.provider.par_chunks_mut(DRAW_BATCH),
                c.talent.par_chunks(DRAW_BATCH),
            )
                .into_par_iter()
                .with_min_len(min_len)
                .enumerate()
                .for_each(|(ci, (mode, x, offer, vol, provider, talent))| {
                    let n = mode.len();
                    let w = words_of_range(p, Stream::Decide, ci * DRAW_BATCH, n);
                    let kept = factors.get(ci * DRAW_BATCH..).unwrap_or(&[]);
                    // The creators that keep their mode, eight at a time where the CPU and the
                    // step's tables allow; the others one by one.
                    let mut x_new = [0f32; DRAW_BATCH];
                    let done = if lanes { decide_kept(mode, talent, x, vol, kept, &w, br, p, &mut x_new) } else { 0 };
                    for i in 0..n {
                        if done >> i & 1 != 0 {
                            x[i] = x_new[i];
                            continue;
                        }
                        let xi = x[i];
                        let hf_x = || match kept.get(i).map(|&k| kept_factor(k, xi)) {
                            Some(hf) if !hf.is_nan() => hf,
                            _ => human_factor(xi, p.w, p.inv_z),
                        };
                        let d = rules::decide(
                            talent[i],
                            xi,
                            mode[i],
                            offer[i][1],
                            vol[i],
                            provider[i],
                            w[i],
                            rp,
                            br,
                            p,
                            hf_x,
                        );
                        mode[i] = d.mode;
                        x[i] = d.x;
                        offer[i][1] = d.price;
                        vol[i] = d.vol;
                        provider[i] = d.provider;
                    }
                });
        });
    }

    fn state(&mut self) -> State {
        self.state.clone()
    }

    fn units(&mut self) -> (Vec<u32>, Vec<u32>) {
        self.units.iter().map(|r| (r[U_OWNER], r[U_CLAIM])).unzip()
    }
}

/// Agents per batch of the per-agent stages that draw random words: the words of a batch
/// are drawn together (`rng::draw4_many`, several blocks per instruction).
const DRAW_BATCH: usize = 64;

/// Markets from this many creators take the paths that pay only at scale: `decide`
/// tabulates the best response by talent each step (`rules::BestResponse::by_talent`), and
/// `offers` takes human factors from the per-thread memo (`factor`) and computes the mode's
/// cases side by side (`offers_lanes`). In smaller markets building the table costs more than
/// it saves, and so do the memo and the lanes (the sweep benchmark ran 8% slower with them):
/// the memo seldom hits there, since a thread moves from market to market, each with its own
/// w, and later in a run nearly every share is distinct (2108 among 2897 non-AI creators at
/// step 300 of a 10^4 market).
const LARGE_MARKET_CREATORS: usize = 1 << 18;

/// The most units offered whose price steps `accounts` looks up in large markets
/// (`PriceSteps`): the default `technology.ai_volume_max`.
const PRICE_STEP_CAPS: u32 = 64;

/// `rules::price_step(sold, cap, p)` for every cap from 1 to `max_cap` and every sold count
/// up to it, computed once per step: the step is an exponential of the sell-through
/// sold / cap, and after the shock AI creators (42% of the creators at step 64 at 10^6)
/// offer a few dozen units at most, so the step's few thousand pairs repeat across a market
/// of 10^6. The same function on the same arguments: the same bits.
struct PriceSteps {
    max_cap: u32,
    /// Cap k's steps at `start(k) ..= start(k) + k`.
    steps: Vec<f32>,
}

impl PriceSteps {
    fn new(p: &StepParams, max_cap: u32) -> Self {
        let steps = (1..=max_cap).flat_map(|k| (0..=k).map(move |s| rules::price_step(s, k, p))).collect();
        PriceSteps { max_cap, steps }
    }

    /// Where cap k's steps start: after those of caps 1 .. k, of 2 .. k entries each.
    fn start(k: u32) -> usize {
        ((k as usize - 1) * (k as usize + 2)) / 2
    }

    /// `rules::price_step(sold, cap, p)`, from the table where it holds the pair.
    #[inline]
    fn get(&self, sold: u32, cap: u32, p: &StepParams) -> f32 {
        if (1..=self.max_cap).contains(&cap) && sold <= cap {
            self.steps[Self::start(cap) + sold as usize]
        } else {
            rules::price_step(sold, cap, p)
        }
    }
}

/// Creators per rayon item of `accounts`: an item per creator, through rayon's zip of six
/// slices, cost about 15% of the stage at 10^6 (scan's record writing, chunked the same
/// way, measured no faster).
const ACCOUNT_BATCH: usize = 4096;

/// The words `draw4(p.key, agent, p.step, stream, 0)` of agents `i0 .. i0 + n` (at most
/// `DRAW_BATCH`), agent `i0 + l`'s at `l`, drawn together. (Stages that read only the first
/// word, and only for some agents of a batch, take `rng::first_words_range` for the whole
/// batch instead: drawing only for those agents saved nothing where most of a batch reads
/// one, and putting the words back into blocks cost more than the blocks.)
fn words_of_range(p: &StepParams, stream: Stream, i0: usize, n: usize) -> [[u32; 4]; DRAW_BATCH] {
    let n = n.min(DRAW_BATCH);
    let mut words = [[0; 4]; DRAW_BATCH];
    let agents: [u32; DRAW_BATCH] = std::array::from_fn(|l| (i0 + l) as u32);
    rng::draw4_many(p.key, p.step, stream as u32, &agents[..n], &[0; DRAW_BATCH][..n], &mut words[..n]);
    words
}

/// The first of those words, of every agent `i0 .. i0 + n` (`rng::first_words_range`).
fn first_words_of_range(p: &StepParams, stream: Stream, i0: usize, n: usize) -> [u32; DRAW_BATCH] {
    let mut u = [0u32; DRAW_BATCH];
    rng::first_words_range(p.key, p.step, stream as u32, i0 as u32, &mut u[..n.min(DRAW_BATCH)]);
    u
}

/// Adds a partial into an accumulator (element by element).
pub fn add_totals(t: &mut Totals, o: &Totals) {
    t.active += o.active;
    t.matched += o.matched;
    t.matched_ai += o.matched_ai;
    t.matched_junk += o.matched_junk;
    t.utility += o.utility;
    t.spend += o.spend;
    t.spend_ai += o.spend_ai;
    t.junk_paid += o.junk_paid;
    t.search_costs += o.search_costs;
    t.d_sum += o.d_sum;
    for m in 0..3 {
        t.mode_count[m] += o.mode_count[m];
        t.x_sum[m] += o.x_sum[m];
        t.talent_sum[m] += o.talent_sum[m];
        t.revenue[m] += o.revenue[m];
        for d in 0..10 {
            t.decile_mode[d][m] += o.decile_mode[d][m];
        }
    }
    for ch in 0..2 {
        t.offered[ch] += o.offered[ch];
        t.sold[ch] += o.sold[ch];
    }
    t.revenue_sq += o.revenue_sq;
    t.profit += o.profit;
    t.vol_sum += o.vol_sum;
    for (a, b) in t.provider_sold.iter_mut().zip(&o.provider_sold) {
        *a += b;
    }
    for (a, b) in t.hist.cells.iter_mut().zip(&o.hist.cells) {
        for k in 0..3 {
            a[k] += b[k];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of price steps gives `rules::price_step`'s bits for every pair it holds, and
    /// falls back to it outside (caps past the table, none offered, more sold than offered),
    /// at speeds that make the steps tiny, huge and exactly one.
    #[test]
    fn price_steps_are_the_rule_s() {
        for speed in [0.0f32, 0.05, 0.7, 40.0] {
            let p = StepParams { price_speed: speed, ..Default::default() };
            for max_cap in [1, 7, PRICE_STEP_CAPS] {
                let t = PriceSteps::new(&p, max_cap);
                for cap in 0..max_cap + 5 {
                    for sold in 0..cap + 3 {
                        assert_eq!(
                            t.get(sold, cap, &p).to_bits(),
                            rules::price_step(sold, cap, &p).to_bits(),
                            "speed {speed}, table to {max_cap}: sold {sold} of {cap}"
                        );
                    }
                }
            }
        }
    }

    /// `buyers_lanes` (eight at a time with AVX2 where the CPU has it) gives the bits of
    /// `rules::buyer_update` for active and inactive buyers, with no purchase and with human,
    /// AI and junk ones, search counts whose cost passes 2^24, utilities and expectations with
    /// NaN, infinities and signed zeros, shares that leave [0, 1], words on both sides of the
    /// return rate, and congestion and AI in and out of the rule.
    #[test]
    fn buyers_lanes_update_as_buyer_update() {
        let floats = [0.0f32, -0.0, 0.3, -0.7, 1.0, 2.5, -3.0, 1e-30, f32::INFINITY, f32::NAN];
        let words = [0u32, 0x3fff_ffff, 0x4000_0000, 0x8000_0100, u32::MAX];
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for case in 0..8u32 {
            let p = StepParams {
                lam_u: 0.3,
                lam_c: 0.2,
                lam_d: 0.15,
                eps_c: 0.25,
                search_cost: 0.013,
                congestion: 0.4,
                k: 5 + 1000 * (case % 2),
                cong_in_u: (case / 2) % 2,
                ai_present: u32::from(case < 4),
                ..Default::default()
            };
            let n = 203;
            let pick = |r: u64| floats[r as usize % floats.len()];
            let any = |r: u64, lo: f32, hi: f32| {
                if r % 5 == 0 { pick(r >> 8) } else { lo + (hi - lo) * (r >> 40) as f32 / (1u64 << 24) as f32 }
            };
            let (mut theta, mut searches, mut bought, mut offered, mut u) = (vec![], vec![], vec![], vec![], vec![]);
            let (mut util, mut active, mut exp, mut d) = (vec![], vec![], vec![], vec![]);
            for _ in 0..n {
                theta.push(any(next(), 0.1, 2.0));
                // Large counts: searches * k beyond 2^24, where converting to f32 rounds, and
                // beyond 2^31 (but not 2^32, where the rule's product would overflow).
                searches.push(if next() % 4 == 0 { (next() >> 42) as u32 } else { (next() % 4) as u32 });
                let who = (next() % 1000) as u32;
                bought.push(match next() % 5 {
                    0 | 1 => NONE,
                    2 => who,
                    3 => who | AI_BIT,
                    _ => who | AI_BIT | JUNK_BIT,
                });
                offered.push([any(next(), 0.0, 3.0), any(next(), 0.0, 2.0)]);
                u.push(if next() % 3 == 0 { words[next() as usize % words.len()] } else { next() as u32 });
                util.push(any(next(), -1.0, 1.0));
                active.push((next() % 3 != 0) as u32);
                exp.push([any(next(), -1.0, 1.0), any(next(), -1.0, 1.0)]);
                // Shares near and past the ends, so both clamps are taken.
                d.push(any(next(), -0.1, 1.1));
            }
            let want: Vec<_> = (0..n)
                .map(|i| {
                    let bo = bought[i];
                    let purchase = (bo != NONE).then(|| {
                        let [q, price] = offered[i];
                        (if bo & JUNK_BIT != 0 { 0.0 } else { q }, price, bo & AI_BIT != 0)
                    });
                    rules::buyer_update(
                        theta[i],
                        util[i],
                        active[i] != 0,
                        exp[i],
                        d[i],
                        searches[i],
                        purchase,
                        || u[i],
                        &p,
                    )
                })
                .collect();
            for block in [64usize, 13, 8] {
                let (mut ut, mut ac, mut ex, mut dd, mut gain) =
                    (util.clone(), active.clone(), exp.clone(), d.clone(), vec![[9.0f32; 2]; n]);
                for s in (0..n).step_by(block) {
                    let r = s..(s + block).min(n);
                    let c = BuyerLanes {
                        theta: &theta[r.clone()],
                        searches: &searches[r.clone()],
                        bought: &bought[r.clone()],
                        offered: &offered[r.clone()],
                        u: &u[r.clone()],
                    };
                    let out = BuyerFields {
                        util: &mut ut[r.clone()],
                        active: &mut ac[r.clone()],
                        exp: &mut ex[r.clone()],
                        d: &mut dd[r.clone()],
                        gain: &mut gain[r],
                    };
                    buyers_lanes(c, &p, out);
                }
                for (i, w) in want.iter().enumerate() {
                    let got = (ut[i], ac[i] != 0, ex[i], dd[i], gain[i][0], gain[i][1]);
                    let bits = |t: (f32, bool, [f32; 2], f32, f32, f32)| {
                        (t.0.to_bits(), t.1, t.2.map(f32::to_bits), t.3.to_bits(), t.4.to_bits(), t.5.to_bits())
                    };
                    assert_eq!(bits(got), bits(*w), "case {case}, blocks of {block}, buyer {i}: {got:?} against {w:?}");
                }
            }
        }
    }

    /// `offers_lanes` (AVX2 where the CPU has it) and its portable body give the bits of the
    /// rules they stand for, `rules::nominal_quality_and_factor` and `rules::capacity_q`, for
    /// every mode, re-skilling or not, with volumes below 1, at and beyond the cap, and words
    /// at both ends of [0, 1).
    #[test]
    fn offers_lanes_match_the_rules() {
        let p = StepParams { alpha_a: 1.7, qbar_a: 0.9, ai_volume_max: 12.5, w: 0.4, inv_z: 1.3, ..Default::default() };
        let (mut mode, mut talent, mut x, mut vol, mut reskill, mut hf, mut u) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        let words = [0u32, 1 << 8, 0x7fff_ffff, 0x8000_0000, 0xffff_ff00, u32::MAX, 0x1234_5678];
        let vols = [0.0f32, 0.3, 1.0, 2.49, 11.7, 12.0, 12.4, 12.6, 40.0, f32::INFINITY, f32::NAN];
        let mut k = 0u32;
        for m in [EXIT, AI, HUMAN] {
            for rs in [0u32, 3] {
                for &v in &vols {
                    for &w in &words {
                        k += 1;
                        let (t, xi) = (0.2 + (k % 13) as f32 * 0.1, 0.05 + (k % 17) as f32 * 0.05);
                        mode.push(m);
                        talent.push(t);
                        x.push(xi);
                        vol.push(v);
                        reskill.push(rs);
                        // AI creators keep no factor (NaN), as `offers` passes them.
                        hf.push(if m == AI { f32::NAN } else { human_factor(xi, p.w, p.inv_z) });
                        u.push(w);
                    }
                }
            }
        }
        let n = mode.len();
        let check = |q: &[f32], cap: &[u32], what: &str| {
            for i in 0..n {
                let (q_rule, _) = rules::nominal_quality_and_factor(mode[i], talent[i], x[i], hf[i], &p);
                let cap_rule = rules::capacity_q(mode[i], vol[i], || u[i], p.ai_volume_max, reskill[i]);
                assert_eq!(q[i].to_bits(), q_rule.to_bits(), "{what}: q of creator {i} (mode {})", mode[i]);
                assert_eq!(cap[i], cap_rule, "{what}: cap of creator {i} (mode {}, vol {})", mode[i], vol[i]);
            }
        };
        for chunk in [n, 64, 7] {
            let (mut q, mut cap) = (vec![0f32; n], vec![0u32; n]);
            for s in (0..n).step_by(chunk) {
                let e = (s + chunk).min(n);
                let r = s..e;
                let c = OfferLanes {
                    mode: &mode[r.clone()],
                    talent: &talent[r.clone()],
                    x: &x[r.clone()],
                    vol: &vol[r.clone()],
                    reskill: &reskill[r.clone()],
                    hf: &hf[r.clone()],
                    u: &u[r.clone()],
                };
                offers_lanes(c, &p, &mut q[r.clone()], &mut cap[r]);
            }
            check(&q, &cap, "offers_lanes");
        }
        let (mut q, mut cap) = (vec![0f32; n], vec![0u32; n]);
        let c = OfferLanes { mode: &mode, talent: &talent, x: &x, vol: &vol, reskill: &reskill, hf: &hf, u: &u };
        offers_lanes_body(c, &p, &mut q, &mut cap);
        check(&q, &cap, "offers_lanes_body");
    }
}
