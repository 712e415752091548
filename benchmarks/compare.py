#!/usr/bin/env python3
"""Compares `rnngpu bench --backend cpu` with its peers on the shapes and targets of the CPU speed issue: PyTorch 1.13
(benchmarks/pytorch_cpu.py, numpy/OpenBLAS for the GEMMs) and ONNX Runtime 1.32 (ortbench). Every side prints JSON
lines; compare_pytorch.sh and compare_onnxruntime.sh run them interleaved over several rounds into one file, and this
script takes, for each case and side, the median over the rounds of each run's median (a peer in its fastest thread
setting), prints the tables, and writes the results as JSON and the tables as markdown.

    compare.py --cases | --ort-cases | --ort-models      the cases of either script, one line each
    compare.py LINES.jsonl [--peer pytorch|onnxruntime] [--setting SETTING] [--json OUT.json] [--markdown OUT.md]

The first line of LINES.jsonl (written by the scripts) gives the setting and the command of the run; --setting
overrides it.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import sys

RNN_SHAPES = [(64, 100, 64, 256, 1), (16, 50, 128, 512, 2)]       # batch, seq, input, hidden, layers
GEMM_SHAPES = [(512, 512, 512), (1024, 1024, 1024), (64, 256, 256), (6400, 256, 64)]   # M, N, K
STREAM_SHAPE = (1, 64, 256)                                         # batch, input, hidden
RECURRENCE_SHAPES = [(64, 100, 256), (16, 50, 512), (1, 100, 256)]  # batch, seq, hidden: the recurrence alone
SWEEP_HIDDEN = [64, 128, 256, 512, 1024]                            # forward, batch 64, seq 50, input 64
SWEEP_SHAPE = (64, 50, 64)
ORT_TARGETS = [(1, 100, 64, 256, 1), (8, 100, 64, 256, 1), (64, 100, 64, 256, 1), (16, 50, 128, 512, 2)]
BATCH_SWEEP = [1, 2, 4, 8, 16, 32, 64]                              # forward, seq 100, input 64, hidden 256
BATCH_SWEEP_SHAPE = (100, 64, 256)
CELLS = ["lstm", "gru"]                                             # the gated cells, at RNN_SHAPES and ORT_TARGETS
RNN_RATIO_TARGET, GEMM_FRACTION_TARGET, STREAM_US_TARGET = 0.5, 0.8, 2.0
COMMANDS = {"pytorch": "bash benchmarks/compare_pytorch.sh", "onnxruntime": "bash benchmarks/compare_onnxruntime.sh"}
SETTINGS = {"two-cores": "both cores free, every side unpinned",            # benchmarks/settings.sh
            "one-core": "every timed process confined to core 0 by taskset -c 0",
            "busy-neighbour": "another process spinning on core 1 throughout, every side unpinned"}


def cases():
    """Argument lines of compare_pytorch.sh, understood by both `rnngpu bench` and pytorch_cpu.py."""
    for b, t, i, h, l in RNN_SHAPES:
        yield f"--op rnn --mode both --batch {b} --seq {t} --input {i} --hidden {h} --layers {l} --warmup 3 --iters 15"
    for m, n, k in GEMM_SHAPES:
        iters = max(10, min(500, int(2e10 / (2 * m * n * k))))   # about 20 GFLOP of work per run, 10 to 500 iterations
        yield f"--op gemm --m {m} --n {n} --k {k} --warmup 3 --iters {iters}"
    b, i, h = STREAM_SHAPE
    yield f"--op stream --batch {b} --input {i} --hidden {h} --warmup 1000 --iters 20000"
    for b, t, h in RECURRENCE_SHAPES:                            # the engine's alone: PyTorch has no such op
        yield f"--op recurrence --batch {b} --seq {t} --hidden {h} --warmup 3 --iters {max(20, min(1000, int(2e7 / (b * t * h))))}"
    b, t, i = SWEEP_SHAPE
    for h in SWEEP_HIDDEN:
        yield f"--op rnn --mode infer --batch {b} --seq {t} --input {i} --hidden {h} --layers 1 --warmup 1 --iters 5"
    for cell in CELLS:
        for b, t, i, h, l in RNN_SHAPES:
            yield f"--op rnn --mode both --cell {cell} --batch {b} --seq {t} --input {i} --hidden {h} --layers {l} --warmup 2 --iters 10"


def ort_iters(b, t, h, layers):
    """About 0.6 s of the engine's timed forward passes per run at 2 cores (the peers' take 1.5-5x as long), 20 to 3000
    of them: many at batch 1, whose passes take a fraction of a millisecond, few at batch 64. With the warm-ups and
    process starts, a round of compare_onnxruntime.sh takes about 2 minutes on 2 cores."""
    return max(20, min(3000, int(6e7 / (b * t * h * layers))))


def model_name(i, h, l, cell="rnn"):
    """The file name (less .onnx, .x.npy, .y.npy) export_onnx.py gives the model of input i, hidden h, l layers, the cell."""
    return f"{cell}_I{i}_H{h}_L{l}"


def ort_cases():
    """Lines of compare_onnxruntime.sh, `MODEL KIND OPTIONS`: the model's file name, `target` or `sweep` (PyTorch runs
    the sweep too), and the options both `rnngpu bench` and ortbench take. The targets first, then the batch sweep."""
    t, i, h = BATCH_SWEEP_SHAPE
    for b, t2, i2, h2, l in ORT_TARGETS:
        if (t2, i2, h2, l) == (t, i, h, 1) and b in BATCH_SWEEP:
            continue                                             # timed in the sweep
        yield f"{model_name(i2, h2, l)} target --batch {b} --seq {t2} --input {i2} --hidden {h2} --layers {l} --iters {ort_iters(b, t2, h2, l)}"
    for b in BATCH_SWEEP:
        yield f"{model_name(i, h, 1)} sweep --batch {b} --seq {t} --input {i} --hidden {h} --layers 1 --iters {ort_iters(b, t, h, 1)}"
    for cell in CELLS:
        gates = 4 if cell == "lstm" else 3
        for b, t2, i2, h2, l in ORT_TARGETS:
            iters = max(10, ort_iters(b, t2, h2, l) // gates)
            yield f"{model_name(i2, h2, l, cell)} target --cell {cell} --batch {b} --seq {t2} --input {i2} --hidden {h2} --layers {l} --iters {iters}"


def ort_models():
    """INPUT:HIDDEN:LAYERS:CELL of every model the ONNX Runtime comparison exports."""
    return sorted({f"{i}:{h}:{l}:{cell}" for _, _, i, h, l in ORT_TARGETS for cell in ["rnn", *CELLS]})


def side_of(line):
    return {"cpu": "ours", "onnxruntime": "onnxruntime"}.get(line["backend"], "pytorch")


def key(line):
    """What a line measured: op, mode, shape and cell (rnn for an Elman line, which names none), whichever side ran it."""
    if line["op"] == "gemm":
        return ("gemm", "", (line["m"], line["n"], line["k"]), "rnn")
    if line["op"] == "recurrence":
        return ("recurrence", "", (line["batch"], line["seq"], line["hidden"]), "rnn")
    shape = (line["batch"], line["seq"], line["input"], line["hidden"], line["layers"])
    return (line["op"], line.get("mode", ""), shape, line.get("cell", "rnn"))


def label(cell, b, t, i, h, l):
    """A case's name in the tables: the Elman cell's as before, the gated cells' with the cell first."""
    shape = f"B{b} T{t} I{i} H{h} L{l}"
    return shape if cell == "rnn" else f"{cell.upper()} {shape}"


