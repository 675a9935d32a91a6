//! Choosing between two values without a branch, where the choice is a coin flip to the
//! branch predictor (whether a buyer bought, whether a grid point beats a creator's profit).
//!
//! x86-64's baseline instruction set has no blend for a scalar float, so LLVM compiles a
//! select of floats to a branch: an `if`, `std::hint::select_unpredictable`, and a mask
//! applied to the floats' bits alike (it recognises the mask and turns it back into a
//! select). [`opaque_mask`] passes the mask through an empty `asm!`, so the compiler cannot
//! see that it is all ones or all zeros and keeps the `and`/`or` it was given. Measured in
//! `reduce` (docs/performance.md, commit 2e0c1cb) and in `decide`'s talent tables.

/// All ones where `cond`, else zero, opaque to the compiler.
#[inline(always)]
pub fn opaque_mask(cond: bool) -> u64 {
    #[allow(unused_mut)]
    let mut mask = (cond as u64).wrapping_neg();
    // SAFETY: the template is a comment: it reads and writes only `mask`'s register.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    unsafe {
        std::arch::asm!("/* {0} */", inout(reg) mask, options(pure, nomem, nostack, preserves_flags))
    };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let mask = std::hint::black_box(mask);
    mask
}

/// `a` where `cond`, else `b`, bit for bit, without a branch.
#[inline(always)]
pub fn pick(cond: bool, a: f32, b: f32) -> f32 {
    let m = opaque_mask(cond) as u32;
    f32::from_bits((a.to_bits() & m) | (b.to_bits() & !m))
}

/// `v` where `cond`, else +0.0, without a branch.
#[inline(always)]
pub fn kept(cond: bool, v: f64) -> f64 {
    f64::from_bits(v.to_bits() & opaque_mask(cond))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_and_keeps_bits_of_every_kind() {
        for &(a, b) in &[(1.5f32, -2.0f32), (-0.0, 0.0), (f32::NAN, 1.0), (f32::INFINITY, f32::MIN_POSITIVE)] {
            assert_eq!(pick(true, a, b).to_bits(), a.to_bits());
            assert_eq!(pick(false, a, b).to_bits(), b.to_bits());
        }
        for v in [3.25f64, -0.0, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(kept(true, v).to_bits(), v.to_bits());
            assert_eq!(kept(false, v).to_bits(), 0.0f64.to_bits());
        }
        assert_eq!((opaque_mask(true), opaque_mask(false)), (u64::MAX, 0));
    }
}
