//! The market's slow state and its per-step bookkeeping, once for every layer: the AI-share
//! EMA A_t (which moves the execution weight w_t), the congestion stock D_A and its cost,
//! the signal noise and curation of the step's unit mix, the AI volume entrants expect, the
//! AI quality ceiling (model collapse), the policy flows of welfare, and the step's
//! parameters built from all of these. The agent-based simulation (`sim`), the mean field
//! and the static solver (`layers`) call these functions, so the three layers cannot read
//! MODEL.md's market rules differently.
//!
//! The ABM keeps its host scalars in `f32` and the mean field some of its own in `f64`;
//! the unit-mix rules are generic over both (`Real`) so that each keeps its arithmetic bit
//! for bit.

use super::params::StepParams;
use super::technology::{ai_costs, collapse_step, execution_weight, z_of};
use crate::config::{Config, CostBasis, Decision};
use crate::rng;

/// The market-level state carried from step to step (everything but the agents and the
/// curves).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dynamics {
    /// EMA (weight `technology.share_ema`) of the AI share of units offered, A_t.
    pub ai_share_ema: f32,
    /// AI volume per buyer, D_A (decays by `market.congestion_decay` per step).
    pub congestion_stock: f32,
    /// The AI quality ceiling qbar_A (moves only with `collapse.enabled`).
    pub qbar: f32,
    /// EMA (weight mu) of the mean AI volume of AI creators: the volume v* a creator not in
    /// AI mode expects (MODEL.md step 6); `ai_volume_init` until AI creators exist.
    pub vol_expect: f32,
}

impl Dynamics {
    /// The state at step 0: no AI share, no congestion, the configured ceiling.
    pub fn new(cfg: &Config) -> Dynamics {
        Dynamics {
            ai_share_ema: 0.0,
            congestion_stock: 0.0,
            qbar: cfg.technology.qbar_a,
            vol_expect: cfg.technology.ai_volume_init,
        }
    }

    /// The parameters of `step` before offers (unit counts, noise and congestion come
    /// with [`Dynamics::after_units`]).
    pub fn params(&self, cfg: &Config, step: u32) -> StepParams {
        step_params(cfg, step, self.ai_share_ema, self.qbar, self.vol_expect)
    }

    /// Once the step's units are known: the channel weights of search (curation), the
    /// signal noise, the congestion stock and its cost. `ai_share` is the AI share of units
    /// offered, `ai_per_buyer` the AI units offered per buyer.
    pub fn after_units<R: Real>(&mut self, cfg: &Config, p: &mut StepParams, ai_share: R, ai_per_buyer: f32) {
        let (h_share, sigma) = unit_mix(cfg, ai_share);
        p.h_share = h_share;
        p.sigma = sigma;
        self.congestion_stock = congestion_step(cfg, self.congestion_stock, ai_per_buyer);
        p.congestion = congestion_cost(cfg, self.congestion_stock);
    }

    /// At the end of the step: the AI-share EMA, entrants' expected volume (`ai_mean_volume`:
    /// the mean volume of AI creators, `None` while there are none) and, with collapse on,
    /// the AI quality ceiling from the AI share of units sold.
    pub fn after_step(&mut self, cfg: &Config, ai_share: f32, ai_mean_volume: Option<f32>, sold_ai: f64, sold: f64) {
        self.ai_share_ema += cfg.technology.share_ema * (ai_share - self.ai_share_ema);
        if let Some(v) = ai_mean_volume {
            self.vol_expect = next_vol_expect(self.vol_expect, v, cfg.market.mu);
        }
        if cfg.collapse.enabled {
            let rho = if sold > 0.0 { (sold_ai / sold) as f32 } else { 0.0 };
            let c = &cfg.collapse;
            self.qbar = collapse_step(self.qbar, rho, c.collapse_rate, c.recovery, c.qbar_max);
        }
    }
}

/// Arithmetic the unit-mix rules need, for `f32` (the ABM) and `f64` (the mean field).
pub trait Real:
    Copy + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self> + std::ops::Mul<Output = Self>
{
    fn of(v: f32) -> Self;
    fn to_f32(self) -> f32;
}

impl Real for f32 {
    fn of(v: f32) -> f32 {
        v
    }
    fn to_f32(self) -> f32 {
        self
    }
}

