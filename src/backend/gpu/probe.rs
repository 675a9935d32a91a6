//! A test hook: runs a one-off compute shader on the shared WGSL prelude, so tests can
//! pin the WGSL mirrors (Philox, permute30, below, ...) against the Rust functions without
//! going through a whole stage. Not used by the simulation.

use super::device::Gpu;
use super::{GpuError, GpuOptions, pipelines};
use crate::state::StepParams;
use wgpu::util::DeviceExt;

/// Runs `body` after common.wgsl and rng.wgsl with `p` as the only row of the `params`
/// table (the body calls `enter(0u)` to load it into `p`), one thread per `threads`
/// (workgroups of 256, entry point `main`). `body` declares
/// `@group(0) @binding(1) var<storage, read> input: array<u32>;` and
/// `@group(0) @binding(2) var<storage, read_write> output: array<u32>;`; the first
/// `output_words` of `output` are returned.
pub fn run_probe(
    body: &str,
    p: &StepParams,
    input: &[u32],
    output_words: usize,
    threads: u32,
    opts: &GpuOptions,
) -> Result<Vec<u32>, GpuError> {
    let gpu = Gpu::open(opts.adapter.as_deref())?;
    let src = pipelines::stage_source(body, None);
    let bytes = (output_words as u64 * 4).max(4);
    let (pipeline, group, out, read) = gpu.scoped("probe shader", 0, || {
        let dev = &gpu.device;
        let module = dev.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("probe"),
            source: wgpu::ShaderSource::Wgsl(src.as_str().into()),
        });
        let pipeline = dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("probe"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let params = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("probe params"),
            contents: bytemuck::bytes_of(p),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let inp = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("probe input"),
            contents: if input.is_empty() { &[0u8; 4] } else { bytemuck::cast_slice(input) },
            usage: wgpu::BufferUsages::STORAGE,
        });
        let out = dev.create_buffer(&wgpu::BufferDescriptor {
            label: Some("probe output"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let read = dev.create_buffer(&wgpu::BufferDescriptor {
            label: Some("probe readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let group = dev.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("probe"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: params.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: inp.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: out.as_entire_binding() },
            ],
        });
        (pipeline, group, out, read)
    })?;
    let mut enc = gpu.device.create_command_encoder(&Default::default());
    {
        let mut cp = enc.begin_compute_pass(&Default::default());
        cp.set_pipeline(&pipeline);
        cp.set_bind_group(0, &group, &[]);
        cp.dispatch_workgroups(threads.div_ceil(256).max(1), 1, 1);
    }
    enc.copy_buffer_to_buffer(&out, 0, &read, 0, bytes);
    gpu.queue.submit([enc.finish()]);
    let b = gpu.read_bytes(&read, bytes, "probe")?;
    let mut w: Vec<u32> = bytemuck::pod_collect_to_vec(&b);
    w.truncate(output_words);
    Ok(w)
}
