#!/usr/bin/env python3
"""Compares `rnngpu bench --backend cpu` with benchmarks/pytorch_cpu.py on the shapes and targets of the
CPU speed issue. Both print JSON lines; benchmarks/compare_pytorch.sh runs them interleaved over several
rounds into one file, and this script takes, for each case and side, the median over the rounds of each
run's median, prints the table, and writes the results as JSON (and the tables as markdown).

    compare.py --cases                                  the benchmark cases, one argument line each
    compare.py LINES.jsonl --json OUT.json [--markdown OUT.md]
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
SWEEP_HIDDEN = [64, 128, 256, 512, 1024]                            # forward, batch 64, seq 50, input 64
SWEEP_SHAPE = (64, 50, 64)
RNN_RATIO_TARGET, GEMM_FRACTION_TARGET, STREAM_US_TARGET = 0.5, 0.8, 5.0


def cases():
    """Argument lines understood by both `rnngpu bench` and pytorch_cpu.py."""
    for b, t, i, h, l in RNN_SHAPES:
        yield f"--op rnn --mode both --batch {b} --seq {t} --input {i} --hidden {h} --layers {l} --warmup 1 --iters 5"
    for m, n, k in GEMM_SHAPES:
        iters = max(10, min(500, int(2e10 / (2 * m * n * k))))   # about 20 GFLOP of work per run, 10 to 500 iterations
        yield f"--op gemm --m {m} --n {n} --k {k} --warmup 3 --iters {iters}"
    b, i, h = STREAM_SHAPE
    yield f"--op stream --batch {b} --input {i} --hidden {h} --warmup 1000 --iters 20000"
    b, t, i = SWEEP_SHAPE
    for h in SWEEP_HIDDEN:
        yield f"--op rnn --mode infer --batch {b} --seq {t} --input {i} --hidden {h} --layers 1 --warmup 1 --iters 5"


def key(line):
    """What a line measured: op, mode and shape, whichever side ran it."""
    if line["op"] == "gemm":
        return ("gemm", "", (line["m"], line["n"], line["k"]))
    shape = (line["batch"], line["seq"], line["input"], line["hidden"], line["layers"])
    return (line["op"], line.get("mode", ""), shape)


def load(path):
    """{(key, side): {device: [lines]}}, side 'ours' for the engine's CPU back end, 'ref' for PyTorch/numpy;
    the device string tells a side's configurations apart (PyTorch's thread settings)."""
    runs = {}
    with open(path) as f:
        for text in f:
            if text.strip():
                line = json.loads(text)
                side = "ours" if line["backend"] == "cpu" else "ref"
                runs.setdefault((key(line), side), {}).setdefault(line["device"], []).append(line)
    return runs


def best(runs, k, side):
    """The summary of the side's fastest configuration for case k (the reference at its best), or None."""
    summaries = [summary(lines) for lines in runs.get((k, side), {}).values()]
    return min(summaries, key=lambda s: s["ms"], default=None)


def summary(lines):
    if not lines:
        return None
    med = lambda field: statistics.median(l[field] for l in lines) if field in lines[0] else None
    return {"ms": med("ms_per_iter"), "gflops": med("gflops"), "us_per_step": med("us_per_step"),
            "bytes_per_step": max(l["bytes_per_step"] for l in lines) if "bytes_per_step" in lines[0] else None,
            "runs": len(lines), "device": lines[0]["device"]}


def rows(runs):
    get = lambda k, side: best(runs, k, side)
    result = []
    for b, t, i, h, l in RNN_SHAPES:
        for mode in ("train", "infer"):
            ours, ref = get(("rnn", mode, (b, t, i, h, l)), "ours"), get(("rnn", mode, (b, t, i, h, l)), "ref")
            ratio = ours["ms"] / ref["ms"] if ours and ref else None
            result.append({"case": f"B{b} T{t} I{i} H{h} L{l}", "mode": mode, "ours": ours, "ref": ref, "ratio": ratio,
                           "target": f"time <= {RNN_RATIO_TARGET}x PyTorch", "met": ratio is not None and ratio <= RNN_RATIO_TARGET})
    for m, n, k in GEMM_SHAPES:
        ours, ref = get(("gemm", "", (m, n, k)), "ours"), get(("gemm", "", (m, n, k)), "ref")
        ratio = ours["ms"] / ref["ms"] if ours and ref else None
        fraction = ours["gflops"] / ref["gflops"] if ours and ref else None
        result.append({"case": f"GEMM {m}x{n}x{k}", "mode": "sgemm", "ours": ours, "ref": ref, "ratio": ratio, "fraction": fraction,
                       "target": f"GFLOP/s >= {GEMM_FRACTION_TARGET:.0%} numpy", "met": fraction is not None and fraction >= GEMM_FRACTION_TARGET})
    b, i, h = STREAM_SHAPE
    k = ("stream", "infer", (b, 1, i, h, 1))
    ours, ref = get(k, "ours"), get(k, "ref")
    ratio = ours["ms"] / ref["ms"] if ours and ref else None
    # Under one byte per step: nothing allocated at every step (a one-off allocation during the timed
    # steps shows as a fraction of a byte, and is printed as such).
    met = ours is not None and ours["us_per_step"] <= STREAM_US_TARGET and ours["bytes_per_step"] < 1
    result.append({"case": f"stream B{b} I{i} H{h}", "mode": "one step", "ours": ours, "ref": ref, "ratio": ratio,
                   "target": f"<= {STREAM_US_TARGET:g} us and 0 B/step", "met": met})
    return result


