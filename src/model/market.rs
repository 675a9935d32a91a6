//! Market curves and what creators read off them: sell-through R[ch][b] and price per unit
//! sold P[ch][b] by channel and quality bin (EMAs of the step's histograms), expected
//! profits of each mode, the logit choice and the creative-share best response.
//! Curves are laid out as `[(R, P); 2 * bins]`, AI channel first: the buffer the GPU reads.

/// Channel index of AI units in curves and histograms.
pub const CH_AI: usize = 0;
/// Channel index of human units.
pub const CH_HUMAN: usize = 1;

/// Bin of quality `q` on [0, q_max) with `bins` bins (clamped at both ends).
/// The float-to-integer cast truncates toward zero and saturates (negative and NaN give 0),
/// which is floor on the non-negative range and avoids a libm call per lookup.
#[inline]
pub fn bin_of(q: f32, q_max: f32, bins: u32) -> u32 {
    ((q / q_max * bins as f32) as u32).min(bins - 1)
}

/// `bin_of` in a form a loop over many qualities vectorises: the scaled quality is clamped
/// to [0, bins - 1] before it is truncated (NaN and negatives to 0), so the conversion
/// needs no saturation. The same bin for every `q` when `bins` <= 2^24 (bins - 1 is
/// exact in f32; a curve has at most 1024 bins): truncation is monotone and every clamped
/// value's bin is the one `bin_of`'s `min` gives.
#[inline]
pub fn bin_of_clamped(q: f32, q_max: f32, bins: u32) -> u32 {
    let f = q / q_max * bins as f32;
    // `>` is false for NaN: NaN and everything not above zero go to 0.
    let f = if f > 0.0 { f } else { 0.0 };
    let top = (bins - 1) as f32;
    let f = if f < top { f } else { top };
    // SAFETY: f is in [0, bins - 1], finite and below 2^31, so it fits an i32.
    unsafe { f.to_int_unchecked::<i32>() as u32 }
}

/// One step's histogram per channel and bin: units offered, units sold, revenue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    pub bins: usize,
    /// `[ch * bins + b]` = (offered, sold, revenue).
    pub cells: Vec<[f64; 3]>,
}

impl Histogram {
    pub fn new(bins: usize) -> Self {
        Self { bins, cells: vec![[0.0; 3]; 2 * bins] }
    }
}

/// The market curves creators see.
#[derive(Clone, Debug, PartialEq)]
pub struct Curves {
    pub bins: u32,
    pub q_max: f32,
    /// `[ch * bins + b]` = (sell-through R, price per unit sold P).
    pub rp: Vec<[f32; 2]>,
    /// Whether a cell has ever had units offered.
    pub seen: Vec<bool>,
}

impl Curves {
    /// Prior curves: everything sells half the time at what an average buyer would pay
    /// for the bin's quality times `price_share`.
    pub fn prior(bins: u32, q_max: f32, theta_mean: f32, price_share: f32) -> Self {
        let mut rp = Vec::with_capacity(2 * bins as usize);
        for _ch in 0..2 {
            for b in 0..bins {
                let q = (b as f32 + 0.5) * q_max / bins as f32;
                rp.push([0.5, price_share * theta_mean * q]);
            }
        }
        Self { bins, q_max, rp, seen: vec![false; 2 * bins as usize] }
    }

    /// EMA update with weight `mu` from a step's histogram. Cells with no units offered
    /// keep their value; a never-seen cell borrows the other channel's value at the same
    /// quality when that one has been seen (an AI unit of quality q is expected to sell
    /// like a human unit of quality q until the market says otherwise).
    pub fn update(&mut self, h: &Histogram, mu: f32) {
        let n = self.bins as usize;
        for i in 0..2 * n {
            let [offered, sold, revenue] = h.cells[i];
            if offered > 0.0 {
                let r = (sold / offered) as f32;
                let cell = &mut self.rp[i];
                if self.seen[i] {
                    cell[0] += mu * (r - cell[0]);
                    if sold > 0.0 {
                        cell[1] += mu * ((revenue / sold) as f32 - cell[1]);
                    }
                } else {
                    cell[0] = r;
                    if sold > 0.0 {
                        cell[1] = (revenue / sold) as f32;
                    }
                    self.seen[i] = true;
                }
            }
        }
        for b in 0..n {
            for (me, other) in [(CH_AI, CH_HUMAN), (CH_HUMAN, CH_AI)] {
                if !self.seen[me * n + b] && self.seen[other * n + b] {
                    self.rp[me * n + b] = self.rp[other * n + b];
                }
            }
        }
    }

    /// (R, P) at quality `q` in channel `ch`.
    #[inline]
    pub fn at(&self, ch: usize, q: f32) -> [f32; 2] {
        curve_at(&self.rp, self.bins, self.q_max, ch, q)
    }
}

/// (R, P) at quality `q` in channel `ch` of a flat curve buffer (mirrored in decide.wgsl).
#[inline]
pub fn curve_at(rp: &[[f32; 2]], bins: u32, q_max: f32, ch: usize, q: f32) -> [f32; 2] {
    rp[ch * bins as usize + bin_of(q, q_max, bins) as usize]
}

/// Cost and policy terms of the expected-profit formulas.
#[derive(Clone, Copy, Debug)]
pub struct Costs {
    pub c_human: f32,
    pub subsidy: f32,
    pub c_ai: f32,
    pub f_ai: f32,
    pub api_fee: f32,
    pub unit_tax: f32,
    pub adoption_tax: f32,
}

