//! The mean-field layer: the deterministic N -> infinity limit of the step of MODEL.md,
//! over talent classes (creators) and taste classes (buyers). Each stage of
//! `Simulation::step` has its expectation here, in the same order: offers; search and
//! matching as Poisson urn-ball rounds (each unit receives a Poisson number of proposals,
//! the smallest key wins); buyers' participation as a distribution of the score U per
//! taste class; creators' accounts; the market curves (the same `Curves` code as the
//! ABM); the logit-replicator mode revision with the creative-share drift. Within a
//! (talent class, mode) cell the state is closed at its mean (one x, price and AI volume
//! per cell) and each taste class carries one directedness and one channel experience:
//! these closures are the only approximations (docs/model.md, "Mean field").
//! A step yields the same `StepSummary` the ABM does, so `observe::METRICS` and the HDF5
//! writer serve both and the two overlay by series name.

use crate::backend::Totals;
use crate::config::Config;
use crate::layers::equilibrium::{norm_cdf, talent_classes};
use crate::model::dynamics::{self, Dynamics};
use crate::model::market::{CH_AI, CH_HUMAN, Curves, Histogram, bin_of, logit_probs};
use crate::model::rules;
use crate::model::technology::{human_factor, q_ai, q_human, z_of};
use crate::model::welfare;
use crate::observe::{Recorder, SNAP_BINS, Snapshot, StepSummary};
use crate::state::{AI, EXIT, HUMAN, StepParams};

mod decide;
mod search;

use search::deposit;

/// Resolution of the mean field.
#[derive(Clone, Copy, Debug)]
pub struct MeanFieldOptions {
    /// Equal-mass talent classes (a multiple of 10 keeps deciles exact).
    pub talent_classes: usize,
    /// Equal-mass taste classes.
    pub taste_classes: usize,
    /// Bins of each taste class's distribution of the participation score U.
    pub u_bins: usize,
    /// Grid cells over positive scores of the best-of-k integral.
    pub quad: usize,
}

impl Default for MeanFieldOptions {
    fn default() -> Self {
        Self { talent_classes: 40, taste_classes: 16, u_bins: 200, quad: 64 }
    }
}

/// The mean field is a population of measure one; counts in `Totals` are integers, so it
/// reports them for a virtual population this large (12 significant digits survive).
pub const VIRTUAL_CREATORS: f64 = (1u64 << 40) as f64;

/// One taste class of buyers.
#[derive(Clone, Debug)]
struct TasteClass {
    theta: f64,
    /// Per U-bin (mass, mass-weighted U) of active and of inactive buyers; masses are
    /// shares of all buyers.
    active: Vec<[f64; 2]>,
    inactive: Vec<[f64; 2]>,
    /// Directedness: mean, and its distribution (share of the class) on `D_GRID` points
    /// of [0, 1]; each active buyer's d moves by +-lam_d on the sign of its own
    /// experience difference.
    d: f64,
    d_mass: Vec<f64>,
    /// First and second moments over the class of the channel experience (human, AI),
    /// and the share of the class that has never bought (experience (0, 0): d stays).
    exp: [f64; 2],
    exp2: [f64; 2],
    fresh: f64,
}

/// Points of the directedness distribution of a taste class.
const D_GRID: usize = 101;

/// The state of the mean field.
#[derive(Clone, Debug)]
pub struct MeanField {
    pub cfg: Config,
    pub opts: MeanFieldOptions,
    /// Next step to run.
    pub t: u32,
    pub curves: Curves,
    talent: Vec<f64>,
    /// Talent decile (0..10) of each class.
    decile: Vec<usize>,
    /// Share of each class (of all creators) per mode (exit, AI, human).
    share: Vec<[f64; 3]>,
    /// Mean creative share, posted price per (class, mode); AI volume per class in AI mode.
    x: Vec<[f64; 3]>,
    price: Vec<[f64; 3]>,
    vol: Vec<f64>,
    tastes: Vec<TasteClass>,
    /// Buyers per creator.
    ratio: f64,
    /// Half-width of the asinh-spaced U axis and its scale.
    u_span: f64,
    u_scale: f64,
    /// A_t, D_A, the AI quality ceiling and entrants' expected volume, moved by the same
    /// rules as the ABM's (`model::dynamics`).
    dynamics: Dynamics,
    snapshot_steps: Vec<u32>,
}

