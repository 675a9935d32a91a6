//! Stage 4, accounts (mirrors CpuBackend::accounts): revenue of the step, the price rule
//! and the AI volume rule. One thread per creator.

@group(0) @binding(1) var<storage, read> mode: array<u32>;
@group(0) @binding(2) var<storage, read> cap: array<u32>;
@group(0) @binding(3) var<storage, read> sold: array<u32>;
@group(0) @binding(4) var<storage, read_write> revenue: array<f32>;
@group(0) @binding(5) var<storage, read_write> offer: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> vol: array<f32>;

// Mirrors model::rules::account: (revenue, price', vol').
fn account(m: u32, price: f32, v: f32, k: u32, s: u32) -> vec3<f32> {
    if (m == EXIT || k == 0u) {
        return vec3<f32>(0.0, price, v);
    }
    let sold_f = f32(s);
    let r = sold_f / f32(k);
    let rev = price * sold_f;
    let step = exp(p.price_speed * (2.0 * r - 1.0));
    if (m == HUMAN) {
        return vec3<f32>(rev, max(price * step, p.c_human), v);
    }
    let margin = r * (price - p.api_fee) - p.c_ai - p.unit_tax;
    let v_new = clamp(v * exp(p.vol_speed * margin / max(price, 0.05)), 1.0, p.ai_volume_max);
    return vec3<f32>(rev, max(price * step, p.ai_floor), v_new);
}

@compute @workgroup_size(256)
fn main(ids: Ids) {
    let g = agent_thread(ids, batch.nc);
    if (g == NONE) {
        return;
    }
    let a = account(mode[g], offer[g].y, vol[g], cap[g], sold[g]);
    revenue[g] = a.x;
    offer[g].y = a.y;
    vol[g] = a.z;
}
