//! CPU twins of shaders/matmul.wgsl.