/// A search item: the units of one (talent class, channel).
#[derive(Clone, Copy, Debug)]
struct Item {
    ai: bool,
    q: f64,
    price: f64,
    /// Units per creator.
    units: f64,
    /// Share of the units still unsold.
    unsold: f64,
}

impl MeanField {
    /// The initial state of `State::init`: everyone human at the best split for omega0,
    /// priced at a share of mean taste times quality; buyers at `u_init` and `d_init`.
    pub fn new(cfg: &Config, opts: MeanFieldOptions) -> MeanField {
        let t = &cfg.technology;
        let m = &cfg.market;
        let k = opts.talent_classes.max(10);
        let talent = talent_classes(k, t.talent_sigma as f64);
        let decile = (0..k).map(|c| (c * 10 / k).min(9)).collect();
        let x0 = (1.0 - t.omega0).clamp(t.x_lo, t.x_hi) as f64;
        let theta_mean = 0.5 * (m.theta_lo + m.theta_hi) as f64;
        let inv_z = 1.0 / z_of(t.omega0);
        let price = talent
            .iter()
            .map(|&s| {
                let q = q_human(s as f32, x0 as f32, t.omega0, inv_z) as f64;
                let p = (m.price_init as f64 * theta_mean * q).max(t.cost_human as f64);
                [p, p, p]
            })
            .collect();
        let u_span = (2.0 * (m.theta_hi.max(m.theta_lo) as f64) * m.q_max as f64).max(1.0) + m.u_init.abs() as f64;
        let u_scale = 0.02;
        let nb = opts.u_bins.max(4) & !1;
        let b = opts.taste_classes.max(1);
        let mut tastes = Vec::with_capacity(b);
        for j in 0..b {
            let theta = m.theta_lo as f64 + (m.theta_hi - m.theta_lo) as f64 * (j as f64 + 0.5) / b as f64;
            let mut d_mass = vec![0.0; D_GRID];
            deposit(&mut d_mass, m.d_init as f64, 1.0);
            let mut tc = TasteClass {
                theta,
                active: vec![[0.0; 2]; nb],
                inactive: vec![[0.0; 2]; nb],
                d: m.d_init as f64,
                d_mass,
                exp: [0.0; 2],
                exp2: [0.0; 2],
                fresh: 1.0,
            };
            let u0 = m.u_init as f64;
            let bin = u_bin(u0, u_span, u_scale, nb);
            let cell = if u0 >= 0.0 { &mut tc.active[bin] } else { &mut tc.inactive[bin] };
            *cell = [1.0 / b as f64, u0 / b as f64];
            tastes.push(tc);
        }
        MeanField {
            opts: MeanFieldOptions { talent_classes: k, taste_classes: b, u_bins: nb, ..opts },
            t: 0,
            curves: Curves::prior(m.bins, m.q_max, theta_mean as f32, m.price_init),
            share: vec![[0.0, 0.0, 1.0 / k as f64]; k],
            x: vec![[x0; 3]; k],
            price,
            vol: vec![t.ai_volume_init as f64; k],
            talent,
            decile,
            tastes,
            ratio: cfg.top.buyers as f64 / cfg.top.creators.max(1) as f64,
            u_span,
            u_scale,
            dynamics: Dynamics::new(cfg),
            snapshot_steps: cfg.snapshot_steps(),
            cfg: cfg.clone(),
        }
    }

    /// The step's parameters, exactly as `Simulation::params` sets them (what the rules read).
    fn params(&self) -> StepParams {
        self.dynamics.params(&self.cfg, self.t)
    }

