//! The counter-based generator of src/rng.rs in WGSL: Philox4x32-10, the exact integer to
//! float conversions, `below`, the Feistel permutation of buyer ids and the claim keys.
//! WGSL has no 64-bit integers, so the 32x32 -> 64 bit product is built from 16-bit
//! halves; every u32 output is bit-identical to the Rust functions of the same names
//! (tests/parity_cpu_gpu.rs pins them).

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// Mirrors rng::Stream.
const STREAM_INIT: u32 = 1u;
const STREAM_OFFERS: u32 = 2u;
const STREAM_JUNK: u32 = 3u;
const STREAM_SEARCH: u32 = 4u;
const STREAM_BUYERS: u32 = 5u;
const STREAM_DECIDE: u32 = 6u;
const STREAM_PERM: u32 = 7u;

// Mirrors rng::stream_word.
fn stream_word(stream: u32, round: u32) -> u32 {
    return stream | (round << 8u);
}

// High word of the 64-bit product a * b, from four 16x16 -> 32 bit partial products.
fn mulhi(a: u32, b: u32) -> u32 {
    let a_lo = a & 0xffffu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xffffu;
    let b_hi = b >> 16u;
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    // The carry out of the low word: at most three 16-bit terms, so no overflow.
    let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

// Mirrors rng::philox4x32_10.
fn philox4x32_10(c_in: vec4<u32>, k_in: vec2<u32>) -> vec4<u32> {
    var c = c_in;
    var k = k_in;
    for (var i = 0u; i < 10u; i++) {
        if (i > 0u) {
            k.x += PHILOX_W0;
            k.y += PHILOX_W1;
        }
        let hi0 = mulhi(PHILOX_M0, c.x);
        let lo0 = PHILOX_M0 * c.x;
        let hi1 = mulhi(PHILOX_M1, c.z);
        let lo1 = PHILOX_M1 * c.z;
        c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

// Mirrors rng::draw4.
fn draw4(key: vec2<u32>, agent: u32, step: u32, stream: u32, draw: u32) -> vec4<u32> {
    return philox4x32_10(vec4<u32>(agent, step, stream, draw), key);
}

// Mirrors rng::unit_f32: 24 bits, exact in f32, so identical on both sides.
fn unit_f32(u: u32) -> f32 {
    return f32(u >> 8u) * (1.0 / 16777216.0);
}

// Mirrors rng::unit_open_f32.
fn unit_open_f32(u: u32) -> f32 {
    return f32((u >> 8u) + 1u) * (1.0 / 16777216.0);
}

// Mirrors rng::below (multiply-high).
fn below(u: u32, n: u32) -> u32 {
    return mulhi(u, n);
}

// cos(a) for a in [0, 2 pi). WGSL only bounds the error of cos on [-pi, pi], so shift by pi.
fn cos_0_tau(a: f32) -> f32 {
    return -cos(a - PI);
}

// Mirrors rng::normal_f32 (agrees to a few ulps: ln, sqrt and cos are not exact).
fn normal_f32(u1: u32, u2: u32) -> f32 {
    let r = sqrt(-2.0 * log(unit_open_f32(u1)));
    return r * cos_0_tau(TAU * unit_f32(u2));
}

// Mirrors rng::hash32.
fn hash32(x_in: u32) -> u32 {
    var x = x_in;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

const PERM_HALF: u32 = 15u;
const PERM_HALF_MASK: u32 = 0x7fffu;

// Mirrors rng::permute30.
fn permute30(x: u32, k: vec2<u32>) -> u32 {
    var l = (x >> PERM_HALF) & PERM_HALF_MASK;
    var r = x & PERM_HALF_MASK;
    for (var i = 0u; i < 4u; i++) {
        let ki = select(k.x, k.y, (i & 1u) == 1u);
        let f = hash32(r ^ (ki + i * 0x9E3779B9u)) & PERM_HALF_MASK;
        let nl = r;
        r = l ^ f;
        l = nl;
    }
    return (l << PERM_HALF) | r;
}

// Mirrors rng::claim_key.
fn claim_key(j: u32, pk: vec2<u32>) -> u32 {
    return permute30(j, pk) + 1u;
}
