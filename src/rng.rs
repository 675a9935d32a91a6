//! The counter-based random number generator shared by the CPU and the WGSL code.
//!
//! Philox4x32-10 (Salmon et al., SC'11): a bijection of a 128-bit counter under a 64-bit key.
//! Every random number in a run is addressed by `(seed, agent, step, stream, draw)`, so no
//! state is carried between stages and any thread order gives the same numbers. The WGSL
//! mirror is `shaders/rng.wgsl`; its outputs are pinned against this file by tests.
//! Conversions to floats use only exact integer arithmetic (`u >> 8` times 2^-24), so
//! uniforms are bit-identical on both sides; normals use `ln`/`cos` and agree to a few ulps.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// What a draw is used for: the third counter word, so stages never share numbers.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Initial agent state (talent, taste, skill split).
    Init = 1,
    /// AI volume rounding in `offers`.
    Offers = 2,
    /// Junk flag of an AI unit, addressed by unit index.
    Junk = 3,
    /// Sampling in `search`; the round is folded into the stream word.
    Search = 4,
    /// Buyers' return from inactivity.
    Buyers = 5,
    /// Mode revision and provider choice in `decide`.
    Decide = 6,
    /// Keys of the buyer permutation used to resolve conflicts.
    Perm = 7,
    /// Host-side draws through `PhiloxRng` (no stage uses it, so they share no numbers).
    Host = 8,
}

/// The stream word for `stream` in matching round `round` (rounds < 256).
#[inline]
pub fn stream_word(stream: Stream, round: u32) -> u32 {
    (stream as u32) | (round << 8)
}

