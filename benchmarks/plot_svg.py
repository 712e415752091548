#!/usr/bin/env python3
"""Draws the sweep of compare.py's results as a hand-written SVG line plot: the forward pass's time per step against
the hidden size (compare_pytorch.sh: the engine and PyTorch) or its time against the batch size
(compare_onnxruntime.sh: the engine, ONNX Runtime and PyTorch), on a log2 x axis and a log10 y axis, with ticks,
labels, legend, and the run's command, date, machine and setting in the caption.

    plot_svg.py out/compare-cpu/two-cores/compare.json docs/benchmarks-cpu-two-cores.svg
"""
import json
import math
import sys
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 720, 460
LEFT, RIGHT, TOP, BOTTOM = 80, 30, 50, 90          # margins around the plot area
COLOURS = {"ours": "#1f77b4", "pytorch": "#d62728", "onnxruntime": "#2ca02c"}
LABELS = {"ours": "rnngpu, CPU back end", "pytorch": "PyTorch 1.13 (fastest thread setting)", "onnxruntime": "ONNX Runtime 1.32, C# API (fastest thread setting)"}


def log_ticks(low, high):
    """1-2-5 ticks covering [low, high] on a log10 axis."""
    ticks = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0 ** exponent
            if low <= value <= high:
                ticks.append(value)
    return ticks


def plot(results):
    """One polyline per side of the sweep (results["plot"]["series"]), x and y on log scales."""
    spec, points = results["plot"], results["sweep"]
    series = [(field, label, COLOURS[field]) for field, label in spec["series"]]
    xs = [p["x"] for p in points]
    times = [p[field] for p in points for field, _, _ in series if p[field]]
    y_low, y_high = 10 ** math.floor(math.log10(min(times))), 10 ** math.ceil(math.log10(max(times)))
    y_high = max(y_high, 10 * y_low)                           # one decade at least, also for a single point on a power of ten
    x_low, x_high = math.log2(min(xs)) - 0.3, math.log2(max(xs)) + 0.3     # room for the end markers
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x_of = lambda x: LEFT + (math.log2(x) - x_low) / (x_high - x_low) * plot_w
    y_of = lambda ms: TOP + plot_h - (math.log10(ms) - math.log10(y_low)) / (math.log10(y_high) - math.log10(y_low)) * plot_h

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15">{escape(spec["title"])}</text>']
    for ms in log_ticks(y_low, y_high):                     # horizontal grid and y labels
        y = y_of(ms)
        svg.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{ms:g}</text>')
    for x0 in xs:                                           # vertical grid and x labels
        x = x_of(x0)
        svg.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#eee"/>')
        svg.append(f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 5}" stroke="black"/>')
        svg.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 20}" text-anchor="middle">{x0}</text>')
    svg.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="black"/>')
    svg.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 42}" text-anchor="middle">{escape(spec["x_label"])}</text>')
    svg.append(f'<text transform="translate(22 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">{escape(spec["y_label"])}</text>')
    for i, (field, label, colour) in enumerate(series):
        xy = [(x_of(p["x"]), y_of(p[field])) for p in points if p[field]]
        svg.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in xy)}"/>')
        svg.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in xy)
        ly = TOP + 16 + i * 18                              # legend, top left inside the plot
        svg.append(f'<line x1="{LEFT + 12}" y1="{ly}" x2="{LEFT + 36}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        svg.append(f'<text x="{LEFT + 42}" y="{ly + 4}">{escape(LABELS.get(field, label))}</text>')
    captions = [f'{results["date"]}, {results["machine"]}, setting {results["setting"]}', results["command"]]
    for i, caption in enumerate(captions):
        size = min(11, 11 * 115 / len(caption))             # a long command (CASES_FILTER) in smaller type, to fit
        svg.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 30 + 16 * i}" text-anchor="middle" font-size="{size:.1f}" fill="#444">{escape(caption)}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        results = json.load(f)
    fields = [field for field, _ in results["plot"]["series"]]
    if not any(p[field] for p in results["sweep"] for field in fields):
        print(f"plot_svg.py: no sweep point in {sys.argv[1]}, no plot drawn", file=sys.stderr)
        return
    with open(sys.argv[2], "w") as f:
        f.write(plot(results))
    print(f"plot_svg.py: wrote {sys.argv[2]}", file=sys.stderr)


if __name__ == "__main__":
    main()
