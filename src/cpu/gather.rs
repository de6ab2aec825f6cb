//! CPU twins of shaders/gather.wgsl.
