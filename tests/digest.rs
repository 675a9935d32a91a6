//! Speed work on the CPU step must not change what it computes: short runs (logit across
//! the shock, Q-learning, and one with policy and search options switched on) are hashed —
//! every recorded metric at every step, the final agent state, the last step's units and
//! the market curves, as raw bits — and compared with digests recorded from the code before
//! that work (commit d9f9245), on 1 and 2 threads. A changed digest means a changed result:
//! find the change, do not re-record the constant unless the model itself was meant to
//! change (and say so in the commit).

mod common;
use common::*;
use hollow::backend::cpu::CpuBackend;
use hollow::config::{Config, Decision};
use hollow::observe::{METRICS, Recorder};
use hollow::sim::Simulation;
use std::sync::atomic::AtomicBool;

/// FNV-1a over 32- and 64-bit words (order-sensitive, so a moved value changes it).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn u32s(&mut self, v: impl IntoIterator<Item = u32>) {
        for x in v {
            self.bytes(&x.to_le_bytes());
        }
    }
    fn f32s<'a>(&mut self, v: impl IntoIterator<Item = &'a f32>) {
        self.u32s(v.into_iter().map(|x| x.to_bits()));
    }
}

/// The digest of a run of `cfg` on `threads` CPU threads (`large`: on the large-market
/// paths whatever the market's size: the best response from talent tables, offers' human
/// factors from the memo and its cases side by side).
fn digest(cfg: &Config, threads: usize, large: bool) -> u64 {
    let (mut sim, rec) = if large {
        let mut sim = Simulation::new(cfg.clone(), |s| Box::new(CpuBackend::new(s, threads).large_market_from(0)));
        let mut rec = Recorder::new();
        sim.run(cfg.top.steps, &mut rec, &AtomicBool::new(false), |_| {});
        (sim, rec)
    } else {
        run_cpu(cfg, threads)
    };
    let mut h = Fnv::new();
    assert_eq!(rec.len(), cfg.top.steps as usize, "every step recorded");
    // A run in which AI never entered would leave the AI paths of every stage unchecked.
    assert!(rec.get("share_ai").unwrap().iter().any(|&s| s > 0.0), "AI entered");
    for i in 0..METRICS.len() {
        for v in rec.series(i) {
            h.bytes(&v.to_bits().to_le_bytes());
        }
    }
    let st = sim.backend().state();
    let c = &st.creators;
    for v in [&c.talent, &c.x, &c.vol, &c.revenue] {
        h.f32s(v);
    }
    for v in [&c.mode, &c.provider, &c.cap, &c.offset, &c.sold, &c.reskill] {
        h.u32s(v.iter().copied());
    }
    h.f32s(c.offer.iter().flatten());
    h.f32s(c.qvals.iter().flatten());
    let b = &st.buyers;
    for v in [&b.theta, &b.util, &b.d] {
        h.f32s(v);
    }
    for v in [&b.active, &b.proposal, &b.bought, &b.searches] {
        h.u32s(v.iter().copied());
    }
    h.f32s(b.exp.iter().flatten());
    h.f32s(b.gain.iter().flatten());
    let (owner, claim) = sim.backend().units();
    h.u32s(owner);
    h.u32s(claim);
    h.f32s(sim.curves.rp.iter().flatten());
    h.0
}

/// Runs `cfg` on 1 and 2 threads, and on the large-market paths (which these small markets
/// do not take by default), and checks every digest against `want`.
fn check(name: &str, cfg: &Config, want: u64) {
    for (threads, large) in [(1, false), (2, false), (1, true), (2, true)] {
        let got = digest(cfg, threads, large);
        assert_eq!(
            got, want,
            "{name} on {threads} threads, large-market paths {large}: digest {got:#018x}, recorded {want:#018x}"
        );
    }
}

/// The baseline logit model, 60 steps across a shock at step 30.
fn logit() -> Config {
    small(2000, 4000, 60, 30)
}

#[test]
fn logit_run_across_the_shock_matches_its_recorded_digest() {
    check("logit", &logit(), 0x3f8a_e87b_5f11_cd6c);
}

#[test]
fn q_learning_run_matches_its_recorded_digest() {
    let mut cfg = small(2000, 4000, 40, 15);
    cfg.decisions.decision = Decision::QLearning;
    cfg.decisions.q_init = 0.2;
    check("q_learning", &cfg, 0xd213_3cc5_1b6d_4982);
}

#[test]
fn run_with_policies_and_more_search_matches_its_recorded_digest() {
    let mut cfg = small(1500, 5000, 40, 10);
    cfg.market.rounds = 3;
    cfg.market.k = 7;
    cfg.market.d_init = 0.3;
    cfg.market.pollution = 2.0;
    cfg.technology.ai_cost_scale = 2.0;
    cfg.technology.junk_share = 0.3;
    cfg.policy.label_accuracy = 0.8;
    cfg.policy.curation = 0.2;
    cfg.policy.unit_tax = 0.01;
    cfg.decisions.revise = 0.2;
    cfg.decisions.x_grid = 11;
    check("policies", &cfg, 0xf1ab_ccf6_cdfc_ba4f);
}
