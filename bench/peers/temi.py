"""PyTorch peer of the temi suite (case names match TemiSuite.cs): TEMI written from spec section 4, not from the
reference code.

Heads (spec 4.3): Linear(D, hidden) -> GELU -> Linear(hidden, bottleneck) -> L2-normalise -> weight-normalised
Linear(bottleneck, K, no bias) with a trainable g (init 1); MLP weights truncated-normal std 0.02 (cut at +-2), biases
0, v with torch's default Linear init. H heads, a student and a teacher copy (teacher = EMA of the student, no grads).
Loss (spec 4.4): prior EMA q <- m q + (1 - m) mean_{2B} p_t first, instance weight w = mean_h sum_k p_t(k|x) p_t(k|x'),
per head 1/2 [mean_B w (-log sum_k (p_s(k|x') p_t(k|x))^beta / q_k) + the same with x, x' swapped], mean over heads.
Optimiser (spec 4.5): AdamW, wd on >= 2-d parameters only, linear warm-up then cosine, last layer frozen in epoch 0,
teacher EMA after every step. Training pairs (spec 4.2): shuffle, drop_last, partner uniform among the item's k
cosine nearest neighbours (self excluded). The small-data guard and the teacher-momentum scaling of cedm's
TemiOptions are mirrored (batch = min(B, max(2, N // min_steps)); m_eff = m ** (4800 / total_steps) when a run has fewer than 4 800 steps).

Bench case (`temi-epoch-60k-512-k100`): the time of one training epoch (a fresh one-epoch run, as TemiSuite.cs) on
the features TemiSuite.cs wrote to FEATURES (60,000 x 512, float32, 100 Gaussian clusters) and its kNN graph (KNN),
at the preset `cedm cluster` uses by default (CPU_PRESET; keep it equal to TemiOptions.CpuDefault()).

Also usable from the command line to cluster a .npy (tools/experiments): python3 temi.py fit feats.npy --k 17 ...
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

FEATURES = os.path.join(os.environ.get("TMPDIR", "/tmp"), "cedm-bench-temi", "feats-60k-512.npy")
KNN = FEATURES.replace("feats-", "knn50-")  # int64 [N, 50] partner pools (50 members of the own blob), by TemiSuite.cs

# TemiOptions.CpuDefault() (src/Cedm.Core/Clustering/Temi/TemiOptions.cs).
CPU_PRESET = dict(heads=8, hidden=64, bottleneck=32, epochs=30, warmup=6, batch=1024, min_steps=16, lr=1e-4,
                  min_lr=1e-4, wd=1e-4, momentum=0.996, momentum_ref_steps=4800, prior_momentum=0.9, beta=0.6,
                  tau_s=0.1, tau_t=0.1, knn=50)


def knn_cosine(torch, x, k, block=4096):
    """Indices [N, k] of each row's k most cosine-similar other rows (self excluded), most similar first."""
    xn = torch.nn.functional.normalize(x, dim=1)
    out = torch.empty(x.shape[0], k, dtype=torch.long)
    for s in range(0, x.shape[0], block):
        sim = xn[s:s + block] @ xn.T
        rows = torch.arange(s, min(s + block, x.shape[0]))
        sim[rows - s, rows] = -math.inf
        out[s:s + block] = sim.topk(k, dim=1).indices
    return out


def build(torch, d, k, o, gen):
    nn = torch.nn

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp0 = nn.Linear(d, o["hidden"])
            self.mlp1 = nn.Linear(o["hidden"], o["bottleneck"])
            for lin in (self.mlp0, self.mlp1):
                with torch.no_grad():
                    lin.weight.copy_(_trunc(torch, lin.weight.shape, gen))
                    lin.bias.zero_()
            self.last = nn.utils.weight_norm(nn.Linear(o["bottleneck"], k, bias=False))
            with torch.no_grad():
                self.last.weight_g.fill_(1.0)

        def forward(self, x):
            z = self.mlp1(torch.nn.functional.gelu(self.mlp0(x)))
            return self.last(torch.nn.functional.normalize(z, dim=-1))

    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleList([Head() for _ in range(o["heads"])])

        def forward(self, x):
            return torch.stack([h(x) for h in self.heads])  # [H, rows, K]

    return Heads()


def _trunc(torch, shape, gen):
    # Truncated normal, std 0.02, cut at +-2 absolute (i.e. effectively untruncated): resample outliers.
    w = torch.randn(shape, generator=gen) * 0.02
    bad = w.abs() > 2
    while bad.any():
        w[bad] = torch.randn(int(bad.sum()), generator=gen) * 0.02
        bad = w.abs() > 2
    return w


def temi_loss(torch, s, t, prior, o):
    """Spec 4.4 on student/teacher logits [H, 2B, K]; updates prior [H, K] in place; returns (total, per-head)."""
    h, rows, k = s.shape
    b = rows // 2
    with torch.no_grad():
        log_pt = torch.log_softmax(t / o["tau_t"], dim=-1)
        pt = log_pt.exp()
        prior.mul_(o["prior_momentum"]).add_((1 - o["prior_momentum"]) * pt.mean(dim=1))
        w = (pt[:, :b] * pt[:, b:]).sum(-1).mean(0)  # [B]
        log_q = prior.log().unsqueeze(1)  # [H, 1, K]
    log_ps = torch.log_softmax(s / o["tau_s"], dim=-1)
    beta = o["beta"]
    lse1 = torch.logsumexp(beta * (log_ps[:, b:] + log_pt[:, :b]) - log_q, dim=-1)  # teacher x, student x'
    lse2 = torch.logsumexp(beta * (log_ps[:, :b] + log_pt[:, b:]) - log_q, dim=-1)  # teacher x', student x
    per_head = -0.5 * ((lse1 * w).mean(1) + (lse2 * w).mean(1))
    return per_head.mean(), per_head.detach()