def load(path):
    """({(key, side): {device: [lines]}}, meta): side 'ours', 'pytorch' or 'onnxruntime', the device string telling a
    side's configurations apart (its thread settings); meta the run's {"setting", "command", ...} line, or {}."""
    runs, meta = {}, {}
    with open(path) as f:
        for text in f:
            if text.strip():
                line = json.loads(text)
                if "meta" in line:
                    meta = line["meta"]
                    continue
                runs.setdefault((key(line), side_of(line)), {}).setdefault(line["device"], []).append(line)
    return runs, meta


def best(runs, k, side):
    """The summary of the side's fastest configuration for case k (a peer at its best), or None."""
    summaries = [summary(lines) for lines in runs.get((k, side), {}).values()]
    return min(summaries, key=lambda s: s["ms"], default=None)


def summary(lines):
    if not lines:
        return None
    med = lambda field: statistics.median(l[field] for l in lines) if field in lines[0] else None
    return {"ms": med("ms_per_iter"), "gflops": med("gflops"), "us_per_step": med("us_per_step"),
            "bytes_per_step": max(l["bytes_per_step"] for l in lines) if "bytes_per_step" in lines[0] else None,
            "runs": len(lines), "device": lines[0]["device"]}


def ratio_row(case, mode, ours, ref, peer_name):
    ratio = ours["ms"] / ref["ms"] if ours and ref else None
    return {"case": case, "mode": mode, "ours": ours, "ref": ref, "ratio": ratio,
            "target": f"time <= {RNN_RATIO_TARGET}x {peer_name}", "met": ratio is not None and ratio <= RNN_RATIO_TARGET}


