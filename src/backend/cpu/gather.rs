//! `search` and `resolve` on the CPU: the stages that load unit records at random. Each
//! runs over a chunk of buyers in small batches, software-pipelined: a batch's records
//! (and, in resolve, its winners' sold counts) are prefetched when the batch is complete,
//! and evaluated only after the next batch has been started, so a thread keeps one or two
//! batches of loads in flight instead of waiting on one load at a time. The draws are
//! addressed, and what a stage reads of a unit record does not change during the stage
//! (search never writes `CLAIM_SOLD`; each unit has one winner in resolve), so any order of
//! evaluation gives the buyer-by-buyer results.

use super::{Normal16, U_CLAIM, U_OWNER, U_PRICE, U_Q, UNIT_WORDS, prefetch};
use crate::model::rules;
use crate::rng::{self, Stream};
use crate::state::*;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Samples per search batch: enough independent loads to cover a DRAM access (the records
/// of a 10^6-creator market are ~50 MB). Also the most samples a buyer may draw in a round
/// (`market.k` is at most 64).
pub const SEARCH_AHEAD: usize = 64;
/// Proposals per resolve batch.
pub const RESOLVE_AHEAD: usize = 64;
/// Buyers per task of search and resolve. The pipeline fills and drains once per chunk, so
/// a chunk holds many batches (about a quarter of the buyers search in a step).
pub const CHUNK_BUYERS: usize = 4096;

/// The buyers `j0 ..` of one chunk, with the fields search reads and writes.
pub struct SearchChunk<'a> {
    pub j0: u32,
    pub proposal: &'a mut [u32],
    pub bought: &'a mut [u32],
    pub searches: &'a mut [u32],
    pub active: &'a [u32],
    pub theta: &'a [f32],
    pub d: &'a [f32],
}

/// Searching buyers of a chunk whose samples are drawn and loaded together.
#[derive(Clone, Copy)]
struct SearchBatch {
    /// Offsets in the chunk of the batch's buyers, k samples each.
    buyers: [u16; SEARCH_AHEAD],
    len: usize,
    /// (unit, noise word) of each sample, buyer after buyer.
    picks: [(u32, u32); SEARCH_AHEAD],
}

impl SearchBatch {
    const EMPTY: SearchBatch = SearchBatch { buyers: [0; SEARCH_AHEAD], len: 0, picks: [(0, 0); SEARCH_AHEAD] };
}

