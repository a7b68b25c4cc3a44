"""Shared helpers for the PyTorch peers of the cedm benchmark harness (bench/Cedm.Benchmarks).

Timing mirrors bench/Cedm.Benchmarks/Harness/Timing.cs exactly: one warm-up call, calibrate the number of
calls per sample so a sample lasts >= --sample-ms, one warm-up sample, then --repeats samples; report
min/median/max milliseconds per call as one JSON line per case.
"""
import argparse
import json
import math
import statistics
import sys
import time


def setup():
    """Parses the harness arguments and imports torch with the requested thread count."""
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sample-ms", type=float, default=50.0)
    p.add_argument("--cases", default=None, help="comma-separated case names to run (default: all)")
    args = p.parse_args()
    try:
        import torch
    except ImportError as e:  # the harness turns this into "peer unavailable" + install hint
        print(json.dumps({"error": f"cannot import torch ({e})"}), flush=True)
        sys.exit(3)
    # Intra-op threads = ours; the harness sets OPENBLAS_NUM_THREADS=1 so BLAS does not add its own.
    torch.set_num_threads(args.threads)
    import os
    core = os.environ.get("OPENBLAS_CORETYPE", "auto-detected")
    print(json.dumps({"info": f"torch {torch.__version__}, threads {torch.get_num_threads()}, OPENBLAS_CORETYPE {core}"}), flush=True)
    return args, torch


LONG_CALL_MS = 5000.0


def _sample(fn, iterations):
    start = time.perf_counter()
    for _ in range(iterations):
        fn()
    return (time.perf_counter() - start) * 1000.0


def selected(name, args):
    """False when the harness passed --cases (bench --case filter) and this case is not among them."""
    cases = getattr(args, "cases", None)
    return cases is None or name in cases.split(",")


def time_case(name, fn, args):
    if not selected(name, args):
        return
    first = _sample(fn, 1)
    iterations = max(1, math.ceil(args.sample_ms / max(first, 1e-3)))
    if first < LONG_CALL_MS:  # whole fits that take seconds are warm after one call (same rule in Timing.cs)
        _sample(fn, iterations)
    per_call = sorted(_sample(fn, iterations) / iterations for _ in range(args.repeats))
    print(json.dumps({
        "case": name,
        "min_ms": per_call[0],
        "median_ms": statistics.median(per_call),
        "max_ms": per_call[-1],
        "iterations": iterations,
        "repeats": args.repeats,
    }), flush=True)
