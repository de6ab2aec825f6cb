// bce.wgsl: not written yet
