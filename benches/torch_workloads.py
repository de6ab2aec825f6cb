#!/usr/bin/env python3
"""PyTorch eager peer of the fixed workloads in benches/WORKLOADS.md (T, M64, M512, C) and of the
matmul shapes of workload K, timed the way `shadergan bench train` and `bench kernels` time ours:
iterations per second of whole D-then-G iterations (k = 1: D on real and generated rows with BCE
on logits, then G with the non-saturating loss -log D(G(z))), after warm-up, with the device
synchronised at the end; GFLOP/s = 2 M N K / s for the products (median of 20 runs after 3).

    python3 benches/torch_workloads.py [--device cuda|cpu] [--quick] [--threads N]
                                       [--workload T,M64,M512,C] [--sizes 1024,4096] [--json DIR]

Minibatches are drawn on the device from a device-resident data set, as ours are. The data is
random in [-1, 1] (the timing does not depend on it). With --json DIR every record is also
written to DIR/torch-<name>.json, with the keys of our `bench --json` where they mean the same.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(sizes, hidden_act, out_act=None):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(hidden_act())
    if out_act is not None:
        layers.append(out_act())
    return nn.Sequential(*layers)


def workload(name):
    """(G, D, z_dim, data dim or image shape, batch, lr) of a workload, as WORKLOADS.md states."""
    leaky = lambda: nn.LeakyReLU(0.2)
    if name == "T":
        return mlp([16, 256, 256, 2], nn.ReLU), mlp([2, 256, 256, 1], leaky), 16, (2,), 256, 1e-4
    if name in ("M64", "M512"):
        g = mlp([100, 256, 512, 1024, 784], leaky, nn.Tanh)
        d = mlp([784, 512, 256, 1], leaky)
        return g, d, 100, (784,), int(name[1:]), 2e-4
    if name == "C":
        g = nn.Sequential(
            nn.Linear(100, 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
        d = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
        return g, d, 100, (1, 28, 28), 64, 2e-4
    raise SystemExit(f"unknown workload {name!r} (T, M64, M512, C)")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_workload(name, device, warmup, timed):
    g, d, z_dim, shape, batch, lr = workload(name)
    g, d = g.to(device), d.to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999), eps=1e-8)
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999), eps=1e-8)
    n_data = 10_000 if name != "T" else 65_536
    data = torch.rand((n_data,) + shape, device=device) * 2 - 1
    ones = torch.ones(batch, 1, device=device)
    zeros = torch.zeros(batch, 1, device=device)

    def iteration():
        real = data[torch.randint(0, n_data, (batch,), device=device)]
        fake = g(torch.randn(batch, z_dim, device=device)).detach()
        loss_d = F.binary_cross_entropy_with_logits(d(real), ones) + \
            F.binary_cross_entropy_with_logits(d(fake), zeros)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(d(g(torch.randn(batch, z_dim, device=device))), ones)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

    for _ in range(warmup):
        iteration()
    sync(device)
    t = time.perf_counter()
    for _ in range(timed):
        iteration()
    sync(device)
    secs = time.perf_counter() - t
    return {"workload": name, "it_per_s": timed / secs, "iterations": timed, "seconds": secs,
            "batch": batch}


def time_matmul(m, k, n, device, warmup=3, runs=20):
    a = torch.rand(m, k, device=device)
    b = torch.rand(k, n, device=device)
    for _ in range(warmup):
        a @ b
    times = []
    for _ in range(runs):
        sync(device)
        t = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - t)
    s = statistics.median(times)
    return {"m": m, "k": k, "n": n, "ms": s * 1e3, "gflops": 2 * m * n * k / s / 1e9}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="3 warm-up + 20 timed iterations")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--workload", default="T,M64,M512,C")
    ap.add_argument("--sizes", default="1024", help="square matmul sizes, comma-separated")
    ap.add_argument("--json", metavar="DIR", help="also write one JSON record per result here")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_workloads: --device cuda but torch sees no CUDA device")
    torch.set_num_threads(args.threads)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    ctx = {"framework": f"torch {torch.__version__} eager", "device": name,
           "threads": args.threads if device.type == "cpu" else None}
    print(f"PyTorch {torch.__version__} eager on {name}"
          + (f" ({args.threads} threads)" if device.type == "cpu" else ""))
    warmup, timed = (3, 20) if args.quick else (20, 200)
    records = {}
    for w in [w.strip() for w in args.workload.split(",") if w.strip()]:
        r = dict(ctx, **time_workload(w, device, warmup, timed))
        print(f"{w:<6} {r['it_per_s']:10.2f} it/s")
        records[f"train-{w}"] = r
    shapes = [(s, s, s) for s in map(int, args.sizes.split(","))]
    shapes += [(512, 100, 256), (512, 256, 512), (512, 512, 1024), (512, 1024, 784),
               (512, 784, 512), (512, 512, 256)]
    for m, k, n in shapes:
        r = dict(ctx, **time_matmul(m, k, n, device))
        print(f"matmul {m}x{k}x{n}: {r['ms']:9.3f} ms {r['gflops']:9.1f} GFLOP/s")
        records[f"matmul-{m}x{k}x{n}"] = r
    if args.json:
        os.makedirs(args.json, exist_ok=True)
        for key, r in records.items():
            with open(os.path.join(args.json, f"torch-{key}.json"), "w") as f:
                json.dump(r, f, indent=1)


if __name__ == "__main__":
    main()
