//! The mean field's search: the probability that a searching buyer of each taste class
//! proposes to each item, and the grid helpers it and the buyers' update use.

use super::*;

impl MeanField {
    /// Probability that a searching buyer of each taste class proposes to each item in
    /// this round. Each of k samples is human with probability d label_accuracy +
    /// (1 - d) h and uniform over the channel's units; sold units are skipped; the best
    /// noisy score theta (q + sigma e) - p is proposed to if positive. With G(z) the
    /// probability that one sample scores at most z (or is skipped), the best of k lies in
    /// [z, z + dz] with probability d(G^k); on a grid over z > 0 each cell's increment is
    /// shared among the items by their share of dG in the cell (exact as the cells shrink,
    /// and exact for ties).
    pub(super) fn proposals(&self, items: &[Item], searching: &[f64], p: &StepParams, k: usize) -> Vec<Vec<f64>> {
        let units_ch = items.iter().fold([0.0f64; 2], |mut a, it| {
            a[usize::from(!it.ai)] += it.units;
            a
        });
        let mut out = vec![vec![0.0; items.len()]; self.tastes.len()];
        let n = self.opts.quad.max(8);
        let mut g = vec![0.0f64; n + 2];
        let mut gk = vec![0.0f64; n + 1];
        for (b, tc) in self.tastes.iter().enumerate() {
            if searching[b] <= 0.0 {
                continue;
            }
            let th = tc.theta;
            let ph = if units_ch[1] <= 0.0 {
                0.0
            } else if units_ch[0] <= 0.0 {
                1.0
            } else {
                tc.d * p.label_accuracy as f64 + (1.0 - tc.d) * p.h_share as f64
            };
            let s = (th * p.sigma as f64).max(1e-9);
            // (mean score, sampling weight of its open units, item).
            let mut e: Vec<(f64, f64, usize)> = Vec::with_capacity(items.len());
            let mut below = 0.0; // probability that one sample scores -infinity (sold unit)
            for (j, it) in items.iter().enumerate() {
                if it.units <= 0.0 {
                    continue;
                }
                let (pc, uc) = if it.ai { (1.0 - ph, units_ch[0]) } else { (ph, units_ch[1]) };
                let w = pc * it.units / uc;
                below += w * (1.0 - it.unsold);
                if w * it.unsold > 0.0 {
                    e.push((th * it.q - it.price, w * it.unsold, j));
                }
            }
            let z_hi = e.iter().map(|v| v.0).fold(f64::NEG_INFINITY, f64::max) + PHI_CUT * s;
            if e.is_empty() || z_hi <= 0.0 {
                continue;
            }
            // Grid z_i = i dz on [0, z_hi]; G at the nodes, by a difference array for the
            // part of each item far below z and a window of Phi lookups near its mean.
            let dz = z_hi / n as f64;
            g.iter_mut().for_each(|v| *v = 0.0);
            g[0] = below;
            let window = |mu: f64| {
                let lo = ((mu - PHI_CUT * s) / dz).ceil().max(0.0) as usize;
                let hi = (((mu + PHI_CUT * s) / dz).floor().max(-1.0) + 1.0) as usize;
                (lo.min(n + 1), hi.min(n + 1))
            };
            for &(mu, a, _) in &e {
                let (lo, hi) = window(mu);
                // Nodes >= hi: the item scores below them surely.
                g[hi] += a;
                g[n + 1] -= a;
                for i in lo..hi {
                    let c = phi((i as f64 * dz - mu) / s);
                    g[i] += a * c;
                    g[i + 1] -= a * c;
                }
            }
            // Prefix-sum the difference array into G at nodes 0..=n.
            let mut acc = 0.0;
            for i in 0..=n {
                acc += g[i];
                g[i] = acc.clamp(0.0, 1.0);
                gk[i] = g[i].powi(k as i32);
            }
            for &(mu, a, j) in &e {
                let (lo, hi) = window(mu);
                let mut pr = 0.0;
                // Cells [i-1, i] where this item's CDF rises: lo..=hi (clamped to the grid).
                let first = lo.max(1);
                let last = hi.min(n);
                let mut f_prev = if first == 0 { 0.0 } else { cdf_at(first - 1, dz, mu, s, lo, hi) };
                for i in first..=last {
                    let f = cdf_at(i, dz, mu, s, lo, hi);
                    let dg = g[i] - g[i - 1];
                    if dg > 1e-300 {
                        pr += (gk[i] - gk[i - 1]) * a * (f - f_prev) / dg;
                    }
                    f_prev = f;
                }
                out[b][j] = pr.clamp(0.0, 1.0);
            }
        }
        out
    }
}

/// Adds `mass` at `d` in [0, 1] to a uniform grid by linear interpolation (mean-preserving).
pub(super) fn deposit(grid: &mut [f64], d: f64, mass: f64) {
    let n = grid.len() - 1;
    let u = d.clamp(0.0, 1.0) * n as f64;
    let i = (u.floor() as usize).min(n);
    let f = u - i as f64;
    if i < n {
        grid[i] += mass * (1.0 - f);
        grid[i + 1] += mass * f;
    } else {
        grid[n] += mass;
    }
}

/// Standardised scores beyond this many standard deviations are treated as certain.
const PHI_CUT: f64 = 7.0;
/// Nodes of the tabulated standard normal CDF on [-PHI_CUT, PHI_CUT].
const PHI_NODES: usize = 4096;

/// The standard normal CDF from a table (linear interpolation, error below 1e-7): the
/// search integral evaluates it millions of times per step.
fn phi(x: f64) -> f64 {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        (0..=PHI_NODES).map(|i| norm_cdf(-PHI_CUT + 2.0 * PHI_CUT * i as f64 / PHI_NODES as f64)).collect()
    });
    let u = (x + PHI_CUT) / (2.0 * PHI_CUT) * PHI_NODES as f64;
    if u <= 0.0 {
        return 0.0;
    }
    if u >= PHI_NODES as f64 {
        return 1.0;
    }
    let i = u as usize;
    let f = u - i as f64;
    t[i] + f * (t[i + 1] - t[i])
}

/// CDF of an item's score at grid node i (0 below its window, 1 from its end on).
#[inline]
fn cdf_at(i: usize, dz: f64, mu: f64, s: f64, lo: usize, hi: usize) -> f64 {
    if i < lo {
        0.0
    } else if i >= hi {
        1.0
    } else {
        phi((i as f64 * dz - mu) / s)
    }
}
