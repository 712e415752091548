#!/usr/bin/python3
"""Golden fixtures for bidirectional RNNs, variable-length (packed) batches and
many-to-one heads.  It shares the safetensors writer/reader and the optimizer helpers
with make_golden.py, and it runs from there too: `make_golden.py` and
`make_golden.py --verify` process these cases after the original five.

Run with Debian's Python, which has PyTorch 1.13:

    /usr/bin/python3 make_golden_sequences.py            # (re)write only these cases
    /usr/bin/python3 make_golden_sequences.py --verify   # re-read them, recompute, compare

The model is `nn.RNN(I, H, num_layers=L, nonlinearity=..., batch_first=True,
bidirectional=...)` followed by `nn.Linear(D*H, O)` (D = 2 when bidirectional), in
float64.  With lengths, the batch goes through
`pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)` and
`pad_packed_sequence(..., batch_first=True, total_length=T)`.  See README.md.

Besides PyTorch's own computation, every case is recomputed by `manual_forward`, a
plain masked time loop written from the README's description, and its output, h_n,
loss and all gradients must agree with PyTorch's to 1e-10.  That checks that the
documented semantics are what PyTorch does.
"""

import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import make_golden as mg  # noqa: E402  (writer, reader, optimizer, metadata helpers)

# --------------------------------------------------------------------------------------
# Cases.  bidirectional: bool; task: many_to_many (head at every step, output [B,T,O])
# or many_to_one (head on the top layer's final state, output [B,O]); lengths: None
# (every sequence has length T) or a list of B lengths in batch order, not sorted.
# --------------------------------------------------------------------------------------
CASES = [
    dict(name="bidi_1layer_mse", seed=2001, num_layers=1, nonlinearity="tanh",
         bidirectional=True, task="many_to_many", lengths=None,
         input_size=3, hidden_size=5, output_size=4, batch=2, time=6, loss="mse",
         optimizer="sgd", lr="0.1", momentum="0.9", weight_decay="0", clip="none"),
    dict(name="bidi_2layer_relu_ce", seed=2002, num_layers=2, nonlinearity="relu",
         bidirectional=True, task="many_to_many", lengths=None,
         input_size=4, hidden_size=6, output_size=5, batch=3, time=5, loss="ce",
         optimizer="adam", lr="0.01", weight_decay="0", betas="0.9,0.999", eps="1e-08",
         clip="0.5"),
    dict(name="packed_2layer_mse", seed=2003, num_layers=2, nonlinearity="tanh",
         bidirectional=False, task="many_to_many", lengths=[7, 3, 5, 1],
         input_size=3, hidden_size=5, output_size=2, batch=4, time=7, loss="mse",
         optimizer="sgd", lr="0.1", momentum="0.9", weight_decay="0", clip="none"),
    dict(name="packed_bidi_ce", seed=2004, num_layers=1, nonlinearity="tanh",
         bidirectional=True, task="many_to_many", lengths=[2, 6, 4],
         input_size=5, hidden_size=4, output_size=3, batch=3, time=6, loss="ce",
         optimizer="adam", lr="0.01", weight_decay="0", betas="0.9,0.999", eps="1e-08",
         clip="none"),
    dict(name="many_to_one_mse", seed=2005, num_layers=2, nonlinearity="tanh",
         bidirectional=False, task="many_to_one", lengths=[5, 2, 4, 3],
         input_size=3, hidden_size=6, output_size=2, batch=4, time=5, loss="mse",
         optimizer="sgd", lr="0.05", momentum="0", weight_decay="0", clip="none"),
    dict(name="many_to_one_bidi_ce", seed=2006, num_layers=1, nonlinearity="relu",
         bidirectional=True, task="many_to_one", lengths=None,
         input_size=4, hidden_size=5, output_size=3, batch=3, time=4, loss="ce",
         optimizer="adam", lr="0.01", weight_decay="0", betas="0.9,0.999", eps="1e-08",
         clip="none"),
]


def num_directions(case):
    return 2 if case["bidirectional"] else 1


def build_modules(case):
    L, I, H, O = (case[k] for k in ("num_layers", "input_size", "hidden_size", "output_size"))
    rnn = nn.RNN(I, H, num_layers=L, nonlinearity=case["nonlinearity"], batch_first=True,
                 bidirectional=case["bidirectional"])
    head = nn.Linear(num_directions(case) * H, O)
    return rnn, head


def step_mask(case):
    """[B, T] float64 mask, 1 at real steps (t < len_b), 0 at padded steps."""
    B, T = case["batch"], case["time"]
    lengths = case["lengths"] if case["lengths"] is not None else [T] * B
    return (torch.arange(T).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)).double()


