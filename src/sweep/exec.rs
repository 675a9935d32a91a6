//! The executor seam of sweeps: an [`Executor`] turns a list of jobs (one run = one
//! replica of one cell) into outcome statistics. [`CpuExecutor`] runs each job as a
//! single-threaded `Simulation` and spreads jobs over a rayon pool. [`GpuExecutor`] runs
//! consecutive jobs as one `GpuEnsemble` (many small markets in one set of dispatches, a
//! market index per agent, a table of per-run parameters built from `Spec::cell_config`),
//! driven in lockstep by `sim::run_lockstep`. Both give every job the outcome of its run
//! alone, with the per-step series the spec asks for ([`Finished`]). Knows nothing about
//! files, blocks or checkpoints (that is `super::run`).

use super::{Spec, SweepError};
use crate::backend::cpu::CpuBackend;
use crate::backend::gpu::{self, GpuEnsemble, GpuError, GpuOptions};
use crate::config::Config;
use crate::observe::{Outcomes, Recorder};
use crate::sim::{LockstepTimes, Market, Simulation, run_lockstep};
use crate::state::State;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One run of a sweep: replica `replica` of cell `cell`. Its config is
/// `spec.cell_config(cell, replica)` (seed included), so a job is fully described by the
/// two indices and an executor may build configs lazily, in whatever batches suit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub cell: usize,
    pub replica: u32,
}

/// What a finished job hands back: its outcome statistics and the per-step series the
/// spec asks for (`Spec::series`, in that order; empty when it asks for none).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Finished {
    pub outcomes: Outcomes,
    /// `series[k][step]`: the values of `spec.series[k]` at every step of the run.
    pub series: Vec<Vec<f64>>,
}

impl Finished {
    /// The outcomes of a run and the series of `names` from its recorder.
    pub fn of(outcomes: Outcomes, rec: &Recorder, names: &[String]) -> Finished {
        let series = names.iter().map(|n| rec.get(n).map_or_else(Vec::new, <[f64]>::to_vec)).collect();
        Finished { outcomes, series }
    }
}

impl From<Outcomes> for Finished {
    /// A run with no series recorded.
    fn from(outcomes: Outcomes) -> Finished {
        Finished { outcomes, series: Vec::new() }
    }
}

/// Reports a finished job: its position in the job list and what it gave (or why it
/// failed). Called from any thread, in any order, at most once per job.
pub type Done<'a> = dyn Fn(usize, Result<Finished, SweepError>) + Sync + 'a;

/// Runs sweep jobs. Implementations must make each job's outcome a function of its config
/// alone (never of batching, thread count or order), so sweeps are reproducible, resumable
/// and shardable.
pub trait Executor: Sync {
    /// What runs the jobs, for the output file and the log (e.g. "cpu: 2 rayon threads").
    fn describe(&self) -> String;
    /// Where the time went, after `run` (for the log); `None` when there is nothing to say.
    fn time_report(&self) -> Option<String> {
        None
    }
    /// Runs `jobs` (given in the preferred order: the driver lists them block by block),
    /// calling `done` for each one that finishes. Returns when all are reported or `stop`
    /// is raised; jobs cut short by `stop` are not reported.
    fn run(&self, spec: &Spec, jobs: &[Job], stop: &AtomicBool, done: &Done<'_>) -> Result<(), SweepError>;
}

/// Jobs on the CPU: one single-threaded simulation per job, `threads` jobs at a time.
pub struct CpuExecutor {
    pool: rayon::ThreadPool,
}

impl CpuExecutor {
    /// An executor with `threads` workers (0 = all cores).
    pub fn new(threads: usize) -> Result<Self, SweepError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("sweep-{i}"))
            .build()
            .map_err(|e| SweepError::Executor(format!("cannot start {threads} worker threads: {e}")))?;
        Ok(Self { pool })
    }
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

impl Executor for CpuExecutor {
    fn describe(&self) -> String {
        format!("cpu: {} rayon threads, one single-threaded simulation per run", self.threads())
    }

