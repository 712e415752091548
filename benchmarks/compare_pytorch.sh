#!/usr/bin/env bash
# The CPU speed comparison with PyTorch of docs/benchmarks.md: builds Release, then runs `rnngpu bench --backend cpu`
# and benchmarks/pytorch_cpu.py (PyTorch 1.13, numpy/OpenBLAS) on every case of `compare.py --cases`, interleaved
# (ours, theirs, ours, theirs, ...) for ROUNDS rounds, as the shared machine is noisy, in the machine setting SETTING
# (benchmarks/settings.sh: two-cores, one-core or busy-neighbour); then compare.py prints the table and plot_svg.py
# draws the hidden-size sweep.
#
#   [SETTING=one-core] [ROUNDS=3] bash benchmarks/compare_pytorch.sh [OUT_DIR]     # default OUT_DIR out/compare-cpu/SETTING
#
# Writes OUT_DIR/lines.jsonl (every JSON line), OUT_DIR/compare.json, OUT_DIR/table.md (to paste into
# docs/benchmarks.md) and docs/benchmarks-cpu-SETTING.svg. About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/settings.sh

out=${1:-out/compare-cpu/$setting}
rounds=${ROUNDS:-3}
python=${PYTHON:-/usr/bin/python3}     # the system Python has torch 1.13 and numpy; pyenv's python3 has neither

dotnet build src/RnnGpu.Cli -c Release --nologo -v quiet
rnngpu=src/RnnGpu.Cli/bin/Release/net10.0/rnngpu

mkdir -p "$out"
lines=$out/lines.jsonl
: > "$lines"
mapfile -t cases < <("$python" benchmarks/compare.py --cases)
for round in $(seq "$rounds"); do
    for case in "${cases[@]}"; do
        echo "$setting, round $round/$rounds: $case" >&2
        # shellcheck disable=SC2086  # a case is a list of options
        timed "$rnngpu" bench --backend cpu $case >> "$lines"
        [[ $case == "--op recurrence"* ]] && continue      # the engine's own op: no PyTorch counterpart
        # PyTorch in each thread setting of settings.sh; compare.py takes the fastest for each case.
        for config in "${torch_configs[@]}"; do
            # shellcheck disable=SC2086
            OPENBLAS_NUM_THREADS=${config#*:} timed "$python" benchmarks/pytorch_cpu.py --threads "${config%:*}" $case >> "$lines"
        done
    done
done

"$python" benchmarks/compare.py "$lines" --setting "$setting" --json "$out/compare.json" --markdown "$out/table.md"
"$python" benchmarks/plot_svg.py "$out/compare.json" "docs/benchmarks-cpu-$setting.svg"
echo "wrote $lines, $out/compare.json, $out/table.md, docs/benchmarks-cpu-$setting.svg" >&2
