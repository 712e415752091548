#!/usr/bin/python3
"""Golden fixtures for whole LSTM and GRU models (issue 14): PyTorch 1.13's nn.LSTM (with and without
proj_size) or nn.GRU with an nn.Linear head, in float64: forward, loss, every gradient, and two
optimizer steps (with clipping where the case says), as make_golden.py does for nn.RNN.

    /usr/bin/python3 make_golden_cell_models.py            # (re)write cellmodel_*.safetensors here
    /usr/bin/python3 make_golden_cell_models.py --verify   # re-read them, recompute, compare

The tensors are make_golden.py's (rnn.*, head.*, input, h0, target, output, h_n, loss, grad.*,
grad.input, grad.h0, clip.total_norm, step1.*, step2.*, step2.loss) and make_golden_sequences.py's
lengths, plus an LSTM's c0, c_n and grad.c0. The losses over packed batches and many-to-one heads are
make_golden_sequences.py's. Metadata adds cell and proj_size to theirs.
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
import make_golden as mg            # noqa: E402  (writer, reader, optimizers)
import make_golden_sequences as gs  # noqa: E402  (masked losses)

BASE = dict(nonlinearity="tanh", weight_decay="0", clip="none", momentum="0", betas="0.9,0.999", eps="1e-08")
CASES = [dict(BASE, **c) for c in [
    dict(name="cellmodel_lstm_1layer_mse", seed=4001, cell="lstm", proj_size=0, num_layers=1, input_size=3, hidden_size=5,
         output_size=4, batch=3, time=6, bidirectional=False, task="many_to_many", lengths=None, loss="mse",
         optimizer="sgd", lr="0.1", momentum="0.9"),
    dict(name="cellmodel_lstm_proj_2layer_ce", seed=4002, cell="lstm", proj_size=3, num_layers=2, input_size=4, hidden_size=6,
         output_size=5, batch=2, time=5, bidirectional=False, task="many_to_many", lengths=None, loss="ce",
         optimizer="adam", lr="0.01", clip="0.5"),
    dict(name="cellmodel_lstm_bidi_packed_mse", seed=4003, cell="lstm", proj_size=0, num_layers=2, input_size=3, hidden_size=4,
         output_size=2, batch=3, time=5, bidirectional=True, task="many_to_many", lengths=[5, 2, 4], loss="mse",
         optimizer="sgd", lr="0.05", weight_decay="0.01"),
    dict(name="cellmodel_lstm_many_to_one_ce", seed=4004, cell="lstm", proj_size=2, num_layers=1, input_size=3, hidden_size=5,
         output_size=3, batch=4, time=4, bidirectional=True, task="many_to_one", lengths=[4, 1, 3, 2], loss="ce",
         optimizer="adam", lr="0.02", clip="1.0"),
    dict(name="cellmodel_gru_2layer_ce", seed=4005, cell="gru", proj_size=0, num_layers=2, input_size=5, hidden_size=6,
         output_size=4, batch=2, time=7, bidirectional=False, task="many_to_many", lengths=None, loss="ce",
         optimizer="adam", lr="0.01", clip="0.5"),
    dict(name="cellmodel_gru_bidi_packed_mse", seed=4006, cell="gru", proj_size=0, num_layers=1, input_size=4, hidden_size=5,
         output_size=3, batch=3, time=6, bidirectional=True, task="many_to_many", lengths=[3, 6, 1], loss="mse",
         optimizer="sgd", lr="0.1", momentum="0.5"),
    dict(name="cellmodel_gru_many_to_one_mse", seed=4007, cell="gru", proj_size=0, num_layers=2, input_size=3, hidden_size=4,
         output_size=2, batch=3, time=5, bidirectional=False, task="many_to_one", lengths=[5, 3, 4], loss="mse",
         optimizer="sgd", lr="0.2"),
]]


def directions(case):
    return 2 if case["bidirectional"] else 1


def state_size(case):
    return case["proj_size"] or case["hidden_size"]


def build_modules(case):
    kwargs = dict(num_layers=case["num_layers"], batch_first=True, bidirectional=case["bidirectional"])
    if case["cell"] == "lstm":
        rnn = nn.LSTM(case["input_size"], case["hidden_size"], proj_size=case["proj_size"], **kwargs)
    else:
        rnn = nn.GRU(case["input_size"], case["hidden_size"], **kwargs)
    return rnn, nn.Linear(directions(case) * state_size(case), case["output_size"])


def forward(case, rnn, head, x, h0, c0, target):
    """(stored output, h_n, c_n or None, loss), the losses of make_golden_sequences.py."""
    mask = gs.step_mask(case)
    state = (h0, c0) if c0 is not None else h0
    if case["lengths"] is not None:
        packed = pack_padded_sequence(x, torch.tensor(case["lengths"]), batch_first=True, enforce_sorted=False)
        out, final = rnn(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=case["time"])
    else:
        out, final = rnn(x, state)
    h_n, c_n = final if c0 is not None else (final, None)
    if case["task"] == "many_to_one":
        y = head(torch.cat([h_n[-2], h_n[-1]], dim=1) if case["bidirectional"] else h_n[-1])
        return y, h_n, c_n, gs.loss_from_logits(case, y, target, mask)
    y = head(out)
    loss = gs.loss_from_logits(case, y, target, mask)
    return y.masked_fill(mask.unsqueeze(2) == 0, 0.0), h_n, c_n, loss


def train_step(case, rnn, head, opt, x, h0, c0, target):
    opt.zero_grad()
    x, h0 = (t.detach().clone().requires_grad_(True) for t in (x, h0))
    c0 = c0.detach().clone().requires_grad_(True) if c0 is not None else None
    y, h_n, c_n, loss = forward(case, rnn, head, x, h0, c0, target)
    loss.backward()
    params = mg.named_params(rnn, head)
    res = OrderedDict(output=y.detach().clone(), h_n=h_n.detach().clone())
    if c_n is not None:
        res["c_n"] = c_n.detach().clone()
    res["loss"] = loss.detach().clone().reshape(1)
    for n, q in params:
        res["grad." + n] = q.grad.detach().clone()
    res["grad.input"], res["grad.h0"] = x.grad.detach().clone(), h0.grad.detach().clone()
    if c0 is not None:
        res["grad.c0"] = c0.grad.detach().clone()
    if case["clip"] != "none":
        res["clip.total_norm"] = torch.nn.utils.clip_grad_norm_([q for _, q in params], max_norm=float(case["clip"])).detach().clone().reshape(1)
    opt.step()
    return res


def run_case(case, init, x, h0, c0, target):
    rnn, head = build_modules(case)
    rnn, head = rnn.double(), head.double()
    with torch.no_grad():
        for name, q in mg.named_params(rnn, head):
            q.copy_(init[name].double())
    params = mg.named_params(rnn, head)
    opt = mg.make_optimizer(case, [q for _, q in params])
    c0 = c0.double() if c0 is not None else None
    res = train_step(case, rnn, head, opt, x.double(), h0.double(), c0, target.double())
    for n, q in params:
        res["step1." + n] = q.detach().clone()
    second = train_step(case, rnn, head, opt, x.double(), h0.double(), c0, target.double())
    for n, q in params:
        res["step2." + n] = q.detach().clone()
    res["step2.loss"] = second["loss"]
    return res


def generate_case(case):
    """Seeded PyTorch default init (float32) and data; RNG order: the cell, the head, x, h0, c0, target."""
    torch.manual_seed(case["seed"])
    B, T, I, O = case["batch"], case["time"], case["input_size"], case["output_size"]
    groups = case["num_layers"] * directions(case)
    rnn, head = build_modules(case)
    init = OrderedDict((n, q.detach().clone().float()) for n, q in mg.named_params(rnn, head))
    x = torch.randn(B, T, I, dtype=torch.float32)
    h0 = 0.5 * torch.randn(groups, B, state_size(case), dtype=torch.float32)
    c0 = 0.5 * torch.randn(groups, B, case["hidden_size"], dtype=torch.float32) if case["cell"] == "lstm" else None
    shape = (B, T) if case["task"] == "many_to_many" else (B,)
    target = torch.randn(*shape, O, dtype=torch.float32) if case["loss"] == "mse" else torch.randint(0, O, shape).to(torch.float32)
    return init, x, h0, c0, target


def case_metadata(case):
    md = gs.case_metadata(case)
    md["cell"] = case["cell"]
    md["proj_size"] = str(case["proj_size"])
    return md


def tensors_of(case):
    init, x, h0, c0, target = generate_case(case)
    t = OrderedDict((n, q.numpy()) for n, q in init.items())
    t["input"], t["h0"] = x.numpy(), h0.numpy()
    if c0 is not None:
        t["c0"] = c0.numpy()
    if case["lengths"] is not None:
        t["lengths"] = np.array(case["lengths"], dtype=np.float32)
    t["target"] = target.numpy()
    for n, v in run_case(case, init, x, h0, c0, target).items():
        t[n] = v.to(torch.float32).numpy()
    return t


def path(case):
    return os.path.join(HERE, case["name"] + ".safetensors")


if __name__ == "__main__":
    for case in CASES:
        t = tensors_of(case)
        if "--verify" in sys.argv[1:]:
            md, stored = mg.read_safetensors(path(case))
            assert set(stored) == set(t), (case["name"], set(stored) ^ set(t))
            worst = max(float(np.max(np.abs(stored[n].reshape(-1) - v.reshape(-1)) / np.maximum(1, np.abs(v.reshape(-1))))) for n, v in t.items())
            assert worst <= 1e-6, (case["name"], worst)
            print(f"{case['name']:34s} OK (max rel err {worst:.1e})")
        else:
            mg.write_safetensors(path(case), t, case_metadata(case))
            print(f"wrote {path(case)} ({os.path.getsize(path(case))} bytes)")