def pytorch_rows(runs):
    result = []
    for cell in ["rnn", *CELLS]:
        for b, t, i, h, l in RNN_SHAPES:
            for mode in ("train", "infer"):
                k = ("rnn", mode, (b, t, i, h, l), cell)
                result.append(ratio_row(label(cell, b, t, i, h, l), mode, best(runs, k, "ours"), best(runs, k, "pytorch"), "PyTorch"))
    for m, n, k in GEMM_SHAPES:
        ours, ref = best(runs, ("gemm", "", (m, n, k), "rnn"), "ours"), best(runs, ("gemm", "", (m, n, k), "rnn"), "pytorch")
        ratio = ours["ms"] / ref["ms"] if ours and ref else None
        fraction = ours["gflops"] / ref["gflops"] if ours and ref else None
        result.append({"case": f"GEMM {m}x{n}x{k}", "mode": "sgemm", "ours": ours, "ref": ref, "ratio": ratio, "fraction": fraction,
                       "target": f"GFLOP/s >= {GEMM_FRACTION_TARGET:.0%} numpy", "met": fraction is not None and fraction >= GEMM_FRACTION_TARGET})
    b, i, h = STREAM_SHAPE
    k = ("stream", "infer", (b, 1, i, h, 1), "rnn")
    ours, ref = best(runs, k, "ours"), best(runs, k, "pytorch")
    ratio = ours["ms"] / ref["ms"] if ours and ref else None
    # Under one byte per step: nothing allocated at every step (a one-off allocation during the timed
    # steps shows as a fraction of a byte, and is printed as such).
    met = ours is not None and ours["us_per_step"] <= STREAM_US_TARGET and ours["bytes_per_step"] < 1
    result.append({"case": f"stream B{b} I{i} H{h}", "mode": "one step", "ours": ours, "ref": ref, "ratio": ratio,
                   "target": f"<= {STREAM_US_TARGET:g} us and 0 B/step", "met": met})
    return result


def ort_rows(runs):
    result = []
    for cell in ["rnn", *CELLS]:
        for b, t, i, h, l in ORT_TARGETS:
            k = ("rnn", "infer", (b, t, i, h, l), cell)
            result.append(ratio_row(label(cell, b, t, i, h, l), "infer", best(runs, k, "ours"), best(runs, k, "onnxruntime"), "ONNX Runtime"))
    return result


def hidden_sweep(runs):
    b, t, i = SWEEP_SHAPE
    points = []
    for h in SWEEP_HIDDEN:
        k = ("rnn", "infer", (b, t, i, h, 1), "rnn")
        ours, ref = best(runs, k, "ours"), best(runs, k, "pytorch")
        points.append({"x": h, "ours": ours["ms"] / t if ours else None, "pytorch": ref["ms"] / t if ref else None})
    return points


