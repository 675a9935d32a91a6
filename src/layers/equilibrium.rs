//! The static layer: the frictionless equilibrium of MODEL.md's technology (k large,
//! sigma -> 0, full information about nominal quality, creators best-responding). Owns the
//! talent classes, the hedonic/assignment market with one price per good, the creators'
//! segment choice, the segment cut-offs in talent, the profit frontier with its kinks and
//! the quality distribution of units before and after the shock. The derivation is in
//! `docs/model.md` ("Static equilibrium"); the solver is the rest point of a frictionless
//! best-response dynamic (tatonnement in prices, damped near-best-response in segments),
//! so every equilibrium condition is checked by a reported residual instead of assumed.

use crate::config::Config;
use crate::model::technology::{execution_weight, q_ai, z_of};

/// Standard normal CDF, through `libm::erfc` (correct to a few ulps, also in the tails).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() * 0.398_942_280_401_432_8
}

/// Inverse standard normal CDF: P. J. Acklam's rational approximation (relative error
/// < 1.2e-9) refined by one Halley step on `norm_cdf`, which brings it to machine precision.
pub fn norm_ppf(p: f64) -> f64 {
    let x = acklam_ppf(p);
    if !x.is_finite() || !(0.0..1.0).contains(&p) || p == 0.0 {
        return x;
    }
    let e = norm_cdf(x) - p;
    let u = e / norm_pdf(x);
    x - u / (1.0 + 0.5 * x * u)
}

fn acklam_ppf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let pl = 0.02425;
    if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// Talent of `k` equal-mass classes: the quantile midpoints of S = exp(N(0, sigma)).
pub fn talent_classes(k: usize, sigma: f64) -> Vec<f64> {
    (0..k).map(|i| (sigma * norm_ppf((i as f64 + 0.5) / k as f64)).exp()).collect()
}

/// Options of the static solver.
#[derive(Clone, Copy, Debug)]
pub struct StaticOptions {
    /// Equal-mass talent classes.
    pub classes: usize,
    /// Share of its units a creator sells at the rest point of its price rule: 1 is the
    /// Walrasian market (every price clears), 0.5 the rest point of the ABM's rule
    /// `price *= exp(price_speed (2 r - 1))`, which in the frictionless limit hovers around
    /// the clearing price and sells half the time (see docs/model.md).
    pub sell_through: f64,
    /// Precision (1/money) of the smoothed best response at the end of the annealing;
    /// large means best-responding creators.
    pub precision: f64,
    /// Outer iterations (segment updates); prices take `price_iters` steps per outer one.
    pub iterations: usize,
    pub price_iters: usize,
    /// Buyers' residual taste noise tau (money) at the end of the annealing: the logit
    /// temperature of the unit-level choice; 0 would be exact best responses.
    pub noise: f64,
    /// Equal-mass atoms of the taste distribution.
    pub atoms: usize,
}

impl Default for StaticOptions {
    fn default() -> Self {
        Self {
            classes: 60,
            sell_through: 1.0,
            precision: 200.0,
            iterations: 4000,
            price_iters: 2,
            noise: 0.005,
            atoms: 96,
        }
    }
}

/// One good of the static market: units of one nominal quality, with one price.
#[derive(Clone, Debug)]
struct Good {
    q: f64,
    /// Units offered per creator (population share times capacity).
    supply: f64,
    /// Price floor: the cost of a sale for humans (c_H less subsidy); for AI the lowest list
    /// price, max(api_fee, ai_price_floor).
    floor: f64,
    price: f64,
    /// Units demanded per creator at the current prices.
    demand: f64,
    /// Buyer-weighted sum of taste of those who demand it (for consumer surplus).
    theta_sum: f64,
    /// An AI good (junk possible) rather than a human one.
    ai: bool,
}