    /// Runs one step; returns its summary (counts for `VIRTUAL_CREATORS` creators, HHI
    /// for the config's population) and, at snapshot steps, a snapshot.
    pub fn step(&mut self) -> (StepSummary, Option<Snapshot>) {
        let cfg = self.cfg.clone();
        let (tech, mk) = (&cfg.technology, &cfg.market);
        let mut p = self.params();
        let k = self.talent.len();

        // 1. Offers: every cell's nominal quality; units per creator.
        let mut items: Vec<Item> = Vec::with_capacity(2 * k);
        let mut units = [0.0f64; 2];
        for c in 0..k {
            let s = self.talent[c] as f32;
            let qa = q_ai(s, self.x[c][1] as f32, p.alpha_a, p.qbar_a) as f64;
            let qh = q_human(s, self.x[c][2] as f32, p.w, p.inv_z) as f64;
            let ua = self.share[c][1] * self.vol[c];
            let uh = self.share[c][2];
            units[0] += ua;
            units[1] += uh;
            items.push(Item { ai: true, q: qa, price: self.price[c][1], units: ua, unsold: 1.0 });
            items.push(Item { ai: false, q: qh, price: self.price[c][2], units: uh, unsold: 1.0 });
        }
        let total_units = units[0] + units[1];
        let ai_share = if total_units > 0.0 { units[0] / total_units } else { 0.0 };
        // The ABM moves directedness only while AI units exist; a logit leaves a vanishing
        // AI mass in the mean field, so AI counts as present once the config's population
        // would hold at least one AI unit in expectation.
        p.ai_present = u32::from(units[0] * cfg.top.creators as f64 >= 1.0);
        self.dynamics.after_units(&cfg, &mut p, ai_share, (units[0] / self.ratio) as f32);

        // 2. Search and matching, round by round.
        let nb = self.tastes.len();
        let kk = mk.k as usize;
        let sc = (mk.k as f64) * mk.search_cost as f64;
        let junk = tech.junk_share as f64;
        // Searching (active, unmatched) mass per taste class.
        let mut searching: Vec<f64> = self.tastes.iter().map(|t| t.active.iter().map(|c| c[0]).sum()).collect();
        let active_mass = searching.clone();
        // Per taste class and round: match probability mass by (human, AI real, AI junk)
        // with its summed utility before search costs and summed price paid.
        let rounds = mk.rounds as usize;
        let mut got = vec![vec![[[0.0f64; 4]; 3]; rounds]; nb];
        let any_units = total_units > 0.0;
        if any_units {
            for r in 0..rounds {
                let proposals = self.proposals(&items, &searching, &p, kk);
                // Poisson rate of proposals per unsold unit, and what a proposal wins.
                let mut win = vec![0.0; items.len()];
                let mut lam = vec![0.0; items.len()];
                for (j, it) in items.iter().enumerate() {
                    let open = it.units * it.unsold;
                    let total: f64 = (0..nb).map(|b| searching[b] * proposals[b][j]).sum::<f64>() * self.ratio;
                    if open > 0.0 && total > 0.0 {
                        let l = total / open;
                        lam[j] = l;
                        win[j] = if l > 1e-9 { (1.0 - (-l).exp()) / l } else { 1.0 - 0.5 * l };
                    }
                }
                for b in 0..nb {
                    let th = self.tastes[b].theta;
                    let mut matched = 0.0;
                    for (j, it) in items.iter().enumerate() {
                        let m = proposals[b][j] * win[j];
                        if m <= 0.0 {
                            continue;
                        }
                        matched += m;
                        let cell = &mut got[b][r];
                        let v = th * it.q - it.price;
                        if it.ai {
                            cell[1][0] += m * (1.0 - junk);
                            cell[1][1] += m * (1.0 - junk) * v;
                            cell[1][2] += m * (1.0 - junk) * it.price;
                            cell[1][3] += m * (1.0 - junk) * v * v;
                            cell[2][0] += m * junk;
                            cell[2][1] += m * junk * (-it.price);
                            cell[2][2] += m * junk * it.price;
                            cell[2][3] += m * junk * it.price * it.price;
                        } else {
                            cell[0][0] += m;
                            cell[0][1] += m * v;
                            cell[0][2] += m * it.price;
                            cell[0][3] += m * v * v;
                        }
                    }
                    // `proposals` are per searching buyer: scale to the class's mass.
                    for o in 0..3 {
                        for v in 0..4 {
                            got[b][r][o][v] *= searching[b];
                        }
                    }
                    searching[b] *= (1.0 - matched).max(0.0);
                }
                for (it, &l) in items.iter_mut().zip(&lam) {
                    it.unsold *= (-l).exp();
                }
            }
        }

        // 3. Buyers: participation, experience, directedness; and their aggregates.
        let mut tot = Totals {
            provider_sold: vec![0; tech.n_providers as usize],
            hist: Histogram::new(mk.bins as usize),
            ..Default::default()
        };
        let vb = VIRTUAL_CREATORS * self.ratio;
        let (mut active_s, mut matched_s, mut matched_ai_s, mut matched_junk_s) = (0.0, 0.0, 0.0, 0.0);
        let (mut utility, mut spend, mut spend_ai, mut junk_paid, mut search_costs, mut d_sum) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let lam_c = mk.lam_c as f64;
        let felt_shift = if mk.congestion_in_participation { p.congestion as f64 } else { 0.0 };
        for b in 0..nb {
            let am = active_mass[b];
            // Outcomes of an active buyer: (probability, utility incl. search costs).
            let mut outcomes: Vec<(f64, f64)> = Vec::with_capacity(3 * rounds + 1);
            let mut bought = [0.0f64; 2];
            let mut value = [0.0f64; 2];
            let mut value2 = [0.0f64; 2];
            if am > 0.0 {
                let mut left = 1.0;
                for r in 0..rounds {
                    for o in 0..3 {
                        let [m, u, paid, u2] = got[b][r][o];
                        if m <= 0.0 {
                            continue;
                        }
                        let prob = m / am;
                        left -= prob;
                        let searches = if any_units { (r + 1) as f64 } else { 0.0 };
                        outcomes.push((prob, u / m - searches * sc));
                        matched_s += m;
                        spend += paid;
                        utility += u - m * searches * sc;
                        search_costs += m * searches * sc;
                        let ch = if o == 0 { 0 } else { 1 };
                        bought[ch] += m;
                        value[ch] += u;
                        value2[ch] += u2;
                        if o > 0 {
                            matched_ai_s += m;
                            spend_ai += paid;
                        }
                        if o == 2 {
                            matched_junk_s += m;
                            junk_paid += paid;
                        }
                    }
                }
                let searches = if any_units { rounds as f64 } else { 0.0 };
                let left = left.max(0.0);
                outcomes.push((left, -searches * sc));
                utility -= am * left * searches * sc;
                search_costs += am * left * searches * sc;
                if any_units {
                    active_s += am;
                }
            }
            let tc = &mut self.tastes[b];
            // As in `buyer_update`: experience first, then directedness on its sign.
            // Experience: first and second moments over the class of the per-buyer EMA
            // over the channel bought from (purchase independent of the current value).
            let lam_u = mk.lam_u as f64;
            let tm: f64 = 1.0 / nb as f64;
            for ch in 0..2 {
                if bought[ch] > 0.0 {
                    let pi = (bought[ch] / tm).min(1.0);
                    let (v1, v2) = (value[ch] / bought[ch], value2[ch] / bought[ch]);
                    let (m1, m2) = (tc.exp[ch], tc.exp2[ch]);
                    tc.exp[ch] = m1 + lam_u * pi * (v1 - m1);
                    tc.exp2[ch] = (1.0 - pi) * m2
                        + pi * ((1.0 - lam_u).powi(2) * m2
                            + 2.0 * lam_u * (1.0 - lam_u) * m1 * v1
                            + lam_u * lam_u * v2);
                }
            }
            tc.fresh *= (1.0 - (bought[0] + bought[1]) / tm).clamp(0.0, 1.0);
            if p.ai_present != 0 && am > 0.0 {
                // Among buyers with experience, sign(e_h - e_a) is + with probability
                // Phi(mean / sd) of the difference (the channels' spreads independent).
                let seen = (1.0 - tc.fresh).max(1e-12);
                let mu = [tc.exp[0] / seen, tc.exp[1] / seen];
                let var = (tc.exp2[0] / seen - mu[0] * mu[0]).max(0.0) + (tc.exp2[1] / seen - mu[1] * mu[1]).max(0.0);
                let diff = mu[0] - mu[1];
                let up = if var > 1e-18 {
                    norm_cdf(diff / var.sqrt())
                } else if diff > 0.0 {
                    1.0
                } else if diff < 0.0 {
                    0.0
                } else {
                    0.5
                };
                let moving = (am * nb as f64).min(1.0) * (1.0 - tc.fresh);
                let lam_d = mk.lam_d as f64;
                let mut next = vec![0.0; D_GRID];
                for (i, &w) in tc.d_mass.iter().enumerate() {
                    if w <= 0.0 {
                        continue;
                    }
                    let d0 = i as f64 / (D_GRID - 1) as f64;
                    deposit(&mut next, d0, w * (1.0 - moving));
                    deposit(&mut next, (d0 + lam_d).min(1.0), w * moving * up);
                    deposit(&mut next, (d0 - lam_d).max(0.0), w * moving * (1.0 - up));
                }
                tc.d_mass = next;
                tc.d = tc.d_mass.iter().enumerate().map(|(i, &w)| w * i as f64 / (D_GRID - 1) as f64).sum();
            }
            d_sum += tc.d / nb as f64;
            // Participation: move the active buyers' U by each outcome; inactive ones
            // come back with probability eps_c at their old score.
            let nbins = tc.active.len();
            let mut act = vec![[0.0; 2]; nbins];
            let mut ina = vec![[0.0; 2]; nbins];
            for cell in &tc.active {
                let [m, us] = *cell;
                if m <= 0.0 {
                    continue;
                }
                let u0 = us / m;
                for &(prob, u) in &outcomes {
                    if prob <= 0.0 {
                        continue;
                    }
                    let u1 = u0 + lam_c * (u - felt_shift - u0);
                    let bin = u_bin(u1, self.u_span, self.u_scale, nbins);
                    let dst = if u1 >= 0.0 { &mut act[bin] } else { &mut ina[bin] };
                    dst[0] += m * prob;
                    dst[1] += m * prob * u1;
                }
            }
            let eps = mk.eps_c as f64;
            for (i, cell) in tc.inactive.iter().enumerate() {
                let [m, us] = *cell;
                if m <= 0.0 {
                    continue;
                }
                act[i][0] += eps * m;
                act[i][1] += eps * us;
                ina[i][0] += (1.0 - eps) * m;
                ina[i][1] += (1.0 - eps) * us;
            }
            tc.active = act;
            tc.inactive = ina;
        }

        // 4. Creators' accounts; 5. their aggregates and the curves' histogram.
        let vc = VIRTUAL_CREATORS;
        let ps = mk.price_speed as f64;
        let (c_ai, f_ai, fee) = (p.c_ai as f64, p.f_ai as f64, p.api_fee as f64);
        let (c_h, sub, utax, atax) = (p.c_human as f64, p.subsidy as f64, p.unit_tax as f64, p.adoption_tax as f64);
        let mut revenue = [0.0f64; 3];
        let mut rev_sq = 0.0;
        let mut profit = 0.0;
        let mut vol_sum = 0.0;
        let mut offered = [0.0f64; 2];
        let mut sold = [0.0f64; 2];
        let mut mode_mass = [0.0f64; 3];
        let mut decile_mass = [[0.0f64; 3]; 10];
        let mut x_sum = [0.0f64; 3];
        let mut talent_sum = [0.0f64; 3];
        let mut hist = Histogram::new(mk.bins as usize);
        let bins = mk.bins as usize;
        for c in 0..k {
            for m in 0..3 {
                let s = self.share[c][m];
                mode_mass[m] += s;
                decile_mass[self.decile[c]][m] += s;
                x_sum[m] += s * self.x[c][m];
                talent_sum[m] += s * self.talent[c];
            }
            // Human cell.
            let ih = &items[2 * c + 1];
            let sh = self.share[c][2];
            if sh > 0.0 {
                let r = 1.0 - ih.unsold;
                let pr = self.price[c][2];
                revenue[2] += sh * pr * r;
                rev_sq += sh * pr * pr * r;
                profit += sh * r * (pr - c_h + sub);
                offered[1] += sh;
                sold[1] += sh * r;
                let cell = &mut hist.cells[CH_HUMAN * bins + bin_of(ih.q as f32, mk.q_max, mk.bins) as usize];
                cell[0] += sh;
                cell[1] += sh * r;
                cell[2] += sh * pr * r;
                self.price[c][2] = r * (pr * ps.exp()).max(c_h) + (1.0 - r) * (pr * (-ps).exp()).max(c_h);
            }
            // AI cell.
            let ia = &items[2 * c];
            let sa = self.share[c][1];
            if sa > 0.0 {
                let r = 1.0 - ia.unsold;
                let v = self.vol[c];
                let pr = self.price[c][1];
                let rev = pr * v * r;
                revenue[1] += sa * rev;
                rev_sq += sa * rev * rev;
                profit += sa * (rev - (f_ai + atax + (c_ai + utax) * v + fee * v * r));
                offered[0] += sa * v;
                sold[0] += sa * v * r;
                vol_sum += sa * v;
                let cell = &mut hist.cells[CH_AI * bins + bin_of(ia.q as f32, mk.q_max, mk.bins) as usize];
                cell[0] += sa * v;
                cell[1] += sa * v * r;
                cell[2] += sa * rev;
                let margin = r * (pr - fee) - c_ai - utax;
                self.vol[c] =
                    (v * (tech.vol_speed as f64 * margin / pr.max(0.05)).exp()).clamp(1.0, tech.ai_volume_max as f64);
                self.price[c][1] = (pr * (ps * (2.0 * r - 1.0)).exp()).max(p.ai_floor as f64);
            }
        }
        let np = tech.n_providers.max(1) as usize;
        let provider_rev = fee * sold[0];
        let round = |v: f64| v.max(0.0).round() as u64;
        tot.active = round(active_s * vb);
        tot.matched = round(matched_s * vb);
        tot.matched_ai = round(matched_ai_s * vb);
        tot.matched_junk = round(matched_junk_s * vb);
        tot.utility = utility * vb;
        tot.spend = spend * vb;
        tot.spend_ai = spend_ai * vb;
        tot.junk_paid = junk_paid * vb;
        tot.search_costs = search_costs * vb;
        tot.d_sum = d_sum * vb;
        for m in 0..3 {
            tot.mode_count[m] = round(mode_mass[m] * vc);
            tot.x_sum[m] = x_sum[m] * vc;
            tot.talent_sum[m] = talent_sum[m] * vc;
            tot.revenue[m] = revenue[m] * vc;
            for d in 0..10 {
                tot.decile_mode[d][m] = round(decile_mass[d][m] * vc);
            }
        }
        tot.offered = [round(offered[0] * vc), round(offered[1] * vc)];
        tot.sold = [round(sold[0] * vc), round(sold[1] * vc)];
        tot.revenue_sq = rev_sq * vc;
        tot.profit = profit * vc;
        tot.vol_sum = vol_sum * vc;
        for s in tot.provider_sold.iter_mut() {
            *s = round(sold[0] * vc / np as f64);
        }
        for cell in hist.cells.iter_mut() {
            for v in cell.iter_mut() {
                *v *= vc;
            }
        }
        tot.hist = hist;
        // A curve cell is observed in the ABM once a unit is offered there; the logit
        // leaves vanishing masses everywhere in the mean field, so a cell counts as
        // observed only where the config's population offers at least one unit in
        // expectation (otherwise, e.g., phantom AI units before the shock would replace
        // the human curve the ABM's first AI entrants borrow).
        let mut seen_hist = tot.hist.clone();
        let unit = vc / cfg.top.creators.max(1) as f64;
        for cell in seen_hist.cells.iter_mut() {
            if cell[0] < unit {
                *cell = [0.0; 3];
            }
        }
        self.curves.update(&seen_hist, mk.mu);

        // Welfare as `sim.rs` computes it; HHI for the config's population.
        let (tax, subsidy) = dynamics::policy_flows(&p, offered[0], mode_mass[1], sold[1]);
        let bearers = dynamics::congestion_bearers(&cfg, active_s * vb, vb);
        let wf = welfare::welfare(
            vb,
            tot.utility,
            p.congestion as f64,
            bearers,
            tot.profit,
            provider_rev * vc,
            tax * vc,
            subsidy * vc,
            tot.junk_paid,
            tot.search_costs,
        );
        let n = cfg.top.creators as f64;
        let rev_sum = n * (revenue[1] + revenue[2] + provider_rev);
        let rev_sq_all = n * rev_sq + np as f64 * (n * provider_rev / np as f64).powi(2);
        let summary = StepSummary {
            step: self.t,
            n_creators: vc,
            n_buyers: vb,
            c_ai,
            f_ai,
            w: p.w as f64,
            qbar_a: p.qbar_a as f64,
            sigma: p.sigma as f64,
            ai_share_offered: ai_share,
            congestion_stock: self.dynamics.congestion_stock as f64,
            hhi: welfare::hhi(rev_sum, rev_sq_all),
            welfare: wf,
            totals: tot,
        };
        let snap = self.snapshot_steps.binary_search(&self.t).is_ok().then(|| self.snapshot(&items, &p));

        // As in the ABM, entrants' expectation moves once AI creators exist: here once the
        // config's population holds at least one in expectation (the logit leaves a
        // vanishing AI mass at every step, whose volume is no one's).
        let mean_vol = (mode_mass[1] * cfg.top.creators as f64 >= 1.0).then(|| (vol_sum / mode_mass[1]) as f32);
        self.dynamics.after_step(&cfg, ai_share as f32, mean_vol, sold[0], sold[0] + sold[1]);
        // 6. Decisions.
        self.decide(&p);
        self.t += 1;
        (summary, snap)
    }