#[inline]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = (a as u64) * (b as u64);
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32 with 10 rounds on counter `c` and key `k`.
#[inline]
pub fn philox4x32_10(mut c: [u32; 4], mut k: [u32; 2]) -> [u32; 4] {
    for i in 0..10 {
        if i > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// Splits a 64-bit seed into the Philox key.
#[inline]
pub fn key_of(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// Four random words for `(agent, step, stream word, draw)` under `key`.
#[inline]
pub fn draw4(key: [u32; 2], agent: u32, step: u32, stream: u32, draw: u32) -> [u32; 4] {
    philox4x32_10([agent, step, stream, draw], key)
}

/// Philox blocks computed side by side by the portable `draw4_many_lanes` (two SSE2
/// registers per word).
const LANES: usize = 8;

/// `draw4` for many addresses at once: `out[i] = draw4(key, agent[i], step, stream,
/// draw[i])` for every i (the three slices of one length). The blocks are computed side by
/// side in SIMD registers (64 at a time with AVX-512, 16 with AVX2, `LANES` without either;
/// checked at run time): the same integer operations, so the same words, several times
/// faster than one by one.
pub fn draw4_many(key: [u32; 2], step: u32, stream: u32, agent: &[u32], draw: &[u32], out: &mut [[u32; 4]]) {
    assert!(agent.len() == out.len() && draw.len() == out.len(), "draw4_many: one agent and one draw per block");
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above).
        unsafe { draw4_many_avx512(key, step, stream, agent, draw, out) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { draw4_many_avx2(key, step, stream, agent, draw, out) };
        return;
    }
    draw4_many_lanes(key, step, stream, agent, draw, out);
}

/// `draw4_many` with AVX-512: 64 blocks per pass as four independent groups of 16 lanes,
/// so that each group's multiplies run in the others' latency (two groups drew 4.6·10^8
/// blocks/s on one thread of the development machine, four 5.2·10^8, AVX2 4.1·10^8); the
/// last pass takes as few groups as hold what is left (the stages often draw for a few
/// agents of a batch). Against AVX2, each 32x32 -> 64-bit product's halves are put in place
/// by one masked in-lane shuffle each instead of a shift and a blend, and each round's two
/// three-way exclusive ors are one ternary-logic instruction each: 12 instructions per
/// round for 16 blocks where AVX2 takes 36.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn draw4_many_avx512(key: [u32; 2], step: u32, stream: u32, agent: &[u32], draw: &[u32], out: &mut [[u32; 4]]) {
    // The passes share this function's target feature (callable without `unsafe`).
    for ((a, d), o) in agent.chunks(64).zip(draw.chunks(64)).zip(out.chunks_mut(64)) {
        match o.len() {
            0..=16 => philox_pass_avx512::<1>(key, step, stream, a, d, o),
            17..=32 => philox_pass_avx512::<2>(key, step, stream, a, d, o),
            _ => philox_pass_avx512::<4>(key, step, stream, a, d, o),
        }
    }
}

/// The ten Philox-4x32 rounds on G groups of 16 blocks held word by word (`c[w][h]`: word
/// w of the blocks of group h, one per lane), under `key`.
///
/// The round keys are bumped in the loop, as in the other Philox loops of this file: taken
/// from an array of the ten keys computed once (tried in 0313951), the AVX-512 draws fell
/// from 1.10-1.11·10^9 to 9.5·10^8 blocks/s on two threads.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn philox_rounds_avx512<const G: usize>(
    c: [[std::arch::x86_64::__m512i; G]; 4],
    key: [u32; 2],
) -> [[std::arch::x86_64::__m512i; G]; 4] {
    use std::arch::x86_64::*;
    /// (high, low) halves of m * x per 32-bit lane (m broadcast). The even lanes' products
    /// come from `vpmuludq` as is, the odd lanes' from it on the pairs swapped; a masked
    /// pair swap then takes each lane's half from the right product.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn mulhilo16(m: __m512i, x: __m512i) -> (__m512i, __m512i) {
        const SWAP: _MM_PERM_ENUM = 0b10_11_00_01;
        let even = _mm512_mul_epu32(m, x);
        let odd = _mm512_mul_epu32(m, _mm512_shuffle_epi32::<SWAP>(x));
        let lo = _mm512_mask_shuffle_epi32::<SWAP>(even, 0xAAAA, odd);
        let hi = _mm512_mask_shuffle_epi32::<SWAP>(odd, 0x5555, even);
        (hi, lo)
    }
    let (m0, m1) = (_mm512_set1_epi32(M0 as i32), _mm512_set1_epi32(M1 as i32));
    let [mut c0, mut c1, mut c2, mut c3] = c;
    let mut k = key;
    for i in 0..10 {
        if i > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let (k0, k1) = (_mm512_set1_epi32(k[0] as i32), _mm512_set1_epi32(k[1] as i32));
        for h in 0..G {
            let (hi0, lo0) = mulhilo16(m0, c0[h]);
            let (hi1, lo1) = mulhilo16(m1, c2[h]);
            // 0x96: a ^ b ^ c.
            c0[h] = _mm512_ternarylogic_epi32::<0x96>(hi1, c1[h], k0);
            c1[h] = lo1;
            c2[h] = _mm512_ternarylogic_epi32::<0x96>(hi0, c3[h], k1);
            c3[h] = lo0;
        }
    }
    [c0, c1, c2, c3]
}

/// Word 0 of `draw4(key, agent0 + i, step, stream, 0)` in `out[i]`, for consecutive agents:
/// what a stage that reads one word for some agents of a batch needs. Every agent's block is
/// computed (a compacted list of the agents that read one saved nothing where most of a
/// batch does, as the inactive buyers of `buyers` do after the shock), and with AVX-512 the
/// word comes straight from its register, without turning the blocks' words back into
/// blocks. At 10^6 on one thread (the step's stages, three rounds) `buyers` went from
/// 15.8-17.5 to 11.5 ms and `offers` from 8.0-8.4 to 5.8 when they took it.
pub fn first_words_range(key: [u32; 2], step: u32, stream: u32, agent0: u32, out: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above).
        unsafe { first_words_range_avx512(key, step, stream, agent0, out) };
        return;
    }
    first_words_range_blocks(key, step, stream, agent0, out);
}

/// `first_words_range` through `draw4_many`: whole blocks, word 0 kept.
fn first_words_range_blocks(key: [u32; 2], step: u32, stream: u32, agent0: u32, out: &mut [u32]) {
    let mut w = [[0u32; 4]; 64];
    for (c, o) in out.chunks_mut(64).enumerate() {
        let agents: [u32; 64] = std::array::from_fn(|l| agent0.wrapping_add((64 * c + l) as u32));
        draw4_many(key, step, stream, &agents[..o.len()], &[0; 64][..o.len()], &mut w[..o.len()]);
        o.iter_mut().zip(&w).for_each(|(o, w)| *o = w[0]);
    }
}

