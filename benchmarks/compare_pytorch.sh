#!/usr/bin/env bash
# The CPU speed comparison with PyTorch of docs/benchmarks.md: builds Release, then runs `rnngpu bench --backend cpu`
# and benchmarks/pytorch_cpu.py (PyTorch 1.13, numpy/OpenBLAS) on every case of `compare.py --cases`, interleaved
# (ours, theirs, ours, theirs, ...) for ROUNDS rounds, as the shared machine is noisy, in the machine setting SETTING
# (benchmarks/settings.sh: two-cores, one-core or busy-neighbour); PyTorch runs in each of its thread settings there
# and the tables compare with the fastest. Then compare.py prints the tables and plot_svg.py draws the hidden-size
# sweep.
#
#   [SETTING=two-cores|one-core|busy-neighbour] [ROUNDS=3] [CASES_FILTER=REGEX] bash benchmarks/compare_pytorch.sh [OUT_DIR]
#
# OUT_DIR defaults to out/compare-cpu/SETTING. Writes OUT_DIR/lines.jsonl (every JSON line), OUT_DIR/compare.json,
# OUT_DIR/table.md (to paste into docs/benchmarks.md) and docs/benchmarks-cpu-SETTING.svg (OUT_DIR/... when
# CASES_FILTER is set). About 10 minutes on 2 cores at ROUNDS=3.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-/usr/bin/python3}     # the system Python has torch 1.13 and numpy; pyenv's python3 has neither
rounds=${ROUNDS:-3}
source benchmarks/settings.sh
out=${1:-out/compare-cpu/$setting}

dotnet build src/RnnGpu.Cli -c Release --nologo -v quiet
rnngpu=src/RnnGpu.Cli/bin/Release/net10.0/rnngpu

mkdir -p "$out"
lines=$out/lines.jsonl
meta_line benchmarks/compare_pytorch.sh > "$lines"
mapfile -t cases < <(select_cases --cases)
setting_begin
for round in $(seq "$rounds"); do
    for case in "${cases[@]}"; do
        echo "$setting, round $round/$rounds, ${SECONDS}s: $case" >&2
        # shellcheck disable=SC2086  # a case is a list of options
        timed "$rnngpu" bench --backend cpu $case >> "$lines"
        [[ $case == "--op recurrence"* ]] && continue      # the engine's own op: no PyTorch counterpart
        # PyTorch in each thread setting of settings.sh; compare.py takes the fastest for each case.
        for config in "${torch_configs[@]}"; do
            # shellcheck disable=SC2086
            OPENBLAS_NUM_THREADS=${config#*:} timed "$python" benchmarks/pytorch_cpu.py --threads "${config%:*}" --max-seconds 5 $case >> "$lines"
        done
    done
done
stop_neighbour
echo "measured in ${SECONDS}s" >&2

plot=$(plot_path benchmarks-cpu)
"$python" benchmarks/compare.py "$lines" --json "$out/compare.json" --markdown "$out/table.md"
"$python" benchmarks/plot_svg.py "$out/compare.json" "$plot"
echo "wrote $lines, $out/compare.json, $out/table.md" >&2