impl Real for f64 {
    fn of(v: f32) -> f64 {
        v as f64
    }
    fn to_f32(self) -> f32 {
        self as f32
    }
}

/// (h, sigma) of a unit mix with AI share `ai_share`: the human share of search samples
/// after curation, h + curation (1 - h), and the signal noise sigma0 + sigma1 share.
pub fn unit_mix<R: Real>(cfg: &Config, ai_share: R) -> (f32, f32) {
    let one = R::of(1.0);
    let h = one - ai_share;
    let h_share = h + R::of(cfg.policy.curation) * (one - h);
    let sigma = R::of(cfg.market.sigma0) + R::of(cfg.market.sigma1) * ai_share;
    (h_share.to_f32(), sigma.to_f32())
}

/// D_A(t) = decay D_A(t-1) + AI units offered at t per buyer (MODEL.md, congestion).
pub fn congestion_step(cfg: &Config, stock: f32, ai_per_buyer: f32) -> f32 {
    cfg.market.congestion_decay * stock + ai_per_buyer
}

/// The congestion cost per buyer of a stock D_A: pollution ln(1 + cong_eta D_A).
pub fn congestion_cost(cfg: &Config, stock: f32) -> f32 {
    cfg.market.pollution * (1.0 + cfg.market.cong_eta * stock).ln()
}

/// The stock a constant flow of `per_buyer` AI units per buyer settles at: the flow over
/// (1 - decay). Also the total stock one unit adds over its life, per unit of flow (the
/// Pigouvian multiplier).
pub fn congestion_rest(decay: f32, per_buyer: f64) -> f64 {
    per_buyer / (1.0 - decay as f64)
}

/// The EMA step of entrants' expected volume toward the AI creators' mean volume.
pub fn next_vol_expect(vol_expect: f32, mean_volume: f32, mu: f32) -> f32 {
    vol_expect + mu * (mean_volume - vol_expect)
}

/// The mean AI volume of AI creators from a step's totals (`None` with no AI creators).
pub fn mean_ai_volume(ai_creators: u32, vol_sum: f64) -> Option<f32> {
    (ai_creators > 0).then(|| (vol_sum / ai_creators as f64) as f32)
}

/// Taxes collected and subsidies paid in a step (money, for the whole market):
/// the unit tax on AI units offered, the adoption tax on AI creators, the provenance
/// subsidy on human units sold. Masses may be fractional (the mean field).
pub fn policy_flows(p: &StepParams, ai_units_offered: f64, ai_creators: f64, human_sold: f64) -> (f64, f64) {
    let tax = p.unit_tax as f64 * ai_units_offered + p.adoption_tax as f64 * ai_creators;
    (tax, p.subsidy as f64 * human_sold)
}

/// Who bears congestion: the active buyers when congestion enters participation, else all.
pub fn congestion_bearers(cfg: &Config, active: f64, buyers: f64) -> f64 {
    if cfg.market.congestion_in_participation { active } else { buyers }
}