    fn run(&self, spec: &Spec, jobs: &[Job], stop: &AtomicBool, done: &Done<'_>) -> Result<(), SweepError> {
        // Every worker takes the next job from a shared counter rather than from a split of
        // the list: jobs start in list order, so blocks finish (and are checkpointed) in
        // order and an interruption leaves few half-done blocks behind.
        let next = AtomicUsize::new(0);
        self.pool.broadcast(|_| {
            loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                match run_recorded(spec, *job, stop) {
                    Ok(Some(o)) => done(i, Ok(o)),
                    Ok(None) => break, // stopped mid-run: the partial run is dropped
                    Err(e) => done(i, Err(e)),
                }
            }
        });
        Ok(())
    }
}

/// Runs one job to the end on a single thread; `None` if `stop` cut it short.
pub fn run_job(spec: &Spec, job: Job, stop: &AtomicBool) -> Result<Option<Outcomes>, SweepError> {
    Ok(run_recorded(spec, job, stop)?.map(|f| f.outcomes))
}

/// [`run_job`] with the spec's per-step series.
pub fn run_recorded(spec: &Spec, job: Job, stop: &AtomicBool) -> Result<Option<Finished>, SweepError> {
    let cfg = spec.cell_config(job.cell, job.replica)?;
    let steps = cfg.top.steps;
    let mut sim = Simulation::new(cfg, |state| Box::new(CpuBackend::new(state, 1)));
    let mut rec = Recorder::new();
    sim.run(steps, &mut rec, stop, |_| {});
    Ok((sim.t >= steps).then(|| Finished::of(sim.outcomes(&rec), &rec, &spec.series)))
}

/// Jobs on the GPU, many markets per dispatch. Consecutive jobs whose markets have the same
/// shape (creators, buyers, quality bins, search rounds, steps) run together as one
/// ensemble of at most `batch` markets; an ensemble that does not fit the device is split
/// in halves and retried. `streams` ensembles run at a time, each from its own host thread
/// on its own device queue, so one's host work can overlap another's GPU work.
pub struct GpuExecutor {
    opts: GpuOptions,
    /// Most markets per ensemble; 0 = as many as `AUTO_BATCH_BYTES` allows.
    batch: usize,
    /// Ensembles in flight at once (at least 1).
    streams: usize,
    /// The adapter as wgpu describes it, then the device once an ensemble has opened it.
    device: Mutex<String>,
    /// Each stream's last ensemble, kept so that its next one of the same plan reuses the
    /// device, buffers and compiled shaders (`GpuEnsemble::reload`).
    cache: Vec<Mutex<Option<GpuEnsemble>>>,
    /// Time spent so far: in lockstep runs, and building ensembles (initial states,
    /// device, buffers, shaders, uploads).
    times: Mutex<(LockstepTimes, f64)>,
}

/// GPU memory an automatic ensemble may take: about 1,000 markets of 10^4 agents at the
/// default `ai_volume_max`, which keeps an H100 busy and fits lavapipe's host memory.
pub const AUTO_BATCH_BYTES: u64 = 2 << 30;

/// What markets of one ensemble must share.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Shape {
    creators: u32,
    buyers: u32,
    bins: u32,
    rounds: u32,
    steps: u32,
}

impl Shape {
    fn of(c: &Config) -> Shape {
        Shape {
            creators: c.top.creators,
            buyers: c.top.buyers,
            bins: c.market.bins,
            rounds: c.market.rounds,
            steps: c.top.steps,
        }
    }
}