# --------------------------------------------------------------------------------------
# Forward + loss, PyTorch's way.
# --------------------------------------------------------------------------------------

def loss_from_logits(case, y, target, mask):
    """mask: [B, T] (many_to_many only)."""
    B, T, O = case["batch"], case["time"], case["output_size"]
    if case["task"] == "many_to_one":
        if case["loss"] == "mse":
            return nn.MSELoss()(y, target)                                  # mean over B*O
        if case["loss"] == "ce":
            return nn.CrossEntropyLoss()(y, target.long())                  # mean over B
        raise ValueError(case["loss"])
    if case["lengths"] is None:
        return mg.compute_loss(case, y, target)                              # as in make_golden
    # Packed: the mean over real positions only.
    if case["loss"] == "mse":
        m = mask.unsqueeze(2)                                                # [B, T, 1]
        return ((y - target) ** 2 * m).sum() / (m.sum() * O)
    if case["loss"] == "ce":
        per = F.cross_entropy(y.reshape(B * T, O), target.reshape(B * T).long(),
                              reduction="none").reshape(B, T)
        return (per * mask).sum() / mask.sum()
    raise ValueError(case["loss"])


def torch_forward(case, rnn, head, x, h0, target):
    """Returns (stored output, h_n, loss)."""
    T = case["time"]
    mask = step_mask(case)
    if case["lengths"] is not None:
        lengths = torch.tensor(case["lengths"], dtype=torch.int64)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out_p, h_n = rnn(packed, h0)
        out, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)  # pads with 0
    else:
        out, h_n = rnn(x, h0)
    if case["task"] == "many_to_one":
        if case["bidirectional"]:
            feat = torch.cat([h_n[-2], h_n[-1]], dim=1)   # top layer: forward, then reverse
        else:
            feat = h_n[-1]
        y = head(feat)
        return y, h_n, loss_from_logits(case, y, target, mask)
    y = head(out)   # at padded steps this is head.bias (out is 0 there)
    loss = loss_from_logits(case, y, target, mask)
    # Stored output: padded steps set to +0.0 (masked_fill, so no -0.0 from y * 0).
    return y.masked_fill(mask.unsqueeze(2) == 0, 0.0), h_n, loss


# --------------------------------------------------------------------------------------
# Independent reference: a masked time loop written from the README's description.
# --------------------------------------------------------------------------------------

