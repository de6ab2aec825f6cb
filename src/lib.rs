//! shadergan: generative adversarial networks trained with hand-written WGSL compute shaders,
//! dispatched through wgpu on any Vulkan, Metal, DX12 or GL GPU.
//!
//! - [`gpu`]: the device, buffers, readback and error handling.
//! - [`kernels`]: one launcher per shader family in `shaders/`.
//! - [`cpu`]: the CPU twin of every kernel entry point (the spec, used by the tests).

pub mod cpu;
pub mod gpu;
pub mod kernels;
