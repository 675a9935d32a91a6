//! The GPU backend: every stage of the step as a WGSL compute shader (shaders/*.wgsl, one
//! file per stage, named as in the `Backend` trait) run through wgpu, with the agent state
//! resident in GPU storage buffers for the whole run. Per step the host only writes small
//! inputs (the step parameters, the curves), dispatches, and reads back the scan totals
//! and the reduce partials.
//!
//! The engine is [`GpuEnsemble`]: any number of independent, equal-sized markets in one set
//! of buffers and one set of dispatches per stage (an ensemble index per agent, a table of
//! per-market parameters), which is how sweeps run many small markets without paying each
//! one's launch and readback overhead. A single run's backend is a one-market ensemble
//! ([`GpuEnsemble::one`], used through the `Backend` trait). The device plumbing, memory plan and pipelines live in the submodules.
//! Design, determinism and tolerances: docs/gpu.md.

mod bindings;
mod buffers;
mod device;
mod markets;
mod pipelines;
mod probe;
mod single;

pub use bindings::{Access, Binding, KERNELS, KernelDecl, SHARED};
pub use buffers::{BatchLayout, Level, Plan, ReduceLayout, UNIT_BYTES, UnitRecord, bytes_per_buyer, bytes_per_creator};
pub use pipelines::{shaders, stage_source, units_prelude};
pub use probe::run_probe;

use super::{BackendError, Ensemble, Totals};
use crate::config::Config;
use crate::model::market::Histogram;
use crate::model::rules;
use crate::state::{Deciles, State, StepParams};
use buffers::{Buffers, NF_B, NF_C, NU_B, NU_C, WG};
use device::Gpu;
use markets::{Shape, concat_states, split_states};
use pipelines::{Kernel, Pipelines};

/// Every constant the WGSL declares as a mirror of a Rust one, by its WGSL name, with the
/// Rust value (tests/wgsl_layout.rs finds each in the parsed shaders with naga and compares).
pub fn mirrored_constants() -> Vec<(&'static str, f64)> {
    use crate::model::market::{CH_AI, CH_HUMAN};
    use crate::model::rules::{Q_ADOPT, Q_EXIT, Q_RESKILL, Q_STAY, RESKILL_ACTION_SHIFT, RESKILL_INIT, RESKILL_LEFT};
    use crate::state::{AI, AI_BIT, CLAIM_EMPTY, CLAIM_SOLD, EXIT, HUMAN, ID_MASK, JUNK_BIT, NONE};
    let u = |v: u32| v as f64;
    vec![
        ("EXIT", u(EXIT)),
        ("AI", u(AI)),
        ("HUMAN", u(HUMAN)),
        ("NONE", u(NONE)),
        ("CLAIM_EMPTY", u(CLAIM_EMPTY)),
        ("CLAIM_SOLD", u(CLAIM_SOLD)),
        ("JUNK_BIT", u(JUNK_BIT)),
        ("AI_BIT", u(AI_BIT)),
        ("ID_MASK", u(ID_MASK)),
        ("CH_AI", CH_AI as f64),
        ("CH_HUMAN", CH_HUMAN as f64),
        ("Q_STAY", u(Q_STAY)),
        ("Q_RESKILL", u(Q_RESKILL)),
        ("Q_ADOPT", u(Q_ADOPT)),
        ("Q_EXIT", u(Q_EXIT)),
        ("RESKILL_LEFT", u(RESKILL_LEFT)),
        ("RESKILL_ACTION_SHIFT", u(RESKILL_ACTION_SHIFT)),
        ("RESKILL_INIT", u(RESKILL_INIT)),
        ("WG", WG as f64),
        ("NF_B", NF_B as f64),
        ("NU_B", NU_B as f64),
        ("NF_C", NF_C as f64),
        ("NU_C", NU_C as f64),
        ("MAX_GRID", buffers::MAX_GRID as f64),
    ]
}

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

