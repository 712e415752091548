#!/usr/bin/env python3
"""Exports the models the ONNX Runtime comparison times (benchmarks/compare_onnxruntime.sh): tanh nn.RNN, nn.LSTM or
nn.GRU, with PyTorch 1.13's torch.onnx.export (opset 14, dynamic batch and sequence axes), and beside each a small
input and PyTorch's output for it, which ortbench --check compares with ONNX Runtime's before it times anything.

    /usr/bin/python3 benchmarks/export_onnx.py OUT_DIR INPUT:HIDDEN:LAYERS[:CELL] ...

writes OUT_DIR/{cell}_I{input}_H{hidden}_L{layers}.onnx, .x.npy and .y.npy (cell rnn, lstm or gru; rnn when not
given); the weights are random (seed 0), as rnngpu's. The outputs are y and h, and an LSTM's c.
"""
import os
import sys
import warnings

import numpy as np
import torch

from compare import model_name        # benchmarks/compare.py: the file names compare_onnxruntime.sh looks for


class WithCellState(torch.nn.Module):
    """nn.LSTM's outputs flattened to (y, h, c): torch.onnx.export names each output."""

    def __init__(self, lstm):
        super().__init__()
        self.lstm = lstm

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        return y, h, c


def export(out, input_size, hidden, layers, cell="rnn"):
    torch.manual_seed(0)
    if cell == "lstm":
        rnn = WithCellState(torch.nn.LSTM(input_size, hidden, layers, batch_first=True)).eval()
    elif cell == "gru":
        rnn = torch.nn.GRU(input_size, hidden, layers, batch_first=True).eval()
    else:
        rnn = torch.nn.RNN(input_size, hidden, layers, nonlinearity="tanh", batch_first=True).eval()
    base = os.path.join(out, model_name(input_size, hidden, layers, cell))
    x = torch.rand(3, 7, input_size) * 2 - 1
    outputs = ["y", "h", "c"] if cell == "lstm" else ["y", "h"]
    axes = {"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}, **{name: {1: "batch"} for name in outputs[1:]}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")          # torch 1.13 warns about the shape inference of prim::Constant
        torch.onnx.export(rnn, (x,), base + ".onnx", input_names=["x"], output_names=outputs, opset_version=14, dynamic_axes=axes)
        y = rnn(x)[0]
    np.save(base + ".x.npy", x.numpy().astype(np.float32))
    np.save(base + ".y.npy", y.numpy().astype(np.float32))
    print(base + ".onnx")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for spec in sys.argv[2:]:
        parts = spec.split(":")
        export(out, *(int(v) for v in parts[:3]), *parts[3:])


if __name__ == "__main__":
    main()
