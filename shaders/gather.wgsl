// gather.wgsl: not written yet