/// E[profit_H] = R_H(q) (P_H(q) - c_H + subsidy).
#[inline]
pub fn expected_profit_human(rp: [f32; 2], c: &Costs) -> f32 {
    rp[0] * (rp[1] - c.c_human + c.subsidy)
}

/// E[profit_A] = v* m_A - F_A - adoption_tax, m_A = R_A (P_A - api_fee) - c_A - unit_tax:
/// `vol` units if the margin is positive (the volume the creator can expect to sell at that
/// sell-through: its own, or what AI creators produce), else 1 (MODEL.md step 6).
#[inline]
pub fn expected_profit_ai(rp: [f32; 2], c: &Costs, vol: f32) -> f32 {
    profit_ai_of_margin(margin_ai(rp, c), c, vol)
}

/// The AI margin per unit m_A = R_A (P_A - api_fee) - c_A - unit_tax of `expected_profit_ai`
/// (the same for every creator in a bin, so a step can tabulate it).
#[inline]
pub fn margin_ai(rp: [f32; 2], c: &Costs) -> f32 {
    rp[0] * (rp[1] - c.api_fee) - c.c_ai - c.unit_tax
}

/// `expected_profit_ai` from its margin `m` (`margin_ai`).
#[inline]
pub fn profit_ai_of_margin(m: f32, c: &Costs, vol: f32) -> f32 {
    let v = if m > 0.0 { vol } else { 1.0 };
    v * m - c.f_ai - c.adoption_tax
}

/// Logit choice over (exit, AI, human) profits with precision `beta` and a uniform `u`.
/// Returns the mode index (0 exit, 1 AI, 2 human). Stable for large `beta`.
#[inline]
pub fn logit_choice(pi: [f32; 3], beta: f32, u: f32) -> u32 {
    let m = pi[0].max(pi[1]).max(pi[2]);
    let e0 = (beta * (pi[0] - m)).exp();
    let e1 = (beta * (pi[1] - m)).exp();
    let e2 = (beta * (pi[2] - m)).exp();
    let t = u * (e0 + e1 + e2);
    if t < e0 {
        0
    } else if t < e0 + e1 {
        1
    } else {
        2
    }
}

/// Logit probabilities over (exit, AI, human).
pub fn logit_probs(pi: [f64; 3], beta: f64) -> [f64; 3] {
    let m = pi[0].max(pi[1]).max(pi[2]);
    let e = pi.map(|p| (beta * (p - m)).exp());
    let s = e[0] + e[1] + e[2];
    e.map(|v| v / s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamped_bins_equal_bin_of_everywhere() {
        let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0, -1.0, f32::MAX, f32::MIN_POSITIVE];
        for bins in [2u32, 3, 32, 1024] {
            for q_max in [0.001f32, 1.0, 4.0, 1.0e6] {
                // Every bin edge and its neighbours in f32, random qualities and the specials.
                let mut qs: Vec<f32> = specials.to_vec();
                for b in 0..=bins {
                    let edge = b as f32 * q_max / bins as f32;
                    qs.extend([
                        edge,
                        f32::from_bits(edge.to_bits().wrapping_sub(1)),
                        f32::from_bits(edge.to_bits() + 1),
                    ]);
                }
                qs.extend((0..10_000u32).map(|i| f32::from_bits(crate::rng::hash32(i ^ bins))));
                for q in qs {
                    assert_eq!(
                        bin_of_clamped(q, q_max, bins),
                        bin_of(q, q_max, bins),
                        "q {q:e} q_max {q_max} bins {bins}"
                    );
                }
            }
        }
    }

    #[test]
    fn bins_clamp_at_both_ends() {
        assert_eq!(bin_of(-1.0, 4.0, 8), 0);
        assert_eq!(bin_of(0.49, 4.0, 8), 0);
        assert_eq!(bin_of(0.51, 4.0, 8), 1);
        assert_eq!(bin_of(100.0, 4.0, 8), 7);
        assert_eq!(bin_of(f32::NAN, 4.0, 8), 0);
    }

    #[test]
    fn curves_follow_the_histogram_and_borrow_unseen_channels() {
        let mut c = Curves::prior(4, 4.0, 1.0, 0.5);
        let mut h = Histogram::new(4);
        h.cells[CH_HUMAN * 4 + 1] = [10.0, 5.0, 7.5]; // R = 0.5, P = 1.5
        c.update(&h, 0.2);
        assert_eq!(c.at(CH_HUMAN, 1.5), [0.5, 1.5]);
        assert_eq!(c.at(CH_AI, 1.5), [0.5, 1.5], "AI borrows the human cell until seen");
        h.cells[CH_HUMAN * 4 + 1] = [10.0, 10.0, 20.0];
        c.update(&h, 0.2);
        let [r, p] = c.at(CH_HUMAN, 1.5);
        assert!((r - 0.6).abs() < 1e-6 && (p - 1.6).abs() < 1e-6);
    }

    #[test]
    fn logit_picks_the_best_mode_when_precise() {
        assert_eq!(logit_choice([0.0, 1.0, 0.5], 1e4, 0.5), 1);
        assert_eq!(logit_choice([0.0, -1.0, 0.5], 1e4, 0.99), 2);
        let p = logit_probs([0.0, 0.0, 0.0], 3.0);
        assert!((p[0] - 1.0 / 3.0).abs() < 1e-12);
    }
}
