//! GPU memory of the backend: the memory plan (how units are split into chunks, the scan
//! levels, the reduce grid and partial-record layout, bytes per agent), one storage buffer
//! per struct-of-arrays field of `state::State` (same element types), the unit record
//! chunks, the
//! small per-step inputs, and the staging buffers of the readbacks. Owns the uploads and
//! downloads of whole fields; knows nothing of the shaders' arithmetic.
//!
//! Every buffer holds an ensemble of `n_markets` equal-sized markets back to back (a single
//! run is an ensemble of one): per-agent fields `n_markets` times a market's agents, units
//! `unit_stride` slots per market, and per-market tables (parameters, scan totals, decile
//! cuts, curves, x grids, reduce records) one entry per market.

use super::GpuError;
use super::device::Gpu;
use crate::state::{Buyers, Creators};
use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

/// Values per scan block (256 threads x 4), as `BLOCK` in scan.wgsl.
pub const SCAN_BLOCK: u64 = 1024;
/// Threads per workgroup of every kernel, as `WG` in common.wgsl.
pub const WG: u64 = 256;
/// Float and count fields of the reduce partial records, as in reduce.wgsl.
pub const NF_B: usize = 5;
pub const NU_B: usize = 5;
pub const NF_C: usize = 12;
pub const NU_C: usize = 53;
/// Largest reduce grid: enough workgroups to fill a large GPU, few enough that the
/// partial records read back every step stay small (about 1 MB at the default 32 bins).
const MAX_REDUCE_GROUPS: u64 = 1024;
/// Fewest 256-agent tiles per reduce workgroup: below that, a workgroup's fixed cost (its
/// trees and barriers, its record) outweighs its share of the sums.
const MIN_TILES_PER_GROUP: u64 = 8;
/// Budget of partial-record words per creator-reduce readback (bounds the grid when the
/// histogram has many cells).
const REDUCE_WORDS: u64 = 1 << 18;
/// Size of the staging buffer used to download and upload whole fields in pieces.
const TRANSFER_CHUNK: u64 = 64 << 20;

/// One unit slot of the chunked unit arrays, as `struct Unit` in common.wgsl: the owner
/// (creator id in the ensemble), the claim word, and the owner's (nominal quality, price)
/// of this step, copied in by `scan_fill`, so that a search sample reads one 16-byte
/// record instead of three dependent words (the CPU backend's record too).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct UnitRecord {
    pub owner: u32,
    pub claim: u32,
    pub q: f32,
    pub price: f32,
}

/// Device bytes per unit slot.
pub const UNIT_BYTES: u64 = std::mem::size_of::<UnitRecord>() as u64;
// The memory check of a population (`state::memory_bytes`) and `hollow info` count unit
// slots with `Units::BYTES_PER_UNIT`; they must count what the device allocates.
const _: () = assert!(UNIT_BYTES == crate::state::Units::BYTES_PER_UNIT);

/// Storage bytes per creator: its fields (`Creators::BYTES_PER_AGENT`) plus the worst case
/// of its units (a `UnitRecord` for each of `ai_volume_max` units).
pub fn bytes_per_creator(ai_volume_max: u32) -> u64 {
    Creators::BYTES_PER_AGENT + UNIT_BYTES * u64::from(ai_volume_max.max(1))
}

/// Storage bytes per buyer.
pub fn bytes_per_buyer() -> u64 {
    Buyers::BYTES_PER_AGENT
}

/// Where the partial records of `reduce` live in the `part` buffer, in u32 words; the
/// first twelve fields mirror `struct Red` in reduce.wgsl (uploaded once as a uniform).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ReduceLayout {
    pub tiles_per_group_b: u32,
    pub tiles_per_group_c: u32,
    pub ncell: u32,
    pub off_bf: u32,
    pub off_bu: u32,
    pub off_cf: u32,
    pub off_cu: u32,
    pub off_hu: u32,
    pub off_hf: u32,
    /// Reduce workgroups per market (buyers, creators).
    pub groups_b: u32,
    pub groups_c: u32,
    pub _pad: u32,
}

