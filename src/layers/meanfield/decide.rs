//! The mean field's decisions (stage 6: modes by logit, the creative-share drift) and its
//! snapshots, cell by cell.

use super::*;

impl MeanField {
    /// Stage 6, mode revision by logit and the creative-share drift, cell by cell: the
    /// mass of a (class, mode) cell goes where `rules::decide` would send each of its
    /// creators, and destination cells average the x, price and volume they receive.
    pub(super) fn decide(&mut self, p: &StepParams) {
        let grid = rules::grid_factors(p);
        let rp = self.curves.rp.clone();
        let k = self.talent.len();
        let revise = p.revise as f64;
        for c in 0..k {
            let s = self.talent[c] as f32;
            let mut mass = [0.0f64; 3];
            let mut xs = [0.0f64; 3];
            let mut ps = [0.0f64; 3];
            let mut vs = 0.0;
            for m in 0..3 {
                let sm = self.share[c][m];
                if sm <= 0.0 {
                    continue;
                }
                let x = self.x[c][m] as f32;
                let hf = human_factor(x, p.w, p.inv_z);
                let v_star = rules::expected_volume(m as u32, self.vol[c] as f32, p);
                let pi_ai = rules::mode_profit(AI, s, x, hf, v_star, &rp, p);
                let pi_h = rules::mode_profit(HUMAN, s, x, hf, v_star, &rp, p);
                let probs = logit_probs([0.0, pi_ai as f64, pi_h as f64], p.logit as f64);
                for m2 in 0..3 {
                    let prob = revise * probs[m2] + if m2 == m { 1.0 - revise } else { 0.0 };
                    if prob <= 0.0 {
                        continue;
                    }
                    let mv = sm * prob;
                    let target = if m2 as u32 == EXIT { if pi_ai > pi_h { AI } else { HUMAN } } else { m2 as u32 };
                    let mut best = if target == AI { pi_ai } else { pi_h };
                    let mut x_star = x;
                    for (g, &gf) in grid.iter().enumerate() {
                        let xg = rules::grid_x(g as u32, p);
                        let v = rules::mode_profit(target, s, xg, gf, v_star, &rp, p);
                        if v > best {
                            best = v;
                            x_star = xg;
                        }
                    }
                    let new_x = (x + p.eta * (x_star - x)).clamp(p.x_lo, p.x_hi);
                    let mut price = self.price[c][m];
                    let mut vol = self.vol[c];
                    if m2 != m && m2 as u32 != EXIT {
                        let ch = if m2 as u32 == AI { CH_AI } else { CH_HUMAN };
                        let q = rules::nominal_quality(m2 as u32, s, new_x, p);
                        let floor = if m2 as u32 == AI { p.ai_floor } else { p.c_human };
                        price = crate::model::market::curve_at(&rp, p.bins, p.q_max, ch, q)[1].max(floor) as f64;
                        if m2 as u32 == AI {
                            vol = v_star as f64;
                        }
                    }
                    mass[m2] += mv;
                    xs[m2] += mv * new_x as f64;
                    ps[m2] += mv * price;
                    if m2 as u32 == AI {
                        vs += mv * vol;
                    }
                }
            }
            for m in 0..3 {
                if mass[m] > 0.0 {
                    self.x[c][m] = xs[m] / mass[m];
                    self.price[c][m] = ps[m] / mass[m];
                }
                self.share[c][m] = mass[m];
            }
            if mass[1] > 0.0 {
                self.vol[c] = vs / mass[1];
            }
        }
    }

    /// Per-agent distributions of the config's population at this step (as `Snapshot::of`).
    pub(super) fn snapshot(&self, items: &[Item], p: &StepParams) -> Snapshot {
        let z = || vec![0.0; SNAP_BINS];
        let mut out = Snapshot {
            step: self.t,
            quality: [z(), z(), z()],
            units_quality: [z(), z()],
            creative: [z(), z(), z()],
            talent: [z(), z(), z()],
            curves: self.curves.rp.clone(),
        };
        let q_max = self.cfg.market.q_max as f64;
        let span = crate::observe::talent_span(self.cfg.technology.talent_sigma) as f64;
        let bin = |v: f64, lo: f64, hi: f64| {
            (((v - lo) / (hi - lo) * SNAP_BINS as f64).floor().max(0.0) as usize).min(SNAP_BINS - 1)
        };
        let n = self.cfg.top.creators as f64;
        for c in 0..self.talent.len() {
            let s = self.talent[c] as f32;
            for m in 0..3 {
                let mass = self.share[c][m] * n;
                if mass <= 0.0 {
                    continue;
                }
                let x = self.x[c][m];
                let q = if m as u32 == AI {
                    q_ai(s, x as f32, p.alpha_a, p.qbar_a)
                } else {
                    q_human(s, x as f32, p.w, p.inv_z)
                } as f64;
                out.quality[m][bin(q, 0.0, q_max)] += mass;
                out.creative[m][bin(x, 0.0, 1.0)] += mass;
                out.talent[m][bin(self.talent[c].ln(), -span, span)] += mass;
            }
            for it in &items[2 * c..2 * c + 2] {
                out.units_quality[usize::from(!it.ai)][bin(it.q, 0.0, q_max)] += it.units * n;
            }
        }
        out
    }
}
