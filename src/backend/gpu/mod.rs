//! The GPU backend: every stage of the step as a WGSL compute shader (shaders/*.wgsl, one
//! file per stage, named as in the `Backend` trait) run through wgpu, with the agent state
//! resident in GPU storage buffers for the whole run. Per step the host only writes small
//! uniforms (the step parameters, the curves), dispatches, and reads back the scan totals
//! and the reduce partials. Owns the `Backend` implementation and the public API the CLI
//! uses; the device plumbing, memory plan and pipelines live in the submodules.
//! Design, determinism and tolerances: docs/gpu.md.

mod buffers;
mod device;
mod pipelines;
mod probe;

pub use buffers::{Level, Plan, ReduceLayout, bytes_per_buyer, bytes_per_creator};
pub use pipelines::{shaders, stage_source, units_prelude};
pub use probe::run_probe;

use super::{Backend, BackendInfo, Totals};
use crate::config::Config;
use crate::model::market::Histogram;
use crate::model::rules;
use crate::state::{Deciles, State, StepParams};
use buffers::{Buffers, NF_B, NF_C, NU_B, NU_C, WG};
use device::Gpu;
use pipelines::{Kernel, Pipelines};

/// What can go wrong on the GPU, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter found: {0}")]
    NoAdapter(&'static str),
    #[error("no GPU adapter name contains {wanted:?}; adapters found: {available}")]
    AdapterNotFound { wanted: String, available: String },
    #[error("could not open a device on {adapter}: {reason}")]
    Device { adapter: String, reason: String },
    #[error("{what}: needs {need}, the adapter allows {limit}; {advice}")]
    TooLarge { what: String, need: u64, limit: u64, advice: String },
    #[error(
        "GPU out of memory allocating {what} ({bytes} bytes planned): use fewer agents, a lower \
         technology.ai_volume_max, or a GPU with more memory (see `hollow info` for bytes per agent)"
    )]
    OutOfMemory { what: String, bytes: u64 },
    #[error("GPU device lost during {stage}: {reason}; the run cannot continue on this device")]
    DeviceLost { stage: String, reason: String },
    #[error("GPU did not finish {stage} within {secs} s")]
    Timeout { stage: String, secs: u64 },
    #[error("GPU error during {stage}: {message}")]
    Internal { stage: String, message: String },
    #[error("invalid input to the GPU backend: {0}")]
    Input(String),
}

/// Options of the GPU backend.
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Largest storage binding to use, in bytes (below the adapter's limit). Tests force
    /// small values so the chunked unit arrays are exercised on small populations.
    pub max_binding_bytes: Option<u64>,
    /// Use the first adapter whose name contains this (case-insensitive); see `adapters()`.
    pub adapter: Option<String>,
}

/// One human-readable line per adapter (backend, device type, key limits), for `hollow info`.
pub fn adapters() -> Vec<String> {
    device::adapters()
}

/// What to do when no adapter is found.
pub fn no_adapter_help() -> &'static str {
    "wgpu found no Vulkan, Metal or DX12 adapter. Install a GPU driver with Vulkan support, or, \
     for software Vulkan on any machine, `sudo apt-get install mesa-vulkan-drivers libvulkan1` \
     (Debian/Ubuntu; provides the llvmpipe adapter). `hollow info` lists the adapters found."
}

/// Passes per step that can carry timestamps (offers, scan, 2 x 16 rounds, buyers,
/// accounts, reduce, decide, with room to spare).
const MAX_TIMED_PASSES: u32 = 64;

struct Timing {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    read: wgpu::Buffer,
    /// Stage of each pass timed since the last `offers`.
    passes: Vec<&'static str>,
}

/// The GPU backend. Built once per run; see the module doc.
pub struct GpuBackend {
    gpu: Gpu,
    plan: Plan,
    bufs: Buffers,
    pipes: Pipelines,
    timing: Option<Timing>,
    /// Units laid out by the last scan (what `units()` returns).
    n_units: u64,
    n_providers: u32,
    /// The first error; once set, stages do nothing and `error()` reports it.
    failed: Option<GpuError>,
}

