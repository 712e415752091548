#!/usr/bin/python3
"""`rnngpu train` and `rnngpu run` on a back end, against PyTorch, on a shape no test uses.

    /usr/bin/python3 tools/check_against_pytorch.py --backend ilgpu-cpu [--cell rnn|lstm|gru]

A 2-layer bidirectional network (input 7, hidden 19, head 3): a relu nn.RNN, an nn.LSTM with proj_size 5,
or an nn.GRU, on a packed batch of 5 sequences of lengths 13, 9, 13, 4, 1:
1. `rnngpu train --backend cpu` for one tiny step writes the starting checkpoint;
2. `rnngpu train --backend B --init` it: 3 full-batch SGD steps (momentum 0.9, clip 1.0, MSE);
3. `rnngpu run --backend B` of the trained checkpoint on 4 new sequences of lengths 11, 2, 7, 11 (with
   the LSTM's --cell-state-output).
PyTorch 1.13 repeats 2 and 3 in float64 from the same starting weights (nn.RNN, pack_padded_sequence,
the masked mean squared error the engine documents, torch.optim.SGD, clip_grad_norm_), and the script
fails unless the trained weights agree within 1e-3 and the outputs and final states within 1e-4
(relative, with an absolute floor of 1e-6). Needs python3-torch and a built CLI
(dotnet build src/RnnGpu.Cli -c Release).
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "src/RnnGpu.Cli/bin/Release/net10.0/rnngpu")
I, H, L, O = 7, 19, 2, 3
TRAIN_LENGTHS = [13, 9, 13, 4, 1]
RUN_LENGTHS = [11, 2, 7, 11]
STEPS, LR, MOMENTUM, CLIP = 3, 0.1, 0.9, 1.0
P = 5   # the LSTM's projection


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    out = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(t["shape"]).astype(np.float64)
    return out


def rnngpu(*args):
    r = subprocess.run([CLI, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"rnngpu {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


def torch_model(cell, weights):
    kwargs = dict(num_layers=L, batch_first=True, bidirectional=True)
    if cell == "lstm":
        rnn = nn.LSTM(I, H, proj_size=P, **kwargs)
    elif cell == "gru":
        rnn = nn.GRU(I, H, **kwargs)
    else:
        rnn = nn.RNN(I, H, nonlinearity="relu", **kwargs)
    rnn = rnn.double()
    head = nn.Linear(2 * (P if cell == "lstm" else H), O).double()
    with torch.no_grad():
        for name, p in list(rnn.named_parameters()):
            p.copy_(torch.from_numpy(weights["rnn." + name]))
        head.weight.copy_(torch.from_numpy(weights["head.weight"]))
        head.bias.copy_(torch.from_numpy(weights["head.bias"]))
    return rnn, head


def forward(rnn, head, x, lengths):
    packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    out, final = rnn(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    mask = (torch.arange(x.shape[1])[None, :] < torch.tensor(lengths)[:, None]).double()
    return head(out) * mask[:, :, None], final, mask


def check(name, expected, actual, rtol):
    expected, actual = np.asarray(expected, np.float64), np.asarray(actual, np.float64)
    assert expected.shape == actual.shape, f"{name}: shape {actual.shape}, expected {expected.shape}"
    err = np.abs(actual - expected) / (np.abs(expected) + 1e-6 / rtol)
    worst = float(err.max()) if err.size else 0.0
    print(f"{name:28s} max relative difference {worst:.2e} (limit {rtol:g})")
    return worst <= rtol


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="ilgpu-cpu")
    ap.add_argument("--cell", default="rnn", choices=["rnn", "lstm", "gru"])
    args = ap.parse_args()
    backend, cell = args.backend, args.cell
    rng = np.random.default_rng(11)
    work = tempfile.mkdtemp(prefix="rnngpu-vs-torch-")
    p = lambda f: os.path.join(work, f)
    x = rng.standard_normal((5, 13, I)).astype(np.float32)
    y = rng.standard_normal((5, 13, O)).astype(np.float32)
    x2 = rng.standard_normal((4, 11, I)).astype(np.float32)
    np.save(p("x.npy"), x)
    np.save(p("y.npy"), y)
    np.save(p("x2.npy"), x2)
    np.save(p("l.npy"), np.array(TRAIN_LENGTHS, np.int32))
    np.save(p("l2.npy"), np.array(RUN_LENGTHS, np.int32))

    data = ["--inputs", p("x.npy"), "--targets", p("y.npy"), "--lengths", p("l.npy")]
    architecture = {"rnn": ["--nonlinearity", "relu"], "lstm": ["--cell", "lstm", "--proj-size", str(P)], "gru": ["--cell", "gru"]}[cell]
    rnngpu("train", *data, "--backend", "cpu", "--hidden", str(H), "--layers", str(L), "--bidirectional",
           *architecture, "--optimizer", "sgd", "--lr", "1e-4", "--epochs", "1", "--seed", "7", "--save", p("init.safetensors"))
    rnngpu("train", *data, "--backend", backend, "--init", p("init.safetensors"), "--optimizer", "sgd", "--lr", str(LR),
           "--momentum", str(MOMENTUM), "--clip", str(CLIP), "--epochs", str(STEPS), "--save", p("trained.safetensors"))
    rnngpu("run", "--backend", backend, "--model", p("trained.safetensors"), "--inputs", p("x2.npy"), "--lengths", p("l2.npy"),
           "--output", p("out.npy"), "--state-output", p("h.npy"), *(["--cell-state-output", p("c.npy")] if cell == "lstm" else []))

    rnn, head = torch_model(cell, read_safetensors(p("init.safetensors")))
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x).double(), torch.from_numpy(y).double()
    for _ in range(STEPS):
        opt.zero_grad()
        pred, _, mask = forward(rnn, head, xt, TRAIN_LENGTHS)
        loss = ((pred - yt * mask[:, :, None]) ** 2).sum() / (mask.sum() * O)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()

    ok = True
    trained = read_safetensors(p("trained.safetensors"))
    init = read_safetensors(p("init.safetensors"))
    moved = max(float(np.abs(trained[n] - init[n]).max()) for n in init)
    print(f"training moved the weights by up to {moved:.3f}")
    ok &= moved > 1e-2   # else the comparison of trained weights would say nothing
    names = ["rnn." + n for n, _ in rnn.named_parameters()] + ["head.weight", "head.bias"]
    for name, param in zip(names, params):
        ok &= check(f"train: {name}", param.detach().numpy(), trained[name], 1e-3)
    with torch.no_grad():
        out, final, _ = forward(rnn, head, torch.from_numpy(x2).double(), RUN_LENGTHS)
    h_n, c_n = final if cell == "lstm" else (final, None)
    ok &= check("run: outputs", out.numpy(), np.load(p("out.npy")), 1e-4)
    ok &= check("run: final states", h_n.numpy(), np.load(p("h.npy")), 1e-4)
    if c_n is not None:
        ok &= check("run: final cell states", c_n.numpy(), np.load(p("c.npy")), 1e-4)
    print(f"{backend} {cell}: {'matches' if ok else 'DOES NOT MATCH'} PyTorch {torch.__version__} ({work})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
