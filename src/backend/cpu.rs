//! The CPU backend: every stage as a rayon loop over agents calling the rules of
//! `model::rules`. Results do not depend on the thread count: random numbers are
//! addressed by agent, conflicts are settled by integer `fetch_min` on claim words, counts
//! by integer `fetch_add`, and float sums run over fixed-size chunks added in chunk order.

use super::{Backend, BackendInfo, Totals};
use crate::model::market::{CH_AI, CH_HUMAN, Histogram, bin_of};
use crate::model::rules;
use crate::rng::{self, Stream};
use crate::state::*;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Agents per chunk of the deterministic reductions and scans (fixed, so sums are
/// associated the same way on any thread count).
pub const CHUNK: usize = 1 << 14;

/// Views an exclusively borrowed `u32` slice as atomics (same size and alignment).
fn as_atomic(s: &mut [u32]) -> &[AtomicU32] {
    // SAFETY: AtomicU32 has the same in-memory representation as u32, and the `&mut`
    // borrow guarantees no other non-atomic access for the lifetime of the result.
    unsafe { &*(s as *mut [u32] as *const [AtomicU32]) }
}

/// A raw pointer that rayon tasks may share to write provably disjoint ranges.
#[derive(Clone, Copy)]
struct Disjoint(*mut [u32; UNIT_WORDS]);
unsafe impl Send for Disjoint {}
unsafe impl Sync for Disjoint {}

/// Words of a unit record: owner, claim, and the owner's (quality, price) bits copied in
/// at `scan`, so a search sample reads one cache line instead of three scattered ones.
const UNIT_WORDS: usize = 4;
const U_OWNER: usize = 0;
const U_CLAIM: usize = 1;

pub struct CpuBackend {
    state: State,
    /// `[owner, claim, q bits, price bits]` per unit of this step.
    units: Vec<[u32; UNIT_WORDS]>,
    pool: rayon::ThreadPool,
    threads: usize,
}

impl CpuBackend {
    /// A backend over `state` with `threads` worker threads (0 = all cores).
    pub fn new(state: State, threads: usize) -> Self {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("rayon pool");
        let threads = pool.current_num_threads();
        Self { state, units: Vec::new(), pool, threads }
    }
}

impl Backend for CpuBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo { name: "cpu".into(), device: format!("{} rayon threads", self.threads), threads: self.threads }
    }

    fn offers(&mut self, p: &StepParams) {
        let c = &mut self.state.creators;
        self.pool.install(|| {
            (&mut c.offer, &mut c.cap, &mut c.sold, &c.mode, &c.talent, &c.x, &c.vol, &c.reskill)
                .into_par_iter()
                .enumerate()
                .for_each(|(i, (offer, cap, sold, &mode, &talent, &x, &vol, &reskill))| {
                    offer[0] = rules::nominal_quality(mode, talent, x, p);
                    let w = rng::draw4(p.key, i as u32, p.step, Stream::Offers as u32, 0);
                    *cap = rules::capacity_q(mode, vol, w[0], p.ai_volume_max, reskill);
                    *sold = 0;
                });
        });
    }

    fn scan(&mut self, _p: &StepParams) -> (u32, u32) {
        let c = &mut self.state.creators;
        let (mode, cap, offset, offer) = (&c.mode, &c.cap, &mut c.offset, &c.offer);
        let (n_ai, n_h, starts) = self.pool.install(|| {
            // Chunk totals per channel, then an exclusive scan over chunks, then local scans.
            let sums: Vec<(u32, u32)> = mode
                .par_chunks(CHUNK)
                .zip(cap.par_chunks(CHUNK))
                .map(|(m, k)| {
                    m.iter().zip(k).fold((0u32, 0u32), |(a, h), (&m, &k)| if m == AI { (a + k, h) } else { (a, h + k) })
                })
                .collect();
            let mut starts = Vec::with_capacity(sums.len());
            let (mut a, mut h) = (0u32, 0u32);
            for &(sa, sh) in &sums {
                starts.push((a, h));
                a += sa;
                h += sh;
            }
            offset.par_chunks_mut(CHUNK).zip(mode.par_chunks(CHUNK)).zip(cap.par_chunks(CHUNK)).zip(&starts).for_each(
                |(((o, m), k), &(mut a, mut h))| {
                    for ((o, &m), &k) in o.iter_mut().zip(m).zip(k) {
                        if m == AI {
                            *o = a;
                            a += k;
                        } else {
                            *o = h;
                            h += k;
                        }
                    }
                },
            );
            (a, h, starts)
        });
        let _ = starts;
        let total = (n_ai + n_h) as usize;
        self.units.resize(total, [0; UNIT_WORDS]);
        let out = Disjoint(self.units.as_mut_ptr());
        self.pool.install(|| {
            (mode, cap, &*offset, offer).into_par_iter().enumerate().with_min_len(1024).for_each(
                |(i, (&m, &k, &o, of))| {
                    let base = if m == AI { o } else { n_ai + o };
                    let out = out;
                    let rec = [i as u32, CLAIM_EMPTY, of[0].to_bits(), of[1].to_bits()];
                    for u in base..base + k {
                        // SAFETY: [base, base + k) ranges of different creators are disjoint
                        // (exclusive prefix sums within each channel; channels do not overlap).
                        unsafe { *out.0.add(u as usize) = rec };
                    }
                },
            );
        });
        (n_ai, n_h)
    }

    fn search(&mut self, p: &StepParams) {
        let b = &mut self.state.buyers;
        let units = as_atomic(bytemuck::cast_slice_mut(&mut self.units));
        let total = p.n_ai_units + p.n_human_units;
        self.pool.install(|| {
            (&mut b.proposal, &mut b.bought, &mut b.searches, &b.active, &b.theta, &b.d)
                .into_par_iter()
                .enumerate()
                .for_each(|(j, (proposal, bought, searches, &active, &theta, &d))| {
                    if p.round == 0 {
                        *bought = NONE;
                        *searches = 0;
                    }
                    *proposal = NONE;
                    if active == 0 || *bought != NONE || total == 0 {
                        return;
                    }
                    *searches += 1;
                    let sw = rng::stream_word(Stream::Search, p.round);
                    let mut best = NONE;
                    let mut best_score = 0.0f32;
                    for s in 0..p.k {
                        let w = rng::draw4(p.key, j as u32, p.step, sw, s);
                        let human = rules::sample_is_human(w[0], w[1], d, p);
                        let unit = rules::sample_unit(human, w[2], p);
                        let rec = &units[unit as usize * UNIT_WORDS..][..UNIT_WORDS];
                        if rec[U_CLAIM].load(Relaxed) == CLAIM_SOLD {
                            continue;
                        }
                        let q = f32::from_bits(rec[2].load(Relaxed));
                        let price = f32::from_bits(rec[3].load(Relaxed));
                        let y = q + p.sigma * rules::normal16(w[3]);
                        let score = theta * y - price;
                        if score > best_score {
                            best_score = score;
                            best = unit;
                        }
                    }
                    if best != NONE {
                        *proposal = best;
                        units[best as usize * UNIT_WORDS + U_CLAIM]
                            .fetch_min(rng::claim_key(j as u32, p.perm_key), Relaxed);
                    }
                });
        });
    }

    fn resolve(&mut self, p: &StepParams) {
        let b = &mut self.state.buyers;
        let units = as_atomic(bytemuck::cast_slice_mut(&mut self.units));
        let sold = as_atomic(&mut self.state.creators.sold);
        self.pool.install(|| {
            (&mut b.proposal, &mut b.bought).into_par_iter().enumerate().for_each(|(j, (proposal, bought))| {
                let unit = *proposal;
                if unit == NONE {
                    return;
                }
                *proposal = NONE;
                let rec = &units[unit as usize * UNIT_WORDS..][..UNIT_WORDS];
                if rec[U_CLAIM].load(Relaxed) != rng::claim_key(j as u32, p.perm_key) {
                    return;
                }
                rec[U_CLAIM].store(CLAIM_SOLD, Relaxed);
                let o = rec[U_OWNER].load(Relaxed);
                sold[o as usize].fetch_add(1, Relaxed);
                let ai = if unit < p.n_ai_units { AI_BIT } else { 0 };
                let junk = if rules::is_junk(unit, p) { JUNK_BIT } else { 0 };
                *bought = o | ai | junk;
            });
        });
    }

    fn buyers(&mut self, p: &StepParams) {
        let b = &mut self.state.buyers;
        let offer = &self.state.creators.offer;
        self.pool.install(|| {
            (&mut b.util, &mut b.active, &mut b.exp, &mut b.d, &mut b.gain, &b.theta, &b.searches, &b.bought)
                .into_par_iter()
                .enumerate()
                .for_each(|(j, (util, active, exp, d, gain, &theta, &searches, &bought))| {
                    let purchase = (bought != NONE).then(|| {
                        let [q, price] = offer[(bought & ID_MASK) as usize];
                        let q_true = if bought & JUNK_BIT != 0 { 0.0 } else { q };
                        (q_true, price, bought & AI_BIT != 0)
                    });
                    let w = rng::draw4(p.key, j as u32, p.step, Stream::Buyers as u32, 0);
                    let (u2, a2, e2, d2, u, paid) =
                        rules::buyer_update(theta, *util, *active != 0, *exp, *d, searches, purchase, w[0], p);
                    *util = u2;
                    *active = u32::from(a2);
                    *exp = e2;
                    *d = d2;
                    *gain = [u, paid];
                });
        });
    }

    fn accounts(&mut self, p: &StepParams) {
        let c = &mut self.state.creators;
        self.pool.install(|| {
            (&mut c.revenue, &mut c.offer, &mut c.vol, &c.mode, &c.cap, &c.sold).into_par_iter().for_each(
                |(revenue, offer, vol, &mode, &cap, &sold)| {
                    let (rev, price, v) = rules::account(mode, offer[1], *vol, cap, sold, p);
                    *revenue = rev;
                    offer[1] = price;
                    *vol = v;
                },
            );
        });
    }

    fn reduce(&mut self, p: &StepParams, deciles: &Deciles) -> Totals {
        let bins = p.bins as usize;
        let np = p.n_providers as usize;
        let b = &self.state.buyers;
        let c = &self.state.creators;
        let k_cost = (p.k as f32 * p.search_cost) as f64;
        let (buyer_parts, creator_parts) = self.pool.install(|| {
            let bp: Vec<Totals> = (0..b.len().div_ceil(CHUNK))
                .into_par_iter()
                .map(|ci| {
                    let mut t = Totals::default();
                    for j in ci * CHUNK..((ci + 1) * CHUNK).min(b.len()) {
                        t.active += u64::from(b.searches[j] > 0);
                        let [u, paid] = b.gain[j];
                        t.utility += u as f64;
                        t.search_costs += b.searches[j] as f64 * k_cost;
                        t.d_sum += b.d[j] as f64;
                        let bo = b.bought[j];
                        if bo != NONE {
                            t.matched += 1;
                            t.spend += paid as f64;
                            if bo & AI_BIT != 0 {
                                t.matched_ai += 1;
                                t.spend_ai += paid as f64;
                            }
                            if bo & JUNK_BIT != 0 {
                                t.matched_junk += 1;
                                t.junk_paid += paid as f64;
                            }
                        }
                    }
                    t
                })
                .collect();
            let cp: Vec<Totals> = (0..c.len().div_ceil(CHUNK))
                .into_par_iter()
                .map(|ci| {
                    let mut t = Totals { provider_sold: vec![0; np], hist: Histogram::new(bins), ..Default::default() };
                    for i in ci * CHUNK..((ci + 1) * CHUNK).min(c.len()) {
                        let m = c.mode[i] as usize;
                        t.mode_count[m] += 1;
                        t.decile_mode[decile_of(c.talent[i], deciles)][m] += 1;
                        t.x_sum[m] += c.x[i] as f64;
                        t.talent_sum[m] += c.talent[i] as f64;
                        let (cap, sold) = (c.cap[i], c.sold[i]);
                        let [q, _] = c.offer[i];
                        // Re-skilling (Q-learning) costs even with nothing on offer.
                        t.profit -= rules::cost_with_reskill(m as u32, 0, 0, c.reskill[i], p);
                        if cap == 0 {
                            continue;
                        }
                        let rev = c.revenue[i] as f64;
                        t.profit += rev - rules::cost_of(m as u32, cap, sold, p);
                        t.revenue[m] += rev;
                        t.revenue_sq += rev * rev;
                        let ch = if m as u32 == AI { CH_AI } else { CH_HUMAN };
                        t.offered[ch] += cap as u64;
                        t.sold[ch] += sold as u64;
                        if m as u32 == AI {
                            t.vol_sum += c.vol[i] as f64;
                            t.provider_sold[(c.provider[i] as usize).min(np - 1)] += sold as u64;
                        }
                        let cell = &mut t.hist.cells[ch * bins + bin_of(q, p.q_max, p.bins) as usize];
                        cell[0] += cap as f64;
                        cell[1] += sold as f64;
                        cell[2] += rev;
                    }
                    t
                })
                .collect();
            (bp, cp)
        });
        let mut t = Totals { provider_sold: vec![0; np], hist: Histogram::new(bins), ..Default::default() };
        for part in buyer_parts.iter().chain(&creator_parts) {
            add_totals(&mut t, part);
        }
        t
    }

    fn decide(&mut self, p: &StepParams, rp: &[[f32; 2]]) {
        let c = &mut self.state.creators;
        let grid = rules::grid_factors(p);
        let grid = &grid;
        if p.decision == 1 {
            // The paper's Q-learning: the reward is this step's profit.
            self.pool.install(|| {
                (
                    &mut c.mode,
                    &mut c.x,
                    &mut c.offer,
                    &mut c.vol,
                    &mut c.provider,
                    &mut c.qvals,
                    &mut c.reskill,
                    &c.talent,
                    &c.revenue,
                    &c.cap,
                    &c.sold,
                )
                    .into_par_iter()
                    .enumerate()
                    .for_each(
                        |(i, (mode, x, offer, vol, provider, qvals, reskill, &talent, &revenue, &cap, &sold))| {
                            let w = rng::draw4(p.key, i as u32, p.step, Stream::Decide as u32, 0);
                            let profit = revenue as f64 - rules::cost_with_reskill(*mode, cap, sold, *reskill, p);
                            let d = rules::decide_q(
                                talent,
                                *x,
                                *mode,
                                offer[1],
                                *vol,
                                *provider,
                                *qvals,
                                *reskill,
                                profit as f32,
                                w,
                                rp,
                                p,
                            );
                            *mode = d.d.mode;
                            *x = d.d.x;
                            offer[1] = d.d.price;
                            *vol = d.d.vol;
                            *provider = d.d.provider;
                            *qvals = d.qvals;
                            *reskill = d.reskill;
                        },
                    );
            });
            return;
        }
        self.pool.install(|| {
            (&mut c.mode, &mut c.x, &mut c.offer, &mut c.vol, &mut c.provider, &c.talent)
                .into_par_iter()
                .enumerate()
                .for_each(|(i, (mode, x, offer, vol, provider, &talent))| {
                    let w = rng::draw4(p.key, i as u32, p.step, Stream::Decide as u32, 0);
                    let d = rules::decide(talent, *x, *mode, offer[1], *vol, *provider, w, rp, grid, p);
                    *mode = d.mode;
                    *x = d.x;
                    offer[1] = d.price;
                    *vol = d.vol;
                    *provider = d.provider;
                });
        });
    }

    fn state(&mut self) -> State {
        self.state.clone()
    }

    fn units(&mut self) -> (Vec<u32>, Vec<u32>) {
        self.units.iter().map(|r| (r[U_OWNER], r[U_CLAIM])).unzip()
    }
}