/// `first_words_range` with AVX-512: 64 agents per pass (four groups of 16 lanes), the last
/// pass as few groups as hold what is left, its last group stored under a mask.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn first_words_range_avx512(key: [u32; 2], step: u32, stream: u32, agent0: u32, out: &mut [u32]) {
    use std::arch::x86_64::*;
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn pass<const G: usize>(key: [u32; 2], step: u32, stream: u32, a0: u32, out: &mut [u32]) {
        let iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        let c = [
            std::array::from_fn(|h| _mm512_add_epi32(_mm512_set1_epi32(a0.wrapping_add(16 * h as u32) as i32), iota)),
            [_mm512_set1_epi32(step as i32); G],
            [_mm512_set1_epi32(stream as i32); G],
            [_mm512_setzero_si512(); G],
        ];
        let [c0, ..] = philox_rounds_avx512(c, key);
        for (h, &w) in c0.iter().enumerate() {
            let left = out.len().saturating_sub(16 * h).min(16);
            let mask = ((1u32 << left) - 1) as u16;
            // SAFETY: the lanes stored are those of `mask`, words 16 h .. 16 h + left of `out`
            // (none where the group lies past its end: the address is formed with wrapping
            // arithmetic and not written).
            unsafe { _mm512_mask_storeu_epi32(out.as_mut_ptr().wrapping_add(16 * h).cast(), mask, w) };
        }
    }
    for (c, o) in out.chunks_mut(64).enumerate() {
        let a0 = agent0.wrapping_add(64 * c as u32);
        match o.len() {
            0..=16 => pass::<1>(key, step, stream, a0, o),
            17..=32 => pass::<2>(key, step, stream, a0, o),
            _ => pass::<4>(key, step, stream, a0, o),
        }
    }
}

/// Up to 16 G blocks of `draw4_many_avx512`, as G groups of 16 lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn philox_pass_avx512<const G: usize>(
    key: [u32; 2],
    step: u32,
    stream: u32,
    agent: &[u32],
    draw: &[u32],
    out: &mut [[u32; 4]],
) {
    use std::arch::x86_64::*;
    let n = out.len();
    assert!(n <= 16 * G && agent.len() == n && draw.len() == n);
    // Loads and stores under masks: no copy into or out of a buffer for a partial pass.
    let upto = |from: usize, per: usize| -> u16 { ((1u32 << (n.saturating_sub(from).min(16 / per) * per)) - 1) as u16 };
    let load = |v: &[u32], h: usize| -> __m512i {
        // SAFETY: the lanes loaded are those of the mask, words 16 h .. n of `v` (n long);
        // the address is formed with wrapping arithmetic and not read where masked off.
        unsafe { _mm512_maskz_loadu_epi32(upto(16 * h, 1), v.as_ptr().wrapping_add(16 * h).cast()) }
    };
    let c = [
        std::array::from_fn(|h| load(agent, h)),
        [_mm512_set1_epi32(step as i32); G],
        [_mm512_set1_epi32(stream as i32); G],
        std::array::from_fn(|h| load(draw, h)),
    ];
    let [c0, c1, c2, c3] = philox_rounds_avx512(c, key);
    // Lane l of (c0, c1, c2, c3) is block l: interleaved into blocks by two-source permutes
    // (words 0 and 1, 2 and 3 of eight blocks; then the two halves of each block), and
    // stored four blocks at a time, under a mask past the end of `out`.
    // Pairs (w_a, w_b) of blocks 0..8 and 8..16 of a group, lane by lane.
    let lo_pairs = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    let hi_pairs = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    // Blocks from the (w0, w1) and (w2, w3) pairs: 64-bit lanes interleaved.
    let lo_blocks = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    let hi_blocks = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    let dst = out.as_mut_ptr();
    for h in 0..G {
        let w01 =
            [_mm512_permutex2var_epi32(c0[h], lo_pairs, c1[h]), _mm512_permutex2var_epi32(c0[h], hi_pairs, c1[h])];
        let w23 =
            [_mm512_permutex2var_epi32(c2[h], lo_pairs, c3[h]), _mm512_permutex2var_epi32(c2[h], hi_pairs, c3[h])];
        for (g, (a, b)) in w01.into_iter().zip(w23).enumerate() {
            let blocks = [_mm512_permutex2var_epi64(a, lo_blocks, b), _mm512_permutex2var_epi64(a, hi_blocks, b)];
            for (j, r) in blocks.into_iter().enumerate() {
                let b0 = 16 * h + 8 * g + 4 * j;
                // SAFETY: the words stored are those of the mask, of blocks b0 .. n of `out`;
                // the address is formed with wrapping arithmetic and not written where masked off.
                unsafe { _mm512_mask_storeu_epi32(dst.wrapping_add(b0).cast(), upto(b0, 4), r) };
            }
        }
    }
}