def batch_sweep(runs):
    t, i, h = BATCH_SWEEP_SHAPE
    points = []
    for b in BATCH_SWEEP:
        k = ("rnn", "infer", (b, t, i, h, 1), "rnn")
        point = {"x": b}
        for side in ("ours", "onnxruntime", "pytorch"):
            s = best(runs, k, side)
            point[side] = s["ms"] if s else None
        points.append(point)
    return points


def fmt_side(row, side):
    s = row[side]
    if s is None:
        return "-"
    threads = re.search(r"intra-op threads (\d+)(?:, OpenBLAS threads (\w+))?", s["device"]) if side == "ref" else None
    config = ""
    if threads:
        config = f" [{threads.group(1)} intra-op" + (f", {threads.group(2)} BLAS" if threads.group(2) else "") + "]"
    if row["mode"] == "sgemm":
        return f"{s['ms']:.3g} ms ({s['gflops']:.3g} GFLOP/s)"
    if row["mode"] == "one step":
        text = f"{s['us_per_step']:.3g} us"
        return text + (f", {s['bytes_per_step']:.3g} B" if s["bytes_per_step"] is not None else "") + config
    return f"{s['ms']:.4g} ms" + config


def met_text(row):
    if row["ours"] is None or row["ref"] is None:
        return "-"                                               # not measured (a CASES_FILTER run)
    text = "yes" if row["met"] else "no"
    return text + (f" ({row['fraction']:.0%} of numpy)" if row.get("fraction") is not None else "")


