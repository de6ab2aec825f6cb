//! CPU twins of every WGSL entry point: the plainest loops that are obviously right. They are the
//! specification and the test oracle; each function has the name and argument order of the entry
//! point it mirrors.

pub mod activation;
pub mod batchnorm;
pub mod bce;
pub mod conv;
pub mod embedding;
pub mod gather;
pub mod matmul;
pub mod optim;
pub mod peak;
pub mod rng;
pub mod softmax_xent;
pub mod spectral;
