#!/usr/bin/python3
"""Checks that a cedm run's checkpoint is a valid NVlabs/edm EDMPrecond(SongUNet) state: loads the EMA weights into
EDM's own network classes from a user-supplied EDM checkout and compares one denoiser evaluation D(x; sigma, labels)
with cedm's (`cedm denoise`) on the same input. See docs/interop.md. cedm ships none of EDM's code; this script
imports it from --edm.

  /usr/bin/python3 tools/edm_interop.py --edm ~/src/edm --run runs/fashion-mnist/train
  /usr/bin/python3 tools/edm_interop.py --edm ~/src/edm --run RUN --cedm "dotnet path/to/cedm.dll" --sigma 0.02 1 20

Needs torch and numpy (Debian: python3-torch, python3-numpy; `bash tools/install-deps.sh --python`), and an EDM
checkout (https://github.com/NVlabs/edm; only training/networks.py and torch_utils/ are imported). Exit status 0 when
the load is strict up to EDM's constant `resample_filter` buffers and every output agrees within the tolerance.
"""
import argparse, json, os, shlex, struct, subprocess, sys, tempfile
import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64}


def read_safetensors(path):
    """A minimal safetensors reader (header: u64 length + JSON; tensors little-endian, row-major)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        lo, hi = info["data_offsets"]
        out[name] = np.frombuffer(data[lo:hi], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def latest_checkpoint(run):
    with open(os.path.join(run, "checkpoint.json")) as f:
        return os.path.join(run, json.load(f)["file"])


def build_edm(edm, net_cfg):
    sys.path.insert(0, os.path.abspath(edm))
    from training.networks import EDMPrecond  # EDM's own class, from the user's checkout
    if net_cfg.get("coherence"):
        raise SystemExit("this run conditions on coherence scores (CAD), which EDM's SongUNet has no input for")
    if net_cfg.get("heads", 1) != 1:
        raise SystemExit(f"heads = {net_cfg['heads']}: EDM's SongUNet uses one attention head")
    # DDPM++ settings (EDM's --arch=ddpmpp): positional embedding, standard encoder/decoder, [1,1] resampling.
    return EDMPrecond(img_resolution=net_cfg["resolution"], img_channels=net_cfg["in_channels"], label_dim=net_cfg["label_dim"],
                      model_type="SongUNet", embedding_type="positional", encoder_type="standard", decoder_type="standard",
                      channel_mult_noise=1, resample_filter=[1, 1], model_channels=net_cfg["model_channels"],
                      channel_mult=net_cfg["channel_mult"], channel_mult_emb=net_cfg["channel_mult_emb"],
                      num_blocks=net_cfg["num_blocks"], attn_resolutions=net_cfg["attn_resolutions"],
                      dropout=net_cfg["dropout"], augment_dim=net_cfg.get("augment_dim", 0))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edm", required=True, help="an NVlabs/edm checkout")
    ap.add_argument("--run", required=True, help="a `cedm train` run folder")
    ap.add_argument("--checkpoint", help="a checkpoint file of the run (default: the latest)")
    ap.add_argument("--cedm", default="./cedm", help="how to start cedm (default ./cedm)")
    ap.add_argument("--sigma", type=float, nargs="+", default=[0.02, 1.0, 20.0])
    ap.add_argument("--n", type=int, default=4, help="images per evaluation")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tolerance", type=float, default=1e-4, help="max |D_edm - D_cedm| / max(1, max |D_edm|)")
    args = ap.parse_args()

    import torch
    with open(os.path.join(args.run, "config.json")) as f:
        net_cfg = json.load(f)["network"]
    ckpt = args.checkpoint or latest_checkpoint(args.run)
    tensors = read_safetensors(ckpt)
    ema = {k[len("ema."):]: torch.from_numpy(v.copy()) for k, v in tensors.items() if k.startswith("ema.")}
    if not ema:
        raise SystemExit(f"{ckpt}: no ema.* tensors")
    net = build_edm(args.edm, net_cfg).eval()
    missing, unexpected = net.load_state_dict(ema, strict=False)
    bad_missing = [k for k in missing if not k.endswith("resample_filter")]
    print(f"{ckpt}: {len(ema)} EMA tensors; missing in the checkpoint: {len(missing)} "
          f"(all resample_filter buffers: {not bad_missing}); unexpected: {len(unexpected)}")
    if bad_missing or unexpected:
        print("missing:", bad_missing[:10], "unexpected:", unexpected[:10])
        return 1

    rng = np.random.default_rng(args.seed)
    c, r, k = net_cfg["in_channels"], net_cfg["resolution"], net_cfg["label_dim"]
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="cedm-edm-interop-") as tmp:
        for sigma in args.sigma:
            x = (rng.standard_normal((args.n, c, r, r)) * np.sqrt(1 + sigma ** 2)).astype(np.float32)
            xp, dp, lp = (os.path.join(tmp, n) for n in ("x.npy", "d.npy", "labels.npy"))
            np.save(xp, x)
            cmd = shlex.split(args.cedm) + ["denoise", args.run, "--x", xp, "--sigma", repr(sigma), "--out", dp, "--force"]
            labels = None
            if k > 0:
                labels = np.eye(k, dtype=np.float32)[rng.integers(0, k, args.n)]
                np.save(lp, labels)
                cmd += ["--labels", lp]
            if args.checkpoint:
                cmd += ["--checkpoint", args.checkpoint]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            d_cedm = np.load(dp)
            with torch.no_grad():
                d_edm = net(torch.from_numpy(x), torch.full([args.n], sigma),
                            None if labels is None else torch.from_numpy(labels)).numpy()
            err = float(np.abs(d_edm - d_cedm).max()) / max(1.0, float(np.abs(d_edm).max()))
            worst = max(worst, err)
            print(f"sigma {sigma:g}: max |D_edm - D_cedm| / max(1, max|D_edm|) = {err:.3g}  (max |D_edm| {np.abs(d_edm).max():.3g})")
    ok = worst <= args.tolerance
    print("OK: cedm's denoiser equals EDM's EDMPrecond on this checkpoint" if ok else f"MISMATCH: {worst:.3g} > {args.tolerance:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
