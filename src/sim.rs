//! The time loop: runs the stages in MODEL.md's order on whatever backend it is given,
//! keeps the market-level state (curves, AI-share EMA, congestion stock, AI quality
//! ceiling), computes welfare and concentration, records metrics and snapshots, and runs
//! the equilibrium check. Knows no backend details.

use crate::backend::{Backend, Ensemble, Totals};
use crate::config::{Config, CostBasis, Decision};
use crate::model::market::Curves;
use crate::model::technology::{ai_costs, collapse_step, execution_weight, z_of};
use crate::model::welfare;
use crate::observe::{Outcomes, Recorder, Snapshot, StepSummary};
use crate::rng;
use crate::state::{AI, Deciles, State, StepParams};
use std::sync::atomic::{AtomicBool, Ordering};

/// The market-level state of one run (everything but the agents: curves, AI-share EMA,
/// congestion stock, AI quality ceiling, talent deciles) and the host's part of the step,
/// in phases between the backend's stages. A single run (`Simulation`) and a lockstep
/// ensemble of runs (`run_lockstep`) drive the same phases, so they cannot drift apart.
pub struct Market {
    pub cfg: Config,
    key: [u32; 2],
    /// Next step to run.
    pub t: u32,
    pub curves: Curves,
    /// EMA of the AI share of units offered (A_t).
    ai_share_ema: f32,
    /// AI volume per buyer, D_A.
    congestion_stock: f32,
    qbar: f32,
    /// EMA (weight mu) of the mean AI volume of AI creators: the volume v* that a creator
    /// not in AI mode expects (MODEL.md step 6); ai_volume_init until AI creators exist.
    vol_expect: f32,
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
            ai_share_ema: 0.0,
            congestion_stock: 0.0,
            qbar: cfg.technology.qbar_a,
            vol_expect: cfg.technology.ai_volume_init,
            deciles: state.deciles(),
            snapshot_steps: cfg.snapshot_steps(),
            last_params: StepParams::default(),
            cfg,
        }
    }

    /// The step's parameters before offers (unit counts, noise and congestion come later).
    pub fn params(&self) -> StepParams {
        step_params(&self.cfg, self.t, self.ai_share_ema, self.qbar, self.vol_expect)
    }

    /// After the scan: the unit counts and what follows from them (channel weights of
    /// search, signal noise, the congestion stock and its cost). Returns the AI share of
    /// units offered.
    pub fn after_scan(&mut self, p: &mut StepParams, n_ai: u32, n_h: u32) -> f32 {
        let c = &self.cfg;
        p.n_ai_units = n_ai;
        p.n_human_units = n_h;
        let total = (n_ai + n_h) as f32;
        let ai_share = if total > 0.0 { n_ai as f32 / total } else { 0.0 };
        let h = 1.0 - ai_share;
        p.h_share = h + c.policy.curation * (1.0 - h);
        p.sigma = c.market.sigma0 + c.market.sigma1 * ai_share;
        p.ai_present = u32::from(n_ai > 0);
        self.congestion_stock = 0.5 * self.congestion_stock + n_ai as f32 / c.top.buyers as f32;
        p.congestion = c.market.pollution * (1.0 + c.market.cong_eta * self.congestion_stock).ln();
        ai_share
    }

    /// The parameters of search round `r`: its number and the buyers' claim-key permutation.
    pub fn round(&self, p: &mut StepParams, r: u32) {
        p.round = r;
        p.perm_key = rng::perm_key(self.key, self.t, r);
    }

    /// After reduce: the curves, welfare and concentration of the step, its summary; then
    /// the AI-share EMA and the AI quality ceiling (model collapse) for the next step.
    pub fn after_reduce(&mut self, p: &StepParams, ai_share: f32, tot: Totals) -> StepSummary {
        let c = &self.cfg;
        self.curves.update(&tot.hist, c.market.mu);
        let sold_ai = tot.sold[0] as f64;
        let provider_rev: Vec<f64> = tot.provider_sold.iter().map(|&s| s as f64 * p.api_fee as f64).collect();
        let tax =
            p.unit_tax as f64 * tot.offered[0] as f64 + p.adoption_tax as f64 * tot.mode_count[AI as usize] as f64;
        let subsidy = p.subsidy as f64 * tot.sold[1] as f64;
        let bearers = if c.market.congestion_in_participation { tot.active as f64 } else { c.top.buyers as f64 };
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
            congestion_stock: self.congestion_stock as f64,
            hhi: welfare::hhi(rev_sum, rev_sq),
            welfare: wf,
            totals: tot,
        };
        self.ai_share_ema += 0.1 * (ai_share - self.ai_share_ema);
        self.vol_expect = next_vol_expect(self.vol_expect, &summary.totals, c.market.mu);
        if c.collapse.enabled {
            let sold = (summary.totals.sold[0] + summary.totals.sold[1]) as f64;
            let rho = if sold > 0.0 { (sold_ai / sold) as f32 } else { 0.0 };
            self.qbar =
                collapse_step(self.qbar, rho, c.collapse.collapse_rate, c.collapse.recovery, c.collapse.qbar_max);
        }
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