def table(result, peer_name):
    head = ["shape", "mode", "ours (rnngpu CPU)", peer_name, "ratio (time)", "target", "met"]
    body = [[r["case"], r["mode"], fmt_side(r, "ours"), fmt_side(r, "ref"),
             f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-", r["target"], met_text(r)] for r in result]
    return head, body


def sweep_table(points, sides, unit):
    f = lambda v: f"{v:.4g}" if v is not None else "-"
    head = [points[0]["label"]] + [f"{name} {unit}" for _, name in sides] + [f"ours / {name}" for _, name in sides[1:]]
    body = [[str(p["x"])] + [f(p[field]) for field, _ in sides]
            + [f"{p['ours'] / p[field]:.2f}x" if p["ours"] and p[field] else "-" for field, _ in sides[1:]] for p in points]
    return head, body


def recurrence_table(runs):
    """The recurrence alone against the GEMM's speed: how far the latency-bound part is from what the core sustains."""
    gemm = best(runs, ("gemm", "", (1024, 1024, 1024), "rnn"), "ours")
    head = ["recurrence", "ms", "GFLOP/s", "of the 1024³ GEMM's GFLOP/s"]
    body = []
    for b, t, h in RECURRENCE_SHAPES:
        s = best(runs, ("recurrence", "", (b, t, h), "rnn"), "ours")
        if s:
            body.append([f"B{b} T{t} H{h}", f"{s['ms']:.4g}", f"{s['gflops']:.4g}", f"{s['gflops'] / gemm['gflops']:.0%}" if gemm else "-"])
    return head, body


def plain(head, body):
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in [head, ["-" * w for w in widths], *body])


def markdown(head, body):
    return "\n".join("| " + " | ".join(r) + " |" for r in [head, ["---"] * len(head), *body])


def machine():
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def report(runs, peer):
    """(title lines, [(caption, head, body)], json fields) of one comparison."""
    if peer == "pytorch":
        result = pytorch_rows(runs)
        points = hidden_sweep(runs)
        for p in points:
            p["label"] = "hidden"
        b, t, i = SWEEP_SHAPE
        sides = [("ours", "ours"), ("pytorch", "PyTorch")]
        tables = [("", *table(result, "PyTorch / numpy")),
                  (f"Forward time per step vs hidden size (batch {b}, seq {t}, input {i}, 1 layer):", *sweep_table(points, sides, "ms/step"))]
        rec = recurrence_table(runs)
        if rec[1]:
            tables.append(("The recurrence alone (`rnngpu bench --op recurrence`, tanh, one layer) beside the GEMM:", *rec))
        plot = {"kind": "hidden", "title": f"Forward pass, time per step vs hidden size (batch {b}, {t} steps, input {i}, 1 tanh layer)",
                "x_label": "hidden size (log scale)", "y_label": "ms per time step (log scale)", "series": sides}
    else:
        result = ort_rows(runs)
        points = batch_sweep(runs)
        for p in points:
            p["label"] = "batch"
        t, i, h = BATCH_SWEEP_SHAPE
        sides = [("ours", "ours"), ("onnxruntime", "ONNX Runtime"), ("pytorch", "PyTorch")]
        tables = [("", *table(result, "ONNX Runtime")),
                  (f"Forward pass vs batch size ({t} steps, input {i}, hidden {h}, 1 layer):", *sweep_table(points, sides, "ms"))]
        plot = {"kind": "batch", "title": f"Forward pass vs batch size ({t} steps, input {i}, hidden {h}, 1 tanh layer)",
                "x_label": "batch size (log scale)", "y_label": "ms per forward pass (log scale)", "series": sides}
    return result, points, tables, plot


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lines", nargs="?", help="JSON lines of every side")
    p.add_argument("--cases", action="store_true", help="print compare_pytorch.sh's cases and exit")
    p.add_argument("--ort-cases", action="store_true", help="print compare_onnxruntime.sh's cases and exit")
    p.add_argument("--ort-models", action="store_true", help="print the models compare_onnxruntime.sh exports and exit")
    p.add_argument("--peer", choices=sorted(COMMANDS), help="which comparison the lines are (default: onnxruntime if they have "
                   "ONNX Runtime lines, else pytorch)")
    p.add_argument("--setting", help="the machine setting they ran in (benchmarks/settings.sh; default: from the lines' first line)")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--markdown", help="write the tables here as markdown, with the run's date, machine and command")
    a = p.parse_args()
    listing = cases() if a.cases else ort_cases() if a.ort_cases else ort_models() if a.ort_models else None
    if listing is not None:
        print("\n".join(listing))
        return
    if not a.lines:
        p.error("give the JSON lines file, or --cases / --ort-cases / --ort-models")
    runs, meta = load(a.lines)
    setting = a.setting or meta.get("setting", "two-cores")
    a.peer = a.peer or ("onnxruntime" if any(side == "onnxruntime" for _, side in runs) else "pytorch")
    result, points, tables, plot = report(runs, a.peer)
    # The measurement's date: when its last line was written, also when the tables are redone later.
    date = datetime.datetime.fromtimestamp(os.path.getmtime(a.lines), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rounds = max((len(lines) for (_, side), per_device in runs.items() if side == "ours" for lines in per_device.values()), default=0)
    devices = sorted({device for per_device in runs.values() for device in per_device})
    command = meta["command"] if meta and setting == meta.get("setting") else f"SETTING={setting} {COMMANDS[a.peer]}"
    filtered = (f" Only the cases matching CASES_FILTER='{meta['cases_filter']}' ran; the rows of other cases are not measured here."
                if meta.get("cases_filter") else "")
    about = (f"Measured {date} on {machine()}, setting {setting} ({SETTINGS.get(setting, 'see benchmarks/settings.sh')}): `{command}` ({rounds} interleaved "
             f"round{'s' if rounds != 1 else ''}; each figure the median over the rounds of each run's median; each peer in its fastest thread setting "
             f"for each case, in brackets). Sides: {'; '.join(devices)}.{filtered}")
    print(about)
    for caption, head, body in tables:
        print(("\n" + caption if caption else "") + "\n" + plain(head, body))
    met, measured = sum(r["met"] for r in result), sum(r["ours"] is not None and r["ref"] is not None for r in result)
    print(f"\ntargets met: {met} of {len(result)}" + (f" ({len(result) - measured} not measured)" if measured < len(result) else ""))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"date": date, "machine": machine(), "setting": setting, "command": command, "rounds": rounds, "sides": devices,
                       "rows": result, "sweep": points, "plot": plot}, f, indent=1)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(about + "\n")
            for caption, head, body in tables:
                f.write(("\n" + caption + "\n" if caption else "") + "\n" + markdown(head, body) + "\n")


if __name__ == "__main__":
    sys.exit(main())