/// The static equilibrium at one AI cost level.
#[derive(Clone, Debug, Default)]
pub struct StaticEquilibrium {
    /// AI marginal and fixed cost it was solved at.
    pub c_ai: f64,
    pub f_ai: f64,
    pub sell_through_target: f64,
    /// Talent of each class (equal mass each).
    pub talent: Vec<f64>,
    /// Share of each class in (exit, AI, human).
    pub share: Vec<[f64; 3]>,
    /// Profit of (exit, AI, human) for each class at the equilibrium prices.
    pub profit: Vec<[f64; 3]>,
    /// Nominal quality of the class's units in (AI, human).
    pub quality: Vec<[f64; 2]>,
    /// Best-response creative share in (AI, human).
    pub creative: Vec<[f64; 2]>,
    /// Price of the class's good in (AI, human): the hedonic price at its quality.
    pub price: Vec<[f64; 2]>,
    /// Share of the good's units sold in (AI, human).
    pub sold_share: Vec<[f64; 2]>,
    /// AI volume chosen.
    pub volume: Vec<f64>,
    /// Segment shares of all creators (exit, AI, human).
    pub shares: [f64; 3],
    /// Talent cut-offs: the lowest talent at which AI breaks even (or human craft pays),
    /// and the lowest talent from which human craft strictly beats AI and exit; both to
    /// the resolution 2 / precision of the smoothed best response; NaN where absent.
    pub cut_exit_ai: f64,
    pub cut_ai_human: f64,
    /// Execution weight w and the AI share of units offered at the fixed point.
    pub w: f64,
    pub ai_unit_share: f64,
    /// Units offered per buyer by channel (AI, human) and units sold per buyer.
    pub units_per_buyer: [f64; 2],
    pub sold_per_buyer: [f64; 2],
    /// Buyers matched per buyer.
    pub matched: f64,
    /// Welfare per buyer: consumer surplus (congestion included), producer surplus
    /// (creators and providers), congestion, taxes, subsidies, total.
    pub cs: f64,
    pub ps: f64,
    pub congestion: f64,
    pub tax: f64,
    pub subsidy: f64,
    pub welfare: f64,
    /// Buyers' taste grid, the nominal quality each buys (NaN: none) and its price.
    pub theta: Vec<f64>,
    pub theta_quality: Vec<f64>,
    pub theta_price: Vec<f64>,
    /// Largest relative excess demand of a good priced above its floor, and the largest
    /// profit a class forgoes against its best segment (share-weighted), at the end.
    pub residual_market: f64,
    pub residual_choice: f64,
}

/// Market and technology inputs of the static problem, read off a config.
#[derive(Clone, Copy, Debug)]
struct Inputs {
    theta_lo: f64,
    theta_hi: f64,
    buyers_per_creator: f64,
    alpha: f64,
    qbar: f64,
    x_lo: f64,
    x_hi: f64,
    omega0: f64,
    novelty: f64,
    c_h: f64,
    subsidy: f64,
    fee: f64,
    /// Lowest AI list price, max(api_fee, ai_price_floor).
    ai_floor: f64,
    unit_tax: f64,
    adoption_tax: f64,
    vmax: f64,
    junk: f64,
    pollution: f64,
    cong_eta: f64,
    cong_decay: f32,
}

impl Inputs {
    fn of(cfg: &Config) -> Inputs {
        let t = &cfg.technology;
        let m = &cfg.market;
        let p = &cfg.policy;
        Inputs {
            theta_lo: m.theta_lo as f64,
            theta_hi: m.theta_hi as f64,
            buyers_per_creator: cfg.top.buyers as f64 / cfg.top.creators.max(1) as f64,
            alpha: t.alpha_a as f64,
            qbar: t.qbar_a as f64,
            x_lo: t.x_lo as f64,
            x_hi: t.x_hi as f64,
            omega0: t.omega0 as f64,
            novelty: t.novelty as f64,
            c_h: t.cost_human as f64,
            subsidy: p.provenance_subsidy as f64,
            fee: t.api_fee as f64,
            ai_floor: t.api_fee.max(t.ai_price_floor) as f64,
            unit_tax: p.unit_tax as f64,
            adoption_tax: p.adoption_tax as f64,
            vmax: t.ai_volume_max as f64,
            junk: t.junk_share as f64,
            pollution: m.pollution as f64,
            cong_eta: m.cong_eta as f64,
            cong_decay: m.congestion_decay,
        }
    }
}

/// AI costs (c_A, F_A) before the shock and after it (with `ai_cost_scale`).
pub fn costs_pre_post(cfg: &Config) -> ((f64, f64), (f64, f64)) {
    let t = &cfg.technology;
    let pre = (t.ai_cost_pre as f64, t.ai_fixed as f64);
    let s = t.ai_cost_scale as f64;
    let post = (t.ai_cost_post as f64 * s, t.ai_fixed as f64 * s);
    (pre, post)
}

