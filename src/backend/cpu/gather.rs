//! `search` and `resolve` on the CPU: the stages that load unit records at random. Each
//! runs over a chunk of buyers in small batches, software-pipelined: a batch's records
//! (and, in resolve, its winners' sold counts) are prefetched a batch before they are read,
//! one at a time as other work goes on (search: one per sample scored), so a thread keeps
//! loads in flight instead of waiting on one load at a time, and never issues more at once
//! than the core has miss buffers for. With one thread there are no atomics (`Sharing`): a locked
//! instruction also waits for the loads issued before it. The draws
//! are addressed, and what a stage reads of a unit record does not change during the stage
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
/// Batches of a search pipeline: one drawn and loading while the other is evaluated.
pub const SEARCH_DEPTH: usize = 2;
/// Proposals per resolve batch.
pub const RESOLVE_AHEAD: usize = 64;
/// Buyers per task of search and resolve. The pipeline fills and drains once per chunk, so
/// a chunk holds many batches (about a quarter of the buyers search in a step).
pub const CHUNK_BUYERS: usize = 4096;

/// Whether other threads update the same claim words and sold counts at the same time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Several threads: claims by `fetch_min`, counts by `fetch_add`.
    Threads,
    /// One thread: a plain load and store does the same without a locked instruction.
    Alone,
}

impl Sharing {
    /// Lowers `word` to `key` if `key` is smaller.
    #[inline]
    fn claim_min(self, word: &AtomicU32, key: u32) {
        // A word already at or below the key stays so (claims only fall): nothing to write,
        // and with threads no locked instruction.
        if key >= word.load(Relaxed) {
            return;
        }
        match self {
            Sharing::Threads => {
                word.fetch_min(key, Relaxed);
            }
            Sharing::Alone => word.store(key, Relaxed),
        }
    }

    /// Adds one to `count`.
    #[inline]
    fn add_one(self, count: &AtomicU32) {
        match self {
            Sharing::Threads => {
                count.fetch_add(1, Relaxed);
            }
            Sharing::Alone => count.store(count.load(Relaxed) + 1, Relaxed),
        }
    }
}

/// A chunk's list of searching buyers (offsets, ascending): in round 0 search writes it
/// (the active buyers); in a later round, with `valid`, it visits only those and keeps the
/// ones that have not bought.
pub struct Searching<'a> {
    pub list: &'a mut [u16],
    pub len: &'a mut u32,
    pub valid: bool,
}

/// The buyers `j0 ..` of one chunk, with the fields search reads and writes.
pub struct SearchChunk<'a> {
    pub j0: u32,
    pub proposal: &'a mut [u32],
    /// The claim key of each buyer's proposal (`rng::claim_key`), for `resolve`.
    pub claim_key: &'a mut [u32],
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
    /// (unit, noise) of each sample, buyer after buyer: the noise is `rules::normal16` of
    /// the sample's word.
    picks: [(u32, f32); SEARCH_AHEAD],
}

impl SearchBatch {
    const EMPTY: SearchBatch = SearchBatch { buyers: [0; SEARCH_AHEAD], len: 0, picks: [(0, 0.0); SEARCH_AHEAD] };
}

