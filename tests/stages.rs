//! Each stage of the step on a tiny hand-built market, against values worked out by hand.

use hollow::backend::{Backend, cpu::CpuBackend};
use hollow::model::technology::{q_human, z_of};
use hollow::rng;
use hollow::state::*;

/// Four creators (AI, human, AI, exit) and three buyers.
fn tiny() -> State {
    let mut s = State::default();
    let c = &mut s.creators;
    c.talent = vec![1.0, 2.0, 1.5, 0.5];
    c.x = vec![0.5, 0.4, 0.2, 0.4];
    c.mode = vec![AI, HUMAN, AI, EXIT];
    c.provider = vec![0, 0, 1, 0];
    c.vol = vec![2.0, 1.0, 3.0, 1.0];
    c.offer = vec![[0.0, 0.5], [0.0, 1.0], [0.0, 0.4], [0.0, 0.3]];
    c.cap = vec![0; 4];
    c.offset = vec![0; 4];
    c.sold = vec![0; 4];
    c.revenue = vec![0.0; 4];
    c.qvals = vec![[0.0; 4]; 4];
    c.reskill = vec![0; 4];
    let b = &mut s.buyers;
    b.theta = vec![1.0, 1.2, 0.8];
    b.util = vec![0.1; 3];
    b.d = vec![0.0; 3];
    b.exp = vec![[0.0; 2]; 3];
    b.active = vec![1, 1, 0];
    b.proposal = vec![NONE; 3];
    b.bought = vec![NONE; 3];
    b.searches = vec![0; 3];
    b.gain = vec![[0.0; 2]; 3];
    s
}

fn params() -> StepParams {
    let w = 0.6;
    StepParams {
        key: rng::key_of(42),
        step: 7,
        n_creators: 4,
        n_buyers: 3,
        k: 4,
        bins: 8,
        w,
        inv_z: 1.0 / z_of(w),
        alpha_a: 2.0,
        qbar_a: 0.8,
        x_lo: 0.05,
        x_hi: 0.95,
        c_ai: 0.02,
        f_ai: 0.3,
        api_fee: 0.02,
        c_human: 0.3,
        ai_volume_max: 64.0,
        vol_speed: 0.2,
        junk_share: 0.0,
        sigma: 0.0,
        h_share: 0.5,
        label_accuracy: 1.0,
        search_cost: 0.01,
        lam_c: 0.5,
        eps_c: 0.0,
        lam_u: 0.5,
        price_speed: 0.1,
        q_max: 4.0,
        x_grid: 19,
        n_providers: 2,
        ai_volume_init: 4.0,
        // No platform floor above the fee here (the fee binds); entrants expect the initial
        // volume, as before any AI creator has existed.
        ai_floor: 0.02,
        vol_expect: 4.0,
        ..Default::default()
    }
}

#[test]
fn offers_give_quality_by_mode_and_capacity_by_volume() {
    let p = params();
    let mut be = CpuBackend::new(tiny(), 1);
    be.offers(&p);
    let s = be.state();
    let c = &s.creators;
    // AI: min(qbar, alpha S x) = min(0.8, 2*1*0.5) = 0.8 and min(0.8, 2*1.5*0.2) = 0.6.
    assert_eq!(c.offer[0][0], 0.8);
    assert!((c.offer[2][0] - 0.6).abs() < 1e-6);
    // Human at x = 1 - w: quality equals talent.
    assert!((c.offer[1][0] - 2.0).abs() < 1e-5);
    assert!((c.offer[3][0] - q_human(0.5, 0.4, 0.6, p.inv_z)).abs() < 1e-6);
    // Capacity: floor(v + U) is v or v + 1 for integer v; human 1; exit 0.
    assert!(c.cap[0] == 2 || c.cap[0] == 3);
    assert!(c.cap[2] == 3 || c.cap[2] == 4);
    assert_eq!((c.cap[1], c.cap[3]), (1, 0));
    assert!(c.sold.iter().all(|&s| s == 0));
}

#[test]
fn scan_lays_out_units_by_channel_in_creator_order() {
    let p = params();
    let mut s = tiny();
    s.creators.vol = vec![2.0, 1.0, 3.0, 1.0];
    let mut be = CpuBackend::new(s, 2);
    be.offers(&p);
    let caps = be.state().creators.cap;
    let (n_ai, n_h) = be.scan(&p);
    assert_eq!(n_ai, caps[0] + caps[2]);
    assert_eq!(n_h, 1);
    let st = be.state();
    assert_eq!(st.creators.offset[0], 0);
    assert_eq!(st.creators.offset[2], caps[0]);
    assert_eq!(st.creators.offset[1], 0);
    let (owner, claim) = be.units();
    let mut expect = vec![0u32; caps[0] as usize];
    expect.extend(vec![2u32; caps[2] as usize]);
    expect.push(1);
    assert_eq!(owner, expect);
    assert!(claim.iter().all(|&k| k == CLAIM_EMPTY));
}