/// Sizes shared by the markets of an ensemble, as `struct Batch` in common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct BatchLayout {
    pub n_markets: u32,
    pub nc: u32,
    pub nb: u32,
    pub unit_stride: u32,
}

/// One scan level's uniform, as `struct Level` in scan.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Level {
    pub n_in: u32,
    pub in_off: u32,
    pub out_off: u32,
    /// 1 at level 0, whose values are the creators' (not block sums in `aux`).
    pub from_creators: u32,
}

/// How an ensemble of markets is laid out on a device.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Markets in the ensemble, and creators and buyers per market.
    pub n_markets: u32,
    pub n_creators: u32,
    pub n_buyers: u32,
    pub bins: u32,
    /// Unit slots per market (every creator at `ai_volume_max`) and in all.
    pub unit_stride: u32,
    pub units_cap: u64,
    /// Units per chunk is 2^chunk_shift; chunks hold the unit records in that many pieces.
    pub chunk_shift: u32,
    pub n_chunks: u32,
    /// Scan aux levels, (count, offset into aux), lowest first; the last has one block.
    pub levels: Vec<(u32, u32)>,
    pub aux_len: u64,
    /// Reduce grids (workgroups per market) for buyers and creators, and the record layout.
    pub groups_b: u32,
    pub groups_c: u32,
    pub red: ReduceLayout,
    pub part_words: u64,
    /// Largest binding used (bytes), after any forced limit.
    pub binding_limit: u64,
    pub total_bytes: u64,
}

fn too_large(what: impl Into<String>, need: u64, limit: u64, advice: &str) -> GpuError {
    GpuError::TooLarge { what: what.into(), need, limit, advice: advice.to_string() }
}

