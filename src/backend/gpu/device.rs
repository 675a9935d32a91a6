//! The wgpu plumbing of the GPU backend, apart from the numbers it computes: choosing an
//! adapter, opening a device with the adapter's own limits, turning wgpu's error channels
//! (error scopes, the uncaptured-error handler, the device-lost callback, map failures and
//! poll timeouts) into `GpuError`s, and reading buffers back to the host.

use super::GpuError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest wait for queued GPU work before giving up with `GpuError::Timeout`. Generous:
/// a step of 10^8 agents on a software adapter can take minutes; a lost device fails fast.
const WAIT: Duration = Duration::from_secs(900);

/// Backends searched: the native APIs. The GL backend lacks what the shaders need (enough
/// storage buffers per stage on most drivers) and would only shadow the Vulkan adapter.
fn backends() -> wgpu::Backends {
    wgpu::Backends::PRIMARY
}

fn instance() -> wgpu::Instance {
    let mut d = wgpu::InstanceDescriptor::new_without_display_handle();
    d.backends = backends();
    // WGPU_BACKEND and friends still override, for debugging.
    wgpu::Instance::new(d.with_env())
}

/// One line per adapter: name, backend, device type, driver and the limits that bound the
/// population (storage binding and buffer size, storage buffers per stage).
pub fn describe(a: &wgpu::Adapter) -> String {
    let i = a.get_info();
    let l = a.limits();
    let ts = a.features().contains(wgpu::Features::TIMESTAMP_QUERY);
    format!(
        "{} ({:?}, {:?}, driver {} {}): max storage binding {} MiB, max buffer {} MiB, {} storage buffers per stage, timestamps {}",
        i.name,
        i.backend,
        i.device_type,
        i.driver,
        i.driver_info,
        l.max_storage_buffer_binding_size >> 20,
        l.max_buffer_size >> 20,
        l.max_storage_buffers_per_shader_stage,
        if ts { "yes" } else { "no" }
    )
}

/// Every adapter wgpu finds on this machine, described by `describe`.
pub fn adapters() -> Vec<String> {
    let inst = instance();
    pollster::block_on(inst.enumerate_adapters(backends())).iter().map(describe).collect()
}

/// Whether wgpu finds an adapter that is real hardware (not a CPU emulation such as
/// lavapipe, which runs the shaders slower than the CPU backend runs the model).
pub fn has_hardware_adapter() -> bool {
    let inst = instance();
    pollster::block_on(inst.enumerate_adapters(backends()))
        .iter()
        .any(|a| a.get_info().device_type != wgpu::DeviceType::Cpu)
}

