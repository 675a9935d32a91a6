//! The CPU backend: every stage as a rayon loop over agents calling the rules of
//! `model::rules`. Results do not depend on the thread count: random numbers are
//! addressed by agent, conflicts are settled by integer `fetch_min` on claim words, counts
//! by integer `fetch_add`, and float sums run over fixed-size chunks added in chunk order.
//! Nor on the order of evaluation, which is what the speed work uses (docs/performance.md):
//! `search` and `resolve` take buyers in small batches, drawing every sample and
//! prefetching every unit record of a batch before evaluating any, so the random loads
//! overlap; rules draw a random word only when they use it; with one thread no pool is
//! involved at all.

use super::{Backend, BackendInfo, Totals};
use crate::model::market::{CH_AI, CH_HUMAN, Histogram, bin_of};
use crate::model::rules;
use crate::rng::{self, Stream};
use crate::state::*;
use rayon::prelude::*;
use std::sync::OnceLock;
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
const U_Q: usize = 2;
const U_PRICE: usize = 3;

/// Search samples drawn, and their unit records prefetched, before a batch of buyers is
/// evaluated: enough independent loads in flight to cover a DRAM access (the records of a
/// 10^6-creator market are ~50 MB). Also the most samples a buyer may draw per round
/// (`market.k` is at most 64).
const SEARCH_AHEAD: usize = 64;
/// Proposals per batch of `resolve` (records, then owners' sold counts, prefetched first).
const RESOLVE_AHEAD: usize = 64;

/// The threads the stages run on: a rayon pool, or none. With one thread every stage runs
/// on the caller's thread: a sweep runs many single-threaded simulations side by side, and
/// handing each stage call to a one-thread pool cost a wake-up and a sleep per call, with
/// the pool's worker spinning beside the other simulations while it waited.
struct Workers {
    pool: Option<rayon::ThreadPool>,
    threads: usize,
}

impl Workers {
    /// `threads` workers (0 = all cores; 1 = inline, no pool).
    fn new(threads: usize) -> Self {
        if threads == 1 {
            return Self { pool: None, threads: 1 };
        }
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("rayon pool");
        let threads = pool.current_num_threads();
        Self { pool: Some(pool), threads }
    }

    /// Runs `f` on the workers (inline without a pool).
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// The least number of items a rayon task takes (`with_min_len`): `parallel` with a
    /// pool; all of them inline, so nothing is split and no other pool (a sweep's
    /// executor, whose worker the caller may be) takes part.
    fn min_len(&self, parallel: usize) -> usize {
        if self.pool.is_some() { parallel } else { usize::MAX }
    }
}

/// `rules::normal16` by table: both of its factors for every 16-bit half of the word,
/// computed once per process by the functions `normal16` multiplies, so a sample's noise
/// has the same bits for two loads (from 512 KiB) instead of a logarithm, a square root and
/// a cosine.
struct Normal16 {
    radius: Box<[f32; 1 << 16]>,
    angle: Box<[f32; 1 << 16]>,
}

impl Normal16 {
    fn get() -> &'static Normal16 {
        static TABLE: OnceLock<Normal16> = OnceLock::new();
        TABLE.get_or_init(|| {
            let table = |f: fn(u32) -> f32| -> Box<[f32; 1 << 16]> {
                (0..1u32 << 16).map(f).collect::<Vec<f32>>().into_boxed_slice().try_into().expect("2^16 entries")
            };
            Normal16 { radius: table(rules::normal16_radius), angle: table(rules::normal16_angle) }
        })
    }

    /// `rules::normal16(w)`.
    #[inline]
    fn at(&self, w: u32) -> f32 {
        self.radius[(w >> 16) as usize] * self.angle[(w & 0xffff) as usize]
    }
}

/// Starts loading the cache line holding `p` without waiting for it. A hint: it cannot
/// fault and changes no result; a no-op on targets without a stable prefetch instruction.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch does not access memory architecturally; any address is allowed.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: as above; PRFM never faults.
    unsafe {
        std::arch::asm!("prfm pldl1keep, [{0}]", in(reg) p, options(nostack, readonly, preserves_flags));
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = p;
}

pub struct CpuBackend {
    state: State,
    /// `[owner, claim, q bits, price bits]` per unit of this step.
    units: Vec<[u32; UNIT_WORDS]>,
    workers: Workers,
    /// The best response's grid and per-bin profits, refilled every step (kept to reuse
    /// its allocations).
    best_response: rules::BestResponse,
}

