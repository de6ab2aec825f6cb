//! The GAN: its configuration, the D-then-G schedule as an op list, the training loop,
//! checkpoints, and the generator used on its own (sampling, evaluation).

pub mod checkpoint;
pub mod config;
pub mod generate;
pub mod schedule;
pub mod train;