/// Demand for each good at the current prices. Buyers theta ~ U[lo, hi] (mass
/// `buyers_per_creator`, `atoms` equal-mass atoms) choose among all units offered and the
/// outside option by a unit-level logit with temperature `tau` (money): good i is chosen
/// with probability proportional to its supply share times exp((theta q_i - p_i) / tau),
/// the outside option with weight one. This is the k -> infinity limit of the ABM's
/// uniform sampling of units with a vanishing taste noise; as tau -> 0 every buyer takes
/// the good with the largest surplus theta q - p, if positive.
fn demand(goods: &mut [Good], inp: &Inputs, tau: f64, atoms: usize) {
    for g in goods.iter_mut() {
        g.demand = 0.0;
        g.theta_sum = 0.0;
    }
    let total: f64 = goods.iter().map(|g| g.supply).sum();
    if total <= 0.0 {
        return;
    }
    let lw: Vec<f64> =
        goods.iter().map(|g| if g.supply > 0.0 { (g.supply / total).ln() } else { f64::NEG_INFINITY }).collect();
    let m = atoms.max(1);
    let mass = inp.buyers_per_creator / m as f64;
    let mut e = vec![0.0; goods.len()];
    for a in 0..m {
        let th = inp.theta_lo + (inp.theta_hi - inp.theta_lo) * (a as f64 + 0.5) / m as f64;
        let mut top = 0.0f64; // the outside option's utility
        for (i, g) in goods.iter().enumerate() {
            e[i] = lw[i] + (th * g.q - g.price) / tau;
            top = top.max(e[i]);
        }
        let mut z = (-top).exp();
        for v in e.iter_mut() {
            *v = (*v - top).exp();
            z += *v;
        }
        for (g, v) in goods.iter_mut().zip(&e) {
            let d = mass * v / z;
            g.demand += d;
            g.theta_sum += d * th;
        }
    }
}

