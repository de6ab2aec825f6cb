//! Launcher for shaders/matmul.wgsl.
