//! The backend seam. The stages of the step are declared once ([`Stage`]). An [`Ensemble`]
//! owns the agents of one or more markets and runs each stage over all of them, one method
//! per stage with the stage's name; the step driver (`sim::step_markets`) calls them in
//! MODEL.md's order and knows nothing else about where the agents live. A single run is
//! an ensemble of one. A [`Backend`] is the same seam for one market (`cpu::CpuBackend`
//! with rayon, or a one-market `gpu::GpuEnsemble`); [`Separate`] makes backends an
//! ensemble, market after market. [`create`] builds the backend a command asks for.

pub mod cpu;
pub mod gpu;
pub mod limits;
pub mod pages;
pub mod stage;

pub use stage::Stage;

use crate::config::Config;
use crate::model::market::Histogram;
use crate::model::params::AI;
use crate::state::{Deciles, State, StepParams};

/// Which backend runs the step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    Cpu,
    Gpu,
    /// The GPU when an adapter is found, else the CPU.
    Auto,
}

/// Builds the backend named by `kind` over `state`, with `threads` CPU threads (0: all).
/// Fails cleanly (no panic, the state is not lost to a half-built device) when the GPU is
/// asked for and cannot start; `Auto` falls back to the CPU then, saying so on stderr.
pub fn create(kind: BackendKind, state: State, cfg: &Config, threads: usize) -> Result<Box<dyn Backend>, BackendError> {
    use gpu::{GpuEnsemble, GpuOptions};
    let opts = GpuOptions { adapter: std::env::var("HOLLOW_ADAPTER").ok(), ..Default::default() };
    match kind {
        BackendKind::Cpu => Ok(Box::new(cpu::CpuBackend::new(state, threads))),
        BackendKind::Gpu => Ok(Box::new(GpuEnsemble::one(state, cfg, &opts)?)),
        BackendKind::Auto if !auto_takes_gpu() => {
            eprintln!(
                "backend auto: no hardware GPU adapter (set HOLLOW_ADAPTER to use a software one); using the CPU"
            );
            Ok(Box::new(cpu::CpuBackend::new(state, threads)))
        }
        // Keep a copy: a failed GPU start must not cost the population.
        BackendKind::Auto => match GpuEnsemble::one(state.clone(), cfg, &opts) {
            Ok(g) => {
                eprintln!("backend auto: using the GPU");
                Ok(Box::new(g))
            }
            Err(e) => {
                eprintln!("backend auto: no usable GPU ({e}); using the CPU");
                Ok(Box::new(cpu::CpuBackend::new(state, threads)))
            }
        },
    }
}

/// The one rule of `--backend auto` (run and sweep alike): a hardware adapter if there is
/// one, else the CPU; a software adapter (lavapipe) only when named by HOLLOW_ADAPTER,
/// because emulated Vulkan is slower than the CPU backend.
pub fn auto_takes_gpu() -> bool {
    std::env::var_os("HOLLOW_ADAPTER").is_some() || gpu::has_hardware_adapter()
}

/// What can make a backend fail. Only the GPU can (no adapter, out of memory, a lost
/// device); the CPU backend cannot fail once built.
pub type BackendError = gpu::GpuError;

/// Aggregates of one step, produced by `reduce` after `accounts`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    /// Buyers active this step.
    pub active: u64,
    /// Buyers who bought a unit; of these, AI units and junk units.
    pub matched: u64,
    pub matched_ai: u64,
    pub matched_junk: u64,
    /// Sum of realized utility over buyers (search costs included, congestion not).
    pub utility: f64,
    /// Money paid by buyers; of it, for AI units and for junk.
    pub spend: f64,
    pub spend_ai: f64,
    pub junk_paid: f64,
    /// Search costs paid.
    pub search_costs: f64,
    /// Sum of directedness d over buyers.
    pub d_sum: f64,
    /// Creators by mode (exit, AI, human).
    pub mode_count: [u64; 3],
    /// Creators by talent decile and mode.
    pub decile_mode: [[u64; 3]; 10],
    /// Sums of creative share x and of talent by mode.
    pub x_sum: [f64; 3],
    pub talent_sum: [f64; 3],
    /// Units offered and sold by channel (AI, human).
    pub offered: [u64; 2],
    pub sold: [u64; 2],
    /// Creators' revenue by mode and sum of squared revenue over creators.
    pub revenue: [f64; 3],
    pub revenue_sq: f64,
    /// Creators' profit (after taxes, with subsidies).
    pub profit: f64,
    /// Sum of AI volume v over AI creators.
    pub vol_sum: f64,
    /// AI units sold per provider (providers earn `api_fee` each).
    pub provider_sold: Vec<u64>,
    /// Curves' raw material: offered, sold, revenue by channel and quality bin.
    pub hist: Histogram,
}

/// What the backend can tell about itself for `hollow info` and output files.
#[derive(Clone, Debug, Default)]
pub struct BackendInfo {
    pub name: String,
    pub device: String,
    pub threads: usize,
}

