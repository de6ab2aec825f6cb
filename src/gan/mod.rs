//! The GAN: its configuration, the D-then-G schedule as an op list, the training loop,
//! checkpoints, and the generator used on its own (sampling, evaluation).

pub mod checkpoint;
pub mod config;
pub mod generate;
pub mod schedule;
pub mod train;

use crate::cpu::rng::{box_muller, philox4x32_10, unit};

/// A sequential stream of Philox numbers on the CPU, for data drawn once on the host (toy data
/// sets, weight initialisation): key = seed, counter = (block, stream, 0, 0).
pub struct PhiloxNoise {
    key: [u32; 2],
    stream: u32,
    block: u32,
    words: [u32; 4],
    next: usize,
    spare: Option<f32>,
}

impl PhiloxNoise {
    pub fn new(seed: u64, stream: u32) -> PhiloxNoise {
        PhiloxNoise {
            key: [seed as u32, (seed >> 32) as u32],
            stream,
            block: 0,
            words: [0; 4],
            next: 4,
            spare: None,
        }
    }

    fn word(&mut self) -> u32 {
        if self.next == 4 {
            self.words = philox4x32_10([self.block, self.stream, 0, 0], self.key);
            self.block = self.block.wrapping_add(1);
            self.next = 0;
        }
        self.next += 1;
        self.words[self.next - 1]
    }
}

impl crate::data::Noise for PhiloxNoise {
    /// In (0, 1), converted from a word exactly as the shaders do.
    fn uniform(&mut self) -> f32 {
        unit(self.word())
    }

    /// Box-Muller as in the shaders; the second value of each pair is kept for the next call.
    fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let (w1, w2) = (self.word(), self.word());
        let [z0, z1] = box_muller(w1, w2);
        self.spare = Some(z1);
        z0
    }
}
