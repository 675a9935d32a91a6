//! The time loop: the one step driver ([`step_markets`], the stages in MODEL.md's order on
//! whatever ensemble it is given), a single run on top of it ([`Simulation`], an ensemble
//! of one) and lockstep sweeps ([`run_lockstep`]). Owns the host's phases between stages:
//! curves, welfare and concentration, the summary and snapshots; the market's slow state
//! and its rules are `model::dynamics`. Knows no backend details.

use crate::backend::{Backend, BackendError, Ensemble, Separate, Stage, Totals};
use crate::config::Config;
use crate::model::dynamics::{self, Dynamics};
use crate::model::market::Curves;
use crate::model::welfare;
use crate::observe::{Outcomes, Recorder, Snapshot, StepSummary};
use crate::rng;
use crate::state::{AI, Deciles, State, StepParams};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Evaluates `$e`, adding the wall-clock seconds it took to the place `$acc`.
macro_rules! timed {
    ($acc:expr, $e:expr) => {{
        let t0 = Instant::now();
        let r = $e;
        $acc += t0.elapsed().as_secs_f64();
        r
    }};
}

/// The market-level state of one run (everything but the agents: curves, the market's slow
/// state in `model::dynamics`, talent deciles) and the host's part of the step, in phases
/// between the backend's stages. Single runs and lockstep ensembles both step through
/// [`step_markets`], the one place the step's order is written.
pub struct Market {
    pub cfg: Config,
    key: [u32; 2],
    /// Next step to run.
    pub t: u32,
    pub curves: Curves,
    /// A_t, D_A, the AI quality ceiling and entrants' expected volume.
    pub dynamics: Dynamics,
    pub deciles: Deciles,
    snapshot_steps: Vec<u32>,
    /// The parameters of the last step run (for traffic models and diagnostics).
    pub last_params: StepParams,
}

impl Market {
    /// The market-level state at step 0 of a population drawn from `cfg` (`state`).
    pub fn new(cfg: Config, state: &State) -> Self {
        let m = &cfg.market;
        let curves = Curves::prior(m.bins, m.q_max, 0.5 * (m.theta_lo + m.theta_hi), m.price_init);
        Self {
            key: rng::key_of(cfg.top.seed),
            t: 0,
            curves,
            dynamics: Dynamics::new(&cfg),
            deciles: state.deciles(),
            snapshot_steps: cfg.snapshot_steps(),
            last_params: StepParams::default(),
            cfg,
        }
    }

    /// The step's parameters before offers (unit counts, noise and congestion come later).
    pub fn params(&self) -> StepParams {
        self.dynamics.params(&self.cfg, self.t)
    }

    /// After the scan: the unit counts and what follows from them (channel weights of
    /// search, signal noise, the congestion stock and its cost). Returns the AI share of
    /// units offered.
    pub fn after_scan(&mut self, p: &mut StepParams, n_ai: u32, n_h: u32) -> f32 {
        p.n_ai_units = n_ai;
        p.n_human_units = n_h;
        let total = (n_ai + n_h) as f32;
        let ai_share = if total > 0.0 { n_ai as f32 / total } else { 0.0 };
        p.ai_present = u32::from(n_ai > 0);
        let per_buyer = n_ai as f32 / self.cfg.top.buyers as f32;
        self.dynamics.after_units(&self.cfg, p, ai_share, per_buyer);
        ai_share
    }

    /// The parameters of search round `r`: its number and the buyers' claim-key permutation.
    pub fn round(&self, p: &mut StepParams, r: u32) {
        p.round = r;
        p.perm_key = rng::perm_key(self.key, self.t, r);
    }

    /// After reduce: the curves, welfare and concentration of the step, its summary; then
    /// the market's slow state for the next step.
    pub fn after_reduce(&mut self, p: &StepParams, ai_share: f32, tot: Totals) -> StepSummary {
        let c = &self.cfg;
        self.curves.update(&tot.hist, c.market.mu);
        let sold_ai = tot.sold[0] as f64;
        let provider_rev: Vec<f64> = tot.provider_sold.iter().map(|&s| s as f64 * p.api_fee as f64).collect();
        let (tax, subsidy) =
            dynamics::policy_flows(p, tot.offered[0] as f64, tot.mode_count[AI as usize] as f64, tot.sold[1] as f64);
        let bearers = dynamics::congestion_bearers(c, tot.active as f64, c.top.buyers as f64);
        let wf = welfare::welfare(
            c.top.buyers as f64,
            tot.utility,
            p.congestion as f64,
            bearers,
            tot.profit,
            provider_rev.iter().sum(),
            tax,
            subsidy,
            tot.junk_paid,
            tot.search_costs,
        );
        let rev_sum: f64 = tot.revenue.iter().sum::<f64>() + provider_rev.iter().sum::<f64>();
        let rev_sq: f64 = tot.revenue_sq + provider_rev.iter().map(|r| r * r).sum::<f64>();
        let summary = StepSummary {
            step: self.t,
            n_creators: c.top.creators as f64,
            n_buyers: c.top.buyers as f64,
            c_ai: p.c_ai as f64,
            f_ai: p.f_ai as f64,
            w: p.w as f64,
            qbar_a: p.qbar_a as f64,
            sigma: p.sigma as f64,
            ai_share_offered: ai_share as f64,
            congestion_stock: self.dynamics.congestion_stock as f64,
            hhi: welfare::hhi(rev_sum, rev_sq),
            welfare: wf,
            totals: tot,
        };
        let t = &summary.totals;
        let mean_vol = dynamics::mean_ai_volume(t.mode_count[AI as usize] as u32, t.vol_sum);
        self.dynamics.after_step(c, ai_share, mean_vol, sold_ai, (t.sold[0] + t.sold[1]) as f64);
        summary
    }