class Trainer:
    """One TEMI run; `epoch()` trains one epoch, `assign()` gives the best teacher head's argmax (spec 4.6)."""

    def __init__(self, torch, x, k, o, seed, nn_idx=None):
        self.torch, self.x, self.k, self.o = torch, x, k, o
        n, d = x.shape
        self.gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        self.nn = nn_idx if nn_idx is not None else knn_cosine(torch, x, min(o["knn"], n - 1))
        self.knn = min(o["knn"], self.nn.shape[1])
        self.batch = min(o["batch"], max(2, n // o["min_steps"]))
        self.iters = n // self.batch
        ref, total = o.get("momentum_ref_steps", 0), o["epochs"] * self.iters
        self.momentum = o["momentum"] ** (ref / total) if 0 < total < ref else o["momentum"]
        self.student = build(torch, d, k, o, self.gen)
        self.teacher = build(torch, d, k, o, self.gen)
        self.teacher.load_state_dict(self.student.state_dict())
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        decay = [p for p in self.student.parameters() if p.ndim >= 2]
        no_decay = [p for p in self.student.parameters() if p.ndim < 2]
        self.lr_scale = min(o["batch"], n) / 256.0
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": o["wd"]}, {"params": no_decay, "weight_decay": 0.0}],
                                     lr=0.0, betas=(0.9, 0.999), eps=1e-8)
        self.prior = torch.full((o["heads"], k), 1.0 / k)
        self.epoch_index = 0
        self.step = 0
        self.head_losses = None

    def lr_at(self, it):
        o = self.o
        base, final = o["lr"] * self.lr_scale, o["min_lr"] * self.lr_scale
        warm = o["warmup"] * self.iters
        if it < warm:
            return base * it / warm
        total = o["epochs"] * self.iters - warm
        return final + 0.5 * (base - final) * (1 + math.cos(math.pi * (it - warm) / max(total, 1)))

    def epoch(self):
        torch, o = self.torch, self.o
        n = self.x.shape[0]
        perm = torch.randperm(n, generator=self.gen)
        sums = torch.zeros(o["heads"])
        last_params = [p for hd in self.student.heads for p in hd.last.parameters()]
        for it in range(self.iters):
            idx = perm[it * self.batch:(it + 1) * self.batch]
            pick = torch.randint(0, self.knn, (self.batch,), generator=self.gen)
            partner = self.nn[idx, pick]
            inp = torch.cat([self.x[idx], self.x[partner]])
            for g in self.opt.param_groups:
                g["lr"] = self.lr_at(self.step)
            with torch.no_grad():
                t = self.teacher(inp)
            loss, per_head = temi_loss(torch, self.student(inp), t, self.prior, o)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.epoch_index == 0:
                for p in last_params:
                    p.grad = None
            self.opt.step()
            with torch.no_grad():
                for pt_, ps in zip(self.teacher.parameters(), self.student.parameters()):
                    pt_.mul_(self.momentum).add_(ps.detach(), alpha=1 - self.momentum)
            sums += per_head
            self.step += 1
        self.head_losses = sums / self.iters
        self.epoch_index += 1

    def assign(self):
        with self.torch.no_grad():
            best = int(self.head_losses.argmin())
            return self.teacher.heads[best](self.x).argmax(1).numpy(), best


def fit(args):
    import torch
    torch.set_num_threads(args.threads)
    o = dict(CPU_PRESET)
    for kv in args.set or []:
        key, val = kv.split("=", 1)
        o[key] = type(o[key])(float(val)) if key in o else float(val)
    x = torch.from_numpy(np.load(args.features).astype(np.float32))
    start = time.perf_counter()
    tr = Trainer(torch, x, args.k, o, args.seed)
    for _ in range(o["epochs"]):
        tr.epoch()
    ids, best = tr.assign()
    out = {"seconds": time.perf_counter() - start, "used": int(len(np.unique(ids))), "best_head": best}
    if args.labels:
        from sklearn.metrics import normalized_mutual_info_score
        out["nmi"] = normalized_mutual_info_score(np.load(args.labels), ids)
    print(json.dumps(out), flush=True)


def bench():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _peer import selected, setup, time_case
    args, torch = setup()
    name = "temi-epoch-60k-512-k100"
    if not selected(name, args):
        return
    if not os.path.exists(FEATURES):
        print(json.dumps({"error": f"{FEATURES} missing (TemiSuite.cs writes it before the peer runs)"}), flush=True)
        sys.exit(3)
    x = torch.from_numpy(np.load(FEATURES))
    nn_idx = torch.from_numpy(np.load(KNN)) if os.path.exists(KNN) else None
    one_epoch = dict(CPU_PRESET, epochs=1, warmup=0)  # as TemiSuite.cs: each timed call is a fresh one-epoch run
    tr = Trainer(torch, x, 100, one_epoch, seed=0, nn_idx=nn_idx)
    print(json.dumps({"info": f"temi peer: {tuple(x.shape)}, batch {tr.batch}, {tr.iters} steps/epoch, kNN {'from ' + KNN if nn_idx is not None else 'computed'}"}), flush=True)
    time_case(name, lambda: Trainer(torch, x, 100, one_epoch, seed=0, nn_idx=tr.nn).epoch(), args)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "fit":
        p = argparse.ArgumentParser()
        p.add_argument("cmd")
        p.add_argument("features")
        p.add_argument("--labels")
        p.add_argument("--k", type=int, required=True)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--set", nargs="*", help="preset overrides key=value (CPU_PRESET keys)")
        fit(p.parse_args())
    else:
        bench()
