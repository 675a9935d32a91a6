//! Stage 1b, scan (mirrors CpuBackend::scan): exclusive prefix sums of capacities per
//! channel (AI units first, then human units), as a multi-level block scan, then the unit
//! records (owner, an empty claim, and the owner's offer of this step per unit).
//!
//! Values are (AI units, human units) pairs: an AI creator contributes (cap, 0), anyone
//! else (0, cap), so an exit creator's offset is the running human count, as on the CPU.
//! Blocks of BLOCK = 1024 values (256 threads x 4) are reduced level by level into `aux`
//! until one block remains (`scan_up`), that block is scanned and the grand
//! totals stored (`scan_top`), and the scans are pushed back down (`scan_down`,
//! `scan_down0`). `scan_fill` then writes the unit records. Integer sums are exact,
//! so the result equals the CPU's whatever the block size.
//!
//! An ensemble of several markets uses `scan_seg` instead of the levels: one workgroup per
//! market walks its creators block by block with a running carry and stores the market's
//! totals in `totals[m]` (ensemble markets are small; one large market is the levels'
//! case). Offsets are within the market's channel, as on the CPU; `scan_fill` adds the
//! market's first unit slot.

struct Level {
    // Values at this level; where they start in `aux`; where the level above starts;
    // 1 when the values are the creators' (level 0), 0 when they are block sums in `aux`.
    n_in: u32,
    in_off: u32,
    out_off: u32,
    from_creators: u32,
}

@group(0) @binding(1) var<uniform> lv: Level;
@group(0) @binding(2) var<storage, read> mode: array<u32>;
@group(0) @binding(3) var<storage, read> cap: array<u32>;
@group(0) @binding(4) var<storage, read_write> offset: array<u32>;
@group(0) @binding(5) var<storage, read_write> aux: array<vec2<u32>>;
@group(0) @binding(6) var<storage, read_write> totals: array<vec2<u32>>;
@group(0) @binding(7) var<storage, read> offer: array<vec2<f32>>;

const ITEMS: u32 = 4u;
const BLOCK: u32 = 1024u;

var<workgroup> sh: array<vec2<u32>, 256>;

// Exclusive scan of one value per thread across the workgroup (Hillis-Steele). Returns
// (this thread's exclusive prefix, the workgroup total). Call from uniform control flow.
fn wg_scan(v: vec2<u32>, lid: u32) -> array<vec2<u32>, 2> {
    sh[lid] = v;
    workgroupBarrier();
    for (var off = 1u; off < WG; off <<= 1u) {
        var t = vec2<u32>(0u);
        if (lid >= off) {
            t = sh[lid - off];
        }
        workgroupBarrier();
        sh[lid] = sh[lid] + t;
        workgroupBarrier();
    }
    let incl = sh[lid];
    let total = sh[WG - 1u];
    workgroupBarrier();
    return array<vec2<u32>, 2>(incl - v, total);
}

fn creator_value(i: u32) -> vec2<u32> {
    if (i >= batch.n_markets * batch.nc) {
        return vec2<u32>(0u);
    }
    let k = cap[i];
    if (mode[i] == AI) {
        return vec2<u32>(k, 0u);
    }
    return vec2<u32>(0u, k);
}

fn aux_value(idx: u32) -> vec2<u32> {
    if (idx >= lv.n_in) {
        return vec2<u32>(0u);
    }
    return aux[lv.in_off + idx];
}

// Value idx of the level being summed.
fn level_value(idx: u32) -> vec2<u32> {
    if (lv.from_creators != 0u) {
        return creator_value(idx);
    }
    return aux_value(idx);
}

// Upsweep of one level: block sums of its values (the creators' at level 0, block sums
// above).
@compute @workgroup_size(256)
fn scan_up(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let b = flat_group(wid, nwg);
    var s = vec2<u32>(0u);
    for (var k = 0u; k < ITEMS; k++) {
        s += level_value(b * BLOCK + lid * ITEMS + k);
    }
    let r = wg_scan(s, lid);
    if (lid == 0u && b * BLOCK < lv.n_in) {
        aux[lv.out_off + b] = r[1];
    }
}

