//! The best response's grid scan eight points at a time (AVX2): the CPU's fast path of
//! `rules::best_share`, returning the same creative share for every input (a test holds
//! it to the scalar scan, ties and NaN included).

use super::{BestResponse, costs_of};
use crate::model::params::StepParams;

/// Grid points the vector scan handles (four registers; the default grid has 19). Larger
/// grids take the scalar scan.
pub(super) const SIMD_POINTS: usize = 32;

/// `best_share_scalar` eight grid points at a time: every point's value first (its curve
/// bin and the bin's profit, by the same float operations in the same order), then the
/// first point holding the largest value. That is the point the scalar scan ends on: a
/// strictly greater value replaces the best, so of equal maxima the first stays, and a NaN
/// never replaces anything (here it counts as -inf).
///
/// # Safety
/// The CPU must have AVX2, `br.x.len() == br.hf.len() <= SIMD_POINTS`, and `br` filled
/// by `BestResponse::fill` (`x8` and `hf8` padded to whole registers).
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
    use std::arch::x86_64::*;
    let n = br.x.len();
    debug_assert!(n == br.hf.len() && n <= SIMD_POINTS);
    let c = costs_of(p);
    let (q_max, bins, top) =
        (_mm256_set1_ps(p.q_max), _mm256_set1_ps(p.bins as f32), _mm256_set1_ps((p.bins - 1) as f32));
    let zero = _mm256_setzero_ps();
    let neg_inf = _mm256_set1_ps(f32::NEG_INFINITY);
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // AI quality min(qbar, alpha talent x) as `q_ai` computes it: (alpha * talent) * x.
    let alpha_talent = _mm256_set1_ps(p.alpha_a * talent);
    let (qbar, talent_v) = (_mm256_set1_ps(p.qbar_a), _mm256_set1_ps(talent));
    let (one, v_star_v) = (_mm256_set1_ps(1.0), _mm256_set1_ps(v_star));
    let (f_ai, adoption_tax) = (_mm256_set1_ps(c.f_ai), _mm256_set1_ps(c.adoption_tax));
    let (src, table) = if ai { (&br.x8, &br.margin_ai) } else { (&br.hf8, &br.profit_h) };
    debug_assert!(src.len() >= n.div_ceil(8) * 8);
    let mut vals = [f32::NEG_INFINITY; SIMD_POINTS];
    let mut vmax = neg_inf;
    for base in (0..n).step_by(8) {
        let lanes = (n - base).min(8);
        // SAFETY (and for the intrinsics below): the CPU has AVX2 (this function's
        // contract); `src` is padded to whole registers (`BestResponse::fill`).
        let g = unsafe { _mm256_loadu_ps(src[base..base + 8].as_ptr()) };
        let q = if ai { _mm256_min_ps(_mm256_mul_ps(alpha_talent, g), qbar) } else { _mm256_mul_ps(talent_v, g) };
        // `market::bin_of_clamped`: q / q_max * bins, NaN and <= 0 to 0, capped at bins - 1.
        let f = _mm256_mul_ps(_mm256_div_ps(q, q_max), bins);
        let bin = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(f, zero), top));
        // SAFETY: every bin is in [0, bins - 1] and the table has `bins` entries.
        let t = unsafe { _mm256_i32gather_ps::<4>(table.as_ptr(), bin) };
        let v = if ai {
            // `market::profit_ai_of_margin`: (m > 0 ? v* : 1) m - f_ai - adoption_tax.
            let vol = _mm256_blendv_ps(one, v_star_v, _mm256_cmp_ps::<_CMP_GT_OQ>(t, zero));
            _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(vol, t), f_ai), adoption_tax)
        } else {
            t
        };
        let keep = _mm256_and_ps(
            _mm256_cmp_ps::<_CMP_ORD_Q>(v, v),
            _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(lanes as i32), lane)),
        );
        let v = _mm256_blendv_ps(neg_inf, v, keep);
        vmax = _mm256_max_ps(vmax, v);
        // SAFETY: base + 8 <= SIMD_POINTS since n <= SIMD_POINTS and base is a multiple of 8.
        unsafe { _mm256_storeu_ps(vals.as_mut_ptr().add(base), v) };
    }
    let mut m = [0.0f32; 8];
    // SAFETY: an 8-float array.
    unsafe { _mm256_storeu_ps(m.as_mut_ptr(), vmax) };
    let top_value = m.iter().fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    if !(top_value > best) {
        return x;
    }
    match vals[..n].iter().position(|&v| v == top_value) {
        Some(g) => br.x[g],
        None => x,
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::model::rules::best_share_scalar;
    use crate::rng;

    /// The vector scan against the scalar one on random grids, tables and creators, with
    /// ties (values from a small set), NaN, signed zeros, and grids of 2 to 32 points.
    #[test]
    fn the_vector_scan_finds_the_scalar_scans_share() {
        assert!(std::arch::is_x86_feature_detected!("avx2"), "this test needs an x86-64 CPU with AVX2");
        let mut p = StepParams {
            x_lo: 0.02,
            x_hi: 0.98,
            w: 0.5,
            inv_z: 2.0,
            f_ai: 0.3,
            adoption_tax: 0.05,
            ..Default::default()
        };
        let mut k = 0u32;
        let mut u = || {
            k += 1;
            rng::unit_f32(rng::draw4([7, 9], k, 0, 0, 0)[0])
        };
        let mut compared = [0usize; 2];
        for case in 0..4000 {
            p.x_grid = 2 + case % 31;
            p.bins = [1, 2, 7, 64][case as usize % 4];
            p.q_max = 0.5 + 3.0 * u();
            p.alpha_a = 3.0 * u();
            p.qbar_a = 2.0 * u();
            let pool = [0.0, -0.0, 1.0, 2.5, -1.0, f32::NAN, 0.25];
            let mut br = BestResponse::new(&p, &vec![[1.0, 1.0]; 2 * p.bins as usize]);
            for v in br.profit_h.iter_mut().chain(br.margin_ai.iter_mut()) {
                *v = if u() < 0.5 { pool[(u() * 7.0) as usize % 7] } else { 4.0 * u() - 2.0 };
            }
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
                compared[(got != x) as usize] += 1;
            }
        }
        // Both outcomes occur: the current share kept and a grid point chosen.
        assert!(compared[0] > 500 && compared[1] > 500, "{compared:?}");
    }
}
