//! Unit tests of the per-agent rules.

use super::*;

fn params() -> StepParams {
    StepParams {
        c_human: 0.3,
        api_fee: 0.02,
        c_ai: 0.02,
        f_ai: 0.3,
        price_speed: 0.1,
        vol_speed: 0.2,
        ai_volume_max: 64.0,
        k: 4,
        search_cost: 0.01,
        lam_c: 0.5,
        lam_u: 0.5,
        lam_d: 0.1,
        ai_floor: 0.15,
        vol_expect: 6.0,
        ..Default::default()
    }
}

#[test]
fn human_accounts_by_hand() {
    let p = params();
    // Sold its one unit at 1.0: profit 1.0 - 0.3, price rises by exp(0.1).
    let (rev, price, _) = account(HUMAN, 1.0, 1.0, 1, 1, &p);
    assert!((rev as f64 - cost_of(HUMAN, 1, 1, &p) - 0.7).abs() < 1e-6);
    assert!((price - 0.1f32.exp()).abs() < 1e-6);
    // Unsold: price falls, never below the cost of a sale.
    let (rev, price, _) = account(HUMAN, 0.31, 1.0, 1, 0, &p);
    assert_eq!(rev, 0.0);
    assert_eq!(price, 0.3);
}

#[test]
fn ai_accounts_by_hand() {
    let p = params();
    // 10 units generated, 4 sold at 0.5: revenue 2.0, costs 0.3 + 0.02*10 + 0.02*4.
    let (rev, _, vol) = account(AI, 0.5, 10.0, 10, 4, &p);
    assert!((rev as f64 - cost_of(AI, 10, 4, &p) - (2.0 - 0.3 - 0.2 - 0.08)).abs() < 1e-6);
    // Margin 0.4 * 0.48 - 0.02 = 0.172 > 0: volume grows by exp(0.2 * 0.172 / 0.5).
    assert!((vol - 10.0 * (0.2f32 * 0.172 / 0.5).exp()).abs() < 1e-4);
}

#[test]
fn ai_capacity_rounds_volume_randomly_within_bounds() {
    assert_eq!(capacity(AI, 3.0, || 0, 64.0), 3);
    assert_eq!(capacity(AI, 3.5, || u32::MAX, 64.0), 4);
    assert_eq!(capacity(AI, 0.2, || 0, 64.0), 1);
    assert_eq!(capacity(HUMAN, 9.0, || 0, 64.0), 1);
    assert_eq!(capacity(EXIT, 9.0, || 0, 64.0), 0);
}

#[test]
fn buyer_learns_from_a_purchase_and_pays_for_search() {
    let mut p = params();
    p.ai_present = 1;
    // theta 1, bought human quality 1.0 at 0.4 after one round: u = 0.6 - 4 * 0.01.
    let (util, active, exp, d, u, paid) =
        buyer_update(1.0, 0.0, true, [0.0, 0.0], 0.5, 1, Some((1.0, 0.4, false)), || 0, &p);
    assert!((u - 0.56).abs() < 1e-6);
    assert_eq!(paid, 0.4);
    assert!((util - 0.28).abs() < 1e-6);
    assert!(active);
    assert!((exp[0] - 0.3).abs() < 1e-6 && exp[1] == 0.0);
    assert!((d - 0.6).abs() < 1e-6, "human experience better: d rises");
}

#[test]
fn junk_is_never_drawn_for_human_units() {
    let p = StepParams { n_ai_units: 10, n_human_units: 10, junk_share: 1.0, ..Default::default() };
    assert!((0..10).all(|u| is_junk(u, &p)));
    assert!((10..20).all(|u| !is_junk(u, &p)));
}

fn qparams() -> StepParams {
    StepParams {
        q_alpha: 0.5,
        q_gamma: 0.9,
        q_epsilon: 0.0,
        reskill_steps: 4,
        reskill_cost: 0.05,
        reskill_delta: 0.2,
        x_lo: 0.05,
        x_hi: 0.95,
        n_providers: 3,
        bins: 4,
        q_max: 4.0,
        ..params()
    }
}