/// The stages of the step. Calls come in MODEL.md's order, each with the step parameters.
pub trait Backend: Send {
    fn info(&self) -> BackendInfo;
    /// 1. Offers: nominal quality and capacity of every creator; sold counts reset.
    fn offers(&mut self, p: &StepParams);
    /// 1b. Exclusive prefix sum over capacities, unit layout, claims reset. Returns the
    /// number of (AI, human) units.
    fn scan(&mut self, p: &StepParams) -> (u32, u32);
    /// 2a. Sampling and proposals of one round (`p.round`).
    fn search(&mut self, p: &StepParams);
    /// 2b. Conflict resolution of the round: the smallest buyer key on a unit wins it.
    fn resolve(&mut self, p: &StepParams);
    /// 3. Buyers' utility, participation, experience and directedness.
    fn buyers(&mut self, p: &StepParams);
    /// 4. Creators' profits, prices and AI volumes.
    fn accounts(&mut self, p: &StepParams);
    /// 5. Aggregates and histograms of the step.
    fn reduce(&mut self, p: &StepParams, deciles: &Deciles) -> Totals;
    /// 6. Mode revision and skill drift against the market curves `rp`.
    fn decide(&mut self, p: &StepParams, rp: &[[f32; 2]]);
    /// A copy of the agent state (snapshots, tests).
    fn state(&mut self) -> State;
    /// Units of this step: (owner, claim) per unit (tests).
    fn units(&mut self) -> (Vec<u32>, Vec<u32>);
    /// The first error the backend met, after which its results are meaningless (a GPU
    /// lost mid-run); `None` while healthy. Callers check it after a run.
    fn error(&self) -> Option<&BackendError> {
        None
    }
    /// Device time of each stage in the last step (seconds), where the backend can measure
    /// it apart from the host's view (GPU timestamp queries); `None` otherwise.
    fn stage_times(&self) -> Option<Vec<(&'static str, f64)>> {
        None
    }
}

/// The stages of the step over independent markets run in lockstep, each call taking one
/// `StepParams` per market (in market order) and returning one result per market. Driven by
/// `sim::run_lockstep`; every market's results must equal its run alone.
pub trait Ensemble: Send {
    fn markets(&self) -> usize;
    /// What runs the markets, for logs and output files.
    fn describe(&self) -> String;
    fn offers(&mut self, ps: &[StepParams]);
    fn scan(&mut self, ps: &[StepParams]) -> Vec<(u32, u32)>;
    fn search(&mut self, ps: &[StepParams]);
    fn resolve(&mut self, ps: &[StepParams]);
    fn buyers(&mut self, ps: &[StepParams]);
    fn accounts(&mut self, ps: &[StepParams]);
    fn reduce(&mut self, ps: &[StepParams], deciles: &[Deciles]) -> Vec<Totals>;
    fn decide(&mut self, ps: &[StepParams], rps: &[&[[f32; 2]]]);
    /// The agent state of market `m` (a readback on a device; for snapshots).
    fn state(&mut self, m: usize) -> State;
    /// The first error, after which every market's results are meaningless.
    fn error(&self) -> Option<&BackendError>;
}

/// An ensemble of separate backends, one per market, each stage run market after market:
/// the reference a native ensemble is tested against, and a way to drive any backend in
/// lockstep.
pub struct Separate(pub Vec<Box<dyn Backend>>);

impl Ensemble for Separate {
    fn markets(&self) -> usize {
        self.0.len()
    }
    fn describe(&self) -> String {
        let name = self.0.first().map(|b| b.info().name).unwrap_or_default();
        format!("{} separate {name} backends", self.0.len())
    }
    fn offers(&mut self, ps: &[StepParams]) {
        self.0.iter_mut().zip(ps).for_each(|(b, p)| b.offers(p));
    }
    fn scan(&mut self, ps: &[StepParams]) -> Vec<(u32, u32)> {
        self.0.iter_mut().zip(ps).map(|(b, p)| b.scan(p)).collect()
    }
    fn search(&mut self, ps: &[StepParams]) {
        self.0.iter_mut().zip(ps).for_each(|(b, p)| b.search(p));
    }
    fn resolve(&mut self, ps: &[StepParams]) {
        self.0.iter_mut().zip(ps).for_each(|(b, p)| b.resolve(p));
    }
    fn buyers(&mut self, ps: &[StepParams]) {
        self.0.iter_mut().zip(ps).for_each(|(b, p)| b.buyers(p));
    }
    fn accounts(&mut self, ps: &[StepParams]) {
        self.0.iter_mut().zip(ps).for_each(|(b, p)| b.accounts(p));
    }
    fn reduce(&mut self, ps: &[StepParams], deciles: &[Deciles]) -> Vec<Totals> {
        self.0.iter_mut().zip(ps).zip(deciles).map(|((b, p), d)| b.reduce(p, d)).collect()
    }
    fn decide(&mut self, ps: &[StepParams], rps: &[&[[f32; 2]]]) {
        self.0.iter_mut().zip(ps).zip(rps).for_each(|((b, p), rp)| b.decide(p, rp));
    }
    fn state(&mut self, m: usize) -> State {
        self.0[m].state()
    }
    fn error(&self) -> Option<&BackendError> {
        self.0.iter().find_map(|b| b.error())
    }
}

