//! The executor seam of sweeps: an [`Executor`] turns a list of jobs (one run = one
//! replica of one cell) into outcome statistics. [`CpuExecutor`] runs each job as a
//! single-threaded `Simulation` and spreads jobs over a rayon pool. A batched GPU executor
//! (many small markets in one set of dispatches, an ensemble index per agent, per-replica
//! parameter tables built from `Spec::cell_config`) would implement the same trait; none
//! exists yet. Knows nothing about files, blocks or checkpoints (that is `super::run`).

use super::{Spec, SweepError};
use crate::backend::cpu::CpuBackend;
use crate::observe::{Outcomes, Recorder};
use crate::sim::Simulation;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One run of a sweep: replica `replica` of cell `cell`. Its config is
/// `spec.cell_config(cell, replica)` (seed included), so a job is fully described by the
/// two indices and an executor may build configs lazily, in whatever batches suit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub cell: usize,
    pub replica: u32,
}

/// Reports a finished job: its position in the job list and its outcome (or why it failed).
/// Called from any thread, in any order, at most once per job.
pub type Done<'a> = dyn Fn(usize, Result<Outcomes, SweepError>) + Sync + 'a;

/// Runs sweep jobs. Implementations must make each job's outcome a function of its config
/// alone (never of batching, thread count or order), so sweeps are reproducible, resumable
/// and shardable.
pub trait Executor: Sync {
    /// What runs the jobs, for the output file and the log (e.g. "cpu: 2 rayon threads").
    fn describe(&self) -> String;
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
                match run_job(spec, *job, stop) {
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
    let cfg = spec.cell_config(job.cell, job.replica)?;
    let steps = cfg.top.steps;
    let mut sim = Simulation::new(cfg, |state| Box::new(CpuBackend::new(state, 1)));
    let mut rec = Recorder::new();
    sim.run(steps, &mut rec, stop, |_| {});
    Ok((sim.t >= steps).then(|| sim.outcomes(&rec)))
}
