#!/usr/bin/python3
"""Golden fixtures for the LSTM and GRU cells (issue 14): PyTorch 1.13's nn.LSTM (with and without
proj_size) and nn.GRU in float64, forward and gradients, for the engine's float64 reference cells
(ReferenceCellTests) and, later, for its kernels.

    /usr/bin/python3 make_golden_cells.py            # (re)write cell_*.safetensors here
    /usr/bin/python3 make_golden_cells.py --verify   # re-read them, recompute, compare

Each case: `nn.LSTM` or `nn.GRU(I, H, num_layers=L, batch_first=True, bidirectional=...)`, random
parameters, input x [B, T, I], initial state h0 [L*D, B, H or P] (and c0 [L*D, B, H] for an LSTM).
With lengths, x goes through pack_padded_sequence(enforce_sorted=False) and the output is padded back
to T with zeros. The scalar loss is sum(output * R) + sum(h_n * Rh) (+ sum(c_n * Rc)) for random
weights R, Rh, Rc stored in the file, so every output and final state carries a gradient.

Tensors (float32 on disk, computed in float64): the parameters under PyTorch's names with the prefix
"rnn." (rnn.weight_ih_l0, rnn.weight_hr_l0 with a projection, ..._reverse), x, h0, c0, lengths (as
floats; absent when every sequence runs T steps), R, Rh, Rc, output, h_n, c_n, loss, and the
gradients as "grad." + the name (grad.rnn.weight_ih_l0, ..., grad.x, grad.h0, grad.c0). Metadata:
cell, input_size, hidden_size, proj_size, num_layers, bidirectional, batch, time.
"""

import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import make_golden as mg  # noqa: E402  (the safetensors writer and reader)

CASES = [
    dict(name="cell_lstm_1layer", seed=3001, cell="lstm", input_size=3, hidden_size=4, proj_size=0,
         num_layers=1, bidirectional=False, batch=2, time=5, lengths=None),
    dict(name="cell_lstm_proj_bidi_packed", seed=3002, cell="lstm", input_size=3, hidden_size=5, proj_size=3,
         num_layers=2, bidirectional=True, batch=3, time=4, lengths=[4, 2, 3]),
    dict(name="cell_gru_2layer", seed=3003, cell="gru", input_size=4, hidden_size=5, proj_size=0,
         num_layers=2, bidirectional=False, batch=2, time=6, lengths=None),
    dict(name="cell_gru_bidi_packed", seed=3004, cell="gru", input_size=3, hidden_size=4, proj_size=0,
         num_layers=1, bidirectional=True, batch=3, time=5, lengths=[5, 1, 3]),
]


def compute(case, params=None, x=None, h0=None, c0=None, weights=None):
    """Runs the case in float64; returns OrderedDict of every tensor the fixture stores."""
    torch.manual_seed(case["seed"])
    rng = np.random.default_rng(case["seed"])
    lstm = case["cell"] == "lstm"
    kwargs = dict(num_layers=case["num_layers"], batch_first=True, bidirectional=case["bidirectional"])
    if lstm and case["proj_size"]:
        kwargs["proj_size"] = case["proj_size"]
    rnn = (nn.LSTM if lstm else nn.GRU)(case["input_size"], case["hidden_size"], **kwargs).double()
    if params is not None:
        with torch.no_grad():
            for name, p in rnn.named_parameters():
                p.copy_(torch.from_numpy(params["rnn." + name]))
    B, T, H = case["batch"], case["time"], case["hidden_size"]
    D, L = (2 if case["bidirectional"] else 1), case["num_layers"]
    out_h = case["proj_size"] or H
    rand = lambda *shape: torch.from_numpy(rng.uniform(-1, 1, shape))
    x = torch.from_numpy(x) if x is not None else rand(B, T, case["input_size"])
    h0 = torch.from_numpy(h0) if h0 is not None else rand(L * D, B, out_h) * 0.5
    c0 = (torch.from_numpy(c0) if c0 is not None else rand(L * D, B, H) * 0.5) if lstm else None
    R = torch.from_numpy(weights["R"]) if weights else rand(B, T, D * out_h)
    Rh = torch.from_numpy(weights["Rh"]) if weights else rand(L * D, B, out_h)
    Rc = (torch.from_numpy(weights["Rc"]) if weights else rand(L * D, B, H)) if lstm else None
    for t in (x, h0) + ((c0,) if lstm else ()):
        t.requires_grad_(True)

    state = (h0, c0) if lstm else h0
    if case["lengths"] is None:
        output, final = rnn(x, state)
    else:
        packed = pack_padded_sequence(x, torch.tensor(case["lengths"]), batch_first=True, enforce_sorted=False)
        output, final = rnn(packed, state)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=T)
    h_n, c_n = final if lstm else (final, None)
    loss = (output * R).sum() + (h_n * Rh).sum() + ((c_n * Rc).sum() if lstm else 0)
    loss.backward()

    t = OrderedDict()
    for name, p in rnn.named_parameters():
        t["rnn." + name] = p.detach().numpy()
    t["x"], t["h0"] = x.detach().numpy(), h0.detach().numpy()
    if lstm:
        t["c0"] = c0.detach().numpy()
    if case["lengths"] is not None:
        t["lengths"] = np.array(case["lengths"], dtype=np.float64)
    t["R"], t["Rh"] = R.numpy(), Rh.numpy()
    if lstm:
        t["Rc"] = Rc.numpy()
    t["output"], t["h_n"] = output.detach().numpy(), h_n.detach().numpy()
    if lstm:
        t["c_n"] = c_n.detach().numpy()
    t["loss"] = np.array([loss.item()])
    for name, p in rnn.named_parameters():
        t["grad.rnn." + name] = p.grad.numpy()
    t["grad.x"], t["grad.h0"] = x.grad.numpy(), h0.grad.numpy()
    if lstm:
        t["grad.c0"] = c0.grad.numpy()
    return t


def metadata(case):
    keys = ["cell", "input_size", "hidden_size", "proj_size", "num_layers", "bidirectional", "batch", "time"]
    return {k: str(case[k]).lower() if isinstance(case[k], bool) else str(case[k]) for k in keys}


def path(case):
    return os.path.join(HERE, case["name"] + ".safetensors")


def generate():
    for case in CASES:
        mg.write_safetensors(path(case), compute(case), metadata(case))
        print("wrote", path(case))


def verify(tol=1e-5):
    """Recomputes each case from the stored parameters and inputs (float32 on disk) and compares."""
    for case in CASES:
        md, t = mg.read_safetensors(path(case))
        assert md == metadata(case), (case["name"], md)
        f64 = {k: v.astype(np.float64) for k, v in t.items()}
        params = {k: v for k, v in f64.items() if k.startswith("rnn.")}
        weights = {k: f64[k] for k in ("R", "Rh", "Rc") if k in f64}
        again = compute(case, params, f64["x"], f64["h0"], f64.get("c0"), weights)
        for k, v in again.items():
            assert np.allclose(v, f64[k], rtol=tol, atol=tol), (case["name"], k, np.abs(v - f64[k]).max())
        print("verified", case["name"])


if __name__ == "__main__":
    verify() if "--verify" in sys.argv else generate()
