//! Shared by every stage shader, after the generated `struct Params`: the ensemble layout
//! (`Batch`), the unit record (`Unit`), the constants mirrored from Rust (checked by name
//! and value against `backend::gpu::mirrored_constants` in a test), the 2-D dispatch
//! index, and the technology functions several stages use. The host prepends this file
//! and rng.wgsl to each stage's source (WGSL has no #include).
//!
//! Ensembles: the buffers hold `batch.n_markets` independent markets of equal size, market
//! m's creators at [m nc, (m + 1) nc), its buyers at [m nb, (m + 1) nb) and its units at
//! [m unit_stride, (m + 1) unit_stride). `params[m]` holds market m's parameters. A thread
//! first `enter`s its market, which loads them into the private `p`; random draws and
//! claim keys then use the agent's id *within* its market, so a market's numbers do not
//! depend on which ensemble it runs in (a single run is an ensemble of one).

// `struct Params` (the per-step parameters) is generated from `StepParams` in
// src/model/params.rs and prepended by the host.

// Sizes shared by every market of the ensemble (src/backend/gpu/buffers.rs, `BatchLayout`).
struct Batch {
    n_markets: u32,
    nc: u32,
    nb: u32,
    unit_stride: u32,
}

// One unit slot of the chunked unit arrays (bind group 1; src/backend/gpu/buffers.rs,
// `UnitRecord`): its owner (creator id in the ensemble), its claim word (CLAIM_EMPTY,
// CLAIM_SOLD or the smallest key proposing this round) and the owner's offer of this step
// (nominal quality, price), copied in by `scan_fill`. A search sample thus touches one
// 16-byte record; reading the claim, then the owner, then the owner's offer would be three
// dependent random loads.
struct Unit {
    owner: u32,
    claim: atomic<u32>,
    q: f32,
    price: f32,
}

// A `Unit` as read by `unit_view`: the claim word by `atomicLoad`, the rest plainly.
struct UnitView {
    owner: u32,
    claim: u32,
    q: f32,
    price: f32,
}

@group(0) @binding(0) var<storage, read> params: array<Params>;
@group(0) @binding(31) var<uniform> batch: Batch;

// The parameters of this thread's market, and its index; set by `enter`.
var<private> p: Params;
var<private> mk: u32;

fn enter(m: u32) {
    mk = m;
    p = params[m];
}

// First unit slot of this thread's market.
fn unit_base() -> u32 {
    return mk * batch.unit_stride;
}

const EXIT: u32 = 0u;
const AI: u32 = 1u;
const HUMAN: u32 = 2u;
const NONE: u32 = 0xffffffffu;
const CLAIM_EMPTY: u32 = 0xffffffffu;
const CLAIM_SOLD: u32 = 0u;
const JUNK_BIT: u32 = 0x80000000u;
const AI_BIT: u32 = 0x40000000u;
const ID_MASK: u32 = 0x3fffffffu;
const CH_AI: u32 = 0u;
const CH_HUMAN: u32 = 1u;
const PI: f32 = 3.14159265358979;
// Mirrors the Q-learning constants of model::rules (actions index `qvals`; the packed
// `reskill` word: bits 0..16 steps left, 16..18 the last action, bit 18 initialised).
const Q_STAY: u32 = 0u;
const Q_RESKILL: u32 = 1u;
const Q_ADOPT: u32 = 2u;
const Q_EXIT: u32 = 3u;
const RESKILL_LEFT: u32 = 0xffffu;
const RESKILL_ACTION_SHIFT: u32 = 16u;
const RESKILL_INIT: u32 = 0x40000u;
const TAU: f32 = 6.28318530717959;

/// Threads per workgroup of every per-agent kernel.
const WG: u32 = 256u;

// The builtins of a kernel's entry point, in one struct so entry points stay short.
struct Ids {
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
}

