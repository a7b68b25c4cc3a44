"""PyTorch peer of the diffusion suite (case names match DiffusionSuite.cs).

The network is the spec-derived reference in tools/fixtures/songunet_ref.py (same topology, init and parameter
count as ours: small = 6 987 585). Training step = EDMPrecond forward + EDM loss (log-normal sigma, sum over CHW,
mean over batch) + backward + Adam step, dropout on; evaluation = one no-grad denoiser call at batch 64.
Memory: one training step after two warm-ups, peak RSS above the pre-step RSS (VmHWM reset via /proc/self/clear_refs),
printed as an info line.
"""
import gc
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "fixtures"))
from _peer import selected, setup, time_case  # noqa: E402

args, torch = setup()
import songunet_ref as ref  # noqa: E402

BATCH = 64


def rss(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return rss("VmRSS:")


def bench(name, make):
    # A preset none of whose cases was asked for is skipped whole, so its memory line comes from a fresh process
    # (a second preset measured after the first inherits the first one's heap).
    if not (selected(f"{name}-train", args) or selected(f"{name}-eval", args)):
        return
    torch.manual_seed(1)
    net = ref.EDMPrecond(make())
    net.train()
    images = torch.rand(BATCH, 1, 32, 32) * 2 - 1
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        sigma = ref.sample_sigma(BATCH)
        noise = torch.randn_like(images)
        ref.edm_loss(net, images, sigma, noise).backward()
        opt.step()

    step()
    step()
    gc.collect()
    rss0 = reset_peak()
    step()
    peak = rss("VmHWM:")
    print(json.dumps({"info": f"memory {name} train step: peak RSS {peak / 1e6:.0f} MB = +{(peak - rss0) / 1e6:.0f} MB over the pre-step {rss0 / 1e6:.0f} MB"}), flush=True)
    time_case(f"{name}-train", step, args)

    net.eval()
    x = torch.randn(BATCH, 1, 32, 32) * 5
    sigma = torch.full((BATCH,), 5.0)

    def evaluate():
        with torch.no_grad():
            net(x, sigma)

    time_case(f"{name}-eval", evaluate, args)


bench("small", ref.small)
bench("tiny", ref.tiny)
