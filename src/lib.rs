//! shadergan: generative adversarial networks trained with hand-written WGSL compute shaders,
//! dispatched through wgpu on any Vulkan, Metal, DX12 or GL GPU.
//!
//! - [`gpu`]: the device, buffers, readback and error handling.
//! - [`kernels`]: one launcher per shader family in `shaders/`.
//! - [`cpu`]: the CPU twin of every kernel entry point (the spec, used by the tests).
//! - [`graph`]: networks as op lists, run by the GPU plan or the CPU executor.
//! - [`gan`]: Algorithm 1's schedule, the training loop, checkpoints.
//! - [`data`], [`eval`], [`viz`]: data sets, mode coverage, pictures.
//! - [`theory`]: the original GAN's theory shown numerically in 1-D (`shadergan theory`).
//! - [`classifier`], [`quality`]: the evaluation classifier trained by our kernels, and the image
//!   metrics it gives (class coverage, KL, stacked modes, Fréchet distance).
//! - [`selftest`]: every kernel and a whole iteration on the user's adapter against the CPU.

pub mod bench;
pub mod classifier;
pub mod cli;
pub mod cpu;
pub mod data;
pub mod eval;
pub mod gan;
pub mod gpu;
pub mod graph;
pub mod io;
pub mod kernels;
pub mod noise;
pub mod ops;
pub mod quality;
pub mod run;
pub mod selftest;
pub mod theory;
pub mod viz;
