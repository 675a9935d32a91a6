//! Agent state in struct-of-arrays form: one `Vec` of a `Pod` element type per field, the
//! same layout as the GPU storage buffers (one buffer per field), plus `StepParams`, the
//! per-step scalars uploaded as one uniform and mirrored by `struct Params` in WGSL.
//! Also owns the initial draw of agents from the config, shared by every backend.

use crate::config::Config;
use crate::rng::{self, Stream};
use bytemuck::{Pod, Zeroable};

/// Creator modes.
pub const EXIT: u32 = 0;
pub const AI: u32 = 1;
pub const HUMAN: u32 = 2;

/// "No unit / no creator" marker in u32 index fields.
pub const NONE: u32 = u32::MAX;
/// Claim value of an unclaimed unit.
pub const CLAIM_EMPTY: u32 = u32::MAX;
/// Claim value of a unit sold in an earlier round of this step.
pub const CLAIM_SOLD: u32 = 0;
/// Bit of `Buyers::bought` set when the unit bought was junk.
pub const JUNK_BIT: u32 = 1 << 31;
/// Bit of `Buyers::bought` set when the unit bought was an AI unit.
pub const AI_BIT: u32 = 1 << 30;
/// Mask of the creator id in `Buyers::bought`.
pub const ID_MASK: u32 = AI_BIT - 1;

/// Creators, one entry per creator in each field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Creators {
    /// Talent S (fixed).
    pub talent: Vec<f32>,
    /// Creative share x.
    pub x: Vec<f32>,
    /// Mode: EXIT, AI or HUMAN.
    pub mode: Vec<u32>,
    /// AI provider (meaningful in AI mode).
    pub provider: Vec<u32>,
    /// Chosen AI volume v.
    pub vol: Vec<f32>,
    /// (nominal quality, posted price): read together by every search sample.
    pub offer: Vec<[f32; 2]>,
    /// Units emitted this step.
    pub cap: Vec<u32>,
    /// Exclusive prefix sum of `cap` within the creator's channel.
    pub offset: Vec<u32>,
    /// Units sold this step (integer atomics on both backends).
    pub sold: Vec<u32>,
    /// Revenue this step, price times units sold (money); profit is derived from it.
    pub revenue: Vec<f32>,
    /// Q-learning values (stay, re-skill, adopt AI, exit); zero under logit.
    pub qvals: Vec<[f32; 4]>,
    /// Remaining re-skilling steps (Q-learning).
    pub reskill: Vec<u32>,
}

impl Creators {
    pub const BYTES_PER_AGENT: u64 = 4 * 12 + 16;
    pub fn len(&self) -> usize {
        self.talent.len()
    }
    pub fn is_empty(&self) -> bool {
        self.talent.is_empty()
    }
}

/// Buyers, one entry per buyer in each field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buyers {
    /// Taste for quality theta (fixed).
    pub theta: Vec<f32>,
    /// Participation score U.
    pub util: Vec<f32>,
    /// Directedness d toward human offers.
    pub d: Vec<f32>,
    /// Channel experience (u_human, u_ai).
    pub exp: Vec<[f32; 2]>,
    /// 1 if active this step.
    pub active: Vec<u32>,
    /// Unit proposed to in the current round, or NONE.
    pub proposal: Vec<u32>,
    /// Creator bought from this step with JUNK_BIT/AI_BIT flags, or NONE.
    pub bought: Vec<u32>,
    /// Search rounds taken this step.
    pub searches: Vec<u32>,
    /// (realized utility u incl. search costs, price paid) this step.
    pub gain: Vec<[f32; 2]>,
}

impl Buyers {
    pub const BYTES_PER_AGENT: u64 = 4 * 11;
    pub fn len(&self) -> usize {
        self.theta.len()
    }
    pub fn is_empty(&self) -> bool {
        self.theta.is_empty()
    }
}

/// Units offered this step: AI units at [0, n_ai), human units at [n_ai, n_ai + n_human).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Units {
    /// Creator of each unit.
    pub owner: Vec<u32>,
    /// Claim word: CLAIM_EMPTY, CLAIM_SOLD, or the smallest buyer key proposing this round.
    pub claim: Vec<u32>,
}

impl Units {
    pub const BYTES_PER_UNIT: u64 = 8;
}

/// The full agent state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    pub creators: Creators,
    pub buyers: Buyers,
}

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

/// Talent decile boundaries (9 interior cut points), uniform for the reduce stage.
pub type Deciles = [f32; 9];

impl State {
    /// Draws the initial population: talent, taste, skill split, modes and prices.
    /// Everyone starts in human craft at the best split for omega0 (pre-shock AI is
    /// prohibitively expensive), priced at a share of mean taste times quality.
    pub fn init(cfg: &Config) -> State {
        use rayon::prelude::*;
        let key = rng::key_of(cfg.top.seed);
        let nc = cfg.top.creators as usize;
        let nb = cfg.top.buyers as usize;
        let t = &cfg.technology;
        let m = &cfg.market;
        let x0 = (1.0 - t.omega0).clamp(t.x_lo, t.x_hi);
        let theta_mean = 0.5 * (m.theta_lo + m.theta_hi);
        let inv_z = 1.0 / crate::model::technology::z_of(t.omega0);
        let talent: Vec<f32> = (0..nc as u32)
            .into_par_iter()
            .map(|i| {
                let r = rng::draw4(key, i, 0, Stream::Init as u32, 0);
                (t.talent_sigma * rng::normal_f32(r[0], r[1])).exp()
            })
            .collect();
        let offer = talent
            .par_iter()
            .map(|&s| {
                let q = crate::model::technology::q_human(s, x0, t.omega0, inv_z);
                [q, (m.price_init * theta_mean * q).max(t.cost_human)]
            })
            .collect();
        let creators = Creators {
            x: vec![x0; nc],
            mode: vec![HUMAN; nc],
            provider: vec![0; nc],
            vol: vec![t.ai_volume_init; nc],
            offer,
            cap: vec![0; nc],
            offset: vec![0; nc],
            sold: vec![0; nc],
            revenue: vec![0.0; nc],
            qvals: vec![[0.0; 4]; nc],
            reskill: vec![0; nc],
            talent,
        };
        let theta = (0..nb as u32)
            .into_par_iter()
            .map(|j| {
                let r = rng::draw4(key, j, 0, Stream::Init as u32, 1);
                m.theta_lo + (m.theta_hi - m.theta_lo) * rng::unit_f32(r[0])
            })
            .collect();
        let buyers = Buyers {
            theta,
            util: vec![m.u_init; nb],
            d: vec![m.d_init; nb],
            exp: vec![[0.0; 2]; nb],
            active: vec![u32::from(m.u_init >= 0.0); nb],
            proposal: vec![NONE; nb],
            bought: vec![NONE; nb],
            searches: vec![0; nb],
            gain: vec![[0.0; 2]; nb],
        };
        State { creators, buyers }
    }

    /// Interior talent decile cut points of this population.
    pub fn deciles(&self) -> Deciles {
        let mut t = self.creators.talent.clone();
        t.sort_unstable_by(f32::total_cmp);
        let mut d = [f32::INFINITY; 9];
        if !t.is_empty() {
            for (i, v) in d.iter_mut().enumerate() {
                *v = t[((i + 1) * t.len() / 10).min(t.len() - 1)];
            }
        }
        d
    }
}

/// Decile (0..10) of a talent value.
#[inline]
pub fn decile_of(talent: f32, cuts: &Deciles) -> usize {
    cuts.iter().take_while(|&&c| talent >= c).count()
}
