// optim.wgsl: not written yet