// The thread of a kernel over `per` agents per market (batch.nc or batch.nb): its agent's
// index in the ensemble, after entering the agent's market; NONE past the last agent.
fn agent_thread(ids: Ids, per: u32) -> u32 {
    let g = flat_id(ids.wid, ids.nwg, ids.lid);
    if (g >= batch.n_markets * per) {
        return NONE;
    }
    enter(g / per);
    return g;
}

// The workgroup of a kernel over `per` workgroups per market: its index in the ensemble's
// grid, after entering its market; NONE past the last. The same for every thread of the
// workgroup, so a kernel that returns on NONE keeps its barriers in uniform control flow.
fn group_thread(ids: Ids, per: u32) -> u32 {
    let g = flat_group(ids.wid, ids.nwg);
    if (g >= batch.n_markets * per) {
        return NONE;
    }
    enter(g / per);
    return g;
}

// The index within its market of agent (or workgroup) g of the market entered: random
// draws and claim keys use it, so a market's numbers do not depend on its ensemble.
fn local_id(g: u32, per: u32) -> u32 {
    return g - mk * per;
}

// Agent index of a thread. Dispatches over more than 65535 workgroups are tiled in 2-D
// by the host; the excess threads of the last row fail the caller's bounds check.
fn flat_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.x + wid.y * nwg.x) * WG + lid;
}

// Flat workgroup index of a 2-D tiled dispatch.
fn flat_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}

// Mirrors model::technology::human_factor.
fn human_factor(x: f32, w: f32, inv_z: f32) -> f32 {
    return pow(1.0 - x, w) * pow(x, 1.0 - w) * inv_z;
}

// Mirrors model::technology::q_human.
fn q_human(talent: f32, x: f32, w: f32, inv_z: f32) -> f32 {
    return talent * human_factor(x, w, inv_z);
}

// Mirrors model::technology::q_ai.
fn q_ai(talent: f32, x: f32, alpha: f32, qbar: f32) -> f32 {
    return min(alpha * talent * x, qbar);
}

// Mirrors model::rules::nominal_quality.
fn nominal_quality(mode: u32, talent: f32, x: f32) -> f32 {
    if (mode == AI) {
        return q_ai(talent, x, p.alpha_a, p.qbar_a);
    }
    return q_human(talent, x, p.w, p.inv_z);
}

// Mirrors model::market::bin_of.
// Rust's `as u32` truncates and saturates (negative and NaN give 0); WGSL leaves
// out-of-range conversions to the implementation, so saturate explicitly.
fn bin_of(q: f32, q_max: f32, bins: u32) -> u32 {
    let b = q / q_max * f32(bins);
    if (!(b >= 0.0)) {
        return 0u;
    }
    return min(u32(min(b, 4294967040.0)), bins - 1u);
}

// Mirrors model::rules::reskill_left.
fn reskill_left(word: u32) -> u32 {
    return word & RESKILL_LEFT;
}

// Mirrors model::rules::cost_of (in f32; the CPU widens the same f32 result to f64).
// Here rather than in reduce.wgsl because decide's Q-learning reward needs it too.
fn cost_of(m: u32, k: u32, s: u32) -> f32 {
    let kf = f32(k);
    let sf = f32(s);
    if (m == AI) {
        return p.f_ai + p.adoption_tax + (p.c_ai + p.unit_tax) * kf + p.api_fee * sf;
    }
    if (m == HUMAN) {
        return (p.c_human - p.subsidy) * select(sf, kf, p.human_cost_produced != 0u);
    }
    return 0.0;
}

// Mirrors model::rules::cost_with_reskill (in f32; the CPU adds in f64 what are f32
// values, so the two agree to rounding): a creator re-skilling pays reskill_cost even
// with nothing on offer.
fn cost_with_reskill(m: u32, k: u32, s: u32, rs: u32) -> f32 {
    let training = select(0.0, p.reskill_cost, reskill_left(rs) > 0u);
    return select(0.0, cost_of(m, k, s), k > 0u) + training;
}