impl GpuBackend {
    /// Opens a device, lays out `state` in GPU buffers and compiles every stage.
    /// `cfg` gives what bounds the buffers: `ai_volume_max`, `bins`, `n_providers`.
    pub fn new(state: State, cfg: &Config, opts: &GpuOptions) -> Result<GpuBackend, GpuError> {
        let nc = check_lengths_creators(&state)?;
        let nb = check_lengths_buyers(&state)?;
        if nb >= 1 << crate::rng::PERM_BITS {
            return Err(GpuError::Input(format!("{nb} buyers: buyer ids must be below 2^30 (the claim-key space)")));
        }
        let gpu = Gpu::open(opts.adapter.as_deref())?;
        let plan =
            buffers::plan(nc, nb, cfg.technology.ai_volume_max, cfg.market.bins, &gpu.limits, opts.max_binding_bytes)?;
        let bufs = Buffers::new(&gpu, &plan)?;
        bufs.upload_creators(&gpu, &state.creators)?;
        bufs.upload_buyers(&gpu, &state.buyers)?;
        drop(state);
        let pipes = Pipelines::new(&gpu, &bufs, (plan.n_chunks, plan.chunk_shift))?;
        let timing = gpu.timestamps.then(|| {
            let n = 2 * MAX_TIMED_PASSES;
            Timing {
                queries: gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("stage timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: n,
                }),
                resolve: gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("timestamp resolve"),
                    size: u64::from(n) * 8,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }),
                read: gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("timestamp readback"),
                    size: u64::from(n) * 8,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }),
                passes: Vec::new(),
            }
        });
        gpu.wait("start-up")?;
        Ok(GpuBackend {
            gpu,
            plan,
            bufs,
            pipes,
            timing,
            n_units: 0,
            n_providers: cfg.technology.n_providers.max(1),
            failed: None,
        })
    }

    /// The memory plan in use (chunks, grids, bytes).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The first error met during the run, if any (stages are no-ops after it).
    pub fn failure(&self) -> Option<&GpuError> {
        self.failed.as_ref()
    }

    /// Destroys the device under the backend, as a driver reset would: a test hook for the
    /// device-lost path (later stages must fail cleanly, not hang or panic).
    #[doc(hidden)]
    pub fn lose_device_for_test(&self) {
        self.gpu.device.destroy();
    }

    /// Whether the adapter supports timestamp queries (then `stage_times` reports).
    pub fn has_timestamps(&self) -> bool {
        self.timing.is_some()
    }

    /// GPU time of each stage in the last step (seconds, summed over rounds), from
    /// timestamp queries; `None` when the adapter has no timestamps or on error.
    pub fn stage_times(&self) -> Option<Vec<(&'static str, f64)>> {
        let t = self.timing.as_ref()?;
        if t.passes.is_empty() || self.failed.is_some() {
            return None;
        }
        let n = 2 * t.passes.len() as u32;
        let mut enc = self.gpu.device.create_command_encoder(&Default::default());
        enc.resolve_query_set(&t.queries, 0..n, &t.resolve, 0);
        enc.copy_buffer_to_buffer(&t.resolve, 0, &t.read, 0, u64::from(n) * 8);
        self.gpu.queue.submit([enc.finish()]);
        let bytes = self.gpu.read_bytes(&t.read, u64::from(n) * 8, "timestamps").ok()?;
        let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&bytes);
        let period = f64::from(self.gpu.queue.get_timestamp_period()) * 1e-9;
        let mut out: Vec<(&'static str, f64)> = crate::sim::STAGES.iter().map(|&s| (s, 0.0)).collect();
        for (k, stage) in t.passes.iter().enumerate() {
            let dt = ticks[2 * k + 1].saturating_sub(ticks[2 * k]) as f64 * period;
            if let Some(e) = out.iter_mut().find(|e| e.0 == *stage) {
                e.1 += dt;
            }
        }
        Some(out)
    }

    /// Workgroups for `n` items of `per` each, tiled in 2-D past the per-dimension limit.
    fn grid(&self, n: u64, per: u64) -> (u32, u32) {
        let groups = n.div_ceil(per);
        let maxd = u64::from(self.gpu.limits.max_compute_workgroups_per_dimension.max(1));
        if groups <= maxd { (groups as u32, 1) } else { (maxd as u32, groups.div_ceil(maxd) as u32) }
    }

    /// Writes the step parameters (with this population's sizes) for the next submission.
    fn write_params(&self, p: &StepParams) {
        let mut q = *p;
        q.n_creators = self.plan.n_creators;
        q.n_buyers = self.plan.n_buyers;
        self.gpu.queue.write_buffer(&self.bufs.params, 0, bytemuck::bytes_of(&q));
    }

    /// Records one compute pass of `stage` (timed when the adapter allows), lets `body`
    /// fill it, then runs `after` on the encoder (copies) and submits.
    fn pass(
        &mut self,
        stage: &'static str,
        body: impl FnOnce(&mut wgpu::ComputePass<'_>, &Self),
        after: impl FnOnce(&mut wgpu::CommandEncoder, &Self),
    ) {
        let mut enc = self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(stage) });
        {
            let slot = match &mut self.timing {
                Some(t) if (t.passes.len() as u32) < MAX_TIMED_PASSES => {
                    t.passes.push(stage);
                    Some(t.passes.len() as u32 - 1)
                }
                _ => None,
            };
            let timestamp_writes = match (&self.timing, slot) {
                (Some(t), Some(k)) => Some(wgpu::ComputePassTimestampWrites {
                    query_set: &t.queries,
                    beginning_of_pass_write_index: Some(2 * k),
                    end_of_pass_write_index: Some(2 * k + 1),
                }),
                _ => None,
            };
            let mut cp = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(stage), timestamp_writes });
            body(&mut cp, self);
        }
        after(&mut enc, self);
        self.gpu.queue.submit([enc.finish()]);
        if let Err(e) = self.gpu.check(stage) {
            self.failed.get_or_insert(e);
        }
    }

    fn dispatch(&self, cp: &mut wgpu::ComputePass<'_>, k: &Kernel, group: usize, n: u64, per: u64) {
        if n == 0 {
            return;
        }
        let (x, y) = self.grid(n, per);
        cp.set_pipeline(&k.pipeline);
        cp.set_bind_group(0, &k.groups[group], &[]);
        if k.units {
            cp.set_bind_group(1, &self.pipes.units, &[]);
        }
        cp.dispatch_workgroups(x, y, 1);
    }

    fn fail(&mut self, e: GpuError) {
        self.failed.get_or_insert(e);
    }

    fn creators(&self) -> u64 {
        u64::from(self.plan.n_creators)
    }

    fn buyers_n(&self) -> u64 {
        u64::from(self.plan.n_buyers)
    }

    fn empty_totals(&self, p: &StepParams) -> Totals {
        Totals {
            provider_sold: vec![0; self.n_providers as usize],
            hist: Histogram::new(p.bins as usize),
            ..Default::default()
        }
    }

    /// Adds the partial records of the reduce grid in f64, in workgroup order.
    fn sum_partials(&self, p: &StepParams, words: &[u32]) -> Totals {
        let pl = &self.plan;
        let r = &pl.red;
        let f = |w: u32| f64::from(f32::from_bits(w));
        let np = (p.n_providers.max(1) as usize).min(16);
        let mut t = Totals { provider_sold: vec![0; np], hist: Histogram::new(pl.bins as usize), ..Default::default() };
        let mut searches = 0u64;
        for g in 0..pl.groups_b as usize {
            let bf = &words[r.off_bf as usize + g * NF_B..][..NF_B];
            t.utility += f(bf[0]);
            t.spend += f(bf[1]);
            t.spend_ai += f(bf[2]);
            t.junk_paid += f(bf[3]);
            t.d_sum += f(bf[4]);
            let bu = &words[r.off_bu as usize + g * NU_B..][..NU_B];
            t.active += u64::from(bu[0]);
            t.matched += u64::from(bu[1]);
            t.matched_ai += u64::from(bu[2]);
            t.matched_junk += u64::from(bu[3]);
            searches += u64::from(bu[4]);
        }
        t.search_costs = searches as f64 * f64::from(p.k as f32 * p.search_cost);
        let ncell = r.ncell as usize;
        for g in 0..pl.groups_c as usize {
            let cf = &words[r.off_cf as usize + g * NF_C..][..NF_C];
            for m in 0..3 {
                t.x_sum[m] += f(cf[m]);
                t.talent_sum[m] += f(cf[3 + m]);
                t.revenue[m] += f(cf[6 + m]);
            }
            t.revenue_sq += f(cf[9]);
            t.profit += f(cf[10]);
            t.vol_sum += f(cf[11]);
            let cu = &words[r.off_cu as usize + g * NU_C..][..NU_C];
            for m in 0..3 {
                t.mode_count[m] += u64::from(cu[m]);
                for d in 0..10 {
                    t.decile_mode[d][m] += u64::from(cu[3 + d * 3 + m]);
                }
            }
            for ch in 0..2 {
                t.offered[ch] += u64::from(cu[33 + ch]);
                t.sold[ch] += u64::from(cu[35 + ch]);
            }
            for (k, s) in t.provider_sold.iter_mut().enumerate() {
                *s += u64::from(cu[37 + k]);
            }
            let hu = &words[r.off_hu as usize + g * ncell * 2..][..ncell * 2];
            let hf = &words[r.off_hf as usize + g * ncell..][..ncell];
            for (c, cell) in t.hist.cells.iter_mut().enumerate().take(ncell) {
                cell[0] += f64::from(hu[2 * c]);
                cell[1] += f64::from(hu[2 * c + 1]);
                cell[2] += f(hf[c]);
            }
        }
        t
    }
}

