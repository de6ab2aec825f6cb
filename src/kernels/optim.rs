//! Launcher for shaders/optim.wgsl.