/// One human unit, two active buyers who both want it: the smaller permuted key wins.
#[test]
fn a_contested_unit_goes_to_the_smaller_buyer_key_and_only_once() {
    let mut p = params();
    let mut s = tiny();
    s.creators.mode = vec![EXIT, HUMAN, EXIT, EXIT];
    s.creators.offer[1][1] = 0.5; // price below theta * q for both buyers
    s.buyers.active = vec![1, 1, 0];
    let mut be = CpuBackend::new(s, 2);
    be.offers(&p);
    let (n_ai, n_h) = be.scan(&p);
    assert_eq!((n_ai, n_h), (0, 1));
    p.n_ai_units = n_ai;
    p.n_human_units = n_h;
    p.perm_key = rng::perm_key(p.key, p.step, 0);
    be.search(&p);
    let st = be.state();
    assert_eq!(st.buyers.proposal, vec![n_ai, n_ai, NONE], "both propose to the only unit");
    let (_, claim) = be.units();
    let k0 = rng::claim_key(0, p.perm_key);
    let k1 = rng::claim_key(1, p.perm_key);
    assert_eq!(claim[0], k0.min(k1));
    be.resolve(&p);
    let st = be.state();
    let winner = if k0 < k1 { 0 } else { 1 };
    assert_eq!(st.buyers.bought[winner], 1, "winner holds creator 1's unit");
    assert_eq!(st.buyers.bought[1 - winner], NONE);
    assert_eq!(st.creators.sold[1], 1);
    assert_eq!(be.units().1[0], CLAIM_SOLD);
    // Second round: the unit is sold, the loser finds nothing.
    p.round = 1;
    p.perm_key = rng::perm_key(p.key, p.step, 1);
    be.search(&p);
    be.resolve(&p);
    let st = be.state();
    assert_eq!(st.creators.sold[1], 1);
    assert_eq!(st.buyers.bought[1 - winner], NONE);
    assert_eq!(st.buyers.searches[1 - winner], 2);
    assert_eq!(st.buyers.searches[winner], 1);
}

#[test]
fn buyers_accounts_and_reduce_agree_with_hand_values() {
    let mut p = params();
    let mut s = tiny();
    s.creators.mode = vec![EXIT, HUMAN, EXIT, EXIT];
    s.creators.offer[1][1] = 0.5;
    s.buyers.active = vec![1, 0, 0];
    let mut be = CpuBackend::new(s, 1);
    be.offers(&p);
    let (n_ai, n_h) = be.scan(&p);
    p.n_ai_units = n_ai;
    p.n_human_units = n_h;
    p.perm_key = rng::perm_key(p.key, p.step, 0);
    be.search(&p);
    be.resolve(&p);
    be.buyers(&p);
    let st = be.state();
    // Buyer 0 (theta 1) bought quality 2.0 at 0.5 after one round of k = 4 samples.
    let u = 1.0 * 2.0 - 0.5 - 4.0 * 0.01;
    assert!((st.buyers.gain[0][0] - u).abs() < 1e-5);
    assert_eq!(st.buyers.gain[0][1], 0.5);
    assert!((st.buyers.util[0] - (0.1 + 0.5 * (u - 0.1))).abs() < 1e-5);
    assert!((st.buyers.exp[0][0] - 0.5 * (2.0 - 0.5)).abs() < 1e-5);
    assert_eq!(st.buyers.gain[1], [0.0, 0.0], "inactive buyer neither pays nor gains");
    be.accounts(&p);
    let st = be.state();
    assert_eq!(st.creators.revenue[1], 0.5);
    assert!((st.creators.offer[1][1] - 0.5 * 0.1f32.exp()).abs() < 1e-6, "sold out: price rises");
    let t = be.reduce(&p, &[f32::INFINITY; 9]);
    assert_eq!(t.mode_count, [3, 0, 1]);
    assert_eq!((t.offered, t.sold), ([0, 1], [0, 1]));
    assert_eq!((t.active, t.matched), (1, 1));
    assert!((t.profit - (0.5 - 0.3)).abs() < 1e-6);
    assert!((t.utility - u as f64).abs() < 1e-5);
    let bin = hollow::model::market::bin_of(2.0, 4.0, 8) as usize;
    assert_eq!(t.hist.cells[8 + bin], [1.0, 1.0, 0.5]);
}

#[test]
fn decide_with_sharp_logit_takes_the_more_profitable_mode_and_drifts_skill() {
    let mut p = params();
    p.revise = 1.0;
    p.logit = 1e4;
    p.eta = 0.5;
    let mut s = tiny();
    s.creators.mode = vec![HUMAN; 4];
    s.creators.x = vec![0.2; 4];
    let mut be = CpuBackend::new(s, 1);
    // Curves: human units sell for 2.0 at every quality, AI units never sell.
    let mut rp = vec![[0.0f32, 0.0]; 8];
    rp.extend(vec![[1.0f32, 2.0]; 8]);
    be.decide(&p, &rp);
    let st = be.state();
    assert!(st.creators.mode.iter().all(|&m| m == HUMAN), "human pays 1.7 > 0 > AI");
    // All bins price alike, so every grid x ties with the current one: x stays.
    assert!(st.creators.x.iter().all(|&x| (x - 0.2).abs() < 1e-6));
    // Now AI sells everything at 1.0 in every bin and human nothing: everyone adopts AI,
    // starting at the AI curve's price with the volume entrants expect and a provider.
    let mut rp = vec![[1.0f32, 1.0]; 8];
    rp.extend(vec![[0.0f32, 0.0]; 8]);
    be.decide(&p, &rp);
    let st = be.state();
    assert!(st.creators.mode.iter().all(|&m| m == AI));
    assert!(st.creators.offer.iter().all(|o| o[1] == 1.0));
    assert!(st.creators.vol.iter().all(|&v| v == 4.0));
    assert!(st.creators.provider.iter().all(|&v| v < 2));
}