impl CpuBackend {
    /// A backend over `state` with `threads` worker threads (0 = all cores; 1 runs every
    /// stage on the calling thread).
    pub fn new(state: State, threads: usize) -> Self {
        Self { state, units: Vec::new(), workers: Workers::new(threads), best_response: Default::default() }
    }
}

impl Backend for CpuBackend {
    fn info(&self) -> BackendInfo {
        let threads = self.workers.threads;
        BackendInfo { name: "cpu".into(), device: format!("{threads} rayon threads"), threads }
    }

    fn offers(&mut self, p: &StepParams) {
        let c = &mut self.state.creators;
        let min_len = self.workers.min_len(1);
        self.workers.install(|| {
            (&mut c.offer, &mut c.cap, &mut c.sold, &c.mode, &c.talent, &c.x, &c.vol, &c.reskill)
                .into_par_iter()
                .with_min_len(min_len)
                .enumerate()
                .for_each(|(i, (offer, cap, sold, &mode, &talent, &x, &vol, &reskill))| {
                    offer[0] = rules::nominal_quality(mode, talent, x, p);
                    let u = || rng::draw4(p.key, i as u32, p.step, Stream::Offers as u32, 0)[0];
                    *cap = rules::capacity_q(mode, vol, u, p.ai_volume_max, reskill);
                    *sold = 0;
                });
        });
    }