/// `draw4_many` with AVX2: 16 blocks per pass as two independent groups of 8 lanes, so one
/// group's multiplies run in the other's latency. Each 32x32 -> 64-bit product of Philox
/// is two `vpmuludq` (even and odd lanes) recombined by shifts and blends.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn draw4_many_avx2(key: [u32; 2], step: u32, stream: u32, agent: &[u32], draw: &[u32], out: &mut [[u32; 4]]) {
    use std::arch::x86_64::*;
    /// (high, low) halves of m * x per 32-bit lane (`mulhilo` on 8 lanes; m broadcast).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mulhilo8(m: __m256i, x: __m256i) -> (__m256i, __m256i) {
        let even = _mm256_mul_epu32(m, x);
        let odd = _mm256_mul_epu32(m, _mm256_srli_epi64::<32>(x));
        let lo = _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd));
        let hi = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(even), odd);
        (hi, lo)
    }
    const N: usize = 16;
    let load = |v: &[u32; N], h: usize| -> __m256i {
        // SAFETY: h is 0 or 1, so the 8 words read lie inside the 16 of `v`.
        unsafe { _mm256_loadu_si256(v.as_ptr().add(8 * h).cast()) }
    };
    let (m0, m1) = (_mm256_set1_epi32(M0 as i32), _mm256_set1_epi32(M1 as i32));
    for ((a, d), o) in agent.chunks(N).zip(draw.chunks(N)).zip(out.chunks_mut(N)) {
        let (mut ca, mut cd) = ([0u32; N], [0u32; N]);
        ca[..a.len()].copy_from_slice(a);
        cd[..d.len()].copy_from_slice(d);
        let mut c0 = [load(&ca, 0), load(&ca, 1)];
        let mut c1 = [_mm256_set1_epi32(step as i32); 2];
        let mut c2 = [_mm256_set1_epi32(stream as i32); 2];
        let mut c3 = [load(&cd, 0), load(&cd, 1)];
        let mut k = key;
        for i in 0..10 {
            if i > 0 {
                k[0] = k[0].wrapping_add(W0);
                k[1] = k[1].wrapping_add(W1);
            }
            let (k0, k1) = (_mm256_set1_epi32(k[0] as i32), _mm256_set1_epi32(k[1] as i32));
            for h in 0..2 {
                let (hi0, lo0) = mulhilo8(m0, c0[h]);
                let (hi1, lo1) = mulhilo8(m1, c2[h]);
                c0[h] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[h]), k0);
                c1[h] = lo1;
                c2[h] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[h]), k1);
                c3[h] = lo0;
            }
        }
        // Lane l of (c0, c1, c2, c3) is block l: transposed in registers (4x4 within each
        // 128-bit half, then the halves paired), eight blocks per group, stored whole; a
        // partial last pass goes through a buffer.
        let mut buf = [[0u32; 4]; N];
        let full = o.len() == N;
        let dst: *mut [u32; 4] = if full { o.as_mut_ptr() } else { buf.as_mut_ptr() };
        for h in 0..2 {
            let t0 = _mm256_unpacklo_epi32(c0[h], c1[h]);
            let t1 = _mm256_unpackhi_epi32(c0[h], c1[h]);
            let t2 = _mm256_unpacklo_epi32(c2[h], c3[h]);
            let t3 = _mm256_unpackhi_epi32(c2[h], c3[h]);
            // Blocks (0, 4), (1, 5), (2, 6), (3, 7) of the group.
            let u = [
                _mm256_unpacklo_epi64(t0, t2),
                _mm256_unpackhi_epi64(t0, t2),
                _mm256_unpacklo_epi64(t1, t3),
                _mm256_unpackhi_epi64(t1, t3),
            ];
            let pairs = [
                _mm256_permute2x128_si256::<0x20>(u[0], u[1]),
                _mm256_permute2x128_si256::<0x20>(u[2], u[3]),
                _mm256_permute2x128_si256::<0x31>(u[0], u[1]),
                _mm256_permute2x128_si256::<0x31>(u[2], u[3]),
            ];
            for (j, r) in pairs.into_iter().enumerate() {
                // SAFETY: blocks 8 h + 2 j and the one after lie inside the N blocks `dst`
                // points to (`o` when it holds N, else `buf`).
                unsafe { _mm256_storeu_si256(dst.add(8 * h + 2 * j).cast(), r) };
            }
        }
        if !full {
            o.copy_from_slice(&buf[..o.len()]);
        }
    }
}

