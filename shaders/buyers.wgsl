//! Stage 3, buyers (mirrors CpuBackend::buyers): realized utility of the step,
//! participation score, channel experience and directedness. One thread per buyer.

@group(0) @binding(1) var<storage, read> offer: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> theta: array<f32>;
@group(0) @binding(3) var<storage, read> searches: array<u32>;
@group(0) @binding(4) var<storage, read> bought: array<u32>;
@group(0) @binding(5) var<storage, read_write> util: array<f32>;
@group(0) @binding(6) var<storage, read_write> active_flag: array<u32>;
@group(0) @binding(7) var<storage, read_write> experience: array<vec2<f32>>;
@group(0) @binding(8) var<storage, read_write> d: array<f32>;
@group(0) @binding(9) var<storage, read_write> gain: array<vec2<f32>>;

struct BuyerOut {
    util: f32,
    is_active: bool,
    experience: vec2<f32>,
    d: f32,
    u: f32,
    paid: f32,
}

// Mirrors model::rules::buyer_update; `has` says whether there was a purchase
// (quality true `q`, price, AI channel).
fn buyer_update(
    th: f32,
    util_in: f32,
    is_active: bool,
    exp_in: vec2<f32>,
    d_in: f32,
    n_searches: u32,
    has: bool,
    q: f32,
    price: f32,
    ai: bool,
    u_return: u32,
) -> BuyerOut {
    if (!is_active) {
        return BuyerOut(util_in, unit_f32(u_return) < p.eps_c, exp_in, d_in, 0.0, 0.0);
    }
    var e = exp_in;
    var u = 0.0;
    var paid = 0.0;
    if (has) {
        let v = th * q - price;
        if (ai) {
            e.y += p.lam_u * (v - e.y);
        } else {
            e.x += p.lam_u * (v - e.x);
        }
        u = v;
        paid = price;
    }
    u -= f32(n_searches * p.k) * p.search_cost;
    var felt = u;
    if (p.cong_in_u != 0u) {
        felt = u - p.congestion;
    }
    let util_new = util_in + p.lam_c * (felt - util_in);
    var d_new = d_in;
    if (p.ai_present != 0u) {
        let s = e.x - e.y;
        var sgn = 0.0;
        if (s > 0.0) {
            sgn = 1.0;
        } else if (s < 0.0) {
            sgn = -1.0;
        }
        d_new = clamp(d_in + p.lam_d * sgn, 0.0, 1.0);
    }
    return BuyerOut(util_new, util_new >= 0.0, e, d_new, u, paid);
}

@compute @workgroup_size(256)
fn main(ids: Ids) {
    let g = agent_thread(ids, batch.nb);
    if (g == NONE) {
        return;
    }
    let j = local_id(g, batch.nb);
    // `bought` holds the seller's id in the whole ensemble.
    let b = bought[g];
    var q = 0.0;
    var price = 0.0;
    let has = b != NONE;
    if (has) {
        let o = offer[b & ID_MASK];
        q = select(o.x, 0.0, (b & JUNK_BIT) != 0u);
        price = o.y;
    }
    let w = draw4(p.key, j, p.step, STREAM_BUYERS, 0u);
    let r = buyer_update(
        theta[g], util[g], active_flag[g] != 0u, experience[g], d[g], searches[g],
        has, q, price, (b & AI_BIT) != 0u, w.x,
    );
    util[g] = r.util;
    active_flag[g] = select(0u, 1u, r.is_active);
    experience[g] = r.experience;
    d[g] = r.d;
    gain[g] = vec2<f32>(r.u, r.paid);
}
