//! Launcher for shaders/rng.wgsl.
