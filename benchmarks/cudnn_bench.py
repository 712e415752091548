#!/usr/bin/env python3
"""PyTorch's nn.RNN, nn.LSTM or nn.GRU (--cell; cuDNN on a GPU) timed like `rnngpu bench`, for the comparison in docs/cuda.md.

Same model, shapes, modes and JSON line per mode as `rnngpu bench`:
  infer: the forward pass of nn.RNN (+ the nn.Linear head when --output > 0) on a [B, T, I] batch;
  train: forward, MSE loss against a random target, backward (BPTT), one SGD step (lr 1e-4).
By default every iteration starts from host tensors and ends with the result on the host, as
`rnngpu bench` does (its model.Forward and Trainer.Step copy the batch in and the outputs or the loss
out); --resident keeps the batch on the device and only synchronizes, to time the kernels alone.
GFLOP/s uses rnngpu's count: 2*T*B*(I*H + H*H) per layer (+ 2*T*B*H*O for the head), train 3x.

    python3 benchmarks/cudnn_bench.py --batch 32 --seq 64 --input 64 --hidden 256            # GPU, cuDNN, fp32
    python3 benchmarks/cudnn_bench.py --batch 32 --seq 64 --input 64 --hidden 256 --tf32 on  # cuDNN with TF32
    python3 benchmarks/cudnn_bench.py --device cpu --iters 3                                  # CPU check
"""
import argparse
import json
import statistics
import time

import torch


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--input", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--output", type=int, default=0, help="head output size (0: no head)")
    p.add_argument("--nonlinearity", choices=["tanh", "relu"], default="tanh")
    p.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn")
    p.add_argument("--mode", choices=["train", "infer", "both"], default="both")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cuda, cuda:N or cpu")
    p.add_argument("--resident", action="store_true", help="keep the batch on the device (time the kernels only)")
    p.add_argument("--tf32", choices=["on", "off"], default="off",
                   help="cuDNN and cuBLAS may use TF32 tensor cores for fp32 (PyTorch's default for cuDNN is on; "
                        "rnngpu computes in full fp32, so off is the like-for-like comparison)")
    args = p.parse_args()
    for name in ("batch", "seq", "input", "hidden", "layers", "iters"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.output < 0 or args.warmup < 0:
        p.error("--output and --warmup cannot be negative")
    return args


def forward_flops(a):
    """As rnngpu bench counts: 2 T B G H (in_l + H) per layer (G gates), plus the head."""
    tb = float(a.seq) * a.batch
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[a.cell]
    flops = 0.0
    for layer in range(a.layers):
        inputs = a.input if layer == 0 else a.hidden
        flops += 2 * tb * gates * a.hidden * (inputs + a.hidden)
    if a.output > 0:
        flops += 2 * tb * a.hidden * a.output
    return flops


def significant(x, digits):
    return float(f"{x:.{digits}g}")


def main():
    a = parse_args()
    device = torch.device(a.device)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = a.tf32 == "on"
    torch.manual_seed(a.seed)
    if a.cell == "lstm":
        rnn = torch.nn.LSTM(a.input, a.hidden, a.layers, batch_first=True).to(device)
    elif a.cell == "gru":
        rnn = torch.nn.GRU(a.input, a.hidden, a.layers, batch_first=True).to(device)
    else:
        rnn = torch.nn.RNN(a.input, a.hidden, a.layers, nonlinearity=a.nonlinearity, batch_first=True).to(device)
    head = torch.nn.Linear(a.hidden, a.output).to(device) if a.output > 0 else None
    params = list(rnn.parameters()) + (list(head.parameters()) if head is not None else [])
    width = a.output if a.output > 0 else a.hidden
    x_host = torch.rand(a.batch, a.seq, a.input) * 2 - 1
    y_host = torch.rand(a.batch, a.seq, width) * 2 - 1
    if device.type == "cuda":
        x_host, y_host = x_host.pin_memory(), y_host.pin_memory()
    x_dev, y_dev = x_host.to(device), y_host.to(device)
    sgd = torch.optim.SGD(params, lr=1e-4)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def model(x):
        out, _ = rnn(x)
        return head(out) if head is not None else out

    def infer():
        with torch.no_grad():
            if a.resident:
                model(x_dev)
                sync()
            else:
                model(x_host.to(device, non_blocking=True)).cpu()

    def train():
        x, y = (x_dev, y_dev) if a.resident else (x_host.to(device, non_blocking=True), y_host.to(device, non_blocking=True))
        sgd.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        sgd.step()
        if a.resident:
            sync()
        else:
            loss.item()

    if device.type == "cuda":
        backend, name = "cudnn" if torch.backends.cudnn.is_available() else "torch-cuda", torch.cuda.get_device_name(device)
    else:
        backend, name = "torch-cpu", f"CPU ({torch.get_num_threads()} threads)"

    modes = ["infer", "train"] if a.mode == "both" else [a.mode]
    for mode in modes:
        run = infer if mode == "infer" else train
        for _ in range(a.warmup):
            run()
        sync()
        ms = []
        for _ in range(a.iters):
            start = time.perf_counter()
            run()
            ms.append((time.perf_counter() - start) * 1e3)
        median = statistics.median(ms)
        flops = forward_flops(a) * (3 if mode == "train" else 1)
        print(json.dumps({
            "backend": backend, "device": name, "mode": mode, "batch": a.batch, "seq": a.seq, "input": a.input,
            "hidden": a.hidden, "layers": a.layers, "output": a.output,
            **({"nonlinearity": a.nonlinearity} if a.cell == "rnn" else {"cell": a.cell}),
            "iters": a.iters, "ms_per_iter": significant(median, 6), "ms_min": significant(min(ms), 6),
            "ms_max": significant(max(ms), 6), "gflops": significant(flops / (median * 1e6), 4),
            "resident": a.resident, "tf32": a.tf32, "torch": torch.__version__,
        }), flush=True)


if __name__ == "__main__":
    main()