    /// Runs until step `steps`, recording every step (and snapshots) into `rec`.
    pub fn run(&mut self, steps: u32, rec: &mut Recorder) {
        while self.t < steps {
            let (s, snap) = self.step();
            rec.push(&s);
            if let Some(snap) = snap {
                rec.snapshots.push(snap);
            }
        }
    }

    /// Share of each talent decile (rows) in each mode (exit, AI, human).
    pub fn decile_shares(&self) -> [[f64; 3]; 10] {
        let mut out = [[0.0; 3]; 10];
        let mut tot = [0.0; 10];
        for c in 0..self.talent.len() {
            for m in 0..3 {
                out[self.decile[c]][m] += self.share[c][m];
                tot[self.decile[c]] += self.share[c][m];
            }
        }
        for d in 0..10 {
            for m in 0..3 {
                out[d][m] /= tot[d].max(1e-300);
            }
        }
        out
    }
}

/// Bin of a participation score on the asinh-spaced axis (fine near zero, where the
/// participation threshold is); zero is a bin edge, so the sign of U decides its half.
fn u_bin(u: f64, span: f64, scale: f64, bins: usize) -> usize {
    let ymax = (span / scale).asinh();
    let y = (u / scale).asinh().clamp(-ymax, ymax);
    let half = bins / 2;
    let i = ((y / ymax) * half as f64).floor() as i64 + half as i64;
    let i = i.clamp(0, bins as i64 - 1) as usize;
    // Keep the sign: negative scores in the lower half, non-negative in the upper.
    if u < 0.0 { i.min(half - 1) } else { i.max(half) }
}

