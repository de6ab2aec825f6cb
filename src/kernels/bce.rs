//! Launcher for shaders/bce.wgsl.
