//! Stage 2b, resolve (mirrors CpuBackend::resolve): a proposer whose key stands in the
//! unit's claim word won it; it marks the unit sold, counts the sale for the owner with an
//! integer atomic and records what it bought. Any thread order gives the same result.

@group(0) @binding(1) var<storage, read_write> proposal: array<u32>;
@group(0) @binding(2) var<storage, read_write> bought: array<u32>;
@group(0) @binding(3) var<storage, read_write> sold: array<atomic<u32>>;

// Mirrors model::rules::is_junk; `unit` is the index within the market.
fn is_junk(unit: u32) -> bool {
    let w = draw4(p.key, unit, p.step, STREAM_JUNK, 0u);
    return unit < p.n_ai_units && unit_f32(w.x) < p.junk_share;
}

@compute @workgroup_size(256)
fn main(ids: Ids) {
    let g = agent_thread(ids, batch.nb);
    if (g == NONE) {
        return;
    }
    let j = local_id(g, batch.nb);
    let unit = proposal[g];
    if (unit == NONE) {
        return;
    }
    proposal[g] = NONE;
    let r = unit_view(unit);
    if (r.claim != claim_key(j, p.perm_key)) {
        return;
    }
    claim_store(unit, CLAIM_SOLD);
    let o = r.owner;
    atomicAdd(&sold[o], 1u);
    let local = unit - unit_base();
    var flags = 0u;
    if (local < p.n_ai_units) {
        flags |= AI_BIT;
    }
    if (is_junk(local)) {
        flags |= JUNK_BIT;
    }
    bought[g] = o | flags;
}
