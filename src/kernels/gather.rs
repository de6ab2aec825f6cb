//! Launcher for shaders/gather.wgsl.