#[inline(always)]
fn draw4_many_lanes(key: [u32; 2], step: u32, stream: u32, agent: &[u32], draw: &[u32], out: &mut [[u32; 4]]) {
    for ((a, d), o) in agent.chunks(LANES).zip(draw.chunks(LANES)).zip(out.chunks_mut(LANES)) {
        let mut c = [[0u32; LANES], [step; LANES], [stream; LANES], [0u32; LANES]];
        c[0][..a.len()].copy_from_slice(a);
        c[3][..d.len()].copy_from_slice(d);
        let w = philox4x32_10_lanes(c, key);
        for (l, o) in o.iter_mut().enumerate() {
            *o = [w[0][l], w[1][l], w[2][l], w[3][l]];
        }
    }
}

/// `philox4x32_10` on `LANES` counters at once, word-major (`c[word][lane]`), written so the
/// compiler keeps each word's lanes in one vector register.
#[inline(always)]
fn philox4x32_10_lanes(mut c: [[u32; LANES]; 4], mut k: [u32; 2]) -> [[u32; LANES]; 4] {
    for i in 0..10 {
        if i > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let mut n = [[0u32; LANES]; 4];
        for l in 0..LANES {
            let (hi0, lo0) = mulhilo(M0, c[0][l]);
            let (hi1, lo1) = mulhilo(M1, c[2][l]);
            n[0][l] = hi1 ^ c[1][l] ^ k[0];
            n[1][l] = lo1;
            n[2][l] = hi0 ^ c[3][l] ^ k[1];
            n[3][l] = lo0;
        }
        c = n;
    }
    c
}