/// Lays out `markets` markets of `nc` creators and `nb` buyers on a device with `limits`,
/// binding at most `max_binding` bytes per buffer when given (tests force small chunks
/// with it). A market's reduce grid depends on its own size only, never on `markets`.
pub fn plan(
    markets: u32,
    nc: u32,
    nb: u32,
    ai_volume_max: u32,
    bins: u32,
    limits: &wgpu::Limits,
    max_binding: Option<u64>,
) -> Result<Plan, GpuError> {
    let binding = limits.max_storage_buffer_binding_size.min(max_binding.unwrap_or(u64::MAX));
    let buffer_max = limits.max_buffer_size.min(binding);
    if binding < 1024 {
        return Err(too_large("the storage binding limit", 1024, binding, "raise max_binding_bytes"));
    }
    if markets == 0 {
        return Err(GpuError::Input("an ensemble needs at least one market".into()));
    }
    let mk = u64::from(markets);
    let all_c = mk * u64::from(nc);
    let all_b = mk * u64::from(nb);
    // Creator ids share a word with two flags in `bought` (ID_MASK).
    if all_c > u64::from(crate::state::ID_MASK) || all_b >= u64::from(u32::MAX) {
        return Err(too_large(
            format!("{markets} markets of {nc} creators and {nb} buyers (ids in the ensemble)"),
            all_c.max(all_b),
            u64::from(crate::state::ID_MASK),
            "run fewer markets at a time (sweep --batch)",
        ));
    }
    // Every per-agent field must fit one binding; the widest is 16 bytes (qvals).
    let widest_c = all_c * 16;
    if widest_c > buffer_max {
        return Err(too_large(
            format!("{all_c} creators (16-byte field qvals)"),
            widest_c,
            buffer_max,
            "use fewer creators or a GPU with a larger max_storage_buffer_binding_size",
        ));
    }
    let widest_b = all_b * 8;
    if widest_b > buffer_max {
        return Err(too_large(
            format!("{all_b} buyers (8-byte fields exp, gain)"),
            widest_b,
            buffer_max,
            "use fewer buyers or a GPU with a larger max_storage_buffer_binding_size",
        ));
    }
    let unit_stride = u64::from(nc) * u64::from(ai_volume_max.max(1));
    let units_cap = mk * unit_stride;
    // Unit ids are u32 and u32::MAX marks "no unit".
    if units_cap >= u64::from(u32::MAX) {
        return Err(too_large(
            "unit ids (markets x creators x ai_volume_max)",
            units_cap,
            u64::from(u32::MAX) - 1,
            "lower ai_volume_max or the number of creators",
        ));
    }
    let chunk_shift = (63 - (buffer_max / UNIT_BYTES).leading_zeros()).min(30);
    let chunk_units = 1u64 << chunk_shift;
    let n_chunks = units_cap.div_ceil(chunk_units).max(1) as u32;
    // search binds 6 buyer fields and the parameters, scan_fill 6 scan and creator buffers
    // and the parameters, each plus one buffer per unit chunk.
    let need = 7 + u64::from(n_chunks);
    let have = u64::from(limits.max_storage_buffers_per_shader_stage);
    if need > have {
        return Err(too_large(
            format!("storage buffers per shader stage for {n_chunks} unit chunks"),
            need,
            have,
            "lower ai_volume_max or the number of creators, or use a GPU with larger bindings",
        ));
    }
    // decide binds 14 storage buffers (parameters, 8 for the logit rule, 5 more for
    // Q-learning).
    if have < 14 {
        return Err(too_large("storage buffers per shader stage", 14, have, "use another adapter"));
    }
    // Scan levels: block sums of creators, of block sums, ... until one block is left.
    let mut levels = Vec::new();
    let mut count = u64::from(nc).div_ceil(SCAN_BLOCK).max(1);
    let mut off = 0u64;
    loop {
        levels.push((count as u32, off as u32));
        off += count;
        if count <= SCAN_BLOCK {
            break;
        }
        count = count.div_ceil(SCAN_BLOCK);
    }
    let aux_len = off;
    // Reduce grids.
    let ncell = 2 * u64::from(bins);
    if ncell > 8 * WG {
        return Err(too_large("quality bins", u64::from(bins), 4 * WG, "lower market.bins"));
    }
    let tiles_b = u64::from(nb).div_ceil(WG).max(1);
    let tpg_b = tiles_b.div_ceil(MAX_REDUCE_GROUPS).max(MIN_TILES_PER_GROUP);
    let groups_b = tiles_b.div_ceil(tpg_b);
    let words_c = (NF_C + NU_C) as u64 + 3 * ncell;
    let max_c = (REDUCE_WORDS / words_c).clamp(1, MAX_REDUCE_GROUPS);
    let tiles_c = u64::from(nc).div_ceil(WG).max(1);
    let tpg_c = tiles_c.div_ceil(max_c).max(MIN_TILES_PER_GROUP);
    let groups_c = tiles_c.div_ceil(tpg_c);
    let (all_gb, all_gc) = (mk * groups_b, mk * groups_c);
    let off_bf = 0;
    let off_bu = off_bf + all_gb * NF_B as u64;
    let off_cf = off_bu + all_gb * NU_B as u64;
    let off_cu = off_cf + all_gc * NF_C as u64;
    let off_hu = off_cu + all_gc * NU_C as u64;
    let off_hf = off_hu + all_gc * ncell * 2;
    let part_words = off_hf + all_gc * ncell;
    for (what, bytes) in [("scan block sums", aux_len * 8), ("reduce partial records", part_words * 4)] {
        if bytes > buffer_max {
            return Err(too_large(what, bytes, buffer_max, "raise max_binding_bytes"));
        }
    }
    let red = ReduceLayout {
        tiles_per_group_b: tpg_b as u32,
        tiles_per_group_c: tpg_c as u32,
        ncell: ncell as u32,
        off_bf: off_bf as u32,
        off_bu: off_bu as u32,
        off_cf: off_cf as u32,
        off_cu: off_cu as u32,
        off_hu: off_hu as u32,
        off_hf: off_hf as u32,
        groups_b: groups_b as u32,
        groups_c: groups_c as u32,
        _pad: 0,
    };
    let total_bytes = all_c * Creators::BYTES_PER_AGENT
        + all_b * Buyers::BYTES_PER_AGENT
        + units_cap * UNIT_BYTES
        + aux_len * 8
        + part_words * 8
        + TRANSFER_CHUNK.min(buffer_max);
    Ok(Plan {
        n_markets: markets,
        n_creators: nc,
        n_buyers: nb,
        bins,
        unit_stride: unit_stride as u32,
        units_cap,
        chunk_shift,
        n_chunks,
        levels,
        aux_len,
        groups_b: groups_b as u32,
        groups_c: groups_c as u32,
        red,
        part_words,
        binding_limit: binding,
        total_bytes,
    })
}