#[test]
fn decide_moves_human_skill_toward_the_quality_maximising_split() {
    let mut p = params();
    p.eta = 1.0;
    let mut s = tiny();
    s.creators.mode = vec![HUMAN; 4];
    s.creators.x = vec![0.1; 4];
    s.creators.talent = vec![1.0; 4];
    let mut be = CpuBackend::new(s, 1);
    // Price rises with the quality bin, so the best x maximises q_H: x* = 1 - w = 0.4.
    let mut rp = vec![[0.0f32, 0.0]; 8];
    rp.extend((0..8).map(|b| [1.0f32, 0.5 + b as f32]));
    be.decide(&p, &rp);
    let st = be.state();
    let grid: Vec<f32> = (0..19).map(|g| 0.05 + 0.9 * g as f32 / 18.0).collect();
    for &x in &st.creators.x {
        // The grid point that reaches the best bin first (ties keep the earliest).
        assert!(grid.iter().any(|&g| (g - x).abs() < 1e-6), "x = {x} is a grid point");
        assert!(x > 0.1, "moved toward creativity: {x}");
        let q = q_human(1.0, x, 0.6, p.inv_z);
        assert_eq!(hollow::model::market::bin_of(q, 4.0, 8), hollow::model::market::bin_of(1.0, 4.0, 8));
    }
}

#[test]
fn ai_prices_stop_at_the_platform_floor_and_volume_takes_the_strain() {
    let mut p = params();
    p.ai_floor = 0.15;
    let mut s = tiny();
    s.creators.mode = vec![AI; 4];
    s.creators.offer = vec![[0.8, 0.151]; 4];
    s.creators.vol = vec![10.0; 4];
    s.creators.cap = vec![10, 10, 10, 10];
    // Sell-through 0.1, 0.2, 0.5, 1.0: the price rule pushes the first two down, onto the floor.
    s.creators.sold = vec![1, 2, 5, 10];
    let mut be = CpuBackend::new(s, 1);
    be.accounts(&p);
    let st = be.state();
    let price: Vec<f32> = st.creators.offer.iter().map(|o| o[1]).collect();
    assert_eq!(&price[..2], &[0.15, 0.15], "never below max(api_fee, ai_price_floor)");
    assert!(price[3] > 0.151);
    // On the floor, volume shrinks where r (floor - fee) < c_A and grows where it exceeds it:
    // r = 0.1 gives 0.013 - 0.02 < 0, r = 0.2 gives 0.026 - 0.02 > 0.
    assert!(st.creators.vol[0] < 10.0 && st.creators.vol[1] > 10.0, "{:?}", st.creators.vol);
}

#[test]
fn entrants_expect_the_volume_ai_creators_produce() {
    let mut p = params();
    p.revise = 1.0;
    p.logit = 1e4;
    let mut s = tiny();
    s.creators.mode = vec![HUMAN, HUMAN, AI, AI];
    s.creators.vol = vec![4.0, 4.0, 2.0, 40.0];
    let mut be = CpuBackend::new(s, 1);
    // AI margin per unit m = 0.5 (0.52 - fee) - c_A = 0.23 against F_A = 0.3; human units
    // sell at a price below their cost (expected human profit -0.3).
    let mut rp = vec![[0.5f32, 0.52]; 8];
    rp.extend(vec![[1.0f32, 0.0]; 8]);
    // Entrants expect one unit: 0.23 - 0.3 < 0, exit beats AI for the human creators.
    p.vol_expect = 1.0;
    be.decide(&p, &rp);
    let st = be.state();
    assert_eq!(&st.creators.mode[..2], &[EXIT, EXIT], "one expected unit does not cover F_A");
    // The AI creators judge by their own volume: 2 x 0.23 > 0.3 and 40 x 0.23 > 0.3, they stay.
    assert_eq!(&st.creators.mode[2..], &[AI, AI]);
    // Expecting what incumbents produce (8 units) makes entry pay, and the entrant starts there.
    let mut s = tiny();
    s.creators.mode = vec![HUMAN; 4];
    let mut be = CpuBackend::new(s, 1);
    p.vol_expect = 8.0;
    be.decide(&p, &rp);
    let st = be.state();
    assert!(st.creators.mode.iter().all(|&m| m == AI));
    assert!(st.creators.vol.iter().all(|&v| v == 8.0));
}