/// An open device with its error channels.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub limits: wgpu::Limits,
    pub info: wgpu::AdapterInfo,
    /// Whether per-pass timestamps are available.
    pub timestamps: bool,
    /// Errors nobody captured in a scope (the default handler would panic).
    uncaptured: Arc<Mutex<Vec<String>>>,
    /// Set by the device-lost callback.
    lost: Arc<Mutex<Option<String>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked while holding a Vec or Option:
    // the data is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Gpu {
    /// Opens the adapter whose name contains `wanted` (case-insensitive), or the
    /// high-performance default, requesting the adapter's own limits.
    pub fn open(wanted: Option<&str>) -> Result<Gpu, GpuError> {
        let inst = instance();
        let adapter = match wanted {
            Some(w) => {
                let all = pollster::block_on(inst.enumerate_adapters(backends()));
                let lw = w.to_lowercase();
                let pos = all.iter().position(|a| a.get_info().name.to_lowercase().contains(&lw));
                match pos {
                    Some(k) => all.into_iter().nth(k).ok_or(GpuError::NoAdapter(super::no_adapter_help()))?,
                    None => {
                        let available = if all.is_empty() {
                            "none".to_string()
                        } else {
                            all.iter().map(|a| a.get_info().name).collect::<Vec<_>>().join("; ")
                        };
                        return Err(GpuError::AdapterNotFound { wanted: w.to_string(), available });
                    }
                }
            }
            None => pollster::block_on(inst.request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            }))
            .map_err(|_| GpuError::NoAdapter(super::no_adapter_help()))?,
        };
        let info = adapter.get_info();
        let limits = adapter.limits();
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let features = if timestamps { wgpu::Features::TIMESTAMP_QUERY } else { wgpu::Features::empty() };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("hollow"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| GpuError::Device { adapter: info.name.clone(), reason: e.to_string() })?;
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| lock(&sink).push(e.to_string())));
        let lost = Arc::new(Mutex::new(None));
        let flag = lost.clone();
        device.set_device_lost_callback(move |reason, msg| {
            *lock(&flag) = Some(if msg.is_empty() { format!("{reason:?}") } else { format!("{reason:?}: {msg}") });
        });
        Ok(Gpu { device, queue, limits, info, timestamps, uncaptured, lost })
    }

    /// The first problem the device has reported, if any, attributed to `stage`.
    pub fn check(&self, stage: &str) -> Result<(), GpuError> {
        if let Some(reason) = lock(&self.lost).clone() {
            return Err(GpuError::DeviceLost { stage: stage.to_string(), reason });
        }
        let mut u = lock(&self.uncaptured);
        if !u.is_empty() {
            let message = u.join("; ");
            u.clear();
            let oom = message.to_lowercase().contains("out of memory");
            return Err(if oom {
                GpuError::OutOfMemory { what: stage.to_string(), bytes: 0 }
            } else {
                GpuError::Internal { stage: stage.to_string(), message }
            });
        }
        Ok(())
    }

    /// Runs `f` (resource creation) inside out-of-memory and validation error scopes, so
    /// an allocation that does not fit becomes `GpuError::OutOfMemory` naming `what`.
    pub fn scoped<R>(&self, what: &str, bytes: u64, f: impl FnOnce() -> R) -> Result<R, GpuError> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let val = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let internal = self.device.push_error_scope(wgpu::ErrorFilter::Internal);
        let r = f();
        let e_int = pollster::block_on(internal.pop());
        let e_val = pollster::block_on(val.pop());
        let e_oom = pollster::block_on(oom.pop());
        if e_oom.is_some() {
            return Err(GpuError::OutOfMemory { what: what.to_string(), bytes });
        }
        if let Some(e) = e_val.or(e_int) {
            let message = e.to_string();
            if message.to_lowercase().contains("out of memory") {
                return Err(GpuError::OutOfMemory { what: what.to_string(), bytes });
            }
            return Err(GpuError::Internal { stage: what.to_string(), message });
        }
        self.check(what)?;
        Ok(r)
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self, stage: &str) -> Result<(), GpuError> {
        self.check(stage)?;
        match self.device.poll(wgpu::PollType::Wait { submission_index: None, timeout: Some(WAIT) }) {
            Ok(_) => self.check(stage),
            Err(wgpu::PollError::Timeout) => {
                self.check(stage)?;
                Err(GpuError::Timeout { stage: stage.to_string(), secs: WAIT.as_secs() })
            }
            Err(e) => {
                self.check(stage)?;
                Err(GpuError::Internal { stage: stage.to_string(), message: e.to_string() })
            }
        }
    }

    /// Maps the first `bytes` of a MAP_READ buffer, waits, and copies them out.
    pub fn read_bytes(&self, buf: &wgpu::Buffer, bytes: u64, stage: &str) -> Result<Vec<u8>, GpuError> {
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let slice = buf.slice(0..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait(stage)?;
        match rx.try_recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(GpuError::Internal { stage: stage.to_string(), message: e.to_string() });
            }
            Err(_) => {
                self.check(stage)?;
                return Err(GpuError::Internal {
                    stage: stage.to_string(),
                    message: "a buffer mapping did not complete after the queue was idle".into(),
                });
            }
        }
        let out = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Internal { stage: stage.to_string(), message: e.to_string() })?;
            view.to_vec()
        };
        buf.unmap();
        Ok(out)
    }
}
