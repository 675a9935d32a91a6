//! Stage 5, reduce (mirrors CpuBackend::reduce): the step's aggregates without float
//! atomics. Workgroup g of a fixed-size grid owns a contiguous run of 256-agent tiles;
//! each thread sums its agents in a fixed order, float fields are then summed by a
//! workgroup tree and counts by workgroup integer atomics, and every workgroup writes one
//! partial record into `part`. The host adds the partials in f64 in workgroup order, so
//! the totals do not depend on scheduling. Histogram cells (channel x quality bin) are
//! summed by "cell threads": after each tile is staged in workgroup memory, the thread
//! owning a cell adds that cell's entries in tile order (no atomics, no float races).
//!
//! Record layout (u32 words; floats stored with bitcast): see `Red` and
//! src/backend/gpu/buffers.rs (`ReduceLayout`), which reads it back.
//!
//! Ensembles: every market gets the same number of workgroups (`groups_b`, `groups_c`,
//! fixed by its own size), market m's being [m groups, (m + 1) groups); so a market's
//! partials, and the order the host adds them in, do not depend on the ensemble. Loop
//! bounds around barriers come from the uniforms (`batch`, `rd`), never from `p`.

struct Red {
    tiles_per_group_b: u32,
    tiles_per_group_c: u32,
    ncell: u32,
    off_bf: u32,
    off_bu: u32,
    off_cf: u32,
    off_cu: u32,
    off_hu: u32,
    off_hf: u32,
    // Workgroups per market (the grids are `n_markets` times these).
    groups_b: u32,
    groups_c: u32,
    _pad: u32,
}

@group(0) @binding(1) var<uniform> rd: Red;
@group(0) @binding(2) var<storage, read> deciles: array<f32>;
@group(0) @binding(3) var<storage, read> searches: array<u32>;
@group(0) @binding(4) var<storage, read> gain: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> d: array<f32>;
@group(0) @binding(6) var<storage, read> bought: array<u32>;
@group(0) @binding(7) var<storage, read> mode: array<u32>;
@group(0) @binding(8) var<storage, read> talent: array<f32>;
@group(0) @binding(9) var<storage, read> x: array<f32>;
@group(0) @binding(10) var<storage, read> cap: array<u32>;
@group(0) @binding(11) var<storage, read> sold: array<u32>;
@group(0) @binding(12) var<storage, read> offer: array<vec2<f32>>;
@group(0) @binding(13) var<storage, read> revenue: array<f32>;
@group(0) @binding(14) var<storage, read> vol: array<f32>;
@group(0) @binding(15) var<storage, read> provider: array<u32>;
@group(0) @binding(16) var<storage, read_write> part: array<u32>;
@group(0) @binding(17) var<storage, read> reskill: array<u32>;

/// Float and count fields per buyer record, and per creator record.
const NF_B: u32 = 5u;
const NU_B: u32 = 5u;
const NF_C: u32 = 12u;
const NU_C: u32 = 53u;
/// Count slots of a creator record: mode counts, decile x mode, offered and sold by
/// channel, AI units sold by provider (16 at most).
const U_MODE: u32 = 0u;
const U_DECILE: u32 = 3u;
const U_OFFERED: u32 = 33u;
const U_SOLD: u32 = 35u;
const U_PROVIDER: u32 = 37u;
/// Cells per cell thread: 2 x 1024 bins at most over 256 threads.
const CELLS_PER_THREAD: u32 = 8u;

// Staging of the float tree: up to TREE_FIELDS fields x 256 threads (8 KiB, so the
// kernel stays within WebGPU's default 16 KiB of workgroup memory).
const TREE_FIELDS: u32 = 8u;
var<workgroup> tree: array<f32, 2048>;
var<workgroup> wu: array<atomic<u32>, 64>;
var<workgroup> tile_cell: array<u32, 256>;
var<workgroup> tile_cap: array<u32, 256>;
var<workgroup> tile_sold: array<u32, 256>;
var<workgroup> tile_rev: array<f32, 256>;

// Sums fields [0, nf) that every thread staged at tree[k * WG + lid], by a fixed tree
// (the same association on every run); field k's sum ends in tree[k * WG]. Call from
// uniform control flow.
fn tree_reduce(lid: u32, nf: u32) {
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            for (var k = 0u; k < nf; k++) {
                tree[k * WG + lid] = tree[k * WG + lid] + tree[k * WG + lid + s];
            }
        }
        workgroupBarrier();
    }
}

fn clear_counts(lid: u32) {
    if (lid < 64u) {
        atomicStore(&wu[lid], 0u);
    }
    workgroupBarrier();
}

// Mirrors state::decile_of (market m's nine cuts start at 9 m).
fn decile_of(t: f32) -> u32 {
    var k = 0u;
    for (; k < 9u; k++) {
        if (!(t >= deciles[mk * 9u + k])) {
            break;
        }
    }
    return k;
}