/// Whether an adapter other than a CPU emulation (lavapipe) is present.
pub fn has_hardware_adapter() -> bool {
    device::has_hardware_adapter()
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

/// Independent markets of equal size (creators, buyers, quality bins) run in lockstep on
/// one device: every stage is one set of dispatches over all of them, with market m's
/// parameters in row m of a parameter table. A market's results are bit-identical to its
/// run alone (random draws use ids within the market, and its reduce grid depends on its
/// own size only); tests/ensemble.rs checks that.
pub struct GpuEnsemble {
    gpu: Gpu,
    plan: Plan,
    bufs: Buffers,
    pipes: Pipelines,
    timing: Option<Timing>,
    /// Units laid out by the last scan in market 0 (what `units()` returns).
    n_units: u64,
    /// The first error; once set, stages do nothing and `error()` reports it.
    failed: Option<GpuError>,
}

impl GpuEnsemble {
    /// Opens a device, lays out `states` (one per market, all the same size) in GPU buffers
    /// and compiles every stage. `cfgs` (one per market) bound the buffers: the largest
    /// `ai_volume_max`, and `bins`, which must agree.
    pub fn new(states: Vec<State>, cfgs: &[&Config], opts: &GpuOptions) -> Result<GpuEnsemble, GpuError> {
        let Shape { nc, nb, bins, vmax } = Shape::of(&states, cfgs)?;
        let gpu = Gpu::open(opts.adapter.as_deref())?;
        let markets = u32::try_from(states.len()).map_err(|_| GpuError::Input("too many markets".into()))?;
        let plan = buffers::plan(markets, nc, nb, vmax, bins, &gpu.limits, opts.max_binding_bytes)?;
        let bufs = Buffers::new(&gpu, &plan)?;
        // A single run uploads its state as it is: copying 10^8 agents to concatenate
        // one state would double the host memory for nothing.
        let state = if states.len() == 1 {
            states.into_iter().next().unwrap_or_default()
        } else {
            concat_states(states, plan.unit_stride)
        };
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
        Ok(GpuEnsemble { gpu, plan, bufs, pipes, timing, n_units: 0, failed: None })
    }

    /// The memory plan in use (chunks, grids, bytes).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Whether `reload` can take these markets: as many as the plan holds, of its size and
    /// bins, volume caps within its unit slots, and no failure so far.
    pub fn can_reload(&self, states: &[State], cfgs: &[&Config]) -> bool {
        let p = &self.plan;
        self.failed.is_none()
            && states.len() == p.n_markets as usize
            && Shape::of(states, cfgs).is_ok_and(|s| {
                (s.nc, s.nb, s.bins) == (p.n_creators, p.n_buyers, p.bins)
                    && u64::from(s.nc) * u64::from(s.vmax) <= u64::from(p.unit_stride)
            })
    }

    /// Replaces every market with a new one (`states`, `cfgs`; see `can_reload`), keeping
    /// the device, buffers and pipelines: a sweep's next ensemble starts without opening a
    /// device or compiling shaders again. Every field of the agent state is uploaded, and
    /// everything else a step reads is rewritten by the step, so the new markets run exactly
    /// as in a fresh ensemble.
    pub fn reload(&mut self, states: Vec<State>, cfgs: &[&Config]) -> Result<(), GpuError> {
        if !self.can_reload(&states, cfgs) {
            return Err(GpuError::Input(format!(
                "{} markets do not fit the ensemble's plan ({} markets of {} creators and {} buyers)",
                states.len(),
                self.plan.n_markets,
                self.plan.n_creators,
                self.plan.n_buyers
            )));
        }
        let state = concat_states(states, self.plan.unit_stride);
        self.bufs.upload_creators(&self.gpu, &state.creators)?;
        self.bufs.upload_buyers(&self.gpu, &state.buyers)?;
        self.n_units = 0;
        if let Some(t) = &mut self.timing {
            t.passes.clear();
        }
        self.gpu.wait("reload")
    }

    /// The first error met during the run, if any (stages are no-ops after it).
    pub fn failure(&self) -> Option<&GpuError> {
        self.failed.as_ref()
    }

    /// What runs the ensemble, for logs and output files.
    pub fn device(&self) -> String {
        let i = &self.gpu.info;
        format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type)
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
        let mut out: Vec<(&'static str, f64)> = crate::backend::Stage::NAMES.iter().map(|&s| (s, 0.0)).collect();
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

    fn markets_n(&self) -> usize {
        self.plan.n_markets as usize
    }

    /// Checks there is one parameter set per market (else fails the ensemble) and writes
    /// them, with the markets' sizes, for the next submission.
    fn write_params(&mut self, ps: &[StepParams]) -> bool {
        if self.failed.is_some() {
            return false;
        }
        if ps.len() != self.markets_n() {
            self.fail(GpuError::Input(format!("{} parameter sets for {} markets", ps.len(), self.markets_n())));
            return false;
        }
        let rows: Vec<StepParams> = ps
            .iter()
            .map(|p| {
                let mut q = *p;
                q.n_creators = self.plan.n_creators;
                q.n_buyers = self.plan.n_buyers;
                q
            })
            .collect();
        self.gpu.queue.write_buffer(&self.bufs.params, 0, bytemuck::cast_slice(&rows));
        true
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

    /// Creators and buyers of the whole ensemble.
    fn creators(&self) -> u64 {
        u64::from(self.plan.n_markets) * u64::from(self.plan.n_creators)
    }

    fn buyers_n(&self) -> u64 {
        u64::from(self.plan.n_markets) * u64::from(self.plan.n_buyers)
    }

    fn empty_totals(ps: &[StepParams]) -> Vec<Totals> {
        ps.iter()
            .map(|p| Totals {
                provider_sold: vec![0; (p.n_providers.max(1) as usize).min(16)],
                hist: Histogram::new(p.bins as usize),
                ..Default::default()
            })
            .collect()
    }

    /// Adds market `market`'s partial records of the reduce grid in f64, in workgroup order.
    fn sum_partials(&self, p: &StepParams, words: &[u32], market: usize) -> Totals {
        let pl = &self.plan;
        let r = &pl.red;
        let f = |w: u32| f64::from(f32::from_bits(w));
        let np = (p.n_providers.max(1) as usize).min(16);
        let mut t = Totals { provider_sold: vec![0; np], hist: Histogram::new(pl.bins as usize), ..Default::default() };
        let mut searches = 0u64;
        let gb = pl.groups_b as usize;
        for g in market * gb..(market + 1) * gb {
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
        let gc = pl.groups_c as usize;
        for g in market * gc..(market + 1) * gc {
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

    /// Every market's agent state, with ids (units proposed to, creators bought from)
    /// made local to the market again.
    pub fn states(&mut self) -> Vec<State> {
        if self.failed.is_some() {
            return Vec::new();
        }
        let r = (|| -> Result<State, GpuError> {
            self.gpu.wait("state download")?;
            Ok(State {
                creators: self.bufs.download_creators(&self.gpu, self.creators() as usize)?,
                buyers: self.bufs.download_buyers(&self.gpu, self.buyers_n() as usize)?,
            })
        })();
        match r {
            Ok(all) => split_states(all, self.plan.n_markets as usize, self.plan.unit_stride),
            Err(e) => {
                self.fail(e);
                Vec::new()
            }
        }
    }

    /// Units of market 0 laid out by the last scan: (owner, claim) per unit (tests).
    pub fn units(&mut self) -> (Vec<u32>, Vec<u32>) {
        if self.failed.is_some() {
            return (Vec::new(), Vec::new());
        }
        let shift = self.plan.chunk_shift;
        let r = self.bufs.download_units(&self.gpu, shift, self.n_units).map(|recs| {
            let owner = recs.iter().map(|r| r.owner).collect();
            let claim = recs.iter().map(|r| r.claim).collect();
            (owner, claim)
        });
        r.unwrap_or_else(|e| {
            self.fail(e);
            (Vec::new(), Vec::new())
        })
    }
}

impl Ensemble for GpuEnsemble {
    fn markets(&self) -> usize {
        self.markets_n()
    }

    fn describe(&self) -> String {
        format!("gpu: {}, {} markets per dispatch", self.device(), self.plan.n_markets)
    }

    fn offers(&mut self, ps: &[StepParams]) {
        if let Some(t) = &mut self.timing {
            t.passes.clear();
        }
        let per_creator = u64::from(self.plan.unit_stride) / u64::from(self.plan.n_creators.max(1));
        if let Some(p) = ps.iter().find(|p| p.ai_volume_max > per_creator as f32) {
            self.fail(GpuError::Input(format!(
                "ai_volume_max {} exceeds the {per_creator} units per creator the unit buffers were sized for",
                p.ai_volume_max
            )));
        }
        if !self.write_params(ps) {
            return;
        }
        let n = self.creators();
        self.pass("offers", |cp, s| s.dispatch(cp, &s.pipes.offers, 0, n, WG), |_, _| {});
    }

    fn scan(&mut self, ps: &[StepParams]) -> Vec<(u32, u32)> {
        let zeros = vec![(0, 0); ps.len()];
        if !self.write_params(ps) {
            return zeros;
        }
        let n = self.creators();
        let blk = buffers::SCAN_BLOCK;
        let levels = self.plan.levels.clone();
        let top = levels.len() - 1;
        let markets = u64::from(self.plan.n_markets);
        self.pass(
            "scan",
            |cp, s| {
                let k = &s.pipes;
                if markets == 1 {
                    s.dispatch(cp, &k.scan_up, 0, n, blk);
                    for (l, lv) in levels[..top].iter().enumerate() {
                        s.dispatch(cp, &k.scan_up, l + 1, u64::from(lv.0), blk);
                    }
                    s.dispatch(cp, &k.scan_top, top + 1, 1, 1);
                    for (l, lv) in levels[..top].iter().enumerate().rev() {
                        s.dispatch(cp, &k.scan_down, l + 1, u64::from(lv.0), blk);
                    }
                    s.dispatch(cp, &k.scan_down0, 0, n, blk);
                } else {
                    s.dispatch(cp, &k.scan_seg, 0, markets, 1);
                }
                s.dispatch(cp, &k.scan_fill, 0, n, WG);
            },
            |enc, s| enc.copy_buffer_to_buffer(&s.bufs.totals, 0, &s.bufs.totals_read, 0, markets * 8),
        );
        if self.failed.is_some() {
            return zeros;
        }
        match self.gpu.read_bytes(&self.bufs.totals_read, markets * 8, "scan") {
            Ok(bytes) => {
                let t: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes);
                let out: Vec<(u32, u32)> = t.chunks_exact(2).map(|w| (w[0], w[1])).collect();
                self.n_units = u64::from(out[0].0) + u64::from(out[0].1);
                out
            }
            Err(e) => {
                self.fail(e);
                zeros
            }
        }
    }

    fn search(&mut self, ps: &[StepParams]) {
        if self.write_params(ps) {
            let n = self.buyers_n();
            self.pass("search", |cp, s| s.dispatch(cp, &s.pipes.search, 0, n, WG), |_, _| {});
        }
    }

    fn resolve(&mut self, ps: &[StepParams]) {
        if self.write_params(ps) {
            let n = self.buyers_n();
            self.pass("resolve", |cp, s| s.dispatch(cp, &s.pipes.resolve, 0, n, WG), |_, _| {});
        }
    }

    fn buyers(&mut self, ps: &[StepParams]) {
        if self.write_params(ps) {
            let n = self.buyers_n();
            self.pass("buyers", |cp, s| s.dispatch(cp, &s.pipes.buyers, 0, n, WG), |_, _| {});
        }
    }

    fn accounts(&mut self, ps: &[StepParams]) {
        if self.write_params(ps) {
            let n = self.creators();
            self.pass("accounts", |cp, s| s.dispatch(cp, &s.pipes.accounts, 0, n, WG), |_, _| {});
        }
    }

    fn reduce(&mut self, ps: &[StepParams], deciles: &[Deciles]) -> Vec<Totals> {
        if self.failed.is_none() {
            if let Some(p) = ps.iter().find(|p| p.bins != self.plan.bins) {
                self.fail(GpuError::Input(format!(
                    "the step has {} quality bins but the GPU buffers were sized for {}",
                    p.bins, self.plan.bins
                )));
            } else if deciles.len() != ps.len() {
                self.fail(GpuError::Input(format!("{} decile sets for {} markets", deciles.len(), ps.len())));
            }
        }
        if !self.write_params(ps) {
            return Self::empty_totals(ps);
        }
        self.gpu.queue.write_buffer(&self.bufs.deciles, 0, bytemuck::cast_slice(deciles));
        let markets = u64::from(self.plan.n_markets);
        let (gb, gc) = (markets * u64::from(self.plan.groups_b), markets * u64::from(self.plan.groups_c));
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
            return Self::empty_totals(ps);
        }
        match self.gpu.read_bytes(&self.bufs.part_read, words * 4, "reduce") {
            Ok(bytes) => {
                use rayon::prelude::*;
                let w: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes);
                // Each market's sum is sequential (fixed order); markets are independent.
                ps.par_iter().enumerate().map(|(m, p)| self.sum_partials(p, &w, m)).collect()
            }
            Err(e) => {
                self.fail(e);
                Self::empty_totals(ps)
            }
        }
    }

    fn decide(&mut self, ps: &[StepParams], rps: &[&[[f32; 2]]]) {
        if self.failed.is_some() {
            return;
        }
        let cells = 2 * self.plan.bins as usize;
        for (p, rp) in ps.iter().zip(rps) {
            let grid_n = p.x_grid.max(2);
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
        }
        if rps.len() != ps.len() {
            self.fail(GpuError::Input(format!("{} curve sets for {} markets", rps.len(), ps.len())));
            return;
        }
        // Grid points and their human factors come from the Rust rules, so both backends
        // search exactly the same x values.
        use rayon::prelude::*;
        let mut grid = vec![[0f32; 2]; ps.len() * buffers::MAX_GRID as usize];
        grid.par_chunks_mut(buffers::MAX_GRID as usize).zip(ps).for_each(|(row, p)| {
            for (g, &f) in rules::grid_factors(p).iter().enumerate() {
                row[g] = [rules::grid_x(g as u32, p), f];
            }
        });
        let curves: Vec<[f32; 2]> = rps.iter().flat_map(|rp| rp[..cells].iter().copied()).collect();
        if !self.write_params(ps) {
            return;
        }
        self.gpu.queue.write_buffer(&self.bufs.curves, 0, bytemuck::cast_slice(&curves));
        self.gpu.queue.write_buffer(&self.bufs.grid, 0, bytemuck::cast_slice(&grid));
        let n = self.creators();
        self.pass("decide", |cp, s| s.dispatch(cp, &s.pipes.decide, 0, n, WG), |_, _| {});
    }

    fn state(&mut self, m: usize) -> State {
        self.states().into_iter().nth(m).unwrap_or_default()
    }

    fn error(&self) -> Option<&BackendError> {
        self.failed.as_ref()
    }
}