/// Uniform in [0, 1) with 24 bits, exactly representable in f32.
#[inline]
pub fn unit_f32(u: u32) -> f32 {
    (u >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Uniform in (0, 1], for logarithms.
#[inline]
pub fn unit_open_f32(u: u32) -> f32 {
    ((u >> 8) + 1) as f32 * (1.0 / 16_777_216.0)
}

/// Uniform integer in [0, n) by the multiply-high method (bias below n / 2^32).
#[inline]
pub fn below(u: u32, n: u32) -> u32 {
    ((u as u64 * n as u64) >> 32) as u32
}

/// Standard normal from two words (Box–Muller, cosine branch).
#[inline]
pub fn normal_f32(u1: u32, u2: u32) -> f32 {
    let r = (-2.0 * unit_open_f32(u1).ln()).sqrt();
    r * (std::f32::consts::TAU * unit_f32(u2)).cos()
}

/// A small integer hash (the "lowbias32" finaliser), used by the Feistel permutation.
#[inline]
pub fn hash32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// Number of bits of the buyer-key domain: buyer ids must be below 2^30.
pub const PERM_BITS: u32 = 30;
const HALF: u32 = PERM_BITS / 2;
const HALF_MASK: u32 = (1 << HALF) - 1;

/// A bijection of [0, 2^30) keyed by `k` (a 4-round balanced Feistel network).
/// Used to rank buyers when several claim the same unit: a pseudo-random but
/// scheduling-independent priority that changes every step and round.
#[inline]
pub fn permute30(x: u32, k: [u32; 2]) -> u32 {
    let mut l = (x >> HALF) & HALF_MASK;
    let mut r = x & HALF_MASK;
    for i in 0..4u32 {
        let f = hash32(r ^ k[(i & 1) as usize].wrapping_add(i.wrapping_mul(0x9E37_79B9))) & HALF_MASK;
        let nl = r;
        r = l ^ f;
        l = nl;
    }
    (l << HALF) | r
}

/// The permutation key for `(step, round)`.
#[inline]
pub fn perm_key(key: [u32; 2], step: u32, round: u32) -> [u32; 2] {
    let w = draw4(key, 0, step, stream_word(Stream::Perm, round), 0);
    [w[0], w[1]]
}

/// Claim value of buyer `j`: in [1, 2^30]; 0 marks a sold unit, `u32::MAX` an unclaimed one.
#[inline]
pub fn claim_key(j: u32, pk: [u32; 2]) -> u32 {
    permute30(j, pk) + 1
}

/// The words of one address `(seed, agent, step, stream)` as a sequential stream: block k
/// is `draw4(key, agent, step, stream, k)`. Implements `rand`'s `TryRng` (hence `Rng`) and
/// `SeedableRng`, so host-side code can draw from rand's distributions with the same
/// counter-based addressing (and the same reproducibility) as the stages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhiloxRng {
    key: [u32; 2],
    agent: u32,
    step: u32,
    stream: u32,
    draw: u32,
    buf: [u32; 4],
    pos: usize,
}

impl PhiloxRng {
    /// The stream at `(seed, agent, step, stream)`, starting at draw 0.
    pub fn new(seed: u64, agent: u32, step: u32, stream: u32) -> Self {
        Self { key: key_of(seed), agent, step, stream, draw: 0, buf: [0; 4], pos: 4 }
    }
}

impl rand::TryRng for PhiloxRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        if self.pos == 4 {
            self.buf = draw4(self.key, self.agent, self.step, self.stream, self.draw);
            self.draw = self.draw.wrapping_add(1);
            self.pos = 0;
        }
        self.pos += 1;
        Ok(self.buf[self.pos - 1])
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let lo = self.try_next_u32()? as u64;
        Ok(lo | (self.try_next_u32()? as u64) << 32)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(4) {
            let w = self.try_next_u32()?.to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand::SeedableRng for PhiloxRng {
    /// The run seed, little-endian.
    type Seed = [u8; 8];

    /// The host stream of agent 0 at step 0 under this seed.
    fn from_seed(seed: [u8; 8]) -> Self {
        Self::new(u64::from_le_bytes(seed), 0, 0, Stream::Host as u32)
    }

    /// As `from_seed`: the seed is the run seed itself, not expanded, so the stream is the
    /// one `PhiloxRng::new(seed, 0, 0, Stream::Host)` addresses.
    fn seed_from_u64(seed: u64) -> Self {
        Self::from_seed(seed.to_le_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rand_adapter_streams_the_addressed_philox_words() {
        use rand::{Rng, RngExt, SeedableRng};
        let mut r = PhiloxRng::new(42, 7, 3, Stream::Host as u32);
        let words: Vec<u32> = (0..8).map(|_| r.next_u32()).collect();
        let key = key_of(42);
        assert_eq!(words[..4], draw4(key, 7, 3, Stream::Host as u32, 0));
        assert_eq!(words[4..], draw4(key, 7, 3, Stream::Host as u32, 1));
        // rand's distributions run on it, reproducibly, and seeding addresses the same words.
        let a: Vec<f64> = PhiloxRng::seed_from_u64(42).random_iter().take(100).collect();
        let b: Vec<f64> = PhiloxRng::new(42, 0, 0, Stream::Host as u32).random_iter().take(100).collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|x| (0.0..1.0).contains(x)));
        assert!((a.iter().sum::<f64>() / 100.0 - 0.5).abs() < 0.1);
        let mut bytes = [0u8; 6];
        PhiloxRng::new(42, 7, 3, Stream::Host as u32).fill_bytes(&mut bytes);
        assert_eq!(bytes[..4], words[0].to_le_bytes());
        assert_eq!(bytes[4..], words[1].to_le_bytes()[..2]);
    }

    // Known-answer vectors published with Random123 (kat_vectors, philox4x32_10).
    #[test]
    fn philox_matches_random123_known_answers() {
        assert_eq!(philox4x32_10([0; 4], [0; 2]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        assert_eq!(philox4x32_10([u32::MAX; 4], [u32::MAX; 2]), [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
        assert_eq!(
            philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn first_words_of_a_range_are_the_draws_first_words() {
        let key = key_of(0x0bad_cafe_1234_5678);
        let sw = stream_word(Stream::Buyers, 0);
        // Lengths around the passes' groups, and agents that wrap past u32::MAX.
        for n in [0usize, 1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 130] {
            for agent0 in [0u32, 4096 * 3 + 64, u32::MAX - 20] {
                // Whatever the CPU picks, and the path through whole blocks.
                for (how, f) in
                    [("picked", first_words_range as fn(_, _, _, _, &mut [u32])), ("blocks", first_words_range_blocks)]
                {
                    let mut out = vec![7u32; n + 3];
                    f(key, 61, sw, agent0, &mut out[..n]);
                    for (i, &w) in out[..n].iter().enumerate() {
                        let want = draw4(key, agent0.wrapping_add(i as u32), 61, sw, 0)[0];
                        assert_eq!(w, want, "{how}: word {i} of {n} from {agent0}");
                    }
                    assert_eq!(out[n..], [7; 3], "{how}: nothing written past the range ({n} from {agent0})");
                }
            }
        }
    }

    #[test]
    fn many_draws_at_once_are_the_draws_one_by_one() {
        let key = key_of(0x1234_5678_9abc_def0);
        for n in [0usize, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100] {
            let agent: Vec<u32> = (0..n as u32).map(|i| hash32(i) >> 2).collect();
            let draw: Vec<u32> = (0..n as u32).map(|i| i % 5).collect();
            let mut out = vec![[0u32; 4]; n];
            draw4_many(key, 17, stream_word(Stream::Search, 1), &agent, &draw, &mut out);
            for i in 0..n {
                assert_eq!(
                    out[i],
                    draw4(key, agent[i], 17, stream_word(Stream::Search, 1), draw[i]),
                    "block {i} of {n}"
                );
            }
            // And the portable lanes and each vector version the CPU has, whatever
            // `draw4_many` picked above.
            let mut lanes = vec![[0u32; 4]; n];
            draw4_many_lanes(key, 17, stream_word(Stream::Search, 1), &agent, &draw, &mut lanes);
            assert_eq!(lanes, out, "portable lanes, {n} blocks");
            #[cfg(target_arch = "x86_64")]
            {
                let sw = stream_word(Stream::Search, 1);
                if std::arch::is_x86_feature_detected!("avx2") {
                    lanes.fill([0; 4]);
                    // SAFETY: the CPU has AVX2 (checked just above).
                    unsafe { draw4_many_avx2(key, 17, sw, &agent, &draw, &mut lanes) };
                    assert_eq!(lanes, out, "AVX2, {n} blocks");
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // Past the blocks asked for, room its masked stores must leave alone.
                    let mut wide = vec![[9u32; 4]; n + 70];
                    // SAFETY: the CPU has AVX-512F (checked just above).
                    unsafe { draw4_many_avx512(key, 17, sw, &agent, &draw, &mut wide[..n]) };
                    assert_eq!(wide[..n], out[..], "AVX-512, {n} blocks");
                    assert!(wide[n..].iter().all(|&b| b == [9; 4]), "AVX-512 wrote past {n} blocks");
                }
            }
        }
    }

    #[test]
    fn permutation_is_a_bijection_on_a_prefix_sample() {
        let k = perm_key(key_of(7), 3, 1);
        let mut seen = std::collections::HashSet::new();
        for j in 0..200_000u32 {
            let p = permute30(j, k);
            assert!(p < (1 << PERM_BITS));
            assert!(seen.insert(p), "collision at {j}");
        }
    }

    #[test]
    fn uniforms_are_in_range_and_exact() {
        assert_eq!(unit_f32(0), 0.0);
        assert!(unit_f32(u32::MAX) < 1.0);
        assert_eq!(unit_open_f32(u32::MAX), 1.0);
        assert!(unit_open_f32(0) > 0.0);
        assert_eq!(below(u32::MAX, 10), 9);
        assert_eq!(below(0, 10), 0);
    }
}