impl SearchChunk<'_> {
    /// Each searching buyer samples k units of this round and proposes to the best unsold
    /// one by a `fetch_min` of its claim key on the unit's claim word.
    pub fn run(mut self, units: &[AtomicU32], normal: &Normal16, p: &StepParams) {
        let k = p.k as usize;
        let total = p.n_ai_units + p.n_human_units;
        let per_batch = SEARCH_AHEAD / k.max(1);
        // Two batches: one filling, one drawn and loading (`loading`).
        let mut batches = [SearchBatch::EMPTY; 2];
        let (mut filling, mut loading) = (0, false);
        for b in 0..self.proposal.len() {
            if p.round == 0 {
                self.bought[b] = NONE;
                self.searches[b] = 0;
            }
            self.proposal[b] = NONE;
            if self.active[b] == 0 || self.bought[b] != NONE || total == 0 {
                continue;
            }
            self.searches[b] += 1;
            if batches[filling].len == per_batch {
                self.draw(&mut batches[filling], units, p);
                if loading {
                    self.evaluate(&batches[1 - filling], units, normal, p);
                }
                loading = true;
                filling = 1 - filling;
                batches[filling].len = 0;
            }
            let batch = &mut batches[filling];
            batch.buyers[batch.len] = b as u16;
            batch.len += 1;
        }
        self.draw(&mut batches[filling], units, p);
        if loading {
            self.evaluate(&batches[1 - filling], units, normal, p);
        }
        self.evaluate(&batches[filling], units, normal, p);
    }

    /// Draws the batch's samples (all words at once) and starts loading their records.
    fn draw(&self, batch: &mut SearchBatch, units: &[AtomicU32], p: &StepParams) {
        let k = p.k as usize;
        let n = batch.len * k;
        let (mut agent, mut draw) = ([0u32; SEARCH_AHEAD], [0u32; SEARCH_AHEAD]);
        for (i, &b) in batch.buyers[..batch.len].iter().enumerate() {
            for s in 0..k {
                (agent[i * k + s], draw[i * k + s]) = (self.j0 + b as u32, s as u32);
            }
        }
        let mut words = [[0u32; 4]; SEARCH_AHEAD];
        let sw = rng::stream_word(Stream::Search, p.round);
        rng::draw4_many(p.key, p.step, sw, &agent[..n], &draw[..n], &mut words[..n]);
        for ((pick, w), &j) in batch.picks.iter_mut().zip(&words[..n]).zip(&agent) {
            let human = rules::sample_is_human(w[0], w[1], self.d[(j - self.j0) as usize], p);
            let unit = rules::sample_unit(human, w[2], p);
            prefetch(units.as_ptr().wrapping_add(unit as usize * UNIT_WORDS));
            *pick = (unit, w[3]);
        }
    }

    /// Scores the batch's samples and makes each buyer's proposal.
    fn evaluate(&mut self, batch: &SearchBatch, units: &[AtomicU32], normal: &Normal16, p: &StepParams) {
        let k = p.k as usize;
        for (&b, picks) in batch.buyers[..batch.len].iter().zip(batch.picks.chunks(k.max(1))) {
            let b = b as usize;
            let mut best = NONE;
            let mut best_score = 0.0f32;
            for &(unit, noise) in picks {
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

/// Proposals of a chunk settled together, and what settling found.
#[derive(Clone, Copy)]
struct ResolveBatch {
    /// (buyer offset in the chunk, unit proposed to) per proposal.
    proposals: [(u16, u32); RESOLVE_AHEAD],
    len: usize,
    /// The owner of each unit won, or NONE where the proposal lost.
    owner: [u32; RESOLVE_AHEAD],
}

impl ResolveBatch {
    const EMPTY: ResolveBatch =
        ResolveBatch { proposals: [(0, NONE); RESOLVE_AHEAD], len: 0, owner: [NONE; RESOLVE_AHEAD] };
}

/// `resolve` for the buyers `j0 ..` of one chunk: a buyer whose key is still on its unit's
/// claim word wins the unit (marked sold), its owner's sold count rises and the buyer
/// records the purchase. Three steps per batch, each a batch behind the one before: load
/// the proposed records; settle the claims and load the winners' owners' counts; count.
pub fn resolve_chunk(
    j0: u32,
    proposal: &mut [u32],
    bought: &mut [u32],
    units: &[AtomicU32],
    sold: &[AtomicU32],
    p: &StepParams,
) {
    // A ring of three batches: filling (records loading), settling, counting.
    let mut ring = [ResolveBatch::EMPTY; 3];
    let mut filling = 0;
    let mut behind = 0; // batches started and not yet counted (at most 2 besides `filling`)
    let advance = |ring: &mut [ResolveBatch; 3], filling: usize, behind: usize, bought: &mut [u32]| {
        if behind >= 1 {
            settle(&mut ring[(filling + 2) % 3], j0, units, sold, p);
        }
        if behind >= 2 {
            count(&ring[(filling + 1) % 3], bought, sold, p);
        }
    };
    for (b, prop) in proposal.iter_mut().enumerate() {
        let unit = *prop;
        if unit == NONE {
            continue;
        }
        *prop = NONE;
        prefetch(units.as_ptr().wrapping_add(unit as usize * UNIT_WORDS));
        let batch = &mut ring[filling];
        batch.proposals[batch.len] = (b as u16, unit);
        batch.len += 1;
        if batch.len == RESOLVE_AHEAD {
            advance(&mut ring, filling, behind, bought);
            behind = (behind + 1).min(2);
            filling = (filling + 1) % 3;
            ring[filling].len = 0;
        }
    }
    // Drain: the batch being filled, then the two behind it.
    for _ in 0..3 {
        advance(&mut ring, filling, behind, bought);
        behind = (behind + 1).min(2);
        filling = (filling + 1) % 3;
        ring[filling].len = 0;
    }
}

/// Settles a batch's claims: a winner marks its unit sold; its owner's count starts loading.
fn settle(batch: &mut ResolveBatch, j0: u32, units: &[AtomicU32], sold: &[AtomicU32], p: &StepParams) {
    for (&(b, unit), owner) in batch.proposals[..batch.len].iter().zip(batch.owner.iter_mut()) {
        *owner = NONE;
        let rec = &units[unit as usize * UNIT_WORDS..][..UNIT_WORDS];
        if rec[U_CLAIM].load(Relaxed) != rng::claim_key(j0 + b as u32, p.perm_key) {
            continue;
        }
        rec[U_CLAIM].store(CLAIM_SOLD, Relaxed);
        let o = rec[U_OWNER].load(Relaxed);
        prefetch(sold.as_ptr().wrapping_add(o as usize));
        *owner = o;
    }
}

/// Counts a settled batch's sales and records the winners' purchases.
fn count(batch: &ResolveBatch, bought: &mut [u32], sold: &[AtomicU32], p: &StepParams) {
    for (&(b, unit), &o) in batch.proposals[..batch.len].iter().zip(&batch.owner) {
        if o == NONE {
            continue;
        }
        sold[o as usize].fetch_add(1, Relaxed);
        let ai = if unit < p.n_ai_units { AI_BIT } else { 0 };
        let junk = if rules::is_junk(unit, p) { JUNK_BIT } else { 0 };
        bought[b as usize] = o | ai | junk;
    }
}
