#!/usr/bin/env python3
"""Quality held to PyTorch's: train the same DCGAN as a shadergan image run in PyTorch (the run's
own architecture strings, data, batch, iterations, Adam settings, k and loss), write its G into a
copy of the run directory (the checkpoint's tensor names are PyTorch's), and score both
directories with our `shadergan eval` (the same classifier, the same 10,000 samples' noise), side
by side. If ours scores clearly worse, the trainer has a bug; if they are on par, what a user sees
is bounded by the iterations that fit their patience.

    python3 benches/torch_dcgan_quality.py RUN_DIR --bin target/release/shadergan
                                           [--iterations N] [--device cpu|cuda] [--out DIR]

Supports runs on `digits` (data/digits.csv.gz) and `idx:IMAGES[,labels=...]` (paths as the run's
config.toml wrote them, relative to where it was trained), BCE with the non-saturating G loss, no
packing, not conditional. D sees the real and the generated minibatch in two calls, so its batch
norms take separate statistics, as ours and the PyTorch DCGAN example do. Needs torch and
safetensors.
"""
import argparse
import gzip
import os
import shutil
import struct
import subprocess
import sys
import time
import tomllib

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_idx_images(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic, n = struct.unpack(">II", raw[:8])
    if magic != 0x803:
        sys.exit(f"{path}: not an IDX images file (magic {magic:#x})")
    h, w = struct.unpack(">II", raw[8:16])
    x = torch.frombuffer(bytearray(raw[16:16 + n * h * w]), dtype=torch.uint8)
    return x.view(n, 1, h, w).float() / 255 * 2 - 1


def read_digits():
    with gzip.open(os.path.join(REPO, "data", "digits.csv.gz"), "rt") as f:
        rows = [list(map(float, l.split(",")[:64])) for l in f if l.strip()]
    return torch.tensor(rows).view(-1, 1, 8, 8) / 16 * 2 - 1


def load_data(spec):
    if spec == "digits":
        return read_digits()
    if spec.startswith("idx:"):
        return read_idx_images(spec[4:].split(",")[0])
    sys.exit(f"torch_dcgan_quality: data set {spec!r} is not supported (digits, idx:...)")


def sequential(arch):
    return eval(f"nn.Sequential({arch})", {"nn": nn, "torch": torch}, vars(nn))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a shadergan image run directory (DCGAN)")
    ap.add_argument("--bin", required=True, help="the shadergan binary that scores both")
    ap.add_argument("--iterations", type=int, help="default: the run's own")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", help="the copy's folder (default: RUN-torch)")
    args = ap.parse_args()

    cfg = tomllib.load(open(os.path.join(args.run, "config.toml"), "rb"))
    for key, want in [("loss", "bce"), ("g_loss", "ns"), ("pack", 1), ("conditional", False)]:
        if cfg.get(key, want) != want:
            sys.exit(f"torch_dcgan_quality: the run has {key} = {cfg[key]!r}; only {want!r} is supported")
    ckpt = os.path.join(args.run, "checkpoint.safetensors")
    with safe_open(ckpt, "pt") as f:
        meta = f.metadata()
    tensors = load_file(ckpt)
    device = torch.device(args.device)
    torch.manual_seed(cfg["seed"])
    g = sequential(meta["g_architecture"]).to(device)
    d = sequential(meta["d_architecture"]).to(device)
    data = load_data(cfg["dataset"]).to(device)
    data = data.view(data.shape[0], -1) if isinstance(d[0], nn.Linear) else data
    n, batch, z_dim = data.shape[0], cfg["batch"], cfg["z_dim"]
    betas, eps = (cfg["beta1"], cfg["beta2"]), cfg["eps"]
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg["lr_g"], betas=betas, eps=eps)
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg["lr_d"], betas=betas, eps=eps)
    ema = None
    if cfg.get("g_ema", 0.0) > 0:
        ema = {k: v.detach().clone() for k, v in g.state_dict().items()}
    iterations = args.iterations or cfg["iterations"]
    ones = torch.full((batch, 1), cfg.get("real_label", 1.0), device=device)
    zeros = torch.zeros(batch, 1, device=device)
    t0 = time.time()
    for it in range(1, iterations + 1):
        for _ in range(cfg["d_steps"]):
            real = data[torch.randint(0, n, (batch,), device=device)]
            fake = g(torch.randn(batch, z_dim, device=device)).detach()
            loss_d = F.binary_cross_entropy_with_logits(d(real), ones) + \
                F.binary_cross_entropy_with_logits(d(fake), zeros)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(
            d(g(torch.randn(batch, z_dim, device=device))), torch.ones(batch, 1, device=device))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if ema is not None:
            with torch.no_grad():
                for k, v in g.state_dict().items():
                    if v.dtype.is_floating_point:
                        ema[k].mul_(cfg["g_ema"]).add_(v, alpha=1 - cfg["g_ema"])
                    else:
                        ema[k].copy_(v)
        if it % max(1, iterations // 10) == 0 or it == iterations:
            print(f"torch iteration {it:6d}  D loss {loss_d.item():.4f}  G loss {loss_g.item():.4f}"
                  f"  ({it / (time.time() - t0):.1f} it/s)", flush=True)

    def evaluate(run):
        r = subprocess.run([args.bin, "eval", run], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"shadergan eval {run} failed:\n{r.stderr}")
        return r.stdout.strip().splitlines()[-1].split(": ", 1)[-1]

    out = args.out or args.run.rstrip("/") + "-torch"
    if os.path.exists(out):
        sys.exit(f"torch_dcgan_quality: {out} exists; remove it or pass --out")
    ours = evaluate(args.run)  # trains the run's classifier once; the copy reuses it
    shutil.copytree(args.run, out)
    for name in ["eval.toml"]:
        if os.path.exists(os.path.join(out, name)):
            os.remove(os.path.join(out, name))
    new = dict(tensors)
    for k, v in g.state_dict().items():
        key = f"g.{k}"
        if key not in new and k.endswith("num_batches_tracked"):
            continue
        if key not in new or new[key].shape != v.shape:
            sys.exit(f"torch_dcgan_quality: {key} {tuple(v.shape)} does not match the checkpoint")
        new[key] = v.detach().cpu().to(new[key].dtype).contiguous()
        if ema is not None and f"g_ema.{k}" in new:
            new[f"g_ema.{k}"] = ema[k].cpu().to(new[key].dtype).contiguous()
    save_file(new, os.path.join(out, "checkpoint.safetensors"), metadata=meta)

    theirs = evaluate(out)
    print(f"\nthe same DCGAN, {iterations} iterations, scored by `shadergan eval`:")
    print(f"  {'shadergan':<18} {ours}")
    print(f"  {'PyTorch (' + args.device + ')':<18} {theirs}")


if __name__ == "__main__":
    main()
