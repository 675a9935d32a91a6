//! The step's parameters (`StepParams`, the per-step scalars every rule reads, uploaded to
//! the GPU as one uniform and mirrored by `struct Params` in `shaders/common.wgsl`) and the
//! creator modes: the vocabulary the rules share. Lives in `model/` so that the rules need
//! nothing above them; `state` re-exports it for the backends.

use bytemuck::{Pod, Zeroable};

/// Creator modes.
pub const EXIT: u32 = 0;
pub const AI: u32 = 1;
pub const HUMAN: u32 = 2;

/// Per-step scalars, uploaded once per stage call as a uniform; mirrored by
/// `struct Params` in `shaders/common.wgsl` (a test checks the size).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct StepParams {
    pub key: [u32; 2],
    pub step: u32,
    pub round: u32,
    pub n_creators: u32,
    pub n_buyers: u32,
    pub n_ai_units: u32,
    pub n_human_units: u32,
    pub perm_key: [u32; 2],
    pub k: u32,
    pub bins: u32,
    /// Execution weight w_t and 1 / Z(w_t).
    pub w: f32,
    pub inv_z: f32,
    pub alpha_a: f32,
    pub qbar_a: f32,
    pub x_lo: f32,
    pub x_hi: f32,
    pub c_ai: f32,
    pub f_ai: f32,
    pub api_fee: f32,
    pub c_human: f32,
    pub ai_volume_max: f32,
    pub vol_speed: f32,
    pub junk_share: f32,
    pub sigma: f32,
    /// Human share of units h, after curation.
    pub h_share: f32,
    pub label_accuracy: f32,
    pub search_cost: f32,
    pub congestion: f32,
    pub lam_c: f32,
    pub eps_c: f32,
    pub lam_d: f32,
    pub lam_u: f32,
    pub price_speed: f32,
    pub unit_tax: f32,
    pub adoption_tax: f32,
    pub subsidy: f32,
    pub q_max: f32,
    pub revise: f32,
    pub logit: f32,
    pub eta: f32,
    pub x_grid: u32,
    pub n_providers: u32,
    pub ai_volume_init: f32,
    /// 1 if congestion enters the participation score.
    pub cong_in_u: u32,
    /// 1 if any AI units are offered (directedness only moves then).
    pub ai_present: u32,
    pub decision: u32,
    pub q_alpha: f32,
    pub q_gamma: f32,
    pub q_epsilon: f32,
    pub reskill_steps: u32,
    pub reskill_cost: f32,
    pub reskill_delta: f32,
    /// Lowest AI list price, max(api_fee, ai_price_floor): the AI price rule's floor and
    /// an entrant's lowest price.
    pub ai_floor: f32,
    /// AI volume a creator not in AI mode expects to produce if it adopts (v* of MODEL.md
    /// step 6): the host's EMA of the mean volume of AI creators, ai_volume_init before any
    /// existed.
    pub vol_expect: f32,
    /// 1 if the human cost c_H is paid per unit produced rather than sold
    /// (`technology.human_cost_basis = "produced"`).
    pub human_cost_produced: u32,
    /// 1 if Q-learning actions name modes (`decisions.q_reversible`).
    pub q_reversible: u32,
    /// Initial Q-value of re-skill and adopt AI (`decisions.q_init`).
    pub q_init: f32,
    /// Outside option of exit under Q-learning, 0 before the shock (`decisions.q_outside`).
    pub q_outside: f32,
}