/// A running simulation: a backend plus the market-level state (reached through `Deref`:
/// `sim.cfg`, `sim.t`, `sim.curves`, ...).
pub struct Simulation {
    market: Market,
    backend: Box<dyn Backend>,
    /// Wall-clock seconds spent in each stage of `STAGES` since the start (host view: for
    /// an asynchronous backend this includes waiting for earlier queued work).
    pub stage_secs: [f64; STAGES.len()],
}

impl std::ops::Deref for Simulation {
    type Target = Market;
    fn deref(&self) -> &Market {
        &self.market
    }
}

impl std::ops::DerefMut for Simulation {
    fn deref_mut(&mut self) -> &mut Market {
        &mut self.market
    }
}

/// The stages of the step in order, as named in the backend trait and the shaders.
pub const STAGES: [&str; 8] = ["offers", "scan", "search", "resolve", "buyers", "accounts", "reduce", "decide"];

/// Evaluates `$e`, adding the wall-clock seconds it took to the place `$acc`.
macro_rules! timed {
    ($acc:expr, $e:expr) => {{
        let t0 = std::time::Instant::now();
        let r = $e;
        $acc += t0.elapsed().as_secs_f64();
        r
    }};
}

impl Simulation {
    /// Draws the initial population and hands it to the backend built by `make`.
    pub fn new(cfg: Config, make: impl FnOnce(State) -> Box<dyn Backend>) -> Self {
        let state = State::init(&cfg);
        let market = Market::new(cfg, &state);
        Self { market, backend: make(state), stage_secs: [0.0; STAGES.len()] }
    }

    pub fn backend(&mut self) -> &mut dyn Backend {
        self.backend.as_mut()
    }

    /// Runs one step; returns its summary and, at snapshot steps, a snapshot.
    pub fn step(&mut self) -> (StepSummary, Option<Snapshot>) {
        let mk = &mut self.market;
        let mut p = mk.params();
        let be = self.backend.as_mut();
        let st = &mut self.stage_secs;
        timed!(st[0], be.offers(&p));
        let (n_ai, n_h) = timed!(st[1], be.scan(&p));
        let ai_share = mk.after_scan(&mut p, n_ai, n_h);
        for r in 0..mk.cfg.market.rounds {
            mk.round(&mut p, r);
            timed!(st[2], be.search(&p));
            timed!(st[3], be.resolve(&p));
        }
        timed!(st[4], be.buyers(&p));
        timed!(st[5], be.accounts(&p));
        let tot = timed!(st[6], be.reduce(&p, &mk.deciles));
        let summary = mk.after_reduce(&p, ai_share, tot);
        let snap = mk.snapshot_due().then(|| {
            let m = &mk.cfg;
            Snapshot::of(mk.t, &be.state(), m.market.q_max, m.technology.talent_sigma, &mk.curves.rp)
        });
        timed!(st[7], be.decide(&p, &mk.curves.rp));
        mk.finish_step(p);
        (summary, snap)
    }

