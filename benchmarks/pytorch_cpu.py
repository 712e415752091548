#!/usr/bin/env python3
"""The reference side of benchmarks/compare_pytorch.sh: PyTorch 1.13 (and numpy/OpenBLAS for GEMM) on
the CPU, timed like `rnngpu bench`, taking the same options and printing the same JSON line per result.

  --op rnn     nn.RNN(tanh, batch_first=True), nn.LSTM or nn.GRU (--cell), no head. infer: forward under no_grad;
               train: forward, MSE loss against a random target, backward, one SGD step (lr 1e-4).
  --op gemm    numpy float32 A [M, K] @ B [K, N] (OpenBLAS; set OPENBLAS_NUM_THREADS before starting).
  --op stream  one step of the cell under no_grad: x [B, 1, I] with the state carried, in microseconds.

Each timed iteration is measured on its own and the median is reported, like rnngpu's. --threads sets
torch.set_num_threads (default 2, both cores, as the engine's CPU back end uses). This torch build
(Debian's 1.13, BLAS_INFO=generic) does its products in the system BLAS, OpenBLAS with its own
OPENBLAS_NUM_THREADS threads, so --threads 1 still uses both cores for the GEMMs, and on a 2-core
machine is much faster than 2, whose OpenMP threads contend with OpenBLAS's: compare_pytorch.sh runs
both and compares with the faster. Run with /usr/bin/python3, which has torch 1.13 and numpy:

    /usr/bin/python3 benchmarks/pytorch_cpu.py --op rnn --batch 64 --seq 100 --input 64 --hidden 256
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 benchmarks/pytorch_cpu.py --op gemm --m 512 --n 512 --k 512
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch

DEFAULTS = {"rnn": (3, 10), "gemm": (3, 10), "step": (200, 2000), "stream": (1000, 20000)}  # (warmup, iters), as rnngpu's


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--op", choices=["rnn", "gemm", "stream"], default="rnn")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--input", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn")
    p.add_argument("--mode", choices=["train", "infer", "both"], default="both")
    p.add_argument("--m", type=int)
    p.add_argument("--n", type=int)
    p.add_argument("--k", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--iters", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-seconds", type=float, help="stop the warm-up and the timed iterations after this long each "
                   "(at least 3 timed): a thread setting that is 50x slower than the best (2 intra-op threads beside a "
                   "busy neighbour) then costs seconds, not minutes; the line's iters says how many ran")
    a = p.parse_args()
    warmup, iters = DEFAULTS[a.op]
    a.warmup = warmup if a.warmup is None else a.warmup
    a.iters = iters if a.iters is None else a.iters
    return a


MAX_SECONDS = None     # --max-seconds


def time_ms(warmup, iters, run):
    """Per-iteration times in ms, after the untimed warm-up; each phase cut short after MAX_SECONDS if set."""
    begin = time.perf_counter()
    for _ in range(warmup):
        run()
        if MAX_SECONDS is not None and time.perf_counter() - begin > MAX_SECONDS:
            break
    ms = []
    begin = time.perf_counter()
    for _ in range(iters):
        start = time.perf_counter()
        run()
        ms.append((time.perf_counter() - start) * 1e3)
        if MAX_SECONDS is not None and len(ms) >= 3 and time.perf_counter() - begin > MAX_SECONDS:
            break
    return ms


def significant(x, digits):
    return float(f"{x:.{digits}g}")


def line(a, backend, device, op, ms, flops, **fields):
    median = statistics.median(ms)
    return {"backend": backend, "device": device, "op": op, **fields, "iters": len(ms),
            "ms_per_iter": significant(median, 6), "ms_min": significant(min(ms), 6), "ms_max": significant(max(ms), 6),
            "gflops": significant(flops / (median * 1e6), 4)}


GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def step_flops(a, batch):
    """One step of every layer: 2*B*G*H*(in + H) per layer (G gates), as rnngpu counts."""
    g = GATES[a.cell]
    return sum(2.0 * batch * g * a.hidden * ((a.input if l == 0 else a.hidden) + a.hidden) for l in range(a.layers))


def make_cell(a):
    if a.cell == "lstm":
        return torch.nn.LSTM(a.input, a.hidden, a.layers, batch_first=True)
    if a.cell == "gru":
        return torch.nn.GRU(a.input, a.hidden, a.layers, batch_first=True)
    return torch.nn.RNN(a.input, a.hidden, a.layers, nonlinearity="tanh", batch_first=True)


def shape_fields(a, batch, seq):
    """The shape fields of rnngpu's line: an Elman cell's nonlinearity, or the cell."""
    fields = {"batch": batch, "seq": seq, "input": a.input, "hidden": a.hidden, "layers": a.layers, "output": 0}
    fields.update({"nonlinearity": "tanh"} if a.cell == "rnn" else {"cell": a.cell})
    return fields


def rnn_lines(a, device):
    rnn = make_cell(a)
    x = torch.rand(a.batch, a.seq, a.input) * 2 - 1
    y = torch.rand(a.batch, a.seq, a.hidden) * 2 - 1
    sgd = torch.optim.SGD(rnn.parameters(), lr=1e-4)
    shape = shape_fields(a, a.batch, a.seq)

    def infer():
        with torch.no_grad():
            rnn(x)

    def train():
        sgd.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(rnn(x)[0], y).backward()
        sgd.step()

    forward = a.seq * step_flops(a, a.batch)
    for mode in (["infer", "train"] if a.mode == "both" else [a.mode]):
        run, flops = (infer, forward) if mode == "infer" else (train, 3 * forward)
        yield line(a, "torch-cpu", device, "rnn", time_ms(a.warmup, a.iters, run), flops, mode=mode, **shape)


def gemm_line(a):
    m, n, k = a.m or a.batch * a.seq, a.n or a.hidden, a.k or a.input
    rng = np.random.default_rng(a.seed)
    left, right = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    ms = time_ms(a.warmup, a.iters, lambda: np.matmul(left, right, out=out))
    device = f"CPU, numpy {np.__version__} (OpenBLAS threads {os.environ.get('OPENBLAS_NUM_THREADS', 'default')})"
    return line(a, "numpy-openblas", device, "gemm", ms, 2.0 * m * n * k, m=m, n=n, k=k)


def stream_line(a, device):
    rnn = make_cell(a)
    x = torch.rand(a.batch, 1, a.input) * 2 - 1
    zeros = torch.zeros(a.layers, a.batch, a.hidden)
    state = {"h": (zeros, zeros.clone()) if a.cell == "lstm" else zeros}

    def step():
        with torch.no_grad():
            _, state["h"] = rnn(x, state["h"])

    ms = time_ms(a.warmup, a.iters, step)
    result = line(a, "torch-cpu", device, "stream", ms, step_flops(a, a.batch), mode="infer", **shape_fields(a, a.batch, 1))
    result["us_per_step"] = significant(statistics.median(ms) * 1e3, 4)
    return result


def main():
    global MAX_SECONDS
    a = parse_args()
    MAX_SECONDS = a.max_seconds
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    device = f"CPU, torch {torch.__version__} (intra-op threads {torch.get_num_threads()}, OpenBLAS threads {blas})"
    results = {"rnn": lambda: rnn_lines(a, device), "gemm": lambda: [gemm_line(a)], "stream": lambda: [stream_line(a, device)]}[a.op]()
    for result in results:
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
