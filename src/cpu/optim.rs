//! CPU twins of shaders/optim.wgsl.