    /// The backend's first failure (a lost GPU, say); the run stops at the step it happened.
    pub fn error(&self) -> Option<String> {
        self.backend.error()
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
        while self.t < steps && !stop.load(Ordering::Relaxed) && self.backend.error().is_none() {
            let (s, snap) = self.step();
            if self.backend.error().is_some() {
                // The failed step's aggregates are garbage; keep only the steps before it.
                break;
            }
            rec.push(&s);
            if let Some(snap) = snap {
                rec.snapshots.push(snap);
            }
            after_step(&s, self.backend.as_mut());
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
    use std::time::Instant;
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
    let mut in_ens = 0.0;
    // Constant over the run (talent is fixed).
    let deciles: Vec<Deciles> = markets.iter().map(|m| m.deciles).collect();
    while markets[0].t < steps && !stop.load(Ordering::Relaxed) {
        // Host work per market is a few microseconds; across a thousand markets it is
        // worth spreading over the cores (each market's own arithmetic stays sequential).
        let mut ps: Vec<StepParams> = markets.par_iter().map(Market::params).collect();
        timed!(in_ens, ens.offers(&ps));
        let counts = timed!(in_ens, ens.scan(&ps));
        let shares: Vec<f32> =
            markets.iter_mut().zip(ps.iter_mut()).zip(&counts).map(|((m, p), &(a, h))| m.after_scan(p, a, h)).collect();
        for r in 0..rounds {
            markets.iter().zip(ps.iter_mut()).for_each(|(m, p)| m.round(p, r));
            timed!(in_ens, ens.search(&ps));
            timed!(in_ens, ens.resolve(&ps));
        }
        timed!(in_ens, ens.buyers(&ps));
        timed!(in_ens, ens.accounts(&ps));
        let tots = timed!(in_ens, ens.reduce(&ps, &deciles));
        if let Some(e) = ens.error() {
            return Err(e);
        }
        let sums: Vec<StepSummary> = markets
            .par_iter_mut()
            .zip(ps.par_iter())
            .zip(shares)
            .zip(tots)
            .map(|(((m, p), share), tot)| m.after_reduce(p, share, tot))
            .collect();
        recs.par_iter_mut().zip(&sums).for_each(|(rec, s)| rec.push(s));
        let rps: Vec<&[[f32; 2]]> = markets.iter().map(|m| m.curves.rp.as_slice()).collect();
        timed!(in_ens, ens.decide(&ps, &rps));
        markets.iter_mut().zip(ps).for_each(|(m, p)| m.finish_step(p));
        times.market_steps += markets.len() as u64;
        progress(markets[0].t);
    }
    times.ensemble_secs = in_ens;
    times.host_secs = started.elapsed().as_secs_f64() - in_ens;
    ens.error().map_or(Ok(times), Err)
}

/// The volume entrants expect after a step with totals `tot`: the EMA with weight `mu` of
/// the mean volume of AI creators, unchanged while there are none. Shared by the
/// simulation and the mean field.
pub fn next_vol_expect(vol_expect: f32, tot: &Totals, mu: f32) -> f32 {
    let n = tot.mode_count[AI as usize];
    if n == 0 {
        return vol_expect;
    }
    vol_expect + mu * ((tot.vol_sum / n as f64) as f32 - vol_expect)
}

/// The parameters of step `step` before offers (unit counts, noise and congestion come
/// later), given the market-level state: the AI-share EMA A_t, the AI quality ceiling and
/// the AI volume entrants expect. Shared by the simulation and the mean field, so both
/// read the same rules' inputs.
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
    use super::q_epsilon_at;

    #[test]
    fn exploration_starts_at_the_shock_and_halves_every_half_life() {
        assert_eq!(q_epsilon_at(0.04, 0.0, 19, 20), 0.0, "none before the shock");
        assert_eq!(q_epsilon_at(0.04, 0.0, 200, 20), 0.04, "constant without a half-life");
        assert_eq!(q_epsilon_at(0.04, 30.0, 20, 20), 0.04);
        assert!((q_epsilon_at(0.04, 30.0, 50, 20) - 0.02).abs() < 1e-7);
        assert!((q_epsilon_at(0.04, 30.0, 80, 20) - 0.01).abs() < 1e-7);
    }
}
