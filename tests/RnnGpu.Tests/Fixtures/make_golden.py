#!/usr/bin/python3
"""Generate golden test fixtures for RnnGpu from PyTorch (float64 reference).

Run with Debian's Python, which has PyTorch 1.13:

    /usr/bin/python3 make_golden.py            # (re)write every <case>.safetensors here
    /usr/bin/python3 make_golden.py --verify   # re-read every file, recompute in float64, compare

Each case builds `nn.RNN(I, H, num_layers=L, nonlinearity=..., batch_first=True)`
(+ optionally `nn.Linear(H, O)` as a head) with PyTorch's default init, converts it
to float64, runs forward / loss / backward / (clip) / optimizer step twice on one
batch and stores everything as F32 tensors in a hand-written .safetensors file
(the `safetensors` package is not needed).  See README.md for the tensor names.

The script is deterministic: everything runs on the CPU in float64 from a fixed
torch.manual_seed per case.

The bidirectional, packed (variable-length) and many-to-one cases are defined in
make_golden_sequences.py, which imports this module; both commands above also run them.
"""

import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------------------
# Cases.  Numbers that end up in the metadata are kept as strings so that the metadata
# carries exactly the literal used here; they are parsed with float()/int() for use.
# --------------------------------------------------------------------------------------
CASES = [
    dict(name="tanh_1layer_mse", seed=1001, num_layers=1, nonlinearity="tanh",
         input_size=3, hidden_size=5, output_size=4, batch=2, time=7, loss="mse",
         optimizer="sgd", lr="0.1", momentum="0.9", weight_decay="0", clip="none"),
    dict(name="relu_2layer_ce", seed=1009, num_layers=2, nonlinearity="relu",
         input_size=7, hidden_size=13, output_size=6, batch=3, time=5, loss="ce",
         optimizer="adam", lr="0.01", weight_decay="0", betas="0.9,0.999", eps="1e-08",
         clip="0.5"),
    dict(name="tanh_3layer_bce", seed=1003, num_layers=3, nonlinearity="tanh",
         input_size=4, hidden_size=9, output_size=2, batch=4, time=6, loss="bce",
         optimizer="sgd", lr="0.05", momentum="0", weight_decay="0.01", clip="none"),
    dict(name="tanh_2layer_nohead_mse", seed=1052, num_layers=2, nonlinearity="tanh",
         input_size=5, hidden_size=6, output_size=0, batch=2, time=3, loss="mse",
         optimizer="adam", lr="0.001", weight_decay="0.1", betas="0.9,0.999", eps="1e-08",
         clip="1.0"),
    dict(name="relu_1layer_sgd_clip", seed=1005, num_layers=1, nonlinearity="relu",
         input_size=33, hidden_size=17, output_size=7, batch=5, time=13, loss="mse",
         optimizer="sgd", lr="0.2", momentum="0.5", weight_decay="0", clip="0.1"),
]

# --------------------------------------------------------------------------------------
# Minimal safetensors writer / reader (F32 only).
# Layout: u64 little-endian header length N, N bytes of UTF-8 JSON (padded with spaces
# so that the data blob starts at a multiple of 8), then the data blob, i.e. the
# concatenated little-endian C-order float32 tensors.  data_offsets are [begin, end)
# byte offsets relative to the start of the blob.
# --------------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    """tensors: OrderedDict name -> array-like (stored as F32); metadata: str -> str."""
    header = OrderedDict()
    header["__metadata__"] = OrderedDict((str(k), str(v)) for k, v in metadata.items())
    blobs = []
    offset = 0
    for name, value in tensors.items():
        arr = np.ascontiguousarray(np.asarray(value, dtype="<f4"))
        shape = list(arr.shape) if arr.ndim > 0 else [1]  # scalars are stored as [1]
        raw = arr.tobytes(order="C")
        header[name] = OrderedDict(dtype="F32", shape=shape,
                                   data_offsets=[offset, offset + len(raw)])
        blobs.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # 8 bytes of length prefix + header must be a multiple of 8 -> pad header to mult. of 8
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    """Parse a safetensors file written above and validate its structure.

    Returns (metadata dict, OrderedDict name -> float32 numpy array)."""
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) >= 8, "file too short"
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), "header length beyond end of file"
    assert (8 + n) % 8 == 0, "data blob does not start at a multiple of 8"
    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    blob = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    tensors = OrderedDict()
    expected = 0
    # Offsets must tile the blob exactly, without gaps or overlaps.
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        assert info["dtype"] == "F32", (name, info["dtype"])
        begin, end = info["data_offsets"]
        assert begin == expected, (name, begin, expected)
        count = int(np.prod(info["shape"]))
        assert end - begin == 4 * count, (name, info)
        tensors[name] = np.frombuffer(blob[begin:end], dtype="<f4").reshape(info["shape"])
        expected = end
    assert expected == len(blob), "data blob has trailing bytes"
    # Restore the header's order (the writer's order) for readability.
    ordered = OrderedDict((k, tensors[k]) for k in header.keys())
    return metadata, ordered