impl SearchChunk<'_> {
    /// Each searching buyer samples k units of this round and proposes to the best unsold
    /// one, lowering the unit's claim word to its claim key.
    pub fn run(
        mut self,
        searching: Searching,
        units: &[AtomicU32],
        normal: &Normal16,
        sharing: Sharing,
        p: &StepParams,
    ) {
        let k = p.k as usize;
        let total = p.n_ai_units + p.n_human_units;
        let per_batch = SEARCH_AHEAD / k.max(1);
        let Searching { list, len, valid } = searching;
        // First the chunk's searchers, listed; then their batches. (Taken in one pass, each
        // buyer's turn went through a batch's length in memory, a store then a load per
        // buyer, and a call.) The list is made without a branch on whether a buyer searches:
        // after the shock most buyers are inactive, at random, a coin flip to the predictor.
        // Every buyer is written at the list's end, and the end moves past searchers only
        // (never past the buyer being read, so the writes stay within the list and behind
        // what is still to be read).
        let mut kept = 0;
        if valid {
            // Every buyer not listed has its proposal at NONE (round 0 set it) and does not
            // search: only the listed may have proposed since.
            for l in 0..*len as usize {
                let b = list[l] as usize;
                self.proposal[b] = NONE;
                let searches = self.bought[b] == NONE;
                list[kept] = b as u16;
                kept += usize::from(searches);
                self.searches[b] += u32::from(searches);
            }
        } else {
            for b in 0..self.proposal.len() {
                if p.round == 0 {
                    self.bought[b] = NONE;
                    self.searches[b] = 0;
                }
                self.proposal[b] = NONE;
                let searches = (self.active[b] != 0) & (self.bought[b] == NONE) & (total != 0);
                list[kept] = b as u16;
                kept += usize::from(searches);
                self.searches[b] += u32::from(searches);
            }
        }
        *len = kept as u32;
        // A ring of two batches: each drawn (its records start loading as the one before is
        // evaluated), then evaluated as the next loads.
        let mut ring = [SearchBatch::EMPTY; SEARCH_DEPTH];
        let mut last = 0;
        for (i, group) in list[..kept].chunks(per_batch).enumerate() {
            last = i % SEARCH_DEPTH;
            let batch = &mut ring[last];
            batch.buyers[..group.len()].copy_from_slice(group);
            batch.len = group.len();
            self.draw(batch, normal, p);
            let [new, old] = ring_pair(&mut ring, last);
            self.evaluate(old, &new.picks[..new.len * k], units, sharing, p);
        }
        self.evaluate(&ring[last], &[], units, sharing, p);
    }

    /// Draws the batch's samples (all words at once): each sample's unit and noise.
    fn draw(&self, batch: &mut SearchBatch, normal: &Normal16, p: &StepParams) {
        let k = p.k as usize;
        let n = batch.len * k;
        let (mut agent, mut draw, mut d) = ([0u32; SEARCH_AHEAD], [0u32; SEARCH_AHEAD], [0f32; SEARCH_AHEAD]);
        for (i, &b) in batch.buyers[..batch.len].iter().enumerate() {
            for s in 0..k {
                (agent[i * k + s], draw[i * k + s], d[i * k + s]) = (self.j0 + b as u32, s as u32, self.d[b as usize]);
            }
        }
        let mut words = [[0u32; 4]; SEARCH_AHEAD];
        let sw = rng::stream_word(Stream::Search, p.round);
        rng::draw4_many(p.key, p.step, sw, &agent[..n], &draw[..n], &mut words[..n]);
        // Sample by sample with no lookup and no branch (the compiler vectorises it).
        for ((pick, w), &d) in batch.picks[..n].iter_mut().zip(&words[..n]).zip(&d[..n]) {
            let human = rules::sample_is_human(w[0], w[1], d, p);
            pick.0 = rules::sample_unit(human, w[2], p);
        }
        // The noise's two table loads (512 KiB of tables, mostly L2 hits), here in a loop of
        // their own where nothing else waits on them, not in `evaluate` behind a record:
        // search 36.2-41.3 against 38.0-54.6 ms/step on one thread at 10^6 (eight rounds).
        for (pick, w) in batch.picks[..n].iter_mut().zip(&words[..n]) {
            pick.1 = normal.at(w[3]);
        }
    }

    /// Scores the batch's samples and makes each buyer's proposal, starting the record loads
    /// of the next batch's samples (`ahead`) one per sample scored: spread out, so that they
    /// never wait for a free miss buffer (a burst of 64 prefetches stalled the thread about
    /// 4 ns per sample at 10^6 creators), and each a whole batch before its use.
    fn evaluate(
        &mut self,
        batch: &SearchBatch,
        ahead: &[(u32, f32)],
        units: &[AtomicU32],
        sharing: Sharing,
        p: &StepParams,
    ) {
        let k = p.k as usize;
        let buyers = &batch.buyers[..batch.len];
        // Every buyer's claim key, proposing or not: a loop the compiler vectorises, where
        // one Feistel network after another, each behind a buyer's samples, took a quarter
        // of this function's time.
        let mut keys = [0u32; SEARCH_AHEAD];
        for (key, &b) in keys.iter_mut().zip(buyers) {
            *key = rng::claim_key(self.j0 + b as u32, p.perm_key);
        }
        let mut ahead = ahead.iter();
        for ((&b, picks), &key) in buyers.iter().zip(batch.picks.chunks(k.max(1))).zip(&keys) {
            let b = b as usize;
            let theta = self.theta[b];
            let mut best = NONE;
            let mut best_score = 0.0f32;
            for &(unit, noise) in &picks[..k] {
                if let Some(&(next, _)) = ahead.next() {
                    prefetch_unit(units, next);
                }
                // Quality and price only: a sold unit's price is NaN (`settle`), and so is
                // each score of it, which is never above the best.
                let rec = &units[unit as usize * UNIT_WORDS..][..UNIT_WORDS];
                let q = f32::from_bits(rec[U_Q].load(Relaxed));
                let price = f32::from_bits(rec[U_PRICE].load(Relaxed));
                let y = q + p.sigma * noise;
                let score = theta * y - price;
                // Which sample scores best is a coin flip to the branch predictor.
                let better = score > best_score;
                best = std::hint::select_unpredictable(better, unit, best);
                best_score = std::hint::select_unpredictable(better, score, best_score);
            }
            if best != NONE {
                self.proposal[b] = best;
                self.claim_key[b] = key;
                sharing.claim_min(&units[best as usize * UNIT_WORDS + U_CLAIM], key);
            }
        }
        for &(next, _) in ahead {
            prefetch_unit(units, next);
        }
    }
}

