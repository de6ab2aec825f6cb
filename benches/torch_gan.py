"""The GAN shadergan trains, in PyTorch: networks, initialisation, Adam with shadergan's linear
learning-rate decay, and one iteration of Goodfellow et al. (2014), Algorithm 1, as
src/gan/schedule.rs records it. Shared by benches/torch_workloads.py (timing) and
benches/torch_dcgan_quality.py (quality); needs only torch.

One iteration (schedule.rs; the loss and the non-saturating G loss of src/gan/config):

    for j in 0..k:                  D step: x ~ data (m rows by uniform random index, with
        z ~ N(0, I); x~ = G(z)      replacement); G in training mode (its batch norms update
        L_D = BCE(D(x), real_label) their running statistics) but no gradient
            + BCE(D(x~), 0)         each term the mean over its half; an MLP D reads [x; x~] in
        Adam step on D              one pass, a DCGAN D each half separately (its batch norms
                                    take statistics per half: graph/convnet MAX_BN_GROUPS)
    z ~ N(0, I); L_G = BCE(D(G(z)), 1)   G step (non-saturating, Goodfellow et al. 2014, sec. 3):
        gradients reach G's parameters only (D's weights get none, as on our side)
        Adam step on G

Learning rates: lr * (1 - (1 - final_frac) * min(t, T) / T) at 1-based step t (ops.rs
AdamConfig::lr_at), T = lr_decay_iters for G and k * lr_decay_iters for D; 0 is constant.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


def activation(name, alpha=0.2):
    return {
        "relu": lambda: nn.ReLU(),
        "leaky_relu": lambda: nn.LeakyReLU(alpha),
        "tanh": lambda: nn.Tanh(),
        "sigmoid": lambda: nn.Sigmoid(),
        "identity": lambda: nn.Identity(),
    }[name]()


def mlp(inp, hidden, act, out, out_act, alpha=0.2):
    """nn.Sequential(Linear, act, ..., Linear[, out_act]) as graph/network.rs's mlp lays it out
    (an identity output adds no module, so the state_dict indices match our checkpoints)."""
    layers, w = [], inp
    for h in hidden:
        layers += [nn.Linear(w, h), activation(act, alpha)]
        w = h
    layers.append(nn.Linear(w, out))
    if out_act != "identity":
        layers.append(activation(out_act, alpha))
    return nn.Sequential(*layers)


# src/gan/dcgan.rs: image side -> side of G's first map.
DCGAN_SIDES = {8: 2, 28: 7, 32: 4, 64: 4}


def dcgan_generator(z_dim, side, channels, width):
    """src/gan/dcgan.rs::generator (for 28 x 28 and width 64, workload C's G)."""
    s0 = DCGAN_SIDES[side]
    n = int(math.log2(side // s0))
    c0 = width << (n - 1)
    layers = [
        nn.Linear(z_dim, c0 * s0 * s0, bias=False),
        nn.BatchNorm1d(c0 * s0 * s0),
        nn.ReLU(),
        nn.Unflatten(1, (c0, s0, s0)),
    ]
    for i in range(1, n):
        layers += [
            nn.ConvTranspose2d(c0 >> (i - 1), c0 >> i, 4, 2, 1, bias=False),
            nn.BatchNorm2d(c0 >> i),
            nn.ReLU(),
        ]
    layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=True), nn.Tanh()]
    return nn.Sequential(*layers)


def dcgan_discriminator(side, channels, width, alpha=0.2):
    """src/gan/dcgan.rs::discriminator (for 28 x 28 and width 64, workload C's D)."""
    n = int(math.log2(side // DCGAN_SIDES[side]))
    layers = [nn.Conv2d(channels, width, 4, 2, 1, bias=True), nn.LeakyReLU(alpha)]
    for i in range(1, n):
        layers += [
            nn.Conv2d(width << (i - 1), width << i, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width << i),
            nn.LeakyReLU(alpha),
        ]
    s_last = side >> n
    layers += [nn.Flatten(), nn.Linear((width << (n - 1)) * s_last * s_last, 1)]
    return nn.Sequential(*layers)


def dcgan_init_(net):
    """graph/convnet ConvNetSpec::init: every weight N(0, 0.02), batch-norm scales N(1, 0.02),
    biases and shifts 0 (Radford et al. 2015, section 4; the PyTorch DCGAN example)."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.normal_(1.0, 0.02)
                m.bias.zero_()
            elif isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.normal_(0.0, 0.02)
                if m.bias is not None:
                    m.bias.zero_()
    return net


def lr_at(lr, t, decay_steps, final_frac):
    """ops.rs AdamConfig::lr_at: the learning rate at 1-based step t."""
    if decay_steps == 0:
        return lr
    return lr * (1.0 - (1.0 - final_frac) * min(t, decay_steps) / decay_steps)


class Gan:
    """G, D, their Adam optimisers and the iteration. `data` is the device-resident data set,
    [rows, ...] already shaped as D reads it (flat rows for an MLP D, N x C x H x W for DCGAN).
    `cfg` holds our TrainConfig's keys (batch, z_dim, d_steps, lr_d, lr_g, beta1, beta2, eps,
    lr_decay_iters, lr_final_frac, real_label)."""

    def __init__(self, g, d, data, cfg, device, conv, fused_adam=False):
        self.g, self.d, self.data, self.cfg, self.conv = g, d, data, cfg, conv
        self.device = device
        betas = (cfg["beta1"], cfg["beta2"])
        kw = {"fused": True} if fused_adam else {}
        self.opt_g = torch.optim.Adam(g.parameters(), cfg["lr_g"], betas, eps=cfg["eps"], **kw)
        self.opt_d = torch.optim.Adam(d.parameters(), cfg["lr_d"], betas, eps=cfg["eps"], **kw)
        self.g_params = list(g.parameters())
        self.steps_g = self.steps_d = 0
        m = cfg["batch"]
        self.ones = torch.ones(m, 1, device=device)
        self.zeros = torch.zeros(m, 1, device=device)
        self.real = torch.full((m, 1), cfg["real_label"], device=device)
        # Non-saturating: -log D(G(z)), BCE against 1 (callers may swap in the minimax loss).
        self.g_loss = lambda logit: F.binary_cross_entropy_with_logits(logit, self.ones)

    def _set_lr(self, opt, lr, t, decay):
        value = lr_at(lr, t, decay, self.cfg["lr_final_frac"])
        for group in opt.param_groups:
            group["lr"] = value

    def z(self):
        return torch.randn(self.cfg["batch"], self.cfg["z_dim"], device=self.device)

    def iteration(self):
        c, m = self.cfg, self.cfg["batch"]
        k, decay = c["d_steps"], c["lr_decay_iters"]
        for _ in range(k):
            idx = torch.randint(self.data.shape[0], (m,), device=self.device)
            x = self.data[idx]
            with torch.no_grad():
                fake = self.g(self.z())
            if self.conv:
                real_logit, fake_logit = self.d(x), self.d(fake)
            else:
                real_logit, fake_logit = self.d(torch.cat((x, fake))).split(m)
            loss_d = F.binary_cross_entropy_with_logits(
                real_logit, self.real
            ) + F.binary_cross_entropy_with_logits(fake_logit, self.zeros)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.steps_d += 1
            self._set_lr(self.opt_d, c["lr_d"], self.steps_d, decay * k)
            self.opt_d.step()
        logit = self.d(self.g(self.z()))
        loss_g = self.g_loss(logit)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward(inputs=self.g_params)
        self.steps_g += 1
        self._set_lr(self.opt_g, c["lr_g"], self.steps_g, decay)
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()


def forward_macs_per_row(net, example):
    """Multiply-adds per row of one forward (src/bench/workloads.rs macs_per_row): in * out per
    Linear; out values * in_ch * k * k per Conv2d; in values * out_ch * k * k per
    ConvTranspose2d. Measured with forward hooks on a one-row (two-row for batch norms) pass."""
    total = [0.0]

    def hook(mod, inp, out):
        rows = out.shape[0]
        if isinstance(mod, nn.Linear):
            total[0] += mod.in_features * mod.out_features
        elif isinstance(mod, nn.Conv2d):
            kk = mod.kernel_size[0] * mod.kernel_size[1]
            total[0] += out[0].numel() * mod.in_channels * kk
        elif isinstance(mod, nn.ConvTranspose2d):
            kk = mod.kernel_size[0] * mod.kernel_size[1]
            total[0] += inp[0][0].numel() * mod.out_channels * kk
        del rows

    handles = [m.register_forward_hook(hook) for m in net.modules() if m is not net]
    was = net.training
    net.eval()
    with torch.no_grad():
        net(example[:1])
    net.train(was)
    for h in handles:
        h.remove()
    return total[0]


def flops_per_iteration(g_macs, d_macs, m):
    """src/bench/workloads.rs flops_per_iteration (k = 1): D step G fwd (m), D fwd (2m), D bwd
    (2m, both gradients); G step G fwd, D fwd, D bwd (input gradient only), G bwd (both)."""
    d_step = g_macs * m + d_macs * 2 * m + 2 * d_macs * 2 * m
    g_step = g_macs * m + d_macs * m + d_macs * m + 2 * g_macs * m
    return 2.0 * (d_step + g_step)
