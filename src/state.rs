//! Agent state in struct-of-arrays form: one `Vec` of a `Pod` element type per field, the
//! same layout as the GPU storage buffers (one buffer per field), the bytes each agent
//! takes (and so the memory check of a population), and the initial draw of agents from
//! the config, shared by every backend. `StepParams` and the modes live in
//! `model::params` and are re-exported here.

use crate::config::{Config, ConfigError};
pub use crate::model::params::{AI, EXIT, HUMAN, StepParams};
use crate::rng::{self, Stream};

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
    /// Bytes a unit slot takes in a backend: both keep a 16-byte record per slot (owner,
    /// claim, and the owner's quality and price, so a search sample is one load), not
    /// just the two words of this view.
    pub const BYTES_PER_UNIT: u64 = 16;
}

/// The full agent state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    pub creators: Creators,
    pub buyers: Buyers,
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
    // The cuts passed before the first one above `talent` (as `take_while` would count
    // them), without a branch: the decile of a random creator is a coin toss to predict.
    let mut passed = true;
    cuts.iter().fold(0, |n, &c| {
        passed &= talent >= c;
        n + passed as usize
    })
}

/// Bytes the agent state of `cfg` takes at most: every creator, every buyer and the unit
/// buffers sized for every creator at full AI volume (host and device alike).
pub fn memory_bytes(cfg: &Config) -> u64 {
    let c = cfg.top.creators as u64;
    c * Creators::BYTES_PER_AGENT
        + cfg.top.buyers as u64 * Buyers::BYTES_PER_AGENT
        + c * cfg.technology.ai_volume_max as u64 * Units::BYTES_PER_UNIT
}

/// Refuses a population that does not fit in this machine's available memory, before
/// anything is allocated; `file` names the config in the error.
pub fn check_memory(cfg: &Config, file: &str) -> Result<(), ConfigError> {
    const GIB: f64 = (1u64 << 30) as f64;
    let need = memory_bytes(cfg);
    let have = available_memory_bytes();
    if need <= have {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        file: file.to_string(),
        line: String::new(),
        key: "creators".into(),
        reason: format!(
            "creators = {} and buyers = {} need about {:.1} GiB (at most {} AI units per creator), \
             more than the {:.1} GiB available; lower creators, buyers or technology.ai_volume_max",
            cfg.top.creators,
            cfg.top.buyers,
            need as f64 / GIB,
            cfg.technology.ai_volume_max,
            have as f64 / GIB
        ),
    })
}

/// MemAvailable from /proc/meminfo, or no limit where it cannot be read.
pub fn available_memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(u64::MAX)
}