fn same_len(what: &str, lens: &[usize]) -> Result<u32, GpuError> {
    let n = lens[0];
    if lens.iter().any(|&l| l != n) {
        return Err(GpuError::Input(format!("{what} fields have different lengths: {lens:?}")));
    }
    u32::try_from(n).map_err(|_| GpuError::Input(format!("{n} {what} do not fit u32 ids")))
}

fn check_lengths_creators(s: &State) -> Result<u32, GpuError> {
    let c = &s.creators;
    same_len(
        "creators",
        &[
            c.talent.len(),
            c.x.len(),
            c.mode.len(),
            c.provider.len(),
            c.vol.len(),
            c.offer.len(),
            c.cap.len(),
            c.offset.len(),
            c.sold.len(),
            c.revenue.len(),
            c.qvals.len(),
            c.reskill.len(),
        ],
    )
}

fn check_lengths_buyers(s: &State) -> Result<u32, GpuError> {
    let b = &s.buyers;
    same_len(
        "buyers",
        &[
            b.theta.len(),
            b.util.len(),
            b.d.len(),
            b.exp.len(),
            b.active.len(),
            b.proposal.len(),
            b.bought.len(),
            b.searches.len(),
            b.gain.len(),
        ],
    )
}

impl Backend for GpuBackend {
    fn info(&self) -> BackendInfo {
        let i = &self.gpu.info;
        BackendInfo {
            name: "gpu".into(),
            device: format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type),
            threads: 1,
        }
    }

    fn offers(&mut self, p: &StepParams) {
        if self.failed.is_some() {
            return;
        }
        if let Some(t) = &mut self.timing {
            t.passes.clear();
        }
        if p.ai_volume_max > (self.plan.units_cap / self.creators().max(1)) as f32 {
            let cap = self.plan.units_cap / self.creators().max(1);
            self.fail(GpuError::Input(format!(
                "ai_volume_max {} exceeds the {cap} units per creator the unit buffers were sized for",
                p.ai_volume_max
            )));
            return;
        }
        self.write_params(p);
        let n = self.creators();
        self.pass("offers", |cp, s| s.dispatch(cp, &s.pipes.offers, 0, n, WG), |_, _| {});
    }

    fn scan(&mut self, p: &StepParams) -> (u32, u32) {
        if self.failed.is_some() {
            return (0, 0);
        }
        self.write_params(p);
        let n = self.creators();
        let blk = buffers::SCAN_BLOCK;
        let levels = self.plan.levels.clone();
        let top = levels.len() - 1;
        self.pass(
            "scan",
            |cp, s| {
                let k = &s.pipes;
                s.dispatch(cp, &k.scan_up0, 0, n, blk);
                for (l, lv) in levels[..top].iter().enumerate() {
                    s.dispatch(cp, &k.scan_up, l + 1, u64::from(lv.0), blk);
                }
                s.dispatch(cp, &k.scan_top, top + 1, 1, 1);
                for (l, lv) in levels[..top].iter().enumerate().rev() {
                    s.dispatch(cp, &k.scan_down, l + 1, u64::from(lv.0), blk);
                }
                s.dispatch(cp, &k.scan_down0, 0, n, blk);
                s.dispatch(cp, &k.scan_fill, 0, n, WG);
            },
            |enc, s| enc.copy_buffer_to_buffer(&s.bufs.totals, 0, &s.bufs.totals_read, 0, 8),
        );
        if self.failed.is_some() {
            return (0, 0);
        }
        match self.gpu.read_bytes(&self.bufs.totals_read, 8, "scan") {
            Ok(bytes) => {
                let t: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes);
                let (n_ai, n_h) = (t[0], t[1]);
                self.n_units = u64::from(n_ai) + u64::from(n_h);
                (n_ai, n_h)
            }
            Err(e) => {
                self.fail(e);
                (0, 0)
            }
        }
    }

    fn search(&mut self, p: &StepParams) {
        if self.failed.is_some() {
            return;
        }
        self.write_params(p);
        let n = self.buyers_n();
        self.pass("search", |cp, s| s.dispatch(cp, &s.pipes.search, 0, n, WG), |_, _| {});
    }

    fn resolve(&mut self, p: &StepParams) {
        if self.failed.is_some() {
            return;
        }
        self.write_params(p);
        let n = self.buyers_n();
        self.pass("resolve", |cp, s| s.dispatch(cp, &s.pipes.resolve, 0, n, WG), |_, _| {});
    }

    fn buyers(&mut self, p: &StepParams) {
        if self.failed.is_some() {
            return;
        }
        self.write_params(p);
        let n = self.buyers_n();
        self.pass("buyers", |cp, s| s.dispatch(cp, &s.pipes.buyers, 0, n, WG), |_, _| {});
    }

    fn accounts(&mut self, p: &StepParams) {
        if self.failed.is_some() {
            return;
        }
        self.write_params(p);
        let n = self.creators();
        self.pass("accounts", |cp, s| s.dispatch(cp, &s.pipes.accounts, 0, n, WG), |_, _| {});
    }

    fn reduce(&mut self, p: &StepParams, deciles: &Deciles) -> Totals {
        if self.failed.is_none() && p.bins != self.plan.bins {
            self.fail(GpuError::Input(format!(
                "the step has {} quality bins but the GPU buffers were sized for {}",
                p.bins, self.plan.bins
            )));
        }
        if self.failed.is_some() {
            return self.empty_totals(p);
        }
        self.write_params(p);
        self.gpu.queue.write_buffer(&self.bufs.deciles, 0, bytemuck::cast_slice(deciles));
        let (gb, gc) = (u64::from(self.plan.groups_b), u64::from(self.plan.groups_c));
        let words = self.plan.part_words;
        self.pass(
            "reduce",
            |cp, s| {
                s.dispatch(cp, &s.pipes.reduce_buyers, 0, gb, 1);
                s.dispatch(cp, &s.pipes.reduce_creators, 0, gc, 1);
            },
            |enc, s| enc.copy_buffer_to_buffer(&s.bufs.part, 0, &s.bufs.part_read, 0, words * 4),
        );
        if self.failed.is_some() {
            return self.empty_totals(p);
        }
        match self.gpu.read_bytes(&self.bufs.part_read, words * 4, "reduce") {
            Ok(bytes) => {
                let w: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes);
                self.sum_partials(p, &w)
            }
            Err(e) => {
                self.fail(e);
                self.empty_totals(p)
            }
        }
    }

    fn decide(&mut self, p: &StepParams, rp: &[[f32; 2]]) {
        if self.failed.is_some() {
            return;
        }
        let grid_n = p.x_grid.max(2);
        let cells = 2 * p.bins as usize;
        if rp.len() < cells || rp.len() as u64 > buffers::MAX_CURVE_CELLS || u64::from(grid_n) > buffers::MAX_GRID {
            self.fail(GpuError::Input(format!(
                "decide got {} curve cells for {} bins and an x grid of {grid_n} (at most {} cells, {} points)",
                rp.len(),
                p.bins,
                buffers::MAX_CURVE_CELLS,
                buffers::MAX_GRID
            )));
            return;
        }
        // Grid points and their human factors come from the Rust rules, so both backends
        // search exactly the same x values.
        let factors = rules::grid_factors(p);
        let grid: Vec<[f32; 2]> = factors.iter().enumerate().map(|(g, &f)| [rules::grid_x(g as u32, p), f]).collect();
        self.write_params(p);
        self.gpu.queue.write_buffer(&self.bufs.curves, 0, bytemuck::cast_slice(rp));
        self.gpu.queue.write_buffer(&self.bufs.grid, 0, bytemuck::cast_slice(&grid));
        let n = self.creators();
        self.pass("decide", |cp, s| s.dispatch(cp, &s.pipes.decide, 0, n, WG), |_, _| {});
    }

    fn state(&mut self) -> State {
        if self.failed.is_some() {
            return State::default();
        }
        let r = (|| -> Result<State, GpuError> {
            self.gpu.wait("state download")?;
            Ok(State {
                creators: self.bufs.download_creators(&self.gpu, self.plan.n_creators as usize)?,
                buyers: self.bufs.download_buyers(&self.gpu, self.plan.n_buyers as usize)?,
            })
        })();
        r.unwrap_or_else(|e| {
            self.fail(e);
            State::default()
        })
    }

    fn units(&mut self) -> (Vec<u32>, Vec<u32>) {
        if self.failed.is_some() {
            return (Vec::new(), Vec::new());
        }
        let shift = self.plan.chunk_shift;
        let r = (|| -> Result<(Vec<u32>, Vec<u32>), GpuError> {
            let owner = self.bufs.download_units(&self.gpu, &self.bufs.owner, shift, self.n_units)?;
            let claim = self.bufs.download_units(&self.gpu, &self.bufs.claim, shift, self.n_units)?;
            Ok((owner, claim))
        })();
        r.unwrap_or_else(|e| {
            self.fail(e);
            (Vec::new(), Vec::new())
        })
    }

    fn error(&self) -> Option<String> {
        self.failed.as_ref().map(|e| e.to_string())
    }

    fn stage_times(&self) -> Option<Vec<(&'static str, f64)>> {
        GpuBackend::stage_times(self)
    }
}