# --------------------------------------------------------------------------------------
# The reference computation (float64).
# --------------------------------------------------------------------------------------

def named_params(rnn, head):
    """(name, parameter) in the order used everywhere: rnn.* (state_dict order), head.*"""
    out = [("rnn." + n, p) for n, p in rnn.named_parameters()]
    if head is not None:
        out += [("head." + n, p) for n, p in head.named_parameters()]
    return out


def make_optimizer(case, params):
    lr = float(case["lr"])
    wd = float(case["weight_decay"])
    if case["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=float(case["momentum"]), weight_decay=wd)
    if case["optimizer"] == "adam":
        b1, b2 = (float(b) for b in case["betas"].split(","))
        return torch.optim.Adam(params, lr=lr, betas=(b1, b2), eps=float(case["eps"]),
                                weight_decay=wd)
    raise ValueError(case["optimizer"])


def compute_loss(case, logits, target):
    if case["loss"] == "mse":
        return nn.MSELoss()(logits, target)                        # mean over all elements
    if case["loss"] == "bce":
        return nn.BCEWithLogitsLoss()(logits, target)              # mean over all elements
    if case["loss"] == "ce":
        B, T, O = logits.shape
        return nn.CrossEntropyLoss()(logits.reshape(B * T, O),     # mean over B*T
                                     target.reshape(B * T).long())
    raise ValueError(case["loss"])


def train_step(case, rnn, head, opt, x, h0, target):
    """zero grads, forward, loss, backward, (clip), optimizer step.

    Returns a dict with the forward results and the gradients BEFORE clipping."""
    opt.zero_grad()
    x = x.detach().clone().requires_grad_(True)
    h0 = h0.detach().clone().requires_grad_(True)
    out, h_n = rnn(x, h0)
    logits = head(out) if head is not None else out
    loss = compute_loss(case, logits, target)
    loss.backward()
    params = named_params(rnn, head)
    res = dict(output=logits.detach().clone(), h_n=h_n.detach().clone(),
               loss=loss.detach().clone(),
               grads=OrderedDict((n, p.grad.detach().clone()) for n, p in params),
               grad_input=x.grad.detach().clone(), grad_h0=h0.grad.detach().clone(),
               total_norm=None)
    if case["clip"] != "none":
        # Only parameter gradients are clipped; returns the norm before clipping.
        res["total_norm"] = torch.nn.utils.clip_grad_norm_(
            [p for _, p in params], max_norm=float(case["clip"])).detach().clone()
    opt.step()
    return res


def run_case(case, init_params, x, h0, target):
    """Build the float64 model from float32 initial parameters and run two steps.

    init_params: OrderedDict name -> float32 tensor (PyTorch state_dict names with
    rnn./head. prefixes).  x, h0, target: float32 tensors.  Returns OrderedDict of
    all result tensors (float64) to be stored, keyed by their fixture names."""
    L, I, H, O = (case[k] for k in ("num_layers", "input_size", "hidden_size", "output_size"))
    rnn = nn.RNN(I, H, num_layers=L, nonlinearity=case["nonlinearity"], batch_first=True)
    head = nn.Linear(H, O) if O > 0 else None
    rnn, head = rnn.double(), (head.double() if head is not None else None)
    with torch.no_grad():
        for name, p in named_params(rnn, head):
            p.copy_(init_params[name].double())
    params = named_params(rnn, head)
    opt = make_optimizer(case, [p for _, p in params])
    x, h0, target = x.double(), h0.double(), target.double()

    r1 = train_step(case, rnn, head, opt, x, h0, target)
    step1 = OrderedDict((n, p.detach().clone()) for n, p in params)
    r2 = train_step(case, rnn, head, opt, x, h0, target)
    step2 = OrderedDict((n, p.detach().clone()) for n, p in params)

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
    for n, p in step1.items():
        res["step1." + n] = p
    for n, p in step2.items():
        res["step2." + n] = p
    res["step2.loss"] = r2["loss"].reshape(1)
    return res


def generate_case(case):
    """Seeded generation of initial params (PyTorch default init, float32) and data."""
    torch.manual_seed(case["seed"])
    L, I, H, O = (case[k] for k in ("num_layers", "input_size", "hidden_size", "output_size"))
    B, T = case["batch"], case["time"]
    # RNG consumption order: nn.RNN init, nn.Linear init, x, h0, target.
    rnn = nn.RNN(I, H, num_layers=L, nonlinearity=case["nonlinearity"], batch_first=True)
    head = nn.Linear(H, O) if O > 0 else None
    init = OrderedDict((n, p.detach().clone().float()) for n, p in named_params(rnn, head))
    x = torch.randn(B, T, I, dtype=torch.float32)
    h0 = 0.5 * torch.randn(L, B, H, dtype=torch.float32)  # exact in float32 (power of 2)
    if case["loss"] == "mse":
        target = torch.randn(B, T, O if O > 0 else H, dtype=torch.float32)
    elif case["loss"] == "bce":
        target = torch.bernoulli(torch.full((B, T, O), 0.5, dtype=torch.float32))
    elif case["loss"] == "ce":
        target = torch.randint(0, O, (B, T)).to(torch.float32)
    else:
        raise ValueError(case["loss"])
    return init, x, h0, target


def case_metadata(case):
    md = OrderedDict()
    for k in ("nonlinearity", "num_layers", "input_size", "hidden_size", "output_size",
              "batch", "time", "loss", "optimizer", "lr"):
        md[k] = str(case[k])
    if case["optimizer"] == "sgd":
        md["momentum"] = case["momentum"]
    md["weight_decay"] = case["weight_decay"]
    if case["optimizer"] == "adam":
        md["betas"] = case["betas"]
        md["eps"] = case["eps"]
    md["clip"] = case["clip"]
    md["seed"] = str(case["seed"])
    md["torch_version"] = torch.__version__
    return md


def grad_norm(res):
    """L2 norm over all parameter gradients (before clipping), in float64."""
    s = 0.0
    for n, g in res.items():
        if n.startswith("grad.rnn.") or n.startswith("grad.head."):
            s += float((g.double() ** 2).sum())
    return math.sqrt(s)


def fixture_path(case):
    return os.path.join(HERE, case["name"] + ".safetensors")


def generate_all():
    for case in CASES:
        init, x, h0, target = generate_case(case)
        res = run_case(case, init, x, h0, target)
        tensors = OrderedDict()
        for n, p in init.items():
            tensors[n] = p.numpy()
        tensors["input"] = x.numpy()
        tensors["h0"] = h0.numpy()
        tensors["target"] = target.numpy()
        for n, v in res.items():
            tensors[n] = v.to(torch.float32).numpy()  # float64 -> float32 rounding
        path = fixture_path(case)
        write_safetensors(path, tensors, case_metadata(case))

        # Read back and check the bytes round-trip exactly.
        md, back = read_safetensors(path)
        assert list(back.keys()) == list(tensors.keys())
        assert md == {k: str(v) for k, v in case_metadata(case).items()}
        for n, v in tensors.items():
            v = np.asarray(v, dtype=np.float32)
            assert back[n].shape == (v.shape if v.ndim else (1,)), n
            assert np.array_equal(back[n], v.reshape(back[n].shape)), n
        print(f"{case['name']:24s} loss={float(res['loss'][0]):.8f} "
              f"step2.loss={float(res['step2.loss'][0]):.8f} "
              f"grad_norm={grad_norm(res):.8f} "
              f"tensors={len(tensors)} bytes={os.path.getsize(path)}")


def verify_all(tol=1e-6):
    """Re-read every fixture and compare all results with a fresh float64 recomputation
    from the stored initial parameters, inputs and metadata."""
    for case in CASES:
        md, t = read_safetensors(fixture_path(case))
        # The metadata must describe the case we are about to recompute.
        for k, v in case_metadata(case).items():
            if k != "torch_version":
                assert md[k] == v, (case["name"], k, md[k], v)
        init = OrderedDict((n, torch.from_numpy(a.copy())) for n, a in t.items()
                           if n.startswith("rnn.") or n.startswith("head."))
        x, h0, target = (torch.from_numpy(t[k].copy()) for k in ("input", "h0", "target"))
        # Stored inputs must also match what the seed produces.
        g_init, g_x, g_h0, g_target = generate_case(case)
        for n, p in g_init.items():
            assert torch.equal(p, init[n]), (case["name"], n)
        assert torch.equal(g_x, x) and torch.equal(g_h0, h0) and torch.equal(g_target, target)

        res = run_case(case, init, x, h0, target)
        expected_names = set(init) | {"input", "h0", "target"} | set(res)
        assert set(t) == expected_names, (case["name"], set(t) ^ expected_names)
        worst = 0.0
        for n, ref in res.items():
            stored = torch.from_numpy(t[n].copy()).double()
            assert stored.shape == ref.shape, (case["name"], n, stored.shape, ref.shape)
            err = float(((stored - ref).abs() / ref.abs().clamp(min=1.0)).max())
            assert err <= tol, (case["name"], n, err)
            worst = max(worst, err)
        print(f"{case['name']:24s} OK  ({len(res)} result tensors, max rel err {worst:.2e})")


if __name__ == "__main__":
    # The bidirectional / packed / many-to-one cases live in make_golden_sequences.py,
    # which imports this file for the writer, reader and optimizer helpers.
    import make_golden_sequences
    if "--verify" in sys.argv[1:]:
        verify_all()
        make_golden_sequences.verify_all()
    else:
        generate_all()
        make_golden_sequences.generate_all()