#[test]
fn q_learning_starts_by_valuing_staying_at_the_current_profit() {
    let p = qparams();
    let rp = vec![[0.5, 1.0]; 8];
    let d = decide_q(1.0, 0.4, HUMAN, 1.0, 1.0, 0, [0.0; 4], 0, 0.7, [u32::MAX; 4], &rp, &p);
    assert!((d.qvals[0] - 7.0).abs() < 1e-4, "{:?}", d.qvals);
    assert_eq!(d.d.mode, HUMAN, "greedy: stay");
    assert_eq!(d.reskill & RESKILL_INIT, RESKILL_INIT);
    // Next step a loss: Q(stay) moves halfway to -1 + 0.9 * 7.
    let d2 = decide_q(1.0, 0.4, HUMAN, 1.0, 1.0, 0, d.qvals, d.reskill, -1.0, [u32::MAX; 4], &rp, &p);
    assert!((d2.qvals[0] - (7.0 + 0.5 * (-1.0 + 6.3 - 7.0))).abs() < 1e-4, "{:?}", d2.qvals);
}

#[test]
fn re_skilling_moves_skill_to_creativity_over_its_spell_at_half_output() {
    let p = qparams();
    let rp = vec![[0.5, 1.0]; 8];
    // Q says re-skill: a spell of 4 steps starts.
    let word = RESKILL_INIT;
    let d = decide_q(1.0, 0.4, HUMAN, 1.0, 1.0, 0, [0.0, 1.0, 0.0, 0.0], word, 0.0, [u32::MAX; 4], &rp, &p);
    assert_eq!(reskill_left(d.reskill), 4);
    assert!((cost_with_reskill(HUMAN, 0, 0, d.reskill, &p) - 0.05).abs() < 1e-9, "charged with nothing to sell");
    let mut state = (0.4f32, d.reskill, d.qvals);
    for _ in 0..4 {
        let d = decide_q(1.0, state.0, HUMAN, 1.0, 1.0, 0, state.2, state.1, -0.05, [u32::MAX; 4], &rp, &p);
        state = (d.d.x, d.reskill, d.qvals);
    }
    assert!((state.0 - 0.6).abs() < 1e-5, "x moved by reskill_delta: {}", state.0);
    assert_eq!(reskill_left(state.1), 0);
    // Half output: a human unit half the time, half the AI volume.
    let n = (0..1000u32).filter(|&i| capacity_q(HUMAN, 1.0, || rng::hash32(i), 64.0, 3) == 1).count();
    assert!((400..600).contains(&n), "{n}");
    assert_eq!(capacity_q(AI, 10.0, || 0, 64.0, 3), 5);
    assert_eq!(capacity_q(AI, 10.0, || 0, 64.0, 0), 10);
}

/// `capacity_q` reads its random word in AI mode and for a human re-skilling at half output,
/// and for no one else: the draws `StepCounts::offer_draws` counts (its AI creators).
#[test]
fn capacity_reads_its_word_exactly_when_said() {
    let reads_word = |mode: u32, reskill: u32| mode == AI || (mode == HUMAN && reskill_left(reskill) > 0);
    for mode in [EXIT, AI, HUMAN] {
        for reskill in [0, 3, RESKILL_INIT, RESKILL_INIT | 2] {
            let read = std::cell::Cell::new(false);
            capacity_q(
                mode,
                5.5,
                || {
                    read.set(true);
                    7
                },
                64.0,
                reskill,
            );
            assert_eq!(read.get(), reads_word(mode, reskill), "mode {mode} reskill {reskill:#x}");
        }
    }
}

#[test]
fn human_cost_per_unit_produced_charges_an_unsold_unit() {
    let mut p = params();
    assert_eq!(cost_of(HUMAN, 1, 0, &p), 0.0, "per unit sold: an unsold unit costs nothing");
    p.human_cost_produced = 1;
    assert!((cost_of(HUMAN, 1, 0, &p) - 0.3).abs() < 1e-7, "per unit produced");
    assert!((cost_of(HUMAN, 1, 1, &p) - 0.3).abs() < 1e-7);
    assert_eq!(cost_of(HUMAN, 0, 0, &p), 0.0, "nothing produced (re-skilling at half output)");
    let q = StepParams { human_cost_produced: 0, ..p };
    assert_eq!(cost_of(AI, 10, 4, &p), cost_of(AI, 10, 4, &q), "AI costs do not depend on it");
}