    fn scan(&mut self, _p: &StepParams) -> (u32, u32) {
        let c = &mut self.state.creators;
        let (mode, cap, offset, offer) = (&c.mode, &c.cap, &mut c.offset, &c.offer);
        let min_len = self.workers.min_len(1);
        let (n_ai, n_h, starts) = self.workers.install(|| {
            // Chunk totals per channel, then an exclusive scan over chunks, then local scans.
            let sums: Vec<(u32, u32)> = mode
                .par_chunks(CHUNK)
                .zip(cap.par_chunks(CHUNK))
                .with_min_len(min_len)
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
            offset
                .par_chunks_mut(CHUNK)
                .zip(mode.par_chunks(CHUNK))
                .zip(cap.par_chunks(CHUNK))
                .zip(&starts)
                .with_min_len(min_len)
                .for_each(|(((o, m), k), &(mut a, mut h))| {
                    for ((o, &m), &k) in o.iter_mut().zip(m).zip(k) {
                        if m == AI {
                            *o = a;
                            a += k;
                        } else {
                            *o = h;
                            h += k;
                        }
                    }
                });
            (a, h, starts)
        });
        let _ = starts;
        let total = (n_ai + n_h) as usize;
        self.units.resize(total, [0; UNIT_WORDS]);
        let out = Disjoint(self.units.as_mut_ptr());
        let min_len = self.workers.min_len(1024);
        self.workers.install(|| {
            (mode, cap, &*offset, offer).into_par_iter().enumerate().with_min_len(min_len).for_each(
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
        let k = p.k as usize;
        assert!(k <= SEARCH_AHEAD, "search: k = {k} samples per buyer, at most {SEARCH_AHEAD} (market.k)");
        // Buyers per batch: as many as keep SEARCH_AHEAD samples in flight.
        let per = (SEARCH_AHEAD / k.max(1)).max(1);
        let b = &mut self.state.buyers;
        let units = as_atomic(bytemuck::cast_slice_mut(&mut self.units));
        let normal = Normal16::get();
        let min_len = self.workers.min_len(1);
        self.workers.install(|| {
            (
                b.proposal.par_chunks_mut(per),
                b.bought.par_chunks_mut(per),
                b.searches.par_chunks_mut(per),
                b.active.par_chunks(per),
                b.theta.par_chunks(per),
                b.d.par_chunks(per),
            )
                .into_par_iter()
                .with_min_len(min_len)
                .enumerate()
                .for_each(|(ci, (proposal, bought, searches, active, theta, d))| {
                    let batch = SearchBatch { j0: (ci * per) as u32, proposal, bought, searches, active, theta, d };
                    batch.run(units, normal, p);
                });
        });
    }

    fn resolve(&mut self, p: &StepParams) {
        let b = &mut self.state.buyers;
        let units = as_atomic(bytemuck::cast_slice_mut(&mut self.units));
        let sold = as_atomic(&mut self.state.creators.sold);
        let min_len = self.workers.min_len(1);
        self.workers.install(|| {
            (b.proposal.par_chunks_mut(RESOLVE_AHEAD), b.bought.par_chunks_mut(RESOLVE_AHEAD))
                .into_par_iter()
                .with_min_len(min_len)
                .enumerate()
                .for_each(|(ci, (proposal, bought))| {
                    resolve_batch((ci * RESOLVE_AHEAD) as u32, proposal, bought, units, sold, p);
                });
        });
    }

    fn buyers(&mut self, p: &StepParams) {
        let b = &mut self.state.buyers;
        let offer = &self.state.creators.offer;
        let min_len = self.workers.min_len(1);
        self.workers.install(|| {
            (&mut b.util, &mut b.active, &mut b.exp, &mut b.d, &mut b.gain, &b.theta, &b.searches, &b.bought)
                .into_par_iter()
                .with_min_len(min_len)
                .enumerate()
                .for_each(|(j, (util, active, exp, d, gain, &theta, &searches, &bought))| {
                    let purchase = (bought != NONE).then(|| {
                        let [q, price] = offer[(bought & ID_MASK) as usize];
                        let q_true = if bought & JUNK_BIT != 0 { 0.0 } else { q };
                        (q_true, price, bought & AI_BIT != 0)
                    });
                    let u_return = || rng::draw4(p.key, j as u32, p.step, Stream::Buyers as u32, 0)[0];
                    let (u2, a2, e2, d2, u, paid) =
                        rules::buyer_update(theta, *util, *active != 0, *exp, *d, searches, purchase, u_return, p);
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
        let min_len = self.workers.min_len(1);
        self.workers.install(|| {
            (&mut c.revenue, &mut c.offer, &mut c.vol, &c.mode, &c.cap, &c.sold)
                .into_par_iter()
                .with_min_len(min_len)
                .for_each(|(revenue, offer, vol, &mode, &cap, &sold)| {
                    let (rev, price, v) = rules::account(mode, offer[1], *vol, cap, sold, p);
                    *revenue = rev;
                    offer[1] = price;
                    *vol = v;
                });
        });
    }

    fn reduce(&mut self, p: &StepParams, deciles: &Deciles) -> Totals {
        let bins = p.bins as usize;
        let np = p.n_providers as usize;
        let b = &self.state.buyers;
        let c = &self.state.creators;
        let k_cost = (p.k as f32 * p.search_cost) as f64;
        let min_len = self.workers.min_len(1);
        let (buyer_parts, creator_parts) = self.workers.install(|| {
            let bp: Vec<Totals> = (0..b.len().div_ceil(CHUNK))
                .into_par_iter()
                .with_min_len(min_len)
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
                .with_min_len(min_len)
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
        let min_len = self.workers.min_len(1);
        if p.decision == 1 {
            // The paper's Q-learning: the reward is this step's profit.
            self.workers.install(|| {
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
                    .with_min_len(min_len)
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
        self.best_response.fill(p, rp);
        let br = &self.best_response;
        self.workers.install(|| {
            (&mut c.mode, &mut c.x, &mut c.offer, &mut c.vol, &mut c.provider, &c.talent)
                .into_par_iter()
                .with_min_len(min_len)
                .enumerate()
                .for_each(|(i, (mode, x, offer, vol, provider, &talent))| {
                    let w = rng::draw4(p.key, i as u32, p.step, Stream::Decide as u32, 0);
                    let d = rules::decide(talent, *x, *mode, offer[1], *vol, *provider, w, rp, br, p);
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

/// One batch of consecutive buyers in `search`, from buyer `j0` on.
struct SearchBatch<'a> {
    j0: u32,
    proposal: &'a mut [u32],
    bought: &'a mut [u32],
    searches: &'a mut [u32],
    active: &'a [u32],
    theta: &'a [f32],
    d: &'a [f32],
}

impl SearchBatch<'_> {
    /// Each searching buyer of the batch samples k units of this round and proposes to the
    /// best unsold one by a `fetch_min` of its claim key. Every sample of the batch is drawn
    /// and its unit record prefetched first, then the buyers are evaluated in order: the
    /// draws are addressed and the records' quality, price and sold mark do not change during
    /// search (claims only fall, never to `CLAIM_SOLD`), so this is the buyer-by-buyer rule.
    fn run(self, units: &[AtomicU32], normal: &Normal16, p: &StepParams) {
        let total = p.n_ai_units + p.n_human_units;
        let sw = rng::stream_word(Stream::Search, p.round);
        // (unit, noise word) of every sample, in buyer then sample order.
        let mut picks = [(0u32, 0u32); SEARCH_AHEAD];
        let mut searching = [false; SEARCH_AHEAD];
        let mut n = 0;
        for b in 0..self.proposal.len() {
            if p.round == 0 {
                self.bought[b] = NONE;
                self.searches[b] = 0;
            }
            self.proposal[b] = NONE;
            if self.active[b] == 0 || self.bought[b] != NONE || total == 0 {
                continue;
            }
            searching[b] = true;
            self.searches[b] += 1;
            for s in 0..p.k {
                let w = rng::draw4(p.key, self.j0 + b as u32, p.step, sw, s);
                let human = rules::sample_is_human(w[0], w[1], self.d[b], p);
                let unit = rules::sample_unit(human, w[2], p);
                prefetch(units.as_ptr().wrapping_add(unit as usize * UNIT_WORDS));
                picks[n] = (unit, w[3]);
                n += 1;
            }
        }
        let mut picks = picks[..n].iter();
        for b in 0..self.proposal.len() {
            if !searching[b] {
                continue;
            }
            let mut best = NONE;
            let mut best_score = 0.0f32;
            for &(unit, noise) in picks.by_ref().take(p.k as usize) {
                let rec = &units[unit as usize * UNIT_WORDS..][..UNIT_WORDS];
                if rec[U_CLAIM].load(Relaxed) == CLAIM_SOLD {
                    continue;
                }
                let q = f32::from_bits(rec[U_Q].load(Relaxed));
                let price = f32::from_bits(rec[U_PRICE].load(Relaxed));
                let y = q + p.sigma * normal.at(noise);
                let score = self.theta[b] * y - price;
                if score > best_score {
                    best_score = score;
                    best = unit;
                }
            }
            if best != NONE {
                self.proposal[b] = best;
                let key = rng::claim_key(self.j0 + b as u32, p.perm_key);
                units[best as usize * UNIT_WORDS + U_CLAIM].fetch_min(key, Relaxed);
            }
        }
    }
}

/// `resolve` for the buyers from `j0` on: a buyer whose key is still on its unit's claim
/// word wins the unit (marked sold), its owner's sold count rises and the buyer records
/// the purchase. Three passes so the random loads of a batch overlap: prefetch the
/// proposed records; settle the claims and prefetch the winners' owners' counts; count.
/// Each unit has one winner, so the order of the buyers changes nothing.
fn resolve_batch(
    j0: u32,
    proposal: &mut [u32],
    bought: &mut [u32],
    units: &[AtomicU32],
    sold: &[AtomicU32],
    p: &StepParams,
) {
    for &unit in proposal.iter() {
        if unit != NONE {
            prefetch(units.as_ptr().wrapping_add(unit as usize * UNIT_WORDS));
        }
    }
    // The unit each buyer won, and its owner.
    let mut won = [(NONE, 0u32); RESOLVE_AHEAD];
    for (b, prop) in proposal.iter_mut().enumerate() {
        let unit = *prop;
        if unit == NONE {
            continue;
        }
        *prop = NONE;
        let rec = &units[unit as usize * UNIT_WORDS..][..UNIT_WORDS];
        if rec[U_CLAIM].load(Relaxed) != rng::claim_key(j0 + b as u32, p.perm_key) {
            continue;
        }
        rec[U_CLAIM].store(CLAIM_SOLD, Relaxed);
        let o = rec[U_OWNER].load(Relaxed);
        prefetch(sold.as_ptr().wrapping_add(o as usize));
        won[b] = (unit, o);
    }
    for (out, &(unit, o)) in bought.iter_mut().zip(&won) {
        if unit == NONE {
            continue;
        }
        sold[o as usize].fetch_add(1, Relaxed);
        let ai = if unit < p.n_ai_units { AI_BIT } else { 0 };
        let junk = if rules::is_junk(unit, p) { JUNK_BIT } else { 0 };
        *out = o | ai | junk;
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