// The last level (at most one block): scanned in place; the grand totals are (n_ai, n_human).
@compute @workgroup_size(256)
fn scan_top(@builtin(local_invocation_index) lid: u32) {
    var v: array<vec2<u32>, 4>;
    var s = vec2<u32>(0u);
    for (var k = 0u; k < ITEMS; k++) {
        v[k] = aux_value(lid * ITEMS + k);
        s += v[k];
    }
    let r = wg_scan(s, lid);
    var run = r[0];
    for (var k = 0u; k < ITEMS; k++) {
        let idx = lid * ITEMS + k;
        if (idx < lv.n_in) {
            aux[lv.in_off + idx] = run;
        }
        run += v[k];
    }
    if (lid == 0u) {
        totals[0] = r[1];
    }
}

// Downsweep of an upper level: each block's values become exclusive prefixes, offset by
// the (already scanned) value of the block in the level above.
@compute @workgroup_size(256)
fn scan_down(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let b = flat_group(wid, nwg);
    var v: array<vec2<u32>, 4>;
    var s = vec2<u32>(0u);
    for (var k = 0u; k < ITEMS; k++) {
        v[k] = aux_value(b * BLOCK + lid * ITEMS + k);
        s += v[k];
    }
    let r = wg_scan(s, lid);
    if (b * BLOCK >= lv.n_in) {
        return;
    }
    var run = aux[lv.out_off + b] + r[0];
    for (var k = 0u; k < ITEMS; k++) {
        let idx = b * BLOCK + lid * ITEMS + k;
        if (idx < lv.n_in) {
            aux[lv.in_off + idx] = run;
        }
        run += v[k];
    }
}

// One block of the level-0 downsweep: creators [first + b0, first + b0 + BLOCK) of a run
// of n creators starting at `first` get their offsets within their channel, counted from
// `carry`; returns the block's sum. Call from uniform control flow (it scans the workgroup).
fn offsets_block(first: u32, b0: u32, n: u32, carry: vec2<u32>, lid: u32) -> vec2<u32> {
    var v: array<vec2<u32>, 4>;
    var s = vec2<u32>(0u);
    for (var k = 0u; k < ITEMS; k++) {
        let il = b0 + lid * ITEMS + k;
        v[k] = select(vec2<u32>(0u), creator_value(first + il), il < n);
        s += v[k];
    }
    let r = wg_scan(s, lid);
    var run = carry + r[0];
    for (var k = 0u; k < ITEMS; k++) {
        let il = b0 + lid * ITEMS + k;
        if (il < n) {
            offset[first + il] = select(run.y, run.x, mode[first + il] == AI);
        }
        run += v[k];
    }
    return r[1];
}

// Level 0 downsweep (one market): every creator's offset, from its block's scanned sum.
@compute @workgroup_size(256)
fn scan_down0(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let b = flat_group(wid, nwg);
    var carry = vec2<u32>(0u);
    if (b * BLOCK < lv.n_in) {
        carry = aux[lv.out_off + b];
    }
    offsets_block(0u, b * BLOCK, batch.nc, carry, lid);
}

// Ensemble scan: workgroup m scans market m's creators in blocks of BLOCK, carrying the
// running (AI, human) sums from block to block.
@compute @workgroup_size(256)
fn scan_seg(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let m = flat_group(wid, nwg);
    if (m >= batch.n_markets) {
        return;
    }
    var carry = vec2<u32>(0u);
    for (var b0 = 0u; b0 < batch.nc; b0 += BLOCK) {
        carry += offsets_block(m * batch.nc, b0, batch.nc, carry, lid);
    }
    if (lid == 0u) {
        totals[m] = carry;
    }
}

// Unit layout: market m's AI units at [0, n_ai), its human units at [n_ai, n_ai + n_human),
// both from the market's first unit slot; every unit of this step starts unclaimed and
// carries its owner's offer, which no stage changes before `accounts`. One thread per
// creator writes its own disjoint range; owners are ids in the ensemble.
@compute @workgroup_size(256)
fn scan_fill(ids: Ids) {
    let g = agent_thread(ids, batch.nc);
    if (g == NONE) {
        return;
    }
    let k = cap[g];
    var base = unit_base() + offset[g];
    if (mode[g] != AI) {
        base += totals[mk].x;
    }
    let o = offer[g];
    for (var u = base; u < base + k; u++) {
        unit_store(u, g, CLAIM_EMPTY, o);
    }
}
