//! The CPU's limits, measured on the machine `hollow bench` runs on with the same thread
//! count: the rate of independent random 16-byte loads from an array the size of the
//! step's unit records and backed as they are (`pages`; the bound of `search` and
//! `resolve`), the streaming read bandwidth
//! over an array the size of the agent state (the bound of the per-agent stages), and the
//! rate of Philox blocks drawn as the stages draw them (`rng::draw4_many`). Each stage's
//! bound is the largest of its work (`backend::stage_work`) over these rates: a stage can
//! be no faster than any one of them.

use super::StageWork;
use crate::model::params::{AI, HUMAN, StepParams};
use crate::model::rules;
use crate::model::technology::human_factor;
use crate::rng;
use crate::state::Creators;
use rayon::prelude::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Measured rates of this machine at `threads` threads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub threads: usize,
    /// Independent random 16-byte loads per second over `gather_bytes`.
    pub gather_per_s: f64,
    pub gather_bytes: usize,
    /// Bytes per second of a parallel streaming read over `stream_bytes`.
    pub stream_bytes_per_s: f64,
    pub stream_bytes: usize,
    /// Philox blocks per second, drawn as the stages draw them (`rng::draw4_many`).
    pub philox_per_s: f64,
}

/// How long each window of a measurement runs (after one warm-up pass), and how many
/// windows: a limit is the best rate of its windows. On a shared or virtual machine one
/// window can fall on a busy spell (a single 200 ms window gave 40 and 65 GB/s for the same
/// stream in two runs); the machine's limit is what it reaches when not held back.
const SPAN: Duration = Duration::from_millis(200);
const WINDOWS: usize = 5;
/// Loads each worker keeps in flight (independent chains of addresses; 8 measured best on
/// the development machine, against 16 and 32).
const IN_FLIGHT: usize = 8;
/// Philox blocks per `draw4_many` call (the stages draw a batch of samples or agents at once).
const PHILOX_BATCH: usize = 256;

/// Units per second of one window of `SPAN` repeating `f` (which returns units of work done).
fn window(f: &mut impl FnMut() -> f64) -> f64 {
    let t0 = Instant::now();
    let mut done = 0.0;
    while t0.elapsed() < SPAN {
        done += f();
    }
    done / t0.elapsed().as_secs_f64()
}

/// Repeats `f` (which returns units of work done) for `WINDOWS` windows of `SPAN`: the
/// best window's units per second.
fn rate(mut f: impl FnMut() -> f64) -> f64 {
    let [r] = rates_in_turn([&mut f]);
    r
}

/// `rate` of several measurements at once, their windows taken in turn: a busy spell of the
/// machine (seconds long on a shared one) then costs each measurement a window or two, not
/// all of one measurement's windows. Measured one after the other, the random loads of one
/// `hollow bench` read 2.6·10^8/s, half of what the runs beside it read, and printed
/// `search` and `resolve` at about half their fractions of those runs.
fn rates_in_turn<const N: usize>(mut f: [&mut dyn FnMut() -> f64; N]) -> [f64; N] {
    for g in f.iter_mut() {
        g();
    }
    let mut best = [0.0f64; N];
    for _ in 0..WINDOWS {
        for (b, g) in best.iter_mut().zip(f.iter_mut()) {
            *b = b.max(window(g));
        }
    }
    best
}

/// Measures the limits on `pool` over arrays of `gather_bytes` (unit records) and
/// `stream_bytes` (agent state), each at least 64 KiB. Each loop is written so that what it
/// measures is the only thing that can hold it back: the addresses come from a multiply,
/// not a division (a 64-bit division per load would be the limit instead), and the stream
/// is summed as integers (a float sum is one dependent add after another, a limit of
/// about 4 bytes per add latency, not of memory).
pub fn measure(pool: &rayon::ThreadPool, gather_bytes: usize, stream_bytes: usize) -> Limits {
    let threads = pool.current_num_threads();
    // Backed as the unit records are (`pages`), so the bound allows what the stages get.
    let mut records = super::pages::huge_vec(0, (gather_bytes / 16).max(4096), [0u32; 4]);
    records.extend((0..records.capacity() as u32).map(|i| [i, i ^ 7, !i, i >> 1]));
    let words: Vec<u64> = (0..(stream_bytes / 8).max(8192) as u64).collect();
    let n = records.len() as u64;
    const PER_WORKER: usize = 1 << 16;
    // Each closure runs on the pool's threads: `rates_in_turn` is called inside one
    // `install`, so no window pays for handing work to the pool from outside it.
    let mut gather = || {
        let sum: u64 = (0..threads as u64)
            .into_par_iter()
            .map(|w| {
                // IN_FLIGHT independent xorshift chains: the loads do not wait on each other.
                let mut x: [u64; IN_FLIGHT] = std::array::from_fn(|k| (w << 32) ^ (k as u64 * 0x9e37_79b9) ^ 0x2545);
                let mut acc = 0u64;
                for _ in 0..PER_WORKER / IN_FLIGHT {
                    for xk in x.iter_mut() {
                        *xk ^= *xk << 13;
                        *xk ^= *xk >> 7;
                        *xk ^= *xk << 17;
                        // The high 32 bits scaled to [0, n), as `rng::below` picks a unit.
                        acc = acc.wrapping_add(records[(((*xk >> 32) * n) >> 32) as usize][0] as u64);
                    }
                }
                acc
            })
            .sum();
        black_box(sum);
        (threads * PER_WORKER) as f64
    };
    let mut stream = || {
        let s = words
            .par_chunks(8192)
            .map(|c| c.iter().fold(0u64, |a, &b| a.wrapping_add(b)))
            .reduce(|| 0, u64::wrapping_add);
        black_box(s);
        (words.len() * 8) as f64
    };
    let mut philox = || {
        let s: u32 = (0..threads as u32).into_par_iter().map(philox_pass).reduce(|| 0, u32::wrapping_add);
        black_box(s);
        (threads * 65536) as f64
    };
    let [gather_per_s, stream_bytes_per_s, philox_per_s] =
        pool.install(|| rates_in_turn([&mut gather, &mut stream, &mut philox]));
    Limits {
        threads,
        gather_per_s,
        gather_bytes: records.len() * 16,
        stream_bytes_per_s,
        stream_bytes: words.len() * 8,
        philox_per_s,
    }
}