    /// Whether the current step is one to snapshot.
    pub fn snapshot_due(&self) -> bool {
        self.snapshot_steps.binary_search(&self.t).is_ok()
    }

    /// Ends the step that ran with `p`.
    pub fn finish_step(&mut self, p: StepParams) {
        self.last_params = p;
        self.t += 1;
    }

    /// Outcome statistics of what `rec` holds, with this run's shock and window.
    pub fn outcomes(&self, rec: &Recorder) -> Outcomes {
        Outcomes::of(
            rec,
            self.cfg.technology.shock_step,
            self.cfg.equilibrium.window as usize,
            self.cfg.equilibrium.tol as f64,
        )
    }
}

/// Where the wall-clock time of steps went: in each stage's calls (for an asynchronous
/// backend this includes waiting for earlier queued work) and in the host's phases between
/// them (parameters, curves, welfare).
#[derive(Clone, Copy, Debug, Default)]
pub struct StepClock {
    pub stage_secs: [f64; Stage::COUNT],
    pub host_secs: f64,
}

/// Runs one step of every market in `markets` on `ens` (market m in its slot m): the one
/// place the order of the step is written (MODEL.md; `Stage::ALL` declares the same
/// order, and a test below checks the calls against it). With `snapshots`, markets at a
/// snapshot step read their state back before decide. Every market must search the same
/// number of rounds and be at the same step. A failing backend still completes the step
/// (its stages are no-ops); callers check `ens.error()` before keeping the results.
pub fn step_markets(
    markets: &mut [Market],
    ens: &mut dyn Ensemble,
    snapshots: bool,
    clock: &mut StepClock,
) -> Vec<(StepSummary, Option<Snapshot>)> {
    use rayon::prelude::*;
    let started = Instant::now();
    let before: f64 = clock.stage_secs.iter().sum();
    let Some(first) = markets.first() else { return Vec::new() };
    let rounds = first.cfg.market.rounds;
    let st = &mut clock.stage_secs;
    // Host work per market is a few microseconds; across a thousand markets it is worth
    // spreading over the cores (each market's own arithmetic stays sequential).
    let mut ps: Vec<StepParams> = markets.par_iter().map(Market::params).collect();
    timed!(st[Stage::Offers.index()], ens.offers(&ps));
    let counts = timed!(st[Stage::Scan.index()], ens.scan(&ps));
    let shares: Vec<f32> =
        markets.iter_mut().zip(ps.iter_mut()).zip(&counts).map(|((m, p), &(a, h))| m.after_scan(p, a, h)).collect();
    for r in 0..rounds {
        markets.iter().zip(ps.iter_mut()).for_each(|(m, p)| m.round(p, r));
        timed!(st[Stage::Search.index()], ens.search(&ps));
        timed!(st[Stage::Resolve.index()], ens.resolve(&ps));
    }
    timed!(st[Stage::Buyers.index()], ens.buyers(&ps));
    timed!(st[Stage::Accounts.index()], ens.accounts(&ps));
    let deciles: Vec<Deciles> = markets.iter().map(|m| m.deciles).collect();
    let tots = timed!(st[Stage::Reduce.index()], ens.reduce(&ps, &deciles));
    let sums: Vec<StepSummary> = markets
        .par_iter_mut()
        .zip(ps.par_iter())
        .zip(shares)
        .zip(tots)
        .map(|(((m, p), share), tot)| m.after_reduce(p, share, tot))
        .collect();
    let mut snaps: Vec<Option<Snapshot>> = Vec::with_capacity(markets.len());
    for (i, m) in markets.iter().enumerate() {
        snaps.push((snapshots && m.snapshot_due()).then(|| {
            let c = &m.cfg;
            Snapshot::of(m.t, &ens.state(i), c.market.q_max, c.technology.talent_sigma, &m.curves.rp)
        }));
    }
    let rps: Vec<&[[f32; 2]]> = markets.iter().map(|m| m.curves.rp.as_slice()).collect();
    timed!(st[Stage::Decide.index()], ens.decide(&ps, &rps));
    markets.iter_mut().zip(ps).for_each(|(m, p)| m.finish_step(p));
    let in_stages: f64 = clock.stage_secs.iter().sum::<f64>() - before;
    clock.host_secs += started.elapsed().as_secs_f64() - in_stages;
    sums.into_iter().zip(snaps).collect()
}