#[test]
fn untried_actions_start_at_q_init_and_an_outside_option_is_known() {
    let mut p = qparams();
    p.q_init = 0.5;
    let rp = vec![[0.5, 1.0]; 8];
    let d = decide_q(1.0, 0.4, HUMAN, 1.0, 1.0, 0, [0.0; 4], 0, 0.7, [u32::MAX; 4], &rp, &p);
    assert_eq!(d.qvals, [0.7 / (1.0 - 0.9f32), 0.5, 0.5, 0.0], "no outside option: Q(exit) starts at 0");
    // From the shock on an outside option of 0.1 is worth 0.1 / (1 - 0.9) = 1 in exit.
    p.q_outside = 0.1;
    let q0 = [0.8, 0.5, 0.5, 0.0];
    let d = decide_q(1.0, 0.4, HUMAN, 1.0, 1.0, 0, q0, RESKILL_INIT, -0.3, [u32::MAX; 4], &rp, &p);
    assert!((d.qvals[3] - 1.0).abs() < 1e-6, "{:?}", d.qvals);
    assert!((d.qvals[0] - (0.8 + 0.5 * (-0.3 + 0.9 * 1.0 - 0.8))).abs() < 1e-6, "stay learns as before");
    assert_eq!(d.d.mode, EXIT, "Q(stay) below the outside option's value: greedy exit");
    // Ties go to the lower index: re-skill before adopt, both before exit.
    p.q_init = 1.0;
    let d = decide_q(1.0, 0.4, HUMAN, 1.0, 1.0, 0, q0, RESKILL_INIT, -0.3, [u32::MAX; 4], &rp, &p);
    assert_eq!(((d.reskill >> RESKILL_ACTION_SHIFT) & 3, d.d.mode), (Q_EXIT, EXIT), "q_init only at the first call");
    let q1 = [0.0, 1.0, 1.0, 0.0];
    let d = decide_q(1.0, 0.4, HUMAN, 1.0, 1.0, 0, q1, RESKILL_INIT, 0.0, [u32::MAX; 4], &rp, &p);
    assert_eq!((d.reskill >> RESKILL_ACTION_SHIFT) & 3, Q_RESKILL);
}

#[test]
fn reversible_stay_returns_ai_and_exited_creators_to_human_craft() {
    let mut p = qparams();
    let rp: Vec<[f32; 2]> = (0..8).map(|i| [0.5, 0.2 * (i + 1) as f32]).collect();
    let stay = [1.0, 0.0, 0.0, 0.0];
    // The paper's rule: stay keeps AI mode (adopting is for good).
    let d = decide_q(1.0, 0.4, AI, 0.3, 7.0, 2, stay, RESKILL_INIT, 0.5, [u32::MAX; 4], &rp, &p);
    assert_eq!((d.d.mode, d.d.price), (AI, 0.3));
    p.q_reversible = 1;
    for mode in [AI, EXIT] {
        let d = decide_q(1.0, 0.4, mode, 0.3, 7.0, 2, stay, RESKILL_INIT, 0.5, [u32::MAX; 4], &rp, &p);
        assert_eq!(d.d.mode, HUMAN, "stay is human craft");
        let q_h = nominal_quality(HUMAN, 1.0, 0.4, &p);
        let want = market::curve_at(&rp, p.bins, p.q_max, CH_HUMAN, q_h)[1].max(p.c_human);
        assert_eq!(d.d.price, want, "at the market price for its human quality");
        assert_eq!((d.d.vol, d.d.provider), (7.0, 2), "volume and provider kept");
    }
    // A human staying is unchanged; adopting and exit are as before.
    let d = decide_q(1.0, 0.4, HUMAN, 0.7, 7.0, 2, stay, RESKILL_INIT, 0.5, [u32::MAX; 4], &rp, &p);
    assert_eq!((d.d.mode, d.d.price), (HUMAN, 0.7));
    let d = decide_q(1.0, 0.4, AI, 0.3, 7.0, 2, [0.0, 0.0, 0.0, 1.0], RESKILL_INIT, 0.5, [u32::MAX; 4], &rp, &p);
    assert_eq!(d.d.mode, EXIT);
}

#[test]
fn adopting_ai_enters_at_the_market_price_and_exit_is_an_action() {
    let p = qparams();
    let rp: Vec<[f32; 2]> = (0..8).map(|i| [0.5, 0.1 * (i + 1) as f32]).collect();
    let d = decide_q(1.0, 0.4, HUMAN, 1.0, 7.0, 0, [0.0, 0.0, 1.0, 0.0], RESKILL_INIT, 0.0, [u32::MAX; 4], &rp, &p);
    assert_eq!(d.d.mode, AI);
    assert_eq!(d.d.vol, p.vol_expect, "an entrant produces what AI creators produce");
    assert_eq!(d.d.price, p.ai_floor, "the curve's price 0.1 is below the platform floor");
    let d = decide_q(1.0, 0.4, HUMAN, 1.0, 7.0, 0, [0.0, 0.0, 0.0, 1.0], RESKILL_INIT, 0.0, [u32::MAX; 4], &rp, &p);
    assert_eq!(d.d.mode, EXIT);
}