def manual_forward(case, p, x, h0, target):
    """p: name -> float64 tensor (fixture names).  Same returns as torch_forward."""
    L, H = case["num_layers"], case["hidden_size"]
    B, T = case["batch"], case["time"]
    D = num_directions(case)
    act = torch.tanh if case["nonlinearity"] == "tanh" else torch.relu
    mask = step_mask(case)                                   # [B, T]
    layer_in = x
    finals = []
    for k in range(L):
        outs = []
        for d in range(D):
            sfx = "_reverse" if d == 1 else ""
            w_ih, w_hh = p[f"rnn.weight_ih_l{k}{sfx}"], p[f"rnn.weight_hh_l{k}{sfx}"]
            b_ih, b_hh = p[f"rnn.bias_ih_l{k}{sfx}"], p[f"rnn.bias_hh_l{k}{sfx}"]
            h = h0[k * D + d]
            o = [None] * T
            order = range(T) if d == 0 else range(T - 1, -1, -1)
            for t in order:
                m = mask[:, t:t + 1]
                h_new = act(layer_in[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
                h = m * h_new + (1 - m) * h          # padded step: state is carried unchanged
                o[t] = m * h                         # padded step: output 0
            finals.append(h)
            outs.append(torch.stack(o, dim=1))       # [B, T, H]
        layer_in = torch.cat(outs, dim=2)            # [B, T, D*H]: forward, then reverse
    h_n = torch.stack(finals, dim=0)                 # [L*D, B, H]
    w, b = p["head.weight"], p["head.bias"]
    if case["task"] == "many_to_one":
        feat = torch.cat([h_n[(L - 1) * D + d] for d in range(D)], dim=1)
        y = feat @ w.T + b
        return y, h_n, loss_from_logits(case, y, target, mask)
    y = layer_in @ w.T + b
    if case["lengths"] is None:
        loss = loss_from_logits(case, y, target, mask)
    else:
        # Written out again instead of reusing loss_from_logits' packed branch.
        m = mask.unsqueeze(2)
        if case["loss"] == "mse":
            loss = ((y - target) ** 2 * m).sum() / (m.sum() * case["output_size"])
        else:
            logp = torch.log_softmax(y, dim=2)
            nll = -logp.gather(2, target.long().unsqueeze(2)).squeeze(2)
            loss = (nll * mask).sum() / mask.sum()
    return y * mask.unsqueeze(2), h_n, loss


def check_against_manual(case, rnn, head, x, h0, target, r, tol=1e-10):
    """r: train_step result from PyTorch.  Recompute with manual_forward and compare."""
    p = OrderedDict((n, q.detach().clone().requires_grad_(True))
                    for n, q in mg.named_params(rnn, head))
    xx = x.detach().clone().requires_grad_(True)
    hh = h0.detach().clone().requires_grad_(True)
    y, h_n, loss = manual_forward(case, p, xx, hh, target)
    loss.backward()
    pairs = [("output", y, r["output"]), ("h_n", h_n, r["h_n"]), ("loss", loss, r["loss"]),
             ("grad.input", xx.grad, r["grad_input"]), ("grad.h0", hh.grad, r["grad_h0"])]
    pairs += [("grad." + n, q.grad, r["grads"][n]) for n, q in p.items()]
    for n, a, b in pairs:
        a, b = a.detach(), b.detach()
        assert a.shape == b.shape, (case["name"], n, a.shape, b.shape)
        err = float(((a - b).abs() / b.abs().clamp(min=1.0)).max())
        assert err <= tol, (case["name"], "manual reference disagrees", n, err)
    if case["lengths"] is not None:
        # Padded steps get exactly zero input gradient.
        pad = (1 - step_mask(case)).bool()
        assert float(r["grad_input"][pad].abs().max()) == 0.0, case["name"]


# --------------------------------------------------------------------------------------
# Training steps (same structure as make_golden.run_case).
# --------------------------------------------------------------------------------------

def train_step(case, rnn, head, opt, x, h0, target, check=True):
    opt.zero_grad()
    x = x.detach().clone().requires_grad_(True)
    h0 = h0.detach().clone().requires_grad_(True)
    y, h_n, loss = torch_forward(case, rnn, head, x, h0, target)
    loss.backward()
    params = mg.named_params(rnn, head)
    res = dict(output=y.detach().clone(), h_n=h_n.detach().clone(),
               loss=loss.detach().clone(),
               grads=OrderedDict((n, q.grad.detach().clone()) for n, q in params),
               grad_input=x.grad.detach().clone(), grad_h0=h0.grad.detach().clone(),
               total_norm=None)
    if check:
        check_against_manual(case, rnn, head, x, h0, target, res)
    if case["clip"] != "none":
        res["total_norm"] = torch.nn.utils.clip_grad_norm_(
            [q for _, q in params], max_norm=float(case["clip"])).detach().clone()
    opt.step()
    return res


def run_case(case, init_params, x, h0, target):
    rnn, head = build_modules(case)
    rnn, head = rnn.double(), head.double()
    with torch.no_grad():
        for name, q in mg.named_params(rnn, head):
            q.copy_(init_params[name].double())
    params = mg.named_params(rnn, head)
    opt = mg.make_optimizer(case, [q for _, q in params])
    x, h0, target = x.double(), h0.double(), target.double()

    r1 = train_step(case, rnn, head, opt, x, h0, target)
    step1 = OrderedDict((n, q.detach().clone()) for n, q in params)
    r2 = train_step(case, rnn, head, opt, x, h0, target)
    step2 = OrderedDict((n, q.detach().clone()) for n, q in params)

    res = OrderedDict()
    res["output"] = r1["output"]
    res["h_n"] = r1["h_n"]
    res["loss"] = r1["loss"].reshape(1)
    for n, g in r1["grads"].items():
        res["grad." + n] = g
    res["grad.input"] = r1["grad_input"]
    res["grad.h0"] = r1["grad_h0"]
    if r1["total_norm"] is not None:
        res["clip.total_norm"] = r1["total_norm"].reshape(1)
    for n, q in step1.items():
        res["step1." + n] = q
    for n, q in step2.items():
        res["step2." + n] = q
    res["step2.loss"] = r2["loss"].reshape(1)
    return res


def generate_case(case):
    """Seeded initial params (PyTorch default init, float32) and data.

    RNG order: nn.RNN init, nn.Linear init, x, h0, target.  lengths are fixed."""
    torch.manual_seed(case["seed"])
    L, H, O = case["num_layers"], case["hidden_size"], case["output_size"]
    B, T, I = case["batch"], case["time"], case["input_size"]
    rnn, head = build_modules(case)
    init = OrderedDict((n, q.detach().clone().float()) for n, q in mg.named_params(rnn, head))
    x = torch.randn(B, T, I, dtype=torch.float32)
    h0 = 0.5 * torch.randn(L * num_directions(case), B, H, dtype=torch.float32)
    shape = (B, T) if case["task"] == "many_to_many" else (B,)
    if case["loss"] == "mse":
        target = torch.randn(*shape, O, dtype=torch.float32)
    elif case["loss"] == "ce":
        target = torch.randint(0, O, shape).to(torch.float32)
    else:
        raise ValueError(case["loss"])
    lengths = (torch.tensor(case["lengths"], dtype=torch.float32)
               if case["lengths"] is not None else None)
    return init, x, h0, target, lengths


def case_metadata(case):
    base = mg.case_metadata(case)
    md = OrderedDict()
    for k, v in base.items():
        md[k] = v
        if k == "time":
            md["bidirectional"] = "1" if case["bidirectional"] else "0"
            md["task"] = case["task"]
            md["has_lengths"] = "1" if case["lengths"] is not None else "0"
    return md


def fixture_path(case):
    return os.path.join(HERE, case["name"] + ".safetensors")


def generate_all():
    for case in CASES:
        init, x, h0, target, lengths = generate_case(case)
        res = run_case(case, init, x, h0, target)
        tensors = OrderedDict()
        for n, q in init.items():
            tensors[n] = q.numpy()
        tensors["input"] = x.numpy()
        tensors["h0"] = h0.numpy()
        tensors["target"] = target.numpy()
        if lengths is not None:
            tensors["lengths"] = lengths.numpy()
        for n, v in res.items():
            tensors[n] = v.to(torch.float32).numpy()
        path = fixture_path(case)
        mg.write_safetensors(path, tensors, case_metadata(case))

        md, back = mg.read_safetensors(path)
        assert list(back.keys()) == list(tensors.keys())
        assert md == {k: str(v) for k, v in case_metadata(case).items()}
        for n, v in tensors.items():
            v = np.asarray(v, dtype=np.float32)
            assert back[n].shape == (v.shape if v.ndim else (1,)), n
            assert np.array_equal(back[n], v.reshape(back[n].shape)), n
        extra = (f" clip.total_norm={float(res['clip.total_norm'][0]):.8f}"
                 if "clip.total_norm" in res else "")
        print(f"{case['name']:24s} loss={float(res['loss'][0]):.8f} "
              f"step2.loss={float(res['step2.loss'][0]):.8f} "
              f"grad_norm={mg.grad_norm(res):.8f}{extra} "
              f"tensors={len(tensors)} bytes={os.path.getsize(path)}")


def verify_all(tol=1e-6):
    for case in CASES:
        md, t = mg.read_safetensors(fixture_path(case))
        for k, v in case_metadata(case).items():
            if k != "torch_version":
                assert md[k] == v, (case["name"], k, md[k], v)
        init = OrderedDict((n, torch.from_numpy(a.copy())) for n, a in t.items()
                           if n.startswith("rnn.") or n.startswith("head."))
        x, h0, target = (torch.from_numpy(t[k].copy()) for k in ("input", "h0", "target"))
        g_init, g_x, g_h0, g_target, g_lengths = generate_case(case)
        for n, q in g_init.items():
            assert torch.equal(q, init[n]), (case["name"], n)
        assert list(g_init) == list(init), case["name"]
        assert torch.equal(g_x, x) and torch.equal(g_h0, h0) and torch.equal(g_target, target)
        inputs = set(init) | {"input", "h0", "target"}
        if g_lengths is not None:
            assert torch.equal(torch.from_numpy(t["lengths"].copy()), g_lengths), case["name"]
            inputs.add("lengths")
        # Recompute with the lengths read from the file.
        case = dict(case, lengths=([int(v) for v in t["lengths"]] if "lengths" in t else None))

        res = run_case(case, init, x, h0, target)
        expected_names = inputs | set(res)
        assert set(t) == expected_names, (case["name"], set(t) ^ expected_names)
        worst = 0.0
        for n, ref in res.items():
            stored = torch.from_numpy(t[n].copy()).double()
            assert stored.shape == ref.shape, (case["name"], n, stored.shape, ref.shape)
            err = float(((stored - ref).abs() / ref.abs().clamp(min=1.0)).max())
            assert err <= tol, (case["name"], n, err)
            worst = max(worst, err)
        print(f"{case['name']:24s} OK  ({len(res)} result tensors, max rel err {worst:.2e}, "
              f"manual reference agrees)")


if __name__ == "__main__":
    if "--verify" in sys.argv[1:]:
        verify_all()
    else:
        generate_all()
