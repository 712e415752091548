#!/usr/bin/env python3
"""Draws the hidden-size sweep of compare.py's results (forward time per step vs hidden size, the
engine's CPU back end and PyTorch) as a hand-written SVG line plot: log2 axis of hidden sizes, log10
axis of milliseconds per step, ticks, labels, legend, and the run's date and machine in the caption.

    plot_svg.py out/compare-cpu/compare.json docs/benchmarks-cpu.svg
"""
import json
import math
import sys
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 720, 460
LEFT, RIGHT, TOP, BOTTOM = 80, 30, 50, 90          # margins around the plot area
SERIES = [("ours_ms_per_step", "rnngpu, CPU back end", "#1f77b4"), ("ref_ms_per_step", "PyTorch 1.13 (faster thread setting)", "#d62728")]


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
    points = results["sweep"]
    hidden = [p["hidden"] for p in points]
    times = [p[field] for p in points for field, _, _ in SERIES if p[field]]
    y_low, y_high = 10 ** math.floor(math.log10(min(times))), 10 ** math.ceil(math.log10(max(times)))
    x_low, x_high = math.log2(min(hidden)) - 0.3, math.log2(max(hidden)) + 0.3     # room for the end markers
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x_of = lambda h: LEFT + (math.log2(h) - x_low) / (x_high - x_low) * plot_w
    y_of = lambda ms: TOP + plot_h - (math.log10(ms) - math.log10(y_low)) / (math.log10(y_high) - math.log10(y_low)) * plot_h
    shape = results["sweep_shape"]

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15">Forward pass, time per step vs hidden size '
           f'(batch {shape["batch"]}, {shape["seq"]} steps, input {shape["input"]}, 1 tanh layer)</text>']
    for ms in log_ticks(y_low, y_high):                     # horizontal grid and y labels
        y = y_of(ms)
        svg.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{ms:g}</text>')
    for h in hidden:                                        # vertical grid and x labels
        x = x_of(h)
        svg.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#eee"/>')
        svg.append(f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 5}" stroke="black"/>')
        svg.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 20}" text-anchor="middle">{h}</text>')
    svg.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="black"/>')
    svg.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 42}" text-anchor="middle">hidden size (log scale)</text>')
    svg.append(f'<text transform="translate(22 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">ms per time step (log scale)</text>')
    for i, (field, label, colour) in enumerate(SERIES):
        xy = [(x_of(p["hidden"]), y_of(p[field])) for p in points if p[field]]
        svg.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in xy)}"/>')
        svg.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in xy)
        ly = TOP + 16 + i * 18                              # legend, top left inside the plot
        svg.append(f'<line x1="{LEFT + 12}" y1="{ly}" x2="{LEFT + 36}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        svg.append(f'<text x="{LEFT + 42}" y="{ly + 4}">{escape(label)}</text>')
    caption = f'{results["command"]}, {results["date"]}, {results["machine"]}'
    svg.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 14}" text-anchor="middle" font-size="11" fill="#444">{escape(caption)}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        results = json.load(f)
    with open(sys.argv[2], "w") as f:
        f.write(plot(results))


if __name__ == "__main__":
    main()
