//! The best response's grid scan eight points at a time (AVX2): the CPU's fast path of
//! `rules::best_share`, returning the same creative share for every input (a test holds
//! it to the scalar scan, ties and NaN included).

use super::{BestResponse, costs_of};
use crate::model::market::Costs;
use crate::model::params::StepParams;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Grid points the vector scan handles (four registers; the default grid has 19). Larger
/// grids take the scalar scan.
pub(super) const SIMD_POINTS: usize = 32;
/// Registers that hold a whole value table when the curves have at most `8 * TABLE_REGS`
/// bins (the default has 32): a point's value is then picked from registers by permutes
/// instead of an AVX2 gather, which is slow on AMD (and its latency sits on the scan's path).
pub(super) const TABLE_REGS: usize = 4;

/// `best_share_scalar` eight grid points at a time: every point's value first (its curve
/// bin and the bin's profit, by the same float operations in the same order), then the
/// first point holding the largest value. That is the point the scalar scan ends on: a
/// strictly greater value replaces the best, so of equal maxima the first stays, and a NaN
/// never replaces anything (here it counts as -inf).
///
/// # Safety
/// The CPU must have AVX2, `br.points <= SIMD_POINTS`, and `br` filled by
/// `BestResponse::fill` (grid padded to whole registers, tables to `8 * TABLE_REGS` entries).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn best_share_avx2(
    talent: f32,
    x: f32,
    ai: bool,
    best: f32,
    v_star: f32,
    br: &BestResponse,
    p: &StepParams,
) -> f32 {
    let n = br.points;
    let regs = n.div_ceil(8);
    debug_assert!(n <= SIMD_POINTS && br.x.len() >= regs * 8 && br.hf.len() >= regs * 8);
    let c = costs_of(p);
    let neg_inf = _mm256_set1_ps(f32::NEG_INFINITY);
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // AI quality min(qbar, alpha talent x) as `q_ai` computes it: (alpha * talent) * x.
    let alpha_talent = _mm256_set1_ps(p.alpha_a * talent);
    let (qbar, talent_v) = (_mm256_set1_ps(p.qbar_a), _mm256_set1_ps(talent));
    let v_star_v = _mm256_set1_ps(v_star);
    let (src, table) = if ai { (&br.x, &br.margin_ai) } else { (&br.hf, &br.profit_h) };
    debug_assert!(table.len() >= TABLE_REGS * 8);
    let in_registers = p.bins as usize <= TABLE_REGS * 8;
    let t_regs = regs32(table);
    let mut vals = [neg_inf; SIMD_POINTS / 8];
    let mut vmax = neg_inf;
    for (r, val) in vals.iter_mut().enumerate().take(regs) {
        let base = 8 * r;
        // SAFETY: `src` is padded to whole registers.
        let g = unsafe { _mm256_loadu_ps(src.as_ptr().add(base)) };
        let q = if ai { _mm256_min_ps(_mm256_mul_ps(alpha_talent, g), qbar) } else { _mm256_mul_ps(talent_v, g) };
        let bin = bins8(q, p);
        let t = if in_registers {
            entry32(&t_regs, bin)
        } else {
            // SAFETY: every bin is in [0, bins - 1] and the table has at least `bins` entries.
            unsafe { _mm256_i32gather_ps::<4>(table.as_ptr(), bin) }
        };
        let v = if ai { profit_ai8(t, v_star_v, &c) } else { t };
        let lanes = (n - base).min(8) as i32;
        let keep = _mm256_and_ps(
            _mm256_cmp_ps::<_CMP_ORD_Q>(v, v),
            _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), lane)),
        );
        *val = _mm256_blendv_ps(neg_inf, v, keep);
        vmax = _mm256_max_ps(vmax, *val);
    }
    // The largest value across the lanes (no NaN is left; of two zeros either may come out,
    // and the comparisons below treat them alike).
    let m = _mm256_max_ps(vmax, _mm256_permute2f128_ps::<1>(vmax, vmax));
    let m = _mm256_max_ps(m, _mm256_permute_ps::<0b01_00_11_10>(m));
    let m = _mm256_max_ps(m, _mm256_permute_ps::<0b10_11_00_01>(m));
    let top_value = _mm256_cvtss_f32(m);
    if !(top_value > best) {
        return x;
    }
    // The first point equal to the maximum (padding holds -inf, below it).
    let mut at = 0u32;
    for (r, &v) in vals.iter().enumerate().take(regs) {
        at |= (_mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_OQ>(v, m)) as u32) << (8 * r);
    }
    match at.trailing_zeros() as usize {
        g if g < n => br.x[g],
        _ => x,
    }
}

