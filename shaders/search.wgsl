//! Stage 2a, search (mirrors CpuBackend::search): each active, unmatched buyer samples k
//! offers of round `p.round`, scores the unsold ones and proposes to the best by an
//! `atomicMin` of its claim key on the unit's claim word. One thread per buyer; the same
//! four random words per sample as the CPU (channel, direction, pick, noise). A sample
//! reads one unit record (`Unit`: claim, quality and price side by side), not the claim,
//! then the owner, then the owner's offer.

@group(0) @binding(1) var<storage, read> active_flag: array<u32>;
@group(0) @binding(2) var<storage, read> theta: array<f32>;
@group(0) @binding(3) var<storage, read> d: array<f32>;
@group(0) @binding(4) var<storage, read_write> proposal: array<u32>;
@group(0) @binding(5) var<storage, read_write> bought: array<u32>;
@group(0) @binding(6) var<storage, read_write> searches: array<u32>;

// Mirrors model::rules::normal16.
fn normal16(w: u32) -> f32 {
    let u1 = f32((w >> 16u) + 1u) * (1.0 / 65536.0);
    let u2 = f32(w & 0xffffu) * (1.0 / 65536.0);
    return sqrt(-2.0 * log(u1)) * cos_0_tau(TAU * u2);
}

// Mirrors model::rules::sample_is_human.
fn sample_is_human(u_dir: u32, u_chan: u32, dj: f32) -> bool {
    var human: bool;
    if (unit_f32(u_dir) < dj) {
        human = unit_f32(u_chan) < p.label_accuracy;
    } else {
        human = unit_f32(u_chan) < p.h_share;
    }
    if (p.n_human_units == 0u) {
        return false;
    }
    if (p.n_ai_units == 0u) {
        return true;
    }
    return human;
}

// Mirrors model::rules::sample_unit (index within the market).
fn sample_unit(human: bool, u_pick: u32) -> u32 {
    if (human) {
        return p.n_ai_units + below(u_pick, p.n_human_units);
    }
    return below(u_pick, p.n_ai_units);
}

@compute @workgroup_size(256)
fn main(ids: Ids) {
    let g = agent_thread(ids, batch.nb);
    if (g == NONE) {
        return;
    }
    let j = local_id(g, batch.nb);
    if (p.round == 0u) {
        bought[g] = NONE;
        searches[g] = 0u;
    }
    proposal[g] = NONE;
    let total = p.n_ai_units + p.n_human_units;
    if (active_flag[g] == 0u || bought[g] != NONE || total == 0u) {
        return;
    }
    searches[g] += 1u;
    let sw = stream_word(STREAM_SEARCH, p.round);
    let th = theta[g];
    let dj = d[g];
    let base = unit_base();
    var best = NONE;
    var best_score = 0.0;
    for (var s = 0u; s < p.k; s++) {
        let w = draw4(p.key, j, p.step, sw, s);
        let human = sample_is_human(w.x, w.y, dj);
        let unit = base + sample_unit(human, w.z);
        let r = unit_view(unit);
        if (r.claim == CLAIM_SOLD) {
            continue;
        }
        let y = r.q + p.sigma * normal16(w.w);
        let score = th * y - r.price;
        if (score > best_score) {
            best_score = score;
            best = unit;
        }
    }
    if (best != NONE) {
        proposal[g] = best;
        claim_min(best, claim_key(j, p.perm_key));
    }
}