/// Solves the static equilibrium at AI costs (c_A, F_A).
pub fn solve(cfg: &Config, c_ai: f64, f_ai: f64, opts: &StaticOptions) -> StaticEquilibrium {
    let inp = Inputs::of(cfg);
    let k = opts.classes.max(2);
    let talent = talent_classes(k, cfg.technology.talent_sigma as f64);
    let mass = 1.0 / k as f64;
    let rbar = opts.sell_through.clamp(0.01, 1.0);
    let beta_end = opts.precision.max(1e-6);
    let beta_start = (cfg.decisions.logit as f64).clamp(1.0, beta_end);
    // AI quality: the creative share that maximises q_A, the least that reaches the ceiling.
    let ai_x: Vec<f64> =
        talent.iter().map(|&s| (inp.qbar / (inp.alpha * s).max(1e-12)).clamp(inp.x_lo, inp.x_hi)).collect();
    let q_a: Vec<f64> = talent
        .iter()
        .zip(&ai_x)
        .map(|(&s, &x)| q_ai(s as f32, x as f32, inp.alpha as f32, inp.qbar as f32) as f64)
        .collect();
    // Goods: human good per class, AI good per class below the ceiling, one AI good at it.
    let at_ceiling = |q: f64| q >= inp.qbar * (1.0 - 1e-6);
    let mut goods: Vec<Good> = Vec::new();
    let theta_mid = 0.5 * (inp.theta_lo + inp.theta_hi);
    let mut human_good = vec![0usize; k];
    let mut ai_good = vec![0usize; k];
    let mut bunch = None;
    for c in 0..k {
        human_good[c] = goods.len();
        let q = talent[c];
        goods.push(Good {
            q,
            supply: 0.0,
            floor: (inp.c_h - inp.subsidy).max(0.0),
            price: theta_mid * q,
            demand: 0.0,
            theta_sum: 0.0,
            ai: false,
        });
    }
    for c in 0..k {
        if at_ceiling(q_a[c]) {
            ai_good[c] = *bunch.get_or_insert_with(|| {
                goods.push(Good {
                    q: inp.qbar,
                    supply: 0.0,
                    floor: inp.ai_floor,
                    price: theta_mid * inp.qbar,
                    demand: 0.0,
                    theta_sum: 0.0,
                    ai: true,
                });
                goods.len() - 1
            });
        } else {
            ai_good[c] = goods.len();
            goods.push(Good {
                q: q_a[c],
                supply: 0.0,
                floor: inp.ai_floor,
                price: theta_mid * q_a[c],
                demand: 0.0,
                theta_sum: 0.0,
                ai: true,
            });
        }
    }
    // Start from everyone human (the pre-shock state) with a little of each segment.
    let mut share: Vec<[f64; 3]> = vec![[0.05, 0.05, 0.9]; k];
    let mut volume = vec![(cfg.technology.ai_volume_init as f64).min(inp.vmax); k];
    let mut ai_unit_share = 0.0;
    let mut profit = vec![[0.0; 3]; k];
    let iters = opts.iterations.max(10);
    let tau_start = (0.2 * theta_mid).max(opts.noise);
    let mut residual_choice = 0.0;
    let mut tau = tau_start;
    for it in 0..iters {
        let frac = it as f64 / iters as f64;
        // Anneal buyers' noise down and creators' precision up, geometrically over the
        // first 70% of the iterations; the rest settles at the final values.
        let a = (frac / 0.7).min(1.0);
        let beta = beta_start * (beta_end / beta_start).powf(a);
        tau = tau_start * (opts.noise / tau_start).powf(a);
        // Supply of each good (units offered per creator).
        for g in goods.iter_mut() {
            g.supply = 0.0;
        }
        for c in 0..k {
            goods[human_good[c]].supply += mass * share[c][2];
            goods[ai_good[c]].supply += mass * share[c][1] * volume[c];
        }
        // Tatonnement, the price rule's expectation: price *= exp(kappa (D/S - rbar)),
        // with a step small against the demand's sensitivity p / tau.
        for _ in 0..opts.price_iters.max(1) {
            demand(&mut goods, &inp, tau, opts.atoms);
            for g in goods.iter_mut() {
                if g.supply <= 0.0 {
                    continue;
                }
                let kappa = (0.5 * tau / g.price.max(tau)).min(0.2);
                let excess = (g.demand / g.supply - rbar).clamp(-1.0, 1.0);
                g.price = (g.price * (kappa * excess).exp()).max(g.floor);
            }
        }
        // Sell-through a creator of the good expects: demand over supply, at most one.
        let sold = |g: &Good| if g.supply > 0.0 { (g.demand / g.supply).min(1.0) } else { rbar };
        // Profits and the smoothed best response; AI volume by the ABM's margin rule.
        residual_choice = 0.0;
        for c in 0..k {
            let gh = &goods[human_good[c]];
            let ga = &goods[ai_good[c]];
            let (rh, ra) = (sold(gh), sold(ga));
            let pi_h = rh * (gh.price - inp.c_h + inp.subsidy);
            let m_a = ra * (ga.price - inp.fee) - c_ai - inp.unit_tax;
            volume[c] = (volume[c] * (0.5 * m_a / ga.price.max(0.05)).clamp(-0.5, 0.5).exp()).clamp(1.0, inp.vmax);
            let pi_a = volume[c] * m_a - f_ai - inp.adoption_tax;
            profit[c] = [0.0, pi_a, pi_h];
            let p = crate::model::market::logit_probs(profit[c], beta);
            // Damped: the response's slope grows with beta, so the step shrinks with it.
            let step = 0.05 * (beta_start / beta).min(1.0);
            for m in 0..3 {
                share[c][m] += step * (p[m] - share[c][m]);
            }
            let best = profit[c].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let got: f64 = (0..3).map(|m| share[c][m] * profit[c][m]).sum();
            residual_choice = f64::max(residual_choice, best - got);
        }
        // Novelty premium at the fixed point: A is the AI share of units offered.
        let units_ai: f64 = (0..k).map(|c| mass * share[c][1] * volume[c]).sum();
        let units_h: f64 = (0..k).map(|c| mass * share[c][2]).sum();
        ai_unit_share = if units_ai + units_h > 0.0 { units_ai / (units_ai + units_h) } else { 0.0 };
    }
    // Final accounting at the rest point.
    for g in goods.iter_mut() {
        g.supply = 0.0;
    }
    for c in 0..k {
        goods[human_good[c]].supply += mass * share[c][2];
        goods[ai_good[c]].supply += mass * share[c][1] * volume[c];
    }
    demand(&mut goods, &inp, tau, opts.atoms);
    let mut residual_market: f64 = 0.0;
    for g in &goods {
        if g.supply > 1e-9 && g.price > g.floor * (1.0 + 1e-6) + 1e-9 {
            residual_market = residual_market.max((g.demand / g.supply - rbar).abs());
        }
    }
    let w = execution_weight(inp.omega0 as f32, inp.novelty as f32, ai_unit_share as f32) as f64;
    let x_h = (1.0 - w).clamp(inp.x_lo, inp.x_hi);
    let inv_z = 1.0 / z_of(w as f32) as f64;
    let hfac = (1.0 - x_h).powf(w) * x_h.powf(1.0 - w) * inv_z;
    let mut out = StaticEquilibrium {
        c_ai,
        f_ai,
        sell_through_target: rbar,
        talent: talent.clone(),
        share: share.clone(),
        profit: profit.clone(),
        volume: volume.clone(),
        w,
        ai_unit_share,
        residual_market,
        residual_choice,
        ..Default::default()
    };
    let sold_of = |g: &Good| if g.supply > 0.0 { (g.demand / g.supply).min(1.0) } else { 0.0 };
    let mut units = [0.0; 2];
    let mut sold_units = [0.0; 2];
    let mut cs = 0.0;
    let mut ps = 0.0;
    let mut provider = 0.0;
    let mut tax = 0.0;
    let mut subsidy = 0.0;
    for c in 0..k {
        let gh = &goods[human_good[c]];
        let ga = &goods[ai_good[c]];
        out.quality.push([q_a[c], talent[c] * hfac]);
        out.creative.push([ai_x[c], x_h]);
        out.price.push([ga.price, gh.price]);
        out.sold_share.push([sold_of(ga), sold_of(gh)]);
        let (sa, sh) = (mass * share[c][1], mass * share[c][2]);
        units[0] += sa * volume[c];
        units[1] += sh;
        let (ra, rh) = (sold_of(ga), sold_of(gh));
        sold_units[0] += sa * volume[c] * ra;
        sold_units[1] += sh * rh;
        // Creators' profit net of taxes, with subsidies; providers earn the fee.
        ps += sh * rh * (gh.price - inp.c_h + inp.subsidy)
            + sa * (volume[c] * (ra * (ga.price - inp.fee) - c_ai - inp.unit_tax) - f_ai - inp.adoption_tax);
        provider += sa * volume[c] * ra * inp.fee;
        tax += sa * (volume[c] * inp.unit_tax + inp.adoption_tax);
        subsidy += sh * rh * inp.subsidy;
    }
    // Consumer surplus: each good's buyers get theta q_true - p; only the sold share of
    // demand is served when demand exceeds supply (the rest of the interval is rationed
    // at random among it). Junk AI units have true quality 0.
    for g in &goods {
        if g.demand <= 0.0 {
            continue;
        }
        let served = g.demand.min(g.supply) / g.demand;
        let q_true = if g.ai { g.q * (1.0 - inp.junk) } else { g.q };
        cs += served * (g.theta_sum * q_true - g.demand * g.price);
    }
    let nb = inp.buyers_per_creator.max(1e-12);
    // Congestion: the stock's rest point under a constant flow of AI units per buyer.
    let d_a = crate::model::dynamics::congestion_rest(inp.cong_decay, units[0] / nb);
    out.congestion = inp.pollution * (1.0 + inp.cong_eta * d_a).ln();
    out.cs = cs / nb - out.congestion;
    out.ps = (ps + provider) / nb;
    out.tax = tax / nb;
    out.subsidy = subsidy / nb;
    out.welfare = out.cs + out.ps + out.tax - out.subsidy;
    out.units_per_buyer = [units[0] / nb, units[1] / nb];
    out.sold_per_buyer = [sold_units[0] / nb, sold_units[1] / nb];
    out.matched = (sold_units[0] + sold_units[1]) / nb;
    for m in 0..3 {
        out.shares[m] = share.iter().map(|s| s[m] * mass).sum();
    }
    // Cut-offs on the frontier max(0, pi_A, pi_H), to the resolution 2 / beta of the
    // smoothed best response: AI entry from the lowest talent at which AI breaks even;
    // human craft from the lowest talent above which it strictly beats both AI and exit.
    let eps = 2.0 / beta_end;
    out.cut_exit_ai = (0..k).find(|&c| profit[c][1] >= -eps || profit[c][2] > eps).map_or(f64::NAN, |c| talent[c]);
    out.cut_ai_human =
        (0..k).rev().take_while(|&c| profit[c][2] > profit[c][1].max(0.0) + eps).last().map_or(f64::NAN, |c| talent[c]);
    // What each taste buys.
    let nth = 101;
    for i in 0..nth {
        let th = inp.theta_lo + (inp.theta_hi - inp.theta_lo) * i as f64 / (nth - 1) as f64;
        let best = goods
            .iter()
            .filter(|g| g.supply > 1e-12)
            .map(|g| (th * g.q - g.price, g))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        out.theta.push(th);
        match best {
            Some((v, g)) if v > 0.0 => {
                out.theta_quality.push(g.q);
                out.theta_price.push(g.price);
            }
            _ => {
                out.theta_quality.push(f64::NAN);
                out.theta_price.push(f64::NAN);
            }
        }
    }
    out
}

