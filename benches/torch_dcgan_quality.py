"""Quality held to PyTorch's: trains, in PyTorch, the DCGAN one of our image runs trained, with
the same data, networks, initialisation scheme, loss, k, batch, Adam settings and learning-rate
schedule (read from the run's checkpoint), for the same number of iterations; writes its G into
a COPY of the run directory in our checkpoint format; then runs `shadergan eval` on both
directories and prints their numbers side by side.

    python3 benches/torch_dcgan_quality.py RUN_DIR --bin target/release/shadergan \
        [--iterations N] [--device auto|cuda|cpu] [--threads N] [--out DIR]

RUN_DIR: a directory `shadergan train --arch dcgan` (the default for image data) wrote, on
`digits` or `idx:FILE[,labels=FILE]`, loss bce / hinge / ls, unconditional or conditional (G
reads cat(E_G[y], z), D adds the projection E_D[y]^T phi(x); src/gan/conditional.rs). Data set
paths in the run's config are read relative to the current directory, as `shadergan` reads them,
so run this where the run was trained (the repository root for `../shared/data/...`).
--iterations defaults to the iterations the checkpoint holds. The copy (default RUN_DIR-torch)
keeps everything of ours but G: the checkpoint's `g.*` tensors (and `g_ema.*` for a run with a
moving average, and `g_label_emb.weight` / `g_ema_label_emb.weight` for a conditional one) are
PyTorch's state_dict, which loads strictly because our names are nn.Sequential's (see
src/gan/checkpoint.rs and tests/torch/). Both evaluations use the same cached classifier (ours
is evaluated first and the copy taken after, so the cache travels with it) and the same seed, so
the two columns differ only by the generator. Seeds differ between the frameworks (our Philox
streams are not PyTorch's generator): compare against the spread of a few seeds, not to the last
digit. Needs only torch (the safetensors file is read and written here).
"""
import argparse
import array
import gzip
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time
import tomllib

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_gan  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = {"F32": torch.float32, "I64": torch.int64, "U32": torch.int32}
NAMES = {v: k for k, v in DTYPES.items()}


def fail(msg):
    sys.exit(f"torch_dcgan_quality: {msg}")


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