def sweep(runs):
    b, t, i = SWEEP_SHAPE
    points = []
    for h in SWEEP_HIDDEN:
        k = ("rnn", "infer", (b, t, i, h, 1))
        ours, ref = best(runs, k, "ours"), best(runs, k, "ref")
        points.append({"hidden": h, "ours_ms_per_step": ours["ms"] / t if ours else None, "ref_ms_per_step": ref["ms"] / t if ref else None})
    return points


def fmt_side(row, side):
    s = row[side]
    if s is None:
        return "-"
    threads = re.search(r"intra-op threads (\d+)", s["device"]) if side == "ref" else None
    config = f" [{threads.group(1)} intra-op]" if threads else ""
    if row["mode"] == "sgemm":
        return f"{s['ms']:.3g} ms ({s['gflops']:.3g} GFLOP/s)"
    if row["mode"] == "one step":
        text = f"{s['us_per_step']:.3g} us"
        return text + (f", {s['bytes_per_step']:.3g} B" if s["bytes_per_step"] is not None else "") + config
    return f"{s['ms']:.4g} ms" + config


def met_text(row):
    text = "yes" if row["met"] else "no"
    return text + (f" ({row['fraction']:.0%} of numpy)" if row.get("fraction") is not None else "")


def table(result):
    head = ["shape", "mode", "ours (rnngpu CPU)", "PyTorch / numpy", "ratio (time)", "target", "met"]
    body = [[r["case"], r["mode"], fmt_side(r, "ours"), fmt_side(r, "ref"),
             f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-", r["target"], met_text(r)] for r in result]
    return head, body


def sweep_table(points):
    head = ["hidden", "ours ms/step", "PyTorch ms/step", "ratio (time)"]
    f = lambda v: f"{v:.4g}" if v is not None else "-"
    body = [[str(p["hidden"]), f(p["ours_ms_per_step"]), f(p["ref_ms_per_step"]),
             f"{p['ours_ms_per_step'] / p['ref_ms_per_step']:.2f}x" if p["ours_ms_per_step"] and p["ref_ms_per_step"] else "-"] for p in points]
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lines", nargs="?", help="JSON lines of both sides")
    p.add_argument("--cases", action="store_true", help="print the benchmark cases and exit")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--markdown", help="write the tables here as markdown, with the run's date, machine and command")
    a = p.parse_args()
    if a.cases:
        print("\n".join(cases()))
        return
    if not a.lines:
        p.error("give the JSON lines file, or --cases")
    runs = load(a.lines)
    result, points = rows(runs), sweep(runs)
    # The measurement's date: when its last line was written, also when the tables are redone later.
    date = datetime.datetime.fromtimestamp(os.path.getmtime(a.lines), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rounds = max((len(lines) for (_, side), per_device in runs.items() if side == "ours" for lines in per_device.values()), default=0)
    devices = sorted({device for per_device in runs.values() for device in per_device})
    about = (f"Measured {date} on {machine()}: `bash benchmarks/compare_pytorch.sh` ({rounds} interleaved rounds; "
             f"each figure the median over the rounds of each run's median; PyTorch in its faster thread setting "
             f"for each case, in brackets). Sides: {'; '.join(devices)}.")
    head, body = table(result)
    shead, sbody = sweep_table(points)
    print(about)
    print()
    print(plain(head, body))
    print()
    print(f"Forward time per step vs hidden size (batch {SWEEP_SHAPE[0]}, seq {SWEEP_SHAPE[1]}, input {SWEEP_SHAPE[2]}, 1 layer):")
    print(plain(shead, sbody))
    met = sum(r["met"] for r in result)
    print(f"\ntargets met: {met} of {len(result)}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"date": date, "machine": machine(), "command": "bash benchmarks/compare_pytorch.sh", "rounds": rounds,
                       "sides": devices, "rows": result, "sweep": points, "sweep_shape": {"batch": SWEEP_SHAPE[0], "seq": SWEEP_SHAPE[1], "input": SWEEP_SHAPE[2]}},
                      f, indent=1)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(about + "\n\n" + markdown(head, body) + "\n\n"
                    + f"Forward time per step vs hidden size (batch {SWEEP_SHAPE[0]}, seq {SWEEP_SHAPE[1]}, input {SWEEP_SHAPE[2]}, 1 layer):\n\n"
                    + markdown(shead, sbody) + "\n")


if __name__ == "__main__":
    sys.exit(main())