impl GpuExecutor {
    /// An executor putting at most `batch` markets in one ensemble (0 = automatic), with
    /// `streams` ensembles in flight; an error, saying what to install or which adapters
    /// there are, when no adapter (matching `opts.adapter`) is found.
    pub fn new(opts: GpuOptions, batch: usize, streams: usize) -> Result<Self, SweepError> {
        let wanted = opts.adapter.as_deref().map(str::to_lowercase);
        let all = gpu::adapters();
        let Some(adapter) = all.iter().find(|a| wanted.as_deref().is_none_or(|w| a.to_lowercase().contains(w))) else {
            return Err(SweepError::Executor(match &opts.adapter {
                Some(w) => format!("no GPU adapter name contains {w:?}; adapters found: {}", all.join("; ")),
                None => gpu::no_adapter_help().to_string(),
            }));
        };
        let adapter = adapter.split(": max storage").next().unwrap_or(adapter).trim().to_string();
        let streams = streams.max(1);
        let cache = (0..streams).map(|_| Mutex::new(None)).collect();
        Ok(Self { opts, batch, streams, device: Mutex::new(adapter), cache, times: Mutex::default() })
    }

    /// Markets per ensemble for configs like `cfg`: `batch` if set, else what fits
    /// `AUTO_BATCH_BYTES` (at least one).
    pub fn batch_for(&self, cfg: &Config) -> usize {
        if self.batch > 0 {
            return self.batch;
        }
        let per = u64::from(cfg.top.creators) * gpu::bytes_per_creator(cfg.technology.ai_volume_max)
            + u64::from(cfg.top.buyers) * gpu::bytes_per_buyer();
        (AUTO_BATCH_BYTES / per.max(1)).clamp(1, 1 << 16) as usize
    }

    /// Takes the next ensemble's jobs from `next`: consecutive jobs of one shape, at most
    /// `batch_for` of them, with their configs; `None` when no job is left.
    fn next_batch(
        &self,
        spec: &Spec,
        jobs: &[Job],
        next: &Mutex<usize>,
    ) -> Result<Option<(usize, Vec<Config>)>, SweepError> {
        let mut i = next.lock().unwrap_or_else(|p| p.into_inner());
        let start = *i;
        let Some(job) = jobs.get(start) else { return Ok(None) };
        let first = spec.cell_config(job.cell, job.replica)?;
        let shape = Shape::of(&first);
        let limit = self.batch_for(&first);
        let mut cfgs = vec![first];
        while let Some(job) = jobs.get(start + cfgs.len()).filter(|_| cfgs.len() < limit) {
            let c = spec.cell_config(job.cell, job.replica)?;
            if Shape::of(&c) != shape {
                break;
            }
            cfgs.push(c);
        }
        *i = start + cfgs.len();
        Ok(Some((start, cfgs)))
    }