/// `market::bin_of_clamped` of eight qualities: q / q_max * bins, NaN and what is not above
/// zero to 0 (`max` gives its second operand, zero, for NaN), capped at bins - 1.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn bins8(q: __m256, p: &StepParams) -> __m256i {
    let f = _mm256_mul_ps(_mm256_div_ps(q, _mm256_set1_ps(p.q_max)), _mm256_set1_ps(p.bins as f32));
    _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(f, _mm256_setzero_ps()), _mm256_set1_ps((p.bins - 1) as f32)))
}

/// The first 32 entries of `t` (zeros past its end) in four registers, for `entry32`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn regs32(t: &[f32]) -> [__m256; TABLE_REGS] {
    let mut a = [0f32; TABLE_REGS * 8];
    let k = t.len().min(a.len());
    a[..k].copy_from_slice(&t[..k]);
    // SAFETY: `a` holds 8 * TABLE_REGS floats.
    std::array::from_fn(|r| unsafe { _mm256_loadu_ps(a.as_ptr().add(8 * r)) })
}

/// Entry `i` (below 32) of a table held in four registers: bits 0-2 pick within a register
/// (vpermps), bit 3 then bit 4 pick the register (blendv reads the sign bit).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn entry32(regs: &[__m256; TABLE_REGS], i: __m256i) -> __m256 {
    let pick: [__m256; TABLE_REGS] = std::array::from_fn(|k| _mm256_permutevar8x32_ps(regs[k], i));
    let bit3 = _mm256_castsi256_ps(_mm256_slli_epi32::<28>(i));
    let bit4 = _mm256_castsi256_ps(_mm256_slli_epi32::<27>(i));
    _mm256_blendv_ps(_mm256_blendv_ps(pick[0], pick[1], bit3), _mm256_blendv_ps(pick[2], pick[3], bit3), bit4)
}

/// `market::profit_ai_of_margin` of eight margins: (m > 0 ? v* : 1) m - f_ai - adoption_tax.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn profit_ai8(m: __m256, v_star: __m256, c: &Costs) -> __m256 {
    let vol = _mm256_blendv_ps(_mm256_set1_ps(1.0), v_star, _mm256_cmp_ps::<_CMP_GT_OQ>(m, _mm256_setzero_ps()));
    _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(vol, m), _mm256_set1_ps(c.f_ai)), _mm256_set1_ps(c.adoption_tax))
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::model::rules::{best_share, best_share_scalar};

    /// The vector scan against the scalar one on random grids, tables and creators, with
    /// ties (values from a small set), NaN, signed zeros, and grids of 2 to 32 points.
    #[test]
    fn the_vector_scan_finds_the_scalar_scans_share() {
        assert!(std::arch::is_x86_feature_detected!("avx2"), "this test needs an x86-64 CPU with AVX2");
        let mut cases = crate::model::rules::ScanCases::new([7, 9]);
        let mut compared = [0usize; 2];
        let mut shortcut = 0;
        for case in 0..4000 {
            let (p, br) = cases.problem(case);
            let mut u = || cases.u();
            let talent = match case % 17 {
                0 => f32::NAN,
                1 => 0.0,
                _ => 3.0 * u(),
            };
            let x = u();
            let v_star = [1.0, 0.5 + 3.0 * u()][case as usize % 2];
            let best = [f32::NEG_INFINITY, 0.0, u() - 0.5, f32::NAN][case as usize % 4];
            for ai in [false, true] {
                let want = best_share_scalar(talent, x, ai, best, v_star, &br, &p);
                // SAFETY: AVX2 asserted above; the grid has at most 32 points.
                let got = unsafe { best_share_avx2(talent, x, ai, best, v_star, &br, &p) };
                assert_eq!(got.to_bits(), want.to_bits(), "case {case} ai {ai}: {got} vs {want}");
                // The bound's shortcut (`best_share`) changes no share either.
                let got = best_share(talent, x, ai, best, v_star, &br, &p);
                assert_eq!(got.to_bits(), want.to_bits(), "case {case} ai {ai}, bounded: {got} vs {want}");
                shortcut += usize::from(!(br.bound(talent, ai, v_star, &p) > best) && !best.is_nan());
                compared[(got != x) as usize] += 1;
            }
        }
        // Both outcomes occur: the current share kept and a grid point chosen.
        assert!(compared[0] > 500 && compared[1] > 500, "{compared:?}");
        // The shortcut is taken, and not always.
        assert!(shortcut > 200 && shortcut < compared[0], "{shortcut} of {compared:?}");
    }
}
