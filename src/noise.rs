//! Random numbers drawn on the host: the [`Noise`] source that data sets sample from, and
//! [`PhiloxNoise`], a sequential stream of the same Philox4x32-10 generator the shaders use (its
//! CPU twin is `cpu::rng`), so host-drawn data, initial weights and fixed noise are reproducible
//! from the seed alone.

use crate::cpu::rng::{box_muller, philox4x32_10, unit};

/// Source of random numbers for sampling. The project's Philox generator implements it, so CPU
/// and GPU runs draw the same data.
pub trait Noise {
    /// Uniform on the open interval (0, 1).
    fn uniform(&mut self) -> f32;
    /// Standard normal N(0, 1).
    fn normal(&mut self) -> f32;
}

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

impl Noise for PhiloxNoise {
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