/// Creators' fields, one storage buffer each, as in `state::Creators`.
pub struct CreatorBufs {
    pub talent: wgpu::Buffer,
    pub x: wgpu::Buffer,
    pub mode: wgpu::Buffer,
    pub provider: wgpu::Buffer,
    pub vol: wgpu::Buffer,
    pub offer: wgpu::Buffer,
    pub cap: wgpu::Buffer,
    pub offset: wgpu::Buffer,
    pub sold: wgpu::Buffer,
    pub revenue: wgpu::Buffer,
    pub qvals: wgpu::Buffer,
    pub reskill: wgpu::Buffer,
}

/// Buyers' fields, one storage buffer each, as in `state::Buyers`.
pub struct BuyerBufs {
    pub theta: wgpu::Buffer,
    pub util: wgpu::Buffer,
    pub d: wgpu::Buffer,
    pub exp: wgpu::Buffer,
    pub active: wgpu::Buffer,
    pub proposal: wgpu::Buffer,
    pub bought: wgpu::Buffer,
    pub searches: wgpu::Buffer,
    pub gain: wgpu::Buffer,
}

/// Everything the kernels bind, made once at start-up.
pub struct Buffers {
    pub c: CreatorBufs,
    pub b: BuyerBufs,
    /// Unit record chunks (`UnitRecord`): unit u lives in chunk u >> chunk_shift at index
    /// u & mask.
    pub units: Vec<wgpu::Buffer>,
    /// The step parameters (`StepParams`), one per market, rewritten before every stage;
    /// the ensemble's sizes (`BatchLayout`).
    pub params: wgpu::Buffer,
    pub batch: wgpu::Buffer,
    /// Scan: block sums of every level, the totals (n_ai, n_human), the level uniforms
    /// (`levels[0]` for level 0, `levels[l + 1]` for aux level l, last for the top).
    pub aux: wgpu::Buffer,
    pub totals: wgpu::Buffer,
    pub levels: Vec<wgpu::Buffer>,
    /// Reduce: layout uniform, talent decile cuts, partial records.
    pub red: wgpu::Buffer,
    pub deciles: wgpu::Buffer,
    pub part: wgpu::Buffer,
    /// Decide: market curves (2 x bins per market) and x grids (MAX_GRID points per market).
    pub curves: wgpu::Buffer,
    pub grid: wgpu::Buffer,
    /// Readback staging: the scan totals, the partial records, whole-field transfers.
    pub totals_read: wgpu::Buffer,
    pub part_read: wgpu::Buffer,
    pub transfer: wgpu::Buffer,
    pub transfer_size: u64,
}

/// Largest number of curve cells and grid points per market (config bounds).
pub const MAX_CURVE_CELLS: u64 = 2 * 1024;
pub const MAX_GRID: u64 = 256;

fn storage(gpu: &Gpu, label: &str, bytes: u64) -> wgpu::Buffer {
    gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        // Zero-sized bindings are invalid; empty populations get one word.
        size: bytes.max(4).next_multiple_of(4),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    })
}

