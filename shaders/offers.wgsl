//! Stage 1, offers (mirrors CpuBackend::offers): every creator's nominal quality and
//! capacity for this step (half output while re-skilling, `capacity_q`); sold counts
//! reset. One thread per creator.

@group(0) @binding(1) var<storage, read> mode: array<u32>;
@group(0) @binding(2) var<storage, read> talent: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> vol: array<f32>;
@group(0) @binding(5) var<storage, read_write> offer: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> cap: array<u32>;
@group(0) @binding(7) var<storage, read_write> sold: array<u32>;
@group(0) @binding(8) var<storage, read> reskill: array<u32>;

// Mirrors model::rules::capacity.
fn capacity(m: u32, v: f32, u: u32, vmax: f32) -> u32 {
    if (m == AI) {
        // v + U >= 0, so the conversion truncates (floors) like Rust's `as u32`.
        return clamp(u32(max(v + unit_f32(u), 0.0)), 1u, u32(vmax));
    }
    if (m == HUMAN) {
        return 1u;
    }
    return 0u;
}

// Mirrors model::rules::capacity_q: a creator re-skilling this step offers its human unit
// with probability one half, or half its AI volume; otherwise `capacity`.
fn capacity_q(m: u32, v: f32, u: u32, vmax: f32, rs: u32) -> u32 {
    if (reskill_left(rs) == 0u) {
        return capacity(m, v, u, vmax);
    }
    if (m == HUMAN) {
        return select(0u, 1u, unit_f32(u) < 0.5);
    }
    if (m == AI) {
        return capacity(AI, 0.5 * v, u, vmax);
    }
    return 0u;
}

@compute @workgroup_size(256)
fn main(ids: Ids) {
    let g = agent_thread(ids, batch.nc);
    if (g == NONE) {
        return;
    }
    let i = local_id(g, batch.nc);
    let m = mode[g];
    offer[g].x = nominal_quality(m, talent[g], x[g]);
    let w = draw4(p.key, i, p.step, STREAM_OFFERS, 0u);
    cap[g] = capacity_q(m, vol[g], w.x, p.ai_volume_max, reskill[g]);
    sold[g] = 0u;
}
