//! The human factor `human_factor(x, w, 1/Z(w))` by creative share x, memoised per worker
//! thread for the step's (w, 1/Z).
//!
//! Creators' shares move by partial adjustment toward points of the best response's grid,
//! so a market holds few distinct shares (460 among the 575 000 creators not in AI mode at
//! step 64 of the baseline at 10^6), while w moves every step once AI output is on the market
//! (the novelty premium): two `powf` per creator per step were most of `offers`, and a
//! per-creator cache of the factor, valid only while w stood still, missed every step after
//! the shock. A lookup here costs a hash and a load that hits in L1. The memo only holds
//! values of a pure function, so which thread filled it, and when, changes no result.

use crate::model::technology::human_factor;
use std::cell::RefCell;

/// Slots of the table (a power of two): 64 KiB of keys and values, resident in L2.
const SLOTS: usize = 1 << 13;
/// At most this many shares are kept: linear probing stays short at a quarter full, and
/// past it shares are computed, not kept (still correct, only slower).
const MAX_KEPT: usize = SLOTS / 4;
/// The key of an empty slot: the bits of one NaN. A share with these bits is computed,
/// never kept.
const EMPTY: u32 = u32::MAX;

/// One thread's memo.
pub struct Factors {
    w: f32,
    inv_z: f32,
    keys: Box<[u32; SLOTS]>,
    vals: Box<[f32; SLOTS]>,
    /// The slots in use, to empty them when the parameters change.
    used: Vec<u32>,
}

thread_local! {
    static FACTORS: RefCell<Factors> = RefCell::new(Factors::new());
}

/// Runs `f` with this thread's memo, ready for (w, inv_z).
pub fn with<R>(w: f32, inv_z: f32, f: impl FnOnce(&mut Factors) -> R) -> R {
    FACTORS.with_borrow_mut(|m| {
        m.ready(w, inv_z);
        f(m)
    })
}

impl Factors {
    fn new() -> Self {
        Factors {
            w: f32::NAN,
            inv_z: f32::NAN,
            keys: Box::new([EMPTY; SLOTS]),
            vals: Box::new([0.0; SLOTS]),
            used: Vec::with_capacity(MAX_KEPT),
        }
    }

    /// Forgets the factors of other parameters than (w, inv_z).
    fn ready(&mut self, w: f32, inv_z: f32) {
        if (self.w.to_bits(), self.inv_z.to_bits()) != (w.to_bits(), inv_z.to_bits()) {
            for &s in &self.used {
                self.keys[s as usize] = EMPTY;
            }
            self.used.clear();
            (self.w, self.inv_z) = (w, inv_z);
        }
    }

    /// `human_factor(x, w, inv_z)`, bit for bit: from the memo where it holds it, else
    /// computed (and kept) if `compute`, else NaN. One probe either way.
    #[inline]
    pub fn get(&mut self, x: f32, compute: bool) -> f32 {
        match self.slot_of(x) {
            Ok(s) => self.vals[s],
            Err(s) if compute => self.compute(x, s),
            Err(_) => f32::NAN,
        }
    }

    /// The slot holding x (Ok), or the empty slot where it would go (Err).
    #[inline]
    fn slot_of(&self, x: f32) -> Result<usize, usize> {
        let key = x.to_bits();
        let mut s = (key.wrapping_mul(0x9e37_79b1) >> (32 - SLOTS.trailing_zeros())) as usize;
        loop {
            let k = self.keys[s];
            if k == key && key != EMPTY {
                return Ok(s);
            }
            if k == EMPTY {
                return Err(s);
            }
            s = (s + 1) % SLOTS;
        }
    }

    /// Computes the factor at x, keeping it in the empty slot `s` while there is room.
    #[cold]
    fn compute(&mut self, x: f32, s: usize) -> f32 {
        let v = human_factor(x, self.w, self.inv_z);
        let key = x.to_bits();
        if key != EMPTY && self.used.len() < MAX_KEPT {
            (self.keys[s], self.vals[s]) = (key, v);
            self.used.push(s as u32);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memo gives `human_factor`'s bits: for shares seen before and new, after the
    /// parameters change (the old factors forgotten), past the number it keeps, and for a
    /// share whose bits are the empty key's.
    #[test]
    fn gives_the_factor_bit_for_bit() {
        let xs: Vec<f32> = (0..3 * MAX_KEPT).map(|i| 0.05 + 0.9 * i as f32 / (3 * MAX_KEPT) as f32).collect();
        for (w, inv_z) in [(0.4f32, 1.3f32), (0.41, 1.29), (0.4, 1.3)] {
            with(w, inv_z, |m| {
                for _ in 0..2 {
                    for &x in xs.iter().chain(&[f32::from_bits(EMPTY), 0.5, 0.0, 1.0]) {
                        let want = human_factor(x, w, inv_z);
                        let found = m.get(x, false);
                        assert!(found.is_nan() || found.to_bits() == want.to_bits(), "without computing: x {x}, w {w}");
                        assert_eq!(m.get(x, true).to_bits(), want.to_bits(), "x {x}, w {w}");
                    }
                }
                assert_eq!(m.used.len(), MAX_KEPT, "keeps at most MAX_KEPT shares");
            });
        }
    }
}
