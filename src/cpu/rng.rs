//! CPU twins of shaders/rng.wgsl.