/// Adds a partial into an accumulator (element by element).
pub fn add_totals(t: &mut Totals, o: &Totals) {
    t.active += o.active;
    t.matched += o.matched;
    t.matched_ai += o.matched_ai;
    t.matched_junk += o.matched_junk;
    t.utility += o.utility;
    t.spend += o.spend;
    t.spend_ai += o.spend_ai;
    t.junk_paid += o.junk_paid;
    t.search_costs += o.search_costs;
    t.d_sum += o.d_sum;
    for m in 0..3 {
        t.mode_count[m] += o.mode_count[m];
        t.x_sum[m] += o.x_sum[m];
        t.talent_sum[m] += o.talent_sum[m];
        t.revenue[m] += o.revenue[m];
        for d in 0..10 {
            t.decile_mode[d][m] += o.decile_mode[d][m];
        }
    }
    for ch in 0..2 {
        t.offered[ch] += o.offered[ch];
        t.sold[ch] += o.sold[ch];
    }
    t.revenue_sq += o.revenue_sq;
    t.profit += o.profit;
    t.vol_sum += o.vol_sum;
    for (a, b) in t.provider_sold.iter_mut().zip(&o.provider_sold) {
        *a += b;
    }
    for (a, b) in t.hist.cells.iter_mut().zip(&o.hist.cells) {
        for k in 0..3 {
            a[k] += b[k];
        }
    }
}