/// A running simulation: one market on a backend (an ensemble of one, stepped by
/// [`step_markets`]), the market-level state reached through `Deref` (`sim.cfg`, `sim.t`,
/// `sim.curves`, ...).
pub struct Simulation {
    market: [Market; 1],
    ens: Separate,
    /// Wall-clock seconds spent in each stage of `Stage::ALL` since the start (host view:
    /// for an asynchronous backend this includes waiting for earlier queued work).
    pub stage_secs: [f64; Stage::COUNT],
}

impl std::ops::Deref for Simulation {
    type Target = Market;
    fn deref(&self) -> &Market {
        &self.market[0]
    }
}

impl std::ops::DerefMut for Simulation {
    fn deref_mut(&mut self) -> &mut Market {
        &mut self.market[0]
    }
}

/// The stages of the step in order, as named in the backend trait and the shaders.
pub const STAGES: [&str; Stage::COUNT] = Stage::NAMES;

impl Simulation {
    /// Draws the initial population and hands it to the backend built by `make`.
    pub fn new(cfg: Config, make: impl FnOnce(State) -> Box<dyn Backend>) -> Self {
        match Self::try_new(cfg, |s| Ok::<_, std::convert::Infallible>(make(s))) {
            Ok(s) => s,
            Err(e) => match e {},
        }
    }

    /// As [`Simulation::new`], with a backend constructor that can fail (no GPU, too little
    /// memory): its error is returned and nothing runs.
    pub fn try_new<E>(cfg: Config, make: impl FnOnce(State) -> Result<Box<dyn Backend>, E>) -> Result<Self, E> {
        let state = State::init(&cfg);
        let market = Market::new(cfg, &state);
        Ok(Self { market: [market], ens: Separate(vec![make(state)?]), stage_secs: [0.0; Stage::COUNT] })
    }

    pub fn backend(&mut self) -> &mut dyn Backend {
        self.ens.0[0].as_mut()
    }

    /// Runs one step; returns its summary and, at snapshot steps, a snapshot.
    pub fn step(&mut self) -> (StepSummary, Option<Snapshot>) {
        let mut clock = StepClock { stage_secs: self.stage_secs, host_secs: 0.0 };
        let out = step_markets(&mut self.market, &mut self.ens, true, &mut clock);
        self.stage_secs = clock.stage_secs;
        out.into_iter().next().expect("one market")
    }

    /// The backend's first failure (a lost GPU, say); the run stops at the step it happened.
    pub fn error(&self) -> Option<&BackendError> {
        self.ens.0[0].error()
    }

    /// Runs until `steps` steps are done, `stop` is raised or the backend fails (see
    /// `error`), recording into `rec`; `progress` is called after every step.
    pub fn run(&mut self, steps: u32, rec: &mut Recorder, stop: &AtomicBool, mut progress: impl FnMut(u32)) {
        self.run_with(steps, rec, stop, |s, _| progress(s.step + 1));
    }

    /// `run`, with `after_step` called after every recorded step with its summary and the
    /// backend (to read the agents' state), for callers that need more than the recorder
    /// keeps (reproduce: talent deciles, median revenues, states around the shock).
    pub fn run_with(
        &mut self,
        steps: u32,
        rec: &mut Recorder,
        stop: &AtomicBool,
        mut after_step: impl FnMut(&StepSummary, &mut dyn Backend),
    ) {
        while self.t < steps && !stop.load(Ordering::Relaxed) && self.error().is_none() {
            let (s, snap) = self.step();
            if self.error().is_some() {
                // The failed step's aggregates are garbage; keep only the steps before it.
                break;
            }
            rec.push(&s);
            if let Some(snap) = snap {
                rec.snapshots.push(snap);
            }
            after_step(&s, self.backend());
        }
    }
}

/// Where the wall-clock time of a lockstep run went.
#[derive(Clone, Copy, Debug, Default)]
pub struct LockstepTimes {
    /// In the ensemble's stage calls (for a GPU: dispatch, waiting, readbacks and the
    /// host's sums of the reduce partials).
    pub ensemble_secs: f64,
    /// In the host's phases between them (parameters, curves, welfare, recording).
    pub host_secs: f64,
    /// Steps times markets run.
    pub market_steps: u64,
}

