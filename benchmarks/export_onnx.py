#!/usr/bin/env python3
"""Exports the tanh nn.RNN models the ONNX Runtime comparison times (benchmarks/compare_onnxruntime.sh), with PyTorch
1.13's torch.onnx.export (opset 14, dynamic batch and sequence axes), and beside each a small input and PyTorch's
output for it, which ortbench --check compares with ONNX Runtime's before it times anything.

    /usr/bin/python3 benchmarks/export_onnx.py OUT_DIR INPUT:HIDDEN:LAYERS ...

writes OUT_DIR/rnn_I{input}_H{hidden}_L{layers}.onnx, .x.npy and .y.npy; the weights are random (seed 0), as rnngpu's.
"""
import os
import sys
import warnings

import numpy as np
import torch

from compare import model_name        # benchmarks/compare.py: the file names compare_onnxruntime.sh looks for


def export(out, input_size, hidden, layers):
    torch.manual_seed(0)
    rnn = torch.nn.RNN(input_size, hidden, layers, nonlinearity="tanh", batch_first=True).eval()
    base = os.path.join(out, model_name(input_size, hidden, layers))
    x = torch.rand(3, 7, input_size) * 2 - 1
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")          # torch 1.13 warns about the shape inference of prim::Constant
        torch.onnx.export(rnn, (x,), base + ".onnx", input_names=["x"], output_names=["y", "h"], opset_version=14,
                          dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}, "h": {1: "batch"}})
        y, _ = rnn(x)
    np.save(base + ".x.npy", x.numpy().astype(np.float32))
    np.save(base + ".y.npy", y.numpy().astype(np.float32))
    print(base + ".onnx")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for spec in sys.argv[2:]:
        export(out, *(int(v) for v in spec.split(":")))


if __name__ == "__main__":
    main()
