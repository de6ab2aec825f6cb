//! The GPU context: instance, adapter, device and queue, created once; buffers checked against the
//! device's limits before anything is dispatched; wgpu validation errors caught with error scopes
//! and returned as `GpuError`s instead of being printed and ignored.

mod error;
mod select;

pub use error::GpuError;
pub use select::{adapter_report, choose, AdapterSummary, Backend, GpuOptions};

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use wgpu::util::DeviceExt;

/// One device and its queue, with what we learned about the adapter.
pub struct Gpu {
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Whether `TIMESTAMP_QUERY` was granted (benchmarks then time on the GPU clock).
    pub timestamps: bool,
    /// Whether `TIMESTAMP_QUERY_INSIDE_PASSES` was granted too (`bench train --profile` then times
    /// every dispatch of an iteration inside its one pass).
    pub timestamps_inside_passes: bool,
    /// Whether `SUBGROUP` was granted (the subgroup matmul kernels may then be chosen).
    pub subgroups: bool,
    /// What is made once per device and shared ([`Gpu::shared`]), by type.
    shared: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

/// Usages every storage buffer gets: kernels read and write it, tests fill and read it back.
pub const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl Gpu {
    /// Picks an adapter by `opts` and opens a device with the adapter's own limits (not the
    /// WebGPU defaults), so that large data sets fit where the hardware allows.
    pub fn new(opts: &GpuOptions) -> Result<Gpu, GpuError> {
        let adapter = select::pick_adapter(opts)?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let inside =
            wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES;
        let timestamps_inside_passes = adapter.features().contains(inside);
        let mut required_features = wgpu::Features::empty();
        if timestamps {
            required_features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        if timestamps_inside_passes {
            required_features |= inside;
        }
        let subgroups = adapter.features().contains(wgpu::Features::SUBGROUP);
        if subgroups {
            required_features |= wgpu::Features::SUBGROUP;
        }
        let desc = wgpu::DeviceDescriptor {
            label: Some("shadergan"),
            required_features,
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc)).map_err(|e| {
            GpuError::Device(format!("could not open a device on {}: {e}", info.name))
        })?;
        // Errors outside any scope are a bug in shadergan; make them loud rather than lost.
        device.on_uncaptured_error(std::sync::Arc::new(|e: wgpu::Error| {
            eprintln!("shadergan: uncaptured wgpu error (a bug, please report): {e}");
        }));
        Ok(Gpu {
            adapter,
            device,
            queue,
            info,
            limits,
            timestamps,
            timestamps_inside_passes,
            subgroups,
            shared: Mutex::new(HashMap::new()),
        })
    }

    /// The device's one `T`, made by `make` the first time it is asked for (the kernels' set:
    /// pipelines are compiled once per process, not once per plan). `make` runs without the
    /// lock held, so it may ask for other shared values; of two made at once, the first stays.
    pub fn shared<T: Any + Send + Sync>(
        &self,
        make: impl FnOnce(&Gpu) -> Result<T, GpuError>,
    ) -> Result<Arc<T>, GpuError> {
        let get = |map: &HashMap<TypeId, Arc<dyn Any + Send + Sync>>| {
            map.get(&TypeId::of::<T>()).map(|v| {
                Arc::clone(v)
                    .downcast::<T>()
                    .expect("keyed by its own type")
            })
        };
        if let Some(v) = get(&self
            .shared
            .lock()
            .expect("never poisoned: no panics inside"))
        {
            return Ok(v);
        }
        let made: Arc<dyn Any + Send + Sync> = Arc::new(make(self)?);
        let mut map = self
            .shared
            .lock()
            .expect("never poisoned: no panics inside");
        map.entry(TypeId::of::<T>()).or_insert(made);
        Ok(get(&map).expect("inserted above"))
    }

    /// Runs `f` inside validation and out-of-memory error scopes and turns whatever wgpu reports
    /// into an error naming `what`.
    pub fn checked<R>(&self, what: &str, f: impl FnOnce() -> R) -> Result<R, GpuError> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let r = f();
        let v = pollster::block_on(validation.pop());
        let o = pollster::block_on(oom.pop());
        match (v, o) {
            (None, None) => Ok(r),
            (Some(e), _) | (None, Some(e)) => Err(GpuError::Wgpu {
                what: what.to_string(),
                message: e.to_string(),
            }),
        }
    }

    /// The most bytes one storage binding may hold: the ceiling for a data set, a network's
    /// parameters and the files they are loaded from.
    pub fn max_storage_bytes(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// Fails with both numbers when `bytes` is more than one storage binding may hold.
    pub fn check_size(&self, label: &str, bytes: u64) -> Result<(), GpuError> {
        let max = self.max_storage_bytes();
        if bytes > max {
            return Err(GpuError::TooLarge {
                label: label.to_string(),
                bytes,
                max,
                adapter: self.info.name.clone(),
            });
        }
        Ok(())
    }

    /// An uninitialised (zeroed) storage buffer of `len` f32/u32 elements.
    pub fn buffer(&self, label: &str, len: usize) -> Result<wgpu::Buffer, GpuError> {
        let bytes = (len.max(1) * 4) as u64;
        self.check_size(label, bytes)?;
        self.checked(label, || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage: STORAGE,
                mapped_at_creation: false,
            })
        })
    }

    /// A storage buffer holding `data`.
    pub fn buffer_from<T: bytemuck::Pod>(
        &self,
        label: &str,
        data: &[T],
    ) -> Result<wgpu::Buffer, GpuError> {
        let bytes = bytemuck::cast_slice::<T, u8>(data);
        if bytes.is_empty() {
            return self.buffer(label, 1);
        }
        self.check_size(label, bytes.len() as u64)?;
        self.checked(label, || {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: bytes,
                    usage: STORAGE,
                })
        })
    }

    /// A uniform buffer holding one parameter block (written once, when a plan is built).
    pub fn uniform<T: bytemuck::Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::bytes_of(value),
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// Overwrites the start of `buffer` with `data` (ordered before the next submit).
    pub fn write<T: bytemuck::Pod>(&self, buffer: &wgpu::Buffer, data: &[T]) {
        self.queue
            .write_buffer(buffer, 0, bytemuck::cast_slice::<T, u8>(data));
    }

    /// Waits for all submitted work.
    pub fn wait(&self) -> Result<(), GpuError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| GpuError::Device(format!("waiting for the device failed: {e}")))
    }

    /// Copies `buffer` back to the CPU (a staging copy, one submit, one wait). Only for tests,
    /// tools and the logging interval: never inside the training loop.
    pub fn read<T: bytemuck::Pod>(&self, buffer: &wgpu::Buffer) -> Result<Vec<T>, GpuError> {
        self.read_range(buffer, 0, buffer.size())
    }

    /// Copies `bytes` bytes of `buffer` from `offset` back to the CPU.
    pub fn read_range<T: bytemuck::Pod>(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        bytes: u64,
    ) -> Result<Vec<T>, GpuError> {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(buffer, offset, &staging, 0, bytes);
        self.checked("readback copy", || self.queue.submit([enc.finish()]))?;
        let (tx, rx) = mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .map_err(|_| GpuError::Device("readback callback never ran".into()))?
            .map_err(|e| GpuError::Device(format!("mapping the readback buffer failed: {e}")))?;
        let out = {
            let view = staging.get_mapped_range(..).map_err(|e| {
                GpuError::Device(format!("reading the mapped readback buffer failed: {e}"))
            })?;
            bytemuck::pod_collect_to_vec::<u8, T>(&view)
        };
        staging.unmap();
        Ok(out)
    }
}
