//! Accounting invariants checked after every step of a shock run: units sold never exceed
//! capacity, each sold unit has exactly one buyer, money paid equals revenue received,
//! mode shares sum to one, and nothing is NaN.

mod common;
use common::*;
use hollow::observe::{METRICS, Recorder};
use hollow::state::{CLAIM_SOLD, ID_MASK, NONE};

#[test]
fn accounting_invariants_hold_every_step() {
    let mut cfg = small(2000, 4000, 60, 15);
    cfg.market.rounds = 3;
    let mut sim = cpu_sim(&cfg, 2);
    let mut rec = Recorder::new();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut saw_ai_sales = false;
    for t in 0..cfg.top.steps {
        sim.run(t + 1, &mut rec, &stop, |_| {});
        let st = sim.backend().state();
        let (owner, claim) = sim.backend().units();
        let c = &st.creators;
        let b = &st.buyers;
        // Units sold never exceed capacity.
        for i in 0..c.len() {
            assert!(c.sold[i] <= c.cap[i], "step {t}: creator {i} sold {} of {}", c.sold[i], c.cap[i]);
        }
        // Sold units = buyers with a purchase = sum of sold counts; each buyer holds one unit.
        let sold_units = claim.iter().filter(|&&k| k == CLAIM_SOLD).count();
        let buyers_matched = b.bought.iter().filter(|&&x| x != NONE).count();
        let sold_sum: u64 = c.sold.iter().map(|&s| s as u64).sum();
        assert_eq!(sold_units, buyers_matched, "step {t}");
        assert_eq!(sold_units as u64, sold_sum, "step {t}");
        // Every purchase points at a creator that sold at least that many units.
        let mut per_creator = vec![0u32; c.len()];
        for &x in &b.bought {
            if x != NONE {
                per_creator[(x & ID_MASK) as usize] += 1;
            }
        }
        assert_eq!(per_creator, c.sold, "step {t}: purchases by creator");
        assert_eq!(owner.len(), c.cap.iter().map(|&k| k as usize).sum::<usize>());
        // Money paid by buyers = revenue received by creators.
        let paid: f64 = b.gain.iter().map(|g| g[1] as f64).sum();
        let revenue: f64 = c.revenue.iter().map(|&r| r as f64).sum();
        assert!((paid - revenue).abs() <= 1e-4 * revenue.max(1.0), "step {t}: paid {paid} revenue {revenue}");
        saw_ai_sales |= b.bought.iter().any(|&x| x != NONE && x & hollow::state::AI_BIT != 0);
        // No NaN anywhere in the state.
        assert!(c.x.iter().chain(&c.vol).chain(&c.revenue).all(|v| v.is_finite()), "step {t}");
        assert!(c.offer.iter().all(|o| o[0].is_finite() && o[1].is_finite()), "step {t}");
        assert!(b.util.iter().chain(&b.d).all(|v| v.is_finite()), "step {t}");
    }
    assert!(saw_ai_sales, "the shock run should sell AI units");
    // Shares sum to one and no metric is NaN.
    let (e, a, h) = (rec.get("share_exit").unwrap(), rec.get("share_ai").unwrap(), rec.get("share_human").unwrap());
    for t in 0..rec.len() {
        assert!((e[t] + a[t] + h[t] - 1.0).abs() < 1e-12, "step {t}");
    }
    for (i, m) in METRICS.iter().enumerate() {
        assert!(rec.series(i).iter().all(|v| v.is_finite()), "metric {} has NaN/inf", m.name);
    }
}

/// `hollow bench`'s bounds count Philox blocks from the step's totals (`StepCounts`): the
/// AI creators for `offers`, the inactive buyers for `buyers`. Those must be the agents that
/// drew, counted before the step from the state (no re-skilling here, so exactly).
#[test]
fn bench_counts_the_draws_the_stages_make() {
    let mut cfg = small(2000, 4000, 40, 10);
    cfg.market.rounds = 3;
    let mut sim = cpu_sim(&cfg, 2);
    let mut checked_inactive = false;
    for t in 0..cfg.top.steps {
        let st = sim.backend().state();
        let ai = st.creators.mode.iter().filter(|&&m| m == hollow::model::params::AI).count();
        let inactive = st.buyers.active.iter().filter(|&&a| a == 0).count();
        let (s, _) = sim.step();
        let c = hollow::backend::StepCounts::of(&sim.last_params, &s.totals, cfg.market.rounds);
        assert_eq!(c.offer_draws, ai as f64, "step {t}: offers' draws");
        assert_eq!(c.buyer_draws, inactive as f64, "step {t}: buyers' draws");
        assert!(c.proposals <= c.samples, "step {t}: proposals {} > samples {}", c.proposals, c.samples);
        checked_inactive |= inactive > 0 && inactive < st.buyers.len();
    }
    assert!(checked_inactive, "no step had both active and inactive buyers: the test checked nothing");
}

/// The CPU keeps each human creator's quality factor from step to step while its x keeps
/// its bits (two `powf` saved): every quality `offers` posts must still be exactly the
/// nominal quality at the x and mode the creator had when it posted, through a shock in
/// which many creators move x and many do not.
#[test]
fn offered_qualities_are_the_nominal_ones_at_the_step_s_x() {
    use hollow::model::rules::nominal_quality;
    let cfg = small(2000, 4000, 40, 10);
    let mut sim = cpu_sim(&cfg, 2);
    let mut rec = Recorder::new();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut kept, mut moved) = (0usize, 0usize);
    for t in 0..cfg.top.steps {
        let before = sim.backend().state().creators;
        sim.run(t + 1, &mut rec, &stop, |_| {});
        let after = sim.backend().state().creators;
        let p = sim.last_params;
        for i in 0..before.len() {
            let q = nominal_quality(before.mode[i], before.talent[i], before.x[i], &p);
            assert_eq!(after.offer[i][0].to_bits(), q.to_bits(), "step {t}: creator {i}'s quality");
            let same = before.x[i].to_bits() == after.x[i].to_bits();
            kept += usize::from(same && before.mode[i] != hollow::state::AI);
            moved += usize::from(!same);
        }
    }
    // Both paths taken often: factors kept, and x moved (so a stale factor would show).
    assert!(kept > 10 * 2000 && moved > 2000, "kept {kept}, moved {moved}");
}