/// Starts loading the record of `unit`.
#[inline(always)]
fn prefetch_unit(units: &[AtomicU32], unit: u32) {
    prefetch(units.as_ptr().wrapping_add(unit as usize * UNIT_WORDS));
}

/// The ring's batch `filling` and the other one (a ring of two).
fn ring_pair(ring: &mut [SearchBatch; SEARCH_DEPTH], filling: usize) -> [&mut SearchBatch; 2] {
    let [a, b] = ring;
    if filling == 0 { [a, b] } else { [b, a] }
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

/// `resolve` for the buyers of one chunk (or those of them in `searchers`, the only ones
/// that can have proposed): a buyer whose key is still on its unit's
/// claim word wins the unit (marked sold), its owner's sold count rises and the buyer
/// records the purchase. Three steps per batch, each a batch behind the one before: load
/// the proposed records (as the batch fills); settle the claims and load the winners'
/// owners' counts; count.
pub fn resolve_chunk(
    proposal: &mut [u32],
    claim_key: &[u32],
    bought: &mut [u32],
    searchers: Option<&[u16]>,
    units: &[AtomicU32],
    sold: &[AtomicU32],
    sharing: Sharing,
    p: &StepParams,
) {
    // A ring of three batches: filling, settling (records loading), counting (sold loading).
    let mut ring = [ResolveBatch::EMPTY; 3];
    let mut filling = 0;
    let advance = |ring: &mut [ResolveBatch; 3], filling: usize, bought: &mut [u32]| {
        settle(&mut ring[(filling + 2) % 3], claim_key, units, sold);
        count(&ring[(filling + 1) % 3], bought, sold, sharing, p);
    };
    let n = proposal.len();
    let mut visit = |b: usize, bought: &mut [u32]| {
        let unit = proposal[b];
        if unit == NONE {
            return;
        }
        proposal[b] = NONE;
        prefetch_unit(units, unit);
        let batch = &mut ring[filling];
        batch.proposals[batch.len] = (b as u16, unit);
        batch.len += 1;
        if batch.len == RESOLVE_AHEAD {
            advance(&mut ring, filling, bought);
            filling = (filling + 1) % 3;
            // Its last batch was counted just now.
            ring[filling].len = 0;
        }
    };
    // The round's searchers where search listed them (ascending, as the walk over all).
    match searchers {
        Some(list) => list.iter().for_each(|&b| visit(b as usize, bought)),
        None => (0..n).for_each(|b| visit(b, bought)),
    }
    // Drain: the batch being filled and the two behind it.
    for _ in 0..3 {
        advance(&mut ring, filling, bought);
        filling = (filling + 1) % 3;
        ring[filling].len = 0;
    }
}

/// Settles a batch's claims: a winner marks its unit sold; its owner's count starts loading.
fn settle(batch: &mut ResolveBatch, claim_key: &[u32], units: &[AtomicU32], sold: &[AtomicU32]) {
    for (&(b, unit), owner) in batch.proposals[..batch.len].iter().zip(batch.owner.iter_mut()) {
        *owner = NONE;
        let rec = &units[unit as usize * UNIT_WORDS..][..UNIT_WORDS];
        if rec[U_CLAIM].load(Relaxed) != claim_key[b as usize] {
            continue;
        }
        rec[U_CLAIM].store(CLAIM_SOLD, Relaxed);
        // What search reads of a sold unit: a NaN price makes every score of it NaN.
        rec[U_PRICE].store(f32::NAN.to_bits(), Relaxed);
        let o = rec[U_OWNER].load(Relaxed);
        prefetch(sold.as_ptr().wrapping_add(o as usize));
        *owner = o;
    }
}

/// Counts a settled batch's sales and records the winners' purchases. The junk draws of the
/// AI units sold (`rules::is_junk`) are made together.
fn count(batch: &ResolveBatch, bought: &mut [u32], sold: &[AtomicU32], sharing: Sharing, p: &StepParams) {
    let won = || batch.proposals[..batch.len].iter().zip(&batch.owner).filter(|&(_, &o)| o != NONE);
    let mut ai_units = [0u32; RESOLVE_AHEAD];
    let mut n_ai = 0;
    for (&(_, unit), _) in won() {
        if unit < p.n_ai_units {
            ai_units[n_ai] = unit;
            n_ai += 1;
        }
    }
    let mut words = [[0u32; 4]; RESOLVE_AHEAD];
    rng::draw4_many(
        p.key,
        p.step,
        Stream::Junk as u32,
        &ai_units[..n_ai],
        &[0; RESOLVE_AHEAD][..n_ai],
        &mut words[..n_ai],
    );
    let mut junk_words = words[..n_ai].iter();
    for (&(b, unit), &o) in won() {
        sharing.add_one(&sold[o as usize]);
        let (ai, junk) = match unit < p.n_ai_units {
            true => (AI_BIT, junk_words.next().is_some_and(|w| rules::junk_of_word(w[0], p))),
            false => (0, false),
        };
        bought[b as usize] = o | ai | if junk { JUNK_BIT } else { 0 };
    }
}
