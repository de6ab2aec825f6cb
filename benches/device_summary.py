#!/usr/bin/env python3
"""The summary table of benches/device_check.sh: reads the folder it wrote (the JSON records of
`bench peak`, `selftest`, `bench kernels`, `bench train`, benches/torch_workloads.py, the runs'
output and times.tsv) and prints one table: the device, the self-test verdict, the ceilings,
the matmul against the FMA peak and PyTorch, each workload's it/s against PyTorch's, the runs.

    python3 benches/device_summary.py OUT_DIR
"""
import glob
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def last_line(path, prefix):
    try:
        with open(path) as f:
            lines = [l.strip() for l in f if l.strip().startswith(prefix)]
        return lines[-1] if lines else None
    except OSError:
        return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    times = {}
    if os.path.exists(os.path.join(out, "times.tsv")):
        for line in open(os.path.join(out, "times.tsv")):
            name, secs, rc = line.rstrip("\n").split("\t")
            times[name] = (float(secs), int(rc))

    peak = load(os.path.join(out, "peak.json"))
    if peak:
        a = peak["adapter"]
        print(f"device    {a['name']} ({a['backend']}, {a['device_type']}; driver {a['driver']} "
              f"{a['driver_info']})")
        p = peak["results"]
        print(f"peak      FMA {p['gflops']:.1f} GFLOP/s, copy {p['gbps']:.1f} GB/s, "
              f"dispatch {p['dispatch_us']:.1f} us, submit {p['submit_us']:.1f} us")
    st = load(os.path.join(out, "selftest.json"))
    if st:
        fams = st["results"]["families"]
        bad = [f.get("family", "?") for f in fams if not f.get("passed", False)]
        verdict = "PASSED" if st["results"]["passed"] else f"FAILED: {', '.join(bad)}"
        print(f"selftest  {verdict} ({len(fams)} families)")
    else:
        print("selftest  no record (see selftest.txt / selftest.err)")

    torch_mm = {}
    for path in glob.glob(os.path.join(out, "torch-matmul-*.json")):
        r = load(path)
        if r:
            torch_mm[(r["m"], r["k"], r["n"])] = r
    torch_dev = next(iter(torch_mm.values()), {}).get("device")
    peak_gflops = peak["results"]["gflops"] if peak else None
    kernels = load(os.path.join(out, "kernels.json"))
    if kernels:
        print()
        print(f"{'matmul m x k x n':<22}{'kernel':<12}{'GFLOP/s':>10}{'of peak':>9}"
              f"{'torch GFLOP/s':>15}{'ratio':>8}")
        for r in kernels["results"]["rows"]:
            if "tiled_ms" not in r:  # the per-form comparisons below the main table
                continue
            shape = (r["m"], r["k"], r["n"])
            of_peak = f"{100 * r['gflops'] / peak_gflops:.0f}%" if peak_gflops else "-"
            t = torch_mm.get(shape)
            tg = f"{t['gflops']:.1f}" if t else "-"
            ratio = f"{r['gflops'] / t['gflops']:.2f}x" if t else "-"
            print(f"{'x'.join(map(str, shape)):<22}{r.get('kernel', '?'):<12}"
                  f"{r['gflops']:>10.1f}{of_peak:>9}{tg:>15}{ratio:>8}")

    train = load(os.path.join(out, "train_bench.json"))
    torch_train = {}
    for path in glob.glob(os.path.join(out, "torch-train-*.json")):
        r = load(path)
        if r:
            torch_train[r["workload"]] = r
    if train or torch_train:
        print()
        head = f"torch it/s ({torch_dev})" if torch_dev else "torch it/s"
        print(f"{'workload':<10}{'shadergan it/s':>16}{head:>30}{'ours / torch':>14}")
        ours = {w["workload"].split()[0]: w for w in (train["results"]["workloads"] if train else [])}
        for name in ["T", "M64", "M512", "C"]:
            o = ours.get(name)
            t = torch_train.get(name)
            os_ = f"{o['gpu_its']:.2f}" if o else "-"
            ts = f"{t['it_per_s']:.2f}" if t else "-"
            ratio = f"{o['gpu_its'] / t['it_per_s']:.2f}x" if o and t else "-"
            print(f"{name:<10}{os_:>16}{ts:>30}{ratio:>14}")

    print()
    for name, label, prefix in [("ring", "default ring run", "evaluation:"),
                                ("digits", "default digits DCGAN run", "trained"),
                                ("digits_eval", "eval of the digits run", "")]:
        line = last_line(os.path.join(out, f"{name}.txt"), prefix) if prefix else None
        if name == "digits_eval":
            line = last_line(os.path.join(out, f"{name}.txt"), "/")
        secs = times.get(name)
        t = f"{secs[0]:.1f} s" + ("" if secs[1] == 0 else f", exit {secs[1]}") if secs else "not run"
        print(f"{label:<26}{t:<12}{line or ''}")
    print()
    print("step times: " + ", ".join(f"{k} {v[0]:.0f} s" + ("" if v[1] == 0 else " FAILED")
                                     for k, v in times.items()))


if __name__ == "__main__":
    main()
