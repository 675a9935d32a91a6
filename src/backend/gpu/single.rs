//! A single run on the GPU: a one-market [`GpuEnsemble`] used through the `Backend` trait
//! (each stage is the ensemble's stage on a one-element slice), and the test hooks that only
//! make sense for one run.

use super::{GpuEnsemble, GpuError, GpuOptions};
use crate::backend::{Backend, BackendError, BackendInfo, Ensemble, Totals};
use crate::config::Config;
use crate::state::{Deciles, State, StepParams};

impl GpuEnsemble {
    /// A single run's GPU backend: an ensemble of one market (`state`), whose buffers `cfg`
    /// bounds (`ai_volume_max`, `bins`). Used through the [`Backend`] trait.
    pub fn one(state: State, cfg: &Config, opts: &GpuOptions) -> Result<GpuEnsemble, GpuError> {
        GpuEnsemble::new(vec![state], &[cfg], opts)
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
}

/// A one-market ensemble is a single run's backend: each stage is the ensemble's stage on
/// a one-element slice (market 0 when there are several).
impl Backend for GpuEnsemble {
    fn info(&self) -> BackendInfo {
        BackendInfo { name: "gpu".into(), device: self.device(), threads: 1 }
    }

    fn offers(&mut self, p: &StepParams) {
        Ensemble::offers(self, std::slice::from_ref(p));
    }

    fn scan(&mut self, p: &StepParams) -> (u32, u32) {
        Ensemble::scan(self, std::slice::from_ref(p))[0]
    }

    fn search(&mut self, p: &StepParams) {
        Ensemble::search(self, std::slice::from_ref(p));
    }

    fn resolve(&mut self, p: &StepParams) {
        Ensemble::resolve(self, std::slice::from_ref(p));
    }

    fn buyers(&mut self, p: &StepParams) {
        Ensemble::buyers(self, std::slice::from_ref(p));
    }

    fn accounts(&mut self, p: &StepParams) {
        Ensemble::accounts(self, std::slice::from_ref(p));
    }

    fn reduce(&mut self, p: &StepParams, deciles: &Deciles) -> Totals {
        Ensemble::reduce(self, std::slice::from_ref(p), std::slice::from_ref(deciles)).swap_remove(0)
    }

    fn decide(&mut self, p: &StepParams, rp: &[[f32; 2]]) {
        Ensemble::decide(self, std::slice::from_ref(p), &[rp]);
    }

    fn state(&mut self) -> State {
        self.states().into_iter().next().unwrap_or_default()
    }

    fn units(&mut self) -> (Vec<u32>, Vec<u32>) {
        GpuEnsemble::units(self)
    }

    fn error(&self) -> Option<&BackendError> {
        Ensemble::error(self)
    }

    fn stage_times(&self) -> Option<Vec<(&'static str, f64)>> {
        GpuEnsemble::stage_times(self)
    }
}