@compute @workgroup_size(256)
fn reduce_buyers(ids: Ids) {
    // `g` is the workgroup's record, `gm` its place among its market's groups.
    let g = group_thread(ids, rd.groups_b);
    if (g == NONE) {
        return;
    }
    let gm = local_id(g, rd.groups_b);
    let lid = ids.lid;
    clear_counts(lid);
    var f: array<f32, 5>;
    var c: array<u32, 5>;
    let n = batch.nb;
    let tiles = (n + WG - 1u) / WG;
    let t0 = gm * rd.tiles_per_group_b;
    let t1 = min(t0 + rd.tiles_per_group_b, tiles);
    for (var t = t0; t < t1; t++) {
        let jl = t * WG + lid;
        if (jl >= n) {
            continue;
        }
        let j = mk * n + jl;
        let s = searches[j];
        c[0] += select(0u, 1u, s > 0u);
        c[4] += s;
        let gj = gain[j];
        f[0] += gj.x;
        f[4] += d[j];
        let bo = bought[j];
        if (bo != NONE) {
            c[1] += 1u;
            f[1] += gj.y;
            if ((bo & AI_BIT) != 0u) {
                c[2] += 1u;
                f[2] += gj.y;
            }
            if ((bo & JUNK_BIT) != 0u) {
                c[3] += 1u;
                f[3] += gj.y;
            }
        }
    }
    for (var k = 0u; k < NU_B; k++) {
        atomicAdd(&wu[k], c[k]);
    }
    for (var k = 0u; k < NF_B; k++) {
        tree[k * WG + lid] = f[k];
    }
    tree_reduce(lid, NF_B);
    if (lid < NF_B) {
        part[rd.off_bf + g * NF_B + lid] = bitcast<u32>(tree[lid * WG]);
    }
    if (lid < NU_B) {
        part[rd.off_bu + g * NU_B + lid] = atomicLoad(&wu[lid]);
    }
}

@compute @workgroup_size(256)
fn reduce_creators(ids: Ids) {
    // `g` is the workgroup's record, `gm` its place among its market's groups.
    let g = group_thread(ids, rd.groups_c);
    if (g == NONE) {
        return;
    }
    let gm = local_id(g, rd.groups_c);
    let lid = ids.lid;
    clear_counts(lid);
    // x_sum[3], talent_sum[3], revenue[3], revenue_sq, profit, vol_sum.
    var f: array<f32, 12>;
    var mc: array<u32, 3>;
    var offered: array<u32, 2>;
    var sold_ch: array<u32, 2>;
    var acc_cap: array<u32, 8>;
    var acc_sold: array<u32, 8>;
    var acc_rev: array<f32, 8>;
    let n = batch.nc;
    let ncell = rd.ncell;
    let np = max(p.n_providers, 1u);
    let tiles = (n + WG - 1u) / WG;
    let t0 = gm * rd.tiles_per_group_c;
    let t1 = min(t0 + rd.tiles_per_group_c, tiles);
    for (var t = t0; t < t1; t++) {
        let il = t * WG + lid;
        let i = mk * n + il;
        var cell = NONE;
        var kc = 0u;
        var ks = 0u;
        var rv = 0.0;
        if (il < n) {
            let m = mode[i];
            let ti = talent[i];
            mc[m] += 1u;
            atomicAdd(&wu[U_DECILE + decile_of(ti) * 3u + m], 1u);
            f[m] += x[i];
            f[3u + m] += ti;
            // Re-skilling (Q-learning) costs even with nothing on offer, as on the CPU
            // (cost_of and cost_with_reskill live in common.wgsl).
            f[10] -= cost_with_reskill(m, 0u, 0u, reskill[i]);
            let k = cap[i];
            if (k > 0u) {
                let s = sold[i];
                let rev = revenue[i];
                f[10] += rev - cost_of(m, k, s);
                f[6u + m] += rev;
                f[9] += rev * rev;
                let ch = select(CH_HUMAN, CH_AI, m == AI);
                offered[ch] += k;
                sold_ch[ch] += s;
                if (m == AI) {
                    f[11] += vol[i];
                    atomicAdd(&wu[U_PROVIDER + min(provider[i], np - 1u)], s);
                }
                cell = ch * p.bins + bin_of(offer[i].x, p.q_max, p.bins);
                kc = k;
                ks = s;
                rv = rev;
            }
        }
        tile_cell[lid] = cell;
        tile_cap[lid] = kc;
        tile_sold[lid] = ks;
        tile_rev[lid] = rv;
        workgroupBarrier();
        for (var ci = 0u; ci < CELLS_PER_THREAD; ci++) {
            let c = lid + ci * WG;
            if (c < ncell) {
                var a = 0u;
                var b = 0u;
                var r = 0.0;
                for (var e = 0u; e < WG; e++) {
                    if (tile_cell[e] == c) {
                        a += tile_cap[e];
                        b += tile_sold[e];
                        r += tile_rev[e];
                    }
                }
                acc_cap[ci] += a;
                acc_sold[ci] += b;
                acc_rev[ci] += r;
            }
        }
        workgroupBarrier();
    }
    for (var m = 0u; m < 3u; m++) {
        atomicAdd(&wu[U_MODE + m], mc[m]);
    }
    for (var ch = 0u; ch < 2u; ch++) {
        atomicAdd(&wu[U_OFFERED + ch], offered[ch]);
        atomicAdd(&wu[U_SOLD + ch], sold_ch[ch]);
    }
    // Twelve float fields in two passes of the tree.
    for (var k0 = 0u; k0 < NF_C; k0 += TREE_FIELDS) {
        let nf = min(TREE_FIELDS, NF_C - k0);
        for (var k = 0u; k < nf; k++) {
            tree[k * WG + lid] = f[k0 + k];
        }
        tree_reduce(lid, nf);
        if (lid < nf) {
            part[rd.off_cf + g * NF_C + k0 + lid] = bitcast<u32>(tree[lid * WG]);
        }
        workgroupBarrier();
    }
    if (lid < NU_C) {
        part[rd.off_cu + g * NU_C + lid] = atomicLoad(&wu[lid]);
    }
    for (var ci = 0u; ci < CELLS_PER_THREAD; ci++) {
        let c = lid + ci * WG;
        if (c < ncell) {
            part[rd.off_hu + (g * ncell + c) * 2u] = acc_cap[ci];
            part[rd.off_hu + (g * ncell + c) * 2u + 1u] = acc_sold[ci];
            part[rd.off_hf + g * ncell + c] = bitcast<u32>(acc_rev[ci]);
        }
    }
}
