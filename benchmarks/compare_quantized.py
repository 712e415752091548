#!/usr/bin/env python3
"""The table of compare_quantized.sh: per case and weights, the median over the rounds of each run's median time; the
speed-up over fp32 against the issue's targets (int8 at least 1.7x, bf16 at least 1.4x; a streaming step with int8 at
least 1.7x); where ONNX Runtime's DynamicQuantizeLSTM ran, its time in its faster thread setting and int8's ratio to it
(target at most 0.5x); and, for the forward pass, the outputs' relative L2 distance from the float32 model's (rel_error).

    compare_quantized.py OUT_DIR/lines.jsonl
"""
import json
import platform
import statistics
import sys
from collections import defaultdict

TARGETS = {"int8": 1.7, "bf16": 1.4}


def main(path):
    meta, runs = {}, defaultdict(list)
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            if "meta" in d:
                meta = d["meta"]
                continue
            weights = "ort" if d["backend"] == "onnxruntime" else d.get("weights", "fp32")
            if weights == "ort":
                weights = f"ort{d['device'].split('intra-op threads ')[1].rstrip(')')}"
            time = d["us_per_step"] / 1e3 if d["op"] == "stream" else d["ms_per_iter"]
            key = (d["op"], d.get("cell", "rnn"), d["batch"], d["seq"], d["input"], d["hidden"])
            runs[key, weights].append((time, d.get("rel_error"), d["device"]))
    keys = sorted({k for k, _ in runs}, key=lambda k: (k[0], ["rnn", "lstm", "gru"].index(k[1]), k[4]))
    device = next((r[0][2] for (k, w), r in runs.items() if not w.startswith("ort")), "?")
    print(f"Setting {meta.get('setting', '?')}, `{meta.get('command', '?')}` ({meta.get('rounds', '?')} interleaved rounds), "
          f"{device}, Linux {platform.release()}; each figure the median over the rounds of the run's median.\n")
    print("| case | fp32 | int8 | bf16 | int8 speed-up (target 1.7x) | bf16 speed-up (target 1.4x) | rel. error int8 / bf16 "
          "| ORT DynamicQuantizeLSTM | int8 / ORT (target 0.5x) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for key in keys:
        op, cell, b, t, i, h = key
        name = f"{cell.upper() if cell != 'rnn' else 'RNN'} {'step' if op == 'stream' else 'forward'} B{b}{'' if op == 'stream' else f' T{t}'} I{i} H{h}"
        med = {w: statistics.median(r[0] for r in runs[key, w]) for w in ("fp32", "int8", "bf16") if (key, w) in runs}
        unit = "ms"
        cells = [f"{med[w]:.4g} {unit}" if w in med else "-" for w in ("fp32", "int8", "bf16")]
        ups = []
        for w in ("int8", "bf16"):
            if w in med and "fp32" in med:
                up = med["fp32"] / med[w]
                ups.append(f"{up:.2f}x {'met' if up >= TARGETS[w] else 'not met'}")
            else:
                ups.append("-")
        errs = [runs[key, w][0][1] for w in ("int8", "bf16") if (key, w) in runs]
        err = " / ".join(f"{e:.2g}" for e in errs) if all(e is not None for e in errs) and errs else "-"
        ort = {w[3:]: statistics.median(r[0] for r in runs[key, w]) for (k, w) in runs if k == key and w.startswith("ort")}
        if ort and "int8" in med:
            threads, best = min(ort.items(), key=lambda kv: kv[1])
            ratio = med["int8"] / best
            ort_cells = f"{best:.4g} ms [{threads} thread{'s' if threads != '1' else ''}] | {ratio:.2f}x {'met' if ratio <= 0.5 else 'not met'}"
        else:
            ort_cells = "- | -"
        print(f"| {name} | {' | '.join(cells)} | {' | '.join(ups)} | {err} | {ort_cells} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
