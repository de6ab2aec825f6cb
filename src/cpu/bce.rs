//! CPU twins of shaders/bce.wgsl.