def tensor_bytes(t):
    """A tensor's little-endian bytes without numpy (which torch installs may lack): through
    Python's array module, exact for f32, i32 and i64."""
    code = {torch.float32: "f", torch.int32: "i", torch.int64: "q"}[t.dtype]
    a = array.array(code, t.detach().cpu().reshape(-1).tolist())
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def write_safetensors(path, meta, tensors):
    """safetensors layout: u64 header length, JSON header (tensors in file order, then
    __metadata__), the tensors' little-endian bytes. Written to a temporary name, then renamed."""
    header, chunks, off = {}, [], 0
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        chunks.append(data)
        off += len(data)
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def read_idx_images(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic, = struct.unpack(">I", raw[:4])
    if magic != 0x00000803:
        fail(f"{path}: not an IDX image file (magic {magic:#x}, expected 0x803)")
    n, h, w = struct.unpack(">III", raw[4:16])
    x = torch.frombuffer(bytearray(raw[16 : 16 + n * h * w]), dtype=torch.uint8)
    return x.reshape(n, 1, h, w)


def read_idx_labels(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic, n = struct.unpack(">II", raw[:8])
    if magic != 0x00000801:
        fail(f"{path}: not an IDX labels file (magic {magic:#x}, expected 0x801)")
    return torch.frombuffer(bytearray(raw[8 : 8 + n]), dtype=torch.uint8).long()


def read_digits():
    """data/digits.csv.gz (src/data/images.rs): 64 values in 0..16 then the label per line,
    scaled to v / 16 and stored on the device as bytes round(255 v / 16) (gan/trainer.rs)."""
    rows, labels = [], []
    with gzip.open(os.path.join(REPO, "data", "digits.csv.gz"), "rt") as f:
        for line in f:
            if line.strip():
                values = line.split(",")
                rows.append([float(v) for v in values[:64]])
                labels.append(int(values[64]))
    v = torch.tensor(rows) / 16.0
    return (v * 255.0).round().to(torch.uint8).reshape(-1, 1, 8, 8), torch.tensor(labels)


def load_data(cfg):
    """The run's images as our device holds them (bytes, 0 -> -1, 255 -> 1), N x 1 x H x W,
    and their labels (None where the set has none)."""
    spec = cfg["dataset"]
    name, _, rest = spec.partition(":")
    if cfg.get("image_size") is not None:
        fail(f"the run resizes its images (image_size = {cfg['image_size']}); this script "
             "trains on images at their own size only")
    if name == "digits":
        x, y = read_digits()
    elif name == "idx":
        path, _, labels = rest.partition(",labels=")
        x = read_idx_images(path)
        y = read_idx_labels(labels) if labels else None
        if y is not None and y.shape[0] != x.shape[0]:
            fail(f"{labels} holds {y.shape[0]} labels for {x.shape[0]} images")
    else:
        fail(f"data set {spec!r}: only digits and idx:FILE runs are supported")
    return x.float() / 255.0 * 2.0 - 1.0, y


def check_config(cfg):
    need = {"arch": "dcgan", "pack": 1, "instance_noise": 0.0,
            "d_norm": "none", "channels": 1}
    for key, want in need.items():
        if cfg.get(key, want) != want:
            fail(f"the run has {key} = {cfg[key]!r}; this script trains {key} = {want!r} only")


def losses(cfg):
    """D's and G's loss on logits (src/gan/config Loss, GLoss; schedule.rs LossTerms)."""
    bce = nn.functional.binary_cross_entropy_with_logits
    relu = nn.functional.relu
    real_label = cfg["real_label"]
    loss, g_loss = cfg["loss"], cfg["g_loss"]
    if loss == "bce":
        d = lambda r, f: bce(r, torch.full_like(r, real_label)) + bce(f, torch.zeros_like(f))
        if g_loss == "ns":
            g = lambda f: bce(f, torch.ones_like(f))
        else:
            g = lambda f: -bce(f, torch.zeros_like(f))
    elif loss == "hinge":
        d = lambda r, f: relu(1 - r).mean() + relu(1 + f).mean()
        g = lambda f: -f.mean()
    elif loss == "ls":
        d = lambda r, f: ((r - real_label) ** 2).mean() / 2 + (f**2).mean() / 2
        g = lambda f: ((f - 1) ** 2).mean() / 2
    else:
        fail(f"unknown loss {loss!r}")
    return d, g


class QualityGan(torch_gan.Gan):
    """torch_gan.Gan with the run's own losses and G's moving average."""

    def __init__(self, *args, d_loss, g_loss, ema_decay, **kw):
        super().__init__(*args, **kw)
        self.d_loss, self.g_loss, self.ema_decay = d_loss, g_loss, ema_decay
        self.ema = [p.detach().clone() for p in self.g_params] if ema_decay > 0 else None

    # The four places a conditional run differs (ConditionalGan): the labels drawn with the real
    # rows, the generated rows' labels, G's input and D's score.
    def draw_real(self):
        return self.data[torch.randint(self.data.shape[0], (self.cfg["batch"],),
                                       device=self.device)], None

    def fake_labels(self):
        return None

    def gen(self, y):
        return self.g(self.z())

    def disc(self, x, y):
        return self.d(x)

    def iteration(self):
        c = self.cfg
        k, decay = c["d_steps"], c["lr_decay_iters"]
        for _ in range(k):
            x, y = self.draw_real()
            yf = self.fake_labels()
            with torch.no_grad():
                fake = self.gen(yf)
            loss_d = self.d_loss(self.disc(x, y), self.disc(fake, yf))
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.steps_d += 1
            self._set_lr(self.opt_d, c["lr_d"], self.steps_d, decay * k)
            self.opt_d.step()
        yf = self.fake_labels()
        loss_g = self.g_loss(self.disc(self.gen(yf), yf))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward(inputs=self.g_params)
        self.steps_g += 1
        self._set_lr(self.opt_g, c["lr_g"], self.steps_g, decay)
        self.opt_g.step()
        if self.ema is not None:
            with torch.no_grad():
                for e, p in zip(self.ema, self.g_params):
                    e.lerp_(p, 1.0 - self.ema_decay)
        return loss_d, loss_g


class ConditionalGan(QualityGan):
    """QualityGan for a conditional run (src/gan/conditional.rs): G(z, y) = g(cat(E_G[y], z)),
    D(x, y) = psi(phi(x)) + E_D[y]^T phi(x), psi D's last Linear layer and phi what it reads.
    Real rows keep their labels; generated rows get labels drawn uniformly. Each table is in its
    network's Adam optimiser and G's table in its moving average."""

    def __init__(self, g, d, g_emb, d_emb, labels, *args, **kw):
        self.g_emb, self.d_emb, self.labels = g_emb, d_emb, labels
        self.g_net, self.phi, self.psi = g, d[:-1], d[-1]
        super().__init__(g, d, *args, **kw)
        # Each table joins its network's optimiser (same Adam settings and schedule) and G's
        # joins the parameters G's step updates and averages, last.
        self.opt_g.add_param_group({"params": [g_emb.weight]})
        self.opt_d.add_param_group({"params": [d_emb.weight]})
        self.g_params.append(g_emb.weight)
        if self.ema is not None:
            self.ema.append(g_emb.weight.detach().clone())

    def gen(self, y):
        return self.g_net(torch.cat((self.g_emb(y), self.z()), 1))

    def disc(self, x, y):
        h = self.phi(x)
        return self.psi(h) + (self.d_emb(y) * h).sum(1, keepdim=True)

    def draw_real(self):
        idx = torch.randint(self.data.shape[0], (self.cfg["batch"],), device=self.device)
        return self.data[idx], self.labels[idx]

    def fake_labels(self):
        return torch.randint(self.d_emb.num_embeddings, (self.cfg["batch"],), device=self.device)


def run_eval(bin_path, run_dir):
    t0 = time.time()
    r = subprocess.run([bin_path, "eval", run_dir], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"`{bin_path} eval {run_dir}` failed (exit {r.returncode}):\n{r.stderr}")
    with open(os.path.join(run_dir, "eval.toml"), "rb") as f:
        return tomllib.load(f), time.time() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir")
    p.add_argument("--bin", required=True, help="the shadergan binary (for eval)")
    p.add_argument("--iterations", type=int, help="default: the checkpoint's iterations")
    p.add_argument("--device", default="auto", help="auto (cuda when available), cuda or cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores)")
    p.add_argument("--out", help="the copy's directory (default: RUN_DIR-torch); must not exist")
    p.add_argument("--seed", type=int, default=1, help="PyTorch's seed")
    a = p.parse_args()

    run_dir = a.run_dir.rstrip("/")
    ck_path = os.path.join(run_dir, "checkpoint.safetensors")
    if not os.path.isfile(ck_path):
        fail(f"{ck_path} not found: RUN_DIR must be a run directory of `shadergan train`")
    if not os.access(a.bin, os.X_OK):
        fail(f"--bin {a.bin}: not an executable")
    out_dir = a.out or run_dir + "-torch"
    if os.path.exists(out_dir):
        fail(f"{out_dir} exists; remove it or give --out")
    meta, tensors = read_safetensors(ck_path)
    if meta.get("format") != "shadergan-checkpoint-1":
        fail(f"{ck_path} is not a shadergan checkpoint")
    cfg = tomllib.loads(meta["config"])
    check_config(cfg)
    iterations = a.iterations or int(meta["iteration"])
    if iterations < 1:
        fail("the checkpoint has trained no iterations; give --iterations")

    if a.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(a.device)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    torch.manual_seed(a.seed)

    # The networks from the checkpoint's own constructors (as tests/torch/ builds them); our G
    # loading strictly into them proves the architecture before PyTorch's G replaces it.
    build = lambda text: eval(text, {"torch": torch}, vars(nn))
    g = build(f"Sequential({meta['g_architecture']})")
    d = build(f"Sequential({meta['d_architecture']})")
    ours_g = {k[2:]: v for k, v in tensors.items() if k.startswith("g.")}
    g.load_state_dict(ours_g, strict=True)
    torch_gan.dcgan_init_(g)
    torch_gan.dcgan_init_(d)
    for net in (g, d):  # fresh running statistics, as a new run starts them
        for mod in net.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.reset_running_stats()
    g, d = g.to(device), d.to(device)
    data, labels = load_data(cfg)
    data = data.to(device)
    d_loss, g_loss = losses(cfg)
    kw = {"d_loss": d_loss, "g_loss": g_loss, "ema_decay": cfg["g_ema"]}
    if cfg.get("conditional", False):
        if labels is None:
            fail(f"the run is conditional but {cfg['dataset']} names no labels")
        classes = tensors["g_label_emb.weight"].shape[0]
        # Fresh tables as src/gan/conditional.rs makes them: G's N(0, 1) (nn.Embedding's own),
        # D's Xavier-uniform; shapes from the checkpoint (strict load proves them).
        g_emb = nn.Embedding(classes, tensors["g_label_emb.weight"].shape[1])
        d_emb = nn.Embedding(classes, tensors["d_label_emb.weight"].shape[1])
        g_emb.load_state_dict({"weight": tensors["g_label_emb.weight"]}, strict=True)
        d_emb.load_state_dict({"weight": tensors["d_label_emb.weight"]}, strict=True)
        nn.init.normal_(g_emb.weight)
        nn.init.xavier_uniform_(d_emb.weight)
        gan = ConditionalGan(g, d, g_emb.to(device), d_emb.to(device), labels.to(device), data,
                             cfg, device, True, **kw)
    else:
        gan = QualityGan(g, d, data, cfg, device, True, **kw)
    print(f"PyTorch {torch.__version__} on {device}: {cfg['dataset']}, {data.shape[0]} images, "
          f"{iterations} iterations (batch {cfg['batch']}, k = {cfg['d_steps']}, {cfg['loss']}"
          f"/{cfg['g_loss']}, lr {cfg['lr_d']}/{cfg['lr_g']})", flush=True)
    t0 = time.time()
    log = max(1, iterations // 5)
    for it in range(1, iterations + 1):
        ld, lg = gan.iteration()
        if it % log == 0 or it == iterations:
            print(f"  iteration {it:>6}  D loss {ld.item():.4f}  G loss {lg.item():.4f}  "
                  f"({it / (time.time() - t0):.1f} it/s)", flush=True)
    train_s = time.time() - t0
    if not all(torch.isfinite(p).all() for p in g.parameters()):
        fail("PyTorch's G diverged (non-finite weights)")

    ours, ours_s = run_eval(a.bin, run_dir)
    shutil.copytree(run_dir, out_dir)
    state = {f"g.{k}": v for k, v in g.state_dict().items()}
    conditional = isinstance(gan, ConditionalGan)
    if conditional:
        state["g_label_emb.weight"] = gan.g_emb.weight
    if cfg["g_ema"] > 0:
        ema = dict(zip([n for n, _ in g.named_parameters()], gan.ema))
        for k, v in g.state_dict().items():
            state[f"g_ema.{k}"] = ema.get(k, v)
        if conditional:
            state["g_ema_label_emb.weight"] = gan.ema[-1]
    for name, v in state.items():
        if name not in tensors or tensors[name].shape != v.shape:
            fail(f"PyTorch's {name} {tuple(v.shape)} does not fit the checkpoint")
        tensors[name] = v.detach().cpu().to(tensors[name].dtype)
    write_safetensors(os.path.join(out_dir, "checkpoint.safetensors"), meta, tensors)
    for stale in ("eval.toml",):
        if os.path.exists(os.path.join(out_dir, stale)):
            os.remove(os.path.join(out_dir, stale))
    theirs, theirs_s = run_eval(a.bin, out_dir)

    rows = [
        ("classes covered", "classes_covered", "{:.0f}"),
        ("KL(class histogram || real)", "kl_to_real", "{:.4f}"),
        ("confident share", "confident_share", "{:.3f}"),
        ("Frechet distance", "frechet", "{:.3f}"),
        ("Frechet floor (real vs real)", "frechet_floor", "{:.3f}"),
        ("classifier test accuracy", "classifier_test_accuracy", "{:.3f}"),
    ]
    for r in (ours, theirs):  # conditional runs: [conditional] overall, as a row
        if "conditional" in r:
            r["conditional_accuracy"] = r["conditional"]["overall"]
    if "conditional_accuracy" in ours:
        rows.append(("conditional accuracy", "conditional_accuracy", "{:.3f}"))
    print(f"\n{run_dir} ({iterations} iterations of {cfg['dataset']}; eval: "
          f"{ours.get('samples')} samples, classifier of {ours.get('classes_total')} classes)")
    print(f"| {'metric':<30} | {'shadergan':>10} | {'PyTorch':>10} |")
    print(f"| {'-' * 30} | {'-' * 10}:| {'-' * 10}:|")
    for label, key, fmt in rows:
        cell = lambda r: fmt.format(r[key]) if key in r else "-"
        print(f"| {label:<30} | {cell(ours):>10} | {cell(theirs):>10} |")
    print(f"PyTorch training {train_s:.1f} s ({iterations / train_s:.1f} it/s on {device}); "
          f"eval {ours_s:.1f} s (ours), {theirs_s:.1f} s (copy); copy: {out_dir}")


if __name__ == "__main__":
    main()
