#!/usr/bin/env bash
# The CPU speed comparison of docs/benchmarks.md: builds Release, then runs `rnngpu bench --backend cpu`
# and benchmarks/pytorch_cpu.py (PyTorch 1.13, numpy/OpenBLAS) on every case of `compare.py --cases`,
# interleaved (ours, theirs, ours, theirs, ...) for ROUNDS rounds, as the shared machine is noisy; then
# compare.py prints the table and plot_svg.py draws the hidden-size sweep.
#
#   bash benchmarks/compare_pytorch.sh [OUT_DIR]      # default OUT_DIR out/compare-cpu (git-ignored); ROUNDS=3
#
# Writes OUT_DIR/lines.jsonl (every JSON line), OUT_DIR/compare.json, OUT_DIR/table.md (to paste into
# docs/benchmarks.md) and docs/benchmarks-cpu.svg.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-out/compare-cpu}
rounds=${ROUNDS:-3}
python=${PYTHON:-/usr/bin/python3}     # the system Python has torch 1.13 and numpy; pyenv's python3 has neither
export OPENBLAS_NUM_THREADS=2          # numpy's (and this torch build's) BLAS on both cores, as the engine uses them

dotnet build src/RnnGpu.Cli -c Release --nologo -v quiet
rnngpu=src/RnnGpu.Cli/bin/Release/net10.0/rnngpu

mkdir -p "$out"
lines=$out/lines.jsonl
: > "$lines"
mapfile -t cases < <("$python" benchmarks/compare.py --cases)
for round in $(seq "$rounds"); do
    for case in "${cases[@]}"; do
        echo "round $round/$rounds: $case" >&2
        # shellcheck disable=SC2086  # a case is a list of options
        "$rnngpu" bench --backend cpu $case >> "$lines"
        # PyTorch as the issue sets it (2 intra-op threads) and with 1, which this torch build runs much
        # faster on 2 cores (its GEMMs are OpenBLAS's, on both cores either way); compare.py takes the faster.
        for threads in 2 1; do
            # shellcheck disable=SC2086
            "$python" benchmarks/pytorch_cpu.py --threads "$threads" $case >> "$lines"
        done
    done
done

"$python" benchmarks/compare.py "$lines" --json "$out/compare.json" --markdown "$out/table.md"
"$python" benchmarks/plot_svg.py "$out/compare.json" docs/benchmarks-cpu.svg
echo "wrote $lines, $out/compare.json, $out/table.md, docs/benchmarks-cpu.svg" >&2
