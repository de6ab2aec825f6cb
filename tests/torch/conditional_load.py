"""Loads a conditional shadergan checkpoint strictly into torch.nn modules and checks G against
`shadergan sample --include-noise`.

    shadergan sample --checkpoint RUN --include-noise -n 20 -o samples.csv
    python3 tests/torch/conditional_load.py RUN/checkpoint.safetensors samples.csv

The file's G, D (and G's moving average) are nn.Sequential state_dicts under `g.`, `d.` (and
`g_ema.`), and a conditional run's class embeddings the nn.Embedding state_dicts
`g_label_emb.weight`, `d_label_emb.weight` (`g_ema_label_emb.weight`); the metadata holds each
module's constructor. One nn.Module with those attributes loads every tensor but the optimiser's
and the counters with strict=True. Then, in eval mode,
G(z, y) = G_seq(cat(g_label_emb(y), z)) must reproduce the CSV's x columns (HWC rows), and
D(x, y) = psi(phi(x)) + <d_label_emb(y), phi(x)> runs on them. Needs only torch (the safetensors
file is read here).
"""
import csv
import json
import struct
import sys

import torch
from torch import nn

DTYPES = {"F32": torch.float32, "I64": torch.int64, "U32": torch.int32}


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    body = raw[8 + n :]
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        buf = bytearray(body[a:b])
        v = torch.frombuffer(buf, dtype=DTYPES[t["dtype"]]) if b > a else torch.empty(0)
        tensors[name] = v.reshape(t["shape"]).clone()
    return meta, tensors


class Run(nn.Module):
    """Every module a checkpoint's state_dict names, built from its metadata."""

    def __init__(self, meta, names):
        super().__init__()
        build = lambda text: eval(text, {"torch": torch}, vars(nn))
        self.g = build(f"Sequential({meta['g_architecture']})")
        self.d = build(f"Sequential({meta['d_architecture']})")
        self.g_label_emb = build(meta["g_label_emb_architecture"])
        self.d_label_emb = build(meta["d_label_emb_architecture"])
        if any(n.startswith("g_ema.") for n in names):
            self.g_ema = build(f"Sequential({meta['g_architecture']})")
            self.g_ema_label_emb = build(meta["g_ema_label_emb_architecture"])


def main(path, samples):
    meta, tensors = read_safetensors(path)
    state = {k: v for k, v in tensors.items() if not k.startswith(("optim.", "state."))}
    run = Run(meta, state)
    result = run.load_state_dict(state, strict=True)
    print(f"strict load: {len(state)} tensors, {result}")
    run.eval()
    g, emb = (run.g_ema, run.g_ema_label_emb) if hasattr(run, "g_ema") else (run.g, run.g_label_emb)
    rows = list(csv.DictReader(open(samples)))
    y = torch.tensor([int(r["class"]) for r in rows])
    z = torch.tensor([[float(r[k]) for k in r if k.startswith("z_")] for r in rows])
    want = torch.tensor([[float(r[k]) for k in r if k.startswith("x_")] for r in rows])
    with torch.no_grad():
        x = g(torch.cat((emb(y), z), -1))
        if x.dim() == 4:  # DCGAN: NCHW; the CSV rows are HWC
            x = x.permute(0, 2, 3, 1)
        x = x.reshape(len(rows), -1)
        err = (x - want).abs().max().item()
        print(f"G(z, y) against shadergan sample: {len(rows)} rows, max |diff| {err:.2e}")
        assert err < 1e-4, err
        image = x
        if isinstance(run.d[0], nn.Conv2d):
            w, h, c = (int(v) for v in meta["image_shape"].split(","))
            image = x.reshape(-1, h, w, c).permute(0, 3, 1, 2)
        phi = run.d[:-1](image).flatten(1)
        logit = run.d[-1](phi)[:, 0] + (run.d_label_emb(y) * phi).sum(1)
        print(f"D(x, y): {tuple(logit.shape)} logits, mean {logit.mean().item():.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
