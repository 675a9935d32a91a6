//! Technology: quality of human and AI units, the cost schedule of the AI shock, the
//! novelty premium and the optional model-collapse dynamics of the AI quality ceiling.

use crate::config::{Config, Ramp};

/// Z(w) = w^w (1-w)^(1-w): normalises human quality so the best split gives q_H = S.
#[inline]
pub fn z_of(w: f32) -> f32 {
    w.powf(w) * (1.0 - w).powf(1.0 - w)
}

/// Human quality q_H = tau^w s^(1-w) / Z(w), tau = S (1 - x), s = S x, written as
/// S times `human_factor(x)` so the factor can be shared by all creators on a grid.
#[inline]
pub fn q_human(talent: f32, x: f32, w: f32, inv_z: f32) -> f32 {
    talent * human_factor(x, w, inv_z)
}

/// (1 - x)^w x^(1-w) / Z(w): human quality per unit of talent at creative share x.
#[inline]
pub fn human_factor(x: f32, w: f32, inv_z: f32) -> f32 {
    (1.0 - x).powf(w) * x.powf(1.0 - w) * inv_z
}

/// AI-assisted quality q_A = min(qbar_A, alpha_A s), s = S x.
#[inline]
pub fn q_ai(talent: f32, x: f32, alpha: f32, qbar: f32) -> f32 {
    (alpha * talent * x).min(qbar)
}

/// Fraction of the cost fall completed at step `t` (0 before the shock, 1 after).
pub fn shock_progress(cfg: &Config, t: u32) -> f32 {
    let tech = &cfg.technology;
    let s = tech.shock_step as f64;
    let t = t as f64;
    let len = tech.ramp_steps.max(1) as f64;
    (match tech.shock_ramp {
        Ramp::Step => f64::from(u8::from(t >= s)),
        Ramp::Linear => ((t - s + 1.0) / len).clamp(0.0, 1.0),
        Ramp::Logistic => {
            if t < s {
                0.0
            } else {
                1.0 / (1.0 + (-(t - s - 0.5 * len) * 8.0 / len).exp())
            }
        }
    }) as f32
}

/// AI marginal cost c_A(t) and fixed cost F_A(t). Both post-shock costs carry the
/// expansion scale `ai_cost_scale`; the fall is geometric in the cost level so a ramp
/// passes through every decade evenly.
pub fn ai_costs(cfg: &Config, t: u32) -> (f32, f32) {
    let tech = &cfg.technology;
    let p = shock_progress(cfg, t);
    let post = (tech.ai_cost_post * tech.ai_cost_scale).max(1e-9);
    let pre = tech.ai_cost_pre.max(1e-9);
    let c = if p <= 0.0 {
        tech.ai_cost_pre
    } else if p >= 1.0 {
        tech.ai_cost_post * tech.ai_cost_scale
    } else {
        (pre.ln() * (1.0 - p) + post.ln() * p).exp()
    };
    let f = tech.ai_fixed * if p > 0.0 { 1.0 + (tech.ai_cost_scale - 1.0) * p } else { 1.0 };
    (c, f)
}

/// Execution weight with the novelty premium: w_t = omega0 (1 - novelty A_t).
#[inline]
pub fn execution_weight(omega0: f32, novelty: f32, ai_share_ema: f32) -> f32 {
    (omega0 * (1.0 - novelty * ai_share_ema)).clamp(0.01, 0.99)
}

/// One step of the collapse dynamics of log qbar_A (rho = synthetic share of units sold).
pub fn collapse_step(qbar: f32, rho: f32, rate: f32, recovery: f32, qbar_max: f32) -> f32 {
    let l = qbar.max(1e-9).ln();
    let lmax = qbar_max.max(1e-9).ln();
    (l - rate * rho * rho + recovery * (1.0 - rho) * (lmax - l)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_split_gives_talent_as_human_quality() {
        for &w in &[0.3f32, 0.5, 0.7] {
            let q = q_human(2.0, 1.0 - w, w, 1.0 / z_of(w));
            assert!((q - 2.0).abs() < 1e-5, "w={w} q={q}");
            // Any other split is worse.
            assert!(q_human(2.0, (1.0 - w) * 0.8, w, 1.0 / z_of(w)) < q);
        }
    }

    #[test]
    fn ai_quality_bunches_at_the_ceiling() {
        assert_eq!(q_ai(10.0, 0.5, 2.0, 0.8), 0.8);
        assert!((q_ai(0.1, 0.5, 2.0, 0.8) - 0.1).abs() < 1e-7);
    }

    #[test]
    fn cost_schedule_steps_down_at_the_shock() {
        let mut cfg = Config::default();
        cfg.technology.shock_step = 10;
        assert_eq!(ai_costs(&cfg, 9).0, cfg.technology.ai_cost_pre);
        assert_eq!(ai_costs(&cfg, 10).0, cfg.technology.ai_cost_post);
        cfg.technology.shock_ramp = Ramp::Linear;
        let mid = ai_costs(&cfg, 19).0;
        assert!(mid < cfg.technology.ai_cost_pre && mid > cfg.technology.ai_cost_post);
    }

    #[test]
    fn collapse_shrinks_the_ceiling_when_synthetic_data_dominates() {
        assert!(collapse_step(0.8, 1.0, 0.183, 0.05, 0.8) < 0.8);
        assert!((collapse_step(0.8, 0.0, 0.183, 0.05, 0.8) - 0.8).abs() < 1e-6);
    }
}