/// The profit frontier max(0, pi_A, pi_H) by class.
pub fn frontier(eq: &StaticEquilibrium) -> Vec<f64> {
    eq.profit.iter().map(|p| p[0].max(p[1]).max(p[2])).collect()
}

/// Units by nominal quality on [0, q_max) in `bins` bins, by channel (AI, human), per
/// creator: offered (`sold = false`) or sold (`sold = true`, the distribution buyers
/// consume). Each class is spread over 16 sub-quantiles of talent so the histogram shows
/// the talent density rather than the class grid.
pub fn quality_histogram(
    eq: &StaticEquilibrium,
    q_max: f64,
    bins: usize,
    sold: bool,
    talent_sigma: f64,
    alpha: f64,
    qbar: f64,
) -> [Vec<f64>; 2] {
    let mut h = [vec![0.0; bins], vec![0.0; bins]];
    let k = eq.talent.len().max(1);
    const SUB: usize = 16;
    let mass = 1.0 / (k * SUB) as f64;
    let bin = |q: f64| ((q / q_max * bins as f64).floor().max(0.0) as usize).min(bins - 1);
    for c in 0..eq.talent.len() {
        let hfac = eq.quality[c][1] / eq.talent[c];
        for i in 0..SUB {
            let s = (talent_sigma * norm_ppf((c as f64 + (i as f64 + 0.5) / SUB as f64) / k as f64)).exp();
            let (ra, rh) = if sold { (eq.sold_share[c][0], eq.sold_share[c][1]) } else { (1.0, 1.0) };
            let qa = (alpha * s * eq.creative[c][0]).min(qbar);
            h[0][bin(qa)] += mass * eq.share[c][1] * eq.volume[c] * ra;
            h[1][bin(s * hfac)] += mass * eq.share[c][2] * rh;
        }
    }
    h
}