/// Runs the mean field of `cfg` for its `steps` and returns the recorder.
pub fn run_meanfield(cfg: &Config, opts: MeanFieldOptions) -> Recorder {
    let mut mf = MeanField::new(cfg, opts);
    let mut rec = Recorder::new();
    mf.run(cfg.top.steps, &mut rec);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_bins_keep_the_sign_of_the_score() {
        let (span, scale, n) = (10.0, 0.02, 200);
        assert!(u_bin(-1e-9, span, scale, n) < n / 2);
        assert!(u_bin(0.0, span, scale, n) >= n / 2);
        assert!(u_bin(1e-9, span, scale, n) >= n / 2);
        assert_eq!(u_bin(1e9, span, scale, n), n - 1);
        assert_eq!(u_bin(-1e9, span, scale, n), 0);
        assert!(u_bin(0.01, span, scale, n) < u_bin(0.1, span, scale, n));
    }

    #[test]
    fn mass_is_conserved_for_creators_and_buyers() {
        let mut cfg = Config::default();
        cfg.top.creators = 1000;
        cfg.top.buyers = 2000;
        cfg.technology.shock_step = 5;
        let mut mf = MeanField::new(&cfg, MeanFieldOptions::default());
        for _ in 0..30 {
            mf.step();
            let c: f64 = mf.share.iter().flatten().sum();
            assert!((c - 1.0).abs() < 1e-9, "creators {c}");
            let b: f64 = mf.tastes.iter().map(|t| t.active.iter().chain(&t.inactive).map(|v| v[0]).sum::<f64>()).sum();
            assert!((b - 1.0).abs() < 1e-9, "buyers {b}");
        }
    }
}