    /// Runs `cfgs` as one ensemble (halving it while it does not fit the device); `None`
    /// when `stop` cut it short.
    fn run_batch(
        &self,
        cfgs: Vec<Config>,
        series: &[String],
        stream: usize,
        stop: &AtomicBool,
    ) -> Result<Option<Vec<Finished>>, SweepError> {
        use rayon::prelude::*;
        let t0 = std::time::Instant::now();
        let steps = cfgs[0].top.steps;
        let states: Vec<State> = cfgs.par_iter().map(State::init).collect();
        let mut markets: Vec<Market> = cfgs.iter().zip(&states).map(|(c, s)| Market::new(c.clone(), s)).collect();
        let refs: Vec<&Config> = cfgs.iter().collect();
        // The last ensemble if it fits these markets; otherwise it is dropped here, freeing
        // its buffers before new ones are allocated. (The lock is not held past this
        // statement: the split below calls this function again.)
        let cached = self.cache[stream].lock().unwrap_or_else(|p| p.into_inner()).take();
        let mut ens = match cached.filter(|e| e.can_reload(&states, &refs)) {
            Some(mut e) => {
                let n = states.len();
                e.reload(states, &refs)
                    .map_err(|err| SweepError::Executor(format!("GPU ensemble of {n} markets: {err}")))?;
                e
            }
            None => match GpuEnsemble::new(states, &refs, &self.opts) {
                Ok(e) => e,
                Err(GpuError::TooLarge { .. } | GpuError::OutOfMemory { .. }) if cfgs.len() > 1 => {
                    drop(refs);
                    let mut first = cfgs;
                    let second = first.split_off(first.len() / 2);
                    let Some(mut a) = self.run_batch(first, series, stream, stop)? else { return Ok(None) };
                    let Some(b) = self.run_batch(second, series, stream, stop)? else { return Ok(None) };
                    a.extend(b);
                    return Ok(Some(a));
                }
                Err(e) => return Err(SweepError::Executor(format!("GPU ensemble of {} markets: {e}", cfgs.len()))),
            },
        };
        *self.device.lock().unwrap_or_else(|p| p.into_inner()) = ens.device();
        let setup = t0.elapsed().as_secs_f64();
        let mut recs = vec![Recorder::new(); markets.len()];
        let t = run_lockstep(&mut markets, &mut ens, steps, &mut recs, stop, |_| {})
            .map_err(|e| SweepError::Executor(format!("GPU ensemble of {} markets: {e}", markets.len())))?;
        {
            let mut acc = self.times.lock().unwrap_or_else(|p| p.into_inner());
            acc.0.ensemble_secs += t.ensemble_secs;
            acc.0.host_secs += t.host_secs;
            acc.0.market_steps += t.market_steps;
            acc.1 += setup;
        }
        *self.cache[stream].lock().unwrap_or_else(|p| p.into_inner()) = Some(ens);
        if markets[0].t < steps {
            return Ok(None);
        }
        Ok(Some(markets.iter().zip(&recs).map(|(m, r)| Finished::of(m.outcomes(r), r, series)).collect()))
    }
}

impl Executor for GpuExecutor {
    fn describe(&self) -> String {
        let dev = self.device.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let batch = if self.batch > 0 { format!("up to {} markets", self.batch) } else { "automatic size".into() };
        format!("gpu: {dev}, ensembles of {batch} per dispatch, {} in flight", self.streams)
    }

    fn time_report(&self) -> Option<String> {
        let (t, setup) = *self.times.lock().unwrap_or_else(|p| p.into_inner());
        let n = t.market_steps.max(1) as f64;
        (t.market_steps > 0).then(|| {
            format!(
                "time: {:.1} s in GPU stage calls ({:.2} µs per market-step), {:.1} s host work between them \
                 ({:.2} µs per market-step), {:.1} s building ensembles",
                t.ensemble_secs,
                1e6 * t.ensemble_secs / n,
                t.host_secs,
                1e6 * t.host_secs / n,
                setup
            )
        })
    }

    fn run(&self, spec: &Spec, jobs: &[Job], stop: &AtomicBool, done: &Done<'_>) -> Result<(), SweepError> {
        // Streams take the next ensemble in job order (so blocks finish, and are
        // checkpointed, roughly in order); each config is built once, by the stream that
        // runs it, while the other streams keep the GPU busy.
        let next = Mutex::new(0usize);
        let failed: Mutex<Option<SweepError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for stream in 0..self.streams {
                let (next, failed) = (&next, &failed);
                scope.spawn(move || {
                    loop {
                        if stop.load(Ordering::Relaxed) || failed.lock().map_or(true, |f| f.is_some()) {
                            break;
                        }
                        let batch = self.next_batch(spec, jobs, next);
                        let run = batch.and_then(|b| match b {
                            Some((start, cfgs)) => {
                                Ok(self.run_batch(cfgs, &spec.series, stream, stop)?.map(|o| (start, o)))
                            }
                            None => Ok(None),
                        });
                        match run {
                            Ok(Some((start, outs))) => {
                                outs.into_iter().enumerate().for_each(|(k, o)| done(start + k, Ok(o)))
                            }
                            Ok(None) => break,
                            Err(e) => {
                                failed.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                                break;
                            }
                        }
                    }
                });
            }
        });
        failed.into_inner().unwrap_or_else(|p| p.into_inner()).map_or(Ok(()), Err)
    }
}