/// The equilibrium before the shock (pre-shock AI costs) and after it.
pub fn pre_and_post(cfg: &Config, opts: &StaticOptions) -> (StaticEquilibrium, StaticEquilibrium) {
    let ((c0, f0), (c1, f1)) = costs_pre_post(cfg);
    (solve(cfg, c0, f0, opts), solve(cfg, c1, f1, opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inp() -> Inputs {
        let mut cfg = Config::default();
        cfg.top.creators = 1;
        cfg.top.buyers = 1;
        cfg.market.theta_lo = 0.0;
        cfg.market.theta_hi = 2.0;
        Inputs::of(&cfg)
    }

    fn good(q: f64, price: f64) -> Good {
        Good { q, supply: 1.0, floor: 0.0, price, demand: 0.0, theta_sum: 0.0, ai: false }
    }

    #[test]
    fn sharp_demand_splits_tastes_along_the_upper_envelope() {
        // Lines t q - p: (1, 0.5) from t = 0.5; (2, 1.5) from t = 1.0 on.
        let mut g = vec![good(1.0, 0.5), good(2.0, 1.5)];
        demand(&mut g, &inp(), 1e-4, 20_000);
        assert!((g[0].demand - 0.25).abs() < 1e-3, "{:?}", g[0]);
        assert!((g[1].demand - 0.5).abs() < 1e-3, "{:?}", g[1]);
        // A dominated good (same quality, dearer) gets (almost) nothing.
        let mut g = vec![good(1.0, 0.5), good(1.0, 0.6), good(2.0, 1.5)];
        demand(&mut g, &inp(), 1e-4, 20_000);
        assert!(g[1].demand < 1e-6, "{:?}", g[1]);
        assert!((g[0].demand - 0.25).abs() < 1e-3);
    }

    #[test]
    fn normal_helpers_invert_each_other_to_machine_precision() {
        for &p in &[1e-12, 0.001, 0.02425, 0.1, 0.5, 0.8, 0.97575, 0.999, 1.0 - 1e-9] {
            let x = norm_ppf(p);
            assert!((norm_cdf(x) - p).abs() <= 1e-13 * p.min(1.0 - p), "p {p}: {}", norm_cdf(x));
        }
        // Known values: Phi(1.96) and the median.
        assert!((norm_cdf(1.959963984540054) - 0.975).abs() < 1e-15);
        assert_eq!(norm_ppf(0.5), 0.0);
    }
}
