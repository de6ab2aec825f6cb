//! The GAN: its configuration, the D-then-G schedule as an op list, the device-side trainer and
//! the metrics it observes, checkpoints, and the networks used on their own (sampling,
//! evaluation, discriminator rejection sampling). Files of a run are `crate::run`'s concern.

pub mod checkpoint;
pub mod conditional;
pub mod config;
pub mod dcgan;
pub mod drs;
pub mod generate;
pub mod metrics;
pub mod schedule;
pub mod spectral;
pub mod state;
pub mod trainer;
