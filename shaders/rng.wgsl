// rng.wgsl: not written yet