/// One worker's share of the Philox measurement: 2^16 blocks drawn in batches as the stages
/// draw them. Not inlined: inlined into the measuring loop, its code (and the rate measured)
/// changed with how that loop was written, by a factor of three.
#[inline(never)]
fn philox_pass(t: u32) -> u32 {
    let (mut agent, draw) = ([0u32; PHILOX_BATCH], [5u32; PHILOX_BATCH]);
    let mut out = [[0u32; 4]; PHILOX_BATCH];
    let mut acc = 0u32;
    for b in 0..(65536 / PHILOX_BATCH) as u32 {
        for (k, a) in agent.iter_mut().enumerate() {
            *a = (t << 16) + b * PHILOX_BATCH as u32 + k as u32;
        }
        rng::draw4_many([1, 2], 3, 4, &agent, &draw, &mut out);
        acc = out.iter().fold(acc, |a, w| a.wrapping_add(w[0]));
    }
    acc
}

/// Seconds one `rules::mode_profit` call takes on one thread, measured over (up to 2^16 of)
/// `creators` (exit counts as human) against step `p`'s curves `rp`, the human factor given
/// as `decide`'s grid gives it: the unit in which item 3 of issue #14 prices `decide` ("a
/// small multiple of one profit evaluation").
pub fn profit_eval_secs(creators: &Creators, p: &StepParams, rp: &[[f32; 2]]) -> f64 {
    let n = creators.len().min(1 << 16);
    if n == 0 {
        return f64::NAN;
    }
    let (talent, x, mode, vol) = (&creators.talent[..n], &creators.x[..n], &creators.mode[..n], &creators.vol[..n]);
    let hf: Vec<f32> = x.iter().map(|&x| human_factor(x, p.w, p.inv_z)).collect();
    let per_s = rate(|| {
        let mut acc = 0.0f32;
        for i in 0..n {
            let m = if mode[i] == AI { AI } else { HUMAN };
            let v_star = rules::expected_volume(mode[i], vol[i], p);
            acc += rules::mode_profit(m, black_box(talent[i]), x[i], hf[i], v_star, rp, p);
        }
        black_box(acc);
        n as f64
    });
    1.0 / per_s
}

/// A stage's least time on this CPU (seconds) and what bounds it: "gather", "stream" or
/// "philox".
pub fn stage_bound(w: &StageWork, l: &Limits) -> (f64, &'static str) {
    let parts = [
        (w.random_loads / l.gather_per_s, "gather"),
        (w.stream_bytes / l.stream_bytes_per_s, "stream"),
        (w.philox_blocks / l.philox_per_s, "philox"),
    ];
    parts.into_iter().fold((0.0, "stream"), |a, b| if b.0 > a.0 { b } else { a })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_the_largest_of_the_three() {
        let l = Limits {
            threads: 1,
            gather_per_s: 1e8,
            gather_bytes: 0,
            stream_bytes_per_s: 1e10,
            stream_bytes: 0,
            philox_per_s: 1e8,
        };
        // 1e6 loads = 10 ms; 2e6 blocks = 20 ms; 1e8 bytes = 10 ms.
        let w = StageWork { stream_bytes: 1e8, random_loads: 1e6, philox_blocks: 2e6 };
        let (t, by) = stage_bound(&w, &l);
        assert!((t - 0.02).abs() < 1e-12 && by == "philox", "{t} {by}");
        let (t, by) = stage_bound(&StageWork { stream_bytes: 1e9, ..Default::default() }, &l);
        assert!((t - 0.1).abs() < 1e-12 && by == "stream");
    }
}