/// What a step's counts say it did: samples drawn in search, proposals made, purchases,
/// and who drew a Philox block. Where a count is not known exactly it is one that cannot
/// exceed the truth (proposals: the winning ones; draws in offers: the AI creators'), so that
/// a bound computed from them is still a bound.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepCounts {
    pub nc: f64,
    pub nb: f64,
    pub units: f64,
    pub samples: f64,
    pub proposals: f64,
    pub matched: f64,
    pub rounds: f64,
    /// Creators whose capacity reads a random word in `offers` (`rules::capacity_q`): at
    /// least the AI ones (re-skilling humans under Q-learning too, not counted). The CPU
    /// backend draws for every creator of a batch, more than this counts.
    pub offer_draws: f64,
    /// Buyers that drew in `buyers` (the inactive ones): every active buyer searches in round
    /// 0 when there are units, so these are the buyers that did not search; none without units.
    pub buyer_draws: f64,
}

impl StepCounts {
    pub fn of(p: &StepParams, t: &Totals, rounds: u32) -> StepCounts {
        let per_search = (p.k as f32 * p.search_cost) as f64;
        let searches = if per_search > 0.0 { t.search_costs / per_search } else { t.active as f64 * rounds as f64 };
        let units = (p.n_ai_units + p.n_human_units) as f64;
        StepCounts {
            nc: p.n_creators as f64,
            nb: p.n_buyers as f64,
            units,
            samples: searches * p.k as f64,
            // Each purchase is a proposal that won; the ones that lost are not counted.
            proposals: t.matched as f64,
            matched: t.matched as f64,
            rounds: rounds as f64,
            offer_draws: t.mode_count[AI as usize] as f64,
            buyer_draws: if units > 0.0 { p.n_buyers as f64 - t.active as f64 } else { 0.0 },
        }
    }
}

/// Bytes a step must move at least, by stage, from the step's counts: every field an agent
/// stage reads or writes once, and every random access (a search sample, a claim, a sale)
/// as one 32-byte memory sector. A model for the roofline fraction of `hollow bench`, not
/// a measurement: caches can only lower real traffic below it for the random parts.
pub fn traffic_bytes(p: &StepParams, t: &Totals, rounds: u32) -> [f64; Stage::COUNT] {
    const SECTOR: f64 = 32.0;
    let w = stage_work(p, t, rounds);
    std::array::from_fn(|i| w[i].stream_bytes + w[i].random_loads * SECTOR)
}

/// The work of one stage in the units of the machine's limits: bytes streamed, random
/// loads (one cache line or sector each) and Philox blocks drawn (`rng::draw4` calls).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageWork {
    pub stream_bytes: f64,
    pub random_loads: f64,
    pub philox_blocks: f64,
}

/// The work of each stage of a step (in `Stage::ALL` order), from the step's counts.
/// Random loads: a search sample reads its unit's 16-byte record (owner, claim, quality,
/// price: one load on both backends); a proposal its record and the owner's sold count; a
/// purchase the seller's offer.
/// Philox: one block per creator that draws in offers (`StepCounts::offer_draws`) and per
/// creator in decide, per sample in search, per inactive buyer in buyers (the return draw).
pub fn stage_work(p: &StepParams, t: &Totals, rounds: u32) -> [StageWork; Stage::COUNT] {
    let c = StepCounts::of(p, t, rounds);
    let w = |stream_bytes: f64, random_loads: f64, philox_blocks: f64| StageWork {
        stream_bytes,
        random_loads,
        philox_blocks,
    };
    Stage::ALL.map(|s| match s {
        Stage::Offers => w(c.nc * 32.0, 0.0, c.offer_draws), // talent, x, mode, vol -> offer, cap, sold
        Stage::Scan => w(c.nc * 28.0 + c.units * 16.0, 0.0, 0.0), // two passes over caps, offers; records
        Stage::Search => w(c.rounds * c.nb * 24.0, c.samples, c.samples), // buyer fields; unit record
        Stage::Resolve => w(c.rounds * c.nb * 8.0, c.proposals * 2.0, 0.0), // proposal; unit record, sold
        Stage::Buyers => w(c.nb * 60.0, c.matched, c.buyer_draws), // fields; bought creator's offer
        Stage::Accounts => w(c.nc * 40.0, 0.0, 0.0),
        Stage::Reduce => w(c.nc * 40.0 + c.nb * 24.0, 0.0, 0.0),
        Stage::Decide => w(c.nc * 52.0, 0.0, c.nc),
    })
}