/// The parameters of step `step` before offers (unit counts, noise and congestion come
/// later), given the market-level state: the AI-share EMA A_t, the AI quality ceiling and
/// the AI volume entrants expect.
pub fn step_params(cfg: &Config, step: u32, ai_share_ema: f32, qbar: f32, vol_expect: f32) -> StepParams {
    let c = cfg;
    let (t, m, d, pol) = (&c.technology, &c.market, &c.decisions, &c.policy);
    let (c_ai, f_ai) = ai_costs(c, step);
    let w = execution_weight(t.omega0, t.novelty, ai_share_ema);
    StepParams {
        key: rng::key_of(c.top.seed),
        step,
        round: 0,
        n_creators: c.top.creators,
        n_buyers: c.top.buyers,
        n_ai_units: 0,
        n_human_units: 0,
        perm_key: [0, 0],
        k: m.k,
        bins: m.bins,
        w,
        inv_z: 1.0 / z_of(w),
        alpha_a: t.alpha_a,
        qbar_a: qbar,
        x_lo: t.x_lo,
        x_hi: t.x_hi,
        c_ai,
        f_ai,
        api_fee: t.api_fee,
        c_human: t.cost_human,
        ai_volume_max: t.ai_volume_max as f32,
        vol_speed: t.vol_speed,
        junk_share: t.junk_share,
        sigma: m.sigma0,
        h_share: 1.0,
        label_accuracy: pol.label_accuracy,
        search_cost: m.search_cost,
        congestion: 0.0,
        lam_c: m.lam_c,
        eps_c: m.eps_c,
        lam_d: m.lam_d,
        lam_u: m.lam_u,
        price_speed: m.price_speed,
        unit_tax: pol.unit_tax,
        adoption_tax: pol.adoption_tax,
        subsidy: pol.provenance_subsidy,
        q_max: m.q_max,
        revise: d.revise,
        logit: d.logit,
        eta: d.eta,
        x_grid: d.x_grid,
        n_providers: t.n_providers,
        ai_volume_init: t.ai_volume_init,
        cong_in_u: u32::from(m.congestion_in_participation),
        ai_present: 0,
        decision: match d.decision {
            Decision::Logit => 0,
            Decision::QLearning => 1,
        },
        q_alpha: d.q_alpha,
        q_gamma: d.q_gamma,
        // Q-learning explores from the shock on: before it the status quo is known
        // (exploring a prohibitively expensive AI only destroys creators).
        // With a half-life it decays from the shock on (q_epsilon_halflife = 0: constant).
        q_epsilon: q_epsilon_at(d.q_epsilon, d.q_epsilon_halflife, step, t.shock_step),
        reskill_steps: d.reskill_steps,
        reskill_cost: d.reskill_cost,
        reskill_delta: d.reskill_delta,
        ai_floor: t.api_fee.max(t.ai_price_floor),
        vol_expect,
        human_cost_produced: u32::from(t.human_cost_basis == CostBasis::Produced),
        q_reversible: u32::from(d.q_reversible),
        q_init: d.q_init,
        // Like exploration, the outside option is weighed from the shock on (before it the
        // status quo is known; from step 0, creators would leave on the first step's
        // unsettled prices).
        q_outside: if step >= t.shock_step { d.q_outside } else { 0.0 },
    }
}

/// The Q-learning exploration probability at `step`: 0 before the shock, then `eps`,
/// halving every `halflife` steps when `halflife > 0`.
pub fn q_epsilon_at(eps: f32, halflife: f32, step: u32, shock_step: u32) -> f32 {
    if step < shock_step {
        0.0
    } else if halflife > 0.0 {
        eps * 0.5f32.powf((step - shock_step) as f32 / halflife)
    } else {
        eps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exploration_starts_at_the_shock_and_halves_every_half_life() {
        assert_eq!(q_epsilon_at(0.04, 0.0, 19, 20), 0.0, "none before the shock");
        assert_eq!(q_epsilon_at(0.04, 0.0, 200, 20), 0.04, "constant without a half-life");
        assert_eq!(q_epsilon_at(0.04, 30.0, 20, 20), 0.04);
        assert!((q_epsilon_at(0.04, 30.0, 50, 20) - 0.02).abs() < 1e-7);
        assert!((q_epsilon_at(0.04, 30.0, 80, 20) - 0.01).abs() < 1e-7);
    }

    #[test]
    fn a_constant_flow_settles_at_the_rest_stock() {
        let mut cfg = Config::default();
        cfg.market.congestion_decay = 0.7;
        let mut d = 0.0f32;
        for _ in 0..200 {
            d = congestion_step(&cfg, d, 0.3);
        }
        assert!((d as f64 - congestion_rest(0.7, 0.3)).abs() < 1e-5, "{d}");
        // The default decay halves the stock each step: one unit per buyer adds 2 in all.
        assert_eq!(congestion_rest(Config::default().market.congestion_decay, 1.0), 2.0);
    }

    #[test]
    fn the_share_ema_moves_by_its_weight_and_collapse_only_when_enabled() {
        let mut cfg = Config::default();
        cfg.technology.share_ema = 0.25;
        let mut d = Dynamics::new(&cfg);
        let q0 = d.qbar;
        d.after_step(&cfg, 0.8, Some(12.0), 90.0, 100.0);
        assert!((d.ai_share_ema - 0.2).abs() < 1e-7);
        assert_eq!(d.qbar, q0, "collapse is off by default");
        assert!(d.vol_expect > cfg.technology.ai_volume_init && d.vol_expect < 12.0);
        let v = d.vol_expect;
        d.after_step(&cfg, 0.8, None, 90.0, 100.0);
        assert_eq!(d.vol_expect, v, "no AI creators: the expectation stays");
    }
}