fn uniform_init(gpu: &Gpu, label: &str, bytes: &[u8]) -> wgpu::Buffer {
    gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytes,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    })
}

fn staging(gpu: &Gpu, label: &str, bytes: u64) -> wgpu::Buffer {
    gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(4).next_multiple_of(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

impl Buffers {
    /// Allocates every buffer of `plan` (inside error scopes: an allocation that does not
    /// fit becomes `GpuError::OutOfMemory` with the plan's byte count).
    pub fn new(gpu: &Gpu, plan: &Plan) -> Result<Buffers, GpuError> {
        let m = u64::from(plan.n_markets);
        let nc = m * u64::from(plan.n_creators);
        let nb = m * u64::from(plan.n_buyers);
        let what = format!(
            "state of {} market(s) of {} creators and {} buyers ({:.2} GiB)",
            plan.n_markets,
            plan.n_creators,
            plan.n_buyers,
            plan.total_bytes as f64 / (1u64 << 30) as f64
        );
        gpu.scoped(&what, plan.total_bytes, || {
            let c = CreatorBufs {
                talent: storage(gpu, "talent", nc * 4),
                x: storage(gpu, "x", nc * 4),
                mode: storage(gpu, "mode", nc * 4),
                provider: storage(gpu, "provider", nc * 4),
                vol: storage(gpu, "vol", nc * 4),
                offer: storage(gpu, "offer", nc * 8),
                cap: storage(gpu, "cap", nc * 4),
                offset: storage(gpu, "offset", nc * 4),
                sold: storage(gpu, "sold", nc * 4),
                revenue: storage(gpu, "revenue", nc * 4),
                qvals: storage(gpu, "qvals", nc * 16),
                reskill: storage(gpu, "reskill", nc * 4),
            };
            let b = BuyerBufs {
                theta: storage(gpu, "theta", nb * 4),
                util: storage(gpu, "util", nb * 4),
                d: storage(gpu, "d", nb * 4),
                exp: storage(gpu, "exp", nb * 8),
                active: storage(gpu, "active", nb * 4),
                proposal: storage(gpu, "proposal", nb * 4),
                bought: storage(gpu, "bought", nb * 4),
                searches: storage(gpu, "searches", nb * 4),
                gain: storage(gpu, "gain", nb * 8),
            };
            let chunk = 1u64 << plan.chunk_shift;
            let units = (0..u64::from(plan.n_chunks))
                .map(|k| {
                    let n = (plan.units_cap - k * chunk).min(chunk);
                    storage(gpu, &format!("units{k}"), n * UNIT_BYTES)
                })
                .collect();
            let params = storage(gpu, "params", m * std::mem::size_of::<crate::state::StepParams>() as u64);
            let layout = BatchLayout {
                n_markets: plan.n_markets,
                nc: plan.n_creators,
                nb: plan.n_buyers,
                unit_stride: plan.unit_stride,
            };
            let batch = uniform_init(gpu, "ensemble layout", bytemuck::bytes_of(&layout));
            let mut lv = vec![Level { n_in: plan.n_creators, in_off: 0, out_off: plan.levels[0].1, from_creators: 1 }];
            for w in plan.levels.windows(2) {
                lv.push(Level { n_in: w[0].0, in_off: w[0].1, out_off: w[1].1, from_creators: 0 });
            }
            let top = plan.levels[plan.levels.len() - 1];
            lv.push(Level { n_in: top.0, in_off: top.1, out_off: 0, from_creators: 0 });
            let levels = lv.iter().map(|l| uniform_init(gpu, "scan level", bytemuck::bytes_of(l))).collect();
            let transfer_size = (TRANSFER_CHUNK.min(plan.binding_limit).min(gpu.limits.max_buffer_size) / 4 * 4).max(4);
            Buffers {
                c,
                b,
                units,
                params,
                batch,
                aux: storage(gpu, "scan aux", plan.aux_len * 8),
                totals: storage(gpu, "scan totals", m * 8),
                levels,
                red: uniform_init(gpu, "reduce layout", bytemuck::bytes_of(&plan.red)),
                deciles: storage(gpu, "deciles", m * 9 * 4),
                part: storage(gpu, "reduce partials", plan.part_words * 4),
                curves: storage(gpu, "curves", m * 2 * u64::from(plan.bins) * 8),
                grid: storage(gpu, "x grid", m * MAX_GRID * 8),
                totals_read: staging(gpu, "scan totals readback", m * 8),
                part_read: staging(gpu, "reduce partials readback", plan.part_words * 4),
                transfer: staging(gpu, "field readback", transfer_size),
                transfer_size,
            }
        })
    }

    /// The buffer bound as the WGSL global `name` (the names of bindings::KERNELS), so a
    /// kernel's bindings are resolved by name rather than by position; `level` picks the
    /// scan level uniform for `lv` and is ignored otherwise. None for a name no kernel binds.
    pub fn by_name(&self, name: &str, level: usize) -> Option<&wgpu::Buffer> {
        let (c, b) = (&self.c, &self.b);
        Some(match name {
            "params" => &self.params,
            "batch" => &self.batch,
            "lv" => self.levels.get(level)?,
            "aux" => &self.aux,
            "totals" => &self.totals,
            "rd" => &self.red,
            "deciles" => &self.deciles,
            "part" => &self.part,
            "curves" => &self.curves,
            "grid" => &self.grid,
            "talent" => &c.talent,
            "x" => &c.x,
            "mode" => &c.mode,
            "provider" => &c.provider,
            "vol" => &c.vol,
            "offer" => &c.offer,
            "cap" => &c.cap,
            "offset" => &c.offset,
            "sold" => &c.sold,
            "revenue" => &c.revenue,
            "qvals" => &c.qvals,
            "reskill" => &c.reskill,
            "theta" => &b.theta,
            "util" => &b.util,
            "d" => &b.d,
            "experience" => &b.exp,
            "active_flag" => &b.active,
            "proposal" => &b.proposal,
            "bought" => &b.bought,
            "searches" => &b.searches,
            "gain" => &b.gain,
            _ => return None,
        })
    }

    /// Writes a whole field, in pieces so the driver's staging stays bounded.
    pub fn upload<T: Pod>(&self, gpu: &Gpu, buf: &wgpu::Buffer, data: &[T]) -> Result<(), GpuError> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        for (k, piece) in bytes.chunks(TRANSFER_CHUNK as usize).enumerate() {
            gpu.queue.write_buffer(buf, k as u64 * TRANSFER_CHUNK, piece);
            if bytes.len() as u64 > TRANSFER_CHUNK {
                gpu.queue.submit([]);
                gpu.wait("upload")?;
            }
        }
        Ok(())
    }

    /// Reads the first `len` elements of a field back to the host.
    pub fn download<T: Pod>(&self, gpu: &Gpu, buf: &wgpu::Buffer, len: usize) -> Result<Vec<T>, GpuError> {
        let total = (len * std::mem::size_of::<T>()) as u64;
        let mut bytes = Vec::with_capacity(total as usize);
        let mut off = 0u64;
        while off < total {
            let n = (total - off).min(self.transfer_size);
            let mut enc =
                gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("download") });
            enc.copy_buffer_to_buffer(buf, off, &self.transfer, 0, n);
            gpu.queue.submit([enc.finish()]);
            bytes.extend_from_slice(&gpu.read_bytes(&self.transfer, n, "download")?);
            off += n;
        }
        let mut out = vec![T::zeroed(); len];
        bytemuck::cast_slice_mut::<T, u8>(&mut out).copy_from_slice(&bytes);
        Ok(out)
    }

    /// Uploads the creators' fields.
    pub fn upload_creators(&self, gpu: &Gpu, c: &Creators) -> Result<(), GpuError> {
        let g = &self.c;
        self.upload(gpu, &g.talent, &c.talent)?;
        self.upload(gpu, &g.x, &c.x)?;
        self.upload(gpu, &g.mode, &c.mode)?;
        self.upload(gpu, &g.provider, &c.provider)?;
        self.upload(gpu, &g.vol, &c.vol)?;
        self.upload(gpu, &g.offer, &c.offer)?;
        self.upload(gpu, &g.cap, &c.cap)?;
        self.upload(gpu, &g.offset, &c.offset)?;
        self.upload(gpu, &g.sold, &c.sold)?;
        self.upload(gpu, &g.revenue, &c.revenue)?;
        self.upload(gpu, &g.qvals, &c.qvals)?;
        self.upload(gpu, &g.reskill, &c.reskill)
    }

    /// Uploads the buyers' fields.
    pub fn upload_buyers(&self, gpu: &Gpu, b: &Buyers) -> Result<(), GpuError> {
        let g = &self.b;
        self.upload(gpu, &g.theta, &b.theta)?;
        self.upload(gpu, &g.util, &b.util)?;
        self.upload(gpu, &g.d, &b.d)?;
        self.upload(gpu, &g.exp, &b.exp)?;
        self.upload(gpu, &g.active, &b.active)?;
        self.upload(gpu, &g.proposal, &b.proposal)?;
        self.upload(gpu, &g.bought, &b.bought)?;
        self.upload(gpu, &g.searches, &b.searches)?;
        self.upload(gpu, &g.gain, &b.gain)
    }

    /// Downloads the creators' fields.
    pub fn download_creators(&self, gpu: &Gpu, n: usize) -> Result<Creators, GpuError> {
        let g = &self.c;
        Ok(Creators {
            talent: self.download(gpu, &g.talent, n)?,
            x: self.download(gpu, &g.x, n)?,
            mode: self.download(gpu, &g.mode, n)?,
            provider: self.download(gpu, &g.provider, n)?,
            vol: self.download(gpu, &g.vol, n)?,
            offer: self.download(gpu, &g.offer, n)?,
            cap: self.download(gpu, &g.cap, n)?,
            offset: self.download(gpu, &g.offset, n)?,
            sold: self.download(gpu, &g.sold, n)?,
            revenue: self.download(gpu, &g.revenue, n)?,
            qvals: self.download(gpu, &g.qvals, n)?,
            reskill: self.download(gpu, &g.reskill, n)?,
        })
    }

    /// Downloads the buyers' fields.
    pub fn download_buyers(&self, gpu: &Gpu, n: usize) -> Result<Buyers, GpuError> {
        let g = &self.b;
        Ok(Buyers {
            theta: self.download(gpu, &g.theta, n)?,
            util: self.download(gpu, &g.util, n)?,
            d: self.download(gpu, &g.d, n)?,
            exp: self.download(gpu, &g.exp, n)?,
            active: self.download(gpu, &g.active, n)?,
            proposal: self.download(gpu, &g.proposal, n)?,
            bought: self.download(gpu, &g.bought, n)?,
            searches: self.download(gpu, &g.searches, n)?,
            gain: self.download(gpu, &g.gain, n)?,
        })
    }

    /// Downloads the records of the first `total` unit slots.
    pub fn download_units(&self, gpu: &Gpu, shift: u32, total: u64) -> Result<Vec<UnitRecord>, GpuError> {
        let chunk = 1u64 << shift;
        let mut out = Vec::with_capacity(total as usize);
        for (k, buf) in self.units.iter().enumerate() {
            let start = k as u64 * chunk;
            if start >= total {
                break;
            }
            let n = (total - start).min(chunk) as usize;
            out.extend(self.download::<UnitRecord>(gpu, buf, n)?);
        }
        Ok(out)
    }
}