/// Runs `markets` in lockstep on `ens` (market m in its slot m), recording market m into
/// `recs[m]`, until `steps` steps are done, `stop` is raised or the ensemble fails (then
/// the error; the failed step is not recorded). Every market must search the same number
/// of rounds. No snapshots are taken: ensembles serve sweeps, which keep outcomes only.
pub fn run_lockstep(
    markets: &mut [Market],
    ens: &mut dyn Ensemble,
    steps: u32,
    recs: &mut [Recorder],
    stop: &AtomicBool,
    mut progress: impl FnMut(u32),
) -> Result<LockstepTimes, String> {
    use rayon::prelude::*;
    if markets.len() != ens.markets() || recs.len() != markets.len() {
        return Err(format!("{} markets, {} ensemble slots, {} recorders", markets.len(), ens.markets(), recs.len()));
    }
    let mut times = LockstepTimes::default();
    let Some(first) = markets.first() else { return Ok(times) };
    let rounds = first.cfg.market.rounds;
    if let Some(m) = markets.iter().position(|m| m.cfg.market.rounds != rounds || m.t != first.t) {
        return Err(format!("market {m} differs from market 0 in search rounds or current step"));
    }
    let started = Instant::now();
    let mut clock = StepClock::default();
    while markets[0].t < steps && !stop.load(Ordering::Relaxed) {
        let out = step_markets(markets, ens, false, &mut clock);
        if let Some(e) = ens.error() {
            return Err(e.to_string());
        }
        recs.par_iter_mut().zip(&out).for_each(|(rec, (s, _))| rec.push(s));
        times.market_steps += markets.len() as u64;
        progress(markets[0].t);
    }
    times.ensemble_secs = clock.stage_secs.iter().sum();
    times.host_secs = started.elapsed().as_secs_f64() - times.ensemble_secs;
    ens.error().map_or(Ok(times), |e| Err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::market::Histogram;

    /// An ensemble that records which stage was called, for the order of the driver.
    struct Recording(Vec<Stage>, usize);

    impl Ensemble for Recording {
        fn markets(&self) -> usize {
            self.1
        }
        fn describe(&self) -> String {
            "recording".into()
        }
        fn offers(&mut self, _: &[StepParams]) {
            self.0.push(Stage::Offers);
        }
        fn scan(&mut self, ps: &[StepParams]) -> Vec<(u32, u32)> {
            self.0.push(Stage::Scan);
            vec![(3, 5); ps.len()]
        }
        fn search(&mut self, _: &[StepParams]) {
            self.0.push(Stage::Search);
        }
        fn resolve(&mut self, _: &[StepParams]) {
            self.0.push(Stage::Resolve);
        }
        fn buyers(&mut self, _: &[StepParams]) {
            self.0.push(Stage::Buyers);
        }
        fn accounts(&mut self, _: &[StepParams]) {
            self.0.push(Stage::Accounts);
        }
        fn reduce(&mut self, ps: &[StepParams], _: &[Deciles]) -> Vec<Totals> {
            self.0.push(Stage::Reduce);
            ps.iter().map(|p| Totals { hist: Histogram::new(p.bins as usize), ..Default::default() }).collect()
        }
        fn decide(&mut self, _: &[StepParams], _: &[&[[f32; 2]]]) {
            self.0.push(Stage::Decide);
        }
        fn state(&mut self, _: usize) -> State {
            State::default()
        }
        fn error(&self) -> Option<&BackendError> {
            None
        }
    }

    #[test]
    fn the_driver_runs_the_stages_in_their_declared_order() {
        let mut cfg = Config::default();
        cfg.top.creators = 10;
        cfg.top.buyers = 10;
        cfg.market.rounds = 3;
        let state = State::init(&cfg);
        let mut markets = vec![Market::new(cfg.clone(), &state), Market::new(cfg, &state)];
        let mut ens = Recording(Vec::new(), 2);
        let out = step_markets(&mut markets, &mut ens, false, &mut StepClock::default());
        assert_eq!(out.len(), 2);
        // Stage::ALL with the per-round stages repeated once per round, in place.
        let mut want = Vec::new();
        for s in Stage::ALL {
            if s.per_round() {
                continue;
            }
            want.push(s);
            if s == Stage::Scan {
                for _ in 0..3 {
                    want.extend(Stage::ALL.iter().filter(|s| s.per_round()));
                }
            }
        }
        assert_eq!(ens.0, want);
        assert!(markets.iter().all(|m| m.t == 1), "every market advanced one step");
    }
}
